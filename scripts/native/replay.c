/*
 * replay: the native side of lib/bench/workloads/WORKLOADS.md "replay": replays an allocation
 * trace in its binary form (trace-format.h) on whatever malloc the process links (glibc, or a
 * library given through LD_PRELOAD).
 *
 *   replay FILE LOOPS [--timeline K] [--latency]
 *   replay --buckets V...        the latency bucket of each value (for tests against hdr-histogram-js)
 *
 * Passes, each starting with no block live and ending with the blocks the trace never frees freed
 * (untimed): one footprint pass (whole blocks written; peak resident growth, and with --timeline
 * live bytes and resident growth every K ops), one untimed warm-up pass, LOOPS timed passes, and
 * with --latency LOOPS more passes with every op timed. Multi-threaded recordings are replayed
 * serialized, in recorded order, on this one thread. Prints one JSON line on stdout.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_NAME "replay"
#define USAGE                                                  \
    "usage: replay FILE LOOPS [--timeline K] [--latency]\n"    \
    "       replay --buckets V...\n"
#include "harness.h"
#include "hdr.h"
#include "trace-format.h"

#define MAX_LOOPS UINT64_C(1000000)
#define OP_KINDS 5
static const char *const OP_NAMES[OP_KINDS] = {"malloc", "calloc", "realloc", "aligned", "free"};

static const trace_record_t *ops;
static uint64_t n_ops;
/* Per ID: the block, its requested bytes, the byte written into its first and last byte, whether
   it came from posix_memalign. */
static void **blocks;
static uint64_t *sizes;
static unsigned char *tags;
static uint32_t max_id;
/* The fingerprint of the last pass. */
static uint64_t fp_mallocs, fp_frees, fp_bytes;
static uint32_t fp_hash;

static void fail(uint64_t op, uint32_t id, const char *what) {
    fprintf(stderr, "replay: op %" PRIu64 " (ID %" PRIu32 "): %s\n", op, id, what);
    exit(1);
}

/* Out of memory is a result, not a failure: one JSON line saying where. */
static void out_of_memory(uint64_t op, uint32_t id, uint64_t bytes) {
    printf("{\"bench\":\"replay\",\"outOfMemory\":\"out of memory at op %" PRIu64 " (ID %" PRIu32
           ", %" PRIu64 " bytes)\"}\n", op, id, bytes);
    exit(0);
}

static uint64_t request_bytes(const trace_record_t *r) {
    return r->op == OP_CALLOC ? r->aux * r->size : r->size;
}

/* The block's first and last byte still hold what was written there at its allocation. */
static void check_block(uint64_t op, uint32_t id, const char *when) {
    volatile unsigned char *p = blocks[id];
    uint64_t n = sizes[id] ? sizes[id] : 1;
    if (p[0] != tags[id] || p[n - 1] != tags[id]) {
        char why[200];
        snprintf(why, sizeof why, "%s: first/last byte %u/%u, written %u: another block overlaps this one",
                 when, p[0], p[n - 1], tags[id]);
        fail(op, id, why);
    }
}

static void tag_block(uint32_t id, unsigned char tag) {
    volatile unsigned char *p = blocks[id];
    uint64_t n = sizes[id] ? sizes[id] : 1;
    tags[id] = tag;
    p[0] = tag;
    p[n - 1] = tag;
}

/* One op of the trace (WORKLOADS.md "replay"); a 0-byte request is made for 1 byte. */
static inline void replay_op(uint64_t i) {
    const trace_record_t *r = &ops[i];
    uint32_t id = r->id;
    if (r->op == OP_FREE) {
        if (!blocks[id]) fail(i, id, "f of an ID that holds no block");
        check_block(i, id, "before free");
        free(blocks[id]);
        blocks[id] = NULL;
        fp_frees++;
        return;
    }
    uint64_t n = request_bytes(r), b = n ? n : 1;
    void *p;
    switch (r->op) {
    case OP_MALLOC:
        p = malloc(b);
        break;
    case OP_CALLOC:
        p = n ? calloc(r->aux, r->size) : calloc(1, 1);
        if (p && (((volatile unsigned char *)p)[0] || ((volatile unsigned char *)p)[b - 1])) {
            fail(i, id, "calloc returned a block that is not zeroed");
        }
        break;
    case OP_REALLOC:
        if (!blocks[id]) fail(i, id, "r of an ID that holds no block");
        check_block(i, id, "before realloc");
        p = realloc(blocks[id], b);
        if (p && ((volatile unsigned char *)p)[0] != tags[id]) fail(i, id, "realloc lost the block's first byte");
        break;
    case OP_ALIGNED: {
        if (!r->aux || (r->aux & (r->aux - 1))) fail(i, id, "alignment is not a power of two");
        size_t align = r->aux < sizeof(void *) ? sizeof(void *) : (size_t)r->aux;
        if (posix_memalign(&p, align, b)) p = NULL;
        if (p && (uintptr_t)p % r->aux) {
            char why[160];
            snprintf(why, sizeof why, "posix_memalign(%zu, %" PRIu64 ") returned %p, not a multiple of %" PRIu64,
                     align, b, p, r->aux);
            fail(i, id, why);
        }
        break;
    }
    default:
        fail(i, id, "unknown op kind");
        return;
    }
    if (!p) out_of_memory(i, id, b);
    if (r->op != OP_REALLOC && blocks[id]) fail(i, id, "allocation of an ID that already holds a block");
    blocks[id] = p;
    sizes[id] = n;
    tag_block(id, (unsigned char)i);
    fp_mallocs++;
    fp_bytes += n;
    fp_hash = (fp_hash * 31u + r->op) * 31u + (uint32_t)n;
}

static void begin_pass(void) {
    fp_mallocs = fp_frees = fp_bytes = 0;
    fp_hash = 0;
}

/* Frees what the trace left live (untimed), checking each block first. */
static void end_pass(void) {
    for (uint32_t id = 0; id <= max_id; id++) {
        if (blocks[id]) {
            check_block(n_ops, id, "at the pass end");
            free(blocks[id]);
            blocks[id] = NULL;
        }
    }
}

/* ---- footprint: resident memory, from /proc ---- */

static uint64_t page_bytes;

static uint64_t resident_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long long total = 0, resident = 0;
    if (!f || fscanf(f, "%llu %llu", &total, &resident) != 2) {
        fprintf(stderr, "replay: cannot read /proc/self/statm\n");
        exit(1);
    }
    fclose(f);
    return resident * page_bytes;
}

/* VmHWM, the resident high-water mark, in bytes. */
static uint64_t resident_peak(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long kib = 0;
    int found = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1) {
            found = 1;
            break;
        }
    }
    if (f) fclose(f);
    if (!found) {
        fprintf(stderr, "replay: no VmHWM in /proc/self/status\n");
        exit(1);
    }
    return kib * 1024;
}

/* Resets VmHWM to the current resident size (Linux: "5" into clear_refs); 0 when not allowed. */
static int reset_resident_peak(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0) return 0;
    int ok = write(fd, "5", 1) == 1;
    close(fd);
    return ok;
}

/* ---- the passes ---- */

typedef struct {
    uint64_t op, live, resident;
} sample_t;

/* Returns the peak resident growth, or -1 when the high-water mark cannot be reset here. */
static int64_t footprint_pass(uint64_t every, sample_t *samples, uint64_t *n_samples, uint64_t baseline) {
    int can_reset = reset_resident_peak();
    uint64_t live = 0;
    begin_pass();
    for (uint64_t i = 0; i < n_ops; i++) {
        const trace_record_t *r = &ops[i];
        uint32_t id = r->id;
        uint64_t before = blocks[id] ? sizes[id] : 0;
        replay_op(i);
        if (r->op != OP_FREE) {
            /* the whole block written, so all its pages are resident */
            memset(blocks[id], tags[id], sizes[id] ? sizes[id] : 1);
            live += sizes[id];
        }
        live -= before;
        if (every && ((i + 1) % every == 0 || i + 1 == n_ops)) {
            uint64_t rss = resident_bytes();
            samples[*n_samples] = (sample_t){i + 1, live, rss > baseline ? rss - baseline : 0};
            ++*n_samples;
        }
    }
    int64_t peak = -1;
    if (can_reset) {
        /* The kernel's resident counters are per-CPU approximations: VmHWM and a statm read taken
           at the same moment can differ by some 100 KiB. The peak is the larger of the two. */
        uint64_t hwm = resident_peak();
        peak = hwm > baseline ? (int64_t)(hwm - baseline) : 0;
        for (uint64_t s = 0; s < *n_samples; s++) {
            if ((int64_t)samples[s].resident > peak) peak = (int64_t)samples[s].resident;
        }
    }
    end_pass();
    return peak;
}

static double timed_passes(uint64_t loops) {
    double seconds = 0;
    for (uint64_t l = 0; l < loops; l++) {
        begin_pass();
        double start = now_seconds();
        for (uint64_t i = 0; i < n_ops; i++) replay_op(i);
        seconds += now_seconds() - start;
        end_pass();
    }
    return seconds;
}

static inline uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* The median of back-to-back clock reads, in ns: what one timed op's figure includes. */
static uint64_t timer_cost_ns(void) {
    enum { N = 10001 };
    static uint64_t d[N];
    for (int k = 0; k < N; k++) {
        uint64_t a = now_ns();
        d[k] = now_ns() - a;
    }
    qsort(d, N, sizeof d[0], by_value);
    return d[N / 2];
}

static void latency_passes(uint64_t loops, uint64_t (*counts)[HDR_COUNTS], uint64_t *max_ns) {
    for (uint64_t l = 0; l < loops; l++) {
        begin_pass();
        for (uint64_t i = 0; i < n_ops; i++) {
            uint64_t t0 = now_ns();
            replay_op(i);
            uint64_t ns = now_ns() - t0;
            counts[ops[i].op][hdr_index(ns)]++;
            if (ns > max_ns[ops[i].op]) max_ns[ops[i].op] = ns;
        }
        end_pass();
    }
}

/* ---- input ---- */

static void *xcalloc(uint64_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "replay: out of memory for the replayer's own arrays (%" PRIu64 " entries)\n", n);
        exit(1);
    }
    /* written, so its pages are resident before the footprint baseline */
    memset(p, 0, (n ? n : 1) * size);
    return p;
}

static void read_trace(const char *file) {
    FILE *f = fopen(file, "rb");
    if (!f) {
        fprintf(stderr, "replay: cannot open %s\n", file);
        exit(2);
    }
    char magic[TRACE_MAGIC_BYTES];
    uint32_t comment_bytes;
    if (fread(magic, 1, sizeof magic, f) != sizeof magic || memcmp(magic, TRACE_MAGIC, TRACE_MAGIC_BYTES) ||
        fread(&comment_bytes, sizeof comment_bytes, 1, f) != 1 || fseek(f, comment_bytes, SEEK_CUR)) {
        fprintf(stderr, "replay: %s is not a binary trace (" TRACE_MAGIC ")\n", file);
        exit(2);
    }
    long start = ftell(f);
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    if (start < 0 || end < start || (end - start) % sizeof(trace_record_t)) {
        fprintf(stderr, "replay: %s is truncated (record area not a whole number of records)\n", file);
        exit(2);
    }
    n_ops = (uint64_t)(end - start) / sizeof(trace_record_t);
    trace_record_t *records = xcalloc(n_ops, sizeof *records);
    fseek(f, start, SEEK_SET);
    if (fread(records, sizeof *records, n_ops, f) != n_ops) {
        fprintf(stderr, "replay: cannot read %s\n", file);
        exit(2);
    }
    fclose(f);
    ops = records;
    for (uint64_t i = 0; i < n_ops; i++) {
        if (ops[i].op >= OP_KINDS) fail(i, ops[i].id, "unknown op kind");
        if (ops[i].id > max_id) max_id = ops[i].id;
    }
}

static void print_buckets(int argc, char **argv) {
    for (int k = 2; k < argc; k++) {
        uint64_t v = parse_arg(argv[k], "V", 0, UINT64_MAX);
        printf("%" PRIu64 "\n", hdr_value_at(hdr_index(v)));
    }
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "--buckets")) {
        print_buckets(argc, argv);
        return 0;
    }
    if (argc < 3) usage_error("expected FILE LOOPS");
    uint64_t loops = parse_arg(argv[2], "LOOPS", 0, MAX_LOOPS);
    uint64_t every = 0;
    int latency = 0;
    for (int k = 3; k < argc; k++) {
        if (!strcmp(argv[k], "--latency")) {
            latency = 1;
        } else if (!strcmp(argv[k], "--timeline") && k + 1 < argc) {
            every = parse_arg(argv[++k], "K", 1, UINT64_MAX);
        } else {
            usage_error("unknown option");
        }
    }
    page_bytes = (uint64_t)sysconf(_SC_PAGESIZE);
    read_trace(argv[1]);

    /* Every array the replayer itself uses, allocated and written before the baseline. */
    blocks = xcalloc((uint64_t)max_id + 1, sizeof *blocks);
    sizes = xcalloc((uint64_t)max_id + 1, sizeof *sizes);
    tags = xcalloc((uint64_t)max_id + 1, sizeof *tags);
    uint64_t max_samples = every ? n_ops / every + 1 : 0;
    sample_t *samples = xcalloc(max_samples, sizeof *samples);
    uint64_t(*counts)[HDR_COUNTS] = latency ? xcalloc(OP_KINDS, sizeof *counts) : NULL;
    uint64_t max_ns[OP_KINDS] = {0};
    uint64_t n_samples = 0;

    uint64_t baseline = resident_bytes();
    int64_t peak = footprint_pass(every, samples, &n_samples, baseline);
    if (loops) timed_passes(1); /* warm-up */
    double seconds = timed_passes(loops);
    uint64_t timer_ns = 0;
    if (latency) {
        timer_ns = timer_cost_ns();
        latency_passes(loops, counts, max_ns);
    }

    printf("{\"bench\":\"replay\",\"ops\":%" PRIu64 ",\"seconds\":%.9f,"
           "\"fingerprint\":{\"mallocs\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"hash\":%" PRIu32 "},"
           "\"threads\":1,",
           n_ops * loops, seconds, fp_mallocs, fp_frees, fp_bytes, fp_hash);
    if (peak >= 0) {
        printf("\"peakFootprintBytes\":%" PRId64 ",\"footprintMethod\":\"%s\"", peak,
               "peak resident growth: VmHWM (reset through /proc/self/clear_refs) minus the resident size before the pass, or a larger timeline sample");
    } else {
        printf("\"peakFootprintBytes\":null,\"footprintMethod\":\"%s\"",
               "unavailable: /proc/self/clear_refs cannot reset the resident high-water mark here");
    }
    printf(",\"timeline\":[");
    for (uint64_t s = 0; s < n_samples; s++) {
        printf("%s[%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", s ? "," : "", samples[s].op, samples[s].live,
               samples[s].resident);
    }
    printf("]");
    if (latency) {
        printf(",\"latency\":{\"timerCostNs\":%" PRIu64 ",\"ops\":{", timer_ns);
        int first_kind = 1;
        for (int k = 0; k < OP_KINDS; k++) {
            uint64_t total = 0;
            for (uint32_t b = 0; b < HDR_COUNTS; b++) total += counts[k][b];
            if (!total) continue;
            printf("%s\"%s\":{\"count\":%" PRIu64 ",\"max\":%" PRIu64 ",\"buckets\":[", first_kind ? "" : ",",
                   OP_NAMES[k], total, max_ns[k]);
            first_kind = 0;
            int first = 1;
            for (uint32_t b = 0; b < HDR_COUNTS; b++) {
                if (!counts[k][b]) continue;
                printf("%s[%" PRIu64 ",%" PRIu64 "]", first ? "" : ",", hdr_value_at(b), counts[k][b]);
                first = 0;
            }
            printf("]}");
        }
        printf("}}");
    }
    printf("}\n");
    return 0;
}
