/* SPDX-License-Identifier: MIT */
/*
 * glibc's malloc, read from outside: what mallinfo2() counts (malloc.c,
 * int_mallinfo()), from each arena's struct malloc_state and its free
 * lists. Python objects over 512 bytes (the item arrays of long lists,
 * large dicts' tables, long strs and bytes) and C code's memory live there;
 * memory freed there stays with the process until malloc trims it.
 *
 * struct malloc_state is that of glibc 2.27 and later on 64-bit (its size,
 * 2200 bytes, is checked against main_arena's symbol): mutex, flags,
 * have_fastchunks, fastbinsY[10] at 16, top at 96, last_remainder, bins[254]
 * at 112, binmap[4], next at 2160, next_free, attached_threads,
 * system_mem at 2184, max_system_mem. A chunk: prev_size, size (low 3 bits
 * flags), fd at 16, bk at 24. From 2.32 a fast bin's fd is mangled (safe
 * linking): stored as (&fd >> 12) ^ fd.
 *
 * struct malloc_par (mp_), for the chunks mapped apart: its int n_mmaps and
 * INTERNAL_SIZE_T mmapped_mem are at 60 and 80 from 2.35 (136 bytes: the
 * huge page tunables before them), at 40 and 56 in 2.26-2.34 (112 bytes).
 */
#include "cmalloc.h"
#include "bytes.h"
#include "cpython_private.h"

#include <string.h>

enum {
	MS_SIZE = 2200,
	MS_FASTBINS = 16,
	NFASTBINS = 10,
	MS_TOP = 96,
	MS_BINS = 112,
	NBINS = 128,
	MS_NEXT = 2160,
	MS_SYSTEM_MEM = 2184,
	CHUNK_FD = 16,
	CHUNK_BK = 24,
	MIN_CHUNK = 32,
	MAX_ARENAS = 1024,
	MAX_CHUNKS = 1 << 20, /* free chunks followed, all lists together */
};

struct walk {
	struct ph_mem *mem;
	bool mangled;       /* fast bins' links are mangled (glibc 2.32+) */
	uint64_t budget;    /* chunks left to follow */
	uint64_t unreadable;
};

// The size of the free chunk at @p (its header read), or 0 when @p is no
// chunk: misaligned, unreadable, or a size no chunk has.
static uint64_t chunk_size(struct walk *w, uint64_t p, uint64_t *fd, uint64_t *bk)
{
	uint8_t h[32];
	if ((p & 15) || !ph_mem_peek_range(w->mem, p, h, sizeof(h)))
		return 0;
	uint64_t size = ph_load_u64(h + 8) & ~(uint64_t)7;
	if (size < MIN_CHUNK || (size & 15))
		return 0;
	*fd = ph_load_u64(h + CHUNK_FD);
	*bk = ph_load_u64(h + CHUNK_BK);
	return size;
}

// One arena (its struct in @ms, at @a): adds what int_mallinfo() adds.
static void count_arena(struct walk *w, uint64_t a, const uint8_t *ms, struct ph_cmalloc *out)
{
	uint64_t system = ph_load_u64(ms + MS_SYSTEM_MEM), fd, bk;
	uint64_t avail = 0, nblocks = 1, fast = 0;
	uint64_t top = ph_load_u64(ms + MS_TOP);
	uint64_t topsize = chunk_size(w, top, &fd, &bk);
	if (!topsize || topsize > system) {
		w->unreadable++; // (no top, or one larger than the arena's memory: garbage)
		topsize = 0;
	}
	avail += topsize;
	for (int i = 0; i < NFASTBINS; i++) {
		uint64_t p = ph_load_u64(ms + MS_FASTBINS + 8 * (size_t)i);
		while (p) {
			uint64_t size = w->budget ? chunk_size(w, p, &fd, &bk) : 0;
			if (!size || fast + avail + size > system) {
				w->unreadable++;
				break;
			}
			w->budget--;
			fast += size;
			p = w->mangled ? ((p + CHUNK_FD) >> 12) ^ fd : fd;
		}
	}
	avail += fast;
	for (int i = 1; i < NBINS; i++) {
		uint64_t bin = a + MS_BINS + (uint64_t)(i - 1) * 16 - CHUNK_FD;
		uint64_t p = ph_load_u64(ms + MS_BINS + (size_t)(i - 1) * 16 + 8); // (its bk)
		while (p != bin) {
			uint64_t size = w->budget ? chunk_size(w, p, &fd, &bk) : 0;
			if (!size || avail + size > system) {
				w->unreadable++;
				break;
			}
			w->budget--;
			nblocks++;
			avail += size;
			p = bk;
		}
	}
	out->arenas++;
	out->system_bytes += system;
	out->free_bytes += avail;
	out->free_chunks += nblocks;
	out->fast_free_bytes += fast;
	if (out->arenas == 1)
		out->top_bytes = topsize;
}

void ph_read_cmalloc(struct ph_python *py, struct ph_mem *mem, struct ph_cmalloc *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->other, py->malloc_other, sizeof(out->other));
	memcpy(out->other_file, py->malloc_other_file, sizeof(out->other_file));
	uint64_t main_arena = py->libc_main_arena;
	if (!main_arena || py->libc_main_arena_size != MS_SIZE)
		return;
	struct walk w = {mem, py->libc_safe_linking, MAX_CHUNKS, 0};
	uint8_t ms[MS_SIZE];
	uint64_t a = main_arena;
	for (int k = 0; k < MAX_ARENAS; k++) {
		if (!ph_mem_peek_range(mem, a, ms, sizeof(ms))) {
			w.unreadable++;
			break;
		}
		count_arena(&w, a, ms, out);
		a = ph_load_u64(ms + MS_NEXT);
		if (a == main_arena)
			break;
		if (k + 1 == MAX_ARENAS)
			w.unreadable++;
	}
	out->unreadable = w.unreadable;
	out->known = out->arenas > 0;
	// The chunks mapped apart (mp_'s counters), by the struct's size.
	int32_t n_off = py->libc_mp_size == 136 ? 60 : py->libc_mp_size == 112 ? 40 : -1;
	int32_t m_off = py->libc_mp_size == 136 ? 80 : py->libc_mp_size == 112 ? 56 : -1;
	int32_t n;
	uint64_t bytes;
	if (out->known && py->libc_mp && n_off >= 0 &&
	    ph_mem_peek_range(mem, py->libc_mp + (uint64_t)n_off, &n, sizeof(n)) &&
	    ph_mem_peek_range(mem, py->libc_mp + (uint64_t)m_off, &bytes, sizeof(bytes)) && n >= 0) {
		out->mapped_known = true;
		out->mapped_chunks = (uint64_t)n;
		out->mapped_bytes = bytes;
	}
}
