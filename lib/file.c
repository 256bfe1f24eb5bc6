/* SPDX-License-Identifier: MIT */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

char *ph_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	// A regular file's size first (one read); /proc's files say 0.
	struct stat st;
	size_t cap = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
				     (uint64_t)st.st_size < max
			     ? (size_t)st.st_size + 1
			     : 4096;
	if (cap > max)
		cap = max;
	size_t n = 0;
	int err = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		err = ENOMEM;
	while (buf) {
		if (n == cap) {
			if (cap >= max)
				break;
			size_t nc = cap > max / 2 ? max : cap * 2;
			char *nb = realloc(buf, nc + 1);
			if (!nb) {
				err = ENOMEM;
				break;
			}
			buf = nb;
			cap = nc;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (err) {
		free(buf);
		errno = err;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

uint64_t ph_pread_field(int fd, unsigned field)
{
	char buf[128];
	ssize_t n = fd >= 0 ? pread(fd, buf, sizeof(buf) - 1, 0) : -1;
	if (n <= 0)
		return UINT64_MAX;
	buf[n] = 0;
	const char *p = buf;
	for (unsigned i = 0;; i++) {
		char *end;
		if (*p < '0' || *p > '9')
			return UINT64_MAX;
		errno = 0;
		unsigned long long v = strtoull(p, &end, 10);
		if (errno)
			return UINT64_MAX;
		if (i == field)
			return v;
		if (*end != ' ')
			return UINT64_MAX;
		p = end + 1;
	}
}
