/* SPDX-License-Identifier: MIT */
#include "diff.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nameindex.h"
#include "partition.h"
#include "report.h"

/* ---- kinds: name -> row ---- */

struct kind_map {
	struct ph_diff_row *rows;
	size_t n, cap;
	struct ph_name_index ix;
};

static const char *diff_row_kind(const void *rows, size_t i)
{
	return ((const struct ph_diff_row *)rows)[i].kind;
}

// The row of kind @name, created if absent; UINT32_MAX on out of memory.
static uint32_t kind_row(struct kind_map *m, const char *name)
{
	size_t i = ph_name_index_find(&m->ix, name, m->rows, diff_row_kind);
	if (i != SIZE_MAX)
		return (uint32_t)i;
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 64;
		struct ph_diff_row *r = reallocarray(m->rows, nc, sizeof(*r));
		if (!r)
			return UINT32_MAX;
		m->rows = r;
		m->cap = nc;
	}
	memset(&m->rows[m->n], 0, sizeof(m->rows[m->n]));
	if (!(m->rows[m->n].kind = strdup(name)))
		return UINT32_MAX;
	if (!ph_name_index_add(&m->ix, m->n, m->rows, diff_row_kind)) {
		free(m->rows[m->n].kind);
		return UINT32_MAX;
	}
	return (uint32_t)m->n++;
}

// The kind row of every object of @s (as the partition groups them: by type,
// dicts by owner's type, module dicts, dicts without owner).
static struct ph_error *object_rows(const struct ph_snapshot *s, struct kind_map *m,
				    uint32_t **ret)
{
	size_t nslots = ph_kind_slots(s);
	uint32_t *slot_row = malloc(nslots * sizeof(uint32_t));
	uint32_t *rows = malloc((s->nobjects + 1) * sizeof(uint32_t));
	if (!slot_row || !rows) {
		free(slot_row);
		free(rows);
		return &ph_error_nomem;
	}
	for (size_t k = 0; k < nslots; k++)
		slot_row[k] = UINT32_MAX - 1; // not named yet
	for (size_t i = 0; i < s->nobjects; i++) {
		size_t slot = ph_kind_slot(s, i);
		if (slot_row[slot] == UINT32_MAX - 1) {
			char buf[512];
			slot_row[slot] = kind_row(m, ph_snapshot_kind(s, i, buf, sizeof(buf)));
		}
		if (slot_row[slot] == UINT32_MAX) {
			free(slot_row);
			free(rows);
			return &ph_error_nomem;
		}
		rows[i] = slot_row[slot];
	}
	free(slot_row);
	*ret = rows;
	return NULL;
}

/* ---- address -> object index of A ---- */

static uint64_t addr_hash(uint64_t a)
{
	a ^= a >> 33;
	a *= 0xff51afd7ed558ccdull;
	a ^= a >> 33;
	return a;
}

static int by_growth(const void *x, const void *y)
{
	const struct ph_diff_row *a = x, *b = y;
	int64_t sa = (int64_t)(a->size_b - a->size_a), sb = (int64_t)(b->size_b - b->size_a);
	if (sa != sb)
		return sa > sb ? -1 : 1;
	int64_t ca = (int64_t)(a->count_b - a->count_a), cb = (int64_t)(b->count_b - b->count_a);
	if (ca != cb)
		return ca > cb ? -1 : 1;
	return strcmp(a->kind, b->kind);
}

void ph_diff_deinit(struct ph_diff *d)
{
	for (size_t i = 0; i < d->nrows; i++)
		free(d->rows[i].kind);
	free(d->rows);
	free(d->is_new);
	memset(d, 0, sizeof(*d));
}

struct ph_error *ph_diff_compute(const struct ph_snapshot *a, const struct ph_snapshot *b,
				 struct ph_diff *ret)
{
	struct ph_diff d = {0};
	struct kind_map m = {0};
	uint32_t *rows_a = NULL, *rows_b = NULL, *table = NULL;
	uint8_t *matched = NULL;
	struct ph_error *err = object_rows(a, &m, &rows_a);
	if (!err)
		err = object_rows(b, &m, &rows_b);
	if (err)
		goto out;
	size_t nslots = 16;
	while (nslots < a->nobjects * 2)
		nslots *= 2;
	table = malloc(nslots * sizeof(uint32_t));
	matched = calloc(a->nobjects + 1, 1);
	d.is_new = calloc(b->nobjects + 1, 1);
	if (!table || !matched || !d.is_new) {
		err = &ph_error_nomem;
		goto out;
	}
	memset(table, 0xff, nslots * sizeof(uint32_t));
	for (size_t i = 0; i < a->nobjects; i++) {
		size_t j = addr_hash(a->objects[i].address) & (nslots - 1);
		while (table[j] != UINT32_MAX)
			j = (j + 1) & (nslots - 1);
		table[j] = (uint32_t)i;
		struct ph_diff_row *r = &m.rows[rows_a[i]];
		r->count_a++;
		r->size_a += a->objects[i].size;
		d.objects_a++;
		d.size_a += a->objects[i].size;
	}
	for (size_t k = 0; k < b->nobjects; k++) {
		const struct ph_object *o = &b->objects[k];
		struct ph_diff_row *r = &m.rows[rows_b[k]];
		r->count_b++;
		r->size_b += o->size;
		d.objects_b++;
		d.size_b += o->size;
		// The same object: same address, same kind (a snapshot may hold
		// an address twice only if the target's memory was inconsistent;
		// the first unmatched one is taken).
		bool same = false;
		for (size_t j = addr_hash(o->address) & (nslots - 1); table[j] != UINT32_MAX;
		     j = (j + 1) & (nslots - 1)) {
			uint32_t i = table[j];
			if (a->objects[i].address == o->address && rows_a[i] == rows_b[k] && !matched[i]) {
				matched[i] = 1;
				same = true;
				break;
			}
		}
		if (!same) {
			d.is_new[k] = 1;
			r->new_count++;
			r->new_size += o->size;
			d.new_count++;
			d.new_size += o->size;
		}
	}
	for (size_t i = 0; i < a->nobjects; i++) {
		if (matched[i])
			continue;
		struct ph_diff_row *r = &m.rows[rows_a[i]];
		r->freed_count++;
		r->freed_size += a->objects[i].size;
		d.freed_count++;
		d.freed_size += a->objects[i].size;
	}
	// Keep the kinds that changed.
	size_t n = 0;
	for (size_t i = 0; i < m.n; i++) {
		struct ph_diff_row *r = &m.rows[i];
		if (r->count_a != r->count_b || r->size_a != r->size_b || r->new_count ||
		    r->freed_count)
			m.rows[n++] = *r;
		else
			free(r->kind);
	}
	m.n = n;
	qsort(m.rows, n, sizeof(*m.rows), by_growth);
	d.rows = m.rows;
	d.nrows = n;
	m.rows = NULL;
	m.n = 0;
out:
	for (size_t i = 0; i < m.n; i++)
		free(m.rows[i].kind);
	free(m.rows);
	ph_name_index_deinit(&m.ix);
	free(rows_a);
	free(rows_b);
	free(table);
	free(matched);
	if (err) {
		ph_diff_deinit(&d);
		return err;
	}
	*ret = d;
	return NULL;
}

/* ---- where the new objects are ---- */

struct ph_error *ph_held_by_kind(const struct ph_graph *g, const uint8_t *is_new,
				 const char *const *kinds, size_t nkinds, struct ph_diff_held **ret,
				 size_t *nret)
{
	const struct ph_snapshot *b = g->snap;
	*ret = NULL;
	*nret = 0;
	if (nkinds > 250)
		nkinds = 250; // (marked in a byte per kind slot)
	struct ph_diff_held *h = calloc(nkinds ? nkinds : 1, sizeof(*h));
	size_t nslots = ph_kind_slots(b), n = 0;
	uint8_t *slot_kind = malloc(nslots); // (which of the kinds; 0xff: none)
	uint32_t *objs = reallocarray(NULL, b->nobjects ? b->nobjects : 1, sizeof(*objs));
	struct ph_error *err = NULL;
	if (!h || !slot_kind || !objs)
		err = &ph_error_nomem;
	else
		memset(slot_kind, 0xfe, nslots); // (not named yet)
	// Each kind slot of B named once (a kind's name may stand for two
	// slots: a class defined twice).
	for (size_t k = 0; k < nkinds && !err; k++) {
		struct ph_diff_held *x = &h[n];
		size_t m = 0;
		for (size_t i = 0; i < b->nobjects; i++) {
			if (!is_new[i])
				continue;
			size_t slot = ph_kind_slot(b, i);
			if (slot_kind[slot] == 0xfe) {
				char buf[512];
				const char *name = ph_snapshot_kind(b, i, buf, sizeof(buf));
				slot_kind[slot] = 0xff;
				for (size_t q = 0; q < nkinds; q++)
					if (!strcmp(name, kinds[q]))
						slot_kind[slot] = (uint8_t)q;
			}
			if (slot_kind[slot] != k)
				continue;
			objs[m++] = (uint32_t)i;
			x->new_size += b->objects[i].size;
		}
		if (!m) {
			x->new_size = 0;
			continue;
		}
		n++;
		x->new_count = m;
		if (!(x->kind = strdup(kinds[k])))
			err = &ph_error_nomem;
		else
			err = ph_referrers_paths(g, objs, m, &x->paths, &x->npaths, &x->unreachable);
	}
	free(slot_kind);
	free(objs);
	if (err) {
		ph_diff_held_free(h, n);
		return err;
	}
	*ret = h;
	*nret = n;
	return NULL;
}

struct ph_error *ph_diff_held(const struct ph_diff *d, const struct ph_graph *g, size_t nkinds,
			      struct ph_diff_held **ret, size_t *nret)
{
	// The kinds: the rows that grew in size with new objects, first first.
	const char **kinds = calloc(nkinds ? nkinds : 1, sizeof(*kinds));
	if (!kinds)
		return &ph_error_nomem;
	size_t n = 0;
	for (size_t i = 0; i < d->nrows && n < nkinds; i++)
		if (d->rows[i].new_count && d->rows[i].size_b > d->rows[i].size_a)
			kinds[n++] = d->rows[i].kind;
	struct ph_error *err = ph_held_by_kind(g, d->is_new, kinds, n, ret, nret);
	free(kinds);
	return err;
}

void ph_diff_held_free(struct ph_diff_held *h, size_t n)
{
	if (!h)
		return;
	for (size_t i = 0; i < n; i++) {
		free(h[i].kind);
		ph_count_rows_free(h[i].paths, h[i].npaths);
	}
	free(h);
}

/* ---- reports ---- */

static void side_text(FILE *out, const char *name, const struct ph_diff_side *s, uint64_t objects,
		      uint64_t size)
{
	char when[64], rss[32];
	fprintf(out, "%s: pid %d (python %s) at %s, %s: %" PRIu64 " objects, %" PRIu64 " bytes",
		name, s->snap->pid, s->snap->python_version,
		ph_format_time(s->snap->time_ns, when, sizeof(when)), s->source, objects, size);
	// (A core's snapshot has no RSS.)
	if (s->snap->rss)
		fprintf(out, ", RSS %s", ph_human_bytes(s->snap->rss, rss, sizeof(rss)));
	fputc('\n', out);
}

void ph_diff_report_text(FILE *out, const struct ph_diff *d, const struct ph_diff_side *a,
			 const struct ph_diff_side *b, size_t limit)
{
	side_text(out, "A", a, d->objects_a, d->size_a);
	side_text(out, "B", b, d->objects_b, d->size_b);
	if (a->snap->pid != b->snap->pid)
		fprintf(out, "warning: A and B are different processes: every object of B counts as "
			     "new and every object of A as freed\n");
	if (a->snap->truncated || b->snap->truncated)
		fprintf(out, "warning: %s is a partial result: objects not reached are missing\n",
			a->snap->truncated && b->snap->truncated ? "each" : a->snap->truncated ? "A" : "B");
	char dt[48] = "";
	if (a->snap->time_ns && b->snap->time_ns)
		snprintf(dt, sizeof(dt), " after %.1f s",
			 ((double)b->snap->time_ns - (double)a->snap->time_ns) / 1e9);
	fprintf(out,
		"B - A%s: %+" PRId64 " objects, %+" PRId64 " bytes; %" PRIu64
		" objects new in B (%" PRIu64 " bytes), %" PRIu64 " of A's freed (%" PRIu64 " bytes)\n",
		dt, (int64_t)(d->objects_b - d->objects_a), (int64_t)(d->size_b - d->size_a),
		d->new_count, d->new_size, d->freed_count, d->freed_size);
	if (a->snap->pid == b->snap->pid)
	{
		struct ph_alloc_sums sa = ph_alloc_sums(a->snap), sb = ph_alloc_sums(b->snap);
		ph_report_outside_growth(out, a->snap->rss, b->snap->rss, d->size_a, d->size_b, &sa,
					 &sb);
	}
	size_t shown = limit && limit < d->nrows ? limit : d->nrows;
	int wi = ph_digits(shown ? shown - 1 : 0), wca = 7, wcb = 7, wdc = 6, wsa = 6, wsb = 6, wds = 6,
	    wn = 5, wf = 5;
	for (size_t i = 0; i < shown; i++) {
		const struct ph_diff_row *r = &d->rows[i];
#define WIDEN(w, v) ((w) = (v) > (w) ? (v) : (w))
		WIDEN(wca, ph_digits(r->count_a));
		WIDEN(wcb, ph_digits(r->count_b));
		WIDEN(wdc, ph_sdigits((int64_t)(r->count_b - r->count_a)));
		WIDEN(wsa, ph_digits(r->size_a));
		WIDEN(wsb, ph_digits(r->size_b));
		WIDEN(wds, ph_sdigits((int64_t)(r->size_b - r->size_a)));
		WIDEN(wn, ph_digits(r->new_count));
		WIDEN(wf, ph_digits(r->freed_count));
#undef WIDEN
	}
	if (wi < 5)
		wi = 5;
	if (!d->nrows) {
		fprintf(out, "\nNo kind changed.\n");
		return;
	}
	fprintf(out, "\nGrowth by kind, sorted by size delta (%zu kind%s changed):\n", d->nrows,
		d->nrows == 1 ? "" : "s");
	fprintf(out, " %*s %*s %*s %*s %*s %*s %*s %*s %*s Kind\n", wi, "Index", wca, "Count A", wcb,
		"Count B", wdc, "+Count", wsa, "Size A", wsb, "Size B", wds, "+Size", wn, "New", wf,
		"Freed");
	for (size_t i = 0; i < shown; i++) {
		const struct ph_diff_row *r = &d->rows[i];
		fprintf(out,
			" %*zu %*" PRIu64 " %*" PRIu64 " %+*" PRId64 " %*" PRIu64 " %*" PRIu64
			" %+*" PRId64 " %*" PRIu64 " %*" PRIu64 " %s\n",
			wi, i, wca, r->count_a, wcb, r->count_b, wdc, (int64_t)(r->count_b - r->count_a),
			wsa, r->size_a, wsb, r->size_b, wds, (int64_t)(r->size_b - r->size_a), wn,
			r->new_count, wf, r->freed_count, r->kind);
	}
	if (shown < d->nrows)
		fprintf(out, "<%zu more kinds changed. Use --all or --limit N to see more.>\n",
			d->nrows - shown);
}

static void side_json(FILE *out, const struct ph_diff_side *s, uint64_t objects, uint64_t size)
{
	fputs("{\"source\":", out);
	ph_json_string(out, s->source);
	fprintf(out, ",\"pid\":%d,\"python\":", s->snap->pid);
	ph_json_string(out, s->snap->python_version);
	fprintf(out, ",\"time\":%.3f,\"objects\":%" PRIu64 ",\"size\":%" PRIu64 ",\"rss\":%" PRIu64
		     ",\"pause_ms\":%.3f,",
		(double)s->snap->time_ns / 1e9, objects, size, s->snap->rss,
		(double)s->snap->pause_ns / 1e6);
	ph_json_truncated(out, s->snap->truncated, s->snap->truncated_reason);
	fputc(',', out);
	ph_json_pymalloc(out, &s->snap->pymalloc);
	fputc(',', out);
	ph_json_cmalloc(out, &s->snap->cmalloc);
	fputc('}', out);
}

void ph_diff_report_held_text(FILE *out, const char *title, const char *word,
			      const struct ph_diff_held *h, size_t n, size_t paths)
{
	if (!n)
		return;
	fprintf(out, "\n%s\n", title);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "  %s: %" PRIu64 " %s (%" PRIu64 " bytes)\n", h[i].kind, h[i].new_count,
			word, h[i].new_size);
		size_t shown = paths && paths < h[i].npaths ? paths : h[i].npaths;
		for (size_t k = 0; k < shown; k++)
			fprintf(out, "    %8" PRIu64 "  %s\n", h[i].paths[k].count, h[i].paths[k].name);
		if (shown < h[i].npaths)
			fprintf(out, "    <%zu more groups of paths>\n", h[i].npaths - shown);
		if (h[i].unreachable)
			fprintf(out, "    %8" PRIu64 "  <reachable from no root: cyclic garbage>\n",
				h[i].unreachable);
	}
}

void ph_diff_report_held_json(FILE *out, const char *member, const char *count_key,
			      const char *size_key, const struct ph_diff_held *held, size_t nheld,
			      size_t paths)
{
	fprintf(out, ",\"%s\":[", member);
	for (size_t i = 0; i < nheld; i++) {
		const struct ph_diff_held *h = &held[i];
		fputs(i ? ",{\"kind\":" : "{\"kind\":", out);
		ph_json_string(out, h->kind);
		fprintf(out, ",\"%s\":%" PRIu64 ",\"%s\":%" PRIu64 ",\"paths\":[", count_key,
			h->new_count, size_key, h->new_size);
		for (size_t k = 0; k < h->npaths && (!paths || k < paths); k++) {
			fputs(k ? ",{\"path\":" : "{\"path\":", out);
			ph_json_string(out, h->paths[k].name);
			fprintf(out, ",\"objects\":%" PRIu64 "}", h->paths[k].count);
		}
		fprintf(out, "],\"unreachable\":%" PRIu64 "}", h->unreachable);
	}
	fputs("]", out);
}

void ph_diff_report_json(FILE *out, const struct ph_diff *d, const struct ph_diff_side *a,
			 const struct ph_diff_side *b, const struct ph_referrers *refs,
			 const struct ph_diff_held *held, size_t nheld, size_t paths,
			 const struct ph_sites *alloc, const struct ph_holds_groups *groups)
{
	fputs("{\"a\":", out);
	side_json(out, a, d->objects_a, d->size_a);
	fputs(",\"b\":", out);
	side_json(out, b, d->objects_b, d->size_b);
	if (a->snap->time_ns && b->snap->time_ns)
		fprintf(out, ",\"seconds\":%.3f",
			((double)b->snap->time_ns - (double)a->snap->time_ns) / 1e9);
	else
		fputs(",\"seconds\":null", out);
	fprintf(out,
		",\"same_process\":%s,\"objects_delta\":%" PRId64 ",\"size_delta\":%" PRId64
		",\"new\":{\"objects\":%" PRIu64 ",\"size\":%" PRIu64 "},\"freed\":{\"objects\":%" PRIu64
		",\"size\":%" PRIu64 "},\"kinds\":[",
		a->snap->pid == b->snap->pid ? "true" : "false",
		(int64_t)(d->objects_b - d->objects_a), (int64_t)(d->size_b - d->size_a), d->new_count,
		d->new_size, d->freed_count, d->freed_size);
	for (size_t i = 0; i < d->nrows; i++) {
		const struct ph_diff_row *r = &d->rows[i];
		fputs(i ? ",{\"kind\":" : "{\"kind\":", out);
		ph_json_string(out, r->kind);
		fprintf(out,
			",\"count_a\":%" PRIu64 ",\"count_b\":%" PRIu64 ",\"count_delta\":%" PRId64
			",\"size_a\":%" PRIu64 ",\"size_b\":%" PRIu64 ",\"size_delta\":%" PRId64
			",\"new\":%" PRIu64 ",\"new_size\":%" PRIu64 ",\"freed\":%" PRIu64
			",\"freed_size\":%" PRIu64 "}",
			r->count_a, r->count_b, (int64_t)(r->count_b - r->count_a), r->size_a, r->size_b,
			(int64_t)(r->size_b - r->size_a), r->new_count, r->new_size, r->freed_count,
			r->freed_size);
	}
	fputs("]", out);
	if (held)
		ph_diff_report_held_json(out, "new_held", "new", "new_size", held, nheld, paths);
	if (alloc)
		ph_report_alloc_json(out, "new_allocated_at", b->snap, alloc);
	if (refs) {
		// The --referrers --json object of the new objects, nested.
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&buf, &len);
		if (mem) {
			ph_report_referrers_json(mem, b->snap, refs, paths, NULL, NULL, NULL, groups);
			fclose(mem);
			while (len && buf[len - 1] == '\n')
				len--;
			fputs(",\"new_referrers\":", out);
			fwrite(buf, 1, len, out);
		}
		free(buf);
	}
	fputs("}\n", out);
}
