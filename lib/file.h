/* SPDX-License-Identifier: MIT */
/**
 * @file file.h
 * Reading a whole file (a snapshot file, a small file of /proc or /sys).
 */
#ifndef PH_FILE_H
#define PH_FILE_H

#include <stddef.h>

/**
 * The contents of file @p path, at most @p max bytes of them (the rest is
 * not read), followed by a NUL byte not counted in *@p len; free() it.
 * NULL with errno set (ENOMEM when memory ran out) if it cannot be read.
 */
char *ph_read_file(const char *path, size_t max, size_t *len);

#endif
