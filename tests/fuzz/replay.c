/* SPDX-License-Identifier: MIT */
/*
 * Replays recorded walks (tests/fuzz/corpus, decompressed) and random
 * mutations of them, in-process, built with ASan+UBSan by tests/fuzz/meson.build.
 *
 *   replay [--check] [--mutations N] [--seed S] [--only K] [--time-limit SEC] FILE...
 *
 * --check: the unmutated replay must give exactly the recorded result
 *   (objects, size, unreadable, truncated): the recording is complete.
 * --mutations N: then N mutated copies of each file (1 to 4 word mutations
 *   each, see fuzz_mutate()), from generator state SEED + file index; any
 *   result or error is fine, a crash, a sanitizer report or a hang is not.
 *   --only K replays mutation K alone (to reproduce a failure).
 * --time-limit SEC: per walk (default 10); past it the run fails.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static char current[512];

static void report_current(void)
{
	static volatile sig_atomic_t done;
	if (done)
		return;
	done = 1;
	if (write(STDERR_FILENO, "replay: failing input: ", 23) < 0 ||
	    write(STDERR_FILENO, current, strlen(current)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
		return;
}

static void on_fatal(int sig)
{
	report_current();
	signal(sig, SIG_DFL);
	raise(sig);
}

// Called by the sanitizer runtimes before they end the process.
void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1 << 20;
			uint8_t *b = realloc(buf, cap);
			if (!b) {
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = b;
		}
		size_t r = fread(buf + n, 1, cap - n, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	*size = n;
	return buf;
}

int main(int argc, char **argv)
{
	bool check = false;
	long mutations = 0, only = -1;
	unsigned long long seed = (unsigned long long)time(NULL);
	unsigned time_limit = 10;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--check"))
			check = true;
		else if (!strcmp(argv[i], "--mutations") && i + 1 < argc)
			mutations = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			seed = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--only") && i + 1 < argc)
			only = atol(argv[++i]);
		else if (!strcmp(argv[i], "--time-limit") && i + 1 < argc)
			time_limit = (unsigned)atoi(argv[++i]);
		else {
			fprintf(stderr, "replay: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (i == argc) {
		fprintf(stderr, "usage: replay [--check] [--mutations N] [--seed S] [--only K] FILE...\n");
		return 2;
	}
	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(report_current);
	signal(SIGSEGV, on_fatal);
	signal(SIGBUS, on_fatal);
	signal(SIGFPE, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGALRM, on_fatal); // a walk over its time limit

	int failures = 0;
	unsigned long long runs = 0;
	printf("replay: seed %llu\n", seed);
	for (int f = 0; i < argc; i++, f++) {
		size_t size;
		uint8_t *orig = read_file(argv[i], &size);
		if (!orig) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			return 1;
		}
		struct fuzz_result r;
		snprintf(current, sizeof(current), "%s (unmutated)", argv[i]);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		alarm(time_limit);
		fuzz_run(orig, size, FUZZ_COPY, &r);
		alarm(0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		runs++;
		double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		printf("%s: %zu bytes, %s, %llu objects, %llu bytes, %llu unreadable%s, %.1f ms\n",
		       argv[i], size, !r.parsed ? "NOT A DUMP" : r.error ? "walk error" : "walk ok",
		       (unsigned long long)r.objects, (unsigned long long)r.size,
		       (unsigned long long)r.unreadable, r.truncated ? ", truncated" : "", ms);
		if (!r.parsed) {
			failures++;
			free(orig);
			continue;
		}
		// The same walk through a cache of one block, and within a budget
		// of 64 blocks read ahead (live walks within a memory budget): the
		// same result.
		static const char *const how[FUZZ_CACHES] = {
			[FUZZ_ONE_BLOCK] = "a cache of one block",
			[FUZZ_BUDGET] = "a budget of 64 blocks, read ahead",
		};
		for (int c = FUZZ_ONE_BLOCK; c < FUZZ_CACHES; c++) {
			struct fuzz_result b;
			snprintf(current, sizeof(current), "%s (unmutated, %s)", argv[i], how[c]);
			alarm(time_limit);
			fuzz_run(orig, size, (enum fuzz_cache)c, &b);
			alarm(0);
			runs++;
			if (b.error != r.error || b.objects != r.objects || b.size != r.size ||
			    b.unreadable != r.unreadable || b.truncated != r.truncated) {
				printf("  FAIL: through %s: %llu objects, %llu bytes, %llu "
				       "unreadable, truncated %d, error %d\n",
				       how[c], (unsigned long long)b.objects, (unsigned long long)b.size,
				       (unsigned long long)b.unreadable, b.truncated, b.error);
				failures++;
			}
		}
		if (check && (r.error || r.objects != r.want_objects || r.size != r.want_size ||
			      r.unreadable != r.want_unreadable || r.truncated != r.want_truncated)) {
			printf("  FAIL: recorded %llu objects, %llu bytes, %llu unreadable, truncated %d; "
			       "replay error %d\n",
			       (unsigned long long)r.want_objects, (unsigned long long)r.want_size,
			       (unsigned long long)r.want_unreadable, r.want_truncated, r.error);
			failures++;
		}
		uint8_t *buf = malloc(size);
		if (!buf)
			return 1;
		unsigned long long errors = 0, changed = 0;
		for (long k = 0; k < mutations; k++) {
			if (only >= 0 && k != only)
				continue;
			uint64_t rng = seed * 1000003ull + (uint64_t)f * 7919ull + (uint64_t)k;
			for (int j = 0; j < 3; j++)
				fuzz_rand(&rng);
			memcpy(buf, orig, size);
			fuzz_mutate(buf, size, &rng);
			snprintf(current, sizeof(current), "%s mutation %ld (replay --seed %llu --only %ld %s)",
				 argv[i], k, seed, k, argv[i]);
			alarm(time_limit);
			struct fuzz_result m;
			// a third of the mutations through a cache of one block, a
			// third within a budget read ahead
			fuzz_run(buf, size, (enum fuzz_cache)(k % FUZZ_CACHES), &m);
			alarm(0);
			runs++;
			errors += m.error != 0;
			changed += !m.error && (m.objects != r.objects || m.size != r.size ||
						m.unreadable != r.unreadable);
		}
		if (mutations)
			printf("  %ld mutations: %llu walk errors, %llu changed results, no crash\n",
			       only >= 0 ? 1 : mutations, errors, changed);
		free(buf);
		free(orig);
	}
	printf("replay: %llu runs, %d failures\n", runs, failures);
	return failures ? 1 : 0;
}
