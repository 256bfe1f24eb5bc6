/* SPDX-License-Identifier: MIT */
/**
 * @file dupstr.h
 * Duplicate strs (Eclipse MAT's "duplicate strings"): strs of equal value
 * held in many copies, each copy but one memory that sys.intern() or a dict
 * of the values seen would save. On the strs whose text the snapshot keeps
 * (up to 200 characters). Works on the snapshot only.
 */
#ifndef PH_DUPSTR_H
#define PH_DUPSTR_H

#include <stdint.h>

#include "error.h"
#include "snapshot.h"

/** One value held in several copies. */
struct ph_dup_value {
	uint32_t first;  /**< one of its strs (an object index): its text */
	uint64_t count;  /**< copies */
	uint64_t size;   /**< one copy's size */
	uint64_t extra;  /**< (count - 1) * size: what one copy each would save */
};

struct ph_dup_strs {
	uint64_t strs;         /**< strs with their whole text (the ones compared) */
	uint64_t other_strs;   /**< strs without: longer, or a text that is not whole */
	uint64_t distinct;     /**< distinct values among the compared */
	uint64_t dup_values;   /**< values with two copies or more */
	uint64_t extra_copies; /**< copies beyond the first of each value */
	uint64_t extra_bytes;  /**< their sizes */
	struct ph_dup_value *top; /**< the values with most extra bytes, descending */
	size_t ntop;
	uint64_t ascii_base;   /**< size - length of a whole ASCII str (0: none seen) */
};

/** The duplicate strs of @p snap, the @p ntop values with most extra bytes. */
struct ph_error *ph_dup_strs_compute(const struct ph_snapshot *snap, size_t ntop,
				     struct ph_dup_strs *ret);
void ph_dup_strs_deinit(struct ph_dup_strs *d);

/** Sets @p mask[i] (a byte per object) for each copy of @p v (a value of @p d),
 * clears the others. */
void ph_dup_strs_mark(const struct ph_snapshot *snap, const struct ph_dup_strs *d,
		      const struct ph_dup_value *v, uint8_t *mask);

#endif
