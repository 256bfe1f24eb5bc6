/* SPDX-License-Identifier: MIT */
/*
 * The partition's cheap reachability count (ph_graph_reach) against the full
 * graph (ph_graph_build) on random snapshots: roots, root edges, static types,
 * cycles, native-held objects (refcounts above the visible references),
 * immortal objects. The two must agree on every count. And the dominators
 * (retained sizes) against their definition, object by object.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dominators.h"
#include "graph.h"
#include "referrers.h"
#include "snapshot.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t next(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

// A snapshot of @n objects of one type, "object", and no edges yet.
static struct ph_snapshot *objects_snapshot(uint32_t n)
{
	struct ph_snapshot *s = ph_snapshot_create();
	s->ntypes = 1;
	s->types = calloc(1, sizeof(*s->types));
	s->types[0].name = strdup("object");
	s->types[0].object = PH_NONE;
	s->nobjects = n;
	s->objects = calloc(n, sizeof(*s->objects));
	return s;
}

static struct ph_snapshot *random_snapshot(uint32_t n, uint32_t nedges, uint32_t nroots)
{
	struct ph_snapshot *s = objects_snapshot(n);
	s->edge_start = calloc(n + 1, sizeof(uint32_t));
	s->edges = calloc(nedges ? nedges : 1, sizeof(*s->edges));
	uint32_t *deg = calloc(n, sizeof(uint32_t));
	for (uint32_t e = 0; e < nedges; e++)
		deg[next(n)]++;
	for (uint32_t i = 0; i < n; i++)
		s->edge_start[i + 1] = s->edge_start[i] + deg[i];
	for (uint32_t e = 0; e < nedges; e++)
		s->edges[e] = (struct ph_edge){next(n), next(8) ? PH_EDGE(PH_EDGE_INDEX, e)
								: PH_EDGE(PH_EDGE_STATE, e)};
	s->nedges = nedges;
	s->roots = calloc(nroots ? nroots : 1, sizeof(*s->roots));
	s->root_edges = calloc(nroots * 2 + 1, sizeof(*s->root_edges));
	for (uint32_t r = 0; r < nroots; r++) {
		struct ph_root *rt = &s->roots[r];
		rt->kind = r % 2 ? PH_ROOT_FRAME : PH_ROOT_MODULES;
		rt->object = r % 3 ? next(n) : PH_NONE;
		rt->code = PH_NONE;
		rt->edge_start = (uint32_t)s->nroot_edges;
		for (uint32_t k = next(3); k > 0; k--)
			s->root_edges[s->nroot_edges++] = (struct ph_edge){next(n), PH_EDGE(PH_EDGE_LOCAL, k)};
		rt->edge_end = (uint32_t)s->nroot_edges;
	}
	s->nroots = nroots;
	// Visible references first, then a few objects with more (native-held)
	// or an immortal refcount; some static types.
	uint32_t *in = calloc(n, sizeof(uint32_t));
	for (uint32_t e = 0; e < nedges; e++)
		in[s->edges[e].target]++;
	for (size_t e = 0; e < s->nroot_edges; e++)
		in[s->root_edges[e].target]++;
	for (uint32_t i = 0; i < n; i++) {
		struct ph_object *o = &s->objects[i];
		o->address = 0x100000 + 16 * (uint64_t)i;
		o->size = 16 + next(1000);
		o->owner = PH_NONE;
		o->refcnt = in[i] + (next(20) == 0 ? 1 + next(3) : 0);
		if (next(50) == 0) {
			o->refcnt = 0xffffffffu;
			o->flags |= PH_OBJ_IMMORTAL;
		}
		if (next(200) == 0)
			o->flags |= PH_OBJ_STATIC_TYPE;
	}
	free(in);
	free(deg);
	return s;
}

// A snapshot of @n objects with the @nedges @edges, object i's from
// @start[i] to @start[i + 1], each referenced once but @twice (twice), and
// object 0 the one root (sys.modules' object).
static struct ph_snapshot *fixed_snapshot(uint32_t n, const struct ph_edge *edges, uint32_t nedges,
					  const uint32_t *start, uint32_t twice)
{
	struct ph_snapshot *s = objects_snapshot(n);
	s->nedges = nedges;
	s->edges = malloc(nedges * sizeof(*edges));
	memcpy(s->edges, edges, nedges * sizeof(*edges));
	s->edge_start = calloc(n + 1, sizeof(uint32_t));
	memcpy(s->edge_start, start, (n + 1) * sizeof(uint32_t));
	for (uint32_t i = 0; i < n; i++) {
		s->objects[i].address = 0x100000 + 16 * (uint64_t)i;
		s->objects[i].owner = PH_NONE;
		s->objects[i].refcnt = i == twice ? 2 : 1;
	}
	s->nroots = 1;
	s->roots = calloc(1, sizeof(*s->roots));
	s->roots[0] = (struct ph_root){.kind = PH_ROOT_MODULES, .object = 0, .code = PH_NONE,
				       .line = -1};
	return s;
}

// Gives object i of @s the text @texts[i] (NULL: none), as the walk keeps
// those of strs and ints.
static void set_texts(struct ph_snapshot *s, const char *const *texts)
{
	size_t pool = 1;
	for (uint32_t i = 0; i < s->nobjects; i++)
		pool += texts[i] ? strlen(texts[i]) + 1 : 0;
	s->text = calloc(s->nobjects, sizeof(*s->text));
	s->strings = calloc(pool, 1);
	for (uint32_t i = 0; i < s->nobjects; i++) {
		if (!texts[i])
			continue;
		s->text[i] = (uint32_t)s->strings_len + 1; /* (offset + 1) */
		strcpy(s->strings + s->strings_len, texts[i]);
		s->strings_len += strlen(texts[i]) + 1;
	}
}

// Checks that edge @e of @g's snapshot, from object @from, renders as @want.
static void check_label(const struct ph_graph *g, uint32_t from, uint32_t e, const char *want)
{
	char label[128];
	ph_graph_edge_label(g, from, &g->snap->edges[e], label, sizeof(label));
	if (strcmp(label, want))
		fprintf(stderr, "label %s, want %s\n", label, want);
	CHECK(!strcmp(label, want));
}

// A module M (sys.modules' object) whose state holds X, which its __dict__
// D names too, and Y, which only the state holds: X's path goes through D,
// Y's through the state.
static void test_state_edges_last(void)
{
	enum { M, D, X, Y, N };
	static const struct ph_edge edges[] = {
		{D, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)}, {X, PH_EDGE(PH_EDGE_STATE, 0)},
		{Y, PH_EDGE(PH_EDGE_STATE, 1)}, {X, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
	};
	static const uint32_t start[N + 1] = {0, 3, 4, 4, 4};
	struct ph_snapshot *s = fixed_snapshot(N, edges, 4, start, X);
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);
	CHECK(g.parent_edge[X] == 3);
	CHECK(g.parent_edge[Y] == 2);
	CHECK(g.reach[Y] == PH_REACH_ROOT && g.native_held == 0 && g.garbage_objects == 0);
	CHECK(g.dist[Y] >= 1);
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
}

// The words of C objects' structs (PH_EDGE_WORD) are inferred references too:
// an object X holds Z by a word and T by another; Z is also named three hops
// further (D -> V -> U -> Z): the named path wins although it is longer; T is
// reached through X's word, rendered as its offset.
static void test_word_edges_last(void)
{
	enum { M, D, X, V, U, Z, T, N };
	static const struct ph_edge edges[] = {
		{D, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)},
		{X, PH_EDGE(PH_EDGE_DICT_VALUE, 0)}, {V, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
		{Z, PH_EDGE(PH_EDGE_WORD, 24)}, {T, PH_EDGE(PH_EDGE_WORD, 40)},
		{U, PH_EDGE(PH_EDGE_INDEX, 0)},
		{Z, PH_EDGE(PH_EDGE_INDEX, 0)},
	};
	static const uint32_t start[N + 1] = {0, 1, 3, 5, 6, 7, 7, 7};
	struct ph_snapshot *s = fixed_snapshot(N, edges, sizeof(edges) / sizeof(edges[0]), start, Z);
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);
	CHECK(g.parent_edge[Z] == 6);
	CHECK(g.parent_edge[T] == 4);
	CHECK(g.reach[T] == PH_REACH_ROOT && g.native_held == 0 && g.garbage_objects == 0);
	check_label(&g, X, 4, ".<field +40>");
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
}

// A threading.local's dict of per-thread dicts names each by its thread: a
// key that is a weak reference to a dummy a thread's state dict holds
// (through 3.12), a dummy a thread's state holds (3.13+, a root); another
// key without a short form reads by its kind and address.
static void test_local_key_label(void)
{
	enum { M, LD, K1, V1, K2, V2, K3, V3, TD, D1, TK, N };
	static const struct ph_edge edges[] = {
		{LD, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{K1, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {V1, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{K2, PH_EDGE(PH_EDGE_DICT_KEY, 1)}, {V2, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
		{K3, PH_EDGE(PH_EDGE_DICT_KEY, 2)}, {V3, PH_EDGE(PH_EDGE_DICT_VALUE, 2)},
		{TK, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {D1, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
	};
	static const uint32_t start[N + 1] = {0, 1, 7, 7, 7, 7, 7, 7, 7, 9, 9, 9};
	struct ph_snapshot *s = fixed_snapshot(N, edges, sizeof(edges) / sizeof(edges[0]), start,
					       PH_NONE);
	static const char *const names[] = {"object", "weakref.ReferenceType",
					    "_thread._localdummy"};
	s->types = realloc(s->types, 3 * sizeof(*s->types));
	for (int t = 1; t < 3; t++)
		s->types[t] = (struct ph_type){.name = strdup(names[t]), .object = PH_NONE};
	s->ntypes = 3;
	s->objects[K1].type = 1;
	s->objects[K2].type = s->objects[D1].type = 2;
	s->weak_edges = calloc(1, sizeof(*s->weak_edges));
	s->weak_edges[0] = (struct ph_weak_edge){K1, D1};
	s->nweak_edges = 1;
	s->roots = realloc(s->roots, 3 * sizeof(*s->roots));
	s->roots[1] = (struct ph_root){.kind = PH_ROOT_THREAD_DICT, .object = TD, .code = PH_NONE,
				       .thread_id = 0x1111, .line = -1};
	s->roots[2] = (struct ph_root){.kind = PH_ROOT_LOCAL_KEY, .object = K2, .code = PH_NONE,
				       .thread_id = 0x2222, .line = -1};
	s->nroots = 3;
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);
	static const struct {
		uint32_t edge;
		const char *want;
	} hops[] = {{2, "[thread 0x1111]"}, {4, "[thread 0x2222]"}, {6, "[<object at 0x100060>]"}};
	for (size_t h = 0; h < sizeof(hops) / sizeof(hops[0]); h++)
		check_label(&g, LD, hops[h].edge, hops[h].want);
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
}

// A suspended coroutine's value stack (3.11+: in the coroutine): its top
// slot is what it awaits, ".cr_await"; a lower one, or a generator's top
// (which may be a for loop's iterator), reads " stack[N]". Through 3.10 the
// frame of a coroutine reads ".cr_frame", of an async generator ".ag_frame".
// (The frame field does not count as a slot.)
static void test_awaited_label(void)
{
	enum { M, C, G, A, B, D, AG, F, N };
	static const struct ph_edge edges[] = {
		{C, PH_EDGE(PH_EDGE_DICT_VALUE, 0)}, {G, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
		{AG, PH_EDGE(PH_EDGE_DICT_VALUE, 2)},
		{A, PH_EDGE(PH_EDGE_LOCAL, 3)},      {B, PH_EDGE(PH_EDGE_LOCAL, 5)},
		{F, PH_EDGE(PH_EDGE_FIELD, PH_F_GI_FRAME)},
		{D, PH_EDGE(PH_EDGE_LOCAL, 5)},      {F, PH_EDGE(PH_EDGE_FIELD, PH_F_GI_FRAME)},
		{F, PH_EDGE(PH_EDGE_FIELD, PH_F_GI_FRAME)},
	};
	static const uint32_t start[N + 1] = {0, 3, 6, 8, 8, 8, 8, 9, 9};
	struct ph_snapshot *s = fixed_snapshot(N, edges, sizeof(edges) / sizeof(edges[0]), start,
					       PH_NONE);
	static const char *const names[] = {"object", "coroutine", "generator", "async_generator"};
	s->types = realloc(s->types, 4 * sizeof(*s->types));
	for (int t = 1; t < 4; t++)
		s->types[t] = (struct ph_type){.name = strdup(names[t]), .object = PH_NONE};
	s->ntypes = 4;
	s->objects[C].type = 1;
	s->objects[G].type = 2;
	s->objects[AG].type = 3;
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);
	static const struct {
		uint32_t from, edge;
		const char *want;
	} hops[] = {{C, 4, ".cr_await"},  {C, 3, " stack[3]"},  {G, 6, " stack[5]"},
		    {C, 5, ".cr_frame"}, {G, 7, ".gi_frame"}, {AG, 8, ".ag_frame"}};
	for (size_t h = 0; h < sizeof(hops) / sizeof(hops[0]); h++)
		check_label(&g, hops[h].from, hops[h].edge, hops[h].want);
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
}

// A dict value's key as its path writes it: a str in quotes, a number, True,
// a class (also one no object is an instance of, by its own names), a tuple
// of such (a str in it with brackets or quotes dotted), an object without a
// short form by its kind and address.
static void test_key_label(void)
{
	enum { M, D, V, K1, K2, K3, K4, K5, K6, E1, E2, T, Q, TD, MK, MV, N };
	static const struct ph_edge edges[] = {
		{D, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{K1, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {V, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{K2, PH_EDGE(PH_EDGE_DICT_KEY, 1)}, {V, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
		{K3, PH_EDGE(PH_EDGE_DICT_KEY, 2)}, {V, PH_EDGE(PH_EDGE_DICT_VALUE, 2)},
		{K4, PH_EDGE(PH_EDGE_DICT_KEY, 3)}, {V, PH_EDGE(PH_EDGE_DICT_VALUE, 3)},
		{K5, PH_EDGE(PH_EDGE_DICT_KEY, 4)}, {V, PH_EDGE(PH_EDGE_DICT_VALUE, 4)},
		{K6, PH_EDGE(PH_EDGE_DICT_KEY, 5)}, {V, PH_EDGE(PH_EDGE_DICT_VALUE, 5)},
		{E1, PH_EDGE(PH_EDGE_INDEX, 0)},    {E2, PH_EDGE(PH_EDGE_INDEX, 1)},
		{T, PH_EDGE(PH_EDGE_INDEX, 2)},
		{Q, PH_EDGE(PH_EDGE_FIELD, PH_F_HT_QUALNAME)}, {TD, PH_EDGE(PH_EDGE_FIELD, PH_F_TP_DICT)},
		{MK, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {MV, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
	};
	/* M, D, V, K1-K3, K4 (a tuple), K5, K6 (a class of no object), E1, E2,
	 * T, Q, TD (K6's dict), MK, MV */
	static const uint32_t start[N + 1] = {0,  1,  13, 13, 13, 13, 13, 16, 16,
					      18, 18, 18, 18, 18, 20, 20, 20};
	struct ph_snapshot *s = fixed_snapshot(N, edges, sizeof(edges) / sizeof(edges[0]), start,
					       PH_NONE);
	static const char *const names[] = {"object", "str", "int", "bool", "tuple", "type", "set"};
	s->types = realloc(s->types, 7 * sizeof(*s->types));
	for (int t = 1; t < 7; t++)
		s->types[t] = (struct ph_type){.name = strdup(names[t]), .object = PH_NONE};
	s->types[1].object = T; /* T is the class str */
	s->ntypes = 7;
	static const struct {
		uint32_t obj, type;
		const char *text;
	} objs[] = {{K1, 2, "42"},     {K2, 3, "1"},     {K3, 5, NULL},         {K4, 4, NULL},
		    {K5, 6, NULL},     {K6, 5, NULL},    {E1, 1, "42"},         {E2, 1, "a[b]'c"},
		    {T, 5, NULL},      {Q, 1, "Ctx"},    {MK, 1, "__module__"}, {MV, 1, "pkg.mod"}};
	const char *texts[N] = {0};
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		s->objects[objs[i].obj].type = objs[i].type;
		texts[objs[i].obj] = objs[i].text;
	}
	set_texts(s, texts);
	s->types[4].object = K3; /* K3 is the class tuple */
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);
	char want[64];
	snprintf(want, sizeof(want), "[<set at 0x%llx>]", (unsigned long long)s->objects[K5].address);
	const struct {
		uint32_t edge;
		const char *want;
	} hops[] = {{2, "[42]"}, {4, "[True]"}, {6, "[<class 'tuple'>]"},
		    {8, "[('42', 'a.b..c', <class 'str'>)]"}, {10, want},
		    {12, "[<class 'pkg.mod.Ctx'>]"}};
	for (size_t h = 0; h < sizeof(hops) / sizeof(hops[0]); h++)
		check_label(&g, D, hops[h].edge, hops[h].want);
	// An int key of more than two 30-bit digits has a text only when the
	// walk kept values: paths name it by its address all the same (a path
	// printed by one run selects in another); its value is its digits.
	for (int big = 0; big < 2; big++) {
		const char *t = big ? "-1152921504606846976" : "-1152921504606846975";
		free(s->text);
		free(s->strings);
		s->strings_len = 0;
		texts[K1] = t;
		set_texts(s, texts);
		char kw[64], v[64];
		if (big)
			snprintf(kw, sizeof(kw), "[<int at 0x%llx>]",
				 (unsigned long long)s->objects[K1].address);
		else
			snprintf(kw, sizeof(kw), "[%s]", t);
		check_label(&g, D, 2, kw);
		CHECK(ph_graph_value(s, K1, v, sizeof(v)) && !strcmp(v, t));
	}
	char path[] = "x[('42', 'a.b..c', <class 'str'>)].y[<set at 0x10>][None][Nonesuch]";
	ph_path_group(path);
	CHECK(!strcmp(path, "x[*].y[*][*][Nonesuch]"));
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
}

// What one object holds (--referrers 0xADDRESS): its references in order,
// its own __dict__'s entries as attributes after it, a dict key that is no
// str or number as a row of its own, values as repr() writes them (escaped,
// cut between characters), items of containers, retained sizes, the limit.
static void test_holds(void)
{
	enum { M, I, ID, S1, S2, KT, L, X1, X2, C, K1, K2, K3, KS, TI, N };
	static const struct ph_edge edges[] = {
		{I, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{ID, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)}, {C, PH_EDGE(PH_EDGE_FIELD, PH_F_CLASS)},
		{K1, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {S1, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{K2, PH_EDGE(PH_EDGE_DICT_KEY, 1)}, {S2, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
		{KT, PH_EDGE(PH_EDGE_DICT_KEY, 2)}, {L, PH_EDGE(PH_EDGE_DICT_VALUE, 2)},
		{KS, PH_EDGE(PH_EDGE_INDEX, 0)}, {TI, PH_EDGE(PH_EDGE_INDEX, 1)},
		{X1, PH_EDGE(PH_EDGE_INDEX, 0)}, {X2, PH_EDGE(PH_EDGE_INDEX, 1)},
		{K3, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {S1, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
	};
	/* M: I; I: ID, C; ID: 3 entries; KT: KS, TI; L: X1, X2; C: its dict's
	 * one entry (K3, S1: a second reference to S1) */
	static const uint32_t start[N + 1] = {0, 1, 3, 9, 9, 9, 11, 13, 13, 13, 15, 15, 15, 15, 15, 15};
	struct ph_snapshot *s = fixed_snapshot(N, edges, sizeof(edges) / sizeof(edges[0]), start, S1);
	static const char *const names[] = {"object", "str", "int", "tuple", "list",
					    "dict", "type", "pkg.Foo"};
	s->types = realloc(s->types, 8 * sizeof(*s->types));
	for (int t = 1; t < 8; t++)
		s->types[t] = (struct ph_type){.name = strdup(names[t]), .object = PH_NONE};
	s->ntypes = 8;
	s->types[5].is_dict = true;
	s->types[7].object = C;
	static const uint32_t type_of[N] = {[I] = 7, [ID] = 5, [S1] = 1, [S2] = 1, [KT] = 3,
					    [L] = 4, [X1] = 2, [X2] = 2, [C] = 6, [K1] = 1,
					    [K2] = 1, [K3] = 1, [KS] = 1, [TI] = 2};
	// 59 'a's, a 3-byte character across the 60th byte, then more.
	char long_text[80];
	memset(long_text, 'a', 59);
	strcpy(long_text + 59, "\xe4\xb8\xad" "bcd");
	const char *texts[N] = {[S1] = "it's\n\x01\\", [S2] = long_text, [X1] = "7",
				[X2] = "-8", [K1] = "path", [K2] = "note", [K3] = "x",
				[KS] = "user", [TI] = "42"};
	for (uint32_t i = 0; i < N; i++) {
		s->objects[i].type = type_of[i];
		s->objects[i].size = 100 + i;
	}
	s->objects[ID].owner = I;
	s->objects[C].refcnt = 2; /* (the type object of pkg.Foo, held by native code too) */
	set_texts(s, texts);
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);

	char v[128];
	CHECK(ph_graph_value(s, S1, v, sizeof(v)) && !strcmp(v, "\"it's\\n\\x01\\\\\""));
	char want[96];
	snprintf(want, sizeof(want), "'%.59s\xe4\xb8\xad…'", long_text);
	CHECK(ph_graph_value(s, S2, v, sizeof(v)) && !strcmp(v, want));
	CHECK(ph_graph_value(s, KT, v, sizeof(v)) && !strcmp(v, "('user', 42)"));
	CHECK(ph_graph_value(s, X2, v, sizeof(v)) && !strcmp(v, "-8"));
	CHECK(ph_graph_value(s, C, v, sizeof(v)) && !strcmp(v, "<class 'pkg.Foo'>"));
	CHECK(!ph_graph_value(s, L, v, sizeof(v)) && !v[0]);
	CHECK(!ph_graph_value(s, I, v, sizeof(v)) && !v[0]);
	CHECK(ph_graph_items(s, L) == 2 && ph_graph_items(s, ID) == 3 && ph_graph_items(s, KT) == -1 &&
	      ph_graph_items(s, I) == -1);

	struct ph_holds h;
	CHECK(ph_holds_compute(&g, I, 0, &h) == NULL);
	static const struct {
		const char *label;
		uint32_t object;
		const char *value;
		int64_t items;
		uint64_t retained;
	} rows[] = {
		{".__dict__", ID, NULL, 3, 0},
		{".path", S1, "\"it's\\n\\x01\\\\\"", -1, 100 + S1},
		{".note", S2, NULL /* want */, -1, 100 + S2},
		{"[('user', 42)] (key)", KT, "('user', 42)", -1, 3 * 100 + KT + KS + TI},
		{"[('user', 42)]", L, NULL, 2, 3 * 100 + L + X1 + X2},
		{".__class__", C, "<class 'pkg.Foo'>", -1, 2 * 100 + C + K3},
	};
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	CHECK(h.nrows == NROWS && h.total == NROWS && !h.value && h.items == -1);
	for (size_t r = 0; r < h.nrows && r < NROWS; r++) {
		const char *wv = r == 2 ? want : rows[r].value;
		if (strcmp(h.rows[r].label, rows[r].label) || h.rows[r].object != rows[r].object ||
		    (wv ? !h.rows[r].value || strcmp(h.rows[r].value, wv) : h.rows[r].value != NULL) ||
		    h.rows[r].items != rows[r].items ||
		    (r && h.rows[r].retained != rows[r].retained)) {
			fprintf(stderr, "row %zu: '%s' %u %s %lld %llu\n", r, h.rows[r].label,
				h.rows[r].object, h.rows[r].value ? h.rows[r].value : "(none)",
				(long long)h.rows[r].items, (unsigned long long)h.rows[r].retained);
			check_failures++;
		}
	}
	// The dict retains what only it holds: the strs but S1 (held by C too).
	CHECK(h.rows[0].retained == 10 * 100 + ID + S2 + KT + KS + TI + L + X1 + X2 + K1 + K2);
	ph_holds_deinit(&h);
	// The dict itself (an instance's: its entries read as attributes).
	CHECK(ph_holds_compute(&g, ID, 2, &h) == NULL);
	CHECK(h.nrows == 2 && h.total == 4 && h.items == 3 && !h.value);
	CHECK(h.nrows == 2 && !strcmp(h.rows[0].label, ".path") &&
	      !strcmp(h.rows[1].label, ".note"));
	ph_holds_deinit(&h);
	// A str: its value, nothing held.
	CHECK(ph_holds_compute(&g, S2, 0, &h) == NULL);
	CHECK(h.nrows == 0 && h.total == 0 && h.value && !strcmp(h.value, want));
	ph_holds_deinit(&h);
	CHECK(ph_holds_compute(&g, N, 0, &h) != NULL);
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
}

// A float's value as repr() writes it (ph_float_repr()), on random bit
// patterns and on the values of every exponent: it reads back as the same
// double; one significant digit fewer, correctly rounded, would not; and it
// has an exponent exactly when repr() would (the point more than 16 digits
// right of the first digit or 4 left of it), else a point with a digit after.
static void test_float_repr(void)
{
	char r[64], e[64];
	int bad = 0;
	// (Its own generator: the random graphs after it stay as they were.)
	uint64_t saved = rng;
	for (int k = 0; k < 200000 && bad < 10; k++) {
		uint64_t bits = (uint64_t)next(1u << 31) << 33 ^ (uint64_t)next(1u << 31) << 2 ^ next(4);
		if (k % 3 == 0) // (short decimals, as most values are)
			bits = 0;
		double v;
		memcpy(&v, &bits, 8);
		if (k % 3 == 0)
			v = (double)(int)next(2000001) / (double)(1 + next(10000)) - 100.0;
		if (v != v)
			continue;
		ph_float_repr(v, r, sizeof(r));
		bool ok = strtod(r, NULL) == v && (v != 0 || (r[0] == '-') == (bits >> 63 && k % 3));
		// Its significant digits.
		int nd = 0;
		bool lead = true;
		for (const char *c = r; *c && *c != 'e'; c++) {
			if (*c >= '1' && *c <= '9')
				lead = false;
			if (*c >= '0' && *c <= '9' && !lead)
				nd++;
		}
		// (Trailing zeros of an integral value are not significant.)
		if (!strchr(r, 'e') && strstr(r, ".0") && !strcmp(strstr(r, ".0"), ".0")) {
			nd--; // the ".0"
			for (const char *c = strchr(r, '.') - 1; c > r && *c == '0'; c--)
				nd--;
		}
		if (nd > 1 && v != 0 && v - v == 0) {
			snprintf(e, sizeof(e), "%.*e", nd - 2, v);
			ok = ok && strtod(e, NULL) != v;
		}
		snprintf(e, sizeof(e), "%.16e", v);
		int decpt = atoi(strchr(e, 'e') + 1) + 1;
		if (v - v == 0 && v != 0)
			ok = ok && (strchr(r, 'e') != NULL) == (decpt <= -4 || decpt > 16) &&
			     (strchr(r, 'e') || (strchr(r, '.') && strchr(r, '.')[1]));
		if (!ok) {
			fprintf(stderr, "float repr of %.17g (bits %016llx): '%s'\n", v,
				(unsigned long long)bits, r);
			bad++;
		}
	}
	rng = saved;
	CHECK(!bad);
	static const struct {
		double v;
		const char *repr;
	} known[] = {{0.0, "0.0"},	     {1.0 / 3, "0.3333333333333333"}, {1e16, "1e+16"},
		     {1e-5, "1e-05"},	     {1e-4, "0.0001"},		      {-2.5e-300, "-2.5e-300"},
		     {1234567890123456.0, "1234567890123456.0"},	      {1e300 * 1e10, "inf"}};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		ph_float_repr(known[i].v, r, sizeof(r));
		if (strcmp(r, known[i].repr)) {
			fprintf(stderr, "float repr: '%s', expected '%s'\n", r, known[i].repr);
			check_failures++;
		}
	}
}

// Source files as frames show them: within their package, else by base name.
static void test_short_file(void)
{
	static const char *const cases[][2] = {
		{"/usr/lib/python3/dist-packages/flask/app.py", "flask/app.py"},
		{"/srv/venv/lib/python3.11/site-packages/aiohttp/web_app.py", "aiohttp/web_app.py"},
		{"/opt/py/lib/python3.13t/site-packages/a/site-packages/b/c.py", "b/c.py"},
		{"/usr/lib/python3.11/asyncio/tasks.py", "asyncio/tasks.py"},
		{"/root/.pyenv/versions/3.12.1/lib/python3.12/threading.py", "threading.py"},
		{"/srv/app/lib/python/handlers.py", "handlers.py"},
		{"/tmp/fl/app.py", "app.py"},
		{"app.py", "app.py"},
		{"<frozen importlib._bootstrap>", "<frozen importlib._bootstrap>"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = ph_graph_short_file(cases[i][0]);
		if (strcmp(got, cases[i][1])) {
			fprintf(stderr, "short file of %s: %s, want %s\n", cases[i][0], got, cases[i][1]);
			check_failures++;
		}
	}
	CHECK(!strcmp(ph_graph_short_file(NULL), "?"));
}

// An object by a path as paths print it (--referrers PATH): from a module
// (the longest dotted name sys.modules has, then each hop), or from another
// root (the codecs' cache here) or what native code holds, down the
// shortest paths.
static void test_find_path(void)
{
	enum { SM, MN, MO, MD, K, C, KT, KS, TI, I, ID, KA, A, X, CC, KU, Z, NH, NX, N };
	static const struct ph_edge edges[] = {
		{MN, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {MO, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{MD, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)},
		{K, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {C, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{KT, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {I, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{KS, PH_EDGE(PH_EDGE_INDEX, 0)}, {TI, PH_EDGE(PH_EDGE_INDEX, 1)},
		{ID, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)},
		{KA, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {A, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{X, PH_EDGE(PH_EDGE_INDEX, 0)},
		{KU, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {Z, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{X, PH_EDGE(PH_EDGE_INDEX, 0)},
		{NX, PH_EDGE(PH_EDGE_INDEX, 0)},
	};
	/* (NH: referred to by nothing, its one reference native code's) */
	static const uint32_t start[N + 1] = {0,  2,  2,  3,  5,  5,  7,  9,  9,  9,
					      10, 12, 12, 13, 13, 15, 15, 16, 17, 17};
	struct ph_snapshot *s = fixed_snapshot(N, edges, sizeof(edges) / sizeof(edges[0]), start, X);
	static const char *const names[] = {"object", "str", "int", "tuple", "list",
					    "dict", "module", "pkg.Foo"};
	s->types = realloc(s->types, 8 * sizeof(*s->types));
	for (int t = 1; t < 8; t++)
		s->types[t] = (struct ph_type){.name = strdup(names[t]), .object = PH_NONE};
	s->ntypes = 8;
	s->types[5].is_dict = true;
	static const uint32_t type_of[N] = {[SM] = 5, [MN] = 1, [MO] = 6, [MD] = 5, [K] = 1,
					    [C] = 5, [KT] = 3, [KS] = 1, [TI] = 2, [I] = 7,
					    [ID] = 5, [KA] = 1, [A] = 4, [X] = 2, [CC] = 5,
					    [KU] = 1, [Z] = 4, [NH] = 4, [NX] = 4};
	const char *texts[N] = {[MN] = "pkg.mod", [K] = "cache", [KS] = "user", [TI] = "42",
				[KA] = "attr", [X] = "7", [KU] = "utf-8"};
	for (uint32_t i = 0; i < N; i++)
		s->objects[i].type = type_of[i];
	s->objects[MD].flags |= PH_OBJ_MODULE_DICT;
	s->objects[MD].owner = MO;
	s->objects[ID].owner = I;
	set_texts(s, texts);
	s->roots = realloc(s->roots, 2 * sizeof(*s->roots));
	s->roots[1] = (struct ph_root){.kind = PH_ROOT_CODEC_CACHE, .object = CC, .code = PH_NONE,
				       .line = -1};
	s->nroots = 2;
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);
	static const struct {
		const char *path;
		uint32_t want;
	} cases[] = {
		{"pkg.mod", MO},
		{"pkg.mod.cache", C},
		{"pkg.mod.__dict__", MD},
		{"pkg.mod.cache[('user', 42)]", I},
		{"pkg.mod.cache[('user', 42)].attr", A},
		{"pkg.mod.cache[('user', 42)].__dict__['attr']", A},
		{"pkg.mod.cache[('user', 42)].attr[0]", X},
		{"codecs cache['utf-8']", Z},
		{"codecs cache", CC},
		{"<held by native code (1 ref unaccounted)>[0]", NX},
		{"<held by native code (1 ref unaccounted)>", NH},
		{"pkg.mod.cache[('user', 42)].attr[1]", PH_NONE},
		{"pkg.mod.cache['nope']", PH_NONE},
		{"pkg.mod.cache[('user', 42)", PH_NONE},
		{"pkg.mod.cache..attr", PH_NONE},
		{"pkg.mod.cache[]", PH_NONE},
		{"codecs cache['utf-8'][0]", PH_NONE}, /* (X's path is the module's: preferred) */
		{"pkg", PH_NONE},
		{"pkg.mo", PH_NONE},
		{"", PH_NONE},
	};
	// With "[*]": every item there (from a module, hop by hop; from another
	// root, or what native code holds, by the printed paths).
	static const struct {
		const char *path;
		uint32_t n, want;
	} sets[] = {{"pkg.mod.cache[*]", 1, I},      {"pkg.mod.cache[*].attr[*]", 1, X},
		    {"pkg.mod.cache[*].attr", 1, A},  {"pkg.mod.cache[*].nope", 0, 0},
		    {"pkg.mod.cache[*][*]", 0, 0},    {"pkg.mod.cache", 1, C},
		    {"codecs cache[*]", 1, Z},
		    {"<held by native code (1 ref unaccounted)>[*]", 1, NX},
		    {"codecs cache[*][*]", 0, 0}};
	for (size_t c = 0; c < sizeof(sets) / sizeof(sets[0]); c++) {
		uint32_t *v = NULL;
		size_t nv = 99;
		CHECK(ph_graph_select_path(&g, sets[c].path, &v, &nv) == NULL);
		if (nv != sets[c].n || (nv && v[0] != sets[c].want) || (!nv && v)) {
			fprintf(stderr, "select \"%s\": %zu objects, expected %u\n", sets[c].path, nv,
				sets[c].n);
			check_failures++;
		}
		free(v);
	}
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint32_t got = ph_graph_find_path(&g, cases[c].path);
		if (got != cases[c].want) {
			fprintf(stderr, "path \"%s\": object %u, expected %u\n", cases[c].path, got,
				cases[c].want);
			check_failures++;
		}
	}
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
}

// What the objects of a kind hold, by reference: their references grouped by
// label (an instance's __dict__'s entries as its attributes) and kind, with
// the distinct objects, their sizes and retained sizes, largest first.
static void test_holds_groups(void)
{
	enum { M, I1, I2, I3, D1, D2, D3, A1, A2, A3, KA, KB, SL, C, N };
	static const struct ph_edge edges[] = {
		{I1, PH_EDGE(PH_EDGE_INDEX, 0)}, {I2, PH_EDGE(PH_EDGE_INDEX, 1)},
		{I3, PH_EDGE(PH_EDGE_INDEX, 2)},
		{D1, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)}, {C, PH_EDGE(PH_EDGE_FIELD, PH_F_CLASS)},
		{D2, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)}, {C, PH_EDGE(PH_EDGE_FIELD, PH_F_CLASS)},
		{D3, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)}, {C, PH_EDGE(PH_EDGE_FIELD, PH_F_CLASS)},
		{KA, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {A1, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{KB, PH_EDGE(PH_EDGE_DICT_KEY, 1)}, {SL, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
		{KA, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {A2, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{KB, PH_EDGE(PH_EDGE_DICT_KEY, 1)}, {SL, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
		{KA, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {A3, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{KB, PH_EDGE(PH_EDGE_DICT_KEY, 1)}, {SL, PH_EDGE(PH_EDGE_DICT_VALUE, 1)},
	};
	static const uint32_t start[N + 1] = {0,  3,  5,  7,  9,  13, 17, 21,
					      21, 21, 21, 21, 21, 21, 21};
	struct ph_snapshot *s = fixed_snapshot(N, edges, sizeof(edges) / sizeof(edges[0]), start,
					       PH_NONE);
	static const char *const names[] = {"object", "str", "list", "dict", "type", "pkg.Foo"};
	s->types = realloc(s->types, 6 * sizeof(*s->types));
	for (int t = 1; t < 6; t++)
		s->types[t] = (struct ph_type){.name = strdup(names[t]), .object = PH_NONE};
	s->ntypes = 6;
	s->types[3].is_dict = true;
	s->types[5].object = C;
	static const uint32_t type_of[N] = {[M] = 2, [I1] = 5, [I2] = 5, [I3] = 5, [D1] = 3,
					    [D2] = 3, [D3] = 3, [A1] = 1, [A2] = 1, [A3] = 1,
					    [KA] = 1, [KB] = 1, [SL] = 2, [C] = 4};
	const char *texts[N] = {[A1] = "x", [A2] = "y", [A3] = "z", [KA] = "a", [KB] = "b"};
	for (uint32_t i = 0; i < N; i++) {
		s->objects[i].type = type_of[i];
		s->objects[i].size = 100 + i;
		s->objects[i].refcnt = 1;
	}
	s->objects[KA].refcnt = s->objects[KB].refcnt = s->objects[SL].refcnt = 3;
	s->objects[C].refcnt = 3;
	s->objects[D1].owner = I1, s->objects[D2].owner = I2, s->objects[D3].owner = I3;
	set_texts(s, texts);
	struct ph_graph g;
	CHECK(ph_graph_build(s, &g) == NULL);
	static const uint32_t objs[] = {I1, I2, I3};
	struct ph_holds_groups h;
	CHECK(ph_holds_groups_compute(&g, objs, 3, 0, &h) == NULL);
	static const struct {
		const char *label, *kind;
		uint64_t refs, objects, size, retained;
	} rows[] = {
		{".__dict__", "dict of pkg.Foo", 3, 3, 300 + D1 + D2 + D3,
		 600 + D1 + D2 + D3 + A1 + A2 + A3},
		{".a", "str", 3, 3, 300 + A1 + A2 + A3, 300 + A1 + A2 + A3},
		{".__class__", "type", 3, 1, 100 + C, 100 + C},
		{".b", "list", 3, 1, 100 + SL, 100 + SL},
	};
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	CHECK(h.n == NROWS && h.total == NROWS && h.sources == 3);
	for (size_t r = 0; r < h.n && r < NROWS; r++)
		if (strcmp(h.rows[r].label, rows[r].label) || strcmp(h.rows[r].kind, rows[r].kind) ||
		    h.rows[r].refs != rows[r].refs || h.rows[r].objects != rows[r].objects ||
		    h.rows[r].size != rows[r].size || h.rows[r].retained != rows[r].retained) {
			fprintf(stderr, "row %zu: %s %s %llu %llu %llu %llu\n", r, h.rows[r].label,
				h.rows[r].kind, (unsigned long long)h.rows[r].refs,
				(unsigned long long)h.rows[r].objects,
				(unsigned long long)h.rows[r].size,
				(unsigned long long)h.rows[r].retained);
			check_failures++;
		}
	ph_holds_groups_deinit(&h);
	// The limit: the largest rows, and how many there are.
	CHECK(ph_holds_groups_compute(&g, objs, 3, 2, &h) == NULL);
	CHECK(h.n == 2 && h.total == NROWS && !strcmp(h.rows[1].label, ".a"));
	ph_holds_groups_deinit(&h);
	ph_graph_deinit(&g);
	ph_snapshot_destroy(s);
	// A dict's keys are groups of their own (a record's), up to 64 of
	// them; past that, one group (a map's).
	for (uint32_t nkeys = 3; nkeys <= 70; nkeys += 67) {
		uint32_t nobj = 2 + 2 * nkeys;
		struct ph_edge *ed = calloc(1 + 2 * nkeys, sizeof(*ed));
		uint32_t *st = calloc(nobj + 1, sizeof(uint32_t));
		ed[0] = (struct ph_edge){1, PH_EDGE(PH_EDGE_INDEX, 0)};
		for (uint32_t k = 0; k < nkeys; k++) {
			ed[1 + 2 * k] = (struct ph_edge){2 + k, PH_EDGE(PH_EDGE_DICT_KEY, k)};
			ed[2 + 2 * k] = (struct ph_edge){2 + nkeys + k, PH_EDGE(PH_EDGE_DICT_VALUE, k)};
		}
		st[1] = 1;
		for (uint32_t i = 2; i <= nobj; i++)
			st[i] = 1 + 2 * nkeys;
		struct ph_snapshot *m = fixed_snapshot(nobj, ed, 1 + 2 * nkeys, st, PH_NONE);
		m->types = realloc(m->types, 4 * sizeof(*m->types));
		for (int t = 1; t < 4; t++)
			m->types[t] = (struct ph_type){.name = strdup(names[t]), .object = PH_NONE};
		m->ntypes = 4;
		m->types[3].is_dict = true;
		const char **kt = calloc(nobj, sizeof(*kt));
		char (*kn)[8] = calloc(nkeys, sizeof(*kn));
		m->objects[1].type = 3;
		for (uint32_t k = 0; k < nkeys; k++) {
			snprintf(kn[k], sizeof(kn[k]), "k%u", k);
			kt[2 + k] = kn[k];
			m->objects[2 + k].type = 1;
			m->objects[2 + nkeys + k].type = 2; /* (a list each) */
		}
		set_texts(m, kt);
		struct ph_graph mg;
		CHECK(ph_graph_build(m, &mg) == NULL);
		static const uint32_t dict[] = {1};
		CHECK(ph_holds_groups_compute(&mg, dict, 1, 0, &h) == NULL);
		if (nkeys == 3)
			CHECK(h.n == 3 && !strcmp(h.rows[0].label, "['k0']") &&
			      !strcmp(h.rows[2].label, "['k2']") && h.rows[0].refs == 1);
		else
			CHECK(h.n == 1 && !strcmp(h.rows[0].label, "[*]") && h.rows[0].refs == nkeys &&
			      h.rows[0].objects == nkeys);
		ph_holds_groups_deinit(&h);
		ph_graph_deinit(&mg);
		ph_snapshot_destroy(m);
		free(ed);
		free(st);
		free(kt);
		free(kn);
	}
}

// Marks in @seen what the virtual root reaches without passing @skip
// (PH_NONE: none): from the starts of paths, the roots' objects and the
// targets of root edges.
static void reach_without_root(const struct ph_graph *g, uint32_t skip, uint32_t skip_root,
			       uint64_t skip_thread, uint8_t *seen, uint32_t *queue);

static void reach_without(const struct ph_graph *g, uint32_t skip, uint8_t *seen, uint32_t *queue)
{
	reach_without_root(g, skip, PH_NONE, 0, seen, queue);
}

// The same, without root @skip_root (its object and its edges) either, nor
// the roots of thread @skip_thread (0: none).
static void reach_without_root(const struct ph_graph *g, uint32_t skip, uint32_t skip_root,
			       uint64_t skip_thread, uint8_t *seen, uint32_t *queue)
{
	const struct ph_snapshot *s = g->snap;
	uint32_t n = (uint32_t)s->nobjects, head = 0, tail = 0;
	memset(seen, 0, n);
	// (The starts that are no root's object: static types, what native
	// code holds.)
	for (uint32_t i = 0; i < n; i++) {
		bool held = false;
		for (size_t r = 0; r < s->nroots; r++)
			held |= s->roots[r].object == i;
		if (!held && i != skip && g->parent_edge[i] == PH_NONE && g->dist[i] != UINT32_MAX)
			seen[i] = 1, queue[tail++] = i;
	}
	for (size_t r = 0; r < s->nroots; r++) {
		uint32_t t = s->roots[r].object;
		if (skip_thread && s->roots[r].thread_id == skip_thread)
			continue;
		if (r != skip_root && t != PH_NONE && t != skip && !seen[t])
			seen[t] = 1, queue[tail++] = t;
		for (uint32_t e = s->roots[r].edge_start; e < s->roots[r].edge_end; e++) {
			t = s->root_edges[e].target;
			if (r != skip_root && t != skip && !seen[t])
				seen[t] = 1, queue[tail++] = t;
		}
	}
	while (head < tail) {
		uint32_t u = queue[head++];
		for (uint32_t e = s->edge_start[u]; e < s->edge_start[u + 1]; e++) {
			uint32_t v = s->edges[e].target;
			if (v != skip && !seen[v])
				seen[v] = 1, queue[tail++] = v;
		}
	}
}

// The rows of --retained (a random number of the objects that retain the
// most), against the dominance matrix @dom: each row is within the nearest
// row that dominates it (every other row that does dominates that one), and
// what each of the first rows keeps by kind is the partition of the objects
// it dominates, itself included. Returns how many rows had a row above them
// or kinds checked.
static int check_rows(const struct ph_snapshot *s, const struct ph_dominators *d,
		      const uint8_t *dom)
{
	uint32_t n = (uint32_t)s->nobjects, *top = NULL;
	size_t ntop = 0, nkinds = next(n + 1);
	int checked = 0;
	CHECK(ph_dominators_top(d, 1 + next(n), &top, &ntop) == NULL);
	struct ph_retained_rows rows;
	CHECK(ph_dominators_rows(s, d, top, ntop, nkinds, &rows) == NULL);
	CHECK(rows.n == ntop && rows.nkinds == (nkinds < ntop ? nkinds : ntop));
	for (size_t r = 0; r < ntop; r++) {
		uint32_t want = PH_NONE;
		for (size_t q = 0; q < ntop; q++) {
			if (q == r || !dom[top[q] * n + top[r]])
				continue;
			bool nearest = true;
			for (size_t o = 0; o < ntop; o++)
				if (o != r && dom[top[o] * n + top[r]] && !dom[top[o] * n + top[q]])
					nearest = false;
			if (nearest)
				want = (uint32_t)q;
		}
		CHECK(rows.within[r] == want);
		checked += want != PH_NONE;
	}
	struct ph_kind_acc *acc = calloc(ph_kind_slots(s), sizeof(*acc));
	for (size_t r = 0; r < rows.nkinds; r++) {
		memset(acc, 0, ph_kind_slots(s) * sizeof(*acc));
		for (uint32_t v = 0; v < n; v++)
			if (v == top[r] || dom[top[r] * n + v]) {
				acc[ph_kind_slot(s, v)].count++;
				acc[ph_kind_slot(s, v)].size += s->objects[v].size;
			}
		struct ph_partition want;
		CHECK(ph_partition_from_slots(s, acc, &want) == NULL);
		const struct ph_partition *got = &rows.kinds[r];
		CHECK(got->nrows == want.nrows && got->objects == want.objects &&
		      got->size == want.size && got->size == d->retained[top[r]]);
		for (size_t k = 0; k < want.nrows && k < got->nrows; k++)
			CHECK(!strcmp(got->rows[k].kind, want.rows[k].kind) &&
			      got->rows[k].count == want.rows[k].count &&
			      got->rows[k].size == want.rows[k].size);
		ph_partition_deinit(&want);
		checked++;
	}
	free(acc);
	ph_retained_rows_deinit(&rows);
	free(top);
	return checked;
}

// On small random snapshots: d dominates v when v, reached from the roots,
// is not without d; each object's retained size is the size of those it
// dominates, itself included; its immediate dominator is the dominator of
// it that every other one dominates.
static void test_dominators(void)
{
	int checked = 0, deep = 0, rows_checked = 0, roots_holding = 0, threads_sharing = 0;
	for (int round = 0; round < 200; round++) {
		uint32_t n = 1 + next(40);
		struct ph_snapshot *s = random_snapshot(n, next(2 * n + 1), 1 + next(5));
		// Some roots are a thread's (its frames...): threads 0x10 and 0x20.
		for (uint32_t r = 0; r < s->nroots; r++)
			s->roots[r].thread_id = (uint64_t)next(3) * 0x10;
		// Kinds: object, Foo, dict (no owner) and dict of Foo.
		s->types = reallocarray(s->types, 3, sizeof(*s->types));
		s->ntypes = 3;
		s->types[1] = (struct ph_type){.name = strdup("Foo"), .object = PH_NONE};
		s->types[2] = (struct ph_type){.name = strdup("dict"), .object = PH_NONE,
					       .is_dict = true};
		for (uint32_t i = 0; i < n; i++) {
			s->objects[i].size = 1 + next(100);
			s->objects[i].type = next(3);
		}
		for (uint32_t i = 0; i < n; i++) {
			uint32_t o = next(n);
			if (s->objects[i].type == 2 && s->objects[o].type == 1)
				s->objects[i].owner = o;
		}
		struct ph_graph g;
		struct ph_dominators d;
		CHECK(ph_graph_build(s, &g) == NULL);
		CHECK(ph_dominators_compute(&g, &d) == NULL);
		uint8_t *all = calloc(n, 1), *dom = calloc((size_t)n * n, 1);
		uint32_t *queue = calloc(n + 2 * s->nroot_edges + 1, sizeof(uint32_t));
		uint8_t *seen = calloc(n, 1);
		reach_without(&g, PH_NONE, all, queue);
		for (uint32_t x = 0; x < n; x++) {
			reach_without(&g, x, seen, queue);
			for (uint32_t v = 0; v < n; v++)
				dom[x * n + v] = all[v] && (v == x || !seen[v]); // x dominates v
		}
		for (uint32_t x = 0; x < n; x++) {
			uint64_t want = 0;
			for (uint32_t v = 0; v < n; v++)
				if (dom[x * n + v] || v == x)
					want += s->objects[v].size;
			CHECK(d.retained[x] == want);
			// The set {x} retains what x dominates: the same, by a
			// search that avoids x instead of dominators.
			uint8_t *one = calloc(n, 1);
			uint64_t so = 0, ss = 0;
			one[x] = 1;
			CHECK(ph_graph_retained_set(&g, one, &so, &ss) == NULL);
			CHECK(ss == (all[x] ? want : s->objects[x].size));
			CHECK(so == (all[x] ? d.retained_count[x] : 1));
			free(one);
			uint32_t id = d.idom[x];
			bool any = false;
			for (uint32_t y = 0; y < n; y++)
				any |= y != x && dom[y * n + x];
			CHECK(any == (id != PH_NONE));
			if (id != PH_NONE) {
				CHECK(dom[id * n + x]);
				for (uint32_t y = 0; y < n; y++)
					if (y != x && dom[y * n + x])
						CHECK(dom[y * n + id]);
				deep += d.idom[id] != PH_NONE;
			}
			checked++;
		}
		rows_checked += check_rows(s, &d, dom);
		// What each root alone holds: what no longer is reached without it.
		CHECK(d.nroots == s->nroots);
		for (uint32_t r = 0; r < s->nroots; r++) {
			reach_without_root(&g, PH_NONE, r, 0, seen, queue);
			uint64_t want = 0, wcount = 0;
			for (uint32_t v = 0; v < n; v++)
				if (all[v] && !seen[v])
					want += s->objects[v].size, wcount++;
			CHECK(d.retained[n + r] == want && d.retained_count[n + r] == wcount);
			roots_holding += wcount > 0;
		}
		// What each thread's roots alone hold together: what no longer is
		// reached without them; more than the sum of its roots' when two
		// of them hold an object.
		uint32_t nthreads = 0;
		for (uint64_t tid = 0x10; tid <= 0x20; tid += 0x10) {
			uint64_t sum = 0;
			bool has = false;
			for (uint32_t r = 0; r < s->nroots; r++)
				if (s->roots[r].thread_id == tid)
					has = true, sum += d.retained[n + r];
			if (!has)
				continue;
			uint32_t t = nthreads++;
			CHECK(t < d.nthreads && d.thread_ids[t] == tid);
			reach_without_root(&g, PH_NONE, PH_NONE, tid, seen, queue);
			uint64_t want = 0, wcount = 0;
			for (uint32_t v = 0; v < n; v++)
				if (all[v] && !seen[v])
					want += s->objects[v].size, wcount++;
			uint32_t at = n + d.nroots + t;
			CHECK(d.retained[at] == want && d.retained_count[at] == wcount);
			CHECK(want >= sum);
			threads_sharing += want > sum;
		}
		CHECK(d.nthreads == nthreads);
		free(all);
		free(dom);
		free(queue);
		free(seen);
		ph_dominators_deinit(&d);
		ph_graph_deinit(&g);
		ph_snapshot_destroy(s);
	}
	// Chains of dominators, not only objects the roots hold at once.
	CHECK(checked > 2000 && deep > 50);
	// Rows within rows, and rows whose kinds were checked.
	CHECK(rows_checked > 200);
	// Roots that alone hold something.
	CHECK(roots_holding > 50);
	// Threads whose roots share objects that no other root reaches.
	CHECK(threads_sharing > 20);
}

int main(void)
{
	test_state_edges_last();
	test_word_edges_last();
	test_local_key_label();
	test_awaited_label();
	test_key_label();
	test_holds();
	test_float_repr();
	test_short_file();
	test_find_path();
	test_holds_groups();
	test_dominators();
	int interesting = 0;
	for (int round = 0; round < 300; round++) {
		uint32_t n = 1 + next(400);
		struct ph_snapshot *s = random_snapshot(n, next(n + n / 2 + 1), next(4));
		struct ph_graph full, reach;
		CHECK(ph_graph_build(s, &full) == NULL);
		CHECK(ph_graph_reach(s, &reach) == NULL);
		CHECK(full.garbage_objects == reach.garbage_objects);
		CHECK(full.garbage_size == reach.garbage_size);
		CHECK(full.native_held == reach.native_held);
		CHECK(reach.in_start == NULL && reach.dist == NULL);
		interesting += full.garbage_objects > 0 && full.native_held > 0;
		ph_graph_deinit(&full);
		ph_graph_deinit(&reach);
		ph_snapshot_destroy(s);
	}
	// The random graphs must exercise both counts, or the test proves little.
	CHECK(interesting > 30);
	return CHECK_DONE();
}
