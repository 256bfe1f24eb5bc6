/* SPDX-License-Identifier: MIT */
#include "target.h"

#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char permission_hint[] =
	" — run as the same user with kernel.yama.ptrace_scope=0, or as root / with CAP_SYS_PTRACE";

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
			return ph_error_errno(PH_ERR_PERMISSION, e, "read %s", path);
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
	*ret = maps;
	return NULL;
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

uint64_t ph_target_rss(pid_t pid)
{
	long kb = status_field(pid, "VmRSS");
	return kb > 0 ? (uint64_t)kb * 1024 : 0;
}

struct ph_target {
	pid_t pid;
	pid_t *tids;
	int *pending_sig; // a signal seen at stop time, re-delivered on detach
	size_t n, cap;
};

size_t ph_target_nthreads(const struct ph_target *t)
{
	return t->n;
}

static bool has_tid(const struct ph_target *t, pid_t tid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->tids[i] == tid)
			return true;
	return false;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// Waits until @tid reports its stop. The stop is either the PTRACE_INTERRUPT
// trap (PTRACE_EVENT_STOP), a group-stop, or a signal-delivery-stop, whose
// signal we keep to re-inject at detach. Returns 0, or -errno (-ESRCH when
// the thread exited meanwhile, -ETIMEDOUT).
static int wait_stopped(pid_t tid, uint64_t deadline, int *sig)
{
	long delay_us = 10;
	for (;;) {
		int status;
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r == tid) {
			if (WIFEXITED(status) || WIFSIGNALED(status))
				return -ESRCH;
			if (WIFSTOPPED(status)) {
				int s = WSTOPSIG(status);
				int event = status >> 16;
				if (event == 0 && s != SIGTRAP && s != SIGSTOP && s != SIGTSTP &&
				    s != SIGTTIN && s != SIGTTOU)
					*sig = s;
				return 0;
			}
			continue;
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (now_ns() > deadline)
			return -ETIMEDOUT;
		struct timespec ts = {0, delay_us * 1000};
		nanosleep(&ts, NULL);
		if (delay_us < 1000)
			delay_us *= 2;
	}
}

static struct ph_error *attach_error(pid_t pid, pid_t tid, int e)
{
	if (e == ESRCH)
		return ph_error_create(PH_ERR_NO_PROCESS, "ptrace pid %d: no such process", (int)pid);
	if (e == EPERM || e == EACCES) {
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

static bool push_tid(struct ph_target *t, pid_t tid)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		pid_t *tids = reallocarray(t->tids, ncap, sizeof(*tids));
		if (!tids)
			return false;
		t->tids = tids;
		int *sigs = reallocarray(t->pending_sig, ncap, sizeof(*sigs));
		if (!sigs)
			return false;
		t->pending_sig = sigs;
		t->cap = ncap;
	}
	t->tids[t->n] = tid;
	t->pending_sig[t->n] = 0;
	t->n++;
	return true;
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
	// Threads may be created while we attach: list the task directory again
	// until a pass finds no thread we have not stopped (bounded).
	for (int pass = 0; pass < 100; pass++) {
		DIR *d = opendir(taskdir);
		if (!d) {
			err = errno == ENOENT ? ph_error_create(PH_ERR_NO_PROCESS,
								"pid %d: no such process", (int)pid)
					      : ph_error_errno(PH_ERR_PERMISSION, errno, "open %s",
							       taskdir);
			goto fail;
		}
		bool found_new = false;
		struct dirent *de;
		while ((de = readdir(d))) {
			char *end;
			long v = strtol(de->d_name, &end, 10);
			if (*end || v <= 0)
				continue;
			pid_t tid = (pid_t)v;
			if (has_tid(t, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
				int e = errno;
				if (e == ESRCH && tid != pid)
					continue; // the thread exited meanwhile
				closedir(d);
				err = attach_error(pid, tid, e);
				goto fail;
			}
			if (!push_tid(t, tid)) {
				ptrace(PTRACE_DETACH, tid, 0, 0);
				closedir(d);
				err = &ph_error_nomem;
				goto fail;
			}
			found_new = true;
			if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH) {
				closedir(d);
				err = ph_error_errno(PH_ERR_OTHER, errno, "ptrace interrupt thread %d",
						     (int)tid);
				goto fail;
			}
			int r = wait_stopped(tid, deadline, &t->pending_sig[t->n - 1]);
			if (r == -ESRCH) {
				// Exited between seize and stop: forget it.
				t->n--;
				if (tid == pid) {
					closedir(d);
					err = ph_error_create(PH_ERR_NO_PROCESS,
							      "pid %d: process exited while stopping it",
							      (int)pid);
					goto fail;
				}
				continue;
			}
			if (r < 0) {
				closedir(d);
				err = r == -ETIMEDOUT
					      ? ph_error_create(PH_ERR_OTHER,
								"stop pid %d: thread %d did not stop within %d ms",
								(int)pid, (int)tid, timeout_ms)
					      : ph_error_errno(PH_ERR_OTHER, -r, "wait for thread %d",
							       (int)tid);
				goto fail;
			}
		}
		closedir(d);
		if (!found_new) {
			if (t->n == 0) {
				err = ph_error_create(PH_ERR_NO_PROCESS, "pid %d: no such process",
						      (int)pid);
				goto fail;
			}
			*ret = t;
			return NULL;
		}
	}
	err = ph_error_create(PH_ERR_OTHER, "stop pid %d: threads keep appearing", (int)pid);
fail:
	ph_target_detach(t);
	return err;
}

void ph_target_detach(struct ph_target *t)
{
	if (!t)
		return;
	int saved = errno;
	for (size_t i = 0; i < t->n; i++)
		ptrace(PTRACE_DETACH, t->tids[i], 0, (void *)(long)t->pending_sig[i]);
	free(t->tids);
	free(t->pending_sig);
	free(t);
	errno = saved;
}

struct process_source {
	pid_t pid;
	int memfd; // /proc/PID/mem, opened read-only on demand
	bool use_memfd;
};

static long process_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct process_source *ps = arg;
	if (!ps->use_memfd) {
		struct iovec local = {buf, len};
		struct iovec remote = {(void *)(uintptr_t)addr, len};
		ssize_t n = process_vm_readv(ps->pid, &local, 1, &remote, 1, 0);
		if (n >= 0)
			return n > 0 ? (long)n : -EFAULT;
		if (errno == ESRCH)
			return -ESRCH;
		if (errno == EFAULT || errno == EIO)
			return -EFAULT;
		ps->use_memfd = true; // e.g. EPERM or ENOSYS: fall back
	}
	if (ps->memfd < 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)ps->pid);
		ps->memfd = open(path, O_RDONLY | O_CLOEXEC); // read-only, by construction
		if (ps->memfd < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}
	ssize_t n = pread(ps->memfd, buf, len, (off_t)addr);
	if (n > 0)
		return (long)n;
	return n == 0 ? -ESRCH : -EFAULT;
}

struct ph_error *ph_process_source_create(pid_t pid, struct ph_mem_source *ret)
{
	struct process_source *ps = calloc(1, sizeof(*ps));
	if (!ps)
		return &ph_error_nomem;
	ps->pid = pid;
	ps->memfd = -1;
	*ret = (struct ph_mem_source){.read = process_read, .arg = ps};
	return NULL;
}

void ph_process_source_destroy(struct ph_mem_source *src)
{
	struct process_source *ps = src->arg;
	if (!ps)
		return;
	if (ps->memfd >= 0)
		close(ps->memfd);
	free(ps);
	src->arg = NULL;
}
