/* SPDX-License-Identifier: MIT */
/**
 * @file report.h
 * Text and JSON renderings of analysis results, written to a stream the
 * command hands in. Nothing here reads target memory.
 */
#ifndef PH_REPORT_H
#define PH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "arenas.h"
#include "dominators.h"
#include "dupstr.h"
#include "fill.h"
#include "sites.h"
#include "graph.h"
#include "partition.h"
#include "referrers.h"
#include "snapshot.h"

/** Writes @p s as a JSON string literal. */
/**
 * The length of the well-formed UTF-8 sequence at @p p (its lead byte 0x80 or
 * more, NUL-terminated), or 0 when it is none (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF).
 */
size_t ph_utf8_length(const unsigned char *p);

void ph_json_string(FILE *out, const char *s);

/**
 * `"truncated":BOOL,"truncated_reason":STRING` of a result (the reason null
 * when whole, or "stopped early" when none was given).
 */
void ph_json_truncated(FILE *out, bool truncated, const char *reason);

/** "pyheap-attach: pid …" and "layout: …" header lines; @p g may be NULL. */
void ph_report_header(FILE *out, const struct ph_snapshot *snap, const struct ph_graph *g);

/** Free bytes in pymalloc's or malloc's arenas from which the header notes them
 * (when they are also a quarter of the arenas or more). */
#define PH_FREE_NOTE_BYTES (16u << 20)

/** The header's line on pymalloc's arenas (nothing when not known), with a
 * note when much of them is free. */
void ph_report_pymalloc_text(FILE *out, const struct ph_pymalloc *m);

/** The header's line on glibc malloc's arenas (nothing when not known), with a
 * note when much of them is free (as for pymalloc). */
void ph_report_cmalloc_text(FILE *out, const struct ph_cmalloc *m);

/** "malloc_other":{"name","file","in_use"} or null, then "malloc":{...} or
 * "malloc":null (not known). */
void ph_json_cmalloc(FILE *out, const struct ph_cmalloc *m);

/** "pymalloc":{...} or "pymalloc":null (not known). */
void ph_json_pymalloc(FILE *out, const struct ph_pymalloc *m);

/** The Heapy table; @p limit rows (0: all). */
void ph_report_partition_text(FILE *out, const struct ph_snapshot *snap,
			      const struct ph_partition *p, size_t limit);

/** The partition as one JSON object (all kinds); @p g may be NULL. */
void ph_report_partition_json(FILE *out, const struct ph_snapshot *snap,
			      const struct ph_partition *p, const struct ph_graph *g);

/** --referrers as text: @p paths groups of paths at most (0: all). */
void ph_report_referrers_text(FILE *out, const struct ph_referrers *r, size_t paths);

/** --referrers as one JSON object; with @p alloc (may be NULL), where the
 * objects were allocated (tracemalloc) under "allocated_at"; with @p g and
 * @p holds (may be NULL), what the one object holds under "holds"; with
 * @p groups (may be NULL), what the objects hold by reference under
 * "holds_by_reference". */
void ph_report_referrers_json(FILE *out, const struct ph_snapshot *snap,
			      const struct ph_referrers *r, size_t paths,
			      const struct ph_sites *alloc, const struct ph_graph *g,
			      const struct ph_holds *holds, const struct ph_holds_groups *groups);

/** Lines shown where the objects were allocated (--referrers). */
#define PH_ALLOC_LINES 5

/** Where the objects of @p alloc (ph_sites_compute() of them) were
 * allocated: its first PH_ALLOC_LINES lines, as text under @p title. */
void ph_report_alloc_text(FILE *out, const char *title, const struct ph_snapshot *snap,
			  const struct ph_sites *alloc);
/** The same as the JSON member ,"MEMBER":{"objects","traced_objects","lines":[{"file","line",
 * "count","size"}]}. */
void ph_report_alloc_json(FILE *out, const char *member, const struct ph_snapshot *snap,
			  const struct ph_sites *alloc);

/**
 * --retained as text: the @p n objects of @p top (largest retained size
 * first), each with its own and retained size, the objects it retains, the
 * row whose retained set holds it (@p rows), its kind and its shortest path;
 * then the largest kinds of what each of the first rows->nkinds keeps.
 */
void ph_report_retained_text(FILE *out, const struct ph_graph *g, const struct ph_dominators *d,
			     const uint32_t *top, size_t n, const struct ph_retained_rows *rows);

/** --retained as one JSON object. */
void ph_report_retained_json(FILE *out, const struct ph_graph *g, const struct ph_dominators *d,
			     const uint32_t *top, size_t n, const struct ph_retained_rows *rows);

/** "What it holds": the references of one object (ph_holds_compute()), as text. */
void ph_report_holds_text(FILE *out, const struct ph_graph *g, const struct ph_holds *h);

/** The same, as the member "holds" of a JSON object (a leading comma). */
void ph_report_holds_json(FILE *out, const struct ph_graph *g, const struct ph_holds *h);

/**
 * --threads: each thread (the first @p limit, 0: all) with what it alone
 * keeps alive, its frames innermost first with what each alone keeps, and
 * each frame's locals as "What it holds" rows; then its other roots.
 */
void ph_report_stacks_text(FILE *out, const struct ph_graph *g, const struct ph_stacks *st,
			   size_t limit);
/** --threads --json: {meta, "threads": [...]} (every thread). */
void ph_report_stacks_json(FILE *out, const struct ph_graph *g, const struct ph_stacks *st);

/**
 * --tasks: each asyncio task (the first @p limit, 0: all) with what it keeps
 * alive alone, what it awaits, its coroutines innermost first and their
 * locals as "What it holds" rows.
 */
void ph_report_tasks_text(FILE *out, const struct ph_graph *g, const struct ph_tasks *t,
			  size_t limit);
/** --tasks --json: {meta, "tasks": [...]} (every task). */
void ph_report_tasks_json(FILE *out, const struct ph_graph *g, const struct ph_tasks *t);

/** What the objects of a kind hold, by reference (ph_holds_groups_compute()), as text. */
void ph_report_holds_groups_text(FILE *out, const struct ph_holds_groups *h);

/** The same, as the member "holds_by_reference" of a JSON object (a leading comma). */
void ph_report_holds_groups_json(FILE *out, const struct ph_holds_groups *h);

/** "12.3 MiB" into @p buf. */
const char *ph_human_bytes(uint64_t n, char *buf, size_t cap);

/** "2026-11-23 10:44:01 UTC" for a CLOCK_REALTIME time in ns, "unknown time" for 0. */
const char *ph_format_time(uint64_t time_ns, char *buf, size_t cap);

/**
 * Between two snapshots of one process: when its RSS grew by @p rss_b -
 * @p rss_a (1 MiB or more) and the Python objects' sizes by less than a
 * quarter of that, a note that the growth is outside Python objects (C
 * code's memory, memory the allocators keep) and what sees it; with
 * pymalloc's or glibc malloc's arenas known at both ends (@p sa, @p sb),
 * which it is. Nothing
 * otherwise, or when an RSS is unknown (0: a core file).
 */
void ph_report_outside_growth(FILE *out, uint64_t rss_a, uint64_t rss_b, uint64_t size_a,
			      uint64_t size_b, const struct ph_alloc_sums *sa,
			      const struct ph_alloc_sums *sb);

/** Width of @p v in decimal, for aligned columns. */
int ph_digits(uint64_t v);

/** Width of @p v in decimal with its sign ("+12", "-3"). */
int ph_sdigits(int64_t v);

/**
 * --arenas as text: pymalloc's arenas by the share of them in use, then the
 * objects in the sparse ones by kind (@p limit rows, 0: all).
 */
void ph_report_arenas_text(FILE *out, const struct ph_snapshot *snap, const struct ph_arena_use *u,
			   size_t limit);

struct ph_diff_held;

/**
 * --duplicates as text: the counts, the values of @p d with most extra bytes,
 * and where the copies of the first @p nheld values are held (@p held[i]:
 * value i's, its kind the value as ph_dup_value_repr() gives it; @p paths groups
 * each, 0: all).
 */
void ph_report_dup_strs_text(FILE *out, const struct ph_snapshot *snap, const struct ph_dup_strs *d,
			     const struct ph_diff_held *held, size_t nheld, size_t paths);

/** --duplicates as one JSON object. */
void ph_report_dup_strs_json(FILE *out, const struct ph_snapshot *snap, const struct ph_dup_strs *d,
			     const struct ph_diff_held *held, size_t nheld, size_t paths);

/** --arenas as one JSON object, with where the kinds of @p held are held. */
void ph_report_arenas_json(FILE *out, const struct ph_snapshot *snap, const struct ph_arena_use *u,
			   const struct ph_diff_held *held, size_t nheld, size_t paths);

/**
 * --fill as text: the dicts and sets mostly empty, by kind (the first @p limit
 * rows, 0: all), where the kinds of @p held are held (@p paths groups each,
 * 0: all), then the ones whose copies would free most (@p f's top) with
 * their shortest paths in @p g.
 */
void ph_report_fill_text(FILE *out, const struct ph_graph *g, const struct ph_fill *f,
			 const struct ph_diff_held *held, size_t nheld, size_t limit,
			 size_t paths);
/** --fill as one JSON object. */
void ph_report_fill_json(FILE *out, const struct ph_graph *g, const struct ph_fill *f,
			 const struct ph_diff_held *held, size_t nheld, size_t paths);

/**
 * --sites as text: the objects by the line that allocated them (the first
 * @p limit rows, 0: all), their kinds, and the tracebacks of the first rows.
 */
void ph_report_sites_text(FILE *out, const struct ph_snapshot *snap, const struct ph_sites *s,
			  size_t limit);
/** --sites as one JSON object (the first @p limit rows, 0: all). */
void ph_report_sites_json(FILE *out, const struct ph_snapshot *snap, const struct ph_sites *s,
			  size_t limit);

#endif
