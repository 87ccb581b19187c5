/*
 * cache-thrash and cache-scratch (Hoard's false-sharing tests, as mimalloc-bench runs them): the
 * native side of lib/bench/workloads/WORKLOADS.md "cache-thrash" and "cache-scratch". The including
 * file defines HARNESS_NAME and HANDS_OUT_OBJECTS (1: cache-scratch, whose main thread allocates one
 * object per thread and each thread frees its object first; 0: cache-thrash).
 *
 *   NAME THREADS ITERATIONS SIZE REPETITIONS
 *
 * Each thread, ITERATIONS times: malloc(SIZE), then REPETITIONS / THREADS passes that write every
 * byte and read it back, then free. Threads whose blocks share a cache line slow each other down.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#define USAGE "usage: " HARNESS_NAME " THREADS ITERATIONS SIZE REPETITIONS\n"
#include "harness.h"
#include "suite-threads.h"

#define MAX_THREADS 1024

typedef struct {
    thread_span_t span;
    uint64_t iterations, passes;
    uint32_t size;
    void *given; /* cache-scratch: the main thread's object, freed first */
    uint32_t hash;
} job_t;

static void *run(void *arg) {
    job_t *job = arg;
    const uint64_t iterations = job->iterations, passes = job->passes;
    const uint32_t size = job->size;
    uint32_t hash = 0;
    thread_begin(&job->span);
    free(job->given);
    for (uint64_t i = 0; i < iterations; i++) {
        /* volatile: every write and read-back goes to the block, as the suite's loop does */
        volatile unsigned char *p = malloc(size);
        if (!p) {
            fprintf(stderr, HARNESS_NAME ": malloc(%" PRIu32 ") failed\n", size);
            exit(1);
        }
        uint32_t sum = 0;
        for (uint64_t r = 0; r < passes; r++) {
            for (uint32_t k = 0; k < size; k++) {
                p[k] = (unsigned char)(k + i);
                sum += p[k];
            }
        }
        hash = hash * 31u + sum;
        free((void *)p);
    }
    thread_finish(&job->span);
    job->hash = hash;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) usage_error("expected 4 arguments");
    const uint32_t threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, MAX_THREADS);
    const uint64_t iterations = parse_arg(argv[2], "ITERATIONS", 1, INT32_MAX);
    const uint32_t size = (uint32_t)parse_arg(argv[3], "SIZE", 1, UINT32_C(1) << 20);
    const uint64_t repetitions = parse_arg(argv[4], "REPETITIONS", threads, UINT64_C(1) << 40);

    job_t *jobs = calloc(threads, sizeof *jobs);
    if (!jobs) usage_error("out of memory for the threads");
    const long long baseline = resident_baseline();
    for (uint32_t t = 0; t < threads; t++) {
        jobs[t] = (job_t){.iterations = iterations, .passes = repetitions / threads, .size = size};
        /* cache-scratch: allocated one after another, so neighbours likely share a cache line */
        if (HANDS_OUT_OBJECTS && !(jobs[t].given = malloc(size))) usage_error("out of memory for the objects");
    }
    const double seconds = run_threads(threads, run, jobs, sizeof *jobs);
    uint32_t hash = 0;
    for (uint32_t t = 0; t < threads; t++) hash += jobs[t].hash;
    const uint64_t mallocs = (uint64_t)threads * (iterations + HANDS_OUT_OBJECTS);
    print_suite_result((uint64_t)threads * iterations, seconds, mallocs, mallocs, mallocs * size, hash, threads, baseline);
    free(jobs);
    return 0;
}
