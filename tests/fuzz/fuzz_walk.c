/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the heap walk over hostile memory. Inputs are recorded
 * walks (pyheap-attach --dump-memory, see tests/fuzz/README.md); the custom
 * mutator changes only the recorded memory, so every input stays a valid
 * dump and the fuzzer's time goes to the walker, not to the dump parser.
 * Half of the mutations are word-level ones (fuzz_mutate(): pointers to other
 * recorded places, NULL, huge counts...), half libFuzzer's own byte-level
 * mutations of one window of the memory.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"
#include "memdump.h"

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_result r;
	// A third of the inputs through a cache of one block, a third within a
	// budget read ahead (which bytes decide stays the same for an input, so
	// a crash reproduces).
	fuzz_run(data, size, size ? (enum fuzz_cache)((data[size / 2] ^ data[size - 1]) % FUZZ_CACHES) : FUZZ_COPY,
		 &r);
	return 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
	(void)max_size;
	uint64_t rng = seed;
	struct ph_memdump d;
	struct ph_error *err = ph_memdump_parse(data, size, &d);
	if (err) {
		ph_error_destroy(err);
		return size; // not a dump (never produced by this mutator): leave it
	}
	struct ph_memdump_record rec = d.nrecords ? d.records[fuzz_rand(&rng) % d.nrecords]
						  : (struct ph_memdump_record){0};
	ph_memdump_deinit(&d);
	if (!rec.len || fuzz_rand(&rng) % 2) {
		fuzz_mutate(data, size, &rng);
		return size;
	}
	// libFuzzer's own mutations inside a window of at most 256 bytes of one
	// record, keeping its size (fixed by the record's header).
	size_t win = rec.len < 256 ? rec.len : 256;
	size_t start = rec.len > win ? (fuzz_rand(&rng) % (rec.len - win)) & ~7ull : 0;
	uint8_t *p = data + rec.offset + start;
	uint8_t tmp[256];
	memcpy(tmp, p, win);
	size_t n = LLVMFuzzerMutate(tmp, win, win);
	if (n < win)
		memset(tmp + n, 0, win - n);
	memcpy(p, tmp, win);
	return size;
}
