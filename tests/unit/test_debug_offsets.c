/* SPDX-License-Identifier: MIT */
/*
 * _Py_DebugOffsets as untrusted input: the table read from a real 3.13.0
 * process parses and agrees with the built-in 3.13 table; a 3.14 table (the
 * 3.14.0 member list, values of 3.14.7 from the notes) selects the 3.14.5
 * table by its gc size, and the 3.14.0 one with the incremental GC's size;
 * every kind of damage is refused with a message.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "debug_offsets.h"
#include "tables.h"

/* The 584 bytes at _PyRuntime of pyenv's 3.13.0, after the "xdebugpy" cookie. */
static const uint64_t real_313[] = {
	51183856, 0, 283320, 608, 632, 194968, 7272, 7264, 7344, 7400, 7656, 7640, 7648, 16, 7752,
	0, 7768, 7760, 304, 0, 8, 16, 72, 152, 160, 232, 32, 80, 8, 0, 56, 72, 70, 208, 112, 120,
	128, 136, 68, 52, 96, 104, 200, 16, 8, 416, 24, 88, 168, 32, 24, 16, 40, 24, 16, 48, 32,
	40, 24, 16, 32, 16, 24, 40, 16, 32, 64, 32, 16, 40, 240, 200,
};

/* 3.14 (member list of pycore_debug_offsets.h in v3.14.0; 3.14.7 values). */
static const uint64_t v314[] = {
	0x030e07f0, 0,
	/* runtime_state */ 316616, 784, 808,
	/* interpreter_state */ 225864, 7280, 7272, 7344, 7360, 7408, 7688, 7672, 7680, 7744,
	7760, 0, 7776, 7768, 0, 0,
	/* thread_state */ 832, 0, 8, 16, 72, 152, 160, 232, 32,
	/* interpreter_frame */ 88, 8, 0, 56, 80, 74, 64, 0,
	/* code_object */ 216, 112, 120, 128, 136, 68, 52, 96, 104, 208, 0,
	/* pyobject */ 16, 8,
	/* type_object */ 416, 24, 88, 168,
	/* tuple_object */ 40, 32, 16,
	/* list_object */ 40, 24, 16,
	/* set_object */ 200, 24, 40, 32,
	/* dict_object */ 48, 32, 40,
	/* float_object */ 24, 16,
	/* long_object */ 32, 16, 24,
	/* bytes_object */ 40, 16, 32,
	/* unicode_object */ 64, 32, 16, 40,
	/* gc */ 264, 192,
	/* gen_object */ 160, 24, 72, 67,
	/* llist_node */ 0, 8,
	/* debugger_support */ 0, 0, 0, 0, 0, 0,
};

static size_t make(uint8_t *buf, const uint64_t *words, size_t n)
{
	memcpy(buf, "xdebugpy", 8);
	memcpy(buf + 8, words, n * 8);
	return 8 + n * 8;
}

/* Parses @p words with word @p i replaced by @p v; returns the error (or NULL). */
static struct ph_error *parse_patched(const uint64_t *words, size_t n, size_t i, uint64_t v,
				      struct ph_debug_offsets *d)
{
	uint64_t copy[128];
	memcpy(copy, words, n * 8);
	copy[i] = v;
	uint8_t buf[1024];
	size_t len = make(buf, copy, n);
	return ph_debug_offsets_parse(buf, len, d);
}

static void expect_refused(const uint64_t *words, size_t n, size_t i, uint64_t v,
			   enum ph_error_code code, const char *words_in_message)
{
	struct ph_debug_offsets d;
	struct ph_error *err = parse_patched(words, n, i, v, &d);
	CHECK(err != NULL);
	if (!err)
		return;
	if (err->code != code || !strstr(err->message, words_in_message))
		fprintf(stderr, "word %zu = %llu: got code %d \"%s\", expected %d \"...%s...\"\n", i,
			(unsigned long long)v, (int)err->code, err->message, (int)code,
			words_in_message);
	CHECK(err->code == code);
	CHECK(strstr(err->message, words_in_message) != NULL);
	ph_error_destroy(err);
}

int main(void)
{
	uint8_t buf[1024];
	struct ph_debug_offsets d;
	const size_t n313 = sizeof(real_313) / 8, n314 = sizeof(v314) / 8;

	/* A real 3.13.0 table. */
	size_t len = make(buf, real_313, n313);
	CHECK(len == 584);
	struct ph_error *err = ph_debug_offsets_parse(buf, len, &d);
	CHECK(err == NULL);
	ph_error_destroy(err);
	CHECK(d.version == 0x030d00f0);
	CHECK(d.layout.rt_interpreters_head == 632 && d.layout.is_gc == 7400);
	CHECK(d.layout.is_sysdict == 7640 && d.layout.ts_interp == 16 && d.layout.ts_prev == 0);
	CHECK(d.layout.tuple_item == 24 && d.layout.gc_sizeof == 240 && d.layout.ascii_sizeof == 40);
	CHECK(d.layout.iframe_owner == 70 && d.layout.code_code_adaptive == 200);
	CHECK(d.layout.set_table == -1); /* 3.14 only */
	CHECK(d.runtime_size == 283320 && d.interp_size == 194968);
	CHECK(d.ncovered >= 30);
	const struct ph_table *t = ph_table_for_version(0x030d00f0);
	CHECK(t && !strcmp(t->name, "3.13"));
	char why[160];
	if (t) {
		struct ph_layout l = t->layout;
		const char *first = NULL;
		CHECK(ph_debug_offsets_match(&d, &l, why, sizeof(why)));
		size_t ndiff = ph_debug_offsets_apply(&d, &l, &first);
		if (ndiff)
			fprintf(stderr, "3.13: %zu fields differ from the table, first %s\n", ndiff, first);
		CHECK(ndiff == 0);
		/* A table whose type size differs is not this build's. */
		l.tp_sizeof = 408;
		CHECK(!ph_debug_offsets_match(&d, &l, why, sizeof(why)));
		CHECK(strstr(why, "type object size 416, table 408") != NULL);
	}

	/* Damage, each on a copy of the real table (word i = byte 8 + 8 i). */
	memcpy(buf, "xdebugpz", 8);
	err = ph_debug_offsets_parse(buf, len, &d);
	CHECK(err && strstr(err->message, "cookie"));
	ph_error_destroy(err);
	make(buf, real_313, n313);
	err = ph_debug_offsets_parse(buf, 300, &d);
	CHECK(err && strstr(err->message, "beyond"));
	ph_error_destroy(err);
	expect_refused(real_313, n313, 1, 1, PH_ERR_UNSUPPORTED, "free-threaded");
	expect_refused(real_313, n313, 1, 7, PH_ERR_BAD_DATA, "free_threaded");
	expect_refused(real_313, n313, 0, 0x030f00a1, PH_ERR_UNSUPPORTED, "format of 3.15");
	expect_refused(real_313, n313, 0, 0x020700f0, PH_ERR_BAD_DATA, "version");
	expect_refused(real_313, n313, 2, 0, PH_ERR_BAD_DATA, "runtime_state.size is 0");
	expect_refused(real_313, n313, 4, 283320, PH_ERR_BAD_DATA, "interpreters_head is 283320");
	expect_refused(real_313, n313, 9, 7401, PH_ERR_BAD_DATA, "interpreter_state.gc");
	expect_refused(real_313, n313, 11, 1u << 20, PH_ERR_BAD_DATA, "interpreter_state.sysdict");
	expect_refused(real_313, n313, 18, 1u << 21, PH_ERR_BAD_DATA, "thread_state.size");
	expect_refused(real_313, n313, 32, 80, PH_ERR_BAD_DATA, "interpreter_frame.owner");
	expect_refused(real_313, n313, 45, 1u << 20, PH_ERR_BAD_DATA, "type_object.size");
	expect_refused(real_313, n313, 43, 32, PH_ERR_BAD_DATA, "PyObject is 32 bytes");
	expect_refused(real_313, n313, 54, 24, PH_ERR_BAD_DATA, "list_object.ob_size is 24");
	expect_refused(real_313, n313, 69, 72, PH_ERR_BAD_DATA, "asciiobject_size");

	/* 3.14: the gc size picks 3.14.5+ (264) or 3.14.0-3.14.4 (240). */
	len = make(buf, v314, n314);
	CHECK(len == 760);
	err = ph_debug_offsets_parse(buf, len, &d);
	CHECK(err == NULL);
	ph_error_destroy(err);
	CHECK(d.layout.set_used == 24 && d.layout.gen_iframe == 72 && d.layout.tuple_item == 32);
	const struct ph_table *t5 = ph_table_for_version(0x030e07f0);
	const struct ph_table *t0 = ph_table_for_version(0x030e02f0);
	CHECK(t5 && !strcmp(t5->name, "3.14.5") && !t5->tested_live);
	CHECK(t0 && !strcmp(t0->name, "3.14.0") && !t0->tested_live);
	CHECK(ph_table_by_name("3.14", 0x030e03f0) == t0);
	CHECK(ph_table_by_name("3.14", 0x030b07f0) == t0);
	CHECK(ph_table_by_name("3.14.6", 0) == t5);
	CHECK(ph_table_by_name("3.11", 0) == ph_table_for_version(0x030b07f0));
	CHECK(ph_table_by_name("3.7", 0) == NULL && ph_table_by_name("x", 0) == NULL);
	if (t5 && t0) {
		CHECK(ph_debug_offsets_match(&d, &t5->layout, why, sizeof(why)));
		CHECK(!ph_debug_offsets_match(&d, &t0->layout, why, sizeof(why)));
		CHECK(strstr(why, "gc state size 264, table 240") != NULL);
		struct ph_layout l = t5->layout;
		const char *first = NULL;
		size_t ndiff = ph_debug_offsets_apply(&d, &l, &first);
		if (ndiff)
			fprintf(stderr, "3.14.5: %zu fields differ from the table, first %s\n", ndiff,
				first);
		CHECK(ndiff == 0);
		/* The incremental GC build: 240, and the interpreter fields after
		 * gc 24 bytes lower. */
		uint64_t w[128];
		memcpy(w, v314, sizeof(v314));
		w[80] = 240;                           /* gc.size */
		w[11] -= 24, w[12] -= 24, w[13] -= 24; /* modules, sysdict, builtins */
		len = make(buf, w, n314);
		err = ph_debug_offsets_parse(buf, len, &d);
		CHECK(err == NULL);
		ph_error_destroy(err);
		CHECK(!ph_debug_offsets_match(&d, &t5->layout, why, sizeof(why)));
		CHECK(ph_debug_offsets_match(&d, &t0->layout, why, sizeof(why)));
		l = t0->layout;
		ndiff = ph_debug_offsets_apply(&d, &l, &first);
		if (ndiff)
			fprintf(stderr, "3.14.0: %zu fields differ from the table, first %s\n", ndiff,
				first);
		CHECK(ndiff == 0);
	}
	return CHECK_DONE();
}
