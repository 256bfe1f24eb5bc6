/* SPDX-License-Identifier: MIT */
/*
 * Finding CPython in a process: which ELF file holds the runtime, its load
 * bias, version and struct layout. Addresses are target addresses.
 */
#include "cpython.h"
#include "cpython_private.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void ph_python_close(struct ph_python *py)
{
	if (!py)
		return;
	free(py->path);
	free(py->open_path);
	free(py->layout_source);
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

// Strips " (deleted)" that the kernel appends to replaced files.
static char *clean_map_path(const char *p)
{
	char *s = strdup(p);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	const char *del = " (deleted)";
	size_t dl = strlen(del);
	if (n > dl && !strcmp(s + n - dl, del))
		s[n - dl] = '\0';
	return s;
}

// The ELF file that holds the runtime: a mapped libpython, else the
// executable. Returns the path as mapped and the lowest mapping start of the
// file's offset-0 mapping.
static bool pick_candidate(const struct ph_maps *maps, bool want_lib, char **path,
			   uint64_t *start)
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
			*path = clean_map_path(m->path);
			*start = m->start;
			return *path != NULL;
		}
	}
	return false;
}

static struct ph_error *read_version_hex(struct ph_python *py, struct ph_mem *mem)
{
	uint64_t v = 0;
	if (py->sym[SYM_Py_Version] && ph_mem_u64(mem, py->sym[SYM_Py_Version], &v) &&
	    (v >> 24 & 0xff) == 3) {
		v &= 0xffffffff;
		py->hexversion = (uint32_t)v;
		py->major = (unsigned)(v >> 24) & 0xff;
		py->minor = (unsigned)(v >> 16) & 0xff;
		py->micro = (unsigned)(v >> 8) & 0xff;
		snprintf(py->version, sizeof(py->version), "%u.%u.%u", py->major, py->minor,
			 py->micro);
		return NULL;
	}
	// Py_GetVersion() formats PY_VERSION into its static buffer at start-up
	// (sys.version is built from it): read the buffer ("3.9.18 (main, ...").
	char buf[64];
	if (py->sym[SYM_version_buffer] &&
	    ph_mem_read(mem, py->sym[SYM_version_buffer], buf, sizeof(buf))) {
		buf[sizeof(buf) - 1] = '\0';
		unsigned a, b, c;
		if (sscanf(buf, "%u.%u.%u", &a, &b, &c) == 3 && a == 3) {
			py->major = a;
			py->minor = b;
			py->micro = c;
			py->hexversion = a << 24 | b << 16 | c << 8;
			size_t n = strspn(buf, "0123456789.abrc+");
			if (n >= sizeof(py->version))
				n = sizeof(py->version) - 1;
			memcpy(py->version, buf, n);
			py->version[n] = '\0';
			return NULL;
		}
	}
	// Last resort: the file name gives the minor version only.
	unsigned a, b;
	if (version_from_name(py->path, &a, &b)) {
		py->major = a;
		py->minor = b;
		py->hexversion = a << 24 | b << 16;
		snprintf(py->version, sizeof(py->version), "%u.%u", a, b);
		return NULL;
	}
	return ph_error_create(PH_ERR_NOT_PYTHON, "pid %d: cannot tell the Python version of %s",
			       (int)py->pid, py->path);
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
		{"gc_generations", L->gc_generations},
		{"gc_permanent_generation", L->gc_permanent_generation},
		{"generation_sizeof", L->generation_sizeof},
		{"gchead_sizeof", L->gchead_sizeof},
		{"tp_name", L->tp_name},
		{"tp_basicsize", L->tp_basicsize},
		{"tp_flags", L->tp_flags},
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

static struct ph_error *resolve_layout(struct ph_python *py, struct ph_elf *f,
				       const struct ph_python_options *opt, struct ph_elf **debug)
{
	char hex[129];
	ph_elf_build_id_hex(f, hex);
	if (!opt->no_cache && ph_layout_cache_load(hex, &py->L)) {
		py->layout_kind = "dwarf";
		if (asprintf(&py->layout_source, "DWARF, cached (build-id %.12s)", hex) < 0)
			return &ph_error_nomem;
		return NULL;
	}
	struct ph_elf *d = NULL;
	if (f->has_debug_info) {
		d = f;
	} else {
		struct ph_error *err = ph_elf_find_debug(f, opt->debug_dirs, &d);
		if (err)
			return err;
	}
	if (!d)
		return ph_error_create(
			PH_ERR_NO_DEBUG_INFO,
			"read layout of %s (Python %s): no debug info — the file has no DWARF and no "
			"separate debug info was found (build-id %s%s%s). Install the interpreter's "
			"debug symbols (e.g. apt-get install python%u.%u-dbg) or point --debug-dir at "
			"them",
			py->path, py->version, *hex ? hex : "none", f->debuglink ? ", debuglink " : "",
			f->debuglink ? f->debuglink : "", py->major, py->minor);
	py->layout_kind = "dwarf";
	struct ph_error *err = ph_layout_from_dwarf(d, &py->L);
	if (!err) {
		int r = d == f ? asprintf(&py->layout_source, "DWARF (%s)", base_name(f->path))
			       : asprintf(&py->layout_source, "separate debug info (build-id %.12s, %s)",
					  hex, d->path);
		if (r < 0)
			err = &ph_error_nomem;
		else if (!opt->no_cache)
			ph_layout_cache_store(hex, &py->L);
	}
	if (d != f)
		*debug = d;
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
	if (!py) {
		ph_maps_deinit(&maps);
		return &ph_error_nomem;
	}
	py->pid = pid;
	struct ph_elf *f = NULL, *debug = NULL;
	struct ph_mem *mem = NULL;
	struct ph_mem_source src = {0};
	uint64_t start = 0;

	// Prefer a mapped libpython; else the executable (a static interpreter).
	for (int attempt = 0; attempt < 2 && !f; attempt++) {
		free(py->path);
		py->path = NULL;
		if (!pick_candidate(&maps, attempt == 0, &py->path, &start))
			continue;
		free(py->open_path);
		if (asprintf(&py->open_path, "/proc/%d/root%s", (int)pid, py->path) < 0) {
			err = &ph_error_nomem;
			goto out;
		}
		err = ph_elf_open(py->open_path, &f);
		if (err) {
			if (access(py->open_path, R_OK) < 0 && (errno == EACCES || errno == EPERM)) {
				ph_error_destroy(err);
				err = ph_error_errno(PH_ERR_PERMISSION, EACCES,
						     "open %s of pid %d — run as the same user or as "
						     "root",
						     py->open_path, (int)pid);
				goto out;
			}
			ph_error_destroy(err);
			err = NULL;
			f = NULL;
			continue;
		}
		struct ph_symbol_query q[SYM_COUNT];
		for (int i = 0; i < SYM_COUNT; i++)
			q[i] = (struct ph_symbol_query){.name = ph_symbol_names[i]};
		ph_elf_lookup_symbols(f, q, SYM_COUNT);
		bool has_runtime = q[SYM_PyRuntime].value != 0;
		bool old_python = q[SYM_interp_head].value || q[SYM_PyInterpreterState_Head].value;
		if (!has_runtime && !old_python) {
			ph_elf_close(f);
			f = NULL;
			continue;
		}
		py->bias = start - f->base_vaddr;
		for (int i = 0; i < SYM_COUNT; i++)
			py->sym[i] = q[i].value ? q[i].value + py->bias : 0;
		if (!has_runtime) {
			unsigned a = 0, b = 0;
			version_from_name(py->path, &a, &b);
			err = ph_error_create(PH_ERR_UNSUPPORTED,
					      "pid %d: unsupported Python version %u.%u (%s) — "
					      "pyheap-attach supports CPython 3.8 to 3.13",
					      (int)pid, a, b, py->path);
			goto out;
		}
	}
	if (!f) {
		err = ph_error_create(PH_ERR_NOT_PYTHON,
				      "pid %d: not a Python process (no libpython or executable with a "
				      "CPython runtime in /proc/%d/maps)",
				      (int)pid, (int)pid);
		goto out;
	}

	err = ph_process_source_create(pid, &src);
	if (!err)
		err = ph_mem_create(&src, &mem);
	if (err)
		goto out;
	err = read_version_hex(py, mem);
	if (err)
		goto out;
	if (py->major != 3 || py->minor < 8 || py->minor > 13) {
		err = ph_error_create(PH_ERR_UNSUPPORTED,
				      "pid %d: unsupported Python version %s (%s) — pyheap-attach "
				      "supports CPython 3.8 to 3.13",
				      (int)pid, py->version, py->path);
		goto out;
	}

	err = resolve_layout(py, f, opt, &debug);
	if (err)
		goto out;
	// Local symbols (subtype_traverse, the version buffer) live in .symtab,
	// which a stripped file keeps only in its separate debug file.
	if (!py->sym[SYM_subtype_traverse]) {
		if (!debug && !f->has_symtab)
			ph_elf_find_debug(f, opt->debug_dirs, &debug);
		if (debug) {
			struct ph_symbol_query q = {.name = ph_symbol_names[SYM_subtype_traverse]};
			ph_elf_lookup_symbols(debug, &q, 1);
			if (q.value)
				py->sym[SYM_subtype_traverse] = q.value + py->bias;
		}
	}
	err = check_layout(py);
out:
	ph_mem_destroy(mem);
	ph_process_source_destroy(&src);
	ph_elf_close(debug);
	ph_elf_close(f);
	ph_maps_deinit(&maps);
	if (err) {
		ph_python_close(py);
		return err;
	}
	*ret = py;
	return NULL;
}
