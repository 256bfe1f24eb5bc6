/* SPDX-License-Identifier: MIT */
#include "cgroup.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
	TEXT_MAX = 1 << 20, /* /proc/self/mountinfo read at most */
	FIELDS_MAX = 64,    /* fields of a mountinfo line looked at */
	DEPTH_MAX = 64,     /* cgroup directories walked up at most */
};

// The whole of a small file as a string (at most @max bytes), or NULL.
static char *read_text(const char *path, size_t max)
{
	size_t len;
	return ph_read_file(path, max, &len);
}

// The next line of @text from *@pos into @buf (cut at @cap - 1 bytes);
// false at the end.
static bool next_line(const char *text, size_t *pos, char *buf, size_t cap)
{
	if (!text[*pos])
		return false;
	size_t n = 0;
	for (; text[*pos] && text[*pos] != '\n'; (*pos)++)
		if (n + 1 < cap)
			buf[n++] = text[*pos];
	if (text[*pos] == '\n')
		(*pos)++;
	buf[n] = 0;
	return true;
}

// Mountinfo's octal escapes (\040 for a space...) of @s, in place.
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

// Whether the comma-separated @list holds @word.
static bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && !memcmp(p, word, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

// A non-negative decimal number that makes up the whole of [s, end of
// word), or -1.
static long long number(const char *s, const char **end)
{
	char *e;
	errno = 0;
	long long v = strtoll(s, &e, 10);
	if (e == s || errno || v < 0)
		return -1;
	*end = e;
	return v;
}

// The CPU quota of cgroup directory @dir, in CPUs (0: none, or unreadable).
static double dir_quota(const char *dir, bool v2)
{
	char path[PATH_MAX + 32];
	const char *e;
	double q = 0;
	if (v2) {
		// cpu.max: "max PERIOD" or "QUOTA PERIOD" (microseconds)
		snprintf(path, sizeof(path), "%s/cpu.max", dir);
		char *t = read_text(path, 128);
		if (!t)
			return 0;
		long long quota = strncmp(t, "max", 3) ? number(t, &e) : -1, period = -1;
		if (quota > 0 && *e == ' ')
			period = number(e + 1, &e);
		if (quota > 0 && period > 0)
			q = (double)quota / (double)period;
		free(t);
		return q;
	}
	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", dir);
	char *t = read_text(path, 64);
	if (!t)
		return 0;
	long long quota = number(t, &e); // (-1: none, or not a number)
	free(t);
	if (quota <= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", dir);
	if (!(t = read_text(path, 64)))
		return 0;
	long long period = number(t, &e);
	free(t);
	return period > 0 ? (double)quota / (double)period : 0;
}

// Each directory from @top + @rel up to @top: @fn(dir, v2, @arg).
static void each_up(const char *top, const char *rel, bool v2,
		    void (*fn)(const char *dir, bool v2, void *arg), void *arg)
{
	char dir[PATH_MAX];
	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", top, rel) >= sizeof(dir))
		return;
	size_t toplen = strlen(top);
	for (int depth = 0; depth < DEPTH_MAX; depth++) {
		size_t n = strlen(dir);
		while (n > toplen && n > 1 && dir[n - 1] == '/')
			dir[--n] = 0;
		fn(dir, v2, arg);
		if (n <= toplen)
			break;
		char *slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < toplen)
			break;
		*slash = 0;
	}
}

// Each directory of this process's cgroup, from its own up to the top of
// the hierarchy's mount: in the unified hierarchy (v2) and in the v1 one of
// @controller; from the text of /proc/self/mountinfo and /proc/self/cgroup,
// the mount points read below @root.
static void each_dir(const char *mountinfo, const char *cgroup, const char *root,
		     const char *controller, void (*fn)(const char *dir, bool v2, void *arg),
		     void *arg)
{
	char line[PATH_MAX + 256], v2path[PATH_MAX] = "", v1path[PATH_MAX] = "";
	bool have_v2 = false, have_v1 = false;
	for (size_t pos = 0; next_line(cgroup, &pos, line, sizeof(line));) {
		// HIERARCHY-ID:CONTROLLERS:PATH
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || c2[1] != '/')
			continue;
		*c1 = *c2 = 0;
		const char *id = line, *controllers = c1 + 1, *path = c2 + 1;
		if (!strcmp(id, "0") && !*controllers)
			have_v2 = snprintf(v2path, sizeof(v2path), "%s", path) < (int)sizeof(v2path);
		else if (has_word(controllers, controller))
			have_v1 = snprintf(v1path, sizeof(v1path), "%s", path) < (int)sizeof(v1path);
	}
	for (size_t pos = 0; (have_v1 || have_v2) && next_line(mountinfo, &pos, line, sizeof(line));) {
		// ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER
		char *f[FIELDS_MAX], *save = NULL;
		size_t n = 0;
		for (char *s = strtok_r(line, " ", &save); s && n < FIELDS_MAX;
		     s = strtok_r(NULL, " ", &save))
			f[n++] = s;
		size_t sep = 6;
		while (sep < n && strcmp(f[sep], "-"))
			sep++;
		if (sep + 3 >= n)
			continue;
		const char *type = f[sep + 1], *super = f[sep + 3];
		bool v2 = !strcmp(type, "cgroup2") && have_v2;
		bool v1 = !strcmp(type, "cgroup") && has_word(super, controller) && have_v1;
		if (!v2 && !v1)
			continue;
		unescape(f[3]);
		unescape(f[4]);
		const char *mroot = f[3], *path = v2 ? v2path : v1path, *rel = "";
		size_t rl = strlen(mroot);
		if (!strcmp(mroot, "/"))
			rel = path;
		else if (!strncmp(path, mroot, rl) && (path[rl] == '/' || !path[rl]))
			rel = path + rl;
		// (Else the mount shows another part of the tree: its top only.)
		char top[PATH_MAX];
		if ((size_t)snprintf(top, sizeof(top), "%s%s", root, f[4]) >= sizeof(top))
			continue;
		each_up(top, !strcmp(rel, "/") ? "" : rel, v2, fn, arg);
	}
}

static void quota_fn(const char *dir, bool v2, void *arg)
{
	double *best = arg, q = dir_quota(dir, v2);
	if (q > 0 && (*best == 0 || q < *best))
		*best = q;
}

double ph_cgroup_cpu_quota(const char *mountinfo, const char *cgroup, const char *root)
{
	double best = 0;
	each_dir(mountinfo, cgroup, root, "cpu", quota_fn, &best);
	return best;
}

// A number of bytes in file @dir/@name ("max" and v1's "no limit", near
// 2^63: UINT64_MAX), or -1 (as UINT64_MAX - 1) if unreadable.
static uint64_t bytes_file(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	char *t = read_text(path, 64);
	if (!t)
		return UINT64_MAX - 1;
	const char *e;
	long long v = strncmp(t, "max", 3) ? number(t, &e) : -1;
	bool max = !strncmp(t, "max", 3);
	free(t);
	if (max || v >= (1ll << 62))
		return UINT64_MAX;
	return v < 0 ? UINT64_MAX - 1 : (uint64_t)v;
}

// The number after "@name " at the start of a line of @dir/memory.stat, or
// UINT64_MAX.
static uint64_t stat_field(const char *dir, const char *name)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/memory.stat", dir);
	char *t = read_text(path, 64 * 1024);
	if (!t)
		return UINT64_MAX;
	uint64_t v = UINT64_MAX;
	size_t n = strlen(name);
	for (const char *l = t; l;) {
		const char *e;
		long long x;
		if (!strncmp(l, name, n) && l[n] == ' ' && (x = number(l + n + 1, &e)) >= 0) {
			v = (uint64_t)x;
			break;
		}
		l = strchr(l, '\n');
		l = l ? l + 1 : NULL;
	}
	free(t);
	return v;
}

static void headroom_fn(const char *dir, bool v2, void *arg)
{
	uint64_t *best = arg;
	uint64_t limit = bytes_file(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
	if (limit >= UINT64_MAX - 1)
		return; // (no limit here, or none known)
	uint64_t usage = bytes_file(dir, v2 ? "memory.current" : "memory.usage_in_bytes");
	if (usage >= UINT64_MAX - 1)
		usage = 0;
	// Less the page cache the kernel takes back first (inactive files, what
	// `docker stats` leaves out too): a service that reads files fills its
	// cgroup with cache that is not in the way. (v1: the hierarchy's.)
	uint64_t cache = stat_field(dir, v2 ? "inactive_file" : "total_inactive_file");
	if (cache != UINT64_MAX)
		usage = usage > cache ? usage - cache : 0;
	uint64_t room = limit > usage ? limit - usage : 0;
	if (room < *best)
		*best = room;
}

uint64_t ph_cgroup_memory_headroom(const char *mountinfo, const char *cgroup, const char *root)
{
	uint64_t best = UINT64_MAX;
	each_dir(mountinfo, cgroup, root, "memory", headroom_fn, &best);
	return best;
}

// The texts of /proc/self/mountinfo and /proc/self/cgroup (free() both),
// false if either cannot be read.
static bool proc_texts(char **mountinfo, char **cgroup)
{
	*mountinfo = read_text("/proc/self/mountinfo", TEXT_MAX);
	*cgroup = read_text("/proc/self/cgroup", TEXT_MAX);
	if (*mountinfo && *cgroup)
		return true;
	free(*mountinfo);
	free(*cgroup);
	return false;
}

uint64_t ph_memory_headroom(void)
{
	char *mi, *cg;
	if (!proc_texts(&mi, &cg))
		return UINT64_MAX;
	uint64_t room = ph_cgroup_memory_headroom(mi, cg, "");
	free(mi);
	free(cg);
	return room;
}

enum {
	GUARD_BASE = 6 << 20,          /* margin kept at least: the tool's own needs after the walk */
	GUARD_REREAD = 32,             /* calls at most between two reads of the headroom */
	HOST_RESERVE_MIN = 64 << 20,   /* of MemAvailable, left at least to the host */
	HOST_RESERVE_SHARE = 64,       /* of MemTotal, left to the host (a 64th) */
};

// MemTotal and MemAvailable of /proc/meminfo in bytes (0: unknown).
static void meminfo(uint64_t *total, uint64_t *available)
{
	*total = *available = 0;
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return;
	char line[256];
	uint64_t kb;
	for (int n = 0; n < 64 && fgets(line, sizeof(line), f) && (!*total || !*available); n++) {
		if (sscanf(line, "MemTotal: %" SCNu64 " kB", &kb) == 1 && kb < UINT64_MAX / 1024)
			*total = kb * 1024;
		else if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1 &&
			 kb < UINT64_MAX / 1024)
			*available = kb * 1024;
	}
	fclose(f);
}

uint64_t ph_host_room(uint64_t total, uint64_t available)
{
	if (!total || !available)
		return UINT64_MAX;
	uint64_t reserve = total / HOST_RESERVE_SHARE;
	if (reserve < HOST_RESERVE_MIN)
		reserve = HOST_RESERVE_MIN;
	return available > reserve ? available - reserve : 0;
}

// The headroom now: the smallest of what the cgroups' limits leave and of the
// host's MemAvailable above its reserve (*@host: whether it was the host's);
// UINT64_MAX when neither can be read.
static uint64_t headroom(bool *host)
{
	uint64_t room = ph_memory_headroom(), total, available;
	*host = false;
	meminfo(&total, &available);
	uint64_t h = ph_host_room(total, available);
	if (h < room) {
		room = h;
		*host = true;
	}
	return room;
}

uint64_t ph_memory_room(bool *host)
{
	bool h;
	uint64_t room = headroom(&h);
	if (host)
		*host = h;
	return room;
}

struct ph_memory_guard {
	pthread_mutex_t lock;
	unsigned percent;   /* of the snapshot, kept free for later */
	uint64_t aside;     /* the copy or cache: what it may take beside the snapshot */
	int statm;          /* /proc/self/statm, -1: not open (the guard reads usage each time) */
	uint64_t rss_start; /* this process's RSS when the guard was made */
	uint64_t room;      /* the headroom at the last read of the cgroups */
	uint64_t rss_then;  /* this process's RSS then */
	unsigned calls;     /* calls since that read */
	bool host;          /* the headroom read last was the host's (MemAvailable) */
	bool low;
	char reason[256];
};

// This process's RSS in bytes from /proc/self/statm (its second field, in
// pages), or UINT64_MAX when it cannot be read.
static uint64_t own_rss(int fd)
{
	uint64_t pages = ph_pread_field(fd, 1);
	uint64_t size = (uint64_t)sysconf(_SC_PAGESIZE);
	return pages == UINT64_MAX || pages > UINT64_MAX / size ? UINT64_MAX : pages * size;
}

struct ph_memory_guard *ph_memory_guard_create(unsigned percent, uint64_t room, bool host)
{
	if (room == UINT64_MAX)
		return NULL;
	struct ph_memory_guard *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->host = host;
	if (pthread_mutex_init(&g->lock, NULL)) {
		free(g);
		return NULL;
	}
	g->statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
	g->rss_start = g->rss_then = own_rss(g->statm);
	if (g->rss_start == UINT64_MAX) {
		// (No RSS: the cgroups' usage at each call, and the margin's base.)
		if (g->statm >= 0)
			close(g->statm);
		g->statm = -1;
		g->rss_start = g->rss_then = 0;
	}
	g->room = room;
	g->percent = percent;
	return g;
}

void ph_memory_guard_set_aside(struct ph_memory_guard *guard, uint64_t bytes)
{
	pthread_mutex_lock(&guard->lock);
	guard->aside = bytes;
	pthread_mutex_unlock(&guard->lock);
}

const char *ph_memory_guard_check(void *guard, uint64_t snapshot)
{
	struct ph_memory_guard *g = guard;
	pthread_mutex_lock(&g->lock);
	if (!g->low) {
		uint64_t rss = g->statm >= 0 ? own_rss(g->statm) : 0;
		if (rss == UINT64_MAX)
			rss = g->rss_then;
		// Beside the snapshot, what the process took is mostly what was
		// set aside (the copy, or the cache as it fills): the rest of it
		// is still to come.
		uint64_t taken = rss > g->rss_start ? rss - g->rss_start : 0;
		uint64_t other = taken > snapshot ? taken - snapshot : 0;
		uint64_t margin = GUARD_BASE + snapshot / 100 * g->percent +
				  (g->aside > other ? g->aside - other : 0);
		uint64_t grown = rss > g->rss_then ? rss - g->rss_then : 0;
		uint64_t room = g->room > grown ? g->room - grown : 0;
		// Read again near the margin, now and then, and without an RSS.
		if (room < 2 * margin || ++g->calls >= GUARD_REREAD || g->statm < 0) {
			bool host;
			uint64_t now = headroom(&host);
			if (now != UINT64_MAX) {
				room = g->room = now;
				g->rss_then = rss;
				g->host = host;
			}
			g->calls = 0;
		}
		if (room < margin) {
			g->low = true;
			if (g->host)
				snprintf(g->reason, sizeof(g->reason),
					 "the memory the host has available was nearly used up (%" PRIu64
					 " MiB left above its reserve); the objects found after that "
					 "were not read: free memory to read them all",
					 room >> 20);
			else
				snprintf(g->reason, sizeof(g->reason),
					 "the memory limit of the tool's cgroup was nearly reached (%" PRIu64
					 " MiB left); the objects found after that were not read: run "
					 "the tool outside that limit (from the host) to read them all",
					 room >> 20);
		}
	}
	const char *why = g->low ? g->reason : NULL;
	pthread_mutex_unlock(&g->lock);
	return why;
}

void ph_memory_guard_destroy(struct ph_memory_guard *guard)
{
	if (!guard)
		return;
	if (guard->statm >= 0)
		close(guard->statm);
	pthread_mutex_destroy(&guard->lock);
	free(guard);
}

void ph_oom_first(void)
{
	// (Raising it needs no privilege; nothing to do where /proc says no.)
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = write(fd, "1000", 4);
		(void)n;
		close(fd);
	}
}

double ph_cpu_quota(void)
{
	static long milli = -1; // thousandths of a CPU; -1: not read yet
	long m = __atomic_load_n(&milli, __ATOMIC_RELAXED);
	if (m < 0) {
		char *mi, *cg;
		double q = 0;
		if (proc_texts(&mi, &cg)) {
			q = ph_cgroup_cpu_quota(mi, cg, "");
			free(mi);
			free(cg);
		}
		m = q > 0 && q < 1e6 ? (long)(q * 1000 + 0.5) : 0;
		if (q > 0 && m == 0)
			m = 1;
		__atomic_store_n(&milli, m, __ATOMIC_RELAXED); // (a race reads twice)
	}
	return (double)m / 1000;
}

unsigned ph_cpus(void)
{
	static unsigned cached; // 0: not read yet
	unsigned c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (c)
		return c;
	cpu_set_t set;
	c = sched_getaffinity(0, sizeof(set), &set) ? 1 : (unsigned)CPU_COUNT(&set);
	double q = ph_cpu_quota();
	if (q > 0 && q < c)
		c = (unsigned)q;
	if (!c)
		c = 1;
	__atomic_store_n(&cached, c, __ATOMIC_RELAXED);
	return c;
}
