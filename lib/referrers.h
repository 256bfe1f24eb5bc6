/* SPDX-License-Identifier: MIT */
/**
 * @file referrers.h
 * Who holds the objects of a kind: referrers by kind (Heapy's byrcs), the
 * reference pattern (Heapy's rp) and the shortest paths from roots (shpaths).
 */
#ifndef PH_REFERRERS_H
#define PH_REFERRERS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "graph.h"
#include "snapshot.h"

enum { PH_REFERRERS_LARGEST = 3 };

struct ph_count_row {
	char *name;
	uint64_t count;
};

struct ph_pattern_node {
	uint32_t depth;
	uint64_t count;     /**< objects in this node */
	char *kind;
	char *via;          /**< "via key 'x'" or "<- N objects"; NULL at depth 0 */
};

struct ph_referrers {
	char *kind;                 /**< the kind selected, or "0x…" for one object */
	uint64_t objects, size;
	/** what the objects retain together: they and all that only they hold */
	uint64_t retained_objects, retained_size;
	struct ph_count_row *by_kind;   /**< referrer kinds: targets referred to */
	size_t nby_kind;
	struct ph_count_row *combos;    /**< combinations of referrer kinds (byrcs) */
	size_t ncombos;
	struct ph_count_row *weak;      /**< kinds holding them only weakly */
	size_t nweak;
	uint64_t from_roots;            /**< targets referred to directly by a root */
	struct ph_pattern_node *pattern;
	size_t npattern;
	uint32_t depth;                 /**< the pattern's depth limit */
	struct ph_count_row *paths;     /**< grouped shortest paths, by count */
	size_t npaths;
	uint64_t unreachable;           /**< targets with no path (garbage) */
	/** the largest objects (by own size; the first found among equals),
	 * with their own shortest paths: what to look at one by one */
	struct ph_referrers_example {
		uint64_t address, size;
		char *path; /**< NULL: no path (garbage) */
	} largest[PH_REFERRERS_LARGEST];
	size_t nlargest;
};

struct ph_referrers_options {
	uint32_t depth;     /**< reference pattern depth (default 4) */
	uint32_t breadth;   /**< children per pattern node (default 4) */
};

/**
 * Selects the objects: an exact kind, a kind's last component ("Request"),
 * "dict" (every dict, whatever kind of dict the partition made it),
 * "0xADDRESS", or a path as paths print it ("__main__.cache"). On ambiguity or no match returns a PH_ERR_USAGE error listing
 * the candidates or the closest kinds.
 */
struct ph_error *ph_referrers_compute(const struct ph_graph *g, const char *what,
				      const struct ph_referrers_options *opt,
				      struct ph_referrers *ret);
void ph_referrers_deinit(struct ph_referrers *r);

/**
 * The selection of ph_referrers_compute() alone: the indices of the objects
 * @p what names (a malloc'ed array of *@p n, in snapshot order) and the
 * kind's name for reports (malloc'ed: "__main__.Request", "str at 0x…");
 * *@p one (may be NULL): @p what named one object, by its address or, when
 * no kind matches it, by a path as paths print it ("__main__.cache['k']",
 * "thread 0x… (worker) frame f() a.py:3 local 'x'": ph_graph_find_path()).
 */
struct ph_error *ph_referrers_select(const struct ph_graph *g, const char *what, uint32_t **ret,
				     size_t *n, char **kind, bool *one);

/**
 * The analysis of ph_referrers_compute() for a given set of objects (e.g.
 * the objects of a kind that are new since an earlier snapshot): referrers by
 * kind, their combinations, weak referrers, the reference pattern and the
 * grouped shortest paths from roots. @p kind names the set in ret->kind.
 * @p n may be 0.
 */
struct ph_error *ph_referrers_compute_set(const struct ph_graph *g, const char *kind,
					  const uint32_t *objs, size_t n,
					  const struct ph_referrers_options *opt,
					  struct ph_referrers *ret);

/**
 * The shortest paths of @p targets from the roots, grouped when they differ
 * only by indexes or keys (a group shows "[*]" only where its paths differ),
 * by count descending, into @p ret (@p nret groups; ph_count_rows_free());
 * @p unreachable: the targets with no path.
 */
struct ph_error *ph_referrers_paths(const struct ph_graph *g, const uint32_t *targets, size_t nt,
				    struct ph_count_row **ret, size_t *nret, uint64_t *unreachable);

/** One reference of an object (ph_holds_compute()): a row of "What it holds". */
struct ph_holds_row {
	char *label;             /**< as in a path: ".attr", "['key']", "[3]", "{item}";
				      a dict key other than a str, number, bool or None:
				      "[('user', 42)] (key)" */
	uint32_t object;         /**< the object referred to (snapshot index) */
	char *value;             /**< its short value (ph_graph_value()), or NULL */
	int64_t items;           /**< a container's items (ph_graph_items()), or -1 */
	uint64_t retained;       /**< what it keeps alive alone (its retained size) */
	uint32_t retained_count; /**< objects in that, itself included */
};

/**
 * What one object holds (Eclipse MAT's outgoing references, Heapy's
 * referents): its references in the order the object keeps them (fields,
 * items, entries), each with the object's short value and retained size; an
 * instance's own __dict__ is followed by its entries (".attr"), so that
 * attributes read alike whether or not a dict object keeps them.
 */
struct ph_holds {
	uint32_t object;
	char *value;             /**< the object's own short value, or NULL */
	int64_t items;           /**< a container's items, or -1 */
	struct ph_holds_row *rows;
	size_t nrows;
	uint64_t total;          /**< references in all, the rows past the limit too */
};

/**
 * The references of object @p object (at most @p limit rows, 0: all) into
 * @p ret; ph_holds_deinit() frees it. Computes the dominators of @p g's
 * snapshot (linear in its objects and edges).
 */
struct ph_error *ph_holds_compute(const struct ph_graph *g, uint32_t object, size_t limit,
				  struct ph_holds *ret);
void ph_holds_deinit(struct ph_holds *h);

/** A frame of a thread's stack, and what its locals keep alive. */
struct ph_stack_frame {
	uint32_t root;           /**< its root (PH_ROOT_FRAME): ph_graph_root_label() */
	uint64_t retained;       /**< what the frame alone keeps alive */
	uint32_t retained_count;
	struct ph_holds locals;  /**< its locals and value stack: "local 'x'", "stack[3]" */
};

/** A thread: its frames, innermost first, and its other roots. */
struct ph_stack_thread {
	uint64_t id;             /**< its pthread id (threading.get_ident()) */
	uint64_t retained;       /**< what its roots alone keep alive together */
	uint32_t retained_count;
	struct ph_stack_frame *frames;
	size_t nframes;
	struct ph_holds others;  /**< its state dict, handled exceptions, hooks, main
				      greenlet, by their roots' names ("state dict") */
};

/**
 * The threads of a snapshot with their stacks (py-spy's dump, with Eclipse
 * MAT's thread overview): each thread with what it alone keeps alive, its
 * frames innermost first with what each alone keeps, and each frame's
 * locals (at most @p nlocals rows each, 0: all) as "What it holds" rows.
 * Threads that keep more come first. Computes the dominators.
 */
struct ph_stacks {
	struct ph_stack_thread *threads;
	size_t n;
};
struct ph_error *ph_stacks_compute(const struct ph_graph *g, size_t nlocals,
				   struct ph_stacks *ret);
void ph_stacks_deinit(struct ph_stacks *st);

/** A coroutine of a task's await chain (or a generator it awaits). */
struct ph_task_coro {
	uint32_t object;        /**< the coroutine */
	uint32_t code;          /**< its code object, or PH_NONE */
	uint32_t qualname;      /**< its own __qualname__ (a str; a finished coroutine's code
				     may be gone), or PH_NONE */
	int32_t line;           /**< the line it is suspended at, or -1 when not known */
	struct ph_holds locals; /**< its locals and value stack (the awaited object not) */
};

/** An asyncio task: its await chain, innermost first, and what it waits for;
 *  or a suspended greenlet (gevent, eventlet): its frames, innermost first. */
struct ph_task {
	uint32_t object;        /**< the task (_asyncio.Task or a subclass), the greenlet */
	bool greenlet;          /**< a greenlet: coros are its frames (code, locals) */
	bool other;             /**< another library's task (trio.lowlevel.Task,
				     asyncio's pure-Python _PyTask...): its coroutine
				     in its attribute coro or _coro */
	char *name;             /**< its name ("Task-3", what create_task(name=) gave) or NULL */
	uint64_t retained;      /**< what the task keeps alive alone */
	uint32_t retained_count;
	struct ph_task_coro *coros;
	size_t ncoros;
	uint32_t awaiting;      /**< what the innermost coroutine awaits (a future, a
				     task...), PH_NONE when not known (done, running) */
};

/**
 * The asyncio tasks of a snapshot with their await chains (what `python -m
 * asyncio ps` prints in 3.14, with memory): each task, what it keeps alive
 * alone, its coroutines innermost first (a coroutine awaits the next one up:
 * the object on top of its value stack) with their locals as "What it holds"
 * rows (at most @p nlocals each, 0: all), and what the innermost awaits.
 * Then the suspended greenlets alike (gevent's jobs), their frames for
 * coroutines. Tasks that keep more come first. Computes the dominators.
 */
struct ph_tasks {
	struct ph_task *tasks;
	size_t n;
};
struct ph_error *ph_tasks_compute(const struct ph_graph *g, size_t nlocals, struct ph_tasks *ret);
void ph_tasks_deinit(struct ph_tasks *t);

/** One row of what the objects of a kind hold, by reference. */
struct ph_holds_group {
	char *label;       /**< the references' label (".headers", "['id']"), indexes as
				"[*]", and dict keys too when there are more than 64 */
	char *kind;        /**< the kind of the objects they refer to */
	uint64_t refs;     /**< references */
	uint64_t objects;  /**< distinct objects referred to */
	uint64_t size;     /**< their sizes */
	uint64_t retained; /**< what they keep alive alone (their retained sizes) */
};

/** What the objects of a kind hold, by reference: the largest rows first. */
struct ph_holds_groups {
	struct ph_holds_group *rows;
	size_t n;
	size_t total;      /**< rows in all, those past the limit too */
	uint64_t sources;  /**< the objects whose references these are */
};

/**
 * What @p n objects hold together (Eclipse MAT's outgoing references grouped,
 * the reverse of Heapy's rp): their references as ph_holds_compute() reads
 * them, grouped by label (indexes as "[*]"; dict keys too when more than 64
 * keys would each make a group: a map's, not a record's) and the kind
 * referred to, by retained size descending, at most @p limit rows (0: all).
 * Computes the dominators of @p g's snapshot.
 */
struct ph_error *ph_holds_groups_compute(const struct ph_graph *g, const uint32_t *objs, size_t n,
					 size_t limit, struct ph_holds_groups *ret);
void ph_holds_groups_deinit(struct ph_holds_groups *h);

/** Frees @p n rows and their names. */
void ph_count_rows_free(struct ph_count_row *rows, size_t n);

#endif
