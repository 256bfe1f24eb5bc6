/* SPDX-License-Identifier: MIT */
/** @file bytes.h Loads of little-endian words from a byte buffer read from
 * a target (x86-64: the host's order), at any alignment; and an order of
 * such words (addresses) for qsort() and bsearch(). */
#ifndef PH_BYTES_H
#define PH_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint64_t ph_load_u64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t ph_load_u32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/** qsort()/bsearch() order of uint64_t values, ascending. */
static inline int ph_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

#endif
