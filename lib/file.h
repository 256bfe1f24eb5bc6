/* SPDX-License-Identifier: MIT */
/**
 * @file file.h
 * Reading a whole file (a snapshot file, a small file of /proc or /sys).
 */
#ifndef PH_FILE_H
#define PH_FILE_H

#include <stddef.h>
#include <stdint.h>

/**
 * The contents of file @p path, at most @p max bytes of them (the rest is
 * not read), followed by a NUL byte not counted in *@p len; free() it.
 * NULL with errno set (ENOMEM when memory ran out) if it cannot be read.
 */
char *ph_read_file(const char *path, size_t max, size_t *len);

/**
 * Field @p field (0: the first) of the space-separated unsigned numbers at
 * the start of the open file @p fd (a /proc file read again and again:
 * /proc/self/statm, a thread's schedstat), read from its start; UINT64_MAX
 * when it cannot be read.
 */
uint64_t ph_pread_field(int fd, unsigned field);

#endif
