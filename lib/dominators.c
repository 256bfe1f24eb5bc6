/* SPDX-License-Identifier: MIT */
#include "dominators.h"

#include <stdlib.h>
#include <string.h>

/*
 * Cooper, Harvey and Kennedy's iterative algorithm ("A Simple, Fast Dominance
 * Algorithm", 2001) over a virtual root R (index n) whose successors are the
 * starts of the snapshot's paths and the targets of root edges: a depth-first
 * numbering from R, then each object's immediate dominator refined in reverse
 * postorder from its predecessors until nothing changes (two or three passes
 * on a heap).
 */

enum { MAX_PASSES = 1000 }; /* (it converges long before; a bound all the same) */

#define UNDEF UINT32_MAX

struct frame {
	uint32_t node;
	uint32_t next; /* the next successor to look at */
};

static inline bool is_start(const struct ph_graph *g, uint32_t i)
{
	return g->parent_edge[i] == PH_NONE && g->dist[i] != UINT32_MAX;
}

static uint32_t intersect(const uint32_t *idom, const uint32_t *po, uint32_t a, uint32_t b)
{
	while (a != b) {
		while (po[a] < po[b])
			a = idom[a];
		while (po[b] < po[a])
			b = idom[b];
	}
	return a;
}

struct ph_error *ph_dominators_compute(const struct ph_graph *g, struct ph_dominators *ret)
{
	const struct ph_snapshot *s = g->snap;
	memset(ret, 0, sizeof(*ret));
	if (s->nobjects >= UINT32_MAX - 1)
		return &ph_error_nomem;
	uint32_t n = (uint32_t)s->nobjects, root = n;
	uint32_t *idom = reallocarray(NULL, (size_t)n + 1, sizeof(*idom));
	uint32_t *po = reallocarray(NULL, (size_t)n + 1, sizeof(*po));
	uint32_t *order = reallocarray(NULL, (size_t)n + 1, sizeof(*order));
	uint32_t *rsucc = reallocarray(NULL, (size_t)n + s->nroot_edges + 1, sizeof(*rsucc));
	struct frame *stack = reallocarray(NULL, (size_t)n + 1, sizeof(*stack));
	uint64_t *retained = reallocarray(NULL, (size_t)n + 1, sizeof(*retained));
	uint32_t *rcount = reallocarray(NULL, (size_t)n + 1, sizeof(*rcount));
	if (!idom || !po || !order || !rsucc || !stack || !retained || !rcount) {
		free(rcount);
		free(idom);
		free(po);
		free(order);
		free(rsucc);
		free(stack);
		free(retained);
		return &ph_error_nomem;
	}
	// R's successors: the starts of paths, the targets of root edges.
	uint32_t nr = 0;
	for (uint32_t i = 0; i < n; i++)
		if (is_start(g, i))
			rsucc[nr++] = i;
	for (size_t e = 0; e < s->nroot_edges; e++)
		if (s->root_edges[e].target < n)
			rsucc[nr++] = s->root_edges[e].target;
	// Depth first from R: postorder numbers (UNDEF: not reached).
	for (uint32_t i = 0; i <= n; i++) {
		po[i] = UNDEF;
		idom[i] = UNDEF;
	}
	uint32_t count = 0, depth = 0;
	stack[depth++] = (struct frame){root, 0};
	po[root] = UNDEF - 1; // (on the stack: seen)
	while (depth) {
		struct frame *f = &stack[depth - 1];
		uint32_t u = f->node, v = UNDEF;
		if (u == root) {
			while (f->next < nr && v == UNDEF) {
				uint32_t c = rsucc[f->next++];
				if (po[c] == UNDEF)
					v = c;
			}
		} else {
			uint32_t end = s->edge_start[u + 1];
			while (s->edge_start[u] + f->next < end && v == UNDEF) {
				uint32_t c = s->edges[s->edge_start[u] + f->next++].target;
				if (c < n && po[c] == UNDEF)
					v = c;
			}
		}
		if (v != UNDEF) {
			po[v] = UNDEF - 1;
			stack[depth++] = (struct frame){v, 0};
		} else {
			po[u] = count;
			order[count++] = u;
			depth--;
		}
	}
	free(stack);
	free(rsucc);
	// Reverse postorder, refined until stable.
	idom[root] = root;
	bool changed = true;
	for (int pass = 0; changed && pass < MAX_PASSES; pass++) {
		changed = false;
		for (uint32_t k = count - 1; k-- > 0;) {
			uint32_t b = order[k], best = is_start(g, b) ? root : UNDEF;
			for (uint32_t j = g->in_start[b]; j < g->in_start[b + 1] && best != root; j++) {
				uint32_t src = g->in_src[j];
				uint32_t p = src & PH_IN_ROOT ? root : g->edge_from[src];
				if (p >= n + 1 || idom[p] == UNDEF || po[p] >= UNDEF - 1)
					continue;
				best = best == UNDEF ? p : intersect(idom, po, p, best);
			}
			if (best != UNDEF && idom[b] != best) {
				idom[b] = best;
				changed = true;
			}
		}
	}
	// Retained sizes: each object's own, added to its dominator's after
	// its dominated ones' (a dominator finishes after what it dominates).
	for (uint32_t i = 0; i < n; i++) {
		retained[i] = s->objects[i].size;
		rcount[i] = 1;
	}
	retained[root] = 0;
	rcount[root] = 0;
	for (uint32_t k = 0; k + 1 < count; k++) {
		uint32_t v = order[k], d = idom[v];
		if (d != UNDEF && d != root) {
			retained[d] += retained[v];
			rcount[d] += rcount[v];
		}
	}
	free(order);
	free(po);
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] == root || idom[i] == UNDEF)
			idom[i] = PH_NONE;
	ret->n = n;
	ret->idom = idom;
	ret->retained = retained;
	ret->retained_count = rcount;
	return NULL;
}

static int by_retained(const void *a, const void *b, void *arg)
{
	const uint64_t *r = arg;
	uint64_t x = r[*(const uint32_t *)a], y = r[*(const uint32_t *)b];
	if (x != y)
		return x > y ? -1 : 1;
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

struct ph_error *ph_dominators_top(const struct ph_dominators *d, size_t limit, uint32_t **ret,
				   size_t *nret)
{
	uint32_t *all = reallocarray(NULL, d->n ? d->n : 1, sizeof(*all));
	if (!all)
		return &ph_error_nomem;
	for (uint32_t i = 0; i < d->n; i++)
		all[i] = i;
	qsort_r(all, d->n, sizeof(*all), by_retained, d->retained);
	*nret = limit < d->n ? limit : d->n;
	*ret = all;
	return NULL;
}

void ph_dominators_deinit(struct ph_dominators *d)
{
	free(d->idom);
	free(d->retained);
	free(d->retained_count);
	memset(d, 0, sizeof(*d));
}
