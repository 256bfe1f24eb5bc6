/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpython.h"
#include "graph.h"
#include "mem.h"
#include "memdump.h"
#include "partition.h"
#include "report.h"
#include "snapshot.h"

void fuzz_run(const uint8_t *data, size_t size, enum fuzz_cache cache, struct fuzz_result *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct ph_memdump d;
	struct ph_error *err = ph_memdump_parse(data, size, &d);
	if (err) {
		ph_error_destroy(err);
		return;
	}
	ret->parsed = true;
	ret->want_objects = d.objects;
	ret->want_size = d.size;
	ret->want_unreadable = d.unreadable;
	ret->want_truncated = d.truncated;
	struct ph_mem_source src = {.read = ph_buffer_source_read, .arg = &d.source};
	struct ph_mem *mem = NULL;
	struct ph_snapshot *snap = NULL;
	err = ph_mem_create(&src, &mem);
	uint64_t recorded = 0;
	for (size_t i = 0; i < d.source.nsegments; i++)
		recorded += d.source.segments[i].size;
	if (!err && cache == FUZZ_ONE_BLOCK)
		ph_mem_set_limit(mem, 1);
	if (!err && cache == FUZZ_BUDGET)
		ph_mem_set_limit(mem, 64 << 16);
	if (!err) {
		struct ph_walk_options opt = {.max_objects = d.max_objects ? d.max_objects : 1000000,
					      .hash_values = true,
					      .keep_values = true,
					      .memory_bytes = cache == FUZZ_BUDGET ? recorded : 0};
		err = ph_python_walk(d.py, mem, &opt, &snap);
	}
	ph_mem_destroy(mem);
	if (err) {
		ret->error = (int)err->code;
		ph_error_destroy(err);
		ph_memdump_deinit(&d);
		return;
	}
	ret->objects = snap->nobjects;
	for (size_t i = 0; i < snap->nobjects; i++)
		ret->size += snap->objects[i].size;
	ret->unreadable = snap->unreadable;
	ret->truncated = snap->truncated;
	// glibc malloc: never more free than the arenas took.
	const struct ph_cmalloc *cm = &snap->cmalloc;
	if (cm->known && (cm->free_bytes > cm->system_bytes || cm->fast_free_bytes > cm->free_bytes ||
			  !cm->arenas || cm->free_chunks < cm->arenas))
		abort();
	// pymalloc's arenas: what was counted of them adds up to them (an arena
	// whose pools do not add up is left out, and counted unreadable).
	const struct ph_pymalloc *pm = &snap->pymalloc;
	if (pm->known) {
		uint64_t parts = pm->allocated_bytes + pm->available_bytes + pm->free_pool_bytes +
				 pm->overhead_bytes;
		if (parts != pm->arenas * pm->arena_size || pm->nclasses > PH_PYMALLOC_CLASSES)
			abort();
		for (uint32_t c = 0; c < pm->nclasses; c++)
			if (!pm->classes[c].pools || pm->classes[c].size > 1024 ||
			    (c && pm->classes[c].size <= pm->classes[c - 1].size))
				abort();
		// Each arena listed, by address, none overlapping the next; their
		// blocks in use are those counted.
		uint64_t used = 0;
		if (pm->narena_list && pm->narena_list != pm->arenas)
			abort();
		for (uint64_t i = 0; i < pm->narena_list; i++) {
			used += pm->arena_list[i].used;
			if (pm->arena_list[i].used > pm->arena_size ||
			    (i && pm->arena_list[i].address - pm->arena_list[i - 1].address <
					  pm->arena_size))
				abort();
		}
		if (pm->narena_list && used != pm->allocated_bytes)
			abort();
	}

	// What the command does with a snapshot: hostile names and sizes must
	// pass through the analysis and the report as well.
	char *text = NULL;
	size_t textlen = 0;
	FILE *out = open_memstream(&text, &textlen);
	struct ph_graph graph;
	struct ph_partition part = {0};
	err = ph_graph_build(snap, &graph);
	if (!err) {
		// The partition's cheap reachability count must agree with the
		// full graph's.
		struct ph_graph reach;
		struct ph_error *rerr = ph_graph_reach(snap, &reach);
		if (!rerr) {
			if (reach.garbage_objects != graph.garbage_objects ||
			    reach.garbage_size != graph.garbage_size ||
			    reach.native_held != graph.native_held)
				abort();
			ph_graph_deinit(&reach);
		}
		ph_error_destroy(rerr);
		err = ph_partition_compute(snap, &part);
		if (!err && out) {
			ph_report_header(out, snap, &graph);
			ph_report_partition_text(out, snap, &part, 0);
			ph_report_partition_json(out, snap, &part, &graph);
		}
		// --duplicates: each copy beyond a value's first is counted once;
		// the values come by extra bytes, each in two copies or more.
		struct ph_dup_strs dup;
		if (!ph_dup_strs_compute(snap, 8, &dup)) {
			if (dup.extra_copies != dup.strs + dup.bytes - dup.distinct ||
			    dup.dup_values > dup.distinct || dup.hashed_strs > dup.strs ||
			    dup.hashed_strs + dup.bytes != snap->nvalue_hashes)
				abort();
			for (size_t k = 0; k < dup.ntop; k++)
				if (dup.top[k].count < 2 ||
				    (k && dup.top[k].extra > dup.top[k - 1].extra))
					abort();
			if (out) {
				ph_report_dup_strs_text(out, snap, &dup, NULL, 0, 0);
				ph_report_dup_strs_json(out, snap, &dup, NULL, 0, 0);
			}
			ph_dup_strs_deinit(&dup);
		}
		// --fill: the tables sparse and by object, their copies smaller,
		// each counted once by kind and the top ones by bytes freed.
		for (size_t i = 0; i < snap->nsparse_tables; i++) {
			const struct ph_sparse_table *t = &snap->sparse_tables[i];
			if (t->object >= snap->nobjects ||
			    (i && t->object <= snap->sparse_tables[i - 1].object) ||
			    (uint64_t)t->entries * 100 >= t->room * PH_SPARSE_TABLE_PCT ||
			    t->copy_size >= snap->objects[t->object].size)
				abort();
		}
		struct ph_fill fill;
		struct ph_error *ferr = ph_fill_compute(snap, 8, &fill);
		if (!ferr) {
			if (fill.kinds.objects != fill.tables || fill.kinds.size != fill.size ||
			    fill.tables != snap->nsparse_tables || fill.copy_size > fill.size)
				abort();
			if (out) {
				ph_report_fill_text(out, &graph, &fill, NULL, 0, 0, 0);
				ph_report_fill_json(out, &graph, &fill, NULL, 0, 0);
			}
			ph_fill_deinit(&fill);
		}
		ph_error_destroy(ferr);
		// --arenas: every object in one band or outside.
		struct ph_arena_use use;
		struct ph_error *aerr = ph_arena_use_compute(snap, &use);
		if (!aerr) {
			uint64_t n = use.outside;
			for (unsigned b = 0; b < PH_ARENA_BANDS; b++)
				n += use.bands[b].objects;
			if (n != snap->nobjects || use.kinds.objects != use.sparse.objects)
				abort();
			if (out) {
				ph_report_arenas_text(out, snap, &use, 0);
				ph_report_arenas_json(out, snap, &use, NULL, 0, 0);
			}
			ph_arena_use_deinit(&use);
		}
		ph_error_destroy(aerr);
		// Who holds the largest kind: its objects retain at least
		// themselves, at most the heap; the largest come first.
		struct ph_referrers refs;
		struct ph_referrers_options ropt = {.depth = 4, .breadth = 4};
		if (!err && part.nrows &&
		    !ph_referrers_compute(&graph, part.rows[0].kind, &ropt, &refs)) {
			if (refs.retained_objects < refs.objects || refs.retained_size < refs.size ||
			    refs.retained_size > ret->size)
				abort();
			for (size_t i = 1; i < refs.nlargest; i++)
				if (refs.largest[i].size > refs.largest[i - 1].size)
					abort();
			if (out) {
				ph_report_referrers_text(out, &refs, 10);
				ph_report_referrers_json(out, snap, &refs, 10, NULL, NULL, NULL, NULL);
			}
			ph_referrers_deinit(&refs);
		}
		// What one object holds: at most the rows asked for, each an
		// object of the snapshot that retains at least itself.
		struct ph_holds holds;
		if (!err && snap->nobjects &&
		    !ph_holds_compute(&graph, (uint32_t)(snap->nobjects / 2), 8, &holds)) {
			if (holds.nrows > 8 || holds.total < holds.nrows)
				abort();
			for (size_t i = 0; i < holds.nrows; i++)
				if (holds.rows[i].object >= snap->nobjects || !holds.rows[i].label ||
				    holds.rows[i].retained < snap->objects[holds.rows[i].object].size)
					abort();
			if (out) {
				ph_report_holds_text(out, &graph, &holds);
				ph_report_holds_json(out, &graph, &holds);
			}
			ph_holds_deinit(&holds);
		}
		// The threads' stacks: each thread retains at least what any of
		// its frames does, each row an object of the snapshot.
		struct ph_stacks st;
		if (!err && !ph_stacks_compute(&graph, 4, &st)) {
			for (size_t t = 0; t < st.n; t++) {
				const struct ph_stack_thread *th = &st.threads[t];
				if (t && th->retained > st.threads[t - 1].retained)
					abort();
				for (size_t f = 0; f < th->nframes; f++) {
					const struct ph_stack_frame *fr = &th->frames[f];
					if (fr->retained > th->retained || fr->locals.nrows > 4 ||
					    fr->root >= snap->nroots)
						abort();
					for (size_t i = 0; i < fr->locals.nrows; i++)
						if (fr->locals.rows[i].object >= snap->nobjects)
							abort();
				}
			}
			if (out) {
				ph_report_stacks_text(out, &graph, &st, 3);
				ph_report_stacks_json(out, &graph, &st);
			}
			ph_stacks_deinit(&st);
		}
		// The asyncio tasks: each awaits an object of the snapshot, each
		// coroutine and row one too.
		struct ph_tasks tasks;
		if (!err && !ph_tasks_compute(&graph, 4, &tasks)) {
			for (size_t t = 0; t < tasks.n; t++) {
				const struct ph_task *tk = &tasks.tasks[t];
				if (tk->object >= snap->nobjects ||
				    (tk->awaiting != PH_NONE && tk->awaiting >= snap->nobjects))
					abort();
				for (size_t c = 0; c < tk->ncoros; c++)
					if (tk->coros[c].object >= snap->nobjects ||
					    tk->coros[c].locals.nrows > 4)
						abort();
			}
			if (out) {
				ph_report_tasks_text(out, &graph, &tasks, 3);
				ph_report_tasks_json(out, &graph, &tasks);
			}
			ph_tasks_deinit(&tasks);
		}
		// Objects by their paths: the printed path of one, and paths
		// that may lead nowhere (never a crash, whatever the graph).
		if (!err && snap->nobjects) {
			char *p = ph_graph_path(&graph, (uint32_t)(snap->nobjects / 3));
			if (p && ph_graph_find_path(&graph, p) >= snap->nobjects &&
			    ph_graph_find_path(&graph, p) != PH_NONE)
				abort();
			free(p);
			static const char *const paths[] = {"__main__.a[0].b", "sys.modules['x']",
							    "thread 0x1 frame f() a.py:1 local 'x'",
							    "__main__[", "."};
			for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
				if (ph_graph_find_path(&graph, paths[i]) >= snap->nobjects &&
				    ph_graph_find_path(&graph, paths[i]) != PH_NONE)
					abort();
		}
		// Retained sizes: every object retains at least itself, and
		// what it retains at most the heap.
		struct ph_dominators dom;
		uint32_t *top = NULL;
		size_t ntop = 0;
		if (!err && !ph_dominators_compute(&graph, &dom)) {
			for (uint32_t i = 0; i < dom.n; i++)
				if (dom.retained[i] < snap->objects[i].size || dom.retained[i] > ret->size ||
				    !dom.retained_count[i] || dom.retained_count[i] > dom.n)
					abort();
			// What the rows keep by kind adds up to their retained
			// sizes; a row is within one that retains more.
			struct ph_retained_rows rows = {0};
			if (!ph_dominators_top(&dom, 20, &top, &ntop) &&
			    !ph_dominators_rows(snap, &dom, top, ntop, 10, &rows)) {
				for (size_t r = 0; r < rows.nkinds; r++)
					if (rows.kinds[r].objects != dom.retained_count[top[r]] ||
					    rows.kinds[r].size != dom.retained[top[r]])
						abort();
				for (size_t r = 0; r < rows.n; r++)
					if (rows.within[r] != PH_NONE &&
					    (rows.within[r] >= ntop || rows.within[r] == r ||
					     dom.retained_count[top[rows.within[r]]] <=
						     dom.retained_count[top[r]]))
						abort();
				if (out) {
					ph_report_retained_text(out, &graph, &dom, top, ntop, &rows);
					ph_report_retained_json(out, &graph, &dom, top, ntop, &rows);
				}
			}
			ph_retained_rows_deinit(&rows);
			free(top);
			ph_dominators_deinit(&dom);
		}
		ph_partition_deinit(&part);
		ph_graph_deinit(&graph);
	}
	ph_error_destroy(err);
	if (out)
		fclose(out);
	free(text);
	ph_snapshot_destroy(snap);
	ph_memdump_deinit(&d);
}

uint64_t fuzz_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

// True if @w points into one of the records.
static bool recorded(const struct ph_memdump *d, uint64_t w)
{
	size_t lo = 0, hi = d->nrecords;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ph_memdump_record *r = &d->records[mid];
		if (w < r->address)
			hi = mid;
		else if (w - r->address >= r->len)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

bool fuzz_mutate(uint8_t *data, size_t size, uint64_t *rng)
{
	struct ph_memdump d;
	struct ph_error *err = ph_memdump_parse(data, size, &d);
	if (err) {
		ph_error_destroy(err);
		return false;
	}
	size_t n = d.nrecords;
	unsigned count = n ? 1 + (unsigned)(fuzz_rand(rng) % 4) : 0;
	for (unsigned k = 0; k < count; k++) {
		// Pick a word (records start on 64-byte lines: offsets that are
		// multiples of 8 are aligned words), preferring 3 times in 4 one the
		// walker is likely to use: a pointer into the recorded memory or a
		// small count.
		uint8_t *p = NULL;
		uint64_t w = 0;
		bool picky = fuzz_rand(rng) % 4 != 0;
		for (int tries = 0; tries < 32; tries++) {
			const struct ph_memdump_record *r = &d.records[fuzz_rand(rng) % n];
			if (r->len < 8)
				continue;
			p = data + r->offset + (fuzz_rand(rng) % (r->len / 8)) * 8;
			memcpy(&w, p, 8);
			if (!picky || (w && w < 1000000) || recorded(&d, w))
				break;
		}
		if (!p)
			continue;
		const struct ph_memdump_record *o = &d.records[fuzz_rand(rng) % n];
		switch (fuzz_rand(rng) % 10) {
		case 0:
		case 1: // a pointer to another recorded place: cycles, type confusion
			w = o->address + ((fuzz_rand(rng) % o->len) & ~7ull);
			break;
		case 2:
			w = 0;
			break;
		case 3:
			w = ~0ull;
			break;
		case 4: // off by a few bytes (misaligned, or inside the object)
			w += (fuzz_rand(rng) % 33) - 16;
			break;
		case 5: // a huge count or size
			w = 1ull << (fuzz_rand(rng) % 64);
			break;
		case 6: // a negative count
			w = (uint64_t)-(int64_t)(1 + fuzz_rand(rng) % 1000);
			break;
		case 7:
			w = fuzz_rand(rng);
			break;
		case 8: // one random bit
			w ^= 1ull << (fuzz_rand(rng) % 64);
			break;
		default: // a few random bytes
			for (int b = 0; b < 8; b++)
				if (fuzz_rand(rng) & 1)
					((uint8_t *)&w)[b] = (uint8_t)fuzz_rand(rng);
			break;
		}
		memcpy(p, &w, 8);
	}
	ph_memdump_deinit(&d);
	return true;
}
