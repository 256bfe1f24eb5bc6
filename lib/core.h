/* SPDX-License-Identifier: MIT */
/**
 * @file core.h
 * A core file of a Python process (written by the kernel, or by gdb's
 * `gcore`) as a memory source: its PT_LOAD segments, and for what the core
 * left out of file mappings (a library's code and read-only data), the
 * mapped files on disk as its NT_FILE note names them. Its mappings in the
 * form of /proc/PID/maps, so that the interpreter is found as in a process.
 *
 * Every byte of the core is untrusted: notes and headers are bounds-checked,
 * and a file on disk is used only when it holds what the core kept of it
 * (its first page, where the ELF header and build-id are).
 */
#ifndef PH_CORE_H
#define PH_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "mem.h"
#include "target.h"

struct ph_core;

/**
 * Opens the core file at @p path. The files it mapped are looked for under
 * @p sysroot (the root of the machine or container it ran on, e.g. its image
 * unpacked here; NULL or "": this machine's /). Fails with PH_ERR_USAGE when
 * it is no ELF core file of this machine's kind (64-bit, same architecture),
 * with PH_ERR_BAD_DATA when its headers or notes are damaged.
 */
struct ph_error *ph_core_open(const char *path, const char *sysroot, struct ph_core **ret);
void ph_core_close(struct ph_core *core);

/** True if the file at @p path starts as an ELF core file does. */
bool ph_core_is_core_file(const char *path);

/** The path it was opened with. */
const char *ph_core_path(const struct ph_core *core);

/** The --sysroot it was opened with (no trailing '/'), or NULL. */
const char *ph_core_sysroot(const struct ph_core *core);

/** The process's pid (from its NT_PRPSINFO note; 0 if unknown). */
int ph_core_pid(const struct ph_core *core);

/** Its mappings, sorted by address: file mappings as the NT_FILE note names them
 *  (perms from their PT_LOAD; "r--p" without one), other segments anonymous. */
const struct ph_maps *ph_core_maps(const struct ph_core *core);

/**
 * Whether the file that mapping @p m names can stand in for what the core
 * left out: it exists and the core's copy of its first page, when the core
 * has one, is the same. @p why (may be NULL) gets a reason when not.
 */
bool ph_core_file_usable(struct ph_core *core, const struct ph_map *m, const char **why);

/** The path that file mapping @p m is read from (under the sysroot), or NULL. */
const char *ph_core_file_path(const struct ph_core *core, const struct ph_map *m);

/** The bytes of the core's segments (what it holds of the process's memory). */
uint64_t ph_core_bytes(const struct ph_core *core);

/**
 * The bytes of memory the core's headers say it holds past its end (a core
 * cut short: the disk filled up, a copy interrupted); they read as
 * unreadable. 0 for a whole core.
 */
uint64_t ph_core_missing(const struct ph_core *core);

/**
 * The writable memory the core holds (its heap, arenas, stacks, .data), as
 * sorted ranges for ph_mem_prefetch(); @p total gets their bytes. Returns
 * false when out of memory.
 */
bool ph_core_writable_ranges(const struct ph_core *core, struct ph_mem_range **ret, size_t *n,
			     uint64_t *total);

/** A memory source over the core (valid while @p core is open). */
void ph_core_source(struct ph_core *core, struct ph_mem_source *ret);

#endif
