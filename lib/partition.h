/* SPDX-License-Identifier: MIT */
/**
 * @file partition.h
 * Heapy's partition of a snapshot by kind: count and size per kind, sorted
 * by size. Works on the snapshot only.
 */
#ifndef PH_PARTITION_H
#define PH_PARTITION_H

#include <stdint.h>

#include "error.h"
#include "snapshot.h"

struct ph_kind_row {
	char *kind;
	uint64_t count;
	uint64_t size;
	uint64_t extra; /**< what the caller counted beside the size (ph_kind_acc) */
};

struct ph_partition {
	struct ph_kind_row *rows; /**< sorted by size, then count, descending */
	size_t nrows;
	uint64_t objects;
	uint64_t size;
	uint64_t inline_values; /**< instances with attributes but no dict object */
};

struct ph_error *ph_partition_compute(const struct ph_snapshot *snap, struct ph_partition *ret);

/**
 * The partition's kinds as slots, before naming: [0, ntypes) objects by type,
 * [ntypes, 2 ntypes) dicts owned by an instance of each type, then dicts of
 * modules, then dicts without owner. (Two types of one name, a class defined
 * twice, are two slots and one kind.)
 */
static inline size_t ph_kind_slots(const struct ph_snapshot *snap)
{
	return 2 * snap->ntypes + 2;
}

/** The kind slot of object @p i of @p snap. */
static inline size_t ph_kind_slot(const struct ph_snapshot *snap, size_t i)
{
	const struct ph_object *o = &snap->objects[i];
	size_t nt = snap->ntypes;
	if (!snap->types[o->type].is_dict)
		return o->type;
	if (o->flags & PH_OBJ_MODULE_DICT)
		return 2 * nt;
	if (o->owner != PH_NONE)
		return nt + snap->objects[o->owner].type;
	return 2 * nt + 1;
}

/** Objects counted per kind slot. */
struct ph_kind_acc {
	uint64_t count;
	uint64_t size;
	uint64_t extra; /**< a sum of the caller's own, merged as the size (--fill: bytes a copy
			     would free) */
};

/**
 * The rows of the kinds counted in @p acc (ph_kind_slots() of them), named,
 * merged by name and sorted as the partition's, into @p ret (its rows, nrows,
 * objects and size).
 */
struct ph_error *ph_partition_from_slots(const struct ph_snapshot *snap,
					 const struct ph_kind_acc *acc, struct ph_partition *ret);
void ph_partition_deinit(struct ph_partition *p);

#endif
