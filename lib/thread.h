/* SPDX-License-Identifier: MIT */
/**
 * @file thread.h
 * Helper threads (copying, faulting memory in, analyses): they start with
 * every signal blocked, so that SIGINT and SIGTERM reach the thread that
 * handles them and resumes the target.
 */
#ifndef PH_THREAD_H
#define PH_THREAD_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>

/** pthread_create() with every signal blocked in the new thread. */
static inline bool ph_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc == 0;
}

#endif
