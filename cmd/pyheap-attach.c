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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cpython.h"
#include "elffile.h"
#include "graph.h"
#include "layout.h"
#include "mem.h"
#include "memdump.h"
#include "partition.h"
#include "referrers.h"
#include "report.h"
#include "snapshot.h"
#include "target.h"

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
	EXIT_INTERRUPTED = 130,
};

static const char usage_text[] =
	"Usage: pyheap-attach [OPTIONS] PID\n"
	"       pyheap-attach --referrers TYPE [--depth N] [--paths N] [OPTIONS] PID\n"
	"\n"
	"Stops a running CPython process for a moment, reads its heap from outside\n"
	"(nothing is written to it and no code runs in it), resumes it, and prints a\n"
	"Heapy-style partition of its objects by kind.\n"
	"\n"
	"Options:\n"
	"  --json            print the result as one JSON object\n"
	"  --limit N         show the N largest kinds (default 10)\n"
	"  --all             show every kind\n"
	"  --referrers TYPE  who holds the objects of kind TYPE (exact, or its last\n"
	"                    component: 'Request'), or of one object (0xADDRESS):\n"
	"                    referrer kinds, reference pattern, shortest paths from roots\n"
	"  --depth N         depth of the reference pattern (default 4)\n"
	"  --paths N         groups of shortest paths shown (default 10; 0: all)\n"
	"  --stats           print time per phase and bytes read (to stderr)\n"
	"  --timeout MS      upper bound on the pause; past it the target is resumed\n"
	"                    and the result is partial (default 10000)\n"
	"  --read copy|live  copy: copy the target's writable memory while it is stopped\n"
	"                    and walk the copy after resuming it (default; the shortest\n"
	"                    pause); live: walk while it is stopped (uses less memory)\n"
	"  --max-copy MIB    above this much writable memory, read live instead\n"
	"                    (default: half of MemAvailable)\n"
	"  --debug-dir DIRS  colon-separated roots for separate debug info\n"
	"                    (default /usr/lib/debug)\n"
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
	"     or the layout failed a check against the process\n"
	"  9  the target's memory could not be read (or the process exited)\n"
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
		err = ph_elf_find_debug(f, debug_dirs, &d);
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

int main(int argc, char **argv)
{
	enum { OPT_JSON = 256, OPT_LIMIT, OPT_ALL, OPT_STATS, OPT_TIMEOUT, OPT_DEBUG_DIR,
	       OPT_NO_CACHE, OPT_DUMP_LAYOUT, OPT_VERSION, OPT_REFERRERS, OPT_DEPTH, OPT_PATHS,
	       OPT_READ, OPT_MAX_COPY, OPT_LAYOUT };
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
		{NULL, 0, NULL, 0},
	};
	bool json = false, stats = false;
	size_t limit = 10;
	long timeout_ms = 10000;
	struct ph_python_options popt = {0};
	const char *dump = NULL;
	const char *dump_memory = NULL;
	unsigned long max_objects = 0;
	bool live_read = false;
	uint64_t max_copy = 0;
	const char *referrers = NULL;
	struct ph_referrers_options ropt = {.depth = 4, .breadth = 4};
	size_t npaths = 10;
	int c;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
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
			break;
		}
		case OPT_ALL:
			limit = 0;
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
	if (optind != argc - 1) {
		fprintf(stderr, "pyheap-attach: expected one PID (see --help)\n");
		return EXIT_USAGE;
	}
	char *end;
	long pidl = strtol(argv[optind], &end, 10);
	if (*end || pidl <= 0 || pidl > 0x7fffffff) {
		fprintf(stderr, "pyheap-attach: '%s' is not a process ID\n", argv[optind]);
		return EXIT_USAGE;
	}
	pid_t pid = (pid_t)pidl;

	// Terminating signals only set a flag; during the pause they are also
	// blocked, so they arrive after every thread has been resumed.
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigset_t block, old;
	sigemptyset(&block);
	const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}

	uint64_t t0 = now_ns();
	// The program the process runs: checked again once it is stopped.
	uint64_t image = 0;
	struct ph_error *ierr = ph_target_image_id(pid, &image);
	bool have_image = !ierr;
	ph_error_destroy(ierr);
	struct ph_python *py;
	struct ph_error *err = ph_python_open(pid, &popt, &py);
	if (err)
		return fail(changed_under_us(pid, have_image, image, err));
	uint64_t t_symbols = now_ns();
	if (got_signal) {
		ph_python_close(py);
		fprintf(stderr, "pyheap-attach: interrupted\n");
		return EXIT_INTERRUPTED;
	}

	struct ph_mem_source src;
	struct ph_mem *mem = NULL;
	err = ph_process_source_create(pid, &src);
	if (!err)
		err = ph_mem_create(&src, &mem);
	if (err) {
		ph_python_close(py);
		return fail(err);
	}
	uint64_t rss = ph_target_rss(pid);
	if (dump_memory)
		ph_mem_track_reads(mem);

	if (!max_copy)
		max_copy = ph_mem_available() / 2;
	if (!live_read) {
		// Reserve the copy's memory before the stop (with 1/8 slack for
		// growth in between), so that page faults do not lengthen the pause.
		struct ph_mem_range *ranges = NULL;
		size_t nranges = 0;
		uint64_t total = 0;
		if (!ph_target_writable_ranges(pid, &ranges, &nranges, &total) && total <= max_copy)
			ph_mem_reserve(mem, total + total / 8);
		free(ranges);
	}
	sigprocmask(SIG_BLOCK, &block, &old);
	uint64_t t_stop = now_ns();
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
		if (!rerr && total <= max_copy) {
			ph_mem_prefetch(mem, ranges, nranges,
						     t_stop + (uint64_t)timeout_ms * 1000000u, max_copy,
						     &copy_complete);
			copied = true;
		}
		free(ranges);
	}
	if (!err && !copied) {
		struct ph_walk_options wopt = {
			.deadline_ns = t_stop + (uint64_t)timeout_ms * 1000000u,
			.interrupted = &got_signal,
			.max_objects = max_objects,
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
		struct ph_walk_options wopt = {.interrupted = &got_signal, .max_objects = max_objects};
		err = ph_python_walk(py, mem, &wopt, &snap);
		if (!err && !copy_complete) {
			snap->truncated = true;
			free(snap->truncated_reason);
			snap->truncated_reason = strdup("time limit reached while copying memory; the rest "
							"was read from the running process");
		}
	}
	uint64_t t_walked = now_ns();
	// What follows reads only the snapshot.

	if (dump_memory && snap) {
		FILE *f = fopen(dump_memory, "we");
		struct ph_error *derr = f ? ph_memdump_write(py, mem, snap, max_objects, f)
					  : ph_error_errno(PH_ERR_OTHER, errno, "open %s", dump_memory);
		if (f && fclose(f) != 0 && !derr)
			derr = ph_error_errno(PH_ERR_OTHER, errno, "write %s", dump_memory);
		if (derr) {
			ph_error_destroy(err);
			err = derr;
		}
	}
	struct ph_mem_stats ms;
	ph_mem_get_stats(mem, &ms);
	ph_mem_destroy(mem);
	ph_process_source_destroy(&src);
	ph_python_close(py);
	if (err) {
		ph_snapshot_destroy(snap);
		return fail(changed_under_us(pid, have_image, image, err));
	}
	if (got_signal) {
		ph_snapshot_destroy(snap);
		fprintf(stderr, "pyheap-attach: interrupted (the target was resumed)\n");
		return EXIT_INTERRUPTED;
	}
	snap->pause_ns = t_resumed - t_stop;
	snap->rss = rss;

	struct ph_graph graph;
	err = ph_graph_build(snap, &graph);
	if (err) {
		ph_snapshot_destroy(snap);
		return fail(err);
	}
	struct ph_partition part = {0};
	struct ph_referrers refs = {0};
	err = referrers ? ph_referrers_compute(&graph, referrers, &ropt, &refs)
			: ph_partition_compute(snap, &part);
	if (err) {
		ph_graph_deinit(&graph);
		ph_snapshot_destroy(snap);
		return fail(err);
	}
	uint64_t t_analysis = now_ns();
	if (referrers && json) {
		ph_report_referrers_json(stdout, snap, &refs, npaths);
	} else if (referrers) {
		ph_report_header(stdout, snap, NULL);
		ph_report_referrers_text(stdout, &refs, npaths);
	} else if (json) {
		ph_report_partition_json(stdout, snap, &part, &graph);
	} else {
		ph_report_header(stdout, snap, &graph);
		ph_report_partition_text(stdout, snap, &part, limit);
	}
	fflush(stdout);
	ph_referrers_deinit(&refs);
	ph_graph_deinit(&graph);
	if (stats) {
		fprintf(stderr,
			"stats: symbols %.1f ms, stop %.1f ms, read %.1f ms, resume %.1f ms, "
			"walk %.1f ms, analysis %.1f ms; pause %.1f ms; read %" PRIu64 " bytes in %" PRIu64
			" calls (%" PRIu64 " blocks, %s); %zu objects, %zu edges, %zu types\n",
			(double)(t_symbols - t0) / 1e6, (double)(t_stopped - t_stop) / 1e6,
			(double)(t_read - t_stopped) / 1e6, (double)(t_resumed - t_read) / 1e6,
			(double)(t_walked - t_resumed) / 1e6, (double)(t_analysis - t_walked) / 1e6,
			(double)(t_resumed - t_stop) / 1e6, ms.bytes_read, ms.source_calls, ms.blocks,
			copied ? "copied while stopped, walked after" : "walked while stopped",
			snap->nobjects, snap->nedges, snap->ntypes);
	}
	ph_partition_deinit(&part);
	ph_snapshot_destroy(snap);
	if (got_signal) {
		// Came while printing: the output may be cut short.
		fprintf(stderr, "pyheap-attach: interrupted (the target was resumed)\n");
		return EXIT_INTERRUPTED;
	}
	return EXIT_OK;
}
