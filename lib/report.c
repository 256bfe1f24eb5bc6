/* SPDX-License-Identifier: MIT */
#include "report.h"
#include "diff.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "topk.h"

size_t ph_utf8_length(const unsigned char *p)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, lo = p[0] == 0xe0 ? 0xa0 : 0x80, hi = p[0] == 0xed ? 0x9f : 0xbf;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, lo = p[0] == 0xf0 ? 0x90 : 0x80, hi = p[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void ph_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			if (*p < 0x20) {
				fprintf(out, "\\u%04x", *p);
			} else if (*p < 0x80) {
				fputc(*p, out);
			} else {
				// Names and texts read from a damaged target may be
				// no UTF-8: such a byte becomes U+FFFD, as JSON must
				// be UTF-8.
				size_t n = ph_utf8_length(p);
				if (n)
					fwrite(p, 1, n, out), p += n - 1;
				else
					fputs("\\ufffd", out);
			}
		}
	}
	fputc('"', out);
}

const char *ph_human_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%" PRIu64 " B", n);
	else
		snprintf(buf, cap, "%.1f %s", v, units[u]);
	return buf;
}

const char *ph_format_time(uint64_t time_ns, char *buf, size_t cap)
{
	time_t t = (time_t)(time_ns / 1000000000u);
	struct tm tm;
	if (!time_ns || !gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, cap, "unknown time");
	return buf;
}

// "did not grow", "grew by X only" (@only) or "grew by X" in @buf.
static const char *growth_words(uint64_t delta, bool only, char *buf, size_t cap)
{
	char n[32];
	if (!delta)
		snprintf(buf, cap, "did not grow");
	else
		snprintf(buf, cap, "grew by %s%s", ph_human_bytes(delta, n, sizeof(n)),
			 only ? " only" : "");
	return buf;
}

static uint64_t grown(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

void ph_report_outside_growth(FILE *out, uint64_t rss_a, uint64_t rss_b, uint64_t size_a,
			      uint64_t size_b, const struct ph_alloc_sums *sa,
			      const struct ph_alloc_sums *sb)
{
	if (!rss_a || !rss_b || rss_b < rss_a + (1u << 20))
		return;
	uint64_t drss = rss_b - rss_a;
	int64_t dsize = (int64_t)(size_b - size_a);
	if (dsize > 0 && (uint64_t)dsize >= drss / 4)
		return;
	char a[32], b[32], c[48], d[48];
	fprintf(out, "note: RSS grew by %s while the Python objects grew by %s%s: ",
		ph_human_bytes(drss, a, sizeof(a)), dsize < 0 ? "-" : "",
		ph_human_bytes((uint64_t)(dsize < 0 ? -dsize : dsize), b, sizeof(b)));
	bool py = sa->py.known && sb->py.known, cm = sa->c.known && sb->c.known;
	uint64_t dpy = py ? grown(sa->py.bytes, sb->py.bytes) : 0;
	uint64_t dcfree = cm ? grown(sa->c.free, sb->c.free) : 0;
	uint64_t dcused = cm ? grown(sa->c.bytes - sa->c.free, sb->c.bytes - sb->c.free) : 0;
	if (py && dpy >= drss / 2) {
		fprintf(out,
			"pymalloc's arenas grew by %s and %s of them is free — memory of objects "
			"freed since, which pymalloc keeps while any block of the same arena is in "
			"use (fragmentation: many objects made, a few of them kept), not objects that "
			"live on; --arenas on the later snapshot shows the objects that keep them\n",
			ph_human_bytes(dpy, a, sizeof(a)), ph_human_bytes(sb->py.free, b, sizeof(b)));
		return;
	}
	if (cm && dcfree >= drss / 2) {
		fprintf(out,
			"the free memory in glibc malloc's arenas grew by %s (%s free now) — memory "
			"of large Python objects (over 512 bytes) or of C code freed since, which "
			"malloc keeps: malloc_trim(0) in the process gives much of it back, and with "
			"many threads MALLOC_ARENA_MAX=2 bounds the arenas\n",
			ph_human_bytes(dcfree, a, sizeof(a)), ph_human_bytes(sb->c.free, b, sizeof(b)));
		return;
	}
	if (cm && dcused >= drss / 2) {
		fprintf(out,
			"the memory in use in glibc malloc's arenas grew by %s: memory that C code "
			"allocated and holds (an extension module, a C library such as OpenSSL), "
			"outside the objects pyheap counts. A native memory profiler sees who "
			"allocated it (heaptrack, memray run --native, valgrind --tool=massif)\n",
			ph_human_bytes(dcused, a, sizeof(a)));
		return;
	}
	uint64_t dmapped = cm && sa->c.mapped_known && sb->c.mapped_known
				   ? grown(sa->c.mapped, sb->c.mapped)
				   : 0;
	if (dmapped >= drss / 2) {
		fprintf(out,
			"the chunks glibc's malloc mapped apart grew by %s: large blocks (128 KiB or "
			"more each) that C code allocated and holds (an extension module, a C library "
			"such as OpenSSL), outside the objects pyheap counts. A native memory profiler "
			"sees who allocated them (heaptrack, memray run --native, valgrind "
			"--tool=massif)\n",
			ph_human_bytes(dmapped, a, sizeof(a)));
		return;
	}
	if (sb->other[0]) {
		fprintf(out,
			"%s%s%s most of the growth is outside the objects pyheap counts%s — in %s's "
			"memory (the process's malloc, not read): memory that C code allocated, or "
			"that %s keeps after it was freed. A native memory profiler sees it "
			"(heaptrack, memray run --native, valgrind --tool=massif)\n",
			py ? "pymalloc's arenas " : "", py ? growth_words(dpy, true, c, sizeof(c)) : "",
			py ? ":" : "", py ? " and pymalloc's arenas" : "", sb->other, sb->other);
		return;
	}
	if (py && cm) {
		fprintf(out,
			"pymalloc's arenas %s, glibc malloc's arenas %s: most of the growth is "
			"outside the objects pyheap counts and outside those arenas — memory that C "
			"code allocated in large blocks (malloc maps each of 128 KiB or more apart) or "
			"mapped itself, or another allocator's. A native memory profiler sees it "
			"(heaptrack, memray run --native, valgrind --tool=massif)\n",
			growth_words(dpy, true, c, sizeof(c)),
			growth_words(grown(sa->c.bytes, sb->c.bytes), true, d, sizeof(d)));
		return;
	}
	if (py) {
		fprintf(out,
			"pymalloc's arenas %s: most of the growth is outside the "
			"objects pyheap counts — memory that C code allocated (an extension module, "
			"a C library such as OpenSSL), or that the C allocator keeps after it was "
			"freed. A native memory profiler sees it (heaptrack, memray run --native, "
			"valgrind --tool=massif)\n",
			growth_words(dpy, true, c, sizeof(c)));
		return;
	}
	fprintf(out, "most of the growth is outside the objects pyheap counts — memory that C "
		     "code allocated (an extension module, a C library such as OpenSSL), or memory "
		     "the allocators keep after objects are freed. A native memory profiler sees "
		     "it (heaptrack, memray run --native, valgrind --tool=massif)\n");
}

static unsigned pct(uint64_t part, uint64_t total)
{
	return total ? (unsigned)(part * 100 / total) : 0;
}

void ph_report_pymalloc_text(FILE *out, const struct ph_pymalloc *m)
{
	if (!m->known || !m->arenas)
		return;
	char total[32], used[32], fblocks[32], fpools[32], over[32];
	uint64_t bytes = m->arenas * m->arena_size;
	fprintf(out,
		"pymalloc: %" PRIu64 " arenas, %s: %s in blocks in use, %s in free blocks, %s in "
		"free pools, %s overhead\n",
		m->arenas, ph_human_bytes(bytes, total, sizeof(total)),
		ph_human_bytes(m->allocated_bytes, used, sizeof(used)),
		ph_human_bytes(m->available_bytes, fblocks, sizeof(fblocks)),
		ph_human_bytes(m->free_pool_bytes, fpools, sizeof(fpools)),
		ph_human_bytes(m->overhead_bytes, over, sizeof(over)));
	// Fragmentation: pymalloc gives an arena back only once none of its
	// blocks is in use.
	uint64_t free_bytes = m->available_bytes + m->free_pool_bytes;
	if (free_bytes >= PH_FREE_NOTE_BYTES && free_bytes * 4 >= bytes) {
		char fb[32];
		fprintf(out,
			"note: %s (%u%%) of pymalloc's arenas is free: memory of objects freed since, "
			"which the process keeps while any block of the same arena is in use "
			"(fragmentation); it counts in RSS, not in the sizes of the objects",
			ph_human_bytes(free_bytes, fb, sizeof(fb)), pct(free_bytes, bytes));
		uint64_t sparse, unused;
		ph_arena_sparse_count(m, &sparse, &unused);
		if (sparse)
			fprintf(out,
				". %" PRIu64 " arena%s at most %u%% in use hold%s %s not in use: "
				"--arenas shows the objects that keep them",
				sparse, sparse == 1 ? "" : "s", PH_SPARSE_PCT, sparse == 1 ? "s" : "",
				ph_human_bytes(unused, fb, sizeof(fb)));
		fputc('\n', out);
	}
	if (m->unreadable)
		fprintf(out,
			"note: pymalloc: %" PRIu64 " arenas or pools could not be read or made no "
			"sense, and are not counted\n",
			m->unreadable);
}

void ph_report_cmalloc_text(FILE *out, const struct ph_cmalloc *m)
{
	if (ph_cmalloc_other_in_use(m)) {
		fprintf(out,
			"malloc: %s (%s), not glibc's: its memory is not read (glibc's arenas %s). "
			"Python objects over 512 bytes and C code's memory are there\n",
			m->other, m->other_file, m->known ? "are empty" : "are not known either");
		return;
	}
	if (!m->known)
		return;
	char sys[32], used[32], fr[32], top[32], mapped[32];
	fprintf(out, "malloc: %u arena%s, %s from the system: %s in use, %s free (top %s)",
		m->arenas, m->arenas == 1 ? "" : "s",
		ph_human_bytes(m->system_bytes, sys, sizeof(sys)),
		ph_human_bytes(m->system_bytes - m->free_bytes, used, sizeof(used)),
		ph_human_bytes(m->free_bytes, fr, sizeof(fr)),
		ph_human_bytes(m->top_bytes, top, sizeof(top)));
	if (m->mapped_known)
		fprintf(out, "; %" PRIu64 " chunk%s mapped apart, %s", m->mapped_chunks,
			m->mapped_chunks == 1 ? "" : "s",
			ph_human_bytes(m->mapped_bytes, mapped, sizeof(mapped)));
	fputc('\n', out);
	if (m->free_bytes >= PH_FREE_NOTE_BYTES && m->free_bytes * 4 >= m->system_bytes)
		fprintf(out,
			"note: %s (%u%%) of what glibc's malloc took from the system is free: "
			"memory of large Python objects (over 512 bytes) and of C code freed since, "
			"which malloc keeps (free chunks between chunks in use%s); it counts in RSS "
			"where it was written. malloc_trim(0) in the process gives much of it back; "
			"with many threads, MALLOC_ARENA_MAX=2 bounds the arenas\n",
			ph_human_bytes(m->free_bytes, fr, sizeof(fr)), pct(m->free_bytes, m->system_bytes),
			m->arenas > 1 ? ", and in the threads' arenas" : "");
	if (m->unreadable)
		fprintf(out,
			"note: malloc: %" PRIu64 " free lists could not be read to their end; the "
			"free memory is counted up to there\n",
			m->unreadable);
	if (m->other[0])
		fprintf(out, "note: %s (%s) is loaded as well: what it allocates is not counted above\n",
			m->other, m->other_file);
}

void ph_json_cmalloc(FILE *out, const struct ph_cmalloc *m)
{
	fputs("\"malloc_other\":", out);
	if (m->other[0]) {
		fputs("{\"name\":", out);
		ph_json_string(out, m->other);
		fputs(",\"file\":", out);
		ph_json_string(out, m->other_file);
		fprintf(out, ",\"in_use\":%s}", ph_cmalloc_other_in_use(m) ? "true" : "false");
	} else {
		fputs("null", out);
	}
	fputs(",\"malloc\":", out);
	if (!m->known) {
		fputs("null", out);
		return;
	}
	fprintf(out,
		"{\"arenas\":%u,\"system_bytes\":%" PRIu64 ",\"free_bytes\":%" PRIu64
		",\"free_chunks\":%" PRIu64 ",\"fast_free_bytes\":%" PRIu64 ",\"top_bytes\":%" PRIu64
		",\"unreadable\":%" PRIu64 ",",
		m->arenas, m->system_bytes, m->free_bytes, m->free_chunks, m->fast_free_bytes,
		m->top_bytes, m->unreadable);
	if (m->mapped_known)
		fprintf(out, "\"mapped_chunks\":%" PRIu64 ",\"mapped_bytes\":%" PRIu64 "}",
			m->mapped_chunks, m->mapped_bytes);
	else
		fputs("\"mapped_chunks\":null,\"mapped_bytes\":null}", out);
}

void ph_json_pymalloc(FILE *out, const struct ph_pymalloc *m)
{
	fputs("\"pymalloc\":", out);
	if (!m->known) {
		fputs("null", out);
		return;
	}
	fprintf(out,
		"{\"arenas\":%" PRIu64 ",\"arena_size\":%u,\"pool_size\":%u,\"arena_bytes\":%" PRIu64
		",\"allocated_bytes\":%" PRIu64 ",\"available_bytes\":%" PRIu64
		",\"free_pool_bytes\":%" PRIu64 ",\"overhead_bytes\":%" PRIu64
		",\"unreadable\":%" PRIu64 ",\"classes\":[",
		m->arenas, m->arena_size, m->pool_size, m->arenas * m->arena_size, m->allocated_bytes,
		m->available_bytes, m->free_pool_bytes, m->overhead_bytes, m->unreadable);
	for (uint32_t i = 0; i < m->nclasses; i++) {
		const struct ph_pymalloc_class *c = &m->classes[i];
		fprintf(out,
			"%s{\"size\":%u,\"pools\":%" PRIu64 ",\"blocks\":%" PRIu64
			",\"free_blocks\":%" PRIu64 "}",
			i ? "," : "", c->size, c->pools, c->blocks, c->free_blocks);
	}
	fputs("]}", out);
}

enum { POOL_LARGEST_TEXT = 5, POOL_LARGEST_JSON = 20 };

// The largest (at most @cap) of the objects ph_snapshot_pool_found() gives
// in @entry from @first: their indices into @top, by size, descending.
static size_t pool_largest(const struct ph_snapshot *snap, size_t first, const uint64_t *entry,
			   uint32_t *top, size_t cap)
{
	uint64_t keys[POOL_LARGEST_JSON];
	size_t n = 0;
	if (cap > POOL_LARGEST_JSON)
		cap = POOL_LARGEST_JSON;
	for (size_t i = first; i < snap->nobjects; i++)
		if (entry[(i - first) / 64] >> ((i - first) % 64) & 1)
			ph_topk_offer(top, keys, &n, cap, (uint32_t)i, snap->objects[i].size);
	return n;
}

void ph_report_header(FILE *out, const struct ph_snapshot *snap, const struct ph_graph *g)
{
	char rss[32];
	if (snap->core_path) {
		fprintf(out, "pyheap-attach: core %s of pid %d (python %s, %s)\n", snap->core_path,
			snap->pid, snap->python_version, snap->python_path);
		char when[64];
		fprintf(out, "layout: %s  threads %u  written %s\n", snap->layout_source,
			snap->threads, ph_format_time(snap->time_ns, when, sizeof(when)));
	} else {
		fprintf(out, "pyheap-attach: pid %d (python %s, %s)\n", snap->pid,
			snap->python_version, snap->python_path);
		fprintf(out, "layout: %s  paused %.1f ms  RSS %s  threads %u\n",
			snap->layout_source, (double)snap->pause_ns / 1e6,
			ph_human_bytes(snap->rss, rss, sizeof(rss)), snap->threads);
	}
	ph_report_pymalloc_text(out, &snap->pymalloc);
	ph_report_cmalloc_text(out, &snap->cmalloc);
	if (snap->tracemalloc.known) {
		uint64_t traced = 0;
		for (size_t i = 0; i < snap->nobjects; i++)
			traced += snap->object_site[i] != 0;
		fprintf(out,
			"tracemalloc: tracing, %" PRIu64 " traces; %" PRIu64 " of the objects "
			"traced, allocated at %zu tracebacks (--sites)\n",
			snap->tracemalloc.traces, traced, snap->nsites);
	}
	if (!strncmp(snap->python_version, "3.14", 4))
		fprintf(out, "warning: Python 3.14 support is untested live (written from CPython's "
			     "headers); check the result with care\n");
	if (snap->truncated)
		fprintf(out, "warning: partial result (%s): objects not reached are missing\n",
			snap->truncated_reason ? snap->truncated_reason : "stopped early");
	if (g && g->garbage_objects) {
		char sz[32];
		fprintf(out,
			"note: %" PRIu64 " objects (%s) are reachable from no root and held by nothing "
			"outside: cyclic garbage waiting for the next collection\n",
			g->garbage_objects, ph_human_bytes(g->garbage_size, sz, sizeof(sz)));
	}
	uint64_t pooled = 0, pooled_size = 0, held = 0, held_size = 0;
	size_t first;
	uint64_t *entry;
	ph_snapshot_pool_found(snap, &first, &entry);
	for (size_t i = first; i < snap->nobjects && entry; i++) {
		held++;
		held_size += snap->objects[i].size;
		if (entry[(i - first) / 64] >> ((i - first) % 64) & 1) {
			pooled++;
			pooled_size += snap->objects[i].size;
		}
	}
	uint32_t top[POOL_LARGEST_TEXT];
	size_t ntop = pooled ? pool_largest(snap, first, entry, top, POOL_LARGEST_TEXT) : 0;
	free(entry);
	if (pooled) {
		char sz[32], hsz[64] = "";
		if (held > pooled)
			snprintf(hsz, sizeof(hsz), "; %s with what they hold",
				 ph_human_bytes(held_size, sz, sizeof(sz)));
		fprintf(out,
			"note: %" PRIu64 " %s (%s%s) found in pymalloc's or malloc's blocks alone: in "
			"no GC list,\nreferred to by no object or root (held by native code, or a "
			"reference a C extension leaked); --referrers 0xADDRESS\n",
			pooled, pooled == 1 ? "object" : "objects",
			ph_human_bytes(pooled_size, sz, sizeof(sz)), hsz);
		// (The largest of them, with the addresses to ask about.)
		for (size_t k = 0; k < ntop; k++) {
			char kind[256];
			fprintf(out, "  0x%" PRIx64 " %10" PRIu64 "  %s\n", (uint64_t)snap->objects[top[k]].address,
				(uint64_t)snap->objects[top[k]].size,
				ph_snapshot_kind(snap, top[k], kind, sizeof(kind)));
		}
		if (pooled > ntop)
			fprintf(out, "  <%" PRIu64 " more: --json lists the largest %d>\n", pooled - ntop,
				POOL_LARGEST_JSON);
	}
	uint64_t tables, freeable = ph_fill_freeable(snap, &tables);
	if (freeable >= PH_FILL_NOTE_BYTES) {
		char sz[32];
		fprintf(out,
			"note: %" PRIu64 " %s mostly empty (deleted entries: a table never "
			"shrinks); copies would free %s: see --fill\n",
			tables, tables == 1 ? "dict or set is" : "dicts and sets are",
			ph_human_bytes(freeable, sz, sizeof(sz)));
	}
	if (snap->gc_disabled)
		fprintf(out, "warning: the target's garbage collector is disabled (gc.disable()): "
			     "reference cycles are never freed\n");
	if (snap->unreadable)
		fprintf(out,
			"note: %" PRIu64 " references led to unreadable or invalid memory and were "
			"skipped\n",
			snap->unreadable);
}

int ph_digits(uint64_t v)
{
	int d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

int ph_sdigits(int64_t v)
{
	return ph_digits(v < 0 ? 0 - (uint64_t)v : (uint64_t)v) + 1; // (INT64_MIN too)
}

void ph_report_partition_text(FILE *out, const struct ph_snapshot *snap,
			      const struct ph_partition *p, size_t limit)
{
	(void)snap;
	fprintf(out, "Partition of a set of %" PRIu64 " objects. Total size = %" PRIu64 " bytes.\n",
		p->objects, p->size);
	size_t shown = limit && limit < p->nrows ? limit : p->nrows;
	int wi = ph_digits(shown ? shown - 1 : 0), wc = 5, ws = 4, wcum = 10;
	for (size_t i = 0; i < shown; i++) {
		if (ph_digits(p->rows[i].count) > wc)
			wc = ph_digits(p->rows[i].count);
		if (ph_digits(p->rows[i].size) > ws)
			ws = ph_digits(p->rows[i].size);
	}
	if (ph_digits(p->size) > wcum)
		wcum = ph_digits(p->size);
	if (wi < 5)
		wi = 5;
	fprintf(out, " %*s %*s   %% %*s   %% %*s   %% Kind (class / dict of class)\n", wi, "Index",
		wc, "Count", ws, "Size", wcum, "Cumulative");
	uint64_t cum = 0;
	for (size_t i = 0; i < shown; i++) {
		const struct ph_kind_row *r = &p->rows[i];
		cum += r->size;
		fprintf(out, " %*zu %*" PRIu64 " %3u %*" PRIu64 " %3u %*" PRIu64 " %3u %s\n", wi, i, wc,
			r->count, pct(r->count, p->objects), ws, r->size, pct(r->size, p->size), wcum,
			cum, pct(cum, p->size), r->kind);
	}
	if (shown < p->nrows)
		fprintf(out, "<%zu more rows. Use --all or --limit N to see more.>\n",
			p->nrows - shown);
	if (p->inline_values)
		fprintf(out,
			"note: %" PRIu64 " instances keep their attributes without a dict object; "
			"that storage is counted in the instance's size, and no \"dict of\" row "
			"exists for them\n",
			p->inline_values);
}

void ph_json_truncated(FILE *out, bool truncated, const char *reason)
{
	fprintf(out, "\"truncated\":%s,\"truncated_reason\":", truncated ? "true" : "false");
	if (truncated)
		ph_json_string(out, reason ? reason : "stopped early");
	else
		fputs("null", out);
}

// "pid":N,"core":"FILE" or null,"python":"3.X.Y"
static void json_origin(FILE *out, const struct ph_snapshot *snap)
{
	fprintf(out, "\"pid\":%d,\"core\":", snap->pid);
	if (snap->core_path)
		ph_json_string(out, snap->core_path);
	else
		fputs("null", out);
	fputs(",\"python\":", out);
	ph_json_string(out, snap->python_version);
}

static void json_meta(FILE *out, const struct ph_snapshot *snap)
{
	json_origin(out, snap);
	fputs(",\"layout_source\":", out);
	ph_json_string(out, snap->layout_kind ? snap->layout_kind : "");
	fprintf(out, ",\"pause_ms\":%.3f,", (double)snap->pause_ns / 1e6);
	ph_json_truncated(out, snap->truncated, snap->truncated_reason);
}

// ,"kinds":[{"kind","count","size"}...]: the first @p limit rows of @p p.
static void json_kinds(FILE *out, const struct ph_partition *p, size_t limit)
{
	fputs(",\"kinds\":[", out);
	for (size_t i = 0; i < p->nrows && i < limit; i++) {
		fputs(i ? ",{\"kind\":" : "{\"kind\":", out);
		ph_json_string(out, p->rows[i].kind);
		fprintf(out, ",\"count\":%" PRIu64 ",\"size\":%" PRIu64 "}", p->rows[i].count,
			p->rows[i].size);
	}
	fputs("]", out);
}

// "objects":N,"size":S,"kinds":{"kind":[count,size]...} of the objects
// from @first on, those of bitmap @only when not NULL; kinds as the
// partition's (false when out of memory).
static bool json_pool_kinds(FILE *out, const struct ph_snapshot *snap, size_t first,
			    const uint64_t *only)
{
	struct ph_kind_acc *acc = calloc(ph_kind_slots(snap), sizeof(*acc));
	if (!acc)
		return false;
	for (size_t i = first; i < snap->nobjects; i++) {
		if (only && !(only[(i - first) / 64] >> ((i - first) % 64) & 1))
			continue;
		struct ph_kind_acc *a = &acc[ph_kind_slot(snap, i)];
		a->count++;
		a->size += snap->objects[i].size;
	}
	struct ph_partition p;
	struct ph_error *err = ph_partition_from_slots(snap, acc, &p);
	free(acc);
	if (err) {
		ph_error_destroy(err);
		return false;
	}
	fprintf(out, "\"objects\":%" PRIu64 ",\"size\":%" PRIu64 ",\"kinds\":{", p.objects, p.size);
	for (size_t k = 0; k < p.nrows; k++) {
		if (k)
			fputc(',', out);
		ph_json_string(out, p.rows[k].kind);
		fprintf(out, ":[%" PRIu64 ",%" PRIu64 "]", p.rows[k].count, p.rows[k].size);
	}
	fputc('}', out);
	ph_partition_deinit(&p);
	return true;
}

// ,"found_in_pools":{"objects","size","kinds":{"kind":[count,size]...},
// "largest":[{"address","size","kind"}...],"with_what_they_hold":{the same}}: the objects found in pymalloc's blocks
// alone that nothing refers to (ph_snapshot_pool_found()), which no census
// by the gc module sees; then with all that was found through them.
static void json_pool_found(FILE *out, const struct ph_snapshot *snap)
{
	size_t first;
	uint64_t *entry;
	ph_snapshot_pool_found(snap, &first, &entry);
	if (!entry)
		return;
	// (Out of memory, the rest of the document still: the key is left out.)
	fputs(",\"found_in_pools\":{", out);
	if (!json_pool_kinds(out, snap, first, entry))
		fputs("\"objects\":null", out);
	fputs(",\"largest\":[", out);
	uint32_t top[POOL_LARGEST_JSON];
	size_t ntop = pool_largest(snap, first, entry, top, POOL_LARGEST_JSON);
	for (size_t k = 0; k < ntop; k++) {
		char kind[256];
		fprintf(out, "%s{\"address\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",\"kind\":",
			k ? "," : "", (uint64_t)snap->objects[top[k]].address,
			(uint64_t)snap->objects[top[k]].size);
		ph_json_string(out, ph_snapshot_kind(snap, top[k], kind, sizeof(kind)));
		fputc('}', out);
	}
	fputs("],\"with_what_they_hold\":{", out);
	if (!json_pool_kinds(out, snap, first, NULL))
		fputs("\"objects\":null", out);
	fputs("}}", out);
	free(entry);
}

void ph_report_partition_json(FILE *out, const struct ph_snapshot *snap,
			      const struct ph_partition *p, const struct ph_graph *g)
{
	fputc('{', out);
	json_origin(out, snap);
	fputs(",\"python_path\":", out);
	ph_json_string(out, snap->python_path);
	fputs(",\"layout_source\":", out);
	ph_json_string(out, snap->layout_kind ? snap->layout_kind : "");
	fputs(",\"layout\":", out);
	ph_json_string(out, snap->layout_source);
	fprintf(out,
		",\"pause_ms\":%.3f,\"rss\":%" PRIu64 ",\"threads\":%u,\"interpreters\":%u,"
		"\"objects\":%" PRIu64 ",\"size\":%" PRIu64 ",\"unreadable\":%" PRIu64
		",\"inline_values\":%" PRIu64 ",",
		(double)snap->pause_ns / 1e6, snap->rss, snap->threads, snap->interpreters,
		p->objects, p->size, snap->unreadable, p->inline_values);
	ph_json_truncated(out, snap->truncated, snap->truncated_reason);
	json_kinds(out, p, p->nrows);
	if (g)
		fprintf(out, ",\"garbage\":{\"objects\":%" PRIu64 ",\"size\":%" PRIu64 "}",
			g->garbage_objects, g->garbage_size);
	json_pool_found(out, snap);
	if (snap->tracemalloc.known) {
		uint64_t traced = 0;
		for (size_t i = 0; i < snap->nobjects; i++)
			traced += snap->object_site[i] != 0;
		fprintf(out,
			",\"tracemalloc\":{\"traces\":%" PRIu64 ",\"traced_objects\":%" PRIu64
			",\"tracebacks\":%zu}",
			snap->tracemalloc.traces, traced, snap->nsites);
	} else {
		fputs(",\"tracemalloc\":null", out);
	}
	if (snap->sparse_known) {
		uint64_t tables, freeable = ph_fill_freeable(snap, &tables);
		fprintf(out, ",\"sparse_tables\":{\"tables\":%" PRIu64 ",\"free\":%" PRIu64 "}",
			tables, freeable);
	} else {
		fputs(",\"sparse_tables\":null", out);
	}
	fprintf(out, ",\"gc_enabled\":%s,", snap->gc_disabled ? "false" : "true");
	ph_json_pymalloc(out, &snap->pymalloc);
	fputc(',', out);
	ph_json_cmalloc(out, &snap->cmalloc);
	fputs("}\n", out);
}

static void count_table(FILE *out, const char *title, const char *what,
			const struct ph_count_row *rows, size_t n, uint64_t total, size_t limit)
{
	if (!n)
		return;
	fprintf(out, "\n%s:\n Index  Count   %%  %s\n", title, what);
	for (size_t i = 0; i < n && (!limit || i < limit); i++)
		fprintf(out, " %5zu %6" PRIu64 " %3u  %s\n", i, rows[i].count,
			pct(rows[i].count, total), rows[i].name);
	if (limit && n > limit)
		fprintf(out, "<%zu more rows>\n", n - limit);
}

void ph_report_referrers_text(FILE *out, const struct ph_referrers *r, size_t paths)
{
	char sz[32], rsz[32];
	fprintf(out, "%" PRIu64 " object%s of kind %s, %s\n", r->objects, r->objects == 1 ? "" : "s",
		r->kind, ph_human_bytes(r->size, sz, sizeof(sz)));
	if (r->objects)
		fprintf(out,
			"Retained: %" PRIu64 " objects, %s (%s and all that only %s: what freeing "
			"%s would free)\n",
			r->retained_objects, ph_human_bytes(r->retained_size, rsz, sizeof(rsz)),
			r->objects == 1 ? "it" : "they", r->objects == 1 ? "it holds" : "they hold",
			r->objects == 1 ? "it" : "them");
	count_table(out, "Referrers by kind", "Kind (referrers)", r->by_kind, r->nby_kind,
		    r->objects, 20);
	if (r->ncombos > 1)
		count_table(out, "Referrers by combination of kinds", "Kinds (referrers)", r->combos,
			    r->ncombos, r->objects, 10);
	count_table(out, "Weak referrers (they do not keep the objects alive)", "Kind",
		    r->weak, r->nweak, r->objects, 10);
	fprintf(out, "\nReference pattern (depth %u):\n", r->depth);
	for (size_t i = 0; i < r->npattern; i++) {
		const struct ph_pattern_node *n = &r->pattern[i];
		int indent = (int)n->depth * 2;
		if (n->via)
			fprintf(out, " %2u: %6" PRIu64 " %*s%-*s %s\n", n->depth, n->count, indent, "",
				40 - indent > 10 ? 40 - indent : 10, n->kind, n->via);
		else
			fprintf(out, " %2u: %6" PRIu64 " %*s%s\n", n->depth, n->count, indent, "",
				n->kind);
	}
	fprintf(out, "\nShortest paths from roots:\n");
	for (size_t i = 0; i < r->npaths && (!paths || i < paths); i++)
		fprintf(out, " %6" PRIu64 "  %s\n", r->paths[i].count, r->paths[i].name);
	if (paths && r->npaths > paths)
		fprintf(out, "<%zu more paths. Use --paths N to see more.>\n", r->npaths - paths);
	if (r->unreachable)
		fprintf(out, " %6" PRIu64 "  <reachable from no root: cyclic garbage>\n", r->unreachable);
	if (r->nlargest)
		fputs("\nLargest objects (--referrers 0xADDRESS: who holds one of them):\n", out);
	for (size_t i = 0; i < r->nlargest; i++)
		fprintf(out, "  0x%" PRIx64 " %10" PRIu64 "  %s\n", r->largest[i].address,
			r->largest[i].size,
			r->largest[i].path ? r->largest[i].path
					   : "<reachable from no root: cyclic garbage>");
	bool word = false;
	for (size_t i = 0; i < r->npaths && (!paths || i < paths) && !word; i++)
		word = strstr(r->paths[i].name, ".<field +") != NULL;
	for (size_t i = 0; i < r->npattern && !word; i++)
		word = r->pattern[i].via && strstr(r->pattern[i].via, ".<field +") != NULL;
	if (word)
		fputs("note: .<field +N> is the word at byte offset N of a C object's struct: a field "
		      "that its type names neither as a member nor by a property, found because it "
		      "holds the object's address\n",
		      out);
}

// Characters (not bytes) of UTF-8 text @t, for column widths.
static int text_chars(const char *t)
{
	int c = 0;
	for (; *t; t++)
		c += ((unsigned char)*t & 0xc0) != 0x80;
	return c;
}

// Column width @w widened to fit @t (in characters), up to 60 (a package's
// class names, a long local's name: beyond, the row runs over).
static int widen(int w, const char *t)
{
	int c = text_chars(t);
	c = c < 60 ? c : 60;
	return c > w ? c : w;
}

// The width to give printf's "%-*s" so that @t takes @w characters.
static int pad(int w, const char *t)
{
	return w + (int)strlen(t) - text_chars(t);
}

// The table of "What it holds" rows @rows (@n), each line after @indent.
static void holds_rows_text(FILE *out, const struct ph_graph *g, const struct ph_holds_row *rows,
			    size_t n, const char *indent)
{
	const struct ph_snapshot *s = g->snap;
	int lw = (int)strlen("Reference"), kw = (int)strlen("Kind");
	char kind[256];
	for (size_t i = 0; i < n; i++) {
		ph_graph_display_kind(g, rows[i].object, kind, sizeof(kind));
		lw = widen(lw, rows[i].label);
		kw = widen(kw, kind);
	}
	fprintf(out, "%s%-*s  %-*s  %-14s  %10s  %10s  %s\n", indent, lw, "Reference", kw, "Kind",
		"Address", "Size", "Retained", "Value");
	for (size_t i = 0; i < n; i++) {
		const struct ph_holds_row *r = &rows[i];
		ph_graph_display_kind(g, r->object, kind, sizeof(kind));
		char addr[32];
		snprintf(addr, sizeof(addr), "0x%" PRIx64, (uint64_t)s->objects[r->object].address);
		char items[32] = "";
		if (!r->value && r->items >= 0)
			snprintf(items, sizeof(items), "len %" PRId64, r->items);
		const char *value = r->value ? r->value : items;
		fprintf(out, "%s%-*s  %-*s  %-14s  %10" PRIu64 "  %10" PRIu64 "%s%s\n", indent,
			pad(lw, r->label), r->label, pad(kw, kind), kind, addr,
			(uint64_t)s->objects[r->object].size, r->retained, *value ? "  " : "", value);
	}
}

void ph_report_holds_text(FILE *out, const struct ph_graph *g, const struct ph_holds *h)
{
	if (h->value)
		fprintf(out, "\nValue: %s\n", h->value);
	else if (h->items >= 0)
		fprintf(out, "\nItems: %" PRId64 "\n", h->items);
	if (!h->total)
		return;
	fprintf(out,
		"\nWhat it holds (%" PRIu64 " reference%s; retained: what the object referred to "
		"keeps alive alone):\n",
		h->total, h->total == 1 ? "" : "s");
	holds_rows_text(out, g, h->rows, h->nrows, "  ");
	if (h->total > h->nrows)
		fprintf(out, "<%" PRIu64 " more references. Use --limit N or --all to see more.>\n",
			h->total - h->nrows);
}

// "What it holds" rows @rows (@n) as the elements of a JSON array.
static void holds_rows_json(FILE *out, const struct ph_graph *g, const struct ph_holds_row *rows,
			    size_t n)
{
	const struct ph_snapshot *s = g->snap;
	char kind[256];
	for (size_t i = 0; i < n; i++) {
		const struct ph_holds_row *r = &rows[i];
		fputs(i ? ",{\"label\":" : "{\"label\":", out);
		ph_json_string(out, r->label);
		ph_graph_display_kind(g, r->object, kind, sizeof(kind));
		fputs(",\"kind\":", out);
		ph_json_string(out, kind);
		fprintf(out,
			",\"address\":\"0x%" PRIx64 "\",\"size\":%" PRIu64 ",\"retained\":{\"objects\":%u"
			",\"size\":%" PRIu64 "},\"value\":",
			(uint64_t)s->objects[r->object].address, (uint64_t)s->objects[r->object].size,
			r->retained_count, r->retained);
		if (r->value)
			ph_json_string(out, r->value);
		else
			fputs("null", out);
		if (r->items >= 0)
			fprintf(out, ",\"len\":%" PRId64 "}", r->items);
		else
			fputs(",\"len\":null}", out);
	}
}

// A frame's (a coroutine's) locals: their rows, then how many are left out.
static void locals_text(FILE *out, const struct ph_graph *g, const struct ph_holds *h)
{
	if (h->nrows)
		holds_rows_text(out, g, h->rows, h->nrows, "      ");
	if (h->total > h->nrows)
		fprintf(out, "      <%" PRIu64 " more: --json lists them>\n", h->total - h->nrows);
}

// The same as JSON members: ,"locals_total":N,"locals":[rows].
static void locals_json(FILE *out, const struct ph_graph *g, const struct ph_holds *h)
{
	fprintf(out, ",\"locals_total\":%" PRIu64 ",\"locals\":[", h->total);
	holds_rows_json(out, g, h->rows, h->nrows);
	fputs("]", out);
}

// Frame @f's line: "#0 handle() app.py:42", from its root's label.
static void frame_line(const struct ph_snapshot *s, const struct ph_stack_frame *f, size_t k,
		       char *buf, size_t cap)
{
	char label[512];
	ph_graph_root_label(s, f->root, label, sizeof(label));
	const char *p = strstr(label, " frame ");
	snprintf(buf, cap, "#%zu %s", k, p ? p + 7 : label);
}

void ph_report_stacks_text(FILE *out, const struct ph_graph *g, const struct ph_stacks *st,
			   size_t limit)
{
	const struct ph_snapshot *s = g->snap;
	size_t shown = limit && limit < st->n ? limit : st->n;
	fprintf(out,
		"\nThreads and their stacks, innermost frame first (%zu thread%s; retained: what "
		"the thread,\nthe frame or the object referred to keeps alive alone):\n",
		st->n, st->n == 1 ? "" : "s");
	for (size_t t = 0; t < shown; t++) {
		const struct ph_stack_thread *th = &st->threads[t];
		char who[320];
		ph_graph_thread_label(s, th->id, who, sizeof(who));
		fprintf(out, "\n%s: retained %" PRIu64 " bytes, %u objects; %zu frame%s\n", who,
			th->retained, th->retained_count, th->nframes, th->nframes == 1 ? "" : "s");
		for (size_t k = 0; k < th->nframes; k++) {
			const struct ph_stack_frame *f = &th->frames[k];
			char line[600];
			frame_line(s, f, k, line, sizeof(line));
			fprintf(out, "  %s", line);
			if (f->retained)
				fprintf(out, "  (retained %" PRIu64 " bytes, %u objects)", f->retained,
					f->retained_count);
			fputc('\n', out);
			locals_text(out, g, &f->locals);
		}
		if (th->others.nrows) {
			fputs("  Also the thread's own:\n", out);
			holds_rows_text(out, g, th->others.rows, th->others.nrows, "      ");
		}
	}
	if (st->n > shown)
		fprintf(out, "\n<%zu more threads. Use --limit N or --all to see more.>\n",
			st->n - shown);
}

void ph_report_stacks_json(FILE *out, const struct ph_graph *g, const struct ph_stacks *st)
{
	const struct ph_snapshot *s = g->snap;
	fputs("{", out);
	json_meta(out, s);
	fputs(",\"threads\":[", out);
	for (size_t t = 0; t < st->n; t++) {
		const struct ph_stack_thread *th = &st->threads[t];
		char who[320];
		ph_graph_thread_label(s, th->id, who, sizeof(who));
		fprintf(out, "%s{\"thread\":\"0x%" PRIx64 "\",\"label\":", t ? "," : "", th->id);
		ph_json_string(out, who);
		fprintf(out, ",\"retained\":{\"objects\":%u,\"size\":%" PRIu64 "},\"frames\":[",
			th->retained_count, th->retained);
		for (size_t k = 0; k < th->nframes; k++) {
			const struct ph_stack_frame *f = &th->frames[k];
			const struct ph_root *rt = &s->roots[f->root];
			const char *fn, *file;
			ph_graph_code_names(s, rt->code, &fn, &file);
			fputs(k ? ",{\"function\":" : "{\"function\":", out);
			if (fn)
				ph_json_string(out, fn);
			else
				fputs("null", out);
			fputs(",\"file\":", out);
			if (file)
				ph_json_string(out, file);
			else
				fputs("null", out);
			if (rt->line >= 0)
				fprintf(out, ",\"line\":%d", rt->line);
			else
				fputs(",\"line\":null", out);
			fprintf(out, ",\"retained\":{\"objects\":%u,\"size\":%" PRIu64 "}",
				f->retained_count, f->retained);
			locals_json(out, g, &f->locals);
			fputs("}", out);
		}
		fputs("],\"others\":[", out);
		holds_rows_json(out, g, th->others.rows, th->others.nrows);
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

// A coroutine's function and file: its code's, else its own __qualname__.
static void coro_names(const struct ph_snapshot *s, const struct ph_task_coro *c,
		       const char **fn, const char **file)
{
	ph_graph_code_names(s, c->code, fn, file);
	if (!*fn && c->qualname != PH_NONE)
		*fn = ph_snapshot_text(s, c->qualname);
}

// What a task awaits, into @buf: "task 'name' at 0x…", "_asyncio.Future at 0x…".
static void awaited_text(const struct ph_graph *g, const struct ph_tasks *ts, uint32_t a,
			 char *buf, size_t cap)
{
	const struct ph_snapshot *s = g->snap;
	for (size_t i = 0; i < ts->n; i++)
		if (ts->tasks[i].object == a && ts->tasks[i].name) {
			snprintf(buf, cap, "task '%s' at 0x%" PRIx64, ts->tasks[i].name,
				 (uint64_t)s->objects[a].address);
			return;
		}
	char kind[256];
	ph_graph_display_kind(g, a, kind, sizeof(kind));
	snprintf(buf, cap, "%s at 0x%" PRIx64, kind, (uint64_t)s->objects[a].address);
}

void ph_report_tasks_text(FILE *out, const struct ph_graph *g, const struct ph_tasks *ts,
			  size_t limit)
{
	const struct ph_snapshot *s = g->snap;
	size_t shown = limit && limit < ts->n ? limit : ts->n;
	if (!ts->n) {
		fputs("\nNo asyncio task (no _asyncio.Task object in the heap), no other library's "
		      "task (trio's)\nand no suspended greenlet.\n",
		      out);
		return;
	}
	size_t ngl = 0, nother = 0;
	for (size_t i = 0; i < ts->n; i++) {
		ngl += ts->tasks[i].greenlet;
		nother += ts->tasks[i].other;
	}
	fprintf(out,
		"\n%s and what they await, innermost coroutine first (%zu task%s; "
		"retained:\nwhat the task or the object referred to keeps alive alone)",
		nother ? "Tasks" : "asyncio tasks", ts->n - ngl, ts->n - ngl == 1 ? "" : "s");
	if (ngl)
		fprintf(out, "; suspended greenlets, innermost frame first (%zu)", ngl);
	fputs(":\n", out);
	for (size_t i = 0; i < shown; i++) {
		const struct ph_task *t = &ts->tasks[i];
		char aw[320] = "";
		if (t->awaiting != PH_NONE)
			awaited_text(g, ts, t->awaiting, aw, sizeof(aw));
		if (t->greenlet) {
			char kind[256];
			ph_graph_display_kind(g, t->object, kind, sizeof(kind));
			fprintf(out, "\ngreenlet %s at 0x%" PRIx64 ": retained %" PRIu64
				     " bytes, %u objects; suspended\n",
				kind, (uint64_t)s->objects[t->object].address, t->retained,
				t->retained_count);
		} else {
			char kind[256] = "";
			if (t->other) {
				// (Another library's: its kind.)
				kind[0] = ' ';
				kind[1] = '(';
				ph_graph_display_kind(g, t->object, kind + 2, sizeof(kind) - 3);
				strlcat(kind, ")", sizeof(kind));
			}
			fprintf(out,
				"\ntask '%s'%s at 0x%" PRIx64 ": retained %" PRIu64 " bytes, %u objects",
				t->name ? t->name : "?", kind, (uint64_t)s->objects[t->object].address,
				t->retained, t->retained_count);
			if (*aw)
				fprintf(out, "; awaiting %s", aw);
			else if (!t->ncoros)
				fputs("; done", out);
			fputc('\n', out);
		}
		for (size_t k = 0; k < t->ncoros; k++) {
			const struct ph_task_coro *c = &t->coros[k];
			const char *fn, *file;
			coro_names(s, c, &fn, &file);
			char line[24] = "";
			if (c->line >= 0)
				snprintf(line, sizeof(line), ":%d", c->line);
			fprintf(out, "  #%zu %s() %s%s\n", k, fn ? fn : "?", ph_graph_short_file(file), line);
			locals_text(out, g, &c->locals);
		}
	}
	if (ts->n > shown)
		fprintf(out, "\n<%zu more tasks. Use --limit N or --all to see more.>\n",
			ts->n - shown);
}

void ph_report_tasks_json(FILE *out, const struct ph_graph *g, const struct ph_tasks *ts)
{
	const struct ph_snapshot *s = g->snap;
	fputs("{", out);
	json_meta(out, s);
	fputs(",\"tasks\":[", out);
	for (size_t i = 0; i < ts->n; i++) {
		const struct ph_task *t = &ts->tasks[i];
		fprintf(out, "%s{\"address\":\"0x%" PRIx64 "\",\"name\":", i ? "," : "",
			(uint64_t)s->objects[t->object].address);
		if (t->name)
			ph_json_string(out, t->name);
		else
			fputs("null", out);
		char kind[256];
		ph_graph_display_kind(g, t->object, kind, sizeof(kind));
		fputs(",\"kind\":", out);
		ph_json_string(out, kind);
		fprintf(out, ",\"greenlet\":%s", t->greenlet ? "true" : "false");
		fprintf(out, ",\"retained\":{\"objects\":%u,\"size\":%" PRIu64 "},\"path\":",
			t->retained_count, t->retained);
		char *path = ph_graph_path(g, t->object);
		if (path)
			ph_json_string(out, path);
		else
			fputs("null", out);
		free(path);
		fputs(",\"awaiting\":", out);
		if (t->awaiting != PH_NONE) {
			ph_graph_display_kind(g, t->awaiting, kind, sizeof(kind));
			fputs("{\"kind\":", out);
			ph_json_string(out, kind);
			fprintf(out, ",\"address\":\"0x%" PRIx64 "\"}",
				(uint64_t)s->objects[t->awaiting].address);
		} else {
			fputs("null", out);
		}
		fputs(",\"coroutines\":[", out);
		for (size_t k = 0; k < t->ncoros; k++) {
			const struct ph_task_coro *c = &t->coros[k];
			const char *fn, *file;
			coro_names(s, c, &fn, &file);
			if (c->object < s->nobjects) {
				ph_graph_display_kind(g, c->object, kind, sizeof(kind));
				fprintf(out, "%s{\"address\":\"0x%" PRIx64 "\",\"kind\":", k ? "," : "",
					(uint64_t)s->objects[c->object].address);
				ph_json_string(out, kind);
			} else {
				// (A greenlet's frame since 3.11: greenlet's copy, no object.)
				fprintf(out, "%s{\"address\":null,\"kind\":\"frame\"", k ? "," : "");
			}
			fputs(",\"function\":", out);
			if (fn)
				ph_json_string(out, fn);
			else
				fputs("null", out);
			fputs(",\"file\":", out);
			if (file)
				ph_json_string(out, file);
			else
				fputs("null", out);
			if (c->line >= 0)
				fprintf(out, ",\"line\":%d", c->line);
			else
				fputs(",\"line\":null", out);
			locals_json(out, g, &c->locals);
			fputs("}", out);
		}
		fputs("]}", out);
	}
	fputs("]}\n", out);
}

void ph_report_holds_json(FILE *out, const struct ph_graph *g, const struct ph_holds *h)
{
	fputs(",\"holds\":{\"value\":", out);
	if (h->value)
		ph_json_string(out, h->value);
	else
		fputs("null", out);
	if (h->items >= 0)
		fprintf(out, ",\"len\":%" PRId64, h->items);
	else
		fputs(",\"len\":null", out);
	fprintf(out, ",\"total\":%" PRIu64 ",\"references\":[", h->total);
	holds_rows_json(out, g, h->rows, h->nrows);
	fputs("]}", out);
}

void ph_report_holds_groups_text(FILE *out, const struct ph_holds_groups *h)
{
	if (!h->n)
		return;
	fprintf(out,
		"\nWhat they hold, by reference (of %" PRIu64 " object%s; retained: what the objects "
		"referred to keep alive alone):\n",
		h->sources, h->sources == 1 ? "" : "s");
	int lw = (int)strlen("Reference"), kw = (int)strlen("Kind");
	for (size_t i = 0; i < h->n; i++) {
		lw = widen(lw, h->rows[i].label);
		kw = widen(kw, h->rows[i].kind);
	}
	fprintf(out, "  %-*s  %-*s  %10s  %10s  %10s  %10s\n", lw, "Reference", kw, "Kind", "Refs",
		"Objects", "Size", "Retained");
	for (size_t i = 0; i < h->n; i++) {
		const struct ph_holds_group *r = &h->rows[i];
		char sz[32], rsz[32];
		fprintf(out, "  %-*s  %-*s  %10" PRIu64 "  %10" PRIu64 "  %10s  %10s\n",
			pad(lw, r->label), r->label, pad(kw, r->kind), r->kind, r->refs, r->objects,
			ph_human_bytes(r->size, sz, sizeof(sz)),
			ph_human_bytes(r->retained, rsz, sizeof(rsz)));
	}
	if (h->total > h->n)
		fprintf(out, "<%zu more rows. Use --limit N or --all to see more.>\n", h->total - h->n);
}

void ph_report_holds_groups_json(FILE *out, const struct ph_holds_groups *h)
{
	fprintf(out, ",\"holds_by_reference\":{\"total\":%zu,\"rows\":[", h->total);
	for (size_t i = 0; i < h->n; i++) {
		const struct ph_holds_group *r = &h->rows[i];
		fputs(i ? ",{\"label\":" : "{\"label\":", out);
		ph_json_string(out, r->label);
		fputs(",\"kind\":", out);
		ph_json_string(out, r->kind);
		fprintf(out,
			",\"refs\":%" PRIu64 ",\"objects\":%" PRIu64 ",\"size\":%" PRIu64
			",\"retained\":%" PRIu64 "}",
			r->refs, r->objects, r->size, r->retained);
	}
	fputs("]}", out);
}

static void json_rows(FILE *out, const char *name, const char *key,
		      const struct ph_count_row *rows, size_t n, size_t limit)
{
	fprintf(out, ",\"%s\":[", name);
	for (size_t i = 0; i < n && (!limit || i < limit); i++) {
		fprintf(out, "%s{\"%s\":", i ? "," : "", key);
		ph_json_string(out, rows[i].name);
		fprintf(out, ",\"%s\":%" PRIu64 "}", !strcmp(key, "path") ? "objects" : "count",
			rows[i].count);
	}
	fputs("]", out);
}

static const char *site_file(const struct ph_snapshot *snap, uint32_t file)
{
	return file < snap->nsite_files ? snap->site_files[file] : "?";
}

void ph_report_referrers_json(FILE *out, const struct ph_snapshot *snap,
			      const struct ph_referrers *r, size_t paths,
			      const struct ph_sites *alloc, const struct ph_graph *g,
			      const struct ph_holds *holds, const struct ph_holds_groups *groups)
{
	fputs("{", out);
	json_meta(out, snap);
	fputs(",\"type\":", out);
	ph_json_string(out, r->kind);
	fprintf(out,
		",\"objects\":%" PRIu64 ",\"size\":%" PRIu64 ",\"retained\":{\"objects\":%" PRIu64
		",\"size\":%" PRIu64 "}",
		r->objects, r->size, r->retained_objects, r->retained_size);
	json_rows(out, "referrers", "kind", r->by_kind, r->nby_kind, 0);
	json_rows(out, "combinations", "kinds", r->combos, r->ncombos, 0);
	json_rows(out, "weak_referrers", "kind", r->weak, r->nweak, 0);
	fputs(",\"pattern\":[", out);
	for (size_t i = 0; i < r->npattern; i++) {
		const struct ph_pattern_node *n = &r->pattern[i];
		fprintf(out, "%s{\"depth\":%u,\"count\":%" PRIu64 ",\"kind\":", i ? "," : "",
			n->depth, n->count);
		ph_json_string(out, n->kind);
		if (n->via) {
			fputs(",\"via\":", out);
			ph_json_string(out, n->via);
		}
		fputs("}", out);
	}
	fputs("]", out);
	json_rows(out, "paths", "path", r->paths, r->npaths, paths);
	fputs(",\"largest\":[", out);
	for (size_t i = 0; i < r->nlargest; i++) {
		fprintf(out, "%s{\"address\":\"0x%" PRIx64 "\",\"size\":%" PRIu64, i ? "," : "",
			r->largest[i].address, r->largest[i].size);
		if (r->largest[i].path) {
			fputs(",\"path\":", out);
			ph_json_string(out, r->largest[i].path);
		}
		fputs("}", out);
	}
	fputs("]", out);
	fprintf(out, ",\"unreachable\":%" PRIu64, r->unreachable);
	if (alloc)
		ph_report_alloc_json(out, "allocated_at", snap, alloc);
	if (g && holds)
		ph_report_holds_json(out, g, holds);
	if (groups)
		ph_report_holds_groups_json(out, groups);
	fputs("}\n", out);
}

void ph_report_alloc_json(FILE *out, const char *member, const struct ph_snapshot *snap,
			  const struct ph_sites *alloc)
{
	fprintf(out, ",\"%s\":{\"objects\":%" PRIu64 ",\"traced_objects\":%" PRIu64 ",\"lines\":[",
		member, alloc->objects, alloc->traced_objects);
	for (size_t i = 0; i < alloc->nrows && i < PH_ALLOC_LINES; i++) {
		fputs(i ? ",{\"file\":" : "{\"file\":", out);
		ph_json_string(out, site_file(snap, alloc->rows[i].file));
		fprintf(out, ",\"line\":%u,\"count\":%" PRIu64 ",\"size\":%" PRIu64 "}",
			alloc->rows[i].lineno, alloc->rows[i].count, alloc->rows[i].size);
	}
	fputs("]}", out);
}

void ph_report_alloc_text(FILE *out, const char *title, const struct ph_snapshot *snap,
			  const struct ph_sites *alloc)
{
	char a[32];
	fprintf(out,
		"\n%s (tracemalloc, the most recent frame; %" PRIu64 " of %" PRIu64
		" objects traced; --sites for all):\n",
		title, alloc->traced_objects, alloc->objects);
	for (size_t i = 0; i < alloc->nrows && i < PH_ALLOC_LINES; i++)
		fprintf(out, "  %8" PRIu64 " %10s  %s:%u\n", alloc->rows[i].count,
			ph_human_bytes(alloc->rows[i].size, a, sizeof(a)),
			site_file(snap, alloc->rows[i].file), alloc->rows[i].lineno);
	if (alloc->nrows > PH_ALLOC_LINES)
		fprintf(out, "  (%zu more lines)\n", alloc->nrows - PH_ALLOC_LINES);
}

static uint64_t heap_bytes(const struct ph_snapshot *s)
{
	uint64_t total = 0;
	for (size_t i = 0; i < s->nobjects; i++)
		total += s->objects[i].size;
	return total;
}

enum {
	RETAINED_TEXT_KINDS = 4,  /* kinds on a row's line */
	RETAINED_JSON_KINDS = 10, /* kinds per row in JSON */
};

enum { RETAINED_ROOTS = 5 }; /* roots listed by what they alone hold */

// The (at most) RETAINED_ROOTS roots that alone hold the most, largest first:
// indices into the snapshot's roots, into @top; their number.
static size_t top_roots(const struct ph_dominators *d, uint32_t *top)
{
	size_t n = 0;
	uint64_t keys[RETAINED_ROOTS];
	for (uint32_t r = 0; r < d->nroots; r++)
		if (d->retained[d->n + r])
			ph_topk_offer(top, keys, &n, RETAINED_ROOTS, r, d->retained[d->n + r]);
	return n;
}

static void retained_roots_text(FILE *out, const struct ph_graph *g, const struct ph_dominators *d,
				uint64_t total)
{
	uint32_t top[RETAINED_ROOTS];
	size_t n = top_roots(d, top);
	if (!n)
		return;
	fputs("\nRoots that alone keep the most memory alive (a thread's frame, a callback the "
	      "interpreter\nholds…: what no other root reaches):\n    Retained   %  Objects  Root\n",
	      out);
	for (size_t k = 0; k < n; k++) {
		char label[512];
		ph_graph_root_label(g->snap, top[k], label, sizeof(label));
		fprintf(out, " %11" PRIu64 " %3u %8u  %s\n", d->retained[d->n + top[k]],
			pct(d->retained[d->n + top[k]], total), d->retained_count[d->n + top[k]],
			label);
	}
}

enum { RETAINED_THREADS = 10 }; /* threads listed by what they alone hold */

// The (at most) RETAINED_THREADS threads that alone hold the most, largest
// first: indices into d->thread_ids, into @top; their number.
static size_t top_threads(const struct ph_dominators *d, uint32_t *top)
{
	size_t n = 0;
	uint64_t keys[RETAINED_THREADS];
	for (uint32_t t = 0; t < d->nthreads; t++)
		ph_topk_offer(top, keys, &n, RETAINED_THREADS, t, d->retained[d->n + d->nroots + t]);
	return n;
}

static void retained_threads_text(FILE *out, const struct ph_graph *g,
				  const struct ph_dominators *d, uint64_t total)
{
	uint32_t top[RETAINED_THREADS];
	size_t n = top_threads(d, top);
	if (!n)
		return;
	fprintf(out, "\nThreads by what they alone keep alive (all of a thread's frames, its state "
		     "dict, the\nexceptions it handles, its hooks: what no other thread or root "
		     "reaches; %u thread%s):\n    Retained   %%  Objects  Thread\n",
		d->nthreads, d->nthreads == 1 ? "" : "s");
	for (size_t k = 0; k < n; k++) {
		char label[320];
		uint32_t at = d->n + d->nroots + top[k];
		ph_graph_thread_label(g->snap, d->thread_ids[top[k]], label, sizeof(label));
		fprintf(out, " %11" PRIu64 " %3u %8u  %s\n", d->retained[at], pct(d->retained[at], total),
			d->retained_count[at], label);
	}
	if (d->nthreads > n)
		fprintf(out, "  (%u more threads: --json lists them)\n", d->nthreads - (uint32_t)n);
}

void ph_report_retained_text(FILE *out, const struct ph_graph *g, const struct ph_dominators *d,
			     const uint32_t *top, size_t n, const struct ph_retained_rows *rows)
{
	const struct ph_snapshot *s = g->snap;
	uint64_t total = heap_bytes(s);
	fputs("\nObjects that keep the most memory alive (retained: the object and all that only it "
	      "holds,\nfreed with it; Within: the row whose retained objects include it):\n"
	      " Index    Retained   %   Own size  Objects  Within  Kind: shortest path\n",
	      out);
	for (size_t k = 0; k < n; k++) {
		uint32_t i = top[k];
		char kind[256], within[16] = "-";
		ph_graph_display_kind(g, i, kind, sizeof(kind));
		if (rows && k < rows->n && rows->within[k] != PH_NONE)
			snprintf(within, sizeof(within), "%u", rows->within[k]);
		char *path = ph_graph_path(g, i);
		fprintf(out, " %5zu %11" PRIu64 " %3u %10" PRIu64 " %8u  %6s  %s: %s\n", k,
			d->retained[i], pct(d->retained[i], total), (uint64_t)s->objects[i].size,
			d->retained_count[i], within, kind,
			path ? path : "<reachable from no root: cyclic garbage>");
		free(path);
	}
	if (!rows || !rows->nkinds) {
		retained_roots_text(out, g, d, total);
		retained_threads_text(out, g, d, total);
		return;
	}
	fputs("\nWhat they keep, by kind (the largest kinds among each row's retained objects, with "
	      "their share\nof its retained size):\n",
	      out);
	for (size_t k = 0; k < rows->nkinds && k < n; k++) {
		const struct ph_partition *p = &rows->kinds[k];
		fprintf(out, " %5zu ", k);
		for (size_t j = 0; j < p->nrows && j < RETAINED_TEXT_KINDS; j++)
			fprintf(out, "%s %" PRIu64 " %s %u%%", j ? "," : "", p->rows[j].count,
				p->rows[j].kind, pct(p->rows[j].size, p->size));
		if (p->nrows > RETAINED_TEXT_KINDS)
			fprintf(out, ", +%zu kinds", p->nrows - RETAINED_TEXT_KINDS);
		fputc('\n', out);
	}
	retained_roots_text(out, g, d, total);
	retained_threads_text(out, g, d, total);
}

// Threads by what they alone hold, largest first (then by id).
static int by_thread_retained(const void *a, const void *b, void *arg)
{
	const struct ph_dominators *d = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint64_t rx = d->retained[d->n + d->nroots + x], ry = d->retained[d->n + d->nroots + y];
	if (rx != ry)
		return rx > ry ? -1 : 1;
	return x < y ? -1 : x > y;
}

void ph_report_retained_json(FILE *out, const struct ph_graph *g, const struct ph_dominators *d,
			     const uint32_t *top, size_t n, const struct ph_retained_rows *rows)
{
	const struct ph_snapshot *s = g->snap;
	fputs("{", out);
	json_meta(out, s);
	fprintf(out, ",\"objects\":%zu,\"size\":%" PRIu64 ",\"retained\":[", s->nobjects,
		heap_bytes(s));
	for (size_t k = 0; k < n; k++) {
		uint32_t i = top[k];
		char kind[256];
		ph_graph_display_kind(g, i, kind, sizeof(kind));
		char *path = ph_graph_path(g, i);
		fprintf(out, "%s{\"address\":\"0x%" PRIx64 "\",\"kind\":", k ? "," : "",
			(uint64_t)s->objects[i].address);
		ph_json_string(out, kind);
		fprintf(out, ",\"size\":%" PRIu64 ",\"retained\":%" PRIu64 ",\"retained_objects\":%u",
			(uint64_t)s->objects[i].size, d->retained[i], d->retained_count[i]);
		if (path) {
			fputs(",\"path\":", out);
			ph_json_string(out, path);
		}
		if (rows && k < rows->n && rows->within[k] != PH_NONE)
			fprintf(out, ",\"within\":%u", rows->within[k]);
		if (rows && k < rows->nkinds)
			json_kinds(out, &rows->kinds[k], RETAINED_JSON_KINDS);
		fputs("}", out);
		free(path);
	}
	fputs("],\"roots\":[", out);
	uint32_t top_r[RETAINED_ROOTS];
	size_t nr = top_roots(d, top_r);
	for (size_t k = 0; k < nr; k++) {
		char label[512];
		ph_graph_root_label(s, top_r[k], label, sizeof(label));
		fputs(k ? ",{\"root\":" : "{\"root\":", out);
		ph_json_string(out, label);
		fprintf(out, ",\"retained\":%" PRIu64 ",\"retained_objects\":%u}",
			d->retained[d->n + top_r[k]], d->retained_count[d->n + top_r[k]]);
	}
	// Every thread, largest first.
	fputs("],\"threads\":[", out);
	uint32_t *order = reallocarray(NULL, d->nthreads ? d->nthreads : 1, sizeof(*order));
	for (uint32_t t = 0; order && t < d->nthreads; t++)
		order[t] = t;
	if (order && d->nthreads)
		qsort_r(order, d->nthreads, sizeof(*order), by_thread_retained, (void *)d);
	for (uint32_t k = 0; order && k < d->nthreads; k++) {
		uint32_t t = order[k], at = d->n + d->nroots + t;
		char label[320];
		ph_graph_thread_label(s, d->thread_ids[t], label, sizeof(label));
		fprintf(out, "%s{\"thread\":\"0x%" PRIx64 "\",\"label\":", k ? "," : "",
			d->thread_ids[t]);
		ph_json_string(out, label);
		fprintf(out, ",\"retained\":%" PRIu64 ",\"retained_objects\":%u}", d->retained[at],
			d->retained_count[at]);
	}
	free(order);
	fputs("]}\n", out);
}

/* ---- --arenas ---- */

void ph_report_arenas_text(FILE *out, const struct ph_snapshot *snap, const struct ph_arena_use *u,
			   size_t limit)
{
	char sz[32], a[32], b[32];
	if (!u->arenas) {
		fprintf(out, "\npymalloc has no arenas: the objects come from malloc "
			     "(PYTHONMALLOC=malloc)\n");
		return;
	}
	fprintf(out, "\npymalloc's arenas by the share of them in use (%" PRIu64 " arena%s of %s; "
		     "one goes back to the system only when none of its blocks is in use):\n",
		u->arenas, u->arenas == 1 ? "" : "s", ph_human_bytes(u->arena_size, sz, sizeof(sz)));
	fprintf(out, "  %-8s %8s %11s %11s %10s %11s\n", "in use", "arenas", "in use", "not in use",
		"objects", "their size");
	for (unsigned i = 0; i < PH_ARENA_BANDS; i++) {
		const struct ph_arena_band *x = &u->bands[i];
		char band[16];
		snprintf(band, sizeof(band), "<= %u%%", ph_arena_band_pct[i]);
		fprintf(out, "  %-8s %8" PRIu64 " %11s %11s %10" PRIu64 " %11s\n", band, x->arenas,
			ph_human_bytes(x->used, a, sizeof(a)),
			ph_human_bytes(x->arenas * u->arena_size - x->used, b, sizeof(b)), x->objects,
			ph_human_bytes(x->size, sz, sizeof(sz)));
	}
	fprintf(out, "  (%" PRIu64 " objects in no arena: larger than 512 bytes, or static)\n",
		u->outside);
	if (!u->sparse.arenas) {
		fprintf(out, "\nNo arena is at most %u%% in use.\n", PH_SPARSE_PCT);
		return;
	}
	fprintf(out,
		"\nThe objects in the %" PRIu64 " arena%s at most %u%% in use, which keep %s not in "
		"use (an arena goes back once they and the memory they own are freed):\n",
		u->sparse.arenas, u->sparse.arenas == 1 ? "" : "s", PH_SPARSE_PCT,
		ph_human_bytes(u->sparse.arenas * u->arena_size - u->sparse.used, a, sizeof(a)));
	ph_report_partition_text(out, snap, &u->kinds, limit);
	if (u->sparse.used > u->sparse.size)
		fprintf(out,
			"note: the blocks in use in those arenas hold %s, the objects' sizes add up to "
			"%s: the rest is sizes rounded up to pymalloc's blocks, memory the objects "
			"own (a list's items, a dict's keys and values) and C code's\n",
			ph_human_bytes(u->sparse.used, a, sizeof(a)),
			ph_human_bytes(u->sparse.size, b, sizeof(b)));
}

static void json_band(FILE *out, const struct ph_arena_band *x, uint32_t arena_size)
{
	fprintf(out,
		"\"arenas\":%" PRIu64 ",\"used_bytes\":%" PRIu64 ",\"unused_bytes\":%" PRIu64
		",\"objects\":%" PRIu64 ",\"size\":%" PRIu64,
		x->arenas, x->used, x->arenas * arena_size - x->used, x->objects, x->size);
}

void ph_report_arenas_json(FILE *out, const struct ph_snapshot *snap, const struct ph_arena_use *u,
			   const struct ph_diff_held *held, size_t nheld, size_t paths)
{
	fputc('{', out);
	json_meta(out, snap);
	fprintf(out, ",\"arena_size\":%u,\"arenas\":%" PRIu64 ",\"bands\":[", u->arena_size,
		u->arenas);
	for (unsigned i = 0; i < PH_ARENA_BANDS; i++) {
		fprintf(out, "%s{\"max_used_pct\":%u,", i ? "," : "", ph_arena_band_pct[i]);
		json_band(out, &u->bands[i], u->arena_size);
		fputc('}', out);
	}
	fprintf(out, "],\"outside_objects\":%" PRIu64 ",\"sparse\":{\"max_used_pct\":%u,",
		u->outside, PH_SPARSE_PCT);
	json_band(out, &u->sparse, u->arena_size);
	json_kinds(out, &u->kinds, u->kinds.nrows);
	fputc('}', out);
	ph_diff_report_held_json(out, "held", "count", "size", held, nheld, paths);
	fputs(",", out);
	ph_json_pymalloc(out, &snap->pymalloc);
	fputs("}\n", out);
}

/* ---- --duplicates ---- */

// A hashed value's length, for its row: " (5000 characters)", or "".
static void value_length(const struct ph_snapshot *snap, const struct ph_dup_value *v, char *buf,
			 size_t cap)
{
	buf[0] = '\0';
	if (!v->hashed)
		return;
	uint64_t n = snap->value_hashes[v->hashed - 1].length;
	bool bytes = ph_dup_value_is_bytes(snap, v);
	snprintf(buf, cap, " (%" PRIu64 " %s%s)", n, bytes ? "byte" : "character", n == 1 ? "" : "s");
}

void ph_report_dup_strs_text(FILE *out, const struct ph_snapshot *snap, const struct ph_dup_strs *d,
			     const struct ph_diff_held *held, size_t nheld, size_t paths)
{
	char a[32];
	if (d->hashes_known)
		fprintf(out,
			"\nDuplicate strs and bytes: %" PRIu64 " strs compared (%" PRIu64
			" of them longer than 200 characters or with a NUL, by a hash of their "
			"value), %" PRIu64 " bytes (by a hash), %" PRIu64 " distinct values, %" PRIu64
			" of them in several copies:\n",
			d->strs, d->hashed_strs, d->bytes, d->distinct, d->dup_values);
	else
		fprintf(out,
			"\nDuplicate strs: %" PRIu64 " strs compared (up to 200 characters; %" PRIu64
			" others, and the bytes: the snapshot has no hashes of their values), %" PRIu64
			" distinct values, %" PRIu64 " of them in several copies:\n",
			d->strs, d->other_strs, d->distinct, d->dup_values);
	fprintf(out,
		"%" PRIu64 " copies more than one per value, %s (one copy of each, by sys.intern() "
		"where they are made or a dict of the values seen, would save them)\n",
		d->extra_copies, ph_human_bytes(d->extra_bytes, a, sizeof(a)));
	if (!d->ntop)
		return;
	int wc = 6, we = 11;
	for (size_t k = 0; k < d->ntop; k++) {
		if (ph_digits(d->top[k].count) > wc)
			wc = ph_digits(d->top[k].count);
		if (ph_digits(d->top[k].extra) > we)
			we = ph_digits(d->top[k].extra);
	}
	fprintf(out, "\n %*s %*s  Value\n", wc, "Copies", we, "Extra bytes");
	for (size_t k = 0; k < d->ntop; k++) {
		char *r = ph_dup_value_repr(snap, &d->top[k], 60), len[48];
		value_length(snap, &d->top[k], len, sizeof(len));
		fprintf(out, " %*" PRIu64 " %*" PRIu64 "  %s%s\n", wc, d->top[k].count, we,
			d->top[k].extra, r ? r : "?", len);
		free(r);
	}
	ph_diff_report_held_text(out,
				 "Where the copies of the first values are held (shortest paths from "
				 "roots):",
				 "copies", held, nheld, paths);
}

void ph_report_dup_strs_json(FILE *out, const struct ph_snapshot *snap, const struct ph_dup_strs *d,
			     const struct ph_diff_held *held, size_t nheld, size_t paths)
{
	fputc('{', out);
	json_meta(out, snap);
	fprintf(out,
		",\"strs\":%" PRIu64 ",\"hashed_strs\":%" PRIu64 ",\"other_strs\":%" PRIu64
		",\"bytes\":%" PRIu64 ",\"hashes\":%s,\"distinct\":%" PRIu64
		",\"dup_values\":%" PRIu64 ",\"extra_copies\":%" PRIu64 ",\"extra_bytes\":%" PRIu64
		",\"values\":[",
		d->strs, d->hashed_strs, d->other_strs, d->bytes, d->hashes_known ? "true" : "false",
		d->distinct, d->dup_values, d->extra_copies, d->extra_bytes);
	for (size_t k = 0; k < d->ntop; k++) {
		const struct ph_dup_value *v = &d->top[k];
		fprintf(out, "%s{\"kind\":\"%s\",\"value\":", k ? "," : "",
			ph_dup_value_is_bytes(snap, v) ? "bytes" : "str");
		if (v->hashed) {
			const struct ph_value_hash *h = &snap->value_hashes[v->hashed - 1];
			fputs("null,\"preview\":", out);
			ph_json_string(out, h->preview ? snap->value_previews + h->preview - 1 : "");
			fprintf(out, ",\"length\":%" PRIu64, h->length);
		} else {
			ph_json_string(out, ph_snapshot_text(snap, v->first));
		}
		fprintf(out, ",\"copies\":%" PRIu64 ",\"size\":%" PRIu64 ",\"extra_bytes\":%" PRIu64,
			v->count, v->size, v->extra);
		// (held[i] is the value top[i]'s, for the first nheld)
		if (k < nheld) {
			fputs(",\"paths\":[", out);
			for (size_t p = 0; p < held[k].npaths && (!paths || p < paths); p++) {
				fputs(p ? ",{\"path\":" : "{\"path\":", out);
				ph_json_string(out, held[k].paths[p].name);
				fprintf(out, ",\"objects\":%" PRIu64 "}", held[k].paths[p].count);
			}
			fprintf(out, "],\"unreachable\":%" PRIu64, held[k].unreachable);
		}
		fputc('}', out);
	}
	fputs("]}\n", out);
}

/* ---- --fill ---- */

void ph_report_fill_text(FILE *out, const struct ph_graph *g, const struct ph_fill *f,
			 const struct ph_diff_held *held, size_t nheld, size_t limit,
			 size_t paths)
{
	const struct ph_snapshot *s = g->snap;
	char a[32], b[32], c[32];
	if (!f->tables) {
		fprintf(out,
			"\nNo dict or set is mostly empty (under %u%% of its room in use; deleting "
			"entries never shrinks a dict's or a set's table).\n",
			PH_SPARSE_TABLE_PCT);
		return;
	}
	fprintf(out,
		"\nDicts and sets mostly empty (under %u%% of their room in use): %" PRIu64
		" hold %s for %" PRIu64 " entries;\ncopies of them would take %s and free %s. "
		"Deleting entries never shrinks a dict's or a set's\ntable: d = dict(d), s = set(s) "
		"(or clear() when empty) gives the memory back.\n",
		PH_SPARSE_TABLE_PCT, f->tables, ph_human_bytes(f->size, a, sizeof(a)), f->entries,
		ph_human_bytes(f->copy_size, b, sizeof(b)),
		ph_human_bytes(f->size - f->copy_size, c, sizeof(c)));
	const struct ph_partition *p = &f->kinds;
	size_t shown = limit && limit < p->nrows ? limit : p->nrows;
	int wc = 5, ws = 4, wf = 10;
	for (size_t i = 0; i < shown; i++) {
		if (ph_digits(p->rows[i].count) > wc)
			wc = ph_digits(p->rows[i].count);
		if (ph_digits(p->rows[i].size) > ws)
			ws = ph_digits(p->rows[i].size);
		if (ph_digits(p->rows[i].extra) > wf)
			wf = ph_digits(p->rows[i].extra);
	}
	fprintf(out, "\n Index %*s %*s %*s  Kind\n", wc, "Count", ws, "Size", wf, "Would free");
	for (size_t i = 0; i < shown; i++)
		fprintf(out, " %5zu %*" PRIu64 " %*" PRIu64 " %*" PRIu64 "  %s\n", i, wc,
			p->rows[i].count, ws, p->rows[i].size, wf, p->rows[i].extra, p->rows[i].kind);
	if (shown < p->nrows)
		fprintf(out, "<%zu more rows. Use --all or --limit N to see more.>\n",
			p->nrows - shown);
	ph_diff_report_held_text(out,
				 "Where they are held (shortest paths from roots, for the kinds with "
				 "most to free):",
				 "mostly empty", held, nheld, paths);
	fputs("\nThe ones whose copies would free most (--referrers 0xADDRESS: who holds one):\n",
	      out);
	fprintf(out, "  %-14s %10s %10s %10s %8s  %s\n", "Address", "Entries", "Room", "Size", "Copy",
		"Kind: shortest path");
	for (size_t k = 0; k < f->ntop; k++) {
		const struct ph_sparse_table *t = &s->sparse_tables[f->top[k]];
		char kind[256];
		ph_graph_display_kind(g, t->object, kind, sizeof(kind));
		char *path = ph_graph_path(g, t->object);
		fprintf(out, "  0x%-12" PRIx64 " %10u %10" PRIu64 " %10s %8s  %s: %s\n",
			(uint64_t)s->objects[t->object].address, t->entries, t->room,
			ph_human_bytes(s->objects[t->object].size, a, sizeof(a)),
			ph_human_bytes(t->copy_size, b, sizeof(b)), kind,
			path ? path : "<reachable from no root>");
		free(path);
	}
	if (f->ntop < f->tables)
		fprintf(out, "<%" PRIu64 " more. Use --all or --limit N to see more.>\n",
			f->tables - f->ntop);
}

void ph_report_fill_json(FILE *out, const struct ph_graph *g, const struct ph_fill *f,
			 const struct ph_diff_held *held, size_t nheld, size_t paths)
{
	const struct ph_snapshot *s = g->snap;
	fputc('{', out);
	json_meta(out, s);
	fprintf(out,
		",\"max_used_pct\":%u,\"tables\":%" PRIu64 ",\"entries\":%" PRIu64
		",\"size\":%" PRIu64 ",\"copy_size\":%" PRIu64 ",\"free\":%" PRIu64 ",\"kinds\":[",
		PH_SPARSE_TABLE_PCT, f->tables, f->entries, f->size, f->copy_size,
		f->size - f->copy_size);
	for (size_t i = 0; i < f->kinds.nrows; i++) {
		const struct ph_kind_row *r = &f->kinds.rows[i];
		fputs(i ? ",{\"kind\":" : "{\"kind\":", out);
		ph_json_string(out, r->kind);
		fprintf(out, ",\"count\":%" PRIu64 ",\"size\":%" PRIu64 ",\"free\":%" PRIu64 "}",
			r->count, r->size, r->extra);
	}
	fputs("],\"largest\":[", out);
	for (size_t k = 0; k < f->ntop; k++) {
		const struct ph_sparse_table *t = &s->sparse_tables[f->top[k]];
		uint64_t size = s->objects[t->object].size;
		char kind[256];
		ph_graph_display_kind(g, t->object, kind, sizeof(kind));
		fprintf(out, "%s{\"address\":\"0x%" PRIx64 "\",\"kind\":", k ? "," : "",
			(uint64_t)s->objects[t->object].address);
		ph_json_string(out, kind);
		fprintf(out,
			",\"entries\":%u,\"room\":%" PRIu64 ",\"size\":%" PRIu64
			",\"copy_size\":%" PRIu64 ",\"free\":%" PRIu64 ",\"path\":",
			t->entries, t->room, size, t->copy_size, size - t->copy_size);
		char *path = ph_graph_path(g, t->object);
		if (path)
			ph_json_string(out, path);
		else
			fputs("null", out);
		free(path);
		fputc('}', out);
	}
	fputc(']', out);
	ph_diff_report_held_json(out, "held", "count", "size", held, nheld, paths);
	fputs("}\n", out);
}

/* ---- --sites ---- */

enum {
	SITE_TEXT_KINDS = 3,   /* kinds on a row's line */
	SITE_TRACEBACKS = 3,   /* rows whose traceback is printed */
	SITE_JSON_KINDS = 10,  /* kinds per row in JSON */
};

void ph_report_sites_text(FILE *out, const struct ph_snapshot *snap, const struct ph_sites *s,
			  size_t limit)
{
	char a[32], b[32];
	fprintf(out,
		"\nObjects by where they were allocated (tracemalloc, the most recent frame): "
		"%" PRIu64 " of %" PRIu64 " objects traced, %s of %s\n",
		s->traced_objects, s->objects, ph_human_bytes(s->traced_size, a, sizeof(a)),
		ph_human_bytes(s->size, b, sizeof(b)));
	size_t shown = limit && limit < s->nrows ? limit : s->nrows;
	int wc = 5, ws = 4, wcum = 10;
	for (size_t i = 0; i < shown; i++) {
		if (ph_digits(s->rows[i].count) > wc)
			wc = ph_digits(s->rows[i].count);
		if (ph_digits(s->rows[i].size) > ws)
			ws = ph_digits(s->rows[i].size);
	}
	if (ph_digits(s->traced_size) > wcum)
		wcum = ph_digits(s->traced_size);
	fprintf(out, " Index %*s   %% %*s   %% %*s   %% Allocated at (kinds)\n", wc, "Count", ws,
		"Size", wcum, "Cumulative");
	uint64_t cum = 0;
	for (size_t i = 0; i < shown; i++) {
		const struct ph_site_row *r = &s->rows[i];
		cum += r->size;
		fprintf(out, " %5zu %*" PRIu64 " %3u %*" PRIu64 " %3u %*" PRIu64 " %3u %s:%u", i, wc,
			r->count, pct(r->count, s->traced_objects), ws, r->size,
			pct(r->size, s->traced_size), wcum, cum, pct(cum, s->traced_size),
			site_file(snap, r->file), r->lineno);
		for (size_t k = 0; k < r->kinds.nrows && k < SITE_TEXT_KINDS; k++)
			fprintf(out, "%s%s %u%%", k ? ", " : " (", r->kinds.rows[k].kind,
				pct(r->kinds.rows[k].size, r->size));
		if (r->kinds.nrows > SITE_TEXT_KINDS)
			fprintf(out, ", +%zu kinds", r->kinds.nrows - SITE_TEXT_KINDS);
		fputs(r->kinds.nrows ? ")\n" : "\n", out);
	}
	if (shown < s->nrows)
		fprintf(out, "<%zu more rows. Use --all or --limit N to see more.>\n",
			s->nrows - shown);
	if (s->objects > s->traced_objects)
		fprintf(out,
			"(%" PRIu64 " objects, %s, not traced: allocated before tracemalloc started, "
			"or not by Python's allocators)\n",
			s->objects - s->traced_objects,
			ph_human_bytes(s->size - s->traced_size, a, sizeof(a)));
	for (size_t i = 0; i < shown && i < SITE_TRACEBACKS; i++) {
		const struct ph_site_row *r = &s->rows[i];
		if (r->site >= snap->nsites)
			continue;
		const struct ph_alloc_site *t = &snap->sites[r->site];
		if (!i)
			fputs("\nTracebacks (of each of the first lines, the one with most bytes; most "
			      "recent call last):\n",
			      out);
		fprintf(out, "  %s:%u: %" PRIu64 " objects, %s\n", site_file(snap, r->file), r->lineno,
			r->count, ph_human_bytes(r->size, a, sizeof(a)));
		if (t->total_nframes > t->nframes)
			fprintf(out, "    (%u older frames not kept: tracemalloc keeps %u)\n",
				t->total_nframes - t->nframes, t->nframes);
		for (size_t f = t->nframes; f-- > 0;) {
			const struct ph_alloc_frame *fr = &snap->site_frames[t->frame_start + f];
			fprintf(out, "    File \"%s\", line %u\n", site_file(snap, fr->file),
				fr->lineno);
		}
	}
}

void ph_report_sites_json(FILE *out, const struct ph_snapshot *snap, const struct ph_sites *s,
			  size_t limit)
{
	fputc('{', out);
	json_meta(out, snap);
	fprintf(out,
		",\"traces\":%" PRIu64 ",\"objects\":%" PRIu64 ",\"size\":%" PRIu64
		",\"traced_objects\":%" PRIu64 ",\"traced_size\":%" PRIu64 ",\"lines\":[",
		snap->tracemalloc.traces, s->objects, s->size, s->traced_objects, s->traced_size);
	size_t shown = limit && limit < s->nrows ? limit : s->nrows;
	for (size_t i = 0; i < shown; i++) {
		const struct ph_site_row *r = &s->rows[i];
		fputs(i ? ",{\"file\":" : "{\"file\":", out);
		ph_json_string(out, site_file(snap, r->file));
		fprintf(out, ",\"line\":%u,\"count\":%" PRIu64 ",\"size\":%" PRIu64, r->lineno,
			r->count, r->size);
		if (i < PH_SITE_KIND_ROWS)
			json_kinds(out, &r->kinds, SITE_JSON_KINDS);
		if (r->site < snap->nsites) {
			const struct ph_alloc_site *t = &snap->sites[r->site];
			fprintf(out, ",\"total_frames\":%u,\"traceback\":[", t->total_nframes);
			for (size_t f = 0; f < t->nframes; f++) {
				const struct ph_alloc_frame *fr = &snap->site_frames[t->frame_start + f];
				fputs(f ? ",{\"file\":" : "{\"file\":", out);
				ph_json_string(out, site_file(snap, fr->file));
				fprintf(out, ",\"line\":%u}", fr->lineno);
			}
			fputc(']', out);
		}
		fputc('}', out);
	}
	fputs("]}\n", out);
}
