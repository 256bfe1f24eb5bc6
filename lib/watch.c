/* SPDX-License-Identifier: MIT */
#include "watch.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "diff.h"
#include "partition.h"
#include "referrers.h"
#include "report.h"
#include "svg.h"

enum {
	WATCH_HELD_PATHS = 3, /* groups of paths per kind */
	KIND_SHIFT = 47,      /* an object's identity: its address | its kind << 47 */
};

void ph_watch_init(struct ph_watch *w)
{
	memset(w, 0, sizeof(*w));
}

void ph_watch_deinit(struct ph_watch *w)
{
	for (size_t k = 0; k < w->nkinds; k++) {
		free(w->kinds[k].kind);
		free(w->kinds[k].count);
		free(w->kinds[k].size);
	}
	free(w->kinds);
	for (size_t i = 0; i < w->nsamples; i++)
		free(w->samples[i].truncated_reason);
	free(w->samples);
	free(w->first);
	ph_name_index_deinit(&w->ix);
	memset(w, 0, sizeof(*w));
}

static const char *watch_kind(const void *rows, size_t i)
{
	return ((const struct ph_watch_kind *)rows)[i].kind;
}

// The index of kind @name, created (zero in every sample so far) if absent;
// SIZE_MAX on out of memory.
static size_t kind_index(struct ph_watch *w, const char *name)
{
	size_t found = ph_name_index_find(&w->ix, name, w->kinds, watch_kind);
	if (found != SIZE_MAX)
		return found;
	if (w->nkinds == w->capkinds) {
		size_t nc = w->capkinds ? w->capkinds * 2 : 64;
		struct ph_watch_kind *k = reallocarray(w->kinds, nc, sizeof(*k));
		if (!k)
			return SIZE_MAX;
		w->kinds = k;
		w->capkinds = nc;
	}
	struct ph_watch_kind *k = &w->kinds[w->nkinds];
	k->kind = strdup(name);
	k->count = calloc(w->cap ? w->cap : 1, sizeof(uint64_t));
	k->size = calloc(w->cap ? w->cap : 1, sizeof(uint64_t));
	if (!k->kind || !k->count || !k->size ||
	    !ph_name_index_add(&w->ix, w->nkinds, w->kinds, watch_kind)) {
		free(k->kind);
		free(k->count);
		free(k->size);
		return SIZE_MAX;
	}
	return w->nkinds++;
}

struct ph_error *ph_watch_add(struct ph_watch *w, const struct ph_snapshot *snap,
			      const struct ph_partition *p)
{
	if (w->nsamples == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 16;
		struct ph_watch_sample *s = reallocarray(w->samples, nc, sizeof(*s));
		if (!s)
			return &ph_error_nomem;
		w->samples = s;
		for (size_t k = 0; k < w->nkinds; k++) {
			uint64_t *c = reallocarray(w->kinds[k].count, nc, sizeof(uint64_t));
			if (c)
				w->kinds[k].count = c;
			uint64_t *z = c ? reallocarray(w->kinds[k].size, nc, sizeof(uint64_t)) : NULL;
			if (z)
				w->kinds[k].size = z;
			if (!c || !z)
				return &ph_error_nomem; // arrays still valid at the old capacity
		}
		w->cap = nc;
	}
	size_t i = w->nsamples;
	for (size_t k = 0; k < w->nkinds; k++)
		w->kinds[k].count[i] = w->kinds[k].size[i] = 0;
	for (size_t r = 0; r < p->nrows; r++) {
		size_t k = kind_index(w, p->rows[r].kind);
		if (k == SIZE_MAX)
			return &ph_error_nomem;
		w->kinds[k].count[i] = p->rows[r].count;
		w->kinds[k].size[i] = p->rows[r].size;
	}
	struct ph_watch_sample *s = &w->samples[i];
	*s = (struct ph_watch_sample){
		.time_ns = snap->time_ns,
		.objects = p->objects,
		.size = p->size,
		.rss = snap->rss,
		.arenas = ph_alloc_sums(snap),
		.pause_ns = snap->pause_ns,
		.pid = snap->pid,
		.truncated = snap->truncated,
		// (Without memory for it: the reports say "stopped early".)
		.truncated_reason = snap->truncated && snap->truncated_reason
					    ? strdup(snap->truncated_reason)
					    : NULL,
	};
	s->elapsed = i && snap->time_ns && w->samples[0].time_ns
			     ? ((double)snap->time_ns - (double)w->samples[0].time_ns) / 1e9
			     : 0;
	w->nsamples++;
	return NULL;
}

static bool grew_every(const struct ph_watch *w, size_t k)
{
	if (w->nsamples < 2)
		return false;
	for (size_t i = 1; i < w->nsamples; i++)
		if (w->kinds[k].size[i] <= w->kinds[k].size[i - 1])
			return false;
	return true;
}

static int by_growth(const void *x, const void *y, void *arg)
{
	const struct ph_watch_row *a = x, *b = y;
	bool rows_by_count = *(const bool *)arg;
	int64_t a1 = rows_by_count ? a->count_delta : a->size_delta;
	int64_t b1 = rows_by_count ? b->count_delta : b->size_delta;
	int64_t a2 = rows_by_count ? a->size_delta : a->count_delta;
	int64_t b2 = rows_by_count ? b->size_delta : b->count_delta;
	if (a1 != b1)
		return a1 > b1 ? -1 : 1;
	if (a2 != b2)
		return a2 > b2 ? -1 : 1;
	return a->kind < b->kind ? -1 : a->kind > b->kind;
}

struct ph_error *ph_watch_top(const struct ph_watch *w, bool by_count, size_t limit,
			      struct ph_watch_row **ret, size_t *n)
{
	struct ph_watch_row *rows = calloc(w->nkinds ? w->nkinds : 1, sizeof(*rows));
	if (!rows)
		return &ph_error_nomem;
	size_t m = 0, last = w->nsamples ? w->nsamples - 1 : 0;
	for (size_t k = 0; k < w->nkinds && w->nsamples; k++) {
		const struct ph_watch_kind *kd = &w->kinds[k];
		int64_t dc = (int64_t)(kd->count[last] - kd->count[0]);
		int64_t ds = (int64_t)(kd->size[last] - kd->size[0]);
		if ((by_count ? dc : ds) <= 0)
			continue;
		rows[m++] = (struct ph_watch_row){k, dc, ds, grew_every(w, k)};
	}
	qsort_r(rows, m, sizeof(*rows), by_growth, &by_count);
	*ret = rows;
	*n = limit && limit < m ? limit : m;
	return NULL;
}


// Each kind slot of @snap as a watch kind index (SIZE_MAX: none), into @map
// (ph_kind_slots() entries); false if a kind is beyond what an identity holds.
static bool slot_kinds(const struct ph_watch *w, const struct ph_snapshot *snap, size_t *map)
{
	size_t nslots = ph_kind_slots(snap);
	for (size_t k = 0; k < nslots; k++)
		map[k] = SIZE_MAX - 1; // not looked up yet
	for (size_t i = 0; i < snap->nobjects; i++) {
		size_t slot = ph_kind_slot(snap, i);
		if (map[slot] != SIZE_MAX - 1)
			continue;
		char buf[512];
		const char *name = ph_snapshot_kind(snap, i, buf, sizeof(buf));
		map[slot] = ph_name_index_find(&w->ix, name, w->kinds, watch_kind);
		if (map[slot] != SIZE_MAX && map[slot] >= ((size_t)1 << (64 - KIND_SHIFT)))
			return false;
	}
	return true;
}

static inline uint64_t identity(const struct ph_snapshot *snap, size_t i, const size_t *map)
{
	uint64_t a = snap->objects[i].address & ((1ull << KIND_SHIFT) - 1);
	return a | (uint64_t)map[ph_kind_slot(snap, i)] << KIND_SHIFT;
}

bool ph_watch_remember(struct ph_watch *w, const struct ph_snapshot *snap)
{
	free(w->first);
	w->first = NULL;
	w->nfirst = 0;
	size_t *map = calloc(ph_kind_slots(snap), sizeof(*map));
	uint64_t *ids = reallocarray(NULL, snap->nobjects ? snap->nobjects : 1, sizeof(*ids));
	if (!map || !ids || !slot_kinds(w, snap, map)) {
		free(map);
		free(ids);
		return false;
	}
	for (size_t i = 0; i < snap->nobjects; i++)
		ids[i] = identity(snap, i, map);
	free(map);
	qsort(ids, snap->nobjects, sizeof(*ids), ph_cmp_u64);
	w->first = ids;
	w->nfirst = snap->nobjects;
	return true;
}

static bool in_first(const struct ph_watch *w, uint64_t id)
{
	return ph_sorted_u64_has(w->first, w->nfirst, id);
}

uint8_t *ph_watch_new_mask(const struct ph_watch *w, const struct ph_snapshot *snap)
{
	if (!w->first)
		return NULL;
	size_t *map = calloc(ph_kind_slots(snap), sizeof(*map));
	uint8_t *is_new = malloc(snap->nobjects ? snap->nobjects : 1);
	if (!map || !is_new || !slot_kinds(w, snap, map)) {
		free(map);
		free(is_new);
		return NULL;
	}
	for (size_t i = 0; i < snap->nobjects; i++)
		is_new[i] = !in_first(w, identity(snap, i, map));
	free(map);
	return is_new;
}

struct ph_error *ph_watch_held(const struct ph_watch *w, const struct ph_graph *g, size_t nkinds,
			       struct ph_diff_held **ret, size_t *nret)
{
	const struct ph_snapshot *snap = g->snap;
	*ret = NULL;
	*nret = 0;
	if (!w->first || w->nsamples < 2)
		return NULL;
	struct ph_watch_row *rows;
	size_t nrows;
	struct ph_error *err = ph_watch_top(w, false, nkinds, &rows, &nrows);
	if (err)
		return err;
	// (No mask: kinds beyond an identity, or no memory: nothing to say.)
	uint8_t *is_new = ph_watch_new_mask(w, snap);
	const char **kinds = calloc(nrows ? nrows : 1, sizeof(*kinds));
	if (!kinds) {
		err = &ph_error_nomem;
	} else if (is_new) {
		for (size_t r = 0; r < nrows; r++)
			kinds[r] = w->kinds[rows[r].kind].kind;
		err = ph_held_by_kind(g, is_new, kinds, nrows, ret, nret);
	}
	free(is_new);
	free(kinds);
	free(rows);
	return err;
}

void ph_watch_report_text(FILE *out, const struct ph_watch *w, size_t limit, size_t count,
			  const struct ph_diff_held *held, size_t nheld)
{
	if (!w->nsamples)
		return;
	size_t last = w->nsamples - 1;
	const struct ph_watch_sample *s = &w->samples[last], *f = &w->samples[0];
	char when[64], rss[32], drss[32], of[32] = "";
	if (count)
		snprintf(of, sizeof(of), " of %zu", count);
	uint64_t adrss = s->rss > f->rss ? s->rss - f->rss : f->rss - s->rss;
	fprintf(out,
		"[%zu%s] %s (+%.1f s) pid %d: %" PRIu64 " objects (%+" PRId64 "), %" PRIu64
		" bytes (%+" PRId64 "), RSS %s (%s%s), paused %.1f ms\n",
		last + 1, of, ph_format_time(s->time_ns, when, sizeof(when)), s->elapsed, s->pid,
		s->objects, (int64_t)(s->objects - f->objects), s->size, (int64_t)(s->size - f->size),
		ph_human_bytes(s->rss, rss, sizeof(rss)), s->rss >= f->rss ? "+" : "-",
		ph_human_bytes(adrss, drss, sizeof(drss)), (double)s->pause_ns / 1e6);
	if (s->truncated)
		fprintf(out, "warning: partial result (%s): objects not reached are missing\n",
			s->truncated_reason ? s->truncated_reason : "stopped early");
	if (w->nsamples > 1)
		ph_report_outside_growth(out, f->rss, s->rss, f->size, s->size, &f->arenas, &s->arenas);
	if (w->nsamples == 1) {
		fprintf(out, "first snapshot: growth is measured from here\n\n");
		return;
	}
	struct ph_watch_row *rows;
	size_t n;
	if (ph_watch_top(w, false, limit, &rows, &n))
		return;
	if (!n) {
		fprintf(out, "no kind grew since the first snapshot\n\n");
		free(rows);
		return;
	}
	int wi = 5, wc = 5, wdc = 6, ws = 4, wds = 5;
	for (size_t i = 0; i < n; i++) {
		const struct ph_watch_kind *k = &w->kinds[rows[i].kind];
		if (ph_digits(k->count[last]) > wc)
			wc = ph_digits(k->count[last]);
		if (ph_sdigits(rows[i].count_delta) > wdc)
			wdc = ph_sdigits(rows[i].count_delta);
		if (ph_digits(k->size[last]) > ws)
			ws = ph_digits(k->size[last]);
		if (ph_sdigits(rows[i].size_delta) > wds)
			wds = ph_sdigits(rows[i].size_delta);
	}
	fprintf(out, " %*s %*s %*s %*s %*s Every Kind (grown most since the first snapshot)\n", wi,
		"Index", wc, "Count", wdc, "+Count", ws, "Size", wds, "+Size");
	for (size_t i = 0; i < n; i++) {
		const struct ph_watch_kind *k = &w->kinds[rows[i].kind];
		fprintf(out, " %*zu %*" PRIu64 " %+*" PRId64 " %*" PRIu64 " %+*" PRId64 " %-5s %s\n", wi,
			i, wc, k->count[last], wdc, rows[i].count_delta, ws, k->size[last], wds,
			rows[i].size_delta, rows[i].grew_every_interval ? "  +" : "", k->kind);
	}
	if (w->nsamples == 2)
		fprintf(out, "(+: its size grew in the one interval so far)\n");
	else
		fprintf(out, "(+: its size grew in each of the %zu intervals)\n", w->nsamples - 1);
	free(rows);
	ph_diff_report_held_text(out,
				 "Where the objects new since the first snapshot are (shortest paths "
				 "from roots, for the\nkinds that grew most):",
				 "new", held, nheld, WATCH_HELD_PATHS);
	fputc('\n', out);
}

// "NAME":{"BYTES_NAME","free_bytes"}, or null when not known.
static void sum_json(FILE *out, const char *name, const char *bytes_name, struct ph_arena_sum a)
{
	if (a.known)
		fprintf(out, "\"%s\":{\"%s\":%" PRIu64 ",\"free_bytes\":%" PRIu64 "}", name,
			bytes_name, a.bytes, a.free);
	else
		fprintf(out, "\"%s\":null", name);
}

void ph_watch_report_json(FILE *out, const struct ph_watch *w, size_t limit,
			  const struct ph_diff_held *held, size_t nheld, const char *more)
{
	if (!w->nsamples)
		return;
	size_t last = w->nsamples - 1;
	const struct ph_watch_sample *s = &w->samples[last], *f = &w->samples[0];
	fprintf(out,
		"{\"sample\":%zu,\"time\":%.3f,\"elapsed\":%.3f,\"pid\":%d,\"objects\":%" PRIu64
		",\"size\":%" PRIu64 ",\"rss\":%" PRIu64 ",\"pause_ms\":%.3f,",
		last + 1, (double)s->time_ns / 1e9, s->elapsed, s->pid, s->objects, s->size, s->rss,
		(double)s->pause_ns / 1e6);
	ph_json_truncated(out, s->truncated, s->truncated_reason);
	fprintf(out, ",\"objects_delta\":%" PRId64 ",\"size_delta\":%" PRId64
		     ",\"rss_delta\":%" PRId64 ",",
		(int64_t)(s->objects - f->objects), (int64_t)(s->size - f->size),
		(int64_t)(s->rss - f->rss));
	sum_json(out, "pymalloc", "arena_bytes", s->arenas.py);
	fputc(',', out);
	sum_json(out, "malloc", "system_bytes", s->arenas.c);
	fputs(",\"malloc_other\":", out); // (the process's malloc, when not glibc's)
	if (s->arenas.other[0])
		ph_json_string(out, s->arenas.other);
	else
		fputs("null", out);
	fputs(",\"kinds\":[", out);
	struct ph_watch_row *rows;
	size_t n;
	if (!ph_watch_top(w, false, limit, &rows, &n)) {
		for (size_t i = 0; i < n; i++) {
			const struct ph_watch_kind *k = &w->kinds[rows[i].kind];
			fputs(i ? ",{\"kind\":" : "{\"kind\":", out);
			ph_json_string(out, k->kind);
			fprintf(out,
				",\"count\":%" PRIu64 ",\"size\":%" PRIu64 ",\"count_first\":%" PRIu64
				",\"size_first\":%" PRIu64 ",\"count_delta\":%" PRId64
				",\"size_delta\":%" PRId64 ",\"grew_every_interval\":%s}",
				k->count[last], k->size[last], k->count[0], k->size[0],
				rows[i].count_delta, rows[i].size_delta,
				rows[i].grew_every_interval ? "true" : "false");
		}
		free(rows);
	}
	fputs("]", out);
	if (held)
		ph_diff_report_held_json(out, "new_held", "new", "new_size", held, nheld,
					 WATCH_HELD_PATHS);
	if (more)
		fputs(more, out);
	fputs("}\n", out);
}

struct ph_error *ph_watch_plot(FILE *out, const struct ph_watch *w, bool bytes, size_t nseries)
{
	struct ph_watch_row *rows;
	size_t n;
	struct ph_error *err = ph_watch_top(w, !bytes, nseries, &rows, &n);
	if (err)
		return err;
	size_t ns = w->nsamples;
	double *x = calloc(ns ? ns : 1, sizeof(double));
	double *y = calloc((ns ? ns : 1) * (n ? n : 1), sizeof(double));
	struct ph_svg_series *series = calloc(n ? n : 1, sizeof(*series));
	if (!x || !y || !series) {
		free(x);
		free(y);
		free(series);
		free(rows);
		return &ph_error_nomem;
	}
	for (size_t i = 0; i < ns; i++)
		x[i] = w->samples[i].elapsed;
	for (size_t s = 0; s < n; s++) {
		const struct ph_watch_kind *k = &w->kinds[rows[s].kind];
		for (size_t i = 0; i < ns; i++)
			y[s * ns + i] = (double)(bytes ? k->size[i] : k->count[i]);
		series[s] = (struct ph_svg_series){k->kind, y + s * ns};
	}
	char title[160];
	snprintf(title, sizeof(title), "pyheap: %s of the %zu kind%s that grew most, pid %d",
		 bytes ? "bytes" : "objects", n, n == 1 ? "" : "s", ns ? w->samples[ns - 1].pid : 0);
	struct ph_svg_chart chart = {
		.title = title,
		.x_label = "seconds since the first snapshot",
		.y_label = bytes ? "bytes" : "objects",
		.x = x,
		.n = ns,
		.series = series,
		.nseries = n,
	};
	ph_svg_write(out, &chart);
	free(x);
	free(y);
	free(series);
	free(rows);
	return NULL;
}
