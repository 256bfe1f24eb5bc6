/* SPDX-License-Identifier: MIT */
/* The layout's text form: write/read round trip, and malformed input is
 * refused with a message instead of giving a wrong layout. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "layout.h"

static struct ph_error *parse(const char *text, struct ph_layout *l)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct ph_error *err = ph_layout_read(f, "test", l);
	fclose(f);
	return err;
}

int main(void)
{
	struct ph_layout l, r;
	ph_layout_init(&l);
	for (size_t i = 0; i < ph_layout_nfields; i++)
		*ph_layout_slot(&l, i) = (int32_t)(i * 8);
	l.dk_lookup = -1;

	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	ph_layout_write(&l, out, "round trip");
	fclose(out);
	struct ph_error *err = parse(text, &r);
	CHECK(err == NULL);
	CHECK(!memcmp(&l, &r, sizeof(l)));
	free(text);

	// Every field id is unique.
	for (size_t i = 0; i < ph_layout_nfields; i++)
		for (size_t j = i + 1; j < ph_layout_nfields; j++)
			CHECK(strcmp(ph_layout_fields[i].id, ph_layout_fields[j].id));

	err = parse("tp_name 24\n", &r);
	CHECK(err && strstr(err->message, "no header"));
	ph_error_destroy(err);
	err = parse("# pyheap layout 1\nno_such_field 3\n", &r);
	CHECK(err && strstr(err->message, "unknown field"));
	ph_error_destroy(err);
	err = parse("# pyheap layout 1\ntp_name 999999999\n", &r);
	CHECK(err && strstr(err->message, "bad value"));
	ph_error_destroy(err);
	err = parse("# pyheap layout 99\ntp_name 24\n", &r);
	CHECK(err && strstr(err->message, "format"));
	ph_error_destroy(err);
	err = parse("# pyheap layout 1\ntp_name 24\n", &r);
	CHECK(!err && r.tp_name == 24 && r.tp_flags == -1);
	return CHECK_DONE();
}
