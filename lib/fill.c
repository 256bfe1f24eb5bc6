/* SPDX-License-Identifier: MIT */
#include "fill.h"

#include <stdlib.h>
#include <string.h>

static int by_extra(const void *a, const void *b)
{
	const struct ph_kind_row *x = a, *y = b;
	if (x->extra != y->extra)
		return x->extra > y->extra ? -1 : 1;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->kind, y->kind);
}

struct freed {
	uint64_t bytes;
	uint32_t at; /* index into sparse_tables */
};

static int by_freed(const void *a, const void *b)
{
	const struct freed *x = a, *y = b;
	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return (x->at > y->at) - (x->at < y->at);
}

static uint64_t freed_by(const struct ph_snapshot *snap, const struct ph_sparse_table *t)
{
	uint64_t size = snap->objects[t->object].size;
	return size > t->copy_size ? size - t->copy_size : 0;
}

uint64_t ph_fill_freeable(const struct ph_snapshot *snap, uint64_t *tables)
{
	uint64_t bytes = 0;
	for (size_t i = 0; i < snap->nsparse_tables; i++)
		bytes += freed_by(snap, &snap->sparse_tables[i]);
	if (tables)
		*tables = snap->nsparse_tables;
	return bytes;
}

struct ph_error *ph_fill_compute(const struct ph_snapshot *snap, size_t ntop, struct ph_fill *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (!snap->sparse_known)
		return ph_error_create(PH_ERR_BAD_DATA,
				       "--fill: the snapshot file has no list of mostly empty dicts "
				       "and sets (written by an older pyheap-attach): take a new one");
	size_t n = snap->nsparse_tables, nslots = ph_kind_slots(snap);
	struct ph_kind_acc *acc = calloc(nslots, sizeof(*acc));
	struct freed *order = calloc(n ? n : 1, sizeof(*order));
	if (!acc || !order) {
		free(acc);
		free(order);
		return &ph_error_nomem;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ph_sparse_table *t = &snap->sparse_tables[i];
		uint64_t size = snap->objects[t->object].size, freed = freed_by(snap, t);
		ret->tables++;
		ret->entries += t->entries;
		ret->size += size;
		ret->copy_size += size - freed;
		struct ph_kind_acc *a = &acc[ph_kind_slot(snap, t->object)];
		a->count++;
		a->size += size;
		a->extra += freed;
		order[i] = (struct freed){freed, (uint32_t)i};
	}
	struct ph_error *err = ph_partition_from_slots(snap, acc, &ret->kinds);
	free(acc);
	if (err) {
		free(order);
		return err;
	}
	qsort(ret->kinds.rows, ret->kinds.nrows, sizeof(*ret->kinds.rows), by_extra);
	qsort(order, n, sizeof(*order), by_freed);
	ret->ntop = ntop < n ? ntop : n;
	ret->top = calloc(ret->ntop ? ret->ntop : 1, sizeof(*ret->top));
	if (!ret->top) {
		free(order);
		ph_fill_deinit(ret);
		return &ph_error_nomem;
	}
	for (size_t k = 0; k < ret->ntop; k++)
		ret->top[k] = order[k].at;
	free(order);
	return NULL;
}

void ph_fill_deinit(struct ph_fill *f)
{
	ph_partition_deinit(&f->kinds);
	free(f->top);
	f->top = NULL;
	f->ntop = 0;
}
