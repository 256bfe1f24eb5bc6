/* SPDX-License-Identifier: MIT */
/*
 * pymalloc's arenas, read from outside: what sys._debugmallocstats() counts
 * (Objects/obmalloc.c, _PyObject_DebugMallocStats()), from the arena table
 * and the header of every pool of every arena. The table is the statics
 * `arenas` and `maxarenas` before 3.12 (local symbols: a build with a symbol
 * table, or its separate debug file), the interpreter's obmalloc state from
 * 3.12 (embedded in 3.12, a pointer to it from 3.13).
 */
#include "pymalloc.h"
#include "bytes.h"
#include "cpython_private.h"

#include <stdlib.h>
#include <string.h>

enum {
	MAX_ARENAS = 1 << 22,   /* 4M arenas: 1 TiB of 256 KiB arenas */
	ARENAS_CHUNK = 256,     /* arena_objects read at a time */
	HEADERS_CHUNK = 256,    /* pool headers read at a time (<= PH_MEM_PEEKV_MAX) */
	MAX_STATES = 64,        /* distinct obmalloc states (interpreters) */
	MAX_INTERPS = 1024,
	HEADER_MAX = 64,        /* bytes of a pool header read */
};

struct acc {
	const struct ph_layout *L;
	uint32_t arena_size, pool_size;
	uint32_t align;         /* ALIGNMENT, from the first pool in use (8 or 16) */
	uint64_t arenas, free_pools, alignment_bytes, unreadable;
	uint64_t pools[PH_PYMALLOC_CLASSES], blocks[PH_PYMALLOC_CLASSES],
		free_blocks[PH_PYMALLOC_CLASSES];
	uint64_t good_pools;
	uint64_t arena_used;    /* bytes in blocks in use in the arena being counted */
	struct ph_pymalloc_arena *list; /* the arenas counted (NULL with list_failed) */
	size_t nlist, caplist;
	bool list_failed;
};

// One pool's header: its size class, blocks in use and free.
static void count_pool(struct acc *a, const uint8_t *h)
{
	const struct ph_layout *L = a->L;
	uint32_t count = ph_load_u32(h + L->pool_count);
	if (!count)
		return; // (an empty pool: counted with its arena's free pools)
	uint32_t szidx = ph_load_u32(h + L->pool_szidx);
	uint32_t maxnext = ph_load_u32(h + L->pool_maxnextoffset);
	// maxnextoffset is POOL_SIZE - the block size: the size without
	// knowing ALIGNMENT, which the first pool gives.
	uint32_t size = maxnext < a->pool_size ? a->pool_size - maxnext : 0;
	if (szidx >= PH_PYMALLOC_CLASSES || !size || size % (szidx + 1)) {
		a->unreadable++;
		return;
	}
	uint32_t align = size / (szidx + 1);
	if (!a->align && (align == 8 || align == 16))
		a->align = align;
	if (align != a->align) {
		a->unreadable++;
		return;
	}
	uint32_t overhead = ((uint32_t)L->pool_sizeof + align - 1) / align * align;
	uint32_t nblocks = (a->pool_size - overhead) / size;
	if (count > nblocks) {
		a->unreadable++;
		return;
	}
	a->pools[szidx]++;
	a->arena_used += (uint64_t)count * size;
	a->blocks[szidx] += count;
	a->free_blocks[szidx] += nblocks - count;
	a->good_pools++;
}

// The pools of one arena carved so far, [first, end).
static void count_pools(struct acc *a, struct ph_mem *mem, uint64_t first, uint64_t end)
{
	struct ph_mem_iov iov[HEADERS_CHUNK];
	bool ok[HEADERS_CHUNK];
	uint8_t buf[HEADERS_CHUNK][HEADER_MAX];
	size_t hsize = (size_t)a->L->pool_sizeof;
	while (first < end) {
		size_t n = 0;
		for (; n < HEADERS_CHUNK && first < end; n++, first += a->pool_size)
			iov[n] = (struct ph_mem_iov){first, buf[n], hsize};
		ph_mem_peekv(mem, iov, n, ok);
		for (size_t i = 0; i < n; i++) {
			if (ok[i])
				count_pool(a, buf[i]);
			else
				a->unreadable++;
		}
	}
}

// Notes the arena just counted at @address in the list (without memory,
// the list is dropped: the counts do not need it).
static void keep_arena(struct acc *a, uint64_t address)
{
	if (a->list_failed)
		return;
	if (a->nlist == a->caplist) {
		size_t cap = a->caplist ? 2 * a->caplist : 64;
		struct ph_pymalloc_arena *p = reallocarray(a->list, cap, sizeof(*p));
		if (!p) {
			free(a->list);
			a->list = NULL;
			a->nlist = 0;
			a->list_failed = true;
			return;
		}
		a->list = p;
		a->caplist = cap;
	}
	a->list[a->nlist++] = (struct ph_pymalloc_arena){address, a->arena_used};
}

static int by_address(const void *x, const void *y)
{
	const struct ph_pymalloc_arena *a = x, *b = y;
	return a->address < b->address ? -1 : a->address > b->address;
}

// The arenas of one table: @n arena_objects at @table.
static void count_table(struct acc *a, struct ph_mem *mem, uint64_t table, uint64_t n)
{
	const struct ph_layout *L = a->L;
	size_t esize = (size_t)L->ao_sizeof;
	uint8_t chunk[ARENAS_CHUNK * 64]; // (esize <= 64, checked by the caller)
	uint64_t pools_per_arena = a->arena_size / a->pool_size;
	for (uint64_t i = 0; i < n; i += ARENAS_CHUNK) {
		size_t m = n - i < ARENAS_CHUNK ? (size_t)(n - i) : ARENAS_CHUNK;
		if (!ph_mem_peek_range(mem, table + i * esize, chunk, m * esize)) {
			a->unreadable += m;
			continue;
		}
		for (size_t j = 0; j < m; j++) {
			const uint8_t *e = chunk + j * esize;
			uint64_t address = ph_load_u64(e + L->ao_address);
			if (!address)
				continue; // (an arena_object not in use)
			uint64_t pool_address = ph_load_u64(e + L->ao_pool_address);
			uint32_t nfree = ph_load_u32(e + L->ao_nfreepools);
			// Pools start at the first pool boundary in the arena and
			// are carved up to pool_address.
			uint64_t base = address, pad = 0;
			if (base & (a->pool_size - 1)) {
				base = (base | (a->pool_size - 1)) + 1;
				pad = a->pool_size;
			}
			if (address > UINT64_MAX - a->arena_size || nfree > pools_per_arena ||
			    pool_address < base || pool_address > address + a->arena_size ||
			    (pool_address - base) % a->pool_size) {
				a->unreadable++;
				continue;
			}
			// Every pool of the arena is in use or free (not carved yet,
			// or emptied): an arena where they do not add up is garbage
			// or changing, and left out whole.
			struct acc before = *a;
			a->arena_used = 0;
			count_pools(a, mem, base, pool_address);
			uint64_t used = a->good_pools - before.good_pools;
			if (a->unreadable != before.unreadable ||
			    used + nfree != (address + a->arena_size - base) / a->pool_size) {
				*a = before;
				a->unreadable++;
				continue;
			}
			a->arenas++;
			a->free_pools += nfree;
			a->alignment_bytes += pad;
			keep_arena(a, address);
		}
	}
}

// The arena tables of @py: (table address, count) pairs in @tables.
static size_t find_tables(struct ph_python *py, struct ph_mem *mem, uint64_t tables[][2],
			  size_t cap)
{
	const struct ph_layout *L = &py->L;
	size_t n = 0;
	if (py->minor <= 11) {
		uint64_t table;
		uint32_t count;
		if (py->sym[SYM_arenas] && py->sym[SYM_maxarenas] &&
		    ph_mem_peek_range(mem, py->sym[SYM_arenas], &table, sizeof(table)) &&
		    ph_mem_peek_range(mem, py->sym[SYM_maxarenas], &count, sizeof(count)) && cap) {
			tables[n][0] = table;
			tables[n][1] = count;
			n++;
		}
		return n;
	}
	if (L->is_obmalloc < 0 || L->obs_arenas < 0 || L->obs_maxarenas < 0)
		return 0;
	// Every interpreter's state, once (3.13+: a legacy subinterpreter's
	// pointer is the main interpreter's; 3.12: such a one's own embedded
	// state stays empty).
	uint64_t interp = 0;
	uint64_t runtime = py->sym[SYM_PyRuntime];
	if (!runtime || !ph_mem_peek_range(mem, runtime + (uint64_t)L->rt_interpreters_head, &interp,
				     sizeof(interp)))
		return 0;
	uint64_t seen[MAX_STATES];
	size_t nseen = 0;
	for (size_t k = 0; interp && k < MAX_INTERPS && n < cap; k++) {
		uint64_t state = interp + (uint64_t)L->is_obmalloc;
		if (py->minor >= 13 && !ph_mem_peek_range(mem, state, &state, sizeof(state)))
			break;
		bool dup = false;
		for (size_t j = 0; j < nseen; j++)
			dup |= seen[j] == state;
		if (state && !dup && nseen < MAX_STATES) {
			seen[nseen++] = state;
			uint64_t table;
			uint32_t count;
			if (ph_mem_peek_range(mem, state + (uint64_t)L->obs_arenas, &table, sizeof(table)) &&
			    ph_mem_peek_range(mem, state + (uint64_t)L->obs_maxarenas, &count,
					sizeof(count))) {
				tables[n][0] = table;
				tables[n][1] = count;
				n++;
			}
		}
		uint64_t next;
		if (!ph_mem_peek_range(mem, interp + (uint64_t)L->is_next, &next, sizeof(next)) ||
		    next == interp)
			break;
		interp = next;
	}
	return n;
}

void ph_python_read_pymalloc(struct ph_python *py, struct ph_mem *mem, struct ph_pymalloc *out)
{
	memset(out, 0, sizeof(*out));
	const struct ph_layout *L = &py->L;
	if (L->ao_address < 0 || L->ao_pool_address < 0 || L->ao_nfreepools < 0 ||
	    L->ao_sizeof <= 0 || L->ao_sizeof > 64 || L->pool_count < 0 || L->pool_szidx < 0 ||
	    L->pool_maxnextoffset < 0 || L->pool_sizeof <= 0 || L->pool_sizeof > HEADER_MAX ||
	    L->ao_nfreepools + 4 > L->ao_sizeof || L->ao_address + 8 > L->ao_sizeof ||
	    L->ao_pool_address + 8 > L->ao_sizeof || L->pool_count + 4 > L->pool_sizeof ||
	    L->pool_szidx + 4 > L->pool_sizeof || L->pool_maxnextoffset + 4 > L->pool_sizeof)
		return;
	uint64_t tables[MAX_STATES][2];
	size_t ntables = find_tables(py, mem, tables, MAX_STATES);
	if (!ntables)
		return;
	// 3.10+ (64-bit, with the radix tree): 1 MiB arenas of 16 KiB pools;
	// before, 256 KiB of 4 KiB. A pool that makes no sense with these sizes
	// (another build's) tries the others.
	static const uint32_t sizes[2][2] = {{1u << 20, 1u << 14}, {1u << 18, 1u << 12}};
	int first = py->minor >= 10 ? 0 : 1;
	struct acc a;
	memset(&a, 0, sizeof(a));
	for (int t = 0; t < 2; t++) {
		int k = t ? 1 - first : first;
		free(a.list);
		memset(&a, 0, sizeof(a));
		a.L = L;
		a.arena_size = sizes[k][0];
		a.pool_size = sizes[k][1];
		for (size_t i = 0; i < ntables; i++) {
			uint64_t n = tables[i][1];
			if (n > MAX_ARENAS || (n && !tables[i][0])) {
				a.unreadable++;
				continue;
			}
			count_table(&a, mem, tables[i][0], n);
		}
		if (a.good_pools || !a.unreadable)
			break;
	}
	out->known = true;
	out->arena_size = a.arena_size;
	out->pool_size = a.pool_size;
	out->arenas = a.arenas;
	out->free_pool_bytes = a.free_pools * a.pool_size;
	out->unreadable = a.unreadable;
	uint64_t overhead = a.alignment_bytes;
	uint32_t align = a.align ? a.align : 16;
	uint32_t header = ((uint32_t)L->pool_sizeof + align - 1) / align * align;
	for (uint32_t c = 0; c < PH_PYMALLOC_CLASSES; c++) {
		if (!a.pools[c])
			continue;
		uint32_t size = (c + 1) * align;
		struct ph_pymalloc_class *pc = &out->classes[out->nclasses++];
		*pc = (struct ph_pymalloc_class){size, a.pools[c], a.blocks[c], a.free_blocks[c]};
		out->allocated_bytes += a.blocks[c] * size;
		out->available_bytes += a.free_blocks[c] * size;
		overhead += a.pools[c] * (header + (a.pool_size - header) % size);
	}
	out->overhead_bytes = overhead;
	// Each arena's use, by address (an arena in two tables would be
	// garbage: then none is kept).
	if (a.nlist) {
		qsort(a.list, a.nlist, sizeof(*a.list), by_address);
		bool overlap = false;
		for (size_t i = 1; i < a.nlist; i++)
			overlap |= a.list[i].address - a.list[i - 1].address < a.arena_size;
		if (!overlap) {
			out->arena_list = a.list;
			out->narena_list = a.nlist;
			a.list = NULL;
		}
	}
	free(a.list);
}
