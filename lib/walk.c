/* SPDX-License-Identifier: MIT */
/*
 * The heap walk: every object in the GC generation lists of every
 * interpreter (including the permanent generation), closed under the exact
 * referents of the built-in types (emulating their tp_traverse), plus the
 * stored fields of code and type objects that tp_traverse leaves out.
 *
 * Every address read here is a location in the target (uint64_t). Every word
 * may be garbage: each loop is bounded, each size capped, and an address that
 * does not lead to a readable object with a valid type is counted as
 * unreadable, never followed.
 */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "file.h"
#include "thread.h"

#include "cpython.h"
#include "cpython_private.h"
#include "pymalloc.h"
#include "tracemalloc.h"
#include "cmalloc.h"
#include "prefault.h"
#include "cgroup.h"
#include "target.h"

enum {
	TPF_STATIC_BUILTIN = 1 << 1, /* 3.12+ */
	TPF_INLINE_VALUES = 1 << 2,
	TPF_MANAGED_WEAKREF = 1 << 3,
	TPF_MANAGED_DICT = 1 << 4,
	TPF_HEAPTYPE = 1 << 9,
	TPF_READY = 1 << 12,
	TPF_HAVE_GC = 1 << 14,
	TPF_LONG_SUBCLASS = 1 << 24,
	TPF_LIST_SUBCLASS = 1 << 25,
	TPF_TUPLE_SUBCLASS = 1 << 26,
	TPF_BYTES_SUBCLASS = 1 << 27,
	TPF_UNICODE_SUBCLASS = 1 << 28,
	TPF_DICT_SUBCLASS = 1 << 29,
	TPF_BASE_EXC_SUBCLASS = 1 << 30,
	TPF_TYPE_SUBCLASS = 1u << 31,
	T_OBJECT = 6,
	T_OBJECT_EX = 16,
};

/* Caps on what one object may claim; past them the object is bad data. */
enum {
	MAX_ITEMS = 1 << 27,        /* items in one tuple/list/dict/set */
	MAX_TYPE_CHAIN = 64,        /* tp_base chain length */
	MAX_INTERPRETERS = 1024,
	MAX_THREADS = 1 << 16,
	MAX_SLOTS = 4096,
	MAX_STRUCT_CODES = 1 << 16, /* format codes of one _struct.Struct */
	DEFAULT_MAX_OBJECTS = 200000000,
	HEAD_BYTES = 256,           /* bytes of each object copied at once */
	STR_TEXT_MAX = 200,         /* strs up to this many bytes keep their text */
	MAX_VALUE_BYTES = 1ull << 30, /* a value hashed (--duplicates): at most this long (a
					 longer one may be a garbage length: 0.2 s to read) */
	MAX_FRAMES = 4096,          /* frames per thread */
	PENDING = 32,               /* edges in flight (power of two) */
	PENDING_BOUNDED = 512,      /* with a bounded cache: headers read in one call */
	READ_AHEAD = 1024,           /* with a bounded cache: objects whose blocks are read ahead */
	RECENT = 1 << 14,           /* objects looked up lately, with a bounded cache */
	DEAD_EDGES_COMPACT = 16384, /* dead edges (more than live ones) that trigger a compaction */
	BDIRECT = 4096,             /* direct-mapped entries of the object bitmaps */
	PREFETCH_AHEAD = 8,         /* objects processed ahead of their header's prefetch */
	GCN_AHEAD = 256,            /* GC nodes (5 KiB) prefetched ahead by gc_expand() */
	OWNERS_AHEAD = 32,          /* dict owners hinted ahead of their lookup */
	MAX_ATEXIT = 1 << 20,       /* atexit callbacks */
	MAX_SIGNALS = 1024,         /* entries of the signal handler array */
	MONITORING_TOOLS = 8,       /* sys.monitoring tool ids */
	MAX_STATIC_BUILTIN_TYPES = 1024, /* 3.12+: entries of the interpreter's state of them */
	MAX_MODULE_STATE = 1 << 16, /* bytes of a C module's state scanned for objects */
	SCAN_WORDS = 256,           /* words of a C object's struct scanned for objects */
	SCAN_LEARN = 64,            /* values of each that never were an object: dropped */
	GETTERS_SEEN = 64,          /* C getters whose code was read, remembered */
	SCAN_HOLDS = 255,           /* (scan_checks: the word held an object) */
};

/* How an object's contents are emulated (its solid base's kind). */
enum kind {
	K_OTHER,
	K_TYPE,
	K_DICT,
	K_LIST,
	K_TUPLE,
	K_SET,
	K_STR,
	K_INT,
	K_FLOAT,
	K_BYTES,
	K_BYTEARRAY,
	K_MODULE,
	K_FUNCTION,
	K_CODE,
	K_CELL,
	K_METHOD,
	K_WEAKREF,
	K_CFUNCTION,
	K_DESCR,
	K_CLASSMETHOD,
	K_PROPERTY,
	K_MAPPINGPROXY,
	K_FRAME,
	K_GEN,
	K_EXCEPTION,
	K_DEQUE,
	K_FUTURE, /* _asyncio.Future */
	K_TASK,   /* _asyncio.Task */
	K_TASK_WRAPPER, /* _asyncio's TaskWakeupMethWrapper (3.8, 3.9), TaskStepMethWrapper */
	K_FUTURE_ITER,  /* _asyncio.FutureIter */
	K_SIMPLEQUEUE,  /* _queue.SimpleQueue */
	K_TEEDATA,      /* itertools._tee_dataobject: values read ahead for a tee */
	K_ELEMENT,      /* xml.etree.ElementTree.Element (C) */
	K_LRU_WRAPPER,  /* functools._lru_cache_wrapper */
	K_LRU_ELEM,     /* functools._lru_list_elem, an entry of its cache */
	K_CFIELDS,      /* a C type whose object fields cfield_types[] lists */
	K_CONTEXT,      /* contextvars.Context */
	K_CONTEXTVAR,   /* contextvars.ContextVar */
	K_CTX_TOKEN,    /* contextvars.Token */
	K_HAMT,         /* the mapping of a Context */
	K_HAMT_BITMAP,  /* its nodes: keys, values and subnodes in one array */
	K_HAMT_ARRAY,   /* 32 subnodes */
	K_HAMT_COLLISION, /* keys and values of one hash */
	K_NDARRAY,      /* numpy.ndarray (a third-party C type: numpy's stable ABI) */
};

/* numpy.ndarray (PyArrayObject_fields, the same in numpy 1.7 to 2.x): its
 * data, dimensions, strides, base (what a view keeps alive), descriptor and
 * flags; and the element size in its descriptor (PyArray_Descr: an int at
 * 32 in numpy 1.x, an npy_intp at 40 in 2.x). */
enum {
	ND_DATA = 16, ND_NDIM = 24, ND_DIMENSIONS = 32, ND_STRIDES = 40, ND_BASE = 48,
	ND_DESCR = 56, ND_FLAGS = 64, ND_MIN_SIZE = 72, ND_OWNDATA = 0x0004, ND_MAXDIMS = 64,
	DESCR1_ELSIZE = 32, DESCR2_ELSIZE = 40,
	/* PyArray_Descr's kind (a char) and type_num (an int), the same in
	 * numpy 1.x and 2.x; an object array's: 'O' and NPY_OBJECT */
	DESCR_KIND = 24, DESCR_TYPE_NUM = 28, NPY_OBJECT = 17,
};

static const char *const field_names[] = {
#define PH_F_ENUM_NAME(id, name) [id] = name,
	PH_FIELDS(PH_F_ENUM_NAME)
#undef PH_F_ENUM_NAME
};

const char *ph_field_name(uint32_t id)
{
	return id < sizeof(field_names) / sizeof(field_names[0]) ? field_names[id] : "?";
}

struct tinfo {
	uint64_t addr;
	uint64_t flags;
	int64_t basicsize, itemsize, dictoffset;
	uint64_t traverse;
	uint64_t cached_keys;
	uint64_t keys_usable_sum; /* dk_nentries + dk_usable of ht_cached_keys (3.11/3.12) */
	uint32_t keys_nentries;
	enum kind kind;
	bool python_class;  /* tp_traverse == subtype_traverse */
	bool dict_differs;  /* type->tp_dictoffset != base->tp_dictoffset */
	bool visit_type;
	bool is_metatype;   /* instances are types */
	int64_t *slot_offsets;
	uint32_t nslots;
	uint32_t snap_index;
	uint8_t cfields;    /* K_CFIELDS: 1 + index in cfield_types[] */
	uint8_t greenlet;   /* GR_*: greenlet.greenlet or a subclass (walk_greenlet()) */
	uint16_t greenlet_end; /* GR_INLINE: greenlet.greenlet's basic size */
	uint8_t buffer_sizeof;  /* BUF_*: a C type whose __sizeof__ adds its buffer */
	bool odict;             /* collections.OrderedDict or a subclass */
	bool stgdict;           /* ctypes' StgDict (a dict: a ctypes type's, 3.8-3.12) */
	bool ctypes_meta;       /* instances are ctypes types with a StgInfo (3.13+) */
	uint8_t dt_value;       /* DT_*: exactly one of datetime's types or decimal.Decimal
				   (whose value the walk keeps) */
	uint8_t dt_struct;      /* DT_*: one of datetime's types or a subclass (the
				   struct whose references the walk follows) */
	/* K_OTHER, collected: the words of its C struct (bit i: the word at 8 i;
	 * SCAN_WORDS bits) that are not a declared member, its dict or its weak
	 * reference list, each looked at for the address of an object
	 * (scan_struct()); NULL: none */
	uint64_t *scan_words;
	/* per word: how many of its values scan_struct() looked at, none an
	 * object, or SCAN_HOLDS (processing thread) */
	uint8_t *scan_checks;
};

enum { BUF_NONE, BUF_BYTESIO, BUF_BUFFERED, BUF_ARRAY, BUF_PICKLER, BUF_STRUCT };

struct walker {
	struct ph_python *py;
	const struct ph_layout *L;
	struct ph_mem *mem;
	struct ph_snapshot *snap;
	const struct ph_walk_options *opt;
	uint64_t max_objects; /* (atomic: opt->memory_low may lower it from either thread) */
	/* objects at which add_object() looks again: max_objects, or before it
	 * the next time to ask opt->memory_low (atomic) */
	uint64_t limit_at;
	const char *low_memory; /* what opt->memory_low said, NULL before (atomic) */
	/* the cache is bounded (ph_mem_set_limit()): it drops blocks between
	 * objects, so no index is written over ob_refcnt (every object is in the
	 * hash table) and headers are peeked at */
	bool bounded;
	/* the objects phase on two threads (see struct pipe), NULL: on one */
	struct pipe *pipe;
	size_t pipe_expect;   /* the objects expected when it started (pipe_start()) */
	unsigned pipe_pauses; /* times it went back to one thread (pipe_pause()) */
	bool pipe_for_good;   /* back to one thread for good: the CPUs were busy */
	/* the cache is recorded (--dump-memory): each object's first word as read,
	 * put back after the walk */
	uint64_t *saved_words;
	uint64_t set_dummy;
	uint64_t main_interp; /* the first interpreter (its static builtin types' state) */
	/* (The fields above are not written while the objects phase runs on two
	 * threads; each group below is written by one of them.) */

	/* Object table, address -> index. A 16-byte aligned object (almost all:
	 * pymalloc and malloc blocks) has its bit set in a bitmap per 64 KiB of
	 * address space, and its index written over its first word (ob_refcnt,
	 * already in the snapshot) in the memory cache: the copy of the target's
	 * memory is the table, and a lookup touches the line the walk reads
	 * anyway. Other objects go in a hash table; so do all objects when the
	 * cache is bounded (it drops blocks, and their indices with them). */
	_Alignas(64) struct bslot {
		uint64_t bn;    /* address >> 16, UINT64_MAX = empty */
		uint64_t *bits; /* 4096 bits, one per 16 bytes */
	} *btab;
	size_t bcap, bused;
	struct bdirect {
		uint64_t bn;
		uint64_t *bits; /* NULL: unused entry */
	} bdirect[BDIRECT];
	uint32_t *otab; /* 1 + object index (its address is in the snapshot), 0 = empty */
	/* bounded: the objects looked up lately (a direct-mapped table in front
	 * of the hash table, whose probes each read the snapshot's objects) */
	struct recent {
		uint64_t addr;
		uint32_t idx;
	} *recent;
	size_t nhashed;
	size_t ocap;
	size_t ocap_first; /* its size when first made (first_table_size()) */
	size_t ocapobj;

	/* types (each allocated alone: a pointer stays valid when more come) */
	struct tinfo **types;
	size_t ntypes, captypes;
	uint64_t *tkeys;
	uint32_t *tvals;
	size_t tcap;

	_Alignas(64) size_t capedges;

	/* Edges whose target is looked up a few emits later: the lookups'
	 * cache misses then overlap (see emit()). */
	struct pending {
		uint64_t addr;
		uint32_t edge;
		uint32_t label; /* (two threads: the resolver writes the edge) */
		/* unbounded, found by hint(): the target's bitmap and its
		 * header in the cache (NULL: intern() looks it up) */
		uint64_t *bits;
		const uint64_t *hp;
	} pend[PENDING_BOUNDED];
	unsigned pwindow;  /* edges in flight: PENDING, or PENDING_BOUNDED (bounded) */
	unsigned phead, ptail;
	size_t dead_edges; /* edges whose target was no object: removed at the end */
	size_t cur;        /* the object being processed (edges from it are being added) */

	/* GC lists: their heads (not objects), and for each object found that is
	 * in a list, its links; gc_expand() visits the neighbours they name.
	 * (Written by the resolver on two threads: a line of their own.) */
	_Alignas(64) uint64_t *heads;
	size_t nheads, capheads;
	bool collecting;   /* a collection runs: _gc_prev holds reference counts */
	bool heads_visited; /* the objects next to the heads added (after the roots' closure) */
	bool pools_scanned; /* scan_pools() done (after the GC lists) */
	uint64_t interned[16]; /* the interned strings' dicts, errno maps (interned_dicts()) */
	uint64_t *cached_names; /* the names in the type caches, sorted (type_cache_names()) */
	size_t ncached_names, capcached_names;
	uint64_t last_next, last_prev; /* the links of the last object noted in a list */
	struct __attribute__((packed)) gc_node {
		uint32_t idx;        /* the object (its PyGC_Head is 16 bytes before it) */
		uint64_t next, prev; /* the links of its PyGC_Head */
	} *gcn;
	size_t ngcn, capgcn, gcn_at;


	/* faults in the arrays ahead of the objects phase (stopped before they move) */
	_Alignas(64) struct ph_prefault *prefault;

	/* 3.11+: the code objects of the frames (roots), added after the
	 * roots' closure (no edge leads to them: the analyses would not count
	 * them in it) */
	struct pending_code {
		uint32_t root;
		uint64_t addr;
	} *pcode;
	size_t npcode, cappcode;
	/* 3.11+: the interpreter frames of the threads' stacks (roots), sorted
	 * when first looked up: a greenlet's frames stop before them */
	uint64_t *thread_frames;
	size_t nthread_frames, capthread_frames;
	size_t capobj_lines;  /* room in snap->obj_lines (note_line()) */
	bool thread_frames_sorted;
	/* the value stacks of the frames whose depth CPython keeps in a
	 * register (stack_depth_unset()): the words up to co_stacksize, read
	 * with the roots (3.11+: threads' frames, innermost first) or when a
	 * frame object (through 3.10) or greenlet is walked, looked up once
	 * every object is found (scan_stack_areas()) */
	struct stack_area {
		uint32_t root;   /* its frame's root, or PH_NONE: */
		uint32_t holder; /* its frame object, or greenlet */
		uint32_t depth;  /* a greenlet's frame: its depth; else PH_NONE */
		uint32_t n;      /* words, at stack_words + first */
		size_t first;
	} *stack_areas;
	size_t nstack_areas, capstack_areas;
	uint64_t *stack_words;
	size_t nstack_words, capstack_words;
	/* suspended main greenlets (walk_greenlet()): the greenlet and the C
	 * stack pointer it saved, by which add_main_greenlet_roots() names its
	 * thread; and the threads (roots): pthread id and native id */
	struct main_greenlet {
		uint32_t idx;
		uint64_t sp;
	} *main_grs;
	size_t nmain_grs, capmain_grs;
	struct thread_ids {
		uint64_t tid, native, interp;
	} *tids;
	size_t ntids, captids;

	/* (dict address, owner index, module?) pairs resolved after the walk;
	 * with the index of an edge to the dict (PH_NONE: none known), whose
	 * target is the dict's index: no lookup then */
	struct ownership {
		uint64_t dict;
		uint32_t owner;
		uint32_t edge;
		bool module;
	} *owners;
	size_t nowners, capowners;
	size_t owners_stale; /* owners before this one: edge indices from before a compaction */
	uint64_t last_target; /* the target of the last edge added (its index: nedges - 1) */
	/* getter_field()'s answers (get 0: none yet) */
	struct getter_seen {
		uint64_t get;
		int32_t off;
	} getters[GETTERS_SEEN];

	/* (weakref index, referent address) pairs resolved after the walk */
	struct weak_pair {
		uint32_t from;
		uint64_t to;
	} *weak;
	size_t nweak, capweak;
	size_t caproots, caproot_edges, capstrings;
	size_t capsparse; /* room in snap->sparse_tables */
	size_t caphashes, capprevs; /* room in snap->value_hashes, ->value_previews */
	bool hash_values;           /* opt->hash_values */
	bool keep_values;           /* opt->keep_values */

	bool failed_nomem;
};

/*
 * The objects phase on two cores, as a pipeline: this thread processes each
 * object (reads it, counts its size, adds its edges), the resolver thread
 * looks up each edge's target and adds the objects that are new (their
 * headers, types and GC links), in the order the edges were added; so the
 * objects get the indices they get on one thread. The resolver owns the
 * object table, the types and the GC nodes; the processing thread reads only
 * published objects (and their types) until it needs more: for any lookup of
 * its own (intern(), object_lookup()...) it first waits until the resolver
 * has resolved every edge and idles (quiesce()). Each thread reads the memory
 * cache through a view of its own.
 */
enum {
	RING = 1 << 16,      /* edges in flight from the processing thread to the resolver */
	RING_PUBLISH = 16, /* edges added between publications of the ring's tail */
	LOOK = 32,         /* edges hinted ahead of their resolution (power of two) */
};

struct pipe {
	pthread_t thread;
	struct ph_mem *core, *view_a, *view_b;
	struct edge_msg {
		uint64_t addr;
		uint32_t edge, label;
	} ring[RING]; /* written by the processing thread only */
	unsigned tail_local;                 /* processing thread: edges added */
	uint64_t wait_ns;                    /* processing thread: time it waited */
	unsigned ack;                        /* processing thread: the request it is parked for */
	unsigned done_seen;                  /* processing thread: resolved, as last read */
	unsigned narrow;                     /* processing thread: waits in a row for few objects */
	size_t narrow_next;                  /* processing thread: where the last wait's objects end */
	/* processing thread, for pipe_busy(): each thread's schedstat file
	 * (-1: not open), at the last check the time and each thread's time
	 * waiting for a CPU, and the checks in a row that found the CPUs busy */
	int sched_fd[2];
	uint64_t busy_t, busy_delay[2];
	unsigned busy_checks;
	bool busy_unknown; /* no schedstat: no checks */
	/* processing thread: how far it has faulted in the arrays the resolver
	 * fills (objects, text, GC nodes; edges), while it waited */
	size_t fa_objects, fa_objects_text, fa_gcn, fa_edges;
	struct gc_node *fa_gcn_base;
	_Alignas(64) unsigned tail;          /* edges added, published (release) */
	_Alignas(64) unsigned done;          /* edges resolved (release, after published) */
	size_t published;                    /* objects complete (release) */
	size_t published_gcn;                /* GC nodes noted (relaxed: for fault_ahead()) */
	_Alignas(64) bool stop;
	unsigned req;                        /* resolver: odd while it needs the other parked */
	/* the resolver's: its counts (into the snapshot when it idles) and the
	 * arrays it fills (they do not move: room set aside before) */
	_Alignas(64) uint64_t unreadable;
	uint64_t idle_ns;                    /* time the resolver had nothing to do */
	size_t nobjects, gc_objects;
	int tid;                             /* the resolver's thread ID (release), 0 before */
	bool limit_hit;                      /* an object refused: --max-objects reached */
	struct ph_object *objects;
	uint32_t *text;
};

// Out of memory, on either thread (a flag that only ever becomes true).
static inline void set_nomem(struct walker *w)
{
	__atomic_store_n(&w->failed_nomem, true, __ATOMIC_RELAXED);
}

static inline bool nomem_failed(const struct walker *w)
{
	return __atomic_load_n(&w->failed_nomem, __ATOMIC_RELAXED);
}

/* On the resolver thread: its view of the memory cache. */
static __thread struct ph_mem *tl_view;

static inline struct ph_mem *M(const struct walker *w)
{
	struct ph_mem *v = tl_view;
	return __builtin_expect(v != NULL, 0) ? v : w->mem;
}

static inline void note_unreadable(struct walker *w)
{
	if (tl_view)
		w->pipe->unreadable++;
	else
		w->snap->unreadable++;
}

// The array @p of *@cap elements of @size bytes, full, with twice the room
// (@first the first time): the array moved, or NULL with the walk failed for
// lack of memory (@p unchanged).
static void *grow_array(struct walker *w, void *p, size_t *cap, size_t size, size_t first)
{
	size_t nc = *cap ? *cap * 2 : first;
	void *n = reallocarray(p, nc, size);
	if (!n) {
		set_nomem(w);
		return NULL;
	}
	*cap = nc;
	return n;
}

enum { SPINS = 2000 /* waits (~50 us) before a waiting thread sleeps a little */ };

// One step of a wait for the other thread: a short spin, then, when the
// wait is long (the machine may be busy: the other thread may be waiting for
// a CPU), a short sleep at each step. (Not sched_yield(): beside a busy
// thread, it gave the CPU to that thread more than to the other of the walk,
// and the walk of 1M objects took 210-270 ms instead of 110-135.)
static inline void wait_step(unsigned *spins)
{
	if (++*spins < SPINS) {
		__builtin_ia32_pause();
	} else {
		struct timespec ts = {0, 20000};
		nanosleep(&ts, NULL);
	}
}

static void quiesce(struct walker *w);
static bool pipe_exclusive(struct pipe *p);
static void pipe_release(struct pipe *p);
static uint64_t now_ns(void);

// On the processing thread, before a lookup of its own: the resolver idle.
static inline void own_lookup(struct walker *w)
{
	if (w->pipe && !tl_view)
		quiesce(w);
}

static inline uint64_t hash64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static inline uint64_t rd64(struct walker *w, uint64_t addr)
{
	uint64_t v;
	return ph_mem_u64(M(w), addr, &v) ? v : 0;
}

static inline bool rdok(struct walker *w, uint64_t addr, uint64_t *v)
{
	return ph_mem_u64(M(w), addr, v);
}

static inline uint64_t field64(const uint8_t *buf, size_t n, struct walker *w, uint64_t addr,
			       int32_t off)
{
	if (off < 0)
		return 0;
	if ((size_t)off + 8 <= n) {
		uint64_t v;
		memcpy(&v, buf + off, 8);
		return v;
	}
	return rd64(w, addr + (uint64_t)off);
}


/* ---- types ---- */

static struct tinfo *type_lookup(struct walker *w, uint64_t addr)
{
	own_lookup(w);
	// (0 marks an empty slot: a NULL ob_type must not find one.)
	if (!w->tcap || !addr)
		return NULL;
	size_t mask = w->tcap - 1;
	for (size_t i = hash64(addr) & mask;; i = (i + 1) & mask) {
		if (w->tkeys[i] == addr)
			return w->types[w->tvals[i]];
		if (w->tkeys[i] == 0)
			return NULL;
	}
}

static bool type_insert_key(struct walker *w, uint64_t addr, uint32_t idx)
{
	if ((w->ntypes + 1) * 2 > w->tcap) {
		size_t ncap = w->tcap ? w->tcap * 2 : 1024;
		uint64_t *k = calloc(ncap, sizeof(*k));
		uint32_t *v = calloc(ncap, sizeof(*v));
		if (!k || !v) {
			free(k);
			free(v);
			return false;
		}
		for (size_t i = 0; i < w->tcap; i++) {
			if (!w->tkeys[i])
				continue;
			size_t j = hash64(w->tkeys[i]) & (ncap - 1);
			while (k[j])
				j = (j + 1) & (ncap - 1);
			k[j] = w->tkeys[i];
			v[j] = w->tvals[i];
		}
		free(w->tkeys);
		free(w->tvals);
		w->tkeys = k;
		w->tvals = v;
		w->tcap = ncap;
	}
	size_t mask = w->tcap - 1;
	size_t i = hash64(addr) & mask;
	while (w->tkeys[i])
		i = (i + 1) & mask;
	w->tkeys[i] = addr;
	w->tvals[i] = idx;
	return true;
}

static enum kind kind_of_static(struct walker *w, uint64_t t)
{
	const uint64_t *s = w->py->sym;
	if (!t)
		return K_OTHER;
	if (t == s[SYM_PyType_Type])
		return K_TYPE;
	if (t == s[SYM_PyDict_Type])
		return K_DICT;
	if (t == s[SYM_PyList_Type])
		return K_LIST;
	if (t == s[SYM_PyTuple_Type])
		return K_TUPLE;
	if (t == s[SYM_PySet_Type] || t == s[SYM_PyFrozenSet_Type])
		return K_SET;
	if (t == s[SYM_PyUnicode_Type])
		return K_STR;
	if (t == s[SYM_PyLong_Type] || t == s[SYM_PyBool_Type])
		return K_INT;
	if (t == s[SYM_PyFloat_Type])
		return K_FLOAT;
	if (t == s[SYM_PyBytes_Type])
		return K_BYTES;
	if (t == s[SYM_PyByteArray_Type])
		return K_BYTEARRAY;
	if (t == s[SYM_PyModule_Type])
		return K_MODULE;
	if (t == s[SYM_PyFunction_Type])
		return K_FUNCTION;
	if (t == s[SYM_PyCode_Type])
		return K_CODE;
	if (t == s[SYM_PyCell_Type])
		return K_CELL;
	if (t == s[SYM_PyMethod_Type])
		return K_METHOD;
	if (t == s[SYM_PyWeakref_RefType] || t == s[SYM_PyWeakref_ProxyType] ||
	    t == s[SYM_PyWeakref_CallableProxyType])
		return K_WEAKREF;
	if (t == s[SYM_PyCFunction_Type] || t == s[SYM_PyCMethod_Type])
		return K_CFUNCTION;
	if (t == s[SYM_PyMethodDescr_Type] || t == s[SYM_PyClassMethodDescr_Type] ||
	    t == s[SYM_PyMemberDescr_Type] || t == s[SYM_PyGetSetDescr_Type] ||
	    t == s[SYM_PyWrapperDescr_Type])
		return K_DESCR;
	if (t == s[SYM_PyClassMethod_Type] || t == s[SYM_PyStaticMethod_Type])
		return K_CLASSMETHOD;
	if (t == s[SYM_PyProperty_Type])
		return K_PROPERTY;
	if (t == s[SYM_PyDictProxy_Type])
		return K_MAPPINGPROXY;
	if (t == s[SYM_PyFrame_Type])
		return K_FRAME;
	if (t == s[SYM_PyGen_Type] || t == s[SYM_PyCoro_Type] || t == s[SYM_PyAsyncGen_Type])
		return K_GEN;
	return K_OTHER;
}

// Whether type @t's tp_name is @want (at most 47 bytes).
static bool tp_name_is(struct walker *w, uint64_t t, const char *want)
{
	char name[48];
	uint64_t np = rd64(w, t + (uint64_t)w->L->tp_name);
	return np && ph_mem_string(M(w), np, name, sizeof(name)) && !strcmp(name, want);
}

// A type no symbol names (static in one module, a heap type of an extension
// module in another): its tp_basicsize and tp_name.
static bool is_named_type(struct walker *w, uint64_t t, int32_t size, const char *want)
{
	const struct ph_layout *L = w->L;
	if (!t || size <= 0 || rd64(w, t + (uint64_t)L->tp_basicsize) != (uint64_t)size)
		return false;
	return tp_name_is(w, t, want);
}

// collections.deque: static in 3.8-3.11, a heap type of the _collections
// module since 3.12.
static bool is_deque_type(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	return L->deque_leftblock >= 0 && L->deque_leftindex >= 0 && L->dblock_data >= 0 &&
	       L->dblock_rightlink >= 0 && L->dblock_sizeof > 0 &&
	       is_named_type(w, t, L->deque_sizeof, "collections.deque");
}

// The C asyncio.Future and asyncio.Task (the _asyncio module); their fields
// come from that module's layout (resolve_module_layouts()).
static enum kind asyncio_kind(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	if (L->fut_loop < 0 || L->fut_callbacks < 0 || L->fut_result < 0 || L->fut_exception < 0)
		return K_OTHER;
	if (is_named_type(w, t, L->fut_sizeof, "_asyncio.Future"))
		return K_FUTURE;
	if (L->task_coro >= 0 && L->task_fut_waiter >= 0 &&
	    is_named_type(w, t, L->task_sizeof, "_asyncio.Task"))
		return K_TASK;
	// Callables bound to a task, the loop's callbacks while it waits.
	if (L->wakeup_task >= 0 && (is_named_type(w, t, L->wakeup_sizeof, "TaskWakeupMethWrapper") ||
				    is_named_type(w, t, L->wakeup_sizeof,
						  "_asyncio.TaskWakeupMethWrapper")))
		return K_TASK_WRAPPER;
	// What `await future` leaves on the awaiting frame's stack.
	if (L->futiter_future >= 0 && is_named_type(w, t, L->futiter_sizeof, "_asyncio.FutureIter"))
		return K_FUTURE_ITER;
	if (L->stepwrap_task >= 0 && L->stepwrap_arg >= 0 &&
	    (is_named_type(w, t, L->stepwrap_sizeof, "TaskStepMethWrapper") ||
	     is_named_type(w, t, L->stepwrap_sizeof, "_asyncio.TaskStepMethWrapper")))
		return K_TASK_WRAPPER;
	return K_OTHER;
}

// queue.SimpleQueue (the _queue module; its fields from that module's layout).
static bool is_simplequeue_type(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	return L->sq_sizeof > 0 &&
	       (L->sq_lst >= 0 || (L->sq_buf_items >= 0 && L->sq_buf_get_idx >= 0 &&
				   L->sq_buf_items_cap >= 0 && L->sq_buf_num_items >= 0)) &&
	       is_named_type(w, t, L->sq_sizeof, "_queue.SimpleQueue");
}

// functools.lru_cache: its wrapper (the cache dict, the function) and the
// entries, which hold the keys and results (the wrapper's traverse visits
// them; here each entry does).
static enum kind lru_kind(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	if (L->lru_cache < 0 || L->lru_func < 0 || L->lrue_key < 0 || L->lrue_result < 0)
		return K_OTHER;
	if (is_named_type(w, t, L->lru_sizeof, "functools._lru_cache_wrapper"))
		return K_LRU_WRAPPER;
	if (is_named_type(w, t, L->lrue_sizeof, "functools._lru_list_elem"))
		return K_LRU_ELEM;
	return K_OTHER;
}

// contextvars and the immutable mapping (HAMT) a Context holds its values
// in. The nodes are variable-size: their tp_basicsize leaves out the one
// array item the struct declares.
static enum kind contextvars_kind(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	static const struct {
		const char *name;
		size_t size; /* offsetof(struct ph_layout, field) */
		int32_t less;
		enum kind kind;
	} types[] = {
		{"hamt", offsetof(struct ph_layout, hamt_sizeof), 0, K_HAMT},
		{"hamt_bitmap_node", offsetof(struct ph_layout, hamtb_sizeof), 8, K_HAMT_BITMAP},
		{"hamt_array_node", offsetof(struct ph_layout, hamta_sizeof), 0, K_HAMT_ARRAY},
		{"hamt_collision_node", offsetof(struct ph_layout, hamtc_sizeof), 8, K_HAMT_COLLISION},
	};
	if (L->ctx_vars < 0 || L->ctx_prev < 0 || L->cvar_default < 0 || L->ctok_var < 0 ||
	    L->hamt_root < 0 || L->hamtb_array < 0 || L->hamta_array < 0 || L->hamtc_array < 0)
		return K_OTHER;
	// The three public types by their exported symbols (3.8/3.9 name them
	// just "Context", "ContextVar", "Token") and the layout's size of them;
	// the mapping's by name and size.
	const uint64_t *sym = w->py->sym;
	uint64_t basic = t ? rd64(w, t + (uint64_t)L->tp_basicsize) : 0;
	if (t && t == sym[SYM_PyContext_Type] && basic == (uint64_t)L->ctx_sizeof)
		return K_CONTEXT;
	if (t && t == sym[SYM_PyContextVar_Type] && basic == (uint64_t)L->cvar_sizeof)
		return K_CONTEXTVAR;
	if (t && t == sym[SYM_PyContextToken_Type] && basic == (uint64_t)L->ctok_sizeof)
		return K_CTX_TOKEN;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int32_t size = *(const int32_t *)((const char *)L + types[i].size);
		if (size > types[i].less && is_named_type(w, t, size - types[i].less, types[i].name))
			return types[i].kind;
	}
	return K_OTHER;
}

// numpy's array type: "numpy.ndarray", at least as large as its fields.
static bool is_ndarray_type(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	uint64_t basic = rd64(w, t + (uint64_t)L->tp_basicsize);
	if (basic < ND_MIN_SIZE || basic > 4096)
		return false;
	return tp_name_is(w, t, "numpy.ndarray");
}

static enum kind kind_of(struct walker *w, uint64_t t)
{
	enum kind k = kind_of_static(w, t);
	if (k == K_OTHER && is_deque_type(w, t))
		k = K_DEQUE;
	if (k == K_OTHER)
		k = lru_kind(w, t);
	if (k == K_OTHER)
		k = contextvars_kind(w, t);
	if (k == K_OTHER && is_simplequeue_type(w, t))
		k = K_SIMPLEQUEUE;
	if (k == K_OTHER && w->L->teedata_values >= 16 && w->L->teedata_numread >= 16 &&
	    w->L->teedata_it >= 16 && w->L->teedata_nextlink >= 16 &&
	    is_named_type(w, t, w->L->teedata_sizeof, "itertools._tee_dataobject"))
		k = K_TEEDATA;
	if (k == K_OTHER)
		k = asyncio_kind(w, t);
	if (k == K_OTHER && is_ndarray_type(w, t))
		k = K_NDARRAY;
	if (k == K_OTHER && w->L->elem_tag >= 16 && w->L->elem_text >= 16 &&
	    w->L->elem_tail >= 16 && w->L->elem_extra >= 16 && w->L->elemextra_sizeof > 0 &&
	    w->L->elemextra_children >= 0 && w->L->elemextra_inline >= 0 &&
	    is_named_type(w, t, w->L->elem_sizeof, "xml.etree.ElementTree.Element"))
		k = K_ELEMENT;
	return k;
}

/* C types whose referents are a few object fields, found by tp_name and
 * tp_basicsize (and their symbol when exported): iterators, dict views, some
 * of itertools. */
enum { CFIELDS_MAX = 10 };
enum { CX_NONE, CX_POOL, CX_R, CX_POOL_R }; /* 8 bytes per pool item, per r, per both */
#define LF(f) offsetof(struct ph_layout, f)
static const struct cfield_type {
	const char *name;
	int sym;     /* its exported symbol (SYM_*), or -1: by name alone */
	size_t size; /* offsetof(struct ph_layout, its struct's size) */
	struct {
		size_t off;
		enum ph_field label;
	} f[CFIELDS_MAX];
	/* what its __sizeof__ adds to the struct: CX_* of f[0]'s tuple and r */
	uint8_t extra;
	size_t r; /* offsetof(struct ph_layout, its r field) for CX_R, CX_POOL_R */
} cfield_types[] = {
	{"list_iterator", SYM_PyListIter_Type, LF(listiter_sizeof), {{LF(listiter_seq), PH_F_SEQ}}, CX_NONE, 0},
	{"list_iterator", SYM_PyListIter_Type, LF(listiter12_sizeof),
	 {{LF(listiter12_seq), PH_F_SEQ}}, CX_NONE, 0},
	{"list_reverseiterator", SYM_PyListRevIter_Type, LF(listreviter_sizeof),
	 {{LF(listreviter_seq), PH_F_SEQ}}, CX_NONE, 0},
	{"tuple_iterator", SYM_PyTupleIter_Type, LF(tupleiter_sizeof), {{LF(tupleiter_seq), PH_F_SEQ}}, CX_NONE, 0},
	{"tuple_iterator", SYM_PyTupleIter_Type, LF(tupleiter12_sizeof),
	 {{LF(tupleiter12_seq), PH_F_SEQ}}, CX_NONE, 0},
#define DICTITER {{LF(dictiter_dict), PH_F_MAPPING}, {LF(dictiter_result), PH_F_RESULT}}
	{"dict_keyiterator", SYM_PyDictIterKey_Type, LF(dictiter_sizeof), DICTITER, CX_NONE, 0},
	{"dict_valueiterator", SYM_PyDictIterValue_Type, LF(dictiter_sizeof), DICTITER, CX_NONE, 0},
	{"dict_itemiterator", SYM_PyDictIterItem_Type, LF(dictiter_sizeof), DICTITER, CX_NONE, 0},
	{"dict_reversekeyiterator", SYM_PyDictRevIterKey_Type, LF(dictiter_sizeof), DICTITER, CX_NONE, 0},
	{"dict_reversevalueiterator", SYM_PyDictRevIterValue_Type, LF(dictiter_sizeof), DICTITER, CX_NONE, 0},
	{"dict_reverseitemiterator", SYM_PyDictRevIterItem_Type, LF(dictiter_sizeof), DICTITER, CX_NONE, 0},
#undef DICTITER
	{"dict_keys", SYM_PyDictKeys_Type, LF(dictview_sizeof), {{LF(dictview_dict), PH_F_MAPPING}}, CX_NONE, 0},
	{"dict_values", SYM_PyDictValues_Type, LF(dictview_sizeof), {{LF(dictview_dict), PH_F_MAPPING}}, CX_NONE, 0},
	{"dict_items", SYM_PyDictItems_Type, LF(dictview_sizeof), {{LF(dictview_dict), PH_F_MAPPING}}, CX_NONE, 0},
	{"set_iterator", SYM_PySetIter_Type, LF(setiter_sizeof), {{LF(setiter_set), PH_F_SET}}, CX_NONE, 0},
	{"iterator", SYM_PySeqIter_Type, LF(seqiter_sizeof), {{LF(seqiter_seq), PH_F_SEQ}}, CX_NONE, 0},
	{"callable_iterator", SYM_PyCallIter_Type, LF(calliter_sizeof),
	 {{LF(calliter_callable), PH_F_FUNCTION}, {LF(calliter_sentinel), PH_F_SENTINEL}}, CX_NONE, 0},
	{"enumerate", SYM_PyEnum_Type, LF(enum_sizeof),
	 {{LF(enum_sit), PH_F_ITERATOR}, {LF(enum_result), PH_F_RESULT},
	  {LF(enum_longindex), PH_F_INDEX}}, CX_NONE, 0},
	{"reversed", SYM_PyReversed_Type, LF(reversed_sizeof), {{LF(reversed_seq), PH_F_SEQ}}, CX_NONE, 0},
	{"zip", SYM_PyZip_Type, LF(zip_sizeof),
	 {{LF(zip_ittuple), PH_F_ITERATORS}, {LF(zip_result), PH_F_RESULT}}, CX_NONE, 0},
	{"map", SYM_PyMap_Type, LF(map_sizeof),
	 {{LF(map_iters), PH_F_ITERATORS}, {LF(map_func), PH_F_FUNCTION}}, CX_NONE, 0},
	{"filter", SYM_PyFilter_Type, LF(filter_sizeof),
	 {{LF(filter_func), PH_F_FUNCTION}, {LF(filter_it), PH_F_ITERATOR}}, CX_NONE, 0},
	/* static in the operator and itertools modules: by their qualified names */
	{"operator.itemgetter", -1, LF(itemgetter_sizeof), {{LF(itemgetter_item), PH_F_ITEMS}}, CX_NONE, 0},
	{"operator.attrgetter", -1, LF(attrgetter_sizeof), {{LF(attrgetter_attr), PH_F_NAME}}, CX_NONE, 0},
	{"operator.methodcaller", -1, LF(methodcaller_sizeof),
	 {{LF(methodcaller_name), PH_F_NAME}, {LF(methodcaller_args), PH_F_ARGS},
	  {LF(methodcaller_kwds), PH_F_KEYWORDS}}, CX_NONE, 0},
	{"itertools._tee", -1, LF(tee_sizeof), {{LF(tee_dataobj), PH_F_DATA}}, CX_NONE, 0},
	{"itertools.cycle", -1, LF(cycle_sizeof),
	 {{LF(cycle_it), PH_F_ITERATOR}, {LF(cycle_saved), PH_F_SAVED}}, CX_NONE, 0},
	{"itertools.repeat", -1, LF(repeat_sizeof), {{LF(repeat_element), PH_F_ELEMENT}}, CX_NONE, 0},
	{"itertools.count", -1, LF(count_sizeof),
	 {{LF(count_long_cnt), PH_F_CNT}, {LF(count_long_step), PH_F_STEP}}, CX_NONE, 0},
	{"itertools.chain", -1, LF(chain_sizeof),
	 {{LF(chain_source), PH_F_SOURCE}, {LF(chain_active), PH_F_ACTIVE}}, CX_NONE, 0},
	{"itertools.islice", -1, LF(islice_sizeof), {{LF(islice_it), PH_F_ITERATOR}}, CX_NONE, 0},
	{"itertools.product", -1, LF(product_sizeof),
	 {{LF(product_pools), PH_F_POOLS}, {LF(product_result), PH_F_RESULT}}, CX_POOL, 0},
	{"itertools.combinations", -1, LF(combinations_sizeof),
	 {{LF(combinations_pool), PH_F_POOL}, {LF(combinations_result), PH_F_RESULT}}, CX_R,
	 LF(combinations_r)},
	{"itertools.combinations_with_replacement", -1, LF(cwr_sizeof),
	 {{LF(cwr_pool), PH_F_POOL}, {LF(cwr_result), PH_F_RESULT}}, CX_R, LF(cwr_r)},
	{"itertools.permutations", -1, LF(permutations_sizeof),
	 {{LF(permutations_pool), PH_F_POOL}, {LF(permutations_result), PH_F_RESULT}}, CX_POOL_R,
	 LF(permutations_r)},
	{"itertools.groupby", -1, LF(groupby_sizeof),
	 {{LF(groupby_it), PH_F_ITERATOR}, {LF(groupby_keyfunc), PH_F_KEYFUNC},
	  {LF(groupby_tgtkey), PH_F_TGTKEY}, {LF(groupby_currkey), PH_F_CURRKEY},
	  {LF(groupby_currvalue), PH_F_CURRVALUE}}, CX_NONE, 0},
	{"itertools._grouper", -1, LF(grouper_sizeof),
	 {{LF(grouper_parent), PH_F_PARENT}, {LF(grouper_tgtkey), PH_F_TGTKEY}}, CX_NONE, 0},
	{"itertools.pairwise", -1, LF(pairwise_sizeof),
	 {{LF(pairwise_it), PH_F_ITERATOR}, {LF(pairwise_old), PH_F_OLD},
	  {LF(pairwise_result), PH_F_RESULT}}, CX_NONE, 0},
	{"itertools.pairwise", -1, LF(pairwise_sizeof), /* 3.10 - 3.12: no result */
	 {{LF(pairwise_it), PH_F_ITERATOR}, {LF(pairwise_old), PH_F_OLD}}, CX_NONE, 0},
	{"itertools.accumulate", -1, LF(accumulate_sizeof),
	 {{LF(accumulate_it), PH_F_ITERATOR}, {LF(accumulate_total), PH_F_TOTAL},
	  {LF(accumulate_binop), PH_F_BINOP}, {LF(accumulate_initial), PH_F_INITIAL}}, CX_NONE, 0},
	{"itertools.zip_longest", -1, LF(ziplongest_sizeof),
	 {{LF(ziplongest_ittuple), PH_F_ITERATORS}, {LF(ziplongest_result), PH_F_RESULT},
	  {LF(ziplongest_fillvalue), PH_F_FILLVALUE}}, CX_NONE, 0},
	{"itertools.compress", -1, LF(compress_sizeof),
	 {{LF(compress_data), PH_F_DATA}, {LF(compress_selectors), PH_F_SELECTORS}}, CX_NONE, 0},
	{"itertools.starmap", -1, LF(starmap_sizeof),
	 {{LF(starmap_func), PH_F_FUNCTION}, {LF(starmap_it), PH_F_ITERATOR}}, CX_NONE, 0},
	{"itertools.takewhile", -1, LF(takewhile_sizeof),
	 {{LF(takewhile_func), PH_F_FUNCTION}, {LF(takewhile_it), PH_F_ITERATOR}}, CX_NONE, 0},
	{"itertools.dropwhile", -1, LF(dropwhile_sizeof),
	 {{LF(dropwhile_func), PH_F_FUNCTION}, {LF(dropwhile_it), PH_F_ITERATOR}}, CX_NONE, 0},
	{"itertools.filterfalse", -1, LF(filterfalse_sizeof),
	 {{LF(filterfalse_func), PH_F_FUNCTION}, {LF(filterfalse_it), PH_F_ITERATOR}}, CX_NONE, 0},
	{"itertools.batched", -1, LF(batched_sizeof), {{LF(batched_it), PH_F_ITERATOR}}, CX_NONE, 0},
	/* collections' iterators (the deque's module is "collections" since 3.12) */
	{"_collections._deque_iterator", -1, LF(dequeiter_sizeof), {{LF(dequeiter_deque), PH_F_SEQ}}, CX_NONE, 0},
	{"_collections._deque_reverse_iterator", -1, LF(dequeiter_sizeof),
	 {{LF(dequeiter_deque), PH_F_SEQ}}, CX_NONE, 0},
	{"collections._deque_iterator", -1, LF(dequeiter_sizeof), {{LF(dequeiter_deque), PH_F_SEQ}}, CX_NONE, 0},
	{"collections._deque_reverse_iterator", -1, LF(dequeiter_sizeof),
	 {{LF(dequeiter_deque), PH_F_SEQ}}, CX_NONE, 0},
	{"odict_iterator", -1, LF(odictiter_sizeof),
	 {{LF(odictiter_odict), PH_F_MAPPING}, {LF(odictiter_current), PH_F_KEY},
	  {LF(odictiter_result), PH_F_RESULT}}, CX_NONE, 0},
	/* abc.ABCMeta's _abc_impl: registry and caches (3.8: a static type) */
#define ABCDATA                                                                                    \
	{{LF(abcdata_registry), PH_F_ABC_REGISTRY}, {LF(abcdata_cache), PH_F_ABC_CACHE},            \
	 {LF(abcdata_negative_cache), PH_F_ABC_NEGATIVE_CACHE}}
	{"_abc._abc_data", -1, LF(abcdata_sizeof), ABCDATA, CX_NONE, 0},
	{"_abc_data", -1, LF(abcdata_sizeof), ABCDATA, CX_NONE, 0},
#undef ABCDATA
	/* memoryview: its managed buffer, which holds the exporter (a bytearray...) */
	{"memoryview", -1, LF(memoryview_array), {{LF(memoryview_mbuf), PH_F_MBUF}}, CX_NONE, 0},
	{"managedbuffer", -1, LF(mbuf_sizeof), {{LF(mbuf_obj), PH_F_OBJ}}, CX_NONE, 0},
	/* _io.TextIOWrapper: its buffer, codec state and the text decoded ahead */
	{"_io.TextIOWrapper", -1, LF(textio_sizeof),
	 {{LF(textio_buffer), PH_F_BUFFER}, {LF(textio_encoding), PH_F_ENCODING},
	  {LF(textio_encoder), PH_F_ENCODER}, {LF(textio_decoder), PH_F_DECODER},
	  {LF(textio_readnl), PH_F_READNL}, {LF(textio_decoded_chars), PH_F_DECODED_CHARS},
	  {LF(textio_pending_bytes), PH_F_PENDING_BYTES}, {LF(textio_snapshot), PH_F_SNAPSHOT},
	  {LF(textio_errors), PH_F_ERRORS}, {LF(textio_raw), PH_F_RAW}}, CX_NONE, 0},
	/* threading.local: the dict of each thread's attribute dict */
	{"_thread._local", -1, LF(local_sizeof),
	 {{LF(local_dummies), PH_F_LOCALDICTS}, {LF(local_args), PH_F_ARGS},
	  {LF(local_kw), PH_F_KEYWORDS}}, CX_NONE, 0},
};
#undef LF

static inline int32_t layout_at(const struct ph_layout *L, size_t off)
{
	return *(const int32_t *)((const char *)L + off);
}

// 1 + the index of @t's entry in cfield_types[], or 0. An entry applies when
// its size and every field it names are in the layout.
static uint8_t cfield_type_of(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	char name[48];
	uint64_t np = rd64(w, t + (uint64_t)L->tp_name);
	if (!np || !ph_mem_string(M(w), np, name, sizeof(name)))
		return 0;
	uint64_t basic = rd64(w, t + (uint64_t)L->tp_basicsize);
	for (size_t i = 0; i < sizeof(cfield_types) / sizeof(cfield_types[0]); i++) {
		const struct cfield_type *c = &cfield_types[i];
		int32_t size = layout_at(L, c->size);
		// An exported type is that symbol's; the name only says which entry.
		if (size <= 0 || (uint64_t)size != basic || strcmp(name, c->name) ||
		    (c->sym >= 0 && w->py->sym[c->sym] && t != w->py->sym[c->sym]))
			continue;
		bool ok = true;
		for (size_t j = 0; j < CFIELDS_MAX && c->f[j].off; j++) {
			int32_t off = layout_at(L, c->f[j].off);
			ok = ok && off >= 16 && off + 8 <= size;
		}
		if (c->r) {
			int32_t off = layout_at(L, c->r);
			ok = ok && off >= 16 && off + 8 <= size;
		}
		if (ok)
			return (uint8_t)(i + 1);
	}
	return 0;
}

// _io.BytesIO, the buffered readers and writers and array.array: their
// __sizeof__ adds their buffer (the base's solid struct, subclasses
// included).
static uint8_t buffer_sizeof_kind(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	if (L->bytesio_buf >= 16 && is_named_type(w, t, L->bytesio_sizeof, "_io.BytesIO"))
		return BUF_BYTESIO;
	if (L->buffered_buffer >= 16 && L->buffered_buffer_size >= 16 &&
	    (is_named_type(w, t, L->buffered_sizeof, "_io.BufferedReader") ||
	     is_named_type(w, t, L->buffered_sizeof, "_io.BufferedWriter") ||
	     is_named_type(w, t, L->buffered_sizeof, "_io.BufferedRandom")))
		return BUF_BUFFERED;
	if (L->array_allocated >= 16 && L->array_descr >= 16 && L->arraydescr_itemsize >= 0 &&
	    is_named_type(w, t, L->array_sizeof, "array.array"))
		return BUF_ARRAY;
	if (L->pickler_memo >= 16 && L->pickler_output_buffer >= 16 && L->pickler_write >= 16 &&
	    L->memotable_allocated >= 0 && L->memotable_table >= 0 && L->memotable_sizeof > 0 &&
	    L->memoentry_sizeof == 16 && is_named_type(w, t, L->pickler_sizeof, "_pickle.Pickler"))
		return BUF_PICKLER;
	// (Its tp_name: "Struct" in 3.8, "_struct.Struct" since 3.9.)
	if (L->struct_codes >= 16 && L->formatcode_fmtdef >= 0 && L->formatcode_sizeof > 0 &&
	    (is_named_type(w, t, L->struct_sizeof, "_struct.Struct") ||
	     is_named_type(w, t, L->struct_sizeof, "Struct")))
		return BUF_STRUCT;
	return BUF_NONE;
}

// The emulation kind of type @t: an exact built-in, else by the subclass
// flags, else the first known type along its tp_base chain.
static enum kind classify(struct walker *w, uint64_t t, uint64_t flags)
{
	enum kind k = kind_of(w, t);
	if (k != K_OTHER)
		return k;
	if (flags & TPF_TYPE_SUBCLASS)
		return K_TYPE;
	if (flags & TPF_LONG_SUBCLASS)
		return K_INT;
	if (flags & TPF_LIST_SUBCLASS)
		return K_LIST;
	if (flags & TPF_TUPLE_SUBCLASS)
		return K_TUPLE;
	if (flags & TPF_BYTES_SUBCLASS)
		return K_BYTES;
	if (flags & TPF_UNICODE_SUBCLASS)
		return K_STR;
	if (flags & TPF_DICT_SUBCLASS)
		return K_DICT;
	if (flags & TPF_BASE_EXC_SUBCLASS)
		return K_EXCEPTION;
	uint64_t b = t;
	for (int i = 0; i < MAX_TYPE_CHAIN && b; i++) {
		b = rd64(w, b + (uint64_t)w->L->tp_base);
		k = kind_of(w, b);
		if (k != K_OTHER)
			return k;
	}
	return K_OTHER;
}

static bool valid_type_header(struct walker *w, uint64_t t, int depth);

/* greenlet.greenlet (the greenlet package: gevent, eventlet) and its
 * subclasses: where a greenlet's state is (walk_greenlet()). */
enum {
	GR_NONE,
	GR_PIMPL,  /* 2.x, 3.x: a C++ object, its address the last word of the 40-byte struct */
	GR_INLINE, /* 1.x: in the struct itself */
	GR_PIMPL_AT = 32,
	GR_PIMPL_BYTES = 160, /* of the C++ object looked at: its top frame is at 96-112 */
	GR_STATE_BYTES = 256, /* of a 1.x struct looked at, at most */
};

// Whether type @ti (of solid base @base) is greenlet.greenlet or derives
// from it, and where its instances keep their state.
static void greenlet_type(struct walker *w, struct tinfo *ti, uint64_t base)
{
	const struct ph_layout *L = w->L;
	for (int i = 0; i < MAX_TYPE_CHAIN && base; i++, base = rd64(w, base + (uint64_t)L->tp_base)) {
		if (!tp_name_is(w, base, "greenlet.greenlet"))
			continue;
		uint64_t size = rd64(w, base + (uint64_t)L->tp_basicsize);
		if (size == GR_PIMPL_AT + 8) {
			ti->greenlet = GR_PIMPL;
		} else if (size > GR_PIMPL_AT + 8 && size <= GR_STATE_BYTES) {
			ti->greenlet = GR_INLINE;
			ti->greenlet_end = (uint16_t)size;
		}
		return;
	}
}

/* datetime's types and decimal.Decimal (C types both), whose values the
 * walk keeps (opt->keep_values) */
enum { DT_NONE, DT_DATE, DT_DATETIME, DT_TIME, DT_DELTA, DT_DECIMAL, DT_TIMEZONE, DT_COMPLEX };
enum {
	DEC_SIZE = 88, /* a PyDecObject after its header: hash, mpd_t (48), 4 words */
	DEC_WORDS = 4,
	MPD_NEG = 1, MPD_INF = 2, MPD_NAN = 4, MPD_SNAN = 8,
};

// Which of those types C type @t is, by name (and _decimal's, by the size
// of the struct keep_decimal() reads).
static uint8_t valued_type(struct walker *w, uint64_t t)
{
	static const char *const names[] = {[DT_DATE] = "datetime.date",
					     [DT_DATETIME] = "datetime.datetime",
					     [DT_TIME] = "datetime.time",
					     [DT_DELTA] = "datetime.timedelta",
					     [DT_DECIMAL] = "decimal.Decimal",
					     [DT_TIMEZONE] = "datetime.timezone",
					     [DT_COMPLEX] = "complex"};
	char name[24];
	uint64_t np = rd64(w, t + (uint64_t)w->L->tp_name);
	if (!np || !ph_mem_string(M(w), np, name, sizeof(name)))
		return DT_NONE;
	uint64_t head = (uint64_t)w->L->ob_type + 8, size = rd64(w, t + (uint64_t)w->L->tp_basicsize);
	for (uint8_t k = DT_DATE; k <= DT_COMPLEX; k++)
		if (!strcmp(name, names[k]))
			return (k != DT_DECIMAL || size == head + DEC_SIZE) &&
					       (k != DT_COMPLEX || size == head + 16)
				       ? k
				       : DT_NONE;
	return DT_NONE;
}

// 3.13+: whether metatype @t is ctypes' CType_Type or derives from it: its
// instances (ctypes types) hold a StgInfo, which their __sizeof__ counts.
static bool is_ctypes_meta(struct walker *w, uint64_t t)
{
	const struct ph_layout *L = w->L;
	if (L->stginfo_sizeof <= 0 || L->stginfo_format < 0 || L->stginfo_ndim < 0 ||
	    L->stginfo_length < 0 || L->stginfo_elements < 0 || L->ht_sizeof <= 0)
		return false;
	for (int i = 0; i < MAX_TYPE_CHAIN && t; i++, t = rd64(w, t + (uint64_t)L->tp_base))
		if (tp_name_is(w, t, "_ctypes.CType_Type"))
			return true;
	return false;
}

// strlen() of the string at @addr in the target (at most @max bytes), or
// UINT64_MAX if unreadable or longer.
static uint64_t target_strlen(struct walker *w, uint64_t addr, uint64_t max)
{
	char buf[256];
	for (uint64_t n = 0; n < max;) {
		uint64_t chunk = sizeof(buf), to_page = 4096 - ((addr + n) & 4095);
		if (chunk > to_page)
			chunk = to_page;
		if (!ph_mem_read_fast(M(w), addr + n, buf, (size_t)chunk))
			return UINT64_MAX;
		const char *nul = memchr(buf, '\0', (size_t)chunk);
		if (nul)
			return n + (uint64_t)(nul - buf);
		n += chunk;
	}
	return UINT64_MAX;
}

// What the __sizeof__ of a ctypes type's storage info at @info adds (its
// fields at @fmt, @ndim, @length, @elements): its format string, a shape
// word per dimension, and the ffi element array.
static uint64_t stg_extra(struct walker *w, uint64_t info, int32_t fmt, int32_t ndim,
			  int32_t length, int32_t elements)
{
	uint64_t extra = 0, format = rd64(w, info + (uint64_t)fmt);
	if (format) {
		uint64_t len = target_strlen(w, format, 1u << 16);
		if (len == UINT64_MAX) {
			note_unreadable(w);
			return 0;
		}
		extra += len + 1;
	}
	int32_t nd = 0;
	ph_mem_read_fast(M(w), info + (uint64_t)ndim, &nd, sizeof(nd));
	if (nd > 0 && nd <= 64)
		extra += (uint64_t)nd * 8;
	if (rd64(w, info + (uint64_t)elements)) {
		uint64_t len = rd64(w, info + (uint64_t)length);
		if (len < (1u << 24))
			extra += (len + 1) * 8;
		else
			note_unreadable(w);
	}
	return extra;
}

// A type is valid if its own type is a valid type (the metatype chain ends at
// PyType_Type, whose type is itself), its sizes are sane and it is ready.
static bool valid_type_header(struct walker *w, uint64_t t, int depth)
{
	const struct ph_layout *L = w->L;
	if (!t || (t & 7) || depth > 8)
		return false;
	if (type_lookup(w, t))
		return true;
	uint64_t meta, flags, basic, item;
	if (!rdok(w, t + (uint64_t)L->ob_type, &meta) || !rdok(w, t + (uint64_t)L->tp_flags, &flags) ||
	    !rdok(w, t + (uint64_t)L->tp_basicsize, &basic) ||
	    !rdok(w, t + (uint64_t)L->tp_itemsize, &item))
		return false;
	if (basic < 16 || basic > (1u << 24) || (int64_t)item < 0 || item > (1u << 16))
		return false;
	if (!(flags & TPF_READY)) {
		// A static type its module never readied still has instances:
		// 3.8/3.9's functools._lru_list_elem (the lru_cache entries).
		// Only a plain static type, not collected, with a name.
		char name[64];
		uint64_t np;
		if (meta != w->py->sym[SYM_PyType_Type] || (flags & (TPF_HEAPTYPE | TPF_HAVE_GC)) ||
		    !rdok(w, t + (uint64_t)L->tp_name, &np) || !np ||
		    !ph_mem_string(M(w), np, name, sizeof(name)) || !name[0])
			return false;
		return true;
	}
	if (meta == t)
		return t == w->py->sym[SYM_PyType_Type];
	uint64_t mflags;
	if (!rdok(w, meta + (uint64_t)L->tp_flags, &mflags) || !(mflags & TPF_TYPE_SUBCLASS))
		return false;
	return valid_type_header(w, meta, depth + 1);
}

static char *read_c_string(struct walker *w, uint64_t addr)
{
	char buf[512];
	if (!addr || !ph_mem_string(M(w), addr, buf, sizeof(buf)))
		return NULL;
	return strdup(buf);
}

static bool read_str(struct walker *w, uint64_t addr, char *buf, size_t cap);
static uint64_t dict_get_str(struct walker *w, uint64_t dict, const char *key);

// "module.qualname" for heap types, tp_name for static ones.
static char *type_name(struct walker *w, uint64_t t, uint64_t flags)
{
	const struct ph_layout *L = w->L;
	char *tp_name = read_c_string(w, rd64(w, t + (uint64_t)L->tp_name));
	if (!(flags & TPF_HEAPTYPE))
		return tp_name ? tp_name : strdup("<unreadable type name>");
	char qual[512], mod[512];
	if (!read_str(w, rd64(w, t + (uint64_t)L->ht_qualname), qual, sizeof(qual))) {
		if (tp_name) {
			const char *dot = strrchr(tp_name, '.');
			snprintf(qual, sizeof(qual), "%s", dot ? dot + 1 : tp_name);
		} else {
			snprintf(qual, sizeof(qual), "<unreadable type name>");
		}
	}
	uint64_t m = dict_get_str(w, rd64(w, t + (uint64_t)L->tp_dict), "__module__");
	bool have_mod = m && read_str(w, m, mod, sizeof(mod));
	if (!have_mod && tp_name) {
		const char *dot = strrchr(tp_name, '.');
		if (dot) {
			snprintf(mod, sizeof(mod), "%.*s", (int)(dot - tp_name), tp_name);
			have_mod = true;
		}
	}
	free(tp_name);
	char *out = NULL;
	if (!have_mod || !strcmp(mod, "builtins"))
		out = strdup(qual);
	else if (asprintf(&out, "%s.%s", mod, qual) < 0)
		out = NULL;
	return out;
}

static bool snap_add_type(struct walker *w, struct tinfo *ti, uint64_t flags)
{
	struct ph_snapshot *s = w->snap;
	if (s->ntypes % 256 == 0) {
		struct ph_type *n = reallocarray(s->types, s->ntypes + 256, sizeof(*n));
		if (!n)
			return false;
		s->types = n;
	}
	struct ph_type *pt = &s->types[s->ntypes];
	memset(pt, 0, sizeof(*pt));
	pt->address = ti->addr;
	pt->name = type_name(w, ti->addr, flags);
	pt->object = PH_NONE;
	pt->is_dict = ti->addr == w->py->sym[SYM_PyDict_Type];
	if (!pt->name)
		return false;
	ti->snap_index = (uint32_t)s->ntypes++;
	return true;
}

// Collects the T_OBJECT_EX members (__slots__) of the Python classes along
// the base chain, as subtype_traverse visits them.
// The offset of the object field that C getter @get returns, or -1 for any
// other getter: a Cython property of a typed field (public or readonly: not a
// member) compiles to `mov rax, [rdi + off]`, then Py_INCREF of what it
// loaded (`add qword [rax], 1`; 3.12+: incref_312()), then ret; after an
// endbr64, or through a jmp from the property's wrapper. x86-64 machine code,
// read from the module's text.
static int32_t getter_code(struct walker *w, uint64_t get);

// getter_field(), each getter read once (the subclasses of one C type share
// its getters; their code is not in the copy: each read is a system call).
static int32_t getter_field(struct walker *w, uint64_t get)
{
	struct getter_seen *g = &w->getters[(get >> 4) & (GETTERS_SEEN - 1)];
	if (g->get != get || !get) {
		g->get = get;
		g->off = getter_code(w, get);
	}
	return g->off;
}

// 3.12+: the start of Py_INCREF of what rax points to, at @c (9 bytes
// readable): the immortal check on the count's low half, `cmp dword [rax],
// imm`, or its load `mov r32, [rax]` then `add r32, 1` / `inc r32` (3.12's
// saturated add), `cmp r32, -1`, or `test r32, r32` and `js` (3.13: a
// negative count is immortal). (Not a load then a test for zero: a getter
// that reads a C flag through a pointer field, such as gevent's watchers'
// `active`.)
static bool incref_312(const uint8_t *c)
{
	if ((c[0] == 0x83 || c[0] == 0x81) && c[1] == 0x38)
		return true;
	if (c[0] != 0x8b || (c[1] & 0xc7) != 0x00)
		return false;
	uint8_t r = (c[1] >> 3) & 7, self = (uint8_t)(0xc0 | r << 3 | r);
	return (c[2] == 0x83 && c[3] == (0xc0 | r) && c[4] == 0x01) ||
	       (c[2] == 0xff && c[3] == (0xc0 | r)) ||
	       (c[2] == 0x83 && c[3] == (0xf8 | r) && c[4] == 0xff) ||
	       (c[2] == 0x85 && c[3] == self && (c[4] == 0x78 || (c[4] == 0x0f && c[5] == 0x88)));
}

static int32_t getter_code(struct walker *w, uint64_t get)
{
#if !defined(__x86_64__)
	return -1; // (the target runs the tool's architecture: the patterns are x86-64's)
#endif
	for (int hop = 0; hop < 2 && get; hop++) {
		uint8_t c[24];
		if (!ph_mem_read(M(w), get, c, sizeof(c)))
			return -1;
		size_t i = c[0] == 0xf3 && c[1] == 0x0f && c[2] == 0x1e && c[3] == 0xfa ? 4 : 0;
		int32_t off;
		if (c[i] == 0xe9) {
			memcpy(&off, c + i + 1, 4);
			get += i + 5 + (uint64_t)(int64_t)off;
			continue;
		}
		if (c[i] != 0x48 || c[i + 1] != 0x8b)
			return -1;
		if (c[i + 2] == 0x47) {
			off = (int8_t)c[i + 3];
			i += 4;
		} else if (c[i + 2] == 0x87) {
			memcpy(&off, c + i + 3, 4);
			i += 7;
		} else {
			return -1;
		}
		bool incref = (c[i] == 0x48 && c[i + 1] == 0x83 && c[i + 2] == 0x00 && c[i + 3] == 0x01) ||
			      (c[i] == 0x48 && c[i + 1] == 0xff && c[i + 2] == 0x00) ||
			      incref_312(c + i);
		return incref && off >= 16 && off < (1 << 24) && !(off & 7) ? off : -1;
	}
	return -1;
}

// The getters of C type @base (tp_getset, PyGetSetDef: name, get, set, doc,
// closure) that return one of its object fields (getter_field()), added to
// @offs and @names (at most @cap) after the @n there: their names label the
// field's edges. Returns the new count.
static uint32_t collect_getters(struct walker *w, uint64_t base, uint64_t *offs, char **names,
				uint32_t n, uint32_t cap)
{
	const struct ph_layout *L = w->L;
	// (tp_getset: between tp_members and tp_base, in every version.)
	if (L->tp_members < 0 || L->tp_base != L->tp_members + 16)
		return n;
	uint64_t defs = rd64(w, base + (uint64_t)L->tp_members + 8);
	uint64_t size = rd64(w, base + (uint64_t)L->tp_basicsize);
	for (uint32_t k = 0; defs && k < MAX_SLOTS && n < cap; k++) {
		uint64_t def[2];
		if (!ph_mem_read(M(w), defs + k * 40, def, sizeof(def)) || !def[0])
			break;
		int32_t off = getter_field(w, def[1]);
		if (off < 0 || (uint64_t)off + 8 > size)
			continue;
		bool seen = false;
		for (uint32_t j = 0; j < n && !seen; j++)
			seen = offs[j] == (uint64_t)off;
		if (seen)
			continue;
		offs[n] = (uint64_t)off;
		names[n] = read_c_string(w, def[0]);
		n++;
	}
	return n;
}

// The object fields a type's instances hold, from the PyMemberDef tables
// along its bases: for a Python class, its __slots__ (T_OBJECT_EX members of
// the classes whose traverse is subtype_traverse); for a C type that the
// walk does not emulate (and that the GC traverses), the T_OBJECT and
// T_OBJECT_EX members of it and its C bases (functools.partial's func, args
// and keywords; defaultdict's factory), and the fields their getters return
// (collect_getters(): a Cython class's typed fields).
static void collect_slots(struct walker *w, struct tinfo *ti, uint64_t subtype_traverse)
{
	const struct ph_layout *L = w->L;
	uint64_t base = ti->addr;
	uint64_t offs[256];
	char *names[256];
	uint32_t n = 0;
	for (int depth = 0; depth < MAX_TYPE_CHAIN && base; depth++) {
		uint64_t trav = rd64(w, base + (uint64_t)L->tp_traverse);
		bool python = trav == subtype_traverse;
		// A class's C base: subtype_traverse() calls the base's traverse,
		// which the walk emulates by its kind (a dict's items...); for one
		// it knows only by its members (functools.partial's args, a Cython
		// class's public or readonly object fields), by them, here.
		if (ti->python_class && !python && ti->kind != K_OTHER)
			break;
		// A heap type keeps its count in ob_size; a static table ends at
		// a member without a name.
		uint64_t flags = rd64(w, base + (uint64_t)L->tp_flags);
		uint64_t nmembers = (flags & TPF_HEAPTYPE) && python ? rd64(w, base + (uint64_t)L->ob_size)
								     : MAX_SLOTS;
		uint64_t members = rd64(w, base + (uint64_t)L->tp_members);
		if (nmembers > MAX_SLOTS)
			nmembers = 0;
		for (uint64_t i = 0; i < nmembers && members && n < 256; i++) {
			uint64_t md = members + i * (uint64_t)L->md_sizeof;
			uint64_t type = 0, off = 0, name = 0;
			uint32_t t32;
			if (!ph_mem_read_fast(M(w), md + (uint64_t)L->md_type, &t32, 4) ||
			    !rdok(w, md + (uint64_t)L->md_offset, &off) ||
			    !rdok(w, md + (uint64_t)L->md_name, &name) || (!python && !name))
				break;
			type = t32;
			if ((type != T_OBJECT_EX && (python || type != T_OBJECT)) || (int64_t)off <= 0 ||
			    off > (1u << 24))
				continue;
			bool seen = false; // (a C subtype may declare its base's again)
			for (uint32_t j = 0; j < n && !seen; j++)
				seen = offs[j] == off;
			if (seen)
				continue;
			offs[n] = off;
			names[n] = read_c_string(w, name);
			n++;
		}
		if (!python && base != w->py->sym[SYM_PyBaseObject_Type])
			n = collect_getters(w, base, offs, names, n, 256);
		base = rd64(w, base + (uint64_t)L->tp_base);
		// (A C type's bases have fields of their own: a Cython class's
		// base class's.)
		if (!python && base == w->py->sym[SYM_PyBaseObject_Type])
			break;
	}
	if (!n)
		return;
	ti->slot_offsets = reallocarray(NULL, n, sizeof(int64_t));
	struct ph_type *pt = &w->snap->types[ti->snap_index];
	pt->slot_names = reallocarray(NULL, n, sizeof(char *));
	if (!ti->slot_offsets || !pt->slot_names) {
		for (uint32_t i = 0; i < n; i++)
			free(names[i]);
		free(ti->slot_offsets);
		ti->slot_offsets = NULL;
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		ti->slot_offsets[i] = (int64_t)offs[i];
		pt->slot_names[i] = names[i] ? names[i] : strdup("?");
	}
	ti->nslots = n;
	pt->nslot_names = n;
}

struct dict_keys;
static bool read_keys(struct walker *w, uint64_t k, struct dict_keys *dk);

// Names of the attributes stored without a dict (3.11+ shared keys), for
// labels of PH_EDGE_ATTR edges.
static void collect_attr_names(struct walker *w, struct tinfo *ti);

static void scan_skip(struct tinfo *ti, int64_t off)
{
	if (off > 0 && off < SCAN_WORDS * 8 && !(off & 7))
		ti->scan_words[off / 512] &= ~(1ull << (off / 8 % 64));
}

// The words scan_struct() looks at in the objects of @ti, a K_OTHER type
// whose C part is @base's: a collected type (its tp_traverse visits what it
// holds) that the walk knows by its declared members alone, if any. Each
// word of the struct that is not such a member, the dict or the weak
// reference list may hold an object: a Cython class's typed field (pandas'
// blocks hold their arrays so), a C extension's struct.
static void plan_scan(struct walker *w, struct tinfo *ti, uint64_t base)
{
	const struct ph_layout *L = w->L;
	uint64_t flags = rd64(w, base + (uint64_t)L->tp_flags);
	int64_t size = (int64_t)rd64(w, base + (uint64_t)L->tp_basicsize);
	int64_t item = (int64_t)rd64(w, base + (uint64_t)L->tp_itemsize);
	if (!(flags & TPF_HAVE_GC) || !rd64(w, base + (uint64_t)L->tp_traverse) ||
	    base == w->py->sym[SYM_PyBaseObject_Type] || size <= 16)
		return;
	ti->scan_words = calloc(SCAN_WORDS / 64, sizeof(uint64_t));
	ti->scan_checks = calloc(SCAN_WORDS, 1);
	if (!ti->scan_words || !ti->scan_checks) {
		free(ti->scan_words);
		free(ti->scan_checks);
		ti->scan_words = NULL;
		ti->scan_checks = NULL;
		return; // (the objects' other references are found all the same)
	}
	if (size > SCAN_WORDS * 8)
		size = SCAN_WORDS * 8;
	for (int64_t off = item ? 24 : 16; off + 8 <= size; off += 8)
		ti->scan_words[off / 512] |= 1ull << (off / 8 % 64);
	scan_skip(ti, (int64_t)rd64(w, base + (uint64_t)L->tp_dictoffset));
	if (L->tp_weaklistoffset >= 0)
		scan_skip(ti, (int64_t)rd64(w, base + (uint64_t)L->tp_weaklistoffset));
	scan_skip(ti, ti->dictoffset);
	for (uint32_t i = 0; i < ti->nslots; i++)
		scan_skip(ti, ti->slot_offsets[i]);
	uint64_t any = 0;
	for (unsigned k = 0; k < SCAN_WORDS / 64; k++)
		any |= ti->scan_words[k];
	if (!any) {
		free(ti->scan_words);
		free(ti->scan_checks);
		ti->scan_words = NULL;
		ti->scan_checks = NULL;
	}
}

static struct tinfo *get_type(struct walker *w, uint64_t t)
{
	struct tinfo *ti = type_lookup(w, t);
	if (ti)
		return ti;
	if (!valid_type_header(w, t, 0))
		return NULL;
	// (Millions of types are garbage: their objects count as unreadable.)
	if (w->snap->ntypes >= PH_MAX_TYPES)
		return NULL;
	const struct ph_layout *L = w->L;
	if (w->ntypes == w->captypes) {
		// (On the resolver, the other thread reads the array: parked.)
		struct pipe *pp = tl_view ? w->pipe : NULL;
		if (pp && !pipe_exclusive(pp))
			return NULL;
		size_t nc = w->captypes ? w->captypes * 2 : 512;
		struct tinfo **n = reallocarray(w->types, nc, sizeof(*n));
		if (n) {
			w->types = n;
			w->captypes = nc;
		}
		if (pp)
			pipe_release(pp);
		if (!n) {
			set_nomem(w);
			return NULL;
		}
	}
	ti = calloc(1, sizeof(*ti));
	if (!ti) {
		set_nomem(w);
		return NULL;
	}
	ti->addr = t;
	ti->flags = rd64(w, t + (uint64_t)L->tp_flags);
	ti->basicsize = (int64_t)rd64(w, t + (uint64_t)L->tp_basicsize);
	ti->itemsize = (int64_t)rd64(w, t + (uint64_t)L->tp_itemsize);
	ti->dictoffset = (int64_t)rd64(w, t + (uint64_t)L->tp_dictoffset);
	ti->traverse = rd64(w, t + (uint64_t)L->tp_traverse);
	ti->is_metatype = (ti->flags & TPF_TYPE_SUBCLASS) != 0;
	uint64_t subtype_traverse = w->py->sym[SYM_subtype_traverse];
	ti->python_class = (ti->flags & TPF_HEAPTYPE) && subtype_traverse &&
			   ti->traverse == subtype_traverse;
	uint64_t base = t;
	if (ti->python_class) {
		// The solid base: first base whose traverse is not subtype_traverse.
		int depth = 0;
		while (base && depth++ < MAX_TYPE_CHAIN &&
		       rd64(w, base + (uint64_t)L->tp_traverse) == subtype_traverse)
			base = rd64(w, base + (uint64_t)L->tp_base);
		uint64_t bflags = base ? rd64(w, base + (uint64_t)L->tp_flags) : 0;
		uint64_t btrav = base ? rd64(w, base + (uint64_t)L->tp_traverse) : 0;
		int64_t bdictoff = base ? (int64_t)rd64(w, base + (uint64_t)L->tp_dictoffset) : 0;
		ti->kind = base ? classify(w, base, bflags) : K_OTHER;
		ti->dict_differs = ti->dictoffset != bdictoff;
		ti->visit_type = !btrav || !(bflags & TPF_HEAPTYPE);
	} else {
		ti->kind = classify(w, t, ti->flags);
	}
	if (ti->kind == K_OTHER && base && (ti->cfields = cfield_type_of(w, base)))
		ti->kind = K_CFIELDS;
	if (ti->kind == K_OTHER && base)
		ti->buffer_sizeof = buffer_sizeof_kind(w, base);
	if (ti->kind == K_OTHER && base && !ti->is_metatype)
		greenlet_type(w, ti, base);
	ti->odict = ti->kind == K_DICT && w->py->sym[SYM_PyODict_Type] &&
		    (t == w->py->sym[SYM_PyODict_Type] || base == w->py->sym[SYM_PyODict_Type]) &&
		    L->odict_fast_nodes_size > 0 && L->odictnode_sizeof > 0;
	ti->stgdict = ti->kind == K_DICT && base && L->stgdict_format >= 0 &&
		      L->stgdict_ndim >= 0 && L->stgdict_length >= 0 && L->stgdict_elements >= 0 &&
		      is_named_type(w, base, L->stgdict_sizeof, "StgDict");
	ti->ctypes_meta = ti->is_metatype && is_ctypes_meta(w, t);
	if (ti->kind == K_OTHER && base)
		ti->dt_struct = valued_type(w, base);
	if (w->keep_values && base == t && ti->dt_struct != DT_TIMEZONE)
		ti->dt_value = ti->dt_struct;
	if (ti->flags & TPF_HEAPTYPE) {
		ti->cached_keys = rd64(w, t + (uint64_t)L->ht_cached_keys);
		if (ti->cached_keys && L->dk_usable >= 0) {
			uint64_t usable = rd64(w, ti->cached_keys + (uint64_t)L->dk_usable);
			uint64_t nent = rd64(w, ti->cached_keys + (uint64_t)L->dk_nentries);
			if (usable < (1u << 20) && nent < (1u << 20)) {
				ti->keys_usable_sum = usable + nent;
				ti->keys_nentries = (uint32_t)nent;
			}
		}
	}
	if (!type_insert_key(w, t, (uint32_t)w->ntypes)) {
		free(ti);
		set_nomem(w);
		return NULL;
	}
	w->types[w->ntypes++] = ti;
	if (!snap_add_type(w, ti, ti->flags)) {
		set_nomem(w);
		return NULL;
	}
	// (A C type the gc module does not collect holds its object members
	// all the same: zoneinfo's key before 3.12, a range's bounds.)
	if (ti->python_class || (ti->kind == K_OTHER && L->md_sizeof > 0))
		collect_slots(w, ti, subtype_traverse);
	if (ti->kind == K_OTHER && base && !ti->is_metatype && !ti->buffer_sizeof)
		plan_scan(w, ti, base);
	if ((ti->flags & TPF_MANAGED_DICT) && ti->cached_keys)
		collect_attr_names(w, ti);
	return ti;
}

/* ---- objects ---- */

static void stop_prefault(struct walker *w)
{
	ph_prefault_stop(w->prefault);
	w->prefault = NULL;
}

// One thread: another faults in the object and edge arrays ahead of their
// use, up to room for the @expect objects and twice as many edges expected.
static void start_prefault(struct walker *w, size_t expect)
{
	struct ph_snapshot *s = w->snap;
	size_t n = s->nobjects, e = s->nedges;
	if (w->prefault || !s->edges || w->ocapobj < expect || w->capedges < expect * 2 ||
	    n >= expect || e >= expect * 2)
		return;
	struct ph_prefault_range r[] = {
		{s->objects + n, (expect - n) * sizeof(*s->objects)},
		{s->edges + e, (expect * 2 - e) * sizeof(*s->edges)},
		{s->edge_start + n, (expect - n) * sizeof(*s->edge_start)},
		{s->text + n, (expect - n) * sizeof(*s->text)},
	};
	w->prefault = ph_prefault_start(r, sizeof(r) / sizeof(r[0]));
}

// Room for @nc objects in each per-object array (ocapobj: what all have).
static bool resize_objects(struct walker *w, size_t nc)
{
	struct ph_snapshot *s = w->snap;
	stop_prefault(w);
	struct ph_object *o = reallocarray(s->objects, nc, sizeof(*o));
	if (!o)
		return false;
	s->objects = o;
	uint32_t *es = reallocarray(s->edge_start, nc + 1, sizeof(*es));
	if (!es)
		return false;
	s->edge_start = es;
	uint32_t *tx = reallocarray(s->text, nc, sizeof(*tx));
	if (!tx)
		return false;
	s->text = tx;
	if (ph_mem_tracking(M(w))) {
		uint64_t *sw = reallocarray(w->saved_words, nc, sizeof(*sw));
		if (!sw)
			return false;
		w->saved_words = sw;
	}
	w->ocapobj = nc;
	return true;
}

static bool grow_objects(struct walker *w)
{
	return resize_objects(w, w->ocapobj ? w->ocapobj * 2 : 65536);
}

static inline size_t ohash(uint64_t addr, size_t mask)
{
	return (size_t)(((addr >> 4) * 0x9E3779B97F4A7C15ull) >> 24) & mask;
}

// The first size of the table of the objects' addresses (bounded: every
// object is in it): room for about one object per 96 bytes of the target's
// writable memory, when known, at a load of 3/4 — within 1/2 of the budget
// (a heap of large buffers has far fewer objects) and the objects allowed;
// else small, grown by doubling. (1M objects within 16 MiB: each doubling
// rehashed every object into a new table, one cache miss each; sized at
// once, the pause 10% shorter.)
static size_t first_table_size(const struct walker *w)
{
	size_t n = 1u << 12;
	if (!w->bounded)
		return n;
	uint64_t objects = w->opt->memory_bytes / 96, room = ph_mem_limit_bytes(w->mem) / 2;
	if (objects > w->max_objects)
		objects = w->max_objects;
	while ((n * 2) * sizeof(*w->otab) <= room && objects * 4 > n * 3)
		n *= 2;
	return n;
}

static bool grow_table(struct walker *w)
{
	size_t ncap = w->ocap ? w->ocap * 2 : w->ocap_first;
	uint32_t *t = calloc(ncap, sizeof(*t));
	if (!t)
		return false;
	if (w->bounded && w->nhashed == w->snap->nobjects) {
		// (Every object is in the table, as within a budget: their
		// addresses read in order, not one object record per slot.)
		for (size_t i = 0; i < w->snap->nobjects; i++) {
			size_t j = ohash(w->snap->objects[i].address, ncap - 1);
			while (t[j])
				j = (j + 1) & (ncap - 1);
			t[j] = (uint32_t)i + 1;
		}
	} else {
		for (size_t i = 0; i < w->ocap; i++) {
			if (!w->otab[i])
				continue;
			size_t j = ohash(w->snap->objects[w->otab[i] - 1].address, ncap - 1);
			while (t[j])
				j = (j + 1) & (ncap - 1);
			t[j] = w->otab[i];
		}
	}
	free(w->otab);
	w->otab = t;
	w->ocap = ncap;
	return true;
}

static uint64_t *block_bits_slow(struct walker *w, uint64_t bn, bool create)
{
	if ((w->bused + 1) * 2 > w->bcap) {
		if (!create)
			goto find;
		size_t nc = w->bcap ? w->bcap * 2 : 4096;
		struct bslot *t = malloc(nc * sizeof(*t));
		if (!t)
			return NULL;
		for (size_t i = 0; i < nc; i++)
			t[i].bn = UINT64_MAX;
		for (size_t i = 0; i < w->bcap; i++) {
			if (w->btab[i].bn == UINT64_MAX)
				continue;
			size_t j = ohash(w->btab[i].bn << 4, nc - 1);
			while (t[j].bn != UINT64_MAX)
				j = (j + 1) & (nc - 1);
			t[j] = w->btab[i];
		}
		free(w->btab);
		w->btab = t;
		w->bcap = nc;
	}
find:;
	size_t mask = w->bcap - 1;
	for (size_t i = ohash(bn << 4, mask);; i = (i + 1) & mask) {
		if (w->btab[i].bn == bn) {
			return w->btab[i].bits;
		}
		if (w->btab[i].bn == UINT64_MAX) {
			if (!create)
				return NULL;
			uint64_t *bits = calloc(4096 / 64, sizeof(uint64_t));
			if (!bits)
				return NULL;
			w->btab[i].bn = bn;
			w->btab[i].bits = bits;
			w->bused++;
			return bits;
		}
	}
}

// The bitmap of the 64 KiB block @bn (created if @create), through a
// direct-mapped table in front of the hash table.
static inline uint64_t *block_bits(struct walker *w, uint64_t bn, bool create)
{
	struct bdirect *d = &w->bdirect[bn & (BDIRECT - 1)];
	if (d->bn == bn && d->bits)
		return d->bits;
	uint64_t *bits = block_bits_slow(w, bn, create);
	if (bits) {
		d->bn = bn;
		d->bits = bits;
	}
	return bits;
}

#define INDEX_TAG 0x5048ull /* "PH": marks an index written over ob_refcnt */

static inline bool test_bit(const uint64_t *bits, uint64_t addr)
{
	unsigned slot = (unsigned)(addr & 0xffff) >> 4;
	return bits[slot >> 6] >> (slot & 63) & 1;
}

// The index written over the first word of the object at @addr (its bit is
// set). PH_NONE if the cache cannot give it back (never, in practice).
static inline uint32_t copy_index(struct walker *w, uint64_t addr)
{
	const uint64_t *p = ph_mem_ptr_fast(M(w), addr, 8);
	if (!p || *p >> 32 != INDEX_TAG)
		return PH_NONE;
	return (uint32_t)*p;
}

// The slot of @addr in the hash table, or of the empty slot where it would go.
static size_t otab_slot(const struct walker *w, uint64_t addr)
{
	size_t mask = w->ocap - 1, i = ohash(addr, mask);
	while (w->otab[i] && w->snap->objects[w->otab[i] - 1].address != addr)
		i = (i + 1) & mask;
	return i;
}

static uint32_t object_lookup(struct walker *w, uint64_t addr)
{
	own_lookup(w);
	if (!(addr & 15)) {
		uint64_t *bits = w->bcap ? block_bits(w, addr >> 16, false) : NULL;
		if (!bits || !test_bit(bits, addr))
			return PH_NONE;
		if (!w->bounded)
			return copy_index(w, addr);
	}
	struct recent *r = w->recent ? &w->recent[(addr >> 4) & (RECENT - 1)] : NULL;
	if (r && r->addr == addr)
		return r->idx;
	size_t i = otab_slot(w, addr);
	if (!w->otab[i])
		return PH_NONE;
	if (r)
		*r = (struct recent){addr, w->otab[i] - 1};
	return w->otab[i] - 1;
}

static bool is_list_head(const struct walker *w, uint64_t node)
{
	for (size_t i = 0; i < w->nheads; i++)
		if (w->heads[i] == node)
			return true;
	return false;
}

// A new object of a GC type: if it has a GC header (not a static type
// object) and is tracked (its _gc_next is set), it is in a GC list: flag it,
// count it and keep its links for gc_expand().
/* The header of an object and its PyGC_Head's links, read ahead in a batch
 * (bounded cache). */
struct prehead {
	uint64_t words[4]; /* the PyGC_Head's links, then the header, as in memory */
	bool links_ok, head_ok;
};

static void note_gc_node(struct walker *w, uint32_t idx, uint64_t addr, const struct tinfo *ti,
			 const struct prehead *pre, const uint64_t *hp)
{
	if (ti->is_metatype) {
		uint64_t tflags;
		if (!rdok(w, addr + (uint64_t)w->L->tp_flags, &tflags) || !(tflags & TPF_HEAPTYPE))
			return;
	}
	uint64_t node = addr - 16, links[2];
	// (The links are in the header's page unless the header starts one;
	// tracked reads must go through the cache to be recorded.)
	const uint64_t *p = w->bounded ? NULL
			    : hp && (addr & 0xfff) >= 16 && !ph_mem_tracking(M(w))
				    ? hp - 2
				    : ph_mem_ptr_fast(M(w), node, 16);
	if (pre) {
		if (!pre->links_ok)
			return;
		links[0] = pre->words[0];
		links[1] = pre->words[1];
	} else if (w->bounded) {
		if (!ph_mem_peek(M(w), node, links, 16))
			return;
	} else if (p) {
		links[0] = p[0];
		links[1] = p[1];
	} else if (!ph_mem_read_fast(M(w), node, links, 16)) {
		return;
	}
	if (!(links[0] & ~3ull))
		return; // untracked
	if (tl_view) {
		w->pipe->objects[idx].flags |= PH_OBJ_GC_LIST;
		w->pipe->gc_objects++;
	} else {
		w->snap->objects[idx].flags |= PH_OBJ_GC_LIST;
		w->snap->gc_objects++;
	}
	w->last_next = links[0] & ~3ull;
	w->last_prev = links[1] & ~3ull;
	if (w->bounded)
		return; // gc_expand() reads the links again, in batches
	if (w->ngcn == w->capgcn) {
		// (On the resolver, with the processing thread parked: it faults
		// the array's pages in ahead, fault_ahead().)
		struct pipe *pp = tl_view ? w->pipe : NULL;
		if (pp && !pipe_exclusive(pp))
			return;
		struct gc_node *n = grow_array(w, w->gcn, &w->capgcn, sizeof(*n), 4096);
		if (n)
			w->gcn = n;
		if (pp)
			pipe_release(pp);
		if (!n)
			return;
	}
	w->gcn[w->ngcn++] = (struct gc_node){idx, links[0] & ~3ull, links[1] & ~3ull};
}

static uint32_t intern_pre(struct walker *w, uint64_t addr, uint8_t flags,
			   const struct prehead *pre);
static uint32_t add_object(struct walker *w, uint64_t addr, uint8_t flags, uint64_t *bits,
			   const uint64_t *hp, size_t hi, const uint64_t head[2],
			   const struct prehead *pre);

static void resolve_pending(struct walker *w);

// Returns the index of the object at @addr, adding it if it is new and
// valid; PH_NONE (and counted as unreadable) if it is not an object. The
// edges in flight are resolved first: objects take their indices in the
// order they are found, whatever the number of edges in flight (and on two
// threads, the resolver is idle meanwhile).
static uint32_t intern(struct walker *w, uint64_t addr, uint8_t flags)
{
	resolve_pending(w);
	return intern_pre(w, addr, flags, NULL);
}

static uint32_t intern_pre(struct walker *w, uint64_t addr, uint8_t flags,
			   const struct prehead *pre)
{
	struct ph_snapshot *s = w->snap;
	if (!addr)
		return PH_NONE;
	uint64_t *bits = NULL;
	size_t hi = 0;
	uint64_t head[2];
	const uint64_t *hp = NULL;
	if (!(addr & 15)) {
		bits = block_bits(w, addr >> 16, true);
		if (!bits) {
			set_nomem(w);
			return PH_NONE;
		}
		if (test_bit(bits, addr)) {
			uint32_t idx = object_lookup(w, addr);
			if (idx != PH_NONE && flags)
				s->objects[idx].flags |= flags;
			return idx;
		}
		if (w->bounded) {
			if (pre ? !pre->head_ok : !ph_mem_peek(M(w), addr, head, sizeof(head))) {
				note_unreadable(w);
				return PH_NONE;
			}
			if (pre) {
				head[0] = pre->words[2];
				head[1] = pre->words[3];
			}
			if ((w->nhashed + 1) * 4 > w->ocap * 3 && !grow_table(w)) {
				set_nomem(w);
				return PH_NONE;
			}
		} else {
			// A 16-byte header at a 16-byte boundary never crosses a
			// page: if the cache cannot point at it, it is unreadable.
			hp = ph_mem_ptr_fast(M(w), addr, sizeof(head));
			if (!hp) {
				note_unreadable(w);
				return PH_NONE;
			}
			head[0] = hp[0];
			head[1] = hp[1];
		}
	} else {
		if (addr & 7) {
			note_unreadable(w);
			return PH_NONE;
		}
		if ((w->nhashed + 1) * 4 > w->ocap * 3 && !grow_table(w)) {
			set_nomem(w);
			return PH_NONE;
		}
		hi = otab_slot(w, addr);
		if (w->otab[hi]) {
			if (flags)
				s->objects[w->otab[hi] - 1].flags |= flags;
			return w->otab[hi] - 1;
		}
		if (!ph_mem_read_fast(M(w), addr, head, sizeof(head))) {
			note_unreadable(w);
			return PH_NONE;
		}
	}
	return add_object(w, addr, flags, bits, hp, hi, head, pre);
}

// Adds the object at @addr whose header is @head (not known yet: its bit in
// @bits is clear, or it has no slot in the hash table, @hi where it goes).
// @hp: the header in the cache, where its index is written (unbounded).
static void note_object_limit(struct walker *w)
{
	struct ph_snapshot *s = w->snap;
	if (!s->truncated) {
		s->truncated = true;
		const char *why = __atomic_load_n(&w->low_memory, __ATOMIC_ACQUIRE);
		s->truncated_reason = strdup(why ? why : "object limit reached");
	}
}

// Objects added between two questions to opt->memory_low (also asked every
// as many objects processed: their edges take memory too); a power of two.
enum { GUARD_OBJECTS = 16384 };

// About the memory the snapshot takes with @count objects: each one's record,
// edge start, text index and GC node or hash table slot, each edge, the
// strings. (Edges: on the resolver, those it resolved; the processing thread
// adds them.)
static uint64_t snapshot_bytes(const struct walker *w, uint64_t count)
{
	uint64_t edges = tl_view && w->pipe ? __atomic_load_n(&w->pipe->done, __ATOMIC_RELAXED)
					    : w->snap->nedges;
	return count * (sizeof(struct ph_object) + 16) + edges * sizeof(struct ph_edge) +
	       (tl_view ? 0 : w->snap->strings_len);
}

// Asks opt->memory_low whether memory runs low, @count objects being there;
// if it does, no more are added.
static bool memory_low(struct walker *w, uint64_t count)
{
	if (!w->opt || !w->opt->memory_low || __atomic_load_n(&w->low_memory, __ATOMIC_ACQUIRE))
		return false;
	const char *why = w->opt->memory_low(w->opt->memory_arg, snapshot_bytes(w, count));
	if (!why)
		return false;
	__atomic_store_n(&w->low_memory, why, __ATOMIC_RELEASE);
	uint64_t max = __atomic_load_n(&w->max_objects, __ATOMIC_RELAXED);
	if (count < max) {
		__atomic_store_n(&w->max_objects, count, __ATOMIC_RELAXED);
		__atomic_store_n(&w->limit_at, count, __ATOMIC_RELAXED);
	}
	return true;
}

static inline uint64_t max_objects(const struct walker *w)
{
	return __atomic_load_n(&w->max_objects, __ATOMIC_RELAXED);
}

// Whether no object may be added beside the @count there are (limit_at
// reached): at max_objects, or when opt->memory_low says so.
static bool objects_full(struct walker *w, uint64_t count)
{
	uint64_t max = __atomic_load_n(&w->max_objects, __ATOMIC_RELAXED);
	if (count >= max || memory_low(w, count))
		return true;
	uint64_t next = count + GUARD_OBJECTS < max ? count + GUARD_OBJECTS : max;
	__atomic_store_n(&w->limit_at, next, __ATOMIC_RELAXED);
	return false;
}

static uint32_t add_object(struct walker *w, uint64_t addr, uint8_t flags, uint64_t *bits,
			   const uint64_t *hp, size_t hi, const uint64_t head[2],
			   const struct prehead *pre)
{
	struct ph_snapshot *s = w->snap;
	// (On the resolver: its own count and pointers, not the snapshot's
	// line, which the processing thread writes.)
	struct pipe *pp = tl_view ? w->pipe : NULL;
	size_t *count = pp ? &pp->nobjects : &s->nobjects;
	struct tinfo *ti = addr <= PH_MAX_ADDRESS ? get_type(w, head[1]) : NULL;
	if (!ti) {
		note_unreadable(w);
		return PH_NONE;
	}
	if (*count >= __atomic_load_n(&w->limit_at, __ATOMIC_RELAXED) && objects_full(w, *count)) {
		if (pp)
			pp->limit_hit = true; // (into the snapshot when it idles)
		else
			note_object_limit(w);
		return PH_NONE;
	}
	if (*count == w->ocapobj) {
		bool grown = false;
		if (pp) {
			if (pipe_exclusive(pp)) {
				grown = grow_objects(w);
				pp->objects = s->objects;
				pp->text = s->text;
				pipe_release(pp);
			}
		} else {
			grown = grow_objects(w);
		}
		if (!grown) {
			set_nomem(w);
			return PH_NONE;
		}
	}
	uint32_t idx = (uint32_t)(*count)++;
	struct ph_object *o = pp ? &pp->objects[idx] : &s->objects[idx];
	o->address = addr;
	o->size = 0;
	if (w->py->minor >= 12) {
		// The count is the low half; the high half holds flags (3.14).
		o->refcnt = (uint32_t)head[0];
	} else {
		int64_t rc = (int64_t)head[0];
		o->refcnt = rc < 0 ? 0 : rc > UINT32_MAX ? UINT32_MAX : (uint32_t)rc;
	}
	if (w->saved_words)
		w->saved_words[idx] = head[0];
	o->type = ti->snap_index;
	o->owner = PH_NONE;
	o->flags = flags;
	if (w->py->minor >= 12 && (int32_t)o->refcnt < 0)
		o->flags |= PH_OBJ_IMMORTAL;
	(pp ? pp->text : s->text)[idx] = 0;
	if (bits) {
		unsigned slot = (unsigned)(addr & 0xffff) >> 4;
		bits[slot >> 6] |= 1ull << (slot & 63);
	}
	if (hp) {
		// The cache's memory is the tool's own: the target is never written.
		// (The processing thread may read it meanwhile: looks_like_object().)
		__atomic_store_n((uint64_t *)(uintptr_t)hp, INDEX_TAG << 32 | idx, __ATOMIC_RELAXED);
	} else {
		if (bits) {
			// bounded: in the hash table too (new: the first empty slot)
			size_t mask = w->ocap - 1;
			for (hi = ohash(addr, mask); w->otab[hi]; hi = (hi + 1) & mask)
				;
		}
		w->otab[hi] = idx + 1;
		w->nhashed++;
	}
	if ((ti->flags & TPF_HAVE_GC) && w->L->gchead_sizeof == 16)
		note_gc_node(w, idx, addr, ti, pre, hp);
	return idx;
}

// Whether @rc reads as the reference count of a live object (3.12+: the
// low half; 3.14 keeps flags in the high one).
static inline bool plausible_refcnt(const struct walker *w, uint64_t rc)
{
	if (w->py->minor >= 14)
		return (uint32_t)rc != 0;
	if (w->py->minor >= 12)
		return rc - 1 < UINT32_MAX;
	return rc - 1 < (1ull << 40);
}

// The target of an inferred edge (ph_edge_inferred(): a word of a struct the
// walk does not know, that may hold anything): an object known, else one
// added if its header reads as a live object's (a plausible reference count,
// not a type's address: a C struct of type pointers is not one; a type). A
// word that is not one is no edge, and nothing unreadable.
static uint32_t __attribute__((noinline)) resolve_inferred(struct walker *w, uint64_t addr)
{
	uint32_t idx = object_lookup(w, addr);
	if (idx != PH_NONE)
		return idx;
	uint64_t head[2];
	if (!ph_mem_peek(M(w), addr, head, sizeof(head)) || !plausible_refcnt(w, head[0]) ||
	    !valid_type_header(w, head[1], 0))
		return PH_NONE;
	// (A count that is the address of a type is one: a module state's
	// first two words are types, and before 3.12 a pointer below 2^40, as
	// in an executable that is not position-independent, reads as a count.)
	if (head[0] >= 4096 && !(head[0] & 7) && valid_type_header(w, head[0], 0))
		return PH_NONE;
	return intern_pre(w, addr, 0, NULL);
}

// Looks up the target of pending edge @p (unbounded).
static inline uint32_t resolve_entry(struct walker *w, const struct pending *p)
{
	uint32_t idx;
	if (p->hp) {
		// What intern() does, with the lookups hint() made.
		if (test_bit(p->bits, p->addr)) {
			idx = p->hp[0] >> 32 == INDEX_TAG ? (uint32_t)p->hp[0] : PH_NONE;
		} else if (__builtin_expect(ph_edge_inferred(p->label), 0)) {
			idx = resolve_inferred(w, p->addr);
		} else {
			const uint64_t head[2] = {p->hp[0], p->hp[1]};
			idx = add_object(w, p->addr, 0, p->bits, p->hp, 0, head, NULL);
		}
	} else if (__builtin_expect(ph_edge_inferred(p->label), 0)) {
		idx = resolve_inferred(w, p->addr);
	} else {
		idx = intern_pre(w, p->addr, 0, NULL);
	}
	if (idx == PH_NONE)
		__atomic_store_n(&w->dead_edges, w->dead_edges + 1, __ATOMIC_RELAXED);
	return idx;
}

// Looks up the target of the oldest pending edge.
static inline void resolve_one(struct walker *w)
{
	const struct pending *p = &w->pend[w->phead++ & (PENDING_BOUNDED - 1)];
	w->snap->edges[p->edge].target = resolve_entry(w, p);
}

// With a bounded cache: every pending edge, the headers of the targets not
// known yet read first, in vectored calls (a full cache would otherwise read
// each with a call of its own).
static void resolve_batch(struct walker *w)
{
	struct prehead pre[PENDING_BOUNDED];
	struct ph_mem_iov iov[2 * PENDING_BOUNDED];
	bool ok[2 * PENDING_BOUNDED];
	int16_t slot[PENDING_BOUNDED], first[PENDING_BOUNDED];
	uint64_t known[PENDING_BOUNDED];
	size_t m = 0, k = 0, np = 0, nknown = 0;
	for (unsigned i = w->phead; i != w->ptail; i++, k++) {
		uint64_t a = w->pend[i & (PENDING_BOUNDED - 1)].addr;
		slot[k] = -1;
		if (!a || (a & 15))
			continue;
		// Its slot in the hash table: the loads of the whole batch overlap.
		__builtin_prefetch(&w->otab[ohash(a, w->ocap - 1)]);
		const uint64_t *bits = w->bcap ? block_bits(w, a >> 16, false) : NULL;
		if (bits && test_bit(bits, a)) {
			known[nknown++] = a;
			continue;
		}
		// The links and the header in one range (one page for the
		// kernel to find), unless a page starts between them.
		size_t j = np++;
		slot[k] = (int16_t)j;
		first[j] = (int16_t)m;
		if (a & 0xfff) {
			iov[m++] = (struct ph_mem_iov){a - 16, pre[j].words, 32};
		} else {
			iov[m++] = (struct ph_mem_iov){a - 16, pre[j].words, 16};
			iov[m++] = (struct ph_mem_iov){a, pre[j].words + 2, 16};
		}
	}
	if (m > PH_MEM_PEEKV_MAX) {
		ph_mem_peekv(M(w), iov, PH_MEM_PEEKV_MAX, ok);
		ph_mem_peekv(M(w), iov + PH_MEM_PEEKV_MAX, m - PH_MEM_PEEKV_MAX, ok + PH_MEM_PEEKV_MAX);
	} else if (m) {
		ph_mem_peekv(M(w), iov, m, ok);
	}
	// The records of the objects known, whose addresses their lookups
	// compare (their slots were loaded meanwhile): two misses per lookup
	// otherwise, one after the other.
	for (size_t j = 0; w->ocap && j < nknown; j++) {
		uint32_t t = w->otab[ohash(known[j], w->ocap - 1)];
		if (t)
			__builtin_prefetch(&w->snap->objects[t - 1]);
	}
	for (size_t j = 0; j < np; j++) {
		bool one = iov[first[j]].len == 32;
		pre[j].links_ok = ok[first[j]];
		pre[j].head_ok = ok[first[j] + !one];
	}
	for (k = 0; w->phead != w->ptail; k++) {
		const struct pending *p = &w->pend[w->phead++ & (PENDING_BOUNDED - 1)];
		uint32_t idx = ph_edge_inferred(p->label)
				       ? resolve_inferred(w, p->addr)
				       : intern_pre(w, p->addr, 0, slot[k] >= 0 ? &pre[slot[k]] : NULL);
		w->snap->edges[p->edge].target = idx;
		if (idx == PH_NONE)
			w->dead_edges++;
	}
}

// The oldest half of the edges in flight, in one go (unbounded).
static void resolve_oldest(struct walker *w)
{
	for (unsigned k = 0; k < PENDING / 2; k++)
		resolve_one(w);
}

static void resolve_pending(struct walker *w)
{
	if (w->pipe) {
		quiesce(w);
		return;
	}
	if (w->bounded) {
		resolve_batch(w);
		return;
	}
	while (w->phead != w->ptail)
		resolve_one(w);
}

// Starts loading what intern() will read for the target of edge @p: its bit
// in the object bitmaps and its header in the memory cache (unbounded: the
// lookups are kept in @p for resolve_one()).
static void hint(struct walker *w, struct pending *p)
{
	uint64_t addr = p->addr;
	if (addr & 15) {
		ph_mem_hint(M(w), addr);
		return;
	}
	uint64_t *bits = block_bits(w, addr >> 16, true);
	if (!bits)
		return;
	__builtin_prefetch(&bits[(addr & 0xffff) >> 10]);
	// A 16-byte header at a 16-byte boundary never crosses a page.
	const uint64_t *hp = ph_mem_cached_fast(M(w), addr, 16);
	if (hp) {
		__builtin_prefetch(hp);
		// A new object at the start of a cache line: its PyGC_Head, if
		// it has one, is on the line before (pymalloc's 64-byte blocks
		// start 48 bytes into a line: every tuple, list and dict of that
		// size). Its links are read when it is added.
		if (!(addr & 48) && !test_bit(bits, addr))
			__builtin_prefetch(hp - 2);
		p->bits = bits;
		p->hp = hp;
	}
}

static void compact_edges(struct walker *w);

/* ---- the pipeline (struct pipe) ---- */

// Processing thread, waiting (where its arrays may move, as when an emit
// adds an object on one thread): parked while the resolver needs it to be.
static void pipe_park(struct pipe *p)
{
	unsigned r = __atomic_load_n(&p->req, __ATOMIC_ACQUIRE);
	if (!(r & 1))
		return;
	__atomic_store_n(&p->ack, r, __ATOMIC_RELEASE);
	unsigned spins = 0;
	while (__atomic_load_n(&p->req, __ATOMIC_ACQUIRE) == r)
		wait_step(&spins);
}

// Resolver: the processing thread parked (false if the walk is stopping),
// so that the arrays it reads may move (more objects, more types).
static bool pipe_exclusive(struct pipe *p)
{
	unsigned r = p->req + 1;
	__atomic_store_n(&p->req, r, __ATOMIC_RELEASE);
	unsigned spins = 0;
	while (__atomic_load_n(&p->ack, __ATOMIC_ACQUIRE) != r) {
		if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&p->req, r + 1, __ATOMIC_RELEASE);
			return false;
		}
		wait_step(&spins);
	}
	return true;
}

static void pipe_release(struct pipe *p)
{
	__atomic_store_n(&p->req, p->req + 1, __ATOMIC_RELEASE);
}

enum {
	FAULT_AHEAD = 1 << 15, /* objects (and edges) faulted in ahead of the resolver */
	FAULT_PAGES = 16,      /* pages faulted in at a time */
};

// Faults in the whole pages of elements [*at, to) of @base (@size bytes
// each), from @from at the earliest and at most *budget pages; *at moves on.
static void fault_span(const void *base, size_t size, size_t *at, size_t from, size_t to,
		       size_t *budget)
{
	if (!base || !*budget)
		return;
	if (*at < from)
		*at = from;
	if (*at >= to)
		return;
	uintptr_t b0 = (uintptr_t)base, page = 4096;
	uintptr_t a = (b0 + *at * size) & ~(page - 1), b = (b0 + to * size) & ~(page - 1);
	if (b <= a)
		return;
	if ((b - a) / page > *budget)
		b = a + *budget * page;
	// (Without writing: the resolver may be filling these pages.)
	if (!ph_prefault_pages((void *)a, b - a)) {
		*budget = 0; // (a kernel before 5.14: nothing done, nothing to do)
		return;
	}
	*budget -= (b - a) / page;
	*at = (b - b0) / size;
}

// FAULT_AHEAD elements past @at, within the @cap an array has room for.
static inline size_t fault_end(size_t at, size_t cap)
{
	return at + FAULT_AHEAD < cap ? at + FAULT_AHEAD : cap;
}

// Processing thread, while it waits for the resolver (it adds most objects
// early in the walk, and the processing thread waits for it then): faults
// in the next pages of the arrays the resolver fills, a few at a time. A
// fault costs the resolver 1-2 us a page otherwise (1M objects: 13,000
// pages). Their base pointers move only while this thread is parked
// (pipe_exclusive()). True if it faulted anything in.
static bool fault_ahead(struct walker *w)
{
	struct pipe *p = w->pipe;
	struct ph_snapshot *s = w->snap;
	size_t budget = FAULT_PAGES;
	size_t n = __atomic_load_n(&p->published, __ATOMIC_ACQUIRE);
	size_t to = fault_end(n, w->ocapobj);
	fault_span(s->objects, sizeof(*s->objects), &p->fa_objects, n, to, &budget);
	fault_span(s->text, sizeof(*s->text), &p->fa_objects_text, n, to, &budget);
	if (p->fa_gcn_base != w->gcn) {
		p->fa_gcn_base = w->gcn;
		p->fa_gcn = 0;
	}
	size_t g = __atomic_load_n(&p->published_gcn, __ATOMIC_RELAXED);
	fault_span(w->gcn, sizeof(*w->gcn), &p->fa_gcn, g, fault_end(g, w->capgcn), &budget);
	fault_span(s->edges, sizeof(*s->edges), &p->fa_edges, p->done_seen,
		   fault_end(s->nedges, w->capedges), &budget);
	// (Only pages faulted in count: otherwise the caller's wait goes on as
	// before, with its pauses and, when long, its sleeps.)
	return budget < FAULT_PAGES && ph_prefault_supported();
}

static inline void pipe_publish_tail(struct pipe *p)
{
	__atomic_store_n(&p->tail, p->tail_local, __ATOMIC_RELEASE);
}

// Processing thread: edge @e to @target for the resolver.
static inline void pipe_push(struct walker *w, uint64_t target, uint32_t e, uint32_t label)
{
	struct pipe *p = w->pipe;
	unsigned t = p->tail_local;
	if (t - p->done_seen >= RING) {
		pipe_publish_tail(p);
		uint64_t t0 = now_ns();
		unsigned spins = 0;
		while (t - (p->done_seen = __atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) >= RING) {
			pipe_park(p);
			if (!fault_ahead(w))
				wait_step(&spins);
		}
		p->wait_ns += now_ns() - t0;
	}
	p->ring[t & (RING - 1)] = (struct edge_msg){target, e, label};
	p->tail_local = ++t;
	if (!(t & (RING_PUBLISH - 1)))
		pipe_publish_tail(p);
}

// Processing thread: waits until every edge added is resolved and the
// resolver idles; everything it wrote is then visible here.
static void quiesce(struct walker *w)
{
	struct pipe *p = w->pipe;
	if (tl_view || p->done_seen == p->tail_local)
		return; // (never on the resolver itself)
	pipe_publish_tail(p);
	uint64_t t0 = now_ns();
	unsigned spins = 0;
	while ((p->done_seen = __atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) != p->tail_local) {
		pipe_park(p);
		if (!fault_ahead(w))
			wait_step(&spins);
	}
	p->wait_ns += now_ns() - t0;
}

// Processing thread: the number of objects it may process, more than @i
// unless every edge is resolved and no object is left.
static size_t pipe_objects(struct walker *w, size_t i)
{
	struct pipe *p = w->pipe;
	pipe_publish_tail(p);
	uint64_t t0 = now_ns();
	unsigned spins = 0;
	for (;;) {
		size_t n = __atomic_load_n(&p->published, __ATOMIC_ACQUIRE);
		if (n > i) {
			p->wait_ns += now_ns() - t0;
			return n;
		}
		if ((p->done_seen = __atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) == p->tail_local) {
			p->wait_ns += now_ns() - t0;
			return w->snap->nobjects; // (stable: the resolver idles)
		}
		pipe_park(p);
		if (!fault_ahead(w))
			wait_step(&spins);
	}
}

static void hint(struct walker *w, struct pending *p);

// The resolver thread: the edges in the order added, each hinted
// RESOLVE_AHEAD edges before it is resolved.
static void *resolver(void *arg)
{
	struct walker *w = arg;
	struct pipe *p = w->pipe;
	tl_view = p->view_b;
	__atomic_store_n(&p->tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	// (The snapshot's arrays and counts are read here only after the
	// processing thread has published edges: it may be adding objects
	// itself now, from the roots' closure. pipe_start() set the counts.)
	struct ph_edge *edges = NULL; // (moved only while this thread idles)
	// The edges hinted, not resolved yet (the ring is not written here).
	struct pending ahead[LOOK];
	unsigned head = 0, avail = 0, hinted = 0, synced = 0;
	for (;;) {
		if (head == avail) {
			// Idle: the counts into the snapshot, then the processing
			// thread may look up (and add) objects itself. (Only after
			// edges resolved: the processing thread waited for them, and
			// may be writing the counts otherwise.)
			// (Not before the first edge: pipe_start() published the
			// counts, and the processing thread may be adding objects
			// itself.)
			if (head != synced) {
				w->snap->nobjects = p->nobjects;
				w->snap->gc_objects += p->gc_objects;
				p->gc_objects = 0;
				if (p->limit_hit)
					note_object_limit(w);
				synced = head;
				__atomic_store_n(&p->published, p->nobjects, __ATOMIC_RELEASE);
				__atomic_store_n(&p->published_gcn, w->ngcn, __ATOMIC_RELAXED);
				__atomic_store_n(&p->done, head, __ATOMIC_RELEASE);
			}
			uint64_t t0 = now_ns();
			unsigned spins = 0;
			while ((avail = __atomic_load_n(&p->tail, __ATOMIC_ACQUIRE)) == head) {
				if (__atomic_load_n(&p->stop, __ATOMIC_ACQUIRE))
					return NULL;
				wait_step(&spins);
			}
			p->idle_ns += now_ns() - t0;
			// While this thread idled, the processing thread may have
			// added objects itself (the GC lists' neighbours) and moved
			// the arrays to make room for them.
			p->nobjects = w->snap->nobjects;
			p->objects = w->snap->objects;
			p->text = w->snap->text;
		}
		if (head == hinted)
			edges = w->snap->edges;
		for (; hinted != avail && hinted - head < LOOK; hinted++) {
			const struct edge_msg *m = &p->ring[hinted & (RING - 1)];
			struct pending *a = &ahead[hinted & (LOOK - 1)];
			*a = (struct pending){m->addr, m->edge, m->label, NULL, NULL};
			hint(w, a);
		}
		const struct pending *a = &ahead[head++ & (LOOK - 1)];
		edges[a->edge] = (struct ph_edge){resolve_entry(w, a), a->label};
		if (!(head & 15) && head != avail) {
			// (Not when caught up: done == tail must mean idle, with
			// the counts in the snapshot; the idle branch says it next.)
			__atomic_store_n(&p->published, p->nobjects, __ATOMIC_RELEASE);
			__atomic_store_n(&p->published_gcn, w->ngcn, __ATOMIC_RELAXED);
			__atomic_store_n(&p->done, head, __ATOMIC_RELEASE);
			if (__atomic_load_n(&p->stop, __ATOMIC_RELAXED))
				return NULL;
			if (avail - head < LOOK)
				avail = __atomic_load_n(&p->tail, __ATOMIC_ACQUIRE);
		}
	}
}

// Adds an edge to @target from the object being processed. The edge's place
// is taken now (edges stay in order); its target is looked up PENDING emits
// later, after hint() has had time to bring the memory in. Edges to what is
// not an object are removed by remove_dead_edges().
static void emit(struct walker *w, uint64_t target, uint32_t label)
{
	if (!target)
		return;
	struct ph_snapshot *s = w->snap;
	if (s->nedges == w->capedges) {
		resolve_pending(w); // (the resolver writes edges' targets)
		stop_prefault(w);
		if (__atomic_load_n(&w->low_memory, __ATOMIC_ACQUIRE)) {
			// Memory runs low (opt->memory_low): no more room for edges
			// either (a list of millions of references to objects
			// already found would take it all); the resolver idles.
			note_object_limit(w);
			return;
		}
		size_t nc = w->capedges ? w->capedges * 2 : 262144;
		struct ph_edge *e = nc <= UINT32_MAX ? reallocarray(s->edges, nc, sizeof(*e)) : NULL;
		if (!e) {
			set_nomem(w);
			return;
		}
		s->edges = e;
		w->capedges = nc;
	}
	if (w->pipe) {
		// (The edge is the resolver's to write: its line is not shared.)
		size_t dead = __atomic_load_n(&w->dead_edges, __ATOMIC_RELAXED);
		if (dead >= DEAD_EDGES_COMPACT && dead * 2 > s->nedges)
			compact_edges(w);
		w->last_target = target;
		pipe_push(w, target, (uint32_t)s->nedges++, label);
		return;
	}
	if (w->ptail - w->phead == w->pwindow) {
		if (w->bounded)
			resolve_batch(w);
		else
			resolve_oldest(w);
	}
	if (w->dead_edges >= DEAD_EDGES_COMPACT && w->dead_edges * 2 > s->nedges)
		compact_edges(w);
	uint32_t e = (uint32_t)s->nedges++;
	w->last_target = target;
	s->edges[e] = (struct ph_edge){PH_NONE, label};
	struct pending *p = &w->pend[w->ptail++ & (PENDING_BOUNDED - 1)];
	*p = (struct pending){target, e, label, NULL, NULL};
	if (!w->bounded)
		hint(w, p);
}

// Drops the dead edges of the objects processed so far, and of the current
// one (@w->cur) up to now, before the walk goes on: garbage that claims many
// items must not hold memory for edges that lead nowhere.
static void compact_edges(struct walker *w)
{
	resolve_pending(w);
	struct ph_snapshot *s = w->snap;
	uint32_t out = 0;
	for (size_t i = 0; i <= w->cur; i++) {
		uint32_t from = s->edge_start[i];
		uint32_t to = i < w->cur ? s->edge_start[i + 1] : (uint32_t)s->nedges;
		s->edge_start[i] = out;
		for (uint32_t e = from; e < to; e++)
			if (s->edges[e].target != PH_NONE)
				s->edges[out++] = s->edges[e];
	}
	s->nedges = out;
	w->dead_edges = 0;
	w->owners_stale = w->nowners; // (their edges moved)
	w->last_target = 0;
}

// Drops the edges whose target turned out not to be an object, once every
// object is processed (compact_edges() up to the last one).
static void remove_dead_edges(struct walker *w)
{
	struct ph_snapshot *s = w->snap;
	if (!w->dead_edges || !s->nobjects)
		return;
	w->cur = s->nobjects - 1;
	compact_edges(w);
	s->edge_start[s->nobjects] = (uint32_t)s->nedges;
}

static inline void emit_field(struct walker *w, uint64_t target, enum ph_field f)
{
	emit(w, target, PH_EDGE(PH_EDGE_FIELD, f));
}

static void add_owner(struct walker *w, uint64_t dict, uint32_t owner, bool module)
{
	if (!dict)
		return;
	if (w->nowners == w->capowners) {
		struct ownership *n = grow_array(w, w->owners, &w->capowners, sizeof(*n), 4096);
		if (!n)
			return;
		w->owners = n;
	}
	// (The edge added last, if to this dict: by this object, just before.)
	size_t ne = w->snap->nedges;
	uint32_t edge = ne && w->last_target == dict ? (uint32_t)(ne - 1) : PH_NONE;
	w->owners[w->nowners++] = (struct ownership){dict, owner, edge, module};
}

// Appends @len bytes of @text and a NUL to the pool *@pool (*@used bytes of
// *@cap; @first the first time): their offset + 1, or 0 (a pool of 4 GiB,
// or out of memory: the walk fails).
static uint32_t pool_add(struct walker *w, char **pool, size_t *used, size_t *cap, size_t first,
			 const char *text, size_t len)
{
	if (*used + len + 1 > UINT32_MAX - 1)
		return 0;
	if (*used + len + 1 > *cap) {
		size_t nc = *cap ? *cap * 2 : first;
		while (nc < *used + len + 1)
			nc *= 2;
		char *n = realloc(*pool, nc);
		if (!n) {
			set_nomem(w);
			return 0;
		}
		*pool = n;
		*cap = nc;
	}
	memcpy(*pool + *used, text, len);
	(*pool)[*used + len] = '\0';
	uint32_t at = (uint32_t)*used + 1;
	*used += len + 1;
	return at;
}

static void set_text(struct walker *w, uint32_t idx, const char *text, size_t len)
{
	struct ph_snapshot *s = w->snap;
	uint32_t at = pool_add(w, &s->strings, &s->strings_len, &w->capstrings, 1 << 20, text, len);
	if (at)
		s->text[idx] = at;
}

static void add_weak(struct walker *w, uint32_t from, uint64_t to)
{
	if (!to)
		return;
	if (w->nweak == w->capweak) {
		struct weak_pair *n = grow_array(w, w->weak, &w->capweak, sizeof(*n), 1024);
		if (!n)
			return;
		w->weak = n;
	}
	w->weak[w->nweak++] = (struct weak_pair){from, to};
}

static struct ph_root *add_root(struct walker *w, enum ph_root_kind kind, uint32_t object)
{
	struct ph_snapshot *s = w->snap;
	if (s->nroots == w->caproots) {
		struct ph_root *n = grow_array(w, s->roots, &w->caproots, sizeof(*n), 64);
		if (!n)
			return NULL;
		s->roots = n;
	}
	struct ph_root *r = &s->roots[s->nroots++];
	*r = (struct ph_root){.kind = kind, .object = object, .edge_start = (uint32_t)s->nroot_edges,
			      .edge_end = (uint32_t)s->nroot_edges, .code = PH_NONE, .line = -1};
	return r;
}

static void add_root_edge(struct walker *w, uint64_t target, uint32_t label)
{
	struct ph_snapshot *s = w->snap;
	uint32_t idx = intern(w, target, 0);
	if (idx == PH_NONE)
		return;
	if (s->nroot_edges == w->caproot_edges) {
		struct ph_edge *n = grow_array(w, s->root_edges, &w->caproot_edges, sizeof(*n), 1024);
		if (!n)
			return;
		s->root_edges = n;
	}
	s->root_edges[s->nroot_edges++] = (struct ph_edge){idx, label};
	s->roots[s->nroots - 1].edge_end = (uint32_t)s->nroot_edges;
}

enum { CHUNK = 512 }; /* words read at once: arrays are walked in chunks */

static inline uint64_t stackref(const struct walker *w, uint64_t bits);

// The @len bytes of words at @addr: in place in the cache when it holds them
// (no copy: the walk reads them once), else copied into @buf; NULL if
// unreadable. Valid until the next ph_mem_safe_point().
static const uint64_t *words_at(struct walker *w, uint64_t addr, size_t len, uint64_t *buf)
{
	if (!(addr & 7)) {
		const uint64_t *p = ph_mem_tlb_ptr(M(w), addr, len);
		if (p)
			return p;
	}
	return ph_mem_read(M(w), addr, buf, len) ? buf : NULL;
}

// Emits the @n pointers of the array at @addr, read a chunk at a time (a
// garbage count costs reads, never a large allocation), labelled @label0 plus
// their index; @stackrefs unwraps 3.14 stack references. Stops at the first
// unreadable chunk.
static void emit_words_from(struct walker *w, uint64_t addr, uint64_t n, uint32_t label0,
			    bool stackrefs)
{
	if (n > MAX_ITEMS) {
		note_unreadable(w);
		return;
	}
	uint64_t chunk[CHUNK];
	for (uint64_t i = 0; i < n; i += CHUNK) {
		uint64_t m = n - i < CHUNK ? n - i : CHUNK;
		const uint64_t *p = words_at(w, addr + i * 8, m * 8, chunk);
		if (!p) {
			note_unreadable(w);
			return;
		}
		for (uint64_t j = 0; j < m; j++)
			emit(w, stackrefs ? stackref(w, p[j]) : p[j], label0 + (uint32_t)(i + j));
	}
}

// The @n words at @addr, each an edge labelled @kind with its index.
static void emit_words(struct walker *w, uint64_t addr, uint64_t n, enum ph_edge_kind kind,
		       bool stackrefs)
{
	emit_words_from(w, addr, n, PH_EDGE(kind, 0), stackrefs);
}

static void emit_array(struct walker *w, uint64_t addr, uint64_t n, enum ph_edge_kind kind)
{
	emit_words(w, addr, n, kind, false);
}

/* ---- collections.deque ---- */

enum { DEQUE_BLOCKLEN = 64 }; /* BLOCKLEN, the same since 3.5 */

// The items of a deque, block by block from its left end (as deque_traverse
// visits them), labelled by their index; returns deque.__sizeof__: the
// basic size plus one block per BLOCKLEN slots from leftindex on.
static uint64_t walk_deque(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n,
			   uint64_t basicsize)
{
	const struct ph_layout *L = w->L;
	uint64_t len = field64(buf, n, w, addr, L->ob_size);
	uint64_t left = field64(buf, n, w, addr, L->deque_leftindex);
	uint64_t b = field64(buf, n, w, addr, L->deque_leftblock);
	if (len > MAX_ITEMS || left >= DEQUE_BLOCKLEN) {
		note_unreadable(w);
		return basicsize;
	}
	uint64_t blocks = (left + len + DEQUE_BLOCKLEN - 1) / DEQUE_BLOCKLEN;
	// The chain of blocks must not loop back (Brent's cycle detection over
	// the links it will follow): a loop would make a garbage length endless.
	uint64_t tortoise = b, hare = b, power = 1, lam = 0;
	for (uint64_t k = 1; k < blocks && hare; k++) {
		if (!rdok(w, hare + (uint64_t)L->dblock_rightlink, &hare) || hare == tortoise) {
			note_unreadable(w);
			return basicsize;
		}
		if (++lam == power) {
			tortoise = hare;
			power *= 2;
			lam = 0;
		}
	}
	uint64_t done = 0;
	for (uint64_t k = 0; k < blocks && done < len; k++) {
		uint64_t from = k ? 0 : left;
		uint64_t m = DEQUE_BLOCKLEN - from < len - done ? DEQUE_BLOCKLEN - from : len - done;
		uint64_t items[DEQUE_BLOCKLEN];
		if (!b || !ph_mem_read_fast(M(w), b + (uint64_t)L->dblock_data + from * 8, items, m * 8)) {
			note_unreadable(w);
			break;
		}
		for (uint64_t j = 0; j < m; j++)
			emit(w, items[j], PH_EDGE(PH_EDGE_INDEX, done + j));
		done += m;
		if (done < len && !rdok(w, b + (uint64_t)L->dblock_rightlink, &b)) {
			note_unreadable(w);
			break;
		}
	}
	return basicsize + blocks * (uint64_t)L->dblock_sizeof;
}

/* ---- str ---- */

// read_str(), and the bytes written (its UTF-8, NULs included) in *@outlen.
static bool read_str_n(struct walker *w, uint64_t addr, char *buf, size_t cap, size_t *outlen);

static bool read_str(struct walker *w, uint64_t addr, char *buf, size_t cap)
{
	size_t n;
	return read_str_n(w, addr, buf, cap, &n);
}

static bool read_str_n(struct walker *w, uint64_t addr, char *buf, size_t cap, size_t *outlen)
{
	const struct ph_layout *L = w->L;
	if (!addr || cap < 2)
		return false;
	uint64_t len;
	uint32_t state;
	if (!rdok(w, addr + (uint64_t)L->ascii_length, &len) ||
	    !ph_mem_read_fast(M(w), addr + (uint64_t)L->ascii_state, &state, 4))
		return false;
	unsigned kind = (state >> 2) & 7;
	bool compact = state & (1 << 5), ascii = state & (1 << 6);
	if (kind != 1 && kind != 2 && kind != 4)
		return false;
	uint64_t data = compact ? addr + (uint64_t)(ascii ? L->ascii_sizeof : L->cu_sizeof)
				: rd64(w, addr + (uint64_t)L->unicode_data);
	if (!data || len > (1u << 30))
		return false;
	size_t o = 0;
	if (kind == 1 && ascii && cap > 5) {
		// Compact ASCII: the text as it is, when it lies in one block.
		size_t take = len < cap - 5 ? (size_t)len : cap - 5;
		const uint8_t *p = take ? ph_mem_ptr_fast(M(w), data, take) : NULL;
		if (p) {
			uint8_t high = 0;
			for (size_t j = 0; j < take; j++)
				high |= p[j];
			if (!(high & 0x80)) {
				memcpy(buf, p, take);
				buf[take] = '\0';
				*outlen = take;
				return true;
			}
		}
	}
	uint8_t chunk[256];
	for (uint64_t i = 0; i < len && o + 5 < cap;) {
		size_t nch = sizeof(chunk) / kind;
		if (nch > len - i)
			nch = (size_t)(len - i);
		if (!ph_mem_read_fast(M(w), data + i * kind, chunk, nch * kind))
			return false;
		for (size_t j = 0; j < nch && o + 5 < cap; j++) {
			uint32_t c = kind == 1 ? chunk[j]
				     : kind == 2 ? (uint32_t)chunk[2 * j] | (uint32_t)chunk[2 * j + 1] << 8
						 : (uint32_t)chunk[4 * j] | (uint32_t)chunk[4 * j + 1] << 8 |
							   (uint32_t)chunk[4 * j + 2] << 16 |
							   (uint32_t)chunk[4 * j + 3] << 24;
			if (c < 0x80) {
				buf[o++] = (char)c;
			} else if (c < 0x800) {
				buf[o++] = (char)(0xc0 | c >> 6);
				buf[o++] = (char)(0x80 | (c & 0x3f));
			} else if (c < 0x10000) {
				buf[o++] = (char)(0xe0 | c >> 12);
				buf[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
				buf[o++] = (char)(0x80 | (c & 0x3f));
			} else {
				buf[o++] = (char)(0xf0 | ((c >> 18) & 7));
				buf[o++] = (char)(0x80 | ((c >> 12) & 0x3f));
				buf[o++] = (char)(0x80 | ((c >> 6) & 0x3f));
				buf[o++] = (char)(0x80 | (c & 0x3f));
			}
		}
		i += nch;
	}
	buf[o] = '\0';
	*outlen = o;
	return true;
}

/* ---- values' hashes (--duplicates) ---- */

static inline uint64_t value_mix(uint64_t h, uint64_t v)
{
	h ^= v * 0x9e3779b97f4a7c15ull;
	h = h << 27 | h >> 37;
	return h * 0x87c37b91114253d5ull + 0x52dce729u;
}

// A hash of the @len bytes at @data, the value of a str of @width bytes per
// character or of a bytes (@width 0); false if they cannot all be read.
// (Four lanes, each every fourth word: about four times as fast as one on
// long values; read in place from the copy.)
static bool hash_value(struct walker *w, uint64_t data, uint64_t len, unsigned width,
		       uint64_t *ret)
{
	uint64_t l[4] = {value_mix(0x243f6a8885a308d3ull ^ width, len), 0x13198a2e03707344ull,
			 0xa4093822299f31d0ull, 0x082efa98ec4e6c89ull};
	uint8_t chunk[4096];
	for (uint64_t at = 0; at < len;) {
		size_t n = len - at < sizeof(chunk) ? (size_t)(len - at) : sizeof(chunk);
		// (With a bounded cache, past it: a long value would push out
		// what the walk needs next.)
		const uint8_t *p = w->bounded ? NULL : ph_mem_ptr_fast(M(w), data + at, n);
		if (!p && !(w->bounded ? ph_mem_peek_range(M(w), data + at, chunk, n)
				       : ph_mem_read(M(w), data + at, chunk, n)))
			return false;
		if (!p)
			p = chunk;
		size_t i = 0;
		for (; i + 32 <= n; i += 32) {
			l[0] = value_mix(l[0], ph_load_u64(p + i));
			l[1] = value_mix(l[1], ph_load_u64(p + i + 8));
			l[2] = value_mix(l[2], ph_load_u64(p + i + 16));
			l[3] = value_mix(l[3], ph_load_u64(p + i + 24));
		}
		for (; i + 8 <= n; i += 8) // (the last chunk's last words, then bytes)
			l[0] = value_mix(l[0], ph_load_u64(p + i));
		if (i < n) {
			uint64_t t = 0;
			memcpy(&t, p + i, n - i);
			l[0] = value_mix(l[0], t ^ (uint64_t)(n - i) << 56);
		}
		at += n;
	}
	uint64_t h = value_mix(value_mix(value_mix(l[0], l[1]), l[2]), l[3]);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	*ret = h;
	return true;
}

// Keeps the hash of object @idx's value, with @preview (@len bytes: a
// str's UTF-8, a bytes' data) escaped as repr() shows it.
static void note_value_hash(struct walker *w, uint32_t idx, uint64_t hash, uint64_t length,
			    const uint8_t *preview, size_t len, bool bytes)
{
	struct ph_snapshot *s = w->snap;
	char esc[PH_VALUE_PREVIEW * 4 + 1];
	ph_repr_escape(preview, len, bytes, PH_VALUE_PREVIEW, esc, sizeof(esc));
	size_t elen = strlen(esc);
	if (s->nvalue_hashes == w->caphashes) {
		struct ph_value_hash *n =
			grow_array(w, s->value_hashes, &w->caphashes, sizeof(*n), 1024);
		if (!n)
			return;
		s->value_hashes = n;
	}
	uint32_t at = pool_add(w, &s->value_previews, &s->value_previews_len, &w->capprevs, 1 << 16,
			       esc, elen);
	if (!at && nomem_failed(w))
		return;
	s->value_hashes[s->nvalue_hashes++] = (struct ph_value_hash){idx, at, hash, length};
}

// A str's value, by its hash (one that keeps no text, or not all of it).
static void hash_str(struct walker *w, uint32_t idx, uint64_t addr, const uint8_t *buf, size_t n)
{
	const struct ph_layout *L = w->L;
	uint64_t len = field64(buf, n, w, addr, L->ascii_length);
	uint32_t state = (uint32_t)field64(buf, n, w, addr, L->ascii_state);
	unsigned kind = (state >> 2) & 7;
	bool compact = state & (1 << 5), ascii = state & (1 << 6);
	if ((kind != 1 && kind != 2 && kind != 4) || len > MAX_VALUE_BYTES / kind)
		return;
	uint64_t data = compact ? addr + (uint64_t)(ascii ? L->ascii_sizeof : L->cu_sizeof)
				: field64(buf, n, w, addr, L->unicode_data);
	uint64_t h;
	char text[PH_VALUE_PREVIEW * 4 + 8];
	size_t tlen;
	if (!data || !hash_value(w, data, len * kind, kind, &h) ||
	    !read_str_n(w, addr, text, sizeof(text), &tlen))
		return;
	note_value_hash(w, idx, h, len, (const uint8_t *)text, tlen, false);
}

static void hash_bytes(struct walker *w, uint32_t idx, uint64_t addr, uint64_t len)
{
	uint64_t data = addr + (uint64_t)w->L->bytes_sval, h;
	uint8_t head[PH_VALUE_PREVIEW];
	size_t hlen = len < sizeof(head) ? (size_t)len : sizeof(head);
	if (len > MAX_VALUE_BYTES || !hash_value(w, data, len, 0, &h) ||
	    !ph_mem_read_fast(M(w), data, head, hlen))
		return;
	note_value_hash(w, idx, h, len, head, hlen, true);
}

// --referrers, --threads, --tasks (opt->keep_values): a float's value as
// its text, PH_FLOAT_TEXT_TAG and its 64 bits in 16 hex digits (ph_graph_value()
// writes its repr(); formatting it here would cost a microsecond a float).
// Its ob_fval is its last field: PyFloatObject is PyObject_HEAD and a double.
static void keep_float(struct walker *w, uint32_t idx, uint64_t addr, const uint8_t *buf,
		       size_t n, const struct tinfo *ti)
{
	if (ti->basicsize < 16)
		return;
	uint64_t bits, off = ti->basicsize - 8;
	if (off + 8 <= n)
		memcpy(&bits, buf + off, 8);
	else if (!ph_mem_read_fast(M(w), addr + off, &bits, 8))
		return;
	char text[18];
	text[0] = PH_FLOAT_TEXT_TAG;
	for (int i = 0; i < 16; i++)
		text[1 + i] = "0123456789abcdef"[(bits >> (60 - 4 * i)) & 15];
	set_text(w, idx, text, 17);
}

// The same for a bytes object: its repr() (b'...', its first
// PH_VALUE_PREVIEW bytes, "…" before the closing quote when cut).
static void keep_bytes(struct walker *w, uint32_t idx, uint64_t addr, uint64_t len)
{
	uint8_t head[PH_VALUE_PREVIEW];
	size_t hlen = len < sizeof(head) ? (size_t)len : sizeof(head);
	if (w->L->bytes_sval < 0 ||
	    (hlen && !ph_mem_read_fast(M(w), addr + (uint64_t)w->L->bytes_sval, head, hlen)))
		return;
	char text[PH_VALUE_PREVIEW * 4 + 8];
	size_t o = ph_repr_bytes(head, hlen, hlen < len, text, sizeof(text));
	set_text(w, idx, text, o);
}

// The same for a bytearray: "bytearray(b'...')" of its first bytes, from
// where its data starts (ob_start: deleting from the front moves it).
static void keep_bytearray(struct walker *w, uint32_t idx, uint64_t addr, int64_t len)
{
	uint8_t head[PH_VALUE_PREVIEW];
	size_t hlen = len < (int64_t)sizeof(head) ? (size_t)len : sizeof(head);
	uint64_t start = 0;
	if (len < 0 || w->L->bytearray_start < 0 ||
	    (len && (!ph_mem_read_fast(M(w), addr + (uint64_t)w->L->bytearray_start, &start, 8) ||
		     !ph_mem_read_fast(M(w), start, head, hlen))))
		return;
	char text[PH_VALUE_PREVIEW * 4 + 24];
	size_t o = (size_t)snprintf(text, sizeof(text), "bytearray(");
	o += ph_repr_bytes_as(head, hlen, hlen < (uint64_t)len, true, text + o, sizeof(text) - o - 2);
	text[o++] = ')';
	text[o] = '\0';
	set_text(w, idx, text, o);
}

// The same for datetime's dates, times, datetimes and timedeltas: their
// repr() ("datetime.datetime(2026, 12, 7, 15, 4, 5)"; a time zone as
// "tzinfo=…"), from Include/datetime.h's structs: after the object's header
// a hash, then a timedelta's days, seconds, microseconds (ints); the others'
// hastzinfo, then their data bytes (a year in two, big-endian; microseconds
// in three), then a time's or datetime's fold.
static void keep_datetime(struct walker *w, uint32_t idx, uint64_t addr, uint8_t kind)
{
	uint64_t h = (uint64_t)w->L->ob_type + 8;
	uint8_t b[24];
	static const size_t bytes[] = {[DT_DATE] = 5, [DT_DATETIME] = 12, [DT_TIME] = 8,
				       [DT_DELTA] = 12};
	if (!ph_mem_read_fast(M(w), addr + h + 8, b, bytes[kind]))
		return;
	char text[128];
	int n;
	if (kind == DT_DELTA) {
		int32_t v[3];
		memcpy(v, b, sizeof(v));
		static const char *const unit[] = {"days", "seconds", "microseconds"};
		n = snprintf(text, sizeof(text), "datetime.timedelta(");
		bool any = false;
		for (int i = 0; i < 3; i++)
			if (v[i]) {
				n += snprintf(text + n, sizeof(text) - (size_t)n, "%s%s=%d", any ? ", " : "",
					      unit[i], v[i]);
				any = true;
			}
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s)", any ? "" : "0");
	} else {
		bool tz = b[0];
		const uint8_t *d = b + 1;
		unsigned fold = 0, hour = 0, minute = 0, second = 0, us = 0;
		if (kind == DT_DATE) {
			n = snprintf(text, sizeof(text), "datetime.date(%u, %u, %u)",
				     (unsigned)d[0] << 8 | d[1], d[2], d[3]);
			set_text(w, idx, text, (size_t)n);
			return;
		}
		const uint8_t *c = kind == DT_DATETIME ? d + 4 : d; // hour, minute, second, us
		hour = c[0], minute = c[1], second = c[2];
		us = (unsigned)c[3] << 16 | (unsigned)c[4] << 8 | c[5];
		fold = c[6];
		if (kind == DT_DATETIME)
			n = snprintf(text, sizeof(text), "datetime.datetime(%u, %u, %u, %u, %u",
				     (unsigned)d[0] << 8 | d[1], d[2], d[3], hour, minute);
		else
			n = snprintf(text, sizeof(text), "datetime.time(%u, %u", hour, minute);
		if (second || us)
			n += snprintf(text + n, sizeof(text) - (size_t)n, ", %u", second);
		if (us)
			n += snprintf(text + n, sizeof(text) - (size_t)n, ", %u", us);
		n += snprintf(text + n, sizeof(text) - (size_t)n, "%s%s)", fold ? ", fold=1" : "",
			      tz ? ", tzinfo=…" : "");
	}
	if (n > 0 && (size_t)n < sizeof(text))
		set_text(w, idx, text, (size_t)n);
}

// The references of datetime's objects, which have no tp_traverse (the
// gc module sees none): a datetime's or time's tzinfo (when it has one:
// after its hash, hastzinfo, data bytes and fold), a timezone's offset (a
// timedelta) and name (a str or NULL).
static void walk_datetime(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n,
			  uint8_t kind)
{
	uint64_t h = (uint64_t)w->L->ob_type + 8;
	if (kind == DT_TIMEZONE) {
		emit_field(w, field64(buf, n, w, addr, (int32_t)h), PH_F_TZ_OFFSET);
		emit_field(w, field64(buf, n, w, addr, (int32_t)h + 8), PH_F_TZ_NAME);
		return;
	}
	uint8_t hastz = 0;
	if (!ph_mem_read_fast(M(w), addr + h + 8, &hastz, 1) || !hastz)
		return;
	uint64_t data = kind == DT_DATETIME ? 10 : 6; // _PyDateTime_*_DATASIZE
	uint64_t off = (h + 8 + 1 + data + 1 + 7) & ~7ull;
	emit_field(w, field64(buf, n, w, addr, (int32_t)off), PH_F_TZINFO);
}

// A part of a complex's repr(): a float's repr() without the ".0" it adds
// to an integral value, with its sign when @sign ("+2", "-0", "+nan").
static size_t complex_part(double v, bool sign, char *out, size_t cap)
{
	char f[40];
	ph_float_repr(v, f, sizeof(f));
	size_t n = strlen(f);
	if (n > 2 && !strcmp(f + n - 2, ".0"))
		f[n -= 2] = '\0';
	int k = snprintf(out, cap, "%s%s", sign && f[0] != '-' ? "+" : "", f);
	return k > 0 && (size_t)k < cap ? (size_t)k : 0;
}

// A complex's repr(), as complex_repr() writes it: "(1+2j)", "2j" when the
// real part is +0.0, "(-0-1j)".
static void keep_complex(struct walker *w, uint32_t idx, uint64_t addr)
{
	double v[2];
	if (!ph_mem_read_fast(M(w), addr + (uint64_t)w->L->ob_type + 8, v, sizeof(v)))
		return;
	char re[48], im[48], text[112];
	int n;
	if (v[0] == 0.0 && !signbit(v[0])) {
		if (!complex_part(v[1], false, im, sizeof(im)))
			return;
		n = snprintf(text, sizeof(text), "%sj", im);
	} else {
		if (!complex_part(v[0], false, re, sizeof(re)) ||
		    !complex_part(v[1], true, im, sizeof(im)))
			return;
		n = snprintf(text, sizeof(text), "(%s%sj)", re, im);
	}
	if (n > 0 && (size_t)n < sizeof(text))
		set_text(w, idx, text, (size_t)n);
}

// A decimal.Decimal's repr() ("Decimal('12.50')", "Decimal('1.2E+7')"), from
// _decimal's PyDecObject (Modules/_decimal: after the object's header a hash,
// then libmpdec's mpd_t: flags, exponent, digits, len, alloc, data, then its
// own four words) with 64-bit words of 19 decimal digits; at most
// DEC_WORDS words (76 digits) of coefficient, else none.
static void keep_decimal(struct walker *w, uint32_t idx, uint64_t addr)
{
	uint64_t h = (uint64_t)w->L->ob_type + 8, m[6];
	if (!ph_mem_read_fast(M(w), addr + h + 8, m, sizeof(m)))
		return;
	uint8_t flags = (uint8_t)m[0];
	int64_t exp = (int64_t)m[1], digits = (int64_t)m[2], len = (int64_t)m[3];
	char c[DEC_WORDS * 19 + 2];
	size_t nc = 0;
	if (flags & (MPD_INF | MPD_NAN | MPD_SNAN)) {
		if (flags & MPD_INF)
			len = 0;
	} else if (len < 1 || len > DEC_WORDS || digits < 1 || digits > len * 19) {
		return;
	}
	if (len > 0) {
		uint64_t wd[DEC_WORDS];
		if (len > DEC_WORDS || !m[5] ||
		    !ph_mem_read_fast(M(w), m[5], wd, (size_t)len * 8))
			return;
		for (int64_t i = len; i-- > 0;) {
			char part[24];
			if (wd[i] >= 10000000000000000000ull)
				return;
			int k = snprintf(part, sizeof(part), nc ? "%019llu" : "%llu",
					 (unsigned long long)wd[i]);
			if (!nc && !strcmp(part, "0") && i)
				continue; // (a leading word of zeros)
			memcpy(c + nc, part, (size_t)k);
			nc += (size_t)k;
		}
	}
	c[nc] = '\0';
	char text[DEC_WORDS * 19 + 64];
	const char *sign = flags & MPD_NEG ? "-" : "";
	int n;
	if (flags & MPD_INF) {
		n = snprintf(text, sizeof(text), "Decimal('%sInfinity')", sign);
	} else if (flags & (MPD_NAN | MPD_SNAN)) {
		// (A NaN's payload, when it has one.)
		n = snprintf(text, sizeof(text), "Decimal('%s%s%s')", sign,
			     flags & MPD_SNAN ? "sNaN" : "NaN", strcmp(c, "0") ? c : "");
	} else {
		// The decimal module's to-scientific-string: plain when the
		// exponent is at most 0 and the adjusted one at least -6.
		int64_t adjusted = exp + (int64_t)nc - 1;
		if (exp <= 0 && adjusted >= -6) {
			int64_t point = (int64_t)nc + exp; // digits before the point
			if (!exp)
				n = snprintf(text, sizeof(text), "Decimal('%s%s')", sign, c);
			else if (point > 0)
				n = snprintf(text, sizeof(text), "Decimal('%s%.*s.%s')", sign, (int)point,
					     c, c + point);
			else // (at most 6 zeros after the point: adjusted >= -6)
				n = snprintf(text, sizeof(text), "Decimal('%s0.%.*s%s')", sign,
					     (int)-point, "000000", c);
		} else {
			n = snprintf(text, sizeof(text), "Decimal('%s%c%s%sE%+lld')", sign, c[0],
				     nc > 1 ? "." : "", c + 1, (long long)adjusted);
		}
	}
	if (n > 0 && (size_t)n < sizeof(text))
		set_text(w, idx, text, (size_t)n);
}

// The same for an int of more than two 30-bit digits (up to
// INT_VALUE_DIGITS: 63 decimal digits; shorter ones always keep theirs):
// its decimal digits, by division by 10^9 over its digits.
enum { INT_VALUE_DIGITS = 7 };
static void keep_int(struct walker *w, uint32_t idx, uint64_t digits, unsigned n, bool negative)
{
	uint32_t d[INT_VALUE_DIGITS];
	if (!n || n > INT_VALUE_DIGITS || !ph_mem_read_fast(M(w), digits, d, n * 4))
		return;
	for (unsigned i = 0; i < n; i++)
		d[i] &= 0x3fffffff;
	uint32_t chunk[INT_VALUE_DIGITS + 2]; // base 10^9, least significant first
	unsigned nc = 0, top = n;
	while (top && nc < sizeof(chunk) / sizeof(chunk[0])) {
		uint64_t rem = 0;
		for (unsigned i = top; i-- > 0;) {
			uint64_t cur = rem << 30 | d[i];
			d[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		chunk[nc++] = (uint32_t)rem;
		while (top && !d[top - 1])
			top--;
	}
	if (top)
		return; // (cannot be: 7 digits are under 10^64)
	char text[INT_VALUE_DIGITS * 10 + 4];
	int o = snprintf(text, sizeof(text), "%s%u", negative ? "-" : "", nc ? chunk[nc - 1] : 0);
	for (unsigned i = nc - 1; nc && i-- > 0;)
		o += snprintf(text + o, sizeof(text) - (size_t)o, "%09u", chunk[i]);
	set_text(w, idx, text, (size_t)o);
}

static int by_object(const void *a, const void *b);

// Lines by object, then depth (an object's own line, depth PH_NONE, last).
static int by_object_depth(const void *a, const void *b)
{
	const struct ph_obj_line *x = a, *y = b;
	if (x->object != y->object)
		return x->object < y->object ? -1 : 1;
	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

// The values' hashes by object index, each once.
static void sort_value_hashes(struct ph_snapshot *s)
{
	if (s->nvalue_hashes)
		qsort(s->value_hashes, s->nvalue_hashes, sizeof(*s->value_hashes), by_object);
	size_t m = 0;
	for (size_t i = 0; i < s->nvalue_hashes; i++)
		if (!m || s->value_hashes[m - 1].object != s->value_hashes[i].object)
			s->value_hashes[m++] = s->value_hashes[i];
	s->nvalue_hashes = m;
	s->value_hashes_known = true;
}

// How many characters @n bytes of UTF-8 hold.
static uint64_t utf8_chars(const char *t, size_t n)
{
	uint64_t c = 0;
	for (size_t i = 0; i < n; i++)
		c += ((unsigned char)t[i] & 0xc0) != 0x80;
	return c;
}

bool ph_python_read_str(struct ph_python *py, struct ph_mem *mem, uint64_t addr, char *buf,
			size_t cap)
{
	struct walker w = {.py = py, .L = &py->L, .mem = mem};
	return read_str(&w, addr, buf, cap);
}

// sys.getsizeof of a str (unicode___sizeof__), all supported versions.
static uint64_t str_size(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n)
{
	const struct ph_layout *L = w->L;
	uint64_t len = field64(buf, n, w, addr, L->ascii_length);
	uint32_t state = (uint32_t)field64(buf, n, w, addr, L->ascii_state);
	unsigned kind = (state >> 2) & 7;
	bool compact = state & (1 << 5), ascii = state & (1 << 6);
	bool ready = w->py->minor >= 12 || (state & (1 << 7));
	if (len > (1ull << 40))
		len = 0;
	uint64_t size, data;
	if (compact && ascii) {
		size = (uint64_t)L->ascii_sizeof + len + 1;
		data = addr + (uint64_t)L->ascii_sizeof;
	} else if (compact) {
		size = (uint64_t)L->cu_sizeof + (len + 1) * kind;
		data = addr + (uint64_t)L->cu_sizeof;
	} else {
		size = (uint64_t)L->unicode_sizeof;
		data = field64(buf, n, w, addr, L->unicode_data);
		if (data)
			size += (len + 1) * kind;
	}
	if (L->ascii_wstr >= 0) {
		// <= 3.11: a wstr buffer not shared with the data.
		uint64_t wstr = field64(buf, n, w, addr, L->ascii_wstr);
		if (wstr && (!ready || wstr != data)) {
			uint64_t wlen = compact && ascii ? len
							 : field64(buf, n, w, addr, L->cu_wstr_length);
			if (wlen < (1ull << 40))
				size += (wlen + 1) * 4;
		}
	}
	if (!(compact && ascii)) {
		uint64_t utf8 = field64(buf, n, w, addr, L->cu_utf8);
		if (utf8 && utf8 != data) {
			uint64_t ulen = field64(buf, n, w, addr, L->cu_utf8_length);
			if (ulen < (1ull << 40))
				size += ulen + 1;
		}
	}
	return size;
}

/* ---- dict ---- */

struct dict_keys {
	uint64_t addr;
	uint64_t refcnt;
	uint64_t size;       /* table slots */
	uint64_t usable;
	uint64_t nentries;
	uint64_t entries;    /* address of the first entry */
	uint64_t entry_size;
	uint64_t key_off, value_off;
	uint64_t keys_bytes; /* _PyDict_KeysSize */
};

static bool read_keys(struct walker *w, uint64_t k, struct dict_keys *dk)
{
	const struct ph_layout *L = w->L;
	uint8_t buf[64];
	if (!k || L->dk_sizeof <= 0 || L->dk_sizeof > (int32_t)sizeof(buf) ||
	    !ph_mem_read_fast(M(w), k, buf, (size_t)L->dk_sizeof))
		return false;
	memset(dk, 0, sizeof(*dk));
	dk->addr = k;
	memcpy(&dk->refcnt, buf + L->dk_refcnt, 8);
	memcpy(&dk->usable, buf + L->dk_usable, 8);
	memcpy(&dk->nentries, buf + L->dk_nentries, 8);
	uint64_t index_bytes;
	if (L->dk_log2_size >= 0) { /* 3.11+ */
		uint8_t log2 = buf[L->dk_log2_size], log2ib = buf[L->dk_log2_index_bytes];
		uint8_t kind = buf[L->dk_kind];
		if (log2 > 30 || log2ib > 34 || kind > 2)
			return false;
		dk->size = 1ull << log2;
		index_bytes = 1ull << log2ib;
		bool general = kind == 0;
		dk->entry_size = general ? (uint64_t)L->dke_sizeof : (uint64_t)L->due_sizeof;
		dk->key_off = general ? (uint64_t)L->dke_key : 0;
		dk->value_off = general ? (uint64_t)L->dke_value : 8;
	} else {
		memcpy(&dk->size, buf + L->dk_size, 8);
		if (!dk->size || dk->size > (1ull << 30) || (dk->size & (dk->size - 1)))
			return false;
		uint64_t width = dk->size <= 0xff ? 1 : dk->size <= 0xffff ? 2 : 4;
		index_bytes = width * dk->size;
		dk->entry_size = (uint64_t)L->dke_sizeof;
		dk->key_off = (uint64_t)L->dke_key;
		dk->value_off = (uint64_t)L->dke_value;
	}
	uint64_t usable_max = (dk->size << 1) / 3;
	if (dk->nentries > usable_max || (int64_t)dk->usable < 0 || dk->usable > usable_max)
		return false;
	dk->entries = k + (uint64_t)L->dk_indices + index_bytes;
	dk->keys_bytes = (uint64_t)L->dk_sizeof + index_bytes + usable_max * dk->entry_size;
	return true;
}

static void collect_attr_names(struct walker *w, struct tinfo *ti)
{
	struct dict_keys dk;
	if (!read_keys(w, ti->cached_keys, &dk) || dk.nentries > 4096 || !dk.nentries)
		return;
	struct ph_type *pt = &w->snap->types[ti->snap_index];
	char **names = calloc(dk.nentries, sizeof(*names));
	if (!names)
		return;
	for (uint64_t i = 0; i < dk.nentries; i++) {
		char buf[256];
		uint64_t key = rd64(w, dk.entries + i * dk.entry_size + dk.key_off);
		names[i] = strdup(key && read_str(w, key, buf, sizeof(buf)) ? buf : "?");
	}
	pt->attr_names = names;
	pt->nattr_names = (uint32_t)dk.nentries;
}

// Emits keys and values of a dict as dict_traverse visits them (values;
// keys of non-str tables) plus the str keys (real memory it holds).
// Returns the dict-specific part of __sizeof__ beyond tp_basicsize.
// The bytes of the table dict(d) makes for @n entries of the kind of @dk's
// (_PyDict_KeysSize()): dict_merge() sizes it by estimate_log2_keysize();
// none for no entry from 3.10 (the shared empty table; before, dict_new()
// gave every new dict a table of 8 slots).
static uint64_t dict_copy_keys_bytes(const struct walker *w, const struct dict_keys *dk,
				     uint64_t n)
{
	if (!n && w->py->minor >= 10)
		return 0;
	uint64_t m = (n * 3 + 1) / 2, size = 8;
	if (w->py->minor >= 10) {
		// calculate_log2_keysize(): the bit length of ((m | 8) - 1) | 7,
		// which rounds 1-4 entries up to 16 slots.
		size = 1ull << (64 - __builtin_clzll(((m | 8) - 1) | 7));
	} else {
		while (size < m)
			size <<= 1;
	}
	uint64_t width = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffull ? 4 : 8;
	return (uint64_t)w->L->dk_sizeof + width * size + (size << 1) / 3 * dk->entry_size;
}

// The bytes of the table set(s) or s.copy() makes for @n entries: set_merge()
// resizes to more than twice as many slots once 5 entries would fill the
// 8 slots of the set's own small table (not counted).
static uint64_t set_copy_table_bytes(uint64_t n, uint64_t entry_size)
{
	if (n * 5 < 21)
		return 0;
	uint64_t size = 8;
	while (size <= 2 * n)
		size <<= 1;
	return size * entry_size;
}

// A dict's or a set's table, for note_sparse_table(): its entries, its room,
// and the bytes a copy's table would take less (freed: 0, not a table of
// its own).
struct table_fill {
	uint64_t entries, room, freed;
};

// Object @idx, a dict or a set whose table is @f: kept in the snapshot when
// under PH_SPARSE_TABLE_PCT of its room is in use (--fill). (The bytes a
// copy would take less for now: its size is not final yet; the copy's size
// once it is, sort_sparse_tables().)
static void note_sparse_table(struct walker *w, uint32_t idx, const struct table_fill *f)
{
	uint64_t entries = f->entries, room = f->room;
	if (!f->freed || entries * 100 >= room * PH_SPARSE_TABLE_PCT || entries > UINT32_MAX)
		return;
	struct ph_snapshot *s = w->snap;
	if (s->nsparse_tables == w->capsparse) {
		size_t nc = w->capsparse ? 2 * w->capsparse : 64;
		struct ph_sparse_table *t = reallocarray(s->sparse_tables, nc, sizeof(*t));
		if (!t) {
			set_nomem(w);
			return;
		}
		s->sparse_tables = t;
		w->capsparse = nc;
	}
	s->sparse_tables[s->nsparse_tables++] =
		(struct ph_sparse_table){idx, (uint32_t)entries, room, f->freed};
}

// By object index: of structs whose first member is it (struct
// ph_sparse_table, struct ph_value_hash).
static int by_object(const void *a, const void *b)
{
	_Static_assert(offsetof(struct ph_sparse_table, object) == 0 &&
			       offsetof(struct ph_value_hash, object) == 0 &&
			       offsetof(struct ph_static_ref, object) == 0 &&
			       offsetof(struct ph_stack_ref, object) == 0,
		       "by_object(): the object index first");
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

// The sparse tables by object index, each once, with the size of a copy
// (noted: the bytes it would take less): looked for, in the snapshot.
static void sort_sparse_tables(struct ph_snapshot *s)
{
	if (s->nsparse_tables)
		qsort(s->sparse_tables, s->nsparse_tables, sizeof(*s->sparse_tables), by_object);
	size_t m = 0;
	for (size_t i = 0; i < s->nsparse_tables; i++) {
		struct ph_sparse_table t = s->sparse_tables[i];
		uint64_t size = s->objects[t.object].size;
		if ((m && s->sparse_tables[m - 1].object == t.object) || t.copy_size >= size)
			continue;
		t.copy_size = size - t.copy_size;
		s->sparse_tables[m++] = t;
	}
	s->nsparse_tables = m;
	s->sparse_known = true;
}

static uint64_t walk_dict(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n,
			  struct table_fill *fill)
{
	const struct ph_layout *L = w->L;
	uint64_t k = field64(buf, n, w, addr, L->dict_keys);
	uint64_t values = field64(buf, n, w, addr, L->dict_values);
	struct dict_keys dk;
	if (!read_keys(w, k, &dk)) {
		note_unreadable(w);
		return 0;
	}
	uint64_t extra = 0;
	uint64_t usable_max = (dk.size << 1) / 3;
	if (values)
		extra += (w->py->minor >= 11 ? dk.nentries + dk.usable : usable_max) * 8;
	if (dk.refcnt == 1)
		extra += dk.keys_bytes;
	if (fill && !values && dk.refcnt == 1 && L->dict_used >= 0) {
		// (The copy's size only for a table mostly empty: one compare
		// for the others.)
		uint64_t used = field64(buf, n, w, addr, L->dict_used);
		if (used <= dk.nentries && used * 100 < usable_max * PH_SPARSE_TABLE_PCT) {
			uint64_t copy = dict_copy_keys_bytes(w, &dk, used);
			if (copy < dk.keys_bytes)
				*fill = (struct table_fill){used, usable_max, dk.keys_bytes - copy};
		}
	}

	uint64_t ne = dk.nentries;
	if (!ne)
		return extra;
	uint64_t esz = dk.entry_size;
	if (ne > MAX_ITEMS || esz % 8 || esz > 24) {
		note_unreadable(w);
		return extra;
	}
	bool visit_values = true;
	uint64_t vbase = 0;
	if (values) {
		vbase = values + (uint64_t)(L->dv_values > 0 ? L->dv_values : 0);
		if (w->py->minor == 13 && L->dv_embedded >= 0) {
			// 3.13: a dict that views an object's inline values does not
			// visit them; the owning object does (PyObject_VisitManagedDict).
			uint8_t emb = 0;
			ph_mem_read_fast(M(w), values + (uint64_t)L->dv_embedded, &emb, 1);
			visit_values = !emb;
		}
	}
	// Entries a chunk at a time (a garbage count costs reads, not memory).
	enum { ENTRIES = 128 };
	uint64_t ebuf[ENTRIES * 3], vbuf[ENTRIES];
	for (uint64_t i0 = 0; i0 < ne; i0 += ENTRIES) {
		uint64_t m = ne - i0 < ENTRIES ? ne - i0 : ENTRIES;
		const uint64_t *ents = words_at(w, dk.entries + i0 * esz, m * esz, ebuf);
		if (!ents) {
			note_unreadable(w);
			break;
		}
		const uint64_t *vals = values ? words_at(w, vbase + i0 * 8, m * 8, vbuf) : NULL;
		if (values && !vals) {
			note_unreadable(w);
			break;
		}
		for (uint64_t j = 0; j < m; j++) {
			uint64_t v = vals ? vals[j] : ents[(j * esz + dk.value_off) / 8];
			if (!v)
				continue;
			emit(w, ents[(j * esz + dk.key_off) / 8], PH_EDGE(PH_EDGE_DICT_KEY, i0 + j));
			if (visit_values)
				emit(w, v, PH_EDGE(PH_EDGE_DICT_VALUE, i0 + j));
		}
	}
	return extra;
}

static uint64_t dict_get_str(struct walker *w, uint64_t dict, const char *key)
{
	const struct ph_layout *L = w->L;
	if (!dict)
		return 0;
	uint64_t k = rd64(w, dict + (uint64_t)L->dict_keys);
	uint64_t values = rd64(w, dict + (uint64_t)L->dict_values);
	struct dict_keys dk;
	if (!read_keys(w, k, &dk) || dk.nentries > 4096)
		return 0;
	size_t klen = strlen(key);
	for (uint64_t i = 0; i < dk.nentries; i++) {
		uint64_t e = dk.entries + i * dk.entry_size;
		uint64_t kp = rd64(w, e + dk.key_off);
		uint64_t len;
		if (!kp || !rdok(w, kp + (uint64_t)L->ascii_length, &len) || len != klen)
			continue;
		char buf[256];
		if (!read_str(w, kp, buf, sizeof(buf)) || strcmp(buf, key))
			continue;
		if (values)
			return rd64(w, values + (uint64_t)(L->dv_values > 0 ? L->dv_values : 0) + i * 8);
		return rd64(w, e + dk.value_off);
	}
	return 0;
}

/* ---- frames ---- */

static uint64_t tuple_len(struct walker *w, uint64_t t)
{
	uint64_t n = t ? rd64(w, t + (uint64_t)w->L->ob_size) : 0;
	return n > MAX_ITEMS ? 0 : n;
}

static int32_t rd32(struct walker *w, uint64_t addr)
{
	int32_t v = 0;
	ph_mem_read_fast(M(w), addr, &v, 4);
	return v;
}

// 3.14 keeps frame references as _PyStackRef: 1 is NULL, low bits 0b11 a
// tagged int (not a pointer), bit 0 a borrowed reference. Earlier versions
// store plain pointers.
static inline uint64_t stackref(const struct walker *w, uint64_t bits)
{
	if (w->py->minor < 14)
		return bits;
	if (bits == 1 || (bits & 3) == 3)
		return 0;
	return bits & ~3ull;
}

// Slots of the interpreter frame at @f in use (locals and stack): stacktop
// (3.11-3.13, a count) or stackpointer (3.14, a pointer). 0 if implausible.
static uint64_t iframe_nslots(struct walker *w, uint64_t f)
{
	const struct ph_layout *L = w->L;
	if (L->iframe_stacktop >= 0) {
		int32_t top = rd32(w, f + (uint64_t)L->iframe_stacktop);
		return top > 0 && top < (1 << 20) ? (uint64_t)top : 0;
	}
	if (L->iframe_stackpointer >= 0) {
		uint64_t sp = rd64(w, f + (uint64_t)L->iframe_stackpointer);
		uint64_t base = f + (uint64_t)L->iframe_localsplus;
		return sp > base && (sp - base) % 8 == 0 && (sp - base) / 8 < (1 << 20) ? (sp - base) / 8
											  : 0;
	}
	return 0;
}

enum {
	STACK_AREA_WORDS = 256,    /* of a frame's value stack, read at most */
	STACK_WORDS_MAX = 1 << 20, /* of all frames' (8 MiB: thousands of threads' stacks) */
};

// Whether CPython marks the depth of the value stack of frame @f (an
// interpreter frame, 3.11+, or a frame object) as unset: -1 or NULL while
// the frame runs (its stack pointer in a register of the eval loop; every
// frame of a thread's stack through 3.10, and from 3.11 the innermost one
// and those that called Python through C code).
static bool stack_depth_unset(struct walker *w, uint64_t f)
{
	const struct ph_layout *L = w->L;
	int32_t off = w->py->minor >= 11 ? L->iframe_stacktop : L->frame_stackdepth;
	uint64_t v;
	if (off >= 0)
		return rdok(w, f + (uint64_t)off, &v) && (int32_t)v == -1;
	if (w->py->minor >= 11) {
		off = L->iframe_stackpointer;
		return off >= 0 && rdok(w, f + (uint64_t)off, &v) && !v;
	}
	// 3.8, 3.9: f_stacktop NULL also once the frame has returned; then
	// f_executing (the char after f_lasti, f_lineno and f_iblock) is 0.
	uint8_t executing = 0;
	return L->frame_stacktop >= 0 && L->frame_lasti >= 0 &&
	       rdok(w, f + (uint64_t)L->frame_stacktop, &v) && !v &&
	       ph_mem_read_fast(M(w), f + (uint64_t)L->frame_lasti + 12, &executing, 1) &&
	       executing;
}

// Keeps the words of the value stack at @addr (@n slots, co_stacksize) of
// the frame of root @root (else of frame object @holder, or of greenlet
// @holder's frame at @depth), for scan_stack_areas(). Unreadable: none.
static void note_stack_area(struct walker *w, uint32_t root, uint32_t holder, uint32_t depth,
			    uint64_t addr, int64_t n)
{
	if (n <= 0 || !addr || (addr & 7))
		return;
	if (n > STACK_AREA_WORDS)
		n = STACK_AREA_WORDS;
	if (w->nstack_words + (size_t)n > STACK_WORDS_MAX)
		return;
	while (w->capstack_words < w->nstack_words + (size_t)n) {
		uint64_t *p = grow_array(w, w->stack_words, &w->capstack_words, sizeof(*p), 1024);
		if (!p)
			return;
		w->stack_words = p;
	}
	if (w->nstack_areas == w->capstack_areas) {
		struct stack_area *a =
			grow_array(w, w->stack_areas, &w->capstack_areas, sizeof(*a), 16);
		if (!a)
			return;
		w->stack_areas = a;
	}
	if (!ph_mem_read_fast(M(w), addr, w->stack_words + w->nstack_words, (size_t)n * 8))
		return;
	w->stack_areas[w->nstack_areas++] =
		(struct stack_area){root, holder, depth, (uint32_t)n, w->nstack_words};
	w->nstack_words += (size_t)n;
}

static uint64_t iframe_code(struct walker *w, uint64_t f)
{
	return stackref(w, rd64(w, f + (uint64_t)w->L->iframe_code));
}

// Slots of the interpreter frame at @f (of code @code) whose values are
// known: those in use when the frame is suspended (it called another Python
// function, or it is a generator's); while it runs (the innermost frame of a
// thread blocked in C code: sleep, I/O, a lock) CPython keeps its stack
// pointer in a register and marks the frame's as unset, and then the locals,
// cells and free variables are still there (co_nlocalsplus slots, NULL until
// set), not the value stack above them.
static uint64_t iframe_known_slots(struct walker *w, uint64_t f, uint64_t code)
{
	uint64_t n = iframe_nslots(w, f);
	if (n || !code)
		return n;
	int32_t nlp = rd32(w, code + (uint64_t)w->L->code_nlocalsplus);
	return nlp > 0 && nlp < (1 << 20) ? (uint64_t)nlp : 0;
}

// Emits the first @n slots of a frame's localsplus, unwrapping stack refs.
static void emit_slots(struct walker *w, uint64_t f, uint64_t n)
{
	emit_words(w, f + (uint64_t)w->L->iframe_localsplus, n, PH_EDGE_LOCAL, true);
}

// _PyFrame_Traverse (3.11+) of the interpreter frame at @f.
static void walk_iframe(struct walker *w, uint64_t f)
{
	const struct ph_layout *L = w->L;
	emit(w, rd64(w, f + (uint64_t)L->iframe_frame_obj), PH_EDGE(PH_EDGE_FIELD, PH_F_FRAME_OBJ));
	emit(w, rd64(w, f + (uint64_t)L->iframe_locals), PH_EDGE(PH_EDGE_FIELD, PH_F_F_LOCALS));
	emit(w, stackref(w, rd64(w, f + (uint64_t)L->iframe_func)), PH_EDGE(PH_EDGE_FIELD, PH_F_FUNC));
	emit(w, stackref(w, rd64(w, f + (uint64_t)L->iframe_code)),
	     PH_EDGE(PH_EDGE_FIELD, PH_F_F_CODE));
	emit_slots(w, f, iframe_known_slots(w, f, iframe_code(w, f)));
}

// Whether interpreter frame @f is on a thread's stack (a root).
static bool is_thread_frame(struct walker *w, uint64_t f)
{
	if (!w->nthread_frames)
		return false;
	if (!w->thread_frames_sorted) {
		qsort(w->thread_frames, w->nthread_frames, sizeof(*w->thread_frames), ph_cmp_u64);
		w->thread_frames_sorted = true;
	}
	return bsearch(&f, w->thread_frames, w->nthread_frames, sizeof(*w->thread_frames),
		       ph_cmp_u64) != NULL;
}

static void note_line(struct walker *w, uint32_t idx, uint32_t depth, uint64_t code,
		      uint64_t off);

// 3.11+: the interpreter frames of a suspended greenlet, from its top one
// @f down (previous), as _PyFrame_Traverse visits each: edges from the
// greenlet labelled with the frame's depth (0: gr_frame, 1: its f_back…).
// They end where its first frame was entered (previous NULL), or at a
// thread's frame. A generator's frame is its generator's to walk.
static void walk_greenlet_frames(struct walker *w, uint32_t idx, uint64_t f)
{
	const struct ph_layout *L = w->L;
	unsigned minor = w->py->minor;
	uint64_t code_type = w->py->sym[SYM_PyCode_Type];
	for (uint32_t d = 0, k = 0; f && d <= PH_GR_MAX_DEPTH && k < MAX_FRAMES;
	     k++, f = rd64(w, f + (uint64_t)L->iframe_previous)) {
		uint8_t owner = 0;
		if ((f & 7) || is_thread_frame(w, f) ||
		    !ph_mem_read_fast(M(w), f + (uint64_t)L->iframe_owner, &owner, 1))
			return;
		// Shim frames (the C stack: 3 in 3.12/3.13, 4 in 3.14).
		if ((minor >= 12 && minor <= 13 && owner == 3) || (minor >= 14 && owner >= 3))
			continue;
		uint64_t code = iframe_code(w, f);
		if (!code || rd64(w, code + (uint64_t)L->ob_type) != code_type)
			continue; // (3.14: the bottom frame's executable is None)
		uint32_t label = PH_EDGE(PH_EDGE_GREENLET, PH_GR_LABEL(d++, 0));
		// (Where it is suspended, as a thread's frame's line.)
		uint64_t instr = rd64(w, f + (uint64_t)L->iframe_instr);
		if (instr >= code + (uint64_t)L->code_code_adaptive)
			note_line(w, idx, d - 1, code, instr - code - (uint64_t)L->code_code_adaptive);
		if (owner != 0) {
			// A generator's (FRAME_OWNED_BY_GENERATOR), running: its
			// caller holds it (`for`, next(), `yield from`: on a stack
			// not saved while the caller runs C code); it walks its frame.
			if (owner == 1 && L->gen_iframe > 0)
				emit(w, f - (uint64_t)L->gen_iframe, label + PH_GR_GEN);
			continue;
		}
		emit(w, rd64(w, f + (uint64_t)L->iframe_frame_obj), label + PH_GR_FRAME_OBJ);
		emit(w, code, label + PH_GR_CODE);
		emit(w, stackref(w, rd64(w, f + (uint64_t)L->iframe_func)), label + PH_GR_FUNC);
		emit(w, rd64(w, f + (uint64_t)L->iframe_locals), label + PH_GR_LOCALS);
		// (Its value stack, when the frame called switch() or other C
		// code: the depth is in the eval loop's saved C stack.)
		int32_t nlp = rd32(w, code + (uint64_t)L->code_nlocalsplus);
		if (stack_depth_unset(w, f) && nlp >= 0 && nlp < (1 << 20))
			note_stack_area(w, PH_NONE, idx, d - 1,
					f + (uint64_t)L->iframe_localsplus + (uint64_t)nlp * 8,
					(int32_t)rd32(w, code + (uint64_t)L->code_stacksize));
		uint64_t slots = iframe_known_slots(w, f, code);
		emit_words_from(w, f + (uint64_t)L->iframe_localsplus,
				slots < PH_GR_SLOTS ? slots : PH_GR_SLOTS, label, true);
	}
}

// Whether @a is in one of the process's anonymous writable mappings (the
// threads' stacks among them).
static const struct ph_mem_range *anon_map_of(const struct ph_python *py, uint64_t a)
{
	size_t lo = 0, hi = py->nanon_maps;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (py->anon_maps[mid].end <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < py->nanon_maps && py->anon_maps[lo].start <= a ? &py->anon_maps[lo] : NULL;
}

// A main greenlet (a thread's own stack: greenlet marks it with a stack_stop
// of -1, in 1.x, 2.x and 3.x alike) among the state's words [@from, @to):
// the C stack pointer it saved when it switched away (its stack_start, the
// word before), which lies in its thread's stack; 0 for other greenlets.
static uint64_t main_greenlet_sp(const struct walker *w, const uint64_t *words, uint64_t from,
				 uint64_t to)
{
	for (uint64_t off = from + 8; off + 8 <= to; off += 8)
		if (words[off / 8] == UINT64_MAX && words[off / 8 - 1] &&
		    anon_map_of(w->py, words[off / 8 - 1]))
			return words[off / 8 - 1];
	return 0;
}

static void note_main_greenlet(struct walker *w, uint32_t idx, uint64_t sp)
{
	if (!sp || w->nmain_grs >= MAX_THREADS)
		return;
	if (w->nmain_grs == w->capmain_grs) {
		struct main_greenlet *n = grow_array(w, w->main_grs, &w->capmain_grs, sizeof(*n), 4);
		if (!n)
			return;
		w->main_grs = n;
	}
	w->main_grs[w->nmain_grs++] = (struct main_greenlet){idx, sp};
}

// After the walk: each suspended main greenlet is a root of the thread it
// belongs to (greenlet's thread state holds it, no object: its frames'
// locals would read as held by native code). Its thread: the one whose
// pthread struct (its id) is in the same mapping as the stack pointer the
// greenlet saved (glibc puts it at the top of a thread's stack), else the
// process's main thread when that pointer is in [stack] (a core does not
// name it: a mapping holding no thread's struct): its native id is the pid
// in the process's own PID namespace (3.11+ keep it), or (before) it is the main interpreter's oldest thread
// state, the last of its list; else none known (thread id 0).
static void add_main_greenlet_roots(struct walker *w)
{
	const struct ph_python *py = w->py;
	for (size_t i = 0; i < w->nmain_grs && !nomem_failed(w); i++) {
		const struct ph_mem_range *m = anon_map_of(py, w->main_grs[i].sp);
		uint64_t tid = 0;
		for (size_t t = 0; m && t < w->ntids && !tid; t++)
			if (w->tids[t].tid >= m->start && w->tids[t].tid < m->end)
				tid = w->tids[t].tid;
		bool main_stack = m && (!py->stack_end ||
					(m->start < py->stack_end && m->end > py->stack_start));
		bool native = w->L->ts_native_thread_id > 0;
		pid_t self = py->ns_pid > 0 ? py->ns_pid : py->pid; // (a container's: its own)
		for (size_t t = 0; !tid && main_stack && t < w->ntids; t++)
			if (native && self > 0 && w->tids[t].native == (uint64_t)self)
				tid = w->tids[t].tid;
		for (size_t t = w->ntids; !tid && main_stack && !native && t-- > 0;)
			if (w->tids[t].interp == w->main_interp)
				tid = w->tids[t].tid;
		struct ph_root *r = add_root(w, PH_ROOT_MAIN_GREENLET, w->main_grs[i].idx);
		if (r)
			r->thread_id = tid;
	}
}

// A greenlet's frames when it is suspended (switched away from; greenlet
// keeps them in its own state, which its tp_traverse does not visit, nor
// gc.get_referents(): their locals would read as held by native code): its
// state's first word that is the address of a frame object, the top one
// (gr_frame). Through 3.10 that object and its f_back chain hold the rest;
// since 3.11 its interpreter frame (pointing back to it) starts the chain
// of interpreter frames, walk_greenlet_frames(). A running or finished
// greenlet has none.
static void walk_greenlet(struct walker *w, uint32_t idx, uint64_t addr, const uint8_t *buf,
			  size_t n, const struct tinfo *ti)
{
	const struct ph_layout *L = w->L;
	uint64_t state = addr, from = 16, to = ti->greenlet_end;
	if (ti->greenlet == GR_PIMPL) {
		state = field64(buf, n, w, addr, GR_PIMPL_AT);
		from = 8;
		to = GR_PIMPL_BYTES;
	}
	uint64_t words[GR_STATE_BYTES / 8];
	uint64_t frame_type = w->py->sym[SYM_PyFrame_Type];
	if (!state || (state & 7) || !frame_type || to > sizeof(words) ||
	    !ph_mem_read_fast(M(w), state, words, (size_t)to))
		return;
	uint64_t sp = main_greenlet_sp(w, words, from, to);
	for (uint64_t off = from; off + 8 <= to; off += 8) {
		uint64_t a = words[off / 8], t;
		if (!a || (a & 7) || a == addr || !rdok(w, a + (uint64_t)L->ob_type, &t) ||
		    t != frame_type)
			continue;
		if (w->py->minor <= 10) {
			emit(w, a, PH_EDGE(PH_EDGE_GREENLET, PH_GR_LABEL(0, PH_GR_FRAME_OBJ)));
			note_main_greenlet(w, idx, sp);
			return;
		}
		// (Owned by the thread, or by a generator that switched away.)
		uint64_t f = rd64(w, a + (uint64_t)L->frame_frame);
		uint8_t owner = 0xff;
		if (f && rd64(w, f + (uint64_t)L->iframe_frame_obj) == a &&
		    ph_mem_read_fast(M(w), f + (uint64_t)L->iframe_owner, &owner, 1) && owner <= 1) {
			walk_greenlet_frames(w, idx, f);
			note_main_greenlet(w, idx, sp);
			return;
		}
	}
}

static uint64_t code_frame_words(struct walker *w, uint64_t code)
{
	const struct ph_layout *L = w->L;
	int32_t nlp = rd32(w, code + (uint64_t)L->code_nlocalsplus);
	int32_t ss = rd32(w, code + (uint64_t)L->code_stacksize);
	if (nlp < 0 || ss < 0 || nlp > (1 << 20) || ss > (1 << 20))
		return 0;
	return (uint64_t)nlp + (uint64_t)ss;
}

/* ---- the per-object walk ---- */

static uint64_t gc_header(struct walker *w, const struct tinfo *ti, uint64_t obj_flags_if_type,
			  bool obj_is_type, uint64_t type_of_obj)
{
	unsigned minor = w->py->minor;
	uint64_t gc = (ti->flags & TPF_HAVE_GC) ? (uint64_t)w->L->gchead_sizeof : 0;
	if (minor <= 10) {
		// _PyObject_IS_GC: type objects are GC objects only if heap types.
		if (obj_is_type && !(obj_flags_if_type & TPF_HEAPTYPE))
			return 0;
		return gc;
	}
	if (minor >= 13 && obj_is_type && !(obj_flags_if_type & TPF_HEAPTYPE) &&
	    type_of_obj == w->py->sym[SYM_PyType_Type])
		return 0;
	uint64_t pre = minor == 11 ? (ti->flags & TPF_MANAGED_DICT)
				   : (ti->flags & (TPF_MANAGED_DICT | TPF_MANAGED_WEAKREF));
	return gc + (pre ? 16 : 0);
}

// The bytes before object @i of the snapshot in its memory block: its GC
// header and pre-header (ph_python_read_tracemalloc(): traces are by block).
static uint64_t object_pre(void *arg, size_t i)
{
	struct walker *w = arg;
	const struct ph_object *o = &w->snap->objects[i];
	const struct tinfo *ti = w->types[o->type];
	uint64_t flags = ti->is_metatype ? rd64(w, o->address + (uint64_t)w->L->tp_flags) : 0;
	return gc_header(w, ti, flags, ti->is_metatype, ti->addr);
}

// Dict-less attribute storage of an instance (3.11+), and its referents.
// Returns the bytes of that storage when no dict object exists.
static uint64_t walk_managed_dict(struct walker *w, uint32_t idx, uint64_t addr,
				  const struct tinfo *ti)
{
	const struct ph_layout *L = w->L;
	unsigned minor = w->py->minor;
	uint64_t dict = 0, values = 0, extra = 0;
	if (minor == 11) {
		values = rd64(w, addr - 32);
		dict = rd64(w, addr - 24);
	} else if (minor == 12) {
		uint64_t word = rd64(w, addr - 24);
		if (word & 1)
			values = word + 1;
		else
			dict = word;
	} else {
		dict = rd64(w, addr - 24);
		if (ti->flags & TPF_INLINE_VALUES) {
			uint64_t v = addr + (uint64_t)ti->basicsize;
			uint8_t hdr[4];
			if (!ph_mem_read_fast(M(w), v, hdr, sizeof(hdr))) {
				note_unreadable(w);
				return 0;
			}
			uint8_t cap = hdr[L->dv_capacity], valid = hdr[L->dv_valid];
			if (w->py->minor >= 14) {
				// 3.14 (gh-130327): the managed dict if there is one (it
				// visits the embedded values), else the valid inline values.
				if (dict) {
					emit_field(w, dict, PH_F_DICT);
					add_owner(w, dict, idx, false);
				} else if (valid) {
					emit_array(w, v + (uint64_t)L->dv_values, cap, PH_EDGE_ATTR);
				}
				if (!dict) {
					w->snap->objects[idx].flags |= PH_OBJ_INLINE_VALUES;
					extra = 8 + 8 * (uint64_t)cap + (((uint64_t)cap + 7) & ~7ull);
				}
				return extra;
			}
			if (valid) {
				// PyObject_VisitManagedDict (3.13.0) visits the values, not
				// the dict; the dict is a real reference all the same (an
				// untracked one would otherwise be lost).
				emit_array(w, v + (uint64_t)L->dv_values, cap, PH_EDGE_ATTR);
			}
			if (dict) {
				emit_field(w, dict, PH_F_DICT);
				add_owner(w, dict, idx, false);
			}
			if (!dict) {
				w->snap->objects[idx].flags |= PH_OBJ_INLINE_VALUES;
				extra = 8 + 8 * (uint64_t)cap + (((uint64_t)cap + 7) & ~7ull);
			}
			return extra;
		}
	}
	if (values) {
		uint64_t n = ti->keys_nentries;
		emit_array(w, values, n, PH_EDGE_ATTR);
		w->snap->objects[idx].flags |= PH_OBJ_INLINE_VALUES;
		uint8_t prefix = 0;
		if (ph_mem_read_fast(M(w), values - 1, &prefix, 1) && prefix >= 8) {
			uint64_t cnt = ti->keys_usable_sum;
			uint64_t lo = prefix >= 9 ? prefix - 9u : 0, hi = prefix - 2u;
			if (cnt < lo)
				cnt = lo;
			if (cnt > hi)
				cnt = hi;
			extra = prefix + 8 * cnt;
		}
	}
	if (dict) {
		emit_field(w, dict, PH_F_DICT);
		add_owner(w, dict, idx, false);
	}
	return extra;
}

// The element size of numpy descriptor @descr: numpy 1.x's int (followed by
// an int alignment), else numpy 2.x's npy_intp (followed by its alignment).
static uint64_t ndarray_elsize(struct walker *w, uint64_t descr)
{
	int32_t v1[2];
	if (ph_mem_read_fast(M(w), descr + DESCR1_ELSIZE, v1, sizeof(v1)) && v1[0] > 0 &&
	    v1[1] > 0 && v1[1] <= 64 && !(v1[1] & (v1[1] - 1)))
		return (uint64_t)v1[0];
	uint64_t v2[2];
	if (ph_mem_read_fast(M(w), descr + DESCR2_ELSIZE, v2, sizeof(v2)) && v2[0] < (1ull << 40) &&
	    v2[1] > 0 && v2[1] <= 64 && !(v2[1] & (v2[1] - 1)))
		return v2[0];
	return 0;
}

// Whether numpy descriptor @descr is the object dtype ('O'): its elements
// are references (PyObject *), which the array that owns them holds.
static bool ndarray_of_objects(struct walker *w, uint64_t descr)
{
	uint8_t d[8];
	if (!descr || !ph_mem_read_fast(M(w), descr + DESCR_KIND, d, sizeof(d)))
		return false;
	int32_t type_num;
	memcpy(&type_num, d + DESCR_TYPE_NUM - DESCR_KIND, sizeof(type_num));
	return d[0] == 'O' && type_num == NPY_OBJECT;
}

// numpy.ndarray: its base (a view keeps it alive: not a referent numpy's GC
// support reports, a reference all the same), the elements of an object
// array that owns its data (numpy's arrays have no tp_traverse: the
// references it holds, labelled by their index in memory order: a[i] for
// one dimension), and what its __sizeof__ adds to the struct: dimensions and
// strides, and the data when it owns them.
static uint64_t walk_ndarray(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n)
{
	uint64_t base = field64(buf, n, w, addr, ND_BASE);
	emit_field(w, base, PH_F_ND_BASE);
	int32_t nd = 0;
	uint32_t flags = 0;
	if (!ph_mem_read_fast(M(w), addr + ND_NDIM, &nd, sizeof(nd)) ||
	    !ph_mem_read_fast(M(w), addr + ND_FLAGS, &flags, sizeof(flags)) || nd < 0 ||
	    nd > ND_MAXDIMS) {
		note_unreadable(w);
		return 0;
	}
	uint64_t extra = (uint64_t)nd * 16;
	if (!(flags & ND_OWNDATA))
		return extra;
	uint64_t descr = field64(buf, n, w, addr, ND_DESCR);
	bool objects = ndarray_of_objects(w, descr);
	uint64_t data = field64(buf, n, w, addr, ND_DATA);
	if (nd == 0) {
		if (objects)
			emit_array(w, data, 1, PH_EDGE_INDEX);
		return extra + ndarray_elsize(w, descr);
	}
	// Data it owns is contiguous, in some order of its axes: its bytes are
	// the largest dimension times its stride (none if a dimension is 0).
	uint64_t dims[ND_MAXDIMS], strides[ND_MAXDIMS];
	if (!ph_mem_read_fast(M(w), field64(buf, n, w, addr, ND_DIMENSIONS), dims,
			      (size_t)nd * 8) ||
	    !ph_mem_read_fast(M(w), field64(buf, n, w, addr, ND_STRIDES), strides,
			      (size_t)nd * 8)) {
		note_unreadable(w);
		return extra;
	}
	uint64_t bytes = 0;
	for (int32_t i = 0; i < nd; i++) {
		int64_t st = (int64_t)strides[i];
		uint64_t ast = st < 0 ? -(uint64_t)st : (uint64_t)st;
		if (dims[i] == 0)
			return extra;
		if (ast > (1ull << 46) || dims[i] > (1ull << 46) / (ast ? ast : 1)) {
			note_unreadable(w); // (more than 64 TiB: not an array)
			return extra;
		}
		if (dims[i] * ast > bytes)
			bytes = dims[i] * ast;
	}
	if (objects) {
		// (Owned data is dense: its elements fill its bytes.)
		uint64_t count = 1;
		for (int32_t i = 0; i < nd && count; i++)
			count = dims[i] <= bytes / count ? count * dims[i] : 0;
		if (count && count * 8 == bytes && !(data & 7))
			emit_array(w, data, count, PH_EDGE_INDEX);
	}
	return extra + bytes;
}

// The instance dict of an instance of C type @ti (not a Python class), which
// its traverse visits: at tp_dictoffset, or managed (3.12+: typing.TypeVar,
// ParamSpec, ...: PyObject_VisitManagedDict). Returns what its size adds.
static uint64_t walk_c_dict(struct walker *w, uint32_t idx, uint64_t addr, const uint8_t *buf,
			    size_t n, const struct tinfo *ti)
{
	if (ti->is_metatype)
		return 0;
	if (ti->dictoffset > 0 && ti->dictoffset < (1 << 20)) {
		uint64_t dict = field64(buf, n, w, addr, (int32_t)ti->dictoffset);
		emit_field(w, dict, PH_F_DICT);
		if (ti->flags & TPF_HEAPTYPE)
			add_owner(w, dict, idx, false);
		return 0;
	}
	if (w->py->minor >= 12 && (ti->flags & TPF_MANAGED_DICT))
		return walk_managed_dict(w, idx, addr, ti);
	return 0;
}

// The instance part of subtype_traverse: __slots__, the instance dict and
// the heap type itself.
static uint64_t walk_python_instance(struct walker *w, uint32_t idx, uint64_t addr,
				     const uint8_t *buf, size_t n, const struct tinfo *ti)
{
	const struct ph_layout *L = w->L;
	uint64_t extra = 0;
	for (uint32_t i = 0; i < ti->nslots; i++)
		emit(w, field64(buf, n, w, addr, (int32_t)ti->slot_offsets[i]),
		     PH_EDGE(PH_EDGE_SLOT, i));
	if (w->py->minor >= 11 && (ti->flags & TPF_MANAGED_DICT)) {
		extra = walk_managed_dict(w, idx, addr, ti);
	} else if (ti->dictoffset && !ti->is_metatype) {
		int64_t off = ti->dictoffset;
		if (off < 0) {
			uint64_t size = field64(buf, n, w, addr, L->ob_size);
			uint64_t tsize = (int64_t)size < 0 ? -size : size;
			if (tsize > MAX_ITEMS) {
				note_unreadable(w);
				off = 0;
			} else {
				off += (ti->basicsize + (int64_t)tsize * ti->itemsize + 7) & ~7ll;
			}
		}
		if (off > 0 && off < (1 << 24)) {
			// Visited here only if this class added the dict; a base
			// (e.g. BaseException) visits its own. It is "dict of" either way.
			uint64_t dict = field64(buf, n, w, addr, (int32_t)off);
			if (ti->dict_differs)
				emit_field(w, dict, PH_F_DICT);
			add_owner(w, dict, idx, false);
		}
	}
	if (ti->visit_type)
		emit_field(w, ti->addr, PH_F_CLASS);
	return extra;
}

// 3.12+: the dict and subclasses of static builtin type @addr, from the
// interpreter's state (its tp_subclasses field holds 1 + its index there).
static void walk_static_builtin_state(struct walker *w, uint64_t addr)
{
	const struct ph_layout *L = w->L;
	int32_t d = L->sbs_sizeof > 0 ? L->sbs_tp_dict : L->msts_tp_dict;
	int32_t sc = L->sbs_sizeof > 0 ? L->sbs_tp_subclasses : L->msts_tp_subclasses;
	int32_t ty = L->sbs_sizeof > 0 ? L->sbs_type : L->msts_type;
	int32_t sz = L->sbs_sizeof > 0 ? L->sbs_sizeof : L->msts_sizeof;
	uint64_t index = rd64(w, addr + (uint64_t)L->tp_subclasses);
	if (L->is_types_builtins < 0 || d < 0 || sc < 0 || ty < 0 || sz <= 0 || !w->main_interp)
		return;
	if (!index || index > MAX_STATIC_BUILTIN_TYPES) {
		note_unreadable(w);
		return;
	}
	// Its entry names it: the builtin types' array, else (3.13) the
	// extensions' one.
	uint64_t state = w->main_interp + (uint64_t)L->is_types_builtins + (index - 1) * (uint64_t)sz;
	if (rd64(w, state + (uint64_t)ty) != addr && L->is_types_for_extensions >= 0)
		state = w->main_interp + (uint64_t)L->is_types_for_extensions +
			(index - 1) * (uint64_t)sz;
	if (rd64(w, state + (uint64_t)ty) != addr) {
		note_unreadable(w);
		return;
	}
	emit_field(w, rd64(w, state + (uint64_t)d), PH_F_TP_DICT);
	emit_field(w, rd64(w, state + (uint64_t)sc), PH_F_TP_SUBCLASSES);
}

// Whether word @a of the struct at @self may be an object's address: the
// resolver looks it up (resolve_inferred()).
static inline bool may_be_object(uint64_t a, uint64_t self)
{
	return a >= 4096 && a <= PH_MAX_ADDRESS && !(a & 7) && a != self;
}

// A word of the copy that the resolver may be writing meanwhile (an
// object's first word, where it writes the object's index): read as such.
static inline bool shared_u64(struct walker *w, uint64_t addr, uint64_t *v)
{
	const uint64_t *p = ph_mem_ptr_fast(M(w), addr, sizeof(*v));
	if (p) {
		*v = __atomic_load_n(p, __ATOMIC_RELAXED);
		return true;
	}
	return ph_mem_u64(M(w), addr, v);
}

// Whether the word at @a may be an object, for the processing thread: its
// count plausible (or the index the resolver wrote over it), its type's type
// a metatype. Keeps the words that hold no object from taking edges (each
// one that leads nowhere costs a pass over all edges at the end). A filter
// only: resolve_inferred() decides, and a true object's count, type and
// metatype read the same whenever the resolver writes (its index or not).
static bool looks_like_object(struct walker *w, uint64_t a)
{
	uint64_t rc, t, meta, mflags;
	return shared_u64(w, a, &rc) && (rc >> 32 == INDEX_TAG || plausible_refcnt(w, rc)) &&
	       shared_u64(w, a + 8, &t) && t && !(t & 7) &&
	       shared_u64(w, t + (uint64_t)w->L->ob_type, &meta) && meta && !(meta & 7) &&
	       shared_u64(w, meta + (uint64_t)w->L->tp_flags, &mflags) &&
	       (mflags & TPF_TYPE_SUBCLASS);
}

// The words of a C object's struct that plan_scan() chose: an edge to each
// that holds a live object, labelled with its offset (what the type's
// tp_traverse would visit, short of its names). Those that do not (numbers,
// C pointers) are passed over, without counting anything unreadable. The
// type's first SCAN_LEARN non-NULL values of each word are looked at here
// (looks_like_object(): a cache miss each): a word that held an object then
// always takes an edge (the resolver passes over what is not one); a word that
// never did (a pointer to a C struct: an lxml element's node) is dropped. The
// same objects would read the same: the snapshot depends on nothing else.
static void scan_struct(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n,
			struct tinfo *ti)
{
	for (unsigned k = 0; k < SCAN_WORDS / 64; k++) {
		for (uint64_t bits = ti->scan_words[k]; bits; bits &= bits - 1) {
			unsigned i = k * 64 + (unsigned)__builtin_ctzll(bits);
			uint64_t a = field64(buf, n, w, addr, (int32_t)(i * 8));
			if (!may_be_object(a, addr))
				continue;
			uint8_t *checks = &ti->scan_checks[i];
			if (*checks != SCAN_HOLDS) {
				if (!looks_like_object(w, a)) {
					if (++*checks == SCAN_LEARN)
						ti->scan_words[k] &= ~(1ull << (i % 64));
					continue;
				}
				*checks = SCAN_HOLDS;
			}
			emit(w, a, PH_EDGE(PH_EDGE_WORD, i * 8));
		}
	}
}

// The state of a C module (PEP 3121: m_size bytes at md_state, which its
// m_traverse visits): its struct is the module's own, so each aligned word
// that is the address of a live object is taken as a reference to it. A
// word that is not (a number, a C pointer) is passed over without counting
// it unreadable (resolve_inferred()).
static void walk_module_state(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n)
{
	const struct ph_layout *L = w->L;
	if (L->module_md_state < 0 || L->module_md_def < 0 || L->moduledef_m_size < 0)
		return;
	uint64_t state = field64(buf, n, w, addr, L->module_md_state);
	uint64_t def = field64(buf, n, w, addr, L->module_md_def);
	int64_t size = def ? (int64_t)rd64(w, def + (uint64_t)L->moduledef_m_size) : 0;
	if (!state || size < 8 || size > MAX_MODULE_STATE)
		return;
	// The words are looked up now, not a few edges later: a state holds
	// many that are no object, which would each take an edge until the
	// end. First the edges waiting, so that objects take their indices in
	// the same order as without this (whatever the number in flight).
	resolve_pending(w);
	uint64_t words[CHUNK];
	uint32_t nw = (uint32_t)(size / 8);
	for (uint32_t at = 0; at < nw && !nomem_failed(w); at += CHUNK) {
		uint32_t m = nw - at < CHUNK ? nw - at : CHUNK;
		if (!ph_mem_read_fast(M(w), state + (uint64_t)at * 8, words, m * 8))
			return; // (a state that cannot be read holds nothing known)
		for (uint32_t i = 0; i < m; i++)
			if (may_be_object(words[i], addr) &&
			    resolve_inferred(w, words[i]) != PH_NONE)
				emit(w, words[i], PH_EDGE(PH_EDGE_STATE, at + i));
	}
}

static void walk_type_object(struct walker *w, uint64_t addr, uint64_t *size)
{
	const struct ph_layout *L = w->L;
	uint64_t flags = rd64(w, addr + (uint64_t)L->tp_flags);
	// Static builtin types (3.12+) keep their dict and subclasses in the
	// interpreter; other types in their own fields (for static types, the
	// subclasses only).
	bool static_builtin = w->py->minor >= 12 && (flags & TPF_STATIC_BUILTIN) &&
			      !(flags & TPF_HEAPTYPE);
	if (static_builtin)
		walk_static_builtin_state(w, addr);
	else if (!(flags & TPF_HEAPTYPE))
		emit_field(w, rd64(w, addr + (uint64_t)L->tp_subclasses), PH_F_TP_SUBCLASSES);
	emit_field(w, rd64(w, addr + (uint64_t)L->tp_dict), PH_F_TP_DICT);
	emit_field(w, rd64(w, addr + (uint64_t)L->tp_cache), PH_F_TP_CACHE);
	emit_field(w, rd64(w, addr + (uint64_t)L->tp_mro), PH_F_TP_MRO);
	emit_field(w, rd64(w, addr + (uint64_t)L->tp_bases), PH_F_TP_BASES);
	emit_field(w, rd64(w, addr + (uint64_t)L->tp_base), PH_F_TP_BASE);
	if (flags & TPF_HEAPTYPE) {
		if (L->ht_module >= 0)
			emit_field(w, rd64(w, addr + (uint64_t)L->ht_module), PH_F_HT_MODULE);
		emit_field(w, rd64(w, addr + (uint64_t)L->ht_name), PH_F_HT_NAME);
		emit_field(w, rd64(w, addr + (uint64_t)L->ht_qualname), PH_F_HT_QUALNAME);
		emit_field(w, rd64(w, addr + (uint64_t)L->ht_slots), PH_F_HT_SLOTS);
		emit_field(w, rd64(w, addr + (uint64_t)L->tp_subclasses), PH_F_TP_SUBCLASSES);
		*size = (uint64_t)L->ht_sizeof;
		struct dict_keys dk;
		uint64_t ck = rd64(w, addr + (uint64_t)L->ht_cached_keys);
		if (ck && read_keys(w, ck, &dk))
			*size += dk.keys_bytes;
	} else {
		*size = (uint64_t)L->tp_sizeof;
	}
}

static void mark_static_type(struct walker *w, uint32_t idx, uint64_t addr)
{
	if (!(rd64(w, addr + (uint64_t)w->L->tp_flags) & TPF_HEAPTYPE))
		w->snap->objects[idx].flags |= PH_OBJ_STATIC_TYPE;
}

// 3.12+: the static builtin types in interpreter @interp's state (and, 3.13+,
// the extensions' static types there), each added as a static type: their
// dicts and subclasses are in that state, not on them (walk_static_builtin_state()),
// and a type no object refers to (a type the interpreter uses inside, an
// exception only raised from C) would leave its dict held by nothing found,
// as if native code held it. Entries fill in order; each one's type names
// it (its tp_subclasses holds 1 + its index): the first that does not ends
// the array.
static void add_static_types(struct walker *w, uint64_t interp)
{
	const struct ph_layout *L = w->L;
	int32_t ty = L->sbs_sizeof > 0 ? L->sbs_type : L->msts_type;
	int32_t sz = L->sbs_sizeof > 0 ? L->sbs_sizeof : L->msts_sizeof;
	int32_t arrays[2] = {L->is_types_builtins, L->is_types_for_extensions};
	if (w->py->minor < 12 || ty < 0 || sz <= 0 || L->tp_subclasses < 0 || !interp)
		return;
	for (int a = 0; a < 2; a++) {
		if (arrays[a] < 0)
			continue;
		for (uint64_t i = 0; i < MAX_STATIC_BUILTIN_TYPES && !nomem_failed(w); i++) {
			// (Within a budget, what their reads brought into the
			// cache is given back as it goes.)
			if (w->bounded && !(i & 15))
				ph_mem_safe_point(M(w));
			uint64_t t = rd64(w, interp + (uint64_t)arrays[a] + i * (uint64_t)sz + (uint64_t)ty);
			if (!t || (t & 7) || rd64(w, t + (uint64_t)L->tp_subclasses) != i + 1)
				break;
			uint32_t idx = intern(w, t, 0);
			if (idx != PH_NONE)
				mark_static_type(w, idx, t);
		}
	}
}

static uint64_t walk_code(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n,
			  const struct tinfo *ti)
{
	const struct ph_layout *L = w->L;
	static const struct {
		size_t off;
		enum ph_field f;
	} fields[] = {
		{offsetof(struct ph_layout, code_code), PH_F_CO_CODE},
		{offsetof(struct ph_layout, code_consts), PH_F_CO_CONSTS},
		{offsetof(struct ph_layout, code_names), PH_F_CO_NAMES},
		{offsetof(struct ph_layout, code_varnames), PH_F_CO_VARNAMES},
		{offsetof(struct ph_layout, code_freevars), PH_F_CO_FREEVARS},
		{offsetof(struct ph_layout, code_cellvars), PH_F_CO_CELLVARS},
		{offsetof(struct ph_layout, code_localsplusnames), PH_F_CO_LOCALSPLUSNAMES},
		{offsetof(struct ph_layout, code_localspluskinds), PH_F_CO_LOCALSPLUSKINDS},
		{offsetof(struct ph_layout, code_filename), PH_F_CO_FILENAME},
		{offsetof(struct ph_layout, code_name), PH_F_CO_NAME},
		{offsetof(struct ph_layout, code_qualname), PH_F_CO_QUALNAME},
		{offsetof(struct ph_layout, code_lnotab), PH_F_CO_LINETABLE},
		{offsetof(struct ph_layout, code_linetable), PH_F_CO_LINETABLE},
		{offsetof(struct ph_layout, code_exceptiontable), PH_F_CO_EXCEPTIONTABLE},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		int32_t off = *(const int32_t *)((const char *)L + fields[i].off);
		if (off >= 0)
			emit_field(w, field64(buf, n, w, addr, off), fields[i].f);
	}
	uint64_t size;
	uint64_t extra_ptr = field64(buf, n, w, addr, L->code_extra);
	if (w->py->minor >= 11) {
		uint64_t nitems = field64(buf, n, w, addr, L->ob_size);
		if (nitems > (1u << 24))
			nitems = 0;
		size = ((uint64_t)ti->basicsize + nitems * (uint64_t)ti->itemsize + 7) & ~7ull;
	} else {
		size = (uint64_t)ti->basicsize;
		uint64_t cell2arg = field64(buf, n, w, addr, L->code_cell2arg);
		uint64_t cellvars = field64(buf, n, w, addr, L->code_cellvars);
		if (cell2arg && cellvars)
			size += tuple_len(w, cellvars) * 8;
		uint64_t opcache = field64(buf, n, w, addr, L->code_opcache);
		if (opcache && L->code_opcache_size >= 0) {
			uint8_t osz = 0;
			ph_mem_read_fast(M(w), addr + (uint64_t)L->code_opcache_size, &osz, 1);
			uint64_t code = field64(buf, n, w, addr, L->code_code);
			size += tuple_len(w, code) / 2 + (uint64_t)osz * 32;
		}
	}
	if (extra_ptr && L->codeextra_size >= 0) {
		uint64_t ce = rd64(w, extra_ptr + (uint64_t)L->codeextra_size);
		if (ce >= 1 && ce < (1u << 16))
			size += 16 + (ce - 1) * 8;
	}
	return size;
}

// What the type's __sizeof__ adds to object.__sizeof__: a BytesIO its
// bytes buffer when not shared (sys.getsizeof of it: up to 3.11 the buffer
// is no referent, so nothing else counts it), a buffered object its buffer.
// A Pickler: its file's write method and the keys of its memo (every object
// pickled since the last clear_memo(), each held); what its __sizeof__ adds:
// the memo table and the output buffer (a bytes object no one else holds,
// not a referent: counted here, as sys.getsizeof does).
static uint64_t walk_pickler(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n)
{
	const struct ph_layout *L = w->L;
	uint64_t size = 0;
	emit_field(w, field64(buf, n, w, addr, L->pickler_write), PH_F_WRITE);
	uint64_t out = field64(buf, n, w, addr, L->pickler_output_buffer);
	uint64_t head[3];
	if (out && ph_mem_read_fast(M(w), out, head, sizeof(head)) &&
	    head[1] == w->py->sym[SYM_PyBytes_Type] && head[2] < (1ull << 40)) {
		const struct tinfo *bt = type_lookup(w, head[1]);
		size += (uint64_t)(bt ? bt->basicsize : 33) + head[2];
	}
	uint64_t memo = field64(buf, n, w, addr, L->pickler_memo);
	if (!memo)
		return size;
	uint64_t allocated, table;
	if (!rdok(w, memo + (uint64_t)L->memotable_allocated, &allocated) ||
	    !rdok(w, memo + (uint64_t)L->memotable_table, &table) || allocated > MAX_ITEMS) {
		note_unreadable(w);
		return size;
	}
	size += (uint64_t)L->memotable_sizeof + allocated * 16;
	uint64_t chunk[2 * CHUNK];
	for (uint64_t i = 0; i < allocated; i += CHUNK) {
		uint64_t m = allocated - i < CHUNK ? allocated - i : CHUNK;
		if (!ph_mem_read_fast(M(w), table + i * 16, chunk, m * 16)) {
			note_unreadable(w);
			break;
		}
		for (uint64_t j = 0; j < m; j++)
			emit_field(w, chunk[2 * j], PH_F_MEMO);
	}
	return size;
}

static uint64_t buffer_extra_size(struct walker *w, const struct tinfo *ti, uint64_t addr,
			      const uint8_t *buf, size_t n)
{
	const struct ph_layout *L = w->L;
	if (ti->buffer_sizeof == BUF_BYTESIO) {
		uint64_t b = field64(buf, n, w, addr, L->bytesio_buf);
		if (w->py->minor >= 12) {
			// 3.12+ traverses the buffer: a referent, counted as itself
			// (the in-process census finds it first and sees it shared).
			emit_field(w, b, PH_F_BUFFER);
			return 0;
		}
		uint64_t head[3];
		if (!b || !ph_mem_read_fast(M(w), b, head, sizeof(head)))
			return 0;
		uint32_t refcnt = (uint32_t)head[0];
		if (refcnt != 1 || head[1] != w->py->sym[SYM_PyBytes_Type] || head[2] > (1ull << 40))
			return 0;
		const struct tinfo *bt = type_lookup(w, head[1]);
		int64_t basic = bt ? bt->basicsize : 33;
		return (uint64_t)basic + head[2];
	}
	if (ti->buffer_sizeof == BUF_ARRAY) {
		// array.array: allocated items of its descriptor's item size.
		uint64_t allocated = field64(buf, n, w, addr, L->array_allocated);
		uint64_t descr = field64(buf, n, w, addr, L->array_descr);
		int32_t itemsize = 0;
		if (!descr || allocated > (1ull << 40) ||
		    !ph_mem_read_fast(M(w), descr + (uint64_t)L->arraydescr_itemsize, &itemsize,
				 sizeof(itemsize)) ||
		    itemsize <= 0 || itemsize > 16)
			return 0;
		return allocated * (uint64_t)itemsize;
	}
	if (ti->buffer_sizeof == BUF_PICKLER)
		return walk_pickler(w, addr, buf, n);
	if (ti->buffer_sizeof == BUF_STRUCT) {
		// _struct.Struct: its format codes, the last one's fmtdef NULL.
		uint64_t codes = field64(buf, n, w, addr, L->struct_codes);
		uint64_t step = (uint64_t)L->formatcode_sizeof;
		for (uint64_t k = 0; codes && k < MAX_STRUCT_CODES; k++) {
			uint64_t fmtdef;
			if (!rdok(w, codes + k * step + (uint64_t)L->formatcode_fmtdef, &fmtdef))
				break;
			if (!fmtdef)
				return (k + 1) * step;
		}
		note_unreadable(w);
		return 0;
	}
	if (ti->buffer_sizeof == BUF_BUFFERED) {
		uint64_t size = field64(buf, n, w, addr, L->buffered_buffer_size);
		return field64(buf, n, w, addr, L->buffered_buffer) && size < (1ull << 40) ? size : 0;
	}
	return 0;
}

// What the __sizeof__ of an itertools combinatoric iterator adds: its index
// arrays, a word per item of its pool tuple(s) and/or per r. 0 when a count
// is not plausible.
static uint64_t cfield_extra_size(struct walker *w, const struct cfield_type *c, uint64_t addr,
				  const uint8_t *buf, size_t n)
{
	const struct ph_layout *L = w->L;
	uint64_t words = 0;
	if (c->extra == CX_POOL || c->extra == CX_POOL_R) {
		uint64_t pool = field64(buf, n, w, addr, layout_at(L, c->f[0].off)), len;
		if (!pool || !rdok(w, pool + (uint64_t)L->ob_size, &len) || len > (1u << 28))
			return 0;
		words += len;
	}
	if (c->extra == CX_R || c->extra == CX_POOL_R) {
		uint64_t r = field64(buf, n, w, addr, layout_at(L, c->r));
		if (r > (1u << 28))
			return 0;
		words += r;
	}
	return words * 8;
}

/* ---- xml.etree.ElementTree.Element (C) ---- */

// What element_gc_traverse visits: the tag, text and tail (a flag in their
// low bit: the text was joined), the attribute dict and the children, each
// labelled as Python spells it (elem.text, elem.attrib, elem[i]). Returns
// what its __sizeof__ adds to the struct: the extra part, and the children's
// array when it is not the inline one.
static uint64_t walk_element(struct walker *w, uint64_t addr, const uint8_t *buf, size_t n)
{
	const struct ph_layout *L = w->L;
	emit_field(w, field64(buf, n, w, addr, L->elem_tag), PH_F_TAG);
	emit_field(w, field64(buf, n, w, addr, L->elem_text) & ~1ull, PH_F_TEXT);
	emit_field(w, field64(buf, n, w, addr, L->elem_tail) & ~1ull, PH_F_TAIL);
	uint64_t extra = field64(buf, n, w, addr, L->elem_extra);
	if (!extra)
		return 0;
	uint64_t e[4];
	int32_t need = L->elemextra_children + 8;
	if (need > (int32_t)sizeof(e) || L->elemextra_attrib < 0 || L->elemextra_length < 0 ||
	    L->elemextra_allocated < 0 ||
	    (L->elemextra_attrib | L->elemextra_length | L->elemextra_allocated |
	     L->elemextra_children) % 8 ||
	    !ph_mem_read_fast(M(w), extra, e, (size_t)need)) {
		note_unreadable(w);
		return 0;
	}
	uint64_t attrib = e[L->elemextra_attrib / 8], length = e[L->elemextra_length / 8];
	uint64_t allocated = e[L->elemextra_allocated / 8], children = e[L->elemextra_children / 8];
	emit_field(w, attrib, PH_F_ATTRIB);
	if (length > allocated || allocated > MAX_ITEMS) {
		note_unreadable(w);
		return (uint64_t)L->elemextra_sizeof;
	}
	emit_array(w, children, length, PH_EDGE_INDEX);
	bool inline_children = children == extra + (uint64_t)L->elemextra_inline;
	return (uint64_t)L->elemextra_sizeof + (inline_children ? 0 : allocated * 8);
}

/* ---- asyncio.Future and asyncio.Task (C) ---- */

// What FutureObj_traverse and TaskObj_traverse visit, labelled like the
// attributes of the pure-Python asyncio classes.
static void walk_future(struct walker *w, uint32_t idx, uint64_t addr, const uint8_t *buf,
			size_t n, const struct tinfo *ti, bool task)
{
	const struct ph_layout *L = w->L;
	static const struct {
		size_t off; /* offsetof(struct ph_layout, field) */
		enum ph_field label;
	} fields[] = {
		{offsetof(struct ph_layout, fut_loop), PH_F_FUT_LOOP},
		{offsetof(struct ph_layout, fut_callback0), PH_F_FUT_CALLBACK0},
		{offsetof(struct ph_layout, fut_context0), PH_F_FUT_CONTEXT0},
		{offsetof(struct ph_layout, fut_callbacks), PH_F_FUT_CALLBACKS},
		{offsetof(struct ph_layout, fut_result), PH_F_FUT_RESULT},
		{offsetof(struct ph_layout, fut_exception), PH_F_FUT_EXCEPTION},
		{offsetof(struct ph_layout, fut_exception_tb), PH_F_FUT_EXCEPTION_TB},
		{offsetof(struct ph_layout, fut_source_tb), PH_F_FUT_SOURCE_TB},
		{offsetof(struct ph_layout, fut_cancel_msg), PH_F_FUT_CANCEL_MSG},
		{offsetof(struct ph_layout, fut_cancelled_exc), PH_F_FUT_CANCELLED_EXC},
		{offsetof(struct ph_layout, fut_awaited_by), PH_F_FUT_AWAITED_BY},
		{offsetof(struct ph_layout, task_context), PH_F_TASK_CONTEXT},
		{offsetof(struct ph_layout, task_coro), PH_F_TASK_CORO},
		{offsetof(struct ph_layout, task_name), PH_F_TASK_NAME},
		{offsetof(struct ph_layout, task_fut_waiter), PH_F_TASK_FUT_WAITER},
	};
	int32_t limit = task ? L->task_sizeof : L->fut_sizeof;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!task && fields[i].label >= PH_F_TASK_FUT_WAITER)
			continue;
		int32_t off = *(const int32_t *)((const char *)L + fields[i].off);
		if (off >= 16 && off + 8 <= limit)
			emit_field(w, field64(buf, n, w, addr, off), fields[i].label);
	}
	// The instance dict: a field up to 3.12, managed since 3.13 (a
	// subclass's is walked with the rest of its instance).
	if (ti->python_class)
		return;
	if (L->fut_dict >= 16 && L->fut_dict + 8 <= limit) {
		uint64_t dict = field64(buf, n, w, addr, L->fut_dict);
		emit_field(w, dict, PH_F_DICT);
		if (ti->flags & TPF_HEAPTYPE)
			add_owner(w, dict, idx, false);
	} else if (w->py->minor >= 13 && (ti->flags & TPF_MANAGED_DICT))
		walk_managed_dict(w, idx, addr, ti);
}

static int32_t ph_code_line(struct walker *w, uint64_t code, uint64_t off);

// Notes the line object @idx (a suspended generator, coroutine, a frame
// object; @depth PH_NONE), or the frame at @depth of greenlet @idx, is at:
// at byte @off of @code's instructions. (The processing thread only, in the
// objects' order, each object's frames by depth: the list stays sorted.)
// Without memory, none: a line is a label, not part of the heap.
static void note_line(struct walker *w, uint32_t idx, uint32_t depth, uint64_t code, uint64_t off)
{
	struct ph_snapshot *s = w->snap;
	int32_t line = ph_code_line(w, code, off);
	if (line < 0)
		return;
	if (s->nobj_lines == w->capobj_lines) {
		size_t nc = w->capobj_lines ? w->capobj_lines * 2 : 64;
		struct ph_obj_line *l = reallocarray(s->obj_lines, nc, sizeof(*l));
		if (!l)
			return;
		s->obj_lines = l;
		w->capobj_lines = nc;
	}
	s->obj_lines[s->nobj_lines++] = (struct ph_obj_line){idx, depth, line};
}

static void process(struct walker *w, uint32_t idx)
{
	const struct ph_layout *L = w->L;
	struct ph_snapshot *s = w->snap;
	uint64_t addr = s->objects[idx].address;
	// (Types enter the walker's table and the snapshot together: same index.)
	const struct tinfo *ti = w->types[s->objects[idx].type];
	uint8_t copy[HEAD_BYTES];
	size_t n = ti->basicsize < HEAD_BYTES ? (size_t)ti->basicsize : HEAD_BYTES;
	if (n < 16)
		n = 16;
	// Read the object's fixed part in place when it lies in one cache block.
	const uint8_t *buf = ph_mem_ptr_fast(M(w), addr, n);
	if (!buf) {
		buf = copy;
		if (!ph_mem_read_fast(M(w), addr, copy, n)) {
			// The tail may cross into unreadable memory: fall back to the head.
			n = 16;
			if (!ph_mem_read_fast(M(w), addr, copy, n)) {
				note_unreadable(w);
				return;
			}
		}
	}
	uint64_t obsize = ti->itemsize ? field64(buf, n, w, addr, L->ob_size) : 0;
	int64_t nitems = (int64_t)obsize;
	// object.__sizeof__: basicsize + ob_size * itemsize.
	uint64_t size = (uint64_t)ti->basicsize;
	if (ti->itemsize > 0 && nitems > 0 && nitems < MAX_ITEMS)
		size += (uint64_t)nitems * (uint64_t)ti->itemsize;
	bool obj_is_type = ti->is_metatype;
	uint64_t obj_tflags = obj_is_type ? field64(buf, n, w, addr, L->tp_flags) : 0;
	uint64_t extra = 0;

	if (ti->python_class)
		extra += walk_python_instance(w, idx, addr, buf, n, ti);

	switch (ti->kind) {
	case K_TYPE:
		walk_type_object(w, addr, &size);
		mark_static_type(w, idx, addr);
		if (ti->ctypes_meta) {
			// CType_Type.__sizeof__: its metatype's size, and its StgInfo's
			// buffers (PyObject_GetTypeData(): after a heap type, aligned).
			uint64_t info = addr + (((uint64_t)L->ht_sizeof + 15) & ~15ull);
			size = (uint64_t)ti->basicsize +
			       stg_extra(w, info, L->stginfo_format, L->stginfo_ndim,
					 L->stginfo_length, L->stginfo_elements);
		}
		break;
	case K_DICT: {
		struct table_fill fill = {0};
		size = (uint64_t)ti->basicsize +
		       walk_dict(w, addr, buf, n, ti->stgdict || ti->odict ? NULL : &fill);
		if (fill.freed)
			note_sparse_table(w, idx, &fill);
		if (ti->stgdict) {
			// PyCStgDict_sizeof(): the dict's size (its type's basic size
			// already), the StgDict's part beyond a dict once more, and the
			// buffers.
			uint64_t dict_basic = w->py->sym[SYM_PyDict_Type]
						      ? rd64(w, w->py->sym[SYM_PyDict_Type] +
								(uint64_t)L->tp_basicsize)
						      : 0;
			if (dict_basic && dict_basic < (uint64_t)ti->basicsize)
				size += (uint64_t)ti->basicsize - dict_basic;
			size += stg_extra(w, addr, L->stgdict_format, L->stgdict_ndim,
					  L->stgdict_length, L->stgdict_elements);
		}
		if (ti->odict) {
			// OrderedDict.__sizeof__: its fast-lookup array (a pointer
			// per slot of the keys table) and a node per item.
			uint64_t fast = field64(buf, n, w, addr, L->odict_fast_nodes_size);
			uint64_t used = field64(buf, n, w, addr, L->dict_used);
			if (fast <= MAX_ITEMS && used <= MAX_ITEMS)
				size += fast * 8 + used * (uint64_t)L->odictnode_sizeof;
			else
				note_unreadable(w);
		}
		break;
	}
	case K_LIST: {
		// list has tp_itemsize 0 but a real ob_size.
		obsize = field64(buf, n, w, addr, L->ob_size);
		uint64_t items = field64(buf, n, w, addr, L->list_item);
		uint64_t alloc = field64(buf, n, w, addr, L->list_allocated);
		if (obsize > alloc || alloc > MAX_ITEMS) {
			note_unreadable(w);
			break;
		}
		emit_array(w, items, obsize, PH_EDGE_INDEX);
		size = (uint64_t)ti->basicsize + alloc * 8;
		break;
	}
	case K_TUPLE:
		if (obsize > MAX_ITEMS) {
			note_unreadable(w);
			break;
		}
		emit_array(w, addr + (uint64_t)L->tuple_item, obsize, PH_EDGE_INDEX);
		break;
	case K_SET: {
		uint64_t table = field64(buf, n, w, addr, L->set_table);
		uint64_t mask = field64(buf, n, w, addr, L->set_mask);
		if (mask >= MAX_ITEMS || ((mask + 1) & mask)) {
			note_unreadable(w);
			break;
		}
		uint64_t esz = (uint64_t)L->setentry_sizeof;
		if (esz != 16) {
			note_unreadable(w);
			break;
		}
		uint64_t ebuf[CHUNK];
		for (uint64_t i0 = 0; i0 <= mask; i0 += CHUNK / 2) {
			uint64_t m = mask + 1 - i0 < CHUNK / 2 ? mask + 1 - i0 : CHUNK / 2;
			const uint64_t *ents = words_at(w, table + i0 * esz, m * esz, ebuf);
			if (!ents) {
				note_unreadable(w);
				break;
			}
			for (uint64_t j = 0; j < m; j++) {
				uint64_t key = ents[(j * esz + (uint64_t)L->setentry_key) / 8];
				if (key && key != w->set_dummy)
					emit(w, key, PH_EDGE(PH_EDGE_SET_ITEM, i0 + j));
			}
		}
		if (table != addr + (uint64_t)L->set_smalltable) {
			size += (mask + 1) * esz;
			uint64_t used = field64(buf, n, w, addr, L->set_used);
			if (used * 100 < (mask + 1) * PH_SPARSE_TABLE_PCT) {
				struct table_fill fill = {used, mask + 1,
							  (mask + 1) * esz -
								  set_copy_table_bytes(used, esz)};
				note_sparse_table(w, idx, &fill);
			}
		}
		break;
	}
	case K_STR: {
		size = str_size(w, addr, buf, n);
		// Short strs keep their text: dict keys, names, for labels.
		char text[STR_TEXT_MAX * 4 + 8];
		uint64_t len = field64(buf, n, w, addr, L->ascii_length);
		size_t tlen;
		bool whole = false;
		if (len <= STR_TEXT_MAX && read_str_n(w, addr, text, sizeof(text), &tlen)) {
			size_t kept = strlen(text); // (up to a NUL)
			set_text(w, idx, text, kept);
			whole = !w->hash_values || (kept == tlen && utf8_chars(text, tlen) == len);
		}
		// (--duplicates: the others by a hash of their value)
		if (!whole && w->hash_values && ti->addr == w->py->sym[SYM_PyUnicode_Type])
			hash_str(w, idx, addr, buf, n);
		break;
	}
	case K_INT: {
		uint64_t ndigits;
		if (L->long_tag >= 0) {
			ndigits = field64(buf, n, w, addr, L->long_tag) >> 3;
		} else {
			ndigits = nitems < 0 ? -(uint64_t)nitems : (uint64_t)nitems;
		}
		if (ndigits > (1u << 28))
			ndigits = 0;
		bool negative = L->long_tag >= 0
					? (field64(buf, n, w, addr, L->long_tag) & 3) == 2
					: nitems < 0;
		if (ndigits <= 2) {
			uint32_t d[2] = {0, 0};
			if (!ndigits || ph_mem_read_fast(M(w), addr + (uint64_t)L->long_digit, d,
						    ndigits * 4)) {
				uint64_t v = (uint64_t)(d[0] & 0x3fffffff) |
					     (ndigits > 1 ? (uint64_t)(d[1] & 0x3fffffff) << 30 : 0);
				char text[32], *t = text + sizeof(text);
				do
					*--t = (char)('0' + v % 10);
				while (v /= 10);
				if (negative && !(t[0] == '0' && t == text + sizeof(text) - 1))
					*--t = '-';
				set_text(w, idx, t, (size_t)(text + sizeof(text) - t));
			}
		} else if (w->keep_values && ndigits <= INT_VALUE_DIGITS) {
			keep_int(w, idx, addr + (uint64_t)L->long_digit, (unsigned)ndigits, negative);
		}
		if (w->py->minor >= 11 && ndigits < 1)
			ndigits = 1;
		size = (uint64_t)L->long_digit + ndigits * 4;
		break;
	}
	case K_NDARRAY:
		size += walk_ndarray(w, addr, buf, n);
		break;
	case K_BYTEARRAY:
		size = (uint64_t)ti->basicsize + field64(buf, n, w, addr, L->bytearray_alloc);
		if (w->keep_values && ti->addr == w->py->sym[SYM_PyByteArray_Type])
			keep_bytearray(w, idx, addr, (int64_t)field64(buf, n, w, addr, L->ob_size));
		break;
	case K_MODULE: {
		uint64_t d = field64(buf, n, w, addr, L->module_dict);
		emit_field(w, d, PH_F_DICT);
		add_owner(w, d, idx, true);
		walk_module_state(w, addr, buf, n);
		// module.__sizeof__ is object.__sizeof__ in 3.8-3.13 (m_size not counted).
		break;
	}
	case K_FUNCTION: {
		static const struct {
			size_t off;
			enum ph_field f;
		} fields[] = {
			{offsetof(struct ph_layout, func_code), PH_F_CODE},
			{offsetof(struct ph_layout, func_globals), PH_F_GLOBALS},
			{offsetof(struct ph_layout, func_module), PH_F_MODULE},
			{offsetof(struct ph_layout, func_defaults), PH_F_DEFAULTS},
			{offsetof(struct ph_layout, func_kwdefaults), PH_F_KWDEFAULTS},
			{offsetof(struct ph_layout, func_doc), PH_F_DOC},
			{offsetof(struct ph_layout, func_name), PH_F_NAME},
			{offsetof(struct ph_layout, func_dict), PH_F_DICT},
			{offsetof(struct ph_layout, func_closure), PH_F_CLOSURE},
			{offsetof(struct ph_layout, func_annotations), PH_F_ANNOTATIONS},
			{offsetof(struct ph_layout, func_qualname), PH_F_QUALNAME},
			{offsetof(struct ph_layout, func_builtins), PH_F_BUILTINS},
			{offsetof(struct ph_layout, func_typeparams), PH_F_TYPE_PARAMS},
		};
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			int32_t off = *(const int32_t *)((const char *)L + fields[i].off);
			if (off >= 0)
				emit_field(w, field64(buf, n, w, addr, off), fields[i].f);
		}
		break;
	}
	case K_CODE:
		size = walk_code(w, addr, buf, n, ti);
		break;
	case K_CELL:
		emit_field(w, field64(buf, n, w, addr, L->cell_ref), PH_F_CELL_CONTENTS);
		break;
	case K_METHOD:
		emit_field(w, field64(buf, n, w, addr, L->method_func), PH_F_FUNC);
		emit_field(w, field64(buf, n, w, addr, L->method_self), PH_F_SELF);
		break;
	case K_WEAKREF:
		// wr_object is borrowed: only the callback is a referent. The
		// referent is kept apart as a weak edge, never followed.
		emit_field(w, field64(buf, n, w, addr, L->weakref_callback), PH_F_CALLBACK);
		if (L->weakref_object >= 0)
			add_weak(w, idx, field64(buf, n, w, addr, L->weakref_object));
		break;
	case K_CFUNCTION:
		emit_field(w, field64(buf, n, w, addr, L->cfunc_self), PH_F_SELF);
		emit_field(w, field64(buf, n, w, addr, L->cfunc_module), PH_F_MODULE);
		if (L->cmethod_class >= 0 && ti->basicsize > L->cmethod_class &&
		    ti->addr == w->py->sym[SYM_PyCMethod_Type])
			emit_field(w, field64(buf, n, w, addr, L->cmethod_class), PH_F_OBJCLASS);
		break;
	case K_DESCR:
		emit_field(w, field64(buf, n, w, addr, L->descr_type), PH_F_OBJCLASS);
		break;
	case K_CLASSMETHOD:
		emit_field(w, field64(buf, n, w, addr, L->classmethod_callable), PH_F_WRAPPED);
		emit_field(w, field64(buf, n, w, addr, L->classmethod_dict), PH_F_DICT);
		break;
	case K_PROPERTY:
		emit_field(w, field64(buf, n, w, addr, L->property_get), PH_F_FGET);
		emit_field(w, field64(buf, n, w, addr, L->property_set), PH_F_FSET);
		emit_field(w, field64(buf, n, w, addr, L->property_del), PH_F_FDEL);
		emit_field(w, field64(buf, n, w, addr, L->property_doc), PH_F_DOC);
		if (L->property_name >= 0)
			emit_field(w, field64(buf, n, w, addr, L->property_name), PH_F_NAME);
		break;
	case K_MAPPINGPROXY:
		emit_field(w, field64(buf, n, w, addr, L->mappingproxy_mapping), PH_F_MAPPING);
		break;
	case K_EXCEPTION:
		emit_field(w, field64(buf, n, w, addr, L->exc_dict), PH_F_DICT);
		emit_field(w, field64(buf, n, w, addr, L->exc_args), PH_F_ARGS);
		if (L->exc_notes >= 0)
			emit_field(w, field64(buf, n, w, addr, L->exc_notes), PH_F_NOTES);
		emit_field(w, field64(buf, n, w, addr, L->exc_traceback), PH_F_TRACEBACK);
		emit_field(w, field64(buf, n, w, addr, L->exc_context), PH_F_CONTEXT);
		emit_field(w, field64(buf, n, w, addr, L->exc_cause), PH_F_CAUSE);
		break;
	case K_FRAME:
		if (w->py->minor <= 10) {
			uint64_t code = field64(buf, n, w, addr, L->frame_code);
			emit_field(w, field64(buf, n, w, addr, L->frame_back), PH_F_F_BACK);
			emit_field(w, code, PH_F_F_CODE);
			int32_t lasti = rd32(w, addr + (uint64_t)L->frame_lasti);
			note_line(w, idx, PH_NONE, code,
				  lasti < 0 ? 0 : (uint64_t)lasti * (w->py->minor >= 10 ? 2 : 1));
			emit_field(w, field64(buf, n, w, addr, L->frame_builtins), PH_F_BUILTINS);
			emit_field(w, field64(buf, n, w, addr, L->frame_globals), PH_F_GLOBALS);
			emit_field(w, field64(buf, n, w, addr, L->frame_locals), PH_F_F_LOCALS);
			emit_field(w, field64(buf, n, w, addr, L->frame_trace), PH_F_F_TRACE);
			int32_t nlocals = rd32(w, code + (uint64_t)L->code_nlocals);
			uint64_t ncells = tuple_len(w, rd64(w, code + (uint64_t)L->code_cellvars));
			uint64_t nfrees = tuple_len(w, rd64(w, code + (uint64_t)L->code_freevars));
			int32_t stacksize = rd32(w, code + (uint64_t)L->code_stacksize);
			if (nlocals < 0 || nlocals > (1 << 20) || stacksize < 0 || stacksize > (1 << 20))
				break;
			uint64_t slots = (uint64_t)nlocals + ncells + nfrees;
			emit_array(w, addr + (uint64_t)L->frame_localsplus, slots, PH_EDGE_LOCAL);
			uint64_t vs = field64(buf, n, w, addr, L->frame_valuestack);
			uint64_t depth = 0;
			if (L->frame_stackdepth >= 0) {
				int32_t d = rd32(w, addr + (uint64_t)L->frame_stackdepth);
				depth = d > 0 && d <= stacksize ? (uint64_t)d : 0;
			} else {
				uint64_t top = field64(buf, n, w, addr, L->frame_stacktop);
				if (top && vs && top >= vs && (top - vs) / 8 <= (uint64_t)stacksize)
					depth = (top - vs) / 8;
			}
			// (Its value stack follows the locals: slots numbered on.)
			if (vs && depth)
				emit_words_from(w, vs, depth, PH_EDGE(PH_EDGE_LOCAL, (uint32_t)slots),
						false);
			else if (stack_depth_unset(w, addr))
				note_stack_area(w, PH_NONE, idx, PH_NONE, vs, stacksize);
			size = (uint64_t)L->frame_sizeof +
			       ((uint64_t)stacksize + slots - 1) * 8;
		} else {
			emit_field(w, field64(buf, n, w, addr, L->frame_back), PH_F_F_BACK);
			emit_field(w, field64(buf, n, w, addr, L->frame_trace), PH_F_F_TRACE);
			if (L->frame_extra_locals >= 0)
				emit_field(w, field64(buf, n, w, addr, L->frame_extra_locals),
					   PH_F_EXTRA_LOCALS);
			if (L->frame_locals_cache >= 0)
				emit_field(w, field64(buf, n, w, addr, L->frame_locals_cache),
					   PH_F_EXTRA_LOCALS);
			uint64_t f = field64(buf, n, w, addr, L->frame_frame);
			uint64_t data = addr + (uint64_t)L->frame_data;
			uint8_t owner = 0;
			ph_mem_read_fast(M(w), data + (uint64_t)L->iframe_owner, &owner, 1);
			if (owner == 2) /* FRAME_OWNED_BY_FRAME_OBJECT */
				walk_iframe(w, data);
			size = (uint64_t)L->frame_data + (uint64_t)L->iframe_localsplus +
			       code_frame_words(w, iframe_code(w, f)) * 8;
		}
		break;
	case K_DEQUE:
		size = walk_deque(w, addr, buf, n, (uint64_t)ti->basicsize);
		break;
	case K_FUTURE:
	case K_TASK:
		walk_future(w, idx, addr, buf, n, ti, ti->kind == K_TASK);
		break;
	case K_CFIELDS: {
		const struct cfield_type *c = &cfield_types[ti->cfields - 1];
		for (size_t j = 0; j < CFIELDS_MAX && c->f[j].off; j++)
			emit_field(w, field64(buf, n, w, addr, layout_at(L, c->f[j].off)), c->f[j].label);
		if (c->extra)
			extra += cfield_extra_size(w, c, addr, buf, n);
		extra += walk_c_dict(w, idx, addr, buf, n, ti); // (_io.TextIOWrapper's)
		break;
	}
	case K_TEEDATA: {
		// The values read ahead (a tee whose other copy lags keeps them
		// all, block after block through nextlink).
		int32_t numread = 0;
		uint64_t cells = ((uint64_t)L->teedata_sizeof - (uint64_t)L->teedata_values) / 8;
		ph_mem_read_fast(M(w), addr + (uint64_t)L->teedata_numread, &numread, sizeof(numread));
		if (numread < 0 || (uint64_t)numread > cells) {
			note_unreadable(w);
			break;
		}
		emit_field(w, field64(buf, n, w, addr, L->teedata_it), PH_F_ITERATOR);
		emit_field(w, field64(buf, n, w, addr, L->teedata_nextlink), PH_F_NEXT);
		emit_array(w, addr + (uint64_t)L->teedata_values, (uint64_t)numread, PH_EDGE_INDEX);
		break;
	}
	case K_ELEMENT:
		size = (uint64_t)ti->basicsize + walk_element(w, addr, buf, n);
		break;
	case K_SIMPLEQUEUE:
		if (L->sq_lst >= 0) {
			// A list (items before lst_pos are taken already).
			emit_field(w, field64(buf, n, w, addr, L->sq_lst), PH_F_ITEMS);
		} else {
			// 3.13+: a ring buffer of num_items from get_idx.
			uint64_t items = field64(buf, n, w, addr, L->sq_buf_items);
			uint64_t get = field64(buf, n, w, addr, L->sq_buf_get_idx);
			uint64_t cap = field64(buf, n, w, addr, L->sq_buf_items_cap);
			uint64_t num = field64(buf, n, w, addr, L->sq_buf_num_items);
			if (cap > MAX_ITEMS || num > cap || get >= (cap ? cap : 1)) {
				note_unreadable(w);
				break;
			}
			uint64_t first = cap - get < num ? cap - get : num;
			emit_array(w, items + get * 8, first, PH_EDGE_INDEX);
			// The wrapped part: indexes go on from first.
			uint64_t words[CHUNK];
			for (uint64_t i0 = 0; i0 < num - first; i0 += CHUNK) {
				uint64_t m = num - first - i0 < CHUNK ? num - first - i0 : CHUNK;
				if (!ph_mem_read_fast(M(w), items + i0 * 8, words, m * 8)) {
					note_unreadable(w);
					break;
				}
				for (uint64_t j = 0; j < m; j++)
					emit(w, words[j], PH_EDGE(PH_EDGE_INDEX, first + i0 + j));
			}
		}
		break;
	case K_FUTURE_ITER:
		emit_field(w, field64(buf, n, w, addr, L->futiter_future), PH_F_FUTURE);
		break;
	case K_LRU_WRAPPER:
		emit_field(w, field64(buf, n, w, addr, L->lru_func), PH_F_WRAPPED);
		emit_field(w, field64(buf, n, w, addr, L->lru_cache), PH_F_LRU_CACHE);
		if (L->lru_kwd_mark >= 0)
			emit_field(w, field64(buf, n, w, addr, L->lru_kwd_mark), PH_F_LRU_KWD_MARK);
		if (L->lru_cache_info_type >= 0)
			emit_field(w, field64(buf, n, w, addr, L->lru_cache_info_type),
				   PH_F_LRU_CACHE_INFO_TYPE);
		if (L->lru_dict >= 0 && !ti->python_class) {
			uint64_t dict = field64(buf, n, w, addr, L->lru_dict);
			emit_field(w, dict, PH_F_DICT);
			if (ti->flags & TPF_HEAPTYPE)
				add_owner(w, dict, idx, false);
		}
		break;
	case K_CONTEXT:
		emit_field(w, field64(buf, n, w, addr, L->ctx_prev), PH_F_CTX_PREV);
		emit_field(w, field64(buf, n, w, addr, L->ctx_vars), PH_F_CTX_VARS);
		break;
	case K_CONTEXTVAR:
		emit_field(w, field64(buf, n, w, addr, L->cvar_name), PH_F_NAME);
		// (var_cached is borrowed: contextvar_tp_traverse leaves it out.)
		emit_field(w, field64(buf, n, w, addr, L->cvar_default), PH_F_CVAR_DEFAULT);
		break;
	case K_CTX_TOKEN:
		emit_field(w, field64(buf, n, w, addr, L->ctok_ctx), PH_F_TOK_CONTEXT);
		emit_field(w, field64(buf, n, w, addr, L->ctok_var), PH_F_TOK_VAR);
		if (L->ctok_val >= 0)
			emit_field(w, field64(buf, n, w, addr, L->ctok_val), PH_F_TOK_OLD_VALUE);
		break;
	case K_HAMT:
		emit_field(w, field64(buf, n, w, addr, L->hamt_root), PH_F_HAMT_ROOT);
		break;
	case K_HAMT_BITMAP:
	case K_HAMT_COLLISION:
		// Keys and values in turn (a NULL key: the value is a subnode).
		if (obsize > (ti->kind == K_HAMT_BITMAP ? 64u : 1u << 16)) {
			note_unreadable(w);
			break;
		}
		emit_array(w, addr + (uint64_t)(ti->kind == K_HAMT_BITMAP ? L->hamtb_array
									    : L->hamtc_array),
			   obsize, PH_EDGE_INDEX);
		break;
	case K_HAMT_ARRAY:
		emit_array(w, addr + (uint64_t)L->hamta_array, 32, PH_EDGE_INDEX);
		break;
	case K_LRU_ELEM:
		emit_field(w, field64(buf, n, w, addr, L->lrue_key), PH_F_KEY);
		emit_field(w, field64(buf, n, w, addr, L->lrue_result), PH_F_RESULT);
		break;
	case K_TASK_WRAPPER:
		// Both wrappers start with the task; the step wrapper adds its
		// argument (the two structs differ in size).
		if ((uint64_t)ti->basicsize == (uint64_t)L->stepwrap_sizeof && L->stepwrap_arg >= 0) {
			emit_field(w, field64(buf, n, w, addr, L->stepwrap_task), PH_F_SELF);
			emit_field(w, field64(buf, n, w, addr, L->stepwrap_arg), PH_F_ARGS);
		} else {
			emit_field(w, field64(buf, n, w, addr, L->wakeup_task), PH_F_SELF);
		}
		break;
	case K_GEN:
		if (w->py->minor <= 10) {
			emit_field(w, field64(buf, n, w, addr, L->gen_frame), PH_F_GI_FRAME);
			emit_field(w, field64(buf, n, w, addr, L->gen_code), PH_F_CODE);
			emit_field(w, field64(buf, n, w, addr, L->gen_name), PH_F_NAME);
			emit_field(w, field64(buf, n, w, addr, L->gen_qualname), PH_F_QUALNAME);
			uint64_t exc = addr + (uint64_t)L->gen_exc_state;
			emit_field(w, rd64(w, exc + (uint64_t)L->excitem_type), PH_F_EXC);
			emit_field(w, rd64(w, exc + (uint64_t)L->excitem_value), PH_F_EXC);
			emit_field(w, rd64(w, exc + (uint64_t)L->excitem_traceback), PH_F_EXC);
		} else {
			if (L->gen_code >= 0)
				emit_field(w, field64(buf, n, w, addr, L->gen_code), PH_F_CODE);
			emit_field(w, field64(buf, n, w, addr, L->gen_name), PH_F_NAME);
			emit_field(w, field64(buf, n, w, addr, L->gen_qualname), PH_F_QUALNAME);
			emit_field(w,
				   rd64(w, addr + (uint64_t)L->gen_exc_state +
						   (uint64_t)L->excitem_value),
				   PH_F_EXC);
			int8_t state = 0;
			ph_mem_read_fast(M(w), addr + (uint64_t)L->gen_frame_state, &state, 1);
			uint64_t f = addr + (uint64_t)L->gen_iframe;
			if (state < 4) { /* FRAME_CLEARED */
				walk_iframe(w, f);
				// (Where it is suspended, as a thread's frame's line.)
				uint64_t code = iframe_code(w, f), instr = rd64(w, f + (uint64_t)L->iframe_instr);
				uint64_t start = code + (uint64_t)L->code_code_adaptive;
				if (code && instr >= start)
					note_line(w, idx, PH_NONE, code, instr - start);
			}
			size = (uint64_t)L->gen_iframe + (uint64_t)L->iframe_localsplus +
			       code_frame_words(w, iframe_code(w, f)) * 8;
		}
		break;
	case K_FLOAT:
		if (w->keep_values && ti->addr == w->py->sym[SYM_PyFloat_Type])
			keep_float(w, idx, addr, buf, n, ti);
		break;
	case K_BYTES:
		if (w->hash_values && ti->addr == w->py->sym[SYM_PyBytes_Type] && nitems >= 0)
			hash_bytes(w, idx, addr, (uint64_t)nitems);
		if (w->keep_values && ti->addr == w->py->sym[SYM_PyBytes_Type] && nitems >= 0)
			keep_bytes(w, idx, addr, (uint64_t)nitems);
		break;
	case K_OTHER:
		if (ti->dt_value == DT_DECIMAL)
			keep_decimal(w, idx, addr);
		else if (ti->dt_value == DT_COMPLEX)
			keep_complex(w, idx, addr);
		else if (ti->dt_value)
			keep_datetime(w, idx, addr, ti->dt_value);
		if (ti->dt_struct == DT_DATETIME || ti->dt_struct == DT_TIME ||
		    ti->dt_struct == DT_TIMEZONE)
			walk_datetime(w, addr, buf, n, ti->dt_struct);
		if (ti->buffer_sizeof)
			extra += buffer_extra_size(w, ti, addr, buf, n);
		// A C type's object members (collect_slots()); and its instance
		// dict, which it almost always visits.
		for (uint32_t i = 0; !ti->python_class && i < ti->nslots; i++)
			emit(w, field64(buf, n, w, addr, (int32_t)ti->slot_offsets[i]),
			     PH_EDGE(PH_EDGE_SLOT, i));
		if (!ti->python_class)
			extra += walk_c_dict(w, idx, addr, buf, n, ti);
		if (ti->scan_words)
			scan_struct(w, addr, buf, n, w->types[s->objects[idx].type]);
		if (ti->greenlet)
			walk_greenlet(w, idx, addr, buf, n, ti);
		break;
	}
	size += gc_header(w, ti, obj_tflags, obj_is_type, ti->addr) + extra;
	s->objects[idx].size = size < PH_MAX_SIZE ? size : PH_MAX_SIZE;
}

/* ---- GC lists and interpreters ---- */

static void note_torn_list(struct walker *w)
{
	note_unreadable(w);
	if (!w->snap->truncated) {
		w->snap->truncated = true;
		free(w->snap->truncated_reason);
		w->snap->truncated_reason =
			strdup("a GC list was being changed when the target stopped; objects in its "
			       "torn part may be missing");
	}
}

// True if the object at @addr is already in the snapshot (no memory read
// beyond the bitmap for an aligned address).
static bool known_object(struct walker *w, uint64_t addr)
{
	own_lookup(w);
	if (!(addr & 15)) {
		const uint64_t *bits = w->bcap ? block_bits(w, addr >> 16, false) : NULL;
		return bits && test_bit(bits, addr);
	}
	return object_lookup(w, addr) != PH_NONE;
}

// The neighbour @n of GC node @from (through its _gc_next if @via_next):
// added if it is new; a new one must link back to @from.
static void gc_neighbour(struct walker *w, uint64_t from, uint64_t n, bool via_next)
{
	uint64_t gch = (uint64_t)w->L->gchead_sizeof;
	// (Known first: nearly every neighbour is, and a head never is one.)
	if (!n || known_object(w, n + gch) || is_list_head(w, n))
		return;
	size_t before = w->snap->gc_objects;
	if (intern(w, n + gch, 0) == PH_NONE || nomem_failed(w))
		return;
	// A list links only tracked objects, each back to its neighbour.
	if (w->snap->gc_objects == before ||
	    (!w->collecting && (via_next ? w->last_prev : w->last_next) != from))
		note_torn_list(w);
}

// The GC lists without a chase from their heads: every object in a list is
// found by the walk, from the roots, or as a neighbour in its list of one
// already found (the two objects next to each head are added first, once
// the roots' closure is complete: finish_roots()). The
// links of each object in a list were kept when it was added; visiting them
// costs a bit test each when the neighbours are known already, and the
// neighbours of new ones are visited in turn. While a collection runs,
// _gc_prev holds reference counts: only _gc_next is followed. Visits at most
// @slice of them; returns true if objects were added.
// gc_expand() with a bounded cache: the links are not kept but read again,
// from the objects flagged as in a list, in batches of vectored reads.
static bool gc_expand_bounded(struct walker *w, size_t slice)
{
	struct ph_snapshot *s = w->snap;
	size_t before = s->nobjects;
	uint64_t links[PH_MEM_PEEKV_MAX][2];
	struct ph_mem_iov iov[PH_MEM_PEEKV_MAX];
	uint32_t which[PH_MEM_PEEKV_MAX];
	bool ok[PH_MEM_PEEKV_MAX];
	for (size_t end = w->gcn_at + slice; w->gcn_at < s->nobjects && w->gcn_at < end;) {
		size_t m = 0;
		for (; w->gcn_at < s->nobjects && w->gcn_at < end && m < PH_MEM_PEEKV_MAX; w->gcn_at++) {
			if (!(s->objects[w->gcn_at].flags & PH_OBJ_GC_LIST))
				continue;
			which[m] = (uint32_t)w->gcn_at;
			iov[m] = (struct ph_mem_iov){s->objects[w->gcn_at].address - 16, links[m], 16};
			m++;
		}
		ph_mem_peekv(M(w), iov, m, ok);
		for (size_t k = 0; k < m; k++) {
			if (nomem_failed(w) || s->nobjects >= max_objects(w))
				return s->nobjects > before;
			if (!ok[k]) {
				note_unreadable(w);
				continue;
			}
			uint64_t node = s->objects[which[k]].address - 16;
			gc_neighbour(w, node, links[k][0] & ~3ull, true);
			if (!w->collecting)
				gc_neighbour(w, node, links[k][1] & ~3ull, false);
		}
	}
	return s->nobjects > before;
}

// True if the object after the GC node @n is known by its bit alone (a
// block seen lately): nearly every neighbour, when the lists are visited.
static inline bool gc_known_fast(const struct walker *w, uint64_t n)
{
	uint64_t a = n + 16;
	const struct bdirect *d = &w->bdirect[(a >> 16) & (BDIRECT - 1)];
	return !(a & 15) && d->bn == a >> 16 && d->bits && test_bit(d->bits, a);
}

// Once every object is found: the slots of the value stacks noted with the
// roots (note_stack_area()) that hold an object's address, the first of
// each object (innermost frames first), so that what only a running frame
// holds can say where (snapshot's stack_refs). Nothing is added: a slot
// above the stack's top may hold an object popped since, and only objects
// that nothing found explains are named by it. False when memory runs out.
static bool scan_stack_areas(struct walker *w)
{
	struct ph_snapshot *s = w->snap;
	if (!w->nstack_areas || !s->nobjects)
		return true;
	uint64_t *seen = calloc((s->nobjects + 63) / 64, sizeof(*seen));
	if (!seen)
		return false;
	struct ph_stack_ref *refs = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < w->nstack_areas; i++) {
		const struct stack_area *a = &w->stack_areas[i];
		for (uint32_t k = 0; k < a->n; k++) {
			uint64_t v = stackref(w, w->stack_words[a->first + k]);
			uint32_t idx = v && !(v & 7) ? object_lookup(w, v) : PH_NONE;
			if (idx == PH_NONE || (seen[idx / 64] >> (idx % 64) & 1))
				continue;
			if (n == cap) {
				struct ph_stack_ref *r = grow_array(w, refs, &cap, sizeof(*r), 64);
				if (!r) {
					free(seen);
					free(refs);
					return false;
				}
				refs = r;
			}
			seen[idx / 64] |= 1ull << (idx % 64);
			refs[n++] = (struct ph_stack_ref){idx, a->root, a->holder, a->depth, k};
		}
	}
	free(seen);
	if (n)
		qsort(refs, n, sizeof(*refs), by_object);
	s->stack_refs = refs;
	s->nstack_refs = n;
	return true;
}

enum { STATIC_CHUNK = 4096 }; /* bytes of static data read at a time (a page) */

// The index of file @name among the snapshot's static_files, added if new;
// UINT32_MAX when memory runs out.
static uint32_t static_file(struct ph_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->nstatic_files; i++)
		if (!strcmp(s->static_files[i], name))
			return (uint32_t)i;
	char **n = reallocarray(s->static_files, s->nstatic_files + 1, sizeof(*n));
	if (!n)
		return UINT32_MAX;
	s->static_files = n;
	if (!(n[s->nstatic_files] = strdup(name)))
		return UINT32_MAX;
	return (uint32_t)s->nstatic_files++;
}

// Once every object is found: the words of the ELF files' static data
// (py->static_areas: C extensions' static variables, the interpreter's own)
// that hold an object's address, the first of each object (in the order of
// the files' mappings, the interpreter's last, then of addresses), so that
// what native code holds can say where (snapshot's static_refs). Nothing is
// added. A page that cannot be read is passed over, and of a process
// copied, a page the copy does not hold (never written). False when memory
// runs out.
static bool scan_static_areas(struct walker *w)
{
	const struct ph_python *py = w->py;
	struct ph_snapshot *s = w->snap;
	// Of a process copied while it was stopped, only what the copy holds
	// (it runs again now; a page not copied was never written: zeros); read
	// live, the rest through the cache, while it is stopped.
	struct ph_mem_stats st;
	ph_mem_get_stats(M(w), &st);
	bool copy_only = py->live_checks && st.copied;
	if (!py->nstatic_areas || !s->nobjects)
		return true;
	uint64_t *seen = calloc((s->nobjects + 63) / 64, sizeof(*seen));
	if (!seen)
		return false;
	struct ph_static_ref *refs = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;
	uint64_t page[STATIC_CHUNK / 8];
	// The interpreter's own static data last (its caches keep pointers to
	// objects long used: an extension's variable names what it holds
	// first), and not _PyRuntime, whose state the walk reads as such.
	uint64_t rt = py->sym[SYM_PyRuntime], rt_end = rt + py->runtime_size;
	for (size_t i = 0; i < 2 * py->nstatic_areas && ok; i++) {
		const struct ph_static_area *ar = &py->static_areas[i % py->nstatic_areas];
		if (ar->interpreter != (i >= py->nstatic_areas))
			continue;
		uint32_t file = UINT32_MAX;
		uint64_t no_objects = 0; // (a 64 KiB block found to hold no object, + 1)
		for (uint64_t at = ar->start & ~(uint64_t)7; at < ar->end && ok; at += sizeof(page)) {
			size_t len = ar->end - at < sizeof(page) ? (size_t)(ar->end - at) : sizeof(page);
			len &= ~(size_t)7;
			const uint64_t *words = copy_only ? ph_mem_cached(M(w), at, len)
							  : ph_mem_ptr_fast(M(w), at, len);
			if (!words && (copy_only || !ph_mem_read(M(w), at, page, len)))
				continue;
			if (!words)
				words = page;
			for (size_t k = 0; k < len / 8; k++) {
				uint64_t v = words[k];
				// (Not the objects in this static data itself: static
				// types and strings, which no one frees; nor, again,
				// code and constants in a block of no object.)
				uint64_t where = at + k * 8;
				if (!v || (v & 7) || (v >= ar->start && v < ar->end) ||
				    (v >> 16) + 1 == no_objects || (where >= rt && where < rt_end))
					continue;
				if (!(v & 15) && !(w->bcap ? block_bits(w, v >> 16, false) : NULL)) {
					no_objects = (v >> 16) + 1;
					continue;
				}
				uint32_t idx = object_lookup(w, v);
				if (idx == PH_NONE || (seen[idx / 64] >> (idx % 64) & 1))
					continue;
				if (file == UINT32_MAX && (file = static_file(s, ar->file)) == UINT32_MAX) {
					ok = false;
					break;
				}
				if (n == cap) {
					struct ph_static_ref *r = grow_array(w, refs, &cap, sizeof(*r), 256);
					if (!r) {
						ok = false;
						break;
					}
					refs = r;
				}
				seen[idx / 64] |= 1ull << (idx % 64);
				refs[n++] = (struct ph_static_ref){idx, file, where - ar->base};
			}
		}
	}
	free(seen);
	if (!ok) {
		free(refs);
		return false;
	}
	if (n)
		qsort(refs, n, sizeof(*refs), by_object);
	s->static_refs = refs;
	s->nstatic_refs = n;
	return true;
}

static bool gc_expand(struct walker *w, size_t slice)
{
	if (w->bounded)
		return gc_expand_bounded(w, slice);
	size_t before = w->snap->nobjects;
	own_lookup(w); // (the bitmaps are read here, not only in gc_neighbour())
	for (size_t end = w->gcn_at + slice; w->gcn_at < w->ngcn && w->gcn_at < end; w->gcn_at++) {
		if (nomem_failed(w) || w->snap->nobjects >= max_objects(w))
			break;
		// (Ahead, into the next pages: see ph_partition_compute().)
		if (!(w->gcn_at & 63))
			__builtin_prefetch(&w->gcn[w->gcn_at + GCN_AHEAD]);
		struct gc_node g = w->gcn[w->gcn_at];
		// (Nodes are kept only where a PyGC_Head is 16 bytes.)
		bool next_known = gc_known_fast(w, g.next);
		if (next_known && (w->collecting || gc_known_fast(w, g.prev)))
			continue;
		uint64_t node = w->snap->objects[g.idx].address - 16;
		if (!next_known)
			gc_neighbour(w, node, g.next, true);
		if (!w->collecting)
			gc_neighbour(w, node, g.prev, false);
	}
	return w->snap->nobjects > before;
}

// Records the heads of a GC state's generation lists and permanent
// generation (finish_roots() adds the objects next to them, once the roots'
// closure is complete).
static void add_gc_lists(struct walker *w, uint64_t gc)
{
	const struct ph_layout *L = w->L;
	uint32_t collecting = 0;
	if (L->gc_collecting >= 0)
		ph_mem_read_fast(M(w), gc + (uint64_t)L->gc_collecting, &collecting, 4);
	if (collecting)
		w->collecting = true;
	if (w->nheads + 4 > w->capheads) {
		size_t nc = w->capheads ? w->capheads * 2 : 16;
		uint64_t *n = reallocarray(w->heads, nc, sizeof(*n));
		if (!n) {
			set_nomem(w);
			return;
		}
		w->heads = n;
		w->capheads = nc;
	}
	for (int g = 0; g < 4; g++)
		w->heads[w->nheads++] = g < 3 ? gc + (uint64_t)L->gc_generations +
							 (uint64_t)g * (uint64_t)L->generation_sizeof
					      : gc + (uint64_t)L->gc_permanent_generation;
}

// 3.11+: the code objects of the frames (roots), once.
static void add_frame_codes(struct walker *w)
{
	for (size_t i = 0; i < w->npcode && !nomem_failed(w); i++)
		w->snap->roots[w->pcode[i].root].code = intern(w, w->pcode[i].addr, 0);
	w->npcode = 0;
}

// Once the roots' closure is complete: the code objects of the frames
// (3.11+), then the objects next to each GC list head (those the roots do not
// reach are the first objects after their closure; gc_expand() goes on from
// them).
static void finish_roots(struct walker *w)
{
	w->heads_visited = true;
	add_frame_codes(w);
	for (size_t h = 0; h < w->nheads && !nomem_failed(w); h++) {
		uint64_t head = w->heads[h];
		gc_neighbour(w, head, rd64(w, head) & ~3ull, true);
		if (!w->collecting)
			gc_neighbour(w, head, rd64(w, head + 8) & ~3ull, false);
	}
}

static uint32_t read_varint(const uint8_t *p, size_t n, size_t *i)
{
	uint32_t v = 0;
	unsigned shift = 0;
	while (*i < n) {
		uint8_t b = p[(*i)++];
		v |= (uint32_t)(b & 63) << shift;
		if (!(b & 64) || shift > 24)
			break;
		shift += 6;
	}
	return v;
}

// The line of the instruction at byte offset @off of @code, from its line
// table (3.8/3.9 co_lnotab, 3.10 co_linetable pairs, 3.11+ location table),
// or -1.
static int32_t code_line(struct walker *w, uint64_t code, uint64_t off)
{
	const struct ph_layout *L = w->L;
	unsigned minor = w->py->minor;
	int32_t line = rd32(w, code + (uint64_t)L->code_firstlineno);
	uint64_t table = rd64(w, code + (uint64_t)(minor <= 9 ? L->code_lnotab : L->code_linetable));
	uint64_t n = table ? rd64(w, table + (uint64_t)L->ob_size) : 0;
	if (!table || n > (1u << 20) || L->bytes_sval < 0)
		return -1;
	uint8_t *p = malloc(n ? n : 1);
	if (!p || (n && !ph_mem_read_fast(M(w), table + (uint64_t)L->bytes_sval, p, n))) {
		free(p);
		return -1;
	}
	int32_t result = -1;
	if (minor <= 9) {
		uint64_t addr = 0;
		result = line;
		for (uint64_t i = 0; i + 1 < n; i += 2) {
			addr += p[i];
			if (addr > off)
				break;
			result += (int8_t)p[i + 1];
		}
	} else if (minor == 10) {
		uint64_t end = 0;
		for (uint64_t i = 0; i + 1 < n; i += 2) {
			uint64_t start = end;
			end += p[i];
			int8_t ld = (int8_t)p[i + 1];
			if (ld != -128)
				line += ld;
			if (off >= start && off < end) {
				result = ld == -128 ? -1 : line;
				break;
			}
		}
	} else {
		uint64_t addr = 0, target = off / 2;
		size_t i = 0;
		while (i < n) {
			uint8_t b = p[i++];
			if (!(b & 0x80))
				break;
			unsigned kind = (b >> 3) & 15, len = (b & 7) + 1u;
			int32_t delta = 0;
			bool noloc = false;
			if (kind == 15) {
				noloc = true;
			} else if (kind == 14 || kind == 13) {
				uint32_t u = read_varint(p, n, &i);
				delta = (u & 1) ? -(int32_t)(u >> 1) : (int32_t)(u >> 1);
				if (kind == 14) {
					read_varint(p, n, &i);
					read_varint(p, n, &i);
					read_varint(p, n, &i);
				}
			} else if (kind >= 10) {
				delta = (int32_t)kind - 10;
				i += 2;
			} else {
				i += 1;
			}
			line += delta;
			if (target >= addr && target < addr + len) {
				result = noloc ? -1 : line;
				break;
			}
			addr += len;
		}
	}
	free(p);
	return result;
}

static int32_t ph_code_line(struct walker *w, uint64_t code, uint64_t off)
{
	return code ? code_line(w, code, off) : -1;
}

// The functions registered with atexit.register(), a root each with its
// func, args and kwargs: in the interpreter's atexit state from 3.10 (an
// array of pointers to atexit_py_callback from 3.12, to atexit_callback
// before; unregistered entries are NULL), in the atexit module's state in
// 3.8 and 3.9 (the module the interpreter's pyexitmodule names).
static void add_atexit_roots(struct walker *w, uint64_t interp)
{
	const struct ph_layout *L = w->L;
	int32_t fo = L->atexit_pycb_args >= 0 ? L->atexit_pycb_func : L->atexit_cb_func;
	int32_t ao = L->atexit_pycb_args >= 0 ? L->atexit_pycb_args : L->atexit_cb_args;
	int32_t ko = L->atexit_pycb_args >= 0 ? L->atexit_pycb_kwargs : L->atexit_cb_kwargs;
	uint64_t state = 0;
	int32_t arr_off = -1, n_off = -1;
	if (L->is_atexit_callbacks >= 0 && L->is_atexit_ncallbacks >= 0) {
		state = interp;
		arr_off = L->is_atexit_callbacks;
		n_off = L->is_atexit_ncallbacks;
	} else if (L->is_pyexitmodule >= 0 && L->module_md_state >= 0 &&
		   L->atexitmod_callbacks >= 0 && L->atexitmod_ncallbacks >= 0) {
		uint64_t mod = rd64(w, interp + (uint64_t)L->is_pyexitmodule);
		state = mod ? rd64(w, mod + (uint64_t)L->module_md_state) : 0;
		arr_off = L->atexitmod_callbacks;
		n_off = L->atexitmod_ncallbacks;
	}
	if (!state || fo < 0 || ao < 0 || ko < 0)
		return;
	int32_t n = rd32(w, state + (uint64_t)n_off);
	uint64_t arr = rd64(w, state + (uint64_t)arr_off);
	if (n <= 0 || !arr)
		return;
	if (n > MAX_ATEXIT) {
		note_unreadable(w);
		n = MAX_ATEXIT;
	}
	uint64_t chunk[CHUNK];
	for (int32_t at = 0; at < n && !nomem_failed(w); at += CHUNK) {
		uint32_t m = n - at < CHUNK ? (uint32_t)(n - at) : CHUNK;
		if (!ph_mem_read_fast(M(w), arr + (uint64_t)at * 8, chunk, m * 8)) {
			note_unreadable(w);
			return;
		}
		for (uint32_t i = 0; i < m; i++) {
			uint64_t cb = chunk[i];
			if (!cb)
				continue;
			struct ph_root *r = add_root(w, PH_ROOT_ATEXIT, PH_NONE);
			if (!r)
				return;
			r->depth = (uint32_t)at + i;
			uint64_t f[3];
			int32_t offs[3] = {fo, ao, ko};
			enum ph_field ids[3] = {PH_F_AT_FUNC, PH_F_ARGS, PH_F_KWARGS};
			for (int k = 0; k < 3; k++)
				if (rdok(w, cb + (uint64_t)offs[k], &f[k]) && f[k])
					add_root_edge(w, f[k], PH_EDGE(PH_EDGE_FIELD, ids[k]));
			// (Nothing there is an object: bad data, no root.)
			if (r->edge_end == r->edge_start)
				w->snap->nroots--;
		}
	}
}

// The exceptions thread @ts is handling, innermost first: its chain of
// stack items from exc_info (the thread's own, then those of the generators
// and coroutines it runs), each holding the exception an except block is
// handling (None, or NULL, where none is).
static void add_exception_roots(struct walker *w, uint64_t ts, uint64_t tid)
{
	const struct ph_layout *L = w->L;
	if (L->ts_exc_info <= 0 || L->errstack_exc_value < 0 || L->errstack_previous < 0)
		return;
	uint64_t item = rd64(w, ts + (uint64_t)L->ts_exc_info);
	for (uint32_t d = 0, n = 0; item && n < MAX_FRAMES && !nomem_failed(w); n++) {
		uint64_t v = rd64(w, item + (uint64_t)L->errstack_exc_value);
		uint32_t idx = v ? intern(w, v, 0) : PH_NONE;
		const char *tn = idx != PH_NONE ? w->snap->types[w->snap->objects[idx].type].name : NULL;
		if (idx != PH_NONE && !(tn && !strcmp(tn, "NoneType"))) {
			struct ph_root *r = add_root(w, PH_ROOT_EXCEPTION, idx);
			if (!r)
				return;
			r->thread_id = tid;
			r->depth = d++;
		}
		item = rd64(w, item + (uint64_t)L->errstack_previous);
	}
}

// The signal handlers (signal.signal()), a root each: process-wide, in the
// runtime from 3.12, in signalmodule.c's Handlers before; each entry a
// {tripped, func} pair of words.
static void add_signal_roots(struct walker *w)
{
	const struct ph_layout *L = w->L;
	const struct ph_python *py = w->py;
	uint64_t arr = 0, n = 0;
	if (L->rt_signal_handlers >= 0 && L->signals_wakeup > 0 && !(L->signals_wakeup % 16) &&
	    py->sym[SYM_PyRuntime]) {
		arr = py->sym[SYM_PyRuntime] + (uint64_t)L->rt_signal_handlers;
		n = (uint64_t)L->signals_wakeup / 16;
	} else if (py->minor <= 11 && py->sym[SYM_signal_Handlers] && !(py->handlers_size % 16)) {
		arr = py->sym[SYM_signal_Handlers];
		n = py->handlers_size / 16;
	}
	if (!arr || !n || n > MAX_SIGNALS)
		return;
	uint64_t pairs[2 * MAX_SIGNALS];
	if (!ph_mem_read_fast(M(w), arr, pairs, n * 16)) {
		note_unreadable(w);
		return;
	}
	for (uint32_t sig = 1; sig < n && !nomem_failed(w); sig++) {
		uint32_t idx = pairs[2 * sig + 1] ? intern(w, pairs[2 * sig + 1], 0) : PH_NONE;
		struct ph_root *r = idx != PH_NONE ? add_root(w, PH_ROOT_SIGNAL, idx) : NULL;
		if (r)
			r->depth = sig;
	}
}

// The callbacks of each sys.monitoring tool (3.12+), a root per tool with
// an edge per event: callables[tool][event], the tools' names right after.
static void add_monitoring_roots(struct walker *w, uint64_t interp)
{
	const struct ph_layout *L = w->L;
	int32_t a = L->is_monitoring_callables, b = L->is_monitoring_tool_names;
	if (a < 0 || b <= a || (b - a) % (8 * MONITORING_TOOLS))
		return;
	uint32_t nev = (uint32_t)(b - a) / (8 * MONITORING_TOOLS);
	if (nev > 64)
		return;
	uint64_t fn[MONITORING_TOOLS * 64];
	if (!ph_mem_read_fast(M(w), interp + (uint64_t)a, fn, (size_t)(b - a))) {
		note_unreadable(w);
		return;
	}
	for (uint32_t tool = 0; tool < MONITORING_TOOLS && !nomem_failed(w); tool++) {
		struct ph_root *r = NULL;
		for (uint32_t ev = 0; ev < nev; ev++) {
			uint64_t f = fn[tool * nev + ev];
			if (!f)
				continue;
			if (!r && !(r = add_root(w, PH_ROOT_MONITORING, PH_NONE)))
				return;
			r->depth = tool;
			add_root_edge(w, f, PH_EDGE(PH_EDGE_INDEX, ev));
		}
		if (r && r->edge_end == r->edge_start)
			w->snap->nroots--; // (nothing there was an object)
	}
}

// Roots of one interpreter: sys.modules, sys, builtins, what the
// interpreter holds outside objects (codecs, audit hooks, atexit), and every
// thread's frames with their locals, context, trace and profile functions.
static void add_interpreter_roots(struct walker *w, uint64_t interp)
{
	const struct ph_layout *L = w->L;
	unsigned minor = w->py->minor;
	static const struct {
		size_t off;
		enum ph_root_kind kind;
	} dicts[] = {
		{offsetof(struct ph_layout, is_modules), PH_ROOT_MODULES},
		{offsetof(struct ph_layout, is_sysdict), PH_ROOT_SYS},
		{offsetof(struct ph_layout, is_builtins), PH_ROOT_BUILTINS},
		{offsetof(struct ph_layout, is_codec_search_path), PH_ROOT_CODEC_SEARCH},
		{offsetof(struct ph_layout, is_codec_search_cache), PH_ROOT_CODEC_CACHE},
		{offsetof(struct ph_layout, is_codec_error_registry), PH_ROOT_CODEC_ERRORS},
		{offsetof(struct ph_layout, is_audit_hooks), PH_ROOT_AUDIT_HOOKS},
		{offsetof(struct ph_layout, is_before_forkers), PH_ROOT_FORK_BEFORE},
		{offsetof(struct ph_layout, is_after_forkers_parent), PH_ROOT_FORK_PARENT},
		{offsetof(struct ph_layout, is_after_forkers_child), PH_ROOT_FORK_CHILD},
	};
	for (size_t i = 0; i < sizeof(dicts) / sizeof(dicts[0]); i++) {
		int32_t off = *(const int32_t *)((const char *)L + dicts[i].off);
		uint32_t idx = off >= 0 ? intern(w, rd64(w, interp + (uint64_t)off), 0) : PH_NONE;
		if (idx != PH_NONE)
			add_root(w, dicts[i].kind, idx);
	}
	add_atexit_roots(w, interp);
	add_monitoring_roots(w, interp);
	// Of each thread: its current context (the values set outside asyncio
	// tasks, whose own contexts their tasks hold), its trace and profile
	// functions, its state dict, asyncgen hooks and threading.local key.
	static const struct {
		size_t off;
		enum ph_root_kind kind;
	} held[] = {
		{offsetof(struct ph_layout, ts_context), PH_ROOT_CONTEXT},
		{offsetof(struct ph_layout, ts_c_traceobj), PH_ROOT_TRACE},
		{offsetof(struct ph_layout, ts_c_profileobj), PH_ROOT_PROFILE},
		{offsetof(struct ph_layout, ts_dict), PH_ROOT_THREAD_DICT},
		{offsetof(struct ph_layout, ts_async_gen_firstiter), PH_ROOT_FIRSTITER},
		{offsetof(struct ph_layout, ts_async_gen_finalizer), PH_ROOT_FINALIZER},
		{offsetof(struct ph_layout, ts_threading_local_key), PH_ROOT_LOCAL_KEY},
	};
	uint64_t ts = rd64(w, interp + (uint64_t)L->is_threads_head);
	for (uint32_t t = 0; ts && t < MAX_THREADS && !nomem_failed(w); t++) {
		// (Within a budget, what each thread's roots brought into the
		// cache is given back past it: no pointer into it is held here.)
		if (w->bounded)
			ph_mem_safe_point(M(w));
		w->snap->threads++;
		uint64_t tid = rd64(w, ts + (uint64_t)L->ts_thread_id);
		if (w->ntids == w->captids) {
			struct thread_ids *n = grow_array(w, w->tids, &w->captids, sizeof(*n), 8);
			if (!n)
				return;
			w->tids = n;
		}
		w->tids[w->ntids++] = (struct thread_ids){
			tid, L->ts_native_thread_id > 0 ? rd64(w, ts + (uint64_t)L->ts_native_thread_id) : 0,
			interp};
		for (size_t i = 0; i < sizeof(held) / sizeof(held[0]); i++) {
			int32_t off = layout_at(L, held[i].off);
			uint32_t idx = off > 0 ? intern(w, rd64(w, ts + (uint64_t)off), 0) : PH_NONE;
			if (idx == PH_NONE)
				continue;
			struct ph_root *r = add_root(w, held[i].kind, idx);
			if (!r)
				return;
			r->thread_id = tid;
		}
		add_exception_roots(w, ts, tid);
		if (minor <= 10) {
			// Frames are objects: each frame of the stack is a root.
			uint64_t f = rd64(w, ts + (uint64_t)L->ts_frame);
			for (uint32_t d = 0; f && d < MAX_FRAMES; d++) {
				uint32_t idx = intern(w, f, 0);
				if (idx == PH_NONE)
					break;
				struct ph_root *r = add_root(w, PH_ROOT_FRAME, idx);
				if (!r)
					return;
				r->thread_id = tid;
				r->depth = d;
				uint64_t code = rd64(w, f + (uint64_t)L->frame_code);
				r->code = intern(w, code, 0);
				int32_t lasti = rd32(w, f + (uint64_t)L->frame_lasti);
				r->line = ph_code_line(w, code, lasti < 0 ? 0 : (uint64_t)lasti * (minor >= 10 ? 2 : 1));
				// (Its value stack: noted when the frame object is
				// walked, as any frame's.)
				f = rd64(w, f + (uint64_t)L->frame_back);
			}
		} else {
			uint64_t f = minor <= 12 ? rd64(w, rd64(w, ts + (uint64_t)L->ts_cframe) +
							     (uint64_t)L->cframe_current_frame)
						 : rd64(w, ts + (uint64_t)L->ts_current_frame);
			for (uint32_t d = 0; f && d < MAX_FRAMES; f = rd64(w, f + (uint64_t)L->iframe_previous)) {
				uint8_t owner = 0;
				ph_mem_read_fast(M(w), f + (uint64_t)L->iframe_owner, &owner, 1);
				// Shim frames: FRAME_OWNED_BY_CSTACK (3 in 3.12/3.13; 3.14:
				// 3 is OWNED_BY_INTERPRETER and 4 CSTACK).
				if ((minor >= 12 && minor <= 13 && owner == 3) || (minor >= 14 && owner >= 3))
					continue;
				uint64_t code = iframe_code(w, f);
				// (Its type, not the object: added after the roots'
				// closure, see finish_roots().)
				uint64_t ctype;
				const struct tinfo *cti =
					code && !(code & 7) && rdok(w, code + (uint64_t)L->ob_type, &ctype)
						? get_type(w, ctype)
						: NULL;
				if (!cti)
					break;
				// 3.14: the bottom frame's executable is None, not code.
				if (cti->kind != K_CODE)
					continue;
				struct ph_root *r = add_root(w, PH_ROOT_FRAME, PH_NONE);
				if (!r)
					return;
				r->thread_id = tid;
				r->depth = d++;
				if (w->nthread_frames == w->capthread_frames) {
					uint64_t *tf = grow_array(w, w->thread_frames,
								  &w->capthread_frames,
								  sizeof(*tf), 64);
					if (!tf)
						return;
					w->thread_frames = tf;
				}
				w->thread_frames[w->nthread_frames++] = f;
				w->thread_frames_sorted = false;
				if (w->npcode == w->cappcode) {
					struct pending_code *pc =
						grow_array(w, w->pcode, &w->cappcode, sizeof(*pc), 64);
					if (!pc)
						return;
					w->pcode = pc;
				}
				w->pcode[w->npcode++] =
					(struct pending_code){(uint32_t)(w->snap->nroots - 1), code};
				uint64_t instr = rd64(w, f + (uint64_t)L->iframe_instr);
				uint64_t start = code + (uint64_t)L->code_code_adaptive;
				r->line = instr >= start ? ph_code_line(w, code, instr - start) : -1;
				if (stack_depth_unset(w, f)) {
					int32_t nlp = rd32(w, code + (uint64_t)L->code_nlocalsplus);
					if (nlp >= 0 && nlp < (1 << 20))
						note_stack_area(
							w, (uint32_t)(w->snap->nroots - 1), PH_NONE,
							PH_NONE,
							f + (uint64_t)L->iframe_localsplus + (uint64_t)nlp * 8,
							(int32_t)rd32(w, code + (uint64_t)L->code_stacksize));
				}
				uint64_t top = iframe_known_slots(w, f, code);
				uint64_t copy[256];
				uint32_t n = top < 256 ? (uint32_t)top : 256;
				if (!n || !ph_mem_read_fast(M(w), f + (uint64_t)L->iframe_localsplus, copy, n * 8))
					continue;
				for (uint32_t i = 0; i < n; i++)
					add_root_edge(w, stackref(w, copy[i]), PH_EDGE(PH_EDGE_LOCAL, i));
			}
		}
		ts = rd64(w, ts + (uint64_t)L->ts_next);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Puts back the first word of every object whose index the walk wrote
// there, so that the cache holds what was read (--dump-memory records it).
static void restore_first_words(struct walker *w)
{
	const struct ph_snapshot *s = w->snap;
	for (size_t i = 0; i < s->nobjects; i++) {
		uint64_t addr = s->objects[i].address;
		if (addr & 15)
			continue;
		uint64_t *p = (uint64_t *)(uintptr_t)ph_mem_ptr(M(w), addr, 8);
		if (p && *p == (INDEX_TAG << 32 | i))
			*p = w->saved_words[i];
	}
}

// Below this many objects expected (a copy of about 7.5 MiB: an idle
// interpreter's is 3-4 MiB), the default is one thread: starting the second
// and passing work between the cores costs about what it saves. (Interleaved
// runs on the AMD EPYC machine of 2026-12, one thread against two, whole run,
// medians of 20-40: the bench target of 40k objects, a copy of 6.6 MB, 23.0
// against 23.5 ms; 70k, 29.0 against 27.3; 120k, 34.9 against 31.1 and 38.5
// against 33.9, on 3.8 and 3.13 as on 3.11; the live tests' heap target, 55k
// to 70k objects and 10 to 16 MB, 31.5 against 29.2 ms on 3.8, 43.1 against
// 36.9 on 3.11, 34.2 against 35.1 on 3.13. The Intel machine before it gained
// from two only from about 256k: 120k, walk 9.9 against 11.9 ms.)
enum { PIPE_MIN_OBJECTS = 80 * 1024 };

// The objects phase on two threads (struct pipe) when there are two CPUs,
// the cache has no limit and does not record reads, and (unless asked for)
// about @expect objects are enough to gain from it (SIZE_MAX: not known).
static void pipe_start(struct walker *w, size_t expect)
{
	if (w->bounded || ph_mem_tracking(w->mem) || w->opt->walk_threads == 1 ||
	    (w->opt->walk_threads == 0 && expect < PIPE_MIN_OBJECTS) || nomem_failed(w) ||
	    ph_cpus() < 2)
		return;
	struct pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return;
	w->pipe_expect = expect;
	p->core = w->mem;
	if (ph_mem_view_create(p->core, &p->view_a) || ph_mem_view_create(p->core, &p->view_b)) {
		ph_mem_destroy(p->view_a);
		free(p);
		return;
	}
	p->published = p->nobjects = w->snap->nobjects;
	p->sched_fd[0] = p->sched_fd[1] = -1;
	p->objects = w->snap->objects;
	p->text = w->snap->text;
	w->pipe = p;
	w->mem = p->view_a;
	if (!ph_thread_start(&p->thread, resolver, w)) {
		w->pipe = NULL;
		w->mem = p->core;
		ph_mem_destroy(p->view_a);
		ph_mem_destroy(p->view_b);
		free(p);
	}
}

// Back to one thread (every edge resolved, unless the walk failed).
static void pipe_stop(struct walker *w)
{
	struct pipe *p = w->pipe;
	if (!p)
		return;
	__atomic_store_n(&p->stop, true, __ATOMIC_RELEASE);
	pthread_join(p->thread, NULL);
	if (w->opt->times) {
		w->opt->times->threads = 2;
		w->opt->times->wait += p->wait_ns;
		w->opt->times->idle += p->idle_ns;
		w->opt->times->narrow = w->pipe_pauses - w->pipe_for_good;
		w->opt->times->busy = w->pipe_for_good;
	}
	w->snap->unreadable += p->unreadable;
	for (int k = 0; k < 2; k++)
		if (p->sched_fd[k] >= 0)
			close(p->sched_fd[k]);
	w->mem = p->core;
	ph_mem_destroy(p->view_a);
	ph_mem_destroy(p->view_b);
	w->pipe = NULL;
	free(p);
}

enum {
	NARROW_OBJECTS = 16,        /* a wait for fewer new objects than this is narrow */
	NARROW_WAITS = 64,          /* narrow waits in a row: back to one thread */
	WIDE_OBJECTS = 64 * 1024,   /* objects waiting on one thread: back to two */
	MAX_PIPE_PAUSES = 8,        /* times at most */
	BUSY_CHECK_NS = 4000000,    /* time between the checks of pipe_busy() (at least) */
	BUSY_CHECKS = 2,            /* checks in a row that find the CPUs busy: one thread */
};

// Processing thread, after it waited for objects to process: whether the
// walk is in a narrow part, where each object brings only one or two new
// ones (a linked list: node, next node...) and each waits for the other
// thread's look-up, a hand-over between the cores each time (a chain of 500k
// nodes: 0.5 s on two threads against 0.06 s on one). @n objects may be
// processed now, more than @i. Waits count in a row only when each comes
// right after the objects of the one before (not after a slice of the GC
// lists' expansion, say), and only when the resolver has resolved every
// edge: a resolver behind (a busy machine) also hands objects over a few at
// a time.
static bool pipe_narrow(struct walker *w, size_t i, size_t n)
{
	struct pipe *p = w->pipe;
	if (n <= i || w->pipe_pauses >= MAX_PIPE_PAUSES)
		return false;
	if (i != p->narrow_next)
		p->narrow = 0;
	p->narrow_next = n;
	if (n - i >= NARROW_OBJECTS) {
		p->narrow = 0;
		return false;
	}
	if (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) != p->tail_local)
		return false;
	return ++p->narrow >= NARROW_WAITS;
}

// The time thread @fd's schedstat says it waited for a CPU while runnable
// (ns; its second field), or UINT64_MAX if unknown.
static uint64_t sched_delay(int fd)
{
	return ph_pread_field(fd, 1);
}

// Processing thread, between objects (two threads chosen by default):
// whether the CPUs are busy with other work (the target running again, say),
// so that each of the two threads waits for a CPU part of the time, and the
// other for it meanwhile: the walk on two threads is then slower than on one
// (1M objects beside one busy thread: 110-135 ms against 85). Either thread
// waiting for a CPU over 30% of the time, in two checks in a row
// BUSY_CHECK_NS apart (its schedstat, where the kernel has one).
static bool pipe_busy(struct walker *w)
{
	struct pipe *p = w->pipe;
	uint64_t t = now_ns();
	if (w->opt->walk_threads != 0 || p->busy_unknown || t - p->busy_t < BUSY_CHECK_NS)
		return false;
	int tid = __atomic_load_n(&p->tid, __ATOMIC_ACQUIRE);
	if (!tid)
		return false;
	if (p->sched_fd[0] < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
		p->sched_fd[0] = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
		p->sched_fd[1] = open(path, O_RDONLY | O_CLOEXEC);
		p->busy_t = 0;
	}
	uint64_t d[2] = {sched_delay(p->sched_fd[0]), sched_delay(p->sched_fd[1])};
	if (d[0] == UINT64_MAX || d[1] == UINT64_MAX) {
		p->busy_unknown = true;
		return false;
	}
	bool busy = false;
	if (p->busy_t) {
		uint64_t dt = t - p->busy_t;
		for (int k = 0; k < 2; k++)
			if (d[k] >= p->busy_delay[k] && (d[k] - p->busy_delay[k]) * 10 > dt * 3)
				busy = true;
	}
	p->busy_t = t;
	p->busy_delay[0] = d[0];
	p->busy_delay[1] = d[1];
	p->busy_checks = busy ? p->busy_checks + 1 : 0;
	return p->busy_checks >= BUSY_CHECKS;
}

// Back to one thread (for a narrow part, or for good when @busy): every
// edge resolved, the resolver gone (its counts in the snapshot).
static void pipe_pause(struct walker *w, bool busy)
{
	quiesce(w);
	w->pipe_pauses++;
	w->pipe_for_good = busy;
	pipe_stop(w);
	start_prefault(w, w->pipe_expect);
}

// One thread after pipe_pause(): two again when @waiting objects wait to be
// processed (the walk left the narrow part), everything pending resolved.
static void pipe_resume(struct walker *w, size_t waiting)
{
	if (!w->pipe_pauses || w->pipe_for_good || w->pipe_pauses >= MAX_PIPE_PAUSES ||
	    waiting < WIDE_OBJECTS)
		return;
	resolve_pending(w);
	stop_prefault(w);
	pipe_start(w, w->pipe_expect);
}

static void walker_deinit(struct walker *w)
{
	stop_prefault(w);
	free(w->saved_words);
	free(w->cached_names);
	free(w->stack_areas);
	free(w->stack_words);
	free(w->main_grs);
	free(w->tids);
	free(w->heads);
	free(w->gcn);
	free(w->otab);
	free(w->recent);
	for (size_t i = 0; i < w->bcap; i++)
		if (w->btab[i].bn != UINT64_MAX)
			free(w->btab[i].bits);
	free(w->btab);
	for (size_t i = 0; i < w->ntypes; i++) {
		free(w->types[i]->slot_offsets);
		free(w->types[i]->scan_words);
		free(w->types[i]->scan_checks);
		free(w->types[i]);
	}
	free(w->types);
	free(w->tkeys);
	free(w->tvals);
	free(w->owners);
	free(w->weak);
	free(w->pcode);
	free(w->thread_frames);
}

// Whether any of the @n bits (at most 64) of a 64 KiB block's bitmap from
// @first is set.
static inline bool any_bit(const uint64_t *bits, unsigned first, unsigned n)
{
	unsigned sh = first & 63;
	uint64_t v = bits[first >> 6] >> sh;
	if (sh + n > 64 && first < 4096 - 64)
		v |= bits[(first >> 6) + 1] << (64 - sh);
	return v & (n >= 64 ? ~0ull : (1ull << n) - 1);
}

// Set bits among the @n bits of a 64 KiB block's bitmap from @first.
static unsigned count_bits(const uint64_t *bits, unsigned first, unsigned n)
{
	unsigned c = 0, end = first + n;
	for (unsigned k = first; k < end;) {
		if (!(k & 63) && k + 64 <= end) {
			c += (unsigned)__builtin_popcountll(bits[k >> 6]);
			k += 64;
		} else {
			c += bits[k >> 6] >> (k & 63) & 1;
			k++;
		}
	}
	return c;
}

// The dicts of interned strings (sys.intern()'s, the identifiers'): the
// runtime's, each interpreter's (3.12+, by the layout), or before 3.12 the
// static variable's (by its symbol); and the maps of errno values to
// OSError's subclasses (3.10+ each interpreter's, before the static's). The
// GC does not track them and no object refers to them: the pool scan leaves
// them out (what the interpreter holds, as the gc module's view and Heapy
// do), not as held by nothing.
static void interned_dicts(struct walker *w, uint64_t runtime, uint64_t interp)
{
	const struct ph_layout *L = w->L;
	uint64_t at[] = {
		L->rt_interned_strings >= 0 ? runtime + (uint64_t)L->rt_interned_strings
		: w->py->minor <= 11	    ? w->py->sym[SYM_interned]
					    : 0,
		L->is_interned_strings >= 0 && interp ? interp + (uint64_t)L->is_interned_strings : 0,
		// (Also the map of errno values to OSError's subclasses: each
		// interpreter's from 3.10, before a static variable.)
		L->is_errnomap >= 0 && interp ? interp + (uint64_t)L->is_errnomap
		: w->py->minor <= 9	      ? w->py->sym[SYM_errnomap]
					      : 0,
	};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		uint64_t d = at[i] ? rd64(w, at[i]) : 0;
		for (size_t k = 0; d && k < sizeof(w->interned) / sizeof(w->interned[0]); k++)
			if (w->interned[k] == d || !w->interned[k]) {
				w->interned[k] = d;
				break;
			}
	}
}

// The names in a type cache (_PyType_Lookup()'s: entries of {version, name,
// value}, the name a strong reference, often a str made at run time:
// getattr(obj, "get_" + field)), which the interpreter holds, not an object:
// the pool scan leaves them out (as the gc module's view does), not as held
// by nothing. Each interpreter's (3.10+, by the layout), or before 3.10 the
// static method_cache's (by its symbol: 4096 entries of 24 bytes, the name
// at 8). Sorted by type_cache_sort().
static void type_cache_names(struct walker *w, uint64_t interp)
{
	enum { TYPE_CACHE_MAX = 1 << 20, OLD_ENTRIES = 4096, OLD_ENTRY = 24, OLD_NAME = 8 };
	const struct ph_layout *L = w->L;
	uint64_t at = 0, size = 0, entry = 0, name_at = 0;
	if (w->py->minor <= 9 && w->py->sym[SYM_method_cache] && !w->ncached_names) {
		at = w->py->sym[SYM_method_cache];
		size = OLD_ENTRIES * OLD_ENTRY;
		entry = OLD_ENTRY;
		name_at = OLD_NAME;
	} else if (L->is_type_cache >= 0 && L->type_cache_sizeof > 0 &&
		   L->type_cache_sizeof <= TYPE_CACHE_MAX && L->tce_sizeof >= 16 &&
		   L->tce_name >= 0 && L->tce_name + 8 <= L->tce_sizeof && interp) {
		at = interp + (uint64_t)L->is_type_cache;
		size = (uint64_t)L->type_cache_sizeof;
		entry = (uint64_t)L->tce_sizeof;
		name_at = (uint64_t)L->tce_name;
	}
	if (!at)
		return;
	size_t n = (size_t)(size / entry);
	uint8_t *t = malloc((size_t)size);
	if (!t || !ph_mem_peek_range(M(w), at, t, (size_t)size)) {
		free(t);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t name = ph_load_u64(t + i * (size_t)entry + (size_t)name_at);
		if (!name || (name & 7))
			continue;
		if (w->ncached_names == w->capcached_names) {
			size_t nc = w->capcached_names ? w->capcached_names * 2 : 1024;
			uint64_t *v = reallocarray(w->cached_names, nc, sizeof(*v));
			if (!v)
				break;
			w->cached_names = v;
			w->capcached_names = nc;
		}
		w->cached_names[w->ncached_names++] = name;
	}
	free(t);
}

static void type_cache_sort(struct walker *w)
{
	if (w->ncached_names)
		qsort(w->cached_names, w->ncached_names, sizeof(*w->cached_names), ph_cmp_u64);
}

static bool is_cached_name(const struct walker *w, uint64_t addr)
{
	return ph_sorted_u64_has(w->cached_names, w->ncached_names, addr);
}

static bool is_interned_dict(const struct walker *w, uint64_t addr)
{
	for (size_t k = 0; k < sizeof(w->interned) / sizeof(w->interned[0]); k++)
		if (w->interned[k] == addr)
			return true;
	return false;
}

// Where in a pymalloc block of @size bytes, its first @n bytes @hd, an
// object starts whose header reads as a live one's, of a type the GC does
// not track (at the block's start), or untracked by the GC (after its GC
// header, and pre-header if its type has one: the GC header's next link 0
// and its previous one 0 or the finalized bit, as _PyObject_GC_UNTRACK()
// leaves them; a tuple or dict of atomic values the GC untracked, a dict
// that never held a container); UINT64_MAX: none. Not an immortal object
// (3.12+: never freed, a leak of none; 3.12's interned strs), nor on 3.12+
// a count of 2^30 or more.
static uint64_t pool_object_at(struct walker *w, const uint64_t *hd, size_t n, uint64_t size)
{
	unsigned gch = (unsigned)w->L->gchead_sizeof;
	for (unsigned at = 0; at + 16 <= n; at += 16) {
		const uint64_t *h = hd + at / 8;
		if (at && (gch != 16 || h[-2] || h[-1] > 1))
			continue;
		// (3.12+: a count below 2^30, which leaves out immortal objects and
		// most halves of an address, the first word of a raw block.)
		if (!plausible_refcnt(w, h[0]) || (h[1] & 7) ||
		    (w->py->minor >= 12 && (uint32_t)h[0] >= (1u << 30)) ||
		    !valid_type_header(w, h[1], 0))
			continue;
		struct tinfo *ti = get_type(w, h[1]);
		if (!ti || ti->is_metatype || at + (uint64_t)ti->basicsize > size)
			continue;
		bool gc = ti->flags & TPF_HAVE_GC;
		if (gc ? gc_header(w, ti, 0, false, 0) == at : at == 0)
			return at;
	}
	return UINT64_MAX;
}

enum {
	DEBUG_HEAD = 16, /* the debug hooks' header: the bytes asked for, the API's id, 0xFD x 7 */
	DEBUG_TAIL = 8,  /* and after the data: 0xFD x 8 (and a serial number, Py_DEBUG) */
	DEBUG_NESTED = 2, /* headers in a row: an object over 512 bytes, 'o' within 'r' */
	BLOCK_PEEK = 80,  /* bytes of a block read to find its object */
	BLOCKS_AHEAD = 16, /* the pool scan's prefetch distance, in blocks */
};

// pool_object_at(), also behind the headers the debug hooks of Python's
// allocators write (PYTHONMALLOC=debug, -X dev, a debug build): the bytes
// asked for (the object with its GC header; big-endian), the allocator's id ('r', 'm' or
// 'o') and 7 bytes 0xFD, each object 16 bytes further into its block; 32 in
// malloc's chunks, where the object allocator's hooks call the raw one's.
static uint64_t block_object_at(struct walker *w, const uint64_t *hd, size_t n, uint64_t size)
{
	size_t skip = 0;
	for (int k = 0; k < DEBUG_NESTED && skip + 2 * DEBUG_HEAD <= n; k++) {
		const uint64_t *h = hd + skip / 8;
		uint8_t api = (uint8_t)h[1];
		uint64_t asked = __builtin_bswap64(h[0]); // (big-endian: write_size_t())
		if ((h[1] >> 8) != 0xfdfdfdfdfdfdfdull || (api != 'r' && api != 'm' && api != 'o') ||
		    size < DEBUG_HEAD + DEBUG_TAIL || asked > size - DEBUG_HEAD - DEBUG_TAIL)
			break;
		size = asked;
		skip += DEBUG_HEAD;
	}
	uint64_t off = pool_object_at(w, hd + skip / 8, n - skip, size);
	return off == UINT64_MAX ? off : off + skip;
}

// 3.9 and 3.10: whether the object whose first @n bytes are @h is one of the
// interpreter's small ints (-5 to 256), each made at its start and held by
// its array of them (PyInterpreterState.small_ints), not by an object: what
// the interpreter holds, left out as its interned strings are (an int of
// such a value is always that one).
static bool is_small_int(const struct walker *w, const uint64_t *h, size_t n)
{
	if (w->py->minor < 9 || w->py->minor > 10 || n < 32 || !h[1] ||
	    h[1] != w->py->sym[SYM_PyLong_Type])
		return false;
	int64_t size = (int64_t)h[2];
	uint32_t d = (uint32_t)h[3] & 0x3fffffff;
	return size == 0 || (size == 1 && d <= 256) || (size == -1 && d <= 5);
}

// Whether the block whose first @n bytes are @hd may hold an object where
// block_object_at() looks (a superset of what it finds, from these bytes
// alone): the debug hooks' header, or a plausible count and an aligned type
// word where an object or its GC header would start. Reads nothing else: the
// pool scan's first pass runs on two threads.
static bool maybe_object(const struct walker *w, const uint64_t *hd, size_t n)
{
	if (n >= 2 * DEBUG_HEAD && (hd[1] >> 8) == 0xfdfdfdfdfdfdfdull)
		return true;
	bool gch16 = w->L->gchead_sizeof == 16;
	for (size_t at = 0; at + 16 <= n; at += 16) {
		const uint64_t *h = hd + at / 8;
		if (at && (!gch16 || h[-2] || h[-1] > 1))
			continue;
		if (plausible_refcnt(w, h[0]) && !(h[1] & 7) &&
		    !(w->py->minor >= 12 && (uint32_t)h[0] >= (1u << 30)))
			return true;
	}
	return false;
}

// A pool of the scan: its address, where the copy holds it (NULL: read it
// through the cache), and the bitmap of its 64 KiB block (NULL: no object
// known there).
struct pool_ref {
	uint64_t address;
	const uint8_t *data;
	const uint64_t *bits;
};

// A block that may hold an object no reference led to (maybe_object()).
struct block_ref {
	uint64_t address;
	uint64_t size;
};

// The first pass over pools [@from, @to) of @pools, read-only (on a second
// thread, pools the copy holds only): each block in use (below the pool's
// nextoffset; freed ones start with the free list's link, no count) that no
// known object is in and that may hold an object, into @out. Pools whose
// blocks in use are all known objects are skipped by their counts.
struct scan_part {
	const struct walker *w;
	const struct pool_ref *pools;
	size_t from, to;
	struct block_ref *out;
	size_t n, cap;
	bool nomem;
	pthread_t thread;
};

static void scan_part_add(struct scan_part *sp, uint64_t address, uint64_t size)
{
	if (sp->n == sp->cap) {
		size_t cap = sp->cap ? sp->cap * 2 : 1024;
		struct block_ref *o = reallocarray(sp->out, cap, sizeof(*o));
		if (!o) {
			sp->nomem = true;
			return;
		}
		sp->out = o;
		sp->cap = cap;
	}
	sp->out[sp->n++] = (struct block_ref){address, size};
}

// The second pass, on the walk's thread, over the blocks the first found:
// the object block_object_at() finds in each is added (PH_OBJ_POOL), and
// walked as any, unless it is what the interpreter holds (interned strings'
// dicts, the type cache's names, 3.9/3.10 small ints).
static void scan_found(struct walker *w, const struct block_ref *blocks, size_t n)
{
	for (size_t i = 0; i < n && !nomem_failed(w); i++) {
		uint64_t b = blocks[i].address, size = blocks[i].size;
		uint64_t buf[BLOCK_PEEK / 8];
		size_t len = size < sizeof(buf) ? (size_t)size : sizeof(buf);
		const uint64_t *hd = w->bounded ? NULL : ph_mem_ptr_fast(M(w), b, len);
		if (!hd) {
			if (!ph_mem_peek(M(w), b, buf, len))
				continue;
			hd = buf;
		}
		uint64_t off = block_object_at(w, hd, len, size);
		if (off != UINT64_MAX && object_lookup(w, b + off) == PH_NONE &&
		    !is_interned_dict(w, b + off) && !is_cached_name(w, b + off) &&
		    !(off + 32 <= len && is_small_int(w, hd + off / 8, len - off)))
			intern(w, b + off, PH_OBJ_POOL);
	}
}

// Whether the pool at @p whose header is @h (its 64 KiB block's bitmap
// @bits) has blocks in use no known object is in: then their size and the
// end of those in use (nextoffset).
static bool pool_to_scan(const struct walker *w, uint64_t p, const uint8_t *h, const uint64_t *bits,
			 uint64_t *size_ret, uint64_t *next_ret)
{
	const struct ph_layout *L = w->L;
	uint64_t psize = w->snap->pymalloc.pool_size;
	uint64_t head = ((uint64_t)L->pool_sizeof + 15) & ~15ull;
	uint32_t count = ph_load_u32(h + L->pool_count);
	uint32_t szidx = ph_load_u32(h + L->pool_szidx);
	uint32_t next = ph_load_u32(h + L->pool_nextoffset);
	uint32_t maxnext = ph_load_u32(h + L->pool_maxnextoffset);
	uint64_t size = maxnext < psize ? psize - maxnext : 0;
	if (!count || szidx >= PH_PYMALLOC_CLASSES || size < 16 || size % (szidx + 1) ||
	    size % 16 || next < head || next > psize || (next - head) % size ||
	    count > (psize - head) / size)
		return false;
	unsigned slot = (unsigned)(p & 0xffff) >> 4;
	if (bits && count_bits(bits, slot, (unsigned)(psize >> 4)) >= count)
		return false;
	*size_ret = size;
	*next_ret = next;
	return true;
}

// The blocks in use of the pool at @p (its bytes up to @next at @data) that
// no known object is in and that may hold an object, into @sp.
static void pool_blocks(struct scan_part *sp, uint64_t p, const uint8_t *data, const uint64_t *bits,
			uint64_t size, uint64_t next)
{
	const struct walker *w = sp->w;
	uint64_t head = ((uint64_t)w->L->pool_sizeof + 15) & ~15ull;
	for (uint64_t b = p + head; b < p + next; b += size) {
		if (b + BLOCKS_AHEAD * size < p + next)
			__builtin_prefetch(data + (b - p) + BLOCKS_AHEAD * size);
		if (bits && any_bit(bits, (unsigned)(b & 0xffff) >> 4, (unsigned)size >> 4))
			continue;
		size_t n = size < BLOCK_PEEK ? (size_t)size : BLOCK_PEEK;
		if (maybe_object(w, (const uint64_t *)(const void *)(data + (b - p)), n))
			scan_part_add(sp, b, size);
	}
}

// The first pass over the pools of @sp, all in the copy (read in place).
static void scan_part_run(struct scan_part *sp)
{
	for (size_t i = sp->from; i < sp->to && !sp->nomem; i++) {
		const struct pool_ref *r = &sp->pools[i];
		uint64_t size, next;
		if (pool_to_scan(sp->w, r->address, r->data, r->bits, &size, &next))
			pool_blocks(sp, r->address, r->data, r->bits, size, next);
	}
}

enum { SCAN_HEADERS = 256 }; /* pool headers read at a time (<= PH_MEM_PEEKV_MAX) */

// Both passes over pools the copy does not hold (within a budget, read live
// through the cache): their headers SCAN_HEADERS at a time, then each pool
// to scan in one read of its blocks in use, its blocks found checked at
// once. (Block by block, the scan of a 1M-object heap within 16 MiB took
// 290k reads and 123 ms of the pause.)
static void scan_pools_read(struct walker *w, const struct pool_ref *pools, size_t n,
			    struct scan_part *sp)
{
	const struct ph_layout *L = w->L;
	uint64_t psize = w->snap->pymalloc.pool_size;
	uint8_t *body = malloc(psize);
	uint8_t(*hbuf)[64] = malloc(SCAN_HEADERS * sizeof(*hbuf));
	struct ph_mem_iov *iov = malloc(SCAN_HEADERS * sizeof(*iov));
	bool *ok = malloc(SCAN_HEADERS * sizeof(*ok));
	if (!body || !hbuf || !iov || !ok) {
		set_nomem(w);
		goto out;
	}
	for (size_t i = 0; i < n && !nomem_failed(w); i += SCAN_HEADERS) {
		size_t m = n - i < SCAN_HEADERS ? n - i : SCAN_HEADERS;
		for (size_t k = 0; k < m; k++)
			iov[k] = (struct ph_mem_iov){pools[i + k].address, hbuf[k],
						    (size_t)L->pool_sizeof};
		ph_mem_peekv(M(w), iov, m, ok);
		for (size_t k = 0; k < m && !nomem_failed(w); k++) {
			// (What the objects found bring into the cache is given
			// back past the budget pool by pool.)
			if (w->bounded)
				ph_mem_safe_point(M(w));
			const struct pool_ref *r = &pools[i + k];
			uint64_t size, next;
			if (!ok[k] || !pool_to_scan(w, r->address, hbuf[k], r->bits, &size, &next) ||
			    !ph_mem_peek_range(M(w), r->address, body, (size_t)next))
				continue;
			sp->n = 0;
			pool_blocks(sp, r->address, body, r->bits, size, next);
			if (sp->nomem)
				set_nomem(w);
			scan_found(w, sp->out, sp->n);
		}
	}
out:
	free(body);
	free(hbuf);
	free(iov);
	free(ok);
}

static void *scan_part_thread(void *arg)
{
	scan_part_run(arg);
	return NULL;
}

enum {
	SCAN_SPLIT_POOLS = 1024, /* pools from which the first pass runs on two threads */
	SCAN_CHUNK_POOLS = 1 << 16, /* pools scanned at a time (1 GiB of 16 KiB pools) */
	SCAN_POOLS_MAX = 1 << 24, /* pools looked at (256 GiB of 16 KiB pools) */
};

// Both passes over @n pools: the first on two threads when the copy holds
// every one of them and they are many.
static void scan_pool_chunk(struct walker *w, const struct pool_ref *pools, size_t n,
			    bool all_copied)
{
	struct scan_part parts[2] = {{.w = w, .pools = pools, .from = 0, .to = n},
				     {.w = w, .pools = pools, .from = n, .to = n}};
	bool threaded = false;
	if (all_copied && n >= SCAN_SPLIT_POOLS && w->opt->walk_threads != 1 && ph_cpus() >= 2) {
		parts[0].to = parts[1].from = n / 2;
		threaded = ph_thread_start(&parts[1].thread, scan_part_thread, &parts[1]);
		if (!threaded)
			parts[0].to = n;
	}
	if (all_copied) {
		scan_part_run(&parts[0]);
		if (threaded)
			pthread_join(parts[1].thread, NULL);
		for (int k = 0; k < 2; k++) {
			if (parts[k].nomem)
				set_nomem(w);
			scan_found(w, parts[k].out, parts[k].n);
		}
	} else {
		scan_pools_read(w, pools, n, &parts[0]);
	}
	free(parts[0].out);
	free(parts[1].out);
}

// The objects in pymalloc's blocks that neither a root nor an object nor a
// GC list led to: objects of types the GC does not track (strs, bytes,
// ints, floats...) or the GC untracked (tuples and dicts of such values)
// that only native code holds, or whose references a C extension leaked (a
// missing Py_DECREF: alive, referred to by nothing). In two passes: the
// blocks in use that no known object is in and whose first bytes may start
// an object (on two threads when the copy holds every pool and there are
// many), then the object in each (block_object_at()), added in the pools'
// order. Not before the arena table is known.
static void scan_pools(struct walker *w)
{
	struct ph_snapshot *s = w->snap;
	const struct ph_layout *L = w->L;
	const struct ph_pymalloc *pm = &s->pymalloc;
	if (!pm->known || !pm->arena_list || L->pool_nextoffset < 0 ||
	    L->pool_count < 0 || L->pool_szidx < 0 || L->pool_maxnextoffset < 0 ||
	    L->pool_sizeof <= 0 || L->pool_sizeof > 64 || L->pool_nextoffset + 4 > L->pool_sizeof ||
	    pm->pool_size < 1024 || pm->pool_size > 65536 || (pm->pool_size & (pm->pool_size - 1)) ||
	    pm->arena_size < pm->pool_size)
		return;
	uint64_t psize = pm->pool_size;
	struct pool_ref *pools = reallocarray(NULL, SCAN_CHUNK_POOLS, sizeof(*pools));
	if (!pools) {
		set_nomem(w);
		return;
	}
	// Up to SCAN_CHUNK_POOLS pools at a time. (A pool is in one 64 KiB
	// block: its bitmap looked up once. Within a budget no pointer into the
	// cache is held: pools are read one by one.)
	uint64_t a = 0, p = 0, total = 0;
	while (a < pm->narena_list && total < SCAN_POOLS_MAX && !nomem_failed(w)) {
		size_t n = 0;
		bool all_copied = !w->bounded;
		for (; a < pm->narena_list && n < SCAN_CHUNK_POOLS && total < SCAN_POOLS_MAX; a++, p = 0) {
			uint64_t start = pm->arena_list[a].address, end = start + pm->arena_size;
			if (!p)
				p = (start + psize - 1) & ~(psize - 1);
			for (; p + psize <= end && n < SCAN_CHUNK_POOLS && total < SCAN_POOLS_MAX;
			     p += psize, total++) {
				const uint8_t *data =
					w->bounded ? NULL : ph_mem_ptr_fast(M(w), p, psize);
				all_copied = all_copied && data;
				pools[n++] = (struct pool_ref){p, data, block_bits(w, p >> 16, false)};
			}
			if (p + psize <= end)
				break; // (the chunk is full: this arena goes on from p)
		}
		scan_pool_chunk(w, pools, n, all_copied);
	}
	free(pools);
}

enum {
	CHUNK_HEAD = 16,      /* a malloc chunk's prev_size and size, before its data */
	CHUNK_PREV_INUSE = 1, /* the size's flag: the chunk before is in use */
	CHUNK_IS_MMAPPED = 2, /* the size's flag: a chunk mapped apart */
	SMALL_REQUEST_MAX = 512, /* larger requests are malloc's, not pymalloc's */
	MALLOC_CHUNKS_MAX = 1 << 24,
	MS_TOP = 96,          /* struct malloc_state (glibc 2.27+, 2200 bytes): top */
	MS_NEXT = 2160,       /* ... and the next arena */
	MS_SIZE = 2200,
	HEAP_MAX = 64 << 20,  /* a thread arena's heap: its size and alignment at most */
	MALLOC_ARENAS_MAX = 1024,
	ARENA_HEAPS_MAX = 4096,
	MAPPED_PAGES_MAX = 1 << 22, /* pages looked at for chunks mapped apart (16 GiB) */
	SKIPS_MAX = 1 << 20,
};

// The object in the malloc chunk at @p of @size bytes, as pool_object_at()
// reads a pymalloc block, added (PH_OBJ_POOL) when no object found is it.
static void chunk_object(struct walker *w, uint64_t p, uint64_t size)
{
	uint64_t hd[BLOCK_PEEK / 8];
	if (size < CHUNK_HEAD + SMALL_REQUEST_MAX || !ph_mem_peek(M(w), p + CHUNK_HEAD, hd, sizeof(hd)))
		return;
	// (Its data runs into the next chunk's prev_size, which is this one's
	// while it is in use.)
	uint64_t off = block_object_at(w, hd, sizeof(hd), size - CHUNK_HEAD + 8);
	uint64_t a = p + CHUNK_HEAD + off;
	if (off != UINT64_MAX && object_lookup(w, a) == PH_NONE && !is_interned_dict(w, a) &&
	    !is_cached_name(w, a))
		intern(w, a, PH_OBJ_POOL);
}

// The chunks from @p up to @end, one after the other, each in use (the next
// one's PREV_INUSE; freed ones in the tcache keep it, but their data starts
// with the list's link and key, no object's header) read by chunk_object().
// Stops at a chunk that does not read as one (a thread heap's last chunks,
// its fenceposts, have size 0) or when *@budget chunks were read.
static void scan_chunks(struct walker *w, uint64_t p, uint64_t end, uint64_t *budget)
{
	for (; p < end && *budget; --*budget) {
		uint64_t h[2], next[2];
		if (!ph_mem_peek(M(w), p, h, sizeof(h)))
			break;
		uint64_t size = h[1] & ~(uint64_t)7;
		if (size < 32 || (size & 15) || size > end - p ||
		    !ph_mem_peek(M(w), p + size, next, sizeof(next)))
			break;
		if (next[1] & CHUNK_PREV_INUSE)
			chunk_object(w, p, size);
		p += size;
		// (Read live within a budget: the cache gives back what it
		// holds beyond it; no pointer into it is held here.)
		if (w->bounded && !(*budget & 63))
			ph_mem_safe_point(M(w));
	}
}

struct skip {
	uint64_t start, end;
};

static int skip_cmp(const void *a, const void *b)
{
	const struct skip *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

// The heaps of the threads' arenas (each arena's list of heaps, from the one
// its top is in: a heap of at most HEAP_MAX bytes at a multiple of it,
// starting with its heap_info {ar_ptr, prev, size, mprotect_size,
// [pagesize, 2.35+]}; the arena's first heap holds its malloc_state after
// that), scanned as the main arena's, and each added to @skips (where no
// chunk is mapped apart). *@n the skips so far, @cap their room.
static void scan_thread_arenas(struct walker *w, uint64_t *budget, struct skip *skips, size_t *n,
			       size_t cap)
{
	const struct ph_python *py = w->py;
	// sizeof(heap_info): with pagesize from 2.35 (mp_ grew to 136 bytes then).
	uint64_t info = py->libc_mp_size == 136 ? 48 : 32;
	if (py->libc_main_arena_size != MS_SIZE)
		return;
	uint64_t a = py->libc_main_arena;
	unsigned heaps = ARENA_HEAPS_MAX; // (all arenas': a list of garbage ends soon)
	for (unsigned k = 0; k < MALLOC_ARENAS_MAX && *budget && heaps; k++) {
		if (!ph_mem_peek(M(w), a + MS_NEXT, &a, 8) || !a || (a & 7) || a == py->libc_main_arena)
			break;
		uint64_t top;
		if (!ph_mem_peek(M(w), a + MS_TOP, &top, 8) || !top)
			continue;
		uint64_t heap = top & ~(uint64_t)(HEAP_MAX - 1);
		for (; heap && heaps && *budget; heaps--) {
			uint64_t hi[3]; // ar_ptr, prev, size
			if (!ph_mem_peek(M(w), heap, hi, sizeof(hi)) || hi[0] != a || hi[2] > HEAP_MAX ||
			    hi[2] < info || (hi[1] & (HEAP_MAX - 1)))
				break;
			uint64_t first = heap + info;
			if (a == first) // (the arena's first heap: its malloc_state)
				first = (a + MS_SIZE + 15) & ~(uint64_t)15;
			uint64_t end = top > heap && top < heap + hi[2] ? top : heap + hi[2];
			scan_chunks(w, first, end, budget);
			if (*n < cap)
				skips[(*n)++] = (struct skip){heap, heap + hi[2]};
			heap = hi[1];
		}
	}
}

// Whether the page at @p holds the header of a chunk mapped apart (prev_size
// 0, its size whole pages with IS_MMAPPED alone), *@size its size. In a
// copy of the target's memory in use (@copied), a page it does not hold was
// never touched: not read from the running process.
static bool mapped_chunk_at(struct walker *w, uint64_t p, bool copied, uint64_t *size)
{
	uint64_t h[2];
	if (copied) {
		const uint64_t *c = ph_mem_cached_fast(M(w), p, sizeof(h));
		if (!c)
			return false;
		memcpy(h, c, sizeof(h));
	} else if (!ph_mem_peek(M(w), p, h, sizeof(h))) {
		return false;
	}
	*size = h[1] & ~(uint64_t)7;
	return !h[0] && (h[1] & 7) == CHUNK_IS_MMAPPED && *size && !(*size & 4095);
}

// The chunks malloc mapped apart (128 KiB and more, by default: long strs
// and bytes, large tuples), each an anonymous mapping of its own that the
// kernel may merge with its neighbours: in every anonymous writable mapping,
// outside pymalloc's arenas and the threads' heaps (@skips, sorted), each
// page that starts a chunk is one (mapped_chunk_at()), its object read by
// chunk_object(). Stops when the chunks malloc counts (mp_'s n_mmaps) are
// found.
static void scan_mapped(struct walker *w, struct skip *skips, size_t nskips)
{
	const struct ph_python *py = w->py;
	const struct ph_cmalloc *cm = &w->snap->cmalloc;
	if (cm->mapped_known && !cm->mapped_chunks)
		return;
	uint64_t left = cm->mapped_known ? cm->mapped_chunks : UINT64_MAX, pages = MAPPED_PAGES_MAX;
	bool copied = w->opt->copied && !ph_mem_tracking(M(w)) && !w->bounded;
	// Read live: only the pages the process touched (its pagemap), not
	// threads' stacks of megabytes read into the cache page by page.
	const struct ph_mem_range *maps = py->anon_maps;
	size_t nmaps = py->nanon_maps;
	struct ph_mem_range *touched = NULL;
	uint64_t total;
	if (!copied && w->opt->live_pid > 0 && nmaps &&
	    (touched = reallocarray(NULL, nmaps, sizeof(*touched)))) {
		for (size_t i = 0; i < nmaps; i++)
			touched[i] = (struct ph_mem_range){(maps[i].start + 4095) & ~(uint64_t)4095,
							   maps[i].end & ~(uint64_t)4095};
		if (ph_target_resident_ranges(w->opt->live_pid, &touched, &nmaps, &total)) {
			maps = touched;
		} else {
			nmaps = py->nanon_maps;
		}
	}
	size_t s = 0;
	uint64_t from = 0; // (past the last chunk found: it may span ranges touched)
	for (size_t i = 0; i < nmaps && left && pages; i++) {
		uint64_t p = (maps[i].start + 4095) & ~(uint64_t)4095, end = maps[i].end;
		if (p < from)
			p = from;
		// (A chunk ends within its mapping, whose later pages may be untouched.)
		const struct ph_mem_range *whole = anon_map_of(py, p);
		uint64_t limit = whole && whole->end > end ? whole->end : end;
		while (p < end && end - p >= 4096 && left && pages) {
			while (s < nskips && skips[s].end <= p)
				s++;
			if (s < nskips && skips[s].start <= p) {
				p = (skips[s].end + 4095) & ~(uint64_t)4095;
				continue;
			}
			pages--;
			uint64_t size;
			if (mapped_chunk_at(w, p, copied, &size) && size <= limit - p) {
				left--;
				chunk_object(w, p, size);
				p += size;
				from = p;
			} else {
				p += 4096;
			}
			if (w->bounded && !(pages & 63))
				ph_mem_safe_point(M(w));
		}
	}
	free(touched);
}

// The same as scan_pools() in glibc malloc's chunks, where objects over 512
// bytes live (long strs and bytes a C extension leaked): the main arena's
// heap (brk) chunk after chunk up to its top, the threads' arenas' heaps
// likewise (scan_thread_arenas()), and the chunks mapped apart
// (scan_mapped()). Only where malloc's main arena and parameters are known
// (glibc 2.27+, its symbol table or debug file); bounded.
static void scan_malloc(struct walker *w)
{
	const struct ph_python *py = w->py;
	uint64_t budget = MALLOC_CHUNKS_MAX, top = 0, base = 0;
	// Where the heap starts: mp_'s sbrk_base (glibc 2.35+, 2.26-2.34).
	int32_t at = py->libc_mp_size == 136 ? 96 : py->libc_mp_size == 112 ? 72 : -1;
	if (!w->snap->cmalloc.known || !py->libc_main_arena || !py->libc_mp || at < 0)
		return;
	if (ph_mem_peek(M(w), py->libc_mp + (uint64_t)at, &base, 8) &&
	    ph_mem_peek(M(w), py->libc_main_arena + MS_TOP, &top, 8) && base && !(base & 15) &&
	    top > base && top - base < (1ull << 40))
		scan_chunks(w, base, top, &budget);
	// Where no chunk mapped apart is: pymalloc's arenas, the threads' heaps.
	const struct ph_pymalloc *pm = &w->snap->pymalloc;
	size_t cap = (pm->known ? (size_t)pm->narena_list : 0) + 4096, n = 0;
	if (cap > SKIPS_MAX)
		cap = SKIPS_MAX;
	struct skip *skips = reallocarray(NULL, cap, sizeof(*skips));
	if (!skips)
		return;
	for (uint64_t i = 0; pm->known && i < pm->narena_list && n < cap; i++)
		skips[n++] = (struct skip){pm->arena_list[i].address,
					   pm->arena_list[i].address + pm->arena_size};
	scan_thread_arenas(w, &budget, skips, &n, cap);
	qsort(skips, n, sizeof(*skips), skip_cmp);
	scan_mapped(w, skips, n);
	free(skips);
}

// Within a budget: the block of object @i read ahead (ph_mem_read_ahead()),
// if it is found already (@avail objects are). Out of the objects loop's
// code: inlined there, it slowed the walk of a copy by 7 ms at 1M objects.
static void __attribute__((noinline, cold)) read_ahead_object(struct walker *w, size_t i,
							     size_t avail)
{
	if (i < avail)
		ph_mem_read_ahead(w->mem, w->snap->objects[i].address);
}

struct ph_error *ph_python_walk(struct ph_python *py, struct ph_mem *mem,
				const struct ph_walk_options *opt, struct ph_snapshot **ret)
{
	const struct ph_layout *L = &py->L;
	uint64_t t_start = now_ns(), t_checked = t_start, t_gc = t_start, t_objects = t_start;
	// The layout against the stopped target first (cpython.c); this also
	// derives subtype_traverse for stripped interpreters.
	if (py->live_checks) {
		struct ph_error *cerr = ph_python_check_live(py, mem);
		if (cerr)
			return cerr;
	}
	t_checked = now_ns();
	struct ph_snapshot *snap = ph_snapshot_create();
	if (!snap)
		return &ph_error_nomem;
	struct walker w = {
		.py = py,
		.L = L,
		.mem = mem,
		.snap = snap,
		.opt = opt,
		.max_objects = opt->max_objects ? opt->max_objects : DEFAULT_MAX_OBJECTS,
		.limit_at = opt->max_objects ? opt->max_objects : DEFAULT_MAX_OBJECTS,
		.bounded = ph_mem_limited(mem) && !ph_mem_tracking(mem),
		.hash_values = opt->hash_values,
		.keep_values = opt->keep_values,
	};
	if (opt->memory_low && w.limit_at > GUARD_OBJECTS)
		w.limit_at = GUARD_OBJECTS;
	w.pwindow = w.bounded ? PENDING_BOUNDED : PENDING;
	w.ocap_first = first_table_size(&w);
	if (w.bounded)
		w.recent = calloc(RECENT, sizeof(*w.recent)); // (none: slower, not wrong)
	struct ph_error *err = NULL;
	snap->pid = py->pid;
	snprintf(snap->python_version, sizeof(snap->python_version), "%s", py->version);
	// (As /proc/PID/maps names a file deleted or replaced since it was mapped.)
	if (py->deleted) {
		if (asprintf(&snap->python_path, "%s (deleted)", py->path) < 0)
			snap->python_path = NULL;
	} else {
		snap->python_path = strdup(py->path);
	}
	snap->layout_source = strdup(py->layout_source);
	snap->layout_kind = py->layout_kind;
	if (!grow_table(&w) || !grow_objects(&w)) {
		err = &ph_error_nomem;
		goto out;
	}
	if (py->sym[SYM_set_dummy])
		w.set_dummy = rd64(&w, py->sym[SYM_set_dummy]);

	uint64_t runtime = py->sym[SYM_PyRuntime];
	uint64_t interp;
	if (!rdok(&w, runtime + (uint64_t)L->rt_interpreters_head, &interp)) {
		err = ph_mem_target_gone(mem)
			      ? ph_error_create(PH_ERR_FAULT, "read %s: the process exited",
						py->what)
			      : ph_error_fault(runtime, "read _PyRuntime of %s at 0x%llx: memory "
						 "unreadable",
					       py->what, (unsigned long long)runtime);
		goto out;
	}
	if (!interp) {
		err = ph_error_create(PH_ERR_BAD_DATA,
				      "read %s: no interpreter (Python not initialised, or "
				      "finalising)",
				      py->what);
		goto out;
	}
	// pymalloc's arenas, before the walk writes into the copy (their pool
	// headers are no objects, but read them as the target had them).
	ph_python_read_pymalloc(py, mem, &snap->pymalloc);
	ph_read_cmalloc(py, mem, &snap->cmalloc);
	if (py->minor == 8)
		add_gc_lists(&w, runtime + (uint64_t)L->rt_gc);
	uint64_t main_interp =
		L->rt_interpreters_main >= 0 ? rd64(&w, runtime + (uint64_t)L->rt_interpreters_main) : 0;
	for (uint32_t i = 0; interp && i < MAX_INTERPRETERS; i++) {
		snap->interpreters++;
		if (py->minor >= 9)
			add_gc_lists(&w, interp + (uint64_t)L->is_gc);
		uint64_t gcstate = py->minor == 8 ? runtime + (uint64_t)L->rt_gc
						  : interp + (uint64_t)L->is_gc;
		if (L->gc_enabled >= 0 && rd32(&w, gcstate + (uint64_t)L->gc_enabled) == 0)
			snap->gc_disabled = true;
		// (The main interpreter when the runtime names it, else the first.)
		if (!w.main_interp || interp == main_interp)
			w.main_interp = interp;
		add_interpreter_roots(&w, interp);
		if (w.bounded)
			ph_mem_safe_point(mem);
		interned_dicts(&w, runtime, interp);
		type_cache_names(&w, interp);
		if (w.bounded)
			ph_mem_safe_point(mem);
		if (interp == w.main_interp)
			add_static_types(&w, interp);
		uint64_t next = rd64(&w, interp + (uint64_t)L->is_next);
		if (next == interp)
			break;
		interp = next;
	}
	type_cache_sort(&w);
	add_signal_roots(&w);
	if (snap->nobjects == 0)
		finish_roots(&w); // (no roots: the lists alone, and no closure known)
	if (snap->nobjects == 0) {
		err = ph_error_create(PH_ERR_BAD_DATA,
				      "read %s: the GC lists are empty or unreadable (is the layout "
				      "right for Python %s?)",
				      py->what, py->version);
		goto out;
	}

	t_gc = now_ns();
	// (Memory may be low already: the roots' objects only, then.)
	if (opt->memory_low)
		memory_low(&w, snap->nobjects);
	// The objects expected (about one per 96 bytes of the memory read so
	// far: the copy) and about two edges each: room for them, and their pages
	// faulted in by another core ahead of their use.
	struct ph_mem_stats ms;
	ph_mem_get_stats(mem, &ms);
	size_t expect = (size_t)(ms.bytes_read / 96);
	if (expect > (1u << 26))
		expect = 1u << 26;
	if (expect > max_objects(&w))
		expect = (size_t)max_objects(&w); // (--max-objects)
	while (w.ocapobj < expect)
		if (!grow_objects(&w)) {
			err = &ph_error_nomem;
			goto out;
		}
	if (expect < snap->nobjects)
		expect = snap->nobjects;
	if (w.capedges < expect * 2) {
		struct ph_edge *e = reallocarray(snap->edges, expect * 2, sizeof(*e));
		if (e) {
			snap->edges = e;
			w.capedges = expect * 2;
		}
	}
	if (w.capgcn < expect && !w.bounded) {
		// (Room for as many GC nodes as objects: only the pages used count.)
		struct gc_node *g = reallocarray(w.gcn, expect, sizeof(*g));
		if (g) {
			w.gcn = g;
			w.capgcn = expect;
		}
	}
	pipe_start(&w, ms.copied ? expect : SIZE_MAX);
	// Within a budget, the blocks of the objects processed soon are read
	// ahead on another thread (not with --walk-threads 1).
	bool read_ahead = w.bounded && opt->walk_threads != 1;
	// (On two threads, the cores are busy: pages fault in on use, or while
	// the processing thread waits, fault_ahead().)
	if (!w.pipe)
		start_prefault(&w, expect);
	size_t avail = snap->nobjects; // objects that may be processed
	for (size_t i = 0;; i++) {
		if (!w.pipe)
			avail = snap->nobjects;
		if (i + PREFETCH_AHEAD < avail)
			ph_mem_hint_fast(w.mem, snap->objects[i + PREFETCH_AHEAD].address);
		if (__builtin_expect(read_ahead, 0))
			read_ahead_object(&w, i + READ_AHEAD, avail);
		bool out_of_time = false;
		if (i == avail && w.pipe) {
			avail = pipe_objects(&w, i);
			if (pipe_narrow(&w, i, avail)) {
				pipe_pause(&w, false);
				avail = snap->nobjects;
			} else if (avail > i && pipe_busy(&w)) {
				pipe_pause(&w, true);
				avail = snap->nobjects;
			}
		} else if (w.pipe && !(i & 255)) {
			if (pipe_busy(&w)) {
				pipe_pause(&w, true);
				avail = snap->nobjects;
			}
		} else if (!w.pipe && !(i & 1023)) {
			pipe_resume(&w, snap->nobjects - i);
			avail = snap->nobjects;
		}
		if (i == avail) {
			// The last edges' targets may be objects still to process;
			// then the objects in GC lists that nothing found yet, a
			// slice at a time (Ctrl-C and the time limit between).
			resolve_pending(&w);
			if (!w.heads_visited && i == snap->nobjects) {
				// Every object the roots reach is processed, and
				// every edge of theirs leads among them: the
				// roots' closure, for the analyses (graph.c).
				if (!snap->truncated)
					snap->root_closure = i;
				finish_roots(&w);
			}
			while (i == snap->nobjects &&
			       w.gcn_at < (w.bounded ? snap->nobjects : w.ngcn) && !nomem_failed(&w) &&
			       snap->nobjects < max_objects(&w)) {
				gc_expand(&w, 4096);
				if (w.bounded)
					ph_mem_safe_point(mem);
				if (opt->interrupted && *opt->interrupted) {
					err = ph_error_create(PH_ERR_INTERRUPTED, "interrupted");
					goto out;
				}
				if (opt->deadline_ns && now_ns() > opt->deadline_ns) {
					out_of_time = true;
					break;
				}
			}
			if (nomem_failed(&w)) {
				err = &ph_error_nomem;
				goto out;
			}
			if (i == snap->nobjects && !out_of_time && !w.pools_scanned &&
			    snap->nobjects < max_objects(&w)) {
				w.pools_scanned = true;
				uint64_t t_scan = now_ns();
				snap->pool_scan_from = snap->nobjects;
				scan_pools(&w);
				scan_malloc(&w);
				if (opt->times)
					opt->times->scan = now_ns() - t_scan;
			}
			if (i == snap->nobjects && !out_of_time)
				break;
			avail = snap->nobjects;
		}
		snap->edge_start[i] = (uint32_t)snap->nedges;
		if (out_of_time || (i & 4095) == 0) {
			if (opt->interrupted && *opt->interrupted) {
				err = ph_error_create(PH_ERR_INTERRUPTED, "interrupted");
				goto out;
			}
			// (On two threads, the objects the resolver published: it
			// may have added more, and adds none from now on.)
			if (opt->memory_low && i && !(i & (GUARD_OBJECTS - 1)))
				memory_low(&w, w.pipe ? __atomic_load_n(&w.pipe->published, __ATOMIC_ACQUIRE)
						      : snap->nobjects);
			if (out_of_time || (opt->deadline_ns && now_ns() > opt->deadline_ns)) {
				resolve_pending(&w);
				add_frame_codes(&w); // (the frames' labels name them)
				snap->truncated = true;
				free(snap->truncated_reason);
				snap->truncated_reason = strdup("time limit reached");
				// Objects not processed keep size 0 and no edges.
				for (size_t j = i; j < snap->nobjects; j++)
					snap->edge_start[j] = (uint32_t)snap->nedges;
				break;
			}
		}
		w.cur = i;
		process(&w, (uint32_t)i);
		if (w.bounded)
			ph_mem_safe_point(mem); // no pointer into the cache is held here
		if (nomem_failed(&w)) {
			err = &ph_error_nomem;
			goto out;
		}
	}
	pipe_stop(&w);
	snap->edge_start[snap->nobjects] = (uint32_t)snap->nedges;
	stop_prefault(&w);
	// Dict owners, before the dead edges go (their edge indices hold till then).
	for (size_t i = 0; i < w.nowners; i++) {
		// (Random reads: ahead, a hint for the dict's record, or its header
		// in the copy, and the owner's record: 3.2 -> 2.4 ms for 48k dicts.)
		if (i + OWNERS_AHEAD < w.nowners) {
			const struct ownership *a = &w.owners[i + OWNERS_AHEAD];
			if (a->edge != PH_NONE && i + OWNERS_AHEAD >= w.owners_stale) {
				uint32_t d = snap->edges[a->edge].target;
				if (d < snap->nobjects)
					__builtin_prefetch(&snap->objects[d]);
			} else if (!w.bounded) {
				ph_mem_hint_fast(w.mem, a->dict);
			}
			__builtin_prefetch(&snap->objects[a->owner]);
		}
		const struct ownership *o = &w.owners[i];
		uint32_t d = o->edge != PH_NONE && i >= w.owners_stale ? snap->edges[o->edge].target
								       : object_lookup(&w, o->dict);
		if (d >= snap->nobjects || snap->objects[d].owner != PH_NONE ||
		    (snap->objects[d].flags & PH_OBJ_MODULE_DICT))
			continue;
		if (o->module) {
			snap->objects[d].flags |= PH_OBJ_MODULE_DICT;
		} else {
			// "dict of X" only for instances of heap types (Heapy's owners).
			// (Types enter the walker's table and the snapshot together.)
			const struct tinfo *ot = w.types[snap->objects[o->owner].type];
			if (ot->flags & TPF_HEAPTYPE)
				snap->objects[d].owner = o->owner;
		}
	}
	remove_dead_edges(&w);
	t_objects = now_ns();
	if (ph_mem_target_gone(mem)) {
		err = ph_error_create(PH_ERR_FAULT, "read %s: the process exited during the read",
				      py->what);
		goto out;
	}
	for (size_t i = 0; i < snap->ntypes; i++)
		snap->types[i].object = object_lookup(&w, snap->types[i].address);
	snap->weak_edges = calloc(w.nweak ? w.nweak : 1, sizeof(*snap->weak_edges));
	if (!snap->weak_edges) {
		err = &ph_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < w.nweak; i++) {
		uint32_t to = object_lookup(&w, w.weak[i].to);
		if (to != PH_NONE)
			snap->weak_edges[snap->nweak_edges++] = (struct ph_weak_edge){w.weak[i].from, to};
	}
	add_main_greenlet_roots(&w);
	if (!scan_stack_areas(&w) || !scan_static_areas(&w)) {
		err = &ph_error_nomem;
		goto out;
	}
	if (!ph_python_read_tracemalloc(py, mem, snap, object_pre, &w)) {
		err = &ph_error_nomem;
		goto out;
	}
out:
	pipe_stop(&w);
	if (!err) {
		sort_sparse_tables(snap);
		if (w.hash_values)
			sort_value_hashes(snap);
		// (In order as noted; sorted all the same, as lookups and files
		// rely on it, should an object's lines ever be noted out of turn.)
		if (snap->nobj_lines > 1)
			qsort(snap->obj_lines, snap->nobj_lines, sizeof(*snap->obj_lines),
			      by_object_depth);
	}
	if (w.saved_words)
		restore_first_words(&w);
	walker_deinit(&w);
	if (opt->times) {
		opt->times->check = t_checked - t_start;
		opt->times->gc = t_gc > t_checked ? t_gc - t_checked : 0;
		opt->times->objects = t_objects > t_gc ? t_objects - t_gc : 0;
		opt->times->finish = now_ns() - (t_objects > t_checked ? t_objects : t_checked);
	}
	if (err) {
		ph_snapshot_destroy(snap);
		return err;
	}
	*ret = snap;
	return NULL;
}
