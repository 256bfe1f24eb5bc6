/* SPDX-License-Identifier: MIT */
#include "nameindex.h"

#include <stdlib.h>
#include <string.h>

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; // FNV-1a
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

size_t ph_name_index_find(const struct ph_name_index *ix, const char *name, const void *rows,
			  ph_name_of name_of)
{
	if (!ix->nslots)
		return SIZE_MAX;
	size_t mask = ix->nslots - 1;
	for (size_t j = name_hash(name) & mask; ix->slots[j]; j = (j + 1) & mask)
		if (!strcmp(name_of(rows, ix->slots[j] - 1), name))
			return ix->slots[j] - 1;
	return SIZE_MAX;
}

static void put(uint32_t *slots, size_t nslots, const char *name, size_t row)
{
	size_t j = name_hash(name) & (nslots - 1);
	while (slots[j])
		j = (j + 1) & (nslots - 1);
	slots[j] = (uint32_t)row + 1;
}

bool ph_name_index_add(struct ph_name_index *ix, size_t row, const void *rows, ph_name_of name_of)
{
	if (row >= UINT32_MAX)
		return false;
	if ((ix->n + 1) * 2 > ix->nslots) {
		size_t ns = ix->nslots ? ix->nslots * 2 : 64;
		uint32_t *sl = calloc(ns, sizeof(*sl));
		if (!sl)
			return false;
		for (size_t i = 0; i < ix->nslots; i++)
			if (ix->slots[i])
				put(sl, ns, name_of(rows, ix->slots[i] - 1), ix->slots[i] - 1);
		free(ix->slots);
		ix->slots = sl;
		ix->nslots = ns;
	}
	put(ix->slots, ix->nslots, name_of(rows, row), row);
	ix->n++;
	return true;
}

void ph_name_index_deinit(struct ph_name_index *ix)
{
	free(ix->slots);
	ix->slots = NULL;
	ix->nslots = ix->n = 0;
}
