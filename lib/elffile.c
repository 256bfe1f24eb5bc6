/* SPDX-License-Identifier: MIT */
#include "elffile.h"

#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static size_t lookup_in(struct ph_elf *f, Elf_Scn *scn, GElf_Shdr *sh, struct ph_symbol_query *q,
			size_t n)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	if (!data || !sh->sh_entsize)
		return 0;
	size_t count = sh->sh_size / sh->sh_entsize;
	size_t found = 0;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym) || sym.st_value == 0 ||
		    sym.st_shndx == SHN_UNDEF)
			continue;
		int type = GELF_ST_TYPE(sym.st_info);
		if (type != STT_OBJECT && type != STT_FUNC && type != STT_NOTYPE)
			continue;
		const char *name = elf_strptr(f->elf, sh->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (q[j].value)
				continue;
			// LTO and GCC's clones rename local functions
			// ("subtype_traverse.lto_priv.0"): accept such a suffix.
			size_t len = strlen(q[j].name);
			if (!strncmp(q[j].name, name, len) &&
			    (name[len] == '\0' ||
			     (name[len] == '.' && GELF_ST_BIND(sym.st_info) == STB_LOCAL &&
			      type == STT_FUNC))) {
				q[j].value = sym.st_value;
				q[j].size = sym.st_size;
				found++;
			}
		}
	}
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

struct ph_error *ph_elf_find_debug(struct ph_elf *f, const char *debug_dirs, struct ph_elf **ret)
{
	*ret = NULL;
	if (!debug_dirs || !*debug_dirs)
		debug_dirs = "/usr/lib/debug";
	char *dirs = strdup(debug_dirs);
	if (!dirs)
		return &ph_error_nomem;
	char path[4096];
	char hex[129];
	ph_elf_build_id_hex(f, hex);
	char *filedir = strdup(f->path);
	if (!filedir) {
		free(dirs);
		return &ph_error_nomem;
	}
	char *slash = strrchr(filedir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(filedir, ".");

	struct ph_elf *d = NULL;
	// 1. build-id, in each debug dir
	char *save = NULL;
	for (char *dir = strtok_r(dirs, ":", &save); dir && !d && f->build_id_len > 1;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/.build-id/%.2s/%s.debug", dir, hex, hex + 2);
		d = try_debug(f, path);
	}
	// 2. .gnu_debuglink: beside the file, in .debug/, under each debug dir
	if (!d && f->debuglink) {
		snprintf(path, sizeof(path), "%s/%s", filedir, f->debuglink);
		if (strcmp(path, f->path))
			d = try_debug(f, path);
		if (!d) {
			snprintf(path, sizeof(path), "%s/.debug/%s", filedir, f->debuglink);
			d = try_debug(f, path);
		}
		strlcpy(dirs, debug_dirs, strlen(debug_dirs) + 1);
		for (char *dir = strtok_r(dirs, ":", &save); dir && !d;
		     dir = strtok_r(NULL, ":", &save)) {
			snprintf(path, sizeof(path), "%s%s/%s", dir, filedir, f->debuglink);
			d = try_debug(f, path);
		}
	}
	free(dirs);
	free(filedir);
	*ret = d;
	return NULL;
}
