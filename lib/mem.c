/* SPDX-License-Identifier: MIT */
#include "mem.h"

#include <stdlib.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

// Blocks of 64 KiB: large enough that a million-object heap costs a few
// thousand source calls, small enough that sparse reads do not copy much.
enum {
	BLOCK_SHIFT = 16,
	BLOCK_SIZE = 1 << BLOCK_SHIFT,
	PAGE_SHIFT = 12,
	PAGE_SIZE = 1 << PAGE_SHIFT,
	PAGES_PER_BLOCK = BLOCK_SIZE / PAGE_SIZE,
};

struct block {
	uint64_t number;   // address >> BLOCK_SHIFT, or UINT64_MAX when the slot is empty
	uint8_t *data;     // NULL when no page of the block is readable
	uint16_t valid;    // bit i: page i was read
};

struct ph_mem {
	struct ph_mem_source src;
	struct block *slots;
	size_t nslots;     // power of two
	size_t nused;
	struct block *last;
	bool gone;
	struct ph_mem_stats stats;
};

static void slots_clear(struct block *slots, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		slots[i].number = UINT64_MAX;
		slots[i].data = NULL;
		slots[i].valid = 0;
	}
}

struct ph_error *ph_mem_create(const struct ph_mem_source *src, struct ph_mem **ret)
{
	struct ph_mem *mem = calloc(1, sizeof(*mem));
	if (!mem)
		return &ph_error_nomem;
	mem->src = *src;
	mem->nslots = 1024;
	mem->slots = reallocarray(NULL, mem->nslots, sizeof(*mem->slots));
	if (!mem->slots) {
		free(mem);
		return &ph_error_nomem;
	}
	slots_clear(mem->slots, mem->nslots);
	*ret = mem;
	return NULL;
}

static void free_blocks(struct ph_mem *mem)
{
	for (size_t i = 0; i < mem->nslots; i++)
		free(mem->slots[i].data);
}

void ph_mem_destroy(struct ph_mem *mem)
{
	if (!mem)
		return;
	free_blocks(mem);
	free(mem->slots);
	free(mem);
}

void ph_mem_reset(struct ph_mem *mem)
{
	free_blocks(mem);
	slots_clear(mem->slots, mem->nslots);
	mem->nused = 0;
	mem->last = NULL;
}

static inline size_t hash_block(uint64_t number, size_t mask)
{
	return (size_t)((number * 0x9E3779B97F4A7C15ull) >> 20) & mask;
}

static struct block *lookup_slot(struct block *slots, size_t nslots, uint64_t number)
{
	size_t mask = nslots - 1;
	for (size_t i = hash_block(number, mask);; i = (i + 1) & mask) {
		if (slots[i].number == number || slots[i].number == UINT64_MAX)
			return &slots[i];
	}
}

static bool grow(struct ph_mem *mem)
{
	size_t n = mem->nslots * 2;
	struct block *slots = reallocarray(NULL, n, sizeof(*slots));
	if (!slots)
		return false;
	slots_clear(slots, n);
	for (size_t i = 0; i < mem->nslots; i++) {
		if (mem->slots[i].number != UINT64_MAX)
			*lookup_slot(slots, n, mem->slots[i].number) = mem->slots[i];
	}
	free(mem->slots);
	mem->slots = slots;
	mem->nslots = n;
	mem->last = NULL;
	return true;
}

static long source_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
	mem->stats.source_calls++;
	long n = mem->src.read(mem->src.arg, addr, buf, len);
	if (n == -ESRCH)
		mem->gone = true;
	if (n > 0)
		mem->stats.bytes_read += (uint64_t)n;
	return n;
}

// Fills a block: one read of the whole block; if it stops short, the pages
// after the first unreadable one are tried one by one.
static void fill_block(struct ph_mem *mem, struct block *b)
{
	uint64_t base = b->number << BLOCK_SHIFT;
	b->data = malloc(BLOCK_SIZE);
	b->valid = 0;
	if (!b->data)
		return;
	mem->stats.blocks++;
	long n = source_read(mem, base, b->data, BLOCK_SIZE);
	size_t good = n > 0 ? (size_t)n : 0;
	for (size_t p = 0; p < PAGES_PER_BLOCK; p++) {
		if ((p + 1) * PAGE_SIZE <= good)
			b->valid |= (uint16_t)(1u << p);
	}
	if (good < BLOCK_SIZE && !mem->gone) {
		for (size_t p = good / PAGE_SIZE + 1; p < PAGES_PER_BLOCK; p++) {
			long m = source_read(mem, base + p * PAGE_SIZE, b->data + p * PAGE_SIZE,
					     PAGE_SIZE);
			if (m == PAGE_SIZE)
				b->valid |= (uint16_t)(1u << p);
			if (mem->gone)
				break;
		}
	}
	if (!b->valid) {
		free(b->data);
		b->data = NULL;
	}
}

static struct block *get_block(struct ph_mem *mem, uint64_t number)
{
	if (mem->last && mem->last->number == number)
		return mem->last;
	struct block *b = lookup_slot(mem->slots, mem->nslots, number);
	if (b->number == UINT64_MAX) {
		if ((mem->nused + 1) * 2 > mem->nslots) {
			if (!grow(mem))
				return NULL;
			b = lookup_slot(mem->slots, mem->nslots, number);
		}
		b->number = number;
		mem->nused++;
		fill_block(mem, b);
	}
	mem->last = b;
	return b;
}

bool ph_mem_read(struct ph_mem *mem, uint64_t addr, void *buf, size_t len)
{
	uint8_t *out = buf;
	if (len == 0)
		return true;
	if (addr + len < addr) {
		mem->stats.faults++;
		return false;
	}
	while (len) {
		struct block *b = get_block(mem, addr >> BLOCK_SHIFT);
		size_t off = addr & (BLOCK_SIZE - 1);
		size_t n = BLOCK_SIZE - off;
		if (n > len)
			n = len;
		if (!b || !b->data)
			goto fault;
		unsigned first = (unsigned)(off >> PAGE_SHIFT);
		unsigned last = (unsigned)((off + n - 1) >> PAGE_SHIFT);
		for (unsigned p = first; p <= last; p++) {
			if (!(b->valid & (1u << p)))
				goto fault;
		}
		memcpy(out, b->data + off, n);
		out += n;
		addr += n;
		len -= n;
	}
	return true;
fault:
	mem->stats.faults++;
	return false;
}

bool ph_mem_string(struct ph_mem *mem, uint64_t addr, char *buf, size_t cap)
{
	size_t i = 0;
	while (i + 1 < cap) {
		// Read up to the end of the current page in one go.
		size_t chunk = PAGE_SIZE - (size_t)((addr + i) & (PAGE_SIZE - 1));
		if (chunk > cap - 1 - i)
			chunk = cap - 1 - i;
		if (!ph_mem_read(mem, addr + i, buf + i, chunk))
			return false;
		char *nul = memchr(buf + i, '\0', chunk);
		if (nul)
			return true;
		i += chunk;
	}
	buf[cap - 1] = '\0';
	return false;
}

bool ph_mem_target_gone(const struct ph_mem *mem)
{
	return mem->gone;
}

void ph_mem_get_stats(const struct ph_mem *mem, struct ph_mem_stats *ret)
{
	*ret = mem->stats;
}

void ph_mem_foreach_block(const struct ph_mem *mem,
			  void (*fn)(void *arg, uint64_t addr, const void *data, size_t len),
			  void *arg)
{
	for (size_t i = 0; i < mem->nslots; i++) {
		const struct block *b = &mem->slots[i];
		if (b->number == UINT64_MAX || !b->data)
			continue;
		uint64_t base = b->number << BLOCK_SHIFT;
		for (unsigned p = 0; p < PAGES_PER_BLOCK;) {
			if (!(b->valid & (1u << p))) {
				p++;
				continue;
			}
			unsigned q = p;
			while (q < PAGES_PER_BLOCK && (b->valid & (1u << q)))
				q++;
			fn(arg, base + (uint64_t)p * PAGE_SIZE, b->data + (size_t)p * PAGE_SIZE,
			   (size_t)(q - p) * PAGE_SIZE);
			p = q;
		}
	}
}

long ph_buffer_source_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	const struct ph_buffer_source *src = arg;
	size_t done = 0;
	while (done < len) {
		uint64_t a = addr + done;
		const struct ph_buffer_segment *seg = NULL;
		for (size_t i = 0; i < src->nsegments; i++) {
			const struct ph_buffer_segment *s = &src->segments[i];
			if (a >= s->address && a - s->address < s->size) {
				seg = s;
				break;
			}
		}
		if (!seg)
			break;
		size_t off = (size_t)(a - seg->address);
		size_t n = seg->size - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, (const uint8_t *)seg->data + off, n);
		done += n;
	}
	return done ? (long)done : -EFAULT;
}
