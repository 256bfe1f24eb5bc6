/* SPDX-License-Identifier: MIT */
#include "target.h"
#include "thread.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char permission_hint[] =
	" — to inspect another user's process run pyheap-attach as root or with CAP_SYS_PTRACE "
	"(e.g. sudo pyheap-attach PID); as the same user, kernel.yama.ptrace_scope must be 0";

/*
 * Fault injection, compiled only into the test build (tests/safety/): the
 * environment variable PYHEAP_FAULT="POINT:K:ACTION" acts at the K-th time
 * (from 1) the code passes POINT:
 *   maps     after /proc/PID/maps was read (the preparation phase)
 *   seize    before a PTRACE_SEIZE         seized  between it and PTRACE_INTERRUPT
 *   wait     before waiting for a stop
 *   stopped  every thread is stopped       read    a memory read while stopped
 *   detach   before a PTRACE_DETACH        resumed every thread was resumed
 *   lateread a memory read after the resume (the walk of a copy reads
 *            read-only mappings from the running target)
 * ACTION: a signal name (SIGINT, SIGKILL, ...) sent to this process; an errno
 * name (EPERM, ESRCH, EFAULT, ETIMEDOUT) returned as the result of the
 * operation at that point (ESRCH on reads sticks: the target looks gone);
 * "kill-target" (SIGKILL to the target); "stop-target" (SIGSTOP to the target,
 * then 20 ms for a seized thread to take it); "sleepMS" (sleep MS milliseconds).
 * Nothing of this exists in the normal build.
 */
enum fault_point { FP_MAPS, FP_SEIZE, FP_SEIZED, FP_WAIT, FP_STOPPED, FP_READ, FP_DETACH,
		   FP_RESUMED, FP_LATEREAD, FP_COUNT };
#ifdef PH_FAULT_INJECTION
static const char *const fault_point_names[FP_COUNT] = {
	"maps", "seize", "seized", "wait", "stopped", "read", "detach", "resumed", "lateread",
};
static struct {
	bool parsed, active, sticky_esrch, attached, resumed;
	enum fault_point point;
	long k;
	long count[FP_COUNT];
	int sig, err, sleep_ms;
	bool kill_target, stop_target;
	char action[32];
} fault;

static void fault_parse(void)
{
	fault.parsed = true;
	const char *spec = getenv("PYHEAP_FAULT");
	char point[32], action[32];
	long k;
	if (!spec || sscanf(spec, "%31[a-z]:%ld:%31s", point, &k, action) != 3)
		return;
	for (int i = 0; i < FP_COUNT; i++)
		if (!strcmp(point, fault_point_names[i])) {
			fault.point = (enum fault_point)i;
			fault.active = true;
		}
	fault.k = k;
	memcpy(fault.action, action, sizeof(fault.action));
	static const struct { const char *name; int v; } sigs[] = {
		{"SIGINT", SIGINT}, {"SIGTERM", SIGTERM}, {"SIGHUP", SIGHUP}, {"SIGPIPE", SIGPIPE},
		{"SIGQUIT", SIGQUIT}, {"SIGKILL", SIGKILL}, {"SIGSTOP", SIGSTOP},
	}, errs[] = {
		{"EPERM", EPERM}, {"ESRCH", ESRCH}, {"EFAULT", EFAULT}, {"ETIMEDOUT", ETIMEDOUT},
		{"EIO", EIO},
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (!strcmp(action, sigs[i].name))
			fault.sig = sigs[i].v;
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (!strcmp(action, errs[i].name))
			fault.err = errs[i].v;
	if (!strcmp(action, "kill-target"))
		fault.kill_target = true;
	if (!strcmp(action, "stop-target")) {
		fault.stop_target = true;
		fault.sleep_ms = 20;
	}
	if (!strncmp(action, "sleep", 5))
		fault.sleep_ms = atoi(action + 5);
	if (!fault.sig && !fault.err && !fault.kill_target && !fault.sleep_ms)
		fault.active = false;
}

// Returns an errno to inject at this point, or 0.
static int fault_at(enum fault_point p, pid_t pid)
{
	if (!fault.parsed)
		fault_parse();
	if (p == FP_READ && fault.sticky_esrch)
		return ESRCH;
	if (p == FP_READ && !fault.attached) {
		if (!fault.resumed)
			return 0; // reads of the preparation phase are not counted
		p = FP_LATEREAD;
	}
	// (Reads may come from two threads: the count is atomic.)
	if (!fault.active || p != fault.point ||
	    __atomic_add_fetch(&fault.count[p], 1, __ATOMIC_RELAXED) != fault.k)
		return 0;
	// Announced first, so that the test knows it happened even if it kills.
	char msg[128];
	int len = snprintf(msg, sizeof(msg), "pyheap-attach: fault injected: %s:%ld:%s\n",
			   fault_point_names[p], fault.k, fault.action);
	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0)
		(void)0;
	if (fault.sig)
		kill(getpid(), fault.sig);
	if (fault.kill_target)
		kill(pid, SIGKILL);
	if (fault.stop_target)
		kill(pid, SIGSTOP);
	if (fault.sleep_ms) {
		struct timespec ts = {fault.sleep_ms / 1000, (fault.sleep_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	if ((p == FP_READ || p == FP_LATEREAD) && fault.err == ESRCH)
		fault.sticky_esrch = true;
	return fault.err;
}
static void fault_attached(bool on)
{
	if (fault.attached && !on)
		fault.resumed = true;
	fault.attached = on;
}
#else
static inline int fault_at(enum fault_point p, pid_t pid)
{
	(void)p;
	(void)pid;
	return 0;
}
static inline void fault_attached(bool on)
{
	(void)on;
}
#endif

struct ph_error *ph_maps_read(pid_t pid, struct ph_maps *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f) {
		int e = errno;
		if (e == ENOENT)
			return ph_error_create(PH_ERR_NO_PROCESS, "read %s: no such process", path);
		if (e == EACCES || e == EPERM)
			return ph_error_create(PH_ERR_PERMISSION, "read %s: %s%s", path, strerror(e),
					       permission_hint);
		return ph_error_errno(PH_ERR_OTHER, e, "read %s", path);
	}
	struct ph_maps maps = {0};
	size_t cap = 0;
	char *line = NULL;
	size_t linecap = 0;
	struct ph_error *err = NULL;
	while (getline(&line, &linecap, f) > 0) {
		uint64_t start, end, offset, inode;
		char perms[8];
		int pathpos = 0;
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*s %" SCNu64 " %n", &start,
			   &end, perms, &offset, &inode, &pathpos) < 5)
			continue;
		if (maps.n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct ph_map *m = reallocarray(maps.maps, ncap, sizeof(*m));
			if (!m) {
				err = &ph_error_nomem;
				break;
			}
			maps.maps = m;
			cap = ncap;
		}
		struct ph_map *m = &maps.maps[maps.n++];
		memset(m, 0, sizeof(*m));
		m->start = start;
		m->end = end;
		m->offset = offset;
		m->inode = inode;
		strlcpy(m->perms, perms, sizeof(m->perms));
		char *p = pathpos ? line + pathpos : NULL;
		if (p) {
			p[strcspn(p, "\n")] = '\0';
			if (*p)
				m->path = strdup(p);
		}
	}
	free(line);
	fclose(f);
	if (err) {
		ph_maps_deinit(&maps);
		return err;
	}
	if (maps.n == 0)
		return ph_error_create(PH_ERR_NO_PROCESS, "read %s: empty (process exited?)", path);
	fault_at(FP_MAPS, pid);
	*ret = maps;
	return NULL;
}

char *ph_map_clean_path(const struct ph_map *m)
{
	if (!m->path)
		return NULL;
	char *s = strdup(m->path);
	if (!s)
		return NULL;
	static const char del[] = " (deleted)";
	size_t n = strlen(s), dl = sizeof(del) - 1;
	if (n > dl && !strcmp(s + n - dl, del))
		s[n - dl] = '\0';
	return s;
}

char *ph_map_open_path(pid_t pid, const struct ph_map *m, bool *unsure)
{
	*unsure = false;
	char *clean = ph_map_clean_path(m);
	char *in_root = NULL;
	if (!clean || asprintf(&in_root, "/proc/%d/root%s", (int)pid, clean) < 0) {
		free(clean);
		return NULL;
	}
	bool deleted = strcmp(clean, m->path) != 0;
	free(clean);
	struct stat st;
	if (!deleted && stat(in_root, &st) == 0 && st.st_ino == m->inode)
		return in_root;
	// (An overlay file system may give another inode number for the same
	// file: map_files is right then too, when it can be opened.)
	char *mapped = NULL;
	if (asprintf(&mapped, "/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)pid, m->start,
		     m->end) < 0) {
		free(in_root);
		return NULL;
	}
	int fd = open(mapped, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		free(in_root);
		return mapped;
	}
	free(mapped);
	*unsure = true;
	return in_root;
}

void ph_maps_deinit(struct ph_maps *maps)
{
	for (size_t i = 0; i < maps->n; i++)
		free(maps->maps[i].path);
	free(maps->maps);
	maps->maps = NULL;
	maps->n = 0;
}

static long status_field(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[256];
	long v = -1;
	size_t len = strlen(name);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ':') {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

char *ph_target_root(pid_t pid)
{
	char *root = NULL;
	struct stat ours, theirs;
	if (asprintf(&root, "/proc/%d/root", (int)pid) < 0)
		return NULL;
	if (stat("/", &ours) < 0 || stat(root, &theirs) < 0 ||
	    (ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino)) {
		free(root);
		return NULL;
	}
	return root;
}

pid_t ph_target_ns_pid(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return pid;
	char line[256];
	long v = pid;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "NSpid:", 6))
			continue;
		// "NSpid:\t4242\t17\t1": the pid in each namespace, outermost first.
		char *p = line + 6, *end;
		for (long n = strtol(p, &end, 10); end != p; n = strtol(p, &end, 10)) {
			if (n > 0)
				v = n;
			p = end;
		}
		break;
	}
	fclose(f);
	return (pid_t)v;
}

struct ph_error *ph_target_check(pid_t pid)
{
	if (pid <= 0)
		return ph_error_create(PH_ERR_USAGE, "pid %d: not a valid process ID", (int)pid);
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return ph_error_create(PH_ERR_NO_PROCESS, "pid %d: no such process", (int)pid);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	if (access(path, F_OK) < 0)
		return ph_error_create(PH_ERR_NO_PROCESS, "pid %d: no such process", (int)pid);
	return NULL;
}

struct ph_error *ph_target_writable_ranges(pid_t pid, struct ph_mem_range **ret, size_t *n,
					   uint64_t *total)
{
	struct ph_maps maps;
	struct ph_error *err = ph_maps_read(pid, &maps);
	if (err)
		return err;
	struct ph_mem_range *r = reallocarray(NULL, maps.n ? maps.n : 1, sizeof(*r));
	if (!r) {
		ph_maps_deinit(&maps);
		return &ph_error_nomem;
	}
	size_t k = 0;
	uint64_t sum = 0;
	for (size_t i = 0; i < maps.n; i++) {
		const struct ph_map *m = &maps.maps[i];
		if (m->perms[0] != 'r' || m->perms[1] != 'w')
			continue;
		if (m->path && (!strcmp(m->path, "[vvar]") || !strcmp(m->path, "[vsyscall]")))
			continue;
		if (k && r[k - 1].end == m->start)
			r[k - 1].end = m->end;
		else
			r[k++] = (struct ph_mem_range){m->start, m->end};
		sum += m->end - m->start;
	}
	ph_maps_deinit(&maps);
	*ret = r;
	*n = k;
	*total = sum;
	return NULL;
}

// The page frame of the shared zero page, which a read of memory never
// written maps (a reader of the whole address space, such as a debugger or
// an older version of this tool, leaves it behind): 0 when page frames are
// hidden (without CAP_SYS_ADMIN) or unknown.
static uint64_t zero_page_frame(void)
{
	static uint64_t pfn = UINT64_MAX;
	if (pfn != UINT64_MAX)
		return pfn;
	pfn = 0;
	long page = sysconf(_SC_PAGESIZE);
	volatile uint8_t *p = mmap(NULL, (size_t)page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return pfn;
	(void)p[0]; // a read fault maps the zero page
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t e = 0;
	if (fd >= 0 && pread(fd, &e, 8, (off_t)((uintptr_t)p / (uintptr_t)page * 8)) == 8 &&
	    (e >> 63 & 1))
		pfn = e & ((1ull << 55) - 1);
	if (fd >= 0)
		close(fd);
	munmap((void *)p, (size_t)page);
	return pfn;
}

bool ph_target_resident_ranges(pid_t pid, struct ph_mem_range **ranges, size_t *n,
			       uint64_t *total)
{
	enum { PAGE = 4096, ENTRIES = 4096 };
	const uint64_t PRESENT = 1ull << 63, SWAPPED = 1ull << 62, PFN = (1ull << 55) - 1;
	uint64_t zero = zero_page_frame();
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	struct ph_mem_range *out = NULL;
	size_t nout = 0, cap = 0;
	uint64_t sum = 0;
	uint64_t *e = malloc(ENTRIES * sizeof(*e));
	bool ok = e != NULL;
	for (size_t i = 0; ok && i < *n; i++) {
		uint64_t a = (*ranges)[i].start & ~(uint64_t)(PAGE - 1), end = (*ranges)[i].end;
		while (ok && a < end) {
			size_t want = (end - a + PAGE - 1) / PAGE;
			if (want > ENTRIES)
				want = ENTRIES;
			ssize_t got = pread(fd, e, want * 8, (off_t)(a / PAGE * 8));
			if (got <= 0 || got % 8) {
				ok = false;
				break;
			}
			size_t m = (size_t)got / 8;
			for (size_t j = 0; j < m; j++, a += PAGE) {
				if (!(e[j] & (PRESENT | SWAPPED)) ||
				    (zero && (e[j] & PRESENT) && (e[j] & PFN) == zero))
					continue;
				uint64_t b = a + PAGE < end ? a + PAGE : end;
				if (nout && out[nout - 1].end == a) {
					out[nout - 1].end = b;
				} else {
					if (nout == cap) {
						size_t nc = cap ? cap * 2 : 256;
						struct ph_mem_range *r = reallocarray(out, nc, sizeof(*r));
						if (!r) {
							ok = false;
							break;
						}
						out = r;
						cap = nc;
					}
					out[nout++] = (struct ph_mem_range){a, b};
				}
				sum += b - a;
			}
		}
	}
	free(e);
	close(fd);
	if (!ok) {
		free(out);
		return false;
	}
	free(*ranges);
	*ranges = out;
	*n = nout;
	*total = sum;
	return true;
}

struct ph_error *ph_target_image_id(pid_t pid, uint64_t *ret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/auxv", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT || e == ESRCH)
			return ph_error_create(PH_ERR_NO_PROCESS, "pid %d: no such process", (int)pid);
		return ph_error_errno(e == EACCES || e == EPERM ? PH_ERR_PERMISSION : PH_ERR_OTHER, e,
				      "read %s", path);
	}
	// FNV-1a of the auxiliary vector: it holds addresses that exec
	// randomises (AT_RANDOM, AT_SYSINFO_EHDR, AT_PHDR of a PIE).
	uint64_t h = 0xcbf29ce484222325ull;
	uint8_t buf[1024];
	ssize_t n, total = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		total += n;
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ull;
	}
	int e = errno;
	close(fd);
	if (n < 0 || total == 0)
		return n < 0 && e != ESRCH
			       ? ph_error_errno(PH_ERR_OTHER, e, "read %s", path)
			       : ph_error_create(PH_ERR_NO_PROCESS, "pid %d: no such process (it exited)",
						 (int)pid);
	*ret = h;
	return NULL;
}

uint64_t ph_target_rss(pid_t pid)
{
	long kb = status_field(pid, "VmRSS");
	return kb > 0 ? (uint64_t)kb * 1024 : 0;
}

struct thread {
	pid_t tid;
	int pending_sig; // a signal-delivery-stop's signal, re-delivered on detach
	bool stopped;    // waitpid() reported its stop
	bool gone;       // exited (or a zombie) before it stopped
};

struct ph_target {
	pid_t pid;
	struct thread *threads;
	size_t n, cap;
};

size_t ph_target_nthreads(const struct ph_target *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += !t->threads[i].gone;
	return n;
}

static bool has_tid(const struct ph_target *t, pid_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->threads[i].tid == tid)
			return true;
	return false;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// The state letter of a thread in /proc/PID/task/TID/stat, or 0 if gone.
static char task_state(pid_t pid, pid_t tid)
{
	char path[96], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	// "TID (comm) S ...": comm may contain spaces and parentheses.
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * Waits until @tid reports a ptrace-stop. After PTRACE_INTERRUPT the first
 * stop of a seized thread is one of:
 * - the interrupt trap, or a group-stop (the thread was, or became, stopped
 *   by SIGSTOP & co.): both come as PTRACE_EVENT_STOP in status >> 16, the
 *   form SEIZE uses for group-stops. Nothing to re-deliver: on detach the
 *   kernel puts a thread of a stopped process back into its group-stop.
 * - a signal-delivery-stop (status >> 16 == 0): the thread was about to take
 *   a signal, which the kernel drops unless the detach passes it back. Every
 *   such signal is kept for the detach, stop signals included: dropping a
 *   SIGSTOP or SIGTSTP would cancel a stop someone else asked for. (SIGTRAP
 *   too: with SEIZE the kernel sends no SIGTRAP of its own after exec.)
 * Returns 0, or -errno: -ESRCH when the thread exited or is a zombie
 * meanwhile, -ETIMEDOUT past @deadline.
 */
static int wait_stopped(pid_t pid, pid_t tid, uint64_t deadline, int *sig)
{
	long delay_us = 10;
	for (;;) {
		int status;
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r == tid) {
			if (WIFEXITED(status) || WIFSIGNALED(status))
				return -ESRCH;
			if (WIFSTOPPED(status)) {
				if (status >> 16 == 0)
					*sig = WSTOPSIG(status);
				return 0;
			}
			continue;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (now_ns() > deadline) {
			// A zombie (e.g. a leader that called pthread_exit) never stops.
			char s = task_state(pid, tid);
			return s == 0 || s == 'Z' || s == 'X' ? -ESRCH : -ETIMEDOUT;
		}
		struct timespec ts = {0, delay_us * 1000};
		nanosleep(&ts, NULL);
		if (delay_us < 1000)
			delay_us *= 2;
	}
}

// True if the thread is gone, a zombie, or on its way out (PF_EXITING in the
// flags field of /proc/PID/task/TID/stat).
static bool task_exiting(pid_t pid, pid_t tid)
{
	char path[96], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	char state;
	unsigned long flags;
	char *p = strrchr(buf, ')');
	// ") S ppid pgrp session tty_nr tpgid flags"
	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || (flags & 0x4 /* PF_EXITING */);
}

static struct ph_error *attach_error(pid_t pid, pid_t tid, int e)
{
	if (e == ESRCH)
		return ph_error_create(PH_ERR_NO_PROCESS, "ptrace pid %d: no such process", (int)pid);
	if (e == EPERM || e == EACCES) {
		// PTRACE_SEIZE refuses an exiting task with EPERM too.
		if (task_exiting(pid, tid))
			return ph_error_create(PH_ERR_NO_PROCESS,
					       "pid %d: the process exited while being stopped",
					       (int)pid);
		long tracer = status_field(tid, "TracerPid");
		if (tracer > 0)
			return ph_error_create(PH_ERR_TRACED,
					       "ptrace pid %d: already traced by process %ld (a debugger "
					       "or strace) — detach it first",
					       (int)pid, tracer);
		return ph_error_create(PH_ERR_PERMISSION, "ptrace pid %d: %s%s", (int)pid,
				       strerror(e), permission_hint);
	}
	return ph_error_errno(PH_ERR_OTHER, e, "ptrace pid %d (thread %d)", (int)pid, (int)tid);
}

static struct thread *push_tid(struct ph_target *t, pid_t tid)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		struct thread *th = reallocarray(t->threads, ncap, sizeof(*th));
		if (!th)
			return NULL;
		t->threads = th;
		t->cap = ncap;
	}
	struct thread *th = &t->threads[t->n++];
	*th = (struct thread){.tid = tid};
	return th;
}

// Seizes one thread and asks it to stop; returns 0, or -errno.
static int seize_thread(struct ph_target *t, pid_t tid)
{
	int e = fault_at(FP_SEIZE, t->pid);
	if (e || ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return -(e ? e : errno);
	if (!push_tid(t, tid)) {
		ptrace(PTRACE_DETACH, tid, 0, 0); // seized, never interrupted: detachable
		return -ENOMEM;
	}
	fault_at(FP_SEIZED, t->pid);
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH)
		return -errno;
	return 0;
}

// Waits for the stop of a seized thread; returns 0, or -errno (-ESRCH: it
// exited, or is a zombie, meanwhile: then it is marked gone).
static int wait_thread(struct ph_target *t, struct thread *th, uint64_t deadline)
{
	int r = -fault_at(FP_WAIT, t->pid);
	if (!r)
		r = wait_stopped(t->pid, th->tid, deadline, &th->pending_sig);
	if (r == 0)
		th->stopped = true;
	if (r == -ESRCH)
		th->gone = true;
	return r;
}

static struct ph_error *stop_error(pid_t pid, pid_t tid, int r, int timeout_ms)
{
	if (r == -ETIMEDOUT)
		return ph_error_create(PH_ERR_OTHER,
				       "stop pid %d: thread %d did not stop within %d ms; every "
				       "thread was resumed, nothing was read",
				       (int)pid, (int)tid, timeout_ms);
	if (r == -ENOMEM)
		return &ph_error_nomem;
	if (r == -ESRCH)
		return ph_error_create(PH_ERR_NO_PROCESS,
				       "pid %d: the process exited while being stopped", (int)pid);
	return attach_error(pid, tid, -r);
}

struct ph_error *ph_target_attach(pid_t pid, int timeout_ms, struct ph_target **ret)
{
	struct ph_target *t = calloc(1, sizeof(*t));
	if (!t)
		return &ph_error_nomem;
	t->pid = pid;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	char taskdir[64];
	snprintf(taskdir, sizeof(taskdir), "/proc/%d/task", (int)pid);
	struct ph_error *err = NULL;
	bool leader_zombie = false;
	// Threads may be created while we attach: list the task directory again
	// until a pass finds no thread we have not stopped (bounded). A pass
	// seizes and interrupts every new thread first and then waits for them
	// all, so that they stop at nearly the same time. Each thread is recorded
	// as soon as it is seized, so that ph_target_detach() undoes exactly what
	// was done, whatever fails.
	for (int pass = 0; pass < 100; pass++) {
		DIR *d = opendir(taskdir);
		if (!d) {
			err = errno == ENOENT ? ph_error_create(PH_ERR_NO_PROCESS,
								"pid %d: no such process", (int)pid)
					      : ph_error_errno(PH_ERR_PERMISSION, errno, "open %s",
							       taskdir);
			goto fail;
		}
		size_t first = t->n;
		bool found_new = false;
		struct dirent *de;
		while ((de = readdir(d))) {
			char *end;
			long v = strtol(de->d_name, &end, 10);
			if (*end || v <= 0)
				continue;
			pid_t tid = (pid_t)v;
			if (has_tid(t, tid) || (tid == pid && leader_zombie))
				continue;
			char state = task_state(pid, tid);
			if (state == 'Z' || state == 'X') {
				// A zombie thread never stops (and has no memory of its own).
				if (tid == pid)
					leader_zombie = true;
				continue;
			}
			found_new = true;
			int r = seize_thread(t, tid);
			// Stopping; or a thread other than the leader that exited
			// meanwhile (PTRACE_SEIZE refuses one on its way out with EPERM).
			if (r == 0 || (tid != pid && (r == -ESRCH ||
						       (r == -EPERM && task_exiting(pid, tid)))))
				continue;
			closedir(d);
			err = stop_error(pid, tid, r, timeout_ms);
			goto fail;
		}
		closedir(d);
		for (size_t i = first; i < t->n; i++) {
			struct thread *th = &t->threads[i];
			int r = wait_thread(t, th, deadline);
			if (r == 0 || (r == -ESRCH && th->tid != pid))
				continue;
			if (r == -ESRCH && task_state(pid, th->tid) == 'Z') {
				leader_zombie = true; // the leader exited; its threads live on
				continue;
			}
			err = stop_error(pid, th->tid, r, timeout_ms);
			goto fail;
		}
		if (!found_new) {
			if (ph_target_nthreads(t) == 0) {
				err = ph_error_create(PH_ERR_NO_PROCESS, "pid %d: no such process",
						      (int)pid);
				goto fail;
			}
			fault_attached(true);
			fault_at(FP_STOPPED, pid);
			*ret = t;
			return NULL;
		}
	}
	err = ph_error_create(PH_ERR_OTHER, "stop pid %d: threads keep appearing", (int)pid);
fail:
	ph_target_detach(t);
	return err;
}

// Resumes one thread. PTRACE_DETACH works only on a thread in a ptrace-stop;
// it fails with ESRCH when the thread is gone, or when its stop was never
// reported (attach gave up waiting): then wait for that stop a little and
// detach again. A thread that still does not stop stays traced until this
// process exits, when the kernel detaches (and resumes) it: SEIZE never
// queued a SIGSTOP that could leave it stopped.
static void detach_thread(pid_t pid, struct thread *th)
{
	if (th->gone)
		return;
	if (ptrace(PTRACE_DETACH, th->tid, 0, (void *)(long)th->pending_sig) == 0 ||
	    errno != ESRCH || th->stopped)
		return;
	int sig = th->pending_sig;
	if (wait_stopped(pid, th->tid, now_ns() + 500000000u, &sig) == 0)
		ptrace(PTRACE_DETACH, th->tid, 0, (void *)(long)sig);
}

void ph_target_detach(struct ph_target *t)
{
	if (!t)
		return;
	int saved = errno;
	for (size_t i = 0; i < t->n; i++) {
		fault_at(FP_DETACH, t->pid);
		detach_thread(t->pid, &t->threads[i]);
	}
	fault_attached(false);
	if (t->n)
		fault_at(FP_RESUMED, t->pid);
	free(t->threads);
	free(t);
	errno = saved;
}

struct ph_watchdog {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct timespec deadline;
	int exit_code;
	char *message;
};

static void *watchdog_main(void *arg)
{
	struct ph_watchdog *wd = arg;
	pthread_mutex_lock(&wd->lock);
	while (!wd->stop) {
		int r = pthread_cond_timedwait(&wd->cond, &wd->lock, &wd->deadline);
		if (r == ETIMEDOUT && !wd->stop) {
			// The thread that stopped the target is stuck (a read blocked in
			// the kernel, a ptrace call waiting on an exec, a bug): ending
			// the whole process is the one way left to resume the target —
			// the kernel detaches a dead tracer's tracees, and SEIZE left
			// no SIGSTOP behind. _exit() runs no atexit handler that could
			// block.
			if (write(STDERR_FILENO, wd->message, strlen(wd->message)) < 0)
				(void)0;
			_exit(wd->exit_code);
		}
	}
	pthread_mutex_unlock(&wd->lock);
	return NULL;
}

struct ph_error *ph_watchdog_start(uint64_t deadline_ns, const char *message, int exit_code,
				   struct ph_watchdog **ret)
{
	struct ph_watchdog *wd = calloc(1, sizeof(*wd));
	if (!wd)
		return &ph_error_nomem;
	wd->message = strdup(message);
	wd->exit_code = exit_code;
	wd->deadline.tv_sec = (time_t)(deadline_ns / 1000000000u);
	wd->deadline.tv_nsec = (long)(deadline_ns % 1000000000u);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int e = wd->message ? 0 : ENOMEM;
	if (!e)
		e = pthread_mutex_init(&wd->lock, NULL);
	if (!e)
		e = pthread_cond_init(&wd->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!e) {
		// The watchdog takes no signal: those the command blocks during the
		// pause must wait for the resume, not run on this thread.
		if (!ph_thread_start(&wd->thread, watchdog_main, wd))
			e = EAGAIN;
	}
	if (e) {
		free(wd->message);
		free(wd);
		return e == ENOMEM ? &ph_error_nomem
				   : ph_error_errno(PH_ERR_OTHER, e, "start the pause watchdog");
	}
	*ret = wd;
	return NULL;
}

void ph_watchdog_stop(struct ph_watchdog *wd)
{
	if (!wd)
		return;
	pthread_mutex_lock(&wd->lock);
	wd->stop = true;
	pthread_cond_signal(&wd->cond);
	pthread_mutex_unlock(&wd->lock);
	pthread_join(wd->thread, NULL);
	pthread_cond_destroy(&wd->cond);
	pthread_mutex_destroy(&wd->lock);
	free(wd->message);
	free(wd);
}

/* Reads may come from two threads at once (ph_mem_prefetch()): the switch
 * to /proc/PID/mem and its opening are guarded. */
struct process_source {
	pid_t pid;
	int memfd; // /proc/PID/mem, opened read-only on demand
	bool use_memfd;
	pthread_mutex_t lock;
};

static bool uses_memfd(struct process_source *ps)
{
	return __atomic_load_n(&ps->use_memfd, __ATOMIC_ACQUIRE);
}

static void switch_to_memfd(struct process_source *ps)
{
	__atomic_store_n(&ps->use_memfd, true, __ATOMIC_RELEASE);
}

// The descriptor of /proc/PID/mem, opened on first use; -errno on failure.
static int get_memfd(struct process_source *ps)
{
	pthread_mutex_lock(&ps->lock);
	if (ps->memfd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)ps->pid);
		ps->memfd = open(path, O_RDONLY | O_CLOEXEC); // read-only, by construction
		if (ps->memfd < 0) {
			int e = errno;
			pthread_mutex_unlock(&ps->lock);
			return e == ENOENT ? -ESRCH : -e;
		}
	}
	int fd = ps->memfd;
	pthread_mutex_unlock(&ps->lock);
	return fd;
}

static long process_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct process_source *ps = arg;
	int fe = fault_at(FP_READ, ps->pid);
	if (fe)
		return -fe;
	if (!uses_memfd(ps)) {
		struct iovec local = {buf, len};
		struct iovec remote = {(void *)(uintptr_t)addr, len};
		ssize_t n = process_vm_readv(ps->pid, &local, 1, &remote, 1, 0);
		if (n >= 0)
			return n > 0 ? (long)n : -EFAULT;
		if (errno == ESRCH)
			return -ESRCH;
		if (errno == EFAULT || errno == EIO)
			return -EFAULT;
		switch_to_memfd(ps); // e.g. EPERM or ENOSYS: fall back
	}
	int fd = get_memfd(ps);
	if (fd < 0)
		return fd;
	ssize_t n = pread(fd, buf, len, (off_t)addr);
	if (n > 0)
		return (long)n;
	return n == 0 ? -ESRCH : -EFAULT;
}

// Many ranges per process_vm_readv call (at most IOV_MAX of each side).
static long process_readv(void *arg, const struct ph_mem_iov *iov, size_t n)
{
	struct process_source *ps = arg;
	int fe = fault_at(FP_READ, ps->pid);
	if (fe)
		return -fe;
	if (n > 512)
		n = 512;
	if (!uses_memfd(ps)) {
		struct iovec local[512], remote[512];
		for (size_t i = 0; i < n; i++) {
			local[i] = (struct iovec){iov[i].buf, iov[i].len};
			remote[i] = (struct iovec){(void *)(uintptr_t)iov[i].addr, iov[i].len};
		}
		ssize_t got = process_vm_readv(ps->pid, local, n, remote, n, 0);
		if (got >= 0)
			return (long)got;
		if (errno == ESRCH)
			return -ESRCH;
		if (errno == EFAULT || errno == EIO)
			return -EFAULT;
		switch_to_memfd(ps); // e.g. EPERM or ENOSYS: fall back
	}
	// /proc/PID/mem: one range after the other, up to the first short one.
	long total = 0;
	for (size_t i = 0; i < n; i++) {
		long got = process_read(ps, iov[i].addr, iov[i].buf, iov[i].len);
		if (got < 0)
			return total ? total : got;
		total += got;
		if ((size_t)got < iov[i].len)
			break;
	}
	return total;
}

struct ph_error *ph_process_source_create(pid_t pid, struct ph_mem_source *ret)
{
	struct process_source *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return &ph_error_nomem;
	ps->pid = pid;
	ps->memfd = -1;
	pthread_mutex_init(&ps->lock, NULL);
#ifdef PH_FAULT_INJECTION
	ps->use_memfd = getenv("PYHEAP_FAULT_MEMFD") != NULL; // test the fallback
#endif
	*ret = (struct ph_mem_source){.read = process_read, .arg = ps, .readv = process_readv};
	return NULL;
}

void ph_process_source_destroy(struct ph_mem_source *src)
{
	struct process_source *ps = src->arg;
	if (!ps)
		return;
	if (ps->memfd >= 0)
		close(ps->memfd);
	pthread_mutex_destroy(&ps->lock);
	free(ps);
	src->arg = NULL;
}
