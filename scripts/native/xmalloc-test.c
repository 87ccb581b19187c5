/*
 * xmalloc-test THREADS BATCHES SIZE: the native side of lib/bench/workloads/WORKLOADS.md
 * "xmalloc-test", after Lever and Boreham's malloc test as mimalloc-bench runs it (own implementation
 * of the published loop). THREADS producers each allocate BATCHES batches of 4096 blocks of SIZE bytes
 * (0: sizes drawn from 8..2048) and push them on one stack under a lock (at most 100 batches on it);
 * THREADS consumers pop the batches and free every block in them.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>

#define HARNESS_NAME "xmalloc-test"
#define USAGE "usage: xmalloc-test THREADS BATCHES SIZE\n"
#include "harness.h"
#include "suite-threads.h"

#define MAX_THREADS 8
#define OBJECTS_PER_BATCH 4096
#define BATCH_BYTES (8 + 8 * OBJECTS_PER_BATCH)
#define QUEUE_LIMIT 100
#define WRITTEN 128u

static const uint32_t mixed_sizes[] = {8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048};
#define MIXED (sizeof mixed_sizes / sizeof mixed_sizes[0])

struct batch {
    struct batch *next;
    unsigned char *objects[OBJECTS_PER_BATCH];
};
_Static_assert(sizeof(struct batch) <= BATCH_BYTES, "a batch fits its request");

typedef struct {
    thread_span_t span;
    uint32_t index;
    fingerprint_t fp;
} job_t;

static uint32_t threads, size;
static uint64_t batches;

/* The stack of full batches; `taken` counts the batches popped so far, of threads * batches in all. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static struct batch *head;
static uint32_t count;
static uint64_t taken;

static void produce(job_t *job) {
    uint32_t x = job->index + 1;
    uint32_t hash = 0;
    for (uint64_t n = 0; n < batches; n++) {
        struct batch *b = malloc(BATCH_BYTES);
        if (!b) malloc_failed(BATCH_BYTES);
        job->fp.bytes += BATCH_BYTES;
        hash = hash * 31u + BATCH_BYTES;
        for (uint32_t i = 0; i < OBJECTS_PER_BATCH; i++) {
            uint32_t s = size;
            if (s == 0) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                s = mixed_sizes[(x >> 1) % MIXED];
            }
            unsigned char *p = malloc(s);
            if (!p) malloc_failed(s);
            memset(p, (int)(i & 255), s < WRITTEN ? s : WRITTEN);
            p[s - 1] = (unsigned char)i;
            b->objects[i] = p;
            job->fp.bytes += s;
            hash = hash * 31u + s;
        }
        pthread_mutex_lock(&lock);
        while (count >= QUEUE_LIMIT) pthread_cond_wait(&not_full, &lock);
        b->next = head;
        head = b;
        count++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&lock);
    }
    job->fp.mallocs = batches * (OBJECTS_PER_BATCH + 1);
    job->fp.hash = hash;
}

static void consume(job_t *job) {
    uint64_t total = (uint64_t)threads * batches;
    for (;;) {
        pthread_mutex_lock(&lock);
        while (!head && taken < total) pthread_cond_wait(&not_empty, &lock);
        struct batch *b = head;
        if (!b) {
            pthread_mutex_unlock(&lock);
            return;
        }
        head = b->next;
        count--;
        if (++taken == total) pthread_cond_broadcast(&not_empty); /* the others stop waiting */
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&lock);
        for (uint32_t i = 0; i < OBJECTS_PER_BATCH; i++) {
            unsigned char *p = b->objects[i];
            if (p[0] != (unsigned char)i) {
                fprintf(stderr, HARNESS_NAME ": block %" PRIu32 " of batch %p was overwritten\n", i, (void *)b);
                exit(1);
            }
            free(p);
        }
        free(b);
        job->fp.frees += OBJECTS_PER_BATCH + 1;
    }
}

static void *thread_main(void *arg) {
    job_t *job = arg;
    thread_begin(&job->span);
    if (job->index < threads) produce(job);
    else consume(job);
    thread_finish(&job->span);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) usage_error("takes 3 arguments (THREADS BATCHES SIZE)");
    threads = (uint32_t)parse_arg(argv[1], "THREADS", 1, MAX_THREADS);
    batches = parse_arg(argv[2], "BATCHES", 1, 1u << 20);
    size = (uint32_t)parse_arg(argv[3], "SIZE", 0, 2048);
    job_t jobs[2 * MAX_THREADS];
    memset(jobs, 0, sizeof jobs);
    for (uint32_t t = 0; t < 2 * threads; t++) jobs[t].index = t;
    long long baseline = resident_baseline();
    double seconds = run_threads(2 * threads, thread_main, jobs, sizeof jobs[0]);
    fingerprint_t sum = {0};
    for (uint32_t t = 0; t < 2 * threads; t++) add_fingerprint(&sum, &jobs[t].fp);
    print_suite_result(sum.mallocs + sum.frees, seconds, sum.mallocs, sum.frees, sum.bytes, sum.hash, 2 * threads, baseline);
    return 0;
}
