/* SPDX-License-Identifier: MIT */
/**
 * @file sites.h
 * The objects by where they were allocated (tracemalloc's tracebacks of the
 * snapshot, when the target was tracing): tracemalloc's statistics by
 * 'lineno', on the live objects. Works on the snapshot only.
 */
#ifndef PH_SITES_H
#define PH_SITES_H

#include <stdint.h>

#include "error.h"
#include "partition.h"
#include "snapshot.h"

/** The objects allocated at one line (the most recent frame of their
 * tracebacks). */
struct ph_site_row {
	uint32_t file, lineno;    /**< index into the snapshot's site_files; line */
	uint64_t count, size;
	uint32_t site;            /**< its traceback with most bytes (a site index) */
	struct ph_partition kinds; /**< by kind (the first PH_SITE_KIND_ROWS rows) */
};

enum { PH_SITE_KIND_ROWS = 20 };

struct ph_sites {
	struct ph_site_row *rows; /**< by size, then count, descending */
	size_t nrows;
	uint64_t objects, size;               /**< the objects looked at */
	uint64_t traced_objects, traced_size; /**< those tracemalloc traced */
};

/**
 * The objects of @p snap (those whose @p mask byte is set; NULL: all) by the
 * line that allocated them. Fails (PH_ERR_NO_DEBUG_INFO) when the snapshot
 * has no tracebacks, with a message that says why.
 */
struct ph_error *ph_sites_compute(const struct ph_snapshot *snap, const uint8_t *mask,
				  struct ph_sites *ret);
void ph_sites_deinit(struct ph_sites *s);

#endif
