/* SPDX-License-Identifier: MIT */
/**
 * @file cpus.h
 * How many CPUs the tool may keep busy at once: the CPUs it may run on,
 * fewer under a CPU quota of its cgroup (a container's CPU limit). Threads
 * beyond the quota do not run faster: the kernel throttles them all until
 * the next period, in the middle of the walk or of the target's pause.
 */
#ifndef PH_CPUS_H
#define PH_CPUS_H

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

#endif
