/*
 * The threads of the suite harnesses (cache-thrash, cache-scratch, sh6bench, sh8bench, rptest):
 * every thread waits at one start line, and the run's time is from the first thread's start to the
 * last one's end (thread creation is not timed). Each job struct begins with a thread_span_t.
 * Includes resident.h: the caller takes the resident baseline before run_threads.
 */
#ifndef SUITE_THREADS_H
#define SUITE_THREADS_H

#include <pthread.h>
#include "resident.h"

typedef struct {
    double started, ended;
} thread_span_t;

static pthread_barrier_t suite_start_line;

/* Called first by every thread: waits for all of them, then notes its start. */
static void thread_begin(thread_span_t *span) {
    pthread_barrier_wait(&suite_start_line);
    span->started = now_seconds();
}

static void thread_finish(thread_span_t *span) {
    span->ended = now_seconds();
}

/* Runs fn on each of `n` jobs (job_size bytes apart), one thread each; returns the timed span. */
static double run_threads(uint32_t n, void *(*fn)(void *), void *jobs, size_t job_size) {
    pthread_t *tids = calloc(n, sizeof *tids);
    if (!tids) {
        fprintf(stderr, HARNESS_NAME ": out of memory for %u threads\n", n);
        exit(1);
    }
    pthread_barrier_init(&suite_start_line, NULL, n);
    for (uint32_t t = 0; t < n; t++) {
        int err = pthread_create(&tids[t], NULL, fn, (char *)jobs + t * job_size);
        if (err) {
            fprintf(stderr, HARNESS_NAME ": pthread_create failed (error %d)\n", err);
            exit(1);
        }
    }
    double first = 0, last = 0;
    for (uint32_t t = 0; t < n; t++) {
        pthread_join(tids[t], NULL);
        const thread_span_t *s = (const thread_span_t *)((char *)jobs + t * job_size);
        if (t == 0 || s->started < first) first = s->started;
        if (t == 0 || s->ended > last) last = s->ended;
    }
    pthread_barrier_destroy(&suite_start_line);
    free(tids);
    return last - first;
}

#endif
