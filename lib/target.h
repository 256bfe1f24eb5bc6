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

/** Checks that the process exists and can be examined; classifies errors. */
struct ph_error *ph_target_check(pid_t pid);

/** Resident set size of the process in bytes, or 0 if unknown. */
uint64_t ph_target_rss(pid_t pid);

struct ph_target;

/**
 * Stops every thread of @p pid (PTRACE_SEIZE + PTRACE_INTERRUPT, re-reading
 * /proc/PID/task until no new thread appears). On failure every thread that
 * was stopped has been resumed again. @p timeout_ms bounds the wait for the
 * threads to stop.
 */
struct ph_error *ph_target_attach(pid_t pid, int timeout_ms, struct ph_target **ret);

/** Resumes every thread that ph_target_attach() stopped and frees @p t. */
void ph_target_detach(struct ph_target *t);

size_t ph_target_nthreads(const struct ph_target *t);

/** A memory source over the process (process_vm_readv, else /proc/PID/mem read-only). */
struct ph_error *ph_process_source_create(pid_t pid, struct ph_mem_source *ret);
void ph_process_source_destroy(struct ph_mem_source *src);

#endif
