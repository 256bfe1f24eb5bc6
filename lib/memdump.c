/* SPDX-License-Identifier: MIT */
/* Recording a heap walk for replay (fuzzing, tests): see memdump.h. */
#include "memdump.h"
#include "cpython_private.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum {
	MEMDUMP_FORMAT = 1,
	MAX_BLOCK = 1 << 20,          // bytes in one record
	MAX_BLOCKS = 1 << 20,         // records
	MAX_EXPANDED = 256 << 20,     // bytes of memory after parsing
	PAGE = 4096,
	LINE = 64,
};

struct run {
	uint64_t addr;
	const void *data;
	size_t len;
	const uint64_t *lines;
};

struct runs {
	struct run *v;
	size_t n, cap;
	bool nomem;
};

static void collect(void *arg, uint64_t addr, const void *data, size_t len,
		    const uint64_t *lines)
{
	struct runs *r = arg;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		struct run *v = reallocarray(r->v, nc, sizeof(*v));
		if (!v) {
			r->nomem = true;
			return;
		}
		r->v = v;
		r->cap = nc;
	}
	r->v[r->n++] = (struct run){addr, data, len, lines};
}

static int run_cmp(const void *a, const void *b)
{
	const struct run *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ph_error *ph_memdump_write(const struct ph_python *py, const struct ph_mem *mem,
				  const struct ph_snapshot *snap, uint64_t max_objects, FILE *out)
{
	struct runs r = {0};
	ph_mem_foreach_block(mem, collect, &r);
	if (r.nomem) {
		free(r.v);
		return &ph_error_nomem;
	}
	// Sorted, so that two dumps of the same memory are the same file.
	qsort(r.v, r.n, sizeof(*r.v), run_cmp);
	fprintf(out, "pyheap-memdump %d\n", MEMDUMP_FORMAT);
	fprintf(out, "version %u %u %u 0x%08" PRIx32 " %s\n", py->major, py->minor, py->micro,
		py->hexversion, py->version);
	fprintf(out, "path %s\n", py->path ? py->path : "");
	fprintf(out, "layout-source %s\n", py->layout_source ? py->layout_source : "");
	fprintf(out, "layout-kind %s\n", py->layout_kind ? py->layout_kind : "");
	if (snap) {
		uint64_t size = 0;
		for (size_t i = 0; i < snap->nobjects; i++)
			size += snap->objects[i].size;
		fprintf(out, "result %zu %" PRIu64 " %" PRIu64 " %d\n", snap->nobjects, size,
			snap->unreadable, snap->truncated ? 1 : 0);
	}
	fprintf(out, "max-objects %" PRIu64 "\n", max_objects);
	for (int i = 0; i < SYM_COUNT; i++)
		if (py->sym[i])
			fprintf(out, "sym %s 0x%" PRIx64 "\n", ph_symbol_names[i], py->sym[i]);
	if (py->handlers_size)
		fprintf(out, "handlers-size %" PRIu64 "\n", py->handlers_size);
	if (py->libc_main_arena)
		fprintf(out, "libc-main-arena 0x%" PRIx64 " %" PRIu64 " %d\n", py->libc_main_arena,
			py->libc_main_arena_size, py->libc_safe_linking ? 1 : 0);
	if (py->libc_mp)
		fprintf(out, "libc-mp 0x%" PRIx64 " %" PRIu64 "\n", py->libc_mp, py->libc_mp_size);
	for (size_t i = 0; i < ph_layout_nfields; i++)
		fprintf(out, "field %s %" PRId32 "\n", ph_layout_fields[i].id,
			*ph_layout_slot((struct ph_layout *)&py->L, i));
	// Records: whole page runs, or with tracking the runs of lines that
	// reads used (the parser puts them back into zeroed pages).
	struct rec {
		uint64_t addr;
		const uint8_t *data;
		uint32_t len;
	} *recs = NULL;
	size_t nrecs = 0, caprecs = 0;
	for (size_t i = 0; i < r.n; i++) {
		const uint8_t *p = r.v[i].data;
		size_t nlines = r.v[i].len / LINE;
		for (size_t l = 0; l < nlines;) {
			bool used = !r.v[i].lines || (r.v[i].lines[l / 64] & (1ull << (l % 64)));
			if (!used) {
				l++;
				continue;
			}
			size_t m = l + 1;
			while (m < nlines &&
			       (!r.v[i].lines || (r.v[i].lines[m / 64] & (1ull << (m % 64)))))
				m++;
			if (nrecs == caprecs) {
				size_t nc = caprecs ? caprecs * 2 : 1024;
				struct rec *v = reallocarray(recs, nc, sizeof(*v));
				if (!v) {
					free(recs);
					free(r.v);
					return &ph_error_nomem;
				}
				recs = v;
				caprecs = nc;
			}
			recs[nrecs++] = (struct rec){r.v[i].addr + l * LINE, p + l * LINE,
						     (uint32_t)((m - l) * LINE)};
			l = m;
		}
	}
	fprintf(out, "blocks %zu\n", nrecs);
	for (size_t i = 0; i < nrecs; i++) {
		fwrite(&recs[i].addr, sizeof(recs[i].addr), 1, out);
		fwrite(&recs[i].len, sizeof(recs[i].len), 1, out);
		fwrite(recs[i].data, 1, recs[i].len, out);
	}
	free(recs);
	free(r.v);
	if (fflush(out) != 0 || ferror(out))
		return ph_error_errno(PH_ERR_OTHER, errno ? errno : EIO, "write memory dump");
	return NULL;
}

static const char *const layout_kinds[] = {"dwarf", "tables", "debug_offsets"};

// One header line into @line (NUL-terminated, without the newline).
static bool next_line(const uint8_t *data, size_t size, size_t *pos, char *line, size_t cap)
{
	size_t i = *pos, n = 0;
	while (i < size && data[i] != '\n') {
		if (n + 1 >= cap || data[i] == '\0')
			return false;
		line[n++] = (char)data[i++];
	}
	if (i >= size)
		return false;
	line[n] = '\0';
	*pos = i + 1;
	return true;
}

struct ph_error *ph_memdump_parse(const uint8_t *data, size_t size, struct ph_memdump *ret)
{
	struct ph_memdump d = {0};
	struct ph_error *err = NULL;
	d.py = calloc(1, sizeof(*d.py));
	if (!d.py)
		return &ph_error_nomem;
	struct ph_python *py = d.py;
	ph_layout_init(&py->L);
	py->layout_kind = layout_kinds[0];
	char line[4096];
	size_t pos = 0;
	int format = 0;
	size_t nblocks = SIZE_MAX;
	int next_sym = 0;
	size_t next_field = 0;
	if (!next_line(data, size, &pos, line, sizeof(line)) ||
	    sscanf(line, "pyheap-memdump %d", &format) != 1 || format != MEMDUMP_FORMAT) {
		err = ph_error_create(PH_ERR_BAD_DATA, "parse memory dump: not a format %d dump",
				      MEMDUMP_FORMAT);
		goto fail;
	}
	while (nblocks == SIZE_MAX) {
		if (!next_line(data, size, &pos, line, sizeof(line)))
			goto bad;
		char name[256];
		uint64_t v;
		int n = 0;
		if (!strncmp(line, "version ", 8)) {
			if (sscanf(line, "version %u %u %u %" SCNx32 " %31s", &py->major, &py->minor,
				   &py->micro, &py->hexversion, py->version) != 5)
				goto bad;
		} else if (!strncmp(line, "path ", 5)) {
			free(py->path);
			if (!(py->path = strdup(line + 5)))
				goto nomem;
		} else if (!strncmp(line, "layout-source ", 14)) {
			free(py->layout_source);
			if (!(py->layout_source = strdup(line + 14)))
				goto nomem;
		} else if (!strncmp(line, "layout-kind ", 12)) {
			for (size_t i = 0; i < sizeof(layout_kinds) / sizeof(layout_kinds[0]); i++)
				if (!strcmp(line + 12, layout_kinds[i]))
					py->layout_kind = layout_kinds[i];
		} else if (!strncmp(line, "result ", 7)) {
			if (sscanf(line, "result %" SCNu64 " %" SCNu64 " %" SCNu64 " %d", &d.objects,
				   &d.size, &d.unreadable, &d.truncated) != 4)
				goto bad;
		} else if (!strncmp(line, "handlers-size ", 14)) {
			if (sscanf(line, "handlers-size %" SCNu64, &py->handlers_size) != 1)
				goto bad;
		} else if (!strncmp(line, "libc-main-arena ", 16)) {
			int safe;
			if (sscanf(line, "libc-main-arena 0x%" SCNx64 " %" SCNu64 " %d",
				   &py->libc_main_arena, &py->libc_main_arena_size, &safe) != 3)
				goto bad;
			py->libc_safe_linking = safe != 0;
		} else if (!strncmp(line, "libc-mp ", 8)) {
			if (sscanf(line, "libc-mp 0x%" SCNx64 " %" SCNu64, &py->libc_mp,
				   &py->libc_mp_size) != 2)
				goto bad;
		} else if (!strncmp(line, "max-objects ", 12)) {
			if (sscanf(line, "max-objects %" SCNu64, &d.max_objects) != 1)
				goto bad;
		} else if (sscanf(line, "sym %255s 0x%" SCNx64 "%n", name, &v, &n) == 2 && n) {
			// Written in table order: try the next entry first.
			int i = next_sym < SYM_COUNT && !strcmp(name, ph_symbol_names[next_sym])
					? next_sym
					: 0;
			for (; i < SYM_COUNT && strcmp(name, ph_symbol_names[i]); i++)
				;
			if (i < SYM_COUNT) {
				py->sym[i] = v;
				next_sym = i + 1;
			}
		} else if (!strncmp(line, "field ", 6)) {
			long fv;
			if (sscanf(line, "field %255s %ld", name, &fv) != 2 || fv < -1 ||
			    fv > INT32_MAX)
				goto bad;
			size_t i = next_field < ph_layout_nfields &&
						   !strcmp(name, ph_layout_fields[next_field].id)
					   ? next_field
					   : 0;
			for (; i < ph_layout_nfields && strcmp(name, ph_layout_fields[i].id); i++)
				;
			if (i < ph_layout_nfields) {
				*ph_layout_slot(&py->L, i) = (int32_t)fv;
				next_field = i + 1;
			}
		} else if (!strncmp(line, "blocks ", 7)) {
			unsigned long nb;
			if (sscanf(line, "blocks %lu", &nb) != 1 || nb > MAX_BLOCKS)
				goto bad;
			nblocks = nb;
		}
	}
	if (!py->path && !(py->path = strdup("(memory dump)")))
		goto nomem;
	if (!py->layout_source && !(py->layout_source = strdup("memory dump")))
		goto nomem;
	if (py->major != 3 || !*py->version)
		goto bad;
	d.header_size = pos;
	d.records = calloc(nblocks ? nblocks : 1, sizeof(*d.records));
	if (!d.records)
		goto nomem;
	// Records must come in address order without overlap (as written).
	uint64_t next = 0, expanded = 0;
	size_t nruns = 0;
	for (size_t i = 0; i < nblocks; i++) {
		uint64_t a;
		uint32_t len;
		if (size - pos < sizeof(a) + sizeof(len))
			goto bad;
		memcpy(&a, data + pos, sizeof(a));
		memcpy(&len, data + pos + sizeof(a), sizeof(len));
		pos += sizeof(a) + sizeof(len);
		if (!len || len > MAX_BLOCK || size - pos < len || a + len < a ||
		    a + len > UINT64_MAX - PAGE || (i && a < next))
			goto bad;
		d.records[i] = (struct ph_memdump_record){a, pos, len};
		pos += len;
		// The pages a record covers; a new run unless they touch the last.
		uint64_t first = a & ~(uint64_t)(PAGE - 1);
		uint64_t end = (a + len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		uint64_t last_end = i ? (next + PAGE - 1) & ~(uint64_t)(PAGE - 1) : 0;
		if (!i || first > last_end) {
			nruns++;
			expanded += end - first;
		} else if (end > last_end) {
			expanded += end - last_end;
		}
		if (expanded > MAX_EXPANDED)
			goto bad;
		next = a + len;
	}
	d.nrecords = nblocks;
	// Expand into zeroed pages: segments of whole pages, as the source had.
	d.memory = calloc(expanded ? expanded : 1, 1);
	d.segments = calloc(nruns ? nruns : 1, sizeof(*d.segments));
	if (!d.memory || !d.segments)
		goto nomem;
	size_t nseg = 0;
	uint64_t used = 0, run_end = 0;
	for (size_t i = 0; i < nblocks; i++) {
		const struct ph_memdump_record *rec = &d.records[i];
		uint64_t first = rec->address & ~(uint64_t)(PAGE - 1);
		uint64_t end = (rec->address + rec->len + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		if (!nseg || first > run_end) {
			d.segments[nseg++] = (struct ph_buffer_segment){first, d.memory + used, 0};
			run_end = first;
		}
		struct ph_buffer_segment *seg = &d.segments[nseg - 1];
		if (end > run_end) {
			used += end - run_end;
			seg->size += (size_t)(end - run_end);
			run_end = end;
		}
		memcpy((uint8_t *)seg->data + (rec->address - seg->address), data + rec->offset,
		       rec->len);
	}
	d.source = (struct ph_buffer_source){d.segments, nseg};
	*ret = d;
	return NULL;
nomem:
	err = &ph_error_nomem;
	goto fail;
bad:
	err = ph_error_create(PH_ERR_BAD_DATA, "parse memory dump: malformed at byte %zu", pos);
fail:
	ph_memdump_deinit(&d);
	return err;
}

void ph_memdump_deinit(struct ph_memdump *d)
{
	ph_python_close(d->py);
	free(d->segments);
	free(d->records);
	free(d->memory);
	d->py = NULL;
	d->segments = NULL;
	d->records = NULL;
	d->memory = NULL;
}
