// SPDX-License-Identifier: MIT
//
// copylimit: the floor of any out-of-process heap reader.
//
//   copylimit [--chunk MIB] [--keep] [--threads N] PID
//
// Stops every thread of PID the way pyheap-attach does (PTRACE_SEIZE +
// PTRACE_INTERRUPT per thread, re-reading /proc/PID/task until no new thread
// appears, waiting for each stop), makes ONE pass of process_vm_readv over
// every writable anonymous mapping and [heap] of the target, in large chunks
// (up to IOV_MAX remote iovecs per call), then detaches. It prints one line:
//
//   copylimit: pid P threads T mappings M bytes B unreadable U calls C
//              stop S ms copy X ms resume R ms pause P ms maps Q ms
//
// "copy" is the floor: the time of the process_vm_readv pass alone. "pause" is
// stop + maps + copy + resume, i.e. what this minimal reader costs the target.
//
// By default the data lands in one reused, pre-faulted buffer of --chunk MiB
// (default 8), so only the copy itself is measured. With --keep, everything is
// copied into one buffer of the total size (first-touch page faults on the
// reader's side included), which is what a reader that keeps the whole image
// would pay. With --threads N (1 to 8, default 1), N threads each copy a
// contiguous 1/N of the bytes, each into a buffer of its own (with --keep,
// their parts of the one buffer): pyheap-attach copies on two threads.
// Run with --keep and timed from spawn to exit, it is the least any reader
// that copies the target's memory takes (see bench.py: "floor").
//
// Exit status: 0 ok, 2 usage, 3 no such process, 4 ptrace/permission, 9 read error.

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IOV_MAX
#define IOV_MAX 1024
#endif

struct region {
	uint64_t start, end;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static pid_t *tids;
static size_t ntids, captids;

static bool has_tid(pid_t tid)
{
	for (size_t i = 0; i < ntids; i++)
		if (tids[i] == tid)
			return true;
	return false;
}

static void detach_all(void)
{
	for (size_t i = 0; i < ntids; i++)
		ptrace(PTRACE_DETACH, tids[i], 0, 0);
	ntids = 0;
}

// Waits (blocking) for the stop of a seized thread that was interrupted.
// Returns 0, or -1 when the thread exited.
static int wait_stopped(pid_t tid)
{
	for (;;) {
		int status;
		pid_t r = waitpid(tid, &status, __WALL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (WIFEXITED(status) || WIFSIGNALED(status))
			return -1;
		if (WIFSTOPPED(status))
			return 0;
	}
}

static int stop_all(pid_t pid)
{
	char taskdir[64];
	snprintf(taskdir, sizeof(taskdir), "/proc/%d/task", (int)pid);
	for (int pass = 0; pass < 100; pass++) {
		DIR *d = opendir(taskdir);
		if (!d) {
			fprintf(stderr, "copylimit: open %s: %s\n", taskdir, strerror(errno));
			return errno == ENOENT ? 3 : 4;
		}
		bool found_new = false;
		struct dirent *de;
		while ((de = readdir(d))) {
			char *end;
			long v = strtol(de->d_name, &end, 10);
			if (*end || v <= 0)
				continue;
			pid_t tid = (pid_t)v;
			if (has_tid(tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
				if (errno == ESRCH && tid != pid)
					continue;
				fprintf(stderr, "copylimit: ptrace seize %d: %s\n", (int)tid,
					strerror(errno));
				closedir(d);
				return errno == ESRCH ? 3 : 4;
			}
			if (ntids == captids) {
				captids = captids ? captids * 2 : 16;
				tids = realloc(tids, captids * sizeof(*tids));
				if (!tids) {
					perror("copylimit: realloc");
					exit(1);
				}
			}
			tids[ntids++] = tid;
			found_new = true;
			if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0 && errno != ESRCH) {
				fprintf(stderr, "copylimit: ptrace interrupt %d: %s\n", (int)tid,
					strerror(errno));
				closedir(d);
				return 4;
			}
			if (wait_stopped(tid) < 0) {
				ptrace(PTRACE_DETACH, tid, 0, 0);
				ntids--;
			}
		}
		closedir(d);
		if (!found_new)
			return ntids ? 0 : 3;
	}
	fprintf(stderr, "copylimit: threads keep appearing\n");
	return 4;
}

// Writable anonymous mappings (no path) and [heap].
static struct region *read_maps(pid_t pid, size_t *nret)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	struct region *r = NULL;
	size_t n = 0, cap = 0;
	char line[4096];
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, off, inode;
		char perms[8], dev[16];
		int pos = 0;
		if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &start, &end, perms, &off, dev,
			   &inode, &pos) < 6)
			continue;
		const char *name = line + pos;
		size_t len = strcspn(name, "\n");
		bool anon = len == 0 && inode == 0;
		bool heap = len == 6 && strncmp(name, "[heap]", 6) == 0;
		if (perms[0] != 'r' || perms[1] != 'w' || !(anon || heap))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			r = realloc(r, cap * sizeof(*r));
			if (!r) {
				perror("copylimit: realloc");
				exit(1);
			}
		}
		r[n].start = start;
		r[n].end = end;
		n++;
	}
	fclose(f);
	*nret = n;
	return r;
}

// One thread's share of the copy: the bytes [from, to) of the regions
// taken end to end.
struct job {
	pid_t pid;
	const struct region *reg;
	size_t nreg;
	uint64_t from, to;
	unsigned char *buf; /* --keep: where byte @from goes; else a chunk of its own */
	bool keep;
	size_t chunk;
	struct iovec *riov;
	uint64_t bytes, unreadable, calls;
	int err;
};

static void *copy_job(void *arg)
{
	struct job *j = arg;
	const struct region *reg = j->reg;
	// The region holding byte j->from, and the offset in it.
	size_t ri = 0;
	uint64_t roff = j->from, left_total = j->to - j->from, kept = 0;
	while (ri < j->nreg && roff >= reg[ri].end - reg[ri].start) {
		roff -= reg[ri].end - reg[ri].start;
		ri++;
	}
	while (ri < j->nreg && left_total) {
		// Gather remote iovecs totalling at most one chunk.
		size_t n = 0, want = 0;
		size_t si = ri;
		uint64_t soff = roff;
		while (si < j->nreg && n < IOV_MAX && want < j->chunk && want < left_total) {
			uint64_t left = reg[si].end - reg[si].start - soff;
			if (left > left_total - want)
				left = left_total - want;
			size_t take = left < j->chunk - want ? (size_t)left : j->chunk - want;
			j->riov[n].iov_base = (void *)(uintptr_t)(reg[si].start + soff);
			j->riov[n].iov_len = take;
			n++;
			want += take;
			soff += take;
			if (soff == reg[si].end - reg[si].start) {
				si++;
				soff = 0;
			}
		}
		struct iovec liov = {.iov_base = j->keep ? j->buf + kept : j->buf, .iov_len = want};
		ssize_t got = process_vm_readv(j->pid, &liov, 1, j->riov, n, 0);
		j->calls++;
		if (got < 0) {
			if (errno == ESRCH) {
				j->err = 3;
				break;
			}
			got = 0; // the first iovec failed outright
		}
		j->bytes += (uint64_t)got;
		if ((size_t)got == want) {
			kept += want;
			left_total -= want;
			ri = si;
			roff = soff;
			continue;
		}
		// Short read: it stopped inside riov[k]; skip the rest of that iovec.
		size_t acc = 0, k = 0;
		while (k < n && acc + j->riov[k].iov_len <= (size_t)got)
			acc += j->riov[k++].iov_len;
		uint64_t skipped = j->riov[k].iov_len - ((size_t)got - acc);
		j->unreadable += skipped;
		uint64_t advance = (uint64_t)got + skipped;
		kept += advance;
		left_total -= advance;
		// Re-position (ri, roff) past the skipped bytes.
		roff += advance;
		while (ri < j->nreg && roff >= reg[ri].end - reg[ri].start) {
			roff -= reg[ri].end - reg[ri].start;
			ri++;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	size_t chunk = 8u << 20;
	bool keep = false;
	unsigned nthreads_copy = 1;
	pid_t pid = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keep")) {
			keep = true;
		} else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) {
			long mib = strtol(argv[++i], NULL, 10);
			if (mib <= 0 || mib > 4096) {
				fprintf(stderr, "copylimit: bad --chunk\n");
				return 2;
			}
			chunk = (size_t)mib << 20;
		} else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
			long t = strtol(argv[++i], NULL, 10);
			if (t < 1 || t > 8) {
				fprintf(stderr, "copylimit: bad --threads (1 to 8)\n");
				return 2;
			}
			nthreads_copy = (unsigned)t;
		} else if (argv[i][0] != '-' && !pid) {
			char *end;
			long v = strtol(argv[i], &end, 10);
			if (*end || v <= 0) {
				fprintf(stderr, "copylimit: '%s' is not a process ID\n", argv[i]);
				return 2;
			}
			pid = (pid_t)v;
		} else {
			fprintf(stderr, "usage: copylimit [--chunk MIB] [--keep] [--threads N] PID\n");
			return 2;
		}
	}
	if (!pid) {
		fprintf(stderr, "usage: copylimit [--chunk MIB] [--keep] [--threads N] PID\n");
		return 2;
	}

	// A terminating signal must not leave the target stopped: block them
	// during the pause (PTRACE_SEIZE never injects SIGSTOP anyway).
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGPIPE);
	sigaddset(&block, SIGQUIT);

	unsigned char *buf = NULL;
	struct job jobs[8];
	memset(jobs, 0, sizeof(jobs));
	for (unsigned t = 0; t < nthreads_copy; t++) {
		if (!keep) {
			jobs[t].buf = mmap(NULL, chunk, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (jobs[t].buf == MAP_FAILED) {
				perror("copylimit: mmap");
				return 1;
			}
			// pre-fault: measure the copy, not our page faults
			memset(jobs[t].buf, 1, chunk);
		}
		jobs[t].riov = calloc(IOV_MAX, sizeof(*jobs[t].riov));
		if (!jobs[t].riov) {
			perror("copylimit: calloc");
			return 1;
		}
	}

	sigprocmask(SIG_BLOCK, &block, &old);
	uint64_t t0 = now_ns();
	int rc = stop_all(pid);
	if (rc) {
		detach_all();
		sigprocmask(SIG_SETMASK, &old, NULL);
		return rc;
	}
	uint64_t t_stopped = now_ns();
	size_t nreg = 0;
	struct region *reg = read_maps(pid, &nreg);
	uint64_t t_maps = now_ns();
	if (!reg) {
		detach_all();
		sigprocmask(SIG_SETMASK, &old, NULL);
		fprintf(stderr, "copylimit: cannot read /proc/%d/maps\n", (int)pid);
		return 9;
	}
	uint64_t total = 0;
	for (size_t i = 0; i < nreg; i++)
		total += reg[i].end - reg[i].start;
	if (keep) {
		buf = mmap(NULL, total ? total : 4096, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (buf == MAP_FAILED) {
			detach_all();
			sigprocmask(SIG_SETMASK, &old, NULL);
			perror("copylimit: mmap --keep");
			return 1;
		}
	}

	uint64_t t_copy = now_ns();
	pthread_t threads[8];
	bool started[8] = {false};
	for (unsigned t = 0; t < nthreads_copy; t++) {
		struct job *j = &jobs[t];
		j->pid = pid;
		j->reg = reg;
		j->nreg = nreg;
		j->from = total / nthreads_copy * t;
		j->to = t + 1 == nthreads_copy ? total : total / nthreads_copy * (t + 1);
		j->keep = keep;
		j->chunk = chunk;
		if (keep)
			j->buf = buf + j->from;
		if (t > 0)
			started[t] = pthread_create(&threads[t], NULL, copy_job, j) == 0;
		if (t > 0 && !started[t])
			j->err = 1; // (its bytes not copied: an error below)
	}
	copy_job(&jobs[0]);
	uint64_t bytes = 0, unreadable = 0, calls = 0;
	int err = 0;
	for (unsigned t = 0; t < nthreads_copy; t++) {
		if (t > 0 && started[t])
			pthread_join(threads[t], NULL);
		bytes += jobs[t].bytes;
		unreadable += jobs[t].unreadable;
		calls += jobs[t].calls;
		if (jobs[t].err)
			err = jobs[t].err;
	}
	uint64_t t_copied = now_ns();
	size_t nthreads = ntids;
	detach_all();
	uint64_t t_resumed = now_ns();
	sigprocmask(SIG_SETMASK, &old, NULL);

	if (err == 1) {
		fprintf(stderr, "copylimit: cannot start a copying thread\n");
		return 1;
	}
	if (err) {
		fprintf(stderr, "copylimit: pid %d exited during the copy\n", (int)pid);
		return err;
	}
	// Touch the data so the copy cannot be optimised away in spirit.
	volatile unsigned char sink = keep ? buf[0] : jobs[0].buf[0];
	(void)sink;
	printf("copylimit: pid %d threads %zu mappings %zu bytes %" PRIu64 " unreadable %" PRIu64
	       " calls %" PRIu64 " stop %.3f ms copy %.3f ms resume %.3f ms pause %.3f ms"
	       " maps %.3f ms\n",
	       (int)pid, nthreads, nreg, bytes, unreadable, calls, (double)(t_stopped - t0) / 1e6,
	       (double)(t_copied - t_copy) / 1e6, (double)(t_resumed - t_copied) / 1e6,
	       (double)(t_resumed - t0) / 1e6, (double)(t_maps - t_stopped) / 1e6);
	free(reg);
	for (unsigned t = 0; t < nthreads_copy; t++)
		free(jobs[t].riov);
	return 0;
}
