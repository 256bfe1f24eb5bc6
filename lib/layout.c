/* SPDX-License-Identifier: MIT */
#include "layout.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const struct ph_layout_field ph_layout_fields[] = {
#define X(id, type, path) {#id, type, path, offsetof(struct ph_layout, id)},
#include "layout_fields.h"
#undef X
};
const size_t ph_layout_nfields = sizeof(ph_layout_fields) / sizeof(ph_layout_fields[0]);

enum { LAYOUT_FORMAT_VERSION = 1 };

void ph_layout_init(struct ph_layout *l)
{
	for (size_t i = 0; i < ph_layout_nfields; i++)
		*ph_layout_slot(l, i) = -1;
}

/* ---- DWARF ---- */

struct wanted_type {
	const char *name;   // typedef or struct tag name asked for
	char *alias;        // a typedef to an incomplete struct: its tag name
	Dwarf_Die die;      // the complete struct, when found
	bool found;
};

static bool strip_die(Dwarf_Die *die)
{
	for (int i = 0; i < 16; i++) {
		int tag = dwarf_tag(die);
		if (tag != DW_TAG_typedef && tag != DW_TAG_const_type && tag != DW_TAG_volatile_type &&
		    tag != DW_TAG_restrict_type && tag != DW_TAG_atomic_type)
			return true;
		Dwarf_Attribute attr;
		if (!dwarf_attr_integrate(die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, die))
			return false;
	}
	return false;
}

static bool is_complete_aggregate(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	if (tag != DW_TAG_structure_type && tag != DW_TAG_union_type)
		return false;
	return !dwarf_hasattr(die, DW_AT_declaration);
}

static struct wanted_type *find_wanted(struct wanted_type *w, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(w[i].name, name))
			return &w[i];
	}
	return NULL;
}

static bool all_found(struct wanted_type *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!w[i].found)
			return false;
	return true;
}

// Looks for member @name (length @len) in the aggregate @type, searching
// through anonymous struct/union members. On success *off is its offset and
// *mtype its (unstripped) type.
static bool find_member(Dwarf_Die *type, const char *name, size_t len, int64_t *off,
			Dwarf_Die *mtype, int depth)
{
	Dwarf_Die child;
	if (depth > 8 || dwarf_child(type, &child) != 0)
		return false;
	do {
		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		int64_t moff = 0;
		Dwarf_Attribute attr;
		Dwarf_Word w;
		if (dwarf_attr(&child, DW_AT_data_member_location, &attr) &&
		    dwarf_formudata(&attr, &w) == 0)
			moff = (int64_t)w;
		const char *n = dwarf_diename(&child);
		Dwarf_Die t;
		if (!dwarf_attr_integrate(&child, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &t))
			continue;
		if (n && strlen(n) == len && !memcmp(n, name, len)) {
			*off = moff;
			*mtype = t;
			return true;
		}
		if (!n) {
			Dwarf_Die s = t;
			if (strip_die(&s) && is_complete_aggregate(&s)) {
				int64_t inner;
				if (find_member(&s, name, len, &inner, mtype, depth + 1)) {
					*off = moff + inner;
					return true;
				}
			}
		}
	} while (dwarf_siblingof(&child, &child) == 0);
	return false;
}

// Resolves "a.b.c" (one alternative, length @len) inside @type.
static bool resolve_path(Dwarf_Die *type, const char *path, size_t len, int64_t *ret)
{
	Dwarf_Die cur = *type;
	int64_t total = 0;
	const char *p = path, *end = path + len;
	while (p < end) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t seg = dot ? (size_t)(dot - p) : (size_t)(end - p);
		int64_t off;
		Dwarf_Die mtype;
		if (!find_member(&cur, p, seg, &off, &mtype, 0))
			return false;
		total += off;
		p += seg + (dot ? 1 : 0);
		if (p < end) {
			if (!strip_die(&mtype) || !is_complete_aggregate(&mtype))
				return false;
			cur = mtype;
		}
	}
	*ret = total;
	return true;
}

struct ph_error *ph_layout_from_dwarf(struct ph_elf *f, struct ph_layout *ret)
{
	// Collect the distinct type names the field list asks for.
	struct wanted_type wanted[256];
	size_t nwanted = 0;
	for (size_t i = 0; i < ph_layout_nfields; i++) {
		if (!find_wanted(wanted, nwanted, ph_layout_fields[i].type)) {
			if (nwanted == sizeof(wanted) / sizeof(wanted[0]))
				return ph_error_create(PH_ERR_OTHER, "layout: too many types");
			wanted[nwanted++] = (struct wanted_type){.name = ph_layout_fields[i].type};
		}
	}
	size_t nasked = nwanted;

	Dwarf *dw = dwarf_begin_elf(f->elf, DWARF_C_READ, NULL);
	if (!dw)
		return ph_error_create(PH_ERR_NO_DEBUG_INFO, "read DWARF %s: %s", f->path,
				       dwarf_errmsg(-1));
	Dwarf_Off off = 0, next;
	size_t hsize;
	while (!all_found(wanted, nwanted) &&
	       dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, die;
		if (!dwarf_offdie(dw, off + hsize, &cu) || dwarf_child(&cu, &die) != 0) {
			off = next;
			continue;
		}
		off = next;
		do {
			int tag = dwarf_tag(&die);
			if (tag != DW_TAG_typedef && tag != DW_TAG_structure_type &&
			    tag != DW_TAG_union_type)
				continue;
			const char *name = dwarf_diename(&die);
			if (!name)
				continue;
			struct wanted_type *w = find_wanted(wanted, nwanted, name);
			if (!w || w->found)
				continue;
			Dwarf_Die t = die;
			if (!strip_die(&t))
				continue;
			if (is_complete_aggregate(&t)) {
				w->die = t;
				w->found = true;
			} else if (tag == DW_TAG_typedef && !w->alias) {
				// typedef struct _is PyInterpreterState: find "_is" elsewhere.
				const char *tagname = dwarf_diename(&t);
				if (tagname && nwanted < sizeof(wanted) / sizeof(wanted[0])) {
					w->alias = strdup(tagname);
					if (!find_wanted(wanted, nwanted, tagname))
						wanted[nwanted++] = (struct wanted_type){.name = w->alias};
				}
			}
		} while (dwarf_siblingof(&die, &die) == 0);
		// Aliases resolved by now count as found.
		for (size_t i = 0; i < nasked; i++) {
			if (!wanted[i].found && wanted[i].alias) {
				struct wanted_type *a = find_wanted(wanted, nwanted, wanted[i].alias);
				if (a && a->found) {
					wanted[i].die = a->die;
					wanted[i].found = true;
				}
			}
		}
		// Stop early when only types absent from this version remain: we
		// cannot know that, so the loop ends at the last CU otherwise.
	}

	struct ph_layout l;
	ph_layout_init(&l);
	for (size_t i = 0; i < ph_layout_nfields; i++) {
		const struct ph_layout_field *fd = &ph_layout_fields[i];
		struct wanted_type *w = find_wanted(wanted, nasked, fd->type);
		if (!w || !w->found)
			continue;
		int64_t v = -1;
		if (!*fd->path) {
			Dwarf_Word sz;
			Dwarf_Attribute a;
			if (dwarf_attr(&w->die, DW_AT_byte_size, &a) && dwarf_formudata(&a, &sz) == 0)
				v = (int64_t)sz;
		} else {
			const char *p = fd->path;
			while (*p) {
				const char *bar = strchr(p, '|');
				size_t len = bar ? (size_t)(bar - p) : strlen(p);
				if (resolve_path(&w->die, p, len, &v))
					break;
				v = -1;
				p += len + (bar ? 1 : 0);
			}
		}
		if (v >= 0 && v < INT32_MAX)
			*ph_layout_slot(&l, i) = (int32_t)v;
	}
	for (size_t i = 0; i < nwanted; i++)
		free(wanted[i].alias);
	dwarf_end(dw);
	if (l.tp_flags < 0 || l.ob_type < 0)
		return ph_error_create(PH_ERR_NO_DEBUG_INFO,
				       "read DWARF %s: no CPython type information found", f->path);
	*ret = l;
	return NULL;
}

/* ---- text form and cache ---- */

void ph_layout_write(const struct ph_layout *l, FILE *out, const char *comment)
{
	fprintf(out, "# pyheap layout %d\n", LAYOUT_FORMAT_VERSION);
	if (comment)
		fprintf(out, "# %s\n", comment);
	for (size_t i = 0; i < ph_layout_nfields; i++) {
		int32_t v = *ph_layout_slot((struct ph_layout *)l, i);
		fprintf(out, "%s %" PRId32 "\n", ph_layout_fields[i].id, v);
	}
}

struct ph_error *ph_layout_read(FILE *in, const char *name, struct ph_layout *ret)
{
	struct ph_layout l;
	ph_layout_init(&l);
	char line[256];
	int lineno = 0;
	bool header = false;
	size_t expect = 0; // ph_layout_write() writes the fields in table order
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		if (line[0] == '#') {
			int v;
			if (sscanf(line, "# pyheap layout %d", &v) == 1) {
				if (v != LAYOUT_FORMAT_VERSION)
					return ph_error_create(PH_ERR_BAD_DATA,
							       "read layout %s: format %d, expected %d",
							       name, v, LAYOUT_FORMAT_VERSION);
				header = true;
			}
			continue;
		}
		char id[128];
		long v;
		if (sscanf(line, "%127s %ld", id, &v) != 2)
			continue;
		size_t i = expect;
		if (i >= ph_layout_nfields || strcmp(ph_layout_fields[i].id, id))
			for (i = 0; i < ph_layout_nfields; i++)
				if (!strcmp(ph_layout_fields[i].id, id))
					break;
		expect = i + 1;
		if (i == ph_layout_nfields)
			return ph_error_create(PH_ERR_BAD_DATA, "read layout %s:%d: unknown field '%s'",
					       name, lineno, id);
		if (v < -1 || v > 1 << 24)
			return ph_error_create(PH_ERR_BAD_DATA, "read layout %s:%d: bad value %ld",
					       name, lineno, v);
		*ph_layout_slot(&l, i) = (int32_t)v;
	}
	if (!header)
		return ph_error_create(PH_ERR_BAD_DATA, "read layout %s: no header", name);
	*ret = l;
	return NULL;
}

static bool cache_path(const char *build_id_hex, char *buf, size_t cap, bool create)
{
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	char dir[4096];
	if (xdg && *xdg)
		snprintf(dir, sizeof(dir), "%s/pyheap", xdg);
	else if (home && *home)
		snprintf(dir, sizeof(dir), "%s/.cache/pyheap", home);
	else
		return false;
	if (create) {
		char parent[4096];
		snprintf(parent, sizeof(parent), "%s", dir);
		char *slash = strrchr(parent, '/');
		if (slash) {
			*slash = '\0';
			mkdir(parent, 0755);
		}
		mkdir(dir, 0755);
	}
	// The field list is part of the key: a tool with more fields must not
	// read an older entry that lacks them.
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < ph_layout_nfields; i++) {
		const char *parts[3] = {ph_layout_fields[i].id, ph_layout_fields[i].type,
					ph_layout_fields[i].path};
		for (int j = 0; j < 3; j++)
			for (const char *c = parts[j]; *c; c++)
				h = (h ^ (uint8_t)*c) * 16777619u;
	}
	snprintf(buf, cap, "%s/%s-%08x.layout", dir, build_id_hex, h);
	return true;
}

bool ph_layout_cache_load(const char *build_id_hex, struct ph_layout *ret)
{
	char path[4200];
	if (!*build_id_hex || !cache_path(build_id_hex, path, sizeof(path), false))
		return false;
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	struct ph_error *err = ph_layout_read(f, path, ret);
	fclose(f);
	if (err) {
		ph_error_destroy(err);
		return false;
	}
	return true;
}

void ph_layout_cache_store(const char *build_id_hex, const struct ph_layout *l)
{
	char path[4200], tmp[4300];
	if (!*build_id_hex || !cache_path(build_id_hex, path, sizeof(path), true))
		return;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	FILE *f = fopen(tmp, "we");
	if (!f)
		return;
	ph_layout_write(l, f, "extracted from DWARF; cache entry keyed by build-id");
	if (fclose(f) == 0)
		rename(tmp, path);
	else
		unlink(tmp);
}
