/* SPDX-License-Identifier: MIT */
#include "dominators.h"

#include <stdlib.h>
#include <string.h>

/*
 * Cooper, Harvey and Kennedy's iterative algorithm ("A Simple, Fast Dominance
 * Algorithm", 2001) over the objects, a node per root (its object and the
 * targets of its edges are its successors) and a virtual root R (index
 * n + nroots) whose successors are the roots and the other starts of the
 * snapshot's paths (static types, what native code holds): a depth-first
 * numbering from R, then each node's immediate dominator refined in reverse
 * postorder from its predecessors until nothing changes (two or three passes
 * on a heap). A thread's roots (its frames, state dict, handled exceptions,
 * hooks: those with a thread id) hang from a node of that thread (index
 * n + nroots + t) between them and R: what the thread alone keeps alive, the
 * objects its roots share included (Eclipse MAT's retained heap of a thread).
 */

enum { MAX_PASSES = 1000 }; /* (it converges long before; a bound all the same) */

#define UNDEF UINT32_MAX
#define SKIP (UINT32_MAX - 2) /* a successor that is no node (a root without object) */

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

struct nodes {
	const struct ph_graph *g;
	const struct ph_snapshot *s;
	uint32_t n, nroots, root;  /* objects, roots, R */
	uint32_t *obj_root;        /* per object: the first root whose object it is */
	uint32_t *next_root;       /* per root: the next root of the same object */
	uint32_t *edge_root;       /* per root edge: its root */
	uint32_t *rsucc;           /* R's successors */
	uint32_t nr;
	uint32_t nthreads;         /* thread nodes: n + nroots + t */
	uint32_t *troots;          /* the threads' roots, by thread */
	uint32_t *tstart;          /* thread t's: troots[tstart[t]..tstart[t + 1]) */
};

// Successor @k of node @u, UNDEF past the last (SKIP: none at @k).
static uint32_t successor(const struct nodes *x, uint32_t u, uint32_t k)
{
	const struct ph_snapshot *s = x->s;
	if (u == x->root)
		return k < x->nr ? x->rsucc[k] : UNDEF;
	if (u >= x->n + x->nroots) {
		uint32_t th = u - x->n - x->nroots;
		return x->tstart[th] + k < x->tstart[th + 1] ? x->n + x->troots[x->tstart[th] + k]
							     : UNDEF;
	}
	uint32_t t;
	if (u >= x->n) {
		const struct ph_root *rt = &s->roots[u - x->n];
		if (k == 0)
			t = rt->object;
		else if (rt->edge_start + k - 1 < rt->edge_end)
			t = s->root_edges[rt->edge_start + k - 1].target;
		else
			return UNDEF;
	} else {
		uint32_t e = s->edge_start[u] + k;
		if (e >= s->edge_start[u + 1])
			return UNDEF;
		t = s->edges[e].target;
	}
	return t < x->n ? t : SKIP; // (an object, never a root's node)
}

static int by_id(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

// The distinct thread ids of @s's roots, sorted, into *@ids (malloc'ed; NULL
// when there are none); their number. False: out of memory.
static bool thread_ids(const struct ph_snapshot *s, uint64_t **ids, uint32_t *n)
{
	*ids = NULL;
	*n = 0;
	uint64_t *v = reallocarray(NULL, s->nroots ? s->nroots : 1, sizeof(*v));
	if (!v)
		return false;
	size_t k = 0;
	for (size_t r = 0; r < s->nroots; r++)
		if (s->roots[r].thread_id)
			v[k++] = s->roots[r].thread_id;
	qsort(v, k, sizeof(*v), by_id);
	size_t u = 0;
	for (size_t i = 0; i < k; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	if (!u) {
		free(v);
		return true;
	}
	*ids = v;
	*n = (uint32_t)u;
	return true;
}

// Index of thread @id in @ids (sorted), or PH_NONE.
static uint32_t thread_index(const uint64_t *ids, uint32_t n, uint64_t id)
{
	const uint64_t *p = id && n ? bsearch(&id, ids, n, sizeof(*ids), by_id) : NULL;
	return p ? (uint32_t)(p - ids) : PH_NONE;
}

struct ph_error *ph_dominators_compute(const struct ph_graph *g, struct ph_dominators *ret)
{
	const struct ph_snapshot *s = g->snap;
	memset(ret, 0, sizeof(*ret));
	if (s->nobjects + 2 * s->nroots >= UINT32_MAX - 2)
		return &ph_error_nomem;
	struct nodes x = {.g = g, .s = s, .n = (uint32_t)s->nobjects, .nroots = (uint32_t)s->nroots};
	uint64_t *tids = NULL;
	if (!thread_ids(s, &tids, &x.nthreads))
		return &ph_error_nomem;
	uint32_t n = x.n, total = n + x.nroots + x.nthreads + 1, root = total - 1;
	x.root = root;
	uint32_t *idom = reallocarray(NULL, total, sizeof(*idom));
	uint32_t *po = reallocarray(NULL, total, sizeof(*po));
	uint32_t *order = reallocarray(NULL, total, sizeof(*order));
	struct frame *stack = reallocarray(NULL, total, sizeof(*stack));
	uint64_t *retained = reallocarray(NULL, total, sizeof(*retained));
	uint32_t *rcount = reallocarray(NULL, total, sizeof(*rcount));
	x.rsucc = reallocarray(NULL, total, sizeof(*x.rsucc));
	x.obj_root = reallocarray(NULL, n ? n : 1, sizeof(*x.obj_root));
	x.next_root = reallocarray(NULL, x.nroots ? x.nroots : 1, sizeof(*x.next_root));
	x.edge_root = reallocarray(NULL, s->nroot_edges ? s->nroot_edges : 1, sizeof(*x.edge_root));
	x.troots = reallocarray(NULL, x.nroots ? x.nroots : 1, sizeof(*x.troots));
	x.tstart = calloc((size_t)x.nthreads + 1, sizeof(*x.tstart));
	uint32_t *rthread = reallocarray(NULL, x.nroots ? x.nroots : 1, sizeof(*rthread));
	struct ph_error *err = NULL;
	if (!idom || !po || !order || !stack || !retained || !rcount || !x.rsucc || !x.obj_root ||
	    !x.next_root || !x.edge_root || !x.troots || !x.tstart || !rthread) {
		err = &ph_error_nomem;
		goto out;
	}
	// Each thread's roots, in the roots' order (a counting sort).
	for (uint32_t r = 0; r < x.nroots; r++) {
		rthread[r] = thread_index(tids, x.nthreads, s->roots[r].thread_id);
		if (rthread[r] != PH_NONE)
			x.tstart[rthread[r] + 1]++;
	}
	for (uint32_t t = 0; t < x.nthreads; t++)
		x.tstart[t + 1] += x.tstart[t];
	for (uint32_t t = 0; t < x.nthreads; t++)
		po[t] = x.tstart[t]; // (a cursor per thread, before the numbering below)
	for (uint32_t r = 0; r < x.nroots; r++)
		if (rthread[r] != PH_NONE)
			x.troots[po[rthread[r]]++] = r;
	for (uint32_t i = 0; i < n; i++)
		x.obj_root[i] = PH_NONE;
	for (size_t e = 0; e < s->nroot_edges; e++)
		x.edge_root[e] = PH_NONE;
	for (uint32_t r = x.nroots; r-- > 0;) {
		const struct ph_root *rt = &s->roots[r];
		x.next_root[r] = PH_NONE;
		if (rt->object < n) {
			x.next_root[r] = x.obj_root[rt->object];
			x.obj_root[rt->object] = r;
		}
		for (uint32_t e = rt->edge_start; e < rt->edge_end && e < s->nroot_edges; e++)
			x.edge_root[e] = r;
	}
	// R's successors: the roots, then the starts of paths no root holds
	// (static types, what native code holds).
	for (uint32_t t = 0; t < x.nthreads; t++)
		x.rsucc[x.nr++] = n + x.nroots + t;
	for (uint32_t r = 0; r < x.nroots; r++)
		if (rthread[r] == PH_NONE)
			x.rsucc[x.nr++] = n + r;
	for (uint32_t i = 0; i < n; i++)
		if (is_start(g, i) && x.obj_root[i] == PH_NONE)
			x.rsucc[x.nr++] = i;
	// Depth first from R: postorder numbers (UNDEF: not reached).
	for (uint32_t i = 0; i < total; i++) {
		po[i] = UNDEF;
		idom[i] = UNDEF;
	}
	uint32_t count = 0, depth = 0;
	stack[depth++] = (struct frame){root, 0};
	po[root] = UNDEF - 1; // (on the stack: seen)
	while (depth) {
		struct frame *f = &stack[depth - 1];
		uint32_t u = f->node, v = UNDEF;
		for (;;) {
			uint32_t c = successor(&x, u, f->next);
			if (c == UNDEF)
				break;
			f->next++;
			if (c < total && po[c] == UNDEF) {
				v = c;
				break;
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
	// Reverse postorder, refined until stable. (A root's only predecessor
	// is its thread's node, else R; a thread's is R.)
	idom[root] = root;
	for (uint32_t r = 0; r < x.nroots; r++)
		idom[n + r] = rthread[r] != PH_NONE ? n + x.nroots + rthread[r] : root;
	for (uint32_t t = 0; t < x.nthreads; t++)
		idom[n + x.nroots + t] = root;
	bool changed = true;
	for (int pass = 0; changed && pass < MAX_PASSES; pass++) {
		changed = false;
		for (uint32_t k = count - 1; k-- > 0;) {
			uint32_t b = order[k], best = UNDEF;
			if (b >= n)
				continue;
			if (is_start(g, b) && x.obj_root[b] == PH_NONE)
				best = root;
			for (uint32_t r = x.obj_root[b]; r != PH_NONE && best != root; r = x.next_root[r]) {
				uint32_t p = n + r;
				best = best == UNDEF ? p : intersect(idom, po, p, best);
			}
			for (uint32_t j = g->in_start[b]; j < g->in_start[b + 1] && best != root; j++) {
				uint32_t src = g->in_src[j];
				uint32_t p = src & PH_IN_ROOT ? x.edge_root[src & ~PH_IN_ROOT] : g->edge_from[src];
				if (src & PH_IN_ROOT && p != PH_NONE)
					p += n;
				if (p >= total || idom[p] == UNDEF || po[p] >= UNDEF - 1)
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
	for (uint32_t i = 0; i < total; i++) {
		retained[i] = i < n ? s->objects[i].size : 0;
		rcount[i] = i < n;
	}
	for (uint32_t k = 0; k + 1 < count; k++) {
		uint32_t v = order[k], d = idom[v];
		if (d != UNDEF && d != root) {
			retained[d] += retained[v];
			rcount[d] += rcount[v];
		}
	}
	for (uint32_t i = 0; i < n; i++)
		if (idom[i] >= n)
			idom[i] = PH_NONE; // (a root or R: no object dominates it)
	ret->n = n;
	ret->idom = idom;
	ret->retained = retained;
	ret->retained_count = rcount;
	ret->nroots = x.nroots;
	ret->nthreads = x.nthreads;
	ret->thread_ids = tids;
	idom = NULL;
	retained = NULL;
	rcount = NULL;
	tids = NULL;
out:
	free(tids);
	free(rthread);
	free(x.troots);
	free(x.tstart);
	free(idom);
	free(po);
	free(order);
	free(stack);
	free(retained);
	free(rcount);
	free(x.rsucc);
	free(x.obj_root);
	free(x.next_root);
	free(x.edge_root);
	return err;
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

uint32_t ph_dominators_thread(const struct ph_dominators *d, uint64_t id)
{
	return thread_index(d->thread_ids, d->nthreads, id);
}

void ph_dominators_deinit(struct ph_dominators *d)
{
	free(d->thread_ids);
	free(d->idom);
	free(d->retained);
	free(d->retained_count);
	memset(d, 0, sizeof(*d));
}

enum { UNSET = PH_NONE - 1 };

// The nearest row at or above each object in the dominator tree (PH_NONE: no
// row dominates it), each chain climbed once: what a climb finds is written
// back along it.
static void nearest_rows(const struct ph_dominators *d, uint32_t *near)
{
	uint32_t n = d->n;
	for (uint32_t v = 0; v < n; v++) {
		if (near[v] != UNSET)
			continue;
		uint32_t u = v, steps = 0;
		while (u < n && near[u] == UNSET && steps++ <= n)
			u = d->idom[u];
		uint32_t ans = u < n && near[u] != UNSET ? near[u] : PH_NONE;
		steps = 0;
		for (uint32_t w = v; w < n && near[w] == UNSET && steps++ <= n; w = d->idom[w])
			near[w] = ans;
	}
}

struct ph_error *ph_dominators_rows(const struct ph_snapshot *s, const struct ph_dominators *d,
				    const uint32_t *top, size_t n, size_t nkinds,
				    struct ph_retained_rows *ret)
{
	memset(ret, 0, sizeof(*ret));
	if (d->n != s->nobjects)
		return ph_error_create(PH_ERR_OTHER, "dominators of another snapshot");
	size_t k = nkinds < n ? nkinds : n, nslots = ph_kind_slots(s);
	// (At most 16M counters: a snapshot of millions of types, a crafted
	// file, gets fewer rows by kind, or none.)
	if (k && k > ((size_t)1 << 24) / nslots)
		k = ((size_t)1 << 24) / nslots;
	size_t nnear = d->n > 2 * k ? d->n : 2 * k; // (2k: reused below)
	uint32_t *near = reallocarray(NULL, nnear ? nnear : 1, sizeof(*near));
	uint32_t *within = reallocarray(NULL, n ? n : 1, sizeof(*within));
	uint32_t *to_row = reallocarray(NULL, n ? n : 1, sizeof(*to_row));
	struct ph_kind_acc *acc = k ? calloc(k * nslots, sizeof(*acc)) : NULL;
	struct ph_partition *kinds = k ? calloc(k, sizeof(*kinds)) : NULL;
	if (!near || !within || !to_row || (k && (!acc || !kinds))) {
		free(near);
		free(within);
		free(to_row);
		free(acc);
		free(kinds);
		return &ph_error_nomem;
	}
	for (uint32_t v = 0; v < d->n; v++)
		near[v] = UNSET;
	for (size_t r = 0; r < n; r++)
		if (top[r] < d->n)
			near[top[r]] = (uint32_t)r;
	nearest_rows(d, near);
	for (size_t r = 0; r < n; r++) {
		uint32_t up = top[r] < d->n ? d->idom[top[r]] : PH_NONE;
		within[r] = up < d->n ? near[up] : PH_NONE;
	}
	ret->n = n;
	ret->within = within;
	if (!k) {
		free(near);
		free(to_row);
		return NULL;
	}
	// Each row's objects count for the nearest of the first k rows at or
	// above it (a row past them adds to that one's by kind).
	for (size_t r = 0; r < n; r++) {
		uint32_t q = (uint32_t)r;
		for (size_t steps = 0; q != PH_NONE && q >= k && steps <= n; steps++)
			q = within[q];
		to_row[r] = q < k ? q : PH_NONE;
	}
	for (uint32_t v = 0; v < d->n; v++) {
		uint32_t r = near[v];
		if (r == PH_NONE || (r = to_row[r]) == PH_NONE)
			continue;
		struct ph_kind_acc *a = &acc[r * nslots + ph_kind_slot(s, v)];
		a->count++;
		a->size += s->objects[v].size;
	}
	// Then what a row retains: its own objects and those of the rows within
	// it, the deepest rows added to their parents first. (near[] now keeps
	// each of the first k rows' parent among them, then their depths.)
	uint32_t *parent = near, *depth = near + k;
	for (size_t r = 0; r < k; r++)
		parent[r] = within[r] == PH_NONE ? PH_NONE : to_row[within[r]];
	memcpy(to_row, parent, k * sizeof(*to_row));
	uint32_t maxdepth = 0;
	for (size_t r = 0; r < k; r++) {
		depth[r] = 0;
		for (uint32_t q = to_row[r]; q != PH_NONE && depth[r] < k; q = to_row[q])
			depth[r]++;
		if (depth[r] > maxdepth)
			maxdepth = depth[r];
	}
	for (uint32_t dd = maxdepth; dd > 0; dd--)
		for (size_t r = 0; r < k; r++) {
			uint32_t up = to_row[r];
			if (depth[r] != dd || up == PH_NONE || up == r)
				continue;
			for (size_t j = 0; j < nslots; j++) {
				acc[up * nslots + j].count += acc[r * nslots + j].count;
				acc[up * nslots + j].size += acc[r * nslots + j].size;
			}
		}
	free(near);
	free(to_row);
	struct ph_error *err = NULL;
	for (size_t r = 0; r < k && !err; r++)
		if (!(err = ph_partition_from_slots(s, &acc[r * nslots], &kinds[r])))
			ret->nkinds = r + 1;
	free(acc);
	ret->kinds = kinds;
	if (err)
		ph_retained_rows_deinit(ret);
	return err;
}

void ph_retained_rows_deinit(struct ph_retained_rows *r)
{
	for (size_t i = 0; i < r->nkinds; i++)
		ph_partition_deinit(&r->kinds[i]);
	free(r->kinds);
	free(r->within);
	memset(r, 0, sizeof(*r));
}
