/* SPDX-License-Identifier: MIT */
#include "dupstr.h"

#include <stdlib.h>
#include <string.h>


enum { VT_STR = 1, VT_BYTES = 2 };

// Which types are exactly str (VT_STR) and bytes (VT_BYTES).
static uint8_t *value_types(const struct ph_snapshot *snap)
{
	uint8_t *is = calloc(snap->ntypes ? snap->ntypes : 1, 1);
	for (size_t t = 0; is && t < snap->ntypes; t++) {
		const char *n = snap->types[t].name;
		is[t] = !n ? 0 : !strcmp(n, "str") ? VT_STR : !strcmp(n, "bytes") ? VT_BYTES : 0;
	}
	return is;
}

// Which objects have a hash of their value (a byte each).
static uint8_t *hashed_objects(const struct ph_snapshot *snap)
{
	uint8_t *h = calloc(snap->nobjects ? snap->nobjects : 1, 1);
	for (size_t k = 0; h && k < snap->nvalue_hashes; k++)
		h[snap->value_hashes[k].object] = 1;
	return h;
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
static const char *whole_text(const struct ph_snapshot *snap, const uint8_t *vtype, size_t i,
			      uint64_t base)
{
	const struct ph_object *o = &snap->objects[i];
	if (vtype[o->type] != VT_STR)
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

// One value in the table: its first copy, how it is compared (0: text;
// else value_hashes index + 1), and its copies.
struct slot {
	uint32_t first; // object index + 1; 0: empty
	uint32_t hashed;
	uint64_t count;
};

static bool same_hashed(const struct ph_snapshot *snap, const uint8_t *vtype,
			const struct ph_value_hash *a, const struct ph_value_hash *b)
{
	const struct ph_object *x = &snap->objects[a->object], *y = &snap->objects[b->object];
	return a->hash == b->hash && x->size == y->size && vtype[x->type] == vtype[y->type];
}

struct ph_error *ph_dup_strs_compute(const struct ph_snapshot *snap, size_t ntop,
				     struct ph_dup_strs *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->hashes_known = snap->value_hashes_known;
	uint8_t *vtype = value_types(snap);
	uint8_t *byhash = hashed_objects(snap);
	struct slot *slot = NULL;
	struct ph_dup_value *all = NULL;
	if (!vtype || !byhash)
		goto nomem;
	// The ASCII strs' size less their length: the most common value is
	// that of a compact ASCII str (3.12: 41).
	uint64_t hist[256] = {0}, candidates = snap->nvalue_hashes;
	for (size_t i = 0; i < snap->nobjects; i++) {
		const struct ph_object *o = &snap->objects[i];
		const char *t = vtype[o->type] == VT_STR ? ph_snapshot_text(snap, i) : NULL;
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
	if (!(slot = calloc(cap, sizeof(*slot))))
		goto nomem;
	// By their text, the strs that have no hash.
	for (size_t i = 0; i < snap->nobjects; i++) {
		if (byhash[i])
			continue;
		const char *t = whole_text(snap, vtype, i, ret->ascii_base);
		if (!t) {
			ret->other_strs += vtype[snap->objects[i].type] == VT_STR;
			continue;
		}
		ret->strs++;
		uint64_t size = snap->objects[i].size;
		size_t h = (size_t)hash_text(t, size) & (cap - 1);
		for (;; h = (h + 1) & (cap - 1)) {
			if (!slot[h].first) {
				slot[h].first = (uint32_t)i + 1;
				ret->distinct++;
				break;
			}
			size_t j = slot[h].first - 1;
			if (!slot[h].hashed && snap->objects[j].size == size &&
			    !strcmp(ph_snapshot_text(snap, j), t))
				break;
		}
		slot[h].count++;
	}
	// By their hash, the others (long strs, or a text not whole; bytes).
	for (size_t k = 0; k < snap->nvalue_hashes; k++) {
		const struct ph_value_hash *v = &snap->value_hashes[k];
		const struct ph_object *o = &snap->objects[v->object];
		if (vtype[o->type] == VT_BYTES) {
			ret->bytes++;
		} else {
			ret->strs++;
			ret->hashed_strs++;
		}
		size_t h = (size_t)((v->hash ^ o->size * 0x9e3779b97f4a7c15ull) >> 7) & (cap - 1);
		for (;; h = (h + 1) & (cap - 1)) {
			if (!slot[h].first) {
				slot[h] = (struct slot){v->object + 1, (uint32_t)k + 1, 0};
				ret->distinct++;
				break;
			}
			if (slot[h].hashed &&
			    same_hashed(snap, vtype, &snap->value_hashes[slot[h].hashed - 1], v))
				break;
		}
		slot[h].count++;
	}
	for (size_t h = 0; h < cap; h++)
		ret->dup_values += slot[h].count >= 2;
	// Every value in several copies, sorted; the first ntop kept.
	if (!(all = calloc(ret->dup_values ? ret->dup_values : 1, sizeof(*all))))
		goto nomem;
	size_t n = 0;
	for (size_t h = 0; h < cap; h++) {
		if (slot[h].count < 2)
			continue;
		uint32_t i = slot[h].first - 1;
		uint64_t size = snap->objects[i].size, c = slot[h].count;
		all[n++] = (struct ph_dup_value){i, slot[h].hashed, c, size, (c - 1) * size};
		ret->extra_copies += c - 1;
		ret->extra_bytes += (c - 1) * size;
	}
	qsort(all, n, sizeof(*all), by_extra);
	ret->top = all;
	ret->ntop = ntop < n ? ntop : n;
	free(vtype);
	free(byhash);
	free(slot);
	return NULL;
nomem:
	free(vtype);
	free(byhash);
	free(slot);
	free(all);
	memset(ret, 0, sizeof(*ret));
	return &ph_error_nomem;
}

void ph_dup_strs_mark(const struct ph_snapshot *snap, const struct ph_dup_strs *d,
		      const struct ph_dup_value *v, uint8_t *mask)
{
	memset(mask, 0, snap->nobjects);
	uint8_t *vtype = value_types(snap);
	if (!vtype)
		return;
	if (v->hashed) {
		const struct ph_value_hash *want = &snap->value_hashes[v->hashed - 1];
		for (size_t k = 0; k < snap->nvalue_hashes; k++)
			if (same_hashed(snap, vtype, &snap->value_hashes[k], want))
				mask[snap->value_hashes[k].object] = 1;
		free(vtype);
		return;
	}
	uint8_t *byhash = hashed_objects(snap);
	const char *want = ph_snapshot_text(snap, v->first);
	for (size_t i = 0; byhash && want && i < snap->nobjects; i++) {
		const char *t = byhash[i] ? NULL : whole_text(snap, vtype, i, d->ascii_base);
		mask[i] = t && snap->objects[i].size == v->size && !strcmp(t, want);
	}
	free(byhash);
	free(vtype);
}

bool ph_dup_value_is_bytes(const struct ph_snapshot *snap, const struct ph_dup_value *v)
{
	const char *n = snap->types[snap->objects[v->first].type].name;
	return n && !strcmp(n, "bytes");
}

char *ph_dup_value_repr(const struct ph_snapshot *snap, const struct ph_dup_value *v, size_t max)
{
	char *out = NULL;
	int r;
	if (v->hashed) {
		const struct ph_value_hash *h = &snap->value_hashes[v->hashed - 1];
		r = asprintf(&out, "%s'%s'%s", ph_dup_value_is_bytes(snap, v) ? "b" : "",
			     h->preview ? snap->value_previews + h->preview - 1 : "",
			     h->length > PH_VALUE_PREVIEW ? "…" : "");
	} else {
		const char *t = ph_snapshot_text(snap, v->first);
		size_t cap = max * 4 + 1;
		char *esc = malloc(cap);
		if (!esc)
			return NULL;
		bool whole = ph_repr_escape((const uint8_t *)(t ? t : ""), t ? strlen(t) : 0, false,
					    max, esc, cap);
		r = asprintf(&out, "'%s'%s", esc, whole ? "" : "…");
		free(esc);
	}
	return r < 0 ? NULL : out;
}

void ph_dup_strs_deinit(struct ph_dup_strs *d)
{
	free(d->top);
	d->top = NULL;
	d->ntop = 0;
}
