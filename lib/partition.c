/* SPDX-License-Identifier: MIT */
#include "partition.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PREFETCH_AHEAD = 256 /* objects: 6 KiB */ };

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct ph_kind_row *)a)->kind, ((const struct ph_kind_row *)b)->kind);
}

static int by_size(const void *a, const void *b)
{
	const struct ph_kind_row *x = a, *y = b;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

struct ph_error *ph_partition_compute(const struct ph_snapshot *snap, struct ph_partition *ret)
{
	struct ph_kind_acc *acc = calloc(ph_kind_slots(snap), sizeof(*acc));
	if (!acc)
		return &ph_error_nomem;
	uint64_t inline_values = 0;
	for (size_t i = 0; i < snap->nobjects; i++) {
		const struct ph_object *o = &snap->objects[i];
		// (Ahead, into the next pages: the hardware's prefetch stops at
		// a page's end, and on a virtual machine each page's first read
		// waited for its translation.)
		if (!(i & 7))
			__builtin_prefetch(o + PREFETCH_AHEAD);
		size_t slot = ph_kind_slot(snap, i);
		acc[slot].count++;
		acc[slot].size += o->size;
		if (o->flags & PH_OBJ_INLINE_VALUES)
			inline_values++;
	}
	struct ph_error *err = ph_partition_from_slots(snap, acc, ret);
	free(acc);
	if (!err)
		ret->inline_values = inline_values;
	return err;
}

struct ph_error *ph_partition_from_slots(const struct ph_snapshot *snap,
					 const struct ph_kind_acc *acc, struct ph_partition *ret)
{
	size_t nt = snap->ntypes, nslots = ph_kind_slots(snap);
	struct ph_partition p = {0};
	size_t nrows = 0;
	for (size_t i = 0; i < nslots; i++) {
		nrows += acc[i].count > 0;
		p.objects += acc[i].count;
		p.size += acc[i].size;
	}
	p.rows = calloc(nrows ? nrows : 1, sizeof(*p.rows));
	if (!p.rows)
		return &ph_error_nomem;
	size_t r = 0;
	for (size_t i = 0; i < nslots; i++) {
		if (!acc[i].count)
			continue;
		char *name;
		if (i < nt)
			name = strdup(snap->types[i].name);
		else if (i < 2 * nt) {
			if (asprintf(&name, "dict of %s", snap->types[i - nt].name) < 0)
				name = NULL;
		} else
			name = strdup(i == 2 * nt ? "dict of module" : "dict (no owner)");
		if (!name) {
			p.nrows = r;
			ph_partition_deinit(&p);
			return &ph_error_nomem;
		}
		p.rows[r++] = (struct ph_kind_row){name, acc[i].count, acc[i].size, acc[i].extra};
	}
	// Types with the same name (a class defined twice) make one kind.
	qsort(p.rows, r, sizeof(*p.rows), by_name);
	size_t m = 0;
	for (size_t i = 0; i < r; i++) {
		if (m && !strcmp(p.rows[m - 1].kind, p.rows[i].kind)) {
			p.rows[m - 1].count += p.rows[i].count;
			p.rows[m - 1].size += p.rows[i].size;
			p.rows[m - 1].extra += p.rows[i].extra;
			free(p.rows[i].kind);
		} else {
			p.rows[m++] = p.rows[i];
		}
	}
	qsort(p.rows, m, sizeof(*p.rows), by_size);
	p.nrows = m;
	*ret = p;
	return NULL;
}

void ph_partition_deinit(struct ph_partition *p)
{
	for (size_t i = 0; i < p->nrows; i++)
		free(p->rows[i].kind);
	free(p->rows);
	p->rows = NULL;
	p->nrows = 0;
}
