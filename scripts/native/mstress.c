/*
 * mstress THREADS SCALE ITER: the native side of lib/bench/workloads/WORKLOADS.md "mstress", after
 * mimalloc-bench's mstress (own implementation of the published loop). ITER rounds; in each, THREADS
 * threads (thread 0 the main thread, the others new pthreads every round) allocate and free blocks of
 * varying sizes and swap some through 1000 shared slots; between rounds the main thread frees about
 * half of what the slots hold, and all of it after the last round.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#define HARNESS_NAME "mstress"
#define USAGE "usage: mstress THREADS SCALE ITER\n"
#include "harness.h"
#include "resident.h"

#define MAX_THREADS 64
#define TRANSFERS 1000
#define ITEM_BYTES 8u
#define DATA_SHIFTS 5
#define RETAINED_SHIFTS 7
#define CLEANUP_SEED (43u * 43u)

static _Atomic(unsigned char *) transfer[TRANSFERS];
static uint64_t scale;

typedef struct {
    uint32_t index;
    fingerprint_t fp;
} job_t;

static inline uint32_t draw(uint32_t *x) {
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x >> 1;
}

static inline int chance(uint32_t *x, uint32_t percent) {
    return draw(x) % 100 <= percent;
}

static inline unsigned char tag_of(uint32_t size) {
    return (unsigned char)(0x80 | ((size >> 3) & 0x7f));
}

/* The block's size word: the first 4-aligned word inside it. */
static inline unsigned char *size_word(unsigned char *p) {
    return (unsigned char *)(((uintptr_t)p + 3) & ~(uintptr_t)3);
}

static unsigned char *allocate(job_t *job, uint32_t *x, uint32_t *hash, uint32_t items) {
    if (chance(x, 1)) {
        if (chance(x, 1)) items *= 10000;
        else if (chance(x, 10)) items *= 1000;
        else items *= 100;
    }
    uint32_t size = items * ITEM_BYTES;
    unsigned char *p = malloc(size);
    if (!p) {
        fprintf(stderr, HARNESS_NAME ": out of memory allocating %" PRIu32 " bytes in thread %" PRIu32 "\n", size, job->index);
        exit(1);
    }
    memset(p, tag_of(size), size);
    memcpy(size_word(p), &size, sizeof size);
    job->fp.mallocs++;
    job->fp.bytes += size;
    *hash = *hash * 31u + size;
    return p;
}

/* Frees a block after checking its size word and last byte; returns 1 if there was one. */
static int free_checked(unsigned char *p) {
    if (!p) return 0;
    uint32_t size;
    memcpy(&size, size_word(p), sizeof size);
    if (size < ITEM_BYTES || p[size - 1] != tag_of(size)) {
        fprintf(stderr, HARNESS_NAME ": block %p was overwritten (size word %" PRIu32 ")\n", (void *)p, size);
        exit(1);
    }
    free(p);
    return 1;
}

/* One thread's part of a round (WORKLOADS.md). */
static void *stress(void *arg) {
    job_t *job = arg;
    uint32_t t = job->index;
    uint32_t x = (t + 1) * 43u;
    uint64_t allocs = 100 * scale * (t % 8 + 1);
    uint64_t retain = allocs / 2;
    unsigned char **data = calloc(allocs, sizeof *data);
    unsigned char **retained = calloc(retain ? retain : 1, sizeof *retained);
    if (!data || !retained) {
        fprintf(stderr, HARNESS_NAME ": out of memory for thread %" PRIu32 "'s block lists\n", t);
        exit(1);
    }
    uint64_t top = 0, retained_top = 0;
    uint32_t hash = 0; /* this round's: the rounds' hashes are summed */
    while (allocs > 0 || retain > 0) {
        if (retain == 0 || (chance(&x, 50) && allocs > 0)) {
            allocs--;
            data[top++] = allocate(job, &x, &hash, 1u << (draw(&x) % DATA_SHIFTS));
        } else {
            retained[retained_top++] = allocate(job, &x, &hash, 1u << (draw(&x) % RETAINED_SHIFTS));
            retain--;
        }
        if (chance(&x, 66) && top > 0) {
            uint64_t i = draw(&x) % top;
            job->fp.frees += free_checked(data[i]);
            data[i] = NULL;
        }
        if (chance(&x, 25) && top > 0) {
            uint64_t i = draw(&x) % top;
            uint32_t k = draw(&x) % TRANSFERS;
            data[i] = atomic_exchange_explicit(&transfer[k], data[i], memory_order_acq_rel);
        }
    }
    for (uint64_t i = 0; i < retained_top; i++) job->fp.frees += free_checked(retained[i]);
    for (uint64_t i = 0; i < top; i++) job->fp.frees += free_checked(data[i]);
    free(data);
    free(retained);
    job->fp.hash += hash;
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) usage_error("takes 3 arguments (THREADS SCALE ITER)");
    uint32_t threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, MAX_THREADS);
    scale = parse_arg(argv[2], "SCALE", 1, 10000);
    uint64_t iter = parse_arg(argv[3], "ITER", 1, 100000);
    job_t jobs[MAX_THREADS];
    memset(jobs, 0, sizeof jobs);
    pthread_t tids[MAX_THREADS];
    uint32_t cleanup = CLEANUP_SEED;
    uint64_t cleanup_frees = 0;
    long long baseline = resident_baseline();
    double start = now_seconds();
    for (uint64_t n = 0; n < iter; n++) {
        for (uint32_t t = 1; t < threads; t++) {
            jobs[t].index = t;
            int err = pthread_create(&tids[t], NULL, stress, &jobs[t]);
            if (err) {
                fprintf(stderr, HARNESS_NAME ": pthread_create failed (error %d)\n", err);
                exit(1);
            }
        }
        stress(&jobs[0]);
        for (uint32_t t = 1; t < threads; t++) pthread_join(tids[t], NULL);
        for (uint32_t i = 0; i < TRANSFERS; i++) {
            if (chance(&cleanup, 50) || n + 1 == iter)
                cleanup_frees += free_checked(atomic_exchange_explicit(&transfer[i], NULL, memory_order_acq_rel));
        }
    }
    double seconds = now_seconds() - start;
    fingerprint_t sum = {.frees = cleanup_frees};
    for (uint32_t t = 0; t < threads; t++) add_fingerprint(&sum, &jobs[t].fp);
    print_suite_result(sum.mallocs + sum.frees, seconds, sum.mallocs, sum.frees, sum.bytes, sum.hash, threads, baseline);
    return 0;
}
