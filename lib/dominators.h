/* SPDX-License-Identifier: MIT */
/**
 * @file dominators.h
 * Retained sizes (Eclipse MAT's "retained heap"): object d dominates object o
 * when every path from the roots to o passes through d, so that o would be
 * freed with d; an object's retained size is its own size plus that of every
 * object it dominates. Computed on the snapshot's graph (ph_graph_build()):
 * the roots, the static types and the objects held by native code are the
 * starts of paths; cyclic garbage hangs from nothing.
 */
#ifndef PH_DOMINATORS_H
#define PH_DOMINATORS_H

#include <stdint.h>

#include "error.h"
#include "graph.h"
#include "partition.h"

struct ph_dominators {
	uint32_t n;
	/** each object's immediate dominator; PH_NONE: none but the roots */
	uint32_t *idom;
	/** each object's retained size (bytes) */
	uint64_t *retained;
	/** how many objects each one retains (itself included) */
	uint32_t *retained_count;
	/** the snapshot's roots: retained[n + r] and retained_count[n + r] are
	 * what root r alone holds (a thread's frame, atexit's callbacks…) */
	uint32_t nroots;
	/** the threads of the roots (their thread ids, sorted): retained[n +
	 * nroots + t] and retained_count[n + nroots + t] are what thread
	 * thread_ids[t]'s roots alone hold together (its frames, state dict,
	 * handled exceptions, hooks) */
	uint32_t nthreads;
	uint64_t *thread_ids;
};

/** The dominators of every object of @p g's snapshot. */
struct ph_error *ph_dominators_compute(const struct ph_graph *g, struct ph_dominators *ret);

/**
 * The (at most) @p limit objects of largest retained size, largest first, into
 * @p ret (malloc'ed; @p nret of them).
 */
struct ph_error *ph_dominators_top(const struct ph_dominators *d, size_t limit, uint32_t **ret,
				   size_t *nret);

/** Thread @p id's index in @p d->thread_ids, or PH_NONE (0: no thread). */
uint32_t ph_dominators_thread(const struct ph_dominators *d, uint64_t id);

void ph_dominators_deinit(struct ph_dominators *d);

/**
 * How the listed objects (ph_dominators_top()'s) nest, and what they keep:
 * Eclipse MAT's dominator tree cut down to the rows shown, and each row's
 * retained set grouped by kind as the partition groups the heap.
 */
struct ph_retained_rows {
	size_t n;
	/** per row: the row whose retained set holds this one (its nearest
	 * dominator among the rows), or PH_NONE */
	uint32_t *within;
	/** per row, for the first nkinds rows: its retained objects by kind */
	struct ph_partition *kinds;
	size_t nkinds;
};

/**
 * The nesting of the @p n rows @p top (objects of @p g's snapshot) and, for
 * the first @p nkinds of them, their retained objects by kind (fewer rows when
 * @p nkinds times the kinds exceeds 16M counters: a crafted snapshot of
 * millions of types). Linear in the snapshot's objects, plus the rows by kind
 * times its kinds.
 */
struct ph_error *ph_dominators_rows(const struct ph_snapshot *s, const struct ph_dominators *d,
				    const uint32_t *top, size_t n, size_t nkinds,
				    struct ph_retained_rows *ret);

void ph_retained_rows_deinit(struct ph_retained_rows *r);

#endif
