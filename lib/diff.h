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
#include "sites.h"
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
/** Where the new objects of one kind are: what a leak hunt asks next. */
struct ph_diff_held {
	char *kind;                 /**< a row of the diff */
	uint64_t new_count, new_size;
	struct ph_count_row *paths; /**< their grouped shortest paths in B, by count */
	size_t npaths;
	uint64_t unreachable;       /**< new objects of the kind with no path (garbage) */
};

/**
 * For the (at most) @p nkinds kinds that grew most in size with new objects
 * (the first rows of @p d with both), the shortest paths of their objects
 * new in B, grouped, in @p g, B's graph.
 */
struct ph_error *ph_diff_held(const struct ph_diff *d, const struct ph_graph *g, size_t nkinds,
			      struct ph_diff_held **ret, size_t *nret);

/**
 * For each of the @p nkinds kind names @p kinds that has objects marked in
 * @p is_new (a byte per object of @p g's snapshot), those objects' count,
 * size and grouped shortest paths, in the order given (kinds without new
 * objects left out; at most 250).
 */
struct ph_error *ph_held_by_kind(const struct ph_graph *g, const uint8_t *is_new,
				 const char *const *kinds, size_t nkinds, struct ph_diff_held **ret,
				 size_t *nret);

void ph_diff_held_free(struct ph_diff_held *h, size_t n);

struct ph_diff_side {
	const struct ph_snapshot *snap;
	const char *source;
};

/** The growth table as text: @p limit rows (0: all). */
void ph_diff_report_text(FILE *out, const struct ph_diff *d, const struct ph_diff_side *a,
			 const struct ph_diff_side *b, size_t limit);

/**
 * The paths of ph_diff_held() (or ph_watch_held(), or of the objects in
 * sparse arenas) as text, under @p title, each kind's count followed by
 * @p word ("new"), @p paths groups per kind at most.
 */
void ph_diff_report_held_text(FILE *out, const char *title, const char *word,
			      const struct ph_diff_held *h, size_t n, size_t paths);

/**
 * The same as the JSON member ,"MEMBER":[{"kind","COUNT_KEY","SIZE_KEY","paths",
 * "unreachable"}…] (@p paths groups per kind, 0: all).
 */
void ph_diff_report_held_json(FILE *out, const char *member, const char *count_key,
			      const char *size_key, const struct ph_diff_held *h, size_t n,
			      size_t paths);

/**
 * The diff as one JSON object (all kinds that changed); with @p refs (may be
 * NULL), the referrers of the new objects under "new_referrers", as
 * --referrers --json prints them (@p paths groups of paths at most), with
 * @p groups (may be NULL), what they hold by reference.
 */
void ph_diff_report_json(FILE *out, const struct ph_diff *d, const struct ph_diff_side *a,
			 const struct ph_diff_side *b, const struct ph_referrers *refs,
			 const struct ph_diff_held *held, size_t nheld, size_t paths,
			 const struct ph_sites *alloc, const struct ph_holds_groups *groups);

#endif
