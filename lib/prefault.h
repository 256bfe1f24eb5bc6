/* SPDX-License-Identifier: MIT */
/**
 * @file prefault.h
 * Faulting in the tool's own memory ahead of use, on another core: a walk
 * fills large arrays front to back, and on a virtual machine a page fault
 * costs microseconds. A helper thread asks the kernel for the pages
 * (MADV_POPULATE_WRITE: it never writes them, so the owner may fill them
 * meanwhile) while the owner works.
 */
#ifndef PH_PREFAULT_H
#define PH_PREFAULT_H

#include <stdbool.h>
#include <stddef.h>

struct ph_prefault_range {
	void *start;
	size_t len;
};

struct ph_prefault;

/**
 * Starts faulting in @p n ranges (at most 8), all advancing together from
 * their starts. NULL if nothing was started (no thread, a kernel without
 * MADV_POPULATE_WRITE): then the pages fault in on use, as always.
 */
struct ph_prefault *ph_prefault_start(const struct ph_prefault_range *ranges, size_t n);

/** Stops (between two chunks) and joins. Call before any range is freed or moved. NULL is fine. */
void ph_prefault_stop(struct ph_prefault *pf);

/** Waits until every range is faulted in, and joins. NULL is fine. */
void ph_prefault_finish(struct ph_prefault *pf);

/**
 * Faults in [@p start, @p start + @p len) now, on this thread and one more:
 * the kernel's work (zeroing, page tables) on two cores. Never writes.
 */
void ph_prefault_now(void *start, size_t len);

/** Whether the kernel can fault pages in without writing them (5.14+). */
bool ph_prefault_supported(void);

/**
 * Faults in the whole pages of [@p start, @p start + @p len) on this thread,
 * without writing them (another thread may be filling them). False if the
 * kernel cannot (before 5.14): nothing was done.
 */
bool ph_prefault_pages(void *start, size_t len);

#endif
