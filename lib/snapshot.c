/* SPDX-License-Identifier: MIT */
#include "snapshot.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ph_snapshot *ph_snapshot_create(void)
{
	return calloc(1, sizeof(struct ph_snapshot));
}

static void free_names(char **names, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

void ph_snapshot_destroy(struct ph_snapshot *snap)
{
	if (!snap)
		return;
	for (size_t i = 0; i < snap->ntypes; i++) {
		free(snap->types[i].name);
		free_names(snap->types[i].attr_names, snap->types[i].nattr_names);
		free_names(snap->types[i].slot_names, snap->types[i].nslot_names);
	}
	free(snap->types);
	free(snap->objects);
	free(snap->edge_start);
	free(snap->edges);
	free(snap->python_path);
	free(snap->core_path);
	free(snap->layout_source);
	free(snap->truncated_reason);
	free(snap->roots);
	free(snap->obj_lines);
	free(snap->root_edges);
	free(snap->weak_edges);
	free(snap->text);
	free(snap->strings);
	free(snap->pymalloc.arena_list);
	free(snap->sparse_tables);
	free(snap->value_hashes);
	free(snap->static_refs);
	for (size_t i = 0; i < snap->nstatic_files; i++)
		free(snap->static_files[i]);
	free(snap->static_files);
	free(snap->stack_refs);
	free(snap->value_previews);
	free(snap->object_site);
	free(snap->sites);
	free(snap->site_frames);
	for (size_t i = 0; i < snap->nsite_files; i++)
		free(snap->site_files[i]);
	free(snap->site_files);
	free(snap);
}

// The element of @n of @size bytes at @base, sorted by the object index each
// starts with, whose object is @i; NULL if none.
static const void *find_by_object(const void *base, size_t n, size_t size, uint32_t i)
{
	const char *b = base;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (*(const uint32_t *)(const void *)(b + mid * size) < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && *(const uint32_t *)(const void *)(b + lo * size) == i ? b + lo * size
									  : NULL;
}

const struct ph_static_ref *ph_snapshot_static_ref(const struct ph_snapshot *snap, uint32_t i)
{
	_Static_assert(offsetof(struct ph_static_ref, object) == 0, "the object index first");
	return find_by_object(snap->static_refs, snap->nstatic_refs, sizeof(*snap->static_refs), i);
}

void ph_snapshot_pool_found(const struct ph_snapshot *snap, size_t *first, uint64_t **entry)
{
	size_t n = snap->nobjects, f = snap->pool_scan_from <= n ? snap->pool_scan_from : 0;
	while (f < n && !(snap->objects[f].flags & PH_OBJ_POOL))
		f++;
	*first = f;
	if (!entry)
		return;
	uint64_t *bits = calloc((n - f + 63) / 64 + 1, sizeof(*bits));
	*entry = bits;
	if (!bits)
		return;
	for (size_t i = f; i < n; i++)
		if (snap->objects[i].flags & PH_OBJ_POOL)
			bits[(i - f) / 64] |= 1ull << ((i - f) % 64);
	// (Objects found before the pool scan refer to none found by it: they
	// were not known then.)
	for (size_t i = f; i < n && snap->edge_start; i++)
		for (uint32_t e = snap->edge_start[i]; e < snap->edge_start[i + 1] && e < snap->nedges; e++) {
			uint32_t t = snap->edges[e].target;
			if (t >= f && t < n && t != i)
				bits[(t - f) / 64] &= ~(1ull << ((t - f) % 64));
		}
}

const struct ph_stack_ref *ph_snapshot_stack_ref(const struct ph_snapshot *snap, uint32_t i)
{
	_Static_assert(offsetof(struct ph_stack_ref, object) == 0, "the object index first");
	return find_by_object(snap->stack_refs, snap->nstack_refs, sizeof(*snap->stack_refs), i);
}

const char *ph_snapshot_kind(const struct ph_snapshot *snap, size_t i, char *buf, size_t cap)
{
	const struct ph_object *o = &snap->objects[i];
	const struct ph_type *t = &snap->types[o->type];
	if (!t->is_dict)
		return t->name;
	if (o->flags & PH_OBJ_MODULE_DICT)
		return "dict of module";
	if (o->owner == PH_NONE)
		return "dict (no owner)";
	const struct ph_object *own = &snap->objects[o->owner];
	snprintf(buf, cap, "dict of %s", snap->types[own->type].name);
	return buf;
}

bool ph_repr_escape(const uint8_t *p, size_t n, bool bytes, size_t max, char *out, size_t cap)
{
	size_t o = 0, chars = 0, i = 0;
	if (!cap)
		return false;
	while (i < n && chars < max) {
		uint8_t c = p[i];
		char esc[8];
		size_t len = 1;
		const uint8_t *from = &p[i];
		if (c == '\\' || c == '\'') {
			esc[0] = '\\', esc[1] = (char)c, len = 2, from = (const uint8_t *)esc;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r', len = 2;
			from = (const uint8_t *)esc;
		} else if (c < 0x20 || c == 0x7f || (bytes && c > 0x7f)) {
			snprintf(esc, sizeof(esc), "\\x%02x", c);
			len = 4, from = (const uint8_t *)esc;
		} else if (c > 0x7f) {
			// (a character's UTF-8 bytes together)
			while (i + len < n && (p[i + len] & 0xc0) == 0x80 && len < 4)
				len++;
		}
		if (o + len >= cap)
			break;
		memcpy(out + o, from, len);
		o += len;
		i += from == &p[i] ? len : 1;
		chars++;
	}
	out[o] = '\0';
	return i == n;
}

size_t ph_repr_bytes(const uint8_t *p, size_t n, bool cut, char *out, size_t cap)
{
	return ph_repr_bytes_as(p, n, cut, false, out, cap);
}

size_t ph_repr_bytes_as(const uint8_t *p, size_t n, bool cut, bool bytearray, char *out,
			size_t cap)
{
	// Python's choice: single quotes, unless only double quotes are free.
	char quote = memchr(p, '\'', n) && !memchr(p, '"', n) ? '"' : '\'';
	size_t o = 0;
	if (cap < 8) {
		if (cap)
			out[0] = '\0';
		return 0;
	}
	out[o++] = 'b';
	out[o++] = quote;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		char esc[8];
		// (bytearray's repr() escapes single quotes inside double ones too.)
		if (c == quote || c == '\\' || (bytearray && c == '\''))
			esc[0] = '\\', esc[1] = (char)c, esc[2] = '\0';
		else if (c == '\n' || c == '\t' || c == '\r')
			esc[0] = '\\', esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r', esc[2] = '\0';
		else if (c < 0x20 || c >= 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", c);
		else
			esc[0] = (char)c, esc[1] = '\0';
		size_t len = strlen(esc);
		if (o + len + 5 > cap) { // (room for "…", the quote, the NUL)
			cut = true;
			break;
		}
		memcpy(out + o, esc, len);
		o += len;
	}
	if (cut) {
		memcpy(out + o, "…", 3);
		o += 3;
	}
	out[o++] = quote;
	out[o] = '\0';
	return o;
}

void ph_float_repr(double v, char *out, size_t cap)
{
	if (!cap)
		return;
	if (isnan(v) || isinf(v)) {
		snprintf(out, cap, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
		return;
	}
	// The fewest significant digits that read back as v (as correctly
	// rounded as printf's), then laid out as float_repr() does: with an
	// exponent when the point would be more than 16 digits right of the
	// first or 4 left of it.
	char e[48];
	for (int p = 0; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p, v);
		if (strtod(e, NULL) == v)
			break;
	}
	bool neg = e[0] == '-';
	char digits[24];
	int nd = 0;
	const char *q = e + neg;
	for (; *q && *q != 'e' && nd < 20; q++)
		if (*q >= '0' && *q <= '9')
			digits[nd++] = *q;
	int exp10 = *q == 'e' ? atoi(q + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int decpt = exp10 + 1;
	char b[64];
	size_t o = 0;
	if (neg)
		b[o++] = '-';
	if (decpt <= -4 || decpt > 16) {
		b[o++] = digits[0];
		if (nd > 1) {
			b[o++] = '.';
			memcpy(b + o, digits + 1, (size_t)nd - 1);
			o += (size_t)nd - 1;
		}
		o += (size_t)snprintf(b + o, sizeof(b) - o, "e%c%02d", exp10 < 0 ? '-' : '+',
				      exp10 < 0 ? -exp10 : exp10);
	} else if (decpt <= 0) {
		b[o++] = '0';
		b[o++] = '.';
		for (int i = 0; i < -decpt; i++)
			b[o++] = '0';
		memcpy(b + o, digits, (size_t)nd);
		o += (size_t)nd;
	} else {
		for (int i = 0; i < decpt; i++)
			b[o++] = i < nd ? digits[i] : '0';
		b[o++] = '.';
		if (nd > decpt) {
			memcpy(b + o, digits + decpt, (size_t)(nd - decpt));
			o += (size_t)(nd - decpt);
		} else {
			b[o++] = '0';
		}
	}
	b[o] = '\0';
	snprintf(out, cap, "%s", b);
}

bool ph_snapshot_float(const struct ph_snapshot *snap, uint32_t i, double *v)
{
	if (i >= snap->nobjects)
		return false;
	const char *name = snap->types[snap->objects[i].type].name;
	const char *t = ph_snapshot_text(snap, i);
	if (!t || !name || strcmp(name, "float") || t[0] != PH_FLOAT_TEXT_TAG ||
	    strlen(t) != 17 || strspn(t + 1, "0123456789abcdef") != 16)
		return false;
	uint64_t bits = strtoull(t + 1, NULL, 16);
	memcpy(v, &bits, sizeof(*v));
	return true;
}

int32_t ph_snapshot_frame_line(const struct ph_snapshot *snap, uint32_t i, uint32_t depth)
{
	// (Sorted by object, then depth, PH_NONE last.)
	size_t lo = 0, hi = snap->nobj_lines;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ph_obj_line *l = &snap->obj_lines[mid];
		if (l->object < i || (l->object == i && l->depth < depth))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < snap->nobj_lines && snap->obj_lines[lo].object == i &&
			       snap->obj_lines[lo].depth == depth
		       ? snap->obj_lines[lo].line
		       : -1;
}

int32_t ph_snapshot_object_line(const struct ph_snapshot *snap, uint32_t i)
{
	return ph_snapshot_frame_line(snap, i, PH_NONE);
}
