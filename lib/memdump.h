/* SPDX-License-Identifier: MIT */
/**
 * @file memdump.h
 * A replayable record of one heap walk: what struct ph_python knows about the
 * interpreter (version, symbol addresses, layout) and every block of target
 * memory the walk read, plus the walk's result. `pyheap-attach --dump-memory
 * FILE` (hidden) writes it after the target is resumed; the fuzzer and the
 * replay test (tests/fuzz/) parse it into a ph_buffer_source and run
 * ph_python_walk() over it, which reads exactly the same bytes again.
 *
 * Format (x86-64, little-endian): a text header, then the blocks.
 *   pyheap-memdump 1
 *   version MAJOR MINOR MICRO HEXVERSION STRING
 *   path PATH
 *   layout-source TEXT
 *   result OBJECTS SIZE UNREADABLE TRUNCATED
 *   sym NAME 0xADDRESS            (one line per symbol found)
 *   field ID VALUE                (one line per layout field)
 *   blocks N
 * then N times: u64 address, u32 length, length bytes.
 * Unknown symbol and field names are ignored when parsing, so that a dump
 * stays usable when the layout gains or loses fields.
 */
#ifndef PH_MEMDUMP_H
#define PH_MEMDUMP_H

#include <stdint.h>
#include <stdio.h>

#include "cpython.h"
#include "error.h"
#include "mem.h"
#include "snapshot.h"

/** Writes @p py, the blocks cached in @p mem and the result @p snap (may be NULL). */
struct ph_error *ph_memdump_write(const struct ph_python *py, const struct ph_mem *mem,
				  const struct ph_snapshot *snap, FILE *out);

struct ph_memdump {
	struct ph_python *py;                /**< owned; ph_python_close() frees it */
	struct ph_buffer_segment *segments;  /**< data points into the parsed buffer */
	struct ph_buffer_source source;      /**< over segments, for ph_mem_create() */
	size_t header_size;                  /**< bytes before the first block record */
	uint64_t objects, size, unreadable;  /**< the recorded result */
	int truncated;
};

/**
 * Parses a dump held in @p data (which must outlive @p ret: segments point
 * into it). Any malformed input is an error, never a crash.
 */
struct ph_error *ph_memdump_parse(const uint8_t *data, size_t size, struct ph_memdump *ret);
void ph_memdump_deinit(struct ph_memdump *d);

#endif
