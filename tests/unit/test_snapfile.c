/* SPDX-License-Identifier: MIT */
/*
 * Snapshot files (lib/snapfile.c): a hand-made snapshot with every field set
 * and a large random one survive encode + decode exactly (field by field, and
 * the reports printed from them are byte-identical); then the decoder is fed
 * damaged files: every truncation, every single-byte change, a few crafted
 * headers and counts, and thousands of random mutations of the payload with
 * the checksum recomputed (so that only the validation stands between the
 * bytes and the analyses). Every damaged file must be refused with
 * "read snapshot NAME: ... at offset N", or decode into a snapshot whose
 * indices are all in range, on which the analyses then run (under ASan in
 * the test_snapfile-asan build).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "diff.h"
#include "graph.h"
#include "partition.h"
#include "referrers.h"
#include "report.h"
#include "snapfile.h"
#include "svg.h"

#define CHECK_EQ(a, b)                                                                         \
	do {                                                                                   \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);  \
		if (a_ != b_) {                                                                \
			fprintf(stderr, "%s:%d: check failed: %s == %s (%llu != %llu)\n", __FILE__, \
				__LINE__, #a, #b, a_, b_);                                     \
			check_failures++;                                                      \
		}                                                                              \
	} while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char **names(uint32_t n, const char *const *v)
{
	char **r = calloc(n ? n : 1, sizeof(char *));
	for (uint32_t i = 0; i < n; i++)
		r[i] = strdup(v[i]);
	return r;
}

static void set_text(struct ph_snapshot *s, size_t cap, uint32_t i, const char *t)
{
	size_t len = strlen(t);
	if (s->strings_len + len + 1 > cap)
		abort();
	memcpy(s->strings + s->strings_len, t, len + 1);
	s->text[i] = (uint32_t)s->strings_len + 1;
	s->strings_len += len + 1;
}

/*
 * sys.modules {'__main__': module} ; module.__dict__ = {'leak': list,
 * '__name__': '__main__'} ; list = [Leaky, Leaky, Leaky] ; a frame root whose
 * local 'x' is a Leaky ; a weakref to a Leaky ; an owned instance dict.
 */
enum { O_MODULES, O_KEY_MAIN, O_MODULE, O_MDICT, O_KEY_LEAK, O_KEY_NAME, O_NAME, O_LIST,
       O_L0, O_L1, O_L2, O_WEAK, O_IDICT, O_INT, O_CODE, NOBJ };
enum { T_DICT, T_STR, T_MODULE, T_LIST, T_LEAKY, T_WEAKREF, T_INT, T_CODE, NTYPES };

static struct ph_snapshot *make_small(void)
{
	struct ph_snapshot *s = ph_snapshot_create();
	s->pid = 4242;
	snprintf(s->python_version, sizeof(s->python_version), "3.11.7");
	s->python_path = strdup("/usr/lib/libpython3.11.so.1.0");
	s->core_path = strdup("/var/crash/core.4242"); // (the optional CORE section)
	s->layout_source = strdup("DWARF, cached (build-id 49daf84ed369)");
	s->layout_kind = "dwarf";
	s->time_ns = 1795000000123456789ull;
	s->pause_ns = 12345678;
	s->rss = 17510400;
	s->unreadable = 3;
	s->gc_objects = 9;
	s->interpreters = 1;
	s->threads = 2;
	s->gc_disabled = true;
	// (The optional PYMALLOC section.)
	s->pymalloc = (struct ph_pymalloc){.known = true, .arena_size = 1u << 20,
					   .pool_size = 1u << 14, .arenas = 3,
					   .allocated_bytes = 2000000, .available_bytes = 100000,
					   .free_pool_bytes = 16384 * 40, .overhead_bytes = 4224,
					   .unreadable = 1, .nclasses = 2};
	s->pymalloc.classes[0] = (struct ph_pymalloc_class){16, 1, 1000, 21};
	s->pymalloc.classes[1] = (struct ph_pymalloc_class){512, 100, 3000, 100};
	// (The optional PYMALLOC_ARENAS section: as many as counted, by address.)
	s->pymalloc.arena_list = calloc(3, sizeof(*s->pymalloc.arena_list));
	s->pymalloc.arena_list[0] = (struct ph_pymalloc_arena){0x7f0000000000, 1u << 20};
	s->pymalloc.arena_list[1] = (struct ph_pymalloc_arena){0x7f0000100000, 48};
	s->pymalloc.arena_list[2] = (struct ph_pymalloc_arena){0x7f1000000000, 950000};
	s->pymalloc.narena_list = 3;
	// (The optional CMALLOC section.)
	s->cmalloc = (struct ph_cmalloc){.known = true, .arenas = 2, .system_bytes = 197132288,
					 .free_bytes = 176643472, .free_chunks = 511,
					 .fast_free_bytes = 4096, .top_bytes = 133024, .unreadable = 1,
					 .mapped_known = true, .mapped_chunks = 3,
					 .mapped_bytes = 67510272};
	// (The optional MALLOC_OTHER section.)
	strcpy(s->cmalloc.other, "jemalloc");
	strcpy(s->cmalloc.other_file, "libjemalloc.so.2");
	s->truncated = true;
	s->truncated_reason = strdup("time limit reached");

	static const char *const tnames[NTYPES] = {"dict", "str", "module", "list",
						   "__main__.Leaky", "weakref", "int", "code"};
	s->ntypes = NTYPES;
	s->types = calloc(NTYPES, sizeof(*s->types));
	for (int t = 0; t < NTYPES; t++) {
		s->types[t].address = 0x7f0000001000ull + (uint64_t)t * 0x1a0 - (t == 5 ? 0x100000 : 0);
		s->types[t].name = strdup(tnames[t]);
		s->types[t].object = PH_NONE;
	}
	s->types[T_DICT].is_dict = true;
	static const char *const attrs[] = {"name", "value"}, *const slots[] = {"s\xc3\xa9"};
	s->types[T_LEAKY].attr_names = names(2, attrs);
	s->types[T_LEAKY].nattr_names = 2;
	s->types[T_LEAKY].slot_names = names(1, slots);
	s->types[T_LEAKY].nslot_names = 1;

	static const uint8_t otype[NOBJ] = {T_DICT, T_STR,   T_MODULE, T_DICT,	T_STR,
					    T_STR,  T_STR,   T_LIST,   T_LEAKY, T_LEAKY,
					    T_LEAKY, T_WEAKREF, T_DICT, T_INT,	T_CODE};
	s->nobjects = NOBJ;
	s->objects = calloc(NOBJ, sizeof(*s->objects));
	for (int i = 0; i < NOBJ; i++) {
		s->objects[i].address = 0x7f1234560000ull + (uint64_t)(i * 7919 % 13) * 0x40 +
					(i == 6 ? 0x100000000ull : 0);
		s->objects[i].size = 16 + (uint64_t)i * 8;
		s->objects[i].refcnt = i == O_NAME ? 0xffffffffull : 1 + (uint64_t)i;
		s->objects[i].type = otype[i];
		s->objects[i].owner = PH_NONE;
		s->objects[i].flags = PH_OBJ_GC_LIST;
	}
	s->objects[O_MDICT].flags |= PH_OBJ_MODULE_DICT;
	s->objects[O_MDICT].owner = O_MODULE;
	s->objects[O_IDICT].owner = O_L1;
	s->objects[O_L0].flags |= PH_OBJ_INLINE_VALUES;
	s->objects[O_NAME].flags |= PH_OBJ_IMMORTAL;
	s->types[T_LEAKY].object = O_CODE; // any object: only the index is stored
	// (The optional SPARSE_TABLES section: by object, copies smaller.)
	s->sparse_tables = calloc(2, sizeof(*s->sparse_tables));
	s->sparse_tables[0] = (struct ph_sparse_table){O_MDICT, 1, 349525, 24};
	s->sparse_tables[1] = (struct ph_sparse_table){O_IDICT, 0, 170, 64};
	s->nsparse_tables = 2;
	s->sparse_known = true;
	// (The optional VALUE_HASHES section: two strs by hash, by object.)
	static const char previews[] = "x\\x00y\0<html>xxxx";
	s->value_previews = malloc(sizeof(previews));
	memcpy(s->value_previews, previews, sizeof(previews));
	s->value_previews_len = sizeof(previews);
	s->value_hashes = calloc(2, sizeof(*s->value_hashes));
	s->value_hashes[0] = (struct ph_value_hash){O_KEY_MAIN, 1, 0x8000000000000001ull, 3};
	s->value_hashes[1] = (struct ph_value_hash){O_NAME, 8, 42, 5013};
	s->nvalue_hashes = 2;
	s->value_hashes_known = true;
	// (The optional STATIC_REFS section: two words of two files' static data.)
	s->static_files = calloc(2, sizeof(char *));
	s->static_files[0] = strdup("_leaky.cpython-311-x86_64-linux-gnu.so");
	s->static_files[1] = strdup("libpython3.11.so.1.0");
	s->nstatic_files = 2;
	s->static_refs = calloc(3, sizeof(*s->static_refs));
	s->static_refs[0] = (struct ph_static_ref){O_MDICT, 1, 0x55c8};
	s->static_refs[1] = (struct ph_static_ref){O_LIST, 0, 0x4108};
	s->static_refs[2] = (struct ph_static_ref){O_CODE, 0, 0x4200};
	s->nstatic_refs = 3;
	// (The optional STACK_REFS section: slots of the frame root's value
	// stack, of a greenlet's frame, of a frame object; the list has a path
	// from the roots, the code static data.)
	s->stack_refs = calloc(4, sizeof(*s->stack_refs));
	s->stack_refs[0] = (struct ph_stack_ref){O_LIST, PH_NONE, O_L0, 2, 3};
	s->stack_refs[1] = (struct ph_stack_ref){O_WEAK, 1, PH_NONE, PH_NONE, 0};
	s->stack_refs[2] = (struct ph_stack_ref){O_INT, PH_NONE, O_L1, PH_NONE, 7};
	s->stack_refs[3] = (struct ph_stack_ref){O_CODE, 1, PH_NONE, PH_NONE, 1};
	s->nstack_refs = 4;
	// (The optional OBJ_LINES section: a greenlet's frames at depths 0 and
	// 2, then an object's own line; another object's own line.)
	s->obj_lines = calloc(4, sizeof(*s->obj_lines));
	s->obj_lines[0] = (struct ph_obj_line){O_L0, 0, 42};
	s->obj_lines[1] = (struct ph_obj_line){O_L0, 2, 7};
	s->obj_lines[2] = (struct ph_obj_line){O_L0, PH_NONE, 1};
	s->obj_lines[3] = (struct ph_obj_line){O_CODE, PH_NONE, 100000};
	s->nobj_lines = 4;
	// (The optional TRACEMALLOC section: two tracebacks, one object untraced.)
	s->tracemalloc = (struct ph_tracemalloc){true, 123456, 2};
	s->nsite_files = 2;
	s->site_files = calloc(2, sizeof(char *));
	s->site_files[0] = strdup("/srv/app/handlers.py");
	s->site_files[1] = strdup("<frozen importlib._bootstrap>");
	s->nsite_frames = 3;
	s->site_frames = calloc(3, sizeof(*s->site_frames));
	s->site_frames[0] = (struct ph_alloc_frame){0, 42};
	s->site_frames[1] = (struct ph_alloc_frame){1, 241};
	s->site_frames[2] = (struct ph_alloc_frame){0, 7};
	s->nsites = 2;
	s->sites = calloc(2, sizeof(*s->sites));
	s->sites[0] = (struct ph_alloc_site){0, 2, 9};
	s->sites[1] = (struct ph_alloc_site){2, 1, 1};
	s->object_site = calloc(NOBJ, sizeof(uint32_t));
	for (int i = 0; i < NOBJ; i++)
		s->object_site[i] = i == O_CODE ? 0 : 1 + (i % 2);

	struct ph_edge edges[] = {
		{O_KEY_MAIN, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {O_MODULE, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{O_MDICT, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)},
		{O_KEY_NAME, PH_EDGE(PH_EDGE_DICT_KEY, 0)}, {O_NAME, PH_EDGE(PH_EDGE_DICT_VALUE, 0)},
		{O_KEY_LEAK, PH_EDGE(PH_EDGE_DICT_KEY, 5)}, {O_LIST, PH_EDGE(PH_EDGE_DICT_VALUE, 5)},
		{O_L0, PH_EDGE(PH_EDGE_INDEX, 0)}, {O_L1, PH_EDGE(PH_EDGE_INDEX, 1)},
		{O_L2, PH_EDGE(PH_EDGE_INDEX, 2)},
		{O_INT, PH_EDGE(PH_EDGE_ATTR, 1)}, {O_IDICT, PH_EDGE(PH_EDGE_FIELD, PH_F_DICT)},
		{O_L0, PH_EDGE(PH_EDGE_SLOT, 0x0fffffff)},
	};
	// sources: modules (2), module (1), mdict (4), list (3), L0 (1), L1 (1), L2 (1)
	static const uint8_t nedges_of[NOBJ] = {[O_MODULES] = 2, [O_MODULE] = 1, [O_MDICT] = 4,
						 [O_LIST] = 3, [O_L0] = 1, [O_L1] = 1, [O_L2] = 1};
	s->nedges = sizeof(edges) / sizeof(edges[0]);
	s->edges = malloc(sizeof(edges));
	memcpy(s->edges, edges, sizeof(edges));
	s->edge_start = malloc((NOBJ + 1) * sizeof(uint32_t));
	uint32_t e = 0;
	for (int i = 0; i < NOBJ; i++) {
		s->edge_start[i] = e;
		e += nedges_of[i];
	}
	s->edge_start[NOBJ] = e;
	if (e != s->nedges)
		abort();

	s->nroot_edges = 2;
	s->root_edges = malloc(2 * sizeof(*s->root_edges));
	s->root_edges[0] = (struct ph_edge){O_L2, PH_EDGE(PH_EDGE_LOCAL, 3)};
	s->root_edges[1] = (struct ph_edge){O_INT, PH_EDGE(PH_EDGE_LOCAL, 0)};
	s->nroots = 3;
	s->roots = calloc(3, sizeof(*s->roots));
	s->roots[0] = (struct ph_root){PH_ROOT_MODULES, O_MODULES, 0, 0, PH_NONE, 0, 0, -1};
	s->roots[1] = (struct ph_root){PH_ROOT_FRAME, PH_NONE, 0, 2, O_CODE, 0x7f00deadbeefull, 1, 42};
	/* a thread's current context (here any object: the format does not care) */
	s->roots[2] = (struct ph_root){PH_ROOT_CONTEXT, O_L1, 2, 2, PH_NONE, 0x7f00deadbeefull, 0, -1};
	s->nweak_edges = 1;
	s->weak_edges = malloc(sizeof(*s->weak_edges));
	s->weak_edges[0] = (struct ph_weak_edge){O_WEAK, O_L1};

	size_t cap = 256;
	s->text = calloc(NOBJ, sizeof(uint32_t));
	s->strings = malloc(cap);
	set_text(s, cap, O_KEY_MAIN, "__main__");
	set_text(s, cap, O_KEY_NAME, "__name__");
	set_text(s, cap, O_NAME, "__main__");
	set_text(s, cap, O_KEY_LEAK, "leak");
	set_text(s, cap, O_INT, "-12345678901234");
	return s;
}

// A random heap: wide address deltas both ways, every label kind, deep payloads.
static struct ph_snapshot *make_random(size_t n)
{
	struct ph_snapshot *s = ph_snapshot_create();
	s->pid = 1;
	s->python_path = strdup("");
	s->layout_source = strdup("tables 3.12");
	s->layout_kind = "tables";
	s->ntypes = 40;
	s->types = calloc(s->ntypes, sizeof(*s->types));
	for (size_t t = 0; t < s->ntypes; t++) {
		char name[32];
		snprintf(name, sizeof(name), t == 0 ? "dict" : "mod%zu.T%zu", t % 7, t);
		s->types[t].name = strdup(name);
		s->types[t].address = rnd();
		s->types[t].object = rnd() % 3 ? (uint32_t)(rnd() % n) : PH_NONE;
	}
	s->types[0].is_dict = true;
	s->nobjects = n;
	s->objects = calloc(n, sizeof(*s->objects));
	s->edge_start = malloc((n + 1) * sizeof(uint32_t));
	size_t cap = 8 * n + 16;
	s->edges = malloc(cap * sizeof(*s->edges));
	s->text = calloc(n, sizeof(uint32_t));
	size_t scap = 40 * n;
	s->strings = malloc(scap);
	for (size_t i = 0; i < n; i++) {
		struct ph_object *o = &s->objects[i];
		o->address = rnd() % 4 ? 0x7f0000000000ull + (rnd() & 0xffffff) * 16 : rnd() & PH_MAX_ADDRESS;
		o->size = rnd() % 5 ? rnd() % 200 : rnd() & PH_MAX_SIZE;
		o->refcnt = rnd() % 7 ? rnd() % 10 : rnd();
		o->type = (uint32_t)(rnd() % s->ntypes);
		o->owner = o->type == 0 && rnd() % 2 ? (uint32_t)(rnd() % n) : PH_NONE;
		o->flags = (uint8_t)(rnd() & 0x1f);
		s->edge_start[i] = (uint32_t)s->nedges;
		size_t k = rnd() % 9;
		for (size_t j = 0; j < k && s->nedges < cap; j++) {
			uint32_t kind = (uint32_t)(rnd() % (PH_EDGE_LAST + 1));
			uint32_t payload = rnd() % 3 ? (uint32_t)j : (uint32_t)(rnd() & 0x0fffffff);
			uint32_t target = rnd() % 2 ? (uint32_t)((i + 1 + j) % n) : (uint32_t)(rnd() % n);
			s->edges[s->nedges++] = (struct ph_edge){target, PH_EDGE(kind, payload)};
		}
		if (rnd() % 3 == 0) {
			char t[40];
			snprintf(t, sizeof(t), "s%llu", (unsigned long long)(rnd() % 100000));
			set_text(s, scap, (uint32_t)i, t);
		}
	}
	s->edge_start[n] = (uint32_t)s->nedges;
	s->nroot_edges = 50;
	s->root_edges = malloc(50 * sizeof(*s->root_edges));
	for (size_t e = 0; e < 50; e++)
		s->root_edges[e] = (struct ph_edge){(uint32_t)(rnd() % n),
						    PH_EDGE(PH_EDGE_LOCAL, (uint32_t)(rnd() % 20))};
	// Every kind of root (each has its own label and round in graph.c).
	size_t nr = PH_ROOT_LAST + 3;
	s->nroots = nr;
	s->roots = calloc(nr, sizeof(*s->roots));
	for (size_t r = 0; r < nr; r++) {
		uint32_t a = (uint32_t)(rnd() % 51), b = (uint32_t)(rnd() % 51);
		enum ph_root_kind kind = (enum ph_root_kind)(r % (PH_ROOT_LAST + 1));
		s->roots[r] = (struct ph_root){kind,
					       kind == PH_ROOT_FRAME || kind == PH_ROOT_ATEXIT
						       ? PH_NONE
						       : (uint32_t)(rnd() % n),
					       a < b ? a : b,
					       a < b ? b : a,
					       rnd() % 2 ? PH_NONE : (uint32_t)(rnd() % n),
					       rnd(),
					       (uint32_t)r,
					       (int32_t)(rnd() % 2000) - 1000};
	}
	s->nweak_edges = 30;
	s->weak_edges = malloc(30 * sizeof(*s->weak_edges));
	for (size_t w = 0; w < 30; w++)
		s->weak_edges[w] = (struct ph_weak_edge){(uint32_t)(rnd() % n), (uint32_t)(rnd() % n)};
	return s;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool pymalloc_eq(const struct ph_pymalloc *a, const struct ph_pymalloc *b)
{
	if (a->known != b->known || a->arena_size != b->arena_size ||
	    a->pool_size != b->pool_size || a->arenas != b->arenas ||
	    a->allocated_bytes != b->allocated_bytes || a->available_bytes != b->available_bytes ||
	    a->free_pool_bytes != b->free_pool_bytes || a->overhead_bytes != b->overhead_bytes ||
	    a->unreadable != b->unreadable || a->nclasses != b->nclasses)
		return false;
	for (uint32_t i = 0; i < a->nclasses; i++)
		if (a->classes[i].size != b->classes[i].size ||
		    a->classes[i].pools != b->classes[i].pools ||
		    a->classes[i].blocks != b->classes[i].blocks ||
		    a->classes[i].free_blocks != b->classes[i].free_blocks)
			return false;
	if (a->narena_list != b->narena_list)
		return false;
	for (uint64_t i = 0; i < a->narena_list; i++)
		if (a->arena_list[i].address != b->arena_list[i].address ||
		    a->arena_list[i].used != b->arena_list[i].used)
			return false;
	return true;
}

static void check_same(const struct ph_snapshot *a, const struct ph_snapshot *b)
{
	CHECK_EQ(a->pid, b->pid);
	CHECK(!strcmp(a->python_version, b->python_version));
	CHECK(str_eq(a->python_path, b->python_path));
	CHECK(str_eq(a->core_path, b->core_path));
	CHECK(str_eq(a->layout_source, b->layout_source));
	CHECK(str_eq(a->layout_kind, b->layout_kind));
	CHECK_EQ(a->time_ns, b->time_ns);
	CHECK_EQ(a->pause_ns, b->pause_ns);
	CHECK_EQ(a->rss, b->rss);
	CHECK_EQ(a->unreadable, b->unreadable);
	CHECK_EQ(a->gc_objects, b->gc_objects);
	CHECK_EQ(a->interpreters, b->interpreters);
	CHECK_EQ(a->threads, b->threads);
	CHECK_EQ(a->gc_disabled, b->gc_disabled);
	CHECK(pymalloc_eq(&a->pymalloc, &b->pymalloc));
	CHECK_EQ(a->cmalloc.known, b->cmalloc.known);
	CHECK_EQ(a->cmalloc.arenas, b->cmalloc.arenas);
	CHECK_EQ(a->cmalloc.system_bytes, b->cmalloc.system_bytes);
	CHECK_EQ(a->cmalloc.free_bytes, b->cmalloc.free_bytes);
	CHECK_EQ(a->cmalloc.free_chunks, b->cmalloc.free_chunks);
	CHECK_EQ(a->cmalloc.fast_free_bytes, b->cmalloc.fast_free_bytes);
	CHECK_EQ(a->cmalloc.top_bytes, b->cmalloc.top_bytes);
	CHECK(!strcmp(a->cmalloc.other, b->cmalloc.other));
	CHECK(!strcmp(a->cmalloc.other_file, b->cmalloc.other_file));
	CHECK_EQ(a->cmalloc.unreadable, b->cmalloc.unreadable);
	CHECK_EQ(a->cmalloc.mapped_known, b->cmalloc.mapped_known);
	CHECK_EQ(a->cmalloc.mapped_chunks, b->cmalloc.mapped_chunks);
	CHECK_EQ(a->cmalloc.mapped_bytes, b->cmalloc.mapped_bytes);
	CHECK_EQ(a->sparse_known, b->sparse_known);
	CHECK_EQ(a->nsparse_tables, b->nsparse_tables);
	for (size_t i = 0; i < a->nsparse_tables && i < b->nsparse_tables; i++) {
		CHECK_EQ(a->sparse_tables[i].object, b->sparse_tables[i].object);
		CHECK_EQ(a->sparse_tables[i].entries, b->sparse_tables[i].entries);
		CHECK_EQ(a->sparse_tables[i].room, b->sparse_tables[i].room);
		CHECK_EQ(a->sparse_tables[i].copy_size, b->sparse_tables[i].copy_size);
	}
	CHECK_EQ(a->value_hashes_known, b->value_hashes_known);
	CHECK_EQ(a->nvalue_hashes, b->nvalue_hashes);
	for (size_t i = 0; i < a->nvalue_hashes && i < b->nvalue_hashes; i++) {
		const struct ph_value_hash *x = &a->value_hashes[i], *y = &b->value_hashes[i];
		CHECK_EQ(x->object, y->object);
		CHECK_EQ(x->hash, y->hash);
		CHECK_EQ(x->length, y->length);
		CHECK(!x->preview == !y->preview);
		CHECK(x->preview && y->preview &&
		      !strcmp(a->value_previews + x->preview - 1, b->value_previews + y->preview - 1));
	}
	CHECK_EQ(a->nstatic_files, b->nstatic_files);
	for (size_t i = 0; i < a->nstatic_files && i < b->nstatic_files; i++)
		CHECK(str_eq(a->static_files[i], b->static_files[i]));
	CHECK_EQ(a->nstatic_refs, b->nstatic_refs);
	for (size_t i = 0; i < a->nstatic_refs && i < b->nstatic_refs; i++) {
		CHECK_EQ(a->static_refs[i].object, b->static_refs[i].object);
		CHECK_EQ(a->static_refs[i].file, b->static_refs[i].file);
		CHECK_EQ(a->static_refs[i].offset, b->static_refs[i].offset);
	}
	CHECK_EQ(a->nstack_refs, b->nstack_refs);
	for (size_t i = 0; i < a->nstack_refs && i < b->nstack_refs; i++) {
		CHECK_EQ(a->stack_refs[i].object, b->stack_refs[i].object);
		CHECK_EQ(a->stack_refs[i].root, b->stack_refs[i].root);
		CHECK_EQ(a->stack_refs[i].holder, b->stack_refs[i].holder);
		CHECK_EQ(a->stack_refs[i].depth, b->stack_refs[i].depth);
		CHECK_EQ(a->stack_refs[i].slot, b->stack_refs[i].slot);
	}
	CHECK_EQ(a->nobj_lines, b->nobj_lines);
	for (size_t i = 0; i < a->nobj_lines && i < b->nobj_lines; i++) {
		CHECK_EQ(a->obj_lines[i].object, b->obj_lines[i].object);
		CHECK_EQ(a->obj_lines[i].depth, b->obj_lines[i].depth);
		CHECK_EQ(a->obj_lines[i].line, b->obj_lines[i].line);
	}
	CHECK_EQ(a->tracemalloc.known, b->tracemalloc.known);
	CHECK_EQ(a->tracemalloc.traces, b->tracemalloc.traces);
	CHECK_EQ(a->tracemalloc.unreadable, b->tracemalloc.unreadable);
	CHECK_EQ(a->nsite_files, b->nsite_files);
	for (size_t i = 0; i < a->nsite_files && i < b->nsite_files; i++)
		CHECK(str_eq(a->site_files[i], b->site_files[i]));
	CHECK_EQ(a->nsites, b->nsites);
	for (size_t i = 0; i < a->nsites && i < b->nsites; i++) {
		CHECK_EQ(a->sites[i].nframes, b->sites[i].nframes);
		CHECK_EQ(a->sites[i].total_nframes, b->sites[i].total_nframes);
		for (size_t f = 0; f < a->sites[i].nframes && f < b->sites[i].nframes; f++) {
			const struct ph_alloc_frame *x = &a->site_frames[a->sites[i].frame_start + f];
			const struct ph_alloc_frame *y = &b->site_frames[b->sites[i].frame_start + f];
			CHECK(x->file == y->file && x->lineno == y->lineno);
		}
	}
	CHECK_EQ(!a->object_site, !b->object_site);
	for (size_t i = 0; a->object_site && b->object_site && i < a->nobjects; i++)
		CHECK_EQ(a->object_site[i], b->object_site[i]);
	CHECK_EQ(a->truncated, b->truncated);
	CHECK(str_eq(a->truncated_reason, b->truncated_reason));
	CHECK_EQ(a->ntypes, b->ntypes);
	for (size_t t = 0; t < a->ntypes && t < b->ntypes; t++) {
		const struct ph_type *x = &a->types[t], *y = &b->types[t];
		CHECK_EQ(x->address, y->address);
		CHECK(str_eq(x->name, y->name));
		CHECK_EQ(x->object, y->object);
		CHECK_EQ(x->is_dict, y->is_dict);
		CHECK_EQ(x->nattr_names, y->nattr_names);
		CHECK_EQ(x->nslot_names, y->nslot_names);
		for (uint32_t k = 0; k < x->nattr_names && k < y->nattr_names; k++)
			CHECK(str_eq(x->attr_names[k], y->attr_names[k]));
		for (uint32_t k = 0; k < x->nslot_names && k < y->nslot_names; k++)
			CHECK(str_eq(x->slot_names[k], y->slot_names[k]));
	}
	CHECK_EQ(a->nobjects, b->nobjects);
	size_t diffs = 0;
	for (size_t i = 0; i < a->nobjects && i < b->nobjects; i++) {
		const struct ph_object *x = &a->objects[i], *y = &b->objects[i];
		diffs += x->address != y->address || x->size != y->size || x->refcnt != y->refcnt ||
			 x->type != y->type || x->owner != y->owner || x->flags != y->flags ||
			 a->edge_start[i] != b->edge_start[i] ||
			 !str_eq(ph_snapshot_text(a, i), ph_snapshot_text(b, i));
	}
	CHECK_EQ(diffs, 0);
	CHECK_EQ(a->nedges, b->nedges);
	for (size_t e = 0; e < a->nedges && e < b->nedges; e++)
		diffs += a->edges[e].target != b->edges[e].target ||
			 a->edges[e].label != b->edges[e].label;
	CHECK_EQ(diffs, 0);
	CHECK_EQ(a->nroots, b->nroots);
	for (size_t r = 0; r < a->nroots && r < b->nroots; r++)
		CHECK(!memcmp(&a->roots[r], &b->roots[r], sizeof(a->roots[r])) ||
		      (a->roots[r].kind == b->roots[r].kind && a->roots[r].object == b->roots[r].object &&
		       a->roots[r].edge_start == b->roots[r].edge_start &&
		       a->roots[r].edge_end == b->roots[r].edge_end &&
		       a->roots[r].code == b->roots[r].code &&
		       a->roots[r].thread_id == b->roots[r].thread_id &&
		       a->roots[r].depth == b->roots[r].depth && a->roots[r].line == b->roots[r].line));
	CHECK_EQ(a->nroot_edges, b->nroot_edges);
	for (size_t e = 0; e < a->nroot_edges && e < b->nroot_edges; e++)
		diffs += a->root_edges[e].target != b->root_edges[e].target ||
			 a->root_edges[e].label != b->root_edges[e].label;
	CHECK_EQ(a->nweak_edges, b->nweak_edges);
	for (size_t w = 0; w < a->nweak_edges && w < b->nweak_edges; w++)
		diffs += a->weak_edges[w].from != b->weak_edges[w].from ||
			 a->weak_edges[w].to != b->weak_edges[w].to;
	CHECK_EQ(diffs, 0);
}

// Everything the reports print, for one snapshot, into a string.
static char *render(const struct ph_snapshot *s, const char *referrers)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	struct ph_graph g;
	struct ph_partition p;
	if (ph_graph_build(s, &g)) {
		fclose(out);
		free(buf);
		return NULL;
	}
	if (!ph_partition_compute(s, &p)) {
		ph_report_header(out, s, &g);
		ph_report_partition_text(out, s, &p, 0);
		ph_report_partition_json(out, s, &p, &g);
		ph_partition_deinit(&p);
	}
	struct ph_dup_strs d;
	if (!ph_dup_strs_compute(s, 4, &d)) {
		ph_report_dup_strs_text(out, s, &d, NULL, 0, 0);
		ph_report_dup_strs_json(out, s, &d, NULL, 0, 0);
		ph_dup_strs_deinit(&d);
	}
	struct ph_fill f;
	struct ph_error *ferr = ph_fill_compute(s, 4, &f);
	if (!ferr) {
		ph_report_fill_text(out, &g, &f, NULL, 0, 0, 0);
		ph_report_fill_json(out, &g, &f, NULL, 0, 0);
		ph_fill_deinit(&f);
	}
	ph_error_destroy(ferr);
	struct ph_sites st;
	struct ph_error *serr = ph_sites_compute(s, NULL, &st);
	if (!serr) {
		ph_report_sites_text(out, s, &st, 0);
		ph_report_sites_json(out, s, &st, 0);
		ph_sites_deinit(&st);
	}
	ph_error_destroy(serr);
	struct ph_arena_use u;
	struct ph_error *aerr = ph_arena_use_compute(s, &u);
	if (!aerr) {
		ph_report_arenas_text(out, s, &u, 0);
		ph_report_arenas_json(out, s, &u, NULL, 0, 0);
		ph_arena_use_deinit(&u);
	}
	ph_error_destroy(aerr);
	struct ph_referrers_options opt = {.depth = 4, .breadth = 4};
	struct ph_referrers r;
	struct ph_error *err = ph_referrers_compute(&g, referrers, &opt, &r);
	if (!err) {
		ph_report_referrers_text(out, &r, 0);
		ph_report_referrers_json(out, s, &r, 0, NULL, NULL, NULL, NULL);
		ph_referrers_deinit(&r);
	} else {
		fprintf(out, "error: %s\n", err->message);
		ph_error_destroy(err);
	}
	for (size_t i = 0; i < s->nobjects && i < 64; i++) {
		char *path = ph_graph_path(&g, (uint32_t)i);
		fprintf(out, "%zu: %s\n", i, path ? path : "-");
		free(path);
	}
	ph_graph_deinit(&g);
	fclose(out);
	return buf;
}

// A decoded snapshot must be consistent however damaged the file was.
static void check_consistent(const struct ph_snapshot *s)
{
	bool ok = s->edge_start[0] == 0 && s->edge_start[s->nobjects] == s->nedges;
	for (size_t i = 0; i < s->nobjects; i++) {
		ok &= s->edge_start[i] <= s->edge_start[i + 1];
		ok &= s->objects[i].type < s->ntypes;
		ok &= s->objects[i].owner == PH_NONE || s->objects[i].owner < s->nobjects;
	}
	for (size_t e = 0; e < s->nedges; e++)
		ok &= s->edges[e].target < s->nobjects;
	for (size_t e = 0; e < s->nroot_edges; e++)
		ok &= s->root_edges[e].target < s->nobjects;
	for (size_t r = 0; r < s->nroots; r++)
		ok &= s->roots[r].edge_start <= s->roots[r].edge_end &&
		      s->roots[r].edge_end <= s->nroot_edges &&
		      (s->roots[r].object == PH_NONE || s->roots[r].object < s->nobjects) &&
		      (s->roots[r].code == PH_NONE || s->roots[r].code < s->nobjects);
	for (size_t w = 0; w < s->nweak_edges; w++)
		ok &= s->weak_edges[w].from < s->nobjects && s->weak_edges[w].to < s->nobjects;
	for (size_t t = 0; t < s->ntypes; t++)
		ok &= s->types[t].name && (s->types[t].object == PH_NONE ||
					   s->types[t].object < s->nobjects);
	ok &= !s->nsparse_tables || s->sparse_known;
	for (size_t i = 0; s->object_site && i < s->nobjects; i++)
		ok &= s->object_site[i] <= s->nsites;
	for (size_t i = 0; i < s->nsites; i++)
		ok &= s->sites[i].nframes && s->sites[i].nframes <= s->sites[i].total_nframes &&
		      s->sites[i].frame_start + s->sites[i].nframes <= s->nsite_frames;
	for (size_t i = 0; i < s->nsite_frames; i++)
		ok &= s->site_frames[i].file < s->nsite_files;
	ok &= !s->nvalue_hashes || s->value_hashes_known;
	for (size_t i = 0; i < s->nstatic_refs; i++)
		ok &= s->static_refs[i].object < s->nobjects && s->static_refs[i].file < s->nstatic_files &&
		      (!i || s->static_refs[i].object > s->static_refs[i - 1].object);
	for (size_t i = 0; i < s->nstack_refs; i++)
		ok &= s->stack_refs[i].object < s->nobjects &&
		      (s->stack_refs[i].root == PH_NONE
			       ? s->stack_refs[i].holder < s->nobjects
			       : s->stack_refs[i].root < s->nroots &&
					 s->roots[s->stack_refs[i].root].kind == PH_ROOT_FRAME) &&
		      (!i || s->stack_refs[i].object > s->stack_refs[i - 1].object);
	for (size_t i = 0; i < s->nobj_lines; i++) {
		const struct ph_obj_line *l = &s->obj_lines[i], *p = i ? l - 1 : NULL;
		ok &= l->object < s->nobjects && l->line >= 0 &&
		      (!p || l->object > p->object ||
		       (p->depth != PH_NONE && (l->depth == PH_NONE || l->depth > p->depth)));
	}
	for (size_t i = 0; i < s->nvalue_hashes; i++) {
		const struct ph_value_hash *h = &s->value_hashes[i];
		ok &= h->object < s->nobjects && (!i || h->object > s->value_hashes[i - 1].object) &&
		      h->preview <= s->value_previews_len;
	}
	for (size_t i = 0; i < s->nsparse_tables; i++) {
		const struct ph_sparse_table *t = &s->sparse_tables[i];
		ok &= t->object < s->nobjects && (!i || t->object > s->sparse_tables[i - 1].object) &&
		      t->entries < t->room && t->copy_size < s->objects[t->object].size;
	}
	const struct ph_pymalloc *m = &s->pymalloc;
	ok &= !m->narena_list || (m->known && m->narena_list == m->arenas);
	for (uint64_t i = 0; i < m->narena_list; i++)
		ok &= m->arena_list[i].used <= m->arena_size &&
		      (!i || m->arena_list[i].address - m->arena_list[i - 1].address >= m->arena_size) &&
		      m->arena_list[i].address <= UINT64_MAX - m->arena_size;
	CHECK(ok);
}

static void fix_crc(uint8_t *buf, size_t len)
{
	uint32_t crc = ph_crc32(0, buf, len - 4);
	for (int i = 0; i < 4; i++)
		buf[len - 4 + i] = (uint8_t)(crc >> (8 * i));
}

// Must be refused with a message that names the file and an offset.
static void expect_refused(const uint8_t *buf, size_t len, const char *why)
{
	struct ph_snapshot *s = NULL;
	struct ph_error *err = ph_snapfile_decode(buf, len, "test.pyheap", &s);
	if (!err) {
		fprintf(stderr, "not refused: %s\n", why);
		check_failures++;
		ph_snapshot_destroy(s);
		return;
	}
	if (err->code != PH_ERR_BAD_DATA ||
	    strncmp(err->message, "read snapshot test.pyheap: ", 27) || !strstr(err->message, " at offset ")) {
		fprintf(stderr, "%s: unexpected error %d: %s\n", why, err->code, err->message);
		check_failures++;
	}
	ph_error_destroy(err);
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

// The offset of the OBJECTS section's object count in an encoded file (the
// section, tag 3, comes after META and TYPES), 0 if not found.
static size_t objects_count_at(const uint8_t *b, size_t len)
{
	size_t p = 24;
	for (int sec = 0; sec < 3 && p < len; sec++) {
		uint64_t tag = b[p++], slen = 0;
		int shift = 0;
		while (p < len && b[p] & 0x80)
			slen |= (uint64_t)(b[p++] & 0x7f) << shift, shift += 7;
		if (p >= len)
			return 0;
		slen |= (uint64_t)b[p++] << shift;
		if (tag == 3)
			return p;
		p += slen;
	}
	return 0;
}

// The offset just past the varint at @p.
static size_t skip_varint(const uint8_t *b, size_t p)
{
	while (b[p] & 0x80)
		p++;
	return p + 1;
}

// JSON strings are UTF-8 whatever a damaged target's names hold.
static void test_json_strings(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"a\"b\\c\n\x01", "\"a\\\"b\\\\c\\n\\u0001\""},
		{"caf\xc3\xa9", "\"caf\xc3\xa9\""},
		{"\xf0\x9f\x98\x80!", "\"\xf0\x9f\x98\x80!\""},
		{"x\xffy", "\"x\\ufffdy\""},
		{"\xe2\x82", "\"\\ufffd\\ufffd\""},           // cut short
		{"\xc0\xaf", "\"\\ufffd\\ufffd\""},           // overlong
		{"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, // a surrogate
		{"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, // past U+10FFFF
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&text, &n);
		ph_json_string(f, cases[i].in);
		fclose(f);
		if (strcmp(text, cases[i].out)) {
			fprintf(stderr, "json string %zu: %s, expected %s\n", i, text, cases[i].out);
			check_failures++;
		}
		free(text);
	}
	// And SVG text (--plot): the same bytes, XML-escaped.
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	ph_xml_text(f, "<caf\xc3\xa9 \xff\xc3>");
	fclose(f);
	CHECK(!strcmp(text, "&lt;caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd&gt;"));
	free(text);
}

int main(void)
{
	test_json_strings();
	// CRC-32 check value.
	CHECK_EQ(ph_crc32(0, "123456789", 9), 0xcbf43926u);

	struct ph_snapshot *small = make_small();
	uint8_t *buf;
	size_t len;
	CHECK(!ph_snapfile_encode(small, &buf, &len));
	struct ph_snapshot *back = NULL;
	struct ph_error *err = ph_snapfile_decode(buf, len, "small", &back);
	CHECK(!err);
	if (err) {
		fprintf(stderr, "%s\n", err->message);
		return 1;
	}
	check_same(small, back);
	// The lines read back by object and depth.
	CHECK(ph_snapshot_frame_line(back, O_L0, 0) == 42 && ph_snapshot_frame_line(back, O_L0, 2) == 7 &&
	      ph_snapshot_frame_line(back, O_L0, 1) == -1 && ph_snapshot_object_line(back, O_L0) == 1 &&
	      ph_snapshot_object_line(back, O_CODE) == 100000 &&
	      ph_snapshot_object_line(back, O_INT) == -1 && ph_snapshot_frame_line(back, O_CODE, 0) == -1);
	// (A value stack's other places: a greenlet's frame, a frame object.)
	for (int k = 0; k < 2; k++) {
		back->stack_refs[1] = (struct ph_stack_ref){O_WEAK, PH_NONE, k ? O_L1 : O_L0,
							    k ? PH_NONE : 2, 0};
		char *r = render(back, "Leaky");
		CHECK(r && strstr(r, k ? "11: <held by native code (12 refs unaccounted): the value "
					 "stack of __main__.leak[1]>\n"
				       : "11: <held by native code (12 refs unaccounted): the value "
					 "stack of __main__.leak[0].gr_frame.f_back.f_back>\n"));
		free(r);
	}
	back->stack_refs[1] = small->stack_refs[1];
	char *r1 = render(small, "Leaky"), *r2 = render(back, "Leaky");
	CHECK(r1 && r2 && !strcmp(r1, r2));
	CHECK(r1 && strstr(r1, "__main__.leak[*]"));
	// (STACK_REFS: the weakref, held by native code, is named by the frame;
	// the list has a path from the roots.)
	CHECK(r1 && strstr(r1, "11: <held by native code (12 refs unaccounted): the value stack of "
			       "thread 0x7f00deadbeef frame "));
	CHECK(r1 && strstr(r1, "7: __main__.leak\n"));
	CHECK(r1 && strstr(r1, "14: <held by native code (15 refs unaccounted): static data of "
			       "_leaky.cpython-311-x86_64-linux-gnu.so+0x4200>"));
	free(r1);
	free(r2);
	ph_snapshot_destroy(back);

	// Through a file.
	char path[] = "/tmp/test_snapfile-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK(!ph_snapfile_write(small, path));
	err = ph_snapfile_read(path, &back);
	CHECK(!err);
	if (!err) {
		check_same(small, back);
		ph_snapshot_destroy(back);
	}
	unlink(path);
	err = ph_snapfile_read(path, &back);
	CHECK(err && err->code == PH_ERR_OTHER && strstr(err->message, "read snapshot"));
	ph_error_destroy(err);

	// Every truncation, and every single-byte change.
	for (size_t n = 0; n < len; n++)
		expect_refused(buf, n, "truncated");
	uint8_t *copy = malloc(len + 16);
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, buf, len);
		copy[i] ^= (uint8_t)(1 + rnd() % 255);
		expect_refused(copy, len, "one byte changed");
	}
	memcpy(copy, buf, len);
	memcpy(copy + len, "junk", 4);
	expect_refused(copy, len + 4, "trailing data");
	// Crafted headers (checksum recomputed where it matters).
	memcpy(copy, buf, len);
	put_le(copy + 8, 2, 4);
	fix_crc(copy, len);
	expect_refused(copy, len, "version 2");
	memcpy(copy, buf, len);
	put_le(copy + 12, 1, 4);
	fix_crc(copy, len);
	expect_refused(copy, len, "flags");
	memcpy(copy, buf, len);
	put_le(copy + 16, UINT64_MAX - 10, 8);
	expect_refused(copy, len, "huge payload length");
	{
		// A huge object count in an otherwise valid file.
		struct ph_snapshot *h = make_small();
		uint8_t *hb;
		size_t hl;
		CHECK(!ph_snapfile_encode(h, &hb, &hl));
		size_t p = objects_count_at(hb, hl);
		CHECK(p > 0);
		if (p) {
			CHECK_EQ(hb[p], NOBJ);
			hb[p] = 0x7f; // 127 objects in a section sized for 15
			fix_crc(hb, hl);
			expect_refused(hb, hl, "object count");
		}
		free(hb);
		ph_snapshot_destroy(h);
	}

	{
		// The largest address and size an object can have go through; one
		// past either is refused (a file this tool never writes).
		struct ph_snapshot *h = make_small();
		h->objects[0].address = PH_MAX_ADDRESS - 15;
		h->objects[1].address = PH_MAX_ADDRESS - 31;
		h->objects[0].size = PH_MAX_SIZE;
		uint8_t *hb;
		size_t hl;
		CHECK(!ph_snapfile_encode(h, &hb, &hl));
		struct ph_snapshot *hback = NULL;
		struct ph_error *herr = ph_snapfile_decode(hb, hl, "max", &hback);
		CHECK(!herr);
		if (hback) {
			check_same(h, hback);
			CHECK_EQ(hback->objects[0].address, PH_MAX_ADDRESS - 15);
			CHECK_EQ(hback->objects[0].size, PH_MAX_SIZE);
			ph_snapshot_destroy(hback);
		}
		ph_error_destroy(herr);
		size_t p = objects_count_at(hb, hl);
		CHECK(p > 0);
		if (p) {
			size_t q = skip_varint(hb, p + 1); // past the count and object 0's address
			uint8_t *c = malloc(hl);
			// Object 1: 16 bytes below object 0 (zigzag 31, one byte);
			// 32 above is past PH_MAX_ADDRESS.
			CHECK_EQ(hb[q], 31);
			memcpy(c, hb, hl);
			c[q] = 64;
			fix_crc(c, hl);
			expect_refused(c, hl, "object address past PH_MAX_ADDRESS");
			// Object 0's size, after every address: 2^40 - 1 in six
			// bytes, the last 0x1f; 0x3f makes it 2^41 - 1.
			for (int k = 1; k < NOBJ; k++) // objects 1.. (q: object 1)
				q = skip_varint(hb, q);
			CHECK_EQ(hb[q + 5], 0x1f);
			memcpy(c, hb, hl);
			c[q + 5] = 0x3f;
			fix_crc(c, hl);
			expect_refused(c, hl, "object size past PH_MAX_SIZE");
			free(c);
		}
		free(hb);
		ph_snapshot_destroy(h);
	}

	// Random mutations of the payload with a valid checksum: refused, or
	// consistent and analysable.
	size_t accepted = 0, refused = 0;
	for (int round = 0; round < 20000; round++) {
		memcpy(copy, buf, len);
		int k = 1 + (int)(rnd() % 4);
		for (int j = 0; j < k; j++) {
			size_t at = 24 + rnd() % (len - 28);
			copy[at] = rnd() % 4 ? (uint8_t)rnd() : (uint8_t)(copy[at] ^ (1u << (rnd() % 8)));
		}
		fix_crc(copy, len);
		struct ph_snapshot *s = NULL;
		err = ph_snapfile_decode(copy, len, "test.pyheap", &s);
		if (err) {
			refused++;
			if (err->code != PH_ERR_BAD_DATA || !strstr(err->message, " at offset ")) {
				fprintf(stderr, "mutation: unexpected error: %s\n", err->message);
				check_failures++;
			}
			ph_error_destroy(err);
			continue;
		}
		accepted++;
		check_consistent(s);
		char *r = render(s, "Leaky");
		free(r);
		ph_snapshot_destroy(s);
	}
	fprintf(stderr, "mutations: %zu refused, %zu decoded consistently\n", refused, accepted);
	CHECK(refused > 1000);
	free(copy);
	free(buf);

	// A larger random heap, and an empty one.
	struct ph_snapshot *big = make_random(20000);
	CHECK(!ph_snapfile_encode(big, &buf, &len));
	err = ph_snapfile_decode(buf, len, "big", &back);
	CHECK(!err);
	if (!err) {
		check_same(big, back);
		check_consistent(back);
		// A snapshot against itself: nothing new, nothing freed.
		struct ph_diff d;
		CHECK(!ph_diff_compute(big, back, &d));
		CHECK_EQ(d.new_count, 0);
		CHECK_EQ(d.freed_count, 0);
		CHECK_EQ(d.nrows, 0);
		ph_diff_deinit(&d);
		ph_snapshot_destroy(back);
	}
	fprintf(stderr, "random heap: %zu objects, %zu edges, %zu bytes (%.1f per object)\n",
		big->nobjects, big->nedges, len, (double)len / (double)big->nobjects);
	free(buf);
	ph_snapshot_destroy(big);

	struct ph_snapshot *empty = ph_snapshot_create();
	empty->python_path = strdup("");
	empty->layout_source = strdup("");
	empty->edge_start = calloc(1, sizeof(uint32_t));
	CHECK(!ph_snapfile_encode(empty, &buf, &len));
	err = ph_snapfile_decode(buf, len, "empty", &back);
	CHECK(!err);
	if (!err) {
		check_same(empty, back);
		ph_snapshot_destroy(back);
	}
	free(buf);
	ph_snapshot_destroy(empty);

	// The diff: small against small with one Leaky gone and one new.
	struct ph_snapshot *b2 = make_small();
	b2->objects[O_L0].address += 0x1000; // "freed" at the old address, "new" at the new one
	b2->objects[O_INT].type = T_STR;     // same address, another kind: new
	struct ph_diff d;
	CHECK(!ph_diff_compute(small, b2, &d));
	CHECK_EQ(d.new_count, 2);
	CHECK_EQ(d.freed_count, 2);
	CHECK(d.is_new[O_L0] && d.is_new[O_INT] && !d.is_new[O_L1]);
	bool found = false;
	for (size_t i = 0; i < d.nrows; i++)
		if (!strcmp(d.rows[i].kind, "__main__.Leaky")) {
			found = true;
			CHECK_EQ(d.rows[i].count_a, 3);
			CHECK_EQ(d.rows[i].count_b, 3);
			CHECK_EQ(d.rows[i].new_count, 1);
			CHECK_EQ(d.rows[i].freed_count, 1);
		}
	CHECK(found);
	ph_diff_deinit(&d);
	ph_snapshot_destroy(b2);
	ph_snapshot_destroy(small);
	return CHECK_DONE();
}
