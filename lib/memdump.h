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
 *   max-objects N                 (the walk's bound, 0 for the default)
 *   sym NAME 0xADDRESS            (one line per symbol found)
 *   handlers-size N               (st_size of the signal Handlers array, if found)
 *   libc-main-arena 0xADDR N S    (glibc's main_arena, its st_size, safe linking 0/1)
 *   libc-mp 0xADDR N              (glibc's mp_, its st_size)
 *   field ID VALUE                (one line per layout field)
 *   blocks N
 * then N records in address order: u64 address, u32 length, length bytes.
 * The parser puts the records back into zeroed whole pages, the unit in which
 * the source read them: with tracking (ph_mem_track_reads()) a record is a
 * run of 64-byte lines the walk read, and lines it did not read are zeros.
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

/**
 * Writes @p py, the blocks cached in @p mem and the result @p snap (may be
 * NULL). With ph_mem_track_reads() on @p mem before the walk, only the pages
 * the walk used are written, and in them the 64-byte lines it did not read
 * are zeros: the replay still reads exactly the same bytes.
 */
struct ph_error *ph_memdump_write(const struct ph_python *py, const struct ph_mem *mem,
				  const struct ph_snapshot *snap, uint64_t max_objects, FILE *out);

/** Where a record's bytes are in the parsed buffer (for mutating them). */
struct ph_memdump_record {
	uint64_t address;
	size_t offset;
	uint32_t len;
};

struct ph_memdump {
	struct ph_python *py;                /**< owned; ph_python_close() frees it */
	struct ph_memdump_record *records;
	size_t nrecords;
	uint8_t *memory;                     /**< the records in zeroed whole pages */
	struct ph_buffer_segment *segments;  /**< runs of pages in memory */
	struct ph_buffer_source source;      /**< over segments, for ph_mem_create() */
	size_t header_size;                  /**< bytes before the first block record */
	uint64_t objects, size, unreadable;  /**< the recorded result */
	int truncated;
	uint64_t max_objects;                /**< the recorded walk's bound */
};

/**
 * Parses a dump held in @p data into a copy of the recorded memory (records
 * refer to @p data by offset). Any malformed input is an error, never a crash;
 * at most 256 MiB of memory.
 */
struct ph_error *ph_memdump_parse(const uint8_t *data, size_t size, struct ph_memdump *ret);
void ph_memdump_deinit(struct ph_memdump *d);

#endif
