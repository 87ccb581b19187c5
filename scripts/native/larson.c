/*
 * larson: the native side of lib/bench/workloads/WORKLOADS.md "larson", after Paul
 * Larson's server benchmark as mimalloc-bench runs it (own implementation).
 *
 *   larson SECONDS MIN MAX CHUNKS ROUNDS SEED THREADS
 *   larson --generations G MIN MAX CHUNKS ROUNDS SEED THREADS
 *
 * The first form stops after SECONDS (a decimal number); the second gives
 * every chain exactly G worker generations, so its fingerprint is fixed.
 * Prints one JSON line on stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 1024
#define MAX_BLOCKS (UINT32_C(1) << 26)

#define HARNESS_NAME "larson"
#define USAGE                                                   \
    "usage: larson SECONDS MIN MAX CHUNKS ROUNDS SEED THREADS\n" \
    "       larson --generations G MIN MAX CHUNKS ROUNDS SEED THREADS\n"
#include "harness.h"

/* lran2 (Wolfram Gloger): a shuffled linear congruential generator.
   Every value stays below LRAN2_MAX, so IA * x + IC fits in 31 bits. */
#define LRAN2_MAX 714025
#define LRAN2_IA 1366
#define LRAN2_IC 150889

typedef struct {
    int32_t x, y, v[97];
} lran2_t;

static void lran2_init(lran2_t *g, int64_t seed) {
    int64_t x = (LRAN2_IC - seed) % LRAN2_MAX;
    if (x < 0) x = -x;
    for (int j = 0; j < 97; j++) {
        x = (LRAN2_IA * x + LRAN2_IC) % LRAN2_MAX;
        g->v[j] = (int32_t)x;
    }
    g->x = (int32_t)((LRAN2_IA * x + LRAN2_IC) % LRAN2_MAX);
    g->y = g->x;
}

static inline int32_t lran2(lran2_t *g) {
    int j = g->y % 97;
    g->y = g->v[j];
    g->x = (LRAN2_IA * g->x + LRAN2_IC) % LRAN2_MAX;
    g->v[j] = g->x;
    return g->y;
}

/* One chain: a thread's share of the slots, worked by one generation of
   threads after another (larson's thread_data). */
typedef struct {
    void **slots;
    uint32_t chunks, min, range;
    uint64_t per_generation;   /* ROUNDS * CHUNKS */
    uint64_t generations_left; /* UINT64_MAX when time-bounded */
    lran2_t rng;               /* carried from one generation to the next */
    uint64_t mallocs, frees, bytes;
    uint32_t hash;
} chain_t;

static atomic_int stop;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static uint32_t chains_done;

static void *must_malloc(size_t size) {
    void *p = malloc(size);
    if (!p) {
        fprintf(stderr, "larson: malloc(%zu) failed\n", size);
        exit(1);
    }
    return p;
}

static inline uint32_t draw_size(lran2_t *g, uint32_t min, uint32_t range) {
    return range ? min + (uint32_t)lran2(g) % range : min;
}

/* First and last byte, volatile so the writes survive optimisation. */
static inline void touch(void *p, uint32_t size, uint64_t value) {
    volatile unsigned char *b = p;
    b[0] = (unsigned char)value;
    b[size - 1] = (unsigned char)value;
}

static void chain_done(void) {
    pthread_mutex_lock(&done_lock);
    chains_done++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
}

static void *generation(void *arg);

static void spawn(chain_t *c) {
    pthread_attr_t attr;
    pthread_t tid;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int err = pthread_create(&tid, &attr, generation, c);
    pthread_attr_destroy(&attr);
    if (err) {
        fprintf(stderr, "larson: pthread_create failed (error %d)\n", err);
        exit(1);
    }
}

/* One worker thread: ROUNDS * CHUNKS times free a random victim and put a
   fresh block of a random size in its place; then hand the chain on. */
static void *generation(void *arg) {
    chain_t *c = arg;
    if (atomic_load_explicit(&stop, memory_order_relaxed)) {
        chain_done();
        return NULL;
    }
    void **const slots = c->slots;
    const uint32_t chunks = c->chunks, min = c->min, range = c->range;
    const uint64_t n = c->per_generation;
    lran2_t rng = c->rng; /* a local copy: block writes cannot alias it */
    uint64_t mallocs = c->mallocs, frees = c->frees, bytes = c->bytes;
    uint32_t hash = c->hash;

    for (uint64_t k = 0; k < n; k++) {
        uint32_t victim = (uint32_t)lran2(&rng) % chunks;
        free(slots[victim]);
        frees++;
        uint32_t size = draw_size(&rng, min, range);
        void *p = must_malloc(size);
        touch(p, size, k);
        slots[victim] = p;
        mallocs++;
        bytes += size;
        hash = (hash * 31u + victim) * 31u + size; /* victims too: they never show in the sizes */
        if (atomic_load_explicit(&stop, memory_order_relaxed)) break;
    }

    c->rng = rng;
    c->mallocs = mallocs;
    c->frees = frees;
    c->bytes = bytes;
    c->hash = hash;
    if (--c->generations_left && !atomic_load_explicit(&stop, memory_order_relaxed))
        spawn(c); /* the successor frees blocks this thread allocated */
    else
        chain_done();
    return NULL;
}

/* Main thread, untimed: allocate every block, shuffle, churn 4x (larson's
   warm-up), so that each worker's first frees are of blocks it did not allocate. */
static void warm_up(void **blocks, uint32_t n, lran2_t *g, uint32_t min, uint32_t range) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t size = draw_size(g, min, range);
        blocks[i] = must_malloc(size);
        touch(blocks[i], size, i);
    }
    for (uint32_t i = n; i > 0; i--) {
        uint32_t j = (uint32_t)lran2(g) % i;
        void *tmp = blocks[j];
        blocks[j] = blocks[i - 1];
        blocks[i - 1] = tmp;
    }
    for (uint64_t i = 0; i < 4 * (uint64_t)n; i++) {
        uint32_t victim = (uint32_t)lran2(g) % n;
        free(blocks[victim]);
        uint32_t size = draw_size(g, min, range);
        blocks[victim] = must_malloc(size);
        touch(blocks[victim], size, i);
    }
}

static double parse_seconds(const char *text) {
    char *end;
    errno = 0;
    double s = strtod(text, &end);
    if (errno || end == text || *end || !(s > 0 && s <= 1e6)) {
        char why[160];
        snprintf(why, sizeof why, "SECONDS must be a number in (0, 1e6], got '%s'", text);
        usage_error(why);
    }
    return s;
}

int main(int argc, char **argv) {
    const int budgeted = argc > 1 && strcmp(argv[1], "--generations") == 0;
    if (argc != 8 + budgeted) usage_error("wrong number of arguments");
    char **a = argv + budgeted;
    const uint64_t generations = budgeted ? parse_arg(a[1], "G", 1, UINT32_MAX) : UINT64_MAX;
    const double run_seconds = budgeted ? 0 : parse_seconds(a[1]);
    const uint32_t min = (uint32_t)parse_arg(a[2], "MIN", 1, UINT32_MAX >> 2);
    const uint32_t max = (uint32_t)parse_arg(a[3], "MAX", min, UINT32_MAX >> 2);
    const uint32_t chunks = (uint32_t)parse_arg(a[4], "CHUNKS", 1, MAX_BLOCKS);
    const uint64_t rounds = parse_arg(a[5], "ROUNDS", 1, UINT32_MAX);
    const int64_t seed = (int64_t)parse_arg(a[6], "SEED", 0, INT32_MAX);
    const uint32_t threads = (uint32_t)parse_arg(a[7], "THREADS", 1, MAX_THREADS);
    if ((uint64_t)chunks * threads > MAX_BLOCKS) usage_error("CHUNKS * THREADS is too large");
    const uint32_t n = chunks * threads, range = max - min;

    void **blocks = must_malloc((size_t)n * sizeof *blocks);
    chain_t *chains = must_malloc(threads * sizeof *chains);
    memset(chains, 0, threads * sizeof *chains);
    lran2_t g;
    lran2_init(&g, seed);
    warm_up(blocks, n, &g, min, range);
    for (uint32_t t = 0; t < threads; t++) {
        chain_t *c = &chains[t];
        c->slots = blocks + (size_t)t * chunks;
        c->chunks = chunks;
        c->min = min;
        c->range = range;
        c->per_generation = rounds * chunks;
        c->generations_left = generations;
        lran2_init(&c->rng, lran2(&g));
    }

    const double t0 = now_seconds();
    for (uint32_t t = 0; t < threads; t++) spawn(&chains[t]);
    if (!budgeted) {
        const time_t whole = (time_t)run_seconds;
        struct timespec pause = {whole, (long)((run_seconds - (double)whole) * 1e9)};
        while (nanosleep(&pause, &pause) == -1 && errno == EINTR) {}
        atomic_store(&stop, 1);
    }
    pthread_mutex_lock(&done_lock);
    while (chains_done < threads) pthread_cond_wait(&done_cond, &done_lock);
    pthread_mutex_unlock(&done_lock);
    const double seconds = now_seconds() - t0;

    uint64_t mallocs = 0, frees = 0, bytes = 0;
    uint32_t hash = 0;
    for (uint32_t t = 0; t < threads; t++) {
        mallocs += chains[t].mallocs;
        frees += chains[t].frees;
        bytes += chains[t].bytes;
        hash += chains[t].hash;
    }
    print_result(mallocs, seconds, mallocs, frees, bytes, hash, threads);
    for (uint32_t i = 0; i < n; i++) free(blocks[i]);
    free(blocks);
    free(chains);
    return 0;
}
