/* SPDX-License-Identifier: MIT */
#ifndef PYHEAP_CMALLOC_H
#define PYHEAP_CMALLOC_H

#include "cpython.h"
#include "mem.h"
#include "snapshot.h"

/**
 * Reads glibc malloc's arenas of the process of @p py through @p mem (a
 * stopped target, or its copy) into @p out, as mallinfo2() counts them.
 * Leaves out->known false when libc's main_arena is not known (not glibc,
 * no symbol table or debug file for it: libc6-dbg) or its size is not that
 * of glibc 2.27+. Bounded; lists cut short are counted in out->unreadable.
 */
void ph_read_cmalloc(struct ph_python *py, struct ph_mem *mem, struct ph_cmalloc *out);

#endif
