/* SPDX-License-Identifier: MIT */
/**
 * @file snapfile.h
 * Snapshot files: a compact, versioned binary form of a struct ph_snapshot
 * (everything the analyses and reports read), so that a heap read on one
 * machine can be analysed later, elsewhere, or compared with another.
 *
 * The format (README.md, "Snapshot files"): a 24-byte header (magic
 * "\x89PYHEAP\n", version, flags, payload length), sections of LEB128
 * varints with zigzag deltas (tag, length, body), and a CRC-32 of all that
 * precedes it. Reading trusts nothing: every count is capped by the bytes
 * that could hold it, every index is checked against its table, and a file
 * that fails a check is refused with "read snapshot FILE: what at offset N".
 */
#ifndef PH_SNAPFILE_H
#define PH_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "snapshot.h"

#define PH_SNAPFILE_VERSION 1

/** Encodes @p snap into a new malloc'ed buffer (*@p ret, *@p len bytes). */
struct ph_error *ph_snapfile_encode(const struct ph_snapshot *snap, uint8_t **ret, size_t *len);

/**
 * Decodes and validates a snapshot file held in memory. @p name names the
 * file in messages. Errors are PH_ERR_BAD_DATA (the file is not a valid
 * snapshot) or out of memory.
 */
struct ph_error *ph_snapfile_decode(const uint8_t *buf, size_t len, const char *name,
				    struct ph_snapshot **ret);

/**
 * Writes @p snap to @p path: to a temporary file beside it, then renamed,
 * so that a reader never sees half a file (a path that exists and is not a
 * regular file, such as /dev/stdout, is written in place).
 */
struct ph_error *ph_snapfile_write(const struct ph_snapshot *snap, const char *path);

/** Reads and validates the snapshot file @p path. */
struct ph_error *ph_snapfile_read(const char *path, struct ph_snapshot **ret);

/** CRC-32 (IEEE 802.3, reflected, as zlib's crc32()): pass 0 to start. */
uint32_t ph_crc32(uint32_t crc, const void *buf, size_t len);

#endif
