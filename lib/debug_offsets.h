/* SPDX-License-Identifier: MIT */
/**
 * @file debug_offsets.h
 * _Py_DebugOffsets (CPython 3.13+): the table of struct sizes and member
 * offsets CPython keeps at the start of _PyRuntime for out-of-process tools
 * (cookie "xdebugpy"). It is read from the target, so it is untrusted input:
 * the parser checks the cookie, the version, that every member lies inside
 * the struct it describes and that no struct is absurdly large, and refuses
 * the whole table otherwise. It covers only part of what the walker needs
 * (no GC list layout, no dict keys, no type slots beyond tp_name/tp_flags), so
 * it is used to select and check a built-in table and to fill the fields it
 * covers.
 */
#ifndef PH_DEBUG_OFFSETS_H
#define PH_DEBUG_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "layout.h"

/** Bytes to read at _PyRuntime: more than the largest known table (3.14: 760 bytes). */
enum { PH_DEBUG_OFFSETS_READ = 1024 };

struct ph_debug_offsets {
	uint64_t version;       /**< PY_VERSION_HEX of the build */
	bool free_threaded;
	/** The fields it covers, in layout terms; every other field is -1. */
	struct ph_layout layout;
	size_t ncovered;        /**< fields of @ref layout that are set */
	/** Sizes it gives that the layout has no field for (0 when absent). */
	uint64_t runtime_size, interp_size, tstate_size, pyobject_size, tuple_size, list_size,
		dict_size, set_size, long_size, bytes_size;
};

/**
 * Parses and validates the table in @p buf (@p len bytes read at the start of
 * _PyRuntime). Fails with PH_ERR_BAD_DATA and a message naming the first
 * check that failed; with PH_ERR_UNSUPPORTED for a free-threaded build or a
 * version whose table format is unknown (only 3.13 and 3.14 are known).
 */
struct ph_error *ph_debug_offsets_parse(const void *buf, size_t len,
					struct ph_debug_offsets *ret);

/**
 * Copies every covered field into @p l. Returns how many differed from the
 * value @p l had; the first differing field id goes to *@p first_diff.
 */
size_t ph_debug_offsets_apply(const struct ph_debug_offsets *d, struct ph_layout *l,
			      const char **first_diff);

/**
 * Whether the struct sizes of @p d agree with @p l (the fingerprints that
 * tell tables apart, e.g. gc size 240 in 3.14.0-3.14.4 and 264 in 3.14.5+).
 * On a mismatch *@p why says which ("gc size 264, table 240").
 */
bool ph_debug_offsets_match(const struct ph_debug_offsets *d, const struct ph_layout *l,
			    char *why, size_t cap);

#endif
