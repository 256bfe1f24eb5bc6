/* SPDX-License-Identifier: MIT */
#include "mem.h"
#include "thread.h"
#include "prefault.h"
#include "cgroup.h"

#include <stdlib.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// Blocks of 64 KiB: large enough that a million-object heap costs a few
// thousand source calls, small enough that sparse reads do not copy much.
enum {
	BLOCK_SHIFT = 16,
	BLOCK_SIZE = 1 << BLOCK_SHIFT,
	ARENA_UNMAP_BYTES = 4 << 20,
	PAGE_SHIFT = 12,
	PAGE_SIZE = 1 << PAGE_SHIFT,
	PAGES_PER_BLOCK = BLOCK_SIZE / PAGE_SIZE,
};

struct block {
	uint64_t number;   // address >> BLOCK_SHIFT, or UINT64_MAX when the slot is empty
	uint8_t *data;     // NULL when no page of the block is readable
	uint64_t *touched; // with ph_mem_track_reads(): per page, bit i = 64-byte line i was read
	uint16_t valid;    // bit i: page i was read
	uint16_t tried;    // bit i: page i was asked of the source (valid or not)
	bool in_arena;     // data lives in the reserved arena, not malloc'ed
	bool ref;          // with a limit: used since the last eviction round
	bool evicted;      // with a limit: its data was dropped; the next use reads it again
};

struct ph_mem {
	struct ph_mem_hot hot; // first member: mem.h's inline fast path reads it
	struct ph_mem_source src;
	struct block *slots;
	size_t nslots;     // power of two
	size_t nused;
	struct block *last;
	bool gone;
	bool track, track_failed;
	uint8_t *arena;    // ph_mem_reserve(): pre-faulted memory for blocks
	size_t arena_size, arena_used;
	size_t limit;      // ph_mem_set_limit(): blocks holding data at most, 0 = no limit
	size_t ndata;      // blocks holding data
	size_t hand;       // where the eviction clock goes on in slots
	struct ph_mem_stats stats;
	/* A view (ph_mem_view_create()): its own fast path's table, everything
	 * else the core's, under the core's lock. */
	struct ph_mem *core;
	struct ph_mem_tlb *own_tlb; // a core: its own table (hot.tlb is a view's while it reads)
	pthread_mutex_t lock;       // a core: taken by its views' slow paths
	bool has_lock;
	uint8_t *spans;             // with a limit: ph_mem_peekv()'s spans (PEEK_SPANS bytes)
	struct read_ahead *ra;      // with a limit: ph_mem_read_ahead()'s reader, once started
	bool ra_failed;             // it could not start: not again
	uint64_t ra_last;           // the block last asked for (+ 1; 0: none)
};

/* ---- reading ahead (with a limit) ----
 * A walk within a budget finds most blocks it needs missing: those of the
 * objects it processes next, whose addresses it knows. A reader thread reads
 * them ahead into buffers of their own (counted as blocks holding data);
 * get_block() takes such a buffer when it needs the block, waiting for the
 * read if it is still under way. Only get_block() and ph_mem_read_ahead()
 * (the walk's thread) touch the cache; the reader only reads the source. */
// RA_SPINS: pauses (about a millisecond) before the reader sleeps, and
// before the walk's thread, waiting for a block, does: a thread woken on
// this virtual machine takes 50-100 us to run again (the walk of 1M objects
// within 16 MiB: 360 -> 840 ms when the reader slept between the asks).
enum { RA_SLOTS = 16, RA_FREE = 0, RA_ASKED = 1, RA_DONE = 2, RA_SPINS = 20000 };
struct ra_slot {
	uint64_t number; // the block (the walk's thread's field)
	uint8_t *buf;
	uint64_t seq;    // order of asking: the reader takes the oldest first
	long got;        // the source's answer, written before state = RA_DONE
	int state;       // RA_FREE/ASKED (set by the walk's thread), RA_DONE (by the reader)
};
struct read_ahead {
	pthread_t thread;
	struct ph_mem_source src;
	struct ra_slot slot[RA_SLOTS];
	uint64_t seq;
	int asked;    // futex word: bumped at each ask
	int sleeping; // the reader waits on asked
	bool stop;
};

// A view's slow path runs on the core, under its lock, with the view's
// table as the one it fills; the core's last block is not carried between
// callers (its slots may move).
static struct ph_mem *view_enter(struct ph_mem *view)
{
	struct ph_mem *core = view->core;
	pthread_mutex_lock(&core->lock);
	core->hot.tlb = view->hot.tlb;
	core->last = NULL;
	return core;
}

static void view_leave(struct ph_mem *core)
{
	core->hot.tlb = core->own_tlb;
	core->last = NULL;
	pthread_mutex_unlock(&core->lock);
}

#define VIEW_CALL(mem, type, call)                                                           \
	do {                                                                                 \
		if (mem->core) {                                                             \
			struct ph_mem *core_ = view_enter(mem);                              \
			type r_ = call(core_);                                               \
			view_leave(core_);                                                   \
			return r_;                                                           \
		}                                                                            \
	} while (0)

// A block got data (or lost it): counted against the limit.
static void data_added(struct ph_mem *mem)
{
	if (++mem->ndata > mem->stats.peak_blocks)
		mem->stats.peak_blocks = mem->ndata;
}

// The last block used; it also enters the fast path's table.
static inline void set_last(struct ph_mem *mem, struct block *b)
{
	mem->last = b;
	if (b && b->data) {
		struct ph_mem_tlb *t = &mem->hot.tlb[b->number & (PH_MEM_TLB_SIZE - 1)];
		t->number = b->number;
		t->data = b->data;
		t->valid = b->valid;
	}
	mem->hot.track = mem->track;
}

// Forgets every block in the fast path's table (their memory is freed).
static void tlb_clear(struct ph_mem *mem)
{
	memset(mem->hot.tlb, 0, PH_MEM_TLB_SIZE * sizeof(*mem->hot.tlb));
}

static void slots_clear(struct block *slots, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		slots[i].number = UINT64_MAX;
		slots[i].data = NULL;
		slots[i].touched = NULL;
		slots[i].valid = 0;
		slots[i].tried = 0;
		slots[i].in_arena = false;
		slots[i].ref = false;
		slots[i].evicted = false;
	}
}

struct ph_error *ph_mem_create(const struct ph_mem_source *src, struct ph_mem **ret)
{
	struct ph_mem *mem = calloc(1, sizeof(*mem));
	if (!mem)
		return &ph_error_nomem;
	mem->src = *src;
	mem->hot.tlb = calloc(PH_MEM_TLB_SIZE, sizeof(*mem->hot.tlb));
	if (!mem->hot.tlb) {
		free(mem);
		return &ph_error_nomem;
	}
	mem->own_tlb = mem->hot.tlb;
	mem->nslots = 1024;
	mem->slots = reallocarray(NULL, mem->nslots, sizeof(*mem->slots));
	if (!mem->slots) {
		free(mem);
		return &ph_error_nomem;
	}
	slots_clear(mem->slots, mem->nslots);
	*ret = mem;
	return NULL;
}

static void ra_wake(int *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *ra_reader(void *arg)
{
	struct read_ahead *ra = arg;
	unsigned idle = 0;
	for (;;) {
		int asked = __atomic_load_n(&ra->asked, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&ra->stop, __ATOMIC_ACQUIRE))
			return NULL;
		// The oldest block asked for.
		struct ra_slot *next = NULL;
		for (size_t i = 0; i < RA_SLOTS; i++) {
			struct ra_slot *sl = &ra->slot[i];
			if (__atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) == RA_ASKED &&
			    (!next || sl->seq < next->seq))
				next = sl;
		}
		if (next) {
			next->got = ra->src.read(ra->src.arg, next->number << BLOCK_SHIFT, next->buf,
						 BLOCK_SIZE);
			__atomic_store_n(&next->state, RA_DONE, __ATOMIC_RELEASE);
			idle = 0;
			continue;
		}
		if (++idle < RA_SPINS) {
			__builtin_ia32_pause();
			continue;
		}
		idle = 0;
		// Nothing asked: sleep until the next ask (the walk's thread wakes
		// this one only when it says it sleeps).
		__atomic_store_n(&ra->sleeping, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&ra->asked, __ATOMIC_SEQ_CST) == asked &&
		    !__atomic_load_n(&ra->stop, __ATOMIC_SEQ_CST))
			syscall(SYS_futex, &ra->asked, FUTEX_WAIT_PRIVATE, asked, NULL, NULL, 0);
		__atomic_store_n(&ra->sleeping, 0, __ATOMIC_SEQ_CST);
	}
}

// Stops the reader; the buffers it still holds are freed (the caller frees
// or forgets every block).
static void ra_stop(struct ph_mem *mem)
{
	struct read_ahead *ra = mem->ra;
	if (!ra)
		return;
	__atomic_store_n(&ra->stop, true, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&ra->asked, 1, __ATOMIC_SEQ_CST);
	ra_wake(&ra->asked);
	pthread_join(ra->thread, NULL);
	for (size_t i = 0; i < RA_SLOTS; i++) {
		if (__atomic_load_n(&ra->slot[i].state, __ATOMIC_ACQUIRE) != RA_FREE) {
			free(ra->slot[i].buf);
			mem->ndata--;
		}
	}
	free(ra);
	mem->ra = NULL;
	mem->ra_last = 0;
}

static bool ra_start(struct ph_mem *mem)
{
	if (mem->ra_failed || ph_cpus() < 2) {
		mem->ra_failed = true;
		return false;
	}
	struct read_ahead *ra = calloc(1, sizeof(*ra));
	if (!ra) {
		mem->ra_failed = true;
		return false;
	}
	ra->src = mem->src;
	if (!ph_thread_start(&ra->thread, ra_reader, ra)) {
		free(ra);
		mem->ra_failed = true;
		return false;
	}
	mem->ra = ra;
	return true;
}

static struct ra_slot *ra_find(struct read_ahead *ra, uint64_t number)
{
	for (size_t i = 0; ra && i < RA_SLOTS; i++)
		if (__atomic_load_n(&ra->slot[i].state, __ATOMIC_RELAXED) != RA_FREE &&
		    ra->slot[i].number == number)
			return &ra->slot[i];
	return NULL;
}

static void finish_fill(struct ph_mem *mem, struct block *b, long n);

// Block @b from the reader if it read or reads it: true (its data is there,
// as fill_block() leaves it).
static bool ra_take(struct ph_mem *mem, struct block *b)
{
	struct ra_slot *sl = ra_find(mem->ra, b->number);
	if (!sl)
		return false;
	// (A read of 64 KiB takes tens of microseconds; a busy machine may
	// keep the reader from a CPU for longer.)
	for (unsigned spins = 0; __atomic_load_n(&sl->state, __ATOMIC_ACQUIRE) != RA_DONE; spins++) {
		if (spins < RA_SPINS) {
			__builtin_ia32_pause();
		} else {
			struct timespec ts = {0, 20000};
			nanosleep(&ts, NULL);
		}
	}
	b->data = sl->buf;
	mem->stats.source_calls++;
	mem->stats.blocks++;
	mem->stats.read_ahead++;
	if (sl->got == -ESRCH)
		mem->gone = true;
	if (sl->got > 0)
		mem->stats.bytes_read += (uint64_t)sl->got;
	long got = sl->got;
	__atomic_store_n(&sl->state, RA_FREE, __ATOMIC_RELAXED);
	finish_fill(mem, b, got);
	return true;
}

static void free_blocks(struct ph_mem *mem)
{
	for (size_t i = 0; i < mem->nslots; i++) {
		if (!mem->slots[i].in_arena)
			free(mem->slots[i].data);
		mem->slots[i].in_arena = false;
		free(mem->slots[i].touched);
	}
	tlb_clear(mem);
	mem->ndata = 0;
	// A few MiB per call: while the kernel frees the pages of one call, the
	// mappings of the whole process are locked (other threads' mmap() wait;
	// the copy is given back while the analysis runs, see ph_mem_destroy_async()).
	for (size_t off = 0; mem->arena && off < mem->arena_size; off += ARENA_UNMAP_BYTES)
		munmap(mem->arena + off, mem->arena_size - off < ARENA_UNMAP_BYTES
						 ? mem->arena_size - off
						 : ARENA_UNMAP_BYTES);
	mem->arena = NULL;
	mem->arena_size = mem->arena_used = 0;
}

uint64_t ph_mem_block_bytes(const struct ph_mem_range *ranges, size_t n)
{
	uint64_t blocks = 0, last = UINT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (ranges[i].end <= ranges[i].start)
			continue;
		uint64_t first = ranges[i].start >> BLOCK_SHIFT, end = (ranges[i].end - 1) >> BLOCK_SHIFT;
		blocks += end - first + 1 - (first == last);
		last = end;
	}
	return blocks << BLOCK_SHIFT;
}

bool ph_mem_reserve(struct ph_mem *mem, uint64_t bytes)
{
	if (mem->arena || !bytes)
		return false;
	size_t size = (size_t)((bytes + BLOCK_SIZE - 1) & ~(uint64_t)(BLOCK_SIZE - 1));
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	// Fault the pages in now, before the target is stopped: a copy into
	// fresh memory pays for every fault. Small pages, on two cores: large
	// pages are faster on average, but when memory is fragmented the kernel
	// compacts it first, which once took 0.3 s.
	ph_prefault_now(p, size);
	mem->arena = p;
	mem->arena_size = size;
	mem->arena_used = 0;
	return true;
}

static uint8_t *block_alloc(struct ph_mem *mem, struct block *b)
{
	if (mem->arena && mem->arena_used + BLOCK_SIZE <= mem->arena_size) {
		b->in_arena = true;
		b->data = mem->arena + mem->arena_used;
		mem->arena_used += BLOCK_SIZE;
		data_added(mem);
		return b->data;
	}
	b->in_arena = false;
	if ((b->data = malloc(BLOCK_SIZE)))
		data_added(mem);
	return b->data;
}

void ph_mem_destroy(struct ph_mem *mem)
{
	if (!mem)
		return;
	if (mem->core) {
		free(mem->hot.tlb);
		free(mem);
		return;
	}
	if (mem->has_lock)
		pthread_mutex_destroy(&mem->lock);
	ra_stop(mem);
	free_blocks(mem);
	free(mem->slots);
	free(mem->hot.tlb);
	free(mem->spans);
	free(mem);
}

struct ph_mem_reaper {
	pthread_t thread;
	struct ph_mem *mem;
};

static void *reap(void *arg)
{
	ph_mem_destroy(((struct ph_mem_reaper *)arg)->mem);
	return NULL;
}

struct ph_mem_reaper *ph_mem_destroy_async(struct ph_mem *mem)
{
	struct ph_mem_reaper *r = malloc(sizeof(*r));
	if (r) {
		r->mem = mem;
		if (ph_thread_start(&r->thread, reap, r))
			return r;
		free(r);
	}
	ph_mem_destroy(mem);
	return NULL;
}

void ph_mem_destroy_join(struct ph_mem_reaper *reaper)
{
	if (!reaper)
		return;
	pthread_join(reaper->thread, NULL);
	free(reaper);
}

void ph_mem_reset(struct ph_mem *mem)
{
	ra_stop(mem);
	free_blocks(mem);
	slots_clear(mem->slots, mem->nslots);
	mem->nused = 0;
	set_last(mem, NULL);
}

static inline size_t hash_block(uint64_t number, size_t mask)
{
	return (size_t)((number * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

// Bit i set for each page i of a block that [off, off + len) touches (len > 0).
static inline uint16_t pages_of(size_t off, size_t len)
{
	unsigned first = (unsigned)(off >> PAGE_SHIFT);
	unsigned last = (unsigned)((off + len - 1) >> PAGE_SHIFT);
	return (uint16_t)(((1u << (last + 1)) - 1) & ~((1u << first) - 1));
}

static struct block *lookup_slot(struct block *slots, size_t nslots, uint64_t number)
{
	size_t mask = nslots - 1;
	for (size_t i = hash_block(number, mask);; i = (i + 1) & mask) {
		if (slots[i].number == number || slots[i].number == UINT64_MAX)
			return &slots[i];
	}
}

static bool grow(struct ph_mem *mem)
{
	size_t n = mem->nslots * 2;
	struct block *slots = reallocarray(NULL, n, sizeof(*slots));
	if (!slots)
		return false;
	slots_clear(slots, n);
	for (size_t i = 0; i < mem->nslots; i++) {
		if (mem->slots[i].number != UINT64_MAX)
			*lookup_slot(slots, n, mem->slots[i].number) = mem->slots[i];
	}
	free(mem->slots);
	mem->slots = slots;
	mem->nslots = n;
	set_last(mem, NULL);
	return true;
}

static long source_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
	mem->stats.source_calls++;
	long n = mem->src.read(mem->src.arg, addr, buf, len);
	if (n == -ESRCH)
		mem->gone = true;
	if (n > 0)
		mem->stats.bytes_read += (uint64_t)n;
	return n;
}

// Fills a block: one read of the whole block; if it stops short, the pages
// after the first unreadable one are tried one by one.
static void fill_block(struct ph_mem *mem, struct block *b)
{
	if (ra_take(mem, b))
		return;
	b->data = malloc(BLOCK_SIZE);
	if (!b->data) {
		b->valid = 0;
		b->tried = 0xffff;
		return;
	}
	data_added(mem);
	mem->stats.blocks++;
	finish_fill(mem, b, source_read(mem, b->number << BLOCK_SHIFT, b->data, BLOCK_SIZE));
}

// The rest of fill_block() once the source answered @n for the whole block
// (its data counted as a block holding data).
static void finish_fill(struct ph_mem *mem, struct block *b, long n)
{
	uint64_t base = b->number << BLOCK_SHIFT;
	b->valid = 0;
	b->tried = 0xffff;
	size_t good = n > 0 ? (size_t)n : 0;
	for (size_t p = 0; p < PAGES_PER_BLOCK; p++) {
		if ((p + 1) * PAGE_SIZE <= good)
			b->valid |= (uint16_t)(1u << p);
	}
	if (good < BLOCK_SIZE && !mem->gone) {
		for (size_t p = good / PAGE_SIZE + 1; p < PAGES_PER_BLOCK; p++) {
			long m = source_read(mem, base + p * PAGE_SIZE, b->data + p * PAGE_SIZE,
					     PAGE_SIZE);
			if (m == PAGE_SIZE)
				b->valid |= (uint16_t)(1u << p);
			if (mem->gone)
				break;
		}
	}
	if (!b->valid) {
		free(b->data);
		b->data = NULL;
		mem->ndata--;
	}
}

// Pages of a block that were never asked for (a block that a prefetch of
// some of its pages created): ask now, one page at a time.
static void fill_pages(struct ph_mem *mem, struct block *b, uint16_t need)
{
	uint16_t todo = need & (uint16_t)~b->tried;
	if (!todo)
		return;
	if (!b->data) {
		if (!(b->data = malloc(BLOCK_SIZE)))
			return;
		data_added(mem);
	}
	uint64_t base = b->number << BLOCK_SHIFT;
	for (unsigned p = 0; p < PAGES_PER_BLOCK; p++) {
		if (!(todo & (1u << p)))
			continue;
		b->tried |= (uint16_t)(1u << p);
		if (source_read(mem, base + p * PAGE_SIZE, b->data + p * PAGE_SIZE, PAGE_SIZE) ==
		    PAGE_SIZE)
			b->valid |= (uint16_t)(1u << p);
	}
	if (mem->last == b)
		set_last(mem, b);
}

static struct block *get_block(struct ph_mem *mem, uint64_t number)
{
	if (mem->last && mem->last->number == number)
		return mem->last;
	struct block *b = lookup_slot(mem->slots, mem->nslots, number);
	if (b->number == UINT64_MAX) {
		if ((mem->nused + 1) * 2 > mem->nslots) {
			if (!grow(mem))
				return NULL;
			b = lookup_slot(mem->slots, mem->nslots, number);
		}
		b->number = number;
		mem->nused++;
		fill_block(mem, b);
	} else if (b->evicted) {
		// Read again whole: one call costs more than the bytes it copies
		// beside the page wanted (a live walk at 1M objects within 16 MiB:
		// 40,911 calls and 262 MB page by page, 7,285 calls and 306 MB
		// whole, a pause 3-20% shorter from 1 to 64 MiB).
		b->evicted = false;
		fill_block(mem, b);
	}
	b->ref = true;
	set_last(mem, b);
	return b;
}

static void mark_touched(struct ph_mem *mem, struct block *b, size_t off, size_t n)
{
	if (!b->touched && !(b->touched = calloc(PAGES_PER_BLOCK, sizeof(*b->touched)))) {
		mem->track_failed = true;
		return;
	}
	for (size_t l = off >> 6; l <= (off + n - 1) >> 6; l++)
		b->touched[l >> 6] |= 1ull << (l & 63);
}

const void *ph_mem_ptr(struct ph_mem *mem, uint64_t addr, size_t len)
{
#define PTR(m) ph_mem_ptr(m, addr, len)
	VIEW_CALL(mem, const void *, PTR);
#undef PTR
	size_t off = addr & (BLOCK_SIZE - 1);
	if (!len || off + len > BLOCK_SIZE)
		return NULL;
	struct block *b = get_block(mem, addr >> BLOCK_SHIFT);
	if (!b)
		return NULL;
	uint16_t need = pages_of(off, len);
	if ((b->valid & need) != need) {
		fill_pages(mem, b, need);
		if ((b->valid & need) != need)
			return NULL;
	}
	if (mem->track)
		mark_touched(mem, b, off, len);
	else
		set_last(mem, b); // its pages may have grown since it entered the table
	return b->data + off;
}

const void *ph_mem_cached(struct ph_mem *mem, uint64_t addr, size_t len)
{
#define CACHED(m) ph_mem_cached(m, addr, len)
	VIEW_CALL(mem, const void *, CACHED);
#undef CACHED
	size_t off = addr & (BLOCK_SIZE - 1);
	if (!len || off + len > BLOCK_SIZE || mem->track)
		return NULL;
	struct block *b = lookup_slot(mem->slots, mem->nslots, addr >> BLOCK_SHIFT);
	uint16_t need = pages_of(off, len);
	if (b->number != addr >> BLOCK_SHIFT || !b->data || (b->valid & need) != need)
		return NULL;
	b->ref = true;
	// Into the fast path's table (mem->last, get_block()'s, is left alone).
	struct ph_mem_tlb *t = &mem->hot.tlb[b->number & (PH_MEM_TLB_SIZE - 1)];
	t->number = b->number;
	t->data = b->data;
	t->valid = b->valid;
	return b->data + off;
}

void ph_mem_hint(struct ph_mem *mem, uint64_t addr)
{
	size_t off = addr & (BLOCK_SIZE - 1);
	const struct ph_mem_tlb *t = &mem->hot.tlb[(addr >> BLOCK_SHIFT) & (PH_MEM_TLB_SIZE - 1)];
	if (t->number == addr >> BLOCK_SHIFT) {
		if (t->valid >> (off >> PAGE_SHIFT) & 1)
			__builtin_prefetch(t->data + off);
		return;
	}
	if (mem->core) {
		// (through the lock, into the view's table for the next hint)
		const void *p = ph_mem_cached(mem, addr, 1);
		if (p)
			__builtin_prefetch(p);
		return;
	}
	struct block *b = lookup_slot(mem->slots, mem->nslots, addr >> BLOCK_SHIFT);
	if (b->number == addr >> BLOCK_SHIFT && (b->valid >> (off >> PAGE_SHIFT) & 1))
		__builtin_prefetch(b->data + off);
}

void ph_mem_read_ahead(struct ph_mem *mem, uint64_t addr)
{
	uint64_t number = addr >> BLOCK_SHIFT;
	if (!mem->limit || mem->core || mem->track || number + 1 == mem->ra_last)
		return;
	mem->ra_last = number + 1;
	// Not when the cache holds the block or knows it unreadable, nor when it
	// is asked for already; within the limit, a few at a time.
	struct block *b = lookup_slot(mem->slots, mem->nslots, number);
	if (b->number == number && !b->evicted)
		return;
	if (mem->limit < 4 * RA_SLOTS || mem->ndata + 1 > mem->limit)
		return;
	if (!mem->ra && !ra_start(mem))
		return;
	struct read_ahead *ra = mem->ra;
	if (ra_find(ra, number))
		return;
	struct ra_slot *sl = NULL, *done = NULL;
	for (size_t i = 0; !sl && i < RA_SLOTS; i++) {
		struct ra_slot *t = &ra->slot[i];
		int st = __atomic_load_n(&t->state, __ATOMIC_ACQUIRE);
		if (st == RA_FREE)
			sl = t;
		else if (st == RA_DONE && (!done || t->seq < done->seq))
			done = t;
	}
	if (!sl && done) {
		// All taken: the oldest block read into the cache (the walk has
		// not asked for it yet, or went another way).
		struct block *nb = lookup_slot(mem->slots, mem->nslots, done->number);
		if (nb->number == UINT64_MAX && (mem->nused + 1) * 2 > mem->nslots) {
			if (!grow(mem))
				return;
			nb = lookup_slot(mem->slots, mem->nslots, done->number);
		}
		if (nb->number == UINT64_MAX) {
			nb->number = done->number;
			mem->nused++;
		}
		nb->evicted = false;
		sl = done;
		if (!nb->data) {
			ra_take(mem, nb);
		} else {
			free(done->buf); // (never: a block held is never asked for)
			__atomic_store_n(&done->state, RA_FREE, __ATOMIC_RELAXED);
			mem->ndata--;
		}
		if (mem->ndata + 1 > mem->limit)
			return;
	}
	if (!sl || !(sl->buf = malloc(BLOCK_SIZE)))
		return;
	data_added(mem);
	sl->number = number;
	sl->seq = ++ra->seq;
	__atomic_store_n(&sl->state, RA_ASKED, __ATOMIC_RELEASE);
	__atomic_add_fetch(&ra->asked, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&ra->sleeping, __ATOMIC_SEQ_CST))
		ra_wake(&ra->asked);
}

void ph_mem_set_limit(struct ph_mem *mem, uint64_t bytes)
{
	uint64_t blocks = bytes / BLOCK_SIZE;
	mem->limit = blocks < 1 ? 1 : blocks > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)blocks;
}

uint64_t ph_mem_limit_bytes(const struct ph_mem *mem)
{
	const struct ph_mem *m = mem->core ? mem->core : mem;
	return (uint64_t)m->limit << BLOCK_SHIFT;
}

bool ph_mem_limited(const struct ph_mem *mem)
{
	return (mem->core ? mem->core : mem)->limit != 0;
}

void ph_mem_safe_point(struct ph_mem *mem)
{
	if (mem->core)
		return; // (views are for a cache without a limit)
	if (!mem->limit || mem->ndata <= mem->limit - mem->limit / 8)
		return;
	// Down to 3/4 of the limit, so that rounds are rare: a clock over the
	// slots, sparing blocks used since the last round once.
	size_t goal = mem->limit - mem->limit / 4;
	for (size_t steps = 0; mem->ndata > goal && steps < 2 * mem->nslots; steps++) {
		struct block *b = &mem->slots[mem->hand++ & (mem->nslots - 1)];
		if (b->number == UINT64_MAX || !b->data || b->in_arena || b->touched)
			continue;
		if (b->ref) {
			b->ref = false;
			continue;
		}
		free(b->data);
		b->data = NULL;
		b->valid = b->tried = 0;
		b->evicted = true;
		mem->ndata--;
		mem->stats.evicted++;
	}
	// The fast path's table may name dropped blocks; uses after this go
	// through get_block() once, which marks their blocks used again.
	tlb_clear(mem);
	set_last(mem, NULL);
}

// Copies [addr, addr + len) (within one block) if the cache holds it: 1;
// 0 if it does not; -1 if it was asked of the source before and is
// unreadable.
static int from_cache(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
	size_t off = addr & (BLOCK_SIZE - 1);
	struct block *b = lookup_slot(mem->slots, mem->nslots, addr >> BLOCK_SHIFT);
	if (b->number != addr >> BLOCK_SHIFT)
		return 0;
	uint16_t need = pages_of(off, len);
	if (b->data && (b->valid & need) == need) {
		memcpy(buf, b->data + off, len);
		b->ref = true;
		return 1;
	}
	return !b->evicted && (b->tried & need) == need ? -1 : 0;
}

bool ph_mem_peek(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
#define PEEK(m) ph_mem_peek(m, addr, buf, len)
	VIEW_CALL(mem, bool, PEEK);
#undef PEEK
	size_t off = addr & (BLOCK_SIZE - 1);
	if (!mem->limit || !len || off + len > BLOCK_SIZE)
		return ph_mem_read(mem, addr, buf, len);
	// From a block the cache holds, else from the source, leaving the cache
	// as it is: its room is for what objects span when they are walked.
	int c = from_cache(mem, addr, buf, len);
	if (c) {
		if (c < 0)
			mem->stats.faults++;
		return c > 0;
	}
	mem->stats.peeks++;
	if (source_read(mem, addr, buf, len) == (long)len)
		return true;
	mem->stats.faults++;
	return false;
}

bool ph_mem_peek_range(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
	// (In pieces within a block each: ph_mem_peek() reads, and fills the
	// cache with, a range that crosses one.)
	uint8_t *out = buf;
	while (len) {
		size_t room = BLOCK_SIZE - (size_t)(addr & (BLOCK_SIZE - 1));
		size_t n = len < room ? len : room;
		if (!ph_mem_peek(mem, addr, out, n))
			return false;
		addr += n;
		out += n;
		len -= n;
	}
	return true;
}

static void peek_spans(struct ph_mem *mem, const struct ph_mem_iov *batch, const size_t *where,
		       size_t m, bool *ok);

void ph_mem_peekv(struct ph_mem *mem, const struct ph_mem_iov *iov, size_t n, bool *ok)
{
	if (mem->core) {
		struct ph_mem *core = view_enter(mem);
		ph_mem_peekv(core, iov, n, ok);
		view_leave(core);
		return;
	}
	struct ph_mem_iov batch[PH_MEM_PEEKV_MAX];
	size_t where[PH_MEM_PEEKV_MAX], m = 0;
	for (size_t i = 0; i < n; i++) {
		ok[i] = false;
		size_t off = iov[i].addr & (BLOCK_SIZE - 1);
		if (!iov[i].len || off + iov[i].len > BLOCK_SIZE) {
			ok[i] = ph_mem_read(mem, iov[i].addr, iov[i].buf, iov[i].len);
			continue;
		}
		int c = mem->limit ? from_cache(mem, iov[i].addr, iov[i].buf, iov[i].len) : 0;
		if (c) {
			ok[i] = c > 0;
			if (c < 0)
				mem->stats.faults++;
		} else if (!mem->limit) {
			ok[i] = ph_mem_read(mem, iov[i].addr, iov[i].buf, iov[i].len);
		} else if (m < PH_MEM_PEEKV_MAX) {
			where[m] = i;
			batch[m++] = iov[i];
		} else {
			ok[i] = ph_mem_peek(mem, iov[i].addr, iov[i].buf, iov[i].len);
		}
	}
	peek_spans(mem, batch, where, m, ok);
}

// The ranges of @batch (@m of them, each within a block; @where: their
// places in @ok) from the source in vectored calls; after one that stops
// short, the range it stopped in alone, then on with the rest.
static void peek_each(struct ph_mem *mem, const struct ph_mem_iov *batch, const size_t *where,
		      size_t m, bool *ok)
{
	for (size_t k = 0; k < m && !mem->gone;) {
		long got = mem->src.readv ? mem->src.readv(mem->src.arg, batch + k, m - k) : -ENOSYS;
		if (mem->src.readv) {
			mem->stats.source_calls++;
			mem->stats.peeks++;
		}
		if (got == -ESRCH)
			mem->gone = true;
		uint64_t left = got > 0 ? (uint64_t)got : 0;
		mem->stats.bytes_read += left;
		for (; k < m && left >= batch[k].len; k++) {
			left -= batch[k].len;
			ok[where[k]] = true;
		}
		if (k < m) {
			mem->stats.peeks++;
			ok[where[k]] = source_read(mem, batch[k].addr, batch[k].buf, batch[k].len) ==
				       (long)batch[k].len;
			if (!ok[where[k]])
				mem->stats.faults++;
			k++;
		}
	}
}

// Ranges asked for at once that lie in one page of the target are read as
// one span (from the first to the last byte of them) into mem->spans, and
// copied out from there: the kernel pins a page per range, and the headers
// a walk asks for at once share pages (1M objects within 16 MiB: 546k
// ranges in 45k pages; within a page, reading what lies between them costs
// less than a range of its own).
enum { PEEK_SPANS = 128 << 10, PEEK_TABLE = 2 * PH_MEM_PEEKV_MAX };

// peek_each() by spans (see above).
static void peek_spans(struct ph_mem *mem, const struct ph_mem_iov *batch, const size_t *where,
		       size_t m, bool *ok)
{
	if (m < 2 || (!mem->spans && !(mem->spans = malloc(PEEK_SPANS)))) {
		peek_each(mem, batch, where, m, ok);
		return;
	}
	// Each range's span: those within a page by the page, through a table
	// of pages (span index + 1); a range across pages is a span alone.
	uint16_t table[PEEK_TABLE] = {0};
	uint16_t of[PH_MEM_PEEKV_MAX];
	uint64_t lo[PH_MEM_PEEKV_MAX], hi[PH_MEM_PEEKV_MAX];
	size_t ns = 0;
	for (size_t i = 0; i < m; i++) {
		uint64_t a = batch[i].addr, e = a + batch[i].len, page = a >> PAGE_SHIFT;
		size_t k = ns;
		if (page == (e - 1) >> PAGE_SHIFT) {
			size_t h = (size_t)(page * 0x9e3779b97f4a7c15ull >> 40) & (PEEK_TABLE - 1);
			while (table[h] && lo[table[h] - 1] >> PAGE_SHIFT != page)
				h = (h + 1) & (PEEK_TABLE - 1);
			if (table[h])
				k = table[h] - 1;
			else
				table[h] = (uint16_t)(ns + 1);
		}
		if (k == ns) {
			lo[ns] = a;
			hi[ns++] = e;
		} else {
			lo[k] = a < lo[k] ? a : lo[k];
			hi[k] = e > hi[k] ? e : hi[k];
		}
		of[i] = (uint16_t)k;
	}
	// The spans, as many at a time as mem->spans holds (each at most a
	// block), read as peek_each() does; the ranges copied out of those read
	// (a span not read lies in one page, or is one range: unreadable, so is
	// each of its ranges).
	struct ph_mem_iov span[PH_MEM_PEEKV_MAX];
	size_t at[PH_MEM_PEEKV_MAX], off[PH_MEM_PEEKV_MAX];
	bool read[PH_MEM_PEEKV_MAX];
	for (size_t k0 = 0; k0 < ns && !mem->gone;) {
		size_t k1 = k0, used = 0;
		for (; k1 < ns && used + (hi[k1] - lo[k1]) <= PEEK_SPANS; k1++) {
			span[k1 - k0] = (struct ph_mem_iov){lo[k1], mem->spans + used, hi[k1] - lo[k1]};
			at[k1 - k0] = k1 - k0;
			read[k1 - k0] = false;
			off[k1] = used;
			used += hi[k1] - lo[k1];
		}
		peek_each(mem, span, at, k1 - k0, read);
		size_t unread = 0;
		for (size_t k = k0; k < k1; k++)
			unread += !read[k - k0];
		for (size_t i = 0; i < m; i++) {
			size_t k = of[i];
			if (k < k0 || k >= k1)
				continue;
			if (read[k - k0]) {
				memcpy(batch[i].buf, mem->spans + off[k] + (batch[i].addr - lo[k]), batch[i].len);
				ok[where[i]] = true;
			} else if (!mem->gone) {
				mem->stats.faults++;
			}
		}
		// (peek_each() counted each span not read once.)
		if (!mem->gone)
			mem->stats.faults -= unread;
		k0 = k1;
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Ranges and bytes per vectored read: the deadline is checked between reads,
 * so 2 MiB (a fraction of a millisecond) is as far as it can be passed. */
enum { PREFETCH_BATCH = 512, PREFETCH_BYTES = 2 << 20 };

// One request per run of pages of one block that a range covers.
struct req {
	struct block *b;
	unsigned first, count;
};

/* Above this, a prefetch copies on two threads (process_vm_readv copies
 * about twice as fast from two cores). */
enum { FETCH_SPLIT_BYTES = 1 << 20 };

// The reads of requests [from, to): its own counters; only the blocks of its
// requests are written (their data, valid and tried bits).
struct fetch_job {
	struct ph_mem *mem;
	struct req *reqs;
	size_t from, to;
	uint64_t deadline_ns;
	atomic_bool *gone;
	uint64_t calls, bytes;
	bool incomplete;
	pthread_t thread;
};

static long job_read(struct fetch_job *j, uint64_t addr, void *buf, size_t len)
{
	j->calls++;
	long n = j->mem->src.read(j->mem->src.arg, addr, buf, len);
	if (n == -ESRCH)
		atomic_store(j->gone, true);
	return n;
}

static void fetch_part(struct fetch_job *j)
{
	struct ph_mem *mem = j->mem;
	struct req *reqs = j->reqs;
	for (size_t i = j->from; i < j->to;) {
		if ((j->deadline_ns && now_ns() > j->deadline_ns) || atomic_load(j->gone)) {
			j->incomplete = true;
			// Not fetched: let later reads ask for these pages one by one.
			for (; i < j->to; i++)
				for (unsigned k = 0; k < reqs[i].count; k++)
					reqs[i].b->tried &= (uint16_t)~(1u << (reqs[i].first + k));
			break;
		}
		struct ph_mem_iov iov[PREFETCH_BATCH];
		size_t m = 0, bytes = 0;
		for (; m < PREFETCH_BATCH && i + m < j->to && (!m || bytes < PREFETCH_BYTES); m++) {
			struct req *q = &reqs[i + m];
			bytes += (size_t)q->count * PAGE_SIZE;
			iov[m] = (struct ph_mem_iov){(q->b->number << BLOCK_SHIFT) + (uint64_t)q->first * PAGE_SIZE,
						    q->b->data + (size_t)q->first * PAGE_SIZE,
						    (size_t)q->count * PAGE_SIZE};
		}
		long got = mem->src.readv ? mem->src.readv(mem->src.arg, iov, m) : -ENOSYS;
		j->calls++;
		if (got == -ESRCH)
			atomic_store(j->gone, true);
		uint64_t left = got > 0 ? (uint64_t)got : 0;
		j->bytes += left;
		size_t k = 0;
		for (; k < m && left >= iov[k].len; k++) {
			left -= iov[k].len;
			for (unsigned p = 0; p < reqs[i + k].count; p++)
				reqs[i + k].b->valid |= (uint16_t)(1u << (reqs[i + k].first + p));
		}
		if (k < m) {
			// The first range that failed: page by page; go on after it.
			struct req *q = &reqs[i + k];
			uint64_t base = q->b->number << BLOCK_SHIFT;
			for (unsigned p = q->first; p < q->first + q->count && !atomic_load(j->gone); p++) {
				if (job_read(j, base + (uint64_t)p * PAGE_SIZE,
					     q->b->data + (size_t)p * PAGE_SIZE, PAGE_SIZE) == PAGE_SIZE) {
					q->b->valid |= (uint16_t)(1u << p);
					j->bytes += PAGE_SIZE;
				}
			}
			k++;
		}
		i += k;
	}
}

static void *fetch_thread(void *arg)
{
	fetch_part(arg);
	return NULL;
}

uint64_t ph_mem_prefetch(struct ph_mem *mem, const struct ph_mem_range *ranges, size_t n,
			 uint64_t deadline_ns, uint64_t max_bytes, bool *complete)
{
	struct req *reqs = NULL;
	size_t nreqs = 0, capreqs = 0;
	uint64_t planned = 0, copied = 0;
	*complete = true;
	// Size the table first: requests hold pointers into it.
	uint64_t nblocks = 0;
	for (size_t r = 0; r < n; r++)
		if (ranges[r].end > ranges[r].start)
			nblocks += ((ranges[r].end - 1) >> BLOCK_SHIFT) - (ranges[r].start >> BLOCK_SHIFT) + 1;
	if (max_bytes && nblocks > max_bytes / BLOCK_SIZE + 2 * n)
		nblocks = max_bytes / BLOCK_SIZE + 2 * n;
	while ((mem->nused + nblocks + 1) * 2 > mem->nslots)
		if (!grow(mem)) {
			*complete = false;
			return 0;
		}
	for (size_t r = 0; r < n; r++) {
		uint64_t start = ranges[r].start & ~(uint64_t)(PAGE_SIZE - 1);
		uint64_t end = (ranges[r].end + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
		for (uint64_t a = start; a < end;) {
			uint64_t bn = a >> BLOCK_SHIFT;
			uint64_t bend = (bn + 1) << BLOCK_SHIFT;
			uint64_t e = end < bend ? end : bend;
			if (max_bytes && planned + (e - a) > max_bytes) {
				*complete = false;
				goto fetch;
			}
			if ((mem->nused + 1) * 2 > mem->nslots) {
				*complete = false;
				goto fetch;
			}
			struct block *b = lookup_slot(mem->slots, mem->nslots, bn);
			if (b->number == UINT64_MAX) {
				b->number = bn;
				block_alloc(mem, b);
				b->valid = b->tried = 0;
				mem->nused++;
				mem->stats.blocks++;
				set_last(mem, NULL);
			}
			unsigned p0 = (unsigned)((a - (bn << BLOCK_SHIFT)) >> PAGE_SHIFT);
			unsigned p1 = (unsigned)((e - (bn << BLOCK_SHIFT)) >> PAGE_SHIFT);
			if (b->data) {
				for (unsigned p = p0; p < p1;) {
					if (b->tried & (1u << p)) {
						p++;
						continue;
					}
					unsigned q = p;
					while (q < p1 && !(b->tried & (1u << q)))
						q++;
					if (nreqs == capreqs) {
						size_t nc = capreqs ? capreqs * 2 : 1024;
						struct req *nr = reallocarray(reqs, nc, sizeof(*nr));
						if (!nr) {
							*complete = false;
							goto fetch;
						}
						reqs = nr;
						capreqs = nc;
					}
					reqs[nreqs++] = (struct req){b, p, q - p};
					for (unsigned k = p; k < q; k++)
						b->tried |= (uint16_t)(1u << k);
					planned += (uint64_t)(q - p) * PAGE_SIZE;
					p = q;
				}
			}
			a = e;
		}
	}
fetch:
	// In two halves on two threads when there is enough to copy (the
	// halves split at a block: each block's bits are written by one thread).
	{
		struct fetch_job jobs[2] = {{.mem = mem, .reqs = reqs, .from = 0, .to = nreqs,
					     .deadline_ns = deadline_ns}};
		atomic_bool gone;
		atomic_init(&gone, mem->gone);
		jobs[0].gone = &gone;
		size_t mid = 0;
		if (planned >= FETCH_SPLIT_BYTES && ph_cpus() >= 2) {
			uint64_t acc = 0;
			while (mid < nreqs && acc < planned / 2)
				acc += (uint64_t)reqs[mid++].count * PAGE_SIZE;
			while (mid > 0 && mid < nreqs && reqs[mid].b == reqs[mid - 1].b)
				mid++;
		}
		bool threaded = false;
		if (mid > 0 && mid < nreqs) {
			jobs[1] = jobs[0];
			jobs[0].to = mid;
			jobs[1].from = mid;
			threaded = ph_thread_start(&jobs[1].thread, fetch_thread, &jobs[1]);
			if (!threaded)
				jobs[0].to = nreqs;
		}
		fetch_part(&jobs[0]);
		if (threaded)
			pthread_join(jobs[1].thread, NULL);
		for (int j = 0; j < (threaded ? 2 : 1); j++) {
			mem->stats.source_calls += jobs[j].calls;
			mem->stats.bytes_read += jobs[j].bytes;
			copied += jobs[j].bytes;
			if (jobs[j].incomplete)
				*complete = false;
		}
		mem->gone = atomic_load(&gone);
	}
	free(reqs);
	mem->stats.copied += copied;
	return copied;
}

bool ph_mem_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
#define READ(m) ph_mem_read(m, addr, buf, len)
	VIEW_CALL(mem, bool, READ);
#undef READ
	uint8_t *out = buf;
	if (len == 0)
		return true;
	if (addr + len < addr) {
		mem->stats.faults++;
		return false;
	}
	while (len) {
		struct block *b = get_block(mem, addr >> BLOCK_SHIFT);
		size_t off = addr & (BLOCK_SIZE - 1);
		size_t n = BLOCK_SIZE - off;
		if (n > len)
			n = len;
		if (!b)
			goto fault;
		uint16_t need = pages_of(off, n);
		if ((b->valid & need) != need) {
			fill_pages(mem, b, need);
			if ((b->valid & need) != need)
				goto fault;
		}
		if (mem->track)
			mark_touched(mem, b, off, n);
		memcpy(out, b->data + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return true;
fault:
	mem->stats.faults++;
	return false;
}

bool ph_mem_string(struct ph_mem *mem, uint64_t addr, char *buf, size_t cap)
{
	size_t i = 0;
	while (i + 1 < cap) {
		// Read up to the end of the current page in one go.
		size_t chunk = PAGE_SIZE - (size_t)((addr + i) & (PAGE_SIZE - 1));
		if (chunk > cap - 1 - i)
			chunk = cap - 1 - i;
		if (!ph_mem_read(mem, addr + i, buf + i, chunk))
			return false;
		char *nul = memchr(buf + i, '\0', chunk);
		if (nul)
			return true;
		i += chunk;
	}
	buf[cap - 1] = '\0';
	return false;
}

bool ph_mem_target_gone(const struct ph_mem *mem)
{
	return (mem->core ? mem->core : mem)->gone;
}

void ph_mem_get_stats(const struct ph_mem *mem, struct ph_mem_stats *ret)
{
	*ret = (mem->core ? mem->core : mem)->stats;
}

void ph_mem_track_reads(struct ph_mem *mem)
{
	mem->track = true;
	set_last(mem, mem->last);
}

void ph_mem_foreach_block(const struct ph_mem *mem,
			  void (*fn)(void *arg, uint64_t addr, const void *data, size_t len,
				     const uint64_t *lines),
			  void *arg)
{
	bool lines = mem->track && !mem->track_failed;
	for (size_t i = 0; i < mem->nslots; i++) {
		const struct block *b = &mem->slots[i];
		if (b->number == UINT64_MAX || !b->data || (lines && !b->touched))
			continue;
		uint64_t base = b->number << BLOCK_SHIFT;
		for (unsigned p = 0; p < PAGES_PER_BLOCK;) {
			if (!(b->valid & (1u << p)) || (lines && !b->touched[p])) {
				p++;
				continue;
			}
			unsigned q = p;
			while (q < PAGES_PER_BLOCK && (b->valid & (1u << q)) &&
			       (!lines || b->touched[q]))
				q++;
			fn(arg, base + (uint64_t)p * PAGE_SIZE, b->data + (size_t)p * PAGE_SIZE,
			   (size_t)(q - p) * PAGE_SIZE, lines ? &b->touched[p] : NULL);
			p = q;
		}
	}
}

struct ph_error *ph_mem_view_create(struct ph_mem *core, struct ph_mem **ret)
{
	if (core->core || core->limit || core->track)
		return ph_error_create(PH_ERR_OTHER, "a view of a view, or of a cache with a "
				       "limit or tracked reads");
	if (!core->has_lock) {
		if (pthread_mutex_init(&core->lock, NULL))
			return &ph_error_nomem;
		core->has_lock = true;
	}
	struct ph_mem *v = calloc(1, sizeof(*v));
	if (!v)
		return &ph_error_nomem;
	v->hot.tlb = calloc(PH_MEM_TLB_SIZE, sizeof(*v->hot.tlb));
	if (!v->hot.tlb) {
		free(v);
		return &ph_error_nomem;
	}
	v->own_tlb = v->hot.tlb;
	v->core = core;
	*ret = v;
	return NULL;
}

long ph_buffer_source_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct ph_buffer_source *src = arg;
	size_t done = 0;
	while (done < len) {
		// (By bisection: a fuzzer's dump has many segments, and under its
		// instrumentation a scan cost more than the walk.)
		uint64_t a = addr + done;
		size_t lo = 0, hi = src->nsegments;
		const struct ph_buffer_segment *seg = NULL;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct ph_buffer_segment *s = &src->segments[mid];
			if (a < s->address) {
				hi = mid;
			} else if (a - s->address >= s->size) {
				lo = mid + 1;
			} else {
				seg = s;
				break;
			}
		}
		if (!seg)
			break;
		size_t off = (size_t)(a - seg->address);
		size_t n = seg->size - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, (const uint8_t *)seg->data + off, n);
		done += n;
	}
	return done ? (long)done : -EFAULT;
}
