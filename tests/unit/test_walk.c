/* SPDX-License-Identifier: MIT */
/*
 * The heap walk over a fake CPython 3.11 heap built in byte buffers: a
 * runtime, one interpreter with its GC generations, the static built-in types
 * and a few objects (a list holding a str, an int and a tuple that holds
 * another str and the list itself). Checks objects, kinds, sizes (as
 * sys.getsizeof on 3.11), edges and the partition; then corrupts the heap in
 * known ways (each on a fresh copy) and finally flips random bytes, checking
 * that the walk always returns, counts what it could not read and keeps its
 * snapshot consistent.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "cpython.h"
#include "cpython_private.h"
#include "graph.h"
#include "partition.h"

#define CHECK_EQ(a, b)                                                                        \
	do {                                                                                  \
		unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
		if (a_ != b_) {                                                               \
			fprintf(stderr, "%s:%d: [%s] check failed: %s == %s (%llu != %llu)\n",  \
				__FILE__, __LINE__, current_case, #a, #b, a_, b_);            \
			check_failures++;                                                     \
		}                                                                             \
	} while (0)
#define CHECK_MSG(cond, ...)                                                                   \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "%s:%d: [%s] check failed: %s: ", __FILE__, __LINE__, \
				current_case, #cond);                                          \
			fprintf(stderr, __VA_ARGS__);                                          \
			fputc('\n', stderr);                                                   \
			check_failures++;                                                      \
		}                                                                              \
	} while (0)

static const char *current_case = "setup";

/* ---- the fake process: two segments ---- */

enum { SEG_SIZE = 256 * 1024 }; /* whole pages: the cache keeps only full pages */

#define STATIC_BASE 0x10000000ull
#define HEAP_BASE 0x20000000ull
#define UNMAPPED 0x30000000ull

static uint8_t seg_static[SEG_SIZE], seg_heap[SEG_SIZE];

/* static data */
#define RUNTIME (STATIC_BASE + 0x0000)
#define TYPES (STATIC_BASE + 0x1000) /* one PyTypeObject every 0x200 bytes */
#define NAMES (STATIC_BASE + 0x4000) /* tp_name strings */
#define INTERP (STATIC_BASE + 0x8000)
#define TSTATE (STATIC_BASE + 0x9000)
#define FAKE_TRAVERSE (STATIC_BASE + 0xf000) /* tp_traverse "functions" */
#define SUBTYPE_TRAVERSE (STATIC_BASE + 0xff00)

enum { T_TYPE, T_OBJECT, T_LIST, T_TUPLE, T_STR, T_INT, T_DICT, NTYPES };
#define TYPE_ADDR(i) (TYPES + (uint64_t)(i) * 0x200)

/* heap objects (address of the object; GC objects have their head 16 below) */
#define LIST (HEAP_BASE + 0x110)
#define ITEMS (HEAP_BASE + 0x200) /* list ob_item, allocated 4 */
#define HELLO (HEAP_BASE + 0x300)
#define INT (HEAP_BASE + 0x400)
#define TUPLE (HEAP_BASE + 0x510)
#define CAFE (HEAP_BASE + 0x600)
#define HEAP_USED 0x800          /* bytes of the heap segment the fixture uses */
/* extra objects for the corruption cases */
#define EXTRA1 (HEAP_BASE + 0x1000)
#define EXTRA2 (HEAP_BASE + 0x1400)
#define EXTRA_OBJ (HEAP_BASE + 0x2010)

/* a Python class T(tuple) in module "mod", its __dict__ and an instance */
#define PYTYPE (HEAP_BASE + 0x3010)
#define PYINST (HEAP_BASE + 0x3410)
#define PYDICT (HEAP_BASE + 0x3510)
#define PYKEYS (HEAP_BASE + 0x3600)
#define STR_T (HEAP_BASE + 0x3700)
#define STR_MODKEY (HEAP_BASE + 0x3780)
#define STR_MOD (HEAP_BASE + 0x3800)

/* 3.11 _gc_runtime_state inside PyInterpreterState */
#define IS_GC_OFF 648
#define GC (INTERP + IS_GC_OFF)
#define GEN_HEAD(g) (GC + 24 + (uint64_t)(g) * 24)
#define PERM_HEAD (GC + 104)

/* type flags */
enum {
	F_SEQUENCE = 1 << 5,
	F_MAPPING = 1 << 6,
	F_IMMUTABLETYPE = 1 << 8,
	F_BASETYPE = 1 << 10,
	F_READY = 1 << 12,
	F_HAVE_GC = 1 << 14,
	F_VERSION_TAG = 1 << 18,
	F_VALID_VERSION_TAG = 1 << 19,
	F_MATCH_SELF = 1 << 22,
	F_LONG = 1 << 24,
	F_LIST = 1 << 25,
	F_TUPLE = 1 << 26,
	F_UNICODE = 1 << 28,
	F_DICT = 1 << 29,
};
#define F_TYPE (1ull << 31)
#define F_STATIC (F_READY | F_IMMUTABLETYPE | F_VERSION_TAG | F_VALID_VERSION_TAG)

static uint8_t *locate(uint64_t addr, size_t len)
{
	if (addr >= STATIC_BASE && addr + len <= STATIC_BASE + SEG_SIZE)
		return seg_static + (addr - STATIC_BASE);
	if (addr >= HEAP_BASE && addr + len <= HEAP_BASE + SEG_SIZE)
		return seg_heap + (addr - HEAP_BASE);
	fprintf(stderr, "test bug: fixture write at 0x%llx outside the segments\n",
		(unsigned long long)addr);
	abort();
}

static void put(uint64_t addr, const void *p, size_t len) { memcpy(locate(addr, len), p, len); }
static void put64(uint64_t addr, uint64_t v) { put(addr, &v, 8); }
static void put32(uint64_t addr, uint32_t v) { put(addr, &v, 4); }

/* ---- the layout and the interpreter description (3.11.7 offsets) ---- */

static void layout_311(struct ph_layout *L)
{
	ph_layout_init(L);
	L->rt_interpreters_head = 40;
	L->rt_finalizing = 24;
	L->is_next = 0;
	L->is_threads_head = 16;
	L->is_modules = 888;
	L->is_sysdict = 904;
	L->is_builtins = 912;
	L->is_gc = IS_GC_OFF;
	L->gc_generations = 24;
	L->gc_permanent_generation = 104;
	L->gc_collecting = 200;
	L->gc_enabled = 12;
	L->generation_sizeof = 24;
	L->gchead_sizeof = 16;
	L->ts_next = 8;
	L->ts_thread_id = 152;
	L->ts_native_thread_id = 160;
	L->ts_cframe = 56;
	L->cframe_current_frame = 8;
	L->deque_leftblock = 24;
	L->deque_leftindex = 40;
	L->deque_sizeof = 216;
	/* queue.SimpleQueue as a ring buffer (3.13's layout) */
	L->sq_buf_get_idx = 32;
	L->sq_buf_items = 40;
	L->sq_buf_items_cap = 48;
	L->sq_buf_num_items = 56;
	L->sq_sizeof = 72;
	L->permutations_pool = 16;
	L->permutations_result = 40;
	L->permutations_r = 48;
	L->permutations_sizeof = 64;
	L->elem_tag = 16;
	L->elem_text = 24;
	L->elem_tail = 32;
	L->elem_extra = 40;
	L->elem_sizeof = 56;
	L->elemextra_attrib = 0;
	L->elemextra_length = 8;
	L->elemextra_allocated = 16;
	L->elemextra_children = 24;
	L->elemextra_inline = 32;
	L->elemextra_sizeof = 64;
	L->dblock_data = 8;
	L->dblock_rightlink = 520;
	L->dblock_sizeof = 528;
	L->ob_type = 8;
	L->ob_size = 16;
	L->tp_name = 24;
	L->tp_basicsize = 32;
	L->tp_itemsize = 40;
	L->tp_flags = 168;
	L->tp_traverse = 184;
	L->tp_weaklistoffset = 208;
	L->tp_members = 240;
	L->tp_base = 256;
	L->tp_dict = 264;
	L->tp_dictoffset = 288;
	L->tp_bases = 336;
	L->tp_mro = 344;
	L->tp_cache = 352;
	L->tp_subclasses = 360;
	L->tp_sizeof = 408;
	L->ht_name = 848;
	L->ht_slots = 856;
	L->ht_qualname = 864;
	L->ht_cached_keys = 872;
	L->ht_module = 880;
	L->ht_sizeof = 904;
	L->md_name = 0;
	L->md_type = 8;
	L->md_offset = 16;
	L->md_sizeof = 40;
	L->dict_used = 16;
	L->dict_keys = 32;
	L->dict_values = 40;
	L->dk_refcnt = 0;
	L->dk_log2_size = 8;
	L->dk_log2_index_bytes = 9;
	L->dk_kind = 10;
	L->dk_usable = 16;
	L->dk_nentries = 24;
	L->dk_indices = 32;
	L->dk_sizeof = 32;
	L->dke_sizeof = 24;
	L->dke_key = 8;
	L->dke_value = 16;
	L->due_sizeof = 16;
	L->dv_values = 0;
	L->set_fill = 16;
	L->set_used = 24;
	L->set_mask = 32;
	L->set_table = 40;
	L->set_smalltable = 64;
	L->setentry_key = 0;
	L->setentry_sizeof = 16;
	L->tuple_item = 24;
	L->list_item = 24;
	L->list_allocated = 32;
	L->ascii_length = 16;
	L->ascii_state = 32;
	L->ascii_wstr = 40;
	L->ascii_sizeof = 48;
	L->cu_utf8_length = 48;
	L->cu_utf8 = 56;
	L->cu_wstr_length = 64;
	L->cu_sizeof = 72;
	L->unicode_data = 72;
	L->unicode_sizeof = 80;
	L->long_digit = 24;
	L->bytes_sval = 32;
	L->bytearray_alloc = 24;
	/* the rest of the 3.11 layout the walk may read (frames, code, ...) */
	L->module_dict = 16;
	L->func_globals = 16;
	L->func_builtins = 24;
	L->func_name = 32;
	L->func_qualname = 40;
	L->func_code = 48;
	L->func_defaults = 56;
	L->func_kwdefaults = 64;
	L->func_closure = 72;
	L->func_doc = 80;
	L->func_dict = 88;
	L->func_module = 104;
	L->func_annotations = 112;
	L->cell_ref = 16;
	L->method_func = 16;
	L->method_self = 24;
	L->weakref_callback = 24;
	L->cfunc_self = 24;
	L->cfunc_module = 32;
	L->cmethod_class = 56;
	L->descr_type = 16;
	L->descr_name = 24;
	L->descr_qualname = 32;
	L->code_nlocalsplus = 76;
	L->code_stacksize = 68;
	L->code_nlocals = 80;
	L->code_consts = 24;
	L->code_names = 32;
	L->code_exceptiontable = 40;
	L->code_localsplusnames = 96;
	L->code_localspluskinds = 104;
	L->code_filename = 112;
	L->code_name = 120;
	L->code_qualname = 128;
	L->code_linetable = 136;
	L->code_sizeof = 192;
	L->frame_back = 16;
	L->frame_frame = 24;
	L->frame_trace = 32;
	L->frame_data = 48;
	L->frame_sizeof = 56;
	L->iframe_func = 0;
	L->iframe_globals = 8;
	L->iframe_builtins = 16;
	L->iframe_locals = 24;
	L->iframe_code = 32;
	L->iframe_frame_obj = 40;
	L->iframe_previous = 48;
	L->iframe_stacktop = 64;
	L->iframe_owner = 69;
	L->iframe_localsplus = 72;
	L->iframe_sizeof = 80;
	L->gen_code = 16;
	L->gen_name = 32;
	L->gen_qualname = 40;
	L->gen_exc_state = 48;
	L->gen_frame_state = 75;
	L->gen_iframe = 80;
	L->gen_sizeof = 88;
	L->excitem_value = 0;
}

static struct ph_python py;

static void python_311(void)
{
	memset(&py, 0, sizeof(py));
	py.pid = 4242;
	py.path = (char *)"/fake/libpython3.11.so.1.0";
	py.open_path = py.path;
	snprintf(py.version, sizeof(py.version), "3.11.7");
	py.major = 3;
	py.minor = 11;
	py.micro = 7;
	py.hexversion = 0x030b07f0;
	py.sym[SYM_PyRuntime] = RUNTIME;
	py.sym[SYM_PyType_Type] = TYPE_ADDR(T_TYPE);
	py.sym[SYM_PyBaseObject_Type] = TYPE_ADDR(T_OBJECT);
	py.sym[SYM_PyList_Type] = TYPE_ADDR(T_LIST);
	py.sym[SYM_PyTuple_Type] = TYPE_ADDR(T_TUPLE);
	py.sym[SYM_PyUnicode_Type] = TYPE_ADDR(T_STR);
	py.sym[SYM_PyLong_Type] = TYPE_ADDR(T_INT);
	py.sym[SYM_PyDict_Type] = TYPE_ADDR(T_DICT);
	py.sym[SYM_subtype_traverse] = SUBTYPE_TRAVERSE;
	layout_311(&py.L);
	py.layout_source = (char *)"test";
	py.layout_kind = "test";
}

/* ---- building the fake heap ---- */

static uint64_t name_cursor;

static uint64_t put_cstr(const char *s)
{
	uint64_t a = name_cursor;
	put(a, s, strlen(s) + 1);
	name_cursor += (strlen(s) + 8) & ~7ull;
	return a;
}

static void make_type(uint64_t t, uint64_t meta, const char *name, uint64_t basic, uint64_t item,
		      uint64_t flags, uint64_t base)
{
	put64(t + 0, 1000);   /* ob_refcnt */
	put64(t + 8, meta);   /* ob_type */
	put64(t + 16, 0);     /* ob_size */
	put64(t + 24, put_cstr(name));
	put64(t + 32, basic);
	put64(t + 40, item);
	put64(t + 168, flags);
	if (flags & F_HAVE_GC)
		put64(t + 184, FAKE_TRAVERSE + (t & 0xfff)); /* a distinct tp_traverse */
	put64(t + 256, base);
}

static void gc_empty(uint64_t head)
{
	put64(head, head);
	put64(head + 8, head);
}

/* Links the objects @objs (object addresses, heads 16 below) into the list at
 * @head; @prev_flags is or-ed into each _gc_prev (3.11 keeps flags there). */
static void gc_link(uint64_t head, const uint64_t *objs, size_t n, uint64_t prev_flags)
{
	uint64_t prev = head;
	for (size_t i = 0; i < n; i++) {
		uint64_t g = objs[i] - 16;
		put64(prev, g);
		put64(g + 8, prev | prev_flags);
		prev = g;
	}
	put64(prev, head);
	put64(head + 8, prev);
}

static void put_ascii(uint64_t addr, const char *s, uint64_t refcnt)
{
	put64(addr + 0, refcnt);
	put64(addr + 8, TYPE_ADDR(T_STR));
	put64(addr + 16, strlen(s));           /* length */
	put64(addr + 24, 0x1234567890abcdefull); /* hash */
	put32(addr + 32, 1u << 2 | 1u << 5 | 1u << 6 | 1u << 7); /* kind 1, compact, ascii, ready */
	put64(addr + 40, 0);                    /* wstr */
	put(addr + 48, s, strlen(s) + 1);
}

/* A compact latin-1 (kind 1, not ASCII) str: PyCompactUnicodeObject + data. */
static void put_latin1(uint64_t addr, const uint8_t *s, size_t len, uint64_t refcnt)
{
	put64(addr + 0, refcnt);
	put64(addr + 8, TYPE_ADDR(T_STR));
	put64(addr + 16, len);
	put64(addr + 24, (uint64_t)-1); /* hash not computed */
	put32(addr + 32, 1u << 2 | 1u << 5 | 1u << 7); /* kind 1, compact, ready */
	put64(addr + 40, 0);  /* wstr */
	put64(addr + 48, 0);  /* utf8_length */
	put64(addr + 56, 0);  /* utf8 */
	put64(addr + 64, 0);  /* wstr_length */
	put(addr + 72, s, len);
	uint8_t nul = 0;
	put(addr + 72 + len, &nul, 1);
}

static void build(void)
{
	memset(seg_static, 0, sizeof(seg_static));
	memset(seg_heap, 0, sizeof(seg_heap));
	name_cursor = NAMES;

	/* _PyRuntime: interpreters.head (and .main) */
	put64(RUNTIME + 40, INTERP);
	put64(RUNTIME + 48, INTERP);

	/* the interpreter, its thread and its GC state */
	put64(INTERP + 0, 0);       /* next */
	put64(INTERP + 16, TSTATE); /* threads.head */
	put64(INTERP + 48, 0);      /* id */
	put64(TSTATE + 8, 0);       /* next */
	put64(TSTATE + 16, INTERP); /* interp */
	put64(TSTATE + 152, 0x7f0000001234ull);
	put32(GC + 12, 1); /* enabled */
	for (int g = 0; g < 3; g++) {
		gc_empty(GEN_HEAD(g));
		put32(GEN_HEAD(g) + 16, g ? 10 : 700); /* threshold */
	}
	put64(GC + 96, GEN_HEAD(0)); /* generation0 */
	gc_empty(PERM_HEAD);

	/* static types (PyTypeObject, 408 bytes; instances' sizes as in 3.11) */
	uint64_t obj = TYPE_ADDR(T_OBJECT), tt = TYPE_ADDR(T_TYPE);
	make_type(tt, tt, "type", 904, 40,
		  F_STATIC | F_BASETYPE | F_HAVE_GC | F_TYPE | (1 << 11) /* vectorcall */, obj);
	make_type(obj, tt, "object", 16, 0, F_STATIC | F_BASETYPE, 0);
	make_type(TYPE_ADDR(T_LIST), tt, "list", 40, 0,
		  F_STATIC | F_BASETYPE | F_HAVE_GC | F_LIST | F_MATCH_SELF | F_SEQUENCE, obj);
	make_type(TYPE_ADDR(T_TUPLE), tt, "tuple", 24, 8,
		  F_STATIC | F_BASETYPE | F_HAVE_GC | F_TUPLE | F_MATCH_SELF | F_SEQUENCE, obj);
	make_type(TYPE_ADDR(T_STR), tt, "str", 80, 0,
		  F_STATIC | F_BASETYPE | F_UNICODE | F_MATCH_SELF, obj);
	make_type(TYPE_ADDR(T_INT), tt, "int", 24, 4,
		  F_STATIC | F_BASETYPE | F_LONG | F_MATCH_SELF, obj);
	make_type(TYPE_ADDR(T_DICT), tt, "dict", 48, 0,
		  F_STATIC | F_BASETYPE | F_HAVE_GC | F_DICT | F_MATCH_SELF | F_MAPPING, obj);

	/* list [ "hello", 12345, ("café", <the list>) ], allocated 4 */
	put64(LIST + 0, 2);
	put64(LIST + 8, TYPE_ADDR(T_LIST));
	put64(LIST + 16, 3);
	put64(LIST + 24, ITEMS);
	put64(LIST + 32, 4);
	put64(ITEMS + 0, HELLO);
	put64(ITEMS + 8, INT);
	put64(ITEMS + 16, TUPLE);
	put64(ITEMS + 24, 0xdeadbeef); /* beyond ob_size: never read as an item */

	put_ascii(HELLO, "hello", 1);

	put64(INT + 0, 1);
	put64(INT + 8, TYPE_ADDR(T_INT));
	put64(INT + 16, 1);   /* one digit */
	put32(INT + 24, 12345);

	put64(TUPLE + 0, 1);
	put64(TUPLE + 8, TYPE_ADDR(T_TUPLE));
	put64(TUPLE + 16, 2);
	put64(TUPLE + 24, CAFE);
	put64(TUPLE + 32, LIST);

	static const uint8_t cafe[] = {'c', 'a', 'f', 0xe9};
	put_latin1(CAFE, cafe, sizeof(cafe), 1);

	/* the list in generation 0 (with a flag in _gc_prev), the tuple in 2 */
	uint64_t g0[] = {LIST}, g2[] = {TUPLE};
	gc_link(GEN_HEAD(0), g0, 1, 1 /* PREV_MASK_FINALIZED */);
	gc_link(GEN_HEAD(2), g2, 1, 0);
}

/* ---- running the walk ---- */

static struct ph_error *walk(const struct ph_walk_options *opt, struct ph_snapshot **snap)
{
	struct ph_buffer_segment segs[] = {
		{STATIC_BASE, seg_static, sizeof(seg_static)},
		{HEAP_BASE, seg_heap, sizeof(seg_heap)},
	};
	struct ph_buffer_source bs = {segs, 2};
	struct ph_mem_source src = {.read = ph_buffer_source_read, .arg = &bs};
	struct ph_mem *mem;
	struct ph_error *err = ph_mem_create(&src, &mem);
	if (err)
		return err;
	struct ph_walk_options none = {0};
	*snap = NULL;
	err = ph_python_walk(&py, mem, opt ? opt : &none, snap);
	ph_mem_destroy(mem);
	return err;
}

static struct ph_snapshot *walk_ok(void)
{
	struct ph_snapshot *snap = NULL;
	struct ph_error *err = walk(NULL, &snap);
	CHECK_MSG(err == NULL, "walk failed: %s", err ? err->message : "");
	ph_error_destroy(err);
	return err ? NULL : snap;
}

static uint32_t find(const struct ph_snapshot *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nobjects; i++)
		if (s->objects[i].address == addr)
			return (uint32_t)i;
	return PH_NONE;
}

static const char *kind_of(const struct ph_snapshot *s, uint64_t addr)
{
	static char buf[256];
	uint32_t i = find(s, addr);
	return i == PH_NONE ? "<absent>" : ph_snapshot_kind(s, i, buf, sizeof(buf));
}

/* Structural invariants every snapshot must satisfy, whatever the heap. */
static bool consistent(const struct ph_snapshot *s)
{
	if (!s->objects || !s->edge_start || !s->nobjects)
		return false;
	for (size_t i = 0; i < s->nobjects; i++) {
		if (s->edge_start[i] > s->edge_start[i + 1])
			return false;
		if (s->objects[i].type >= s->ntypes)
			return false;
		if (s->objects[i].owner != PH_NONE && s->objects[i].owner >= s->nobjects)
			return false;
	}
	if (s->edge_start[s->nobjects] != s->nedges)
		return false;
	for (size_t e = 0; e < s->nedges; e++)
		if (s->edges[e].target >= s->nobjects)
			return false;
	for (size_t t = 0; t < s->ntypes; t++)
		if (!s->types[t].name ||
		    (s->types[t].object != PH_NONE && s->types[t].object >= s->nobjects))
			return false;
	return true;
}

/* Object @from has an edge to the object at @to with label @label. */
static bool has_edge(const struct ph_snapshot *s, uint64_t from, uint64_t to, uint32_t label)
{
	uint32_t f = find(s, from), t = find(s, to);
	if (f == PH_NONE || t == PH_NONE)
		return false;
	for (uint32_t e = s->edge_start[f]; e < s->edge_start[f + 1]; e++)
		if (s->edges[e].target == t && s->edges[e].label == label)
			return true;
	return false;
}

static uint64_t size_of(const struct ph_snapshot *s, uint64_t addr)
{
	uint32_t i = find(s, addr);
	return i == PH_NONE ? UINT64_MAX : s->objects[i].size;
}

/* ---- the cases ---- */

static void test_clean(void)
{
	current_case = "clean heap";
	build();
	struct ph_snapshot *s = walk_ok();
	if (!s)
		return;
	CHECK(consistent(s));
	CHECK_EQ(s->nobjects, 5);
	CHECK_EQ(s->unreadable, 0);
	CHECK_EQ(s->gc_objects, 2);
	CHECK_EQ(s->interpreters, 1);
	CHECK_EQ(s->threads, 1);
	CHECK(!s->truncated);
	CHECK_EQ(s->ntypes, 4); /* list, str, int, tuple */
	CHECK_EQ(s->pid, 4242);
	CHECK(!strcmp(s->python_version, "3.11.7"));
	CHECK(s->layout_source && !strcmp(s->layout_source, "test"));
	CHECK(s->layout_kind && !strcmp(s->layout_kind, "test"));

	CHECK(!strcmp(kind_of(s, LIST), "list"));
	CHECK(!strcmp(kind_of(s, HELLO), "str"));
	CHECK(!strcmp(kind_of(s, INT), "int"));
	CHECK(!strcmp(kind_of(s, TUPLE), "tuple"));
	CHECK(!strcmp(kind_of(s, CAFE), "str"));

	/* sys.getsizeof on 3.11 */
	CHECK_EQ(size_of(s, LIST), 40 + 4 * 8 + 16); /* allocated 4, GC head */
	CHECK_EQ(size_of(s, HELLO), 48 + 5 + 1);
	CHECK_EQ(size_of(s, INT), 28);
	CHECK_EQ(size_of(s, TUPLE), 24 + 2 * 8 + 16);
	CHECK_EQ(size_of(s, CAFE), 72 + 4 + 1);

	uint32_t li = find(s, LIST), ti = find(s, TUPLE), hi = find(s, HELLO);
	if (li != PH_NONE && ti != PH_NONE && hi != PH_NONE) {
		CHECK(s->objects[li].flags & PH_OBJ_GC_LIST);
		CHECK(s->objects[ti].flags & PH_OBJ_GC_LIST);
		CHECK(!(s->objects[hi].flags & PH_OBJ_GC_LIST));
		CHECK_EQ(s->objects[li].refcnt, 2);
		CHECK_EQ(s->objects[li].owner, PH_NONE);
	}

	CHECK_EQ(s->nedges, 5);
	CHECK(has_edge(s, LIST, HELLO, PH_EDGE(PH_EDGE_INDEX, 0)));
	CHECK(has_edge(s, LIST, INT, PH_EDGE(PH_EDGE_INDEX, 1)));
	CHECK(has_edge(s, LIST, TUPLE, PH_EDGE(PH_EDGE_INDEX, 2)));
	CHECK(has_edge(s, TUPLE, CAFE, PH_EDGE(PH_EDGE_INDEX, 0)));
	CHECK(has_edge(s, TUPLE, LIST, PH_EDGE(PH_EDGE_INDEX, 1)));
	for (size_t t = 0; t < s->ntypes; t++)
		CHECK_EQ(s->types[t].object, PH_NONE); /* no type object was reached */

	struct ph_partition p;
	struct ph_error *err = ph_partition_compute(s, &p);
	CHECK(err == NULL);
	if (!err) {
		CHECK_EQ(p.objects, 5);
		CHECK_EQ(p.size, 88 + 54 + 28 + 56 + 77);
		CHECK_EQ(p.nrows, 4);
		static const struct {
			const char *kind;
			uint64_t count, size;
		} want[] = {{"str", 2, 54 + 77}, {"list", 1, 88}, {"tuple", 1, 56}, {"int", 1, 28}};
		for (size_t r = 0; r < 4 && r < p.nrows; r++) {
			CHECK_MSG(!strcmp(p.rows[r].kind, want[r].kind), "row %zu is %s", r,
				  p.rows[r].kind);
			CHECK_EQ(p.rows[r].count, want[r].count);
			CHECK_EQ(p.rows[r].size, want[r].size);
		}
		ph_partition_deinit(&p);
	}
	ph_snapshot_destroy(s);

	/* ph_python_read_str over the same memory */
	struct ph_buffer_segment segs[] = {{STATIC_BASE, seg_static, SEG_SIZE},
					   {HEAP_BASE, seg_heap, SEG_SIZE}};
	struct ph_buffer_source bs = {segs, 2};
	struct ph_mem_source src = {.read = ph_buffer_source_read, .arg = &bs};
	struct ph_mem *mem;
	if (!ph_mem_create(&src, &mem)) {
		char buf[64];
		CHECK(ph_python_read_str(&py, mem, HELLO, buf, sizeof(buf)) && !strcmp(buf, "hello"));
		CHECK(ph_python_read_str(&py, mem, CAFE, buf, sizeof(buf)) &&
		      !strcmp(buf, "caf\xc3\xa9"));
		CHECK(!ph_python_read_str(&py, mem, UNMAPPED, buf, sizeof(buf)));
		ph_mem_destroy(mem);
	}
}

struct low_memory {
	const char *reason; /* what the callback says: NULL, room */
	unsigned calls;
};

static const char *low_memory(void *arg, uint64_t bytes)
{
	struct low_memory *lm = arg;
	lm->calls++;
	CHECK(bytes > 0);
	return lm->reason;
}

static void test_options(void)
{
	struct ph_snapshot *s;
	struct ph_error *err;

	current_case = "object limit";
	build();
	struct ph_walk_options lim = {.max_objects = 3};
	err = walk(&lim, &s);
	CHECK(err == NULL);
	if (!err) {
		CHECK(consistent(s));
		CHECK_EQ(s->nobjects, 3);
		CHECK(s->truncated && s->truncated_reason &&
		      !strcmp(s->truncated_reason, "object limit reached"));
		ph_snapshot_destroy(s);
	}
	ph_error_destroy(err);

	// Memory runs low (ph_memory_guard_check() in capture()): the objects
	// found so far, and a snapshot that says why the rest is missing.
	current_case = "memory low";
	build();
	struct ph_snapshot *whole = NULL;
	err = walk(NULL, &whole);
	CHECK(err == NULL);
	ph_error_destroy(err);
	struct low_memory lm = {.reason = "the memory limit was nearly reached"};
	struct ph_walk_options low = {.memory_low = low_memory, .memory_arg = &lm};
	err = walk(&low, &s);
	CHECK(err == NULL);
	if (!err && whole) {
		CHECK(consistent(s));
		CHECK(lm.calls >= 1);
		CHECK_MSG(s->nobjects > 0 && s->nobjects < whole->nobjects, "%zu objects of %zu",
			  s->nobjects, whole->nobjects);
		CHECK(s->truncated && s->truncated_reason &&
		      !strcmp(s->truncated_reason, lm.reason));
		ph_snapshot_destroy(s);
	}
	ph_error_destroy(err);

	// ... and then no room for edges either: a list of 20,000 references
	// to itself (found before memory ran low) keeps the edges the array had
	// room for.
	current_case = "memory low, a long list";
	build();
	enum { NREFS = 20000 };
	const uint64_t refs = HEAP_BASE + 0x8000;
	put64(LIST + 16, NREFS);
	put64(LIST + 24, refs);
	put64(LIST + 32, NREFS);
	for (uint64_t k = 0; k < NREFS; k++)
		put64(refs + 8 * k, LIST);
	struct ph_snapshot *all = NULL;
	err = walk(NULL, &all);
	CHECK(err == NULL);
	ph_error_destroy(err);
	lm = (struct low_memory){.reason = "no room"};
	err = walk(&low, &s);
	CHECK(err == NULL);
	if (!err && all) {
		CHECK(consistent(s));
		CHECK_MSG(all->nedges >= NREFS && s->nedges < NREFS, "%zu edges, %zu without a guard",
			  s->nedges, all->nedges);
		CHECK(s->truncated && s->truncated_reason && !strcmp(s->truncated_reason, "no room"));
		ph_snapshot_destroy(s);
	}
	ph_error_destroy(err);
	ph_snapshot_destroy(all);
	build();

	current_case = "memory not low";
	lm = (struct low_memory){.reason = NULL};
	err = walk(&low, &s);
	CHECK(err == NULL);
	if (!err && whole) {
		CHECK(lm.calls >= 1);
		CHECK_EQ(s->nobjects, whole->nobjects);
		CHECK_EQ(s->nedges, whole->nedges);
		CHECK(!s->truncated);
		ph_snapshot_destroy(s);
	}
	ph_error_destroy(err);
	ph_snapshot_destroy(whole);

	current_case = "deadline passed";
	struct ph_walk_options late = {.deadline_ns = 1};
	err = walk(&late, &s);
	CHECK(err == NULL);
	if (!err) {
		CHECK(consistent(s));
		CHECK(s->truncated && s->truncated_reason &&
		      !strcmp(s->truncated_reason, "time limit reached"));
		ph_snapshot_destroy(s);
	}
	ph_error_destroy(err);

	current_case = "interrupted";
	volatile sig_atomic_t stop = 1;
	struct ph_walk_options intr = {.interrupted = &stop};
	err = walk(&intr, &s);
	CHECK(err && err->code == PH_ERR_INTERRUPTED);
	ph_error_destroy(err);
}

static void test_runtime_errors(void)
{
	struct ph_snapshot *s;
	struct ph_error *err;

	current_case = "_PyRuntime unreadable";
	build();
	py.sym[SYM_PyRuntime] = UNMAPPED;
	err = walk(NULL, &s);
	CHECK_MSG(err && err->code == PH_ERR_FAULT, "%s", err ? err->message : "no error");
	ph_error_destroy(err);
	py.sym[SYM_PyRuntime] = RUNTIME;

	current_case = "no interpreter";
	build();
	put64(RUNTIME + 40, 0);
	err = walk(NULL, &s);
	CHECK_MSG(err && err->code == PH_ERR_BAD_DATA, "%s", err ? err->message : "no error");
	ph_error_destroy(err);

	current_case = "empty GC lists";
	build();
	gc_empty(GEN_HEAD(0));
	gc_empty(GEN_HEAD(2));
	err = walk(NULL, &s);
	CHECK_MSG(err && err->code == PH_ERR_BAD_DATA, "%s", err ? err->message : "no error");
	ph_error_destroy(err);

	current_case = "interpreter list loops";
	build();
	put64(INTERP + 0, INTERP); /* next == itself */
	s = walk_ok();
	if (s) {
		CHECK_EQ(s->interpreters, 1);
		CHECK_EQ(s->nobjects, 5);
		ph_snapshot_destroy(s);
	}

	current_case = "thread list loops";
	build();
	put64(TSTATE + 8, TSTATE);
	s = walk_ok();
	if (s) {
		CHECK(s->threads >= 1 && s->threads <= 65536);
		CHECK_EQ(s->nobjects, 5);
		ph_snapshot_destroy(s);
	}
}

/* (a) list items that are not objects */
static void test_bad_item(void)
{
	static const struct {
		const char *name;
		uint64_t item;
	} bad[] = {
		{"(a) list item into unmapped memory", UNMAPPED},
		{"(a) list item misaligned", HELLO + 1},
		{"(a) list item whose header runs off mapped memory", HEAP_BASE + SEG_SIZE - 8},
		{"(a) list item whose ob_type is not a type", ITEMS}, /* ob_type = INT */
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		current_case = bad[k].name;
		build();
		put64(LIST + 16, 4); /* ob_size 4 = allocated */
		put64(ITEMS + 24, bad[k].item);
		struct ph_snapshot *s = walk_ok();
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK_MSG(s->unreadable > 0, "unreadable %llu", (unsigned long long)s->unreadable);
		CHECK_EQ(s->nobjects, 5);
		CHECK_EQ(find(s, bad[k].item), PH_NONE);
		CHECK(!strcmp(kind_of(s, HELLO), "str"));
		CHECK(!strcmp(kind_of(s, INT), "int"));
		CHECK(!strcmp(kind_of(s, CAFE), "str"));
		CHECK_EQ(s->nedges, 5);
		ph_snapshot_destroy(s);
	}

	/* A static type never readied, not collected (3.8/3.9's
	 * functools._lru_list_elem): its instances are objects all the same;
	 * the same type with no name is not a type. */
	for (int named = 1; named >= 0; named--) {
		current_case = named ? "(a) list item of a type never readied"
				     : "(a) list item of a nameless type never readied";
		build();
		uint64_t t = TYPES + 7 * 0x200;
		make_type(t, TYPE_ADDR(T_TYPE), "functools._lru_list_elem", 56, 0, 0,
			  TYPE_ADDR(T_OBJECT));
		if (!named)
			put64(t + 24, 0); /* tp_name */
		uint64_t elem = HEAP_BASE + 0x8010;
		put64(elem, 1);
		put64(elem + 8, t);
		put64(LIST + 16, 4); /* ob_size 4 = allocated */
		put64(ITEMS + 24, elem);
		struct ph_snapshot *s = walk_ok();
		if (!s)
			continue;
		CHECK(consistent(s));
		if (named) {
			CHECK_EQ(s->unreadable, 0);
			CHECK_EQ(s->nobjects, 6);
			CHECK(find(s, elem) != PH_NONE && !strcmp(kind_of(s, elem), "functools._lru_list_elem"));
			CHECK_EQ(size_of(s, elem), 56);
		} else {
			CHECK(s->unreadable > 0);
			CHECK_EQ(s->nobjects, 5);
			CHECK_EQ(find(s, elem), PH_NONE);
		}
		ph_snapshot_destroy(s);
	}

	current_case = "(a) list ob_item array unmapped";
	build();
	put64(LIST + 24, UNMAPPED);
	struct ph_snapshot *s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		/* the tuple (GC list) and what it holds are still found */
		CHECK_EQ(s->nobjects, 3);
		CHECK(!strcmp(kind_of(s, TUPLE), "tuple"));
		CHECK(!strcmp(kind_of(s, CAFE), "str"));
		ph_snapshot_destroy(s);
	}
}

static struct ph_snapshot *walk_quick(void);

/* collections.deque (found by its name and size; a static type here) */
#define DEQUE_TYPE (TYPES + 7 * 0x200)
#define DEQUE (HEAP_BASE + 0x8010)
#define DBLOCK(i) (HEAP_BASE + 0x9000 + (uint64_t)(i) * 0x400)

// A deque of @len items from slot @left of block 0, as an item of the list;
// blocks 0-2 linked left to right, items: "hello" x4, 12345 x64, "café" x2.
static void build_deque(uint64_t len, uint64_t left)
{
	build();
	make_type(DEQUE_TYPE, TYPE_ADDR(T_TYPE), "collections.deque", 216, 0,
		  F_STATIC | F_BASETYPE | F_HAVE_GC | F_SEQUENCE, TYPE_ADDR(T_OBJECT));
	put64(DEQUE + 0, 1);
	put64(DEQUE + 8, DEQUE_TYPE);
	put64(DEQUE + 16, len);
	put64(DEQUE + 24, DBLOCK(0));
	put64(DEQUE + 32, DBLOCK(2));
	put64(DEQUE + 40, left);
	for (int b = 0; b < 3; b++) {
		put64(DBLOCK(b) + 520, b < 2 ? DBLOCK(b + 1) : 0);
		for (int j = 0; j < 64; j++)
			put64(DBLOCK(b) + 8 + 8 * (uint64_t)j, b == 0 ? HELLO : b == 1 ? INT : CAFE);
	}
	put64(LIST + 16, 4);
	put64(ITEMS + 24, DEQUE);
}

static void test_deque(void)
{
	current_case = "(a) deque over 3 blocks, from slot 60";
	build_deque(70, 60);
	struct ph_snapshot *s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK(!strcmp(kind_of(s, DEQUE), "collections.deque"));
		CHECK_EQ(s->unreadable, 0);
		uint32_t d = find(s, DEQUE);
		CHECK(d != PH_NONE && s->edge_start[d + 1] - s->edge_start[d] == 70);
		CHECK(has_edge(s, DEQUE, HELLO, PH_EDGE(PH_EDGE_INDEX, 0)));
		CHECK(has_edge(s, DEQUE, HELLO, PH_EDGE(PH_EDGE_INDEX, 3)));
		CHECK(has_edge(s, DEQUE, INT, PH_EDGE(PH_EDGE_INDEX, 4)));
		CHECK(has_edge(s, DEQUE, INT, PH_EDGE(PH_EDGE_INDEX, 67)));
		CHECK(has_edge(s, DEQUE, CAFE, PH_EDGE(PH_EDGE_INDEX, 68)));
		CHECK(has_edge(s, DEQUE, CAFE, PH_EDGE(PH_EDGE_INDEX, 69)));
		/* deque.__sizeof__: 216 + 3 blocks of 528; and the GC header */
		CHECK_EQ(size_of(s, DEQUE), 216 + 3 * 528 + 16);
		ph_snapshot_destroy(s);
	}

	current_case = "(b) deque whose blocks loop, with a huge length";
	build_deque(100000000, 0);
	put64(DBLOCK(1) + 520, DBLOCK(0));
	s = walk_quick();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		uint32_t d = find(s, DEQUE);
		CHECK(d != PH_NONE && s->edge_start[d + 1] == s->edge_start[d]);
		CHECK_EQ(size_of(s, DEQUE), 216 + 16);
		ph_snapshot_destroy(s);
	}

	current_case = "(b) deque whose chain ends early";
	build_deque(1000, 0);
	s = walk_quick();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		uint32_t d = find(s, DEQUE);
		CHECK(d != PH_NONE && s->edge_start[d + 1] - s->edge_start[d] == 3 * 64);
		ph_snapshot_destroy(s);
	}
}

/* queue.SimpleQueue's ring buffer: items from get_idx, wrapping at the
 * capacity; counts that cannot be right are refused. */
/* The clean heap plus one object of a static GC type @name (a C type of an
 * extension or built-in module) at @addr, the list's fourth item. */
static void build_with_c_object(uint64_t addr, const char *name, uint64_t basicsize)
{
	build();
	uint64_t t = TYPES + 7 * 0x200;
	make_type(t, TYPE_ADDR(T_TYPE), name, basicsize, 0, F_STATIC | F_BASETYPE | F_HAVE_GC,
		  TYPE_ADDR(T_OBJECT));
	put64(addr + 0, 1);
	put64(addr + 8, t);
	put64(LIST + 16, 4);
	put64(ITEMS + 24, addr);
}

#define SQ (HEAP_BASE + 0x8010)
#define SQ_ITEMS (HEAP_BASE + 0x9000)
static void build_simplequeue(uint64_t get, uint64_t cap, uint64_t num)
{
	build_with_c_object(SQ, "_queue.SimpleQueue", 72);
	put64(SQ + 32, get);
	put64(SQ + 40, SQ_ITEMS);
	put64(SQ + 48, cap);
	put64(SQ + 56, num);
	for (uint64_t j = 0; j < 8; j++)
		put64(SQ_ITEMS + 8 * j, j == 6 ? HELLO : j == 7 ? INT : j < 3 ? CAFE : 0);
}

static void test_simplequeue(void)
{
	current_case = "(a) SimpleQueue ring buffer wrapping: 5 items from slot 6 of 8";
	build_simplequeue(6, 8, 5);
	struct ph_snapshot *s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, 0);
		CHECK(!strcmp(kind_of(s, SQ), "_queue.SimpleQueue"));
		uint32_t q = find(s, SQ);
		CHECK(q != PH_NONE && s->edge_start[q + 1] - s->edge_start[q] == 5);
		CHECK(has_edge(s, SQ, HELLO, PH_EDGE(PH_EDGE_INDEX, 0)));
		CHECK(has_edge(s, SQ, INT, PH_EDGE(PH_EDGE_INDEX, 1)));
		CHECK(has_edge(s, SQ, CAFE, PH_EDGE(PH_EDGE_INDEX, 2)));
		CHECK(has_edge(s, SQ, CAFE, PH_EDGE(PH_EDGE_INDEX, 4)));
		CHECK_EQ(size_of(s, SQ), 72 + 16);
		ph_snapshot_destroy(s);
	}
	static const struct {
		const char *name;
		uint64_t get, cap, num;
	} bad[] = {
		{"(b) SimpleQueue with more items than its capacity", 0, 8, 9},
		{"(b) SimpleQueue reading from past its capacity", 8, 8, 1},
		{"(b) SimpleQueue with a huge capacity", 0, 1ull << 40, 3},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		current_case = bad[k].name;
		build_simplequeue(bad[k].get, bad[k].cap, bad[k].num);
		s = walk_quick();
		if (s) {
			CHECK(consistent(s));
			CHECK(s->unreadable > 0);
			uint32_t q = find(s, SQ);
			CHECK(q != PH_NONE && s->edge_start[q + 1] == s->edge_start[q]);
			ph_snapshot_destroy(s);
		}
	}
}

/* itertools.permutations (3.11's layout): its pool and result are edges, its
 * __sizeof__ adds a word per pool item and per r; a count that cannot be
 * right adds nothing and the fields are still followed. */
#define PERM (HEAP_BASE + 0x8010)
static void build_permutations(uint64_t pool, uint64_t r)
{
	build_with_c_object(PERM, "itertools.permutations", 64);
	put64(PERM + 16, pool);
	put64(PERM + 40, HELLO); /* result */
	put64(PERM + 48, r);
}

static void test_permutations(void)
{
	current_case = "(a) itertools.permutations of a 2-tuple, r = 2";
	build_permutations(TUPLE, 2);
	struct ph_snapshot *s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, 0);
		CHECK(!strcmp(kind_of(s, PERM), "itertools.permutations"));
		CHECK(has_edge(s, PERM, TUPLE, PH_EDGE(PH_EDGE_FIELD, PH_F_POOL)));
		CHECK(has_edge(s, PERM, HELLO, PH_EDGE(PH_EDGE_FIELD, PH_F_RESULT)));
		CHECK_EQ(size_of(s, PERM), 64 + (2 + 2) * 8 + 16);
		ph_snapshot_destroy(s);
	}
	static const struct {
		const char *name;
		uint64_t pool, r;
	} bad[] = {
		{"(b) itertools.permutations with a huge r", TUPLE, 1ull << 40},
		{"(b) itertools.permutations whose pool is unreadable", 0x7000000000ull, 2},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		current_case = bad[k].name;
		build_permutations(bad[k].pool, bad[k].r);
		s = walk_quick();
		if (s) {
			CHECK(consistent(s));
			CHECK_EQ(size_of(s, PERM), 64 + 16);
			CHECK(has_edge(s, PERM, HELLO, PH_EDGE(PH_EDGE_FIELD, PH_F_RESULT)));
			ph_snapshot_destroy(s);
		}
	}
}

/* xml.etree.ElementTree.Element (3.11's layout): tag, text and tail (the
 * low bit a flag), the attributes and the children in its extra part; a
 * child count past the allocation is refused. */
#define ELEM (HEAP_BASE + 0x8010)
#define ELEM_EXTRA (HEAP_BASE + 0x9000)
static void build_element(uint64_t length, uint64_t allocated, bool inline_children)
{
	build_with_c_object(ELEM, "xml.etree.ElementTree.Element", 56);
	put64(ELEM + 16, HELLO);       /* tag */
	put64(ELEM + 24, CAFE | 1);    /* text, "joined" */
	put64(ELEM + 32, 0);           /* tail */
	put64(ELEM + 40, ELEM_EXTRA);
	put64(ELEM_EXTRA + 0, 0);      /* attrib: none yet */
	put64(ELEM_EXTRA + 8, length);
	put64(ELEM_EXTRA + 16, allocated);
	uint64_t children = inline_children ? ELEM_EXTRA + 32 : ELEM_EXTRA + 0x100;
	put64(ELEM_EXTRA + 24, children);
	put64(children, INT);
	put64(children + 8, TUPLE);
}

static void test_element(void)
{
	current_case = "(a) an Element with a tag, a joined text and two children";
	build_element(2, 4, true);
	struct ph_snapshot *s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, 0);
		CHECK(!strcmp(kind_of(s, ELEM), "xml.etree.ElementTree.Element"));
		CHECK(has_edge(s, ELEM, HELLO, PH_EDGE(PH_EDGE_FIELD, PH_F_TAG)));
		CHECK(has_edge(s, ELEM, CAFE, PH_EDGE(PH_EDGE_FIELD, PH_F_TEXT)));
		CHECK(has_edge(s, ELEM, INT, PH_EDGE(PH_EDGE_INDEX, 0)));
		CHECK(has_edge(s, ELEM, TUPLE, PH_EDGE(PH_EDGE_INDEX, 1)));
		CHECK_EQ(size_of(s, ELEM), 56 + 64 + 16); /* inline children: the extra part */
		ph_snapshot_destroy(s);
	}
	current_case = "(a) an Element whose children outgrew the inline array";
	build_element(2, 10, false);
	s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK_EQ(size_of(s, ELEM), 56 + 64 + 10 * 8 + 16);
		ph_snapshot_destroy(s);
	}
	current_case = "(b) an Element with more children than allocated";
	build_element(1000, 10, false);
	s = walk_quick();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		CHECK(has_edge(s, ELEM, HELLO, PH_EDGE(PH_EDGE_FIELD, PH_F_TAG)));
		CHECK(!has_edge(s, ELEM, INT, PH_EDGE(PH_EDGE_INDEX, 0)));
		ph_snapshot_destroy(s);
	}
}

/* numpy.ndarray (numpy's ABI): a 3x4 array of 8-byte items that owns its
 * data, in Fortran order (its largest dimension times stride: 96 bytes), and
 * with a base; a view (not its data's owner) adds only its dimensions and
 * strides; a 0-d array its item (numpy 1.x's descriptor); and arrays whose
 * fields cannot be right add nothing, the base still followed. */
#define NDA (HEAP_BASE + 0x8010)
#define NDA_DIMS (HEAP_BASE + 0x9000)
#define NDA_STRIDES (HEAP_BASE + 0x9100)
#define NDA_DESCR (HEAP_BASE + 0x9210)
static void build_ndarray(int32_t nd, uint32_t flags, uint64_t d0, uint64_t s0)
{
	build_with_c_object(NDA, "numpy.ndarray", 96);
	put64(NDA + 16, HEAP_BASE + 0xa000); /* data */
	put32(NDA + 24, (uint32_t)nd);
	put64(NDA + 32, NDA_DIMS);
	put64(NDA + 40, NDA_STRIDES);
	put64(NDA + 48, TUPLE);             /* base */
	put64(NDA + 56, NDA_DESCR);
	put32(NDA + 64, flags);
	put64(NDA_DIMS, d0);
	put64(NDA_DIMS + 8, 4);
	put64(NDA_STRIDES, s0);
	put64(NDA_STRIDES + 8, 24);
	put32(NDA_DESCR + 32, 8);           /* numpy 1.x: elsize, alignment */
	put32(NDA_DESCR + 36, 8);
}

static void test_ndarray(void)
{
	static const struct {
		const char *name;
		int32_t nd;
		uint32_t flags;
		uint64_t d0, s0, size;
		bool bad;
	} cases[] = {
		{"(a) a 3x4 Fortran-order array owning its data", 2, 0x4, 3, 8, 96 + 32 + 96, false},
		{"(a) a view: dimensions and strides only", 2, 0x0, 3, 8, 96 + 32, false},
		{"(a) a 0-d array owning its item", 0, 0x4, 3, 8, 96 + 8, false},
		{"(a) an empty array owning nothing", 2, 0x4, 0, 8, 96 + 32, false},
		{"(b) an array of 100 dimensions", 100, 0x4, 3, 8, 96, true},
		{"(b) an array of 2^50 items", 2, 0x4, 1ull << 50, 8, 96 + 32, true},
		{"(b) an array whose stride is -2^62", 2, 0x4, 3, (uint64_t)-(1ll << 62), 96 + 32, true},
	};
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		current_case = cases[k].name;
		build_ndarray(cases[k].nd, cases[k].flags, cases[k].d0, cases[k].s0);
		struct ph_snapshot *s = walk_quick();
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK(!strcmp(kind_of(s, NDA), "numpy.ndarray"));
		CHECK(has_edge(s, NDA, TUPLE, PH_EDGE(PH_EDGE_FIELD, PH_F_ND_BASE)));
		CHECK_EQ(size_of(s, NDA), cases[k].size + 16 /* GC header */);
		CHECK(cases[k].bad ? s->unreadable > 0 : s->unreadable == 0);
		ph_snapshot_destroy(s);
	}
}

/* An object array (dtype=object: descriptor kind 'O', type_num 17) owning
 * its 3x4 elements: each one that is an object an edge by its index in
 * memory order (one that is not an object: unreadable, no edge); a view of
 * it (not the owner): none; a 0-d one: its element; the same array of
 * float64 (kind 'f'): none. */
static void test_ndarray_objects(void)
{
	for (int k = 0; k < 4; k++) {
		static const char *const names[] = {"(a) an object array owning its elements",
						    "(b) a view of it", "(c) a 0-d object array",
						    "(d) a float array"};
		current_case = names[k];
		build_ndarray(k == 2 ? 0 : 2, k == 1 ? 0x0 : 0x4, 3, 8);
		put32(NDA_DESCR + 24, k == 3 ? 'f' : 'O'); /* kind, type, byteorder, flags */
		put32(NDA_DESCR + 28, k == 3 ? 12 : 17);   /* type_num */
		put64(HEAP_BASE + 0xa000, HELLO);
		put64(HEAP_BASE + 0xa000 + 5 * 8, LIST);
		put64(HEAP_BASE + 0xa000 + 11 * 8, HELLO + 3); /* not an object */
		struct ph_snapshot *s = walk_quick();
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, k == 0); /* the element that is not an object */
		CHECK(has_edge(s, NDA, HELLO, PH_EDGE(PH_EDGE_INDEX, 0)) == (k == 0 || k == 2));
		CHECK(has_edge(s, NDA, LIST, PH_EDGE(PH_EDGE_INDEX, 5)) == (k == 0));
		uint32_t a = find(s, NDA);
		CHECK(a != PH_NONE && s->edge_start[a + 1] - s->edge_start[a] ==
					      1u + (k == 0 ? 2 : k == 2 ? 1 : 0)); /* + base */
		ph_snapshot_destroy(s);
	}
}

/* A C object whose type declares no member (a Cython class's typed fields, a
 * C extension's struct): the words of its struct that hold live objects are
 * its references, labelled with their offsets; the others (a small number, a
 * C struct whose first word is a pointer, a freed object, a C string, an odd
 * address, NULL) are no edge and nothing unreadable. */
#define CX (HEAP_BASE + 0x8010)
#define CX_STATE (HEAP_BASE + 0x9000)
#define CX_DEAD (HEAP_BASE + 0x9100)
static void test_struct_words(void)
{
	current_case = "(a) words of a C struct";
	build_with_c_object(CX, "ext.Thing", 80);
	put_ascii(EXTRA1, "held only here", 1);
	put64(CX + 16, EXTRA1);
	put64(CX + 24, 5);
	put64(CX + 32, CX_STATE);
	put64(CX_STATE, TYPE_ADDR(T_LIST)); /* a module state: types, no count */
	put64(CX_STATE + 8, TYPE_ADDR(T_STR));
	put64(CX + 40, NAMES);
	put64(CX + 48, CX_DEAD);
	put_ascii(CX_DEAD, "freed", 0);
	put64(CX + 56, INT);
	put64(CX + 64, HELLO + 3);
	put64(CX + 72, 0);
	struct ph_snapshot *s = walk_quick();
	if (!s)
		return;
	CHECK(consistent(s));
	CHECK(has_edge(s, CX, EXTRA1, PH_EDGE(PH_EDGE_WORD, 16)));
	CHECK(has_edge(s, CX, INT, PH_EDGE(PH_EDGE_WORD, 56)));
	uint32_t c = find(s, CX);
	CHECK(c != PH_NONE && s->edge_start[c + 1] - s->edge_start[c] == 2);
	CHECK(find(s, CX_STATE) == PH_NONE && find(s, CX_DEAD) == PH_NONE);
	CHECK(!strcmp(kind_of(s, EXTRA1), "str"));
	CHECK_EQ(s->unreadable, 0);
	ph_snapshot_destroy(s);
}

/* A suspended greenlet (greenlet 2.x on 3.11): its state, behind the last word
 * of its 40-byte struct, holds its top frame object (the first word that is
 * a frame's address), whose interpreter frame starts the chain of its frames:
 * each one's frame object, code and locals are edges from the greenlet,
 * labelled with the frame's depth. (a) two frames; (b) a chain that loops
 * stops at 256 frames; (c) a frame object whose interpreter frame does not
 * point back, (d) a state that cannot be read: no frame edge, nothing
 * unreadable; (e) the chain stops at a thread's frame (a root). */
#define GR (HEAP_BASE + 0x8010)
#define GR_STATE (HEAP_BASE + 0x8100)
#define GR_FRAME (HEAP_BASE + 0x8210)
#define GR_IF0 (HEAP_BASE + 0x8300)
#define GR_IF1 (HEAP_BASE + 0x8400)
#define GR_CODE (HEAP_BASE + 0x8510)
#define GR_CFRAME (STATIC_BASE + 0xc000)
#define GR_LABEL(d, what) PH_EDGE(PH_EDGE_GREENLET, PH_GR_LABEL(d, what))

static void build_greenlet(void)
{
	build_with_c_object(GR, "greenlet.greenlet", 40);
	uint64_t frame_t = TYPES + 9 * 0x200, code_t = TYPES + 10 * 0x200;
	make_type(frame_t, TYPE_ADDR(T_TYPE), "frame", 56, 8, F_STATIC | F_HAVE_GC,
		  TYPE_ADDR(T_OBJECT));
	make_type(code_t, TYPE_ADDR(T_TYPE), "code", 192, 2, F_STATIC, TYPE_ADDR(T_OBJECT));
	py.sym[SYM_PyFrame_Type] = frame_t;
	py.sym[SYM_PyCode_Type] = code_t;
	put64(GR + 32, GR_STATE);
	put64(GR_STATE + 8, GR);     /* a word that is the greenlet itself */
	put64(GR_STATE + 88, HELLO); /* an object, not a frame */
	put64(GR_STATE + 96, GR_FRAME);
	put64(GR_FRAME, 1);
	put64(GR_FRAME + 8, frame_t);
	put64(GR_FRAME + 24, GR_IF0); /* f_frame */
	put64(GR_CODE, 5);
	put64(GR_CODE + 8, code_t);
	put32(GR_CODE + 76, 2); /* co_nlocalsplus */
	/* the top frame: two locals (its stack pointer unset: it runs C code) */
	put64(GR_IF0 + 32, GR_CODE);
	put64(GR_IF0 + 40, GR_FRAME);
	put64(GR_IF0 + 48, GR_IF1);
	put32(GR_IF0 + 64, (uint32_t)-1);
	put64(GR_IF0 + 72, HELLO);
	put64(GR_IF0 + 80, INT);
	/* its caller: one slot in use */
	put64(GR_IF1 + 32, GR_CODE);
	put64(GR_IF1 + 48, 0);
	put32(GR_IF1 + 64, 1);
	put64(GR_IF1 + 72, CAFE);
}

static size_t count_label(const struct ph_snapshot *s, uint64_t from, uint32_t label)
{
	uint32_t f = find(s, from), n = 0;
	for (uint32_t e = f != PH_NONE ? s->edge_start[f] : 0; f != PH_NONE && e < s->edge_start[f + 1];
	     e++)
		n += s->edges[e].label == label;
	return n;
}

static void test_greenlet(void)
{
	for (int k = 0; k < 5; k++) {
		static const char *const names[] = {
			"(a) a suspended greenlet's two frames", "(b) a chain of frames that loops",
			"(c) a frame object whose frame does not point back",
			"(d) a greenlet state that cannot be read", "(e) a chain that meets a thread"};
		current_case = names[k];
		build_greenlet();
		if (k == 1)
			put64(GR_IF1 + 48, GR_IF0);
		if (k == 2)
			put64(GR_IF0 + 40, 0);
		if (k == 3)
			put64(GR + 32, UNMAPPED);
		if (k == 4) {
			put64(TSTATE + 56, GR_CFRAME); /* cframe->current_frame */
			put64(GR_CFRAME + 8, GR_IF1);
		}
		put32(GR_CODE + 68, 2);    /* co_stacksize */
		put64(GR_IF0 + 88, TUPLE); /* its value stack's first slot */
		struct ph_snapshot *s = walk_quick();
		py.sym[SYM_PyFrame_Type] = py.sym[SYM_PyCode_Type] = 0;
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK(!strcmp(kind_of(s, GR), "greenlet.greenlet"));
		CHECK_EQ(s->unreadable, 0);
		bool frames = k < 2 || k == 4;
		CHECK(has_edge(s, GR, GR_FRAME, GR_LABEL(0, PH_GR_FRAME_OBJ)) == frames);
		CHECK(has_edge(s, GR, GR_CODE, GR_LABEL(0, PH_GR_CODE)) == frames);
		CHECK(has_edge(s, GR, HELLO, GR_LABEL(0, 0)) == frames);
		CHECK(has_edge(s, GR, INT, GR_LABEL(0, 1)) == frames);
		CHECK(has_edge(s, GR, CAFE, GR_LABEL(1, 0)) == (k < 2));
		CHECK(!has_edge(s, GR, GR, PH_EDGE(PH_EDGE_WORD, 8)));
		CHECK_EQ(count_label(s, GR, GR_LABEL(0, PH_GR_CODE)), frames);
		// (The top frame's value stack, its depth unset: a stack ref.)
		const struct ph_stack_ref *sr = ph_snapshot_stack_ref(s, find(s, TUPLE));
		CHECK(!frames || (sr && sr->root == PH_NONE && sr->holder == find(s, GR) &&
				  sr->depth == 0 && sr->slot == 0));
		if (k == 1) {
			CHECK_EQ(count_label(s, GR, GR_LABEL(PH_GR_MAX_DEPTH, PH_GR_CODE)), 1);
			CHECK(has_edge(s, GR, HELLO, GR_LABEL(PH_GR_MAX_DEPTH - 1, 0)));
		} else {
			CHECK_EQ(count_label(s, GR, GR_LABEL(2, PH_GR_CODE)), 0);
		}
		ph_snapshot_destroy(s);
	}
}

/* A thread's main greenlet, suspended (another greenlet runs on the thread):
 * greenlet marks it with a stack_stop of -1 after the stack pointer it saved,
 * which lies in its thread's stack. It is a root of that thread: (a) the
 * thread whose pthread struct (its id) is in the same mapping; (b) the main
 * thread (native id = pid) when the pointer is in [stack]; (c) no thread known
 * (a mapping with no thread's struct, not [stack]); (d) a pointer in no
 * anonymous mapping, (e) no -1 word: no root, as for any greenlet; (f) on
 * [stack], no native ids (before 3.11): the oldest thread state, the last of
 * the interpreter's list. */
static void test_main_greenlet(void)
{
	static const char *const names[] = {
		"(a) a main greenlet on a thread's stack", "(b) a main greenlet on [stack]",
		"(c) a main greenlet, its thread unknown", "(d) a stack pointer in no mapping",
		"(e) a user greenlet", "(f) the oldest thread, no native ids"};
	const uint64_t tid = 0x7f0000001234ull, sp = 0x7f0000000a00ull;
	const uint64_t tstate2 = STATIC_BASE + 0x9400, tid2 = 0x7f0000005678ull;
	for (int k = 0; k < 6; k++) {
		current_case = names[k];
		build_greenlet();
		struct ph_mem_range maps[] = {{0x10000, 0x20000}, {0x7f0000000000ull, 0x7f0000002000ull}};
		if (k != 0)
			maps[1].end = tid; /* the thread's struct elsewhere */
		if (k == 1 || k == 5) {
			py.stack_start = maps[1].start;
			py.stack_end = maps[1].end;
			put64(TSTATE + 160, (uint64_t)py.pid);
		}
		int32_t native_at = py.L.ts_native_thread_id;
		if (k == 5) {
			// (A newer thread first in the list, the main thread's last.)
			py.L.ts_native_thread_id = -1;
			put64(INTERP + (uint64_t)py.L.is_threads_head, tstate2);
			put64(tstate2 + 8, TSTATE);
			put64(tstate2 + 16, INTERP);
			put64(tstate2 + 152, tid2);
		}
		py.anon_maps = maps;
		py.nanon_maps = 2;
		put64(GR_STATE + 48, k == 3 ? 0x30000 : sp); /* stack_start */
		put64(GR_STATE + 56, k == 4 ? 0 : UINT64_MAX); /* stack_stop */
		struct ph_snapshot *s = walk_quick();
		py.L.ts_native_thread_id = native_at;
		py.sym[SYM_PyFrame_Type] = py.sym[SYM_PyCode_Type] = 0;
		py.anon_maps = NULL;
		py.nanon_maps = 0;
		py.stack_start = py.stack_end = 0;
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, 0);
		uint32_t root = PH_NONE;
		size_t n = 0;
		for (size_t r = 0; r < s->nroots; r++)
			if (s->roots[r].kind == PH_ROOT_MAIN_GREENLET) {
				root = (uint32_t)r;
				n++;
			}
		CHECK_EQ(n, k < 3 || k == 5);
		CHECK_EQ(s->threads, k == 5 ? 2 : 1);
		// (Its frames are the greenlet's, as for any greenlet.)
		CHECK(has_edge(s, GR, GR_FRAME, GR_LABEL(0, PH_GR_FRAME_OBJ)));
		if (root != PH_NONE) {
			CHECK(s->roots[root].object == find(s, GR));
			CHECK_EQ(s->roots[root].thread_id, k < 2 || k == 5 ? tid : 0);
			char label[256];
			ph_graph_root_label(s, root, label, sizeof(label));
			CHECK_MSG(!strcmp(label, k != 2 ? "thread 0x7f0000001234 main greenlet"
							: "a thread's main greenlet"),
				  "label %s", label);
		}
		ph_snapshot_destroy(s);
	}
}

/* The static data of ELF files (py.static_areas): each word that holds the
 * address of an object found names where it is held, the first such word of
 * each object, the other files before the interpreter's; words that are no
 * object's address (numbers, pointers into the area itself, to freed memory,
 * to an unreadable page) name nothing; nothing is added. */
#define ST_EXT (STATIC_BASE + 0xd000)
#define ST_INTERP (STATIC_BASE + 0xd800)
static void test_static_refs(void)
{
	current_case = "(a) words of static data that hold objects";
	build();
	struct ph_static_area areas[] = {
		{ST_INTERP, ST_INTERP + 0x100, STATIC_BASE, (char *)"libpython3.11.so.1.0", true},
		{ST_EXT, ST_EXT + 0x100, ST_EXT - 0x4000, (char *)"_ext.cpython-311-x86_64-linux-gnu.so",
		 false},
	};
	put64(ST_INTERP + 8, TUPLE);  /* only the interpreter: named by it */
	put64(ST_INTERP + 16, LIST);  /* the extension names it first */
	put64(ST_EXT + 0x40, 12345);
	put64(ST_EXT + 0x48, ST_EXT + 0x10); /* into the area itself */
	put64(ST_EXT + 0x50, EXTRA1);        /* no object there */
	put64(ST_EXT + 0x58, UNMAPPED);
	put64(ST_EXT + 0x60, LIST);
	put64(ST_EXT + 0x68, HELLO);
	put64(ST_EXT + 0x70, LIST); /* again: the first one names it */
	py.static_areas = areas;
	py.nstatic_areas = 2;
	struct ph_snapshot *s = walk_quick();
	py.static_areas = NULL;
	py.nstatic_areas = 0;
	if (!s)
		return;
	CHECK(consistent(s));
	CHECK_EQ(s->nstatic_refs, 3);
	CHECK_EQ(s->nstatic_files, 2);
	const struct ph_static_ref *l = ph_snapshot_static_ref(s, find(s, LIST));
	const struct ph_static_ref *h = ph_snapshot_static_ref(s, find(s, HELLO));
	const struct ph_static_ref *t = ph_snapshot_static_ref(s, find(s, TUPLE));
	CHECK(l && !strcmp(s->static_files[l->file], areas[1].file) && l->offset == 0x4060);
	CHECK(h && h->file == l->file && h->offset == 0x4068);
	CHECK(t && !strcmp(s->static_files[t->file], areas[0].file) &&
	      t->offset == ST_INTERP + 8 - STATIC_BASE);
	CHECK(find(s, EXTRA1) == PH_NONE);
	for (size_t i = 1; i < s->nstatic_refs; i++)
		CHECK(s->static_refs[i].object > s->static_refs[i - 1].object);
	ph_snapshot_destroy(s);
}

/* The value stack of a thread's running frame (3.11: its stacktop -1, the
 * depth in a register): the slots above its locals, up to co_stacksize, that
 * hold objects, the first of each object (snapshot's stack_refs), naming the
 * frame's root. (a) the running frame, its caller's stack known (its slots
 * past the top not read); (b) the running frame's stacktop set: no slot read
 * past it. */
static void test_stack_refs(void)
{
	for (int k = 0; k < 2; k++) {
		current_case = k ? "(b) a stack pointer set" : "(a) a running frame's value stack";
		build_greenlet();
		put64(TSTATE + 56, GR_CFRAME); /* cframe->current_frame */
		put64(GR_CFRAME + 8, GR_IF0);
		put32(GR_CODE + 68, 4);        /* co_stacksize */
		put64(GR_IF0 + 88, TUPLE);     /* the slots past its two locals */
		put64(GR_IF0 + 96, UNMAPPED);
		put64(GR_IF0 + 104, HELLO + 3);
		put64(GR_IF0 + 112, LIST);
		put64(GR_IF0 + 120, TUPLE); /* past co_stacksize */
		put64(GR_IF1 + 80, LIST);   /* past its caller's top (1 slot) */
		if (k)
			put32(GR_IF0 + 64, 2);
		struct ph_snapshot *s = walk_quick();
		py.sym[SYM_PyFrame_Type] = py.sym[SYM_PyCode_Type] = 0;
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, 0);
		const struct ph_stack_ref *t = ph_snapshot_stack_ref(s, find(s, TUPLE));
		const struct ph_stack_ref *l = ph_snapshot_stack_ref(s, find(s, LIST));
		if (k) {
			CHECK_EQ(s->nstack_refs, 0);
		} else {
			CHECK_EQ(s->nstack_refs, 2);
			CHECK(t && t->slot == 0 && s->roots[t->root].kind == PH_ROOT_FRAME &&
			      s->roots[t->root].depth == 0);
			CHECK(l && l->slot == 3 && l->root == (t ? t->root : PH_NONE));
			CHECK(!ph_snapshot_stack_ref(s, find(s, HELLO)));
		}
		ph_snapshot_destroy(s);
	}
}

/* 100 objects of one C type: the word at +16 holds a C struct in the first
 * 10, a str in the others; the word at +24 a C struct in all: every str is
 * found (the word is followed once it held an object), +24 gives no edge,
 * nothing is unreadable. */
#define CXS (HEAP_BASE + 0x10000)
#define CXS_STRS (HEAP_BASE + 0x20000)
#define CXS_ITEMS (HEAP_BASE + 0x30000)
static void test_struct_words_learn(void)
{
	enum { N = 100 };
	current_case = "(a) a word of 100 objects of one C type";
	build_with_c_object(CXS, "ext.Many", 48);
	uint64_t t = TYPES + 7 * 0x200;
	put64(CX_STATE, TYPE_ADDR(T_LIST));
	put64(CX_STATE + 8, TYPE_ADDR(T_STR));
	for (uint64_t k = 0; k < N; k++) {
		uint64_t o = CXS + 64 * k, str = CXS_STRS + 64 * k;
		put64(o, 1);
		put64(o + 8, t);
		char text[16];
		snprintf(text, sizeof(text), "s%llu", (unsigned long long)k);
		put_ascii(str, text, 1);
		put64(o + 16, k < 10 ? CX_STATE : str);
		put64(o + 24, CX_STATE);
		put64(CXS_ITEMS + 8 * k, o);
	}
	put64(LIST + 16, N);
	put64(LIST + 24, CXS_ITEMS);
	put64(LIST + 32, N);
	struct ph_snapshot *s = walk_quick();
	if (!s)
		return;
	CHECK(consistent(s));
	size_t missing = 0, extra = 0;
	for (uint64_t k = 0; k < N; k++) {
		uint64_t o = CXS + 64 * k;
		uint32_t i = find(s, o);
		uint32_t ne = i != PH_NONE ? s->edge_start[i + 1] - s->edge_start[i] : 0;
		if (k >= 10 && !has_edge(s, o, CXS_STRS + 64 * k, PH_EDGE(PH_EDGE_WORD, 16)))
			missing++;
		extra += ne > (k >= 10);
	}
	CHECK_EQ(missing, 0);
	CHECK_EQ(extra, 0);
	CHECK(find(s, CX_STATE) == PH_NONE);
	CHECK_EQ(s->unreadable, 0);
	ph_snapshot_destroy(s);
}

/* A Cython class's typed fields are properties, not members: the getter of
 * one that returns the field (load, Py_INCREF, ret; 3.12's immortal check;
 * after endbr64 and a jmp from a wrapper) names it; another getter names
 * nothing, and its field is a word (+24); nor does one that loads a field and
 * tests the int it points to (gevent's watchers' `active`, here of +24: their
 * field points into their own struct, at no object). */
#define GETSETS (STATIC_BASE + 0xc000)
#define GETTERS (STATIC_BASE + 0xc400)
static void test_getter_names(void)
{
	static const uint8_t load16[] = {0x48, 0x8b, 0x47, 0x10, 0x48, 0x83, 0x00, 0x01, 0xc3};
	static const uint8_t other[] = {0x48, 0x83, 0xec, 0x18, 0x48, 0x63, 0x7f, 0x18, 0xe8};
	static const uint8_t wrapper[] = {0xf3, 0x0f, 0x1e, 0xfa, 0xe9, 0x17, 0x00, 0x00, 0x00};
	static const uint8_t load40[] = {0x48, 0x8b, 0x47, 0x28, 0x83, 0x38, 0xff, 0x74, 0x02,
					 0x83, 0x00, 0x01, 0xc3}; /* 3.13: cmp dword [rax], -1 */
	static const uint8_t load32[] = {0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x8b, 0x87, 0x20, 0x00, 0x00,
					 0x00, 0x8b, 0x10, 0x83, 0xc2, 0x01, 0x74, 0x02, 0x89, 0x10, 0xc3};
	static const uint8_t flag[] = {0x48, 0x8b, 0x47, 0x18, 0x8b, 0x00, 0x85, 0xc0, 0x74, 0x16,
				       0x48, 0x8b, 0x05, 0x47, 0xa4, 0x02, 0x00, 0x48, 0x83, 0x00,
				       0x01, 0xc3};
	current_case = "(a) fields named by their getters";
	build_with_c_object(CX, "ext.Block", 48);
	uint64_t t = TYPES + 7 * 0x200;
	put64(t + 248, GETSETS); /* tp_getset */
	put(GETTERS, load16, sizeof(load16));
	put(GETTERS + 0x20, other, sizeof(other));
	put(GETTERS + 0x40, wrapper, sizeof(wrapper)); /* jmp to GETTERS + 0x60 */
	put(GETTERS + 0x60, load32, sizeof(load32));
	put(GETTERS + 0x80, load40, sizeof(load40));
	put(GETTERS + 0xa0, flag, sizeof(flag));
	static const char *const names[] = {"values", "ndim", "via_jmp", "immortal", "active"};
	static const uint64_t code[] = {0, 0x20, 0x40, 0x80, 0xa0};
	for (uint64_t k = 0; k < 5; k++) {
		put64(GETSETS + 40 * k, put_cstr(names[k]));
		put64(GETSETS + 40 * k + 8, GETTERS + code[k]);
	}
	put64(CX + 16, EXTRA1);
	put_ascii(EXTRA1, "in values", 1);
	put64(CX + 24, INT);
	put64(CX + 32, HELLO);
	put64(CX + 40, CAFE);
	struct ph_snapshot *s = walk_quick();
	if (!s)
		return;
	CHECK(consistent(s));
	uint32_t c = find(s, CX);
	const struct ph_type *pt = c != PH_NONE ? &s->types[s->objects[c].type] : NULL;
	CHECK(pt && pt->nslot_names == 3);
	if (pt && pt->nslot_names == 3) {
		CHECK_MSG(!strcmp(pt->slot_names[0], "values"), "%s", pt->slot_names[0]);
		CHECK_MSG(!strcmp(pt->slot_names[1], "via_jmp"), "%s", pt->slot_names[1]);
		CHECK_MSG(!strcmp(pt->slot_names[2], "immortal"), "%s", pt->slot_names[2]);
	}
	CHECK(has_edge(s, CX, EXTRA1, PH_EDGE(PH_EDGE_SLOT, 0)));
	CHECK(has_edge(s, CX, HELLO, PH_EDGE(PH_EDGE_SLOT, 1)));
	CHECK(has_edge(s, CX, CAFE, PH_EDGE(PH_EDGE_SLOT, 2)));
	CHECK(has_edge(s, CX, INT, PH_EDGE(PH_EDGE_WORD, 24)));
	CHECK(c != PH_NONE && s->edge_start[c + 1] - s->edge_start[c] == 4);
	CHECK_EQ(s->unreadable, 0);
	ph_snapshot_destroy(s);
}

/* A list of 20,000 words that are not objects, then two that are: the
 * edges that led nowhere are dropped during the walk, the good ones kept. */
static void test_garbage_items(void)
{
	enum { N = 20000 };
	current_case = "(a) list of 20000 garbage items and 2 good ones";
	build();
	uint64_t items = HEAP_BASE + 0x10000;
	for (uint64_t k = 0; k < N; k++)
		put64(items + 8 * k, HEAP_BASE + 0x3a000 + 16 * (k % 64)); /* zeros: no type */
	put64(items + 8 * N, HELLO);
	put64(items + 8 * N + 8, INT);
	put64(LIST + 16, N + 2);
	put64(LIST + 24, items);
	put64(LIST + 32, N + 2);
	struct ph_snapshot *s = walk_ok();
	if (!s)
		return;
	CHECK(consistent(s));
	CHECK(s->unreadable >= N);
	uint32_t l = find(s, LIST);
	CHECK(l != PH_NONE && s->edge_start[l + 1] - s->edge_start[l] == 2);
	CHECK(has_edge(s, LIST, HELLO, PH_EDGE(PH_EDGE_INDEX, N)));
	CHECK(has_edge(s, LIST, INT, PH_EDGE(PH_EDGE_INDEX, N + 1)));
	CHECK(has_edge(s, TUPLE, LIST, PH_EDGE(PH_EDGE_INDEX, 1)));
	ph_snapshot_destroy(s);
}

/* Objects off the 16-byte grid go in a hash table; thousands of them make it
 * grow (which once freed the table of the aligned objects). */
static void test_unaligned_objects(void)
{
	enum { N = 4000 };
	current_case = "(a) 4000 ints at addresses = 8 mod 16, with aligned ones";
	build();
	uint64_t ints = HEAP_BASE + 0x10000, items = HEAP_BASE + 0x30000;
	for (uint64_t k = 0; k < N; k++) {
		uint64_t a = ints + 8 + 32 * k; /* off the grid */
		put64(a + 0, 1);
		put64(a + 8, TYPE_ADDR(T_INT));
		put64(a + 16, 1);
		put32(a + 24, (uint32_t)k);
		put64(items + 8 * k, a);
	}
	put64(items + 8 * N, HELLO); /* on the grid, after the table grew */
	put64(LIST + 16, N + 1);
	put64(LIST + 24, items);
	put64(LIST + 32, N + 1);
	struct ph_snapshot *s = walk_ok();
	if (!s)
		return;
	CHECK(consistent(s));
	/* the list, the tuple and its str, the ints, "hello" */
	CHECK_EQ(s->nobjects, 3 + N + 1);
	CHECK_EQ(s->unreadable, 0);
	CHECK(!strcmp(kind_of(s, ints + 8), "int"));
	CHECK(!strcmp(kind_of(s, ints + 8 + 32 * (N - 1)), "int"));
	CHECK(!strcmp(kind_of(s, HELLO), "str"));
	CHECK(!strcmp(kind_of(s, TUPLE), "tuple"));
	CHECK(has_edge(s, LIST, ints + 8 + 32 * 1234, PH_EDGE(PH_EDGE_INDEX, 1234)));
	CHECK(has_edge(s, TUPLE, LIST, PH_EDGE(PH_EDGE_INDEX, 1)));
	ph_snapshot_destroy(s);
}

/* Like walk_ok(), and the walk must not take long: a bad GC list must be
 * detected, not walked until the object limit. */
static struct ph_snapshot *walk_quick(void)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct ph_snapshot *s = walk_ok();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK_MSG(secs < 5.0, "the walk took %.1f s", secs);
	return s;
}

/* glibc malloc's chunks outside the main arena's heap (2.35+: struct
 * malloc_state of 2200 bytes, top at 96, next at 2160; mp_ of 136 bytes,
 * n_mmaps at 60; heap_info of 48 bytes): a thread arena whose heap is the
 * heap segment (HEAP_BASE is a multiple of 64 MiB), not its first, and
 * chunks malloc mapped apart in an anonymous mapping. A str over 512 bytes
 * that nothing refers to in a chunk in use of each is found; none in a chunk
 * that is free, nor in a chunk mapped apart whose size runs past its mapping.
 * Then garbage: a heap list that loops, an arena list into unmapped memory. */
#define MAIN_ARENA (STATIC_BASE + 0x20000)
#define THREAD_ARENA (STATIC_BASE + 0x21000)
#define MALLOC_PAR (STATIC_BASE + 0x22000)
#define TH_CHUNK_A (HEAP_BASE + 0x30)    /* spans the fixture's objects */
#define TH_CHUNK_B (HEAP_BASE + 0x38000) /* in use: a leaked str */
#define TH_CHUNK_C (HEAP_BASE + 0x38400) /* free (the top's PREV_INUSE 0) */
#define TH_TOP (HEAP_BASE + 0x38800)
#define MAPPING (HEAP_BASE + 0x39000)   /* an anonymous mapping, 0x5000 bytes */
#define MAPPED_D (HEAP_BASE + 0x3a000)  /* a chunk mapped apart: a leaked str */
#define MAPPED_E (HEAP_BASE + 0x3c000)  /* one whose size runs past the mapping */

static void build_malloc(void)
{
	build();
	static uint8_t text[600];
	memset(text, 'x', sizeof(text));
	put64(MAIN_ARENA + 2160, THREAD_ARENA);
	put64(THREAD_ARENA + 2160, MAIN_ARENA);
	put64(THREAD_ARENA + 96, TH_TOP);
	put32(MALLOC_PAR + 60, 2);           /* n_mmaps */
	put64(MALLOC_PAR + 80, 0x12000);     /* mmapped_mem */
	put64(HEAP_BASE + 0, THREAD_ARENA);  /* heap_info: ar_ptr, prev, size */
	put64(HEAP_BASE + 8, 0);
	put64(HEAP_BASE + 16, MAPPING - HEAP_BASE); /* (the mapping after it) */
	put64(TH_CHUNK_A + 8, (TH_CHUNK_B - TH_CHUNK_A) | 1 | 4);
	put64(TH_CHUNK_B + 8, 0x400 | 1 | 4);
	put_latin1(TH_CHUNK_B + 16, text, sizeof(text), 1);
	put64(TH_CHUNK_C + 8, 0x400 | 1 | 4);
	put_latin1(TH_CHUNK_C + 16, text, sizeof(text), 1);
	put64(TH_TOP + 8, (MAPPING - TH_TOP) | 4); /* C is free */
	put64(MAPPING, 16);                  /* prev_size not 0: no chunk */
	put64(MAPPING + 8, 0x2000 | 2);
	put64(MAPPED_D + 8, 0x2000 | 2);
	put_latin1(MAPPED_D + 16, text, sizeof(text), 1);
	put64(MAPPED_E + 8, 0x4000 | 2);
	put_latin1(MAPPED_E + 16, text, sizeof(text), 1);
	py.libc_main_arena = MAIN_ARENA;
	py.libc_main_arena_size = 2200;
	py.libc_mp = MALLOC_PAR;
	py.libc_mp_size = 136;
}

static void test_malloc_chunks(void)
{
	struct ph_mem_range mapping = {MAPPING, MAPPING + 0x5000};
	for (int k = 0; k < 3; k++) {
		current_case = k == 0	? "(a) a thread arena's heap and chunks mapped apart"
			       : k == 1 ? "(b) a thread arena's heap that is its own previous one"
					: "(c) a thread arena whose next one is unmapped";
		build_malloc();
		if (k == 1)
			put64(HEAP_BASE + 8, HEAP_BASE);
		if (k == 2)
			put64(THREAD_ARENA + 2160, UNMAPPED);
		py.anon_maps = &mapping;
		py.nanon_maps = 1;
		struct ph_snapshot *s = walk_quick();
		py.anon_maps = NULL;
		py.nanon_maps = 0;
		py.libc_main_arena = py.libc_main_arena_size = py.libc_mp = py.libc_mp_size = 0;
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK(s->cmalloc.known);
		uint32_t b = find(s, TH_CHUNK_B + 16), d = find(s, MAPPED_D + 16);
		CHECK_MSG(b != PH_NONE && (s->objects[b].flags & PH_OBJ_POOL),
			  "the str in the thread arena's chunk in use");
		CHECK_MSG(d != PH_NONE && (s->objects[d].flags & PH_OBJ_POOL),
			  "the str in the chunk mapped apart");
		CHECK(b == PH_NONE || s->objects[b].size == 72 + 600 + 1);
		CHECK_MSG(find(s, TH_CHUNK_C + 16) == PH_NONE, "a str in a free chunk");
		CHECK_MSG(find(s, MAPPED_E + 16) == PH_NONE, "a str past its mapping");
		CHECK(find(s, TH_CHUNK_A + 16) == PH_NONE);
		ph_snapshot_destroy(s);
	}
}

/* (b) GC lists that do not come back to their head */
static void test_gc_cycles(void)
{
	struct ph_snapshot *s;

	current_case = "(b) GC list: B.next -> A";
	build();
	/* generation 0: head -> list -> tuple -> list -> ... (never the head) */
	uint64_t g0[] = {LIST, TUPLE};
	gc_empty(GEN_HEAD(2));
	gc_link(GEN_HEAD(0), g0, 2, 0);
	put64(TUPLE - 16, LIST - 16);
	s = walk_quick();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		CHECK_EQ(s->nobjects, 5);
		ph_snapshot_destroy(s);
	}

	current_case = "(b) GC list: A.next -> A, prev consistent";
	build();
	put64(LIST - 16, LIST - 16);
	put64(LIST - 8, LIST - 16);
	s = walk_quick();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		ph_snapshot_destroy(s);
	}

	current_case = "(b) GC list: A.next -> A, A.prev -> A";
	build();
	put64(LIST - 16, LIST - 16);
	put64(LIST - 8, LIST - 16);
	put64(GEN_HEAD(0) + 8, LIST - 16);
	s = walk_quick();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		ph_snapshot_destroy(s);
	}

	static const struct {
		const char *name;
		uint64_t next;
	} bad[] = {
		{"(b) GC list: next into unmapped memory", UNMAPPED},
		{"(b) GC list: next NULL", 0},
		{"(b) GC list: next misaligned", HELLO + 4},
		{"(b) GC list: next to a non-object", ITEMS},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		current_case = bad[k].name;
		build();
		put64(LIST - 16, bad[k].next);
		s = walk_quick();
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		CHECK_EQ(s->nobjects, 5); /* the list was read before its next */
		ph_snapshot_destroy(s);
	}

	current_case = "(b) GC head of generation 1 unmapped";
	build();
	put64(GEN_HEAD(1), UNMAPPED);
	s = walk_quick();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		CHECK_EQ(s->nobjects, 5);
		ph_snapshot_destroy(s);
	}
}

/* (c) types whose metatype chain never reaches PyType_Type */
static void test_type_loop(void)
{
	struct ph_snapshot *s;

	current_case = "(c) metatype loop X <-> Y";
	build();
	uint64_t flags = F_READY | F_BASETYPE | F_HAVE_GC | F_TYPE;
	make_type(EXTRA1, EXTRA2, "X", 904, 40, flags, TYPE_ADDR(T_TYPE));
	make_type(EXTRA2, EXTRA1, "Y", 904, 40, flags, TYPE_ADDR(T_TYPE));
	/* an object of type X in generation 1, and X itself in generation 1 */
	put64(EXTRA_OBJ, 1);
	put64(EXTRA_OBJ + 8, EXTRA1);
	uint64_t g1[] = {EXTRA_OBJ};
	gc_link(GEN_HEAD(1), g1, 1, 0);
	/* and the tuple refers to Y (a type object whose type is X) */
	put64(TUPLE + 16, 3);
	put64(TUPLE + 40, EXTRA2);
	s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable >= 2);
		CHECK_EQ(s->nobjects, 5);
		CHECK_EQ(find(s, EXTRA_OBJ), PH_NONE);
		CHECK_EQ(find(s, EXTRA2), PH_NONE);
		for (size_t t = 0; t < s->ntypes; t++)
			CHECK_MSG(s->types[t].address != EXTRA1 && s->types[t].address != EXTRA2,
				  "type %s added", s->types[t].name);
		ph_snapshot_destroy(s);
	}

	current_case = "(c) metatype is itself but not PyType_Type";
	build();
	make_type(EXTRA1, EXTRA1, "Z", 904, 40, flags, TYPE_ADDR(T_TYPE));
	put64(EXTRA_OBJ, 1);
	put64(EXTRA_OBJ + 8, EXTRA1);
	gc_link(GEN_HEAD(1), g1, 1, 0);
	s = walk_ok();
	if (s) {
		CHECK(s->unreadable >= 1);
		CHECK_EQ(s->nobjects, 5);
		CHECK_EQ(find(s, EXTRA_OBJ), PH_NONE);
		ph_snapshot_destroy(s);
	}

	/* A valid type (its type is PyType_Type) whose tp_base chain loops:
	 * classification must stop; its instances are added as that type. */
	current_case = "(c) tp_base loop";
	build();
	make_type(EXTRA1, TYPE_ADDR(T_TYPE), "Loopy", 32, 0, F_STATIC | F_HAVE_GC, EXTRA2);
	make_type(EXTRA2, TYPE_ADDR(T_TYPE), "Loopy2", 32, 0, F_STATIC | F_HAVE_GC, EXTRA1);
	put64(EXTRA_OBJ, 1);
	put64(EXTRA_OBJ + 8, EXTRA1);
	gc_link(GEN_HEAD(1), g1, 1, 0);
	s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, 0);
		CHECK_EQ(s->nobjects, 6);
		CHECK(!strcmp(kind_of(s, EXTRA_OBJ), "Loopy"));
		CHECK_EQ(size_of(s, EXTRA_OBJ), 32 + 16);
		ph_snapshot_destroy(s);
	}

	current_case = "(c) type not ready / absurd sizes";
	static const struct {
		uint64_t flags, basic, item;
	} badtypes[] = {
		{F_HAVE_GC, 32, 0},                 /* not ready */
		{F_STATIC | F_HAVE_GC, 8, 0},       /* basicsize < sizeof(PyObject) */
		{F_STATIC | F_HAVE_GC, 1ull << 40, 0},
		{F_STATIC | F_HAVE_GC, 32, (uint64_t)-8},
	};
	for (size_t k = 0; k < sizeof(badtypes) / sizeof(badtypes[0]); k++) {
		build();
		make_type(EXTRA1, TYPE_ADDR(T_TYPE), "Bad", badtypes[k].basic, badtypes[k].item,
			  badtypes[k].flags, TYPE_ADDR(T_OBJECT));
		put64(EXTRA_OBJ, 1);
		put64(EXTRA_OBJ + 8, EXTRA1);
		gc_link(GEN_HEAD(1), g1, 1, 0);
		s = walk_ok();
		if (s) {
			CHECK(consistent(s));
			CHECK(s->unreadable >= 1);
			CHECK_EQ(s->nobjects, 5);
			CHECK_EQ(find(s, EXTRA_OBJ), PH_NONE);
			ph_snapshot_destroy(s);
		}
	}
}

/* (d) list and tuple sizes that cannot be right */
static void test_bad_sizes(void)
{
	static const struct {
		const char *name;
		uint64_t ob_size, allocated;
	} bad[] = {
		{"(d) list ob_size > allocated", 5, 4},
		{"(d) list ob_size negative", (uint64_t)-1, 4},
		{"(d) list allocated huge", 3, 1ull << 40},
		{"(d) list ob_size INT64_MIN", 1ull << 63, 4},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		current_case = bad[k].name;
		build();
		put64(LIST + 16, bad[k].ob_size);
		put64(LIST + 32, bad[k].allocated);
		struct ph_snapshot *s = walk_ok();
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		/* no items followed: the list, the tuple and its str remain */
		CHECK_EQ(s->nobjects, 3);
		CHECK(!strcmp(kind_of(s, LIST), "list"));
		CHECK_EQ(find(s, HELLO), PH_NONE);
		CHECK(size_of(s, LIST) < (1u << 20));
		ph_snapshot_destroy(s);
	}

	/* A tuple claiming more items than are mapped: its items array runs off
	 * the end of the heap segment. */
	current_case = "(d) tuple ob_size past mapped memory";
	build();
	put64(TUPLE + 16, SEG_SIZE / 8);
	struct ph_snapshot *s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK(s->unreadable > 0);
		CHECK(!strcmp(kind_of(s, TUPLE), "tuple"));
		ph_snapshot_destroy(s);
	}

	current_case = "(d) tuple ob_size negative";
	build();
	put64(TUPLE + 16, (uint64_t)-2);
	s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK(!strcmp(kind_of(s, TUPLE), "tuple"));
		CHECK(size_of(s, TUPLE) < (1u << 20));
		ph_snapshot_destroy(s);
	}

	static const uint64_t int_sizes[] = {(uint64_t)-1, 1ull << 40, 1ull << 63};
	for (size_t k = 0; k < sizeof(int_sizes) / sizeof(int_sizes[0]); k++) {
		current_case = "(d) int with absurd ob_size";
		build();
		put64(INT + 16, int_sizes[k]);
		s = walk_ok();
		if (s) {
			CHECK(consistent(s));
			CHECK_EQ(s->nobjects, 5);
			CHECK(!strcmp(kind_of(s, INT), "int"));
			CHECK_MSG(size_of(s, INT) < (1ull << 32), "ob_size 0x%llx: size %llu",
				  (unsigned long long)int_sizes[k],
				  (unsigned long long)size_of(s, INT));
			ph_snapshot_destroy(s);
		}
	}
}

/* (e) str headers that cannot be right */
static void test_bad_str(void)
{
	static const struct {
		const char *name;
		uint64_t length;
		uint32_t state;
	} bad[] = {
		{"(e) str length -1", (uint64_t)-1, 1u << 2 | 1u << 5 | 1u << 6 | 1u << 7},
		{"(e) str length 2^62", 1ull << 62, 1u << 2 | 1u << 5 | 1u << 6 | 1u << 7},
		{"(e) str length 2^39", 1ull << 39, 1u << 2 | 1u << 5 | 1u << 6 | 1u << 7},
		{"(e) str kind 7, not compact", 5, 7u << 2 | 1u << 7},
		{"(e) str state all ones", 5, UINT32_MAX},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		current_case = bad[k].name;
		build();
		put64(HELLO + 16, bad[k].length);
		put32(HELLO + 32, bad[k].state);
		put64(HELLO + 40, UNMAPPED);   /* wstr */
		put64(CAFE + 16, bad[k].length);
		put32(CAFE + 32, bad[k].state & ~(1u << 6));
		put64(CAFE + 56, UNMAPPED);    /* utf8 */
		put64(CAFE + 48, bad[k].length); /* utf8_length */
		put64(CAFE + 72, UNMAPPED);    /* data, when not compact */
		struct ph_snapshot *s = walk_ok();
		if (!s)
			continue;
		CHECK(consistent(s));
		CHECK_EQ(s->nobjects, 5);
		CHECK(!strcmp(kind_of(s, HELLO), "str"));
		CHECK(!strcmp(kind_of(s, CAFE), "str"));
		ph_snapshot_destroy(s);

		/* reading it as text must fail or stay within the buffer */
		struct ph_buffer_segment segs[] = {{STATIC_BASE, seg_static, SEG_SIZE},
						   {HEAP_BASE, seg_heap, SEG_SIZE}};
		struct ph_buffer_source bs = {segs, 2};
		struct ph_mem_source src = {.read = ph_buffer_source_read, .arg = &bs};
		struct ph_mem *mem;
		if (!ph_mem_create(&src, &mem)) {
			char buf[16];
			if (ph_python_read_str(&py, mem, HELLO, buf, sizeof(buf)))
				CHECK(strlen(buf) < sizeof(buf));
			if (ph_python_read_str(&py, mem, CAFE, buf, sizeof(buf)))
				CHECK(strlen(buf) < sizeof(buf));
			ph_mem_destroy(mem);
		}
	}
}

/* A Python class (heap type, subtype_traverse) deriving from tuple, with a
 * __dict__ holding __module__, and an instance of it: heap type names, the
 * __class__ edge, type objects as objects, dict sizes. */
static void build_pyclass(void)
{
	build();
	put_ascii(STR_T, "T", 2);
	put_ascii(STR_MODKEY, "__module__", 1);
	put_ascii(STR_MOD, "mod", 1);

	/* keys: 8 slots, 1-byte indices, unicode entries {key, value} */
	put64(PYKEYS + 0, 1);              /* dk_refcnt */
	uint8_t hdr[4] = {3, 3, 1, 0};     /* log2_size, log2_index_bytes, kind */
	put(PYKEYS + 8, hdr, sizeof(hdr));
	put64(PYKEYS + 16, 4);             /* dk_usable (5 - 1 used) */
	put64(PYKEYS + 24, 1);             /* dk_nentries */
	uint8_t idx[8] = {0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff};
	put(PYKEYS + 32, idx, sizeof(idx));
	put64(PYKEYS + 40, STR_MODKEY);
	put64(PYKEYS + 48, STR_MOD);

	put64(PYDICT + 0, 1);
	put64(PYDICT + 8, TYPE_ADDR(T_DICT));
	put64(PYDICT + 16, 1);      /* ma_used */
	put64(PYDICT + 32, PYKEYS);
	put64(PYDICT + 40, 0);      /* ma_values: combined table */

	/* class T(tuple): basicsize 24 + __dict__ + __weakref__, tp_dictoffset -8 */
	uint64_t flags = F_READY | F_VERSION_TAG | F_VALID_VERSION_TAG | F_BASETYPE | F_HAVE_GC |
			 F_TUPLE | (1 << 9) /* HEAPTYPE */;
	name_cursor = NAMES + 0x800;
	make_type(PYTYPE, TYPE_ADDR(T_TYPE), "T", 40, 8, flags, TYPE_ADDR(T_TUPLE));
	put64(PYTYPE + 184, SUBTYPE_TRAVERSE);
	put64(PYTYPE + 264, PYDICT);   /* tp_dict */
	put64(PYTYPE + 288, (uint64_t)-8); /* tp_dictoffset */
	put64(PYTYPE + 208, 32);       /* tp_weaklistoffset */
	put64(PYTYPE + 848, STR_T);    /* ht_name */
	put64(PYTYPE + 864, STR_T);    /* ht_qualname */

	/* T(("hello", 12345)) with no __dict__ yet (at -8 + 56 = 48) */
	put64(PYINST + 0, 1);
	put64(PYINST + 8, PYTYPE);
	put64(PYINST + 16, 2);
	put64(PYINST + 24, HELLO);
	put64(PYINST + 32, INT);
	put64(PYINST + 40, 0); /* __weakref__ */
	put64(PYINST + 48, 0); /* __dict__ */

	uint64_t g0[] = {LIST, PYINST}, g2[] = {TUPLE, PYTYPE};
	gc_link(GEN_HEAD(0), g0, 2, 0);
	gc_link(GEN_HEAD(2), g2, 2, 0);
}

const char *ph_field_name(uint32_t id); /* walk.c */

static void test_pyclass(void)
{
	current_case = "Python class T(tuple)";
	build_pyclass();
	struct ph_snapshot *s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK_EQ(s->unreadable, 0);
		/* the 5 base objects; the instance, its class, the class's dict,
		 * its key and value and name; tuple and object (tp_base chain) */
		CHECK_EQ(s->nobjects, 13);
		CHECK_EQ(s->gc_objects, 4);
		CHECK(!strcmp(kind_of(s, PYINST), "mod.T"));
		CHECK(!strcmp(kind_of(s, PYTYPE), "type"));
		CHECK(!strcmp(kind_of(s, TYPE_ADDR(T_TUPLE)), "type"));
		CHECK(!strcmp(kind_of(s, TYPE_ADDR(T_OBJECT)), "type"));
		CHECK(!strncmp(kind_of(s, PYDICT), "dict", 4));
		CHECK(!strcmp(kind_of(s, STR_MOD), "str"));
		CHECK_EQ(size_of(s, PYINST), 40 + 2 * 8 + 16);
		CHECK_EQ(size_of(s, PYTYPE), 904 + 16);
		CHECK_EQ(size_of(s, TYPE_ADDR(T_TUPLE)), 408 + 16); /* 3.11: static types too */
		CHECK_EQ(size_of(s, PYDICT), 48 + 32 + 8 + 5 * 16 + 16);
		CHECK_EQ(size_of(s, STR_MODKEY), 48 + 10 + 1);
		CHECK(has_edge(s, PYINST, HELLO, PH_EDGE(PH_EDGE_INDEX, 0)));
		CHECK(has_edge(s, PYINST, INT, PH_EDGE(PH_EDGE_INDEX, 1)));
		CHECK(has_edge(s, PYDICT, STR_MOD, PH_EDGE(PH_EDGE_DICT_VALUE, 0)));
		CHECK(has_edge(s, PYTYPE, PYDICT, PH_EDGE(PH_EDGE_FIELD, 2 /* F_TP_DICT */)));
		CHECK(has_edge(s, PYTYPE, TYPE_ADDR(T_TUPLE), PH_EDGE(PH_EDGE_FIELD, 5)));
		uint32_t i = find(s, PYINST), t = find(s, PYTYPE);
		bool class_edge = false;
		if (i != PH_NONE && t != PH_NONE) {
			for (uint32_t e = s->edge_start[i]; e < s->edge_start[i + 1]; e++)
				if (s->edges[e].target == t &&
				    PH_EDGE_KIND(s->edges[e].label) == PH_EDGE_FIELD &&
				    !strcmp(ph_field_name(PH_EDGE_PAYLOAD(s->edges[e].label)),
					    "__class__"))
					class_edge = true;
			CHECK(class_edge);
			CHECK_EQ(s->types[s->objects[i].type].object, t);
		}
		CHECK_EQ(s->nedges, 5 + 3 + 4 + 1 + 2);
		ph_snapshot_destroy(s);
	}

	/* Corrupt sizes of the instance: the negative tp_dictoffset is resolved
	 * with ob_size, which must not overflow. */
	static const uint64_t sizes[] = {1ull << 63, (uint64_t)-1, 1ull << 62, 1ull << 40};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		current_case = "(d) Python class instance with absurd ob_size";
		build_pyclass();
		put64(PYINST + 16, sizes[k]);
		s = walk_ok();
		if (s) {
			CHECK(consistent(s));
			CHECK(!strcmp(kind_of(s, PYINST), "mod.T"));
			CHECK(size_of(s, PYINST) < (1u << 20));
			ph_snapshot_destroy(s);
		}
	}

	/* A class whose tp_base chain loops through subtype_traverse types. */
	current_case = "(c) Python class whose bases loop";
	build_pyclass();
	put64(PYTYPE + 256, PYTYPE);
	s = walk_ok();
	if (s) {
		CHECK(consistent(s));
		CHECK(!strcmp(kind_of(s, PYINST), "mod.T"));
		ph_snapshot_destroy(s);
	}
}

/* ---- fuzz ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned fuzz_errors, fuzz_ok;

static void fuzz_one(void)
{
	struct ph_snapshot *s = NULL;
	struct ph_error *err = walk(NULL, &s);
	if (err) {
		CHECK(err->message && err->message[0]);
		ph_error_destroy(err);
		fuzz_errors++;
		return;
	}
	fuzz_ok++;
	CHECK(consistent(s));
	struct ph_partition p;
	if (!ph_partition_compute(s, &p)) {
		CHECK_EQ(p.objects, s->nobjects);
		ph_partition_deinit(&p);
	}
	char buf[256];
	for (size_t i = 0; i < s->nobjects; i++)
		CHECK(ph_snapshot_kind(s, i, buf, sizeof(buf)) != NULL);
	ph_snapshot_destroy(s);
}

static void fuzz(unsigned iterations)
{
	/* Byte flips in the heap: mostly in the bytes the fixture uses, now and
	 * then anywhere in the segment. */
	current_case = "fuzz: heap byte flips";
	for (unsigned it = 0; it < iterations; it++) {
		build();
		unsigned nflips = 1 + (unsigned)(xorshift() % 8);
		for (unsigned f = 0; f < nflips; f++) {
			uint64_t r = xorshift();
			size_t off = (r & 3) ? (size_t)((r >> 8) % HEAP_USED)
					     : (size_t)((r >> 8) % SEG_SIZE);
			uint8_t x = (uint8_t)(r >> 40);
			seg_heap[off] ^= x ? x : 0x80;
		}
		fuzz_one();
	}
	/* Word splats in the heap: a word of an object replaced by a pointer to
	 * another object, a type, or a small or huge number. */
	current_case = "fuzz: heap word splats";
	static const uint64_t targets[] = {LIST,	 HELLO,		 INT, TUPLE, CAFE, ITEMS,
					   LIST - 16,	 TUPLE - 16,	 GEN_HEAD(0),
					   TYPE_ADDR(T_TYPE), TYPE_ADDR(T_DICT), 0, 1,
					   (uint64_t)-1, 1ull << 63, 0x7fffffff};
	for (unsigned it = 0; it < iterations / 16; it++) {
		build();
		unsigned n = 1 + (unsigned)(xorshift() % 3);
		for (unsigned f = 0; f < n; f++) {
			uint64_t r = xorshift();
			size_t off = (size_t)((r >> 8) % (HEAP_USED / 8)) * 8;
			uint64_t v = targets[(r >> 40) % (sizeof(targets) / sizeof(targets[0]))];
			memcpy(seg_heap + off, &v, 8);
		}
		fuzz_one();
	}
	/* Byte flips and word splats in a suspended greenlet's state and frames. */
	current_case = "fuzz: a greenlet's frames";
	static const uint64_t gr_words[] = {GR_IF0, GR_IF1, GR_FRAME, GR_CODE, GR, HELLO,
					    UNMAPPED, 0, (uint64_t)-1, 0x7fffffff};
	for (unsigned it = 0; it < iterations / 16; it++) {
		build_greenlet();
		unsigned n = 1 + (unsigned)(xorshift() % 4);
		for (unsigned f = 0; f < n; f++) {
			uint64_t r = xorshift();
			size_t off = (size_t)(GR - 16 - HEAP_BASE) + (size_t)((r >> 8) % 0x600);
			if (r & 1) {
				uint64_t v = gr_words[(r >> 40) % (sizeof(gr_words) / sizeof(gr_words[0]))];
				memcpy(seg_heap + (off & ~(size_t)7), &v, 8);
			} else {
				uint8_t x = (uint8_t)(r >> 40);
				seg_heap[off] ^= x ? x : 0x80;
			}
		}
		fuzz_one();
	}
	py.sym[SYM_PyFrame_Type] = py.sym[SYM_PyCode_Type] = 0;
	/* Byte flips in the static data (runtime, interpreter, types). */
	current_case = "fuzz: static byte flips";
	static const struct {
		uint64_t addr, len;
	} areas[] = {{RUNTIME, 64}, {INTERP, 1024}, {TSTATE, 256}, {TYPES, NTYPES * 0x200},
		     {NAMES, 128}};
	for (unsigned it = 0; it < iterations / 16; it++) {
		build();
		unsigned nflips = 1 + (unsigned)(xorshift() % 4);
		for (unsigned f = 0; f < nflips; f++) {
			uint64_t r = xorshift();
			size_t a = (size_t)(r % (sizeof(areas) / sizeof(areas[0])));
			uint64_t addr = areas[a].addr + (r >> 8) % areas[a].len;
			uint8_t x = (uint8_t)(r >> 40);
			seg_static[addr - STATIC_BASE] ^= x ? x : 0x01;
		}
		fuzz_one();
	}
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "test_walk: timed out (a walk does not terminate?)\n";
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(1);
}

int main(int argc, char **argv)
{
	/* optional: test_walk [iterations [seed]] */
	unsigned iterations = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 2000;
	if (argc > 2)
		rng = strtoull(argv[2], NULL, 0) | 1;
	signal(SIGALRM, on_alarm);
	alarm(iterations > 2000 ? 0 : 50);
	python_311();

	test_clean();
	test_options();
	test_runtime_errors();
	test_bad_item();
	test_unaligned_objects();
	test_deque();
	test_simplequeue();
	test_ndarray();
	test_ndarray_objects();
	test_struct_words();
	test_greenlet();
	test_main_greenlet();
	test_static_refs();
	test_stack_refs();
#if defined(__x86_64__)
	test_getter_names(); /* (x86-64 machine code) */
#endif
	test_struct_words_learn();
	test_permutations();
	test_element();
	test_garbage_items();
	test_gc_cycles();
	test_type_loop();
	test_bad_sizes();
	test_bad_str();
	test_pyclass();
	test_malloc_chunks();

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fuzz(iterations);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("fuzz: %u walks (%u snapshots, %u errors) in %.2f s\n", fuzz_ok + fuzz_errors,
	       fuzz_ok, fuzz_errors, secs);
	if (!check_failures)
		printf("test_walk: all checks passed\n");
	return CHECK_DONE();
}
