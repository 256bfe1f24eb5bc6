/* SPDX-License-Identifier: MIT */
/* The block cache over a byte-buffer source: reads within and across blocks,
 * holes, strings, statistics. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "mem.h"

int main(void)
{
	// Two segments with a hole between them, the second crossing a 64 KiB
	// block boundary.
	static uint8_t a[8192], b[70000];
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)(i * 7);
	memcpy(b + 65530, "hello\0", 6);
	struct ph_buffer_segment segs[] = {
		{0x100000, a, sizeof(a)},
		{0x10f000, b, sizeof(b)}, /* crosses 0x110000 */
	};
	struct ph_buffer_source bs = {segs, 2};
	struct ph_mem_source src = {ph_buffer_source_read, &bs};
	struct ph_mem *mem;
	CHECK(ph_mem_create(&src, &mem) == NULL);

	uint64_t v;
	CHECK(ph_mem_u64(mem, 0x100008, &v));
	uint64_t want;
	memcpy(&want, a + 8, 8);
	CHECK(v == want);

	// A read across the block boundary inside the second segment.
	uint8_t buf[64];
	CHECK(ph_mem_read(mem, 0x10fff0 + 0x10 - 32, buf, 64));
	CHECK(!memcmp(buf, b + 0x1000 - 32, 64));

	// The hole between the segments, and a read that starts in the first
	// segment and runs into the hole.
	CHECK(!ph_mem_read(mem, 0x103000, buf, 8));
	CHECK(!ph_mem_read(mem, 0x100000 + sizeof(a) - 4, buf, 8));
	// Far away, and wrapping around the address space.
	CHECK(!ph_mem_read(mem, 0xdead0000000, buf, 8));
	CHECK(!ph_mem_read(mem, UINT64_MAX - 3, buf, 8));

	char s[32];
	CHECK(ph_mem_string(mem, 0x10f000 + 65530, s, sizeof(s)));
	CHECK(!strcmp(s, "hello"));
	// Not terminated within the capacity.
	memset(b + 100, 'x', 200);
	ph_mem_reset(mem);
	CHECK(!ph_mem_string(mem, 0x10f000 + 100, s, sizeof(s)));

	struct ph_mem_stats st;
	ph_mem_get_stats(mem, &st);
	CHECK(st.faults >= 4);
	CHECK(st.blocks >= 1);
	CHECK(!ph_mem_target_gone(mem));
	ph_mem_destroy(mem);
	ph_mem_destroy(NULL);
	return CHECK_DONE();
}
