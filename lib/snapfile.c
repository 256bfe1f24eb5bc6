/* SPDX-License-Identifier: MIT */
/*
 * Snapshot files, version 1. The layout is described in README.md
 * ("Snapshot files"); in short:
 *
 *   header   8 magic "\x89PYHEAP\n", u32 LE version, u32 LE flags (0),
 *            u64 LE payload length L
 *   payload  sections: varint tag, varint length, body
 *   trailer  u32 LE CRC-32 of the header and the payload
 *
 * Numbers are unsigned LEB128 varints; signed ones (deltas) are zigzag
 * coded first. Sections, each required once, decoded in this order:
 * META (1), TYPES (2), OBJECTS (3), EDGES (4), ROOT_EDGES (6), ROOTS (5),
 * WEAK_EDGES (7), TEXT (8). Tags from 64 up are optional: a reader skips
 * those it does not know; any other unknown tag is refused.
 *
 * Nothing read is trusted: every count is capped by the bytes left in its
 * section (each item takes at least one byte per field), so a corrupted
 * count cannot make the reader allocate more than a small multiple of the
 * file's size; every index is checked against its table.
 */
#include "snapfile.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t magic[8] = {0x89, 'P', 'Y', 'H', 'E', 'A', 'P', '\n'};
enum { HEADER_SIZE = 24, TRAILER_SIZE = 4 };

enum section_tag {
	SEC_META = 1,
	SEC_TYPES = 2,
	SEC_OBJECTS = 3,
	SEC_EDGES = 4,
	SEC_ROOTS = 5,
	SEC_ROOT_EDGES = 6,
	SEC_WEAK_EDGES = 7,
	SEC_TEXT = 8,
	SEC_REQUIRED_MAX = 8,
	SEC_OPTIONAL_MIN = 64, /* from here on, readers skip tags they do not know */
	SEC_CORE = 64,         /* optional: str, the core file the snapshot was read from */
	SEC_PYMALLOC = 65,     /* optional: pymalloc's arenas (struct ph_pymalloc), when known */
	SEC_CMALLOC = 66,      /* optional: glibc malloc's arenas (struct ph_cmalloc), when known */
	SEC_PYMALLOC_ARENAS = 67, /* optional: each pymalloc arena's address and use (after 65) */
	SEC_MALLOC_OTHER = 68,    /* optional: another malloc mapped (struct ph_cmalloc's other) */
	SEC_SPARSE_TABLES = 69,   /* optional: the dicts and sets mostly empty (--fill) */
	SEC_TRACEMALLOC = 70,     /* optional: tracemalloc's tracebacks of the objects (--sites) */
	SEC_VALUE_HASHES = 71,    /* optional: long strs' and bytes' values by hash (--duplicates) */
	SEC_STATIC_REFS = 72,     /* optional: words of ELF files' static data holding objects */
	SEC_STACK_REFS = 73,      /* optional: slots of running frames' value stacks holding objects */
	SEC_OBJ_LINES = 74,       /* optional: the lines suspended generators, coroutines, frame
				     objects and greenlets' frames are at */
	SEC_POOL_OBJECTS = 75,    /* optional: the objects found in pymalloc's blocks alone
				     (PH_OBJ_POOL) */
	SEC_OPTIONAL_MAX = 75,    /* the last optional tag this reader knows */
};

static const char *const section_names[] = {
	[SEC_META] = "META",	   [SEC_TYPES] = "TYPES", [SEC_OBJECTS] = "OBJECTS",
	[SEC_EDGES] = "EDGES",	   [SEC_ROOTS] = "ROOTS", [SEC_ROOT_EDGES] = "ROOT_EDGES",
	[SEC_WEAK_EDGES] = "WEAK_EDGES", [SEC_TEXT] = "TEXT",
};

enum { META_GC_DISABLED = 1, META_TRUNCATED = 2, META_HAS_TRUNCATED_REASON = 4 };
enum { TYPE_IS_DICT = 1 };
#define OBJECT_FLAGS_KNOWN                                                                  \
	(PH_OBJ_GC_LIST | PH_OBJ_MODULE_DICT | PH_OBJ_INLINE_VALUES | PH_OBJ_IMMORTAL |        \
	 PH_OBJ_STATIC_TYPE)

static const char *const layout_kinds[] = {"dwarf", "tables", "debug_offsets"};

/* ---- CRC-32 ---- */

uint32_t ph_crc32(uint32_t crc, const void *buf, size_t len)
{
	// Slicing by 8: eight table lookups per 8 bytes (a 20 MB snapshot in
	// about 15 ms instead of 60 one byte at a time).
	static uint32_t table[8][256];
	static bool ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[0][i] = c;
		}
		for (uint32_t i = 0; i < 256; i++)
			for (int t = 1; t < 8; t++)
				table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
		ready = true;
	}
	const uint8_t *p = buf;
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
				     (uint32_t)p[3] << 24);
		uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
			      (uint32_t)p[7] << 24;
		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
		      table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
	}
	for (size_t i = 0; i < len; i++)
		crc = table[0][(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static int64_t unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* ---- writing ---- */

struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool failed;
};

// Room for @n more bytes.
static bool reserve(struct wbuf *w, size_t n)
{
	if (w->failed)
		return false;
	if (w->len + n <= w->cap)
		return true;
	size_t nc = w->cap ? w->cap : 4096;
	while (nc < w->len + n)
		nc *= 2;
	uint8_t *p = realloc(w->p, nc);
	if (!p) {
		w->failed = true;
		return false;
	}
	w->p = p;
	w->cap = nc;
	return true;
}

static void put_bytes(struct wbuf *w, const void *data, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void put_varint(struct wbuf *w, uint64_t v)
{
	if (w->len + 10 > w->cap && !reserve(w, 10))
		return;
	uint8_t *b = w->p + w->len;
	while (v >= 0x80) {
		*b++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*b++ = (uint8_t)v;
	w->len = (size_t)(b - w->p);
}

static void put_svarint(struct wbuf *w, int64_t v)
{
	put_varint(w, zigzag(v));
}

static void put_str(struct wbuf *w, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	put_varint(w, n);
	put_bytes(w, s ? s : "", n);
}

static void put_index(struct wbuf *w, uint32_t i) // PH_NONE -> 0, else i + 1
{
	put_varint(w, i == PH_NONE ? 0 : (uint64_t)i + 1);
}

static void put_le(struct wbuf *w, uint64_t v, int bytes)
{
	uint8_t b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put_bytes(w, b, (size_t)bytes);
}

// An edge label: the kind in 4 bits, the payload as a delta from the
// previous payload (list items 0, 1, 2… and dict entries k, k, k+1… take
// one byte each).
static void put_label(struct wbuf *w, uint32_t label, uint32_t *prev)
{
	uint32_t payload = PH_EDGE_PAYLOAD(label);
	uint64_t d = zigzag((int64_t)payload - (int64_t)*prev);
	*prev = payload;
	put_varint(w, d << 4 | (uint64_t)PH_EDGE_KIND(label));
}

static void put_section(struct wbuf *w, enum section_tag tag, struct wbuf *body)
{
	if (body->failed)
		w->failed = true;
	put_varint(w, tag);
	put_varint(w, body->len);
	put_bytes(w, body->p, body->len);
	free(body->p);
	*body = (struct wbuf){0};
}

static void encode_meta(struct wbuf *b, const struct ph_snapshot *s)
{
	put_svarint(b, s->pid);
	put_str(b, s->python_version);
	put_str(b, s->python_path);
	put_str(b, s->layout_source);
	put_str(b, s->layout_kind);
	put_varint(b, s->time_ns);
	put_varint(b, s->pause_ns);
	put_varint(b, s->rss);
	put_varint(b, s->unreadable);
	put_varint(b, s->gc_objects);
	put_varint(b, s->interpreters);
	put_varint(b, s->threads);
	put_varint(b, (s->gc_disabled ? META_GC_DISABLED : 0) | (s->truncated ? META_TRUNCATED : 0) |
			      (s->truncated_reason ? META_HAS_TRUNCATED_REASON : 0));
	if (s->truncated_reason)
		put_str(b, s->truncated_reason);
}

static void encode_types(struct wbuf *b, const struct ph_snapshot *s)
{
	put_varint(b, s->ntypes);
	uint64_t prev = 0;
	for (size_t i = 0; i < s->ntypes; i++) {
		const struct ph_type *t = &s->types[i];
		put_svarint(b, (int64_t)(t->address - prev));
		prev = t->address;
		put_index(b, t->object);
		put_varint(b, t->is_dict ? TYPE_IS_DICT : 0);
		put_str(b, t->name);
		put_varint(b, t->nattr_names);
		for (uint32_t k = 0; k < t->nattr_names; k++)
			put_str(b, t->attr_names[k]);
		put_varint(b, t->nslot_names);
		for (uint32_t k = 0; k < t->nslot_names; k++)
			put_str(b, t->slot_names[k]);
	}
}

static void encode_objects(struct wbuf *b, const struct ph_snapshot *s)
{
	// Column by column: similar values next to each other.
	size_t n = s->nobjects;
	put_varint(b, n);
	uint64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		put_svarint(b, (int64_t)(s->objects[i].address - prev));
		prev = s->objects[i].address;
	}
	for (size_t i = 0; i < n; i++)
		put_varint(b, s->objects[i].size);
	for (size_t i = 0; i < n; i++)
		put_varint(b, s->objects[i].refcnt);
	for (size_t i = 0; i < n; i++)
		put_varint(b, s->objects[i].type);
	for (size_t i = 0; i < n; i++) {
		uint32_t o = s->objects[i].owner;
		put_varint(b, o == PH_NONE ? 0 : 1 + zigzag((int64_t)o - (int64_t)i));
	}
	for (size_t i = 0; i < n; i++)
		put_varint(b, s->objects[i].flags & OBJECT_FLAGS_KNOWN); // (PH_OBJ_POOL: not kept)
}

static void encode_edges(struct wbuf *b, const struct ph_snapshot *s)
{
	put_varint(b, s->nedges);
	for (size_t i = 0; i < s->nobjects; i++)
		put_varint(b, s->edge_start[i + 1] - s->edge_start[i]);
	for (size_t i = 0; i < s->nobjects; i++) {
		int64_t prev = (int64_t)i;
		uint32_t prev_payload = 0;
		for (uint32_t e = s->edge_start[i]; e < s->edge_start[i + 1]; e++) {
			put_svarint(b, (int64_t)s->edges[e].target - prev);
			prev = s->edges[e].target;
			put_label(b, s->edges[e].label, &prev_payload);
		}
	}
}

static void encode_root_edges(struct wbuf *b, const struct ph_snapshot *s)
{
	put_varint(b, s->nroot_edges);
	int64_t prev = 0;
	uint32_t prev_payload = 0;
	for (size_t e = 0; e < s->nroot_edges; e++) {
		put_svarint(b, (int64_t)s->root_edges[e].target - prev);
		prev = s->root_edges[e].target;
		put_label(b, s->root_edges[e].label, &prev_payload);
	}
}

static void encode_roots(struct wbuf *b, const struct ph_snapshot *s)
{
	put_varint(b, s->nroots);
	for (size_t r = 0; r < s->nroots; r++) {
		const struct ph_root *rt = &s->roots[r];
		put_varint(b, (uint64_t)rt->kind);
		put_index(b, rt->object);
		put_varint(b, rt->edge_start);
		put_varint(b, rt->edge_end - rt->edge_start);
		put_index(b, rt->code);
		put_varint(b, rt->thread_id);
		put_varint(b, rt->depth);
		put_svarint(b, rt->line);
	}
}

static void encode_weak(struct wbuf *b, const struct ph_snapshot *s)
{
	put_varint(b, s->nweak_edges);
	int64_t pf = 0, pt = 0;
	for (size_t w = 0; w < s->nweak_edges; w++) {
		put_svarint(b, (int64_t)s->weak_edges[w].from - pf);
		put_svarint(b, (int64_t)s->weak_edges[w].to - pt);
		pf = s->weak_edges[w].from;
		pt = s->weak_edges[w].to;
	}
}

static void encode_text(struct wbuf *b, const struct ph_snapshot *s)
{
	size_t k = 0;
	for (size_t i = 0; i < s->nobjects; i++)
		k += ph_snapshot_text(s, i) != NULL;
	put_varint(b, k);
	size_t next = 0; // the smallest index the next entry may have
	for (size_t i = 0; i < s->nobjects; i++) {
		const char *t = ph_snapshot_text(s, i);
		if (!t)
			continue;
		put_varint(b, i - next);
		next = i + 1;
		put_str(b, t);
	}
}

static void encode_pymalloc(struct wbuf *b, const struct ph_pymalloc *m)
{
	const uint64_t v[] = {m->arena_size,	  m->pool_size,	      m->arenas,
			      m->allocated_bytes, m->available_bytes, m->free_pool_bytes,
			      m->overhead_bytes,  m->unreadable,      m->nclasses};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		put_varint(b, v[i]);
	for (uint32_t i = 0; i < m->nclasses; i++) {
		put_varint(b, m->classes[i].size);
		put_varint(b, m->classes[i].pools);
		put_varint(b, m->classes[i].blocks);
		put_varint(b, m->classes[i].free_blocks);
	}
}

struct ph_error *ph_snapfile_encode(const struct ph_snapshot *snap, uint8_t **ret, size_t *len)
{
	struct wbuf w = {0}, body = {0};
	put_bytes(&w, magic, sizeof(magic));
	put_le(&w, PH_SNAPFILE_VERSION, 4);
	put_le(&w, 0, 4);
	put_le(&w, 0, 8); // payload length, filled in below
	encode_meta(&body, snap);
	put_section(&w, SEC_META, &body);
	encode_types(&body, snap);
	put_section(&w, SEC_TYPES, &body);
	encode_objects(&body, snap);
	put_section(&w, SEC_OBJECTS, &body);
	encode_edges(&body, snap);
	put_section(&w, SEC_EDGES, &body);
	encode_root_edges(&body, snap);
	put_section(&w, SEC_ROOT_EDGES, &body);
	encode_roots(&body, snap);
	put_section(&w, SEC_ROOTS, &body);
	encode_weak(&body, snap);
	put_section(&w, SEC_WEAK_EDGES, &body);
	encode_text(&body, snap);
	put_section(&w, SEC_TEXT, &body);
	if (snap->core_path) {
		put_str(&body, snap->core_path);
		put_section(&w, SEC_CORE, &body);
	}
	if (snap->pymalloc.known) {
		encode_pymalloc(&body, &snap->pymalloc);
		put_section(&w, SEC_PYMALLOC, &body);
	}
	if (snap->pymalloc.known && snap->pymalloc.narena_list) {
		const struct ph_pymalloc *m = &snap->pymalloc;
		put_varint(&body, m->narena_list);
		for (uint64_t i = 0; i < m->narena_list; i++) {
			put_varint(&body, m->arena_list[i].address - (i ? m->arena_list[i - 1].address : 0));
			put_varint(&body, m->arena_list[i].used);
		}
		put_section(&w, SEC_PYMALLOC_ARENAS, &body);
	}
	if (snap->sparse_known) {
		put_varint(&body, snap->nsparse_tables);
		for (size_t i = 0; i < snap->nsparse_tables; i++) {
			const struct ph_sparse_table *t = &snap->sparse_tables[i];
			put_varint(&body, t->object - (i ? snap->sparse_tables[i - 1].object : 0));
			put_varint(&body, t->entries);
			put_varint(&body, t->room);
			put_varint(&body, t->copy_size);
		}
		put_section(&w, SEC_SPARSE_TABLES, &body);
	}
	if (snap->tracemalloc.known && snap->object_site) {
		put_varint(&body, snap->tracemalloc.traces);
		put_varint(&body, snap->tracemalloc.unreadable);
		put_varint(&body, snap->nsite_files);
		for (size_t i = 0; i < snap->nsite_files; i++)
			put_str(&body, snap->site_files[i]);
		put_varint(&body, snap->nsites);
		for (size_t i = 0; i < snap->nsites; i++) {
			const struct ph_alloc_site *t = &snap->sites[i];
			put_varint(&body, t->nframes);
			put_varint(&body, t->total_nframes);
			for (size_t f = 0; f < t->nframes; f++) {
				put_varint(&body, snap->site_frames[t->frame_start + f].file);
				put_varint(&body, snap->site_frames[t->frame_start + f].lineno);
			}
		}
		for (size_t i = 0; i < snap->nobjects; i++)
			put_varint(&body, snap->object_site[i]);
		put_section(&w, SEC_TRACEMALLOC, &body);
	}
	if (snap->value_hashes_known) {
		put_varint(&body, snap->nvalue_hashes);
		for (size_t i = 0; i < snap->nvalue_hashes; i++) {
			const struct ph_value_hash *h = &snap->value_hashes[i];
			put_varint(&body, h->object - (i ? snap->value_hashes[i - 1].object : 0));
			put_varint(&body, h->hash);
			put_varint(&body, h->length);
			put_str(&body, h->preview ? snap->value_previews + h->preview - 1 : "");
		}
		put_section(&w, SEC_VALUE_HASHES, &body);
	}
	if (snap->nstatic_refs) {
		put_varint(&body, snap->nstatic_files);
		for (size_t i = 0; i < snap->nstatic_files; i++)
			put_str(&body, snap->static_files[i]);
		put_varint(&body, snap->nstatic_refs);
		for (size_t i = 0; i < snap->nstatic_refs; i++) {
			const struct ph_static_ref *t = &snap->static_refs[i];
			put_varint(&body, t->object - (i ? snap->static_refs[i - 1].object : 0));
			put_varint(&body, t->file);
			put_varint(&body, t->offset);
		}
		put_section(&w, SEC_STATIC_REFS, &body);
	}
	if (snap->nstack_refs) {
		put_varint(&body, snap->nstack_refs);
		for (size_t i = 0; i < snap->nstack_refs; i++) {
			const struct ph_stack_ref *t = &snap->stack_refs[i];
			put_varint(&body, t->object - (i ? snap->stack_refs[i - 1].object : 0));
			put_varint(&body, t->root != PH_NONE ? (uint64_t)t->root + 1 : 0);
			if (t->root == PH_NONE) {
				put_varint(&body, t->holder);
				put_varint(&body, t->depth != PH_NONE ? (uint64_t)t->depth + 1 : 0);
			}
			put_varint(&body, t->slot);
		}
		put_section(&w, SEC_STACK_REFS, &body);
	}
	if (snap->nobj_lines) {
		put_varint(&body, snap->nobj_lines);
		for (size_t i = 0; i < snap->nobj_lines; i++) {
			const struct ph_obj_line *l = &snap->obj_lines[i];
			put_varint(&body, l->object - (i ? snap->obj_lines[i - 1].object : 0));
			put_varint(&body, l->depth != PH_NONE ? (uint64_t)l->depth + 1 : 0);
			put_varint(&body, l->line >= 0 ? (uint64_t)l->line : 0);
		}
		put_section(&w, SEC_OBJ_LINES, &body);
	}
	size_t npool = 0;
	for (size_t i = 0; i < snap->nobjects; i++)
		npool += (snap->objects[i].flags & PH_OBJ_POOL) != 0;
	if (npool) {
		put_varint(&body, npool);
		for (size_t i = 0, last = 0; i < snap->nobjects; i++)
			if (snap->objects[i].flags & PH_OBJ_POOL) {
				put_varint(&body, i - last);
				last = i;
			}
		put_section(&w, SEC_POOL_OBJECTS, &body);
	}
	if (snap->cmalloc.other[0]) {
		put_str(&body, snap->cmalloc.other);
		put_str(&body, snap->cmalloc.other_file);
		put_section(&w, SEC_MALLOC_OTHER, &body);
	}
	if (snap->cmalloc.known) {
		const struct ph_cmalloc *m = &snap->cmalloc;
		const uint64_t v[] = {m->arenas,      m->system_bytes,	  m->free_bytes,
				      m->free_chunks, m->fast_free_bytes, m->top_bytes,
				      m->unreadable,  m->mapped_known,	  m->mapped_chunks,
				      m->mapped_bytes};
		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
			put_varint(&body, v[i]);
		put_section(&w, SEC_CMALLOC, &body);
	}
	if (!w.failed) {
		uint64_t payload = w.len - HEADER_SIZE;
		for (int i = 0; i < 8; i++)
			w.p[16 + i] = (uint8_t)(payload >> (8 * i));
		put_le(&w, ph_crc32(0, w.p, w.len), 4);
	}
	if (w.failed) {
		free(w.p);
		return &ph_error_nomem;
	}
	*ret = w.p;
	*len = w.len;
	return NULL;
}

struct ph_error *ph_snapfile_write(const struct ph_snapshot *snap, const char *path)
{
	uint8_t *buf;
	size_t len;
	struct ph_error *err = ph_snapfile_encode(snap, &buf, &len);
	if (err)
		return err;
	struct stat st;
	bool in_place = stat(path, &st) == 0 && !S_ISREG(st.st_mode);
	char *tmp = NULL;
	if (!in_place && asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		free(buf);
		return &ph_error_nomem;
	}
	const char *target = in_place ? path : tmp;
	int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		err = ph_error_errno(PH_ERR_OTHER, errno, "write snapshot %s", path);
		goto out;
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = ph_error_errno(PH_ERR_OTHER, n < 0 ? errno : EIO, "write snapshot %s", path);
			break;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0 && !err)
		err = ph_error_errno(PH_ERR_OTHER, errno, "write snapshot %s", path);
	if (!err && !in_place && rename(tmp, path) != 0)
		err = ph_error_errno(PH_ERR_OTHER, errno, "write snapshot %s: rename", path);
	if (err && !in_place)
		unlink(tmp);
out:
	free(tmp);
	free(buf);
	return err;
}

/* ---- reading ---- */

struct rd {
	const uint8_t *buf;
	size_t pos, end; // the current section: [pos, end)
	const char *name;
	struct ph_error *err;
};

__attribute__((format(printf, 3, 4))) static bool fail(struct rd *r, size_t off,
							const char *fmt, ...)
{
	if (r->err)
		return false;
	char what[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	r->err = ph_error_create(PH_ERR_BAD_DATA, "read snapshot %s: %s at offset %zu", r->name,
				 what, off);
	return false;
}

static size_t left(const struct rd *r)
{
	return r->end - r->pos;
}

static bool get_varint(struct rd *r, uint64_t *v, const char *what)
{
	size_t start = r->pos;
	uint64_t x = 0;
	for (int shift = 0;; shift += 7) {
		if (r->pos >= r->end)
			return fail(r, start, "truncated %s (the section ends)", what);
		uint8_t b = r->buf[r->pos++];
		if (shift == 63 && b > 1)
			return fail(r, start, "%s: varint overflows 64 bits", what);
		x |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		if (shift == 63)
			return fail(r, start, "%s: varint longer than 10 bytes", what);
	}
	*v = x;
	return true;
}

// A varint that must be <= @max.
static bool get_bounded(struct rd *r, uint64_t *v, uint64_t max, const char *what)
{
	size_t start = r->pos;
	if (!get_varint(r, v, what))
		return false;
	if (*v > max)
		return fail(r, start, "%s %llu out of range (at most %llu)", what,
			    (unsigned long long)*v, (unsigned long long)max);
	return true;
}

// A count of items of at least @min_bytes each, that the section can hold.
static bool get_count(struct rd *r, uint64_t *v, size_t min_bytes, uint64_t max, const char *what)
{
	size_t start = r->pos;
	if (!get_varint(r, v, what))
		return false;
	if (*v > max)
		return fail(r, start, "%s %llu: more than %llu", what, (unsigned long long)*v,
			    (unsigned long long)max);
	if (*v > left(r) / min_bytes)
		return fail(r, start, "%s %llu: more than the %zu bytes left can hold", what,
			    (unsigned long long)*v, left(r));
	return true;
}

// An index stored as i + 1, 0 for PH_NONE.
static bool get_index(struct rd *r, uint32_t *v, size_t n, const char *what)
{
	uint64_t x;
	if (!get_bounded(r, &x, n, what))
		return false;
	*v = x ? (uint32_t)(x - 1) : PH_NONE;
	return true;
}

// A delta-coded index: *prev + delta, which must be < n.
static bool get_delta_index(struct rd *r, int64_t *prev, size_t n, const char *what)
{
	size_t start = r->pos;
	uint64_t z;
	if (!get_varint(r, &z, what))
		return false;
	int64_t v = (int64_t)((uint64_t)*prev + (uint64_t)unzigzag(z));
	if (v < 0 || (uint64_t)v >= n)
		return fail(r, start, "%s %lld out of range (%zu objects)", what, (long long)v, n);
	*prev = v;
	return true;
}

static bool get_str(struct rd *r, char **ret, size_t max_len, const char *what)
{
	size_t start = r->pos;
	uint64_t n;
	if (!get_varint(r, &n, what))
		return false;
	if (n > left(r))
		return fail(r, start, "%s: length %llu, only %zu bytes left in the section", what,
			    (unsigned long long)n, left(r));
	if (n > max_len)
		return fail(r, start, "%s: length %llu, at most %zu allowed", what,
			    (unsigned long long)n, max_len);
	if (memchr(r->buf + r->pos, '\0', n))
		return fail(r, start, "%s: contains a NUL byte", what);
	char *s = malloc(n + 1);
	if (!s) {
		r->err = &ph_error_nomem;
		return false;
	}
	memcpy(s, r->buf + r->pos, n);
	s[n] = '\0';
	r->pos += n;
	*ret = s;
	return true;
}

static bool get_label(struct rd *r, uint32_t *label, uint32_t *prev)
{
	size_t start = r->pos;
	uint64_t v;
	if (!get_varint(r, &v, "edge label"))
		return false;
	uint32_t kind = (uint32_t)(v & 15);
	int64_t payload = (int64_t)*prev + unzigzag(v >> 4);
	if (kind > PH_EDGE_LAST)
		return fail(r, start, "unknown edge label kind %u", kind);
	if (payload < 0 || payload > 0x0fffffff)
		return fail(r, start, "edge label payload %lld out of range", (long long)payload);
	*prev = (uint32_t)payload;
	*label = PH_EDGE(kind, (uint32_t)payload);
	return true;
}

static bool section_done(struct rd *r, enum section_tag tag)
{
	if (r->pos != r->end)
		return fail(r, r->pos, "%zu unexpected bytes at the end of section %s", left(r),
			    section_names[tag]);
	return true;
}

static bool decode_meta(struct rd *r, struct ph_snapshot *s)
{
	uint64_t v;
	size_t at = r->pos;
	if (!get_varint(r, &v, "pid"))
		return false;
	int64_t pid = unzigzag(v);
	if (pid < 0 || pid > 0x7fffffff)
		return fail(r, at, "pid %lld out of range", (long long)pid);
	s->pid = (int)pid;
	char *version = NULL, *kind = NULL;
	if (!get_str(r, &version, sizeof(s->python_version) - 1, "python version"))
		return false;
	memcpy(s->python_version, version, strlen(version) + 1);
	free(version);
	if (!get_str(r, &s->python_path, 4096, "python path") ||
	    !get_str(r, &s->layout_source, 8192, "layout source"))
		return false;
	at = r->pos;
	if (!get_str(r, &kind, 64, "layout kind"))
		return false;
	s->layout_kind = NULL;
	for (size_t i = 0; i < sizeof(layout_kinds) / sizeof(layout_kinds[0]); i++)
		if (!strcmp(kind, layout_kinds[i]))
			s->layout_kind = layout_kinds[i];
	bool known = *kind == '\0' || s->layout_kind;
	free(kind);
	if (!known)
		return fail(r, at, "unknown layout kind");
	uint64_t flags, interpreters, threads;
	if (!get_varint(r, &s->time_ns, "time") || !get_varint(r, &s->pause_ns, "pause") ||
	    !get_varint(r, &s->rss, "rss") || !get_varint(r, &s->unreadable, "unreadable count") ||
	    !get_varint(r, &s->gc_objects, "gc object count") ||
	    !get_bounded(r, &interpreters, UINT32_MAX, "interpreter count") ||
	    !get_bounded(r, &threads, UINT32_MAX, "thread count") ||
	    !get_bounded(r, &flags, 7, "metadata flags"))
		return false;
	s->interpreters = (uint32_t)interpreters;
	s->threads = (uint32_t)threads;
	s->gc_disabled = flags & META_GC_DISABLED;
	s->truncated = flags & META_TRUNCATED;
	if ((flags & META_HAS_TRUNCATED_REASON) &&
	    !get_str(r, &s->truncated_reason, 4096, "truncation reason"))
		return false;
	return section_done(r, SEC_META);
}

static bool get_names(struct rd *r, char ***names, uint32_t *count, const char *what)
{
	uint64_t n;
	if (!get_count(r, &n, 1, UINT32_MAX - 1, what))
		return false;
	if (!n)
		return true;
	*names = calloc(n, sizeof(char *));
	if (!*names) {
		r->err = &ph_error_nomem;
		return false;
	}
	for (uint64_t k = 0; k < n; k++) {
		if (!get_str(r, &(*names)[k], 1 << 16, what))
			return false;
		*count = (uint32_t)k + 1; // what was read is freed with the snapshot
	}
	return true;
}

static bool decode_types(struct rd *r, struct ph_snapshot *s, size_t nobjects)
{
	uint64_t n;
	if (!get_count(r, &n, 6, PH_MAX_TYPES, "type count"))
		return false;
	s->types = calloc(n ? n : 1, sizeof(*s->types));
	if (!s->types) {
		r->err = &ph_error_nomem;
		return false;
	}
	uint64_t prev = 0;
	for (size_t i = 0; i < n; i++) {
		struct ph_type *t = &s->types[i];
		t->object = PH_NONE;
		s->ntypes = i + 1; // freed with the snapshot from here on
		uint64_t d, flags;
		if (!get_varint(r, &d, "type address"))
			return false;
		t->address = prev + (uint64_t)unzigzag(d);
		prev = t->address;
		if (!get_index(r, &t->object, nobjects, "type object index") ||
		    !get_bounded(r, &flags, TYPE_IS_DICT, "type flags") ||
		    !get_str(r, &t->name, 1 << 16, "type name") ||
		    !get_names(r, &t->attr_names, &t->nattr_names, "attribute names") ||
		    !get_names(r, &t->slot_names, &t->nslot_names, "slot names"))
			return false;
		t->is_dict = flags & TYPE_IS_DICT;
	}
	return section_done(r, SEC_TYPES);
}

static bool decode_objects(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	if (!get_count(r, &n, 6, UINT32_MAX - 1, "object count"))
		return false;
	s->objects = calloc(n ? n : 1, sizeof(*s->objects));
	if (!s->objects) {
		r->err = &ph_error_nomem;
		return false;
	}
	s->nobjects = n;
	uint64_t prev = 0, v;
	for (size_t i = 0; i < n; i++) {
		size_t at = r->pos;
		if (!get_varint(r, &v, "object address"))
			return false;
		uint64_t a = prev + (uint64_t)unzigzag(v);
		if (a > PH_MAX_ADDRESS)
			return fail(r, at, "object address 0x%llx out of range", (unsigned long long)a);
		s->objects[i].address = a;
		prev = a;
	}
	for (size_t i = 0; i < n; i++) {
		size_t at = r->pos;
		if (!get_varint(r, &v, "object size"))
			return false;
		if (v > PH_MAX_SIZE)
			return fail(r, at, "object size %llu out of range", (unsigned long long)v);
		s->objects[i].size = v;
	}
	for (size_t i = 0; i < n; i++) {
		if (!get_varint(r, &v, "object refcount"))
			return false;
		s->objects[i].refcnt = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	for (size_t i = 0; i < n; i++) {
		size_t at = r->pos;
		if (!get_varint(r, &v, "object type"))
			return false;
		if (v >= s->ntypes)
			return fail(r, at, "object type %llu out of range (%zu types)",
				    (unsigned long long)v, s->ntypes);
		s->objects[i].type = (uint32_t)v;
	}
	for (size_t i = 0; i < n; i++) {
		size_t at = r->pos;
		if (!get_varint(r, &v, "object owner"))
			return false;
		s->objects[i].owner = PH_NONE;
		if (v) {
			int64_t o = (int64_t)((uint64_t)i + (uint64_t)unzigzag(v - 1));
			if (o < 0 || (uint64_t)o >= n)
				return fail(r, at, "object owner %lld out of range (%llu objects)",
					    (long long)o, (unsigned long long)n);
			s->objects[i].owner = (uint32_t)o;
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t at = r->pos;
		if (!get_varint(r, &v, "object flags"))
			return false;
		if (v & ~(uint64_t)OBJECT_FLAGS_KNOWN)
			return fail(r, at, "unknown object flags 0x%llx", (unsigned long long)v);
		s->objects[i].flags = (uint8_t)v;
	}
	return section_done(r, SEC_OBJECTS);
}

static bool decode_edges(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	size_t at = r->pos;
	// Each edge takes 2 bytes at least, each object's edge count one.
	if (!get_varint(r, &n, "edge count"))
		return false;
	if (n > 0x7fffffff || left(r) < s->nobjects || n > (left(r) - s->nobjects) / 2)
		return fail(r, at, "edge count %llu: more than the %zu bytes left can hold",
			    (unsigned long long)n, left(r));
	s->edge_start = malloc((s->nobjects + 1) * sizeof(uint32_t));
	s->edges = malloc((n ? n : 1) * sizeof(*s->edges));
	if (!s->edge_start || !s->edges) {
		r->err = &ph_error_nomem;
		return false;
	}
	uint64_t sum = 0;
	for (size_t i = 0; i < s->nobjects; i++) {
		s->edge_start[i] = (uint32_t)sum;
		uint64_t c;
		at = r->pos;
		if (!get_varint(r, &c, "edge count of an object"))
			return false;
		if (c > n - sum)
			return fail(r, at, "object %zu: %llu edges, more than the %llu left", i,
				    (unsigned long long)c, (unsigned long long)(n - sum));
		sum += c;
	}
	s->edge_start[s->nobjects] = (uint32_t)sum;
	if (sum != n)
		return fail(r, r->pos, "the objects' edge counts add up to %llu, not %llu",
			    (unsigned long long)sum, (unsigned long long)n);
	for (size_t i = 0; i < s->nobjects; i++) {
		int64_t prev = (int64_t)i;
		uint32_t prev_payload = 0;
		for (uint32_t e = s->edge_start[i]; e < s->edge_start[i + 1]; e++) {
			if (!get_delta_index(r, &prev, s->nobjects, "edge target") ||
			    !get_label(r, &s->edges[e].label, &prev_payload))
				return false;
			s->edges[e].target = (uint32_t)prev;
		}
	}
	s->nedges = n;
	return section_done(r, SEC_EDGES);
}

static bool decode_root_edges(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	if (!get_count(r, &n, 2, 0x7fffffff, "root edge count"))
		return false;
	s->root_edges = malloc((n ? n : 1) * sizeof(*s->root_edges));
	if (!s->root_edges) {
		r->err = &ph_error_nomem;
		return false;
	}
	int64_t prev = 0;
	uint32_t prev_payload = 0;
	for (size_t e = 0; e < n; e++) {
		if (!get_delta_index(r, &prev, s->nobjects, "root edge target") ||
		    !get_label(r, &s->root_edges[e].label, &prev_payload))
			return false;
		s->root_edges[e].target = (uint32_t)prev;
	}
	s->nroot_edges = n;
	return section_done(r, SEC_ROOT_EDGES);
}

static bool decode_roots(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	// Fewer than 0x7ffffffe: graph.c marks static-type path starts with it.
	if (!get_count(r, &n, 8, 0x7ffffffd, "root count"))
		return false;
	s->roots = calloc(n ? n : 1, sizeof(*s->roots));
	if (!s->roots) {
		r->err = &ph_error_nomem;
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		struct ph_root *rt = &s->roots[i];
		uint64_t kind, start, count, depth, line;
		if (!get_bounded(r, &kind, PH_ROOT_LAST, "root kind") ||
		    !get_index(r, &rt->object, s->nobjects, "root object") ||
		    !get_bounded(r, &start, s->nroot_edges, "root edge start") ||
		    !get_bounded(r, &count, s->nroot_edges - start, "root edge count") ||
		    !get_index(r, &rt->code, s->nobjects, "root code object") ||
		    !get_varint(r, &rt->thread_id, "root thread id") ||
		    !get_bounded(r, &depth, UINT32_MAX, "root frame depth"))
			return false;
		size_t at = r->pos;
		if (!get_varint(r, &line, "root line"))
			return false;
		int64_t l = unzigzag(line);
		if (l < INT32_MIN || l > INT32_MAX)
			return fail(r, at, "root line %lld out of range", (long long)l);
		rt->kind = (enum ph_root_kind)kind;
		rt->edge_start = (uint32_t)start;
		rt->edge_end = (uint32_t)(start + count);
		rt->depth = (uint32_t)depth;
		rt->line = (int32_t)l;
	}
	s->nroots = n;
	return section_done(r, SEC_ROOTS);
}

static bool decode_weak(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	if (!get_count(r, &n, 2, UINT32_MAX, "weak edge count"))
		return false;
	s->weak_edges = malloc((n ? n : 1) * sizeof(*s->weak_edges));
	if (!s->weak_edges) {
		r->err = &ph_error_nomem;
		return false;
	}
	int64_t pf = 0, pt = 0;
	for (size_t w = 0; w < n; w++) {
		if (!get_delta_index(r, &pf, s->nobjects, "weak edge source") ||
		    !get_delta_index(r, &pt, s->nobjects, "weak edge target"))
			return false;
		s->weak_edges[w] = (struct ph_weak_edge){(uint32_t)pf, (uint32_t)pt};
	}
	s->nweak_edges = n;
	return section_done(r, SEC_WEAK_EDGES);
}

static bool decode_text(struct rd *r, struct ph_snapshot *s)
{
	uint64_t k;
	if (!get_count(r, &k, 2, s->nobjects, "text count"))
		return false;
	// The strings take at most the section's bytes plus a NUL each.
	size_t cap = left(r) + k + 1;
	if (cap > UINT32_MAX - 1)
		return fail(r, r->pos, "text section too large");
	s->text = calloc(s->nobjects ? s->nobjects : 1, sizeof(uint32_t));
	s->strings = malloc(cap);
	if (!s->text || !s->strings) {
		r->err = &ph_error_nomem;
		return false;
	}
	size_t next = 0;
	for (uint64_t j = 0; j < k; j++) {
		uint64_t d, len;
		size_t at = r->pos;
		if (!get_varint(r, &d, "text object index"))
			return false;
		if (d >= s->nobjects - next)
			return fail(r, at, "text object index %llu out of range (%zu objects)",
				    (unsigned long long)(next + d), s->nobjects);
		size_t i = next + d;
		next = i + 1;
		at = r->pos;
		if (!get_varint(r, &len, "text length"))
			return false;
		if (len > left(r))
			return fail(r, at, "text length %llu, only %zu bytes left in the section",
				    (unsigned long long)len, left(r));
		if (memchr(r->buf + r->pos, '\0', len))
			return fail(r, at, "text contains a NUL byte");
		memcpy(s->strings + s->strings_len, r->buf + r->pos, len);
		s->strings[s->strings_len + len] = '\0';
		s->text[i] = (uint32_t)s->strings_len + 1;
		s->strings_len += len + 1;
		r->pos += len;
	}
	return section_done(r, SEC_TEXT);
}

static uint64_t le(const uint8_t *p, int bytes)
{
	uint64_t v = 0;
	for (int i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

// Section CMALLOC: glibc malloc's numbers (free within what the arenas took).
static bool decode_cmalloc(struct rd *r, struct ph_cmalloc *m)
{
	uint64_t arenas, mapped_known;
	memset(m, 0, sizeof(*m));
	if (!get_bounded(r, &arenas, UINT32_MAX, "malloc arenas") ||
	    !get_varint(r, &m->system_bytes, "malloc system bytes") ||
	    !get_varint(r, &m->free_bytes, "malloc free bytes") ||
	    !get_varint(r, &m->free_chunks, "malloc free chunks") ||
	    !get_varint(r, &m->fast_free_bytes, "malloc fast bin bytes") ||
	    !get_varint(r, &m->top_bytes, "malloc top bytes") ||
	    !get_varint(r, &m->unreadable, "malloc unreadable count") ||
	    !get_bounded(r, &mapped_known, 1, "malloc mapped flag") ||
	    !get_varint(r, &m->mapped_chunks, "malloc mapped chunks") ||
	    !get_varint(r, &m->mapped_bytes, "malloc mapped bytes"))
		return false;
	m->mapped_known = mapped_known;
	if (m->free_bytes > m->system_bytes || m->fast_free_bytes > m->free_bytes)
		return fail(r, r->pos, "malloc: %llu bytes free of %llu",
			    (unsigned long long)m->free_bytes, (unsigned long long)m->system_bytes);
	m->arenas = (uint32_t)arenas;
	m->known = true;
	return true;
}

// Section PYMALLOC: the arenas' numbers, each bounded as the reader of a
// process would find them (sizes in 32 bits, at most PH_PYMALLOC_CLASSES
// classes of at most 64 KiB blocks).
static bool decode_pymalloc(struct rd *r, struct ph_pymalloc *m)
{
	uint64_t arena_size, pool_size, nclasses;
	memset(m, 0, sizeof(*m));
	if (!get_bounded(r, &arena_size, UINT32_MAX, "pymalloc arena size") ||
	    !get_bounded(r, &pool_size, UINT32_MAX, "pymalloc pool size") ||
	    !get_varint(r, &m->arenas, "pymalloc arenas") ||
	    !get_varint(r, &m->allocated_bytes, "pymalloc allocated bytes") ||
	    !get_varint(r, &m->available_bytes, "pymalloc available bytes") ||
	    !get_varint(r, &m->free_pool_bytes, "pymalloc free pool bytes") ||
	    !get_varint(r, &m->overhead_bytes, "pymalloc overhead") ||
	    !get_varint(r, &m->unreadable, "pymalloc unreadable count") ||
	    !get_bounded(r, &nclasses, PH_PYMALLOC_CLASSES, "pymalloc class count"))
		return false;
	if (m->arenas > UINT64_MAX / (arena_size ? arena_size : 1))
		return fail(r, r->pos, "pymalloc: %llu arenas of %llu bytes",
			    (unsigned long long)m->arenas, (unsigned long long)arena_size);
	m->arena_size = (uint32_t)arena_size;
	m->pool_size = (uint32_t)pool_size;
	for (uint64_t i = 0; i < nclasses; i++) {
		struct ph_pymalloc_class *c = &m->classes[i];
		uint64_t size;
		if (!get_bounded(r, &size, 1u << 16, "pymalloc block size") ||
		    !get_varint(r, &c->pools, "pymalloc pools") ||
		    !get_varint(r, &c->blocks, "pymalloc blocks") ||
		    !get_varint(r, &c->free_blocks, "pymalloc free blocks"))
			return false;
		c->size = (uint32_t)size;
	}
	m->nclasses = (uint32_t)nclasses;
	m->known = true;
	return true;
}

// Section PYMALLOC_ARENAS: as many arenas as section PYMALLOC counts, by
// increasing address, none overlapping the next, each used at most whole.
static bool decode_arena_list(struct rd *r, struct ph_pymalloc *m)
{
	uint64_t n, address = 0;
	if (!m->known)
		return fail(r, r->pos, "section PYMALLOC_ARENAS without section PYMALLOC");
	if (!get_count(r, &n, 2, m->arenas, "pymalloc arena list length"))
		return false;
	if (n != m->arenas)
		return fail(r, r->pos, "pymalloc: %llu arenas listed, %llu counted",
			    (unsigned long long)n, (unsigned long long)m->arenas);
	struct ph_pymalloc_arena *list = reallocarray(NULL, n ? n : 1, sizeof(*list));
	if (!list) {
		r->err = &ph_error_nomem;
		return false;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta, used;
		if (!get_varint(r, &delta, "pymalloc arena address") ||
		    !get_bounded(r, &used, m->arena_size, "pymalloc arena use")) {
			free(list);
			return false;
		}
		if ((i && delta < m->arena_size) || delta > UINT64_MAX - address ||
		    address + delta > UINT64_MAX - m->arena_size) {
			free(list);
			return fail(r, r->pos, "pymalloc: arena %llu overlaps the one before or ends "
					       "past the address space",
				    (unsigned long long)i);
		}
		address += delta;
		list[i] = (struct ph_pymalloc_arena){address, used};
	}
	m->arena_list = list;
	m->narena_list = n;
	return true;
}

// The optional sections this reader knows, decoded in this order.
static bool decode_core(struct rd *r, struct ph_snapshot *s)
{
	return get_str(r, &s->core_path, 4096, "core path");
}

static bool decode_pymalloc_section(struct rd *r, struct ph_snapshot *s)
{
	return decode_pymalloc(r, &s->pymalloc);
}

static bool decode_cmalloc_section(struct rd *r, struct ph_snapshot *s)
{
	return decode_cmalloc(r, &s->cmalloc);
}

static bool decode_arena_list_section(struct rd *r, struct ph_snapshot *s)
{
	return decode_arena_list(r, &s->pymalloc);
}

// Section MALLOC_OTHER: the other malloc's name and file, short and
// non-empty (decoded after CMALLOC, which clears them).
static bool decode_malloc_other(struct rd *r, struct ph_snapshot *s)
{
	struct ph_cmalloc *m = &s->cmalloc;
	char *name = NULL, *file = NULL;
	bool ok = get_str(r, &name, sizeof(m->other) - 1, "other malloc's name") &&
		  get_str(r, &file, sizeof(m->other_file) - 1, "other malloc's file");
	if (ok && !*name)
		ok = fail(r, r->pos, "other malloc: no name");
	if (ok) {
		strlcpy(m->other, name, sizeof(m->other));
		strlcpy(m->other_file, file, sizeof(m->other_file));
	}
	free(name);
	free(file);
	return ok;
}

// Section SPARSE_TABLES: the dicts and sets mostly empty, by increasing
// object index, each with fewer entries than room and a copy smaller than
// the object.
static bool decode_sparse_tables(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	if (!get_count(r, &n, 4, s->nobjects, "sparse table count"))
		return false;
	struct ph_sparse_table *t = reallocarray(NULL, n ? n : 1, sizeof(*t));
	if (!t) {
		r->err = &ph_error_nomem;
		return false;
	}
	uint64_t object = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta, entries, room, copy;
		if (!get_varint(r, &delta, "sparse table object") ||
		    !get_bounded(r, &entries, UINT32_MAX, "sparse table entries") ||
		    !get_varint(r, &room, "sparse table room") ||
		    !get_varint(r, &copy, "sparse table copy size")) {
			free(t);
			return false;
		}
		if ((i && !delta) || delta >= s->nobjects - object || entries >= room ||
		    copy >= s->objects[object + delta].size) {
			free(t);
			return fail(r, r->pos, "sparse table %llu: no object, or not sparse",
				    (unsigned long long)i);
		}
		object += delta;
		t[i] = (struct ph_sparse_table){(uint32_t)object, (uint32_t)entries, room, copy};
	}
	s->sparse_tables = t;
	s->nsparse_tables = n;
	s->sparse_known = true;
	return true;
}

// Section TRACEMALLOC: the traces counted, the file names, the tracebacks
// (each of 1 to 65535 frames in files named before, at most as many as the
// stack had), and each object's traceback (index + 1, 0: none).
static bool decode_tracemalloc(struct rd *r, struct ph_snapshot *s)
{
	uint64_t traces, unreadable, nfiles, nsites;
	if (!get_varint(r, &traces, "tracemalloc traces") ||
	    !get_varint(r, &unreadable, "tracemalloc unreadable") ||
	    !get_count(r, &nfiles, 1, UINT32_MAX, "tracemalloc file count"))
		return false;
	if (!(s->site_files = calloc(nfiles ? nfiles : 1, sizeof(*s->site_files)))) {
		r->err = &ph_error_nomem;
		return false;
	}
	for (; s->nsite_files < nfiles; s->nsite_files++)
		if (!get_str(r, &s->site_files[s->nsite_files], 4096, "tracemalloc file name"))
			return false;
	if (!get_count(r, &nsites, 3, UINT32_MAX - 1, "tracemalloc traceback count"))
		return false;
	if (!(s->sites = calloc(nsites ? nsites : 1, sizeof(*s->sites)))) {
		r->err = &ph_error_nomem;
		return false;
	}
	for (; s->nsites < nsites; s->nsites++) {
		uint64_t nf, total;
		if (!get_bounded(r, &nf, UINT16_MAX, "traceback frames") ||
		    !get_bounded(r, &total, UINT16_MAX, "traceback total frames"))
			return false;
		if (!nf || total < nf || nf > left(r) / 2)
			return fail(r, r->pos, "traceback %zu: %llu frames of %llu", s->nsites,
				    (unsigned long long)nf, (unsigned long long)total);
		struct ph_alloc_frame *fr =
			reallocarray(s->site_frames, s->nsite_frames + nf, sizeof(*fr));
		if (!fr) {
			r->err = &ph_error_nomem;
			return false;
		}
		s->site_frames = fr;
		s->sites[s->nsites] = (struct ph_alloc_site){(uint32_t)s->nsite_frames, (uint16_t)nf,
							      (uint16_t)total};
		for (uint64_t f = 0; f < nf; f++) {
			uint64_t file, line;
			if (!get_bounded(r, &file, nfiles ? nfiles - 1 : 0, "traceback file") ||
			    !get_bounded(r, &line, UINT32_MAX, "traceback line"))
				return false;
			if (!nfiles)
				return fail(r, r->pos, "traceback %zu: no file names", s->nsites);
			fr[s->nsite_frames++] = (struct ph_alloc_frame){(uint32_t)file, (uint32_t)line};
		}
	}
	if (!(s->object_site = calloc(s->nobjects ? s->nobjects : 1, sizeof(uint32_t)))) {
		r->err = &ph_error_nomem;
		return false;
	}
	for (size_t i = 0; i < s->nobjects; i++) {
		uint64_t v;
		if (!get_bounded(r, &v, nsites, "object traceback"))
			return false;
		s->object_site[i] = (uint32_t)v;
	}
	s->tracemalloc = (struct ph_tracemalloc){true, traces, unreadable};
	return true;
}

// Section VALUE_HASHES: the values of long strs and of bytes by a hash, by
// increasing object index (each a str or a bytes), each with its preview.
static bool decode_value_hashes(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	if (!get_count(r, &n, 4, s->nobjects, "value hash count"))
		return false;
	struct ph_value_hash *t = reallocarray(NULL, n ? n : 1, sizeof(*t));
	char *pool = NULL;
	size_t len = 0, cap = 0;
	if (!t) {
		r->err = &ph_error_nomem;
		return false;
	}
	uint64_t object = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta, hash, length;
		char *preview = NULL;
		if (!get_varint(r, &delta, "value hash object") ||
		    !get_varint(r, &hash, "value hash") || !get_varint(r, &length, "value length") ||
		    !get_str(r, &preview, PH_VALUE_PREVIEW * 4, "value preview"))
			goto bad;
		const char *type = delta < s->nobjects - object
					   ? s->types[s->objects[object + delta].type].name
					   : NULL;
		if ((i && !delta) || !type || (strcmp(type, "str") && strcmp(type, "bytes"))) {
			free(preview);
			fail(r, r->pos, "value hash %llu: no str or bytes object",
			     (unsigned long long)i);
			goto bad;
		}
		object += delta;
		size_t plen = strlen(preview);
		if (len + plen + 1 > cap) {
			size_t nc = cap ? cap * 2 : 4096;
			while (nc < len + plen + 1)
				nc *= 2;
			char *np = nc < UINT32_MAX ? realloc(pool, nc) : NULL;
			if (!np) {
				free(preview);
				r->err = &ph_error_nomem;
				goto bad;
			}
			pool = np;
			cap = nc;
		}
		memcpy(pool + len, preview, plen + 1);
		free(preview);
		t[i] = (struct ph_value_hash){(uint32_t)object, (uint32_t)len + 1, hash, length};
		len += plen + 1;
	}
	s->value_hashes = t;
	s->nvalue_hashes = n;
	s->value_previews = pool;
	s->value_previews_len = len;
	s->value_hashes_known = true;
	return true;
bad:
	free(t);
	free(pool);
	return false;
}

// Section STATIC_REFS: the ELF files' base names, then words of their
// static data that hold objects, at most one per object, by increasing
// object index.
static bool decode_static_refs(struct rd *r, struct ph_snapshot *s)
{
	uint64_t nf, n;
	if (!get_count(r, &nf, 2, UINT32_MAX, "static file count"))
		return false;
	char **files = calloc(nf ? nf : 1, sizeof(*files));
	struct ph_static_ref *t = NULL;
	if (!files) {
		r->err = &ph_error_nomem;
		return false;
	}
	for (uint64_t i = 0; i < nf; i++)
		if (!get_str(r, &files[i], 4096, "static file name"))
			goto bad;
	if (!get_count(r, &n, 3, s->nobjects, "static ref count"))
		goto bad;
	if (!(t = reallocarray(NULL, n ? n : 1, sizeof(*t)))) {
		r->err = &ph_error_nomem;
		goto bad;
	}
	uint64_t object = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta, file, offset;
		size_t at = r->pos;
		if (!get_varint(r, &delta, "static ref object") ||
		    !get_varint(r, &file, "static ref file") ||
		    !get_varint(r, &offset, "static ref offset"))
			goto bad;
		if ((i && !delta) || delta >= s->nobjects - object || file >= nf) {
			fail(r, at, "static ref %llu: object or file out of range", (unsigned long long)i);
			goto bad;
		}
		object += delta;
		t[i] = (struct ph_static_ref){(uint32_t)object, (uint32_t)file, offset};
	}
	s->static_files = files;
	s->nstatic_files = nf;
	s->static_refs = t;
	s->nstatic_refs = n;
	return true;
bad:
	for (uint64_t i = 0; i < nf; i++)
		free(files[i]);
	free(files);
	free(t);
	return false;
}

// Section STACK_REFS: slots of the value stacks of running frames that hold
// objects, at most one per object, by increasing object index; each names
// its frame: a thread's root (+1), or 0 and then the frame object or the
// greenlet (and its frame's depth + 1, 0 for a frame object).
static bool decode_stack_refs(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	if (!get_count(r, &n, 3, s->nobjects, "stack ref count"))
		return false;
	struct ph_stack_ref *t = reallocarray(NULL, n ? n : 1, sizeof(*t));
	if (!t) {
		r->err = &ph_error_nomem;
		return false;
	}
	uint64_t object = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta, root, holder = PH_NONE, depth = 0, slot;
		size_t at = r->pos;
		if (!get_varint(r, &delta, "stack ref object") ||
		    !get_varint(r, &root, "stack ref root") ||
		    (!root && (!get_varint(r, &holder, "stack ref holder") ||
			       !get_varint(r, &depth, "stack ref depth"))) ||
		    !get_varint(r, &slot, "stack ref slot")) {
			free(t);
			return false;
		}
		if ((i && !delta) || delta >= s->nobjects - object ||
		    (root ? root > s->nroots || s->roots[root - 1].kind != PH_ROOT_FRAME
			  : holder >= s->nobjects || depth > UINT32_MAX) ||
		    slot > UINT32_MAX) {
			fail(r, at, "stack ref %llu: object, frame or slot out of range",
			     (unsigned long long)i);
			free(t);
			return false;
		}
		object += delta;
		t[i] = (struct ph_stack_ref){(uint32_t)object, root ? (uint32_t)(root - 1) : PH_NONE,
					     root ? PH_NONE : (uint32_t)holder,
					     root || !depth ? PH_NONE : (uint32_t)(depth - 1),
					     (uint32_t)slot};
	}
	s->stack_refs = t;
	s->nstack_refs = n;
	return true;
}

// Section OBJ_LINES: by object, then depth (its own line, depth 0, last).
static bool decode_obj_lines(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n;
	if (!get_count(r, &n, 3, (uint64_t)s->nobjects * (PH_GR_MAX_DEPTH + 2), "line count"))
		return false;
	struct ph_obj_line *t = reallocarray(NULL, n ? n : 1, sizeof(*t));
	if (!t) {
		r->err = &ph_error_nomem;
		return false;
	}
	uint64_t object = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta, depth, line;
		size_t at = r->pos;
		if (!get_varint(r, &delta, "line object") || !get_varint(r, &depth, "line depth") ||
		    !get_varint(r, &line, "line")) {
			free(t);
			return false;
		}
		// (The same object again: a deeper frame, or its own line last.)
		uint32_t d = depth ? (uint32_t)(depth - 1) : PH_NONE;
		bool after = i && (delta || (t[i - 1].depth != PH_NONE &&
					     (d == PH_NONE || d > t[i - 1].depth)));
		if ((i && !after) || delta >= s->nobjects - object || depth > PH_GR_MAX_DEPTH + 1 ||
		    line > INT32_MAX) {
			fail(r, at, "line %llu: object or depth out of range or out of order",
			     (unsigned long long)i);
			free(t);
			return false;
		}
		object += delta;
		t[i] = (struct ph_obj_line){(uint32_t)object, d, (int32_t)line};
	}
	s->obj_lines = t;
	s->nobj_lines = n;
	return true;
}

// Section POOL_OBJECTS: the indices of the objects found in pymalloc's
// blocks alone, increasing (deltas).
static bool decode_pool_objects(struct rd *r, struct ph_snapshot *s)
{
	uint64_t n, at = 0;
	if (!get_count(r, &n, 1, (uint64_t)s->nobjects, "pool object count"))
		return false;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t delta;
		size_t pos = r->pos;
		if (!get_varint(r, &delta, "pool object"))
			return false;
		if ((i && !delta) || delta >= s->nobjects - at)
			return fail(r, pos, "pool object %llu: out of range or out of order",
				    (unsigned long long)i);
		at += delta;
		s->objects[at].flags |= PH_OBJ_POOL;
	}
	return true;
}

static const struct {
	const char *name;
	bool (*decode)(struct rd *r, struct ph_snapshot *s);
} optional_sections[SEC_OPTIONAL_MAX - SEC_OPTIONAL_MIN + 1] = {
	[SEC_CORE - SEC_OPTIONAL_MIN] = {"CORE", decode_core},
	[SEC_PYMALLOC - SEC_OPTIONAL_MIN] = {"PYMALLOC", decode_pymalloc_section},
	[SEC_CMALLOC - SEC_OPTIONAL_MIN] = {"CMALLOC", decode_cmalloc_section},
	[SEC_PYMALLOC_ARENAS - SEC_OPTIONAL_MIN] = {"PYMALLOC_ARENAS", decode_arena_list_section},
	[SEC_MALLOC_OTHER - SEC_OPTIONAL_MIN] = {"MALLOC_OTHER", decode_malloc_other},
	[SEC_SPARSE_TABLES - SEC_OPTIONAL_MIN] = {"SPARSE_TABLES", decode_sparse_tables},
	[SEC_TRACEMALLOC - SEC_OPTIONAL_MIN] = {"TRACEMALLOC", decode_tracemalloc},
	[SEC_VALUE_HASHES - SEC_OPTIONAL_MIN] = {"VALUE_HASHES", decode_value_hashes},
	[SEC_STATIC_REFS - SEC_OPTIONAL_MIN] = {"STATIC_REFS", decode_static_refs},
	[SEC_STACK_REFS - SEC_OPTIONAL_MIN] = {"STACK_REFS", decode_stack_refs},
	[SEC_OBJ_LINES - SEC_OPTIONAL_MIN] = {"OBJ_LINES", decode_obj_lines},
	[SEC_POOL_OBJECTS - SEC_OPTIONAL_MIN] = {"POOL_OBJECTS", decode_pool_objects},
};

struct ph_error *ph_snapfile_decode(const uint8_t *buf, size_t len, const char *name,
				    struct ph_snapshot **ret)
{
	struct rd r = {.buf = buf, .pos = 0, .end = len, .name = name};
	if (len < sizeof(magic)) {
		fail(&r, 0, "truncated header (%zu bytes): not a pyheap snapshot", len);
		return r.err;
	}
	if (memcmp(buf, magic, sizeof(magic))) {
		fail(&r, 0, "bad magic: not a pyheap snapshot");
		return r.err;
	}
	if (len < HEADER_SIZE) {
		fail(&r, len, "truncated header (%zu of %d bytes)", len, HEADER_SIZE);
		return r.err;
	}
	uint64_t version = le(buf + 8, 4), flags = le(buf + 12, 4), payload = le(buf + 16, 8);
	if (version != PH_SNAPFILE_VERSION) {
		fail(&r, 8, "format version %llu, this pyheap reads version %d",
		     (unsigned long long)version, PH_SNAPFILE_VERSION);
		return r.err;
	}
	if (flags) {
		fail(&r, 12, "unknown header flags 0x%llx", (unsigned long long)flags);
		return r.err;
	}
	if (payload > len - HEADER_SIZE || len - HEADER_SIZE - payload < TRAILER_SIZE) {
		fail(&r, len, "truncated: the header announces %llu payload bytes and a checksum, the "
			      "file has %zu bytes in all",
		     (unsigned long long)payload, len);
		return r.err;
	}
	size_t end = HEADER_SIZE + (size_t)payload;
	if (len - end > TRAILER_SIZE) {
		fail(&r, end + TRAILER_SIZE, "%zu bytes of trailing data after the checksum",
		     len - end - TRAILER_SIZE);
		return r.err;
	}
	uint32_t stored = (uint32_t)le(buf + end, 4), crc = ph_crc32(0, buf, end);
	if (stored != crc) {
		fail(&r, end, "checksum mismatch (stored 0x%08x, computed 0x%08x): the file is corrupted",
		     stored, crc);
		return r.err;
	}

	// The section table.
	size_t sec_start[SEC_REQUIRED_MAX + 1] = {0}, sec_end[SEC_REQUIRED_MAX + 1] = {0};
	bool seen[SEC_REQUIRED_MAX + 1] = {false};
	enum { NOPTIONAL = SEC_OPTIONAL_MAX - SEC_OPTIONAL_MIN + 1 };
	size_t opt_start[NOPTIONAL] = {0}, opt_end[NOPTIONAL] = {0};
	r.pos = HEADER_SIZE;
	r.end = end;
	while (r.pos < end) {
		uint64_t tag, slen;
		size_t at = r.pos;
		if (!get_varint(&r, &tag, "section tag") || !get_varint(&r, &slen, "section length"))
			return r.err;
		if (slen > left(&r)) {
			fail(&r, at, "section %llu: length %llu, only %zu bytes left",
			     (unsigned long long)tag, (unsigned long long)slen, left(&r));
			return r.err;
		}
		if (tag >= 1 && tag <= SEC_REQUIRED_MAX) {
			if (seen[tag]) {
				fail(&r, at, "section %s appears twice", section_names[tag]);
				return r.err;
			}
			seen[tag] = true;
			sec_start[tag] = r.pos;
			sec_end[tag] = r.pos + (size_t)slen;
		} else if (tag < SEC_OPTIONAL_MIN) {
			fail(&r, at, "unknown required section %llu", (unsigned long long)tag);
			return r.err;
		} else if (tag <= SEC_OPTIONAL_MAX) {
			size_t k = (size_t)(tag - SEC_OPTIONAL_MIN);
			if (opt_end[k]) {
				fail(&r, at, "section %s appears twice", optional_sections[k].name);
				return r.err;
			}
			opt_start[k] = r.pos;
			opt_end[k] = r.pos + (size_t)slen;
		}
		r.pos += (size_t)slen;
	}
	for (int t = 1; t <= SEC_REQUIRED_MAX; t++)
		if (!seen[t]) {
			fail(&r, end, "section %s missing", section_names[t]);
			return r.err;
		}

	struct ph_snapshot *s = ph_snapshot_create();
	if (!s)
		return &ph_error_nomem;
	// The object count first, so that types can check their object index.
	uint64_t nobjects = 0;
	r.pos = sec_start[SEC_OBJECTS];
	r.end = sec_end[SEC_OBJECTS];
	if (get_count(&r, &nobjects, 6, UINT32_MAX - 1, "object count")) {
		static const enum section_tag order[] = {SEC_META,	 SEC_TYPES, SEC_OBJECTS,
							 SEC_EDGES,	 SEC_ROOT_EDGES, SEC_ROOTS,
							 SEC_WEAK_EDGES, SEC_TEXT};
		for (size_t k = 0; k < sizeof(order) / sizeof(order[0]) && !r.err; k++) {
			enum section_tag t = order[k];
			r.pos = sec_start[t];
			r.end = sec_end[t];
			switch (t) {
			case SEC_META:
				decode_meta(&r, s);
				break;
			case SEC_TYPES:
				decode_types(&r, s, (size_t)nobjects);
				break;
			case SEC_OBJECTS:
				decode_objects(&r, s);
				break;
			case SEC_EDGES:
				decode_edges(&r, s);
				break;
			case SEC_ROOT_EDGES:
				decode_root_edges(&r, s);
				break;
			case SEC_ROOTS:
				decode_roots(&r, s);
				break;
			case SEC_WEAK_EDGES:
				decode_weak(&r, s);
				break;
			case SEC_TEXT:
				decode_text(&r, s);
				break;
			default:
				break;
			}
		}
	}
	for (size_t k = 0; k < NOPTIONAL && !r.err; k++) {
		if (!opt_end[k])
			continue;
		r.pos = opt_start[k];
		r.end = opt_end[k];
		if (optional_sections[k].decode(&r, s) && r.pos != r.end)
			fail(&r, r.pos, "%zu unexpected bytes at the end of section %s", left(&r),
			     optional_sections[k].name);
	}
	if (r.err) {
		ph_snapshot_destroy(s);
		return r.err;
	}
	*ret = s;
	return NULL;
}

struct ph_error *ph_snapfile_read(const char *path, struct ph_snapshot **ret)
{
	size_t len;
	char *buf = ph_read_file(path, SIZE_MAX - 1, &len);
	if (!buf)
		return errno == ENOMEM ? &ph_error_nomem
				       : ph_error_errno(PH_ERR_OTHER, errno, "read snapshot %s", path);
	struct ph_error *err = ph_snapfile_decode((const uint8_t *)buf, len, path, ret);
	free(buf);
	return err;
}
