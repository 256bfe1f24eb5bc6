/* SPDX-License-Identifier: MIT */
/**
 * @file mem.h
 * One memory interface over several sources (a live process, a byte buffer
 * for unit tests and fuzzing; core files later), with a block cache on top so
 * that a heap walk reads target memory in large chunks, not per object.
 *
 * Addresses are target addresses: plain uint64_t, never C pointers.
 */
#ifndef PH_MEM_H
#define PH_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/**
 * A source reads up to @p len bytes at @p addr into @p buf and returns how
 * many it read from the start (a short count stops at the first unreadable
 * byte), or -errno (-ESRCH when the process is gone).
 */
struct ph_mem_source {
	long (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	void *arg;
};

/** Statistics of a cache, for --stats. */
struct ph_mem_stats {
	uint64_t bytes_read;   /**< bytes copied from the source */
	uint64_t source_calls; /**< calls to the source's read */
	uint64_t blocks;       /**< cache blocks filled */
	uint64_t faults;       /**< reads refused because memory was unreadable */
};

struct ph_mem;

struct ph_error *ph_mem_create(const struct ph_mem_source *src, struct ph_mem **ret);
void ph_mem_destroy(struct ph_mem *mem);

/** Drops every cached block (memory may have changed, e.g. after a resume). */
void ph_mem_reset(struct ph_mem *mem);

/**
 * Copies @p len bytes at @p addr into @p buf. Returns false when any byte is
 * unreadable; @p buf is then unspecified. Never fails otherwise.
 */
bool ph_mem_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len);

/** Reads a little-endian 64-bit word. */
static inline bool ph_mem_u64(struct ph_mem *mem, uint64_t addr, uint64_t *ret)
{
	return ph_mem_read(mem, addr, ret, sizeof(*ret));
}

/**
 * Reads a NUL-terminated string of at most @p cap - 1 bytes into @p buf.
 * Returns false if unreadable or not terminated within @p cap bytes.
 */
bool ph_mem_string(struct ph_mem *mem, uint64_t addr, char *buf, size_t cap);

/** True if the source reported that the process is gone. */
bool ph_mem_target_gone(const struct ph_mem *mem);

void ph_mem_get_stats(const struct ph_mem *mem, struct ph_mem_stats *ret);

/**
 * Calls @p fn for every run of readable bytes in the cache (consecutive pages
 * of one block), in no particular order: what the reads so far copied from
 * the source, e.g. to record a walk for replay (`--dump-memory`).
 */
void ph_mem_foreach_block(const struct ph_mem *mem,
			  void (*fn)(void *arg, uint64_t addr, const void *data, size_t len),
			  void *arg);

/**
 * A source over byte buffers at given addresses, for unit tests and fuzzing.
 * Segments are copied by reference: they must outlive the source.
 */
struct ph_buffer_segment {
	uint64_t address;
	const void *data;
	size_t size;
};
struct ph_buffer_source {
	struct ph_buffer_segment *segments;
	size_t nsegments;
};
long ph_buffer_source_read(void *arg, uint64_t addr, void *buf, size_t len);

#endif
