/* SPDX-License-Identifier: MIT */
/* The CPU quota and the memory left below the limit of the tool's cgroup,
 * from mountinfo and /proc/self/cgroup texts over a directory tree made
 * here: cgroup v2 (cpu.max, memory.max) and v1 (cpu.cfs_quota_us,
 * memory.limit_in_bytes), the smallest along the path, a cgroup namespace's
 * mount root, escaped mount points, damaged files and texts. */
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include <stdint.h>

#include "cgroup.h"
#include "file.h"

static char root[256];

// mkdir -p of @rel below the root.
static void mkdirs(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0755);
			*p = '/';
		}
	}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static void unlink_rel(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	CHECK(unlink(path) == 0);
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

static const char *V2_MOUNT =
	"22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
	"30 22 0:26 / /sys/fs/cgroup/unified rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate\n";
static const char *V1_MOUNT =
	"31 22 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid master:9 - cgroup cgroup rw,cpu,cpuacct\n"
	"32 22 0:28 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset\n";

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/pyheap-test-cpus-XXXXXX");
	CHECK(mkdtemp(root) != NULL);

	// v2: the quota of a parent (1.5 CPUs) applies below it; none at the top.
	mkdirs("/sys/fs/cgroup/unified/a/b");
	put("/sys/fs/cgroup/unified/cpu.max", "max 100000\n");
	put("/sys/fs/cgroup/unified/a/cpu.max", "150000 100000\n");
	put("/sys/fs/cgroup/unified/a/b/cpu.max", "max 100000\n");
	CHECK(near(ph_cgroup_cpu_quota(V2_MOUNT, "0::/a/b\n", root), 1.5));
	// The smallest along the path: 0.25 below 1.5.
	put("/sys/fs/cgroup/unified/a/b/cpu.max", "25000 100000\n");
	CHECK(near(ph_cgroup_cpu_quota(V2_MOUNT, "0::/a/b\n", root), 0.25));
	// The top cgroup has none: no quota.
	CHECK(ph_cgroup_cpu_quota(V2_MOUNT, "0::/\n", root) == 0);

	// v1: the cpu hierarchy (named with cpuacct), -1 for none at the top.
	mkdirs("/sys/fs/cgroup/cpu,cpuacct/x");
	put("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
	put("/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
	put("/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_quota_us", "300000\n");
	put("/sys/fs/cgroup/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
	CHECK(near(ph_cgroup_cpu_quota(V1_MOUNT, "5:cpuset:/\n4:cpu,cpuacct:/x\n1:name=systemd:/\n",
				       root), 3.0));
	// No cpu controller in the line: not its hierarchy.
	CHECK(ph_cgroup_cpu_quota(V1_MOUNT, "4:cpuacct:/x\n", root) == 0);
	// Both hierarchies: the smaller quota.
	char both[1024];
	snprintf(both, sizeof(both), "%s%s", V2_MOUNT, V1_MOUNT);
	CHECK(near(ph_cgroup_cpu_quota(both, "4:cpu,cpuacct:/x\n0::/a/b\n", root), 0.25));

	// A cgroup namespace: the mount shows the tree from /a (its root field),
	// the process is in /a/b: the directory is the mount point + /b.
	mkdirs("/ns/b");
	put("/ns/b/cpu.max", "50000 100000\n");
	CHECK(near(ph_cgroup_cpu_quota("40 22 0:30 /a /ns rw - cgroup2 cgroup2 rw\n", "0::/a/b\n",
				       root),
		   0.5));
	// A mount point with a space, escaped as \040.
	mkdirs("/with space/c");
	put("/with space/c/cpu.max", "200000 100000\n");
	CHECK(near(ph_cgroup_cpu_quota("41 22 0:31 / /with\\040space rw - cgroup2 none rw\n",
				       "0::/c\n", root),
		   2.0));

	// Damaged files and texts: no quota, no crash.
	put("/sys/fs/cgroup/unified/a/cpu.max", "abc 100000\n");
	put("/sys/fs/cgroup/unified/a/b/cpu.max", "50000 0\n");
	CHECK(ph_cgroup_cpu_quota(V2_MOUNT, "0::/a/b\n", root) == 0);
	put("/sys/fs/cgroup/unified/a/b/cpu.max", "-5 100000\n");
	CHECK(ph_cgroup_cpu_quota(V2_MOUNT, "0::/a/b\n", root) == 0);
	put("/sys/fs/cgroup/unified/a/b/cpu.max", "");
	CHECK(ph_cgroup_cpu_quota(V2_MOUNT, "0::/a/b\n", root) == 0);
	const char *bad[] = {"", "\n\n", "0", "0::", "0::relative\n", ":::\n", "x:y:/z\n",
			     "0::/a/b/../../../../etc\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(ph_cgroup_cpu_quota(V2_MOUNT, bad[i], root) == 0);
	const char *badmounts[] = {"", "- - - -\n", "1 2 3\n", "1 2 3 4 5 6 - cgroup2\n",
				   "1 2 3 / /sys/fs/cgroup/unified rw - cgroup2\n"};
	for (size_t i = 0; i < sizeof(badmounts) / sizeof(badmounts[0]); i++)
		CHECK(ph_cgroup_cpu_quota(badmounts[i], "0::/a/b\n", root) == 0);
	// A line longer than any path, and a deep path.
	char *longline = malloc(70000);
	CHECK(longline != NULL);
	if (longline) {
		memset(longline, 'a', 69998);
		longline[0] = '0';
		longline[1] = ':';
		longline[2] = ':';
		longline[3] = '/';
		longline[69998] = '\n';
		longline[69999] = 0;
		CHECK(ph_cgroup_cpu_quota(V2_MOUNT, longline, root) == 0);
		free(longline);
	}

	// Memory: the smallest limit - usage along the path (v2), "max" none.
	put("/sys/fs/cgroup/unified/memory.max", "max\n");
	put("/sys/fs/cgroup/unified/a/memory.max", "1073741824\n");
	put("/sys/fs/cgroup/unified/a/memory.current", "1000000000\n");
	put("/sys/fs/cgroup/unified/a/b/memory.max", "max\n");
	put("/sys/fs/cgroup/unified/a/b/memory.current", "900000000\n");
	CHECK(ph_cgroup_memory_headroom(V2_MOUNT, "0::/a/b\n", root) == 73741824);
	put("/sys/fs/cgroup/unified/a/b/memory.max", "50000000\n");
	put("/sys/fs/cgroup/unified/a/b/memory.current", "20000000\n");
	CHECK(ph_cgroup_memory_headroom(V2_MOUNT, "0::/a/b\n", root) == 30000000);
	// Over the limit: nothing left. No limit at all: UINT64_MAX.
	put("/sys/fs/cgroup/unified/a/b/memory.current", "60000000\n");
	CHECK(ph_cgroup_memory_headroom(V2_MOUNT, "0::/a/b\n", root) == 0);
	// Inactive page cache is room: the kernel reclaims it first.
	put("/sys/fs/cgroup/unified/a/b/memory.current", "20000000\n");
	put("/sys/fs/cgroup/unified/a/b/memory.stat",
	    "anon 9000000\nfile 11000000\nactive_file 1000000\ninactive_file 10000000\n");
	CHECK(ph_cgroup_memory_headroom(V2_MOUNT, "0::/a/b\n", root) == 40000000);
	put("/sys/fs/cgroup/unified/a/b/memory.stat", "inactive_file 90000000\n");
	CHECK(ph_cgroup_memory_headroom(V2_MOUNT, "0::/a/b\n", root) == 50000000);
	put("/sys/fs/cgroup/unified/a/b/memory.stat", "inactive_file lots\n"); // (ignored)
	CHECK(ph_cgroup_memory_headroom(V2_MOUNT, "0::/a/b\n", root) == 30000000);
	unlink_rel("/sys/fs/cgroup/unified/a/b/memory.stat");
	CHECK(ph_cgroup_memory_headroom(V2_MOUNT, "0::/\n", root) == UINT64_MAX);
	// v1: the memory hierarchy, its "no limit" near 2^63.
	const char *v1mem =
		"33 22 0:29 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n";
	mkdirs("/sys/fs/cgroup/memory/m");
	put("/sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	put("/sys/fs/cgroup/memory/memory.usage_in_bytes", "5000000000\n");
	put("/sys/fs/cgroup/memory/m/memory.limit_in_bytes", "67108864\n");
	put("/sys/fs/cgroup/memory/m/memory.usage_in_bytes", "1048576\n");
	CHECK(ph_cgroup_memory_headroom(v1mem, "7:memory:/m\n", root) == 66060288);
	// v1: the hierarchy's inactive file cache (total_), not this group's.
	put("/sys/fs/cgroup/memory/m/memory.stat",
	    "cache 2097152\ninactive_file 4096\ntotal_inactive_file 1048576\n");
	CHECK(ph_cgroup_memory_headroom(v1mem, "7:memory:/m\n", root) == 67108864);
	unlink_rel("/sys/fs/cgroup/memory/m/memory.stat");
	CHECK(ph_cgroup_memory_headroom(v1mem, "7:memory:/\n", root) == UINT64_MAX);
	CHECK(ph_cgroup_memory_headroom(v1mem, "7:cpu:/m\n", root) == UINT64_MAX);
	// Damaged: a limit that is no number is no limit; a usage that is none, 0.
	put("/sys/fs/cgroup/memory/m/memory.usage_in_bytes", "lots\n");
	CHECK(ph_cgroup_memory_headroom(v1mem, "7:memory:/m\n", root) == 67108864);
	put("/sys/fs/cgroup/memory/m/memory.limit_in_bytes", "-3\n");
	CHECK(ph_cgroup_memory_headroom(v1mem, "7:memory:/m\n", root) == UINT64_MAX);
	CHECK(ph_memory_headroom() > 0);

	// This process: at least one CPU, never more than its quota allows.
	unsigned c = ph_cpus();
	double q = ph_cpu_quota();
	CHECK(c >= 1);
	CHECK(q == 0 || c <= (q < 1 ? 1 : q));
	CHECK(ph_cpus() == c);

	// The host's part of the room: MemAvailable above a 64th of MemTotal,
	// at least 64 MiB; nothing below it; unknown without both numbers.
	const uint64_t MiB = 1 << 20;
	CHECK(ph_host_room(24576 * MiB, 900 * MiB) == 900 * MiB - 384 * MiB);
	CHECK(ph_host_room(24576 * MiB, 300 * MiB) == 0);
	CHECK(ph_host_room(1024 * MiB, 500 * MiB) == 500 * MiB - 64 * MiB);
	CHECK(ph_host_room(1024 * MiB, 0) == UINT64_MAX);
	CHECK(ph_host_room(0, 500 * MiB) == UINT64_MAX);
	// This process's room: at most the host's and the cgroups'.
	bool host = false;
	uint64_t room = ph_memory_room(&host);
	CHECK(room <= ph_memory_headroom());
	CHECK(host || room == ph_memory_headroom());

	// ph_pread_field(): the numbers of /proc/self/statm and schedstat,
	// read again from the start at each call; anything else UINT64_MAX.
	static const struct {
		const char *text;
		unsigned field;
		uint64_t want;
	} fields[] = {
		{"12 34 56\n", 0, 12},
		{"12 34 56\n", 1, 34},
		{"12 34 56\n", 2, 56},
		{"12 34 56\n", 3, UINT64_MAX},
		{"12 x 56\n", 1, UINT64_MAX},
		{"-1 2\n", 0, UINT64_MAX},
		{"", 0, UINT64_MAX},
		{"99999999999999999999999 1\n", 0, UINT64_MAX},
		{"7", 0, 7},
	};
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		put("/field", fields[i].text);
		char path[512];
		snprintf(path, sizeof(path), "%s/field", root);
		int fd = open(path, O_RDONLY);
		CHECK(fd >= 0);
		uint64_t got = ph_pread_field(fd, fields[i].field);
		if (got != fields[i].want)
			fprintf(stderr, "ph_pread_field('%s', %u): %llu\n", fields[i].text,
				fields[i].field, (unsigned long long)got);
		CHECK(got == fields[i].want);
		CHECK(ph_pread_field(fd, fields[i].field) == fields[i].want); // (again)
		close(fd);
	}
	CHECK(ph_pread_field(-1, 0) == UINT64_MAX);
	int self = open("/proc/self/statm", O_RDONLY);
	CHECK(self >= 0 && ph_pread_field(self, 1) > 0 && ph_pread_field(self, 1) != UINT64_MAX);
	if (self >= 0)
		close(self);

	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	CHECK(system(cmd) == 0);
	return CHECK_DONE();
}
