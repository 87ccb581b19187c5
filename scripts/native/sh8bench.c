/*
 * sh8bench: the native side of lib/bench/workloads/WORKLOADS.md "sh8bench", after MicroQuill's
 * SmartHeap benchmark as mimalloc-bench runs it (own implementation of the published loop).
 *
 *   sh8bench THREADS ITERATIONS HEAPSIZE FOREIGN
 *
 * Each thread walks a buffer of HEAPSIZE / THREADS blocks as sh6bench does, the size and count of
 * each step taken in turn from a fixed histogram (8 bytes to 164 KiB); meanwhile the main thread
 * allocates FOREIGN 8-byte blocks that the threads free (every one a remote free), each thread its
 * share of every other thread's part as soon as it is published.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>

#define HARNESS_NAME "sh8bench"
#define USAGE "usage: sh8bench THREADS ITERATIONS HEAPSIZE FOREIGN\n"
#include "harness.h"
#include "slot-walk.h"
#include "suite-threads.h"

#define MAX_THREADS 1024
#define FOREIGN_SIZE 8
#define SPINS_BEFORE_SLEEP 64
#define SLEEP_NS 50000L

/* The histogram's steps: a size and how many blocks of it, taken in turn. */
static const uint32_t step_size[] = {8, 16, 48, 72, 148, 200, 520, 1056, 4096, 9162, 34562, 168524};
static const uint32_t step_count[] = {1000, 5000, 1000, 100, 100, 100, 10, 5, 3, 1, 1, 1};
#define STEPS (sizeof step_size / sizeof step_size[0])

typedef struct {
    thread_span_t span;
    uint32_t index, threads, slots, producer;
    uint64_t iterations, foreign;
    _Atomic(void *) *shared; /* FOREIGN published blocks, in allocation order */
    fingerprint_t fp;
} job_t;

static unsigned pause_after(unsigned idle) {
    if (idle < SPINS_BEFORE_SLEEP) return idle + 1;
    struct timespec ts = {0, SLEEP_NS};
    nanosleep(&ts, NULL);
    return 0;
}

static void *fail(uint32_t size) {
    fprintf(stderr, "sh8bench: malloc(%" PRIu32 ") failed\n", size);
    exit(1);
}

/* The main thread's part: FOREIGN blocks, each published as soon as it is made. */
static void produce(job_t *job) {
    uint32_t hash = 0;
    for (uint64_t i = 0; i < job->foreign; i++) {
        unsigned char *p = malloc(FOREIGN_SIZE);
        if (!p) fail(FOREIGN_SIZE);
        p[0] = p[FOREIGN_SIZE - 1] = (unsigned char)i;
        hash = hash * 31u + FOREIGN_SIZE;
        atomic_store_explicit(&job->shared[i], p, memory_order_release);
    }
    job->fp = (fingerprint_t){.mallocs = job->foreign, .bytes = job->foreign * FOREIGN_SIZE, .hash = hash};
}

static void *run(void *arg) {
    job_t *job = arg;
    thread_begin(&job->span);
    if (job->producer) {
        produce(job);
        thread_finish(&job->span);
        return NULL;
    }
    const uint32_t n = job->slots, window = n / 5;
    /* This thread frees `per` blocks from each of the THREADS parts of the shared ones. */
    const uint64_t part = job->foreign / job->threads, per = part / job->threads;
    void **slot = malloc(n * sizeof *slot);
    if (!slot) fail((uint32_t)(n * sizeof *slot));
    uint32_t mp = 0, save_start = n, save_end = n, hash = 0, step = 0;
    uint64_t mallocs = 0, frees = 0, bytes = 0, next = job->index * per, left = part, in_part = per;
    unsigned idle = 0;
    for (uint64_t it = 0; it < job->iterations || left; it++) {
        /* the shared blocks published so far; after the last iteration, wait for the rest */
        while (left) {
            void *p = atomic_load_explicit(&job->shared[next], memory_order_acquire);
            if (!p) {
                if (it < job->iterations) break;
                idle = pause_after(idle);
                continue;
            }
            free(p);
            frees++;
            left--;
            next++;
            if (--in_part == 0) {
                in_part = per;
                next += part - per;
            }
        }
        if (it >= job->iterations) break;
        step = step + 1 == STEPS ? 0 : step + 1;
        const uint32_t size = step_size[step];
        for (uint32_t c = step_count[step]; c; c--) {
            /* skip the window that still holds the previous round's blocks */
            if (mp == save_start) mp = save_end;
            if (mp >= n) {
                /* the wrap takes this count's turn: no block is made for it */
                save_start = save_end >= n ? 0 : save_end;
                save_end = save_start + window > n ? n : save_start + window;
                frees += free_outside_window(slot, n, save_start, save_end);
                mp = 0;
                continue;
            }
            unsigned char *p = malloc(size);
            if (!p) fail(size);
            p[0] = p[size - 1] = (unsigned char)mallocs;
            mallocs++;
            bytes += size;
            hash = hash * 31u + size;
            slot[mp++] = p;
        }
    }
    /* the residue: the blocks below the walk's position and the window's */
    uint32_t end = mp;
    for (mp = 0; mp < end; mp++, frees++) free(slot[mp]);
    for (mp = mp < save_start ? save_start : mp; mp < save_end; mp++, frees++) free(slot[mp]);
    thread_finish(&job->span);
    free(slot);
    job->fp = (fingerprint_t){mallocs, frees, bytes, hash};
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 5) usage_error("expected 4 arguments");
    const uint32_t threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, MAX_THREADS);
    const uint64_t iterations = parse_arg(argv[2], "ITERATIONS", threads, UINT64_C(1) << 40);
    const uint32_t heap = (uint32_t)parse_arg(argv[3], "HEAPSIZE", threads, UINT32_C(1) << 26);
    const uint64_t asked = parse_arg(argv[4], "FOREIGN", 0, UINT32_C(1) << 26);
    /* a whole number of blocks for each thread from each thread's part */
    const uint64_t foreign = asked / ((uint64_t)threads * threads) * threads * threads;

    job_t *jobs = calloc(threads + 1, sizeof *jobs);
    _Atomic(void *) *shared = calloc(foreign ? foreign : 1, sizeof *shared);
    if (!jobs || !shared) usage_error("out of memory for the threads");
    for (uint32_t t = 0; t <= threads; t++) {
        jobs[t] = (job_t){.index = t, .threads = threads, .slots = heap / threads, .producer = t == threads,
                          .iterations = iterations / threads, .foreign = foreign, .shared = shared};
    }
    const long long baseline = resident_baseline();
    const double seconds = run_threads(threads + 1, run, jobs, sizeof *jobs);
    fingerprint_t sum = {0};
    for (uint32_t t = 0; t <= threads; t++) add_fingerprint(&sum, &jobs[t].fp);
    print_suite_result(sum.mallocs + sum.frees, seconds, sum.mallocs, sum.frees, sum.bytes, sum.hash, threads, baseline);
    free(shared);
    free(jobs);
    return 0;
}
