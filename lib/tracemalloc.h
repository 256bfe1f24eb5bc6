/* SPDX-License-Identifier: MIT */
/**
 * @file tracemalloc.h
 * tracemalloc's traces, read from outside: when the target traces its
 * allocations (tracemalloc.start(), PYTHONTRACEMALLOC=N), each memory block
 * has a traceback of where it was allocated, in a hash table (3.8+:
 * _Py_hashtable_t, pointer -> trace_t). The objects of a snapshot get the
 * traceback of their block (3.8-3.11: the statics `tracemalloc_traces` and
 * `_Py_tracemalloc_config`, symbols; 3.12+: the runtime's state).
 */
#ifndef PYHEAP_TRACEMALLOC_H
#define PYHEAP_TRACEMALLOC_H

#include "cpython.h"
#include "mem.h"
#include "snapshot.h"

/**
 * Reads tracemalloc's traces of @p py through @p mem (a stopped target, or
 * its copy) and gives each object of @p snap the traceback of the block at
 * its address less @p pre(@p arg, i) bytes (its GC header): snap->tracemalloc,
 * sites, site_frames, site_files, object_site. Leaves tracemalloc.known false
 * when it was not tracing (or its state is not known: 3.8, no symbols).
 * Bounded: garbage is counted in tracemalloc.unreadable. False only when out
 * of memory.
 */
bool ph_python_read_tracemalloc(struct ph_python *py, struct ph_mem *mem, struct ph_snapshot *snap,
				uint64_t (*pre)(void *arg, size_t i), void *arg);

#endif
