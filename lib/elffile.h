/* SPDX-License-Identifier: MIT */
/**
 * @file elffile.h
 * The interpreter's ELF files: symbols (.symtab, else .dynsym), sections,
 * build-id and .gnu_debuglink, and finding separate debug info.
 */
#ifndef PH_ELFFILE_H
#define PH_ELFFILE_H

#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"

struct ph_elf {
	int fd;
	Elf *elf;
	char *path;
	uint16_t e_type;
	uint64_t base_vaddr;     /**< p_vaddr of the PT_LOAD at file offset 0, page aligned */
	uint8_t build_id[64];
	size_t build_id_len;
	uint64_t build_id_vaddr;  /**< where the build-id's bytes are loaded (0: not loaded) */
	char *debuglink;         /**< .gnu_debuglink file name, or NULL */
	bool has_debug_info;     /**< a .debug_info section with data */
	bool has_symtab;
};

struct ph_error *ph_elf_open(const char *path, struct ph_elf **ret);
void ph_elf_close(struct ph_elf *f);

/** Hex string of the build-id into @p buf (at least 129 bytes); "" if none. */
void ph_elf_build_id_hex(const struct ph_elf *f, char *buf);

struct ph_symbol_query {
	const char *name;
	uint64_t value; /**< link-time address, 0 if not found */
	uint64_t size;
};

/**
 * Fills in the queries found in .symtab (if any) then .dynsym; queries
 * already found (value != 0) are left alone, so several files can be asked
 * in turn. Returns the number of queries still missing.
 */
size_t ph_elf_lookup_symbols(struct ph_elf *f, struct ph_symbol_query *q, size_t n);

/** Link-time address and size of a section by name; false if absent. */
bool ph_elf_section(struct ph_elf *f, const char *name, uint64_t *addr, uint64_t *size);

/**
 * Looks for separate debug info for @p f: by build-id under each directory of
 * @p debug_dirs (colon separated; default "/usr/lib/debug") as
 * .build-id/xx/rest.debug, then by .gnu_debuglink next to the file, in its
 * .debug/ subdirectory, and under each debug dir + the file's directory.
 * @p path is the file's path as the process that mapped it names it (NULL:
 * f's own path); @p root (NULL: none) the directory under which that
 * process's files are here (its /proc/PID/root, a core's --sysroot): the
 * file's directory is looked in under it, and its /usr/lib/debug is one more
 * debug dir, after @p debug_dirs (a container's debug packages).
 * Only a file whose build-id matches (when both have one) is accepted.
 * Returns NULL in *ret when nothing is found.
 */
struct ph_error *ph_elf_find_debug(struct ph_elf *f, const char *debug_dirs, const char *root,
				   const char *path, struct ph_elf **ret);

/**
 * Asks the debuginfod servers of $DEBUGINFOD_URLS for the debug info of @p f
 * (by build-id), through libdebuginfod.so.1 loaded with dlopen(). Never
 * required: without DEBUGINFOD_URLS, without the library, without a build-id,
 * on any error or after @p timeout_ms (the transfer is cancelled), *ret is
 * NULL and the call returns NULL. Downloads land in debuginfod's own cache
 * ($DEBUGINFOD_CACHE_PATH, else ~/.cache/debuginfod_client).
 */
struct ph_error *ph_elf_find_debuginfod(struct ph_elf *f, int timeout_ms, struct ph_elf **ret);

/** Section flags of the section holding link-time address @p addr. */
enum ph_elf_addr_kind {
	PH_ELF_ADDR_NONE = 0,      /**< in no allocated section */
	PH_ELF_ADDR_TEXT = 1,      /**< executable code */
	PH_ELF_ADDR_RODATA = 2,    /**< read-only data with file contents */
	PH_ELF_ADDR_DATA = 3,      /**< writable data (.data, .bss, ...) */
};
enum ph_elf_addr_kind ph_elf_addr_kind(struct ph_elf *f, uint64_t addr);

/** Link-time range [*lo, *hi) covering the executable sections; false if none. */
bool ph_elf_text_range(struct ph_elf *f, uint64_t *lo, uint64_t *hi);

/**
 * Copies @p len bytes at link-time address @p addr from the file's section
 * contents (not from a process). False when they are not all in one section
 * with file contents.
 */
bool ph_elf_read(struct ph_elf *f, uint64_t addr, void *buf, size_t len);

#endif
