/* SPDX-License-Identifier: MIT */
#include "prefault.h"
#include "cgroup.h"
#include "thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

enum { MAX_RANGES = 8, STEPS = 64 };

struct ph_prefault {
	pthread_t thread;
	atomic_bool stop;
	struct ph_prefault_range ranges[MAX_RANGES];
	size_t n;
};

// Whole pages of [start, start + len).
static void populate(void *start, size_t len)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)start + page - 1) & ~(page - 1);
	uintptr_t b = ((uintptr_t)start + len) & ~(page - 1);
	if (b > a)
		madvise((void *)a, b - a, MADV_POPULATE_WRITE);
}

// Whether the kernel knows MADV_POPULATE_WRITE (5.14+), asked once.
bool ph_prefault_supported(void)
{
	static int known = -1; // (a race only asks twice)
	int k = __atomic_load_n(&known, __ATOMIC_RELAXED);
	if (k < 0) {
		void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		k = p != MAP_FAILED && madvise(p, 4096, MADV_POPULATE_WRITE) == 0;
		if (p != MAP_FAILED)
			munmap(p, 4096);
		__atomic_store_n(&known, k, __ATOMIC_RELAXED);
	}
	return k;
}

bool ph_prefault_pages(void *start, size_t len)
{
	if (!ph_prefault_supported())
		return false;
	populate(start, len);
	return true;
}

static void *run(void *arg)
{
	struct ph_prefault *pf = arg;
	// Step by step, each range the same fraction further: the owner fills
	// them at about the same pace.
	for (size_t s = 0; s < STEPS; s++) {
		for (size_t i = 0; i < pf->n; i++) {
			if (atomic_load_explicit(&pf->stop, memory_order_relaxed))
				return NULL;
			size_t len = pf->ranges[i].len;
			size_t from = len / STEPS * s, to = s + 1 == STEPS ? len : len / STEPS * (s + 1);
			populate((char *)pf->ranges[i].start + from, to - from);
		}
	}
	return NULL;
}

struct ph_prefault *ph_prefault_start(const struct ph_prefault_range *ranges, size_t n)
{
	// (Not without a second CPU to run on: under a CPU quota of one, it
	// would take the quota from the thread it works for.)
	if (!n || n > MAX_RANGES || !ph_prefault_supported() || ph_cpus() < 2)
		return NULL;
	struct ph_prefault *pf = calloc(1, sizeof(*pf));
	if (!pf)
		return NULL;
	for (size_t i = 0; i < n; i++)
		pf->ranges[i] = ranges[i];
	pf->n = n;
	atomic_init(&pf->stop, false);
	if (!ph_thread_start(&pf->thread, run, pf)) {
		free(pf);
		return NULL;
	}
	return pf;
}

void ph_prefault_stop(struct ph_prefault *pf)
{
	if (!pf)
		return;
	atomic_store(&pf->stop, true);
	pthread_join(pf->thread, NULL);
	free(pf);
}

void ph_prefault_finish(struct ph_prefault *pf)
{
	if (!pf)
		return;
	pthread_join(pf->thread, NULL);
	free(pf);
}

void ph_prefault_now(void *start, size_t len)
{
	// The helper takes the second half; this thread the first.
	size_t half = len / 2;
	struct ph_prefault_range r = {(char *)start + half, len - half};
	struct ph_prefault *pf = ph_prefault_start(&r, 1);
	populate(start, pf ? half : len);
	ph_prefault_finish(pf);
}
