/* SPDX-License-Identifier: MIT */
/**
 * @file nameindex.h
 * An index from names (kinds, paths) to the rows of a caller's table, by
 * open addressing. The rows and their names belong to the caller, who tells
 * the index how to read row i's name.
 */
#ifndef PH_NAMEINDEX_H
#define PH_NAMEINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef const char *(*ph_name_of)(const void *rows, size_t i);

struct ph_name_index {
	uint32_t *slots; /**< row + 1, 0 = empty */
	size_t nslots;   /**< a power of two, or 0 */
	size_t n;        /**< rows indexed */
};

/** The row named @p name, or SIZE_MAX. */
size_t ph_name_index_find(const struct ph_name_index *ix, const char *name, const void *rows,
			  ph_name_of name_of);

/** Indexes row @p row (its name must not be indexed yet); false on out of memory. */
bool ph_name_index_add(struct ph_name_index *ix, size_t row, const void *rows, ph_name_of name_of);

void ph_name_index_deinit(struct ph_name_index *ix);

#endif
