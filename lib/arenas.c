/* SPDX-License-Identifier: MIT */
#include "arenas.h"

#include <stdlib.h>
#include <string.h>

const unsigned ph_arena_band_pct[PH_ARENA_BANDS] = {10, 25, 50, 75, 100};

static unsigned band_of(uint64_t used, uint32_t arena_size)
{
	unsigned b = 0;
	while (b + 1 < PH_ARENA_BANDS && used * 100 > (uint64_t)ph_arena_band_pct[b] * arena_size)
		b++;
	return b;
}

static bool is_sparse(uint64_t used, uint32_t arena_size)
{
	return used * 100 <= (uint64_t)PH_SPARSE_PCT * arena_size;
}

void ph_arena_sparse_count(const struct ph_pymalloc *m, uint64_t *arenas, uint64_t *unused)
{
	*arenas = *unused = 0;
	for (uint64_t i = 0; i < m->narena_list; i++)
		if (is_sparse(m->arena_list[i].used, m->arena_size)) {
			++*arenas;
			*unused += m->arena_size - m->arena_list[i].used;
		}
}

// The arena of @list (@n, by address, each @size bytes) that holds @addr, or
// -1.
static int64_t arena_of(const struct ph_pymalloc_arena *list, uint64_t n, uint32_t size,
			uint64_t addr)
{
	uint64_t lo = 0, hi = n; // the first arena starting above addr, in [lo, hi]
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (list[mid].address <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || addr - list[lo - 1].address >= size)
		return -1;
	return (int64_t)(lo - 1);
}

struct ph_error *ph_arena_use_compute(const struct ph_snapshot *snap, struct ph_arena_use *ret)
{
	const struct ph_pymalloc *m = &snap->pymalloc;
	memset(ret, 0, sizeof(*ret));
	if (!m->known) {
		// (python_version: "3.X.Y", < 32 bytes)
		const char *v = snap->python_version, *dot = strchr(v, '.');
		int major_minor = dot && strchr(dot + 1, '.') ? (int)(strchr(dot + 1, '.') - v)
							      : (int)strlen(v);
		return ph_error_create(PH_ERR_NO_DEBUG_INFO,
				       "--arenas: pymalloc's arenas are not known (Python %s): before "
				       "3.12 their table is a static, found by the interpreter's "
				       "symbol table or its separate debug file — install it (Debian, "
				       "Ubuntu: python%.*s-dbg) and run again",
				       v, major_minor, v);
	}
	if (m->arenas && m->narena_list != m->arenas)
		return ph_error_create(PH_ERR_BAD_DATA,
				       "--arenas: pymalloc's arenas were counted but not listed one by one (a "
				       "snapshot file of an older pyheap-attach, or no memory for "
				       "the list): take a new snapshot");
	ret->arena_size = m->arena_size;
	ret->arenas = m->narena_list;
	size_t nslots = ph_kind_slots(snap);
	struct ph_kind_acc *acc = calloc(nslots, sizeof(*acc));
	uint8_t *band = malloc(m->narena_list ? m->narena_list : 1);
	ret->in_sparse = calloc(snap->nobjects ? snap->nobjects : 1, 1);
	if (!acc || !band || !ret->in_sparse) {
		free(acc);
		free(band);
		free(ret->in_sparse);
		ret->in_sparse = NULL;
		return &ph_error_nomem;
	}
	for (uint64_t i = 0; i < m->narena_list; i++) {
		uint64_t used = m->arena_list[i].used;
		band[i] = (uint8_t)band_of(used, m->arena_size);
		ret->bands[band[i]].arenas++;
		ret->bands[band[i]].used += used;
		if (is_sparse(used, m->arena_size)) {
			ret->sparse.arenas++;
			ret->sparse.used += used;
		}
	}
	for (size_t i = 0; i < snap->nobjects; i++) {
		const struct ph_object *o = &snap->objects[i];
		int64_t a = arena_of(m->arena_list, m->narena_list, m->arena_size, o->address);
		if (a < 0) {
			ret->outside++;
			continue;
		}
		struct ph_arena_band *b = &ret->bands[band[a]];
		b->objects++;
		b->size += o->size;
		if (!is_sparse(m->arena_list[a].used, m->arena_size))
			continue;
		ret->sparse.objects++;
		ret->sparse.size += o->size;
		ret->in_sparse[i] = 1;
		size_t slot = ph_kind_slot(snap, i);
		acc[slot].count++;
		acc[slot].size += o->size;
	}
	free(band);
	struct ph_error *err = ph_partition_from_slots(snap, acc, &ret->kinds);
	free(acc);
	if (err)
		ph_arena_use_deinit(ret);
	return err;
}

void ph_arena_use_deinit(struct ph_arena_use *u)
{
	free(u->in_sparse);
	u->in_sparse = NULL;
	ph_partition_deinit(&u->kinds);
}
