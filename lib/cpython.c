/* SPDX-License-Identifier: MIT */
/*
 * Finding CPython in a process: which ELF file holds the runtime, its load
 * bias, version and struct layout, and checking that layout against the
 * process before anything trusts it. Addresses are target addresses.
 *
 * Layout sources, in order of trust (resolve_layout()):
 *   1. DWARF: the layout cache (keyed by build-id), the file itself,
 *      separate debug info (build-id path, .gnu_debuglink), debuginfod;
 *   2. 3.13+: _Py_DebugOffsets at the start of _PyRuntime, validated, which
 *      selects and checks a built-in table and fills the fields it covers;
 *   3. the built-in per-version tables (symbols/ -> tables.c).
 * Whatever the source, check_static() (before the target is stopped) and
 * ph_python_check_live() (while it is stopped) compare the layout with what
 * the process holds, and a layout that fails is refused, never used.
 */
#include "cpython.h"
#include "cpython_private.h"

#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug_offsets.h"
#include "core.h"
#include "tables.h"
#include "target.h"

const char *const ph_symbol_names[SYM_COUNT] = {
#define S(id, name) [id] = name,
	PH_SYMBOLS(S)
#undef S
};

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

// "libpython3.11.so.1.0", "libpython3.7m.so", "python3.11", "python2.7" → major/minor.
static bool version_from_name(const char *path, unsigned *major, unsigned *minor)
{
	const char *b = base_name(path);
	const char *p = strstr(b, "python");
	if (!p)
		return false;
	p += 6;
	unsigned a, c;
	if (sscanf(p, "%u.%u", &a, &c) == 2) {
		*major = a;
		*minor = c;
		return true;
	}
	return false;
}

static bool is_libpython(const char *path)
{
	const char *b = base_name(path);
	return !strncmp(b, "libpython", 9) && strstr(b, ".so");
}

static void drop_static_areas(struct ph_python *py)
{
	for (size_t i = 0; i < py->nstatic_areas; i++)
		free(py->static_areas[i].file);
	free(py->static_areas);
	py->static_areas = NULL;
	py->nstatic_areas = 0;
}

void ph_python_close(struct ph_python *py)
{
	if (!py)
		return;
	free(py->path);
	free(py->open_path);
	free(py->root);
	free(py->layout_source);
	drop_static_areas(py);
	free(py->anon_maps);
	free(py);
}

const char *ph_python_version(const struct ph_python *py)
{
	return py->version;
}

const char *ph_python_path(const struct ph_python *py)
{
	return py->path;
}

const char *ph_python_layout_source(const struct ph_python *py)
{
	return py->layout_source;
}

const struct ph_layout *ph_python_layout(const struct ph_python *py)
{
	return &py->L;
}

// The ELF file that holds the runtime: a mapped libpython, else the
// executable. Returns the path as mapped (without " (deleted)") and the
// file's offset-0 mapping (the lowest).
static bool pick_candidate(const struct ph_maps *maps, bool want_lib, char **path,
			   const struct ph_map **map)
{
	const char *exe = NULL;
	for (size_t i = 0; i < maps->n; i++) {
		const struct ph_map *m = &maps->maps[i];
		if (!m->path || m->path[0] != '/')
			continue;
		if (want_lib ? !is_libpython(m->path) : false)
			continue;
		if (!want_lib) {
			// The executable is the first file mapping in /proc/PID/maps.
			if (!exe)
				exe = m->path;
			if (strcmp(m->path, exe))
				continue;
		}
		if (m->offset == 0) {
			*path = ph_map_clean_path(m);
			*map = m;
			return *path != NULL;
		}
	}
	return false;
}

/* ---- version ---- */

enum { TPF_HEAPTYPE = 1 << 9, TPF_READY = 1 << 12, TPF_TYPE_SUBCLASS = 1u << 31 };

static void set_version(struct ph_python *py, uint32_t hex, const char *text)
{
	py->hexversion = hex;
	py->major = hex >> 24 & 0xff;
	py->minor = hex >> 16 & 0xff;
	py->micro = hex >> 8 & 0xff;
	snprintf(py->version, sizeof(py->version), "%s", text);
}

// "3.9.18 (main, ...)" (the buffer Py_GetVersion() fills) when @literal is
// false, "3.9.18" (PY_VERSION, NUL-terminated) when it is true.
static bool version_from_text(struct ph_python *py, const char *buf, bool literal)
{
	unsigned a, b, c;
	if (sscanf(buf, "%u.%u.%u", &a, &b, &c) != 3 || a != 3 || b > 99 || c > 99)
		return false;
	size_t n = strspn(buf, "0123456789.abrc+");
	if (n >= sizeof(((struct ph_python *)0)->version) || buf[n] != (literal ? '\0' : ' '))
		return false;
	char text[32];
	memcpy(text, buf, n);
	text[n] = '\0';
	// Release level and serial as in PY_VERSION_HEX ("3.12.0rc1" -> c1).
	uint32_t level = 0xf0;
	const char *r = strpbrk(text, "abr");
	if (r) {
		unsigned serial = 0;
		const char *d = r + (r[0] == 'r' ? 2 : 1);
		sscanf(d, "%u", &serial);
		level = (r[0] == 'a' ? 0xa0 : r[0] == 'b' ? 0xb0 : 0xc0) | (serial & 0xf);
	}
	set_version(py, a << 24 | b << 16 | c << 8 | level, text);
	return true;
}

/*
 * Py_GetVersion() is, in every version,
 *     PyOS_snprintf(version, sizeof(version), "%.80s (%.80s) %.80s",
 *                   PY_VERSION, Py_GetBuildInfo(), Py_GetCompiler());
 *     return version;
 * and is exported even by stripped interpreters. Its RIP-relative `lea`s
 * (REX.W 8D /r with mod=00 rm=101) point at the static buffer (in writable
 * data: filled at start-up, since sys.version is built from it) and at the
 * PY_VERSION literal (read-only data). Read the buffer in the target, else the
 * literal in the file. Nothing else identifies the literal reliably: the
 * linker tail-merges "3.8.18" into "<prefix>/versions/3.8.18", so grepping
 * .rodata for a version string finds the wrong thing.
 */
static bool version_from_code(struct ph_python *py, struct ph_elf *f, uint64_t fn, uint64_t size,
			      struct ph_mem *mem)
{
	uint8_t code[256];
	size_t n = size && size < sizeof(code) ? (size_t)size : sizeof(code);
	uint64_t link = fn - py->bias;
	while (n >= 16 && !ph_elf_read(f, link, code, n))
		n /= 2;
	if (n < 16)
		return false;
	bool from_literal = false;
	struct ph_python lit = {0};
	for (size_t i = 0; i + 7 <= n; i++) {
		if ((code[i] & 0xfb) != 0x48 || code[i + 1] != 0x8d || (code[i + 2] & 0xc7) != 0x05)
			continue;
		int32_t disp;
		memcpy(&disp, code + i + 3, sizeof(disp));
		uint64_t target = link + i + 7 + (uint64_t)(int64_t)disp;
		char buf[64];
		switch (ph_elf_addr_kind(f, target)) {
		case PH_ELF_ADDR_DATA:
			if (ph_mem_read(mem, target + py->bias, buf, sizeof(buf) - 1)) {
				buf[sizeof(buf) - 1] = '\0';
				if (version_from_text(py, buf, false))
					return true;
			}
			break;
		case PH_ELF_ADDR_RODATA:
			memset(buf, 0, sizeof(buf));
			if (!from_literal && ph_elf_read(f, target, buf, 24) &&
			    version_from_text(&lit, buf, true))
				from_literal = true;
			break;
		default:
			break;
		}
	}
	if (from_literal)
		set_version(py, lit.hexversion, lit.version);
	return from_literal;
}

static struct ph_error *read_version_hex(struct ph_python *py, struct ph_elf *f,
					 const struct ph_symbol_query *q, struct ph_mem *mem)
{
	uint64_t v = 0;
	if (py->sym[SYM_Py_Version] && ph_mem_u64(mem, py->sym[SYM_Py_Version], &v) &&
	    (v >> 24 & 0xff) == 3) {
		v &= 0xffffffff;
		char text[32];
		snprintf(text, sizeof(text), "%u.%u.%u", (unsigned)(v >> 24) & 0xff,
			 (unsigned)(v >> 16) & 0xff, (unsigned)(v >> 8) & 0xff);
		set_version(py, (uint32_t)v, text);
		return NULL;
	}
	// Py_GetVersion() formats PY_VERSION into its static buffer at start-up
	// (sys.version is built from it): read the buffer ("3.9.18 (main, ...").
	char buf[64];
	if (py->sym[SYM_version_buffer] &&
	    ph_mem_read(mem, py->sym[SYM_version_buffer], buf, sizeof(buf))) {
		buf[sizeof(buf) - 1] = '\0';
		if (version_from_text(py, buf, false))
			return NULL;
	}
	// Stripped: the buffer's symbol is gone; find it in Py_GetVersion's code
	// (and believe it only if it agrees with the file name, when that has one).
	unsigned a, b;
	bool named = version_from_name(py->path, &a, &b);
	if (py->sym[SYM_Py_GetVersion] &&
	    version_from_code(py, f, py->sym[SYM_Py_GetVersion], q[SYM_Py_GetVersion].size, mem) &&
	    (!named || (py->major == a && py->minor == b)))
		return NULL;
	// Last resort: the file name gives the minor version only.
	if (named) {
		char text[32];
		snprintf(text, sizeof(text), "%u.%u", a, b);
		set_version(py, a << 24 | b << 16, text);
		return NULL;
	}
	return ph_error_create(PH_ERR_NOT_PYTHON, "%s: cannot tell the Python version of %s",
			       py->what, py->path);
}

/* ---- layout resolution ---- */

// Bound on a debuginfod query (DEBUGINFOD_URLS set, nothing found locally).
enum { DEBUGINFOD_TIMEOUT_MS = 10000 };

static struct ph_error *set_source(struct ph_python *py, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static struct ph_error *set_source(struct ph_python *py, const char *kind, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	free(py->layout_source);
	py->layout_source = NULL;
	int r = vasprintf(&py->layout_source, fmt, ap);
	va_end(ap);
	if (r < 0) {
		py->layout_source = NULL;
		return &ph_error_nomem;
	}
	py->layout_kind = kind;
	return NULL;
}

// Fields every supported version needs; a layout missing one is refused.
static struct ph_error *check_layout(struct ph_python *py)
{
	const struct ph_layout *L = &py->L;
	struct {
		const char *name;
		int32_t v;
	} need[] = {
		{"rt_interpreters_head", L->rt_interpreters_head},
		{"is_next", L->is_next},
		{"is_threads_head", L->is_threads_head},
		{"ts_next", L->ts_next},
		{"ts_prev", L->ts_prev},
		{"ts_interp", L->ts_interp},
		{"gc_generations", L->gc_generations},
		{"gc_permanent_generation", L->gc_permanent_generation},
		{"generation_sizeof", L->generation_sizeof},
		{"gchead_sizeof", L->gchead_sizeof},
		{"ob_type", L->ob_type},
		{"tp_name", L->tp_name},
		{"tp_basicsize", L->tp_basicsize},
		{"tp_flags", L->tp_flags},
		{"tp_traverse", L->tp_traverse},
		{"tp_dictoffset", L->tp_dictoffset},
		{"ht_qualname", L->ht_qualname},
		{"dict_keys", L->dict_keys},
		{"dk_nentries", L->dk_nentries},
		{"tuple_item", L->tuple_item},
		{"list_item", L->list_item},
		{"set_table", L->set_table},
		{"ascii_state", L->ascii_state},
		{"module_dict", L->module_dict},
		{"code_consts", L->code_consts},
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (need[i].v < 0)
			return ph_error_create(PH_ERR_NO_DEBUG_INFO,
					       "layout of %s (Python %s, %s): field %s is missing",
					       py->path, py->version, py->layout_source,
					       need[i].name);
	}
	if (py->minor == 8 ? L->rt_gc < 0 : L->is_gc < 0)
		return ph_error_create(PH_ERR_NO_DEBUG_INFO,
				       "layout of %s (Python %s): GC state offset is missing", py->path,
				       py->version);
	return NULL;
}

static struct ph_error *forced_layout(struct ph_python *py, const char *name)
{
	if (strchr(name, '/')) {
		FILE *fp = fopen(name, "re");
		if (!fp)
			return ph_error_errno(PH_ERR_USAGE, errno, "--layout %s", name);
		struct ph_error *err = ph_layout_read(fp, name, &py->L);
		fclose(fp);
		if (err) {
			struct ph_error *u = ph_error_create(PH_ERR_USAGE, "--layout: %s", err->message);
			ph_error_destroy(err);
			return u;
		}
		return set_source(py, "tables", "tables from %s (--layout)", name);
	}
	const struct ph_table *t = ph_table_by_name(name, py->hexversion);
	if (!t) {
		char list[256];
		ph_tables_list(list, sizeof(list));
		return ph_error_create(PH_ERR_USAGE,
				       "--layout %s: no such table (built-in tables: %s; or give a layout "
				       "file path)",
				       name, list);
	}
	py->L = t->layout;
	return set_source(py, "tables", "tables %s (--layout)%s", t->name,
			  t->tested_live ? "" : " (untested live)");
}

static struct ph_error *no_layout(struct ph_python *py, struct ph_elf *f, const char *hex,
				  const char *why)
{
	char list[256];
	ph_tables_list(list, sizeof(list));
	return ph_error_create(
		PH_ERR_NO_DEBUG_INFO,
		"read layout of %s (Python %s): no debug info — the file has no DWARF and no "
		"separate debug info was found (build-id %s%s%s), %s (built-in tables: %s). Install "
		"the interpreter's debug symbols (e.g. apt-get install python%u.%u-dbg), point "
		"--debug-dir at them, set DEBUGINFOD_URLS, or force a table with --layout X.Y",
		py->path, py->version, *hex ? hex : "none", f->debuglink ? ", debuglink " : "",
		f->debuglink ? f->debuglink : "", why, list, py->major, py->minor);
}

// Sources 2 and 3: _Py_DebugOffsets (3.13+) with a table, else a table.
static struct ph_error *table_layout(struct ph_python *py, struct ph_elf *f, struct ph_mem *mem,
				     const char *hex)
{
	char note[300] = "";
	if (py->minor >= 13 && py->sym[SYM_PyRuntime]) {
		uint8_t buf[PH_DEBUG_OFFSETS_READ];
		size_t len = sizeof(buf);
		if (py->runtime_size && py->runtime_size < len)
			len = (size_t)py->runtime_size;
		struct ph_debug_offsets dbg;
		struct ph_error *err =
			ph_mem_read(mem, py->sym[SYM_PyRuntime], buf, len)
				? ph_debug_offsets_parse(buf, len, &dbg)
				: ph_error_create(PH_ERR_BAD_DATA, "_PyRuntime is unreadable");
		if (!err && dbg.version >> 16 != py->hexversion >> 16)
			err = ph_error_create(PH_ERR_BAD_DATA,
					      "_Py_DebugOffsets says version 0x%08llx, Py_Version %s",
					      (unsigned long long)dbg.version, py->version);
		if (err && err->code == PH_ERR_UNSUPPORTED) {
			struct ph_error *u = ph_error_create(
				PH_ERR_UNSUPPORTED, "%s (%s, Python %s): %s — pyheap-attach supports "
				"the default (GIL) builds of CPython 3.8 to 3.14",
				py->what, py->path, py->version, err->message);
			ph_error_destroy(err);
			return u;
		}
		if (!err) {
			// The table for this version if its struct sizes agree with
			// the build's own, else another table of the same minor
			// version whose sizes agree (3.14.0-3.14.4 vs 3.14.5+).
			const struct ph_table *t = ph_table_for_version((uint32_t)dbg.version);
			char why[160] = "", why2[160];
			if (t && !ph_debug_offsets_match(&dbg, &t->layout, why, sizeof(why)))
				t = NULL;
			for (size_t i = 0; !t && i < ph_ntables; i++) {
				const struct ph_table *c = &ph_tables[i];
				if (c->min_hexversion >> 16 == dbg.version >> 16 &&
				    ph_debug_offsets_match(&dbg, &c->layout, why2, sizeof(why2)))
					t = c;
			}
			if (!t)
				return no_layout(py, f, hex,
						 *why ? "and _Py_DebugOffsets disagree with every built-in "
							"table of this version"
						      : "and no built-in table covers this version");
			py->L = t->layout;
			const char *first = NULL;
			size_t ndiff = ph_debug_offsets_apply(&dbg, &py->L, &first);
			char diff[160] = "";
			if (ndiff)
				snprintf(diff, sizeof(diff),
					 " (%zu field%s from _Py_DebugOffsets differ from the table: %s%s)",
					 ndiff, ndiff > 1 ? "s" : "", first, ndiff > 1 ? ", ..." : "");
			return set_source(py, "debug_offsets", "_Py_DebugOffsets + tables %s%s%s", t->name,
					  diff, t->tested_live ? "" : " (untested live)");
		}
		snprintf(note, sizeof(note), " (_Py_DebugOffsets unusable: %s)", err->message);
		ph_error_destroy(err);
	}
	const struct ph_table *t = ph_table_for_version(py->hexversion);
	if (!t)
		return no_layout(py, f, hex, "and no built-in table covers this version");
	py->L = t->layout;
	return set_source(py, "tables", "tables %s%s%s", t->name, note,
			  t->tested_live ? "" : " (untested live)");
}

// Separate debug info for @f, the file the process maps at @map (NULL: the
// interpreter's, py->path): in the debug dirs, then under the process's own
// root (a container's debug packages).
static struct ph_error *find_debug(const struct ph_python *py, struct ph_elf *f,
				   const struct ph_map *map, const struct ph_python_options *opt,
				   struct ph_elf **ret)
{
	char *path = map ? ph_map_clean_path(map) : NULL;
	struct ph_error *err =
		ph_elf_find_debug(f, opt->debug_dirs, py->root, map ? path : py->path, ret);
	free(path);
	return err;
}

static struct ph_error *resolve_layout(struct ph_python *py, struct ph_elf *f, struct ph_mem *mem,
				       const struct ph_python_options *opt, struct ph_elf **debug)
{
	if (opt->layout)
		return forced_layout(py, opt->layout);
	char hex[129];
	ph_elf_build_id_hex(f, hex);
	// 1. DWARF: cached, in the file, separate (local), debuginfod.
	if (!opt->no_cache && ph_layout_cache_load(hex, &py->L))
		return set_source(py, "dwarf", "DWARF, cached (build-id %.12s)", hex);
	struct ph_elf *d = NULL;
	const char *via = "";
	if (f->has_debug_info) {
		d = f;
	} else {
		struct ph_error *err = find_debug(py, f, NULL, opt, &d);
		if (!err && !d) {
			err = ph_elf_find_debuginfod(f, DEBUGINFOD_TIMEOUT_MS, &d);
			via = "debuginfod, ";
		}
		if (err)
			return err;
	}
	if (!d)
		return table_layout(py, f, mem, hex);
	struct ph_error *err = ph_layout_from_dwarf(d, &py->L);
	if (d != f)
		*debug = d;
	if (err && err->code == PH_ERR_NO_DEBUG_INFO) {
		// Debug info without the CPython types (or unreadable): as if
		// there were none.
		ph_error_destroy(err);
		return table_layout(py, f, mem, hex);
	}
	if (!err) {
		err = d == f ? set_source(py, "dwarf", "DWARF (%s)", base_name(f->path))
			     : set_source(py, "dwarf", "separate debug info (build-id %.12s, %s%s)", hex,
					  via, d->path);
		if (!err && !opt->no_cache)
			ph_layout_cache_store(hex, &py->L);
	}
	return err;
}

/* ---- checks of a layout against the process ---- */

struct checker {
	struct ph_python *py;
	struct ph_mem *mem;
	const struct ph_layout *L;
	char why[400];
};

static bool ck_fail(struct checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool ck_fail(struct checker *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	return false;
}

// Reads the 8-byte field at @p base + @p off; @what names it in the message.
static bool ck_u64(struct checker *c, uint64_t base, int32_t off, uint64_t *v, const char *what)
{
	if (off < 0)
		return ck_fail(c, "%s: the layout has no offset for it", what);
	if (!ph_mem_u64(c->mem, base + (uint64_t)off, v))
		return ck_fail(c, "%s at 0x%llx is unreadable", what,
			       (unsigned long long)(base + (uint64_t)off));
	return true;
}

static bool ck_u8(struct checker *c, uint64_t addr, uint8_t *v, const char *what)
{
	if (!ph_mem_read(c->mem, addr, v, 1))
		return ck_fail(c, "%s at 0x%llx is unreadable", what, (unsigned long long)addr);
	return true;
}

static struct ph_error *refuse(struct ph_python *py, const char *stage, const char *why)
{
	return ph_error_create(
		PH_ERR_NO_DEBUG_INFO,
		"layout check failed (%s; Python %s, %s): %s — the layout does not fit this "
		"interpreter, so nothing is reported. Install its debug info (e.g. python%u.%u-dbg, "
		"or set DEBUGINFOD_URLS), point --debug-dir at it, or choose a table with --layout X.Y",
		py->layout_source, py->version, stage, why, py->major, py->minor);
}

// The type of @p obj, following metatypes, reaches `type` within a few steps.
static bool ck_object(struct checker *c, uint64_t obj, const char *what)
{
	uint64_t t = obj;
	for (int i = 0; i < 6; i++) {
		uint64_t next;
		if (!ph_mem_u64(c->mem, t + (uint64_t)c->L->ob_type, &next))
			return ck_fail(c, "%s at 0x%llx: type pointer unreadable", what,
				       (unsigned long long)obj);
		if (next == c->py->sym[SYM_PyType_Type] && (i > 0 || obj == next))
			return true;
		if (!next || next % 8)
			break;
		t = next;
	}
	return ck_fail(c, "%s at 0x%llx is not an object whose type chain ends at `type`", what,
		       (unsigned long long)obj);
}

struct type_check {
	enum ph_symbol sym;
	const char *name;    // its tp_name
	uint64_t flags;      // tp_flags bits it must have
	int32_t basicsize;   // expected tp_basicsize, -1: not checked
	int32_t itemsize;    // expected tp_itemsize, -1: not checked
};

static bool check_type(struct checker *c, const struct type_check *tc)
{
	uint64_t t = c->py->sym[tc->sym];
	if (!t)
		return true; // not in this version
	const struct ph_layout *L = c->L;
	const char *sym = ph_symbol_names[tc->sym];
	char what[96];
	uint64_t v;
	snprintf(what, sizeof(what), "%s.ob_type", sym);
	if (!ck_u64(c, t, L->ob_type, &v, what))
		return false;
	if (v != c->py->sym[SYM_PyType_Type])
		return ck_fail(c, "%s (offset %d) is 0x%llx, not &PyType_Type", what, (int)L->ob_type,
			       (unsigned long long)v);
	snprintf(what, sizeof(what), "%s.tp_name", sym);
	if (!ck_u64(c, t, L->tp_name, &v, what))
		return false;
	char name[64];
	if (!ph_mem_string(c->mem, v, name, sizeof(name)) || strcmp(name, tc->name))
		return ck_fail(c, "%s (offset %d) does not read \"%s\"", what, (int)L->tp_name,
			       tc->name);
	snprintf(what, sizeof(what), "%s.tp_flags", sym);
	if (!ck_u64(c, t, L->tp_flags, &v, what))
		return false;
	if ((v & tc->flags) != tc->flags || (v & TPF_HEAPTYPE))
		return ck_fail(c, "%s (offset %d) is 0x%llx: bits 0x%llx expected, HEAPTYPE not",
			       what, (int)L->tp_flags, (unsigned long long)v,
			       (unsigned long long)tc->flags);
	if (tc->basicsize >= 0) {
		snprintf(what, sizeof(what), "%s.tp_basicsize", sym);
		if (!ck_u64(c, t, L->tp_basicsize, &v, what))
			return false;
		if (v != (uint64_t)tc->basicsize)
			return ck_fail(c, "%s is %llu, the layout says %d", what,
				       (unsigned long long)v, (int)tc->basicsize);
	}
	if (tc->itemsize >= 0) {
		snprintf(what, sizeof(what), "%s.tp_itemsize", sym);
		if (!ck_u64(c, t, L->tp_itemsize, &v, what))
			return false;
		if (v != (uint64_t)tc->itemsize)
			return ck_fail(c, "%s is %llu, the layout says %d", what,
				       (unsigned long long)v, (int)tc->itemsize);
	}
	return true;
}

static int32_t sum2(int32_t a, int32_t b)
{
	return a < 0 || b < 0 ? -1 : a + b;
}

/*
 * Static types describe some of their own fields in their tp_members
 * (PyMemberDef {name, type, offset, ...}): `type.__dictoffset__` is at
 * offsetof(PyTypeObject, tp_dictoffset), `function.__closure__` at
 * offsetof(PyFunctionObject, func_closure), and so on. Where a member of
 * that name exists, its offset must equal the layout's. Names that a version
 * lacks are simply not found.
 */
struct member_check {
	enum ph_symbol sym;
	const char *member;
	size_t field; // offsetof(struct ph_layout, x)
};

#define MC(s, m, f) {s, m, offsetof(struct ph_layout, f)}
static const struct member_check member_checks[] = {
	MC(SYM_PyType_Type, "__basicsize__", tp_basicsize),
	MC(SYM_PyType_Type, "__itemsize__", tp_itemsize),
	MC(SYM_PyType_Type, "__flags__", tp_flags),
	MC(SYM_PyType_Type, "__weakrefoffset__", tp_weaklistoffset),
	MC(SYM_PyType_Type, "__base__", tp_base),
	MC(SYM_PyType_Type, "__dictoffset__", tp_dictoffset),
	MC(SYM_PyType_Type, "__mro__", tp_mro),
	MC(SYM_PyFunction_Type, "__closure__", func_closure),
	MC(SYM_PyFunction_Type, "__doc__", func_doc),
	MC(SYM_PyFunction_Type, "__globals__", func_globals),
	MC(SYM_PyFunction_Type, "__module__", func_module),
	MC(SYM_PyFunction_Type, "__builtins__", func_builtins),
	MC(SYM_PyCode_Type, "co_consts", code_consts),
	MC(SYM_PyCode_Type, "co_names", code_names),
	MC(SYM_PyCode_Type, "co_varnames", code_varnames),
	MC(SYM_PyCode_Type, "co_freevars", code_freevars),
	MC(SYM_PyCode_Type, "co_cellvars", code_cellvars),
	MC(SYM_PyCode_Type, "co_filename", code_filename),
	MC(SYM_PyCode_Type, "co_name", code_name),
	MC(SYM_PyCode_Type, "co_qualname", code_qualname),
	MC(SYM_PyCode_Type, "co_nlocals", code_nlocals),
	MC(SYM_PyCode_Type, "co_stacksize", code_stacksize),
	MC(SYM_PyCode_Type, "co_firstlineno", code_firstlineno),
	MC(SYM_PyCode_Type, "co_linetable", code_linetable),
	MC(SYM_PyCode_Type, "co_exceptiontable", code_exceptiontable),
	MC(SYM_PyCode_Type, "co_lnotab", code_lnotab),
	MC(SYM_PyFrame_Type, "f_back", frame_back),
	MC(SYM_PyFrame_Type, "f_code", frame_code),
	MC(SYM_PyFrame_Type, "f_builtins", frame_builtins),
	MC(SYM_PyFrame_Type, "f_globals", frame_globals),
	MC(SYM_PyFrame_Type, "f_trace", frame_trace),
	MC(SYM_PyMethod_Type, "__func__", method_func),
	MC(SYM_PyMethod_Type, "__self__", method_self),
	MC(SYM_PyCFunction_Type, "__module__", cfunc_module),
	MC(SYM_PyClassMethod_Type, "__func__", classmethod_callable),
	MC(SYM_PyStaticMethod_Type, "__func__", classmethod_callable),
	MC(SYM_PyProperty_Type, "fget", property_get),
	MC(SYM_PyProperty_Type, "fset", property_set),
	MC(SYM_PyProperty_Type, "fdel", property_del),
	MC(SYM_PyProperty_Type, "__doc__", property_doc),
	MC(SYM_PyWeakref_RefType, "__callback__", weakref_callback),
	MC(SYM_PyMemberDescr_Type, "__objclass__", descr_type),
	MC(SYM_PyMemberDescr_Type, "__name__", descr_name),
	MC(SYM_PyModule_Type, "__dict__", module_dict),
	MC(SYM_PyGen_Type, "gi_frame", gen_frame),
	MC(SYM_PyGen_Type, "gi_code", gen_code),
};
#undef MC

static bool check_members(struct checker *c, size_t *nchecked)
{
	const struct ph_layout *L = c->L;
	if (L->tp_members < 0 || L->md_name < 0 || L->md_offset < 0 || L->md_sizeof <= 0)
		return ck_fail(c, "the layout has no tp_members/PyMemberDef offsets");
	for (size_t i = 0; i < sizeof(member_checks) / sizeof(member_checks[0]); i++) {
		const struct member_check *mc = &member_checks[i];
		if (i && mc->sym == member_checks[i - 1].sym)
			continue; // each type's array is scanned once, below
		uint64_t t = c->py->sym[mc->sym], members;
		if (!t)
			continue;
		char what[96];
		snprintf(what, sizeof(what), "%s.tp_members", ph_symbol_names[mc->sym]);
		if (!ck_u64(c, t, L->tp_members, &members, what))
			return false;
		for (uint64_t m = members; m && m < members + 64u * (uint64_t)L->md_sizeof;
		     m += (uint64_t)L->md_sizeof) {
			uint64_t name_addr, off;
			if (!ck_u64(c, m, L->md_name, &name_addr, what))
				return false;
			if (!name_addr)
				break;
			char name[48];
			if (!ph_mem_string(c->mem, name_addr, name, sizeof(name)))
				return ck_fail(c, "%s: a member name at 0x%llx is unreadable (PyMemberDef "
					       "layout or tp_members offset %d wrong?)",
					       what, (unsigned long long)name_addr, (int)L->tp_members);
			if (!ck_u64(c, m, L->md_offset, &off, what))
				return false;
			for (size_t j = i; j < sizeof(member_checks) / sizeof(member_checks[0]) &&
					   member_checks[j].sym == mc->sym;
			     j++) {
				if (strcmp(member_checks[j].member, name))
					continue;
				const char *id = NULL;
				int32_t want = -1;
				for (size_t k = 0; k < ph_layout_nfields; k++) {
					if (ph_layout_fields[k].offset == member_checks[j].field) {
						id = ph_layout_fields[k].id;
						want = *ph_layout_slot((struct ph_layout *)L, k);
					}
				}
				if ((int64_t)off != want)
					return ck_fail(c, "%s member \"%s\" is at offset %lld, the layout "
						       "says %s %d",
						       ph_symbol_names[mc->sym], name, (long long)off, id,
						       (int)want);
				(*nchecked)++;
			}
		}
	}
	return true;
}

// Before the target is stopped: the static type objects (immutable after
// start-up) against the layout.
static struct ph_error *check_static(struct ph_python *py, struct ph_mem *mem)
{
	struct checker c = {.py = py, .mem = mem, .L = &py->L};
	const struct ph_layout *L = &py->L;
	const int32_t code_basic = py->minor >= 11 ? L->code_code_adaptive : L->code_sizeof;
	const int32_t frame_basic = py->minor >= 11 ? sum2(L->frame_data, L->iframe_localsplus)
						    : L->frame_sizeof;
	const int32_t gen_basic = py->minor >= 11 ? sum2(L->gen_iframe, L->iframe_localsplus)
						  : L->gen_sizeof;
	const struct type_check types[] = {
		{SYM_PyType_Type, "type", TPF_TYPE_SUBCLASS | TPF_READY, L->ht_sizeof, L->md_sizeof},
		{SYM_PyBaseObject_Type, "object", TPF_READY, sum2(L->ob_type, 8), 0},
		{SYM_PyDict_Type, "dict", 1u << 29 | TPF_READY, sum2(L->dict_values, 8), 0},
		{SYM_PyList_Type, "list", 1u << 25 | TPF_READY, sum2(L->list_allocated, 8), 0},
		{SYM_PyTuple_Type, "tuple", 1u << 26 | TPF_READY, L->tuple_item, 8},
		{SYM_PyUnicode_Type, "str", 1u << 28 | TPF_READY, L->unicode_sizeof, 0},
		{SYM_PyLong_Type, "int", 1u << 24 | TPF_READY, L->long_digit, 4},
		{SYM_PyBytes_Type, "bytes", 1u << 27 | TPF_READY, sum2(L->bytes_sval, 1), 1},
		{SYM_PySet_Type, "set", TPF_READY,
		 L->setentry_sizeof < 0 ? -1 : sum2(L->set_smalltable, 8 * L->setentry_sizeof + 8), 0},
		{SYM_PyCell_Type, "cell", TPF_READY, sum2(L->cell_ref, 8), 0},
		{SYM_PyCode_Type, "code", TPF_READY, code_basic, -1},
		{SYM_PyFrame_Type, "frame", TPF_READY, frame_basic, -1},
		{SYM_PyGen_Type, "generator", TPF_READY, gen_basic, -1},
		{SYM_PyDictProxy_Type, "mappingproxy", TPF_READY, sum2(L->mappingproxy_mapping, 8), 0},
		{SYM_PyFunction_Type, "function", TPF_READY, -1, -1},
		{SYM_PyModule_Type, "module", TPF_READY, -1, -1},
		{SYM_PyFloat_Type, "float", TPF_READY, -1, -1},
		{SYM_PyBool_Type, "bool", TPF_READY, -1, -1},
		{SYM_PyProperty_Type, "property", TPF_READY, -1, -1},
	};
	if (!py->sym[SYM_PyType_Type])
		return refuse(py, "static types", "PyType_Type is not among the ELF symbols");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!check_type(&c, &types[i]))
			return refuse(py, "static types", c.why);
	// type's own fields: where its dict and weak references live, its bases.
	uint64_t t = py->sym[SYM_PyType_Type], v;
	if (!ck_u64(&c, t, L->tp_dictoffset, &v, "PyType_Type.tp_dictoffset"))
		return refuse(py, "static types", c.why);
	if (v != (uint64_t)L->tp_dict)
		return refuse(py, "static types", "PyType_Type.tp_dictoffset is not the layout's tp_dict");
	if (!ck_u64(&c, t, L->tp_base, &v, "PyType_Type.tp_base"))
		return refuse(py, "static types", c.why);
	if (v != py->sym[SYM_PyBaseObject_Type])
		return refuse(py, "static types", "PyType_Type.tp_base is not &PyBaseObject_Type");
	if (py->sym[SYM_PyBool_Type] &&
	    (!ck_u64(&c, py->sym[SYM_PyBool_Type], L->tp_base, &v, "PyBool_Type.tp_base") ||
	     v != py->sym[SYM_PyLong_Type]))
		return refuse(py, "static types",
			      *c.why ? c.why : "PyBool_Type.tp_base is not &PyLong_Type");
	// type.__mro__ == (type, object): tp_mro, ob_size and tuple items.
	uint64_t mro, n, i0, i1;
	if (!ck_u64(&c, t, L->tp_mro, &mro, "PyType_Type.tp_mro") ||
	    !ck_u64(&c, mro, L->ob_type, &v, "type.__mro__ ob_type") ||
	    !ck_u64(&c, mro, L->ob_size, &n, "type.__mro__ ob_size") ||
	    !ck_u64(&c, mro, L->tuple_item, &i0, "type.__mro__[0]") ||
	    !ck_u64(&c, mro, sum2(L->tuple_item, 8), &i1, "type.__mro__[1]"))
		return refuse(py, "static types", c.why);
	if (v != py->sym[SYM_PyTuple_Type] || n != 2 || i0 != t || i1 != py->sym[SYM_PyBaseObject_Type])
		return refuse(py, "static types", "type.__mro__ does not read (type, object): tp_mro, "
			      "ob_size or the tuple's ob_item offset is wrong");
	size_t nmembers = 0;
	if (!check_members(&c, &nmembers))
		return refuse(py, "static types' tp_members", c.why);
	if (nmembers < 20)
		return refuse(py, "static types' tp_members",
			      "fewer than 20 members of the static types could be matched");
	return NULL;
}

/* ---- checks while the target is stopped ---- */

// interp->sysdict and friends are exact dicts whose keys are compact str.
// @text receives the str's characters when it is compact ASCII (else "").
static bool check_str(struct checker *c, uint64_t s, const char *what, char text[208])
{
	text[0] = '\0';
	const struct ph_layout *L = c->L;
	uint64_t t, len;
	uint32_t state;
	if (!ck_u64(c, s, L->ob_type, &t, what))
		return false;
	if (t != c->py->sym[SYM_PyUnicode_Type])
		return true; // a str subclass or another key type: nothing to say
	if (!ck_u64(c, s, L->ascii_length, &len, what) ||
	    !ph_mem_read(c->mem, s + (uint64_t)L->ascii_state, &state, sizeof(state)))
		return ck_fail(c, "%s: str at 0x%llx unreadable", what, (unsigned long long)s);
	unsigned kind = state >> 2 & 7, compact = state >> 5 & 1, ascii = state >> 6 & 1;
	if ((kind != 1 && kind != 2 && kind != 4) || len > (1u << 24))
		return ck_fail(c, "%s: str at 0x%llx has state 0x%x and length %llu (str layout "
			       "offsets ascii_state %d / ascii_length %d wrong?)",
			       what, (unsigned long long)s, state, (unsigned long long)len,
			       (int)L->ascii_state, (int)L->ascii_length);
	if (!compact || !ascii || len > 200)
		return true;
	if (!ph_mem_read(c->mem, s + (uint64_t)L->ascii_sizeof, text, len + 1))
		return ck_fail(c, "%s: str data at 0x%llx unreadable", what,
			       (unsigned long long)(s + (uint64_t)L->ascii_sizeof));
	for (uint64_t i = 0; i < len; i++)
		if (text[i] < 0x20 || text[i] > 0x7e)
			return ck_fail(c, "%s: ASCII str at 0x%llx holds byte 0x%02x (sizeof "
				       "PyASCIIObject %d wrong?)",
				       what, (unsigned long long)s, (unsigned char)text[i],
				       (int)L->ascii_sizeof);
	if (text[len] != '\0') {
		text[0] = '\0';
		return ck_fail(c, "%s: ASCII str at 0x%llx is not NUL-terminated at its length",
			       what, (unsigned long long)s);
	}
	return true;
}

// @p d is an exact dict, laid out as the layout says, whose keys are str and
// among which is one of @p want (NULL-terminated: "modules", ... for
// sys.__dict__; several, in case a program deleted one).
static bool check_dict(struct checker *c, uint64_t d, const char *what, const char *const *want)
{
	const struct ph_layout *L = c->L;
	uint64_t t, used, keys, values, nentries, size;
	if (!ck_u64(c, d, L->ob_type, &t, what))
		return false;
	if (t != c->py->sym[SYM_PyDict_Type])
		return ck_fail(c, "%s at 0x%llx is not a dict (its type is 0x%llx)", what,
			       (unsigned long long)d, (unsigned long long)t);
	if (!ck_u64(c, d, L->dict_used, &used, what) || !ck_u64(c, d, L->dict_keys, &keys, what) ||
	    !ck_u64(c, d, L->dict_values, &values, what) ||
	    !ck_u64(c, keys, L->dk_nentries, &nentries, what))
		return false;
	uint64_t entries, esize, keyoff, valoff;
	if (L->dk_log2_size >= 0) {
		uint8_t log2, log2ib, kind;
		if (!ck_u8(c, keys + (uint64_t)L->dk_log2_size, &log2, what) ||
		    !ck_u8(c, keys + (uint64_t)L->dk_log2_index_bytes, &log2ib, what) ||
		    !ck_u8(c, keys + (uint64_t)L->dk_kind, &kind, what))
			return false;
		if (log2 < 3 || log2 > 30 || log2ib < log2 || log2ib > log2 + 3 || kind > 2)
			return ck_fail(c, "%s: keys object says log2 size %u, log2 index bytes %u, "
				       "kind %u", what, log2, log2ib, kind);
		size = 1ull << log2;
		entries = keys + (uint64_t)L->dk_indices + (1ull << log2ib);
		esize = (uint64_t)(kind ? L->due_sizeof : L->dke_sizeof);
		keyoff = kind ? 0 : (uint64_t)L->dke_key; // PyDictUnicodeEntry {me_key, me_value}
		valoff = kind ? 8 : (uint64_t)L->dke_value;
	} else {
		if (!ck_u64(c, keys, L->dk_size, &size, what))
			return false;
		if (size < 8 || size > (1u << 30) || (size & (size - 1)))
			return ck_fail(c, "%s: keys object says size %llu", what,
				       (unsigned long long)size);
		uint64_t width = size <= 0xff ? 1 : size <= 0xffff ? 2 : size <= 0xffffffffu ? 4 : 8;
		entries = keys + (uint64_t)L->dk_indices + width * size;
		esize = (uint64_t)L->dke_sizeof;
		keyoff = (uint64_t)L->dke_key;
		valoff = (uint64_t)L->dke_value;
	}
	if (nentries > size || used > nentries)
		return ck_fail(c, "%s: %llu used of %llu entries in a table of %llu", what,
			       (unsigned long long)used, (unsigned long long)nentries,
			       (unsigned long long)size);
	if (values)
		return ck_fail(c, "%s: a split dict (ma_values 0x%llx)", what,
			       (unsigned long long)values);
	unsigned ascii = 0;
	for (uint64_t i = 0; i < nentries && i < 4096; i++) {
		uint64_t k, v;
		if (!ck_u64(c, entries + i * esize, (int32_t)keyoff, &k, what) ||
		    !ck_u64(c, entries + i * esize, (int32_t)valoff, &v, what))
			return false;
		char text[208];
		if (k && v && !check_str(c, k, what, text))
			return false;
		ascii += text[0] != '\0';
		for (const char *const *k = want; text[0] && *k; k++)
			if (!strcmp(text, *k))
				return true;
	}
	return ck_fail(c, "%s: no key \"%s\" among %llu entries (%u ASCII str keys read): not "
		       "the dict the layout says, or its entry layout is wrong",
		       what, want[0], (unsigned long long)nentries, ascii);
}

// A GC generation list: a closed ring with symmetric links; the first nodes
// are headers of objects that have types. Returns the number of nodes seen
// (0: empty), or -1 with c->why set.
static int check_gc_list(struct checker *c, uint64_t head, const char *what)
{
	const struct ph_layout *L = c->L;
	// PyGC_Head is {uintptr_t _gc_next; uintptr_t _gc_prev;} in 3.8-3.14,
	// with flag bits in the low two bits of both.
	uint64_t next, prev;
	if (!ck_u64(c, head, 0, &next, what) || !ck_u64(c, head, 8, &prev, what))
		return -1;
	next &= ~3ull;
	prev &= ~3ull;
	if (!next || !prev || next % 8 || prev % 8) {
		ck_fail(c, "%s: head at 0x%llx holds 0x%llx/0x%llx, not list links", what,
			(unsigned long long)head, (unsigned long long)next, (unsigned long long)prev);
		return -1;
	}
	if (next == head) {
		if (prev != head) {
			ck_fail(c, "%s: head at 0x%llx is empty forwards but not backwards", what,
				(unsigned long long)head);
			return -1;
		}
		return 0;
	}
	uint64_t p = head, n = next;
	int count = 0;
	for (; n != head && count < 8; count++) {
		uint64_t np, nn;
		if (!ck_u64(c, n, 8, &np, what) || !ck_u64(c, n, 0, &nn, what))
			return -1;
		if ((np & ~3ull) != p) {
			ck_fail(c, "%s: node 0x%llx links back to 0x%llx, not 0x%llx", what,
				(unsigned long long)n, (unsigned long long)(np & ~3ull),
				(unsigned long long)p);
			return -1;
		}
		if (!ck_object(c, n + (uint64_t)L->gchead_sizeof, what))
			return -1;
		p = n;
		n = nn & ~3ull;
		if (!n || n % 8) {
			ck_fail(c, "%s: node 0x%llx has next 0x%llx", what, (unsigned long long)p,
				(unsigned long long)n);
			return -1;
		}
	}
	uint64_t last_next;
	if (!ck_u64(c, prev, 0, &last_next, what))
		return -1;
	if ((last_next & ~3ull) != head) {
		ck_fail(c, "%s: its last node 0x%llx does not link back to the head", what,
			(unsigned long long)prev);
		return -1;
	}
	return count;
}

enum { MAX_INTERPS = 64, MAX_TSTATES = 4096 };

static bool check_gc_state(struct checker *c, uint64_t gc, unsigned *nonempty)
{
	const struct ph_layout *L = c->L;
	uint32_t collecting = 0;
	if (L->gc_collecting >= 0 &&
	    (!ph_mem_read(c->mem, gc + (uint64_t)L->gc_collecting, &collecting, 4) || collecting > 1))
		return ck_fail(c, "gc state at 0x%llx: `collecting` (offset %d) reads %u, not 0 or 1",
			       (unsigned long long)gc, (int)L->gc_collecting, collecting);
	char first_fail[sizeof(c->why)] = "";
	int failed_old = 0, passed = 0;
	for (int g = 0; g < 4; g++) {
		uint64_t head = gc + (uint64_t)(g < 3 ? L->gc_generations + g * L->generation_sizeof
						      : L->gc_permanent_generation);
		char what[64];
		snprintf(what, sizeof(what), g < 3 ? "GC generation %d" : "GC permanent generation", g);
		int r = check_gc_list(c, head, what);
		if (r < 0) {
			if (!*first_fail)
				memcpy(first_fail, c->why, sizeof(first_fail));
			// The youngest list changes with every container allocated,
			// the others during collections: a thread stopped in the
			// middle of a list splice is not a wrong layout.
			if (g > 0 && !collecting)
				failed_old++;
			// During a collection the _gc_prev links of the lists being
			// collected hold reference counts: proof of nothing either way.
			if (collecting)
				(*nonempty)++;
			continue;
		}
		if (r > 0) {
			passed++;
			(*nonempty)++;
		}
	}
	// Deallocating an old object unlinks it from its generation too, so one
	// torn list can happen anywhere in a busy target (the walker counts it as
	// unreadable). Refuse only when no list holds up, or when a table (not
	// DWARF, which describes this very build) leaves two or more torn.
	bool trusted = c->py->layout_kind && !strcmp(c->py->layout_kind, "dwarf");
	if ((*first_fail && !passed && !collecting) || (!trusted && failed_old >= 2)) {
		memcpy(c->why, first_fail, sizeof(c->why));
		return false;
	}
	return true;
}

/*
 * subtype_traverse (typeobject.c) is the tp_traverse of every class made by
 * a class statement or type(): the walker needs its address to recognise
 * instances of Python classes. It is a LOCAL symbol, gone from a stripped
 * file. Derive it from the heap types in the GC lists: every Python class
 * shares it, while extension heap types (PyType_FromSpec) each have their
 * own, or share one in small families (struct sequences: ~10). Measured at
 * start-up with -I -S: 133-145 heap types share subtype_traverse on
 * 3.8-3.13, the next most common tp_traverse is shared by at most 10. The
 * winner must be clearly ahead, lie in the interpreter's code, and not be the
 * tp_traverse of a static built-in type.
 */
struct trav_count {
	uint64_t addr;
	uint32_t n;
};

static void trav_add(struct trav_count *tab, size_t cap, uint64_t addr)
{
	size_t i = (size_t)(addr * 0x9e3779b97f4a7c15ull >> 40) & (cap - 1);
	for (size_t k = 0; k < cap; k++, i = (i + 1) & (cap - 1)) {
		if (tab[i].addr == addr || !tab[i].addr) {
			tab[i].addr = addr;
			tab[i].n++;
			return;
		}
	}
}

static void trav_top2(const struct trav_count *tab, size_t cap, struct trav_count *best,
		      struct trav_count *second)
{
	*best = *second = (struct trav_count){0};
	for (size_t i = 0; i < cap; i++) {
		if (tab[i].n > best->n) {
			*second = *best;
			*best = tab[i];
		} else if (tab[i].n > second->n) {
			*second = tab[i];
		}
	}
}

static bool derive_subtype_traverse(struct checker *c, const uint64_t *gcs, size_t ngcs)
{
	const struct ph_layout *L = c->L;
	struct ph_python *py = c->py;
	// The lists are walked until the winner is far ahead (DECISIVE
	// classes, 4 times the runner-up), or to their end (bounded).
	enum { CAP = 1024, DECISIVE = 64, MAX_NODES = 4000000 };
	struct trav_count *tab = calloc(CAP, sizeof(*tab));
	if (!tab)
		return ck_fail(c, "out of memory");
	uint64_t types = 0, nodes = 0;
	bool decided = false;
	struct trav_count best, second;
	uint64_t last_meta = 0, last_meta_flags = 0;
	// The oldest generation and the permanent one first: classes are made
	// at start-up and end up there.
	static const int order[] = {2, 3, 1, 0};
	for (size_t s = 0; s < ngcs; s++) {
		for (int k = 0; k < 4 && !decided && nodes < MAX_NODES; k++) {
			int g = order[k];
			uint64_t head = gcs[s] + (uint64_t)(g < 3 ? L->gc_generations +
								    g * L->generation_sizeof
							  : L->gc_permanent_generation);
			uint64_t prev = head, n;
			if (!ph_mem_u64(c->mem, head, &n))
				continue;
			n &= ~3ull;
			while (n && n != head && n % 8 == 0 && !decided && nodes++ < MAX_NODES) {
				uint64_t np, nn, obj = n + (uint64_t)L->gchead_sizeof, meta, flags;
				if (!ph_mem_u64(c->mem, n + 8, &np) || (np & ~3ull) != prev ||
				    !ph_mem_u64(c->mem, n, &nn))
					break; // torn list: use what was counted
				if (ph_mem_u64(c->mem, obj + (uint64_t)L->ob_type, &meta) && meta) {
					uint64_t mflags = last_meta_flags;
					if (meta != last_meta &&
					    !ph_mem_u64(c->mem, meta + (uint64_t)L->tp_flags, &mflags))
						mflags = 0;
					last_meta = meta;
					last_meta_flags = mflags;
					uint64_t trav;
					if ((mflags & TPF_TYPE_SUBCLASS) &&
					    ph_mem_u64(c->mem, obj + (uint64_t)L->tp_flags, &flags) &&
					    (flags & TPF_HEAPTYPE) &&
					    ph_mem_u64(c->mem, obj + (uint64_t)L->tp_traverse, &trav) && trav) {
						trav_add(tab, CAP, trav);
						if (++types % 16 == 0) {
							trav_top2(tab, CAP, &best, &second);
							decided = best.n >= DECISIVE &&
								  best.n >= 4 * second.n;
						}
					}
				}
				prev = n;
				n = nn & ~3ull;
			}
		}
	}
	trav_top2(tab, CAP, &best, &second);
	free(tab);
	if (best.n < 8 || best.n < 2 * second.n)
		return ck_fail(c, "cannot tell subtype_traverse (the tp_traverse of Python classes) "
			       "apart: the most common tp_traverse among %llu heap types is shared by "
			       "%u, the next by %u",
			       (unsigned long long)types, best.n, second.n);
	if (py->text_end && (best.addr < py->text_start || best.addr >= py->text_end))
		return ck_fail(c, "the most common tp_traverse of heap types, 0x%llx, is not in the "
			       "code of %s",
			       (unsigned long long)best.addr, py->path);
	static const enum ph_symbol statics[] = {SYM_PyType_Type, SYM_PyDict_Type, SYM_PyList_Type,
						  SYM_PyTuple_Type, SYM_PyFunction_Type,
						  SYM_PyModule_Type};
	for (size_t i = 0; i < sizeof(statics) / sizeof(statics[0]); i++) {
		uint64_t trav;
		if (py->sym[statics[i]] &&
		    ph_mem_u64(c->mem, py->sym[statics[i]] + (uint64_t)L->tp_traverse, &trav) &&
		    trav == best.addr)
			return ck_fail(c, "the most common tp_traverse of heap types is %s's", 
				       ph_symbol_names[statics[i]]);
	}
	py->sym[SYM_subtype_traverse] = best.addr;
	return true;
}

/*
 * A stripped 3.8-3.11 without its debug file has no symbol for
 * signalmodule.c's static Handlers[Py_NSIG]: {int tripped; PyObject *func}
 * pairs, which the signal handlers' functions hang from. Found in .bss by
 * its shape: entry 0 never set (zeros); entries 1-64 a tripped flag of 0 or
 * 1 and a function, at least half of them the same object, the int 0 (the
 * DefaultHandler, PyLong_FromVoidPtr(SIG_DFL), for signals Python leaves
 * alone). Only a single such place is taken; else the handlers are no roots.
 */
enum { HANDLERS_N = 65, MAX_BSS_SCAN = 16 << 20 };

static void derive_signal_handlers(struct checker *c)
{
	struct ph_python *py = c->py;
	const struct ph_layout *L = c->L;
	uint64_t start = (py->bss_start + 7) & ~(uint64_t)7, end = py->bss_end;
	if (end <= start || end - start > MAX_BSS_SCAN || end - start < HANDLERS_N * 16 ||
	    !py->sym[SYM_PyLong_Type] || L->ob_size < 0)
		return;
	size_t n = (size_t)(end - start) / 8;
	uint64_t *w = malloc(n * 8);
	if (!w)
		return;
	// (Pages that cannot be read hold no match: all ones.)
	for (size_t k = 0; k < n; k += 8192) {
		size_t m = n - k < 8192 ? n - k : 8192;
		if (!ph_mem_read(c->mem, start + k * 8, w + k, m * 8))
			memset(w + k, 0xff, m * 8);
	}
	uint64_t found = 0;
	unsigned matches = 0;
	for (size_t i = 0; i + 2 * HANDLERS_N <= n && matches < 2; i++) {
		const uint64_t *e = w + i;
		if (e[0] || e[1] || !e[3] || e[2] > 1)
			continue;
		bool shape = true;
		for (unsigned k = 1; k < HANDLERS_N && shape; k++)
			shape = e[2 * k] <= 1 && e[2 * k + 1] && !(e[2 * k + 1] % 8);
		if (!shape)
			continue;
		uint64_t best = 0;
		unsigned best_n = 0;
		for (unsigned k = 1; k < HANDLERS_N && best_n < HANDLERS_N / 2; k++) {
			unsigned same = 0;
			for (unsigned j = 1; j < HANDLERS_N; j++)
				same += e[2 * j + 1] == e[2 * k + 1];
			if (same > best_n)
				best = e[2 * k + 1], best_n = same;
		}
		uint64_t type, size;
		if (best_n < HANDLERS_N / 2 ||
		    !ph_mem_read(c->mem, best + (uint64_t)L->ob_type, &type, 8) ||
		    type != py->sym[SYM_PyLong_Type] ||
		    !ph_mem_read(c->mem, best + (uint64_t)L->ob_size, &size, 8) || size != 0)
			continue;
		found = start + i * 8;
		matches++;
	}
	free(w);
	if (matches == 1) {
		py->sym[SYM_signal_Handlers] = found;
		py->handlers_size = HANDLERS_N * 16;
	}
}

static struct ph_error *check_live(struct ph_python *py, struct ph_mem *mem)
{
	struct checker c = {.py = py, .mem = mem, .L = &py->L};
	const struct ph_layout *L = &py->L;
	uint64_t runtime = py->sym[SYM_PyRuntime], interp;
	if (!ck_u64(&c, runtime, L->rt_interpreters_head, &interp, "_PyRuntime.interpreters.head"))
		return ph_mem_target_gone(mem)
			       ? ph_error_create(PH_ERR_FAULT, "read %s: the process exited",
						 py->what)
			       : refuse(py, "interpreters", c.why);
	if (!interp || interp % 8)
		return refuse(py, "interpreters",
			      interp ? "_PyRuntime.interpreters.head is not a pointer"
				     : "no interpreter (_PyRuntime.interpreters.head is NULL: not "
				       "initialised, finalising, or a wrong offset)");
	// DWARF describes this very build: its checks only guard against a
	// wrong table, so with DWARF a failure is never a refusal (a busy target
	// stopped mid-update is the walker's to count as unreadable).
	bool trusted = py->layout_kind && !strcmp(py->layout_kind, "dwarf");
	uint64_t gcs[MAX_INTERPS + 1];
	size_t ngcs = 0;
	if (py->minor == 8)
		gcs[ngcs++] = runtime + (uint64_t)L->rt_gc;
	unsigned nonempty = 0, nthreads = 0;
	for (unsigned i = 0; interp && i < MAX_INTERPS; i++) {
		// Every thread state of the interpreter points back at it.
		uint64_t ts;
		if (!ck_u64(&c, interp, L->is_threads_head, &ts, "interp->threads.head"))
			return refuse(py, "interpreters", c.why);
		uint64_t prev_ts = 0;
		for (unsigned k = 0; ts && k < MAX_TSTATES; k++, nthreads++) {
			// A doubly-linked list from the head: tstate->prev is the
			// previous one (NULL for the head), tstate->interp the owner.
			uint64_t back, prev;
			if (ts % 8 || !ck_u64(&c, ts, L->ts_interp, &back, "tstate->interp") ||
			    !ck_u64(&c, ts, L->ts_prev, &prev, "tstate->prev")) {
				if (trusted)
					break;
				return refuse(py, "thread states",
					      ts % 8 ? "a thread state pointer is misaligned" : c.why);
			}
			// A thread being created links itself in at the head in
			// several stores: a stop in between leaves the head's prev
			// pointing at it. Tolerated with DWARF only: with a table, a
			// wrong head offset (threads.main) looks just like that.
			if (prev != prev_ts && trusted) {
				prev_ts = ts;
				if (!ck_u64(&c, ts, L->ts_next, &ts, "tstate->next"))
					return refuse(py, "thread states", c.why);
				continue;
			}
			if (prev != prev_ts) {
				char why[200];
				snprintf(why, sizeof(why),
					 "thread state 0x%llx links back to 0x%llx, not 0x%llx (offsets "
					 "is_threads_head %d / ts_prev %d / ts_next %d)",
					 (unsigned long long)ts, (unsigned long long)prev,
					 (unsigned long long)prev_ts, (int)L->is_threads_head,
					 (int)L->ts_prev, (int)L->ts_next);
				return refuse(py, "thread states", why);
			}
			prev_ts = ts;
			if (back != interp && !trusted) {
				char why[200];
				snprintf(why, sizeof(why),
					 "thread state 0x%llx of interpreter 0x%llx points at "
					 "interpreter 0x%llx (offsets is_threads_head %d / ts_interp "
					 "%d / ts_next %d)",
					 (unsigned long long)ts, (unsigned long long)interp,
					 (unsigned long long)back, (int)L->is_threads_head,
					 (int)L->ts_interp, (int)L->ts_next);
				return refuse(py, "thread states", why);
			}
			if (!ck_u64(&c, ts, L->ts_next, &ts, "tstate->next"))
				return refuse(py, "thread states", c.why);
		}
		if (py->minor >= 9)
			gcs[ngcs++] = interp + (uint64_t)L->is_gc;
		static const char *const sys_keys[] = {"modules", "path", "version", "stdout", NULL};
		static const char *const builtins_keys[] = {"__build_class__", "len", "print",
							     "isinstance", NULL};
		uint64_t d;
		if (!ck_u64(&c, interp, L->is_sysdict, &d, "interp->sysdict") ||
		    (d && !check_dict(&c, d, "interp->sysdict", sys_keys)) ||
		    !ck_u64(&c, interp, L->is_builtins, &d, "interp->builtins") ||
		    (d && !check_dict(&c, d, "interp->builtins", builtins_keys)))
			return refuse(py, "interpreter dicts", c.why);
		uint64_t next;
		if (!ck_u64(&c, interp, L->is_next, &next, "interp->next"))
			return refuse(py, "interpreters", c.why);
		if (next == interp)
			break;
		interp = next;
	}
	if (!nthreads)
		return refuse(py, "thread states", "no interpreter has a thread state");
	for (size_t i = 0; i < ngcs; i++)
		if (!check_gc_state(&c, gcs[i], &nonempty) && !trusted)
			return refuse(py, "GC lists", c.why);
	if (!nonempty && !trusted)
		return refuse(py, "GC lists", "every GC generation list is empty (GC offsets wrong?)");
	if (!py->sym[SYM_subtype_traverse] && !derive_subtype_traverse(&c, gcs, ngcs))
		return refuse(py, "Python classes", c.why);
	if (py->minor <= 11 && !py->sym[SYM_signal_Handlers] && py->bss_end)
		derive_signal_handlers(&c);
	return NULL;
}

struct ph_error *ph_python_check_live(struct ph_python *py, struct ph_mem *mem)
{
	struct ph_error *err = check_live(py, mem);
	// Memory that stopped reading because the process is gone says nothing
	// about the layout.
	if (err && err->code == PH_ERR_NO_DEBUG_INFO && ph_mem_target_gone(mem)) {
		ph_error_destroy(err);
		return ph_error_create(PH_ERR_FAULT, "read %s: the process exited",
				       py->what);
	}
	return err;
}

/* ---- structs of extension modules ---- */

/* Shared modules whose structs the walker emulates: the layout fields of
 * these C types come from the module, not from the interpreter's file
 * (unless the module is built in). */
static const struct ext_module {
	const char *prefix; /* of the file's base name: "_asyncio." */
	const char *types[6];
	size_t probe;       /* offsetof(struct ph_layout, a field always present) */
} ext_modules[] = {
	{"_asyncio.",
	 {"FutureObj", "TaskObj", "TaskWakeupMethWrapper", "TaskStepMethWrapper", "futureiterobject"},
	 offsetof(struct ph_layout, fut_sizeof)},
	{"_queue.", {"simplequeueobject"}, offsetof(struct ph_layout, sq_sizeof)},
	{"array.", {"arrayobject", "arraydescr"}, offsetof(struct ph_layout, array_sizeof)},
	{"_elementtree.", {"ElementObject", "ElementObjectExtra"},
	 offsetof(struct ph_layout, elem_sizeof)},
	{"_pickle.", {"PicklerObject", "PyMemoTable", "PyMemoEntry"},
	 offsetof(struct ph_layout, pickler_sizeof)},
	{"_struct.", {"PyStructObject", "formatcode"}, offsetof(struct ph_layout, struct_sizeof)},
	{"_ctypes.", {"StgDictObject"}, offsetof(struct ph_layout, stgdict_sizeof)},
	{"_ctypes.", {"StgInfo"}, offsetof(struct ph_layout, stginfo_sizeof)},
};

static bool is_module_field(const struct ext_module *m, size_t i)
{
	for (size_t j = 0; j < sizeof(m->types) / sizeof(m->types[0]) && m->types[j]; j++)
		if (!strcmp(ph_layout_fields[i].type, m->types[j]))
			return true;
	return false;
}

static int32_t probe_field(const struct ph_layout *L, const struct ext_module *m)
{
	return *(const int32_t *)((const char *)L + m->probe);
}

/* ---- opening ---- */

// The path to open the file that mapping @m maps: of the process (see
// ph_map_open_path()), or of a core: the file on this machine, *@unsure
// when it is not the one the process mapped (py->core_why says why).
static char *open_path_of(struct ph_python *py, const struct ph_map *m, bool *unsure)
{
	if (!py->core)
		return ph_map_open_path(py->pid, m, unsure);
	const char *why = NULL;
	*unsure = !ph_core_file_usable(py->core, m, &why);
	if (*unsure && !py->core_why)
		py->core_why = why;
	const char *path = ph_core_file_path(py->core, m);
	return path ? strdup(path) : ph_map_clean_path(m);
}

// The file at @path was deleted or replaced since the process mapped it, and
// the file mapped could not be read in its place; or, for a core, the file
// here is not the one the process mapped.
static struct ph_error *replaced_error(const struct ph_python *py, const char *path)
{
	if (py->core)
		return ph_error_create(PH_ERR_NO_DEBUG_INFO,
				       "open %s for %s: %s — analyse the core on the machine that "
				       "wrote it, or on one with the same build of Python",
				       py->open_path ? py->open_path : path, py->what,
				       py->core_why ? py->core_why : "unusable");
	return ph_error_create(PH_ERR_PERMISSION,
			       "open %s of pid %d: the file was deleted or replaced by another "
			       "build since the process started (a package upgrade?), and the "
			       "file it maps can be opened only through /proc/%d/map_files, by "
			       "root (CAP_SYS_ADMIN) — run pyheap-attach as root, or restart the "
			       "process",
			       path, (int)py->pid, (int)py->pid);
}

// glibc's main_arena, for what its malloc keeps (cmalloc.c): a local
// symbol, in libc's symbol table or, as Debian ships it, in its separate
// debug file (libc6-dbg). Nothing when libc is not glibc or has neither.
static void find_libc_malloc(struct ph_python *py, const struct ph_maps *maps,
			     const struct ph_python_options *opt)
{
	// Another malloc, mapped: preloaded (LD_PRELOAD) or linked in, it takes
	// the process's mallocs, glibc's arenas stay empty (ph_cmalloc_other_in_use()).
	static const struct {
		const char *prefix, *name;
	} others[] = {{"libjemalloc.so", "jemalloc"},
		      {"libtcmalloc", "tcmalloc"},
		      {"libmimalloc", "mimalloc"}};
	for (size_t i = 0; i < maps->n && !py->malloc_other[0]; i++) {
		const char *p = maps->maps[i].path;
		const char *base = p ? strrchr(p, '/') : NULL;
		for (size_t k = 0; base && k < sizeof(others) / sizeof(others[0]); k++)
			if (!strncmp(base + 1, others[k].prefix, strlen(others[k].prefix)) &&
			    strstr(base + 1, ".so")) {
				strlcpy(py->malloc_other, others[k].name, sizeof(py->malloc_other));
				strlcpy(py->malloc_other_file, base + 1,
					sizeof(py->malloc_other_file));
				break;
			}
	}
	const struct ph_map *map = NULL;
	for (size_t i = 0; i < maps->n && !map; i++) {
		const char *p = maps->maps[i].path;
		const char *base = p ? strrchr(p, '/') : NULL;
		if (base && (!strncmp(base + 1, "libc.so.6", 9) || !strncmp(base + 1, "libc-2.", 7)) &&
		    maps->maps[i].offset == 0)
			map = &maps->maps[i];
	}
	if (!map)
		return;
	bool unsure;
	char *open_path = open_path_of(py, map, &unsure);
	if (!open_path)
		return;
	struct ph_elf *f = NULL, *d = NULL;
	struct ph_error *err = unsure ? NULL : ph_elf_open(open_path, &f);
	free(open_path);
	ph_error_destroy(err);
	if (!f)
		return;
	struct ph_symbol_query q[] = {{.name = "main_arena"}, {.name = "mp_"}},
			       v = {.name = "__libc_single_threaded"};
	ph_elf_lookup_symbols(f, q, 2);
	ph_elf_lookup_symbols(f, &v, 1);
	py->libc_safe_linking = v.value != 0; // (added in 2.32, as safe linking)
	if (!q[0].value && !f->has_symtab) {
		err = find_debug(py, f, map, opt, &d);
		ph_error_destroy(err);
		if (d)
			ph_elf_lookup_symbols(d, q, 2);
	}
	uint64_t bias = map->start - f->base_vaddr;
	if (q[0].value) {
		py->libc_main_arena = q[0].value + bias;
		py->libc_main_arena_size = q[0].size;
	}
	if (q[0].value && q[1].value) {
		py->libc_mp = q[1].value + bias;
		py->libc_mp_size = q[1].size;
	}
	ph_elf_close(d);
	ph_elf_close(f);
}

// The layout from the DWARF of module @m when it is loaded and has debug
// info (in the file or separate), cached by the module's build-id.
static bool module_layout(struct ph_python *py, const struct ph_maps *maps,
			  const struct ph_python_options *opt, const struct ext_module *m,
			  struct ph_layout *ret)
{
	const struct ph_map *map = NULL;
	size_t plen = strlen(m->prefix);
	for (size_t i = 0; i < maps->n && !map; i++) {
		const char *p = maps->maps[i].path;
		const char *base = p ? strrchr(p, '/') : NULL;
		if (base && !strncmp(base + 1, m->prefix, plen) && strstr(base, ".so") &&
		    maps->maps[i].offset == 0)
			map = &maps->maps[i];
	}
	if (!map)
		return false;
	bool unsure;
	char *open_path = open_path_of(py, map, &unsure);
	if (!open_path)
		return false;
	if (unsure) {
		// (Maybe another build than the one mapped: the tables then.)
		free(open_path);
		return false;
	}
	struct ph_elf *f = NULL, *d = NULL;
	struct ph_error *err = ph_elf_open(open_path, &f);
	free(open_path);
	if (err) {
		ph_error_destroy(err);
		return false;
	}
	char hex[129];
	ph_elf_build_id_hex(f, hex);
	bool ok = !opt->no_cache && ph_layout_cache_load(hex, ret);
	if (!ok) {
		if (f->has_debug_info) {
			d = f;
		} else {
			err = find_debug(py, f, map, opt, &d);
			ph_error_destroy(err);
		}
		if (d) {
			err = ph_layout_from_dwarf(d, ret);
			ok = !err;
			ph_error_destroy(err);
			if (ok && !opt->no_cache)
				ph_layout_cache_store(hex, ret);
		}
	}
	if (d != f)
		ph_elf_close(d);
	ph_elf_close(f);
	return ok && probe_field(ret, m) > 0;
}

// Fills the fields of the modules' structs that the interpreter's own layout
// lacks: from each module's DWARF, else from this version's table when the
// table agrees with the layout on the object header (the walker checks each
// type's name and size before it uses them).
static void resolve_module_layouts(struct ph_python *py, const struct ph_maps *maps,
				   const struct ph_python_options *opt)
{
	struct ph_layout *L = &py->L;
	const struct ph_table *t = ph_table_for_version(py->hexversion);
	bool table_fits = t && t->layout.ob_type == L->ob_type && t->layout.ob_size == L->ob_size &&
			  t->layout.tp_basicsize == L->tp_basicsize &&
			  t->layout.tp_name == L->tp_name;
	for (size_t k = 0; k < sizeof(ext_modules) / sizeof(ext_modules[0]); k++) {
		const struct ext_module *m = &ext_modules[k];
		if (probe_field(L, m) > 0)
			continue;
		struct ph_layout ext;
		const struct ph_layout *from = NULL;
		if (module_layout(py, maps, opt, m, &ext) && ext.ob_type == L->ob_type)
			from = &ext;
		else if (table_fits)
			from = &t->layout;
		if (!from)
			continue;
		for (size_t i = 0; i < ph_layout_nfields; i++)
			if (is_module_field(m, i))
				*ph_layout_slot(L, i) = *(const int32_t *)((const char *)from +
									    ph_layout_fields[i].offset);
	}
}

enum {
	STATIC_AREAS_MAX = 4096,         /* ELF files' static data looked at, at most */
	STATIC_AREA_MAX = 64 << 20,      /* bytes of one */
	STATIC_AREAS_BYTES = 512u << 20, /* bytes of all */
	STATIC_PHDRS_MAX = 64,           /* program headers of one file read, at most */
};

// Adds [start, end) of @file to py->static_areas; false when memory runs
// out (then the list is dropped).
static bool add_static_area(struct ph_python *py, uint64_t start, uint64_t end, uint64_t bias,
			    const char *path, bool interpreter)
{
	struct ph_static_area *n = reallocarray(py->static_areas, py->nstatic_areas + 1, sizeof(*n));
	if (!n) {
		drop_static_areas(py);
		return false;
	}
	py->static_areas = n;
	char *name = strdup(base_name(path));
	if (!name) {
		drop_static_areas(py);
		return false;
	}
	n[py->nstatic_areas++] = (struct ph_static_area){start, end, bias, name, interpreter};
	return true;
}

// The static data of the ELF files the process mapped (the interpreter,
// shared objects): the writable PT_LOAD segments, .data and .bss, as the ELF
// header mapped at each file's start (its mapping at offset 0) gives them,
// where mapped writable: the files with an executable mapping, or named
// like a shared object (a core may not say which mappings were executable).
// A file whose start does not read as a 64-bit little-endian ELF header is
// passed over.
static void find_static_areas(struct ph_python *py, const struct ph_maps *maps,
			      const struct ph_mem_source *src)
{
	uint64_t total = 0;
	for (size_t i = 0; i < maps->n && py->nstatic_areas < STATIC_AREAS_MAX; i++) {
		const struct ph_map *m = &maps->maps[i];
		if (!m->path || m->path[0] != '/' || m->offset != 0)
			continue;
		bool interpreter = py->path && !strcmp(m->path, py->path);
		bool first = true, code = interpreter || strstr(base_name(m->path), ".so");
		for (size_t j = 0; j < maps->n && first; j++) {
			const struct ph_map *o = &maps->maps[j];
			if (!o->path || o->inode != m->inode || strcmp(o->path, m->path))
				continue;
			// (The file mapped again: its first mapping.)
			first = j >= i || o->offset != 0;
			code |= o->perms[2] == 'x';
		}
		// (Not a data file mapped: reading its first bytes may wait for a
		// disk. From the source: a few bytes of each file, no cache block.)
		Elf64_Ehdr eh;
		Elf64_Phdr ph[STATIC_PHDRS_MAX];
		if (!code || !first || src->read(src->arg, m->start, &eh, sizeof(eh)) != (long)sizeof(eh) ||
		    memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
		    eh.e_ident[EI_DATA] != ELFDATA2LSB || (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) ||
		    eh.e_phentsize != sizeof(Elf64_Phdr) || !eh.e_phnum ||
		    eh.e_phnum > STATIC_PHDRS_MAX || eh.e_phoff > 4096 ||
		    src->read(src->arg, m->start + eh.e_phoff, ph, eh.e_phnum * sizeof(*ph)) !=
			    (long)(eh.e_phnum * sizeof(*ph)))
			continue;
		// The load bias: 0 for an executable at its link address (ET_EXEC),
		// else where the file's first byte went.
		uint64_t bias = 0, low = UINT64_MAX;
		for (uint16_t k = 0; k < eh.e_phnum; k++)
			if (ph[k].p_type == PT_LOAD && ph[k].p_offset == 0 && ph[k].p_vaddr < low)
				low = ph[k].p_vaddr;
		if (eh.e_type == ET_DYN)
			bias = m->start - (low != UINT64_MAX ? low & ~(uint64_t)4095 : 0);
		for (uint16_t k = 0; k < eh.e_phnum; k++) {
			const Elf64_Phdr *p = &ph[k];
			uint64_t start = bias + p->p_vaddr, end = start + p->p_memsz;
			// (Of the interpreter, only .bss, its static variables set at
			// run time: its .data is static objects, types and frozen code,
			// and _PyRuntime, a megabyte or more that holds no object made
			// since.)
			if (interpreter)
				start += p->p_filesz < p->p_memsz ? p->p_filesz : p->p_memsz;
			if (p->p_type != PT_LOAD || !(p->p_flags & PF_W) || start >= end ||
			    end - start > STATIC_AREA_MAX)
				continue;
			// What of it is still writable (not what RELRO made read-only
			// after relocation: no object made since is held there).
			for (size_t j = 0; j < maps->n; j++) {
				const struct ph_map *w = &maps->maps[j];
				uint64_t a = w->start > start ? w->start : start;
				uint64_t b = w->end < end ? w->end : end;
				if (a >= b || w->perms[0] != 'r' || w->perms[1] != 'w' ||
				    total + (b - a) > STATIC_AREAS_BYTES)
					continue;
				if (!add_static_area(py, a, b, bias, m->path, interpreter))
					return;
				total += b - a;
			}
		}
	}
}

// The anonymous writable mappings of @maps (sorted by address), at most
// ANON_MAPS_MAX: where the threads' stacks are.
static bool anon_map(const struct ph_map *m)
{
	return m->perms[0] == 'r' && m->perms[1] == 'w' && m->end > m->start &&
	       (!m->path || !strcmp(m->path, "[stack]") || !strncmp(m->path, "[anon:", 6));
}

static void find_anon_maps(struct ph_python *py, const struct ph_maps *maps)
{
	enum { ANON_MAPS_MAX = 1 << 16 };
	size_t n = 0;
	for (size_t i = 0; i < maps->n; i++)
		n += anon_map(&maps->maps[i]);
	if (!n || n > ANON_MAPS_MAX || !(py->anon_maps = calloc(n, sizeof(*py->anon_maps))))
		return;
	for (size_t i = 0; i < maps->n; i++) {
		const struct ph_map *m = &maps->maps[i];
		if (!anon_map(m))
			continue;
		py->anon_maps[py->nanon_maps++] = (struct ph_mem_range){m->start, m->end};
		if (m->path && !strcmp(m->path, "[stack]")) {
			py->stack_start = m->start;
			py->stack_end = m->end;
		}
	}
}

// What ph_python_open() and ph_python_open_core() share: @py has its pid,
// what and core set; @maps are the process's mappings, @src its memory.
static struct ph_error *open_python(struct ph_python *py, const struct ph_maps *maps,
				    const struct ph_mem_source *src,
				    const struct ph_python_options *opt)
{
	struct ph_error *err = NULL;
	pid_t pid = py->pid;
	struct ph_elf *f = NULL, *debug = NULL;
	struct ph_mem *mem = NULL;
	uint64_t start = 0;
	const struct ph_map *map = NULL;
	bool unsure = false;
	char *replaced_path = NULL; // (a candidate replaced, and not usable)
	struct ph_symbol_query q[SYM_COUNT];

	// Prefer a mapped libpython; else the executable (a static interpreter).
	for (int attempt = 0; attempt < 2 && !f; attempt++) {
		free(py->path);
		py->path = NULL;
		if (!pick_candidate(maps, attempt == 0, &py->path, &map))
			continue;
		start = map->start;
		py->deleted = strcmp(py->path, map->path) != 0; // (" (deleted)")
		free(py->open_path);
		// (The file mapped, also when a package upgrade has replaced it since.)
		if (!(py->open_path = open_path_of(py, map, &unsure))) {
			err = &ph_error_nomem;
			goto out;
		}
		if (py->core && unsure) {
			// (Its code and type names would read as unreadable.)
			err = replaced_error(py, py->path);
			goto out;
		}
		err = ph_elf_open(py->open_path, &f);
		if (err && unsure) {
			ph_error_destroy(err);
			err = replaced_error(py, py->path);
			goto out;
		}
		if (err) {
			if (access(py->open_path, R_OK) < 0 && (errno == EACCES || errno == EPERM)) {
				ph_error_destroy(err);
				err = ph_error_errno(PH_ERR_PERMISSION, EACCES,
						     "open %s of %s — run as the same user or as "
						     "root",
						     py->open_path, py->what);
				goto out;
			}
			ph_error_destroy(err);
			err = NULL;
			f = NULL;
			continue;
		}
		for (int i = 0; i < SYM_COUNT; i++)
			q[i] = (struct ph_symbol_query){.name = ph_symbol_names[i]};
		ph_elf_lookup_symbols(f, q, SYM_COUNT);
		bool has_runtime = q[SYM_PyRuntime].value != 0;
		bool old_python = q[SYM_interp_head].value || q[SYM_PyInterpreterState_Head].value;
		if (!has_runtime && !old_python) {
			if (unsure && !replaced_path)
				replaced_path = strdup(py->path);
			ph_elf_close(f);
			f = NULL;
			continue;
		}
		py->bias = start - f->base_vaddr;
		for (int i = 0; i < SYM_COUNT; i++)
			py->sym[i] = q[i].value ? q[i].value + py->bias : 0;
		py->runtime_size = q[SYM_PyRuntime].size;
		py->handlers_size = q[SYM_signal_Handlers].size;
		uint64_t lo, hi;
		if (ph_elf_text_range(f, &lo, &hi)) {
			py->text_start = lo + py->bias;
			py->text_end = hi + py->bias;
		}
		if (!has_runtime) {
			unsigned a = 0, b = 0;
			version_from_name(py->path, &a, &b);
			err = ph_error_create(PH_ERR_UNSUPPORTED,
					      "%s: unsupported Python version %u.%u (%s) — "
					      "pyheap-attach supports CPython 3.8 to 3.14",
					      py->what, a, b, py->path);
			goto out;
		}
	}
	if (!f && replaced_path) {
		err = replaced_error(py, replaced_path);
		goto out;
	}
	if (!f && py->core) {
		err = ph_error_create(PH_ERR_NOT_PYTHON,
				      "%s: not a Python process (no libpython or executable with a "
				      "CPython runtime among the files its NT_FILE note names)",
				      py->what);
		goto out;
	}
	if (!f) {
		err = ph_error_create(PH_ERR_NOT_PYTHON,
				      "pid %d: not a Python process (no libpython or executable with a "
				      "CPython runtime in /proc/%d/maps)",
				      (int)pid, (int)pid);
		goto out;
	}

	err = ph_mem_create(src, &mem);
	if (err)
		goto out;
	if (unsure) {
		// The file at the path may not be the one mapped, and the one
		// mapped cannot be opened: usable only if it is the same build.
		uint8_t id[sizeof(f->build_id)];
		if (f->build_id_len && f->build_id_vaddr &&
		    (!ph_mem_read(mem, f->build_id_vaddr + py->bias, id, f->build_id_len) ||
		     memcmp(id, f->build_id, f->build_id_len))) {
			err = replaced_error(py, py->path);
			goto out;
		}
	}
	err = read_version_hex(py, f, q, mem);
	if (err)
		goto out;
	if (py->major != 3 || py->minor < 8 || py->minor > 14) {
		err = ph_error_create(PH_ERR_UNSUPPORTED,
				      "%s: unsupported Python version %s (%s) — pyheap-attach "
				      "supports CPython 3.8 to 3.14",
				      py->what, py->version, py->path);
		goto out;
	}

	err = resolve_layout(py, f, mem, opt, &debug);
	if (err)
		goto out;
	resolve_module_layouts(py, maps, opt);
	find_libc_malloc(py, maps, opt);
	find_static_areas(py, maps, src);
	find_anon_maps(py, maps);
	// Local symbols (subtype_traverse, Handlers, interned, errnomap) live in
	// .symtab, which a stripped file keeps only in its separate debug file;
	// without one, ph_python_check_live() derives subtype_traverse from the
	// heap (and signal handlers are no roots before 3.12).
	if (!py->sym[SYM_subtype_traverse]) {
		if (!debug && !f->has_symtab && !opt->layout)
			ph_error_destroy(find_debug(py, f, NULL, opt, &debug));
		if (debug) {
			struct ph_symbol_query sq[] = {
				{.name = ph_symbol_names[SYM_subtype_traverse]},
				{.name = ph_symbol_names[SYM_signal_Handlers]},
				{.name = ph_symbol_names[SYM_arenas]},
				{.name = ph_symbol_names[SYM_maxarenas]},
				{.name = ph_symbol_names[SYM_tracemalloc_config]},
				{.name = ph_symbol_names[SYM_tracemalloc_traces]},
				{.name = ph_symbol_names[SYM_interned]},
				{.name = ph_symbol_names[SYM_method_cache]},
				{.name = ph_symbol_names[SYM_errnomap]},
			};
			ph_elf_lookup_symbols(debug, sq, sizeof(sq) / sizeof(sq[0]));
			if (sq[0].value)
				py->sym[SYM_subtype_traverse] = sq[0].value + py->bias;
			if (sq[1].value && !py->sym[SYM_signal_Handlers]) {
				py->sym[SYM_signal_Handlers] = sq[1].value + py->bias;
				py->handlers_size = sq[1].size;
			}
			// (pymalloc's statics, before 3.12: pymalloc.c.)
			if (sq[2].value && sq[3].value && !py->sym[SYM_arenas]) {
				py->sym[SYM_arenas] = sq[2].value + py->bias;
				py->sym[SYM_maxarenas] = sq[3].value + py->bias;
			}
			// (tracemalloc's statics, 3.9-3.11: tracemalloc.c.)
			if (sq[4].value && sq[5].value && !py->sym[SYM_tracemalloc_traces]) {
				py->sym[SYM_tracemalloc_config] = sq[4].value + py->bias;
				py->sym[SYM_tracemalloc_traces] = sq[5].value + py->bias;
			}
			// (The interned strings' dict, before 3.12: unicodeobject.c.)
			if (sq[6].value && !py->sym[SYM_interned])
				py->sym[SYM_interned] = sq[6].value + py->bias;
			// (The type cache, before 3.10: typeobject.c.)
			if (sq[7].value && !py->sym[SYM_method_cache])
				py->sym[SYM_method_cache] = sq[7].value + py->bias;
			// (The map of errno values to OSError's subclasses, before
			// 3.10: exceptions.c.)
			if (sq[8].value && !py->sym[SYM_errnomap])
				py->sym[SYM_errnomap] = sq[8].value + py->bias;
		}
	}
	uint64_t bss, bss_size;
	if (py->minor <= 11 && !py->sym[SYM_signal_Handlers] &&
	    ph_elf_section(f, ".bss", &bss, &bss_size)) {
		// (ph_python_check_live() looks for Handlers there.)
		py->bss_start = bss + py->bias;
		py->bss_end = py->bss_start + bss_size;
	}
	err = check_layout(py);
	if (!err)
		err = check_static(py, mem);
	py->live_checks = true;
out:
	free(replaced_path);
	ph_mem_destroy(mem);
	ph_elf_close(debug);
	ph_elf_close(f);
	return err;
}

struct ph_error *ph_python_open(pid_t pid, const struct ph_python_options *opt,
				struct ph_python **ret)
{
	struct ph_error *err = ph_target_check(pid);
	if (err)
		return err;
	struct ph_maps maps;
	err = ph_maps_read(pid, &maps);
	if (err)
		return err;
	struct ph_python *py = calloc(1, sizeof(*py));
	struct ph_mem_source src = {0};
	if (!py)
		err = &ph_error_nomem;
	else
		err = ph_process_source_create(pid, &src);
	if (!err) {
		py->pid = pid;
		py->ns_pid = ph_target_ns_pid(pid);
		py->root = ph_target_root(pid);
		snprintf(py->what, sizeof(py->what), "pid %d", (int)pid);
		err = open_python(py, &maps, &src, opt);
		ph_process_source_destroy(&src);
	}
	ph_maps_deinit(&maps);
	if (err) {
		ph_python_close(py);
		return err;
	}
	*ret = py;
	return NULL;
}

struct ph_error *ph_python_open_core(struct ph_core *core, const struct ph_python_options *opt,
				     struct ph_python **ret)
{
	struct ph_python *py = calloc(1, sizeof(*py));
	if (!py)
		return &ph_error_nomem;
	py->pid = ph_core_pid(core);
	py->ns_pid = py->pid;
	py->core = core;
	if (ph_core_sysroot(core) && !(py->root = strdup(ph_core_sysroot(core)))) {
		free(py);
		return &ph_error_nomem;
	}
	if (py->pid > 0)
		snprintf(py->what, sizeof(py->what), "core %s (pid %d)", ph_core_path(core),
			 py->pid);
	else
		snprintf(py->what, sizeof(py->what), "core %s", ph_core_path(core));
	struct ph_mem_source src;
	ph_core_source(core, &src);
	struct ph_error *err = open_python(py, ph_core_maps(core), &src, opt);
	py->core = NULL;
	py->core_why = NULL;
	if (err) {
		ph_python_close(py);
		return err;
	}
	*ret = py;
	return NULL;
}
