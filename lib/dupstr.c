/* SPDX-License-Identifier: MIT */
#include "dupstr.h"

#include <stdlib.h>
#include <string.h>


// Which types are exactly str.
static uint8_t *str_types(const struct ph_snapshot *snap)
{
	uint8_t *is = calloc(snap->ntypes ? snap->ntypes : 1, 1);
	for (size_t t = 0; is && t < snap->ntypes; t++)
		is[t] = snap->types[t].name && !strcmp(snap->types[t].name, "str");
	return is;
}

static bool is_ascii(const char *t, size_t *len)
{
	unsigned char high = 0;
	size_t n = 0;
	for (; t[n]; n++)
		high |= (unsigned char)t[n];
	*len = n;
	return !(high & 0x80);
}

// The text of str @i when the snapshot keeps all of it, else NULL. An ASCII
// str whose size is not its length plus @base (the compact ASCII header and
// NUL) has lost part of it (an embedded NUL ends the stored text) or carries
// a cache: left out.
static const char *whole_text(const struct ph_snapshot *snap, const uint8_t *is_str, size_t i,
			      uint64_t base)
{
	const struct ph_object *o = &snap->objects[i];
	if (!is_str[o->type])
		return NULL;
	const char *t = ph_snapshot_text(snap, i);
	if (!t)
		return NULL;
	size_t len;
	if (is_ascii(t, &len) && o->size != base + len)
		return NULL;
	return t;
}

// Most extra bytes first; then most copies; then the first object found.
static int by_extra(const void *x, const void *y)
{
	const struct ph_dup_value *a = x, *b = y;
	if (a->extra != b->extra)
		return a->extra > b->extra ? -1 : 1;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->first < b->first ? -1 : a->first > b->first;
}

static uint64_t hash_text(const char *t, uint64_t size)
{
	uint64_t h = 0xcbf29ce484222325ull ^ size;
	for (; *t; t++)
		h = (h ^ (unsigned char)*t) * 0x100000001b3ull;
	return h ^ (h >> 29);
}

struct ph_error *ph_dup_strs_compute(const struct ph_snapshot *snap, size_t ntop,
				     struct ph_dup_strs *ret)
{
	memset(ret, 0, sizeof(*ret));
	uint8_t *is_str = str_types(snap);
	if (!is_str)
		return &ph_error_nomem;
	// The ASCII strs' size less their length: the most common value is
	// that of a compact ASCII str (3.12: 41).
	uint64_t hist[256] = {0}, candidates = 0;
	for (size_t i = 0; i < snap->nobjects; i++) {
		const struct ph_object *o = &snap->objects[i];
		const char *t = is_str[o->type] ? ph_snapshot_text(snap, i) : NULL;
		size_t len;
		if (!t)
			continue;
		candidates++;
		if (is_ascii(t, &len) && o->size >= len && o->size - len < 256)
			hist[o->size - len]++;
	}
	for (unsigned b = 1; b < 256; b++)
		if (hist[b] > hist[ret->ascii_base])
			ret->ascii_base = b;
	size_t cap = 16;
	while (cap < 2 * candidates)
		cap *= 2;
	uint32_t *slot = calloc(cap, sizeof(*slot)); // object index + 1
	uint64_t *count = calloc(cap, sizeof(*count));
	if (!slot || !count) {
		free(is_str);
		free(slot);
		free(count);
		return &ph_error_nomem;
	}
	for (size_t i = 0; i < snap->nobjects; i++) {
		const char *t = whole_text(snap, is_str, i, ret->ascii_base);
		if (!t) {
			ret->other_strs += is_str[snap->objects[i].type];
			continue;
		}
		ret->strs++;
		uint64_t size = snap->objects[i].size;
		size_t h = (size_t)hash_text(t, size) & (cap - 1);
		for (;; h = (h + 1) & (cap - 1)) {
			if (!slot[h]) {
				slot[h] = (uint32_t)i + 1;
				ret->distinct++;
				break;
			}
			size_t j = slot[h] - 1;
			if (snap->objects[j].size == size && !strcmp(ph_snapshot_text(snap, j), t))
				break;
		}
		count[h]++;
	}
	for (size_t h = 0; h < cap; h++)
		ret->dup_values += count[h] >= 2;
	// Every value in several copies, sorted; the first ntop kept.
	struct ph_dup_value *all = calloc(ret->dup_values ? ret->dup_values : 1, sizeof(*all));
	if (!all) {
		free(is_str);
		free(slot);
		free(count);
		return &ph_error_nomem;
	}
	size_t n = 0;
	for (size_t h = 0; h < cap; h++) {
		if (count[h] < 2)
			continue;
		uint32_t i = slot[h] - 1;
		uint64_t size = snap->objects[i].size;
		all[n++] = (struct ph_dup_value){i, count[h], size, (count[h] - 1) * size};
		ret->extra_copies += count[h] - 1;
		ret->extra_bytes += (count[h] - 1) * size;
	}
	qsort(all, n, sizeof(*all), by_extra);
	ret->top = all;
	ret->ntop = ntop < n ? ntop : n;
	free(is_str);
	free(slot);
	free(count);
	return NULL;
}

void ph_dup_strs_mark(const struct ph_snapshot *snap, const struct ph_dup_strs *d,
		      const struct ph_dup_value *v, uint8_t *mask)
{
	uint8_t *is_str = str_types(snap);
	const char *want = ph_snapshot_text(snap, v->first);
	for (size_t i = 0; i < snap->nobjects; i++) {
		const char *t = is_str && want ? whole_text(snap, is_str, i, d->ascii_base) : NULL;
		mask[i] = t && snap->objects[i].size == v->size && !strcmp(t, want);
	}
	free(is_str);
}

void ph_dup_strs_deinit(struct ph_dup_strs *d)
{
	free(d->top);
	d->top = NULL;
	d->ntop = 0;
}
