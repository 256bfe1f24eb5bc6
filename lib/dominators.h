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

struct ph_dominators {
	uint32_t n;
	/** each object's immediate dominator; PH_NONE: none but the roots */
	uint32_t *idom;
	/** each object's retained size (bytes) */
	uint64_t *retained;
	/** how many objects each one retains (itself included) */
	uint32_t *retained_count;
};

/** The dominators of every object of @p g's snapshot. */
struct ph_error *ph_dominators_compute(const struct ph_graph *g, struct ph_dominators *ret);

/**
 * The (at most) @p limit objects of largest retained size, largest first, into
 * @p ret (malloc'ed; @p nret of them).
 */
struct ph_error *ph_dominators_top(const struct ph_dominators *d, size_t limit, uint32_t **ret,
				   size_t *nret);

void ph_dominators_deinit(struct ph_dominators *d);

#endif
