/* SPDX-License-Identifier: MIT */
/**
 * @file watch.h
 * A heap watched over time: the partition of each snapshot (count and size
 * per kind) kept as series, the kinds that grew most since the first
 * snapshot, and whether they grew in every interval. Keeps no snapshot:
 * only numbers per kind and per sample.
 */
#ifndef PH_WATCH_H
#define PH_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diff.h"
#include "error.h"
#include "graph.h"
#include "partition.h"
#include "nameindex.h"
#include "snapshot.h"

struct ph_watch_kind {
	char *kind;
	uint64_t *count; /**< per sample (0 where the kind had no objects) */
	uint64_t *size;
};

struct ph_watch_sample {
	uint64_t time_ns;  /**< the snapshot's time_ns */
	double elapsed;    /**< seconds since the first sample */
	uint64_t objects, size, rss, pause_ns;
	struct ph_alloc_sums arenas; /**< pymalloc's and malloc's arenas, when known */
	int pid;
	bool truncated;
	char *truncated_reason; /**< why (malloc'ed), NULL if whole or none given */
};

struct ph_watch {
	struct ph_watch_sample *samples;
	size_t nsamples, cap;
	struct ph_watch_kind *kinds;
	size_t nkinds, capkinds;
	struct ph_name_index ix; /* kind name -> index */
	/** the first snapshot's objects (address | kind << 47), sorted: what
	 * is new since; NULL when not kept (no memory, kinds beyond 2^17) */
	uint64_t *first;
	size_t nfirst;
};

/** One row of the growth table: a kind, now against the first sample. */
struct ph_watch_row {
	size_t kind;             /**< index into ph_watch.kinds */
	int64_t count_delta, size_delta;
	bool grew_every_interval; /**< its size grew between every two consecutive samples */
};

void ph_watch_init(struct ph_watch *w);
void ph_watch_deinit(struct ph_watch *w);

/** Adds a sample: @p p is the partition of @p snap. */
struct ph_error *ph_watch_add(struct ph_watch *w, const struct ph_snapshot *snap,
			      const struct ph_partition *p);

/**
 * The kinds whose size (@p by_count: count) grew since the first sample,
 * by that delta descending, then the other delta, then first appearance;
 * at most @p limit (0: all). Malloc'ed into *@p ret.
 */
struct ph_error *ph_watch_top(const struct ph_watch *w, bool by_count, size_t limit,
			      struct ph_watch_row **ret, size_t *n);

/**
 * Keeps the identities (address and kind) of @p snap's objects, the first
 * snapshot's, after its ph_watch_add(): ph_watch_held() then tells the
 * objects new since. False (nothing kept) without the memory for it.
 */
bool ph_watch_remember(struct ph_watch *w, const struct ph_snapshot *snap);

/**
 * Which objects of @p snap (the snapshot just added) are new since the first
 * snapshot: a byte each to free(); NULL without ph_watch_remember()'s
 * identities or the memory.
 */
uint8_t *ph_watch_new_mask(const struct ph_watch *w, const struct ph_snapshot *snap);

/**
 * For the (at most) @p nkinds kinds whose size grew most since the first
 * snapshot, the grouped shortest paths of their objects new since it, in
 * @p g, the graph of the snapshot just added. Nothing without
 * ph_watch_remember().
 */
struct ph_error *ph_watch_held(const struct ph_watch *w, const struct ph_graph *g, size_t nkinds,
			       struct ph_diff_held **ret, size_t *nret);

/**
 * The table after the last sample, as text (@p limit rows, 0: all), then
 * where the new objects of @p held are (may be NULL).
 */
void ph_watch_report_text(FILE *out, const struct ph_watch *w, size_t limit, size_t count,
			  const struct ph_diff_held *held, size_t nheld);

/** The last sample as one line of JSON (@p limit kinds, 0: all), with @p held,
 * and the members @p more (",\"name\":value…", may be NULL) last. */
void ph_watch_report_json(FILE *out, const struct ph_watch *w, size_t limit,
			  const struct ph_diff_held *held, size_t nheld, const char *more);

/**
 * An SVG chart of objects (@p bytes: bytes) over time for the @p nseries
 * kinds that grew most.
 */
struct ph_error *ph_watch_plot(FILE *out, const struct ph_watch *w, bool bytes, size_t nseries);

#endif
