/* SPDX-License-Identifier: MIT */
#ifndef PYHEAP_PYMALLOC_H
#define PYHEAP_PYMALLOC_H

#include "cpython.h"
#include "mem.h"
#include "snapshot.h"

/**
 * Reads pymalloc's arenas of @p py through @p mem (a stopped target, or its
 * copy) into @p out, as sys._debugmallocstats() counts them. Leaves
 * out->known false when the arena table is not known (before 3.12 it needs
 * the interpreter's symbol table or separate debug file). Bounded: garbage
 * is counted in out->unreadable, never followed far.
 */
void ph_python_read_pymalloc(struct ph_python *py, struct ph_mem *mem, struct ph_pymalloc *out);

#endif
