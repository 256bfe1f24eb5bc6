/* SPDX-License-Identifier: MIT */
#include "error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ph_error ph_error_nomem = {
	.code = PH_ERR_NOMEM,
	.message = (char *)"out of memory",
};

static struct ph_error *error_vcreate(enum ph_error_code code, int errnum, uint64_t address,
				      const char *fmt, va_list ap)
{
	struct ph_error *err = calloc(1, sizeof(*err));
	if (!err)
		return &ph_error_nomem;
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0) {
		free(err);
		return &ph_error_nomem;
	}
	if (errnum) {
		char *full = NULL;
		if (asprintf(&full, "%s: %s", msg, strerror(errnum)) < 0) {
			free(msg);
			free(err);
			return &ph_error_nomem;
		}
		free(msg);
		msg = full;
	}
	err->code = code;
	err->errnum = errnum;
	err->address = address;
	err->message = msg;
	return err;
}

struct ph_error *ph_error_create(enum ph_error_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ph_error *err = error_vcreate(code, 0, 0, fmt, ap);
	va_end(ap);
	return err;
}

struct ph_error *ph_error_errno(enum ph_error_code code, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ph_error *err = error_vcreate(code, errnum, 0, fmt, ap);
	va_end(ap);
	return err;
}

struct ph_error *ph_error_fault(uint64_t address, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct ph_error *err = error_vcreate(PH_ERR_FAULT, 0, address, fmt, ap);
	va_end(ap);
	return err;
}

void ph_error_destroy(struct ph_error *err)
{
	if (!err || err == &ph_error_nomem)
		return;
	free(err->message);
	free(err);
}
