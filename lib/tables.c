/* SPDX-License-Identifier: MIT */
#include "tables.h"

#include <stdio.h>
#include <string.h>

const struct ph_table *ph_table_for_version(uint32_t hexversion)
{
	for (size_t i = 0; i < ph_ntables; i++) {
		if (hexversion >= ph_tables[i].min_hexversion &&
		    hexversion <= ph_tables[i].max_hexversion)
			return &ph_tables[i];
	}
	return NULL;
}

const struct ph_table *ph_table_by_name(const char *name, uint32_t hexversion)
{
	unsigned major, minor, micro;
	char end;
	int n = sscanf(name, "%u.%u.%u%c", &major, &minor, &micro, &end);
	if (n == 3)
		return ph_table_for_version(major << 24 | minor << 16 | micro << 8);
	if (sscanf(name, "%u.%u%c", &major, &minor, &end) != 2 || major > 255 || minor > 255)
		return NULL;
	uint32_t lo = major << 24 | minor << 16, hi = lo | 0xffff;
	if (hexversion >= lo && hexversion <= hi) {
		const struct ph_table *t = ph_table_for_version(hexversion);
		if (t)
			return t;
	}
	for (size_t i = 0; i < ph_ntables; i++) {
		if (ph_tables[i].max_hexversion >= lo && ph_tables[i].min_hexversion <= hi)
			return &ph_tables[i];
	}
	return NULL;
}

void ph_tables_list(char *buf, size_t cap)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ph_ntables && len < cap; i++) {
		int r = snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", ph_tables[i].name);
		if (r < 0)
			break;
		len += (size_t)r;
	}
}
