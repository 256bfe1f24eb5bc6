/* SPDX-License-Identifier: MIT */
/**
 * @file snapshot.h
 * An in-memory graph of the target's heap: objects (address, type, size),
 * labelled edges, dict ownership, and metadata. Built while the target is
 * stopped; everything after (analysis, reports) works on it alone.
 */
#ifndef PH_SNAPSHOT_H
#define PH_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PH_NONE UINT32_MAX

enum ph_object_flags {
	PH_OBJ_GC_LIST = 1 << 0,      /**< found in a GC generation list */
	PH_OBJ_MODULE_DICT = 1 << 1,  /**< the md_dict of a module (owner is the module) */
	PH_OBJ_INLINE_VALUES = 1 << 2,/**< attributes stored without a dict object */
	PH_OBJ_IMMORTAL = 1 << 3,     /**< 3.12+ immortal refcount */
	PH_OBJ_STATIC_TYPE = 1 << 4,  /**< a statically allocated type object (a root) */
	PH_OBJ_POOL = 1 << 5,         /**< found in pymalloc's blocks in use alone: in no GC
					   list, referred to by no object or root found
					   before it (ph_snapshot_pool_found()) */
};

/* Limits of struct ph_object's packed fields (24 bytes an object). */
#define PH_MAX_ADDRESS ((1ull << 56) - 1) /* user space: 47 bits, 56 with 5-level paging */
#define PH_MAX_SIZE ((1ull << 40) - 1)    /* 1 TiB: larger sizes are stored as this */
#define PH_MAX_TYPES ((1u << 24) - 1)

/* (The walk's two threads: one writes an object's size and flags while the
 * other reads its address or sets flags; flags is a member of its own so
 * that these are separate memory locations.) */
struct ph_object {
	uint64_t address : 56; /**< at most PH_MAX_ADDRESS */
	uint8_t flags;         /**< enum ph_object_flags */
	uint64_t size : 40;    /**< as sys.getsizeof, plus dict-less attribute storage; at most
				    PH_MAX_SIZE */
	uint64_t type : 24;    /**< index into ph_snapshot.types (fewer than PH_MAX_TYPES) */
	uint32_t refcnt;       /**< ob_refcnt (3.12+: its low 32 bits), at most UINT32_MAX, never < 0 */
	uint32_t owner;        /**< for a dict: the object whose __dict__ it is, or PH_NONE */
};
_Static_assert(sizeof(struct ph_object) == 24, "struct ph_object: 24 bytes");

/** Edge labels: kind in the top 4 bits, a payload in the low 28 bits. */
enum ph_edge_kind {
	PH_EDGE_FIELD = 0,      /**< a named struct field; payload: enum ph_field */
	PH_EDGE_INDEX = 1,      /**< tuple/list item; payload: index */
	PH_EDGE_DICT_KEY = 2,   /**< payload: entry index */
	PH_EDGE_DICT_VALUE = 3, /**< payload: entry index */
	PH_EDGE_ATTR = 4,       /**< dict-less attribute; payload: index in the type's attr names */
	PH_EDGE_SLOT = 5,       /**< __slots__ member; payload: index in the type's slot names */
	PH_EDGE_SET_ITEM = 6,
	PH_EDGE_LOCAL = 7,      /**< frame local; payload: index in co_localsplusnames/varnames */
	PH_EDGE_STATE = 8,      /**< a word of a C module's state that points to an object
				     (the state's struct is unknown); payload: its index */
	PH_EDGE_WORD = 9,       /**< a word of a C object's struct, not a declared member,
				     that points to a live object (a Cython class's typed
				     field...); payload: its byte offset */
	PH_EDGE_GREENLET = 10,  /**< a suspended greenlet's frames (its gr_frame, then
				     f_back...); payload: PH_GR_LABEL(depth, what) */
};
#define PH_EDGE_LAST PH_EDGE_GREENLET

/* PH_EDGE_GREENLET payloads: the frame's depth (0: gr_frame, 1: its f_back...)
 * and what of it: a slot of its locals and stack (below PH_GR_SLOTS), or one of
 * the fields below. */
#define PH_GR_LABEL(depth, what) (((uint32_t)(depth) << 20) | ((uint32_t)(what) & 0xfffffu))
#define PH_GR_DEPTH(payload) ((payload) >> 20)
#define PH_GR_WHAT(payload) ((payload) & 0xfffffu)
enum {
	PH_GR_MAX_DEPTH = 255,     /**< frames of one greenlet at most */
	PH_GR_SLOTS = 0xffff0,     /**< slots at most */
	PH_GR_FRAME_OBJ = 0xffff0, /**< the frame object (gr_frame itself at depth 0) */
	PH_GR_CODE,                /**< f_code */
	PH_GR_FUNC,                /**< the function the frame runs */
	PH_GR_LOCALS,              /**< f_locals (a class body's, exec()'s) */
	PH_GR_GEN,                 /**< the generator whose frame it is (running: its
				        caller holds it, on a stack the walk cannot read) */
};
#define PH_EDGE(kind, payload) (((uint32_t)(kind) << 28) | ((uint32_t)(payload) & 0x0fffffffu))
#define PH_EDGE_KIND(label) ((enum ph_edge_kind)((label) >> 28))
#define PH_EDGE_PAYLOAD(label) ((label) & 0x0fffffffu)

/** An edge found by the words of a struct the walk does not know (a C module's
 * state, a C object's undeclared fields): paths take them last. */
static inline bool ph_edge_inferred(uint32_t label)
{
	return PH_EDGE_KIND(label) == PH_EDGE_STATE || PH_EDGE_KIND(label) == PH_EDGE_WORD;
}

/* Named fields, for PH_EDGE_FIELD payloads: F(id, "label"). */
#define PH_FIELDS(F)                                                                              \
	F(PH_F_DICT, "__dict__") F(PH_F_CLASS, "__class__") F(PH_F_TP_DICT, "__dict__")                \
	F(PH_F_TP_BASES, "__bases__") F(PH_F_TP_MRO, "__mro__") F(PH_F_TP_BASE, "__base__")             \
	F(PH_F_TP_CACHE, "tp_cache") F(PH_F_TP_SUBCLASSES, "tp_subclasses")                          \
	F(PH_F_HT_NAME, "__name__") F(PH_F_HT_QUALNAME, "__qualname__") F(PH_F_HT_SLOTS, "__slots__")   \
	F(PH_F_HT_MODULE, "ht_module") F(PH_F_CODE, "__code__") F(PH_F_GLOBALS, "__globals__")          \
	F(PH_F_BUILTINS, "__builtins__") F(PH_F_NAME, "__name__") F(PH_F_QUALNAME, "__qualname__")      \
	F(PH_F_DEFAULTS, "__defaults__") F(PH_F_KWDEFAULTS, "__kwdefaults__")                         \
	F(PH_F_CLOSURE, "__closure__") F(PH_F_DOC, "__doc__") F(PH_F_MODULE, "__module__")              \
	F(PH_F_ANNOTATIONS, "__annotations__") F(PH_F_TYPE_PARAMS, "__type_params__")                \
	F(PH_F_CELL_CONTENTS, "cell_contents") F(PH_F_FUNC, "__func__") F(PH_F_SELF, "__self__")        \
	F(PH_F_CALLBACK, "__callback__") F(PH_F_OBJCLASS, "__objclass__") F(PH_F_WRAPPED, "__wrapped__") \
	F(PH_F_FGET, "fget") F(PH_F_FSET, "fset") F(PH_F_FDEL, "fdel") F(PH_F_MAPPING, "mapping")          \
	F(PH_F_ARGS, "args") F(PH_F_NOTES, "__notes__") F(PH_F_TRACEBACK, "__traceback__")              \
	F(PH_F_CONTEXT, "__context__") F(PH_F_CAUSE, "__cause__") F(PH_F_CO_CODE, "co_code")             \
	F(PH_F_CO_CONSTS, "co_consts") F(PH_F_CO_NAMES, "co_names") F(PH_F_CO_VARNAMES, "co_varnames")  \
	F(PH_F_CO_FREEVARS, "co_freevars") F(PH_F_CO_CELLVARS, "co_cellvars")                        \
	F(PH_F_CO_LOCALSPLUSNAMES, "co_localsplusnames")                                          \
	F(PH_F_CO_LOCALSPLUSKINDS, "co_localspluskinds") F(PH_F_CO_FILENAME, "co_filename")          \
	F(PH_F_CO_NAME, "co_name") F(PH_F_CO_QUALNAME, "co_qualname") F(PH_F_CO_LINETABLE, "co_linetable") \
	F(PH_F_CO_EXCEPTIONTABLE, "co_exceptiontable") F(PH_F_F_BACK, "f_back")                      \
	F(PH_F_F_CODE, "f_code") F(PH_F_F_LOCALS, "f_locals") F(PH_F_F_TRACE, "f_trace")                 \
	F(PH_F_FRAME_OBJ, "frame") F(PH_F_STACK, "stack") F(PH_F_GI_FRAME, "gi_frame")                   \
	F(PH_F_EXC, "exception") F(PH_F_EXTRA_LOCALS, "f_extra_locals")                             \
	F(PH_F_FUT_LOOP, "_loop") F(PH_F_FUT_CALLBACK0, "_callback0")                                \
	F(PH_F_FUT_CONTEXT0, "_context0") F(PH_F_FUT_CALLBACKS, "_callbacks")                        \
	F(PH_F_FUT_RESULT, "_result") F(PH_F_FUT_EXCEPTION, "_exception")                            \
	F(PH_F_FUT_EXCEPTION_TB, "_exception_tb") F(PH_F_FUT_SOURCE_TB, "_source_traceback")         \
	F(PH_F_FUT_CANCEL_MSG, "_cancel_message") F(PH_F_FUT_CANCELLED_EXC, "_cancelled_exc")        \
	F(PH_F_FUT_AWAITED_BY, "_awaited_by") F(PH_F_TASK_FUT_WAITER, "_fut_waiter")                 \
	F(PH_F_TASK_CORO, "_coro") F(PH_F_TASK_NAME, "_name") F(PH_F_TASK_CONTEXT, "_context")       \
	F(PH_F_LRU_CACHE, "cache") F(PH_F_LRU_KWD_MARK, "kwd_mark")                                  \
	F(PH_F_LRU_CACHE_INFO_TYPE, "cache_info_type") F(PH_F_KEY, "key") F(PH_F_RESULT, "result")     \
	F(PH_F_CTX_PREV, "prev") F(PH_F_CTX_VARS, "vars") F(PH_F_CVAR_DEFAULT, "default")                \
	F(PH_F_TOK_CONTEXT, "context") F(PH_F_TOK_VAR, "var")              \
	F(PH_F_TOK_OLD_VALUE, "old_value") F(PH_F_HAMT_ROOT, "root") F(PH_F_FUTURE, "future")          \
	F(PH_F_SEQ, "seq") F(PH_F_ITERATOR, "iterator") F(PH_F_ITERATORS, "iterators")                    \
	F(PH_F_FUNCTION, "function") F(PH_F_SENTINEL, "sentinel") F(PH_F_INDEX, "index")                 \
	F(PH_F_SAVED, "saved") F(PH_F_ELEMENT, "element") F(PH_F_CNT, "count") F(PH_F_STEP, "step")      \
	F(PH_F_SOURCE, "source") F(PH_F_ACTIVE, "active") F(PH_F_SET, "set") F(PH_F_ITEMS, "items")     \
	F(PH_F_BUFFER, "buffer") F(PH_F_KEYWORDS, "keywords") F(PH_F_DATA, "data") F(PH_F_NEXT, "next")  \
	F(PH_F_POOLS, "pools") F(PH_F_POOL, "pool") F(PH_F_KEYFUNC, "keyfunc") F(PH_F_TGTKEY, "tgtkey")   \
	F(PH_F_CURRKEY, "currkey") F(PH_F_CURRVALUE, "currvalue") F(PH_F_PARENT, "parent")            \
	F(PH_F_OLD, "old") F(PH_F_TOTAL, "total") F(PH_F_BINOP, "binop") F(PH_F_INITIAL, "initial")     \
	F(PH_F_FILLVALUE, "fillvalue") F(PH_F_SELECTORS, "selectors") F(PH_F_LOCALDICTS, "localdicts") \
	F(PH_F_TAG, "tag") F(PH_F_TEXT, "text") F(PH_F_TAIL, "tail") F(PH_F_ATTRIB, "attrib")    \
	F(PH_F_MEMO, "memo") F(PH_F_WRITE, "write") F(PH_F_AT_FUNC, "func") F(PH_F_KWARGS, "kwargs") \
	F(PH_F_ABC_REGISTRY, "_abc_registry") F(PH_F_ABC_CACHE, "_abc_cache")                     \
	F(PH_F_ABC_NEGATIVE_CACHE, "_abc_negative_cache") F(PH_F_MBUF, "mbuf") F(PH_F_OBJ, "obj")         \
	F(PH_F_ENCODING, "encoding") F(PH_F_ENCODER, "_encoder") F(PH_F_DECODER, "_decoder")          \
	F(PH_F_READNL, "_readnl") F(PH_F_DECODED_CHARS, "_decoded_chars")                             \
	F(PH_F_PENDING_BYTES, "_pending_bytes") F(PH_F_SNAPSHOT, "_snapshot")                         \
	F(PH_F_ERRORS, "errors") F(PH_F_RAW, "_raw") F(PH_F_ND_BASE, "base")                         \
	F(PH_F_TZINFO, "tzinfo") F(PH_F_TZ_OFFSET, "_offset") F(PH_F_TZ_NAME, "_name")

enum ph_field {
#define PH_FIELD_ENUM(id, name) id,
	PH_FIELDS(PH_FIELD_ENUM)
#undef PH_FIELD_ENUM
	PH_F_COUNT
};

/** The label of a PH_EDGE_FIELD payload ("__dict__", "co_consts"). */
const char *ph_field_name(uint32_t id);

struct ph_edge {
	uint32_t target;
	uint32_t label;
};

struct ph_type {
	uint64_t address;
	char *name;        /**< kind name of its instances: "dict", "__main__.Foo" */
	char **attr_names; /**< names of dict-less attributes (shared keys), may be NULL */
	uint32_t nattr_names;
	char **slot_names;
	uint32_t nslot_names;
	uint32_t object;   /**< the type object's own index in objects, or PH_NONE */
	bool is_dict;      /**< exactly dict: owned dicts are "dict of X" */
};

enum ph_root_kind {
	PH_ROOT_MODULES,  /**< sys.modules (the interpreter's modules dict) */
	PH_ROOT_SYS,      /**< the sys module's dict */
	PH_ROOT_BUILTINS, /**< the builtins module's dict */
	PH_ROOT_FRAME,    /**< a frame of a thread's stack; edges are its locals */
	PH_ROOT_CONTEXT,  /**< a thread's current contextvars.Context */
	/* What the interpreter holds outside any object (before these roots,
	 * "held by native code"): */
	PH_ROOT_ATEXIT,       /**< a function registered with atexit.register();
				   depth: its index; edges: func, args, kwargs */
	PH_ROOT_CODEC_SEARCH, /**< codecs.register()'s search functions (a list) */
	PH_ROOT_CODEC_CACHE,  /**< the codecs' lookup cache (a dict) */
	PH_ROOT_CODEC_ERRORS, /**< codecs.register_error()'s handlers (a dict) */
	PH_ROOT_AUDIT_HOOKS,  /**< sys.addaudithook()'s hooks (a list) */
	PH_ROOT_FORK_BEFORE,  /**< os.register_at_fork(before=) functions (a list) */
	PH_ROOT_FORK_PARENT,  /**< os.register_at_fork(after_in_parent=) functions */
	PH_ROOT_FORK_CHILD,   /**< os.register_at_fork(after_in_child=) functions */
	PH_ROOT_SIGNAL,       /**< a signal.signal() handler; depth: the signal */
	PH_ROOT_MONITORING,   /**< a sys.monitoring tool's callbacks; depth: the
				   tool id; edges: [event] */
	/* and of each thread (thread_id): */
	PH_ROOT_TRACE,        /**< its sys.settrace() function */
	PH_ROOT_PROFILE,      /**< its sys.setprofile() function */
	PH_ROOT_EXCEPTION,    /**< an exception it is handling (an except block);
				   depth: 0 for the innermost */
	PH_ROOT_THREAD_DICT,  /**< its state dict (PyThreadState_GetDict()) */
	PH_ROOT_FIRSTITER,    /**< its sys.set_asyncgen_hooks() firstiter */
	PH_ROOT_FINALIZER,    /**< its sys.set_asyncgen_hooks() finalizer */
	PH_ROOT_MAIN_GREENLET, /**< its main greenlet (the greenlet package),
				    suspended: another greenlet runs on the thread;
				    thread_id 0: the thread is not known */
	PH_ROOT_LOCAL_KEY,     /**< 3.13+: its key in each threading.local's
				    dict of per-thread dicts */
};
#define PH_ROOT_LAST PH_ROOT_LOCAL_KEY

/**
 * A root: where strong references come from that no object in the snapshot
 * holds. Either an object (object != PH_NONE) or a synthetic node whose
 * edges are [edge_start, edge_end) of root_edges (3.11+ interpreter frames).
 */
struct ph_root {
	enum ph_root_kind kind;
	uint32_t object;
	uint32_t edge_start, edge_end;
	uint32_t code;        /**< frames: the code object, or PH_NONE */
	uint64_t thread_id;   /**< frames, contexts: the thread's pthread id */
	uint32_t depth;       /**< frames: 0 for the innermost */
	int32_t line;         /**< frames: current line, or -1 */
};

/** An object's current line, or that of one of its frames (ph_snapshot.obj_lines). */
struct ph_obj_line {
	uint32_t object;
	uint32_t depth; /**< PH_NONE: the object's own (a generator, coroutine, frame
			     object); else a suspended greenlet's frame (3.11+) at this
			     depth, as its PH_EDGE_GREENLET edges count them */
	int32_t line;
};

struct ph_weak_edge {
	uint32_t from; /**< the weakref object */
	uint32_t to;   /**< its referent */
};

/** pymalloc's small-block size classes: 512 bytes in steps of 8 at most. */
#define PH_PYMALLOC_CLASSES 64

/** One size class of pymalloc, over its pools in use. */
struct ph_pymalloc_class {
	uint32_t size;        /**< block size, bytes */
	uint64_t pools;       /**< pools in use of this size */
	uint64_t blocks;      /**< blocks in use */
	uint64_t free_blocks; /**< free blocks in those pools */
};

/** One of pymalloc's arenas: where it is and how much of it is in use. */
struct ph_pymalloc_arena {
	uint64_t address; /**< its first byte (arena_size bytes from there) */
	uint64_t used;    /**< bytes in its blocks in use */
};

/**
 * pymalloc's arenas, counted as sys._debugmallocstats() counts them: every
 * byte of the arenas is in a block in use, a free block of a pool in use, a
 * free pool, or overhead (pool headers, the ends of pools no block fits,
 * arena alignment).
 */
struct ph_pymalloc {
	bool known;               /**< read (false: no arena table known, see README) */
	uint32_t arena_size;      /**< bytes per arena */
	uint32_t pool_size;       /**< bytes per pool */
	uint64_t arenas;          /**< arenas allocated now */
	uint64_t allocated_bytes; /**< in blocks in use */
	uint64_t available_bytes; /**< in free blocks of pools in use */
	uint64_t free_pool_bytes; /**< in pools no block of which is in use (or not carved yet) */
	uint64_t overhead_bytes;  /**< pool headers, quantization, arena alignment */
	uint64_t unreadable;      /**< arenas or pools that could not be read or made no sense */
	uint32_t nclasses;        /**< classes with pools in use, by increasing size */
	struct ph_pymalloc_class classes[PH_PYMALLOC_CLASSES];
	/** each arena counted, by increasing address (NULL, 0: not kept, as
	 * when there was no memory for them; else as many as `arenas`) */
	struct ph_pymalloc_arena *arena_list;
	uint64_t narena_list;
};

/**
 * glibc's malloc, counted as mallinfo2() counts it: the memory its arenas took
 * from the system (not the chunks mmap()ed one by one), and how much of it is
 * free (in its bins, fast bins and each arena's top chunk). Chunks in the
 * threads' caches (tcache) count as in use, as for mallinfo2().
 */
struct ph_cmalloc {
	bool known;           /**< read (false: not glibc, or main_arena unknown) */
	uint32_t arenas;      /**< main arena and threads' arenas */
	uint64_t system_bytes;    /**< mallinfo2().arena */
	uint64_t free_bytes;      /**< mallinfo2().fordblks: free chunks and tops */
	uint64_t free_chunks;     /**< mallinfo2().ordblks: free chunks, tops included */
	uint64_t fast_free_bytes; /**< mallinfo2().fsmblks: in fast bins */
	uint64_t top_bytes;       /**< the main arena's top chunk (mallinfo2().keepcost) */
	bool mapped_known;        /**< the two below were read (malloc's mp_ known) */
	uint64_t mapped_chunks;   /**< chunks mapped apart, one by one (mallinfo2().hblks) */
	uint64_t mapped_bytes;    /**< their bytes (mallinfo2().hblkhd) */
	uint64_t unreadable;      /**< lists cut short: garbage, or not readable */
	/** another malloc the process has mapped (jemalloc, tcmalloc, mimalloc),
	 * whatever `known` is: its name and file ("" if none); its memory is
	 * not read */
	char other[16], other_file[64];
};

/**
 * Whether the process's malloc is the other allocator of @p m: one is mapped,
 * and glibc's arenas are empty or unknown (preloaded, it takes every malloc).
 */
static inline bool ph_cmalloc_other_in_use(const struct ph_cmalloc *m)
{
	return m->other[0] &&
	       (!m->known || (!m->system_bytes && (!m->mapped_known || !m->mapped_chunks)));
}

/** pymalloc's arenas in two numbers: their bytes, and how many are free. */
struct ph_arena_sum {
	bool known;
	uint64_t bytes; /**< arenas * arena size */
	uint64_t free;  /**< in free blocks and free pools */
	bool mapped_known;
	uint64_t mapped; /**< malloc: in chunks mapped apart */
};

static inline struct ph_arena_sum ph_arena_sum(const struct ph_pymalloc *m)
{
	struct ph_arena_sum a = {m->known, m->arenas * m->arena_size,
				 m->available_bytes + m->free_pool_bytes, false, 0};
	return a;
}

/** pymalloc's and glibc malloc's arenas, summed up (growth notes, --watch). */
struct ph_alloc_sums {
	struct ph_arena_sum py; /**< pymalloc: arena bytes, free in them */
	struct ph_arena_sum c;  /**< glibc malloc: bytes from the system, free in them */
	char other[16];         /**< another malloc, the process's (else "") */
};

static inline struct ph_arena_sum ph_cmalloc_sum(const struct ph_cmalloc *m)
{
	struct ph_arena_sum a = {m->known, m->system_bytes, m->free_bytes,
				 m->known && m->mapped_known, m->mapped_bytes};
	return a;
}

/** A dict or a set is sparse below this share (percent) of its room in use. */
#define PH_SPARSE_TABLE_PCT 10u

/**
 * A dict or a set whose table is mostly empty: deletions never shrink a
 * dict's or a set's table (only an insertion that fills it makes a new one,
 * and a clear() frees it), so one that once held many entries keeps their
 * room. A copy (dict(d), set(s)) is sized for the entries it has.
 */
struct ph_sparse_table {
	uint32_t object;    /**< its index */
	uint32_t entries;   /**< entries in it (a dict's ma_used, a set's used) */
	uint64_t room;      /**< entries its table holds: a dict's usable slots, a set's slots */
	uint64_t copy_size; /**< sys.getsizeof() of a copy, less than the object's size */
};

/** The value of a str too long for its text to be kept (over 200 characters),
 * or whose text is not whole (a NUL inside), or of a bytes: a hash of its
 * data, for --duplicates. Kept when the walk is asked (ph_walk_options'
 * hash_values). */
struct ph_value_hash {
	uint32_t object;  /**< its index */
	uint32_t preview; /**< offset + 1 into value_previews of its first characters
			       (bytes) as Python's repr() shows them, without the quotes;
			       0: none */
	uint64_t hash;    /**< of its data, its kind (str: bytes per character; bytes)
			       and its length mixed in */
	uint64_t length;  /**< its characters (bytes): the preview is all of it when
			       at most PH_VALUE_PREVIEW */
};

/** A word of an ELF file's static data (.data, .bss: a C extension's static
 * variable, the interpreter's own) that holds the address of an object: the
 * first such word of each object found there (ph_snapshot's static_refs). */
struct ph_static_ref {
	uint32_t object; /**< its index */
	uint32_t file;   /**< index in static_files */
	uint64_t offset; /**< from the file's load base: the address nm and addr2line
			      give for it */
};

/** A slot of the value stack of a frame whose depth CPython keeps in a
 * register (the frame running, or calling through C code, or a suspended
 * greenlet's that switched away): of the slots up to the code's
 * co_stacksize, the first that holds the address of an object, of each
 * object found there (ph_snapshot's stack_refs). A slot above the stack's
 * top may still hold an object popped. The frame is a thread's (root), or
 * else a frame object (through 3.10) or a greenlet's frame (3.11+: depth). */
struct ph_stack_ref {
	uint32_t object; /**< its index */
	uint32_t root;   /**< the frame's root (PH_ROOT_FRAME), or PH_NONE: */
	uint32_t holder; /**< the frame object, or the greenlet whose frame it is */
	uint32_t depth;  /**< a greenlet's frame: 0 for gr_frame, 1 its f_back…;
			      PH_NONE for a frame object */
	uint32_t slot;   /**< from the value stack's bottom */
};

/** Characters (bytes) of a value kept in its preview, at most. */
#define PH_VALUE_PREVIEW 40u

/**
 * Writes to @p out (room @p cap, NUL-terminated) the first @p max characters
 * of the @p n bytes at @p p as Python's repr() shows them between its quotes:
 * a str's UTF-8 (@p bytes false; characters past ASCII as they are) or a
 * bytes' (@p bytes true: past 0x7e as \xNN). Returns whether all of them were
 * written.
 */
bool ph_repr_escape(const uint8_t *p, size_t n, bool bytes, size_t max, char *out, size_t cap);

/**
 * Writes to @p out (room @p cap, NUL-terminated) the repr() of a bytes object
 * whose first @p n bytes are @p p: b'...' (b"..." when they hold a quote and
 * no double quote), "…" before the closing quote when @p cut. Returns its
 * length.
 */
size_t ph_repr_bytes(const uint8_t *p, size_t n, bool cut, char *out, size_t cap);
/** The same, of a bytearray's bytes when @p bytearray (the b'...' inside its
 * repr(), which escapes a single quote also between double quotes). */
size_t ph_repr_bytes_as(const uint8_t *p, size_t n, bool cut, bool bytearray, char *out,
			size_t cap);

/**
 * Writes to @p out (room @p cap) @p v as Python's repr() writes a float: the
 * shortest digits that read back as @p v ("0.1", "1e+16", "1.0", "-0.0",
 * "inf", "nan").
 */
void ph_float_repr(double v, char *out, size_t cap);

/** The first byte of the text of a float whose value the walk kept
 * (ph_walk_options.keep_values); 16 hex digits of its bits follow. */
#define PH_FLOAT_TEXT_TAG '\x01'

/** One frame of a tracemalloc traceback. */
struct ph_alloc_frame {
	uint32_t file;   /**< index into ph_snapshot.site_files */
	uint32_t lineno;
};

/** A traceback tracemalloc kept for allocations (most recent frame first). */
struct ph_alloc_site {
	uint32_t frame_start; /**< its frames: site_frames[frame_start, + nframes) */
	uint16_t nframes;     /**< at least 1 */
	uint16_t total_nframes; /**< frames the stack had (more than kept: truncated) */
};

/** tracemalloc, when the target was tracing (tracemalloc.start(),
 * PYTHONTRACEMALLOC=N): its traces, read. */
struct ph_tracemalloc {
	bool known;          /**< it was tracing, and its traces were read */
	uint64_t traces;     /**< traces (allocations it follows) */
	uint64_t unreadable; /**< traces or tracebacks that could not be read */
};

struct ph_snapshot {
	struct ph_object *objects;
	size_t nobjects;
	uint32_t *edge_start; /**< edges of object i: [edge_start[i], edge_start[i+1]) */
	struct ph_edge *edges;
	size_t nedges;
	struct ph_type *types;
	size_t ntypes;

	struct ph_root *roots;
	size_t nroots;
	struct ph_edge *root_edges;
	size_t nroot_edges;
	struct ph_weak_edge *weak_edges;
	size_t nweak_edges;
	/** The line each suspended generator or coroutine is at (3.11+: the
	 *  object; through 3.10 its frame object, as every frame object's), by
	 *  object; not kept in snapshot files. */
	struct ph_obj_line *obj_lines;
	size_t nobj_lines;

	/**
	 * Values of short strs (UTF-8) and of ints that fit in 64 bits (decimal),
	 * for labels: text[i] is an offset into strings + 1, or 0 if none.
	 */
	uint32_t *text;
	char *strings;
	size_t strings_len;

	/* metadata */
	int pid;
	char *core_path;         /**< the core file it was read from, or NULL (a process;
				      not stored in snapshot files) */
	char python_version[32];
	char *python_path;
	char *layout_source;     /**< in words: "DWARF (libpython3.11.so.1.0)" */
	const char *layout_kind; /**< "dwarf", "tables", "debug_offsets" (static string) */
	uint64_t time_ns;        /**< when the target was stopped: CLOCK_REALTIME, ns (0: unknown) */
	uint64_t pause_ns;
	uint64_t rss;
	uint64_t unreadable;     /**< references to memory that could not be read or was invalid */
	uint64_t gc_objects;     /**< objects found in GC lists */
	uint32_t interpreters;
	uint32_t threads;
	bool gc_disabled;        /**< the target ran gc.disable() */
	struct ph_pymalloc pymalloc; /**< its arenas, when known */
	struct ph_cmalloc cmalloc;   /**< glibc malloc's arenas, when known */
	/**
	 * The dicts and sets in use under PH_SPARSE_TABLE_PCT of their room, by
	 * object index (sparse_known: looked for; false for a snapshot file that
	 * has no section of them).
	 */
	struct ph_sparse_table *sparse_tables;
	size_t nsparse_tables;
	bool sparse_known;
	/**
	 * The strs over 200 characters (or whose text is not whole) and the
	 * bytes, by a hash of their values, by object index (value_hashes_known:
	 * hashed; false for a walk not asked to, or a snapshot file without
	 * them); value_previews holds their previews, each ended by a NUL.
	 */
	struct ph_value_hash *value_hashes;
	size_t nvalue_hashes;
	char *value_previews;
	size_t value_previews_len;
	bool value_hashes_known;
	/**
	 * Words of the ELF files' static data that hold objects' addresses, at
	 * most one per object, by object index; static_files names the files
	 * (base names). What native code holds is named by them.
	 */
	struct ph_static_ref *static_refs;
	size_t nstatic_refs;
	char **static_files;
	size_t nstatic_files;
	/**
	 * Slots of the threads' running frames' value stacks that hold objects'
	 * addresses, at most one per object, by object index. What native code
	 * holds is named by them where no static data (static_refs) names it.
	 */
	struct ph_stack_ref *stack_refs;
	size_t nstack_refs;
	/**
	 * tracemalloc's tracebacks of the objects (tracemalloc.known): object i
	 * was allocated at sites[object_site[i] - 1], or before tracing began
	 * (0); NULL when not known.
	 */
	struct ph_tracemalloc tracemalloc;
	uint32_t *object_site;
	struct ph_alloc_site *sites;
	size_t nsites;
	struct ph_alloc_frame *site_frames;
	size_t nsite_frames;
	char **site_files;
	size_t nsite_files;
	bool truncated;          /**< the walk stopped early (time or object limit) */
	char *truncated_reason;
	/**
	 * Objects [0, root_closure) are exactly what the roots reach (their
	 * objects and their edges' targets, then edges): the walk found them
	 * first, before the GC lists' other objects and the code objects only
	 * a running frame holds (3.11+: a root's code, not an edge), and every
	 * edge of theirs stays among them. 0: not known (a snapshot read from a
	 * file). Not stored in snapshot files.
	 */
	size_t root_closure;
	/**
	 * No object before this index was found by the pool and malloc scans
	 * (PH_OBJ_POOL): the objects the walk had when they started. 0: not
	 * known (a snapshot read from a file). Not stored in snapshot files.
	 */
	size_t pool_scan_from;
};

struct ph_snapshot *ph_snapshot_create(void);
void ph_snapshot_destroy(struct ph_snapshot *snap);

/** Both allocators' arenas of @p s, summed up. */
static inline struct ph_alloc_sums ph_alloc_sums(const struct ph_snapshot *s)
{
	struct ph_alloc_sums a = {ph_arena_sum(&s->pymalloc), ph_cmalloc_sum(&s->cmalloc), ""};
	if (ph_cmalloc_other_in_use(&s->cmalloc))
		memcpy(a.other, s->cmalloc.other, sizeof(a.other));
	return a;
}

/** The line generator, coroutine or frame object @p i is at, or -1 when not known. */
int32_t ph_snapshot_object_line(const struct ph_snapshot *snap, uint32_t i);

/** The line the frame at @p depth of suspended greenlet @p i (3.11+: greenlet's
 * own copy, its PH_EDGE_GREENLET edges) is at, or -1 when not known. */
int32_t ph_snapshot_frame_line(const struct ph_snapshot *snap, uint32_t i, uint32_t depth);

/** Whether the snapshot kept float @p i's value (ph_walk_options.keep_values):
 * then *@p v is it. */
bool ph_snapshot_float(const struct ph_snapshot *snap, uint32_t i, double *v);

/** The stored text of object @p i (a short str, an int; with the values kept,
 * a bytes' repr() and a float's bits, ph_snapshot_float()), or NULL. */
static inline const char *ph_snapshot_text(const struct ph_snapshot *snap, size_t i)
{
	return snap->text && snap->text[i] ? snap->strings + snap->text[i] - 1 : NULL;
}

/** The word of an ELF file's static data that holds object @i's address
 * (static_refs), or NULL. */
const struct ph_static_ref *ph_snapshot_static_ref(const struct ph_snapshot *snap, uint32_t i);

/** What the walk found in pymalloc's blocks alone (PH_OBJ_POOL: after the GC
 * lists, so the last objects) and what they hold: every object from index
 * *@first on (nobjects when none). @p entry, when not NULL, is set to a
 * bitmap ((nobjects - first + 63) / 64 words from bit 0 = object first, to
 * free()) of those found there that no other object refers to: referred to
 * by nothing (native code holds them, or a leaked reference); NULL when out
 * of memory. (An object found there that another one found there refers to,
 * such as the strs of an interned dict only native code holds, is held.) */
void ph_snapshot_pool_found(const struct ph_snapshot *snap, size_t *first, uint64_t **entry);

/** The slot of a thread's running frame's value stack that holds object
 * @i's address (stack_refs), or NULL. */
const struct ph_stack_ref *ph_snapshot_stack_ref(const struct ph_snapshot *snap, uint32_t i);

/** The kind name of an object: its type's name, or "dict of X" / "dict (no owner)". */
const char *ph_snapshot_kind(const struct ph_snapshot *snap, size_t i, char *buf, size_t cap);

#endif
