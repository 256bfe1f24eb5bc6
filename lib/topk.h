/* SPDX-License-Identifier: MIT */
/**
 * @file topk.h
 * The k largest of a stream of items, kept sorted as they come (k small:
 * a few rows of a report).
 */
#ifndef PH_TOPK_H
#define PH_TOPK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/**
 * Offers @p item of key @p key to @p top and @p keys (@p *n of @p cap used,
 * by key, descending): it takes its place if it is among the @p cap largest
 * so far, after the items of the same key offered before it.
 */
static inline void ph_topk_offer(uint32_t *top, uint64_t *keys, size_t *n, size_t cap,
				 uint32_t item, uint64_t key)
{
	size_t at = *n;
	while (at > 0 && keys[at - 1] < key)
		at--;
	if (at == cap)
		return;
	if (*n < cap)
		(*n)++;
	memmove(&top[at + 1], &top[at], (*n - 1 - at) * sizeof(*top));
	memmove(&keys[at + 1], &keys[at], (*n - 1 - at) * sizeof(*keys));
	top[at] = item;
	keys[at] = key;
}

#endif
