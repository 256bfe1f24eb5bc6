/* SPDX-License-Identifier: MIT */
/**
 * @file fill.h
 * Dicts and sets whose tables are mostly empty (Eclipse MAT's "collections
 * fill ratio"): deleting entries never shrinks a dict's or a set's table, so
 * a cache or a queue that once held many entries keeps their room after they
 * are gone; a copy (dict(d), set(s)) would be sized for what is left. Works
 * on the snapshot only (its sparse tables, section SPARSE_TABLES).
 */
#ifndef PH_FILL_H
#define PH_FILL_H

#include <stdint.h>

#include "error.h"
#include "partition.h"
#include "snapshot.h"

struct ph_fill {
	uint64_t tables;    /**< dicts and sets under PH_SPARSE_TABLE_PCT of their room */
	uint64_t entries;   /**< their entries */
	uint64_t size;      /**< their sizes */
	uint64_t copy_size; /**< their copies' sizes */
	/** the tables by kind; each row's extra: the bytes copies would free
	 * (size - copy size); sorted by it, descending */
	struct ph_partition kinds;
	/** indices into the snapshot's sparse_tables, most bytes freed first */
	uint32_t *top;
	size_t ntop;
};

/** The sparse tables of @p snap, the @p ntop that copies would shrink most.
 * Fails (PH_ERR_BAD_DATA) when the snapshot was read from a file that does
 * not have them. */
struct ph_error *ph_fill_compute(const struct ph_snapshot *snap, size_t ntop, struct ph_fill *ret);
void ph_fill_deinit(struct ph_fill *f);

/** What copies of the sparse tables of @p snap would free, in bytes (0: none,
 * or not known), and how many they are. */
uint64_t ph_fill_freeable(const struct ph_snapshot *snap, uint64_t *tables);

/** A note in the header when copies would free at least this much. */
#define PH_FILL_NOTE_BYTES (1u << 20)

#endif
