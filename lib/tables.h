/* SPDX-License-Identifier: MIT */
/**
 * @file tables.h
 * The per-version layout tables compiled in from the symbols/ files (by
 * symbols/tables_to_c.py at build time): the layout source of last resort for
 * interpreters without debug info. Each table applies to a range of
 * PY_VERSION_HEX values; ranges do not overlap.
 */
#ifndef PH_TABLES_H
#define PH_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

struct ph_table {
	const char *name;         /**< "3.11", "3.14.5": what --layout accepts */
	uint32_t min_hexversion;  /**< first PY_VERSION_HEX it applies to */
	uint32_t max_hexversion;  /**< last one (inclusive) */
	const char *versions;     /**< the range in words: "3.11.0 - 3.11.*" */
	const char *interpreter;  /**< the build the values came from */
	const char *file;         /**< "cpython-3.11.layout" */
	bool tested_live;         /**< false for tables no live test has run */
	struct ph_layout layout;
};

extern const struct ph_table ph_tables[];
extern const size_t ph_ntables;

/** The table whose range holds @p hexversion, or NULL. */
const struct ph_table *ph_table_for_version(uint32_t hexversion);

/**
 * The table named by --layout: "X.Y" or "X.Y.Z". "X.Y" picks, among the tables
 * of that minor version, the one holding @p hexversion when the target is of
 * that minor version, else the first; "X.Y.Z" the one holding that version.
 * NULL when none matches.
 */
const struct ph_table *ph_table_by_name(const char *name, uint32_t hexversion);

/** The names of all tables, in words ("3.8, 3.9, ..., 3.14.5"), into @p buf. */
void ph_tables_list(char *buf, size_t cap);

#endif
