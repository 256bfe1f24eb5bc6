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
 * memory.usage_in_bytes); UINT64_MAX when there is no limit or it cannot be
 * read. Read at each call.
 */
uint64_t ph_memory_headroom(void);

/**
 * Makes this process the first the kernel kills when memory runs out (its
 * oom_score_adj 1000): over a container's memory limit, the tool rather than
 * the target in the same container. (A killed tracer's tracees run on.)
 */
void ph_oom_first(void);

/** ph_memory_headroom() from texts and a root, as ph_cgroup_cpu_quota(). */
uint64_t ph_cgroup_memory_headroom(const char *mountinfo, const char *cgroup, const char *root);

#endif
