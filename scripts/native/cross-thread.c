/*
 * cross-thread: the native side of lib/bench/workloads/WORKLOADS.md "cross-thread".
 *
 *   cross-thread CYCLES WS SEED MIN MAX THREADS
 *
 * THREADS workers in a ring: worker t allocates CYCLES blocks and hands each to worker (t + 1) %
 * THREADS through a bounded lock-free single-producer single-consumer ring of WS blocks, and frees
 * the CYCLES blocks worker t - 1 hands to it: every free is of a block another thread allocated.
 * Prints one JSON line on stdout; malloc/free are whatever the process links (glibc, or a library
 * given through LD_PRELOAD).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>

#define MAX_THREADS 1024
/* Keeps ops = CYCLES * THREADS below 2^53, exact as a JSON (double) number. */
#define MAX_CYCLES (UINT64_C(1) << 43)
#define MAX_WS (UINT32_C(1) << 24)
/* Fruitless tries (nothing to push, nothing to free) before a worker sleeps 50 us. */
#define SPINS_BEFORE_SLEEP 64
#define SLEEP_NS 50000L

#define HARNESS_NAME "cross-thread"
#define USAGE "usage: cross-thread CYCLES WS SEED MIN MAX THREADS\n"
#include "harness.h"

/* The consumer's index and the producer's index each on its own cache line; WS + 1 slots, one always empty. */
typedef struct {
    alignas(64) _Atomic uint32_t head;
    alignas(64) _Atomic uint32_t tail;
    alignas(64) void **slot;
} ring_t;

typedef struct {
    /* inputs */
    uint64_t cycles;
    uint32_t slots, seed, min, max, index;
    ring_t *out, *in;
    /* outputs: the fingerprint of this worker's mallocs and frees */
    uint64_t frees, bytes;
    uint32_t hash;
    double started, ended;
} job_t;

static pthread_barrier_t start_line;

/* Frees every block on the ring; returns how many. Consumer side only. */
static uint64_t drain(ring_t *r, uint32_t slots) {
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    uint64_t n = 0;
    while (head != tail) {
        free(r->slot[head]);
        head = head + 1 == slots ? 0 : head + 1;
        n++;
    }
    if (n) atomic_store_explicit(&r->head, head, memory_order_release);
    return n;
}

/* One more fruitless try: after SPINS_BEFORE_SLEEP of them in a row, sleep. Returns the new count. */
static unsigned pause_after(unsigned idle) {
    if (idle < SPINS_BEFORE_SLEEP) return idle + 1;
    struct timespec ts = {0, SLEEP_NS};
    nanosleep(&ts, NULL);
    return 0;
}

static void *run(void *arg) {
    job_t *job = arg;
    const uint64_t cycles = job->cycles;
    const uint32_t slots = job->slots, min = job->min, span = job->max - job->min + 1;
    ring_t *out = job->out, *in = job->in;
    uint32_t x = job->seed ? job->seed : 1;
    uint32_t tail = 0, hash = 0;
    uint64_t freed = 0, bytes = 0;
    unsigned idle = 0;

    pthread_barrier_wait(&start_line);
    job->started = now_seconds();
    for (uint64_t i = 0; i < cycles; i++) {
        freed += drain(in, slots);
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        uint32_t size = min + (x >> 1) % span;
        /* volatile: the compiler must not drop writes to a block another thread frees */
        volatile unsigned char *p = malloc(size);
        if (!p) {
            fprintf(stderr, "cross-thread: malloc(%" PRIu32 ") failed\n", size);
            exit(1);
        }
        p[0] = (unsigned char)i;
        p[size - 1] = (unsigned char)i;
        bytes += size;
        hash = hash * 31u + size;
        uint32_t next = tail + 1 == slots ? 0 : tail + 1;
        /* Full: free what came in meanwhile, and wait for the next worker to take a block. */
        while (next == atomic_load_explicit(&out->head, memory_order_acquire)) {
            uint64_t n = drain(in, slots);
            freed += n;
            idle = n ? 0 : pause_after(idle);
        }
        out->slot[tail] = (void *)p;
        atomic_store_explicit(&out->tail, next, memory_order_release);
        tail = next;
    }
    /* The previous worker sends exactly CYCLES blocks: free them all. */
    while (freed < cycles) {
        uint64_t n = drain(in, slots);
        freed += n;
        idle = n ? 0 : pause_after(idle);
    }
    job->ended = now_seconds();
    job->frees = freed;
    job->bytes = bytes;
    job->hash = hash;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 7) usage_error("expected 6 arguments");
    const uint64_t cycles = parse_arg(argv[1], "CYCLES", 1, MAX_CYCLES);
    const uint32_t ws = (uint32_t)parse_arg(argv[2], "WS", 1, MAX_WS);
    const uint32_t seed = (uint32_t)parse_arg(argv[3], "SEED", 0, UINT32_MAX);
    const uint32_t min = (uint32_t)parse_arg(argv[4], "MIN", 1, UINT32_MAX >> 2);
    const uint32_t max = (uint32_t)parse_arg(argv[5], "MAX", min, UINT32_MAX >> 2);
    const uint32_t threads = (uint32_t)parse_arg(argv[6], "THREADS", 2, MAX_THREADS);

    job_t *jobs = calloc(threads, sizeof *jobs);
    ring_t *rings = aligned_alloc(64, threads * sizeof *rings);
    pthread_t *tids = calloc(threads, sizeof *tids);
    if (!jobs || !rings || !tids) {
        fprintf(stderr, "cross-thread: out of memory\n");
        return 1;
    }
    for (uint32_t t = 0; t < threads; t++) {
        atomic_init(&rings[t].head, 0);
        atomic_init(&rings[t].tail, 0);
        rings[t].slot = calloc(ws + 1, sizeof(void *));
        if (!rings[t].slot) {
            fprintf(stderr, "cross-thread: out of memory for the rings\n");
            return 1;
        }
    }
    pthread_barrier_init(&start_line, NULL, threads);
    for (uint32_t t = 0; t < threads; t++) {
        jobs[t] = (job_t){.cycles = cycles, .slots = ws + 1, .seed = seed + t, .min = min, .max = max, .index = t,
                          .out = &rings[t], .in = &rings[(t + threads - 1) % threads]};
        int err = pthread_create(&tids[t], NULL, run, &jobs[t]);
        if (err) {
            fprintf(stderr, "cross-thread: pthread_create failed (error %d)\n", err);
            return 1;
        }
    }
    uint64_t frees = 0, bytes = 0;
    uint32_t hash = 0;
    double first_start = 0, last_end = 0;
    for (uint32_t t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
        if (t == 0 || jobs[t].started < first_start) first_start = jobs[t].started;
        if (t == 0 || jobs[t].ended > last_end) last_end = jobs[t].ended;
        frees += jobs[t].frees;
        bytes += jobs[t].bytes;
        hash += jobs[t].hash;
    }
    print_result(cycles * threads, last_end - first_start, cycles * threads, frees, bytes, hash, threads);
    for (uint32_t t = 0; t < threads; t++) free(rings[t].slot);
    free(rings);
    free(jobs);
    free(tids);
    pthread_barrier_destroy(&start_line);
    return 0;
}
