/* SPDX-License-Identifier: MIT */
/*
 * tracemalloc's traces read over the byte-buffer source: a hand-made
 * runtime (3.12's table layout), hash table, traces, tracebacks and file
 * names; the objects of a snapshot get their tracebacks. Then garbage: a
 * bucket list that loops, a count past any bound, a traceback without
 * frames, tracing off; and 300 tracebacks (the tables grow).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpython_private.h"
#include "tables.h"
#include "tracemalloc.h"

enum {
	RUNTIME = 0x10000000,
	HEAP = 0x20000000,
	HEAP_SIZE = 1 << 20,
	NOBJ = 400,
};

static uint8_t runtime[16384], heap[HEAP_SIZE];
static struct ph_python py;

static void put64(uint64_t addr, uint64_t v)
{
	uint8_t *p = addr >= HEAP ? heap + (addr - HEAP) : runtime + (addr - RUNTIME);
	memcpy(p, &v, 8);
}

static void put32(uint64_t addr, uint32_t v)
{
	uint8_t *p = addr >= HEAP ? heap + (addr - HEAP) : runtime + (addr - RUNTIME);
	memcpy(p, &v, 4);
}

// A compact ASCII str at @addr.
static void make_str(uint64_t addr, const char *s)
{
	const struct ph_layout *L = &py.L;
	put64(addr, 1);
	put64(addr + (uint64_t)L->ascii_length, strlen(s));
	put32(addr + (uint64_t)L->ascii_state, (1u << 2) | (1u << 5) | (1u << 6));
	memcpy(heap + (addr - HEAP) + L->ascii_sizeof, s, strlen(s) + 1);
}

// A traceback at @addr: @n frames of file @file, lines @line, @line + 1...
static void make_traceback(uint64_t addr, uint16_t n, uint16_t total, uint64_t file, uint32_t line)
{
	put64(addr, 0x1234);
	uint16_t nf[2] = {n, total};
	memcpy(heap + (addr - HEAP) + 8, nf, 4);
	for (uint16_t i = 0; i < n; i++) {
		put64(addr + 12 + i * 12u, file);
		put32(addr + 20 + i * 12u, line + i);
	}
}

static uint64_t pre16(void *arg, size_t i)
{
	(void)arg;
	return i % 2 ? 16 : 0; // (odd objects: a GC header before them)
}

static struct ph_snapshot *read_with(void)
{
	struct ph_buffer_segment segs[] = {{RUNTIME, runtime, sizeof(runtime)},
					   {HEAP, heap, sizeof(heap)}};
	struct ph_buffer_source bs = {segs, 2};
	struct ph_mem_source src = {.read = ph_buffer_source_read, .arg = &bs};
	struct ph_mem *mem;
	if (ph_mem_create(&src, &mem))
		return NULL;
	struct ph_snapshot *s = ph_snapshot_create();
	s->nobjects = NOBJ;
	s->objects = calloc(NOBJ, sizeof(*s->objects));
	for (size_t i = 0; i < NOBJ; i++)
		s->objects[i].address = HEAP + 0x80000 + i * 64 + pre16(NULL, i);
	CHECK(ph_python_read_tracemalloc(&py, mem, s, pre16, NULL));
	ph_mem_destroy(mem);
	return s;
}

// The table: buckets of 8, entry i for object i (i < ntraced), its
// traceback one of @ntb; returns the table's address.
enum { TABLE = HEAP + 0x1000, BUCKETS = HEAP + 0x1100, ENTRIES = HEAP + 0x2000,
       TRACES = HEAP + 0x10000, TBS = HEAP + 0x20000, FILE_STR = HEAP + 0x7f000 };

static void make_table(size_t ntraced, size_t ntb)
{
	memset(heap, 0, sizeof(heap));
	make_str(FILE_STR, "/srv/app/handlers.py");
	put64(TABLE, ntraced);
	put64(TABLE + 8, 8);
	put64(TABLE + 16, BUCKETS);
	for (size_t i = 0; i < 8; i++)
		put64(BUCKETS + i * 8, 0);
	for (size_t i = 0; i < ntraced; i++) {
		uint64_t e = ENTRIES + i * 32, t = TRACES + i * 16, tb = TBS + (i % ntb) * 64;
		size_t b = i % 8;
		uint64_t head;
		memcpy(&head, heap + (BUCKETS - HEAP) + b * 8, 8);
		put64(e, head); // (pushed at the head of its bucket's list)
		put64(e + 8, i);
		put64(e + 16, HEAP + 0x80000 + i * 64); // the block: the object less its pre
		put64(e + 24, t);
		put64(BUCKETS + b * 8, e);
		put64(t, 64);
		put64(t + 8, tb);
		make_traceback(tb, 2, 3, FILE_STR, 40 + (uint32_t)(i % ntb) * 10);
	}
	const struct ph_layout *L = &py.L;
	put32(RUNTIME + (uint64_t)L->rt_tracemalloc, 1);     // initialized
	put32(RUNTIME + (uint64_t)L->rt_tracemalloc + 4, 1); // tracing
	put64(RUNTIME + (uint64_t)L->rt_tracemalloc_traces, TABLE);
}

int main(void)
{
	const struct ph_table *t = ph_table_for_version(0x030c01f0);
	CHECK(t != NULL);
	if (!t)
		return CHECK_DONE();
	py.major = 3;
	py.minor = 12;
	py.L = t->layout;
	py.sym[SYM_PyRuntime] = RUNTIME;
	CHECK(py.L.rt_tracemalloc > 0 && py.L.rt_tracemalloc_traces + 8 <= (int)sizeof(runtime));

	// 300 of 400 objects traced, at 2 tracebacks.
	make_table(300, 2);
	struct ph_snapshot *s = read_with();
	CHECK(s && s->tracemalloc.known && s->tracemalloc.traces == 300 && !s->tracemalloc.unreadable);
	CHECK(s && s->nsites == 2 && s->nsite_files == 1 &&
	      !strcmp(s->site_files[0], "/srv/app/handlers.py"));
	size_t traced = 0;
	for (size_t i = 0; s && i < NOBJ; i++) {
		traced += s->object_site[i] != 0;
		if (i < 300 && s->object_site[i]) {
			const struct ph_alloc_site *a = &s->sites[s->object_site[i] - 1];
			const struct ph_alloc_frame *f = &s->site_frames[a->frame_start];
			CHECK(a->nframes == 2 && a->total_nframes == 3 &&
			      f[0].lineno == 40 + (i % 2) * 10 && f[1].lineno == f[0].lineno + 1);
		}
	}
	CHECK(traced == 300);
	ph_snapshot_destroy(s);

	// 300 tracebacks: the tables grow past their first sizes.
	make_table(300, 300);
	s = read_with();
	CHECK(s && s->tracemalloc.known && s->nsites == 300);
	ph_snapshot_destroy(s);

	// A bucket list that loops: bounded by the count, counted.
	make_table(100, 2);
	put64(ENTRIES + 99 * 32, ENTRIES + 99 * 32);
	s = read_with();
	CHECK(s && s->tracemalloc.unreadable >= 1 && s->tracemalloc.traces <= 100);
	ph_snapshot_destroy(s);

	// A count past any bound: nothing read, counted.
	make_table(10, 2);
	put64(TABLE, 1ull << 40);
	s = read_with();
	CHECK(s && !s->tracemalloc.known && s->tracemalloc.unreadable == 1 && !s->nsites);
	ph_snapshot_destroy(s);

	// A traceback without frames: its objects untraced, counted once.
	make_table(10, 2);
	make_traceback(TBS, 0, 0, FILE_STR, 1);
	s = read_with();
	CHECK(s && s->tracemalloc.known && s->nsites == 1 && s->tracemalloc.unreadable == 1);
	for (size_t i = 0; s && i < 10; i++)
		CHECK((s->object_site[i] != 0) == (i % 2 == 1));
	ph_snapshot_destroy(s);

	// Tracing off: nothing.
	make_table(10, 2);
	put32(RUNTIME + (uint64_t)py.L.rt_tracemalloc + 4, 0);
	s = read_with();
	CHECK(s && !s->tracemalloc.known && !s->object_site);
	ph_snapshot_destroy(s);
	return CHECK_DONE();
}
