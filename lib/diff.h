/* SPDX-License-Identifier: MIT */
/**
 * @file diff.h
 * What changed between two snapshots of a heap: count and size per kind in
 * each, and which objects are new in the second and which of the first were
 * freed. An object of B is the same as one of A when it has the same address
 * and the same kind (an address reused by an object of another kind is a new
 * object). Works on the snapshots only.
 */
#ifndef PH_DIFF_H
#define PH_DIFF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "referrers.h"
#include "snapshot.h"

struct ph_diff_row {
	char *kind;
	uint64_t count_a, size_a;
	uint64_t count_b, size_b;
	uint64_t new_count, new_size;     /**< objects of B not in A */
	uint64_t freed_count, freed_size; /**< objects of A not in B */
};

struct ph_diff {
	/** Kinds that changed (count, size, new or freed objects), by size delta
	 * descending, then count delta descending, then name. */
	struct ph_diff_row *rows;
	size_t nrows;
	uint64_t objects_a, size_a, objects_b, size_b;
	uint64_t new_count, new_size, freed_count, freed_size;
	uint8_t *is_new; /**< per object of B: 1 when it is not in A */
};

struct ph_error *ph_diff_compute(const struct ph_snapshot *a, const struct ph_snapshot *b,
				 struct ph_diff *ret);
void ph_diff_deinit(struct ph_diff *d);

/** Where a side of the diff came from, for reports ("a.pyheap", "pid 42"). */
struct ph_diff_side {
	const struct ph_snapshot *snap;
	const char *source;
};

/** The growth table as text: @p limit rows (0: all). */
void ph_diff_report_text(FILE *out, const struct ph_diff *d, const struct ph_diff_side *a,
			 const struct ph_diff_side *b, size_t limit);

/**
 * The diff as one JSON object (all kinds that changed); with @p refs (may be
 * NULL), the referrers of the new objects under "new_referrers", as
 * --referrers --json prints them (@p paths groups of paths at most).
 */
void ph_diff_report_json(FILE *out, const struct ph_diff *d, const struct ph_diff_side *a,
			 const struct ph_diff_side *b, const struct ph_referrers *refs,
			 size_t paths);

#endif
