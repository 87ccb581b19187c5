/*
 * What the native harnesses share: argument parsing with usage errors, the
 * monotonic clock and the result line. The including file defines HARNESS_NAME
 * and USAGE first.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Exit code 2 with the reason and the usage text, as the TypeScript CLI does. */
static void usage_error(const char *why) {
    fprintf(stderr, HARNESS_NAME ": %s\n%s", why, USAGE);
    exit(2);
}

/* Exit code 1 naming the request malloc refused: a run that cannot allocate has no result. */
__attribute__((noreturn)) static inline void malloc_failed(uint64_t size) {
    fprintf(stderr, HARNESS_NAME ": out of memory allocating %" PRIu64 " bytes\n", size);
    exit(1);
}

/* A whole decimal number in [lo, hi], or a usage error naming the argument. */
static uint64_t parse_arg(const char *text, const char *name, uint64_t lo, uint64_t hi) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end || text[0] == '-' || v < lo || v > hi) {
        char why[160];
        snprintf(why, sizeof why, "%s must be a whole number in [%" PRIu64 ", %" PRIu64 "], got '%s'",
                 name, lo, hi, text);
        usage_error(why);
    }
    return v;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A workload fingerprint (WORKLOADS.md): op counts, bytes asked for, and the hash of the sizes. */
typedef struct {
    uint64_t mallocs, frees, bytes;
    uint32_t hash;
} fingerprint_t;

/* Adds one thread's fingerprint into the run's: a run's hash is the sum of its threads'. */
static inline void add_fingerprint(fingerprint_t *sum, const fingerprint_t *part) {
    sum->mallocs += part->mallocs;
    sum->frees += part->frees;
    sum->bytes += part->bytes;
    sum->hash += part->hash;
}

/* The result line every harness prints (WORKLOADS.md): ops, seconds, fingerprint, threads, then
   `extra`: more fields, each written `,"name":value`, or "". */
static inline void print_result_with(uint64_t ops, double seconds, uint64_t mallocs, uint64_t frees, uint64_t bytes,
                                     uint32_t hash, uint32_t threads, const char *extra) {
    printf("{\"bench\":\"" HARNESS_NAME "\",\"ops\":%" PRIu64 ",\"seconds\":%.9f,"
           "\"fingerprint\":{\"mallocs\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"bytes\":%" PRIu64
           ",\"hash\":%" PRIu32 "},\"threads\":%" PRIu32 "%s}\n",
           ops, seconds, mallocs, frees, bytes, hash, threads, extra);
}

static inline void print_result(uint64_t ops, double seconds, uint64_t mallocs, uint64_t frees, uint64_t bytes,
                         uint32_t hash, uint32_t threads) {
    print_result_with(ops, seconds, mallocs, frees, bytes, hash, threads, "");
}

#endif
