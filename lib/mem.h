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
struct ph_mem_iov {
	uint64_t addr;
	void *buf;
	size_t len;
};

struct ph_mem_source {
	long (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	void *arg;
	/**
	 * Optional: reads several ranges in one call, in order, stopping at the
	 * first unreadable byte; returns the bytes read in total, or -errno.
	 */
	long (*readv)(void *arg, const struct ph_mem_iov *iov, size_t n);
};

/** Statistics of a cache, for --stats. */
struct ph_mem_stats {
	uint64_t bytes_read;   /**< bytes copied from the source */
	uint64_t source_calls; /**< calls to the source's read */
	uint64_t blocks;       /**< cache blocks filled */
	uint64_t faults;       /**< reads refused because memory was unreadable */
	uint64_t peak_blocks;  /**< most blocks holding data at once */
	uint64_t evicted;      /**< blocks dropped to stay within the limit (ph_mem_set_limit()) */
	uint64_t peeks;        /**< ph_mem_peek() reads from the source, past a full cache */
	uint64_t copied;       /**< bytes copied ahead by ph_mem_prefetch() */
	uint64_t read_ahead;   /**< blocks read ahead on another thread (ph_mem_read_ahead()) */
};

/* Private: the block the last read used, for the inline fast paths below. */
/* A direct-mapped table of blocks (by address >> 16) for the inline fast
 * path; the cache's hash table behind it is the authority. */
enum { PH_MEM_TLB_SIZE = 4096 };
struct ph_mem_tlb {
	uint64_t number;     /* address >> 16 */
	const uint8_t *data;
	uint32_t valid;      /* bit i: page i of the block is readable (0: unused entry) */
};

struct ph_mem_hot {
	struct ph_mem_tlb *tlb; /* PH_MEM_TLB_SIZE entries */
	bool track;             /* reads are being tracked: take the slow path */
};

struct ph_mem;

struct ph_error *ph_mem_create(const struct ph_mem_source *src, struct ph_mem **ret);
void ph_mem_destroy(struct ph_mem *mem);

/**
 * ph_mem_destroy() on another thread (giving a large copy back to the kernel
 * takes milliseconds): returns a handle for ph_mem_destroy_join(), or NULL
 * when it destroyed @p mem at once.
 */
struct ph_mem_reaper *ph_mem_destroy_async(struct ph_mem *mem);
void ph_mem_destroy_join(struct ph_mem_reaper *reaper);

/**
 * A view of @p core for another thread: reads through it see the core's
 * blocks (and fill it, under the core's lock) with a fast path's table of
 * its own. While views are in use, every thread reads through a view of its
 * own, never the core. Only for a cache without a limit or tracked reads.
 * ph_mem_destroy() frees a view (before its core).
 */
struct ph_error *ph_mem_view_create(struct ph_mem *core, struct ph_mem **ret);

/** Drops every cached block (memory may have changed, e.g. after a resume). */
void ph_mem_reset(struct ph_mem *mem);

/**
 * Bounds the cache to about @p bytes (at least one 64 KiB block): from now on
 * ph_mem_safe_point() drops blocks not used lately when the cache is near
 * the limit (they are read again when needed), and ph_mem_peek() reads what
 * it does not hold without filling it. For walking a large heap live within a
 * memory budget; not with ph_mem_track_reads().
 */
void ph_mem_set_limit(struct ph_mem *mem, uint64_t bytes);

/**
 * With a limit: starts reading the block that holds @p addr on another
 * thread (a few blocks at a time, within the limit), unless the cache holds
 * it: a walk asks for the objects it processes soon, and finds their blocks
 * read when it gets to them. A no-op without a limit, or with one CPU.
 */
void ph_mem_read_ahead(struct ph_mem *mem, uint64_t addr);

/** True once ph_mem_set_limit() was called. */
bool ph_mem_limited(const struct ph_mem *mem);

/** The limit of ph_mem_set_limit() in bytes (whole blocks), 0 without one. */
uint64_t ph_mem_limit_bytes(const struct ph_mem *mem);

/**
 * With a limit: a point where no pointer into the cache (ph_mem_ptr(), the
 * fast path) is held. Drops blocks down to 3/4 of the limit when the cache
 * is past 7/8 of it; pointers taken before are invalid after. A no-op
 * without a limit.
 */
void ph_mem_safe_point(struct ph_mem *mem);

/**
 * ph_mem_read() of a few bytes that need not stay in the cache (the header
 * of an object found through a reference): with a limit, from the source
 * unless the cache holds them, without filling a block.
 */
bool ph_mem_peek(struct ph_mem *mem, uint64_t addr, void *buf, size_t len);

/**
 * ph_mem_peek() of a range of any length (split at the cache's blocks): what
 * is read once, beside the walk (the allocators' tables), never fills the
 * cache of a walk within a memory budget.
 */
bool ph_mem_peek_range(struct ph_mem *mem, uint64_t addr, void *buf, size_t len);

/**
 * ph_mem_peek() of @p n ranges, each within a 64 KiB block: those the cache
 * holds from it, the others (with a limit) from the source in vectored calls
 * (at most PH_MEM_PEEKV_MAX of them per call to this), without filling the
 * cache.
 * @p ok[i] says whether range i was read.
 */
enum { PH_MEM_PEEKV_MAX = 512 };
void ph_mem_peekv(struct ph_mem *mem, const struct ph_mem_iov *iov, size_t n, bool *ok);

/**
 * Copies @p len bytes at @p addr into @p buf. Returns false when any byte is
 * unreadable; @p buf is then unspecified. Never fails otherwise.
 */
bool ph_mem_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len);

/**
 * A pointer to @p len bytes at @p addr inside the cache, or NULL when they
 * are unreadable or cross a cache block (then use ph_mem_read()). Valid until
 * the next call that may fill the cache.
 */
const void *ph_mem_ptr(struct ph_mem *mem, uint64_t addr, size_t len);

struct ph_mem_range {
	uint64_t start, end;
};

/**
 * Copies whole blocks covering @p ranges into the cache, in as few source
 * calls as possible (the copy of a stopped target's memory, so that the walk
 * can run after it is resumed). Stops early at @p deadline_ns (CLOCK_MONOTONIC,
 * 0 for none) or when @p max_bytes would be exceeded; *complete says whether
 * everything was copied. Returns the bytes copied.
 */
uint64_t ph_mem_prefetch(struct ph_mem *mem, const struct ph_mem_range *ranges, size_t n,
			 uint64_t deadline_ns, uint64_t max_bytes, bool *complete);

/**
 * The cache memory a copy of @p ranges takes: the bytes of the 64 KiB
 * blocks they touch (a block shared by neighbouring sorted ranges counted
 * once), what ph_mem_reserve() should set aside for ph_mem_prefetch().
 */
uint64_t ph_mem_block_bytes(const struct ph_mem_range *ranges, size_t n);

/**
 * Reserves and pre-faults @p bytes for blocks that ph_mem_prefetch() fills,
 * so that the copy made while the target is stopped does not wait on page
 * faults. Returns false if the memory could not be had (prefetch then
 * allocates as it goes).
 */
bool ph_mem_reserve(struct ph_mem *mem, uint64_t bytes);

/**
 * A hint that @p addr will be read soon: if its page is already in the cache,
 * starts loading its 64-byte line into the CPU cache. Never reads from the
 * source, never changes the cache; does nothing otherwise.
 */
void ph_mem_hint(struct ph_mem *mem, uint64_t addr);

/**
 * A pointer to @p len bytes at @p addr if the cache holds them already, else
 * NULL: never reads from the source (and NULL while reads are tracked, see
 * ph_mem_track_reads()). Without a limit the pointer stays valid until the
 * cache is reset or destroyed; with one, until the next ph_mem_safe_point().
 */
const void *ph_mem_cached(struct ph_mem *mem, uint64_t addr, size_t len);

/* Private: the fast path's table lookup, NULL when it does not know. */
static inline const void *ph_mem_tlb_ptr(struct ph_mem *mem, uint64_t addr, size_t len)
{
	const struct ph_mem_hot *h = (const struct ph_mem_hot *)mem; // first member
	uint64_t off = addr & 0xffff;
	const struct ph_mem_tlb *t = &h->tlb[(addr >> 16) & (PH_MEM_TLB_SIZE - 1)];
	if (t->number == (addr >> 16) && off + len <= 0x10000 && len && !h->track) {
		if (t->valid == 0xffff) // (a block wholly read: the usual case)
			return t->data + off;
		unsigned first = (unsigned)(off >> 12), last = (unsigned)((off + len - 1) >> 12);
		unsigned need = ((1u << (last + 1)) - 1) & ~((1u << first) - 1);
		if ((t->valid & need) == need)
			return t->data + off;
	}
	return NULL;
}

/** ph_mem_ptr() with an inline fast path for blocks used before. */
static inline const void *ph_mem_ptr_fast(struct ph_mem *mem, uint64_t addr, size_t len)
{
	const void *p = ph_mem_tlb_ptr(mem, addr, len);
	return p ? p : ph_mem_ptr(mem, addr, len);
}

/** ph_mem_hint() with the same inline fast path. */
static inline void ph_mem_hint_fast(struct ph_mem *mem, uint64_t addr)
{
	const void *p = ph_mem_tlb_ptr(mem, addr, 1);
	if (p)
		__builtin_prefetch(p);
	else
		ph_mem_hint(mem, addr);
}

/** ph_mem_cached() with the same inline fast path. */
static inline const void *ph_mem_cached_fast(struct ph_mem *mem, uint64_t addr, size_t len)
{
	const void *p = ph_mem_tlb_ptr(mem, addr, len);
	return p ? p : ph_mem_cached(mem, addr, len);
}

/** ph_mem_read() with the same inline fast path. */
static inline bool ph_mem_read_fast(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
	const void *p = ph_mem_tlb_ptr(mem, addr, len);
	if (p) {
		__builtin_memcpy(buf, p, len);
		return true;
	}
	return ph_mem_read(mem, addr, buf, len);
}

/** Reads a little-endian 64-bit word. */
static inline bool ph_mem_u64(struct ph_mem *mem, uint64_t addr, uint64_t *ret)
{
	const void *p = ph_mem_ptr_fast(mem, addr, sizeof(*ret));
	if (p) {
		__builtin_memcpy(ret, p, sizeof(*ret));
		return true;
	}
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
 * Records from now on which 64-byte lines ph_mem_read() copies out of the
 * cache (for ph_mem_foreach_block()); costs a test per read otherwise.
 */
void ph_mem_track_reads(struct ph_mem *mem);

/** True once ph_mem_track_reads() was called. */
static inline bool ph_mem_tracking(const struct ph_mem *mem)
{
	return ((const struct ph_mem_hot *)mem)->track;
}

/**
 * Calls @p fn for every run of readable pages in the cache (consecutive pages
 * of one block), in no particular order: what the reads so far copied from
 * the source, e.g. to record a walk for replay (`--dump-memory`). With
 * ph_mem_track_reads(), only pages that reads used are given, and @p lines
 * has one word per page (bit i: line i was read); else @p lines is NULL.
 */
void ph_mem_foreach_block(const struct ph_mem *mem,
			  void (*fn)(void *arg, uint64_t addr, const void *data, size_t len,
				     const uint64_t *lines),
			  void *arg);

/**
 * A source over byte buffers at given addresses, for unit tests and fuzzing.
 * Segments are copied by reference: they must outlive the source. They are
 * sorted by address and do not overlap (what is not found so reads as
 * unmapped).
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
