/* SPDX-License-Identifier: MIT */
/**
 * @file error.h
 * Errors are values: every fallible function returns a `struct ph_error *`,
 * NULL on success. The error carries a code (what kind of failure, which the
 * command maps to an exit code) and a message that already names the
 * operation and the object. The library never prints.
 */
#ifndef PH_ERROR_H
#define PH_ERROR_H

#include <stdarg.h>
#include <stdint.h>

enum ph_error_code {
	PH_ERR_OTHER = 1,        /**< internal or unclassified */
	PH_ERR_USAGE = 2,        /**< bad arguments */
	PH_ERR_NO_PROCESS = 3,   /**< the PID does not exist */
	PH_ERR_PERMISSION = 4,   /**< ptrace or /proc access denied */
	PH_ERR_TRACED = 5,       /**< another tracer is attached */
	PH_ERR_NOT_PYTHON = 6,   /**< no CPython runtime in the process */
	PH_ERR_UNSUPPORTED = 7,  /**< a CPython version we do not support */
	PH_ERR_NO_DEBUG_INFO = 8,/**< no layout source for this interpreter */
	PH_ERR_FAULT = 9,        /**< target memory unreadable, or target gone */
	PH_ERR_NOMEM = 10,       /**< out of memory (mapped to exit 1) */
	PH_ERR_BAD_DATA = 11,    /**< target data inconsistent (mapped to exit 9) */
	PH_ERR_INTERRUPTED = 130,/**< a signal asked us to stop */
};

struct ph_error {
	enum ph_error_code code;
	int errnum;        /**< errno, when the cause is an OS call, else 0 */
	uint64_t address;  /**< faulting target address for PH_ERR_FAULT */
	char *message;     /**< "operation object: reason" */
};

/** Statically allocated: making an out-of-memory error never fails. */
extern struct ph_error ph_error_nomem;

struct ph_error *ph_error_create(enum ph_error_code code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Like ph_error_create(), with errno recorded and ": strerror" appended. */
struct ph_error *ph_error_errno(enum ph_error_code code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct ph_error *ph_error_fault(uint64_t address, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ph_error_destroy(struct ph_error *err);

static inline void ph_error_cleanup(struct ph_error **err) { ph_error_destroy(*err); }
static inline void ph_free_cleanup(void *p) { extern void free(void *); free(*(void **)p); }
#define _cleanup_free_ __attribute__((cleanup(ph_free_cleanup)))

#endif
