/* SPDX-License-Identifier: MIT */
#include "elffile.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ph_error *ph_elf_open(const char *path, struct ph_elf **ret)
{
	elf_version(EV_CURRENT);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ph_error_errno(errno == ENOENT ? PH_ERR_NOT_PYTHON : PH_ERR_OTHER, errno,
				      "open %s", path);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	GElf_Ehdr ehdr;
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) {
		if (elf)
			elf_end(elf);
		close(fd);
		return ph_error_create(PH_ERR_NOT_PYTHON, "read ELF %s: not an ELF file", path);
	}
	if (ehdr.e_ident[EI_CLASS] != ELFCLASS64 || ehdr.e_machine != EM_X86_64) {
		elf_end(elf);
		close(fd);
		return ph_error_create(PH_ERR_UNSUPPORTED,
				       "read ELF %s: only 64-bit x86-64 interpreters are supported", path);
	}
	struct ph_elf *f = calloc(1, sizeof(*f));
	if (!f) {
		elf_end(elf);
		close(fd);
		return &ph_error_nomem;
	}
	f->fd = fd;
	f->elf = elf;
	f->path = strdup(path);
	f->e_type = ehdr.e_type;

	size_t phnum = 0;
	elf_getphdrnum(elf, &phnum);
	bool have_base = false;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph))
			continue;
		if (ph.p_type == PT_LOAD && !have_base) {
			f->base_vaddr = (ph.p_vaddr - ph.p_offset) & ~(uint64_t)0xfff;
			have_base = true;
		}
	}

	size_t shstrndx;
	elf_getshdrstrndx(elf, &shstrndx);
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *name = elf_strptr(elf, shstrndx, sh.sh_name);
		if (!name)
			continue;
		if (sh.sh_type == SHT_SYMTAB)
			f->has_symtab = true;
		if ((!strcmp(name, ".debug_info") || !strcmp(name, ".zdebug_info")) &&
		    sh.sh_type != SHT_NOBITS && sh.sh_size > 0)
			f->has_debug_info = true;
		if (sh.sh_type == SHT_NOTE) {
			Elf_Data *data = elf_getdata(scn, NULL);
			size_t off = 0, name_off, desc_off;
			GElf_Nhdr nh;
			while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
				if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
				    !memcmp((char *)data->d_buf + name_off, "GNU", 4) &&
				    nh.n_descsz <= sizeof(f->build_id)) {
					memcpy(f->build_id, (char *)data->d_buf + desc_off, nh.n_descsz);
					f->build_id_len = nh.n_descsz;
					f->build_id_vaddr = (sh.sh_flags & SHF_ALLOC)
								    ? sh.sh_addr + desc_off
								    : 0;
				}
			}
		}
		if (!strcmp(name, ".gnu_debuglink") && sh.sh_type != SHT_NOBITS) {
			Elf_Data *data = elf_getdata(scn, NULL);
			if (data && data->d_size > 4 && memchr(data->d_buf, '\0', data->d_size))
				f->debuglink = strdup(data->d_buf);
		}
	}
	*ret = f;
	return NULL;
}

void ph_elf_close(struct ph_elf *f)
{
	if (!f)
		return;
	elf_end(f->elf);
	close(f->fd);
	free(f->path);
	free(f->debuglink);
	free(f);
}

void ph_elf_build_id_hex(const struct ph_elf *f, char *buf)
{
	for (size_t i = 0; i < f->build_id_len; i++)
		sprintf(buf + 2 * i, "%02x", f->build_id[i]);
	buf[2 * f->build_id_len] = '\0';
}

// @name is symbol @qname, or (LTO and GCC's clones rename local functions:
// "subtype_traverse.lto_priv.0") a local function with a suffix, or a local
// object with LTO's ("Handlers.lto_priv.0").
static bool symbol_matches(const char *qname, size_t len, const char *name, bool local, int type)
{
	return !strncmp(qname, name, len) &&
	       (name[len] == '\0' || (name[len] == '.' && local && type == STT_FUNC) ||
		(local && type == STT_OBJECT && !strncmp(name + len, ".lto_priv.", 10)));
}

enum { STEM_MAX = 64 }; /* queries by the length of their name up to a '.' */

static size_t lookup_in(struct ph_elf *f, Elf_Scn *scn, GElf_Shdr *sh, struct ph_symbol_query *q,
			size_t n)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return 0;
	size_t count = sh->sh_size / sh->sh_entsize;
	// The table and its names in place (the file is ELF64 for this host,
	// checked at open), else through libelf's accessors.
	const Elf64_Sym *syms = NULL;
	if (data->d_type == ELF_T_SYM && data->d_buf && sh->sh_entsize == sizeof(Elf64_Sym) &&
	    data->d_size / sizeof(Elf64_Sym) >= count)
		syms = data->d_buf;
	Elf_Scn *strscn = elf_getscn(f->elf, sh->sh_link);
	Elf_Data *strd = strscn ? elf_getdata(strscn, NULL) : NULL;
	const char *strs = NULL;
	if (strd && strd->d_buf && strd->d_size && ((const char *)strd->d_buf)[strd->d_size - 1] == '\0')
		strs = strd->d_buf;
	// A match has the query's length up to its first '.': a chain of the
	// queries of each length (a symbol table has tens of thousands of
	// names); a query with a '.' of its own, or a long one, is compared with
	// every name.
	size_t *len = reallocarray(NULL, n ? n : 1, sizeof(*len));
	size_t *next = reallocarray(NULL, n ? n : 1, sizeof(*next));
	if (!len || !next) {
		free(len);
		free(next);
		return 0;
	}
	size_t head[STEM_MAX + 1], found = 0, pending = 0;
	for (size_t k = 0; k <= STEM_MAX; k++)
		head[k] = SIZE_MAX;
	for (size_t j = n; j-- > 0;) {
		len[j] = strlen(q[j].name);
		size_t k = strchr(q[j].name, '.') || len[j] >= STEM_MAX ? STEM_MAX : len[j];
		next[j] = head[k];
		head[k] = j;
		pending += !q[j].value;
	}
	for (size_t i = 0; i < count && found < pending; i++) {
		GElf_Sym sym;
		if (syms) {
			sym = syms[i]; // (GElf_Sym is Elf64_Sym)
		} else if (!gelf_getsym(data, (int)i, &sym)) {
			continue;
		}
		if (sym.st_value == 0 || sym.st_shndx == SHN_UNDEF)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE)
			continue;
		const char *name = strs ? (sym.st_name < strd->d_size ? strs + sym.st_name : NULL)
					: elf_strptr(f->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		size_t stem = strcspn(name, ".");
		bool local = GELF_ST_BIND(sym.st_info) == STB_LOCAL;
		for (int pass = 0; pass < 2; pass++) {
			size_t j = pass ? head[STEM_MAX] : stem < STEM_MAX ? head[stem] : SIZE_MAX;
			for (; j != SIZE_MAX; j = next[j]) {
				if (!q[j].value && symbol_matches(q[j].name, len[j], name, local, type)) {
					q[j].value = sym.st_value;
					q[j].size = sym.st_size;
					found++;
				}
			}
		}
	}
	free(len);
	free(next);
	return found;
}

size_t ph_elf_lookup_symbols(struct ph_elf *f, struct ph_symbol_query *q, size_t n)
{
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(f->elf, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
				lookup_in(f, scn, &sh, q, n);
		}
	}
	size_t missing = 0;
	for (size_t j = 0; j < n; j++)
		missing += !q[j].value;
	return missing;
}

bool ph_elf_section(struct ph_elf *f, const char *name, uint64_t *addr, uint64_t *size)
{
	size_t shstrndx;
	if (elf_getshdrstrndx(f->elf, &shstrndx) < 0)
		return false;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		const char *n = elf_strptr(f->elf, shstrndx, sh.sh_name);
		if (n && !strcmp(n, name)) {
			*addr = sh.sh_addr;
			*size = sh.sh_size;
			return true;
		}
	}
	return false;
}

// Accepts @path as debug info for @f if it opens, has DWARF and, when both
// carry a build-id, the ids match.
static struct ph_elf *try_debug(struct ph_elf *f, const char *path)
{
	if (access(path, R_OK) < 0)
		return NULL;
	struct ph_elf *d;
	struct ph_error *err = ph_elf_open(path, &d);
	if (err) {
		ph_error_destroy(err);
		return NULL;
	}
	if (!d->has_debug_info ||
	    (f->build_id_len && d->build_id_len &&
	     (f->build_id_len != d->build_id_len ||
	      memcmp(f->build_id, d->build_id, f->build_id_len)))) {
		ph_elf_close(d);
		return NULL;
	}
	return d;
}

// The debug dirs to look in, colon separated: @debug_dirs, then the target's
// own /usr/lib/debug under its @root (NULL: none). NULL: out of memory.
static char *debug_dir_list(const char *debug_dirs, const char *root)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s%s%s", debug_dirs, root ? ":" : "", root ? root : "",
		     root ? "/usr/lib/debug" : "") < 0)
		return NULL;
	return s;
}

struct ph_error *ph_elf_find_debug(struct ph_elf *f, const char *debug_dirs, const char *root,
				   const char *path, struct ph_elf **ret)
{
	*ret = NULL;
	if (!debug_dirs || !*debug_dirs)
		debug_dirs = "/usr/lib/debug";
	if (root && !*root)
		root = NULL;
	char *dirs = debug_dir_list(debug_dirs, root);
	if (!dirs)
		return &ph_error_nomem;
	char *filedir = strdup(path ? path : f->path);
	if (!filedir) {
		free(dirs);
		return &ph_error_nomem;
	}
	char *slash = strrchr(filedir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(filedir, ".");
	const char *here = path && root ? root : ""; // (the file's directory, from here)

	char buf[4096];
	char hex[129];
	ph_elf_build_id_hex(f, hex);
	struct ph_elf *d = NULL;
	// 1. build-id, in each debug dir
	char *save = NULL;
	for (char *dir = strtok_r(dirs, ":", &save); dir && !d && f->build_id_len > 1;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, sizeof(buf), "%s/.build-id/%.2s/%s.debug", dir, hex, hex + 2);
		d = try_debug(f, buf);
	}
	// 2. .gnu_debuglink: beside the file, in .debug/, under each debug dir
	if (!d && f->debuglink) {
		snprintf(buf, sizeof(buf), "%s%s/%s", here, filedir, f->debuglink);
		if (strcmp(buf, f->path))
			d = try_debug(f, buf);
		if (!d) {
			snprintf(buf, sizeof(buf), "%s%s/.debug/%s", here, filedir, f->debuglink);
			d = try_debug(f, buf);
		}
		free(dirs);
		dirs = debug_dir_list(debug_dirs, root);
		for (char *dir = dirs ? strtok_r(dirs, ":", &save) : NULL; dir && !d;
		     dir = strtok_r(NULL, ":", &save)) {
			snprintf(buf, sizeof(buf), "%s%s/%s", dir, filedir, f->debuglink);
			d = try_debug(f, buf);
		}
	}
	free(dirs);
	free(filedir);
	*ret = d;
	return NULL;
}

/* ---- section contents ---- */

static Elf_Scn *section_at(struct ph_elf *f, uint64_t addr, GElf_Shdr *ret)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) || !sh.sh_size)
			continue;
		if (addr >= sh.sh_addr && addr - sh.sh_addr < sh.sh_size) {
			*ret = sh;
			return scn;
		}
	}
	return NULL;
}

enum ph_elf_addr_kind ph_elf_addr_kind(struct ph_elf *f, uint64_t addr)
{
	GElf_Shdr sh;
	if (!section_at(f, addr, &sh))
		return PH_ELF_ADDR_NONE;
	if (sh.sh_flags & SHF_EXECINSTR)
		return PH_ELF_ADDR_TEXT;
	if (sh.sh_flags & SHF_WRITE)
		return PH_ELF_ADDR_DATA;
	return sh.sh_type == SHT_NOBITS ? PH_ELF_ADDR_NONE : PH_ELF_ADDR_RODATA;
}

bool ph_elf_text_range(struct ph_elf *f, uint64_t *lo, uint64_t *hi)
{
	uint64_t l = UINT64_MAX, h = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(f->elf, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC) ||
		    !(sh.sh_flags & SHF_EXECINSTR) || !sh.sh_size)
			continue;
		if (sh.sh_addr < l)
			l = sh.sh_addr;
		if (sh.sh_addr + sh.sh_size > h)
			h = sh.sh_addr + sh.sh_size;
	}
	if (l >= h)
		return false;
	*lo = l;
	*hi = h;
	return true;
}

bool ph_elf_read(struct ph_elf *f, uint64_t addr, void *buf, size_t len)
{
	GElf_Shdr sh;
	Elf_Scn *scn = section_at(f, addr, &sh);
	if (!scn || sh.sh_type == SHT_NOBITS || addr - sh.sh_addr + len > sh.sh_size)
		return false;
	Elf_Data *data = elf_rawdata(scn, NULL);
	size_t off = (size_t)(addr - sh.sh_addr);
	if (!data || !data->d_buf || off + len > data->d_size)
		return false;
	memcpy(buf, (char *)data->d_buf + off, len);
	return true;
}

/* ---- debuginfod ---- */

/*
 * libdebuginfod's API (elfutils debuginfod.h), declared here so that neither
 * the header nor the library is needed at build time: the library is
 * dlopen()ed only when DEBUGINFOD_URLS is set.
 */
typedef struct debuginfod_client debuginfod_client;
typedef int (*debuginfod_progressfn_t)(debuginfod_client *c, long a, long b);

struct debuginfod_api {
	debuginfod_client *(*begin)(void);
	void (*end)(debuginfod_client *);
	int (*find_debuginfo)(debuginfod_client *, const unsigned char *, int, char **);
	void (*set_progressfn)(debuginfod_client *, debuginfod_progressfn_t);
	void (*set_user_data)(debuginfod_client *, void *);
	void *(*get_user_data)(debuginfod_client *);
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct debuginfod_api dapi;

// Called by libdebuginfod while it waits on the network (about once a
// second and on every chunk received): a non-zero return cancels the query.
static int debuginfod_progress(debuginfod_client *c, long a, long b)
{
	(void)a;
	(void)b;
	const uint64_t *deadline = dapi.get_user_data(c);
	return deadline && monotonic_ms() > *deadline;
}

struct ph_error *ph_elf_find_debuginfod(struct ph_elf *f, int timeout_ms, struct ph_elf **ret)
{
	*ret = NULL;
	const char *urls = getenv("DEBUGINFOD_URLS");
	if (!urls || !*urls || f->build_id_len < 2)
		return NULL;
	void *lib = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return NULL;
	dapi.begin = (debuginfod_client * (*)(void)) dlsym(lib, "debuginfod_begin");
	dapi.end = (void (*)(debuginfod_client *))dlsym(lib, "debuginfod_end");
	dapi.find_debuginfo = (int (*)(debuginfod_client *, const unsigned char *, int, char **))dlsym(
		lib, "debuginfod_find_debuginfo");
	dapi.set_progressfn = (void (*)(debuginfod_client *, debuginfod_progressfn_t))dlsym(
		lib, "debuginfod_set_progressfn");
	dapi.set_user_data = (void (*)(debuginfod_client *, void *))dlsym(lib, "debuginfod_set_user_data");
	dapi.get_user_data = (void *(*)(debuginfod_client *))dlsym(lib, "debuginfod_get_user_data");
	if (!dapi.begin || !dapi.end || !dapi.find_debuginfo || !dapi.set_progressfn ||
	    !dapi.set_user_data || !dapi.get_user_data) {
		dlclose(lib);
		return NULL;
	}
	debuginfod_client *c = dapi.begin();
	if (!c) {
		dlclose(lib);
		return NULL;
	}
	uint64_t deadline = monotonic_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 1);
	dapi.set_user_data(c, &deadline);
	dapi.set_progressfn(c, debuginfod_progress);
	char *path = NULL;
	int fd = dapi.find_debuginfo(c, f->build_id, (int)f->build_id_len, &path);
	dapi.end(c);
	// The library stays loaded: unloading libcurl and its TLS state at this
	// point is a known source of crashes at exit.
	if (fd >= 0)
		close(fd);
	if (fd >= 0 && path)
		*ret = try_debug(f, path);
	free(path);
	return NULL;
}
