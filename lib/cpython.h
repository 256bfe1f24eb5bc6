/* SPDX-License-Identifier: MIT */
/**
 * @file cpython.h
 * The CPython object model, per version: finding the runtime in a process,
 * its version and layout (before the target is stopped), and walking every
 * interpreter's GC lists and the referents of every object into a snapshot
 * (while it is stopped).
 *
 * All addresses here are locations in the target process (uint64_t).
 */
#ifndef PH_CPYTHON_H
#define PH_CPYTHON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "layout.h"
#include "mem.h"
#include "snapshot.h"

struct ph_python_options {
	const char *debug_dirs; /**< colon-separated roots for separate debug info */
	bool no_cache;          /**< do not read or write the layout cache */
	/**
	 * --layout: use this built-in table ("3.11", "3.14.5") or this layout
	 * file (a path: contains '/') instead of looking for debug info; NULL to
	 * resolve normally.
	 */
	const char *layout;
};

struct ph_python;

/**
 * Finds the interpreter of process @p pid from its maps and ELF files, reads
 * its version and resolves the struct layout (--layout; else the cache, DWARF
 * in the file, separate debug info, debuginfod; else _Py_DebugOffsets with a
 * built-in table on 3.13+; else a built-in table), then checks the layout
 * against the target's static type objects. Touches only files and reads
 * memory that does not change after start-up; the target need not be
 * stopped. ph_python_walk() checks the rest of the layout once it is.
 * Fails with PH_ERR_NO_DEBUG_INFO when no layout source fits.
 */
struct ph_error *ph_python_open(pid_t pid, const struct ph_python_options *opt,
				struct ph_python **ret);

struct ph_core;

/**
 * ph_python_open() for a core file of a Python process: its mappings and
 * memory come from @p core, the files it mapped from this machine (used only
 * when they are the files the process mapped). @p core must stay open while
 * the result is used.
 */
struct ph_error *ph_python_open_core(struct ph_core *core, const struct ph_python_options *opt,
				     struct ph_python **ret);
void ph_python_close(struct ph_python *py);

const char *ph_python_version(const struct ph_python *py);
const char *ph_python_path(const struct ph_python *py);
const char *ph_python_layout_source(const struct ph_python *py);
const struct ph_layout *ph_python_layout(const struct ph_python *py);

struct ph_walk_options {
	uint64_t deadline_ns;              /**< CLOCK_MONOTONIC; 0 for none */
	volatile sig_atomic_t *interrupted;/**< stop when it becomes non-zero; may be NULL */
	uint64_t max_objects;              /**< 0 for the default bound */
	/** If not NULL: asked now and then (every 16k objects added and
	 *  processed; from either thread of the walk, maybe both at once)
	 *  whether memory runs low, with about the bytes the snapshot takes:
	 *  NULL to go on, or why no more objects may be added (a text that
	 *  outlives the walk). The walk then adds none (the objects found so far
	 *  are processed) and the snapshot is truncated with that reason. */
	const char *(*memory_low)(void *arg, uint64_t snapshot_bytes);
	void *memory_arg;
	struct ph_walk_times *times;       /**< if not NULL: where the walk's time went */
	unsigned walk_threads;             /**< 1: one thread; 2: two when there are two CPUs;
					        0: two when there are also ~80k objects or more,
					        while the CPUs are not busy (two go back to one
					        in narrow parts) */
	bool hash_values;                  /**< hash the values of long strs and of bytes
					        (snapshot->value_hashes, for --duplicates) */
	bool keep_values;                  /**< keep the values of floats and bytes as their
					        texts (ph_graph_value(): what objects hold) */
	bool copied;                       /**< the memory is a copy of the stopped target's
					        pages in memory (ph_mem_prefetch()): what it
					        does not hold was never touched */
	pid_t live_pid;                    /**< the live process read (or copied), 0 for
					        none (a core, a recording): its pages never
					        touched are not looked at where memory is
					        searched */
	uint64_t memory_bytes;             /**< the target's writable memory in use, 0 if
					        not known: within a memory budget
					        (ph_mem_set_limit()), the table of the
					        objects' addresses is sized for it at once
					        (about one object per 96 bytes; at most half
					        the budget), not grown by doubling */
};

/** Phases of a walk, in ns (CLOCK_MONOTONIC). */
struct ph_walk_times {
	uint64_t check;   /**< cross-checks of the layout against the process */
	uint64_t gc;      /**< the roots, and the objects next to each GC list head */
	uint64_t objects; /**< each object's size and referents; the rest of the GC lists */
	uint64_t finish;  /**< dict owners, weak references, clean-up */
	uint64_t scan;    /**< of objects: the pool and malloc scans (objects no
			       reference led to) */
	unsigned threads; /**< threads of the objects phase (1 or 2) */
	uint64_t wait;    /**< two threads: the processing thread waited for the resolver */
	uint64_t idle;    /**< two threads: the resolver waited for edges */
	unsigned narrow;  /**< two threads: times back to one for a narrow part */
	bool busy;        /**< two threads: back to one for good, the CPUs busy */
};

/**
 * Walks the heap of a stopped target through @p mem into a new snapshot.
 * Bad memory never fails the walk: it is counted in snapshot->unreadable.
 * Fails only when the runtime itself cannot be read or on out of memory.
 */
struct ph_error *ph_python_walk(struct ph_python *py, struct ph_mem *mem,
				const struct ph_walk_options *opt, struct ph_snapshot **ret);

/** Reads a Python str at @p addr as UTF-8 into @p buf (truncated to @p cap). */
bool ph_python_read_str(struct ph_python *py, struct ph_mem *mem, uint64_t addr, char *buf,
			size_t cap);

#endif
