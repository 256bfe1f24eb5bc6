/* SPDX-License-Identifier: MIT */
/*
 * Replaying a recorded walk (lib/memdump.h) over a byte-buffer memory source,
 * and mutating the recorded memory: shared by the libFuzzer target
 * (fuzz_walk.c) and the replay test (replay.c).
 */
#ifndef PH_FUZZ_HARNESS_H
#define PH_FUZZ_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fuzz_result {
	bool parsed;         /**< the input is a well-formed dump */
	int error;           /**< ph_error code of the walk, 0 on success */
	uint64_t objects, size, unreadable;
	bool truncated;
	uint64_t want_objects, want_size, want_unreadable; /**< recorded in the dump */
	bool want_truncated;
};

/** How fuzz_run() reads the recorded memory. */
enum fuzz_cache {
	FUZZ_COPY,      /**< a cache without a limit, as a walk of a copy */
	FUZZ_ONE_BLOCK, /**< a cache bounded to one block (ph_mem_set_limit(): blocks
			     dropped and read again after every object, headers
			     peeked at), as a live walk within a memory budget */
	FUZZ_BUDGET,    /**< a budget of 64 blocks, the memory's size known: with two
			     CPUs, blocks read ahead on another thread
			     (ph_mem_read_ahead()), the address table sized at once */
	FUZZ_CACHES
};

/**
 * Walks the dump in @p data through @p cache, then partitions and reports
 * the result as the command would (into a memory stream). Bounded: at most
 * the recorded max-objects, else 1,000,000 objects.
 */
void fuzz_run(const uint8_t *data, size_t size, enum fuzz_cache cache, struct fuzz_result *ret);

/** A deterministic generator (splitmix64) for the mutations. */
uint64_t fuzz_rand(uint64_t *state);

/**
 * Mutates the block bytes (never the header nor the block records' address
 * and length, so the result still parses) of the dump in @p data, in place:
 * a few word-level mutations that hostile memory produces — a pointer to
 * another recorded address (a cycle, a type confusion), NULL, all ones, a
 * pointer off by a few bytes, a huge or negative count, a random word —
 * or random bytes. Returns false when @p data is not a dump.
 */
bool fuzz_mutate(uint8_t *data, size_t size, uint64_t *rng);

#endif
