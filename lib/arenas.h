/* SPDX-License-Identifier: MIT */
/**
 * @file arenas.h
 * What keeps pymalloc's mostly free arenas: pymalloc gives an arena back to
 * the system only once none of its blocks is in use, so the few objects left
 * in an arena keep all of it in the process (fragmentation). The arenas by
 * how much of them is in use, and the objects in the sparse ones by kind.
 * Works on the snapshot only (its arena list, section PYMALLOC_ARENAS).
 */
#ifndef PH_ARENAS_H
#define PH_ARENAS_H

#include <stdint.h>

#include "error.h"
#include "partition.h"
#include "snapshot.h"

/** Arenas in use at most this share (percent) are sparse. */
#define PH_SPARSE_PCT 25u

enum { PH_ARENA_BANDS = 5 };

/** The bands' upper bounds, percent of an arena in use: 10, 25, 50, 75, 100. */
extern const unsigned ph_arena_band_pct[PH_ARENA_BANDS];

/** The arenas in use more than the band before's bound, and at most its. */
struct ph_arena_band {
	uint64_t arenas;
	uint64_t used;    /**< bytes in their blocks in use */
	uint64_t objects; /**< the snapshot's objects in them */
	uint64_t size;    /**< those objects' sizes */
};

struct ph_arena_use {
	uint32_t arena_size;
	uint64_t arenas;
	struct ph_arena_band bands[PH_ARENA_BANDS];
	/** the arenas in use at most PH_SPARSE_PCT (the first bands), summed */
	struct ph_arena_band sparse;
	uint64_t outside;  /**< objects in no arena: larger than 512 bytes, static */
	uint8_t *in_sparse;          /**< per object: 1 when in a sparse arena */
	struct ph_partition kinds;   /**< the objects in sparse arenas, by kind */
};

/**
 * The arenas of @p snap by use, and the objects in the sparse ones. Fails,
 * with a message that says why, when the snapshot has no list of pymalloc's
 * arenas: PH_ERR_NO_DEBUG_INFO when they were not known (no arena table),
 * PH_ERR_BAD_DATA when counted but not listed (an older snapshot file).
 */
struct ph_error *ph_arena_use_compute(const struct ph_snapshot *snap, struct ph_arena_use *ret);
void ph_arena_use_deinit(struct ph_arena_use *u);

/** Arenas of @p m in use at most PH_SPARSE_PCT, and the bytes not in use in
 * them (0, 0 without the list). */
void ph_arena_sparse_count(const struct ph_pymalloc *m, uint64_t *arenas, uint64_t *unused);

#endif
