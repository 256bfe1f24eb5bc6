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
};

struct ph_partition {
	struct ph_kind_row *rows; /**< sorted by size, then count, descending */
	size_t nrows;
	uint64_t objects;
	uint64_t size;
	uint64_t inline_values; /**< instances with attributes but no dict object */
};

struct ph_error *ph_partition_compute(const struct ph_snapshot *snap, struct ph_partition *ret);
void ph_partition_deinit(struct ph_partition *p);

#endif
