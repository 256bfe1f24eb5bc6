/* SPDX-License-Identifier: MIT */
/**
 * @file graph.h
 * Graph analyses over a snapshot: incoming edges, roots, shortest paths from
 * roots (Heapy's shpaths), objects held only by native code, cyclic garbage,
 * and readable labels for paths. Works on the snapshot only.
 */
#ifndef PH_GRAPH_H
#define PH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "snapshot.h"

/** Where an object's shortest path comes from. */
enum ph_reach {
	PH_REACH_NONE = 0,   /**< unreachable: cyclic garbage (or not processed) */
	PH_REACH_ROOT = 1,   /**< from a root (modules, sys, builtins, frames, static types) */
	PH_REACH_NATIVE = 2, /**< only from an object held by native code */
};

/** Sources of incoming edges: object edges, or root edges (flagged). */
#define PH_IN_ROOT 0x80000000u

struct ph_graph {
	const struct ph_snapshot *snap;
	/* incoming edges of object i: in_src[in_start[i] .. in_start[i+1]) are
	 * edge indices into snap->edges, or PH_IN_ROOT | index into root_edges */
	uint32_t *in_start;
	uint32_t *in_src;
	uint32_t *edge_from; /**< source object of each edge in snap->edges */
	/* shortest paths */
	uint32_t *parent_edge; /**< edge index (or PH_IN_ROOT | root edge), PH_NONE at a start */
	uint32_t *start_root;  /**< for path starts: root index, PH_NONE if native-held */
	uint32_t *dist;
	uint8_t *reach;        /**< enum ph_reach */
	uint64_t garbage_objects, garbage_size;
	uint64_t native_held;  /**< objects held by native code, the start of no root path */
};

struct ph_error *ph_graph_build(const struct ph_snapshot *snap, struct ph_graph *ret);
/**
 * The counts alone (garbage_objects, garbage_size, native_held), without
 * incoming edges or paths: what the partition's header needs, at a fraction
 * of the time and memory of ph_graph_build(). The arrays stay NULL. With the
 * snapshot's root_closure known, the objects in it are not read at all (the
 * same counts).
 */
struct ph_error *ph_graph_reach(const struct ph_snapshot *snap, struct ph_graph *ret);

/**
 * ph_graph_reach() on another thread, so that it overlaps other analyses of
 * the same (unchanging) snapshot; join gives its result. Computes it at once
 * if no thread can be started.
 */
struct ph_reach_job;
struct ph_error *ph_graph_reach_start(const struct ph_snapshot *snap, struct ph_reach_job **ret);
struct ph_error *ph_graph_reach_join(struct ph_reach_job *job, struct ph_graph *ret);

void ph_graph_deinit(struct ph_graph *g);

/**
 * What a set of objects retains together (Eclipse MAT's retained set of
 * several objects): the objects of @p in_set (a byte per object, nonzero for
 * a member) and every object reachable from the roots that no path from them
 * reaches without passing through the set, freed with it. Into @p objects
 * and @p size.
 */
struct ph_error *ph_graph_retained_set(const struct ph_graph *g, const uint8_t *in_set,
				       uint64_t *objects, uint64_t *size);

/** References to object @p i that the snapshot cannot account for. */
uint64_t ph_graph_unaccounted(const struct ph_graph *g, uint32_t i);

/**
 * The shortest path from a root to object @p i, as a Python programmer
 * reads it ("__main__.memory_leak[3]", "thread 0x… frame f() a.py:4 local 'x'").
 * Returns a malloc'ed string, or NULL when unreachable.
 */
char *ph_graph_path(const struct ph_graph *g, uint32_t i);

/** The label of an edge (".attr", "['key']", "[3]", "local 'x'"). */
void ph_graph_edge_label(const struct ph_graph *g, uint32_t from, const struct ph_edge *e,
			 char *buf, size_t cap);

/**
 * A short form of object @p i's value, as repr() writes it, into @p buf: a
 * str ('text', escaped; its first 60 bytes), a number, True/False, None, a
 * class (<class 'name'>), a function (<function qualname>), a tuple of such
 * (its first 4 items). False (@p buf empty) for an object with none of these
 * (a float, a bytes, a container, a long str whose text the snapshot does
 * not keep).
 */
bool ph_graph_value(const struct ph_snapshot *s, uint32_t i, char *buf, size_t cap);
/**
 * How many items list, deque, dict, set or frozenset @p i holds (its
 * references to items or values that the snapshot has), or -1 for another
 * kind of object.
 */
int64_t ph_graph_items(const struct ph_snapshot *s, uint32_t i);
/**
 * The label of edge @p e of object @p from as it reads in a path (".attr",
 * "['key']", "[3]", "{item}", " local 'x'", ".__dict__"); with @p namespace,
 * dict values read as attributes (".key": @p from is an object's __dict__);
 * a dict key as its value reads, marked: "[('user', 42)] (key)".
 */
void ph_graph_hop_label(const struct ph_graph *g, uint32_t from, const struct ph_edge *e,
			bool namespace, char *buf, size_t cap);
/**
 * The label of a frame's local or value-stack slot, edge @p e of frame
 * object @p from (through 3.10) or of a frame root (3.11+: @p from PH_NONE,
 * @p code its code object): "local 'x'", "stack[3]", ".cr_await"; of a
 * suspended greenlet @p from's frame (3.11+, PH_EDGE_GREENLET), its slot.
 */
void ph_graph_local_label(const struct ph_snapshot *s, uint32_t from, uint32_t code,
			  const struct ph_edge *e, char *buf, size_t cap);
/**
 * The object a path names, as paths print it: from a module,
 * "__main__.cache", "pkg.mod.registry['k'][3].attr", "__main__.memo[('user',
 * 42)]" (the first object whose references read so at each hop, whatever
 * its shortest path), else the object whose shortest path ph_graph_path()
 * prints so ("thread 0x… (worker) frame f() a.py:3 local 'x'",
 * "__main__.task._coro local 'held'"); or PH_NONE.
 */
uint32_t ph_graph_find_path(const struct ph_graph *g, const char *path);
/**
 * The objects a path names, as ph_graph_find_path() finds one, and with "[*]"
 * (as grouped paths print it) every item, value or entry there: the dicts of
 * "__main__.memory_leak[*].headers" (from a module, hop by hop), the objects
 * whose shortest paths read "thread 0x… (worker) frame f() a.py:3 local
 * 'batch'[*]" (any other). Into @p ret (malloc'ed, each object once; NULL
 * and *@p n 0 when none).
 */
struct ph_error *ph_graph_select_path(const struct ph_graph *g, const char *path, uint32_t **ret,
				      size_t *n);
/** A root's description ("sys.modules", "thread 0x… frame f() a.py:4"). */
void ph_graph_root_label(const struct ph_snapshot *snap, uint32_t r, char *buf, size_t cap);
/** The target of object @p obj's field edge @p f, or PH_NONE. */
uint32_t ph_graph_field(const struct ph_snapshot *snap, uint32_t obj, enum ph_field f);

/** The object that instance @p obj's attribute @p name refers to (a dict-less
 * attribute, a __slots__ member, an entry of its __dict__), or PH_NONE. */
uint32_t ph_graph_attr(const struct ph_snapshot *snap, uint32_t obj, const char *name);
/** Whether object @p i's kind is @p name ("coroutine", "_asyncio.Task"). */
bool ph_graph_kind_is(const struct ph_snapshot *snap, uint32_t i, const char *name);
/** The function (its qualified name) and file of code object @p code, each
 *  NULL when the snapshot does not have it. */
/** A source file as frames show it: within its package (flask/app.py,
 * asyncio/tasks.py: the part under site-packages, dist-packages or the
 * standard library's lib/pythonX.Y), else its base name; "?" for NULL. */
const char *ph_graph_short_file(const char *path);

void ph_graph_code_names(const struct ph_snapshot *snap, uint32_t code, const char **function,
			 const char **file);
/** A thread by its id, as paths name it: "thread 0x7f… (name)" (its name from
 *  threading._active, when the snapshot has it). */
void ph_graph_thread_label(const struct ph_snapshot *snap, uint64_t tid, char *buf, size_t cap);

/** The thread whose key object @p k is in a threading.local's dict of
 * per-thread dicts, or 0: 3.13+, a dummy the thread's state holds (a root);
 * before, a weak reference to a dummy its state dict holds. */
uint64_t ph_graph_local_key_thread(const struct ph_snapshot *snap, uint32_t k);
/**
 * The referrer kind shown for root edge @e (an index into root_edges, without
 * PH_IN_ROOT): "<frame locals>", "<atexit callbacks>", "<sys.monitoring
 * callbacks>" (the roots whose references are edges), "<root>" otherwise.
 */
const char *ph_graph_root_edge_kind(const struct ph_snapshot *snap, uint32_t e);

/**
 * A display name for an object's kind in referrer tables: the partition kind,
 * with module dicts named ("dict of module __main__") and sys.modules marked.
 */
void ph_graph_display_kind(const struct ph_graph *g, uint32_t i, char *buf, size_t cap);

/** Replaces every "[digits]" and "['key']" by "[*]" in place. */
void ph_path_group(char *path);

/**
 * Merges @p path into the representative @p rep of its group (same
 * ph_path_group() form): each bracket of @p rep that differs from @p path's
 * becomes "[*]". Returns false if the forms do not match.
 */
bool ph_path_merge(char *rep, const char *path);

#endif
