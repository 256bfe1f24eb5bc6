/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: core files (lib/core.c) as untrusted input. Each input
 * is a core's bytes, given to ph_core_open() through a memfd; an input it
 * opens is then read where its mappings and writable ranges say, and its
 * files checked, as the command does before and during a walk. Seeds: any
 * small core (tests/fuzz/README.md: a gcore of sleep).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("fuzz-core", MFD_CLOEXEC);
		if (fd < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		return 0;
	struct ph_core *c;
	struct ph_error *err = ph_core_open(path, NULL, &c);
	if (err) {
		ph_error_destroy(err);
		return 0;
	}
	struct ph_mem_source src;
	ph_core_source(c, &src);
	uint8_t buf[4096];
	const struct ph_maps *m = ph_core_maps(c);
	for (size_t i = 0; i < m->n && i < 4096; i++) {
		ph_core_file_usable(c, &m->maps[i], NULL);
		src.read(src.arg, m->maps[i].start, buf, sizeof(buf));
		src.read(src.arg, m->maps[i].end - 8, buf, 16);
	}
	struct ph_mem_range *r;
	size_t n;
	uint64_t total;
	if (ph_core_writable_ranges(c, &r, &n, &total)) {
		struct ph_mem_iov iov[8];
		size_t k = 0;
		for (size_t i = 0; i < n && k < 8; i++, k++)
			iov[k] = (struct ph_mem_iov){r[i].start, buf + 512 * k, 512};
		src.readv(src.arg, iov, k);
		free(r);
	}
	ph_core_close(c);
	return 0;
}
