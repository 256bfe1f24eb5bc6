/* SPDX-License-Identifier: MIT */
/**
 * @file cgroup.h
 * The limits of the tool's cgroup (a container's CPU and memory limits).
 * How many CPUs the tool may keep busy at once: the CPUs it may run on,
 * fewer under a CPU quota (threads beyond it do not run faster: the kernel
 * throttles them all until the next period, in the middle of the walk or of
 * the target's pause). How much memory it may take: under a memory limit,
 * more is not the host's to give (the kernel kills a process of the cgroup,
 * which may be the target when the tool runs in its container).
 */
#ifndef PH_CGROUP_H
#define PH_CGROUP_H

#include <stdbool.h>
#include <stdint.h>

/**
 * The CPUs this process may keep busy: its affinity's count, at most the
 * CPU quota of its cgroup or of any cgroup above it (rounded down), at
 * least 1. Read once; later calls return the same.
 */
unsigned ph_cpus(void);

/**
 * The CPU quota of this process's cgroup (the smallest along its path), in
 * CPUs; 0 when there is none or it cannot be read. Read once.
 */
double ph_cpu_quota(void);

/**
 * The smallest CPU quota along a cgroup path, in CPUs (0: none found), from
 * the text of /proc/self/mountinfo and of /proc/self/cgroup, the mount
 * points read below @root ("" for the real ones; a directory for tests).
 * Cgroup v2 (cpu.max) and v1 (cpu.cfs_quota_us, cpu.cfs_period_us).
 */
double ph_cgroup_cpu_quota(const char *mountinfo, const char *cgroup, const char *root);

/**
 * The memory the cgroups of this process may still take before their
 * limits: the smallest of limit - usage along its path (cgroup v2
 * memory.max and memory.current, v1 memory.limit_in_bytes and
 * memory.usage_in_bytes), the usage less the inactive page cache the kernel
 * reclaims first (memory.stat: v2 inactive_file, v1 total_inactive_file);
 * UINT64_MAX when there is no limit or it cannot be read. Read at each call.
 */
uint64_t ph_memory_headroom(void);

/**
 * Makes this process the first the kernel kills when memory runs out (its
 * oom_score_adj 1000): over a container's memory limit, the tool rather than
 * the target in the same container. (A killed tracer's tracees run on.)
 */
void ph_oom_first(void);

/**
 * The memory this process may still take: the smallest of what its cgroups'
 * limits leave (ph_memory_headroom()) and of the host's MemAvailable above a
 * reserve (1/64 of MemTotal, at least 64 MiB: the page cache of the services
 * beside; a leak hunt starts when memory runs short); UINT64_MAX when neither
 * can be read. Read at each call. *@p host (if not NULL): whether the host's
 * MemAvailable was the smaller.
 */
uint64_t ph_memory_room(bool *host);

/**
 * Of @p available bytes of a host of @p total (MemAvailable, MemTotal), what
 * ph_memory_room() lets this process take; UINT64_MAX when either is 0
 * (unknown).
 */
uint64_t ph_host_room(uint64_t total, uint64_t available);

/**
 * A guard against taking the last of ph_memory_room(): ph_memory_guard_check()
 * says when the room is down to a margin, what the process will still need:
 * 6 MiB, a share of its snapshot (the walk's end and the analyses), and what
 * is set aside for the copy of the target's memory (or the cache) and not
 * taken yet. It reads the process's own RSS at each call (a few microseconds)
 * and the room again only when it may be near the margin, or every 32 calls
 * (other processes take from it too).
 */
struct ph_memory_guard;

/**
 * A guard whose margin holds @p percent of the snapshot (what the walk's end
 * and the analyses need beside it), from @p room and @p host as
 * ph_memory_room() gave them just before; NULL when the room is unknown
 * (UINT64_MAX), or no memory.
 */
struct ph_memory_guard *ph_memory_guard_create(unsigned percent, uint64_t room, bool host);

/**
 * Of what the process takes from now on, @p bytes may go to the copy of the
 * target's memory or the cache (at most), the rest to the snapshot.
 */
void ph_memory_guard_set_aside(struct ph_memory_guard *guard, uint64_t bytes);

/**
 * NULL while there is room, the snapshot taking @p snapshot bytes; once the
 * headroom is down to the margin, why no more should be taken (the guard's
 * own text, valid until it is destroyed), at this and every later call. @p
 * guard is a struct ph_memory_guard (void *: a struct ph_walk_options
 * callback). Safe from several threads at once.
 */
const char *ph_memory_guard_check(void *guard, uint64_t snapshot);

void ph_memory_guard_destroy(struct ph_memory_guard *guard);

/** ph_memory_headroom() from texts and a root, as ph_cgroup_cpu_quota(). */
uint64_t ph_cgroup_memory_headroom(const char *mountinfo, const char *cgroup, const char *root);

#endif
