/* SPDX-License-Identifier: MIT */
/**
 * @file dupstr.h
 * Duplicate strs (Eclipse MAT's "duplicate strings"): strs of equal value
 * held in many copies, each copy but one memory that sys.intern() or a dict
 * of the values seen would save; and bytes likewise. Compares the strs by
 * the text the snapshot keeps (up to 200 characters), the longer ones (and
 * those whose text is not whole) and the bytes by the hashes of their values
 * when the snapshot has them (value_hashes_known). Works on the snapshot only.
 */
#ifndef PH_DUPSTR_H
#define PH_DUPSTR_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "snapshot.h"

/** One value held in several copies. */
struct ph_dup_value {
	uint32_t first;  /**< one of its copies (an object index) */
	uint32_t hashed; /**< 0: compared by its text (first's); else by the hash
			      value_hashes[hashed - 1] (first's) */
	uint64_t count;  /**< copies */
	uint64_t size;   /**< one copy's size */
	uint64_t extra;  /**< (count - 1) * size: what one copy each would save */
};

struct ph_dup_strs {
	uint64_t strs;         /**< strs compared: by their whole text or by hash */
	uint64_t hashed_strs;  /**< of them, by hash (longer, or a text not whole) */
	uint64_t other_strs;   /**< strs not compared (a snapshot without hashes:
				    longer, or a text that is not whole) */
	uint64_t bytes;        /**< bytes compared (by hash) */
	bool hashes_known;     /**< the snapshot has the hashes (else only short strs) */
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

/** Whether @p v is a bytes value (else a str). */
bool ph_dup_value_is_bytes(const struct ph_snapshot *snap, const struct ph_dup_value *v);

/** @p v as repr() shows it, up to @p max characters ('…' after a value cut
 * short; b'…' for a bytes), or NULL (out of memory); free() it. */
char *ph_dup_value_repr(const struct ph_snapshot *snap, const struct ph_dup_value *v, size_t max);

#endif
