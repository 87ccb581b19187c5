/*
 * rptest: the native side of lib/bench/workloads/WORKLOADS.md "rptest", after rpmalloc-benchmark
 * (Mattias Jansson) as mimalloc-bench runs it: every block written whole (own implementation).
 *
 *   rptest THREADS CROSSRATE LOOPS ALLOCS OPS MIN MAX SIZEMODE SEED
 *
 * Each thread keeps ALLOCS slots; a loop frees some of them and fills others, walking the slots
 * with prime strides, sizes from a table (SIZEMODE 0 even, 1 linear, 2 exponential drop-off), some
 * blocks aligned; every CROSSRATE loops it also sends a batch of blocks to another thread, which
 * frees them. Two iterations, each ended by freeing everything.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define HARNESS_NAME "rptest"
#define USAGE "usage: rptest THREADS CROSSRATE LOOPS ALLOCS OPS MIN MAX SIZEMODE SEED\n"
#include "harness.h"
#include "suite-threads.h"

#define MAX_THREADS 1024
#define SIZES 2000
#define ALLOC_STEPS 311
#define FREE_STEPS 257
#define ITERATIONS 2
#define FILL 0xCD
#define SPINS_BEFORE_SLEEP 64
#define SLEEP_NS 50000L

static const uint32_t primes[] = {7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
                                  101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167, 173, 179, 181, 191, 193, 197, 199};
#define PRIMES (sizeof primes / sizeof primes[0])

static uint32_t size_of[SIZES], alloc_ops[ALLOC_STEPS], free_ops[FREE_STEPS];
static uint32_t threads, cross_rate, loops, slots, alloc_stride, free_stride;

/* A batch sent to another thread: one 16-aligned block of 16 + 8 * count bytes. */
typedef struct batch {
    struct batch *next;
    uint64_t count;
    void *block[];
} batch_t;

typedef struct {
    thread_span_t span;
    uint32_t index;
    _Atomic(batch_t *) inbox;
    fingerprint_t fp;
} job_t;

static job_t *jobs;
static atomic_uint arrived;

static uint32_t draw(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x >> 1;
}

static void setup_tables(uint32_t min, uint32_t max, uint32_t mode, uint32_t seed, uint32_t ops) {
    uint32_t x = seed ? seed : 1;
    uint64_t even[SIZES];
    const uint64_t range = max - min;
    for (int i = 0; i < SIZES; i++) even[i] = (range * (draw(&x) % 100000) + 50000) / 100000;
    for (int i = 0; i < ALLOC_STEPS; i++) alloc_ops[i] = (uint32_t)((uint64_t)ops * (30 + draw(&x) % 70) / 100);
    for (int i = 0; i < FREE_STEPS; i++) free_ops[i] = (uint32_t)((uint64_t)ops * (30 + draw(&x) % 70) * 8 / 1000);
    for (int i = 0; i < SIZES; i++) {
        const uint64_t a = even[i], b = even[(i + 1) % SIZES], e = even[(i + 2) % SIZES];
        uint64_t extra = a;
        if (range == 0) extra = 0;
        else if (mode == 1) extra = e * (a + b > range ? a + b - range : range - a - b) / range;
        else if (mode == 2) extra = e * (range - a) / range * (range - b) / range;
        size_of[i] = min + (uint32_t)extra;
    }
}

static void *fail(uint32_t size) {
    fprintf(stderr, "rptest: allocating %" PRIu32 " bytes failed\n", size);
    exit(1);
}

/* A block of `size` bytes, written whole: calloc'd, or aligned to 8 or 16 (kind 1, 2; below 4096 bytes) and filled. */
static void *make(fingerprint_t *t, uint32_t size, uint32_t kind) {
    unsigned char *p;
    if (kind == 0 || size >= 4096) {
        if (!(p = calloc(1, size))) fail(size);
    } else {
        void *q;
        if (posix_memalign(&q, kind == 1 ? 8 : 16, size)) fail(size);
        p = q;
        memset(p, FILL, size);
    }
    p[0] = p[size - 1] = (unsigned char)t->mallocs;
    t->mallocs++;
    t->bytes += size;
    t->hash = t->hash * 31u + size;
    return p;
}

/* Takes every batch sent to this thread so far. */
static batch_t *take(job_t *job) {
    return atomic_exchange_explicit(&job->inbox, NULL, memory_order_acquire);
}

/* Frees a list of batches: each one's blocks in order, then the batch. */
static void free_batches(batch_t *b, fingerprint_t *t) {
    while (b) {
        batch_t *next = b->next;
        for (uint64_t k = 0; k < b->count; k++) free(b->block[k]);
        t->frees += b->count + 1;
        free(b);
        b = next;
    }
}

static void send(job_t *to, batch_t *b) {
    batch_t *head = atomic_load_explicit(&to->inbox, memory_order_relaxed);
    do b->next = head;
    while (!atomic_compare_exchange_weak_explicit(&to->inbox, &head, b, memory_order_release, memory_order_relaxed));
}

static void *run(void *arg) {
    job_t *job = arg;
    const uint32_t me = job->index;
    void **slot = calloc(slots, sizeof *slot);
    if (!slot) fail((uint32_t)(slots * sizeof *slot));
    fingerprint_t t = {0};
    uint32_t alloc_at = 0, free_at = 0, target = 0;
    thread_begin(&job->span);
    for (uint32_t iter = 0; iter < ITERATIONS; iter++) {
        uint32_t si = (me + 1) * ((iter + 1) * 37) % SIZES;
        for (uint32_t loop = 0; loop < loops; loop++) {
            batch_t *inbox = take(job);
            const uint32_t nf = free_ops[(iter + loop) % FREE_STEPS], na = alloc_ops[(iter + loop) % ALLOC_STEPS];
            for (uint32_t k = 0; k < nf; k++) {
                if (slot[free_at]) {
                    free(slot[free_at]);
                    slot[free_at] = NULL;
                    t.frees++;
                }
                free_at = (free_at + free_stride) % slots;
            }
            free_batches(inbox, &t);
            for (uint32_t k = 0; k < na; k++) {
                if (slot[alloc_at]) {
                    free(slot[alloc_at]);
                    t.frees++;
                }
                slot[alloc_at] = make(&t, size_of[(si + 2) % SIZES], (si + k) % 3);
                alloc_at = (alloc_at + alloc_stride) % slots;
                si = (si + 1) % SIZES;
            }
            if (threads > 1 && cross_rate && loop % cross_rate == 0) {
                void *q;
                const uint32_t bytes = 16 + 8 * na;
                if (posix_memalign(&q, 16, bytes)) fail(bytes);
                memset(q, FILL, bytes);
                t.mallocs++;
                t.bytes += bytes;
                t.hash = t.hash * 31u + bytes;
                batch_t *b = q;
                b->count = na;
                for (uint32_t k = 0; k < na; k++) {
                    b->block[k] = make(&t, size_of[(si + 2) % SIZES], (si + k) % 3);
                    si = (si + 1) % SIZES;
                }
                target = (target + 1) % threads;
                if (target == me) target = (target + 1) % threads;
                send(&jobs[target], b);
            }
        }
        /* the iteration's end: take batches until every thread has sent its last, then free everything */
        atomic_fetch_add(&arrived, 1);
        unsigned idle = 0;
        while (atomic_load(&arrived) < (iter + 1) * threads) {
            free_batches(take(job), &t);
            if (++idle > SPINS_BEFORE_SLEEP) {
                struct timespec ts = {0, SLEEP_NS};
                nanosleep(&ts, NULL);
                idle = 0;
            }
        }
        for (uint32_t s = 0; s < slots; s++) {
            if (slot[s]) {
                free(slot[s]);
                slot[s] = NULL;
                t.frees++;
            }
        }
        free_batches(take(job), &t);
    }
    thread_finish(&job->span);
    free(slot);
    job->fp = t;
    return NULL;
}

/* The first prime of the list from `from` on that does not divide n. */
static uint32_t stride_from(uint32_t *from, uint32_t n) {
    while (*from < PRIMES && n % primes[*from] == 0) ++*from;
    if (*from == PRIMES) usage_error("ALLOCS is divisible by every stride prime (7 to 199)");
    return primes[*from];
}

int main(int argc, char **argv) {
    if (argc != 10) usage_error("expected 9 arguments");
    threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, MAX_THREADS);
    cross_rate = (uint32_t)parse_arg(argv[2], "CROSSRATE", 0, UINT32_C(1) << 24);
    loops = (uint32_t)parse_arg(argv[3], "LOOPS", 1, UINT32_C(1) << 24);
    slots = (uint32_t)parse_arg(argv[4], "ALLOCS", 1, UINT32_C(1) << 24);
    const uint32_t ops = (uint32_t)parse_arg(argv[5], "OPS", 1, UINT32_C(1) << 24);
    const uint32_t min = (uint32_t)parse_arg(argv[6], "MIN", 1, UINT32_C(1) << 24);
    const uint32_t max = (uint32_t)parse_arg(argv[7], "MAX", min, UINT32_C(1) << 24);
    const uint32_t mode = (uint32_t)parse_arg(argv[8], "SIZEMODE", 0, 2);
    const uint32_t seed = (uint32_t)parse_arg(argv[9], "SEED", 0, UINT32_MAX);
    uint32_t p = 0;
    alloc_stride = stride_from(&p, slots);
    p++;
    free_stride = stride_from(&p, slots);
    setup_tables(min, max, mode, seed, ops);

    jobs = calloc(threads, sizeof *jobs);
    if (!jobs) usage_error("out of memory for the threads");
    for (uint32_t t = 0; t < threads; t++) {
        jobs[t].index = t;
        atomic_init(&jobs[t].inbox, NULL);
    }
    const long long baseline = resident_baseline();
    const double seconds = run_threads(threads, run, jobs, sizeof *jobs);
    fingerprint_t sum = {0};
    for (uint32_t t = 0; t < threads; t++) add_fingerprint(&sum, &jobs[t].fp);
    print_suite_result(sum.mallocs + sum.frees, seconds, sum.mallocs, sum.frees, sum.bytes, sum.hash, threads, baseline);
    free(jobs);
    return 0;
}
