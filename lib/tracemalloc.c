/* SPDX-License-Identifier: MIT */
/*
 * tracemalloc's traces (Python/tracemalloc.c, Python/hashtable.c). The
 * structs are the same in 3.9-3.13 on 64-bit (checked against DWARF):
 *   _Py_hashtable_t:        size_t nentries, nbuckets; _Py_slist_t *buckets; ...
 *   _Py_hashtable_entry_t:  next, key_hash, void *key, void *value (32 bytes)
 *   trace_t:                size_t size; traceback_t *traceback
 *   traceback_t:            Py_uhash_t hash; uint16_t nframe, total_nframe;
 *                           frame_t frames[] at 12 (packed: 12 bytes each)
 *   frame_t:                PyObject *filename; unsigned int lineno
 *   _PyTraceMalloc_Config:  int initialized, tracing, max_nframe
 * 3.8's hash table keeps keys and values in its entries:
 *   _Py_hashtable_t:        size_t num_buckets, entries; buckets; key_size, data_size
 *   _Py_hashtable_entry_t:  next, key_hash, then the key (key_size bytes: the
 *                           pointer, and a 4-byte domain when tracemalloc uses
 *                           domains) and the trace_t itself (data_size: 16)
 *   traceback_t:            Py_uhash_t hash; int nframe; frames at 12
 * Tracebacks are interned (one per distinct stack), and so are file names.
 */
#include "tracemalloc.h"
#include "cpython_private.h"

#include <stdlib.h>
#include <string.h>

enum {
	MAX_TRACES = 1 << 28,   /* more is garbage */
	MAX_FRAMES = 1024,      /* frames kept of a traceback (tracemalloc: at most 65535) */
	BUCKETS_CHUNK = 512,    /* bucket heads read at a time */
	FILE_MAX = 4096,        /* bytes of a file name */
};

/* An open-addressing map from a 64-bit key (never 0) to a value, at most
 * half full. */
struct map {
	uint64_t *keys, *vals;
	size_t mask, n;
};

static bool map_init(struct map *m, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap <<= 1;
	m->mask = cap - 1;
	m->n = 0;
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = malloc(cap * sizeof(*m->vals));
	return m->keys && m->vals;
}

static void map_free(struct map *m)
{
	free(m->keys);
	free(m->vals);
}

static inline size_t slot(const struct map *m, uint64_t k)
{
	k ^= k >> 31;
	k *= 0x9e3779b97f4a7c15ull;
	return (size_t)(k >> 17) & m->mask;
}

/* The value of @k, or 0. */
static uint64_t map_get(const struct map *m, uint64_t k)
{
	for (size_t i = slot(m, k);; i = (i + 1) & m->mask) {
		if (m->keys[i] == k)
			return m->vals[i];
		if (!m->keys[i])
			return 0;
	}
}

static void put(struct map *m, uint64_t k, uint64_t v)
{
	for (size_t i = slot(m, k);; i = (i + 1) & m->mask) {
		if (m->keys[i] == k)
			return;
		if (!m->keys[i]) {
			m->keys[i] = k;
			m->vals[i] = v;
			m->n++;
			return;
		}
	}
}

/* Sets @k to @v unless present, growing the map when half full; false when
 * out of memory. */
static bool map_put(struct map *m, uint64_t k, uint64_t v)
{
	if (2 * (m->n + 1) > m->mask + 1) {
		struct map g;
		if (!map_init(&g, m->mask + 1)) {
			map_free(&g);
			return false;
		}
		for (size_t i = 0; i <= m->mask; i++)
			if (m->keys[i])
				put(&g, m->keys[i], m->vals[i]);
		map_free(m);
		*m = g;
	}
	put(m, k, v);
	return true;
}

static bool rd64(struct ph_mem *mem, uint64_t addr, uint64_t *v)
{
	return ph_mem_u64(mem, addr, v);
}

/* Where tracemalloc's traces table is, if it is tracing. */
static bool find_traces(struct ph_python *py, struct ph_mem *mem, uint64_t *table)
{
	const struct ph_layout *L = &py->L;
	uint64_t config, slot_addr;
	if (py->minor >= 12 && L->rt_tracemalloc >= 0 && L->rt_tracemalloc_traces >= 0 &&
	    py->sym[SYM_PyRuntime]) {
		config = py->sym[SYM_PyRuntime] + (uint64_t)L->rt_tracemalloc;
		slot_addr = py->sym[SYM_PyRuntime] + (uint64_t)L->rt_tracemalloc_traces;
	} else if (py->minor >= 8 && py->minor <= 11 && py->sym[SYM_tracemalloc_config] &&
		   py->sym[SYM_tracemalloc_traces]) {
		config = py->sym[SYM_tracemalloc_config];
		slot_addr = py->sym[SYM_tracemalloc_traces];
	} else {
		return false;
	}
	int32_t state[2]; /* initialized, tracing */
	if (!ph_mem_read_fast(mem, config, state, sizeof(state)) || state[0] != 1 || state[1] != 1)
		return false;
	return rd64(mem, slot_addr, table) && *table;
}

/* The traces: block address -> traceback address, into @m. At most
 * @max_traces (more is garbage: a count, or a list that loops). */
static bool read_traces(struct ph_mem *mem, unsigned minor, uint64_t table, uint64_t max_traces,
			struct map *m, struct ph_tracemalloc *tm)
{
	uint64_t head[5]; /* nentries, nbuckets, buckets (3.8: nbuckets, nentries, buckets,
			     key_size, data_size) */
	bool old = minor == 8;
	if (!ph_mem_read_fast(mem, table, head, old ? 40 : 24)) {
		tm->unreadable++;
		return true;
	}
	if (old) {
		uint64_t nb = head[0];
		head[0] = head[1];
		head[1] = nb;
	}
	// (_Py_hashtable keeps between 2 and 10 buckets per entry, 16 at least;
	// 3.8's keys: a pointer, or a packed pointer and domain.)
	uint64_t key_size = old ? head[3] : 0;
	if (head[0] > max_traces || head[1] > 10 * head[0] + 64 || !head[1] || !head[2] ||
	    (old && ((key_size != 8 && key_size != 12) || head[4] != 16))) {
		tm->unreadable++;
		return true;
	}
	uint64_t n = head[0], nbuckets = head[1], buckets = head[2];
	if (!map_init(m, n < (1u << 20) ? n : (1u << 20)))
		return false;
	uint64_t steps = 0, bucket[BUCKETS_CHUNK];
	for (uint64_t b0 = 0; b0 < nbuckets; b0 += BUCKETS_CHUNK) {
		uint64_t k = nbuckets - b0 < BUCKETS_CHUNK ? nbuckets - b0 : BUCKETS_CHUNK;
		if (!ph_mem_read_fast(mem, buckets + b0 * 8, bucket, k * 8)) {
			tm->unreadable++;
			continue;
		}
		for (uint64_t j = 0; j < k; j++) {
			// (A list longer than the table's entries is garbage: each
			// entry is met once, in one bucket.)
			for (uint64_t e = bucket[j]; e; steps++) {
				uint64_t ent[4], trace[2]; /* next, hash, key, value; size, traceback */
				uint8_t raw[16 + 12 + 16];
				if (steps >= n) {
					tm->unreadable++;
					break;
				}
				if (old) {
					// (The key, its domain if any (0: Python's
					// allocators), then the trace in place.)
					uint32_t domain = 0;
					if (!ph_mem_read_fast(mem, e, raw, 16 + key_size + 16)) {
						tm->unreadable++;
						break;
					}
					memcpy(ent, raw, 24);
					if (key_size == 12)
						memcpy(&domain, raw + 24, 4);
					memcpy(trace, raw + 16 + key_size, 16);
					if (domain)
						ent[2] = 0;
				} else if (!ph_mem_read_fast(mem, e, ent, sizeof(ent)) ||
					   !ph_mem_read_fast(mem, ent[3], trace, sizeof(trace))) {
					tm->unreadable++;
					break;
				}
				if (ent[2] && trace[1]) {
					if (!map_put(m, ent[2], trace[1]))
						return false;
					tm->traces++;
				}
				e = ent[0];
			}
		}
	}
	return true;
}

/* The index of file name @addr (a str) in snap->site_files, adding it. */
static bool file_index(struct ph_python *py, struct ph_mem *mem, struct ph_snapshot *snap,
		       struct map *files, uint64_t addr, uint32_t *ret)
{
	uint64_t v = map_get(files, addr);
	if (v) {
		*ret = (uint32_t)(v - 1);
		return true;
	}
	char buf[FILE_MAX];
	if (!ph_python_read_str(py, mem, addr, buf, sizeof(buf)))
		strlcpy(buf, "<unreadable>", sizeof(buf));
	if (snap->nsite_files % 64 == 0) {
		char **f = reallocarray(snap->site_files, snap->nsite_files + 64, sizeof(*f));
		if (!f)
			return false;
		snap->site_files = f;
	}
	if (!(snap->site_files[snap->nsite_files] = strdup(buf)))
		return false;
	*ret = (uint32_t)snap->nsite_files++;
	return map_put(files, addr, *ret + 1);
}

/* A site for traceback @tb, added to the snapshot: its index + 1, or 0 when
 * unreadable (counted); false when out of memory. */
static bool add_site(struct ph_python *py, struct ph_mem *mem, struct ph_snapshot *snap,
		     struct map *files, uint64_t tb, uint32_t *ret)
{
	*ret = 0;
	uint16_t nf[2];
	if (py->minor == 8) {
		// (3.8: an int, every frame kept.)
		int32_t n;
		if (!ph_mem_read_fast(mem, tb + 8, &n, sizeof(n)) || n < 0 || n > UINT16_MAX)
			n = 0;
		nf[0] = nf[1] = (uint16_t)n;
	} else if (!ph_mem_read_fast(mem, tb + 8, nf, sizeof(nf))) {
		nf[0] = 0;
	}
	if (!nf[0] || nf[0] > nf[1]) {
		snap->tracemalloc.unreadable++;
		return true;
	}
	size_t k = nf[0] < MAX_FRAMES ? nf[0] : MAX_FRAMES;
	if (snap->nsite_frames + k > UINT32_MAX || snap->nsites >= UINT32_MAX - 1)
		return true;
	struct ph_alloc_frame *fr = reallocarray(snap->site_frames, snap->nsite_frames + k,
						 sizeof(*fr));
	if (!fr)
		return false;
	snap->site_frames = fr;
	if (snap->nsites % 256 == 0) {
		struct ph_alloc_site *s = reallocarray(snap->sites, snap->nsites + 256, sizeof(*s));
		if (!s)
			return false;
		snap->sites = s;
	}
	for (size_t i = 0; i < k; i++) {
		uint8_t raw[12];
		uint64_t file;
		uint32_t line;
		if (!ph_mem_read_fast(mem, tb + 12 + i * 12, raw, sizeof(raw))) {
			snap->tracemalloc.unreadable++;
			return true;
		}
		memcpy(&file, raw, 8);
		memcpy(&line, raw + 8, 4);
		uint32_t fi;
		if (!file_index(py, mem, snap, files, file, &fi))
			return false;
		fr[snap->nsite_frames + i] = (struct ph_alloc_frame){fi, line};
	}
	snap->sites[snap->nsites] = (struct ph_alloc_site){(uint32_t)snap->nsite_frames, (uint16_t)k,
							    nf[1]};
	snap->nsite_frames += k;
	*ret = (uint32_t)++snap->nsites;
	return true;
}

bool ph_python_read_tracemalloc(struct ph_python *py, struct ph_mem *mem, struct ph_snapshot *snap,
				uint64_t (*pre)(void *arg, size_t i), void *arg)
{
	uint64_t table;
	if (py->minor < 8 || !find_traces(py, mem, &table))
		return true;
	struct map traces = {0}, sites = {0}, files = {0};
	struct ph_tracemalloc *tm = &snap->tracemalloc;
	// (A trace per object and a few more blocks each: lists' items, dicts'
	// keys, C code's; far more is garbage.)
	uint64_t max_traces = 16 * (uint64_t)snap->nobjects + (1u << 20);
	bool ok = read_traces(mem, py->minor, table,
			      max_traces < MAX_TRACES ? max_traces : MAX_TRACES, &traces, tm);
	if (!ok || !traces.keys)
		goto out;
	ok = map_init(&sites, 256) && map_init(&files, 64) &&
	     (snap->object_site = calloc(snap->nobjects ? snap->nobjects : 1, sizeof(uint32_t)));
	for (size_t i = 0; ok && i < snap->nobjects; i++) {
		uint64_t tb = map_get(&traces, snap->objects[i].address - pre(arg, i));
		if (!tb)
			continue;
		uint64_t s = map_get(&sites, tb);
		if (!s) {
			// (An unreadable traceback is read once: UINT64_MAX.)
			uint32_t idx;
			ok = add_site(py, mem, snap, &files, tb, &idx) &&
			     map_put(&sites, tb, s = idx ? idx : UINT64_MAX);
		}
		if (s != UINT64_MAX)
			snap->object_site[i] = (uint32_t)s;
	}
	tm->known = ok;
out:
	map_free(&traces);
	map_free(&sites);
	map_free(&files);
	return ok;
}
