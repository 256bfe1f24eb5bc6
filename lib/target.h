/* SPDX-License-Identifier: MIT */
/**
 * @file target.h
 * The target process: its memory maps, stopping and resuming every thread
 * with ptrace, and a memory source that reads (never writes) its memory.
 */
#ifndef PH_TARGET_H
#define PH_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "mem.h"

struct ph_map {
	uint64_t start, end, offset;
	uint64_t inode;
	char perms[5];
	char *path; /**< as in /proc/PID/maps, or NULL for anonymous mappings */
};

struct ph_maps {
	struct ph_map *maps;
	size_t n;
};

/** Reads /proc/PID/maps. */
struct ph_error *ph_maps_read(pid_t pid, struct ph_maps *ret);
void ph_maps_deinit(struct ph_maps *maps);

/** @p m's path without the " (deleted)" the kernel appends to a removed file. */
char *ph_map_clean_path(const struct ph_map *m);

/**
 * The path to open the file that @p m (a file mapping of @p pid) maps: the
 * file at its path in the process's root, when that is still the file
 * mapped (same inode); else, when the file was deleted or replaced since it
 * was mapped (a package upgrade under a running service), the mapping's entry
 * in /proc/PID/map_files, which opens the file mapped itself (root or
 * CAP_SYS_ADMIN only). If that cannot be opened, the path in the process's
 * root anyway, and *@p unsure is set: it may be another file than the one
 * mapped, or none. NULL only if out of memory.
 */
char *ph_map_open_path(pid_t pid, const struct ph_map *m, bool *unsure);

/**
 * The root directory of @p pid as this process reaches it, "/proc/PID/root",
 * when it is not this process's own (a container's: its files, its debug
 * packages); NULL when it is the same, cannot be told, or out of memory.
 */
char *ph_target_root(pid_t pid);

/**
 * @p pid as the process itself knows it: in its own PID namespace (the last
 * field of NSpid in /proc/PID/status; a container's main process is often 1),
 * which is what CPython keeps as a thread's native id. @p pid itself when the
 * kernel does not say (before 4.1) or the process is gone.
 */
pid_t ph_target_ns_pid(pid_t pid);

/** Checks that the process exists and can be examined; classifies errors. */
struct ph_error *ph_target_check(pid_t pid);

/**
 * The writable mappings of @p pid (its heap, arenas, thread stacks, .data and
 * .bss), merged where adjacent; @p total is their size in bytes.
 */
struct ph_error *ph_target_writable_ranges(pid_t pid, struct ph_mem_range **ret, size_t *n,
					   uint64_t *total);

/**
 * Narrows @p ranges (sorted, page-aligned) in place to their pages that are
 * in memory or swapped out, from /proc/PID/pagemap: pages never touched
 * (most of a thread's stack, reserved but unused heap) hold nothing and need
 * no copy; nor do pages mapped to the shared zero page (when page frames are
 * visible: as root or with CAP_SYS_ADMIN). Returns false, leaving the ranges as they are, when pagemap
 * cannot be read. @p total gets the bytes left.
 */
bool ph_target_resident_ranges(pid_t pid, struct ph_mem_range **ranges, size_t *n,
			       uint64_t *total);


/**
 * An identity of the program the process runs (a hash of /proc/PID/auxv,
 * which holds addresses every exec randomises): compare two to tell whether
 * it exec'd in between.
 */
struct ph_error *ph_target_image_id(pid_t pid, uint64_t *ret);

/** Resident set size of the process in bytes, or 0 if unknown. */
uint64_t ph_target_rss(pid_t pid);

struct ph_target;

/**
 * Stops every thread of @p pid (PTRACE_SEIZE + PTRACE_INTERRUPT, re-reading
 * /proc/PID/task until no new thread appears). On failure every thread that
 * was stopped has been resumed again. @p timeout_ms bounds the wait for the
 * threads to stop. A thread already in a group-stop (SIGSTOP) is stopped too
 * and left in its group-stop by ph_target_detach(); a signal a thread was
 * about to take when it stopped is delivered on detach.
 *
 * SEIZE queues no SIGSTOP: if this process dies (even by SIGKILL) while the
 * target is stopped, the kernel detaches and resumes every thread.
 */
struct ph_error *ph_target_attach(pid_t pid, int timeout_ms, struct ph_target **ret);

/**
 * Resumes every thread that ph_target_attach() stopped and frees @p t.
 * Must be called from the thread that attached (ptrace is per thread).
 */
void ph_target_detach(struct ph_target *t);

struct ph_watchdog;

/**
 * Starts a thread that, unless ph_watchdog_stop() comes first, at
 * @p deadline_ns (CLOCK_MONOTONIC) writes @p message to stderr and ends the
 * whole process with _exit(@p exit_code), so that the kernel resumes a
 * target whose tracer is stuck (a read blocked in the kernel, a ptrace call
 * waiting on an exec in the target, a bug that loops). The thread blocks
 * every signal. The one place where the library writes to stderr: the
 * process is about to end.
 */
struct ph_error *ph_watchdog_start(uint64_t deadline_ns, const char *message, int exit_code,
				   struct ph_watchdog **ret);
/** Stops and frees the watchdog; NULL is a no-op. */
void ph_watchdog_stop(struct ph_watchdog *wd);

size_t ph_target_nthreads(const struct ph_target *t);

/** A memory source over the process (process_vm_readv, else /proc/PID/mem read-only). */
struct ph_error *ph_process_source_create(pid_t pid, struct ph_mem_source *ret);
void ph_process_source_destroy(struct ph_mem_source *src);

#endif
