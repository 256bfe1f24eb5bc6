/* SPDX-License-Identifier: MIT */
#include "graph.h"
#include "cgroup.h"
#include "thread.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A path start that is a static type object (not a snapshot root). */
#define STATIC_TYPE_ROOT 0x7ffffffeu

static bool edge_is_root(uint32_t e)
{
	return e != PH_NONE && (e & PH_IN_ROOT);
}

void ph_graph_deinit(struct ph_graph *g)
{
	free(g->in_start);
	free(g->in_src);
	free(g->edge_from);
	free(g->parent_edge);
	free(g->start_root);
	free(g->dist);
	free(g->reach);
	memset(g, 0, sizeof(*g));
}

// Breadth-first from queue[head, tail); returns the new end of the queue.
// The objects whose inferred edges were passed over (the sources of
// PH_EDGE_STATE and PH_EDGE_WORD edges), for a later round.
struct deferred {
	uint32_t *v;
	size_t n, cap;
	bool nomem;
};

static void defer(struct deferred *d, uint32_t u)
{
	if (d->n && d->v[d->n - 1] == u)
		return;
	if (d->n == d->cap) {
		size_t nc = d->cap ? d->cap * 2 : 64;
		uint32_t *n = reallocarray(d->v, nc, sizeof(*n));
		if (!n) {
			d->nomem = true;
			return;
		}
		d->v = n;
		d->cap = nc;
	}
	d->v[d->n++] = u;
}

// Breadth-first over forward edges; with @d, the inferred edges (from C
// module states and undeclared fields of C objects) are left for later (a
// module's own names, one hop further through its __dict__, read better; a
// named reference is surer), their sources noted in @d.
static size_t bfs(struct ph_graph *g, uint32_t *queue, size_t head, size_t tail,
		  struct deferred *d)
{
	const struct ph_snapshot *s = g->snap;
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint32_t e = s->edge_start[u]; e < s->edge_start[u + 1]; e++) {
			uint32_t v = s->edges[e].target;
			if (g->dist[v] != UINT32_MAX)
				continue;
			if (d && ph_edge_inferred(s->edges[e].label)) {
				defer(d, u);
				continue;
			}
			g->dist[v] = g->dist[u] + 1;
			g->parent_edge[v] = e;
			g->start_root[v] = g->start_root[u];
			g->reach[v] = g->reach[u];
			queue[tail++] = v;
		}
	}
	return tail;
}

// References to @o that no edge accounts for, given its @in incoming edges.
static uint64_t unaccounted(const struct ph_object *o, uint64_t in)
{
	if (o->flags & PH_OBJ_IMMORTAL)
		return 0;
	return o->refcnt > in ? o->refcnt - in : 0;
}

struct ph_error *ph_graph_retained_set(const struct ph_graph *g, const uint8_t *in_set,
				       uint64_t *objects, uint64_t *size)
{
	const struct ph_snapshot *s = g->snap;
	size_t n = s->nobjects;
	uint8_t *seen = calloc(n ? n : 1, 1);
	uint32_t *queue = reallocarray(NULL, n ? n : 1, sizeof(*queue));
	if (!seen || !queue) {
		free(seen);
		free(queue);
		return &ph_error_nomem;
	}
	// Everything the starts of paths (static types, what native code
	// holds), the roots' objects and the roots' edges reach without
	// entering the set.
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < n; i++)
		if (g->parent_edge[i] == PH_NONE && g->dist[i] != UINT32_MAX && !in_set[i]) {
			seen[i] = 1;
			queue[tail++] = (uint32_t)i;
		}
	for (size_t r = 0; r < s->nroots; r++) {
		uint32_t t = s->roots[r].object;
		if (t < n && !in_set[t] && !seen[t]) {
			seen[t] = 1;
			queue[tail++] = t;
		}
	}
	for (size_t e = 0; e < s->nroot_edges; e++) {
		uint32_t t = s->root_edges[e].target;
		if (t < n && !in_set[t] && !seen[t]) {
			seen[t] = 1;
			queue[tail++] = t;
		}
	}
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint32_t e = s->edge_start[u]; e < s->edge_start[u + 1]; e++) {
			uint32_t t = s->edges[e].target;
			if (t < n && !in_set[t] && !seen[t]) {
				seen[t] = 1;
				queue[tail++] = t;
			}
		}
	}
	uint64_t count = 0, bytes = 0;
	for (size_t i = 0; i < n; i++)
		if (in_set[i] || (!seen[i] && g->dist[i] != UINT32_MAX)) {
			count++;
			bytes += s->objects[i].size;
		}
	free(seen);
	free(queue);
	*objects = count;
	*size = bytes;
	return NULL;
}

uint64_t ph_graph_unaccounted(const struct ph_graph *g, uint32_t i)
{
	return unaccounted(&g->snap->objects[i], g->in_start[i + 1] - g->in_start[i]);
}

// Marks what the objects on @stack reach (each object is pushed once, when
// it is marked: the stack needs room for one entry per object).
static void mark_dfs(const struct ph_snapshot *s, uint8_t *seen, uint32_t *stack, size_t top)
{
	while (top) {
		uint32_t u = stack[--top];
		for (uint32_t e = s->edge_start[u]; e < s->edge_start[u + 1]; e++) {
			uint32_t v = s->edges[e].target;
			if (!seen[v]) {
				seen[v] = 1;
				stack[top++] = v;
			}
		}
	}
}

// Marks what the objects marked in @seen reach, in one pass in index order
// from @from (objects before it are marked, with all they reach): the walk's
// order, in which nearly every object comes after a referrer, so that the
// edges are read in order and the few objects found behind the pass go
// through @stack (room for one entry per object; it is hardly touched).
static void mark_sweep(const struct ph_snapshot *s, uint8_t *seen, uint32_t *stack, size_t from)
{
	size_t n = s->nobjects;
	for (size_t i = from; i < n; i++) {
		if (!seen[i])
			continue;
		size_t top = 0;
		uint32_t u = (uint32_t)i;
		for (;;) {
			for (uint32_t e = s->edge_start[u]; e < s->edge_start[u + 1]; e++) {
				uint32_t v = s->edges[e].target;
				if (!seen[v]) {
					seen[v] = 1;
					if (v < i)
						stack[top++] = v;
				}
			}
			if (!top)
				break;
			u = stack[--top];
		}
	}
}

// The first object from @i on that @seen does not mark (@n if none): eight
// at a time, as nearly every object is marked.
static size_t next_unseen(const uint8_t *seen, size_t i, size_t n)
{
	for (; i < n && (i & 7); i++)
		if (!seen[i])
			return i;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, seen + i, 8);
		if (w != 0x0101010101010101ull)
			break;
	}
	for (; i < n; i++)
		if (!seen[i])
			return i;
	return n;
}

// The round of ph_graph_reach()'s first phase that starts from a root of
// this kind (static types come last, in round 3).
static int root_round(enum ph_root_kind kind)
{
	switch (kind) {
	case PH_ROOT_MODULES:
	case PH_ROOT_SYS:
	case PH_ROOT_BUILTINS:
		return 0;
	case PH_ROOT_FRAME:
	case PH_ROOT_CONTEXT:
		return 1;
	default: // what the interpreter and threads hold outside objects
		return 2;
	}
}

struct ph_error *ph_graph_reach(const struct ph_snapshot *snap, struct ph_graph *ret)
{
	struct ph_graph g = {.snap = snap};
	size_t n = snap->nobjects;
	uint32_t *indeg = calloc(n + 1, sizeof(uint32_t));
	uint32_t *stack = malloc((n + 1) * sizeof(uint32_t));
	uint8_t *seen = calloc(n + 1, 1);
	if (!indeg || !stack || !seen) {
		free(indeg);
		free(stack);
		free(seen);
		return &ph_error_nomem;
	}
	// Marked: the roots, then what they reach (known from the walk when it
	// found that first: nothing of it is read again).
	size_t closed = snap->root_closure <= n ? snap->root_closure : 0;
	memset(seen, 1, closed);
	for (size_t e = 0; e < snap->nroot_edges; e++)
		seen[snap->root_edges[e].target] = 1;
	for (size_t r = 0; r < snap->nroots; r++)
		if (snap->roots[r].object != PH_NONE)
			seen[snap->roots[r].object] = 1;
	mark_sweep(snap, seen, stack, closed);
	// Then the static types (roots too) that those do not reach: the flags of
	// the few objects not reached yet are all that is read.
	size_t top = 0;
	for (size_t i = next_unseen(seen, 0, n); i < n; i = next_unseen(seen, i + 1, n))
		if (snap->objects[i].flags & PH_OBJ_STATIC_TYPE) {
			seen[i] = 1;
			stack[top++] = (uint32_t)i;
		}
	mark_dfs(snap, seen, stack, top);
	// The references to each object not reached (root edges lead to reached
	// ones): where its reference count says more, native code holds it.
	// Every edge of a reached object leads to a reached one: only the edges
	// of the objects not reached are counted (few, against every edge).
	for (size_t i = next_unseen(seen, 0, n); i < n; i = next_unseen(seen, i + 1, n))
		for (uint32_t e = snap->edge_start[i]; e < snap->edge_start[i + 1]; e++)
			if (!seen[snap->edges[e].target])
				indeg[snap->edges[e].target]++;
	top = 0;
	for (size_t i = next_unseen(seen, 0, n); i < n; i = next_unseen(seen, i + 1, n))
		if (unaccounted(&snap->objects[i], indeg[i]) > 0) {
			seen[i] = 1;
			g.native_held++;
			stack[top++] = (uint32_t)i;
		}
	mark_dfs(snap, seen, stack, top);
	for (size_t i = next_unseen(seen, 0, n); i < n; i = next_unseen(seen, i + 1, n)) {
		g.garbage_objects++;
		g.garbage_size += snap->objects[i].size;
	}
	free(indeg);
	free(stack);
	free(seen);
	*ret = g;
	return NULL;
}

// How well module @m names object @v, defined as @def (a class's or a
// function's module-qualified name, or its own __module__ when @exact):
// the length of @m when @def is @m's or within it, else 0.
static size_t defines(const char *m, const char *def, bool exact)
{
	size_t k = m && def ? strlen(m) : 0;
	if (!k || strncmp(def, m, k))
		return 0;
	return def[k] == '\0' || (!exact && def[k] == '.') ? k : 0;
}

static int by_object_pair(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;
	return (x[0] > y[0]) - (x[0] < y[0]);
}

// An object imported from one module into others is in each one's
// globals, all at the same distance from sys.modules: of those, its path
// names the module that defines it (a class's or a function's, an
// instance's class's: trio._core._run.GLOBAL_RUN_CONTEXT rather than the
// module listed first in sys.modules that imported it), where one does.
// Only the last hop changes: distances and what follows stay. (Out of
// memory, paths stay as found.)
// The type objects found, (object, type index), sorted by object; NULL when
// out of memory.
static uint32_t (*type_objects(const struct ph_snapshot *s, size_t *n))[2]
{
	uint32_t(*t)[2] = reallocarray(NULL, s->ntypes + 1, sizeof(*t));
	if (!t)
		return NULL;
	*n = 0;
	for (size_t i = 0; i < s->ntypes; i++)
		if (s->types[i].object < s->nobjects) {
			t[*n][0] = s->types[i].object;
			t[(*n)++][1] = (uint32_t)i;
		}
	qsort(t, *n, sizeof(*t), by_object_pair);
	return t;
}

static const char *module_dict_name(const struct ph_snapshot *s, uint32_t d);
static uint32_t dict_lookup(const struct ph_snapshot *s, uint32_t d, const char *key);

static void prefer_defining_modules(struct ph_graph *g)
{
	const struct ph_snapshot *s = g->snap;
	size_t n = s->nobjects;
	uint32_t (*tobj)[2] = NULL; // (type object, type index), by object
	size_t ntobj = 0;
	for (size_t v = 0; v < n; v++) {
		uint32_t e = g->parent_edge[v];
		if (e == PH_NONE || edge_is_root(e) || PH_EDGE_KIND(s->edges[e].label) != PH_EDGE_DICT_VALUE)
			continue;
		uint32_t u = g->edge_from[e];
		if (!(s->objects[u].flags & PH_OBJ_MODULE_DICT) ||
		    g->in_start[v + 1] - g->in_start[v] < 2)
			continue;
		const char *def = NULL;
		bool exact = false;
		size_t best = 0;
		for (uint32_t k = g->in_start[v]; k < g->in_start[v + 1]; k++) {
			uint32_t f = g->in_src[k];
			if (f == e || edge_is_root(f) || PH_EDGE_KIND(s->edges[f].label) != PH_EDGE_DICT_VALUE)
				continue;
			uint32_t w = g->edge_from[f];
			if (!(s->objects[w].flags & PH_OBJ_MODULE_DICT) || g->dist[w] != g->dist[u] ||
			    g->start_root[w] != g->start_root[u])
				continue;
			if (!def) {
				// Its definition: a class's name, a function's
				// __module__, else its class's name.
				if (!tobj && !(tobj = type_objects(s, &ntobj)))
					return;
				uint32_t key[2] = {(uint32_t)v, 0};
				const uint32_t *to = bsearch(key, tobj, ntobj, sizeof(*tobj), by_object_pair);
				uint32_t mod = to ? PH_NONE : ph_graph_field(s, (uint32_t)v, PH_F_MODULE);
				// (A class with no instance found: its own __module__.)
				if (!to && mod == PH_NONE &&
				    ph_graph_field(s, (uint32_t)v, PH_F_HT_NAME) != PH_NONE)
					mod = dict_lookup(s, ph_graph_field(s, (uint32_t)v, PH_F_TP_DICT),
							  "__module__");
				const char *mt = mod != PH_NONE ? ph_snapshot_text(s, mod) : NULL;
				exact = mt != NULL;
				def = to ? s->types[to[1]].name : mt ? mt : s->types[s->objects[v].type].name;
				if (!def)
					break;
				best = defines(module_dict_name(s, u), def, exact);
			}
			size_t d = defines(module_dict_name(s, w), def, exact);
			if (d > best) {
				best = d;
				g->parent_edge[v] = f;
			}
		}
	}
	free(tobj);
}

struct ph_error *ph_graph_build(const struct ph_snapshot *snap, struct ph_graph *ret)
{
	struct ph_graph g = {.snap = snap};
	size_t n = snap->nobjects;
	g.in_start = calloc(n + 2, sizeof(uint32_t));
	g.in_src = malloc((snap->nedges + snap->nroot_edges + 1) * sizeof(uint32_t));
	g.edge_from = malloc((snap->nedges + 1) * sizeof(uint32_t));
	g.parent_edge = malloc((n + 1) * sizeof(uint32_t));
	g.start_root = malloc((n + 1) * sizeof(uint32_t));
	g.dist = malloc((n + 1) * sizeof(uint32_t));
	g.reach = calloc(n + 1, 1);
	uint32_t *queue = malloc((n + 1) * sizeof(uint32_t));
	if (!g.in_start || !g.in_src || !g.edge_from || !g.parent_edge || !g.start_root || !g.dist ||
	    !g.reach || !queue) {
		free(queue);
		ph_graph_deinit(&g);
		return &ph_error_nomem;
	}
	// Incoming edges (counting sort by target).
	for (size_t u = 0; u < n; u++)
		for (uint32_t e = snap->edge_start[u]; e < snap->edge_start[u + 1]; e++) {
			g.edge_from[e] = (uint32_t)u;
			g.in_start[snap->edges[e].target + 1]++;
		}
	for (size_t e = 0; e < snap->nroot_edges; e++)
		g.in_start[snap->root_edges[e].target + 1]++;
	for (size_t i = 0; i < n; i++)
		g.in_start[i + 1] += g.in_start[i];
	uint32_t *fill = malloc((n + 1) * sizeof(uint32_t));
	if (!fill) {
		free(queue);
		ph_graph_deinit(&g);
		return &ph_error_nomem;
	}
	memcpy(fill, g.in_start, (n + 1) * sizeof(uint32_t));
	for (size_t e = 0; e < snap->nedges; e++)
		g.in_src[fill[snap->edges[e].target]++] = (uint32_t)e;
	for (size_t e = 0; e < snap->nroot_edges; e++)
		g.in_src[fill[snap->root_edges[e].target]++] = PH_IN_ROOT | (uint32_t)e;
	free(fill);

	for (size_t i = 0; i < n; i++) {
		g.parent_edge[i] = PH_NONE;
		g.start_root[i] = PH_NONE;
		g.dist[i] = UINT32_MAX;
	}
	// Phase 1, in four rounds so that the names a programmer expects win
	// even over shorter chains: (a) sys.modules, sys and builtins; (b) thread
	// frames and contexts (before 3.11 a frame reaches every global through
	// f_globals in one hop); (c) what the interpreter holds outside objects
	// (atexit, codecs, audit hooks, trace and profile functions); (d) static
	// types.
	size_t tail = 0, head = 0;
	struct deferred later = {0};
	// Distances keep growing from round to round, so that they order objects
	// by how early a path found them (the reference pattern sorts by it).
	uint32_t base = 0;
	for (int round = 0; round < 4; round++) {
		for (size_t r = 0; r < snap->nroots; r++) {
			const struct ph_root *rt = &snap->roots[r];
			if (root_round(rt->kind) != round)
				continue;
			uint32_t o = rt->object;
			if (o != PH_NONE && g.dist[o] == UINT32_MAX) {
				g.dist[o] = base;
				g.start_root[o] = (uint32_t)r;
				g.reach[o] = PH_REACH_ROOT;
				queue[tail++] = o;
			}
			for (uint32_t e = rt->edge_start; e < rt->edge_end; e++) {
				o = snap->root_edges[e].target;
				if (g.dist[o] != UINT32_MAX)
					continue;
				g.dist[o] = base + 1;
				g.start_root[o] = (uint32_t)r;
				g.parent_edge[o] = PH_IN_ROOT | e;
				g.reach[o] = PH_REACH_ROOT;
				queue[tail++] = o;
			}
		}
		for (size_t i = 0; round == 3 && i < n; i++) {
			if ((snap->objects[i].flags & PH_OBJ_STATIC_TYPE) && g.dist[i] == UINT32_MAX) {
				g.dist[i] = base;
				g.start_root[i] = STATIC_TYPE_ROOT;
				g.reach[i] = PH_REACH_ROOT;
				queue[tail++] = (uint32_t)i;
			}
		}
		tail = bfs(&g, queue, head, tail, &later);
		if (tail > 0 && g.dist[queue[tail - 1]] != UINT32_MAX)
			base = g.dist[queue[tail - 1]] + 1;
		head = tail;
	}
	// Then what only inferred edges reach: C module states, undeclared
	// fields of C objects (and what that holds).
	for (size_t k = 0; k < later.n; k++) {
		uint32_t u = later.v[k];
		for (uint32_t e = snap->edge_start[u]; e < snap->edge_start[u + 1]; e++) {
			uint32_t v = snap->edges[e].target;
			if (!ph_edge_inferred(snap->edges[e].label) ||
			    g.dist[v] != UINT32_MAX)
				continue;
			g.dist[v] = base; // (>= the path's length: base passed u's distance)
			g.parent_edge[v] = e;
			g.start_root[v] = g.start_root[u];
			g.reach[v] = g.reach[u];
			queue[tail++] = v;
		}
	}
	free(later.v);
	if (later.nomem) {
		free(queue);
		ph_graph_deinit(&g);
		return &ph_error_nomem;
	}
	tail = bfs(&g, queue, head, tail, NULL);
	if (tail > head)
		base = g.dist[queue[tail - 1]] + 1;
	head = tail;
	// Phase 2: what only native code holds (references the graph cannot
	// account for), and what those objects hold.
	for (size_t i = 0; i < n; i++) {
		if (g.dist[i] == UINT32_MAX && ph_graph_unaccounted(&g, (uint32_t)i) > 0) {
			g.dist[i] = base;
			g.reach[i] = PH_REACH_NATIVE;
			g.native_held++;
			queue[tail++] = (uint32_t)i;
		}
	}
	bfs(&g, queue, head, tail, NULL);
	for (size_t i = 0; i < n; i++) {
		if (g.dist[i] == UINT32_MAX) {
			g.garbage_objects++;
			g.garbage_size += snap->objects[i].size;
		}
	}
	free(queue);
	prefer_defining_modules(&g);
	*ret = g;
	return NULL;
}

struct ph_reach_job {
	const struct ph_snapshot *snap;
	pthread_t thread;
	bool threaded;
	struct ph_graph g;
	struct ph_error *err;
};

static void *reach_thread(void *arg)
{
	struct ph_reach_job *job = arg;
	job->err = ph_graph_reach(job->snap, &job->g);
	return NULL;
}

struct ph_error *ph_graph_reach_start(const struct ph_snapshot *snap, struct ph_reach_job **ret)
{
	struct ph_reach_job *job = calloc(1, sizeof(*job));
	if (!job)
		return &ph_error_nomem;
	job->snap = snap;
	job->threaded = ph_cpus() >= 2 && ph_thread_start(&job->thread, reach_thread, job);
	if (!job->threaded)
		reach_thread(job);
	*ret = job;
	return NULL;
}

struct ph_error *ph_graph_reach_join(struct ph_reach_job *job, struct ph_graph *ret)
{
	if (job->threaded)
		pthread_join(job->thread, NULL);
	struct ph_error *err = job->err;
	if (!err)
		*ret = job->g;
	free(job);
	return err;
}

/* ---- labels ---- */

// The target of @obj's first edge labelled @label (PH_NONE: none).
static uint32_t label_target(const struct ph_snapshot *s, uint32_t obj, uint32_t label)
{
	if (obj >= s->nobjects)
		return PH_NONE;
	for (uint32_t e = s->edge_start[obj]; e < s->edge_start[obj + 1]; e++)
		if (s->edges[e].label == label)
			return s->edges[e].target;
	return PH_NONE;
}

uint32_t ph_graph_field(const struct ph_snapshot *s, uint32_t obj, enum ph_field f)
{
	return label_target(s, obj, PH_EDGE(PH_EDGE_FIELD, f));
}

static uint32_t index_target(const struct ph_snapshot *s, uint32_t obj, uint32_t i)
{
	return label_target(s, obj, PH_EDGE(PH_EDGE_INDEX, i));
}

static uint32_t count_index_edges(const struct ph_snapshot *s, uint32_t obj)
{
	if (obj == PH_NONE)
		return 0;
	uint32_t n = 0;
	for (uint32_t e = s->edge_start[obj]; e < s->edge_start[obj + 1]; e++)
		n += PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_INDEX;
	return n;
}

// The key of entry @i of dict @d.
static uint32_t dict_key(const struct ph_snapshot *s, uint32_t d, uint32_t i)
{
	for (uint32_t e = s->edge_start[d]; e < s->edge_start[d + 1]; e++)
		if (s->edges[e].label == PH_EDGE(PH_EDGE_DICT_KEY, i))
			return s->edges[e].target;
	return PH_NONE;
}

// The value of dict @d under the str key @key, or PH_NONE.
static uint32_t dict_lookup(const struct ph_snapshot *s, uint32_t d, const char *key)
{
	if (d == PH_NONE)
		return PH_NONE;
	for (uint32_t e = s->edge_start[d]; e < s->edge_start[d + 1]; e++) {
		if (PH_EDGE_KIND(s->edges[e].label) != PH_EDGE_DICT_KEY)
			continue;
		const char *t = ph_snapshot_text(s, s->edges[e].target);
		if (!t || strcmp(t, key))
			continue;
		uint32_t want = PH_EDGE(PH_EDGE_DICT_VALUE, PH_EDGE_PAYLOAD(s->edges[e].label));
		for (uint32_t f = s->edge_start[d]; f < s->edge_start[d + 1]; f++)
			if (s->edges[f].label == want)
				return s->edges[f].target;
	}
	return PH_NONE;
}

// An attribute of an instance, whatever its storage.
uint32_t ph_graph_attr(const struct ph_snapshot *s, uint32_t obj, const char *name)
{
	const struct ph_type *t = &s->types[s->objects[obj].type];
	for (uint32_t e = s->edge_start[obj]; e < s->edge_start[obj + 1]; e++) {
		uint32_t l = s->edges[e].label, p = PH_EDGE_PAYLOAD(l);
		if (PH_EDGE_KIND(l) == PH_EDGE_ATTR && p < t->nattr_names &&
		    !strcmp(t->attr_names[p], name))
			return s->edges[e].target;
		if (PH_EDGE_KIND(l) == PH_EDGE_SLOT && p < t->nslot_names &&
		    !strcmp(t->slot_names[p], name))
			return s->edges[e].target;
	}
	return dict_lookup(s, ph_graph_field(s, obj, PH_F_DICT), name);
}

static const char *module_dict_name(const struct ph_snapshot *s, uint32_t d)
{
	uint32_t v = dict_lookup(s, d, "__name__");
	return v != PH_NONE ? ph_snapshot_text(s, v) : NULL;
}

// The sys.modules dict (the root's), or PH_NONE.
static uint32_t modules_dict(const struct ph_snapshot *s)
{
	for (size_t r = 0; r < s->nroots; r++)
		if (s->roots[r].kind == PH_ROOT_MODULES)
			return s->roots[r].object;
	return PH_NONE;
}

// threading._active[tid]._name, if the threading module is loaded.
static const char *thread_name(const struct ph_snapshot *s, uint64_t tid)
{
	uint32_t mod = dict_lookup(s, modules_dict(s), "threading");
	if (mod == PH_NONE)
		return NULL;
	uint32_t active = dict_lookup(s, ph_graph_field(s, mod, PH_F_DICT), "_active");
	char key[32];
	snprintf(key, sizeof(key), "%llu", (unsigned long long)tid);
	uint32_t thread = dict_lookup(s, active, key);
	if (thread == PH_NONE)
		return NULL;
	uint32_t name = ph_graph_attr(s, thread, "_name");
	return name != PH_NONE ? ph_snapshot_text(s, name) : NULL;
}

const char *ph_graph_short_file(const char *p)
{
	if (!p)
		return "?";
	// (The last such directory: a virtualenv's within a prefix's.)
	const char *best = NULL;
	for (const char *q = p; (q = strstr(q, "-packages/")); q++)
		if (q - p >= 5 && (!strncmp(q - 5, "/site", 5) || !strncmp(q - 5, "/dist", 5)))
			best = q + 10;
	if (best && *best)
		return best;
	// The standard library's: lib/pythonX.Y/ (lib/python3/ is Debian's dist-packages').
	for (const char *q = p; (q = strstr(q, "/lib/python")); q++) {
		const char *v = q + 11;
		size_t n = strspn(v, "0123456789.t");
		if (n && v[n] == '/' && strchr(v + n + 1, '/'))
			best = v + n + 1;
	}
	if (best && *best)
		return best;
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

// The root whose edges include root edge @e, or PH_NONE. The walk adds each
// root's edges after the previous root's: the last root starting at or
// before @e (a file's roots may come in another order: then a scan).
static uint32_t root_of_edge(const struct ph_snapshot *s, uint32_t e)
{
	size_t lo = 0, hi = s->nroots;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->roots[mid].edge_start <= e)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && s->roots[lo - 1].edge_start <= e && e < s->roots[lo - 1].edge_end)
		return (uint32_t)(lo - 1);
	for (size_t r = 0; r < s->nroots; r++)
		if (s->roots[r].edge_start <= e && e < s->roots[r].edge_end)
			return (uint32_t)r;
	return PH_NONE;
}

const char *ph_graph_root_edge_kind(const struct ph_snapshot *s, uint32_t e)
{
	uint32_t r = root_of_edge(s, e);
	switch (r != PH_NONE ? s->roots[r].kind : PH_ROOT_MODULES) {
	case PH_ROOT_FRAME:
		return "<frame locals>";
	case PH_ROOT_ATEXIT:
		return "<atexit callbacks>";
	case PH_ROOT_MONITORING:
		return "<sys.monitoring callbacks>";
	default:
		return "<root>";
	}
}

void ph_graph_thread_label(const struct ph_snapshot *s, uint64_t tid, char *buf, size_t cap)
{
	const char *tname = thread_name(s, tid);
	snprintf(buf, cap, "thread 0x%llx%s%s%s", (unsigned long long)tid, tname ? " (" : "",
		 tname ? tname : "", tname ? ")" : "");
}

bool ph_graph_kind_is(const struct ph_snapshot *s, uint32_t i, const char *name)
{
	const char *n = i < s->nobjects ? s->types[s->objects[i].type].name : NULL;
	return n && !strcmp(n, name);
}

uint64_t ph_graph_local_key_thread(const struct ph_snapshot *s, uint32_t k)
{
	if (ph_graph_kind_is(s, k, "_thread._localdummy")) {
		for (size_t r = 0; r < s->nroots; r++)
			if (s->roots[r].kind == PH_ROOT_LOCAL_KEY && s->roots[r].object == k)
				return s->roots[r].thread_id;
		return 0;
	}
	uint32_t dummy = PH_NONE;
	for (size_t w = 0; w < s->nweak_edges && dummy == PH_NONE; w++)
		if (s->weak_edges[w].from == k)
			dummy = s->weak_edges[w].to;
	if (!ph_graph_kind_is(s, dummy, "_thread._localdummy"))
		return 0;
	for (size_t r = 0; r < s->nroots; r++) {
		uint32_t d = s->roots[r].object;
		if (s->roots[r].kind != PH_ROOT_THREAD_DICT || d >= s->nobjects)
			continue;
		for (uint32_t e = s->edge_start[d]; e < s->edge_start[d + 1]; e++)
			if (s->edges[e].target == dummy &&
			    PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_DICT_VALUE)
				return s->roots[r].thread_id;
	}
	return 0;
}

void ph_graph_code_names(const struct ph_snapshot *s, uint32_t code, const char **function,
			 const char **file)
{
	*function = *file = NULL;
	if (code >= s->nobjects)
		return;
	uint32_t q = ph_graph_field(s, code, PH_F_CO_QUALNAME);
	if (q == PH_NONE)
		q = ph_graph_field(s, code, PH_F_CO_NAME);
	uint32_t f = ph_graph_field(s, code, PH_F_CO_FILENAME);
	*function = q != PH_NONE ? ph_snapshot_text(s, q) : NULL;
	*file = f != PH_NONE ? ph_snapshot_text(s, f) : NULL;
}

void ph_graph_root_label(const struct ph_snapshot *s, uint32_t r, char *buf, size_t cap)
{
	if (r == STATIC_TYPE_ROOT) {
		snprintf(buf, cap, "<static type>");
		return;
	}
	if (r == PH_NONE || r >= s->nroots) {
		snprintf(buf, cap, "<unknown root>");
		return;
	}
	const struct ph_root *rt = &s->roots[r];
	// The roots named by their kind alone: the interpreter's, and a
	// thread's (after "thread 0x… (name)").
	static const struct {
		const char *name;
		bool thread;
	} names[PH_ROOT_LAST + 1] = {
		[PH_ROOT_MODULES] = {"sys.modules", false},
		[PH_ROOT_SYS] = {"sys", false},
		[PH_ROOT_BUILTINS] = {"builtins", false},
		[PH_ROOT_CODEC_SEARCH] = {"codecs search functions", false},
		[PH_ROOT_CODEC_CACHE] = {"codecs cache", false},
		[PH_ROOT_CODEC_ERRORS] = {"codecs error handlers", false},
		[PH_ROOT_AUDIT_HOOKS] = {"sys audit hooks", false},
		[PH_ROOT_FORK_BEFORE] = {"os.register_at_fork before", false},
		[PH_ROOT_FORK_PARENT] = {"os.register_at_fork after_in_parent", false},
		[PH_ROOT_FORK_CHILD] = {"os.register_at_fork after_in_child", false},
		[PH_ROOT_CONTEXT] = {"context", true},
		[PH_ROOT_TRACE] = {"trace function", true},
		[PH_ROOT_PROFILE] = {"profile function", true},
		[PH_ROOT_EXCEPTION] = {"handled exception", true},
		[PH_ROOT_THREAD_DICT] = {"state dict", true},
		[PH_ROOT_FIRSTITER] = {"asyncgen firstiter hook", true},
		[PH_ROOT_FINALIZER] = {"asyncgen finalizer hook", true},
		[PH_ROOT_MAIN_GREENLET] = {"main greenlet", true},
		[PH_ROOT_LOCAL_KEY] = {"threading.local key", true},
	};
	const char *nm = (unsigned)rt->kind <= PH_ROOT_LAST ? names[rt->kind].name : NULL;
	if (nm && !names[rt->kind].thread) {
		snprintf(buf, cap, "%s", nm);
		return;
	}
	switch (rt->kind) {
	case PH_ROOT_ATEXIT:
		snprintf(buf, cap, "atexit callbacks[%u]", rt->depth);
		return;
	case PH_ROOT_SIGNAL:
		snprintf(buf, cap, "signal.getsignal(%u)", rt->depth);
		return;
	case PH_ROOT_MONITORING:
		snprintf(buf, cap, "sys.monitoring tool %u callbacks", rt->depth);
		return;
	default:
		break;
	}
	if (rt->kind == PH_ROOT_MAIN_GREENLET && !rt->thread_id) {
		snprintf(buf, cap, "a thread's main greenlet");
		return;
	}
	char who[320];
	ph_graph_thread_label(s, rt->thread_id, who, sizeof(who));
	if (rt->kind != PH_ROOT_FRAME) {
		// (Handled exceptions: the innermost one has no number.)
		char num[16] = "";
		if (rt->kind == PH_ROOT_EXCEPTION && rt->depth)
			snprintf(num, sizeof(num), " %u", rt->depth);
		snprintf(buf, cap, "%s %s%s", who, nm ? nm : "?", num);
		return;
	}
	const char *fn, *file;
	ph_graph_code_names(s, rt->code, &fn, &file);
	char line[24] = "";
	if (rt->line >= 0)
		snprintf(line, sizeof(line), ":%d", rt->line);
	snprintf(buf, cap, "%s frame %s() %s%s", who, fn ? fn : "?", ph_graph_short_file(file),
		 line);
}

// Name of local slot @i of the frame whose code object is @code.
static const char *local_name(const struct ph_snapshot *s, uint32_t code, uint32_t i)
{
	if (code == PH_NONE)
		return NULL;
	uint32_t names = ph_graph_field(s, code, PH_F_CO_LOCALSPLUSNAMES);
	if (names == PH_NONE) {
		// <= 3.10: varnames, then cellvars, then freevars.
		enum ph_field parts[] = {PH_F_CO_VARNAMES, PH_F_CO_CELLVARS, PH_F_CO_FREEVARS};
		for (int k = 0; k < 3; k++) {
			uint32_t t = ph_graph_field(s, code, parts[k]);
			uint32_t len = count_index_edges(s, t);
			if (i < len) {
				names = t;
				break;
			}
			i -= len;
		}
		if (names == PH_NONE)
			return NULL;
	}
	uint32_t str = index_target(s, names, i);
	return str != PH_NONE ? ph_snapshot_text(s, str) : NULL;
}

static void append(char *buf, size_t cap, size_t *len, const char *fmt, const char *arg)
{
	if (*len >= cap)
		return;
	int n = snprintf(buf + *len, cap - *len, fmt, arg);
	if (n > 0)
		*len += (size_t)n < cap - *len ? (size_t)n : cap - *len - 1;
}

// The type object @t is the type of, by its name, or NULL.
static const char *type_object_name(const struct ph_snapshot *s, uint32_t t)
{
	for (size_t i = 0; i < s->ntypes; i++)
		if (s->types[i].object == t)
			return s->types[i].name;
	return NULL;
}

static bool key_form(const struct ph_snapshot *s, uint32_t k, bool nested, bool repr, char *buf,
		     size_t cap, size_t *len);

// An enum's member (an instance with the str _name_ and a _value_ that
// enum.Enum gives its members), as repr() writes it: "<Color.RED: 1>", the
// value by its short form; false (nothing appended) for anything else.
static bool enum_member(const struct ph_snapshot *s, uint32_t k, char *buf, size_t cap,
			size_t *len)
{
	const char *tn = s->types[s->objects[k].type].name;
	uint32_t name = ph_graph_attr(s, k, "_name_"), value = ph_graph_attr(s, k, "_value_");
	const char *nm = name < s->nobjects && ph_graph_kind_is(s, name, "str")
				 ? ph_snapshot_text(s, name)
				 : NULL;
	if (!nm || value >= s->nobjects || !tn || strchr(nm, '>') || strlen(nm) > 60)
		return false;
	// (Its class an enum's: EnumMeta gives it a _member_map_.)
	uint32_t cls_obj = s->types[s->objects[k].type].object;
	if (cls_obj >= s->nobjects ||
	    dict_lookup(s, ph_graph_field(s, cls_obj, PH_F_TP_DICT), "_member_map_") == PH_NONE)
		return false;
	const char *cls = strrchr(tn, '.');
	char v[160];
	size_t vl = 0;
	v[0] = '\0';
	key_form(s, value, true, true, v, sizeof(v), &vl);
	char out[320];
	snprintf(out, sizeof(out), "<%s.%s: %s>", cls ? cls + 1 : tn, nm, v);
	append(buf, cap, len, "%s", out);
	return true;
}

// A uuid.UUID as repr() writes it, from its int (__slots__ 'int': its
// decimal text, which the walk keeps up to 2^210 when values are shown).
static bool uuid_value(const struct ph_snapshot *s, uint32_t k, char *buf, size_t cap,
		       size_t *len)
{
	uint32_t i = ph_graph_attr(s, k, "int");
	const char *t = i < s->nobjects && ph_graph_kind_is(s, i, "int") ? ph_snapshot_text(s, i)
									  : NULL;
	if (!t || !*t || strlen(t) > 39 || strspn(t, "0123456789") != strlen(t))
		return false;
	unsigned __int128 v = 0, last = 0;
	for (const char *c = t; *c; c++) {
		v = v * 10 + (unsigned)(*c - '0');
		if (v / 10 != last) // (past 2^128: no UUID's)
			return false;
		last = v;
	}
	char hex[33];
	for (int d = 31; d >= 0; d--, v >>= 4)
		hex[d] = "0123456789abcdef"[(unsigned)(v & 15)];
	hex[32] = '\0';
	char out[64];
	snprintf(out, sizeof(out), "UUID('%.8s-%.4s-%.4s-%.4s-%.12s')", hex, hex + 8, hex + 12,
		 hex + 16, hex + 20);
	append(buf, cap, len, "%s", out);
	return true;
}

// A time zone as repr() writes it, for a datetime's tzinfo: a
// datetime.timezone by its offset and name ("datetime.timezone.utc",
// "datetime.timezone(datetime.timedelta(seconds=3600), 'CET')"), a
// zoneinfo.ZoneInfo by its key, another tzinfo by its kind and address;
// false (nothing appended) when the timezone's offset has no value kept.
static bool tz_form(const struct ph_snapshot *s, uint32_t t, char *buf, size_t cap, size_t *len)
{
	if (t >= s->nobjects)
		return false;
	if (ph_graph_kind_is(s, t, "zoneinfo.ZoneInfo")) {
		// (zoneinfo's C type: its key, unless made from a file.)
		uint32_t key = ph_graph_attr(s, t, "key");
		if (key < s->nobjects && ph_graph_kind_is(s, key, "str") && ph_snapshot_text(s, key)) {
			append(buf, cap, len, "%s", "zoneinfo.ZoneInfo(key=");
			key_form(s, key, true, true, buf, cap, len);
			append(buf, cap, len, "%s", ")");
			return true;
		}
	}
	if (!ph_graph_kind_is(s, t, "datetime.timezone"))
		return key_form(s, t, true, true, buf, cap, len);
	uint32_t off = ph_graph_field(s, t, PH_F_TZ_OFFSET), name = ph_graph_field(s, t, PH_F_TZ_NAME);
	const char *ot = off < s->nobjects && ph_graph_kind_is(s, off, "datetime.timedelta")
				 ? ph_snapshot_text(s, off)
				 : NULL;
	if (!ot || strncmp(ot, "datetime.timedelta(", 19))
		return false;
	// (CPython's timezone constructor gives its UTC singleton for a zero
	// offset without a name.)
	if (name >= s->nobjects && !strcmp(ot, "datetime.timedelta(0)")) {
		append(buf, cap, len, "%s", "datetime.timezone.utc");
		return true;
	}
	append(buf, cap, len, "datetime.timezone(%s", ot);
	if (name < s->nobjects) {
		append(buf, cap, len, "%s", ", ");
		key_form(s, name, true, true, buf, cap, len);
	}
	append(buf, cap, len, "%s", ")");
	return true;
}

// The code point of the UTF-8 sequence at @p into *@cp: its length, 0 when
// it is not one.
static size_t utf8_decode(const char *p, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t n = u[0] >= 0xf0 && u[0] < 0xf5 ? 4 : u[0] >= 0xe0 ? 3 : u[0] >= 0xc2 ? 2 : 0;
	if (!n || u[0] >= 0xf5)
		return 0;
	uint32_t v = u[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (u[i] & 0x3f);
	}
	*cp = v;
	return n;
}

// Whether Python prints code point @cp (>= 0x80) as itself in a str's
// repr(): not its controls (Cc), format characters (Cf), separators
// (Zs, Zl, Zp: all but the space), surrogates, private use and
// noncharacters. (Other unassigned code points, which Python escapes
// too, are not known here: they read as themselves.)
static bool printable(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
		{0x80, 0xa0}, {0xad, 0xad}, {0x600, 0x605}, {0x61c, 0x61c}, {0x6dd, 0x6dd},
		{0x70f, 0x70f}, {0x890, 0x891}, {0x8e2, 0x8e2}, {0x1680, 0x1680},
		{0x180e, 0x180e}, {0x2000, 0x200f}, {0x2028, 0x202f}, {0x205f, 0x206f},
		{0x3000, 0x3000}, {0xd800, 0xf8ff}, {0xfdd0, 0xfdef},
		{0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0x110bd, 0x110bd}, {0x110cd, 0x110cd},
		{0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
		{0xe0020, 0xe007f}, {0xf0000, 0x10ffff},
	};
	if ((cp & 0xfffe) == 0xfffe)
		return false; // (U+FFFE, U+FFFF of every plane)
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return false;
	return true;
}

// Appends to @buf (at *@len, @cap) a short form of object @k, as a dict key
// reads in a path: a str 'text' (at most KEY_STR_MAX characters, '[', ']',
// quotes and control characters shown as '.'), a number, None, True/False,
// a class <class 'name'>, a function <function qualname>, a tuple of such
// (its first KEY_TUPLE_MAX items), else <kind at 0xADDRESS>. (A str's
// subclass with text reads as a str.) Never a ']':
// a path's brackets stay tokens (ph_path_group()).
// With @repr, as a value reads (ph_graph_value()): a str as repr() writes
// it (escapes, at most VALUE_STR_MAX bytes, cut between characters), names
// as they are; false (nothing appended at the top level) for an object
// with no such form.
enum { KEY_STR_MAX = 40, KEY_TUPLE_MAX = 4, VALUE_STR_MAX = 60 };
static bool key_form(const struct ph_snapshot *s, uint32_t k, bool nested, bool repr, char *buf,
		     size_t cap, size_t *len)
{
	const char *tn = k < s->nobjects ? s->types[s->objects[k].type].name : NULL;
	const char *kt = k < s->nobjects ? ph_snapshot_text(s, k) : NULL;
	char tmp[4 * (VALUE_STR_MAX + 4) + 8];
	// (The texts of floats, bytes, datetime's types and decimals, which the
	// walk keeps only for the views that show values, are values alone:
	// paths keep reading such objects as <float at 0x…>, however the
	// snapshot was taken.)
	bool is_bytes = tn && (!strcmp(tn, "bytes") || !strcmp(tn, "bytearray")),
	     is_float = tn && !strcmp(tn, "float");
	// (datetime's types, decimal.Decimal and complex: their texts are their repr().)
	bool is_dt = tn && ((!strncmp(tn, "datetime.", 9) &&
			     (!strcmp(tn + 9, "date") || !strcmp(tn + 9, "datetime") ||
			      !strcmp(tn + 9, "time") || !strcmp(tn + 9, "timedelta"))) ||
			    !strcmp(tn, "decimal.Decimal") || !strcmp(tn, "complex"));
	double fv;
	if (is_bytes || is_float || is_dt) {
		const char *lead = is_bytes || is_float ? (is_bytes ? (tn[4] == 'a' ? "bytearray(b" : "b") : "")
				   : tn[0] == 'c'      ? ""
				   : tn[1] == 'e'      ? "Decimal("
						       : "datetime.";
		kt = repr && kt && !strncmp(kt, lead, strlen(lead)) ? kt : NULL;
	}
	// (So are ints of more than two 30-bit digits: 2^60 and up.)
	if (!repr && kt && tn && !strcmp(tn, "int")) {
		const char *dg = kt + (kt[0] == '-');
		size_t dl = strlen(dg);
		if (dl > 19 || (dl == 19 && strcmp(dg, "1152921504606846975") > 0))
			kt = NULL;
	}
	if (!tn) {
		append(buf, cap, len, "%s", "?");
	} else if (is_float && kt && ph_snapshot_float(s, k, &fv)) {
		ph_float_repr(fv, tmp, sizeof(tmp));
		append(buf, cap, len, "%s", tmp);
	} else if (is_dt && kt && strlen(kt) > 11 && !strcmp(kt + strlen(kt) - 11, "tzinfo=…)") &&
		   ph_graph_field(s, k, PH_F_TZINFO) < s->nobjects) {
		// (Its time zone, as its own repr() writes it.)
		size_t at = *len, head = strlen(kt) - 4;
		append(buf, cap, len, "%s", kt);
		if (at + head < cap) {
			*len = at + head;
			buf[*len] = '\0';
			if (!tz_form(s, ph_graph_field(s, k, PH_F_TZINFO), buf, cap, len))
				append(buf, cap, len, "%s", "…");
			append(buf, cap, len, "%s", ")");
		}
	} else if ((is_bytes || is_dt) && kt) {
		append(buf, cap, len, "%s", kt);
	} else if (repr && !nested &&
		   (!strcmp(tn, "datetime.timezone") || !strcmp(tn, "zoneinfo.ZoneInfo")) &&
		   tz_form(s, k, buf, cap, len)) {
		// ("datetime.timezone.utc", "zoneinfo.ZoneInfo(key='Europe/Paris')")
	} else if (repr && !nested && kt && strcmp(tn, "str") && strcmp(tn, "int") &&
		   strcmp(tn, "bool") && enum_member(s, k, buf, cap, len)) {
		// (An enum's member that is also a str or an int: IntEnum's,
		// StrEnum's, IntFlag's, "<HTTPStatus.NOT_FOUND: 404>".)
	} else if (is_float) {
		// (No value kept: never its text as a str's.)
		if (repr && !nested)
			return false;
		snprintf(tmp, sizeof(tmp), " at 0x%llx>", (unsigned long long)s->objects[k].address);
		append(buf, cap, len, "<%s", tn);
		append(buf, cap, len, "%s", tmp);
	} else if (kt && (!strcmp(tn, "str") || (strcmp(tn, "bool") && strcmp(tn, "int") &&
						   strspn(kt, "-0123456789") != strlen(kt)))) {
		size_t n = 0, o = 0;
		char quote = '\'';
		if (!repr) {
			for (; kt[n] && n < KEY_STR_MAX; n++)
				tmp[o++] = strchr("[]'\\", kt[n]) || (unsigned char)kt[n] < 0x20 ? '.'
										: kt[n];
		} else {
			// (Python's quotes: single, unless only double ones are free.)
			quote = strchr(kt, '\'') && !strchr(kt, '"') ? '"' : '\'';
			for (; kt[n] && (n < VALUE_STR_MAX || ((unsigned char)kt[n] & 0xc0) == 0x80);
			     n++) {
				unsigned char c = (unsigned char)kt[n];
				const char *esc = c == '\\' ? "\\\\" : c == '\'' && quote == '\'' ? "\\'"
						  : c == '\n' ? "\\n" : c == '\r' ? "\\r" : c == '\t' ? "\\t"
						  : NULL;
				uint32_t cp;
				size_t w;
				if (esc) {
					o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "%s", esc);
				} else if (c < 0x20 || c == 0x7f) {
					o += (size_t)snprintf(tmp + o, sizeof(tmp) - o, "\\x%02x", c);
				} else if (c >= 0x80 && (w = utf8_decode(kt + n, &cp)) &&
					   !printable(cp)) {
					// (As repr() escapes what Python does not print.)
					o += (size_t)snprintf(tmp + o, sizeof(tmp) - o,
							      cp < 0x100 ? "\\x%02x" : cp < 0x10000 ? "\\u%04x"
											: "\\U%08x",
							      cp);
					n += w - 1;
				} else {
					tmp[o++] = (char)c;
				}
			}
		}
		tmp[o] = '\0';
		char q[8];
		snprintf(q, sizeof(q), "%c", quote);
		append(buf, cap, len, "%s", q);
		append(buf, cap, len, "%s", tmp);
		snprintf(q, sizeof(q), "%s%c", kt[n] ? "…" : "", quote);
		append(buf, cap, len, "%s", q);
	} else if (kt && !strcmp(tn, "bool")) {
		append(buf, cap, len, "%s", strcmp(kt, "0") ? "True" : "False");
	} else if (kt && strspn(kt, "-0123456789") == strlen(kt)) {
		append(buf, cap, len, "%s", kt);
	} else if (!strcmp(tn, "NoneType")) {
		append(buf, cap, len, "%s", "None");
	} else if (type_object_name(s, k)) {
		append(buf, cap, len, "<class '%s'>", type_object_name(s, k));
	} else if (ph_graph_field(s, k, PH_F_HT_QUALNAME) != PH_NONE &&
		   ph_snapshot_text(s, ph_graph_field(s, k, PH_F_HT_QUALNAME))) {
		// A class no object found is an instance of: its own names.
		uint32_t m = dict_lookup(s, ph_graph_field(s, k, PH_F_TP_DICT), "__module__");
		const char *mn = m != PH_NONE ? ph_snapshot_text(s, m) : NULL;
		const char *qn = ph_snapshot_text(s, ph_graph_field(s, k, PH_F_HT_QUALNAME));
		bool mok = mn && (repr || !strpbrk(mn, "[]"));
		append(buf, cap, len, "<class '%s", mok ? mn : "");
		append(buf, cap, len, "%s", mok ? "." : "");
		append(buf, cap, len, "%s'>", !repr && strpbrk(qn, "[]") ? "?" : qn);
	} else if (repr && !nested && !strcmp(tn, "cell")) {
		// A closure's variable (a frame's cell local): what it holds, as
		// repr() shows a cell's contents ("<cell at 0x…: int object at
		// 0x…>"), by its value when it has a short one.
		uint32_t c = ph_graph_field(s, k, PH_F_CELL_CONTENTS);
		append(buf, cap, len, "%s", "<cell: ");
		if (c < s->nobjects)
			key_form(s, c, true, true, buf, cap, len);
		else
			append(buf, cap, len, "%s", "empty");
		append(buf, cap, len, "%s", ">");
	} else if (repr && !nested && !strcmp(tn, "method") &&
		   ph_graph_field(s, k, PH_F_FUNC) < s->nobjects) {
		// A bound method: its function's name (repr() adds repr(self)).
		uint32_t f = ph_graph_field(s, k, PH_F_FUNC);
		uint32_t q = ph_graph_field(s, f, PH_F_QUALNAME);
		if (q == PH_NONE)
			q = ph_graph_field(s, f, PH_F_NAME);
		const char *qn = q != PH_NONE ? ph_snapshot_text(s, q) : NULL;
		if (!qn)
			return false;
		append(buf, cap, len, "<bound method %s>", qn);
	} else if (!strcmp(tn, "function") || !strcmp(tn, "builtin_function_or_method")) {
		uint32_t q = ph_graph_field(s, k, PH_F_QUALNAME);
		if (q == PH_NONE)
			q = ph_graph_field(s, k, PH_F_NAME);
		const char *qn = q != PH_NONE ? ph_snapshot_text(s, q) : NULL;
		append(buf, cap, len, "<function %s>", qn && (repr || !strpbrk(qn, "[]")) ? qn : "?");
	} else if (!strcmp(tn, "tuple") && !nested) {
		uint32_t n = 0;
		for (uint32_t e = s->edge_start[k]; e < s->edge_start[k + 1]; e++)
			if (PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_INDEX &&
			    PH_EDGE_PAYLOAD(s->edges[e].label) >= n)
				n = PH_EDGE_PAYLOAD(s->edges[e].label) + 1;
		append(buf, cap, len, "%s", "(");
		for (uint32_t i = 0; i < n && i < KEY_TUPLE_MAX; i++) {
			append(buf, cap, len, "%s", i ? ", " : "");
			key_form(s, index_target(s, k, i), true, repr, buf, cap, len);
		}
		append(buf, cap, len, "%s", n > KEY_TUPLE_MAX ? ", …)" : n == 1 ? ",)" : ")");
	} else if (repr && !nested && enum_member(s, k, buf, cap, len)) {
		// (An enum's member: "<Color.RED: 1>".)
	} else if (repr && !nested && !strcmp(tn, "uuid.UUID") && uuid_value(s, k, buf, cap, len)) {
		// (UUID('12345678-1234-5678-1234-567812345678'))
	} else if (repr && !nested) {
		return false;
	} else {
		snprintf(tmp, sizeof(tmp), " at 0x%llx>", (unsigned long long)s->objects[k].address);
		append(buf, cap, len, "<%s", !repr && strpbrk(tn, "[]") ? "?" : tn);
		append(buf, cap, len, "%s", tmp);
	}
	return true;
}

bool ph_graph_value(const struct ph_snapshot *s, uint32_t i, char *buf, size_t cap)
{
	size_t len = 0;
	if (!cap)
		return false;
	buf[0] = '\0';
	if (i >= s->nobjects || !key_form(s, i, false, true, buf, cap, &len)) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

int64_t ph_graph_items(const struct ph_snapshot *s, uint32_t i)
{
	if (i >= s->nobjects)
		return -1;
	const char *tn = s->types[s->objects[i].type].name;
	enum ph_edge_kind kind;
	if (s->types[s->objects[i].type].is_dict)
		kind = PH_EDGE_DICT_VALUE;
	else if (tn && (!strcmp(tn, "list") || !strcmp(tn, "collections.deque")))
		kind = PH_EDGE_INDEX;
	else if (tn && (!strcmp(tn, "set") || !strcmp(tn, "frozenset")))
		kind = PH_EDGE_SET_ITEM;
	else
		return -1;
	int64_t n = 0;
	for (uint32_t e = s->edge_start[i]; e < s->edge_start[i + 1]; e++)
		n += PH_EDGE_KIND(s->edges[e].label) == kind;
	return n;
}

// Whether slot @p of the frame of @from is what @from awaits (cr_await):
// the top of the value stack of a suspended coroutine (3.11+: its frame is
// in it), which only ever stops in an await, the awaited object on top
// (CPython's _PyGen_yf() peeks at it). The top: the highest slot, never
// NULL, which the walk emits last.
static bool awaited_slot(const struct ph_snapshot *s, uint32_t from, uint32_t p)
{
	if (!ph_graph_kind_is(s, from, "coroutine"))
		return false;
	for (uint32_t e = s->edge_start[from]; e < s->edge_start[from + 1]; e++)
		if (PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_LOCAL &&
		    PH_EDGE_PAYLOAD(s->edges[e].label) > p)
			return false;
	return true;
}

// Renders one hop. @namespace: the source is a namespace dict (a module's,
// an instance's, a class's, sys, builtins), whose values read as ".key".
static void render_hop(const struct ph_snapshot *s, uint32_t from, uint32_t code,
		       const struct ph_edge *e, bool namespace, bool first_of_modules, char *buf,
		       size_t cap, size_t *len)
{
	uint32_t l = e->label, p = PH_EDGE_PAYLOAD(l);
	char tmp[96];
	switch (PH_EDGE_KIND(l)) {
	case PH_EDGE_DICT_VALUE: {
		// The walk emits an entry's key edge right before its value edge.
		uint32_t k = PH_NONE;
		if (from != PH_NONE && e > s->edges && e < s->edges + s->nedges &&
		    (size_t)(e - s->edges) > s->edge_start[from] &&
		    e[-1].label == PH_EDGE(PH_EDGE_DICT_KEY, p))
			k = e[-1].target;
		else if (from != PH_NONE)
			k = dict_key(s, from, p);
		const char *kt = k != PH_NONE ? ph_snapshot_text(s, k) : NULL;
		bool is_str = k != PH_NONE && s->types[s->objects[k].type].name &&
			      !strcmp(s->types[s->objects[k].type].name, "str");
		if (first_of_modules && kt) {
			*len = 0;
			buf[0] = '\0';
			append(buf, cap, len, "%s", kt);
		} else if (namespace && kt && is_str) {
			append(buf, cap, len, ".%s", kt);
		} else if (kt && is_str) {
			append(buf, cap, len, "['%s']", kt);
		} else {
			// (A threading.local's per-thread dict: the thread's.)
			uint64_t tid = k != PH_NONE ? ph_graph_local_key_thread(s, k) : 0;
			char who[320];
			if (tid) {
				ph_graph_thread_label(s, tid, who, sizeof(who));
				append(buf, cap, len, "[%s]", who);
			} else if (k != PH_NONE) {
				append(buf, cap, len, "%s", "[");
				key_form(s, k, false, false, buf, cap, len);
				append(buf, cap, len, "%s", "]");
			} else {
				append(buf, cap, len, "%s", "[?]");
			}
		}
		return;
	}
	case PH_EDGE_DICT_KEY:
		append(buf, cap, len, "%s", ".<key>");
		return;
	case PH_EDGE_INDEX:
		snprintf(tmp, sizeof(tmp), "[%u]", p);
		append(buf, cap, len, "%s", tmp);
		return;
	case PH_EDGE_SET_ITEM:
		append(buf, cap, len, "%s", "{item}");
		return;
	case PH_EDGE_ATTR:
	case PH_EDGE_SLOT: {
		const struct ph_type *t = from != PH_NONE ? &s->types[s->objects[from].type] : NULL;
		char **names = !t ? NULL : PH_EDGE_KIND(l) == PH_EDGE_ATTR ? t->attr_names : t->slot_names;
		uint32_t nn = !t ? 0 : PH_EDGE_KIND(l) == PH_EDGE_ATTR ? t->nattr_names : t->nslot_names;
		append(buf, cap, len, ".%s", p < nn ? names[p] : "?");
		return;
	}
	case PH_EDGE_LOCAL: {
		if (code == PH_NONE && from != PH_NONE)
			code = ph_graph_field(s, from, PH_F_F_CODE);
		const char *name = local_name(s, code, p);
		if (name) {
			append(buf, cap, len, " local '%s'", name);
		} else if (awaited_slot(s, from, p)) {
			append(buf, cap, len, "%s", ".cr_await");
		} else {
			snprintf(tmp, sizeof(tmp), " stack[%u]", p);
			append(buf, cap, len, "%s", tmp);
		}
		return;
	}
	case PH_EDGE_STATE:
		snprintf(tmp, sizeof(tmp), ".<state>[%u]", p);
		append(buf, cap, len, "%s", tmp);
		return;
	case PH_EDGE_WORD:
		snprintf(tmp, sizeof(tmp), ".<field +%u>", p);
		append(buf, cap, len, "%s", tmp);
		return;
	case PH_EDGE_GREENLET: {
		// A suspended greenlet's frames, as Python reaches them:
		// g.gr_frame.f_back.f_locals['x'] reads ".gr_frame.f_back local 'x'".
		uint32_t d = PH_GR_DEPTH(p), what = PH_GR_WHAT(p);
		append(buf, cap, len, "%s", ".gr_frame");
		for (uint32_t k = 0; k < d; k++)
			append(buf, cap, len, "%s", ".f_back");
		if (what == PH_GR_CODE || what == PH_GR_FUNC || what == PH_GR_LOCALS ||
		    what == PH_GR_GEN) {
			append(buf, cap, len, "%s",
			       what == PH_GR_CODE   ? ".f_code"
			       : what == PH_GR_FUNC ? ".f_func"
			       : what == PH_GR_GEN  ? ".f_generator"
						    : ".f_locals");
		} else if (what < PH_GR_SLOTS) {
			uint32_t c = label_target(
				s, from, PH_EDGE(PH_EDGE_GREENLET, PH_GR_LABEL(d, PH_GR_CODE)));
			const char *name = local_name(s, c, what);
			if (name) {
				append(buf, cap, len, " local '%s'", name);
			} else {
				snprintf(tmp, sizeof(tmp), " stack[%u]", what);
				append(buf, cap, len, "%s", tmp);
			}
		}
		return;
	}
	case PH_EDGE_FIELD:
		if (p == PH_F_DICT || p == PH_F_TP_DICT)
			return; // the namespace that follows reads as ".key"
		// (Through 3.10 the frame of a generator, a coroutine, an async
		// generator: each names it after itself.)
		if (p == PH_F_GI_FRAME && ph_graph_kind_is(s, from, "coroutine"))
			append(buf, cap, len, "%s", ".cr_frame");
		else if (p == PH_F_GI_FRAME && ph_graph_kind_is(s, from, "async_generator"))
			append(buf, cap, len, "%s", ".ag_frame");
		else
			append(buf, cap, len, ".%s", ph_field_name(p));
		return;
	}
	append(buf, cap, len, "%s", ".?");
}

void ph_graph_edge_label(const struct ph_graph *g, uint32_t from, const struct ph_edge *e,
			 char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	const struct ph_snapshot *s = g->snap;
	render_hop(s, from, PH_NONE, e, false, false, buf, cap, &len);
	if (PH_EDGE_KIND(e->label) == PH_EDGE_DICT_VALUE && buf[0] == '[' && buf[1] == '\'') {
		// "['k']" reads better as "key 'k'" in the reference pattern.
		char tmp[256];
		snprintf(tmp, sizeof(tmp), "key %.*s", (int)(len > 3 ? len - 2 : 0), buf + 1);
		snprintf(buf, cap, "%s", tmp);
	}
	if (PH_EDGE_KIND(e->label) == PH_EDGE_FIELD &&
	    (PH_EDGE_PAYLOAD(e->label) == PH_F_DICT || PH_EDGE_PAYLOAD(e->label) == PH_F_TP_DICT))
		snprintf(buf, cap, ".__dict__");
}

void ph_graph_hop_label(const struct ph_graph *g, uint32_t from, const struct ph_edge *e,
			bool namespace, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	if (PH_EDGE_KIND(e->label) == PH_EDGE_DICT_KEY) {
		// A key itself: as its entry's value reads, marked.
		append(buf, cap, &len, "%s", "[");
		key_form(g->snap, e->target, false, false, buf, cap, &len);
		append(buf, cap, &len, "%s", "] (key)");
		return;
	}
	render_hop(g->snap, from, PH_NONE, e, namespace, false, buf, cap, &len);
	// (A path reads through an instance's __dict__ to ".attr".)
	if (PH_EDGE_KIND(e->label) == PH_EDGE_FIELD &&
	    (PH_EDGE_PAYLOAD(e->label) == PH_F_DICT || PH_EDGE_PAYLOAD(e->label) == PH_F_TP_DICT))
		snprintf(buf, cap, ".__dict__");
}

void ph_graph_local_label(const struct ph_snapshot *s, uint32_t from, uint32_t code,
			  const struct ph_edge *e, char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	uint32_t p = PH_EDGE_PAYLOAD(e->label);
	if (PH_EDGE_KIND(e->label) == PH_EDGE_GREENLET && PH_GR_WHAT(p) < PH_GR_SLOTS) {
		// A suspended greenlet's frame at its depth: the slot alone.
		uint32_t c = label_target(
			s, from, PH_EDGE(PH_EDGE_GREENLET, PH_GR_LABEL(PH_GR_DEPTH(p), PH_GR_CODE)));
		const char *name = local_name(s, c, PH_GR_WHAT(p));
		if (name)
			snprintf(buf, cap, "local '%s'", name);
		else
			snprintf(buf, cap, "stack[%u]", PH_GR_WHAT(p));
		return;
	}
	render_hop(s, from, code, e, false, false, buf, cap, &len);
	if (buf[0] == ' ') // (" local 'x'" after a path's frame)
		memmove(buf, buf + 1, strlen(buf));
}

// The objects of a path selection, in order, each once.
struct selection {
	uint32_t *v;
	size_t n, cap;
};

static bool select_add(struct selection *sel, uint8_t *seen, uint32_t t)
{
	if (seen && seen[t])
		return true;
	if (sel->n == sel->cap) {
		size_t nc = sel->cap ? sel->cap * 2 : 64;
		uint32_t *v = reallocarray(sel->v, nc, sizeof(*v));
		if (!v)
			return false;
		sel->v = v;
		sel->cap = nc;
	}
	if (seen)
		seen[t] = 1;
	sel->v[sel->n++] = t;
	return true;
}

// Adds to @next the references of @u whose label is @hop (".name", "[…]",
// "{item}"; "[*]": every item, value or entry read with brackets): its own
// (an owned dict's values read ".key" too), then for ".name" those of its
// __dict__ (a module's globals, an instance's attributes, a class's dict).
static bool find_hop(const struct ph_graph *g, uint32_t u, const char *hop, struct selection *next,
		     uint8_t *seen)
{
	const struct ph_snapshot *s = g->snap;
	char label[512];
	bool attr = hop[0] == '.', any = !strcmp(hop, "[*]");
	for (int pass = 0; pass < 2; pass++) {
		uint32_t from = u;
		if (pass == 1) {
			if (!attr)
				break;
			from = ph_graph_field(s, u, PH_F_DICT);
			if (from == PH_NONE)
				from = ph_graph_field(s, u, PH_F_TP_DICT);
			if (from == PH_NONE || from >= s->nobjects)
				break;
		}
		bool ns = attr && (pass == 1 || s->objects[from].owner != PH_NONE);
		for (uint32_t e = s->edge_start[from]; e < s->edge_start[from + 1]; e++) {
			if (PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_DICT_KEY ||
			    s->edges[e].target >= s->nobjects)
				continue;
			ph_graph_hop_label(g, from, &s->edges[e], ns, label, sizeof(label));
			if ((any ? label[0] == '[' : !strcmp(label, hop)) &&
			    !select_add(next, seen, s->edges[e].target))
				return false;
		}
	}
	return true;
}

static bool find_module_paths(const struct ph_graph *g, const char *path, struct selection *sel);

// How much of @path printed path @p (its first @np bytes) matches from its
// start, "[*]" in @path matching any bracket of @p (a key's short form never
// holds a ']'); -1 when it does not.
static long path_match(const char *p, size_t np, const char *path)
{
	size_t i = 0, j = 0;
	while (i < np) {
		if (path[j] == '[' && !strncmp(path + j, "[*]", 3) && p[i] == '[') {
			const char *close = memchr(p + i, ']', np - i);
			if (!close)
				return -1;
			i = (size_t)(close - p) + 1;
			j += 3;
		} else if (path[j] && p[i] == path[j]) {
			i++, j++;
		} else {
			return -1;
		}
	}
	return (long)j;
}

// Whether printed path @p leads toward @path: it matches a beginning of it,
// or it is the path of a dict that ends at the dict (".__dict__"), whose
// entries read from its owner's.
static bool path_leads(const char *p, const char *path)
{
	size_t n = strlen(p), k = strlen(".__dict__");
	if (path_match(p, n, path) >= 0)
		return true;
	return n > k && !strcmp(p + n - k, ".__dict__") && path_match(p, n - k, path) >= 0;
}

enum { FIND_BUDGET = 1 << 20 }; /* paths rendered at most, about 3 s */

// Any path as ph_graph_path() prints it (a thread's frame's local, a
// coroutine's frame, a static type's, what native code holds…), into @sel:
// down the shortest paths' tree from the starts whose printed path begins
// @path, following only objects whose printed path leads toward it; the
// first object whose path reads so, or with "[*]" every one. False when out
// of memory.
static bool find_printed_paths(const struct ph_graph *g, const char *path, struct selection *sel)
{
	const struct ph_snapshot *s = g->snap;
	uint32_t n = (uint32_t)s->nobjects, head = 0, tail = 0;
	bool all = strstr(path, "[*]") != NULL, ok = true;
	size_t len = strlen(path);
	uint32_t *queue = malloc(((size_t)n + 1) * sizeof(uint32_t));
	uint8_t *seen = calloc((size_t)n + 1, 1);
	if (!queue || !seen) {
		free(queue);
		free(seen);
		return false;
	}
#define PUSH(t)                                                                                    \
	do {                                                                                       \
		uint32_t t_ = (t);                                                                 \
		if (t_ < n && !seen[t_])                                                           \
			seen[t_] = 1, queue[tail++] = t_;                                          \
	} while (0)
	char label[512];
	for (size_t r = 0; r < s->nroots; r++) {
		const struct ph_root *rt = &s->roots[r];
		if (rt->kind == PH_ROOT_MODULES) {
			// Modules: paths begin with their names.
			uint32_t d = rt->object;
			for (uint32_t e = d < n ? s->edge_start[d] : 0; d < n && e < s->edge_start[d + 1];
			     e++) {
				const char *t = PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_DICT_KEY
							? ph_snapshot_text(s, s->edges[e].target)
							: NULL;
				size_t k = t ? strlen(t) : 0;
				if (t && !strncmp(path, t, k) && strchr(".[ ", path[k] ? path[k] : ' ') &&
				    e + 1 < s->edge_start[d + 1])
					PUSH(s->edges[e + 1].target);
			}
			continue;
		}
		ph_graph_root_label(s, (uint32_t)r, label, sizeof(label));
		if (path_match(label, strlen(label), path) < 0)
			continue;
		PUSH(rt->object);
		for (uint32_t e = rt->edge_start; e < rt->edge_end && e < s->nroot_edges; e++)
			PUSH(s->root_edges[e].target);
	}
	for (size_t t = 0; t < s->ntypes; t++)
		if (s->types[t].name && s->types[t].object < n &&
		    !strncmp(path, s->types[t].name, strlen(s->types[t].name)))
			PUSH(s->types[t].object);
	// What only native code holds: "<held by native code (1 ref unaccounted)…>".
	if (!strncmp(path, "<held by native code", strlen("<held by native code")))
		for (uint32_t i = 0; i < n; i++)
			if (g->reach[i] == PH_REACH_NATIVE && g->parent_edge[i] == PH_NONE)
				PUSH(i);
	for (uint32_t budget = FIND_BUDGET; ok && head < tail && budget && (all || !sel->n);
	     budget--) {
		uint32_t u = queue[head++];
		char *p = ph_graph_path(g, u);
		size_t np = p ? strlen(p) : 0;
		if (p && path_match(p, np, path) == (long)len)
			ok = select_add(sel, NULL, u);
		else if (p && path_leads(p, path))
			for (uint32_t e = s->edge_start[u]; e < s->edge_start[u + 1]; e++)
				if (s->edges[e].target < n && g->parent_edge[s->edges[e].target] == e)
					PUSH(s->edges[e].target);
		free(p);
	}
#undef PUSH
	free(queue);
	free(seen);
	return ok;
}

uint32_t ph_graph_find_path(const struct ph_graph *g, const char *path)
{
	struct selection sel = {0};
	if (find_module_paths(g, path, &sel) && !sel.n)
		find_printed_paths(g, path, &sel);
	uint32_t u = sel.n ? sel.v[0] : PH_NONE;
	free(sel.v);
	return u;
}

struct ph_error *ph_graph_select_path(const struct ph_graph *g, const char *path, uint32_t **ret,
				      size_t *n)
{
	struct selection sel = {0};
	*ret = NULL;
	*n = 0;
	if (!find_module_paths(g, path, &sel)) {
		free(sel.v);
		return &ph_error_nomem;
	}
	if (!sel.n && !find_printed_paths(g, path, &sel)) {
		free(sel.v);
		return &ph_error_nomem;
	}
	if (!sel.n) {
		free(sel.v);
		sel.v = NULL;
	}
	*ret = sel.v;
	*n = sel.n;
	return NULL;
}

// A path from a module, hop by hop (fast: no path is rendered whole), into
// @sel: the module by the longest dotted prefix (before any bracket) that
// sys.modules has, then each hop: ".name" up to the next '.', '[' or '{',
// "[…]" up to its ']' (a key's short form never holds one), "{item}".
// False when out of memory.
static bool find_module_paths(const struct ph_graph *g, const char *path, struct selection *sel)
{
	const struct ph_snapshot *s = g->snap;
	uint32_t modules = modules_dict(s);
	if (modules >= s->nobjects || !path[0] || strlen(path) > 4096)
		return true;
	size_t head = strcspn(path, "[{");
	char name[4097];
	uint32_t u = PH_NONE;
	size_t at = 0;
	for (size_t n = head; n > 0 && u == PH_NONE; n--) {
		if (n < head && path[n] != '.')
			continue;
		memcpy(name, path, n);
		name[n] = '\0';
		u = dict_lookup(s, modules, name);
		at = n;
	}
	if (u >= s->nobjects)
		return true;
	uint8_t *seen = calloc(s->nobjects, 1);
	struct selection next = {0};
	bool ok = seen && select_add(sel, NULL, u);
	while (ok && sel->n && path[at]) {
		const char *close = path[at] == '[' ? strchr(path + at, ']')
				    : path[at] == '{' ? strchr(path + at, '}')
						      : NULL;
		size_t n = path[at] == '.' ? 1 + strcspn(path + at + 1, ".[{")
			   : close	   ? (size_t)(close - (path + at)) + 1
					   : 0;
		if (n < 2) {
			sel->n = 0;
			break;
		}
		memcpy(name, path + at, n);
		name[n] = '\0';
		at += n;
		next.n = 0;
		for (size_t k = 0; k < sel->n && ok; k++)
			ok = find_hop(g, sel->v[k], name, &next, seen);
		for (size_t k = 0; k < next.n; k++)
			seen[next.v[k]] = 0;
		struct selection t = *sel;
		*sel = next;
		next = t;
	}
	free(next.v);
	free(seen);
	return ok;
}

static char *graph_path(const struct ph_graph *g, uint32_t target, bool nested);

// Where the value stack of stack ref @sk is, into @buf: a thread's frame (its
// root's label), or the path of a frame object or of a greenlet's frame —
// unless @nested (the path of a holder being written: not again, which a
// stale slot could make a loop).
static void stack_place(const struct ph_graph *g, const struct ph_stack_ref *sk, bool nested,
			char *buf, size_t cap)
{
	const struct ph_snapshot *s = g->snap;
	if (sk->root != PH_NONE) {
		ph_graph_root_label(s, sk->root, buf, cap);
		return;
	}
	char *p = nested ? NULL : graph_path(g, sk->holder, true);
	size_t len = 0;
	buf[0] = '\0';
	char addr[32];
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)s->objects[sk->holder].address);
	append(buf, cap, &len, "%s", p ? p : addr);
	free(p);
	if (sk->depth != PH_NONE) {
		append(buf, cap, &len, "%s", ".gr_frame");
		for (uint32_t k = 0; k < sk->depth && k < PH_GR_MAX_DEPTH; k++)
			append(buf, cap, &len, "%s", ".f_back");
	}
}

char *ph_graph_path(const struct ph_graph *g, uint32_t target)
{
	return graph_path(g, target, false);
}

static char *graph_path(const struct ph_graph *g, uint32_t target, bool nested)
{
	const struct ph_snapshot *s = g->snap;
	if (g->dist[target] == UINT32_MAX)
		return NULL;
	// Walk back to the start, collecting edges.
	uint32_t d = g->dist[target];
	uint32_t *chain = malloc((d + 1) * sizeof(uint32_t));
	if (!chain)
		return NULL;
	uint32_t n = 0, v = target;
	while (g->parent_edge[v] != PH_NONE && n <= d) {
		uint32_t e = g->parent_edge[v];
		chain[n++] = e;
		if (edge_is_root(e))
			break;
		v = g->edge_from[e];
	}
	size_t cap = 1024, len = 0;
	char *buf = malloc(cap);
	if (!buf) {
		free(chain);
		return NULL;
	}
	buf[0] = '\0';
	uint32_t r = g->start_root[target];
	uint32_t cur; // the object the next hop leaves from
	uint32_t code = PH_NONE;
	bool namespace = false, modules = false;
	if (g->reach[target] == PH_REACH_NATIVE) {
		char tmp[700];
		uint64_t un = ph_graph_unaccounted(g, v);
		// (A static variable first: a slot of a value stack may be one
		// above its top, still holding what was popped.)
		const struct ph_static_ref *st = ph_snapshot_static_ref(s, v);
		const struct ph_stack_ref *sk = st ? NULL : ph_snapshot_stack_ref(s, v);
		char where[600] = "";
		if (st) {
			snprintf(where, sizeof(where), ": static data of %s+0x%llx",
				 s->static_files[st->file], (unsigned long long)st->offset);
		} else if (sk) {
			char frame[560];
			stack_place(g, sk, nested, frame, sizeof(frame));
			snprintf(where, sizeof(where), ": the value stack of %s", frame);
		}
		snprintf(tmp, sizeof(tmp), "<held by native code (%llu ref%s unaccounted)%s>",
			 (unsigned long long)un, un == 1 ? "" : "s", where);
		append(buf, cap, &len, "%s", tmp);
		cur = v;
	} else if (r == STATIC_TYPE_ROOT) {
		const char *tn = NULL;
		for (size_t t = 0; t < s->ntypes; t++)
			if (s->types[t].object == v)
				tn = s->types[t].name;
		append(buf, cap, &len, "%s", tn ? tn : "<static type>");
		cur = v;
	} else {
		char label[512];
		ph_graph_root_label(s, r, label, sizeof(label));
		append(buf, cap, &len, "%s", label);
		const struct ph_root *rt = &s->roots[r];
		code = rt->code;
		modules = rt->kind == PH_ROOT_MODULES;
		namespace = rt->kind == PH_ROOT_SYS || rt->kind == PH_ROOT_BUILTINS;
		cur = rt->object; // PH_NONE for a synthetic frame root
	}
	for (uint32_t k = n; k-- > 0;) {
		uint32_t e = chain[k];
		const struct ph_edge *edge = edge_is_root(e) ? &s->root_edges[e & ~PH_IN_ROOT] : &s->edges[e];
		if (cur != PH_NONE && PH_EDGE_KIND(edge->label) == PH_EDGE_LOCAL &&
		    (cur != (r < s->nroots ? s->roots[r].object : PH_NONE)))
			code = ph_graph_field(s, cur, PH_F_F_CODE);
		bool at_frame_root = k == n - 1 && r < s->nroots && s->roots[r].kind == PH_ROOT_FRAME &&
				     PH_EDGE_KIND(edge->label) != PH_EDGE_LOCAL;
		if (at_frame_root)
			append(buf, cap, &len, "%s", " ->");
		render_hop(s, cur, code, edge, namespace, modules, buf, cap, &len);
		if (k == 0 && PH_EDGE_KIND(edge->label) == PH_EDGE_FIELD &&
		    (PH_EDGE_PAYLOAD(edge->label) == PH_F_DICT ||
		     PH_EDGE_PAYLOAD(edge->label) == PH_F_TP_DICT))
			append(buf, cap, &len, "%s", ".__dict__"); // the path ends at the dict
		uint32_t next = edge->target;
		// Is the next object a namespace (its values read as ".key")?
		const struct ph_object *no = &s->objects[next];
		bool field_dict = PH_EDGE_KIND(edge->label) == PH_EDGE_FIELD &&
				  (PH_EDGE_PAYLOAD(edge->label) == PH_F_DICT ||
				   PH_EDGE_PAYLOAD(edge->label) == PH_F_TP_DICT);
		namespace = field_dict || (no->flags & PH_OBJ_MODULE_DICT);
		modules = false;
		cur = next;
	}
	free(chain);
	return buf;
}

void ph_graph_display_kind(const struct ph_graph *g, uint32_t i, char *buf, size_t cap)
{
	const struct ph_snapshot *s = g->snap;
	const struct ph_object *o = &s->objects[i];
	for (size_t r = 0; r < s->nroots; r++) {
		if (s->roots[r].object != i)
			continue;
		if (s->roots[r].kind == PH_ROOT_MODULES) {
			snprintf(buf, cap, "dict (sys.modules)");
			return;
		}
	}
	if (o->flags & PH_OBJ_MODULE_DICT) {
		const char *name = module_dict_name(s, i);
		snprintf(buf, cap, "dict of module%s%s", name ? " " : "", name ? name : "");
		return;
	}
	const char *k = ph_snapshot_kind(s, i, buf, cap);
	if (k != buf)
		snprintf(buf, cap, "%s", k);
}

// Whether @p starts with a constant's key: [None], [True], [False].
static bool constant_key(const char *p)
{
	return !strncmp(p, "[None]", 6) || !strncmp(p, "[True]", 6) || !strncmp(p, "[False]", 7);
}

void ph_path_group(char *path)
{
	char *w = path;
	for (char *r = path; *r;) {
		if (r[0] == '[' && (r[1] == '\'' || r[1] == '(' || r[1] == '<' || constant_key(r))) {
			// ['key'] groups like an index: many sessions, one path; so
			// does a key's short form (key_form()).
			bool quoted = r[1] == '\'';
			char *q = quoted ? strstr(r + 2, "']") : strchr(r + 2, ']');
			if (q) {
				memcpy(w, "[*]", 3);
				w += 3;
				r = q + (quoted ? 2 : 1);
				continue;
			}
		}
		if (*r == '[' && isdigit((unsigned char)r[1])) {
			char *q = r + 1;
			while (isdigit((unsigned char)*q))
				q++;
			if (*q == ']') {
				memcpy(w, "[*]", 3);
				w += 3;
				r = q + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

// The next bracket token of @p: sets *start and *len, returns false at the end.
static bool next_bracket(const char *p, const char **start, size_t *len)
{
	for (; *p; p++) {
		if (*p == '[' && (isdigit((unsigned char)p[1]) || p[1] == '\'' || p[1] == '*' ||
				  p[1] == '(' || p[1] == '<' || constant_key(p))) {
			const char *q = p[1] == '\'' ? strstr(p + 2, "']") : strchr(p, ']');
			if (!q)
				return false;
			*start = p;
			*len = (size_t)(q - p) + (p[1] == '\'' ? 2 : 1);
			return true;
		}
	}
	return false;
}

bool ph_path_merge(char *rep, const char *path)
{
	char out[4096];
	size_t o = 0;
	const char *a = rep, *b = path;
	for (;;) {
		const char *sa, *sb;
		size_t la, lb;
		bool ha = next_bracket(a, &sa, &la), hb = next_bracket(b, &sb, &lb);
		if (ha != hb)
			return false;
		if (!ha) {
			if (strcmp(a, b))
				return false;
			size_t rest = strlen(a);
			if (o + rest >= sizeof(out))
				return false;
			memcpy(out + o, a, rest + 1);
			break;
		}
		// The text between tokens must be equal.
		if ((size_t)(sa - a) != (size_t)(sb - b) || memcmp(a, b, (size_t)(sa - a)))
			return false;
		if (o + (size_t)(sa - a) + la + 4 >= sizeof(out))
			return false;
		memcpy(out + o, a, (size_t)(sa - a));
		o += (size_t)(sa - a);
		if (la == lb && !memcmp(sa, sb, la)) {
			memcpy(out + o, sa, la);
			o += la;
		} else {
			memcpy(out + o, "[*]", 3);
			o += 3;
		}
		a = sa + la;
		b = sb + lb;
	}
	if (strlen(out) > strlen(rep))
		return false;
	strcpy(rep, out);
	return true;
}
