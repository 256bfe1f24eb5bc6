/* SPDX-License-Identifier: MIT */
/** @file bytes.h Loads of little-endian words from a byte buffer read from
 * a target (x86-64: the host's order), at any alignment; and an order of
 * such words (addresses) for qsort() and bsearch(). */
#ifndef PH_BYTES_H
#define PH_BYTES_H

#include <stdbool.h>
#include <stddef.h>
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

/** Whether @p x is among the @p n values of @p v, sorted ascending. */
static inline bool ph_sorted_u64_has(const uint64_t *v, size_t n, uint64_t x)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo] == x;
}

#endif
