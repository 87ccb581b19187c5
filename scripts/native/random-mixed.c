/*
 * random-mixed: the native side of lib/bench/workloads/WORKLOADS.md "random-mixed"
 * (and "fixed", which is random-mixed with MIN = MAX).
 *
 *   random-mixed CYCLES WS SEED MIN MAX [THREADS]
 *
 * THREADS > 1 runs THREADS independent copies of the workload at once, copy t
 * with its own working set and seed SEED + t; their fingerprints are summed.
 * Prints one JSON line on stdout; malloc/free are whatever the process links
 * (glibc, or a library given through LD_PRELOAD).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_THREADS 1024
/* Keeps ops = CYCLES * THREADS below 2^53, exact as a JSON (double) number. */
#define MAX_CYCLES (UINT64_C(1) << 43)

#define HARNESS_NAME "random-mixed"
#define USAGE "usage: random-mixed CYCLES WS SEED MIN MAX [THREADS]\n"
#include "harness.h"

typedef struct {
    /* inputs */
    uint64_t cycles;
    uint32_t ws, seed, min, max;
    /* outputs: the fingerprint of this copy's timed loop */
    uint64_t mallocs, frees, bytes;
    uint32_t hash;
    /* when this copy's timed loop started and ended */
    double started, ended;
} job_t;

static pthread_barrier_t start_line;

static void run(job_t *job) {
    void **slots = calloc(job->ws, sizeof *slots);
    if (!slots) {
        fprintf(stderr, "random-mixed: out of memory for %" PRIu32 " slots\n", job->ws);
        exit(1);
    }
    const uint64_t cycles = job->cycles;
    const uint32_t ws = job->ws, min = job->min, span = job->max - job->min + 1;
    uint32_t x = job->seed ? job->seed : 1;
    uint64_t mallocs = 0, frees = 0, bytes = 0;
    uint32_t hash = 0;

    pthread_barrier_wait(&start_line);
    job->started = now_seconds();
    for (uint64_t i = 0; i < cycles; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t s = (x >> 1) % ws;
        if (slots[s]) {
            free(slots[s]);
            slots[s] = NULL;
            frees++;
        } else {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            uint32_t size = min + (x >> 1) % span;
            /* volatile: the compiler must not drop writes to a block it can see freed */
            volatile unsigned char *p = malloc(size);
            if (!p) {
                fprintf(stderr, "random-mixed: malloc(%" PRIu32 ") failed\n", size);
                exit(1);
            }
            p[0] = (unsigned char)i;
            p[size - 1] = (unsigned char)i;
            slots[s] = (void *)p;
            mallocs++;
            bytes += size;
            hash = hash * 31u + size;
        }
    }
    job->ended = now_seconds();

    for (uint32_t s = 0; s < ws; s++) free(slots[s]);
    free(slots);
    job->mallocs = mallocs;
    job->frees = frees;
    job->bytes = bytes;
    job->hash = hash;
}

static void *run_thread(void *job) {
    run(job);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 6 && argc != 7) usage_error("expected 5 or 6 arguments");
    job_t proto = {0};
    proto.cycles = parse_arg(argv[1], "CYCLES", 0, MAX_CYCLES);
    proto.ws = (uint32_t)parse_arg(argv[2], "WS", 1, UINT32_MAX >> 1);
    proto.seed = (uint32_t)parse_arg(argv[3], "SEED", 0, UINT32_MAX);
    proto.min = (uint32_t)parse_arg(argv[4], "MIN", 1, UINT32_MAX >> 2);
    proto.max = (uint32_t)parse_arg(argv[5], "MAX", proto.min, UINT32_MAX >> 2);
    const uint32_t threads = argc == 7 ? (uint32_t)parse_arg(argv[6], "THREADS", 1, MAX_THREADS) : 1;

    job_t *jobs = calloc(threads, sizeof *jobs);
    pthread_t *tids = calloc(threads, sizeof *tids);
    if (!jobs || !tids) {
        fprintf(stderr, "random-mixed: out of memory\n");
        return 1;
    }
    /* Every copy starts together; each times itself, and the run spans the first start to the last end. */
    pthread_barrier_init(&start_line, NULL, threads);
    for (uint32_t t = 0; t < threads; t++) {
        jobs[t] = proto;
        jobs[t].seed = proto.seed + t;
        int err = pthread_create(&tids[t], NULL, run_thread, &jobs[t]);
        if (err) {
            fprintf(stderr, "random-mixed: pthread_create failed (error %d)\n", err);
            return 1;
        }
    }
    uint64_t mallocs = 0, frees = 0, bytes = 0;
    uint32_t hash = 0;
    double first_start = 0, last_end = 0;
    for (uint32_t t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        if (t == 0 || jobs[t].started < first_start) first_start = jobs[t].started;
        if (t == 0 || jobs[t].ended > last_end) last_end = jobs[t].ended;
        mallocs += jobs[t].mallocs;
        frees += jobs[t].frees;
        bytes += jobs[t].bytes;
        hash += jobs[t].hash;
    }
    print_result(proto.cycles * threads, last_end - first_start, mallocs, frees, bytes, hash, threads);
    free(jobs);
    free(tids);
    pthread_barrier_destroy(&start_line);
    return 0;
}
