/* SPDX-License-Identifier: MIT */
#include "sites.h"
#include "bytes.h"

#include <stdlib.h>
#include <string.h>

static uint64_t line_key(const struct ph_snapshot *snap, uint32_t site)
{
	const struct ph_alloc_frame *f = &snap->site_frames[snap->sites[site].frame_start];
	return (uint64_t)f->file << 32 | f->lineno;
}

static int by_size(const void *a, const void *b)
{
	const struct ph_site_row *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return (x->lineno > y->lineno) - (x->lineno < y->lineno);
}

struct ph_error *ph_sites_compute(const struct ph_snapshot *snap, const uint8_t *mask,
				  struct ph_sites *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!snap->tracemalloc.known || !snap->object_site)
		return ph_error_create(PH_ERR_NO_DEBUG_INFO,
				       "--sites: no tracemalloc tracebacks: the target was not tracing "
				       "its allocations when it was read (start it with "
				       "PYTHONTRACEMALLOC=1, or -X tracemalloc=25 for deeper tracebacks, "
				       "or call tracemalloc.start() in it; Python 3.8 to 3.13, with the "
				       "interpreter's symbols before 3.12)");
	size_t ns = snap->nsites;
	uint64_t *keys = calloc(ns ? ns : 1, sizeof(*keys));
	uint32_t *row_of = calloc(ns ? ns : 1, sizeof(*row_of));
	uint64_t *site_size = calloc(ns ? ns : 1, sizeof(*site_size));
	if (!keys || !row_of || !site_size) {
		free(keys);
		free(row_of);
		free(site_size);
		return &ph_error_nomem;
	}
	for (size_t s = 0; s < ns; s++)
		keys[s] = line_key(snap, (uint32_t)s);
	qsort(keys, ns, sizeof(*keys), ph_cmp_u64);
	size_t nk = 0;
	for (size_t s = 0; s < ns; s++)
		if (!nk || keys[nk - 1] != keys[s])
			keys[nk++] = keys[s];
	struct ph_site_row *rows = calloc(nk ? nk : 1, sizeof(*rows));
	if (!rows) {
		free(keys);
		free(row_of);
		free(site_size);
		return &ph_error_nomem;
	}
	for (size_t s = 0; s < ns; s++) {
		uint64_t k = line_key(snap, (uint32_t)s);
		const uint64_t *at = bsearch(&k, keys, nk, sizeof(*keys), ph_cmp_u64);
		row_of[s] = (uint32_t)(at - keys);
	}
	for (size_t r = 0; r < nk; r++)
		rows[r] = (struct ph_site_row){.file = (uint32_t)(keys[r] >> 32),
					       .lineno = (uint32_t)keys[r], .site = UINT32_MAX};
	for (size_t i = 0; i < snap->nobjects; i++) {
		if (mask && !mask[i])
			continue;
		uint64_t size = snap->objects[i].size;
		ret->objects++;
		ret->size += size;
		uint32_t s = snap->object_site[i];
		if (!s || s > ns)
			continue;
		ret->traced_objects++;
		ret->traced_size += size;
		struct ph_site_row *r = &rows[row_of[s - 1]];
		r->count++;
		r->size += size;
		site_size[s - 1] += size;
	}
	for (size_t s = 0; s < ns; s++) {
		struct ph_site_row *r = &rows[row_of[s]];
		if (site_size[s] && (r->site == UINT32_MAX || site_size[s] > site_size[r->site]))
			r->site = (uint32_t)s;
	}
	free(keys);
	free(site_size);
	// (Lines whose objects are all gone, or not among the masked ones: out.)
	size_t m = 0;
	for (size_t r = 0; r < nk; r++)
		if (rows[r].count)
			rows[m++] = rows[r];
	qsort(rows, m, sizeof(*rows), by_size);
	ret->rows = rows;
	ret->nrows = m;
	// The first rows by kind.
	size_t nkr = m < PH_SITE_KIND_ROWS ? m : PH_SITE_KIND_ROWS, nslots = ph_kind_slots(snap);
	struct ph_kind_acc *acc = nkr ? calloc(nkr * nslots, sizeof(*acc)) : NULL;
	if (nkr && !acc) {
		free(row_of);
		ph_sites_deinit(ret);
		return &ph_error_nomem;
	}
	// (row_of gives the unsorted row: map each of the first rows back by
	// its line.)
	uint32_t *shown = calloc(ns ? ns : 1, sizeof(*shown)); /* site -> shown row + 1 */
	if (!shown) {
		free(acc);
		free(row_of);
		ph_sites_deinit(ret);
		return &ph_error_nomem;
	}
	for (size_t s = 0; s < ns; s++) {
		uint64_t k = line_key(snap, (uint32_t)s);
		for (size_t r = 0; r < nkr; r++)
			if (((uint64_t)rows[r].file << 32 | rows[r].lineno) == k) {
				shown[s] = (uint32_t)r + 1;
				break;
			}
	}
	free(row_of);
	for (size_t i = 0; nkr && i < snap->nobjects; i++) {
		uint32_t s = snap->object_site[i];
		if ((mask && !mask[i]) || !s || s > ns || !shown[s - 1])
			continue;
		struct ph_kind_acc *a = &acc[(shown[s - 1] - 1) * nslots + ph_kind_slot(snap, i)];
		a->count++;
		a->size += snap->objects[i].size;
	}
	free(shown);
	struct ph_error *err = NULL;
	for (size_t r = 0; r < nkr && !err; r++)
		err = ph_partition_from_slots(snap, &acc[r * nslots], &rows[r].kinds);
	free(acc);
	if (err)
		ph_sites_deinit(ret);
	return err;
}

void ph_sites_deinit(struct ph_sites *s)
{
	for (size_t r = 0; r < s->nrows; r++)
		ph_partition_deinit(&s->rows[r].kinds);
	free(s->rows);
	s->rows = NULL;
	s->nrows = 0;
}
