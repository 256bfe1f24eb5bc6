/* SPDX-License-Identifier: MIT */
/**
 * @file layout.h
 * One validated layout struct: the offsets and sizes of the CPython structs
 * the tool reads, whatever their source (DWARF, a cache file, or later the
 * per-version tables in symbols/ and _Py_DebugOffsets). -1 means "absent".
 */
#ifndef PH_LAYOUT_H
#define PH_LAYOUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "elffile.h"
#include "error.h"

struct ph_layout {
#define X(id, type, path) int32_t id;
#include "layout_fields.h"
#undef X
};

struct ph_layout_field {
	const char *id;
	const char *type;
	const char *path;
	size_t offset; /**< offsetof(struct ph_layout, id) */
};

extern const struct ph_layout_field ph_layout_fields[];
extern const size_t ph_layout_nfields;

static inline int32_t *ph_layout_slot(struct ph_layout *l, size_t i)
{
	return (int32_t *)((char *)l + ph_layout_fields[i].offset);
}

/** Sets every field to -1. */
void ph_layout_init(struct ph_layout *l);

/** Extracts the layout from the DWARF of @p f (which must have debug info). */
struct ph_error *ph_layout_from_dwarf(struct ph_elf *f, struct ph_layout *ret);

/** Writes the layout as text ("id value" lines, with a header comment). */
void ph_layout_write(const struct ph_layout *l, FILE *out, const char *comment);

/** Reads what ph_layout_write() wrote. Unknown ids are an error. */
struct ph_error *ph_layout_read(FILE *in, const char *name, struct ph_layout *ret);

/**
 * The per-build-id cache: $XDG_CACHE_HOME/pyheap (else ~/.cache/pyheap),
 * one file per build-id. Load returns false when there is no usable entry.
 */
bool ph_layout_cache_load(const char *build_id_hex, struct ph_layout *ret);
void ph_layout_cache_store(const char *build_id_hex, const struct ph_layout *l);

#endif
