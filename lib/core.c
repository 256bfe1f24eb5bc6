/* SPDX-License-Identifier: MIT */
/*
 * Core files. A core holds one PT_LOAD segment per mapping of the process;
 * what the kernel (or gcore) dumped of it is the segment's p_filesz bytes,
 * the rest (p_memsz beyond) was left out: by default a file mapping's pages
 * that were never written (code, read-only data), kept only as the first
 * page of each ELF file. Those are read from the file itself, found through
 * the NT_FILE note (start, end, file offset, path of every file mapping).
 *
 * All addresses are the process's (uint64_t).
 */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define CORE_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define CORE_MACHINE EM_AARCH64
#else
#define CORE_MACHINE EM_NONE
#endif

enum {
	FD_NOT_USABLE = -1,
	FD_CLOSED = -2,
	/* Files kept open at once (a process may map thousands: beyond these, a
	 * file is opened for each read, which the block cache makes rare). */
	MAX_OPEN_FILES = 256,
	MAX_FILE_MAPS = 1 << 20, /* NT_FILE entries (vm.max_map_count is 65530 by default) */
	MAX_SEGMENTS = 1 << 20,  /* PT_LOAD segments (a process has some thousands at most) */
	MAX_NOTE_BYTES = 1 << 28,
	FIRST_PAGE = 4096,
};

struct segment {
	uint64_t start, end; /* the mapping (first: span_after()) */
	uint64_t offset;     /* in the core */
	uint64_t filesz;     /* bytes of it in the core (from start) */
	uint32_t flags;      /* PF_R | PF_W | PF_X */
	bool cut;            /* the core ends before the bytes it says it has: the
			        rest is missing (the file's are not the process's) */
};

struct file {
	char *path;      /* as the core names it */
	char *open_path; /* under the sysroot */
	int fd;          /* open, or FD_NOT_USABLE, or FD_CLOSED (usable: opened per read) */
	const char *why; /* why not (static text) */
	size_t first;    /* its mapping at file offset 0 (SIZE_MAX: none) */
};

struct file_map {
	uint64_t start, end, offset; /* offset in the file, bytes (start, end first: span_after()) */
	size_t file;                 /* index into files */
};

struct ph_core {
	int fd;
	Elf *elf;
	char *path;
	char *sysroot; /* NULL: / */
	uint64_t size;
	struct segment *segs;
	size_t nsegs;
	struct file *files;
	size_t nfiles;
	struct file_map *fmaps;
	size_t nfmaps;
	struct ph_maps maps;
	int pid;
	uint64_t bytes;
	uint64_t missing; /* bytes the segments say the core has past its end */
};

// Opens @path read-only if it is a regular file (checked on what was opened,
// without blocking), else -1.
static int open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

bool ph_core_is_core_file(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	int fd = open_regular(path);
	if (fd < 0)
		return false;
	unsigned char h[18];
	bool ok = pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && !memcmp(h, ELFMAG, SELFMAG) &&
		  ((h[EI_DATA] == ELFDATA2LSB && h[16] == ET_CORE && h[17] == 0) ||
		   (h[EI_DATA] == ELFDATA2MSB && h[16] == 0 && h[17] == ET_CORE));
	close(fd);
	return ok;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_fmap(const void *a, const void *b)
{
	const struct file_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int cmp_map(const void *a, const void *b)
{
	const struct ph_map *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

// In @n sorted, disjoint spans of @size bytes from @base, each starting with
// uint64_t start and end: the index of the first that ends after @addr.
static size_t span_after(const void *base, size_t n, size_t size, uint64_t addr)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t end;
		memcpy(&end, (const char *)base + mid * size + sizeof(uint64_t), sizeof(end));
		if (end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

// The segment holding @addr, or NULL.
static const struct segment *find_seg(const struct ph_core *c, uint64_t addr)
{
	size_t k = span_after(c->segs, c->nsegs, sizeof(*c->segs), addr);
	return k < c->nsegs && c->segs[k].start <= addr ? &c->segs[k] : NULL;
}

// The start of the first segment after @addr (UINT64_MAX: none).
static uint64_t next_seg_start(const struct ph_core *c, uint64_t addr)
{
	size_t k = span_after(c->segs, c->nsegs, sizeof(*c->segs), addr);
	if (k < c->nsegs && c->segs[k].start <= addr)
		k++;
	return k < c->nsegs ? c->segs[k].start : UINT64_MAX;
}

static const struct file_map *find_fmap(const struct ph_core *c, uint64_t addr)
{
	size_t k = span_after(c->fmaps, c->nfmaps, sizeof(*c->fmaps), addr);
	return k < c->nfmaps && c->fmaps[k].start <= addr ? &c->fmaps[k] : NULL;
}

static struct ph_error *bad(const struct ph_core *c, const char *what)
{
	return ph_error_create(PH_ERR_BAD_DATA, "read core %s: %s — the file is damaged or "
				"truncated; write the core again (gcore PID)",
			       c->path, what);
}

static uint64_t hash_path(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull; // FNV-1a
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	return h;
}

// NT_FILE: count, page size, count × (start, end, page offset), then count
// NUL-terminated paths. Paths are made files once each (a hash table).
static struct ph_error *parse_nt_file(struct ph_core *c, const unsigned char *d, size_t n)
{
	if (c->fmaps)
		return NULL; // (one is enough)
	uint64_t count, page;
	if (n < 16)
		return bad(c, "NT_FILE note too short");
	memcpy(&count, d, 8);
	memcpy(&page, d + 8, 8);
	if (count > (n - 16) / 24 || count > MAX_FILE_MAPS || page == 0 || page > (1u << 30) ||
	    (page & (page - 1)))
		return bad(c, "NT_FILE note inconsistent");
	size_t nslots = 16;
	while (nslots < 2 * count)
		nslots *= 2;
	size_t *slots = calloc(nslots, sizeof(*slots)); // file index + 1, 0: free
	c->fmaps = calloc(count ? count : 1, sizeof(*c->fmaps));
	c->files = calloc(count ? count : 1, sizeof(*c->files));
	if (!slots || !c->fmaps || !c->files) {
		free(slots);
		return &ph_error_nomem;
	}
	struct ph_error *err = NULL;
	const char *s = (const char *)d + 16 + count * 24, *end = (const char *)d + n;
	for (uint64_t i = 0; i < count && !err; i++) {
		uint64_t v[3];
		memcpy(v, d + 16 + i * 24, sizeof(v));
		const char *z = memchr(s, '\0', (size_t)(end - s));
		if (!z) {
			err = bad(c, "NT_FILE note's paths not terminated");
			break;
		}
		const char *p = s;
		s = z + 1;
		if (v[1] <= v[0] || v[2] > UINT64_MAX / page)
			continue;
		// " (deleted)" as in /proc/PID/maps: the path it had.
		size_t len = (size_t)(z - p);
		static const char del[] = " (deleted)";
		if (len > sizeof(del) - 1 && !memcmp(z - (sizeof(del) - 1), del, sizeof(del) - 1))
			len -= sizeof(del) - 1;
		size_t k = (size_t)hash_path(p, len) & (nslots - 1);
		while (slots[k] && (strlen(c->files[slots[k] - 1].path) != len ||
				    memcmp(c->files[slots[k] - 1].path, p, len)))
			k = (k + 1) & (nslots - 1);
		if (!slots[k]) {
			struct file *fl = &c->files[c->nfiles];
			if (!(fl->path = strndup(p, len)) ||
			    asprintf(&fl->open_path, "%s%s", c->sysroot ? c->sysroot : "",
				     fl->path) < 0) {
				fl->open_path = NULL;
				err = &ph_error_nomem;
				break;
			}
			fl->fd = FD_NOT_USABLE;
			fl->first = SIZE_MAX;
			slots[k] = ++c->nfiles;
		}
		c->fmaps[c->nfmaps++] = (struct file_map){v[0], v[1], v[2] * page, slots[k] - 1};
	}
	free(slots);
	if (!err)
		qsort(c->fmaps, c->nfmaps, sizeof(*c->fmaps), cmp_fmap);
	return err;
}

static void parse_prpsinfo(struct ph_core *c, const unsigned char *d, size_t n)
{
	struct elf_prpsinfo p;
	if (n != sizeof(p))
		return;
	memcpy(&p, d, sizeof(p));
	c->pid = p.pr_pid;
}

static struct ph_error *parse_notes(struct ph_core *c, const GElf_Phdr *ph)
{
	if (ph->p_filesz == 0)
		return NULL;
	if (ph->p_filesz > MAX_NOTE_BYTES || ph->p_offset > c->size ||
	    ph->p_filesz > c->size - ph->p_offset)
		return bad(c, "a note segment lies outside the file");
	Elf_Data *data = elf_getdata_rawchunk(c->elf, (int64_t)ph->p_offset, ph->p_filesz,
					      ELF_T_NHDR);
	if (!data)
		return bad(c, "note segment unreadable");
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	while (off < data->d_size &&
	       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) != 0) {
		if (nh.n_namesz != 5 || memcmp((const char *)data->d_buf + name_off, "CORE", 5))
			continue;
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_off;
		if (nh.n_type == NT_PRPSINFO) {
			parse_prpsinfo(c, desc, nh.n_descsz);
		} else if (nh.n_type == NT_FILE) {
			struct ph_error *err = parse_nt_file(c, desc, nh.n_descsz);
			if (err)
				return err;
		}
	}
	return NULL;
}

// Checks each mapped file against the core's copy of its first page; keeps
// the first MAX_OPEN_FILES usable ones open.
static void check_files(struct ph_core *c)
{
	for (size_t i = 0; i < c->nfmaps; i++)
		if (c->fmaps[i].offset == 0 && c->files[c->fmaps[i].file].first == SIZE_MAX)
			c->files[c->fmaps[i].file].first = i;
	size_t open_files = 0;
	for (size_t f = 0; f < c->nfiles; f++) {
		struct file *fl = &c->files[f];
		// A core names any path it likes: only a regular file is opened
		// (a FIFO would block the open, a device act on it), and without
		// blocking should it change in between.
		struct stat st;
		if (stat(fl->open_path, &st) == 0 && !S_ISREG(st.st_mode)) {
			fl->why = "not a regular file";
			continue;
		}
		int fd = open(fl->open_path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0) {
			fl->why = errno != ENOENT ? "the file cannot be opened"
				  : c->sysroot    ? "no such file under the --sysroot"
						  : "no such file on this machine (--sysroot DIR: "
						    "where the process's files are)";
			continue;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			fl->why = "not a regular file";
			close(fd);
			continue;
		}
		const struct file_map *m0 = fl->first != SIZE_MAX ? &c->fmaps[fl->first] : NULL;
		const struct segment *s = m0 ? find_seg(c, m0->start) : NULL;
		if (s && s->start == m0->start && s->filesz) {
			size_t n = s->filesz < FIRST_PAGE ? (size_t)s->filesz : FIRST_PAGE;
			if ((uint64_t)st.st_size < n)
				n = (size_t)st.st_size;
			unsigned char a[FIRST_PAGE], b[FIRST_PAGE];
			if (pread(c->fd, a, n, (off_t)s->offset) != (ssize_t)n ||
			    pread(fd, b, n, 0) != (ssize_t)n || memcmp(a, b, n)) {
				fl->why = "it is not the file the process mapped (its first page "
					  "differs from the core's: another build?)";
				close(fd);
				continue;
			}
		}
		if (open_files < MAX_OPEN_FILES) {
			fl->fd = fd;
			open_files++;
		} else {
			fl->fd = FD_CLOSED;
			close(fd);
		}
	}
}

static struct ph_error *build_maps(struct ph_core *c)
{
	size_t cap = c->nfmaps + c->nsegs;
	c->maps.maps = calloc(cap ? cap : 1, sizeof(*c->maps.maps));
	if (!c->maps.maps)
		return &ph_error_nomem;
	for (size_t i = 0; i < c->nfmaps; i++) {
		const struct file_map *fm = &c->fmaps[i];
		struct ph_map *m = &c->maps.maps[c->maps.n++];
		m->start = fm->start;
		m->end = fm->end;
		m->offset = fm->offset;
		if (!(m->path = strdup(c->files[fm->file].path)))
			return &ph_error_nomem;
		const struct segment *s = find_seg(c, fm->start);
		uint32_t fl = s && s->start == fm->start ? s->flags : PF_R;
		snprintf(m->perms, sizeof(m->perms), "%c%c%cp", fl & PF_R ? 'r' : '-',
			 fl & PF_W ? 'w' : '-', fl & PF_X ? 'x' : '-');
	}
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct segment *s = &c->segs[i];
		const struct file_map *fm = find_fmap(c, s->start);
		if (fm)
			continue;
		struct ph_map *m = &c->maps.maps[c->maps.n++];
		m->start = s->start;
		m->end = s->end;
		snprintf(m->perms, sizeof(m->perms), "%c%c%cp", s->flags & PF_R ? 'r' : '-',
			 s->flags & PF_W ? 'w' : '-', s->flags & PF_X ? 'x' : '-');
	}
	qsort(c->maps.maps, c->maps.n, sizeof(*c->maps.maps), cmp_map);
	return NULL;
}

struct ph_error *ph_core_open(const char *path, const char *sysroot, struct ph_core **ret)
{
	struct ph_core *c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path))) {
		free(c);
		return &ph_error_nomem;
	}
	if (sysroot && *sysroot) {
		// (Without its trailing slashes: paths in the core start with one.)
		size_t n = strlen(sysroot);
		while (n > 1 && sysroot[n - 1] == '/')
			n--;
		if (!(c->sysroot = strndup(sysroot, n))) {
			ph_core_close(c);
			return &ph_error_nomem;
		}
		struct stat st;
		if (stat(c->sysroot, &st) < 0 || !S_ISDIR(st.st_mode)) {
			struct ph_error *err = ph_error_create(PH_ERR_USAGE, "--sysroot %s: not a directory",
							       sysroot);
			ph_core_close(c);
			return err;
		}
	}
	c->fd = -1;
	struct ph_error *err = NULL;
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		err = ph_error_create(PH_ERR_USAGE, "open core %s: not a regular file", path);
		goto out;
	}
	if ((c->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0 ||
	    fstat(c->fd, &st) < 0) {
		err = ph_error_errno(errno == ENOENT ? PH_ERR_USAGE : PH_ERR_PERMISSION, errno,
				     "open core %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = ph_error_create(PH_ERR_USAGE, "open core %s: not a regular file", path);
		goto out;
	}
	c->size = (uint64_t)st.st_size;
	elf_version(EV_CURRENT);
	c->elf = elf_begin(c->fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr eh;
	static const struct {
		const char *name, *magic, *how;
	} packed[] = {
		{"zstd", "\x28\xb5\x2f\xfd", "zstd -d"}, {"xz", "\xfd" "7zXZ", "xz -d"},
		{"lz4", "\x04\x22\x4d\x18", "lz4 -d"},   {"gzip", "\x1f\x8b", "gzip -d"},
	};
	unsigned char head[6] = {0};
	ssize_t got = pread(c->fd, head, sizeof(head), 0);
	for (size_t i = 0; i < sizeof(packed) / sizeof(packed[0]) && got > 0; i++)
		if ((size_t)got >= strlen(packed[i].magic) &&
		    !memcmp(head, packed[i].magic, strlen(packed[i].magic))) {
			err = ph_error_create(PH_ERR_USAGE, "open core %s: a %s-compressed core — "
						"decompress it first (%s, or coredumpctl dump PID "
						"-o FILE)",
					      path, packed[i].name, packed[i].how);
			goto out;
		}
	if (!c->elf || elf_kind(c->elf) != ELF_K_ELF || !gelf_getehdr(c->elf, &eh) ||
	    eh.e_type != ET_CORE) {
		err = ph_error_create(PH_ERR_USAGE, "open core %s: not an ELF core file — write one "
					"with gcore PID, or let the kernel dump one (ulimit -c unlimited)",
				      path);
		goto out;
	}
	if (gelf_getclass(c->elf) != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != CORE_MACHINE) {
		err = ph_error_create(PH_ERR_USAGE, "open core %s: a core of another kind of machine "
					"(machine %u, %s) — analyse it on a 64-bit machine like the one "
					"that wrote it",
				      path, (unsigned)eh.e_machine,
				      gelf_getclass(c->elf) == ELFCLASS64 ? "64-bit" : "32-bit");
		goto out;
	}
	size_t phnum;
	if (elf_getphdrnum(c->elf, &phnum) != 0 || phnum > MAX_SEGMENTS) {
		err = bad(c, "program headers unreadable");
		goto out;
	}
	c->segs = calloc(phnum ? phnum : 1, sizeof(*c->segs));
	if (!c->segs) {
		err = &ph_error_nomem;
		goto out;
	}
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(c->elf, (int)i, &ph)) {
			err = bad(c, "program headers unreadable");
			goto out;
		}
		if (ph.p_type == PT_NOTE) {
			if ((err = parse_notes(c, &ph)))
				goto out;
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0 || ph.p_vaddr > UINT64_MAX - ph.p_memsz)
			continue;
		uint64_t filesz = ph.p_filesz < ph.p_memsz ? ph.p_filesz : ph.p_memsz, want = filesz;
		if (ph.p_offset > c->size)
			filesz = 0;
		else if (filesz > c->size - ph.p_offset)
			filesz = c->size - ph.p_offset;
		c->missing += want - filesz;
		c->segs[c->nsegs++] = (struct segment){ph.p_vaddr, ph.p_vaddr + ph.p_memsz,
						       ph.p_offset, filesz, ph.p_flags,
						       want > filesz};
	}
	qsort(c->segs, c->nsegs, sizeof(*c->segs), cmp_seg);
	// Overlapping segments (a damaged core): the first of each overlap wins.
	size_t k = 0;
	for (size_t i = 0; i < c->nsegs; i++) {
		if (k && c->segs[i].start < c->segs[k - 1].end)
			continue;
		c->segs[k++] = c->segs[i];
	}
	c->nsegs = k;
	for (size_t i = 0; i < c->nsegs; i++)
		c->bytes += c->segs[i].filesz;
	if (c->nsegs == 0) {
		err = bad(c, "no memory segments");
		goto out;
	}
	// File mappings overlapping each other (a damaged note): the first wins.
	k = 0;
	for (size_t i = 0; i < c->nfmaps; i++) {
		if (k && c->fmaps[i].start < c->fmaps[k - 1].end)
			continue;
		c->fmaps[k++] = c->fmaps[i];
	}
	c->nfmaps = k;
	check_files(c);
	err = build_maps(c);
out:
	if (err) {
		ph_core_close(c);
		return err;
	}
	*ret = c;
	return NULL;
}

void ph_core_close(struct ph_core *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->files[i].fd >= 0)
			close(c->files[i].fd);
		free(c->files[i].path);
		free(c->files[i].open_path);
	}
	free(c->files);
	free(c->fmaps);
	free(c->segs);
	ph_maps_deinit(&c->maps);
	if (c->elf)
		elf_end(c->elf);
	if (c->fd >= 0)
		close(c->fd);
	free(c->path);
	free(c->sysroot);
	free(c);
}

const char *ph_core_path(const struct ph_core *c)
{
	return c->path;
}

const char *ph_core_sysroot(const struct ph_core *c)
{
	return c->sysroot;
}

int ph_core_pid(const struct ph_core *c)
{
	return c->pid;
}

const struct ph_maps *ph_core_maps(const struct ph_core *c)
{
	return &c->maps;
}

uint64_t ph_core_bytes(const struct ph_core *c)
{
	return c->bytes;
}

uint64_t ph_core_missing(const struct ph_core *c)
{
	return c->missing;
}

bool ph_core_file_usable(struct ph_core *c, const struct ph_map *m, const char **why)
{
	const struct file_map *fm = find_fmap(c, m->start);
	if (!fm || fm->start != m->start) {
		if (why)
			*why = "not a file mapping of the core";
		return false;
	}
	const struct file *f = &c->files[fm->file];
	if (f->fd == FD_NOT_USABLE && why)
		*why = f->why;
	return f->fd != FD_NOT_USABLE;
}

bool ph_core_writable_ranges(const struct ph_core *c, struct ph_mem_range **ret, size_t *n,
			     uint64_t *total)
{
	struct ph_mem_range *r = calloc(c->nsegs ? c->nsegs : 1, sizeof(*r));
	if (!r)
		return false;
	size_t k = 0;
	*total = 0;
	for (size_t i = 0; i < c->nsegs; i++) {
		const struct segment *s = &c->segs[i];
		if (!(s->flags & PF_W) || !s->filesz)
			continue;
		r[k++] = (struct ph_mem_range){s->start, s->start + s->filesz};
		*total += s->filesz;
	}
	*ret = r;
	*n = k;
	return true;
}

const char *ph_core_file_path(const struct ph_core *c, const struct ph_map *m)
{
	const struct file_map *fm = find_fmap(c, m->start);
	return fm && fm->start == m->start ? c->files[fm->file].open_path : NULL;
}

// Reads what it can of [addr, addr + len), stopping at the first byte
// neither the core nor a usable mapped file holds.
static long core_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct ph_core *c = arg;
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		if (a < addr)
			break;
		size_t want = len - done;
		const struct segment *s = find_seg(c, a);
		int fd = -1, once = -1; // (once: a file opened for this read alone)
		uint64_t off = 0, avail = 0;
		if (s && a - s->start < s->filesz) {
			fd = c->fd;
			off = s->offset + (a - s->start);
			avail = s->filesz - (a - s->start);
		} else if (!s || !s->cut) {
			const struct file_map *fm = find_fmap(c, a);
			if (fm && c->files[fm->file].fd != FD_NOT_USABLE) {
				fd = c->files[fm->file].fd;
				if (fd == FD_CLOSED)
					fd = once = open_regular(c->files[fm->file].open_path);
				off = fm->offset + (a - fm->start);
				avail = fm->end - a;
				// (Up to the core's next bytes, if any.)
				uint64_t next = s ? s->end : next_seg_start(c, a);
				if (next - a < avail)
					avail = next - a;
			}
		}
		if (fd < 0)
			break;
		if (want > avail)
			want = (size_t)avail;
		ssize_t r = pread(fd, (char *)buf + done, want, (off_t)off);
		if (once >= 0)
			close(once);
		once = -1;
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r < want)
			break;
	}
	return (long)done;
}

static long core_readv(void *arg, const struct ph_mem_iov *iov, size_t n)
{
	long total = 0;
	for (size_t i = 0; i < n; i++) {
		long got = core_read(arg, iov[i].addr, iov[i].buf, iov[i].len);
		total += got;
		if ((size_t)got < iov[i].len)
			break;
	}
	return total;
}

void ph_core_source(struct ph_core *c, struct ph_mem_source *ret)
{
	*ret = (struct ph_mem_source){.read = core_read, .readv = core_readv, .arg = c};
}
