/*
 * glibc-thread THREADS ITERS: glibc's threaded malloc benchmark (bench-malloc-thread) as specified
 * in lib/bench/workloads/WORKLOADS.md: each thread replaces random blocks of its own 1024 slots,
 * ITERS times, with blocks of inverse-square distributed sizes 4..32768, written whole. Prints one
 * JSON line (harness.h) with the peak resident growth (resident.h).
 */
#define _GNU_SOURCE
#define HARNESS_NAME "glibc-thread"
#define USAGE "usage: glibc-thread THREADS ITERS\n"
#include "harness.h"
#include "resident.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#define WORKING_SET 1024
#define MIN_SIZE 4u
#define MAX_SIZE 32768u
#define SIZE_TABLE 8000
#define OFFSET_TABLE (4 * WORKING_SET)

static uint32_t sizes[SIZE_TABLE];
static uint32_t offsets[OFFSET_TABLE];
static uint64_t iters;
static atomic_int go;

static uint32_t x = 88;
static uint32_t draw(void) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x >> 1;
}

/* floor(MIN MAX 2^31 / (MAX 2^31 - draw (MAX - MIN))): 1 / (1/MIN + r (1/MAX - 1/MIN)), r = draw / 2^31. */
static uint32_t inverse_square_size(uint32_t r) {
    uint64_t n = (uint64_t)MIN_SIZE * MAX_SIZE << 31;
    uint64_t d = ((uint64_t)MAX_SIZE << 31) - (uint64_t)r * (MAX_SIZE - MIN_SIZE);
    return (uint32_t)(n / d);
}

struct result {
    uint64_t bytes;
    uint32_t hash;
};

static void *thread_main(void *arg) {
    struct result *res = arg;
    void **ws = calloc(WORKING_SET, sizeof(void *));
    uint64_t bytes = 0;
    uint32_t hash = 0, s = 0, o = 0;
    while (!atomic_load_explicit(&go, memory_order_acquire)) {
    }
    for (uint64_t i = 0; i < iters; i++) {
        uint32_t idx = offsets[o], size = sizes[s];
        o = o + 1 == OFFSET_TABLE ? 0 : o + 1;
        s = s + 1 == SIZE_TABLE ? 0 : s + 1;
        free(ws[idx]);
        char *p = malloc(size);
        if (!p) malloc_failed(size);
        memset(p, (int)(i & 255), size);
        ws[idx] = p;
        bytes += size;
        hash = hash * 31u + size;
    }
    for (int k = 0; k < WORKING_SET; k++) free(ws[k]);
    free(ws);
    res->bytes = bytes;
    res->hash = hash;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) usage_error("takes 2 arguments (THREADS ITERS)");
    uint32_t threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, 256);
    iters = parse_arg(argv[2], "ITERS", 1, 1ull << 40);
    for (int i = 0; i < SIZE_TABLE; i++) sizes[i] = inverse_square_size(draw());
    for (int i = 0; i < OFFSET_TABLE; i++) offsets[i] = draw() % WORKING_SET;
    pthread_t tid[256];
    struct result res[256];
    const long long baseline = resident_baseline();
    for (uint32_t t = 0; t < threads; t++) pthread_create(&tid[t], NULL, thread_main, &res[t]);
    double start = now_seconds();
    atomic_store_explicit(&go, 1, memory_order_release);
    for (uint32_t t = 0; t < threads; t++) pthread_join(tid[t], NULL);
    double seconds = now_seconds() - start;
    uint64_t bytes = 0;
    uint32_t hash = 0;
    for (uint32_t t = 0; t < threads; t++) {
        bytes += res[t].bytes;
        hash += res[t].hash;
    }
    print_suite_result(threads * iters, seconds, threads * iters, threads * iters, bytes, hash, threads, baseline);
    return 0;
}
