/* SPDX-License-Identifier: MIT */
/* The block cache over a byte-buffer source: reads within and across blocks,
 * holes, strings, statistics; a bounded cache (drops blocks at safe points,
 * reads them again, peeks past a full cache). */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mem.h"
#include "cgroup.h"

/* A heap of @n words at @base, each word its own address, behind a cache. */
struct words_heap {
	struct ph_buffer_segment seg;
	struct ph_buffer_source bs;
	struct ph_mem *mem;
};

static void words_heap_init(struct words_heap *h, uint64_t *words, size_t n, uint64_t base,
			    long (*readv)(void *, const struct ph_mem_iov *, size_t))
{
	for (size_t i = 0; i < n; i++)
		words[i] = base + 8 * i;
	h->seg = (struct ph_buffer_segment){base, words, n * 8};
	h->bs = (struct ph_buffer_source){&h->seg, 1};
	struct ph_mem_source src = {ph_buffer_source_read, &h->bs, readv};
	h->mem = NULL;
	CHECK(ph_mem_create(&src, &h->mem) == NULL);
}

/* 40 blocks of 64 KiB, each word its own address; a cache bounded to 4
 * blocks reads them all, again and again, and stays within the bound at every
 * safe point. */
static void test_bounded(void)
{
	enum { NBLOCKS = 40 };
	static uint64_t words[NBLOCKS * 65536 / 8];
	const uint64_t base = 0x7f0000000000ull;
	struct words_heap h;
	words_heap_init(&h, words, sizeof(words) / 8, base, NULL);
	struct ph_mem *mem = h.mem;
	if (!mem)
		return;
	CHECK(!ph_mem_limited(mem));
	ph_mem_set_limit(mem, 4 * 65536);
	CHECK(ph_mem_limited(mem));
	struct ph_mem_stats st;
	bool all_ok = true;
	for (int round = 0; round < 3; round++) {
		for (uint64_t blk = 0; blk < NBLOCKS; blk++) {
			// An object's own reads (pointers held until the safe point) ...
			uint64_t a = base + blk * 65536 + 4096 * (blk % 16) + 8 * (uint64_t)round;
			const uint64_t *p = ph_mem_ptr_fast(mem, a, 16);
			all_ok = all_ok && p && p[0] == a && p[1] == a + 8;
			// ... and headers of objects it refers to, far away.
			uint64_t h = base + ((blk * 7 + 3) % NBLOCKS) * 65536 + 16 * blk, v[2];
			all_ok = all_ok && ph_mem_peek(mem, h, v, sizeof(v)) && v[0] == h && v[1] == h + 8;
			all_ok = all_ok && p[0] == a; // still valid before the safe point
			ph_mem_safe_point(mem);
			ph_mem_get_stats(mem, &st);
			all_ok = all_ok && st.peak_blocks <= 4 + 2;
		}
	}
	CHECK(all_ok);
	ph_mem_get_stats(mem, &st);
	CHECK(st.peak_blocks <= 6);
	CHECK(st.evicted > 0);
	CHECK(st.peeks > 0);
	CHECK(st.bytes_read > NBLOCKS * 65536); // pages read again after their block was dropped
	// Unreadable memory stays unreadable through a full cache.
	uint64_t v;
	CHECK(!ph_mem_peek(mem, base - 16, &v, sizeof(v)));
	CHECK(!ph_mem_peek(mem, base + sizeof(words), &v, sizeof(v)));
	CHECK(!ph_mem_read(mem, base + sizeof(words), &v, sizeof(v)));
	// A read across blocks still works.
	uint64_t two[2];
	CHECK(ph_mem_read(mem, base + 65536 - 8, two, sizeof(two)));
	CHECK(two[0] == base + 65536 - 8 && two[1] == base + 65536);
	ph_mem_destroy(mem);
}

/* A vectored read over the buffer source: in order, stopping at the first
 * unreadable byte (as process_vm_readv does). */
static int readv_calls;
static size_t readv_most; // the most ranges one call was given
static long buffer_readv(void *arg, const struct ph_mem_iov *iov, size_t n)
{
	readv_calls++;
	if (n > readv_most)
		readv_most = n;
	long total = 0;
	for (size_t i = 0; i < n; i++) {
		long got = ph_buffer_source_read(arg, iov[i].addr, iov[i].buf, iov[i].len);
		if (got > 0)
			total += got;
		if (got != (long)iov[i].len)
			return total ? total : got;
	}
	return total;
}

/* ph_mem_peekv(): cached ranges from the cache, the others in vectored
 * calls, an unreadable one in the middle skipped. */
static void test_peekv(void)
{
	static uint64_t words[4 * 65536 / 8];
	const uint64_t base = 0x7e0000000000ull;
	struct words_heap h;
	words_heap_init(&h, words, sizeof(words) / 8, base, buffer_readv);
	struct ph_mem *mem = h.mem;
	if (!mem)
		return;
	ph_mem_set_limit(mem, 65536);
	uint64_t v;
	CHECK(ph_mem_read(mem, base + 8, &v, 8) && v == base + 8); // block 0 cached
	enum { N = 6 };
	uint64_t addrs[N] = {base + 16, base + 65536 + 32, base + 4 * 65536 + 16 /* past the end */,
			     base + 2 * 65536 + 48, base + 16 * 65536 /* far away */, base + 3 * 65536};
	uint64_t out[N][2];
	struct ph_mem_iov iov[N];
	bool ok[N];
	for (int i = 0; i < N; i++)
		iov[i] = (struct ph_mem_iov){addrs[i], out[i], 16};
	readv_calls = 0;
	ph_mem_peekv(mem, iov, N, ok);
	for (int i = 0; i < N; i++) {
		bool readable = addrs[i] < base + sizeof(words);
		CHECK(ok[i] == readable);
		if (ok[i])
			CHECK(out[i][0] == addrs[i] && out[i][1] == addrs[i] + 8);
	}
	CHECK(readv_calls >= 1 && readv_calls <= 3);
	struct ph_mem_stats st;
	ph_mem_get_stats(mem, &st);
	CHECK(st.peak_blocks == 1); // nothing entered the cache
	ph_mem_destroy(mem);
}

/* ph_mem_peekv() with a limit: the ranges in one page read as one span,
 * each copied out of it (duplicates and overlaps too); a range across two
 * pages alone; the ranges of an unreadable page all unreadable, and counted
 * as such, the others read. */
static void test_peekv_spans(void)
{
	static uint64_t words[4 * 65536 / 8];
	const uint64_t base = 0x7d0000000000ull, end = base + sizeof(words);
	struct words_heap h;
	words_heap_init(&h, words, sizeof(words) / 8, base, buffer_readv);
	struct ph_mem *mem = h.mem;
	if (!mem)
		return;
	ph_mem_set_limit(mem, 65536);
	enum { N = 12 };
	const uint64_t p1 = base + 65536, p2 = base + 2 * 65536 + 3 * 4096;
	uint64_t addrs[N] = {
		p1 + 4000, p1 + 16, p1 + 2048, p1 + 16, p1 + 24, // one page (a duplicate, an overlap)
		p2 + 4064, p2, p2 + 512,                         // another
		end + 32, end + 64,                              // an unreadable page
		end + 8 * 4096,                                  // another one
		p1 + 3 * 4096 + 4088,                            // across two pages
	};
	uint64_t out[N][2];
	struct ph_mem_iov iov[N];
	bool ok[N];
	for (int i = 0; i < N; i++)
		iov[i] = (struct ph_mem_iov){addrs[i], out[i], 16};
	readv_calls = 0;
	readv_most = 0;
	ph_mem_peekv(mem, iov, N, ok);
	for (int i = 0; i < N; i++) {
		bool readable = addrs[i] < end;
		CHECK(ok[i] == readable);
		if (ok[i])
			CHECK(out[i][0] == addrs[i] && out[i][1] == addrs[i] + 8);
	}
	CHECK(readv_most == 5); // two spans, two unreadable pages, the range across pages
	struct ph_mem_stats st;
	ph_mem_get_stats(mem, &st);
	CHECK(st.faults == 3);
	CHECK(st.peak_blocks == 0); // nothing entered the cache
	ph_mem_destroy(mem);
}

/* ph_mem_read_ahead(): with a limit, blocks read on another thread before
 * they are used, each word what it should be, the cache within its limit;
 * blocks asked for and never used, and an unreadable one, change nothing. */
static void test_read_ahead(void)
{
	enum { NBLOCKS = 80, LIMIT = 64 };
	static uint64_t words[NBLOCKS * 65536 / 8];
	const uint64_t base = 0x7c0000000000ull;
	struct words_heap h;
	words_heap_init(&h, words, sizeof(words) / 8, base, NULL);
	struct ph_mem *mem = h.mem;
	if (!mem)
		return;
	ph_mem_set_limit(mem, LIMIT * 65536);
	bool all_ok = true;
	for (int round = 0; round < 3; round++) {
		for (uint64_t blk = 0; blk < NBLOCKS; blk++) {
			// Ahead: three blocks on, one far away never used, one past the end.
			ph_mem_read_ahead(mem, base + ((blk + 3) % NBLOCKS) * 65536 + 8);
			if (blk % 7 == 0)
				ph_mem_read_ahead(mem, base + 1000 * 65536);
			if (blk % 11 == 0)
				ph_mem_read_ahead(mem, base + NBLOCKS * 65536);
			for (uint64_t off = 0; off < 65536; off += 4096 + 8) {
				uint64_t a = base + blk * 65536 + off, v = 0;
				all_ok = all_ok && ph_mem_read(mem, a, &v, 8) && v == a;
			}
			ph_mem_safe_point(mem);
		}
	}
	CHECK(all_ok);
	uint64_t v;
	CHECK(!ph_mem_read(mem, base + NBLOCKS * 65536, &v, 8));
	struct ph_mem_stats st;
	ph_mem_get_stats(mem, &st);
	CHECK(st.peak_blocks <= LIMIT);
	CHECK(st.evicted > 0);
	if (ph_cpus() >= 2)
		CHECK(st.read_ahead > NBLOCKS); // (one CPU: nothing read ahead)
	ph_mem_destroy(mem);
}

// ph_mem_cached() never reads from the source; ph_mem_block_bytes() counts
// the 64 KiB blocks a copy of ranges fills.
static void test_cached_and_blocks(const struct ph_mem_source *src, const uint8_t *a)
{
	struct ph_mem *mem;
	CHECK(ph_mem_create(src, &mem) == NULL);
	struct ph_mem_stats st;
	CHECK(ph_mem_cached(mem, 0x100010, 16) == NULL);
	CHECK(ph_mem_cached_fast(mem, 0x100010, 16) == NULL);
	ph_mem_get_stats(mem, &st);
	CHECK(st.source_calls == 0 && st.blocks == 0);
	uint8_t buf[16];
	CHECK(ph_mem_read(mem, 0x100010, buf, sizeof(buf)));
	ph_mem_get_stats(mem, &st);
	uint64_t calls = st.source_calls;
	const uint8_t *p = ph_mem_cached(mem, 0x100010, 16);
	CHECK(p && !memcmp(p, a + 0x10, 16));
	CHECK(ph_mem_cached_fast(mem, 0x100010, 16) == p);
	// Across a block's end, or in a block never read: NULL, still no read.
	CHECK(ph_mem_cached(mem, 0x10fff8, 16) == NULL);
	CHECK(ph_mem_cached(mem, 0x110000, 8) == NULL);
	ph_mem_get_stats(mem, &st);
	CHECK(st.source_calls == calls);
	// Tracked reads must go through ph_mem_read().
	ph_mem_track_reads(mem);
	CHECK(ph_mem_cached_fast(mem, 0x100010, 16) == NULL);
	ph_mem_destroy(mem);

	struct ph_mem_range r[] = {
		{0x100000, 0x102000}, /* block 0x10 */
		{0x10f000, 0x111000}, /* block 0x10 again, and 0x11 */
		{0x200000, 0x200000}, /* empty */
		{0x3ff000, 0x401000}, /* blocks 0x3f and 0x40 */
	};
	CHECK(ph_mem_block_bytes(r, 4) == 4 * 65536);
	CHECK(ph_mem_block_bytes(r, 0) == 0);
	CHECK(ph_mem_block_bytes(r + 1, 1) == 2 * 65536);
}

int main(void)
{
	// Two segments with a hole between them, the second crossing a 64 KiB
	// block boundary.
	static uint8_t a[8192], b[70000];
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 7);
	memcpy(b + 65530, "hello\0", 6);
	struct ph_buffer_segment segs[] = {
		{0x100000, a, sizeof(a)},
		{0x10f000, b, sizeof(b)}, /* crosses 0x110000 */
	};
	struct ph_buffer_source bs = {segs, 2};
	struct ph_mem_source src = {ph_buffer_source_read, &bs, NULL};
	struct ph_mem *mem;
	CHECK(ph_mem_create(&src, &mem) == NULL);

	uint64_t v;
	CHECK(ph_mem_u64(mem, 0x100008, &v));
	uint64_t want;
	memcpy(&want, a + 8, 8);
	CHECK(v == want);

	// A read across the block boundary inside the second segment.
	uint8_t buf[64];
	CHECK(ph_mem_read(mem, 0x10fff0 + 0x10 - 32, buf, 64));
	CHECK(!memcmp(buf, b + 0x1000 - 32, 64));

	// The hole between the segments, and a read that starts in the first
	// segment and runs into the hole.
	CHECK(!ph_mem_read(mem, 0x103000, buf, 8));
	CHECK(!ph_mem_read(mem, 0x100000 + sizeof(a) - 4, buf, 8));
	// Far away, and wrapping around the address space.
	CHECK(!ph_mem_read(mem, 0xdead0000000, buf, 8));
	CHECK(!ph_mem_read(mem, UINT64_MAX - 3, buf, 8));

	char s[32];
	CHECK(ph_mem_string(mem, 0x10f000 + 65530, s, sizeof(s)));
	CHECK(!strcmp(s, "hello"));
	// Not terminated within the capacity.
	memset(b + 100, 'x', 200);
	ph_mem_reset(mem);
	CHECK(!ph_mem_string(mem, 0x10f000 + 100, s, sizeof(s)));

	struct ph_mem_stats st;
	ph_mem_get_stats(mem, &st);
	CHECK(st.faults >= 4);
	CHECK(st.blocks >= 1);
	CHECK(!ph_mem_target_gone(mem));
	ph_mem_destroy(mem);
	ph_mem_destroy(NULL);
	test_bounded();
	test_peekv();
	test_peekv_spans();
	test_read_ahead();
	test_cached_and_blocks(&src, a);
	return CHECK_DONE();
}
