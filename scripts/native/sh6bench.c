/*
 * sh6bench: the native side of lib/bench/workloads/WORKLOADS.md "sh6bench", after MicroQuill's
 * SmartHeap benchmark as mimalloc-bench runs it (own implementation of the published loop).
 *
 *   sh6bench THREADS CALLS MAXSIZE
 *
 * Each thread keeps N = CALLS / THREADS blocks in a buffer it walks round and round: sizes sweep up
 * from 1 to below MAXSIZE (small ones more often), and every time the walk wraps, everything but a
 * window of N / 5 slots is freed, the bottom in allocation order and the top in reverse.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>

#define HARNESS_NAME "sh6bench"
#define USAGE "usage: sh6bench THREADS CALLS MAXSIZE\n"
#include "harness.h"
#include "slot-walk.h"
#include "suite-threads.h"

#define MAX_THREADS 1024

typedef struct {
    thread_span_t span;
    uint32_t slots, max_size;
    fingerprint_t fp;
} job_t;

/* Blocks of a size per sweep step: smaller sizes more often. */
static inline uint32_t repeats_of(uint32_t size) {
    return size < 100 ? 250 : size < 1000 ? 50 : size < 10000 ? 10 : 1;
}

static void *run(void *arg) {
    job_t *job = arg;
    const uint32_t n = job->slots, max_size = job->max_size;
    void **slot = malloc(n * sizeof *slot);
    if (!slot) {
        fprintf(stderr, "sh6bench: out of memory for %" PRIu32 " slots\n", n);
        exit(1);
    }
    uint32_t mp = 0, save_start = n, save_end = n, hash = 0;
    uint64_t mallocs = 0, frees = 0, bytes = 0;
    thread_begin(&job->span);
    for (uint32_t rep = 0; rep < n; rep++) {
        for (uint32_t base = 1; base < max_size; base = base * 3 / 2 + 1) {
            for (uint32_t size = base; size; size /= 2) {
                for (uint32_t it = repeats_of(size); it; it--) {
                    unsigned char *p = malloc(size);
                    if (!p) {
                        fprintf(stderr, "sh6bench: malloc(%" PRIu32 ") failed\n", size);
                        exit(1);
                    }
                    p[0] = (unsigned char)mallocs;
                    p[size - 1] = (unsigned char)mallocs;
                    mallocs++;
                    bytes += size;
                    hash = hash * 31u + size;
                    slot[mp++] = p;
                    /* skip the window that still holds the previous round's blocks */
                    if (mp == save_start) mp = save_end;
                    if (mp >= n) {
                        save_start = save_end >= n ? 0 : save_end;
                        save_end = save_start + n / 5 > n ? n : save_start + n / 5;
                        frees += free_outside_window(slot, n, save_start, save_end);
                        mp = 0;
                    }
                }
            }
        }
    }
    for (uint32_t i = 0; i < mp; i++, frees++) free(slot[i]);
    thread_finish(&job->span);
    free(slot);
    job->fp = (fingerprint_t){mallocs, frees, bytes, hash};
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) usage_error("expected 3 arguments");
    const uint32_t threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, MAX_THREADS);
    const uint32_t calls = (uint32_t)parse_arg(argv[2], "CALLS", threads, UINT32_C(1) << 24);
    const uint32_t max_size = (uint32_t)parse_arg(argv[3], "MAXSIZE", 2, UINT32_C(1) << 24);

    job_t *jobs = calloc(threads, sizeof *jobs);
    if (!jobs) usage_error("out of memory for the threads");
    for (uint32_t t = 0; t < threads; t++) jobs[t] = (job_t){.slots = calls / threads, .max_size = max_size};
    const long long baseline = resident_baseline();
    const double seconds = run_threads(threads, run, jobs, sizeof *jobs);
    fingerprint_t sum = {0};
    for (uint32_t t = 0; t < threads; t++) add_fingerprint(&sum, &jobs[t].fp);
    print_suite_result(sum.mallocs + sum.frees, seconds, sum.mallocs, sum.frees, sum.bytes, sum.hash, threads, baseline);
    free(jobs);
    return 0;
}
