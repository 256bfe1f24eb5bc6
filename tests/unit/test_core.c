/* SPDX-License-Identifier: MIT */
/*
 * Core files (lib/core.c) built here byte by byte: an anonymous segment, a
 * file mapping the core kept the first page of (the rest read from the file),
 * one it left out altogether (no PT_LOAD: as gcore may), the NT_FILE,
 * NT_PRPSINFO and NT_PRSTATUS notes. Reads must come from the core where it
 * holds the bytes, from the mapped file where it does not, never from a file
 * whose first page differs from the core's, nor in place of a segment the
 * core was cut short in. Then damaged cores: crafted counts, and thousands
 * of random mutations and truncations, each refused with a message naming
 * the core or opened and read without a fault (under ASan in the
 * test_core-asan build).
 */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core.h"

enum { PAGE = 4096, A_START = 0x10000, A_SIZE = 0x2000, B_START = 0x40000, B_SIZE = 0x3000,
       C_START = 0x50000, C_SIZE = 0x1000, NPH = 3 /* note, A, B */ };

static char dir[64];
static char lib_path[128];
static unsigned char lib[3 * PAGE];

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *data, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void pad4(struct buf *b)
{
	static const unsigned char z[4];
	put(b, z, (4 - b->n % 4) % 4);
}

static void note(struct buf *b, uint32_t type, const void *desc, uint32_t descsz)
{
	Elf64_Nhdr nh = {.n_namesz = 5, .n_descsz = descsz, .n_type = type};
	put(b, &nh, sizeof(nh));
	put(b, "CORE", 5);
	pad4(b);
	put(b, desc, descsz);
	pad4(b);
}

static unsigned char a_byte(uint64_t addr)
{
	return (unsigned char)(addr * 7 + 3);
}

/*
 * The core's bytes. @b_first: B's first page as the core holds it (NULL: the
 * file's). @nt_count: the NT_FILE count field (2 when right).
 */
static struct buf make_core(const unsigned char *b_first, uint64_t nt_count)
{
	struct buf notes = {0};
	struct elf_prpsinfo ps = {0};
	ps.pr_pid = 4242;
	strcpy(ps.pr_fname, "python3");
	note(&notes, NT_PRPSINFO, &ps, sizeof(ps));
	struct elf_prstatus st = {0};
	note(&notes, NT_PRSTATUS, &st, sizeof(st));
	note(&notes, NT_PRSTATUS, &st, sizeof(st));
	struct buf nf = {0};
	uint64_t head[2] = {nt_count, PAGE};
	put(&nf, head, sizeof(head));
	uint64_t e1[3] = {B_START, B_START + B_SIZE, 0}, e2[3] = {C_START, C_START + C_SIZE, 1};
	put(&nf, e1, sizeof(e1));
	put(&nf, e2, sizeof(e2));
	put(&nf, lib_path, strlen(lib_path) + 1);
	put(&nf, lib_path, strlen(lib_path) + 1);
	note(&notes, NT_FILE, nf.p, (uint32_t)nf.n);
	free(nf.p);

	uint64_t off_notes = sizeof(Elf64_Ehdr) + NPH * sizeof(Elf64_Phdr);
	uint64_t off_a = (off_notes + notes.n + PAGE - 1) / PAGE * PAGE, off_b = off_a + A_SIZE;
	Elf64_Ehdr eh = {.e_type = ET_CORE, .e_version = EV_CURRENT,
			 .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
			 .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = NPH};
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
#if defined(__x86_64__)
	eh.e_machine = EM_X86_64;
#elif defined(__aarch64__)
	eh.e_machine = EM_AARCH64;
#endif
	Elf64_Phdr ph[NPH] = {
		{.p_type = PT_NOTE, .p_offset = off_notes, .p_filesz = notes.n},
		{.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = off_a, .p_vaddr = A_START,
		 .p_filesz = A_SIZE, .p_memsz = A_SIZE, .p_align = PAGE},
		{.p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = off_b, .p_vaddr = B_START,
		 .p_filesz = PAGE, .p_memsz = B_SIZE, .p_align = PAGE},
	};
	struct buf b = {0};
	put(&b, &eh, sizeof(eh));
	put(&b, ph, sizeof(ph));
	put(&b, notes.p, notes.n);
	free(notes.p);
	static const unsigned char zero[PAGE];
	put(&b, zero, off_a - b.n);
	for (uint64_t i = 0; i < A_SIZE; i++) {
		unsigned char c = a_byte(A_START + i);
		put(&b, &c, 1);
	}
	put(&b, b_first ? b_first : lib, PAGE);
	return b;
}

static void write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static long rd(struct ph_core *c, uint64_t addr, void *out, size_t n)
{
	struct ph_mem_source src;
	ph_core_source(c, &src);
	return src.read(src.arg, addr, out, n);
}

static void test_whole(const char *path)
{
	struct buf b = make_core(NULL, 2);
	write_file(path, b.p, b.n);
	free(b.p);
	CHECK(ph_core_is_core_file(path));
	CHECK(!ph_core_is_core_file(lib_path));
	struct ph_core *c = NULL;
	struct ph_error *err = ph_core_open(path, NULL, &c);
	CHECK(!err);
	if (err) {
		fprintf(stderr, "%s\n", err->message);
		ph_error_destroy(err);
		return;
	}
	CHECK(ph_core_pid(c) == 4242);
	CHECK(ph_core_bytes(c) == A_SIZE + PAGE);
	CHECK(ph_core_missing(c) == 0);
	const struct ph_maps *m = ph_core_maps(c);
	CHECK(m->n == 3);
	if (m->n == 3) {
		CHECK(m->maps[0].start == A_START && !m->maps[0].path &&
		      !strcmp(m->maps[0].perms, "rw-p"));
		CHECK(m->maps[1].start == B_START && m->maps[1].end == B_START + B_SIZE &&
		      m->maps[1].offset == 0 && !strcmp(m->maps[1].path, lib_path) &&
		      !strcmp(m->maps[1].perms, "r-xp"));
		CHECK(m->maps[2].start == C_START && m->maps[2].offset == PAGE &&
		      !strcmp(m->maps[2].perms, "r--p"));
		CHECK(ph_core_file_usable(c, &m->maps[1], NULL));
		CHECK(!ph_core_file_usable(c, &m->maps[0], NULL));
	}
	unsigned char out[64];
	CHECK(rd(c, A_START + 5, out, 16) == 16 && out[0] == a_byte(A_START + 5) &&
	      out[15] == a_byte(A_START + 20));
	// (A ends where nothing is mapped: a short read.)
	CHECK(rd(c, A_START + A_SIZE - 8, out, 16) == 8);
	// Past the core's page of B: the file's bytes; across: both.
	CHECK(rd(c, B_START + 0x1800, out, 16) == 16 && !memcmp(out, lib + 0x1800, 16));
	CHECK(rd(c, B_START + PAGE - 8, out, 16) == 16 && !memcmp(out, lib + PAGE - 8, 16));
	// C: no segment at all, the file at its offset.
	CHECK(rd(c, C_START + 0x10, out, 16) == 16 && !memcmp(out, lib + PAGE + 0x10, 16));
	CHECK(rd(c, C_START + C_SIZE - 4, out, 16) == 4);
	CHECK(rd(c, 0x30000, out, 16) == 0);
	CHECK(rd(c, UINT64_MAX - 4, out, 16) == 0);
	ph_core_close(c);
}

// Writes make_core(@b_first, 2) less its last @cut bytes at @path and opens
// it (under @sysroot): the core, or NULL (a failed check) when it is refused.
static struct ph_core *write_and_open(const char *path, const unsigned char *b_first, size_t cut,
				      const char *sysroot)
{
	struct buf b = make_core(b_first, 2);
	write_file(path, b.p, b.n - cut);
	free(b.p);
	struct ph_core *c = NULL;
	struct ph_error *err = ph_core_open(path, sysroot, &c);
	CHECK(!err);
	if (err) {
		fprintf(stderr, "%s\n", err->message);
		ph_error_destroy(err);
		return NULL;
	}
	return c;
}

// The core's copy of B's first page is not the file's: the file is never used.
static void test_other_build(const char *path)
{
	unsigned char first[PAGE];
	memcpy(first, lib, PAGE);
	first[40] ^= 0xff;
	struct ph_core *c = write_and_open(path, first, 0, NULL);
	if (!c)
		return;
	const struct ph_maps *m = ph_core_maps(c);
	const char *why = NULL;
	CHECK(m->n == 3 && !ph_core_file_usable(c, &m->maps[1], &why) && why &&
	      strstr(why, "not the file the process mapped"));
	unsigned char out[16];
	CHECK(rd(c, B_START + 32, out, 16) == 16 && out[8] == first[40]);
	CHECK(rd(c, B_START + 0x1800, out, 16) == 0);
	CHECK(rd(c, C_START, out, 16) == 0);
	ph_core_close(c);
}

// Cut short in B's page: what is missing is counted, and not taken from the file.
static void test_cut(const char *path)
{
	struct ph_core *c = write_and_open(path, NULL, 0x800, NULL);
	if (!c)
		return;
	CHECK(ph_core_missing(c) == 0x800);
	unsigned char out[16];
	CHECK(rd(c, B_START + 0x10, out, 16) == 16 && !memcmp(out, lib + 0x10, 16));
	CHECK(rd(c, B_START + 0x900, out, 16) == 0);
	CHECK(rd(c, B_START + 0x1800, out, 16) == 0);
	CHECK(rd(c, C_START, out, 16) == 16); // (another mapping of the file: still usable)
	ph_core_close(c);
}

static void test_refused(const char *path)
{
	struct ph_core *c = NULL;
	struct ph_error *err = ph_core_open(lib_path, NULL, &c);
	CHECK(err && err->code == PH_ERR_USAGE && strstr(err->message, "not an ELF core file"));
	ph_error_destroy(err);
	err = ph_core_open("/nonexistent/core", NULL, &c);
	CHECK(err && strstr(err->message, "open core /nonexistent/core"));
	ph_error_destroy(err);
	// systemd-coredump's cores are compressed: say how to decompress one.
	static const unsigned char zst[] = {0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0};
	write_file(path, zst, sizeof(zst));
	err = ph_core_open(path, NULL, &c);
	CHECK(err && err->code == PH_ERR_USAGE && strstr(err->message, "zstd-compressed") &&
	      strstr(err->message, "coredumpctl dump"));
	ph_error_destroy(err);
	// An NT_FILE count far past its note.
	struct buf b = make_core(NULL, 1ull << 40);
	write_file(path, b.p, b.n);
	free(b.p);
	err = ph_core_open(path, NULL, &c);
	CHECK(err && err->code == PH_ERR_BAD_DATA && strstr(err->message, "NT_FILE"));
	ph_error_destroy(err);
}

static void mkdir_p(const char *path)
{
	char tmp[512];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0700);
			*p = '/';
		}
	mkdir(tmp, 0700);
}

// --sysroot: the files are read from under it (the process's root elsewhere).
static void test_sysroot(const char *path)
{
	struct buf b = make_core(NULL, 2);
	write_file(path, b.p, b.n);
	free(b.p);
	char root[256], where[512], libdir[512];
	snprintf(root, sizeof(root), "%s/sysroot/", dir);
	snprintf(where, sizeof(where), "%s/sysroot%s", dir, lib_path);
	snprintf(libdir, sizeof(libdir), "%s/sysroot%s", dir, dir);
	mkdir_p(libdir);
	unsigned char other[sizeof(lib)];
	memcpy(other, lib, sizeof(lib));
	for (size_t i = PAGE; i < sizeof(other); i++)
		other[i] ^= 0x5a; // (its first page the core's; the rest its own)
	write_file(where, other, sizeof(other));
	struct ph_core *c = NULL;
	struct ph_error *err = ph_core_open(path, root, &c);
	CHECK(!err);
	if (!err) {
		const struct ph_maps *m = ph_core_maps(c);
		CHECK(m->n == 3 && !strcmp(m->maps[1].path, lib_path));
		CHECK(m->n == 3 && ph_core_file_path(c, &m->maps[1]) &&
		      !strcmp(ph_core_file_path(c, &m->maps[1]), where));
		unsigned char out[16];
		CHECK(rd(c, B_START + 0x1800, out, 16) == 16 && !memcmp(out, other + 0x1800, 16));
		ph_core_close(c);
	}
	unlink(where);
	err = ph_core_open(path, root, &c);
	CHECK(!err);
	if (!err) {
		const struct ph_maps *m = ph_core_maps(c);
		const char *why = NULL;
		CHECK(m->n == 3 && !ph_core_file_usable(c, &m->maps[1], &why) && why &&
		      strstr(why, "--sysroot"));
		ph_core_close(c);
	}
	err = ph_core_open(path, lib_path, &c);
	CHECK(err && err->code == PH_ERR_USAGE && strstr(err->message, "not a directory"));
	ph_error_destroy(err);
	for (char *p = libdir + strlen(libdir); p > libdir + strlen(dir); p--)
		if (*p == '/') { // (rmdir the tree made above, deepest first)
			rmdir(libdir);
			*p = '\0';
		}
	rmdir(libdir);
}

// A core may name any path: a FIFO (whose open would block) or a device is
// never opened, nor taken as a core.
static void test_not_regular(const char *path)
{
	char fifo[160], saved[128];
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	CHECK(mkfifo(fifo, 0600) == 0);
	memcpy(saved, lib_path, sizeof(saved));
	snprintf(lib_path, sizeof(lib_path), "%s", fifo);
	struct buf b = make_core(NULL, 2);
	memcpy(lib_path, saved, sizeof(saved));
	write_file(path, b.p, b.n);
	free(b.p);
	struct ph_core *c = NULL;
	struct ph_error *err = ph_core_open(path, NULL, &c);
	CHECK(!err);
	if (!err) {
		const struct ph_maps *m = ph_core_maps(c);
		const char *why = NULL;
		CHECK(m->n == 3 && !ph_core_file_usable(c, &m->maps[1], &why) && why &&
		      !strcmp(why, "not a regular file"));
		ph_core_close(c);
	}
	ph_error_destroy(err);
	CHECK(!ph_core_is_core_file(fifo));
	err = ph_core_open(fifo, NULL, &c);
	CHECK(err && err->code == PH_ERR_USAGE && strstr(err->message, "not a regular file"));
	ph_error_destroy(err);
	err = ph_core_open("/dev/null", NULL, &c);
	CHECK(err && err->code == PH_ERR_USAGE && strstr(err->message, "not a regular file"));
	ph_error_destroy(err);
	unlink(fifo);
}

// A process that mapped more files than the core keeps open at once (300,
// each one page at its own address, no segment of its own): every one read.
static void test_many_files(const char *path)
{
	enum { NFILES = 300, BASE = 0x1000000 };
	struct buf nf = {0}, names = {0}, notes = {0};
	uint64_t head[2] = {NFILES, PAGE};
	put(&nf, head, sizeof(head));
	unsigned char page[PAGE];
	char name[160];
	for (int i = 0; i < NFILES; i++) {
		uint64_t e[3] = {BASE + (uint64_t)i * 2 * PAGE, BASE + (uint64_t)i * 2 * PAGE + PAGE, 0};
		put(&nf, e, sizeof(e));
		snprintf(name, sizeof(name), "%s/f%03d", dir, i);
		memset(page, i & 0xff, sizeof(page));
		write_file(name, page, sizeof(page));
		put(&names, name, strlen(name) + 1);
	}
	put(&nf, names.p, names.n);
	note(&notes, NT_FILE, nf.p, (uint32_t)nf.n);
	uint64_t off_notes = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
	uint64_t off_a = (off_notes + notes.n + PAGE - 1) / PAGE * PAGE;
	struct buf whole = make_core(NULL, 2); // (its ELF header)
	Elf64_Ehdr eh;
	memcpy(&eh, whole.p, sizeof(eh));
	free(whole.p);
	eh.e_phnum = 2;
	Elf64_Phdr ph[2] = {
		{.p_type = PT_NOTE, .p_offset = off_notes, .p_filesz = notes.n},
		{.p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = off_a, .p_vaddr = A_START,
		 .p_filesz = PAGE, .p_memsz = PAGE},
	};
	struct buf b = {0};
	put(&b, &eh, sizeof(eh));
	put(&b, ph, sizeof(ph));
	put(&b, notes.p, notes.n);
	static const unsigned char zero[2 * PAGE];
	put(&b, zero, off_a + PAGE - b.n);
	write_file(path, b.p, b.n);
	free(b.p);
	free(nf.p);
	free(names.p);
	free(notes.p);
	struct ph_core *c = NULL;
	struct ph_error *err = ph_core_open(path, NULL, &c);
	CHECK(!err);
	if (!err) {
		CHECK(ph_core_maps(c)->n == NFILES + 1);
		unsigned ok = 0;
		for (int i = 0; i < NFILES; i++) {
			unsigned char out[8];
			ok += rd(c, BASE + (uint64_t)i * 2 * PAGE + 100, out, 8) == 8 &&
			      out[0] == (i & 0xff) && out[7] == (i & 0xff);
		}
		CHECK(ok == NFILES);
		ph_core_close(c);
	}
	ph_error_destroy(err);
	for (int i = 0; i < NFILES; i++) {
		snprintf(name, sizeof(name), "%s/f%03d", dir, i);
		unlink(name);
	}
}

// Random damage to the headers and notes (and truncations): refused with a
// message naming the core, or read without a fault.
static void test_mutations(const char *path)
{
	struct buf good = make_core(NULL, 2);
	size_t head = sizeof(Elf64_Ehdr) + NPH * sizeof(Elf64_Phdr) + 600;
	unsigned opened = 0, refused = 0;
	for (int it = 0; it < 3000; it++) {
		unsigned char *p = malloc(good.n);
		memcpy(p, good.p, good.n);
		size_t n = good.n;
		int flips = 1 + (int)(rnd() % 8);
		for (int k = 0; k < flips; k++) {
			size_t at = rnd() % (rnd() % 4 ? head : good.n);
			p[at] = rnd() % 3 ? (unsigned char)rnd() : p[at] ^ (unsigned char)(1u << rnd() % 8);
		}
		if (rnd() % 5 == 0)
			n = rnd() % good.n;
		write_file(path, p, n);
		free(p);
		struct ph_core *c = NULL;
		struct ph_error *err = ph_core_open(path, NULL, &c);
		if (err) {
			refused++;
			CHECK(err == &ph_error_nomem || strstr(err->message, "core"));
			ph_error_destroy(err);
			continue;
		}
		opened++;
		const struct ph_maps *m = ph_core_maps(c);
		for (size_t i = 0; i < m->n; i++) {
			CHECK(m->maps[i].start < m->maps[i].end);
			CHECK(i == 0 || m->maps[i - 1].start <= m->maps[i].start);
			ph_core_file_usable(c, &m->maps[i], NULL);
		}
		unsigned char out[256];
		static const uint64_t at[] = {A_START, A_START + 100, B_START, B_START + 0x1800,
					      C_START, 0, UINT64_MAX - 10};
		for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			long r = rd(c, at[i], out, sizeof(out));
			CHECK(r >= 0 && r <= (long)sizeof(out));
		}
		ph_core_close(c);
	}
	free(good.p);
	printf("mutations: %u opened and read, %u refused\n", opened, refused);
	CHECK(opened > 100 && refused > 100);
}

int main(void)
{
	strcpy(dir, "/tmp/pyheap-test-core-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	snprintf(lib_path, sizeof(lib_path), "%s/libfake.so", dir);
	for (size_t i = 0; i < sizeof(lib); i++)
		lib[i] = (unsigned char)(i * 13 + i / 251);
	memcpy(lib, ELFMAG, SELFMAG); // (an ELF file of no kind: not a core)
	write_file(lib_path, lib, sizeof(lib));
	char path[128];
	snprintf(path, sizeof(path), "%s/core", dir);
	test_whole(path);
	test_other_build(path);
	test_cut(path);
	test_refused(path);
	test_sysroot(path);
	test_not_regular(path);
	test_many_files(path);
	test_mutations(path);
	unlink(path);
	unlink(lib_path);
	rmdir(dir);
	return CHECK_DONE();
}
