/* SPDX-License-Identifier: MIT */
/*
 * pyheap-attach: parses arguments, runs the library, prints, picks the exit
 * code. The target is stopped only between attach and detach, with the
 * terminating signals blocked so that no path leaves it stopped.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "core.h"
#include "cpython.h"
#include "diff.h"
#include "dot.h"
#include "elffile.h"
#include "graph.h"
#include "layout.h"
#include "mem.h"
#include "memdump.h"
#include "partition.h"
#include "referrers.h"
#include "report.h"
#include "snapfile.h"
#include "snapshot.h"
#include "target.h"
#include "watch.h"

#ifndef PYHEAP_VERSION
#define PYHEAP_VERSION "0"
#endif

enum {
	EXIT_OK = 0,
	EXIT_OTHER = 1,
	EXIT_USAGE = 2,
	EXIT_NO_PROCESS = 3,
	EXIT_PERMISSION = 4,
	EXIT_TRACED = 5,
	EXIT_NOT_PYTHON = 6,
	EXIT_UNSUPPORTED = 7,
	EXIT_NO_DEBUG_INFO = 8,
	EXIT_READ = 9,
	EXIT_SNAPSHOT = 10,
	EXIT_INTERRUPTED = 130,
};

static const char usage_text[] =
	"Usage: pyheap-attach [OPTIONS] [-o FILE] PID\n"
	"       pyheap-attach --referrers TYPE [--depth N] [--paths N] [--dot FILE] [OPTIONS] PID\n"
	"       pyheap-attach --retained N [OPTIONS] PID\n"
	"       pyheap-attach --arenas [OPTIONS] PID\n"
	"       pyheap-attach --duplicates [OPTIONS] PID\n"
	"       pyheap-attach --fill [OPTIONS] PID\n"
	"       pyheap-attach --sites [OPTIONS] PID\n"
	"       pyheap-attach --threads [OPTIONS] PID\n"
	"       pyheap-attach --tasks [OPTIONS] PID\n"
	"       pyheap-attach --core FILE [--sysroot DIR] [-o FILE]\n"
	"                     [--referrers TYPE | --retained N | --arenas | --duplicates |\n"
	"                     --fill | --sites | --threads | --tasks] [OPTIONS]\n"
	"       pyheap-attach --load FILE [--referrers TYPE | --retained N | --arenas |\n"
	"                     --duplicates | --fill | --sites | --threads | --tasks]\n"
	"                     [OPTIONS]\n"
	"       pyheap-attach --diff A B [--referrers TYPE] [OPTIONS]   (A, B: snapshot files,\n"
	"                                                core files or PIDs)\n"
	"       pyheap-attach --watch SECONDS [--count N] [--save-dir DIR] [--plot FILE.svg] PID\n"
	"\n"
	"Stops a running CPython process for a moment, reads its heap from outside\n"
	"(nothing is written to it and no code runs in it), resumes it, and prints a\n"
	"Heapy-style partition of its objects by kind. Also reads core files of\n"
	"Python processes (--core).\n"
	"\n"
	"Options:\n"
	"  --json            print the result as one JSON object\n"
	"  --limit N         show the N largest kinds (default 10)\n"
	"  --all             show every kind\n"
	"  --referrers TYPE  who holds the objects of kind TYPE (exact, or its last\n"
	"                    component: 'Request'; 'dict': every dict), or of one\n"
	"                    object (0xADDRESS, or a path as paths print it:\n"
	"                    '__main__.cache[3].attr'; with [*], every object there):\n"
	"                    referrer kinds, reference pattern, shortest paths from roots;\n"
	"                    what they hold by reference (attributes, items: kinds,\n"
	"                    sizes, retained sizes), of one object with short values\n"
	"                    (--limit N rows, default 20)\n"
	"  --depth N         depth of the reference pattern (default 4)\n"
	"  --paths N         groups of shortest paths shown (default 10; 0: all)\n"
	"  --retained N      the N objects that keep the most memory alive (their\n"
	"                    retained size: themselves and all that only they hold,\n"
	"                    freed with them), with their shortest paths, how they\n"
	"                    nest, and what they keep, by kind; then the roots and\n"
	"                    the threads that alone keep the most alive\n"
	"  --arenas          pymalloc's arenas by the share of them in use, and the\n"
	"                    objects that keep the mostly free ones (at most 25% in use),\n"
	"                    by kind, with their shortest paths: what pins the memory\n"
	"                    of a fragmented heap\n"
	"  --duplicates      strs and bytes held in many copies of one value (the\n"
	"                    longer strs and the bytes by a hash of their values):\n"
	"                    what one copy each would save, the values with most\n"
	"                    (--limit N), and where their copies are held\n"
	"  --fill            dicts and sets mostly empty (under 10% of their room in\n"
	"                    use: deleting entries never shrinks their tables), by kind,\n"
	"                    and the ones whose copies would free most, with their\n"
	"                    shortest paths\n"
	"  --sites           the objects by the line that allocated them, with their\n"
	"                    kinds and tracebacks: tracemalloc's, when the target traces\n"
	"                    (PYTHONTRACEMALLOC=N, tracemalloc.start(); 3.8 to 3.13)\n"
	"  --threads         each thread's stack, innermost frame first (py-spy dump),\n"
	"                    with what the thread, each frame and each local keep alive\n"
	"                    alone (--limit N threads, largest first)\n"
	"  --tasks           each asyncio (or trio) task, what it awaits and its\n"
	"                    coroutines, innermost first, with what the task and each\n"
	"                    local keep alive alone; then the suspended greenlets\n"
	"                    (gevent) and their frames (--limit N, largest first)\n"
	"  --dot FILE        with --referrers: write the referrer graph around the objects,\n"
	"                    grouped by kind, in Graphviz format\n"
	"  -o, --output FILE write the snapshot to FILE (once the target is resumed)\n"
	"  --core FILE       analyse a core file of a Python process (gcore PID, or the\n"
	"                    kernel's) instead of a process: the files it mapped are\n"
	"                    read from this machine when they are the same files\n"
	"  --sysroot DIR     with --core: read the files the process mapped under DIR\n"
	"                    (the root of the machine or container it ran on)\n"
	"  --load FILE       analyse a snapshot file instead of a process\n"
	"  --diff A B        what grew from A to B (snapshot or core files, or PIDs read\n"
	"                    now): per\n"
	"                    kind, and objects new in B vs freed; with --referrers TYPE,\n"
	"                    who holds the new objects of TYPE\n"
	"  --watch SECONDS   take a snapshot every SECONDS and print the kinds that grew\n"
	"                    most since the first, where their new objects are held and\n"
	"                    (tracemalloc) allocated (Ctrl-C stops it; the target runs on)\n"
	"  --count N         with --watch: stop after N snapshots (default: until Ctrl-C)\n"
	"  --save-dir DIR    with --watch: keep each snapshot as DIR/snapshot-NNN.pyheap\n"
	"  --plot FILE.svg   with --watch: draw objects over time for the kinds that grew\n"
	"                    most, rewritten after each snapshot\n"
	"  --plot-bytes      with --plot: draw bytes instead of objects\n"
	"  --stats           print time per phase and bytes read (to stderr)\n"
	"  --timeout MS      upper bound on the pause; past it the target is resumed\n"
	"                    and the result is partial (default 10000)\n"
	"  --read copy|live  copy: copy the target's writable memory while it is stopped\n"
	"                    and walk the copy after resuming it (default; the shortest\n"
	"                    pause); live: walk while it is stopped (a longer pause; less\n"
	"                    memory when the heap is larger than --max-copy)\n"
	"  --max-copy MIB    the most of the target's memory held at once: above this much\n"
	"                    writable memory in use, read live, through a cache this large\n"
	"                    (default: half of the memory the tool may take: MemAvailable\n"
	"                    above a 64th of MemTotal, and within the cgroup's memory\n"
	"                    limit)\n"
	"  --walk-threads 1|2  walk the heap on one thread, or on two when there are\n"
	"                    two CPUs, except in its narrow parts such as long linked\n"
	"                    lists (default: 2 from about 80k objects while the CPUs\n"
	"                    are not busy, else 1; 1 under a CPU quota below 2 CPUs;\n"
	"                    the snapshot is the same; within --max-copy, one walks\n"
	"                    and, unless 1, the other reads ahead)\n"
	"  --debug-dir DIRS  colon-separated roots for separate debug info\n"
	"                    (default /usr/lib/debug; then, in a container, its own)\n"
	"  --no-cache        neither read nor write the layout cache\n"
	"                    ($XDG_CACHE_HOME/pyheap, else ~/.cache/pyheap)\n"
	"  --layout X.Y|FILE use this built-in layout table (3.8 .. 3.13, 3.14.0, 3.14.5)\n"
	"                    or layout file instead of debug info; it is still checked\n"
	"                    against the process\n"
	"  --dump-layout FILE  print the struct layout extracted from the DWARF of an\n"
	"                    interpreter ELF file (or its separate debug info), and exit\n"
	"  -h, --help        show this help\n"
	"  --version         show the version\n"
	"\n"
	"Exit status:\n"
	"  0  success\n"
	"  1  internal error (e.g. out of memory)\n"
	"  2  bad usage\n"
	"  3  no such process\n"
	"  4  permission denied (ptrace or /proc access)\n"
	"  5  the process is already traced by another debugger (gdb, strace)\n"
	"  6  not a Python process\n"
	"  7  unsupported Python version (CPython 3.8 to 3.14 are supported; 3.14 untested live)\n"
	"  8  no usable layout: no debug info and no built-in table for this version,\n"
	"     or the layout failed a check against the process; or what --arenas\n"
	"     or --sites needs is not there (arena table, tracemalloc's traces)\n"
	"  9  the target's memory could not be read (or the process exited)\n"
	"  10 a snapshot file could not be read or written (missing, truncated,\n"
	"     corrupted, another format version)\n"
	"  130 interrupted by a signal (the target is resumed first)\n";

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

static int exit_code(const struct ph_error *err)
{
	switch (err->code) {
	case PH_ERR_USAGE:
		return EXIT_USAGE;
	case PH_ERR_NO_PROCESS:
		return EXIT_NO_PROCESS;
	case PH_ERR_PERMISSION:
		return EXIT_PERMISSION;
	case PH_ERR_TRACED:
		return EXIT_TRACED;
	case PH_ERR_NOT_PYTHON:
		return EXIT_NOT_PYTHON;
	case PH_ERR_UNSUPPORTED:
		return EXIT_UNSUPPORTED;
	case PH_ERR_NO_DEBUG_INFO:
		return EXIT_NO_DEBUG_INFO;
	case PH_ERR_FAULT:
	case PH_ERR_BAD_DATA:
		return EXIT_READ;
	case PH_ERR_INTERRUPTED:
		return EXIT_INTERRUPTED;
	default:
		return EXIT_OTHER;
	}
}

static int fail(struct ph_error *err)
{
	fprintf(stderr, "pyheap-attach: %s\n", err->message);
	int code = exit_code(err);
	ph_error_destroy(err);
	return code;
}

// An error met while the process exited or exec'd (a stale description
// read garbage) is reported as that. @image: the program it ran at the start.
static struct ph_error *changed_under_us(pid_t pid, bool have_image, uint64_t image,
					 struct ph_error *err)
{
	if (!have_image || err == &ph_error_nomem || err->code == PH_ERR_INTERRUPTED ||
	    err->code == PH_ERR_USAGE)
		return err;
	uint64_t now;
	struct ph_error *e = ph_target_image_id(pid, &now);
	// A layout that does not fit a process it fitted a moment before: an
	// exec under way (the old memory gone, the auxiliary vector not yet the
	// new program's) shows the same image for a few milliseconds more.
	// (While the kernel replaces the program, reading its auxiliary vector
	// may also fail for a moment: asked again too.)
	for (int k = 0; k < 20 && err->code == PH_ERR_NO_DEBUG_INFO &&
			(e ? e->code != PH_ERR_NO_PROCESS : now == image);
	     k++) {
		nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
		ph_error_destroy(e);
		e = ph_target_image_id(pid, &now);
	}
	struct ph_error *why = NULL;
	if (e && e->code == PH_ERR_NO_PROCESS)
		why = ph_error_create(PH_ERR_NO_PROCESS,
				      "pid %d: the process exited while being inspected", (int)pid);
	else if (!e && now != image)
		why = ph_error_create(PH_ERR_FAULT,
				      "pid %d: the process started another program (exec) while being "
				      "inspected; nothing is reported — run pyheap-attach again",
				      (int)pid);
	ph_error_destroy(e);
	if (!why)
		return err;
	ph_error_destroy(err);
	return why;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int dump_layout(const char *path, const char *debug_dirs)
{
	struct ph_elf *f, *d = NULL;
	struct ph_error *err = ph_elf_open(path, &f);
	if (err)
		return fail(err);
	if (!f->has_debug_info) {
		err = ph_elf_find_debug(f, debug_dirs, NULL, NULL, &d);
		if (!err && !d)
			err = ph_error_create(PH_ERR_NO_DEBUG_INFO,
					      "dump layout of %s: no DWARF in the file and no separate "
					      "debug info found",
					      path);
		if (err) {
			ph_elf_close(f);
			return fail(err);
		}
	}
	struct ph_layout l;
	err = ph_layout_from_dwarf(d ? d : f, &l);
	if (err) {
		ph_elf_close(d);
		ph_elf_close(f);
		return fail(err);
	}
	char hex[129], comment[4400];
	ph_elf_build_id_hex(f, hex);
	snprintf(comment, sizeof(comment), "extracted from the DWARF of %s (build-id %s)",
		 d ? d->path : path, *hex ? hex : "none");
	ph_layout_write(&l, stdout, comment);
	ph_elf_close(d);
	ph_elf_close(f);
	return EXIT_OK;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

// The terminating signals: they only set got_signal; during the pause they
// are also blocked, so they arrive after every thread has been resumed.
static const int term_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT};
static sigset_t term_set;

static void install_signal_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigemptyset(&term_set);
	for (size_t i = 0; i < sizeof(term_signals) / sizeof(term_signals[0]); i++) {
		sigaction(term_signals[i], &sa, NULL);
		sigaddset(&term_set, term_signals[i]);
	}
}

struct capture_options {
	const struct ph_python_options *popt;
	long timeout_ms;
	bool live_read;
	uint64_t max_copy;          /**< 0: half of ph_memory_room(), less the tool's own */
	unsigned walk_threads;      /**< ph_walk_options.walk_threads */
	bool hash_values;           /**< ph_walk_options.hash_values: --duplicates, -o */
	bool keep_values;           /**< ph_walk_options.keep_values: what objects hold is
					 shown (--referrers, --threads, --tasks), -o */
	const char *dump_memory;    /**< hidden --dump-memory FILE */
	const char *sysroot;        /**< --sysroot DIR: where a core's mapped files are */
	unsigned long max_objects;  /**< hidden --max-objects N */
	bool free_later;            /**< give the copy back on another thread (join st->reaper) */
	/** what the rest of the walk and the analyses need beside the snapshot,
	 *  in percent of it (within a memory limit, the walk keeps that much free) */
	unsigned analysis_share;
};

struct capture_stats {
	uint64_t t0, t_symbols, t_stop, t_stopped, t_read, t_resumed, t_walked;
	struct ph_walk_times walk;
	struct ph_mem_stats ms;
	bool copied;
	struct ph_mem_reaper *reaper; /**< with free_later: ph_mem_destroy_join() it */
	bool core;       /**< read from a core file */
	uint64_t room;   /**< ph_memory_room() at the start (UINT64_MAX: unknown) */
	bool room_host;  /**< the host's MemAvailable set it, not a cgroup's limit */
};

// The resident or swapped-out bytes of @pid's writable mappings; false
// when its map cannot be read (it exited).
static bool writable_in_use(pid_t pid, uint64_t *total, uint64_t *block_bytes)
{
	struct ph_mem_range *ranges = NULL;
	size_t nranges = 0;
	struct ph_error *err = ph_target_writable_ranges(pid, &ranges, &nranges, total);
	if (!err) {
		ph_target_resident_ranges(pid, &ranges, &nranges, total);
		*block_bytes = ph_mem_block_bytes(ranges, nranges);
	}
	bool ok = !err;
	ph_error_destroy(err);
	free(ranges);
	return ok;
}

enum {
	RETAINED_KIND_ROWS = 20, /* --retained: rows whose retained objects are shown by kind */
	ARENA_HELD_KINDS = 3,    /* --arenas: kinds whose paths are shown */
	DUP_HELD_VALUES = 3,     /* --duplicates: values whose copies' paths are shown */
	FILL_HELD_KINDS = 3,     /* --fill: kinds whose paths are shown */
	DIFF_HELD_KINDS = 3,     /* --diff: kinds whose new objects' paths are shown */
	DIFF_HELD_PATHS = 3,     /* --diff: groups of paths shown per kind */
};

enum { TOOL_BASE_BYTES = 8 << 20 /* the tool's own memory beside the copy and snapshot */ };

// Of the memory the tool may take (what a limit of its cgroup leaves, a
// container's, and the host's MemAvailable above a reserve), beside its own
// few MiB: at most half for the target's data (--max-copy overrides), which
// this returns. The rest goes to the snapshot, which stops taking objects
// when that room is down to what the analyses need (a partial snapshot says
// so), so that the tool is not killed, nor the host short of memory.
static uint64_t copy_budget(const struct capture_options *o, struct capture_stats *st)
{
	st->room = ph_memory_room(&st->room_host);
	uint64_t room = st->room;
	uint64_t budget = room == UINT64_MAX ? 0 : room > TOOL_BASE_BYTES ? room - TOOL_BASE_BYTES : 0;
	return o->max_copy ? o->max_copy : budget / 2 > (1u << 20) ? budget / 2 : (1u << 20);
}

/*
 * One snapshot of @pid, the same sequence for a single run, each live side
 * of --diff and every --watch interval: find the interpreter and its layout,
 * stop every thread, copy the writable memory (or walk while stopped with
 * --read live), resume, walk the copy. The snapshot's pause, RSS and time
 * are set. A signal makes it return PH_ERR_INTERRUPTED, the target resumed.
 */
static struct ph_error *capture(pid_t pid, const struct capture_options *o,
				struct ph_snapshot **ret, struct capture_stats *st)
{
	memset(st, 0, sizeof(*st));
	long timeout_ms = o->timeout_ms;
	bool live_read = o->live_read;
	st->t0 = now_ns();
	// The program the process runs: checked again once it is stopped.
	uint64_t image = 0;
	struct ph_error *ierr = ph_target_image_id(pid, &image);
	bool have_image = !ierr;
	ph_error_destroy(ierr);
	struct ph_python *py;
	struct ph_error *err = ph_python_open(pid, o->popt, &py);
	if (err)
		return changed_under_us(pid, have_image, image, err);
	st->t_symbols = now_ns();
	if (got_signal) {
		ph_python_close(py);
		return ph_error_create(PH_ERR_INTERRUPTED, "interrupted");
	}

	struct ph_mem_source src;
	struct ph_mem *mem = NULL;
	err = ph_process_source_create(pid, &src);
	if (!err) {
		err = ph_mem_create(&src, &mem);
		if (err)
			ph_process_source_destroy(&src);
	}
	if (err) {
		ph_python_close(py);
		return err;
	}
	uint64_t rss = ph_target_rss(pid);
	if (o->dump_memory)
		ph_mem_track_reads(mem);

	uint64_t max_copy = copy_budget(o, st);
	unsigned long max_objects = o->max_objects;
	struct ph_memory_guard *guard =
		ph_memory_guard_create(o->analysis_share, st->room, st->room_host);
	// The writable memory the target has in use, measured before the stop
	// (only the pages in memory: idle threads' stacks are megabytes of
	// address space and a few pages of data).
	uint64_t in_use = 0, block_bytes = 0;
	bool measured = writable_in_use(pid, &in_use, &block_bytes);
	bool over_budget = measured && in_use > max_copy;
	// Reserve the copy's memory (the cache blocks it fills) before the stop,
	// with 1/32 slack for growth in between: page faults would lengthen the
	// pause, and each page reserved but not filled is tool RSS for nothing.
	uint64_t reserved = 0;
	if (!live_read && measured && !over_budget &&
	    ph_mem_reserve(mem, block_bytes + block_bytes / 32))
		reserved = block_bytes + block_bytes / 32;
	sigset_t old;
	sigprocmask(SIG_BLOCK, &term_set, &old);
	uint64_t t_stop = now_ns();
	st->t_stop = t_stop;
	uint64_t wall = realtime_ns();
	// Last resort should the pause outlive --timeout by 2 s (a read blocked
	// in the kernel, a ptrace call waiting on an exec in the target, a bug):
	// exit, and the kernel resumes the target.
	char wd_message[200];
	snprintf(wd_message, sizeof(wd_message),
		 "pyheap-attach: the pause exceeded %ld ms (--timeout + 2 s); exiting so that the "
		 "kernel resumes the target\n",
		 timeout_ms + 2000);
	struct ph_watchdog *watchdog = NULL;
	struct ph_target *target = NULL;
	err = ph_watchdog_start(t_stop + (uint64_t)(timeout_ms + 2000) * 1000000u, wd_message,
				EXIT_OTHER, &watchdog);
	if (!err)
		err = ph_target_attach(pid, (int)(timeout_ms < 2000 ? timeout_ms : 2000), &target);
	if (!err && have_image) {
		// An exec between ph_python_open() and the stop leaves a stale
		// description: read nothing. (Stopped, it cannot exec any more.)
		uint64_t now;
		struct ph_error *e = ph_target_image_id(pid, &now);
		if (!e && now != image)
			err = changed_under_us(pid, have_image, image,
					       ph_error_create(PH_ERR_FAULT, "exec"));
		ph_error_destroy(e);
	}
	uint64_t t_stopped = now_ns();
	struct ph_snapshot *snap = NULL;
	uint64_t t_read = t_stopped;
	bool copied = false, copy_complete = false;
	if (!err && !live_read) {
		// Copy the target's writable memory in bulk while it is stopped;
		// the walk then runs on the copy after the resume. Read-only
		// mappings (names in .rodata) are read later: they do not change.
		struct ph_mem_range *ranges = NULL;
		size_t nranges = 0;
		uint64_t total = 0;
		// No map (the target died meanwhile): read live; the walk says why.
		struct ph_error *rerr = ph_target_writable_ranges(pid, &ranges, &nranges, &total);
		ph_error_destroy(rerr);
		// Pages never touched are not copied: read later, they are what
		// they were (zeros, or the file's data), or unreadable.
		if (!rerr)
			ph_target_resident_ranges(pid, &ranges, &nranges, &total);
		over_budget = over_budget || (!rerr && total > max_copy);
		if (!rerr && total <= max_copy) {
			ph_mem_prefetch(mem, ranges, nranges,
						     t_stop + (uint64_t)timeout_ms * 1000000u, max_copy,
						     &copy_complete);
			copied = true;
			// (Not the snapshot's: the margin is a share of that.)
			struct ph_mem_stats cs;
			ph_mem_get_stats(mem, &cs);
			uint64_t held = cs.peak_blocks * 65536;
			if (guard)
				ph_memory_guard_set_aside(guard, held > reserved ? held : reserved);
		}
		free(ranges);
	}
	if (!err && !copied) {
		// Walk while stopped, holding at most max_copy of the target's
		// memory at a time: a heap larger than that is read again in parts
		// (a longer pause, not a tool that takes the host's memory).
		if (over_budget && !o->dump_memory) {
			ph_mem_set_limit(mem, max_copy);
			if (guard)
				ph_memory_guard_set_aside(guard, max_copy);
		}
		struct ph_walk_options wopt = {
			.deadline_ns = t_stop + (uint64_t)timeout_ms * 1000000u,
			.interrupted = &got_signal,
			.max_objects = max_objects,
			.memory_low = guard ? ph_memory_guard_check : NULL,
			.memory_arg = guard,
			.times = &st->walk,
			.walk_threads = o->walk_threads,
			.hash_values = o->hash_values,
			.keep_values = o->keep_values,
			.live_pid = pid,
			.memory_bytes = in_use,
		};
		err = ph_python_walk(py, mem, &wopt, &snap);
	}
	t_read = now_ns();
	if (target)
		ph_target_detach(target);
	ph_watchdog_stop(watchdog);
	uint64_t t_resumed = now_ns();
	sigprocmask(SIG_SETMASK, &old, NULL);
	// The target runs again from here on.
	if (!err && copied) {
		// Walk the copy. Signals are no longer blocked: Ctrl-C stops it.
		struct ph_walk_options wopt = {.interrupted = &got_signal,
					       .max_objects = max_objects,
					       .memory_low = guard ? ph_memory_guard_check : NULL,
					       .memory_arg = guard,
					       .times = &st->walk,
					       .walk_threads = o->walk_threads,
					       .hash_values = o->hash_values,
					       .keep_values = o->keep_values,
					       .copied = copy_complete,
					       .live_pid = pid};
		err = ph_python_walk(py, mem, &wopt, &snap);
		if (!err && !copy_complete) {
			snap->truncated = true;
			free(snap->truncated_reason);
			snap->truncated_reason = strdup("time limit reached while copying memory; the rest "
							"was read from the running process");
		}
	}
	ph_memory_guard_destroy(guard);
	st->t_walked = now_ns();
	// What follows reads only the snapshot.

	if (o->dump_memory && snap) {
		FILE *f = fopen(o->dump_memory, "we");
		struct ph_error *derr = f ? ph_memdump_write(py, mem, snap, o->max_objects, f)
					  : ph_error_errno(PH_ERR_OTHER, errno, "open %s", o->dump_memory);
		if (f && fclose(f) != 0 && !derr)
			derr = ph_error_errno(PH_ERR_OTHER, errno, "write %s", o->dump_memory);
		if (derr) {
			ph_error_destroy(err);
			err = derr;
		}
	}
	ph_mem_get_stats(mem, &st->ms);
	if (o->free_later)
		st->reaper = ph_mem_destroy_async(mem);
	else
		ph_mem_destroy(mem);
	ph_process_source_destroy(&src);
	ph_python_close(py);
	if (err) {
		ph_snapshot_destroy(snap);
		return changed_under_us(pid, have_image, image, err);
	}
	if (got_signal) {
		ph_snapshot_destroy(snap);
		return ph_error_create(PH_ERR_INTERRUPTED, "interrupted (the target was resumed)");
	}
	snap->pause_ns = t_resumed - t_stop;
	snap->rss = rss;
	snap->time_ns = wall;
	st->t_stop = t_stop;
	st->t_stopped = t_stopped;
	st->t_read = t_read;
	st->t_resumed = t_resumed;
	st->copied = copied;
	*ret = snap;
	return NULL;
}

/*
 * One snapshot of a core file: the interpreter found as in a process (the
 * files it mapped read from this machine, when they are the same), its
 * memory read from the core, within the same memory budget as a live run.
 */
static struct ph_error *capture_core(const char *path, const struct capture_options *o,
				     struct ph_snapshot **ret, struct capture_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->core = true;
	st->t0 = now_ns();
	struct ph_core *core;
	struct ph_error *err = ph_core_open(path, o->sysroot, &core);
	if (err)
		return err;
	struct ph_python *py = NULL;
	struct ph_mem *mem = NULL;
	struct ph_snapshot *snap = NULL;
	err = ph_python_open_core(core, o->popt, &py);
	st->t_symbols = st->t_stop = st->t_stopped = st->t_read = st->t_resumed = now_ns();
	struct ph_mem_source src;
	ph_core_source(core, &src);
	if (!err)
		err = ph_mem_create(&src, &mem);
	if (!err && o->dump_memory)
		ph_mem_track_reads(mem);
	uint64_t max_copy = copy_budget(o, st);
	struct ph_memory_guard *guard = NULL;
	uint64_t total = 0; // (the core's writable memory)
	if (!err) {
		// (The core's data and the files' pages the walk reads: held at
		// most max_copy of at once.)
		guard = ph_memory_guard_create(o->analysis_share, st->room, st->room_host);
		// Its writable memory copied in bulk first, as a process's is
		// (the walk then seldom waits for a read); above the budget, read
		// as the walk goes, within it.
		struct ph_mem_range *ranges = NULL;
		size_t nranges = 0;
		if (!ph_core_writable_ranges(core, &ranges, &nranges, &total)) {
			err = &ph_error_nomem;
		} else if (total <= max_copy && !o->dump_memory) {
			uint64_t block_bytes = ph_mem_block_bytes(ranges, nranges);
			ph_mem_reserve(mem, block_bytes);
			bool complete;
			ph_mem_prefetch(mem, ranges, nranges, 0, max_copy, &complete);
			st->copied = true;
			if (guard)
				ph_memory_guard_set_aside(guard, block_bytes);
		} else if (ph_core_bytes(core) > max_copy) {
			ph_mem_set_limit(mem, max_copy);
			if (guard)
				ph_memory_guard_set_aside(guard, max_copy);
		}
		free(ranges);
		st->t_read = st->t_resumed = now_ns();
	}
	if (!err) {
		struct ph_walk_options wopt = {
			.interrupted = &got_signal,
			.memory_bytes = total,
			.max_objects = o->max_objects,
			.memory_low = guard ? ph_memory_guard_check : NULL,
			.memory_arg = guard,
			.times = &st->walk,
			.walk_threads = o->walk_threads,
			.hash_values = o->hash_values,
			.keep_values = o->keep_values,
		};
		err = ph_python_walk(py, mem, &wopt, &snap);
	}
	ph_memory_guard_destroy(guard);
	st->t_walked = now_ns();
	if (mem)
		ph_mem_get_stats(mem, &st->ms);
	ph_mem_destroy(mem);
	ph_python_close(py);
	struct stat sb;
	if (!err && !(snap->core_path = strdup(path)))
		err = &ph_error_nomem;
	if (!err && stat(path, &sb) == 0) // (when the core was written)
		snap->time_ns = (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
				(uint64_t)sb.st_mtim.tv_nsec;
	uint64_t missing = ph_core_missing(core);
	if (missing && err && err != &ph_error_nomem && err->code != PH_ERR_INTERRUPTED) {
		// (What failed read the part that is missing, most likely.)
		struct ph_error *why = ph_error_create(
			PH_ERR_BAD_DATA, "read core %s: the file is cut short (%" PRIu64 " bytes of "
			"the process's memory missing): %s — write the core again (gcore PID)",
			path, missing, err->message);
		ph_error_destroy(err);
		err = why;
	} else if (missing && !err) {
		snap->truncated = true;
		free(snap->truncated_reason);
		if (asprintf(&snap->truncated_reason, "the core file is cut short: %" PRIu64
			     " bytes of the process's memory missing", missing) < 0)
			snap->truncated_reason = NULL;
	}
	ph_core_close(core);
	if (!err && got_signal)
		err = ph_error_create(PH_ERR_INTERRUPTED, "interrupted");
	if (err) {
		ph_snapshot_destroy(snap);
		return err;
	}
	*ret = snap;
	return NULL;
}

struct print_options {
	bool json;
	size_t limit;
	const char *referrers;
	struct ph_referrers_options ropt;
	size_t npaths;
	const char *dot;   /**< --dot FILE, with --referrers */
	size_t retained;   /**< --retained N: the N objects that retain the most */
	bool arenas;       /**< --arenas: what keeps pymalloc's mostly free arenas */
	bool duplicates;   /**< --duplicates: strs held in many copies */
	bool fill;         /**< --fill: dicts and sets mostly empty */
	bool sites;        /**< --sites: the objects by where they were allocated */
	bool threads;      /**< --threads: the threads' stacks and what they keep */
	bool tasks;        /**< --tasks: the asyncio tasks' await chains and what they keep */
	size_t holds;      /**< --referrers 0xADDRESS: rows of what it holds (0: all) */
};

// Exit code for an error about a snapshot file (out of memory stays 1).
static int fail_snapshot(struct ph_error *err)
{
	fprintf(stderr, "pyheap-attach: %s\n", err->message);
	int code = err == &ph_error_nomem ? EXIT_OTHER : EXIT_SNAPSHOT;
	ph_error_destroy(err);
	return code;
}

// --dot FILE: the referrer graph around @objs.
static int write_dot(const char *path, const struct ph_graph *g, const char *kind,
		     const uint32_t *objs, size_t n, const struct ph_referrers_options *ropt)
{
	FILE *f = fopen(path, "we");
	if (!f) {
		fprintf(stderr, "pyheap-attach: write %s: %s\n", path, strerror(errno));
		return EXIT_OTHER;
	}
	struct ph_dot_options dopt = {.depth = ropt->depth, .breadth = 6};
	struct ph_error *err = ph_dot_write(f, g, kind, objs, n, &dopt);
	if (fclose(f) != 0 && !err)
		err = ph_error_errno(PH_ERR_OTHER, errno, "write %s", path);
	return err ? fail(err) : EXIT_OK;
}

// --arenas: the arenas by use, the objects in the sparse ones by kind, and
// where the first kinds of them are held.
static int print_arenas(const struct ph_snapshot *snap, const struct print_options *po,
			uint64_t *t_analysis)
{
	struct ph_arena_use use;
	struct ph_error *err = ph_arena_use_compute(snap, &use);
	if (err) // (a snapshot without the list is a snapshot file's problem)
		return err->code == PH_ERR_BAD_DATA ? fail_snapshot(err) : fail(err);
	struct ph_graph graph = {0};
	struct ph_diff_held *held = NULL;
	size_t nheld = 0;
	err = ph_graph_build(snap, &graph);
	if (!err) {
		const char *kinds[ARENA_HELD_KINDS];
		size_t nk = 0;
		for (; nk < ARENA_HELD_KINDS && nk < use.kinds.nrows; nk++)
			kinds[nk] = use.kinds.rows[nk].kind;
		err = ph_held_by_kind(&graph, use.in_sparse, kinds, nk, &held, &nheld);
	}
	if (!err) {
		if (t_analysis)
			*t_analysis = now_ns();
		if (po->json) {
			ph_report_arenas_json(stdout, snap, &use, held, nheld, po->npaths);
		} else {
			ph_report_header(stdout, snap, &graph);
			ph_report_arenas_text(stdout, snap, &use, po->limit);
			ph_diff_report_held_text(stdout,
						 "Where they are held (shortest paths from roots, for the "
						 "kinds with most of them):",
						 "in those arenas", held, nheld, po->npaths);
		}
		fflush(stdout);
	}
	ph_diff_held_free(held, nheld);
	ph_graph_deinit(&graph);
	ph_arena_use_deinit(&use);
	return err ? fail(err) : EXIT_OK;
}

// --duplicates: strs of one value in many copies, the values with most
// extra bytes, and where the copies of the first ones are held.
static int print_duplicates(const struct ph_snapshot *snap, const struct print_options *po,
			    uint64_t *t_analysis)
{
	struct ph_dup_strs d;
	struct ph_error *err = ph_dup_strs_compute(snap, po->limit ? po->limit : SIZE_MAX, &d);
	if (err)
		return fail(err);
	struct ph_graph graph = {0};
	struct ph_diff_held *held = calloc(DUP_HELD_VALUES, sizeof(*held));
	size_t nheld = 0;
	uint8_t *mask = malloc(snap->nobjects ? snap->nobjects : 1);
	err = mask && held ? ph_graph_build(snap, &graph) : &ph_error_nomem;
	static const char *const str_kind[] = {"str"}, *const bytes_kind[] = {"bytes"};
	for (size_t k = 0; !err && k < d.ntop && k < DUP_HELD_VALUES; k++) {
		struct ph_diff_held *h = NULL;
		size_t nh = 0;
		ph_dup_strs_mark(snap, &d, &d.top[k], mask);
		err = ph_held_by_kind(&graph, mask,
				      ph_dup_value_is_bytes(snap, &d.top[k]) ? bytes_kind : str_kind, 1,
				      &h, &nh);
		if (!err && nh == 1) {
			// (named by its value, quoted)
			free(h[0].kind);
			h[0].kind = ph_dup_value_repr(snap, &d.top[k], 60);
			held[nheld++] = h[0];
			free(h);
			if (!held[nheld - 1].kind)
				err = &ph_error_nomem;
		} else {
			ph_diff_held_free(h, nh);
			break; // (keeps held[k] the value top[k]'s)
		}
	}
	if (!err) {
		if (t_analysis)
			*t_analysis = now_ns();
		if (po->json) {
			ph_report_dup_strs_json(stdout, snap, &d, held, nheld, po->npaths);
		} else {
			ph_report_header(stdout, snap, &graph);
			ph_report_dup_strs_text(stdout, snap, &d, held, nheld, po->npaths);
		}
		fflush(stdout);
	}
	ph_diff_held_free(held, nheld);
	free(mask);
	ph_graph_deinit(&graph);
	ph_dup_strs_deinit(&d);
	return err ? fail(err) : EXIT_OK;
}

// --fill: the dicts and sets mostly empty, by kind, and the ones whose
// copies would free most, with their shortest paths.
static int print_fill(const struct ph_snapshot *snap, const struct print_options *po,
		      uint64_t *t_analysis)
{
	struct ph_fill f;
	struct ph_error *err = ph_fill_compute(snap, po->limit ? po->limit : SIZE_MAX, &f);
	if (err) // (a snapshot without them is a snapshot file's problem)
		return err->code == PH_ERR_BAD_DATA ? fail_snapshot(err) : fail(err);
	struct ph_graph graph = {0};
	struct ph_diff_held *held = NULL;
	size_t nheld = 0;
	uint8_t *mask = calloc(snap->nobjects ? snap->nobjects : 1, 1);
	err = mask ? ph_graph_build(snap, &graph) : &ph_error_nomem;
	if (!err) {
		const char *kinds[FILL_HELD_KINDS];
		size_t nk = 0;
		for (; nk < FILL_HELD_KINDS && nk < f.kinds.nrows; nk++)
			kinds[nk] = f.kinds.rows[nk].kind;
		for (size_t i = 0; i < snap->nsparse_tables; i++)
			mask[snap->sparse_tables[i].object] = 1;
		err = ph_held_by_kind(&graph, mask, kinds, nk, &held, &nheld);
	}
	if (!err) {
		if (t_analysis)
			*t_analysis = now_ns();
		if (po->json) {
			ph_report_fill_json(stdout, &graph, &f, held, nheld, po->npaths);
		} else {
			ph_report_header(stdout, snap, &graph);
			ph_report_fill_text(stdout, &graph, &f, held, nheld, po->limit, po->npaths);
		}
		fflush(stdout);
	}
	ph_diff_held_free(held, nheld);
	free(mask);
	ph_graph_deinit(&graph);
	ph_fill_deinit(&f);
	return err ? fail(err) : EXIT_OK;
}

// --sites: the objects by the line that allocated them (tracemalloc's
// tracebacks in the snapshot).
static int print_sites(const struct ph_snapshot *snap, const struct print_options *po,
		       uint64_t *t_analysis)
{
	struct ph_sites sites;
	struct ph_error *err = ph_sites_compute(snap, NULL, &sites);
	if (err)
		return fail(err);
	if (t_analysis)
		*t_analysis = now_ns();
	if (po->json) {
		ph_report_sites_json(stdout, snap, &sites, po->limit);
	} else {
		ph_report_header(stdout, snap, NULL);
		ph_report_sites_text(stdout, snap, &sites, po->limit);
	}
	fflush(stdout);
	ph_sites_deinit(&sites);
	return EXIT_OK;
}

enum { STACK_LOCALS = 20 }; /* --threads: rows of locals per frame in the text */

// --threads: each thread's stack, innermost frame first, with what the
// thread, each frame and each local keep alive alone.
static int print_threads(const struct ph_snapshot *snap, const struct print_options *po,
			 uint64_t *t_analysis)
{
	struct ph_graph graph = {0};
	struct ph_stacks st = {0};
	struct ph_error *err = ph_graph_build(snap, &graph);
	if (!err)
		err = ph_stacks_compute(&graph, po->json ? 0 : STACK_LOCALS, &st);
	if (!err) {
		if (t_analysis)
			*t_analysis = now_ns();
		if (po->json) {
			ph_report_stacks_json(stdout, &graph, &st);
		} else {
			ph_report_header(stdout, snap, &graph);
			ph_report_stacks_text(stdout, &graph, &st, po->limit);
		}
		fflush(stdout);
	}
	ph_stacks_deinit(&st);
	ph_graph_deinit(&graph);
	return err ? fail(err) : EXIT_OK;
}

// --tasks: each asyncio task, what it awaits and its coroutines, innermost
// first, with what the task and each local keep alive alone.
static int print_tasks(const struct ph_snapshot *snap, const struct print_options *po,
		       uint64_t *t_analysis)
{
	struct ph_graph graph = {0};
	struct ph_tasks ts = {0};
	struct ph_error *err = ph_graph_build(snap, &graph);
	if (!err)
		err = ph_tasks_compute(&graph, po->json ? 0 : STACK_LOCALS, &ts);
	if (!err) {
		if (t_analysis)
			*t_analysis = now_ns();
		if (po->json) {
			ph_report_tasks_json(stdout, &graph, &ts);
		} else {
			ph_report_header(stdout, snap, &graph);
			ph_report_tasks_text(stdout, &graph, &ts, po->limit);
		}
		fflush(stdout);
	}
	ph_tasks_deinit(&ts);
	ph_graph_deinit(&graph);
	return err ? fail(err) : EXIT_OK;
}

/*
 * The analyses and the report of one snapshot, the same for a live run and
 * --load: what is printed depends on the snapshot alone. @t_analysis (may be
 * NULL) gets the time the analyses ended.
 */
static int analyse_and_print(const struct ph_snapshot *snap, const struct print_options *po,
			     uint64_t *t_analysis)
{
	struct ph_graph graph = {0};
	struct ph_partition part = {0};
	struct ph_referrers refs = {0};
	struct ph_holds holds = {0};
	struct ph_holds_groups groups = {0};
	bool have_holds = false, have_groups = false;
	uint32_t *objs = NULL;
	size_t nobjs = 0;
	char *kind = NULL;
	struct ph_error *err;
	if (po->retained) {
		err = ph_graph_build(snap, &graph);
		struct ph_dominators dom = {0};
		uint32_t *top = NULL;
		size_t ntop = 0;
		if (!err)
			err = ph_dominators_compute(&graph, &dom);
		struct ph_retained_rows rows = {0};
		if (!err)
			err = ph_dominators_top(&dom, po->retained, &top, &ntop);
		if (!err)
			err = ph_dominators_rows(snap, &dom, top, ntop, RETAINED_KIND_ROWS, &rows);
		if (!err) {
			if (t_analysis)
				*t_analysis = now_ns();
			if (po->json) {
				ph_report_retained_json(stdout, &graph, &dom, top, ntop, &rows);
			} else {
				ph_report_header(stdout, snap, &graph);
				ph_report_retained_text(stdout, &graph, &dom, top, ntop, &rows);
			}
			fflush(stdout);
		}
		ph_retained_rows_deinit(&rows);
		free(top);
		ph_dominators_deinit(&dom);
		ph_graph_deinit(&graph);
		return err ? fail(err) : EXIT_OK;
	}
	if (po->arenas)
		return print_arenas(snap, po, t_analysis);
	if (po->duplicates)
		return print_duplicates(snap, po, t_analysis);
	if (po->fill)
		return print_fill(snap, po, t_analysis);
	if (po->sites)
		return print_sites(snap, po, t_analysis);
	if (po->threads)
		return print_threads(snap, po, t_analysis);
	if (po->tasks)
		return print_tasks(snap, po, t_analysis);
	if (po->referrers || po->dot) {
		// Paths and referrers need the whole graph.
		err = ph_graph_build(snap, &graph);
		if (err)
			return fail(err);
		if (po->referrers) {
			bool one = false;
			err = ph_referrers_select(&graph, po->referrers, &objs, &nobjs, &kind, &one);
			if (!err)
				err = ph_referrers_compute_set(&graph, kind, objs, nobjs, &po->ropt,
							       &refs);
			// One object (by its address, by a path): also what it holds;
			// the objects of a kind: what they hold, by reference.
			if (!err && one && nobjs == 1)
				err = ph_holds_compute(&graph, objs[0], po->holds, &holds);
			else if (!err && nobjs)
				err = ph_holds_groups_compute(&graph, objs, nobjs, po->holds, &groups);
			have_holds = !err && one && nobjs == 1;
			have_groups = !err && !have_holds && nobjs;
		} else {
			err = ph_partition_compute(snap, &part);
		}
	} else {
		// The partition needs only the graph's counts: on two cores at once.
		struct ph_reach_job *job;
		err = ph_graph_reach_start(snap, &job);
		if (err)
			return fail(err);
		err = ph_partition_compute(snap, &part);
		struct ph_error *jerr = ph_graph_reach_join(job, &graph);
		if (!err)
			err = jerr;
		else
			ph_error_destroy(jerr);
	}
	if (err) {
		free(objs);
		free(kind);
		ph_graph_deinit(&graph);
		return fail(err);
	}
	// Where the objects were allocated, when tracemalloc traced them.
	struct ph_sites alloc = {0};
	bool have_alloc = false;
	if (po->referrers && snap->tracemalloc.known) {
		uint8_t *mask = calloc(snap->nobjects ? snap->nobjects : 1, 1);
		for (size_t i = 0; mask && i < nobjs; i++)
			mask[objs[i]] = 1;
		struct ph_error *aerr = mask ? ph_sites_compute(snap, mask, &alloc) : &ph_error_nomem;
		have_alloc = !aerr;
		ph_error_destroy(aerr); // (the rest of the report stands without it)
		free(mask);
	}
	if (t_analysis)
		*t_analysis = now_ns();
	if (po->referrers && po->json) {
		ph_report_referrers_json(stdout, snap, &refs, po->npaths, have_alloc ? &alloc : NULL,
					 have_holds ? &graph : NULL, &holds,
					 have_groups ? &groups : NULL);
	} else if (po->referrers) {
		ph_report_header(stdout, snap, NULL);
		ph_report_referrers_text(stdout, &refs, po->npaths);
		if (have_holds)
			ph_report_holds_text(stdout, &graph, &holds);
		if (have_groups)
			ph_report_holds_groups_text(stdout, &groups);
		if (have_alloc)
			ph_report_alloc_text(stdout, "Allocated at", snap, &alloc);
	} else if (po->json) {
		ph_report_partition_json(stdout, snap, &part, &graph);
	} else {
		ph_report_header(stdout, snap, &graph);
		ph_report_partition_text(stdout, snap, &part, po->limit);
	}
	fflush(stdout);
	int rc = EXIT_OK;
	if (po->dot)
		rc = write_dot(po->dot, &graph, kind, objs, nobjs, &po->ropt);
	free(objs);
	free(kind);
	ph_sites_deinit(&alloc);
	ph_holds_deinit(&holds);
	ph_holds_groups_deinit(&groups);
	ph_referrers_deinit(&refs);
	ph_partition_deinit(&part);
	ph_graph_deinit(&graph);
	return rc;
}

// --load FILE
static int run_load(const char *path, const struct print_options *po)
{
	struct ph_snapshot *snap;
	struct ph_error *err = ph_snapfile_read(path, &snap);
	if (err)
		return fail_snapshot(err);
	int rc = analyse_and_print(snap, po, NULL);
	ph_snapshot_destroy(snap);
	return rc;
}

// A PID on the command line: digits only, in range.
static bool parse_pid(const char *s, pid_t *ret)
{
	char *end;
	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	long v = strtol(s, &end, 10);
	if (*end || v <= 0 || v > 0x7fffffff)
		return false;
	*ret = (pid_t)v;
	return true;
}

// One side of --diff: a live PID (a number), a core file or a snapshot file.
static int diff_side(const char *arg, const struct capture_options *co,
		     struct ph_snapshot **snap, char **source)
{
	pid_t pid;
	struct ph_error *err;
	if (parse_pid(arg, &pid)) {
		struct capture_stats st;
		err = capture(pid, co, snap, &st);
		if (err)
			return fail(err);
		if (asprintf(source, "pid %d, live", (int)pid) < 0) {
			ph_snapshot_destroy(*snap);
			return fail(&ph_error_nomem);
		}
		return EXIT_OK;
	}
	if (ph_core_is_core_file(arg)) {
		struct capture_stats st;
		err = capture_core(arg, co, snap, &st);
		if (err)
			return fail(err);
		if (asprintf(source, "core %s", arg) < 0) {
			ph_snapshot_destroy(*snap);
			return fail(&ph_error_nomem);
		}
		return EXIT_OK;
	}
	err = ph_snapfile_read(arg, snap);
	if (err)
		return fail_snapshot(err);
	if (!(*source = strdup(arg))) {
		ph_snapshot_destroy(*snap);
		return fail(&ph_error_nomem);
	}
	return EXIT_OK;
}

// --diff A B
static int run_diff(const char *arg_a, const char *arg_b, const struct capture_options *co,
		    const struct print_options *po)
{
	struct ph_snapshot *a = NULL, *b = NULL;
	char *src_a = NULL, *src_b = NULL;
	mallopt(M_MMAP_THRESHOLD, 128 * 1024); // (two captures: see run_watch())
	int rc = diff_side(arg_a, co, &a, &src_a);
	if (rc)
		return rc;
	rc = diff_side(arg_b, co, &b, &src_b);
	if (rc) {
		ph_snapshot_destroy(a);
		free(src_a);
		return rc;
	}
	struct ph_diff d = {0};
	struct ph_graph graph = {0};
	struct ph_referrers refs = {0};
	uint32_t *objs = NULL;
	size_t nobjs = 0;
	char *kind = NULL, *label = NULL;
	bool have_graph = false, have_refs = false, have_alloc = false, have_groups = false;
	struct ph_holds_groups groups = {0};
	struct ph_sites alloc = {0};
	struct ph_diff_held *held = NULL;
	size_t nheld = 0;
	struct ph_error *err = ph_diff_compute(a, b, &d);
	bool same = a->pid == b->pid;
	if (!err && !po->referrers && d.new_count) {
		// Where the new objects of the kinds that grew most are (what
		// --referrers tells in full for one kind); between two processes,
		// where B holds all of its objects of those kinds (each is new).
		struct ph_error *e = ph_graph_build(b, &graph);
		have_graph = !e;
		if (!e)
			e = ph_diff_held(&d, &graph, DIFF_HELD_KINDS, &held, &nheld);
		ph_error_destroy(e); // (without the memory for it: the table alone)
	}
	if (!err && po->referrers) {
		// Who holds the new objects of the kind: the referrers analysis on
		// B, restricted to the objects that are not in A.
		err = ph_graph_build(b, &graph);
		have_graph = !err;
		if (!err)
			err = ph_referrers_select(&graph, po->referrers, &objs, &nobjs, &kind, NULL);
		if (!err) {
			size_t m = 0;
			for (size_t k = 0; k < nobjs; k++)
				if (d.is_new[objs[k]])
					objs[m++] = objs[k];
			nobjs = m;
			if (asprintf(&label, "%s (new in B)", kind) < 0)
				err = &ph_error_nomem;
		}
		if (!err)
			err = ph_referrers_compute_set(&graph, label, objs, nobjs, &po->ropt, &refs);
		have_refs = !err;
		if (!err && nobjs)
			err = ph_holds_groups_compute(&graph, objs, nobjs, po->holds, &groups);
		have_groups = !err && nobjs;
	}
	if (err) {
		rc = fail(err);
		goto out;
	}
	// Where the new objects were allocated, when B has tracemalloc's traces.
	if (b->tracemalloc.known && d.new_count) {
		struct ph_error *e = ph_sites_compute(b, d.is_new, &alloc);
		have_alloc = !e;
		ph_error_destroy(e); // (the diff stands without it)
	}
	struct ph_diff_side sa = {a, src_a}, sb = {b, src_b};
	if (po->json) {
		ph_diff_report_json(stdout, &d, &sa, &sb, have_refs ? &refs : NULL, held, nheld,
				    po->npaths, have_alloc ? &alloc : NULL,
				    have_groups ? &groups : NULL);
	} else {
		ph_diff_report_text(stdout, &d, &sa, &sb, po->limit);
		if (have_alloc)
			ph_report_alloc_text(stdout, "Where the new objects were allocated", b,
					     &alloc);
		ph_diff_report_held_text(stdout,
					 same ? "Where the new objects are (shortest paths from roots in "
						"B, for the kinds that grew most;\n--referrers KIND says "
						"more):"
					      : "Where B holds its objects of the kinds that grew most "
						"(shortest paths from roots;\n--referrers KIND says "
						"more):",
					 same ? "new" : "in B", held, nheld, DIFF_HELD_PATHS);
		if (have_refs) {
			fprintf(stdout, "\nWho holds the objects of kind %s that are new in B:\n", kind);
			ph_report_referrers_text(stdout, &refs, po->npaths);
			if (have_groups)
				ph_report_holds_groups_text(stdout, &groups);
		}
	}
	fflush(stdout);
	if (po->dot && have_refs)
		rc = write_dot(po->dot, &graph, label, objs, nobjs, &po->ropt);
out:
	ph_sites_deinit(&alloc);
	ph_diff_held_free(held, nheld);
	free(objs);
	free(kind);
	free(label);
	ph_holds_groups_deinit(&groups);
	ph_referrers_deinit(&refs);
	if (have_graph)
		ph_graph_deinit(&graph);
	ph_diff_deinit(&d);
	ph_snapshot_destroy(a);
	ph_snapshot_destroy(b);
	free(src_a);
	free(src_b);
	if (!rc && got_signal) {
		fprintf(stderr, "pyheap-attach: interrupted\n");
		return EXIT_INTERRUPTED;
	}
	return rc;
}

// Waits until @deadline (CLOCK_MONOTONIC) or a terminating signal.
static void sleep_until(uint64_t deadline)
{
	sigset_t old;
	sigprocmask(SIG_BLOCK, &term_set, &old);
	while (!got_signal) {
		uint64_t now = now_ns();
		if (now >= deadline)
			break;
		uint64_t left = deadline - now;
		struct timespec ts = {(time_t)(left / 1000000000u), (long)(left % 1000000000u)};
		// The signals are let in only while waiting: none is missed
		// between the check of got_signal and the wait.
		ppoll(NULL, 0, &ts, &old);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

// The SVG, replaced whole (a browser reloading it never sees half a file).
static struct ph_error *write_plot(const char *path, const struct ph_watch *w, bool bytes)
{
	char *tmp;
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return &ph_error_nomem;
	struct ph_error *err = NULL;
	FILE *f = fopen(tmp, "we");
	if (!f)
		err = ph_error_errno(PH_ERR_OTHER, errno, "write plot %s", path);
	if (f) {
		err = ph_watch_plot(f, w, bytes, 8);
		if (fclose(f) != 0 && !err)
			err = ph_error_errno(PH_ERR_OTHER, errno, "write plot %s", path);
		if (!err && rename(tmp, path) != 0)
			err = ph_error_errno(PH_ERR_OTHER, errno, "write plot %s", path);
		if (err)
			unlink(tmp);
	}
	free(tmp);
	return err;
}

struct watch_options {
	double seconds;
	unsigned long count;   /**< 0: until interrupted */
	const char *save_dir;
	const char *plot;
	bool plot_bytes;
};

// Whether a --watch snapshot leaves room to say where the new objects are:
// the first snapshot's identities (8 bytes an object) and each later one's
// graph (about 17 bytes an object and 8 an edge), a quarter of the room the
// capture found at most; never for a partial snapshot (a container's limit
// stopped it, perhaps).
static bool watch_room(const struct ph_snapshot *snap, const struct capture_stats *st)
{
	if (snap->truncated)
		return false;
	uint64_t need = 25 * (uint64_t)snap->nobjects + 8 * (uint64_t)snap->nedges;
	return st->room == UINT64_MAX || need < st->room / 4;
}

// --watch SECONDS PID
// Where the objects new since the first snapshot were allocated, by
// @snap's tracemalloc traces: rendered now (the snapshot goes before the
// report), as text or as JSON members; NULL when none is new, or without
// the memory.
static char *watch_alloc(const struct ph_watch *w, const struct ph_snapshot *snap, bool json)
{
	uint8_t *is_new = ph_watch_new_mask(w, snap);
	struct ph_sites alloc = {0};
	struct ph_error *e = is_new ? ph_sites_compute(snap, is_new, &alloc) : NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = is_new && !e && alloc.objects ? open_memstream(&buf, &len) : NULL;
	if (out) {
		if (json)
			ph_report_alloc_json(out, "new_allocated_at", snap, &alloc);
		else
			ph_report_alloc_text(out, "Where the new objects were allocated", snap,
					     &alloc);
		if (fclose(out)) {
			free(buf);
			buf = NULL;
		}
	}
	ph_error_destroy(e);
	ph_sites_deinit(&alloc);
	free(is_new);
	return buf;
}

static int run_watch(pid_t pid, const struct watch_options *wo, const struct capture_options *co,
		     const struct print_options *po)
{
	if (wo->save_dir && mkdir(wo->save_dir, 0777) != 0 && errno != EEXIST) {
		fprintf(stderr, "pyheap-attach: --save-dir %s: %s\n", wo->save_dir, strerror(errno));
		return EXIT_SNAPSHOT;
	}
	// Large blocks always from mmap(), whatever was freed before: glibc
	// otherwise raises its threshold after the first such free, and the
	// next snapshots' arrays, grown by doubling in its heap, leave their old
	// copies behind as touched memory (within a container's memory limit,
	// each capture then found room for fewer objects than the first).
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	struct ph_watch w;
	ph_watch_init(&w);
	int rc = EXIT_OK;
	uint64_t interval = (uint64_t)(wo->seconds * 1e9), next = now_ns();
	unsigned long taken = 0;
	while (!got_signal && (!wo->count || taken < wo->count)) {
		if (taken)
			sleep_until(next);
		if (got_signal)
			break;
		next += interval; // a fixed rate, whatever each capture takes
		struct ph_snapshot *snap;
		struct capture_stats st;
		struct ph_error *err = capture(pid, co, &snap, &st);
		if (err && err->code == PH_ERR_INTERRUPTED) {
			ph_error_destroy(err);
			break;
		}
		if (err) {
			rc = fail(err);
			break;
		}
		taken++;
		struct ph_partition part;
		err = ph_partition_compute(snap, &part);
		if (!err) {
			err = ph_watch_add(&w, snap, &part);
			ph_partition_deinit(&part);
		}
		if (err) {
			ph_snapshot_destroy(snap);
			rc = fail(err);
			break;
		}
		// Where the objects new since the first snapshot are (what a
		// --diff of the two would say), when there is room for it.
		struct ph_diff_held *held = NULL;
		size_t nheld = 0;
		char *alloc = NULL; // (where the new objects were allocated, rendered)
		if (taken == 1 && watch_room(snap, &st)) {
			ph_watch_remember(&w, snap);
		} else if (w.first && watch_room(snap, &st)) {
			struct ph_graph graph;
			struct ph_error *e = ph_graph_build(snap, &graph);
			if (!e) {
				e = ph_watch_held(&w, &graph, DIFF_HELD_KINDS, &held, &nheld);
				ph_graph_deinit(&graph);
			}
			ph_error_destroy(e); // (without the memory: the table alone)
			if (snap->tracemalloc.known)
				alloc = watch_alloc(&w, snap, po->json);
		}
		if (wo->save_dir) {
			char *path;
			if (asprintf(&path, "%s/snapshot-%03lu.pyheap", wo->save_dir, taken) < 0)
				err = &ph_error_nomem;
			else {
				err = ph_snapfile_write(snap, path);
				free(path);
			}
			if (err) {
				free(alloc);
				ph_diff_held_free(held, nheld);
				ph_snapshot_destroy(snap);
				rc = fail_snapshot(err);
				break;
			}
		}
		ph_snapshot_destroy(snap);
		// Give back what the snapshot took: glibc keeps freed memory of
		// its heap, and each capture would find less room than the last
		// within a container's memory limit (911k objects under 48 MiB:
		// 393k, then 279k or 344k objects; with the threshold above,
		// 393k each time).
		malloc_trim(0);
		if (po->json) {
			ph_watch_report_json(stdout, &w, po->limit, held, nheld, alloc);
		} else {
			ph_watch_report_text(stdout, &w, po->limit, wo->count, held, nheld);
			// (after the table's blank line, and one of its own)
			if (alloc)
				printf("%s\n", alloc + (alloc[0] == '\n'));
		}
		fflush(stdout);
		free(alloc);
		ph_diff_held_free(held, nheld);
		if (wo->plot && (err = write_plot(wo->plot, &w, wo->plot_bytes))) {
			rc = fail(err);
			break;
		}
	}
	if (got_signal && !rc)
		fprintf(stderr, "pyheap-attach: watch stopped by a signal after %lu snapshot%s; the "
				"target runs on\n",
			taken, taken == 1 ? "" : "s");
	ph_watch_deinit(&w);
	return rc;
}

int main(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_LIMIT, OPT_ALL, OPT_STATS, OPT_TIMEOUT, OPT_DEBUG_DIR,
	       OPT_NO_CACHE, OPT_DUMP_LAYOUT, OPT_VERSION, OPT_REFERRERS, OPT_DEPTH, OPT_PATHS,
	       OPT_READ, OPT_MAX_COPY, OPT_WALK_THREADS, OPT_LAYOUT, OPT_LOAD, OPT_DIFF, OPT_WATCH, OPT_COUNT,
	       OPT_SAVE_DIR, OPT_PLOT, OPT_PLOT_BYTES, OPT_DOT, OPT_RETAINED, OPT_CORE, OPT_SYSROOT,
	       OPT_ARENAS, OPT_DUPLICATES, OPT_FILL, OPT_SITES,
	       OPT_THREADS, OPT_TASKS };
	// Hidden, for tests: --dump-memory FILE records the walk for replay
	// (tests/fuzz/), --max-objects N bounds the walk (a small recording).
	enum { OPT_DUMP_MEMORY = 1000, OPT_MAX_OBJECTS };
	static const struct option longopts[] = {
		{"dump-memory", required_argument, NULL, OPT_DUMP_MEMORY},
		{"max-objects", required_argument, NULL, OPT_MAX_OBJECTS},
		{"json", no_argument, NULL, OPT_JSON},
		{"limit", required_argument, NULL, OPT_LIMIT},
		{"all", no_argument, NULL, OPT_ALL},
		{"stats", no_argument, NULL, OPT_STATS},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
		{"no-cache", no_argument, NULL, OPT_NO_CACHE},
		{"layout", required_argument, NULL, OPT_LAYOUT},
		{"dump-layout", required_argument, NULL, OPT_DUMP_LAYOUT},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, OPT_VERSION},
		{"referrers", required_argument, NULL, OPT_REFERRERS},
		{"depth", required_argument, NULL, OPT_DEPTH},
		{"paths", required_argument, NULL, OPT_PATHS},
		{"read", required_argument, NULL, OPT_READ},
		{"max-copy", required_argument, NULL, OPT_MAX_COPY},
		{"walk-threads", required_argument, NULL, OPT_WALK_THREADS},
		{"output", required_argument, NULL, 'o'},
		{"load", required_argument, NULL, OPT_LOAD},
		{"diff", no_argument, NULL, OPT_DIFF},
		{"watch", required_argument, NULL, OPT_WATCH},
		{"count", required_argument, NULL, OPT_COUNT},
		{"save-dir", required_argument, NULL, OPT_SAVE_DIR},
		{"plot", required_argument, NULL, OPT_PLOT},
		{"plot-bytes", no_argument, NULL, OPT_PLOT_BYTES},
		{"dot", required_argument, NULL, OPT_DOT},
		{"retained", required_argument, NULL, OPT_RETAINED},
		{"arenas", no_argument, NULL, OPT_ARENAS},
		{"duplicates", no_argument, NULL, OPT_DUPLICATES},
		{"fill", no_argument, NULL, OPT_FILL},
		{"sites", no_argument, NULL, OPT_SITES},
		{"threads", no_argument, NULL, OPT_THREADS},
		{"tasks", no_argument, NULL, OPT_TASKS},
		{"core", required_argument, NULL, OPT_CORE},
		{"sysroot", required_argument, NULL, OPT_SYSROOT},
		{NULL, 0, NULL, 0},
	};
	bool json = false, stats = false;
	size_t limit = 10;
	bool limit_given = false;
	long timeout_ms = 10000;
	struct ph_python_options popt = {0};
	const char *dump = NULL;
	const char *dump_memory = NULL;
	unsigned long max_objects = 0;
	bool live_read = false;
	uint64_t max_copy = 0;
	unsigned walk_threads = 0;
	const char *referrers = NULL;
	struct ph_referrers_options ropt = {.depth = 4, .breadth = 4};
	size_t npaths = 10, retained = 0;
	const char *output = NULL, *load = NULL, *dot = NULL, *core = NULL, *sysroot = NULL;
	bool diff = false, watch = false, arenas = false, duplicates = false, fill = false,
	     sites = false, threads = false, tasks = false;
	struct watch_options wo = {0};
	int c;
	while ((c = getopt_long(argc, argv, "ho:", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_LIMIT: {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1) {
				fprintf(stderr, "pyheap-attach: --limit %s: expected a positive number\n",
					optarg);
				return EXIT_USAGE;
			}
			limit = (size_t)v;
			limit_given = true;
			break;
		}
		case OPT_ALL:
			limit = 0;
			limit_given = true;
			break;
		case OPT_REFERRERS:
			referrers = optarg;
			break;
		case OPT_READ:
			if (!strcmp(optarg, "live"))
				live_read = true;
			else if (strcmp(optarg, "copy")) {
				fprintf(stderr, "pyheap-attach: --read %s: expected copy or live\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_MAX_COPY: {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || !v) {
				fprintf(stderr, "pyheap-attach: --max-copy %s: expected MiB\n", optarg);
				return EXIT_USAGE;
			}
			max_copy = (uint64_t)v << 20;
			break;
		}
		case OPT_WALK_THREADS:
			if (strcmp(optarg, "1") && strcmp(optarg, "2")) {
				fprintf(stderr, "pyheap-attach: --walk-threads %s: expected 1 or 2\n",
					optarg);
				return EXIT_USAGE;
			}
			walk_threads = (unsigned)(optarg[0] - '0');
			break;
		case OPT_ARENAS:
			arenas = true;
			break;
		case OPT_FILL:
			fill = true;
			break;
		case OPT_SITES:
			sites = true;
			break;
		case OPT_THREADS:
			threads = true;
			break;
		case OPT_TASKS:
			tasks = true;
			break;
		case OPT_DUPLICATES:
			duplicates = true;
			break;
		case OPT_RETAINED: {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1 || v > 1000000) {
				fprintf(stderr, "pyheap-attach: --retained %s: expected a number of "
						"objects (1 or more)\n",
					optarg);
				return EXIT_USAGE;
			}
			retained = (size_t)v;
			break;
		}
		case OPT_DEPTH:
		case OPT_PATHS: {
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 1000000) {
				fprintf(stderr, "pyheap-attach: %s %s: expected a number\n",
					c == OPT_DEPTH ? "--depth" : "--paths", optarg);
				return EXIT_USAGE;
			}
			if (c == OPT_DEPTH)
				ropt.depth = (uint32_t)(v > 32 ? 32 : v);
			else
				npaths = (size_t)v;
			break;
		}
		case OPT_STATS:
			stats = true;
			break;
		case OPT_TIMEOUT:
			timeout_ms = strtol(optarg, &end, 10);
			if (*end || timeout_ms < 1 || timeout_ms > 3600000) {
				fprintf(stderr,
					"pyheap-attach: --timeout %s: expected milliseconds (1 to 3600000)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_DEBUG_DIR:
			popt.debug_dirs = optarg;
			break;
		case OPT_NO_CACHE:
			popt.no_cache = true;
			break;
		case OPT_LAYOUT:
			popt.layout = optarg;
			break;
		case OPT_DUMP_LAYOUT:
			dump = optarg;
			break;
		case OPT_DUMP_MEMORY:
			dump_memory = optarg;
			break;
		case OPT_MAX_OBJECTS:
			max_objects = strtoul(optarg, &end, 10);
			if (*end || !max_objects) {
				fprintf(stderr, "pyheap-attach: --max-objects %s: expected a positive number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_LOAD:
			load = optarg;
			break;
		case OPT_CORE:
			core = optarg;
			break;
		case OPT_SYSROOT:
			sysroot = optarg;
			break;
		case OPT_DIFF:
			diff = true;
			break;
		case OPT_WATCH:
			wo.seconds = strtod(optarg, &end);
			if (*end || !(wo.seconds >= 0.01 && wo.seconds <= 86400)) {
				fprintf(stderr, "pyheap-attach: --watch %s: expected seconds (0.01 to 86400)\n",
					optarg);
				return EXIT_USAGE;
			}
			watch = true;
			break;
		case OPT_COUNT:
			wo.count = strtoul(optarg, &end, 10);
			if (*end || !wo.count || *optarg == '-') {
				fprintf(stderr, "pyheap-attach: --count %s: expected a positive number\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_SAVE_DIR:
			wo.save_dir = optarg;
			break;
		case OPT_PLOT:
			wo.plot = optarg;
			break;
		case OPT_PLOT_BYTES:
			wo.plot_bytes = true;
			break;
		case OPT_DOT:
			dot = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case OPT_VERSION:
			printf("pyheap-attach %s\n", PYHEAP_VERSION);
			return EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (dump)
		return dump_layout(dump, popt.debug_dirs);
	if (load && !core && ph_core_is_core_file(load)) {
		core = load; // (--load of a core file: as --core)
		load = NULL;
	}
	int npos = argc - optind, modes = !!load + diff + watch + !!core;
	const char *usage_error = NULL;
	if (modes > 1)
		usage_error = "--core, --load, --diff and --watch exclude each other";
	else if (sysroot && !core && !diff)
		usage_error = "--sysroot DIR goes with --core FILE (or --diff of core files)";
	else if (dot && !referrers)
		usage_error = "--dot FILE goes with --referrers TYPE";
	else if (retained && (referrers || diff || watch))
		usage_error = "--retained N goes alone (a live run or --load FILE)";
	else if (arenas && (referrers || retained || diff || watch))
		usage_error = "--arenas goes alone (a live run, --core FILE or --load FILE)";
	else if (duplicates && (referrers || retained || arenas || diff || watch))
		usage_error = "--duplicates goes alone (a live run, --core FILE or --load FILE)";
	else if (fill && (referrers || retained || arenas || duplicates || diff || watch))
		usage_error = "--fill goes alone (a live run, --core FILE or --load FILE)";
	else if (sites && (referrers || retained || arenas || duplicates || fill || diff || watch))
		usage_error = "--sites goes alone (a live run, --core FILE or --load FILE)";
	else if (threads &&
		 (referrers || retained || arenas || duplicates || fill || sites || diff || watch))
		usage_error = "--threads goes alone (a live run, --core FILE or --load FILE)";
	else if (tasks && (referrers || retained || arenas || duplicates || fill || sites ||
			   threads || diff || watch))
		usage_error = "--tasks goes alone (a live run, --core FILE or --load FILE)";
	else if (!watch && (wo.count || wo.save_dir || wo.plot || wo.plot_bytes))
		usage_error = "--count, --save-dir, --plot and --plot-bytes go with --watch";
	else if (wo.plot_bytes && !wo.plot)
		usage_error = "--plot-bytes goes with --plot FILE.svg";
	else if (output && modes && !core)
		usage_error = "-o FILE is for a single live run or --core FILE (--watch keeps its "
			      "snapshots with --save-dir DIR)";
	else if (watch && referrers)
		usage_error = "--referrers does not go with --watch (use --diff on saved snapshots)";
	else if (load && npos)
		usage_error = "--load FILE takes no PID";
	else if (core && npos)
		usage_error = "--core FILE takes no PID";
	else if (diff && npos != 2)
		usage_error = "--diff expects two snapshot files or PIDs: --diff A B";
	else if (!load && !diff && !core && npos != 1)
		usage_error = "expected one PID (see --help)";
	if (usage_error) {
		fprintf(stderr, "pyheap-attach: %s\n", usage_error);
		return EXIT_USAGE;
	}
	struct print_options po = {
		.json = json,
		.limit = limit,
		.referrers = referrers,
		.ropt = ropt,
		.npaths = npaths,
		.dot = dot,
		.retained = retained,
		.arenas = arenas,
		.duplicates = duplicates,
		.fill = fill,
		.sites = sites,
		.threads = threads,
		.tasks = tasks,
		.holds = limit_given ? limit : 20,
	};
	if (load)
		return run_load(load, &po);
	install_signal_handlers();
	struct capture_options co = {
		.popt = &popt,
		.timeout_ms = timeout_ms,
		.live_read = live_read,
		.max_copy = max_copy,
		.walk_threads = walk_threads,
		// (The values of long strs and of bytes, by hash, for --duplicates
		// now or on the file later.)
		.hash_values = duplicates || output,
		// (Floats' and bytes' values, for the rows of what objects hold.)
		.keep_values = po.referrers || po.threads || po.tasks || output,
		.dump_memory = dump_memory,
		.sysroot = sysroot,
		.max_objects = max_objects,
		// (Once the walk stops adding objects, those it holds still add
		// their edges, and --referrers takes 26 MiB more beside a 57 MiB
		// snapshot at 1M objects: in cgroups of 16 to 128 MiB, 20% and
		// 100% of the snapshot kept free left 6-12 MiB of the limit.)
		.analysis_share =
			po.referrers || po.retained || po.arenas || po.duplicates || po.fill ||
					po.threads || po.tasks
				? 100
				: 20,
	};
	if (diff)
		return run_diff(argv[optind], argv[optind + 1], &co, &po);
	pid_t pid = 0;
	if (!core) {
		char *end;
		long pidl = strtol(argv[optind], &end, 10);
		if (*end || pidl <= 0 || pidl > 0x7fffffff) {
			fprintf(stderr, "pyheap-attach: '%s' is not a process ID\n", argv[optind]);
			return EXIT_USAGE;
		}
		pid = (pid_t)pidl;
	}
	// Out of memory (a container's limit), the kernel kills the tool, not
	// the target beside it; the target, a tracee, runs on.
	ph_oom_first();
	if (watch)
		return run_watch(pid, &wo, &co, &po);

	struct ph_snapshot *snap;
	struct capture_stats st;
	// The copy is given back while the analyses run.
	co.free_later = true;
	struct ph_error *err = core ? capture_core(core, &co, &snap, &st)
				    : capture(pid, &co, &snap, &st);
	if (err) {
		ph_mem_destroy_join(st.reaper);
		return fail(err);
	}
	if (output && (err = ph_snapfile_write(snap, output))) {
		ph_snapshot_destroy(snap);
		ph_mem_destroy_join(st.reaper);
		return fail_snapshot(err);
	}
	uint64_t t_analysed = now_ns(), t_analysis = t_analysed;
	int rc = analyse_and_print(snap, &po, &t_analysis);
	if (stats && rc == EXIT_OK) {
		if (st.core) {
			fprintf(stderr,
				"stats: symbols %.1f ms, read %.1f ms, walk %.1f ms, analysis %.1f ms; read %"
				PRIu64 " bytes in %" PRIu64 " calls (%" PRIu64 " blocks, read from the core "
				"file%s); %zu objects, %zu edges, %zu types\n",
				(double)(st.t_symbols - st.t0) / 1e6, (double)(st.t_read - st.t_symbols) / 1e6,
				(double)(st.t_walked - st.t_read) / 1e6, (double)(t_analysis - t_analysed) / 1e6,
				st.ms.bytes_read, st.ms.source_calls, st.ms.blocks,
				st.copied ? ", its writable memory first" : "", snap->nobjects, snap->nedges,
				snap->ntypes);
		} else {
			fprintf(stderr,
				"stats: symbols %.1f ms, reserve %.1f ms, stop %.1f ms, read %.1f ms, resume %.1f ms, "
				"walk %.1f ms, analysis %.1f ms; pause %.1f ms; read %" PRIu64 " bytes in %" PRIu64
				" calls (%" PRIu64 " blocks, %s); %zu objects, %zu edges, %zu types\n",
				(double)(st.t_symbols - st.t0) / 1e6, (double)(st.t_stop - st.t_symbols) / 1e6,
				(double)(st.t_stopped - st.t_stop) / 1e6,
				(double)(st.t_read - st.t_stopped) / 1e6, (double)(st.t_resumed - st.t_read) / 1e6,
				(double)(st.t_walked - st.t_resumed) / 1e6, (double)(t_analysis - t_analysed) / 1e6,
				(double)(st.t_resumed - st.t_stop) / 1e6, st.ms.bytes_read, st.ms.source_calls,
				st.ms.blocks,
				st.copied ? "copied while stopped, walked after" : "walked while stopped",
				snap->nobjects, snap->nedges, snap->ntypes);
		}
		fprintf(stderr,
			"stats: the walk: layout checks %.1f ms, roots %.1f ms, objects and GC lists %.1f "
			"ms (of which the pool and malloc scans %.1f ms), finish %.1f ms",
			(double)st.walk.check / 1e6, (double)st.walk.gc / 1e6,
			(double)st.walk.objects / 1e6, (double)st.walk.scan / 1e6,
			(double)st.walk.finish / 1e6);
		if (st.walk.threads == 2)
			fprintf(stderr, "; objects on two threads: processing waited %.1f ms for the "
				"resolver, which waited %.1f ms",
				(double)st.walk.wait / 1e6, (double)st.walk.idle / 1e6);
		if (st.walk.threads == 2 && st.walk.narrow)
			fprintf(stderr, " (and one thread for %u narrow part%s: each object led to "
				"one or two new ones)", st.walk.narrow, st.walk.narrow == 1 ? "" : "s");
		if (st.walk.threads == 2 && st.walk.busy)
			fprintf(stderr, " (then one thread: the CPUs were busy with other work)");
		if (ph_cpu_quota() > 0)
			fprintf(stderr, "; the cgroup's CPU quota: %.2f CPUs (%u thread%s at once)",
				ph_cpu_quota(), ph_cpus(), ph_cpus() == 1 ? "" : "s");
		fputc('\n', stderr);
		// Where the tool's memory goes: the copy of the target's memory
		// (blocks of 64 KiB) and the snapshot's arrays.
		double mib = 1024.0 * 1024.0;
		double objects = (double)snap->nobjects * (sizeof(*snap->objects) +
							   sizeof(*snap->edge_start) +
							   sizeof(*snap->text));
		double edges = (double)snap->nedges * sizeof(*snap->edges);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		fprintf(stderr,
			"stats: memory: %s %.1f MiB (%" PRIu64 " blocks of 64 KiB", st.ms.evicted ? "cache" : "copy",
			(double)st.ms.peak_blocks * 65536 / mib, st.ms.peak_blocks);
		if (st.ms.evicted)
			fprintf(stderr, " at most, %" PRIu64 " dropped and read again, %" PRIu64
				" reads past it", st.ms.evicted, st.ms.peeks);
		if (st.ms.read_ahead)
			fprintf(stderr, ", %" PRIu64 " read ahead on another thread", st.ms.read_ahead);
		fprintf(stderr, "), objects %.1f MiB, edges %.1f MiB, strings %.1f MiB; peak RSS %.1f MiB",
			objects / mib, edges / mib, (double)snap->strings_len / mib,
			(double)ru.ru_maxrss / 1024.0);
		// (What --max-copy's default and the memory guard went by.)
		char room[32];
		if (st.room != UINT64_MAX)
			fprintf(stderr, "; room %s at the start (%s)",
				ph_human_bytes(st.room, room, sizeof(room)),
				st.room_host ? "the host's MemAvailable above its reserve"
					     : "what the cgroup's memory limit leaves");
		fputc('\n', stderr);
	}
	ph_snapshot_destroy(snap);
	ph_mem_destroy_join(st.reaper);
	if (got_signal) {
		// Came while printing: the output may be cut short.
		fprintf(stderr, "pyheap-attach: interrupted (the target was resumed)\n");
		return EXIT_INTERRUPTED;
	}
	return rc;
}
