/*
 * replay: the native side of lib/bench/workloads/WORKLOADS.md "replay": replays an allocation
 * trace in its binary form (trace-format.h) on whatever malloc the process links (glibc, or a
 * library given through LD_PRELOAD).
 *
 *   replay FILE LOOPS [--warmup N] [--serial] [--timeline K] [--latency]
 *   replay --buckets V...        the latency bucket of each value (for tests against hdr-histogram-js)
 *
 * Passes, each starting with no block live and ending with the blocks the trace never frees freed
 * (untimed): one footprint pass (whole blocks written; peak resident growth and the allocator's own
 * statistics, with --timeline live bytes and resident growth every K ops), then N untimed warm-up
 * passes of the allocator, the last recording each block's address, and N of the oracle (default 1;
 * the lab asks for as many as its TypeScript side runs, workloads/replay.ts warmUpPassCount), LOOPS
 * timed passes of each, alternating, and with --latency LOOPS more allocator passes with every op
 * timed. The oracle is the same op loop with no allocator work: every allocation returns the last
 * warm-up pass's address of that op, copied into a mirror of the replayer's own. A multi-threaded
 * recording replays on one pthread per recorded thread (WORKLOADS.md "Threaded replay"; --timeline and
 * --latency need --serial), or with --serial in recorded order on this one thread. Prints one JSON
 * line on stdout.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HARNESS_NAME "replay"
#define USAGE                                                  \
    "usage: replay FILE LOOPS [--warmup N] [--serial] [--timeline K] [--latency]\n"    \
    "       replay --buckets V...\n"
#include "harness.h"
#include "hdr.h"
#include "resident.h"
#include "trace-format.h"

#define MAX_LOOPS UINT64_C(1000000)
#define OP_KINDS 5
static const char *const OP_NAMES[OP_KINDS] = {"malloc", "calloc", "realloc", "aligned", "free"};

static const trace_record_t *ops;
static uint64_t n_ops;
/* Per ID: the block, its requested bytes, the byte written into its first and last byte. */
static void **blocks;
static uint64_t *sizes;
static unsigned char *tags;
static uint32_t max_id;
/* The largest ALIGN of the trace's aligned ops (0: none). */
static uint64_t max_align;
/* Per op: the block the allocator returned in its last warm-up pass (NULL for a free); once the mirror
   is built, that block's place in the mirror, which the oracle hands out. */
static void **recorded;
/* The recorded threads, indexed in order of their first op (each record's thread field is rewritten to
   that index), and each one's tag. */
static uint32_t n_threads;
static uint16_t *thread_tags;

/* The fingerprint of this thread's last pass; its hash the sum of `hashes`, the hash per recorded thread
   (WORKLOADS.md "Fingerprint": the same whether the threads replay serialized or each on its own). */
static __thread fingerprint_t fp;
static __thread uint32_t *hashes;

/* What a pass replays on. Every call of replay_op passes a constant, so each loop is compiled for one. */
enum { ALLOCATOR, ORACLE };

/* Threaded replay: each op's recorded ID (its ID in `ops` is then its slot) and thread tag, for messages. */
static uint32_t *recorded_ids;

static void fail(uint64_t op, uint32_t id, const char *what) {
    if (recorded_ids && op < n_ops) {
        fprintf(stderr, "replay: op %" PRIu64 " (ID %" PRIu32 ", thread %u): %s\n", op, recorded_ids[op],
                (unsigned)thread_tags[ops[op].thread], what);
    } else {
        fprintf(stderr, "replay: op %" PRIu64 " (ID %" PRIu32 "): %s\n", op, id, what);
    }
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

/* One op of the trace (WORKLOADS.md "replay"); a 0-byte request is made for 1 byte. The oracle makes the
   same checks and writes but no allocator call: an allocation takes the op's recorded block and free only
   forgets the block. calloc and realloc set only the bytes the checks read (calloc's first and last, 0;
   realloc's first, carried over when the block moved): zeroing and copying are the allocator's work. */
static inline __attribute__((always_inline)) void replay_op(uint64_t i, const int on) {
    const trace_record_t *r = &ops[i];
    uint32_t id = r->id;
    if (r->op == OP_FREE) {
        if (!blocks[id]) fail(i, id, "f of an ID that holds no block");
        check_block(i, id, "before free");
        if (on == ALLOCATOR) free(blocks[id]);
        blocks[id] = NULL;
        fp.frees++;
        return;
    }
    uint64_t n = request_bytes(r), b = n ? n : 1;
    void *p;
    switch (r->op) {
    case OP_MALLOC:
        p = on == ORACLE ? recorded[i] : malloc(b);
        break;
    case OP_CALLOC:
        if (on == ORACLE) {
            p = recorded[i];
            ((unsigned char *)p)[0] = ((unsigned char *)p)[b - 1] = 0;
        } else {
            p = n ? calloc(r->aux, r->size) : calloc(1, 1);
        }
        if (p && (((volatile unsigned char *)p)[0] || ((volatile unsigned char *)p)[b - 1])) {
            fail(i, id, "calloc returned a block that is not zeroed");
        }
        break;
    case OP_REALLOC:
        if (!blocks[id]) fail(i, id, "r of an ID that holds no block");
        check_block(i, id, "before realloc");
        if (on == ORACLE) {
            p = recorded[i];
            if (p != blocks[id]) *(unsigned char *)p = *(unsigned char *)blocks[id];
        } else {
            p = realloc(blocks[id], b);
        }
        if (p && ((volatile unsigned char *)p)[0] != tags[id]) fail(i, id, "realloc lost the block's first byte");
        break;
    case OP_ALIGNED: {
        if (!r->aux || (r->aux & (r->aux - 1))) fail(i, id, "alignment is not a power of two");
        size_t align = r->aux < sizeof(void *) ? sizeof(void *) : (size_t)r->aux;
        if (on == ORACLE) p = recorded[i];
        else if (posix_memalign(&p, align, b)) p = NULL;
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
    fp.mallocs++;
    fp.bytes += n;
    hashes[r->thread] = (hashes[r->thread] * 31u + r->op) * 31u + (uint32_t)n;
}

static void begin_pass(void) {
    fp = (fingerprint_t){0, 0, 0, 0};
    memset(hashes, 0, n_threads * sizeof *hashes);
}

/* The pass's hash: the recorded threads' hashes summed. */
static void seal_fingerprint(void) {
    fp.hash = 0;
    for (uint32_t t = 0; t < n_threads; t++) fp.hash += hashes[t];
}

/* Checks and frees the block `id` holds after the pass's last op. */
static inline __attribute__((always_inline)) void free_leftover(uint32_t id, const int on) {
    check_block(n_ops, id, "at the pass end");
    if (on == ALLOCATOR) free(blocks[id]);
    blocks[id] = NULL;
}

/* Frees what the trace left live (untimed), checking each block first. */
static inline __attribute__((always_inline)) void end_pass(const int on) {
    seal_fingerprint();
    for (uint32_t id = 0; id <= max_id; id++) {
        if (blocks[id]) free_leftover(id, on);
    }
}

/* ---- the replayer's own memory ---- */

/* Mapped here, not taken from the allocator under test, so none of it is the allocator's; populated
   (MAP_POPULATE faults every page in for writing), so it is all resident before the footprint baseline. */
static void *own_array(uint64_t n, size_t size) {
    size_t bytes = (n ? n : 1) * size;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "replay: cannot map %zu bytes for the replayer's own arrays (%" PRIu64 " entries): %s\n",
                bytes, n, strerror(errno));
        exit(1);
    }
    return p;
}

/* ---- footprint: resident memory, from /proc ---- */

/* The resident size by the kernel's counters (statm), and their high-water mark (VmHWM): resident.h's
   readers, which read /proc without stdio, whose buffers would come from the allocator under test. */
static uint64_t resident_bytes(void) {
    long long bytes = resident_now();
    if (bytes < 0) {
        fprintf(stderr, "replay: cannot read the resident size from /proc/self/statm\n");
        exit(1);
    }
    return (uint64_t)bytes;
}

static uint64_t resident_peak(void) {
    long long bytes = resident_hwm();
    if (bytes < 0) {
        fprintf(stderr, "replay: no VmHWM in /proc/self/status\n");
        exit(1);
    }
    return (uint64_t)bytes;
}

/* ---- footprint: the allocator's own statistics ---- */

/* The allocator's bytes now by its statistics call `fn`, or -1 when the call fails. */
typedef int64_t (*stats_reader_t)(void *fn);

/* mimalloc's mi_heap_area_t: one page of a heap and its blocks. */
typedef struct {
    void *blocks;
    size_t reserved, committed, used, block_size, full_block_size;
} mi_area_t;

static _Bool add_committed(const void *heap, const mi_area_t *area, void *block, size_t block_size, void *sum) {
    (void)heap, (void)block, (void)block_size;
    *(int64_t *)sum += (int64_t)area->committed;
    return 1;
}

static int64_t mimalloc_pages(void *fn) {
    _Bool (*visit)(const void *, _Bool, _Bool (*)(const void *, const mi_area_t *, void *, size_t, void *), void *) = fn;
    static void *(*default_heap)(void);
    int64_t sum = 0;
    if (!default_heap && !(default_heap = (void *(*)(void))dlsym(RTLD_DEFAULT, "mi_heap_get_default"))) return -1;
    /* pages only, not their blocks: one call per page in use */
    if (!visit(default_heap(), 0, add_committed, &sum)) return -1;
    return sum;
}

static int64_t jemalloc_resident(void *fn) {
    int (*mallctl)(const char *, void *, size_t *, void *, size_t) = fn;
    uint64_t epoch = 1;
    size_t resident, bytes = sizeof epoch;
    /* jemalloc's statistics are a snapshot, refreshed by advancing the epoch */
    if (mallctl("epoch", &epoch, &bytes, &epoch, bytes)) return -1;
    bytes = sizeof resident;
    if (mallctl("stats.resident", &resident, &bytes, NULL, 0)) return -1;
    return (int64_t)resident;
}

static int64_t tcmalloc_mapped(void *fn) {
    int (*property)(const char *, size_t *) = fn;
    size_t heap, unmapped;
    if (!property("generic.heap_size", &heap) || !property("tcmalloc.pageheap_unmapped_bytes", &unmapped)) return -1;
    return (int64_t)(heap - unmapped);
}

static int64_t glibc_arena(void *fn) {
    struct mallinfo2 (*info)(void) = fn;
    struct mallinfo2 m = info();
    return (int64_t)(m.arena + m.hblkhd);
}

/* Looked up in the running process, so one binary serves every preload. glibc's mallinfo2 is always
   there (a preloaded allocator replaces malloc, not it), so it comes last. */
static const struct {
    const char *symbol;
    stats_reader_t read;
    const char *method;
} STATS_SOURCES[] = {
    {"mi_heap_visit_blocks", mimalloc_pages,
     "mimalloc's committed bytes of the pages its heap uses (mi_heap_visit_blocks over the areas; its "
     "process-wide commit counter moves in whole 32 MiB arenas)"},
    {"mallctl", jemalloc_resident,
     "jemalloc's stats.resident after an epoch refresh: the pages of data and metadata it holds resident"},
    {"MallocExtension_GetNumericProperty", tcmalloc_mapped,
     "tcmalloc's generic.heap_size minus tcmalloc.pageheap_unmapped_bytes: the page heap it holds mapped"},
    {"mallinfo2", glibc_arena,
     "glibc's mallinfo2 arena + hblkhd: the heap bytes from sbrk plus the mmap'd chunks"},
};
#define STATS_SOURCE_COUNT (sizeof STATS_SOURCES / sizeof STATS_SOURCES[0])
/* mallinfo2 walks the free lists, so the pass samples at most this many times, evenly spaced, plus its end. */
#define STATS_SAMPLES 1000

typedef struct {
    int source; /* index into STATS_SOURCES, -1 when none resolves */
    void *fn;
    int64_t base, growth; /* growth: the largest sample minus base; -1 once a call failed */
} stats_peak_t;

static stats_peak_t stats_begin(void) {
    stats_peak_t s = {-1, NULL, 0, 0};
    for (int k = 0; k < (int)STATS_SOURCE_COUNT && s.source < 0; k++) {
        if ((s.fn = dlsym(RTLD_DEFAULT, STATS_SOURCES[k].symbol))) s.source = k;
    }
    if (s.source >= 0) s.base = STATS_SOURCES[s.source].read(s.fn);
    if (s.base < 0) s.growth = -1;
    return s;
}

static void stats_sample(stats_peak_t *s) {
    if (s->source < 0 || s->growth < 0) return;
    int64_t now = STATS_SOURCES[s->source].read(s->fn);
    if (now < 0) s->growth = -1;
    else if (now - s->base > s->growth) s->growth = now - s->base;
}

/* ---- the passes ---- */

typedef struct {
    uint64_t op, live, resident;
} sample_t;

typedef struct {
    int64_t resident; /* peak growth, -1 when unavailable */
    const char *method; /* how `resident` was measured, or why it is unavailable */
    stats_peak_t by_stats;
} footprint_t;

#define PAGE_BY_PAGE                                                                                           \
    "peak resident growth, page by page: the anonymous pages resident (Anonymous in /proc/self/smaps_rollup, a " \
    "walk of the page tables) "
#define EXACT_METHOD PAGE_BY_PAGE "after every op that took a page fault, the largest less the same count before the pass"
#define EXACT_THREADED_METHOD                                                                                  \
    PAGE_BY_PAGE "read by each thread after every op of its own that took a page fault, the largest less the same " \
    "count before the pass"
#define HWM_METHOD                                                                                                \
    "peak resident growth: VmHWM (reset through /proc/self/clear_refs) minus the resident size before the pass, " \
    "or a larger timeline sample; the kernel's per-CPU counters, which lag the pages mapped by up to some 400 KiB"
#define NO_RESIDENT_METHOD "unavailable: /proc/self/clear_refs cannot reset the resident high-water mark here"

/* Every block written whole, resident growth (the peak, and with `every` a timeline) and the
   allocator's statistics sampled. The resident anonymous bytes are counted page by page where
   /proc/self/smaps_rollup can be read, after an op only when it faulted (without a fault no page came
   in, so the count cannot have risen): 22 to 1933 walks on the bundled traces. Elsewhere they are the
   kernel's high-water mark. */
static footprint_t footprint_pass(uint64_t every, sample_t *samples, uint64_t *n_samples, uint64_t baseline,
                                  stats_peak_t by_stats) {
    footprint_t f = {-1, NO_RESIDENT_METHOD, by_stats};
    uint64_t stats_every = n_ops / STATS_SAMPLES + 1;
    int can_reset = resident_reset_peak();
    long long exact_base = resident_exact();
    long long exact_peak = exact_base;
    if (exact_base >= 0) baseline = (uint64_t)exact_base;
    unsigned long long faults = resident_faults(RUSAGE_SELF);
    uint64_t live = 0;
    begin_pass();
    for (uint64_t i = 0; i < n_ops; i++) {
        const trace_record_t *r = &ops[i];
        uint32_t id = r->id;
        uint64_t before = blocks[id] ? sizes[id] : 0;
        replay_op(i, ALLOCATOR);
        if (r->op != OP_FREE) {
            /* the whole block written, so all its pages are resident */
            memset(blocks[id], tags[id], sizes[id] ? sizes[id] : 1);
            live += sizes[id];
        }
        live -= before;
        if (exact_base >= 0 && resident_faults(RUSAGE_SELF) != faults) {
            long long now = resident_exact();
            if (now > exact_peak) exact_peak = now;
            faults = resident_faults(RUSAGE_SELF); /* after the read, whose own faults (its stack) bring no heap page */
        }
        if (every && ((i + 1) % every == 0 || i + 1 == n_ops)) {
            uint64_t rss = exact_base >= 0 ? (uint64_t)resident_exact() : resident_bytes();
            samples[*n_samples] = (sample_t){i + 1, live, rss > baseline ? rss - baseline : 0};
            ++*n_samples;
        }
        if ((i + 1) % stats_every == 0 && i + 1 < n_ops) stats_sample(&f.by_stats);
    }
    stats_sample(&f.by_stats);
    if (exact_base >= 0) {
        f.resident = exact_peak - exact_base;
        f.method = EXACT_METHOD;
    } else if (can_reset) {
        /* A statm read taken at the same moment as VmHWM can exceed it: the peak is the larger. */
        uint64_t hwm = resident_peak();
        f.resident = hwm > baseline ? (int64_t)(hwm - baseline) : 0;
        for (uint64_t s = 0; s < *n_samples; s++) {
            if ((int64_t)samples[s].resident > f.resident) f.resident = (int64_t)samples[s].resident;
        }
        f.method = HWM_METHOD;
    }
    end_pass(ALLOCATOR);
    return f;
}

/* ---- the oracle's mirror ---- */

/* The OS page size: the mirror keeps blocks' offsets within it. */
static uint64_t page_bytes;

/* Recorded blocks less than this apart share one region of the mirror, at their true distances. The
   mirror is not populated, so a gap costs address space only: an allocator's heap, free pages
   between its blocks included, stays in one piece, while the space between separate mappings (glibc's
   mmap'd chunks, other arenas) is left out. */
#define MIRROR_GAP (UINT64_C(1) << 20)

typedef struct {
    uintptr_t lo, hi; /* recorded addresses */
    uint64_t at;      /* offset in the mirror */
} region_t;

static int by_start(const void *a, const void *b) {
    uintptr_t x = ((const region_t *)a)->lo, y = ((const region_t *)b)->lo;
    return x < y ? -1 : x > y;
}

/* Copies the recorded blocks' layout into memory of the replayer's own and points every recorded block
   there: the allocator may have unmapped recorded addresses since (glibc's mmap'd chunks). Each region
   keeps its offset modulo the page size (or the trace's largest alignment, if larger), so the oracle's
   blocks lie within pages as the allocator's did and keep their alignment. */
static void build_mirror(void) {
    uint64_t n = 0, m = 0, at = 0;
    for (uint64_t i = 0; i < n_ops; i++) n += recorded[i] != NULL;
    region_t *regions = own_array(n, sizeof *regions);
    for (uint64_t i = 0, k = 0; i < n_ops; i++) {
        uint64_t bytes = request_bytes(&ops[i]);
        if (recorded[i]) regions[k++] = (region_t){(uintptr_t)recorded[i], (uintptr_t)recorded[i] + (bytes ? bytes : 1), 0};
    }
    qsort(regions, n, sizeof *regions, by_start);
    for (uint64_t k = 0; k < n; k++) {
        if (m && regions[k].lo <= regions[m - 1].hi + MIRROR_GAP) {
            if (regions[k].hi > regions[m - 1].hi) regions[m - 1].hi = regions[k].hi;
        } else {
            regions[m++] = regions[k];
        }
    }
    uint64_t unit = max_align > page_bytes ? max_align : page_bytes;
    for (uint64_t k = 0; k < m; k++) {
        at += (regions[k].lo - at) & (unit - 1);
        regions[k].at = at;
        at += regions[k].hi - regions[k].lo;
    }
    unsigned char *map = mmap(NULL, at + unit, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED) {
        fprintf(stderr, "replay: cannot map the oracle's mirror of %" PRIu64 " bytes: %s\n", at + unit, strerror(errno));
        exit(1);
    }
    unsigned char *base = map + ((unit - (uintptr_t)map % unit) % unit);
    for (uint64_t i = 0; i < n_ops; i++) {
        if (!recorded[i]) continue;
        uintptr_t p = (uintptr_t)recorded[i];
        uint64_t lo = 0, hi = m; /* the last region starting at or below p */
        while (hi - lo > 1) {
            uint64_t mid = lo + (hi - lo) / 2;
            if (regions[mid].lo <= p) lo = mid;
            else hi = mid;
        }
        recorded[i] = base + regions[lo].at + (p - regions[lo].lo);
    }
    munmap(regions, (n ? n : 1) * sizeof *regions);
}

/* One timed pass, compiled once for each target through the two functions below; its seconds. */
static inline __attribute__((always_inline)) double timed_pass(const int on) {
    begin_pass();
    double start = now_seconds();
    for (uint64_t i = 0; i < n_ops; i++) replay_op(i, on);
    double seconds = now_seconds() - start;
    end_pass(on);
    return seconds;
}

static __attribute__((noinline)) double allocator_pass(void) {
    return timed_pass(ALLOCATOR);
}

static __attribute__((noinline)) double oracle_pass(void) {
    return timed_pass(ORACLE);
}

/* Threaded replay (below): every recorded thread on a pthread of its own, one pass at a time. */
static int threaded;
enum { PASS_FOOTPRINT, PASS_ALLOCATOR, PASS_FINISH };
/* Why a threaded replay has no oracle pass. */
#define NO_THREADED_ORACLE                                                                                          \
    "unavailable: the oracle hands out one pass's addresses, and on threads which block reused which "              \
    "address depended on that pass's interleaving: another interleaving would hand one address to two live blocks"

static double threaded_pass(int kind, stats_peak_t *stats, int timed);

/* An oracle pass, after an allocator pass: the same work, so the same fingerprint, else the run fails. */
static double checked_oracle_pass(void) {
    fingerprint_t a = fp;
    double seconds = oracle_pass();
    if (fp.mallocs != a.mallocs || fp.frees != a.frees || fp.bytes != a.bytes || fp.hash != a.hash) {
        fprintf(stderr,
                "replay: the oracle's fingerprint (mallocs %" PRIu64 ", frees %" PRIu64 ", bytes %" PRIu64 ", hash %" PRIu32
                ") differs from the allocator's (mallocs %" PRIu64 ", frees %" PRIu64 ", bytes %" PRIu64 ", hash %" PRIu32 ")\n",
                fp.mallocs, fp.frees, fp.bytes, fp.hash, a.mallocs, a.frees, a.bytes, a.hash);
        exit(1);
    }
    return seconds;
}

/* Timed passes' seconds: their sum, and the fastest (the steadier reading where the machine's speed
   changes between passes; 0 before the first pass). */
typedef struct {
    double sum, best;
} pass_times_t;

static void add_pass(pass_times_t *t, double seconds) {
    t->sum += seconds;
    if (t->best == 0 || seconds < t->best) t->best = seconds;
}

/* An untimed pass of the allocator that records each allocation's block for the oracle. */
static void recording_pass(void) {
    begin_pass();
    for (uint64_t i = 0; i < n_ops; i++) {
        replay_op(i, ALLOCATOR);
        if (ops[i].op != OP_FREE) recorded[i] = blocks[ops[i].id];
    }
    end_pass(ALLOCATOR);
}

/* `warmup` (at least 1) untimed passes of the allocator, the last recording its blocks, `warmup` of the
   oracle on a mirror of them, then `loops` timed passes of each, alternating, so both see the same
   machine noise. The oracle's blocks are the ones the timed passes find: an allocator's placement
   drifts from pass to pass, and the loop's own cache misses follow it. */
static void timed_passes(uint64_t warmup, uint64_t loops, pass_times_t *allocator, pass_times_t *oracle) {
    for (uint64_t w = 0; w + 1 < warmup; w++) allocator_pass();
    recording_pass();
    build_mirror();
    for (uint64_t w = 0; w < warmup; w++) checked_oracle_pass();
    for (uint64_t l = 0; l < loops; l++) {
        add_pass(allocator, allocator_pass());
        add_pass(oracle, checked_oracle_pass());
    }
}

/* Threaded: `warmup` untimed passes, then `loops` timed passes, of the allocator only (NO_THREADED_ORACLE). */
static pass_times_t threaded_timed_passes(uint64_t warmup, uint64_t loops) {
    pass_times_t times = {0, 0};
    for (uint64_t w = 0; w < warmup; w++) threaded_pass(PASS_ALLOCATOR, NULL, 0);
    for (uint64_t l = 0; l < loops; l++) add_pass(&times, threaded_pass(PASS_ALLOCATOR, NULL, 1));
    return times;
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
            replay_op(i, ALLOCATOR);
            uint64_t ns = now_ns() - t0;
            counts[ops[i].op][hdr_index(ns)]++;
            if (ns > max_ns[ops[i].op]) max_ns[ops[i].op] = ns;
        }
        end_pass(ALLOCATOR);
    }
}

/* ---- threaded replay (WORKLOADS.md "Threaded replay") ---- */

/* As lib/bench/workloads/replay-threads.ts: at most this many recorded threads replay on threads. */
#define MAX_REPLAY_THREADS 64
/* In a slot's sequence word: a waiter sleeps on the futex, so the publisher must wake them. A slot can
   have several: the threads of its next ops, each waiting for its own number. */
#define SEQ_WAITING (UINT32_C(1) << 30)
/* Loads of a slot's sequence before its waiter sleeps: short, as the machine may have fewer cores than threads. */
#define SPINS 64

typedef struct {
    uint32_t *ops; /* its op indices, in recorded order */
    uint64_t n;
    uint32_t *leftover; /* the slots its ops leave live at the trace's end: it frees them after each pass */
    uint64_t n_leftover;
    uint64_t cross_frees, cross_reallocs; /* frees and reallocs of a block another thread made */
    uint32_t *hashes;
    fingerprint_t fp;   /* of its last pass */
    double start, end;  /* its last pass's op loop */
    double seconds;     /* its op loops over the timed allocator passes */
    uint64_t waits;     /* ops of its last pass that found their slot's previous op not yet done */
    pthread_t pthread;
} replay_thread_t;

static replay_thread_t *threads;
/* Per slot: how many of its ops are done, as far as another thread waits for them. */
static _Atomic uint32_t *seq;
static uint64_t n_slots;
/* Per op: the sequence its slot must reach first, the sequence it publishes when done; -1: none. */
static int32_t *wait_for, *publish_seq;
/* ops_end: every thread's ops done, before any frees its leftovers (which the trace never frees). */
static pthread_barrier_t pass_start, ops_end, pass_end;
static int pass_kind;
static _Atomic uint32_t threads_done;
static __thread uint64_t waits;

static void wait_slot(uint32_t slot, uint32_t want) {
    _Atomic uint32_t *s = &seq[slot];
    uint32_t v = atomic_load_explicit(s, memory_order_acquire);
    if ((v & ~SEQ_WAITING) >= want) return;
    waits++;
    for (int spin = 0; spin < SPINS; spin++) {
        if ((atomic_load_explicit(s, memory_order_acquire) & ~SEQ_WAITING) >= want) return;
    }
    for (;;) {
        v = atomic_load_explicit(s, memory_order_acquire);
        if ((v & ~SEQ_WAITING) >= want) return;
        /* The publisher's exchange clears the flag and wakes every waiter, each of which checks again and
           sets it again if it still waits; a value changed since the load fails the exchange here. */
        if (atomic_compare_exchange_strong_explicit(s, &v, v | SEQ_WAITING, memory_order_acquire, memory_order_acquire)) {
            syscall(SYS_futex, (uint32_t *)s, FUTEX_WAIT_PRIVATE, v | SEQ_WAITING, NULL, NULL, 0);
        }
    }
}

static void publish_slot(uint32_t slot, uint32_t value) {
    if (atomic_exchange_explicit(&seq[slot], value, memory_order_acq_rel) & SEQ_WAITING) {
        syscall(SYS_futex, (uint32_t *)&seq[slot], FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
    }
}

/* Splits the trace by thread, as planThreadedReplay does: every block renamed to its lifetime's slot
   (ops[i].id), the cross-thread dependencies as waits and publishes. The trace is checked on the way. */
static void plan_threads(void) {
    if (n_threads > MAX_REPLAY_THREADS) {
        fprintf(stderr, "replay: the trace has %" PRIu32 " threads: threaded replay runs at most %d (use --serial)\n",
                n_threads, MAX_REPLAY_THREADS);
        exit(2);
    }
    threads = own_array(n_threads, sizeof *threads);
    recorded_ids = own_array(n_ops, sizeof *recorded_ids);
    wait_for = own_array(n_ops, sizeof *wait_for);
    publish_seq = own_array(n_ops, sizeof *publish_seq);
    for (uint64_t i = 0; i < n_ops; i++) {
        threads[ops[i].thread].n++;
        if (ops[i].op != OP_FREE && ops[i].op != OP_REALLOC) n_slots++;
        wait_for[i] = publish_seq[i] = -1;
        recorded_ids[i] = ops[i].id;
    }
    for (uint32_t t = 0; t < n_threads; t++) {
        threads[t].ops = own_array(threads[t].n, sizeof *threads[t].ops);
        threads[t].hashes = own_array(n_threads, sizeof *threads[t].hashes);
        threads[t].n = 0;
    }
    int64_t *slot_of_id = own_array((uint64_t)max_id + 1, sizeof *slot_of_id);
    uint32_t *next_seq = own_array(n_slots, sizeof *next_seq), *last_thread = own_array(n_slots, sizeof *last_thread);
    uint64_t *last_op = own_array(n_slots, sizeof *last_op);
    for (uint64_t id = 0; id <= max_id; id++) slot_of_id[id] = -1;
    trace_record_t *records = (trace_record_t *)ops;
    uint32_t slot = 0;
    for (uint64_t i = 0; i < n_ops; i++) {
        trace_record_t *r = &records[i];
        uint32_t t = r->thread;
        int64_t s;
        if (r->op == OP_FREE || r->op == OP_REALLOC) {
            s = slot_of_id[r->id];
            if (s < 0) fail(i, r->id, r->op == OP_FREE ? "f of an ID that holds no block" : "r of an ID that holds no block");
            if (last_thread[s] != t) {
                publish_seq[last_op[s]] = (int32_t)next_seq[s];
                wait_for[i] = (int32_t)next_seq[s];
                if (r->op == OP_FREE) threads[t].cross_frees++;
                else threads[t].cross_reallocs++;
            }
            if (r->op == OP_FREE) slot_of_id[r->id] = -1;
        } else {
            if (slot_of_id[r->id] >= 0) fail(i, r->id, "allocation of an ID that already holds a block");
            s = slot++;
            slot_of_id[r->id] = s;
        }
        next_seq[s]++;
        last_thread[s] = t;
        last_op[s] = i;
        threads[t].ops[threads[t].n++] = (uint32_t)i;
        r->id = (uint32_t)s;
    }
    for (uint64_t id = 0; id <= max_id; id++) {
        if (slot_of_id[id] >= 0) threads[last_thread[slot_of_id[id]]].n_leftover++;
    }
    for (uint32_t t = 0; t < n_threads; t++) {
        threads[t].leftover = own_array(threads[t].n_leftover, sizeof *threads[t].leftover);
        threads[t].n_leftover = 0;
    }
    for (uint64_t id = 0; id <= max_id; id++) {
        int64_t s = slot_of_id[id];
        if (s >= 0) {
            replay_thread_t *owner = &threads[last_thread[s]];
            owner->leftover[owner->n_leftover++] = (uint32_t)s;
        }
    }
    munmap(slot_of_id, ((uint64_t)max_id + 1) * sizeof *slot_of_id);
    munmap(next_seq, (n_slots ? n_slots : 1) * sizeof *next_seq);
    munmap(last_thread, (n_slots ? n_slots : 1) * sizeof *last_thread);
    munmap(last_op, (n_slots ? n_slots : 1) * sizeof *last_op);
    seq = own_array(n_slots, sizeof *seq);
    max_id = n_slots ? (uint32_t)(n_slots - 1) : 0; /* the per-ID tables are per slot from here on */
}

/* The threaded footprint pass's largest page-by-page resident count, or -1 where it cannot be read. */
static _Atomic long long threaded_exact_peak = -1;

/* After an op that faulted on this thread, the resident count, kept when it is the largest so far. */
static void thread_exact_sample(unsigned long long *faults) {
    if (resident_faults(RUSAGE_THREAD) == *faults) return;
    long long now = resident_exact();
    long long peak = atomic_load(&threaded_exact_peak);
    while (now > peak && !atomic_compare_exchange_weak(&threaded_exact_peak, &peak, now)) continue;
    *faults = resident_faults(RUSAGE_THREAD);
}

/* One thread's ops of one pass, compiled once per kind of pass through the two functions below. */
static inline __attribute__((always_inline)) void thread_ops(const replay_thread_t *me, const int footprint) {
    const int on = ALLOCATOR;
    const int exact = footprint && atomic_load(&threaded_exact_peak) >= 0;
    unsigned long long faults = exact ? resident_faults(RUSAGE_THREAD) : 0;
    for (uint64_t k = 0; k < me->n; k++) {
        uint64_t i = me->ops[k];
        uint32_t slot = ops[i].id;
        if (wait_for[i] >= 0) wait_slot(slot, (uint32_t)wait_for[i]);
        replay_op(i, on);
        if (footprint && ops[i].op != OP_FREE) memset(blocks[slot], tags[slot], sizes[slot] ? sizes[slot] : 1);
        if (exact) thread_exact_sample(&faults);
        if (publish_seq[i] >= 0) publish_slot(slot, (uint32_t)publish_seq[i]);
    }
}

static __attribute__((noinline)) void thread_footprint_ops(const replay_thread_t *me) {
    thread_ops(me, 1);
}

static __attribute__((noinline)) void thread_allocator_ops(const replay_thread_t *me) {
    thread_ops(me, 0);
}

static void *replay_thread(void *arg) {
    replay_thread_t *me = arg;
    hashes = me->hashes;
    for (;;) {
        pthread_barrier_wait(&pass_start);
        int kind = pass_kind;
        if (kind == PASS_FINISH) return NULL;
        begin_pass();
        waits = 0;
        me->start = now_seconds();
        if (kind == PASS_FOOTPRINT) thread_footprint_ops(me);
        else thread_allocator_ops(me);
        me->end = now_seconds();
        seal_fingerprint();
        me->fp = fp;
        me->waits = waits;
        /* Freed as soon as its own ops ended, a thread's leftovers went while another thread still
           made blocks: the peak fell below the trace's live peak (xz -T2: 98 MB resident for 144 MB live). */
        pthread_barrier_wait(&ops_end);
        for (uint64_t k = 0; k < me->n_leftover; k++) free_leftover(me->leftover[k], ALLOCATOR);
        atomic_fetch_add(&threads_done, 1);
        pthread_barrier_wait(&pass_end);
    }
}

static void start_threads(void) {
    if (pthread_barrier_init(&pass_start, NULL, n_threads + 1) || pthread_barrier_init(&ops_end, NULL, n_threads) ||
        pthread_barrier_init(&pass_end, NULL, n_threads + 1)) {
        fprintf(stderr, "replay: cannot make the pass barriers\n");
        exit(1);
    }
    for (uint32_t t = 0; t < n_threads; t++) {
        int e = pthread_create(&threads[t].pthread, NULL, replay_thread, &threads[t]);
        if (e) {
            fprintf(stderr, "replay: cannot start thread %" PRIu32 " of %" PRIu32 ": %s\n", t, n_threads, strerror(e));
            exit(1);
        }
    }
}

/* One pass on every thread, released together; its seconds run from the first thread's start to the
   last one's end, and `fp` becomes the threads' fingerprints summed. With `stats`, this thread samples
   the allocator's statistics every millisecond until every thread is done. `timed`: each thread's own
   loop time counts into its seconds. */
static double threaded_pass(int kind, stats_peak_t *stats, int timed) {
    memset(seq, 0, (n_slots ? n_slots : 1) * sizeof *seq);
    pass_kind = kind;
    atomic_store(&threads_done, 0);
    pthread_barrier_wait(&pass_start);
    if (kind == PASS_FINISH) return 0;
    while (stats && atomic_load(&threads_done) < n_threads) {
        stats_sample(stats);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    pthread_barrier_wait(&pass_end);
    double first = threads[0].start, last = threads[0].end;
    fp = (fingerprint_t){0, 0, 0, 0};
    for (uint32_t t = 0; t < n_threads; t++) {
        replay_thread_t *r = &threads[t];
        if (r->start < first) first = r->start;
        if (r->end > last) last = r->end;
        if (timed) r->seconds += r->end - r->start;
        fp.mallocs += r->fp.mallocs;
        fp.frees += r->fp.frees;
        fp.bytes += r->fp.bytes;
        fp.hash += r->fp.hash;
    }
    return last - first;
}

static void stop_threads(void) {
    threaded_pass(PASS_FINISH, NULL, 0);
    for (uint32_t t = 0; t < n_threads; t++) pthread_join(threads[t].pthread, NULL);
}

/* The footprint pass on threads: resident growth as the serial pass takes it, each thread reading the
   page-by-page count after an op it faulted in (a read sees every thread's pages at that moment; a page
   another thread gives back between that op and the read is missed), else VmHWM, the process's; the
   statistics sampled every millisecond by this thread while the others replay, and at the end. */
static footprint_t threaded_footprint_pass(uint64_t baseline, stats_peak_t by_stats) {
    footprint_t f = {-1, NO_RESIDENT_METHOD, by_stats};
    int can_reset = resident_reset_peak();
    long long exact_base = resident_exact();
    atomic_store(&threaded_exact_peak, exact_base);
    threaded_pass(PASS_FOOTPRINT, &f.by_stats, 0);
    stats_sample(&f.by_stats);
    if (exact_base >= 0) {
        f.resident = atomic_load(&threaded_exact_peak) - exact_base;
        f.method = EXACT_THREADED_METHOD;
    } else if (can_reset) {
        uint64_t hwm = resident_peak();
        f.resident = hwm > baseline ? (int64_t)(hwm - baseline) : 0;
        f.method = HWM_METHOD;
    }
    return f;
}

/* "replayThreads": each recorded thread's share. */
static void print_threads(void) {
    printf(",\"replayThreads\":[");
    for (uint32_t t = 0; t < n_threads; t++) {
        const replay_thread_t *r = &threads[t];
        printf("%s{\"thread\":%u,\"ops\":%" PRIu64 ",\"seconds\":%.9f,\"crossThreadFrees\":%" PRIu64
               ",\"crossThreadReallocs\":%" PRIu64 ",\"waits\":%" PRIu64 "}",
               t ? "," : "", (unsigned)thread_tags[t], r->n, r->seconds, r->cross_frees, r->cross_reallocs, r->waits);
    }
    printf("]");
}

/* ---- input ---- */

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
    trace_record_t *records = own_array(n_ops, sizeof *records);
    fseek(f, start, SEEK_SET);
    if (fread(records, sizeof *records, n_ops, f) != n_ops) {
        fprintf(stderr, "replay: cannot read %s\n", file);
        exit(2);
    }
    fclose(f);
    ops = records;
    int32_t *index_of_tag = own_array(UINT32_C(1) << 16, sizeof *index_of_tag);
    thread_tags = own_array(UINT32_C(1) << 16, sizeof *thread_tags);
    memset(index_of_tag, 0xff, (UINT32_C(1) << 16) * sizeof *index_of_tag);
    for (uint64_t i = 0; i < n_ops; i++) {
        if (records[i].op >= OP_KINDS) fail(i, records[i].id, "unknown op kind");
        if (records[i].id > max_id) max_id = records[i].id;
        if (records[i].op == OP_ALIGNED && records[i].aux > max_align) max_align = records[i].aux;
        uint16_t tag = records[i].thread;
        if (index_of_tag[tag] < 0) {
            thread_tags[n_threads] = tag;
            index_of_tag[tag] = (int32_t)n_threads++;
        }
        records[i].thread = (uint16_t)index_of_tag[tag];
    }
    if (!n_threads) n_threads = 1;
    munmap(index_of_tag, (UINT32_C(1) << 16) * sizeof *index_of_tag);
}

/* "footprintByStats": the peak growth by the allocator's statistics, or null and why. */
static void print_stats_footprint(const stats_peak_t *s) {
    if (s->source < 0) {
        printf(",\"footprintByStats\":{\"bytes\":null,\"method\":\"unavailable: none of mi_heap_visit_blocks, mallctl, "
               "MallocExtension_GetNumericProperty, mallinfo2 is in this process\"}");
    } else if (threaded && STATS_SOURCES[s->source].read == mimalloc_pages) {
        printf(",\"footprintByStats\":{\"bytes\":null,\"method\":\"unavailable on threads: mimalloc's heap visit "
               "sees the calling thread's heap only\"}");
    } else if (s->growth < 0) {
        printf(",\"footprintByStats\":{\"bytes\":null,\"method\":\"unavailable: %s failed (%s)\"}",
               STATS_SOURCES[s->source].symbol, STATS_SOURCES[s->source].method);
    } else if (threaded) {
        printf(",\"footprintByStats\":{\"bytes\":%" PRId64 ",\"method\":\"peak growth of %s, before the pass "
               "subtracted, sampled by the main thread every millisecond while the replay threads ran and at the "
               "pass end (a peak between two samples is missed)\"}",
               s->growth, STATS_SOURCES[s->source].method);
    } else {
        printf(",\"footprintByStats\":{\"bytes\":%" PRId64 ",\"method\":\"peak growth of %s, before the pass "
               "subtracted, sampled at most %d times, evenly spaced, in the footprint pass and at its end\"}",
               s->growth, STATS_SOURCES[s->source].method, STATS_SAMPLES);
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
    uint64_t every = 0, warmup = 1;
    int latency = 0, serial = 0;
    for (int k = 3; k < argc; k++) {
        if (!strcmp(argv[k], "--warmup") && k + 1 < argc) {
            warmup = parse_arg(argv[++k], "N", 1, MAX_LOOPS);
        } else if (!strcmp(argv[k], "--latency")) {
            latency = 1;
        } else if (!strcmp(argv[k], "--serial")) {
            serial = 1;
        } else if (!strcmp(argv[k], "--timeline") && k + 1 < argc) {
            every = parse_arg(argv[++k], "K", 1, UINT64_MAX);
        } else {
            usage_error("unknown option");
        }
    }
    page_bytes = (uint64_t)sysconf(_SC_PAGESIZE);
    read_trace(argv[1]);
    threaded = !serial && n_threads > 1;
    if (threaded && (every || latency)) {
        usage_error("--timeline and --latency replay serialized: add --serial for a multi-threaded trace");
    }
    if (threaded) plan_threads();
    hashes = own_array(n_threads, sizeof *hashes);

    /* Every array the replayer itself uses, mapped and resident before the baseline. */
    blocks = own_array((uint64_t)max_id + 1, sizeof *blocks);
    sizes = own_array((uint64_t)max_id + 1, sizeof *sizes);
    tags = own_array((uint64_t)max_id + 1, sizeof *tags);
    recorded = own_array(n_ops, sizeof *recorded);
    uint64_t max_samples = every ? n_ops / every + 1 : 0;
    sample_t *samples = own_array(max_samples, sizeof *samples);
    uint64_t(*counts)[HDR_COUNTS] = latency ? own_array(OP_KINDS, sizeof *counts) : NULL;
    uint64_t max_ns[OP_KINDS] = {0};
    uint64_t n_samples = 0;
    if (threaded) start_threads(); /* before the baseline: their stacks are the replayer's */

    /* Every reader run once first, so its code (libc's scanf, the statistics calls) is resident before
       the baseline: faulted in only after the baseline's read, it counted as 60-130 KiB of growth. */
    stats_peak_t by_stats = stats_begin();
    resident_bytes();
    resident_peak();
    resident_exact();
    resident_faults(RUSAGE_SELF);
    uint64_t baseline = resident_bytes();
    footprint_t footprint = threaded ? threaded_footprint_pass(baseline, by_stats)
                                     : footprint_pass(every, samples, &n_samples, baseline, by_stats);
    pass_times_t allocator = {0, 0}, oracle = {0, 0};
    if (threaded) {
        allocator = threaded_timed_passes(loops ? warmup : 0, loops);
        stop_threads();
    } else if (loops) {
        timed_passes(warmup, loops, &allocator, &oracle);
    }
    uint64_t timer_ns = 0;
    if (latency) {
        timer_ns = timer_cost_ns();
        latency_passes(loops, counts, max_ns);
    }

    printf("{\"bench\":\"replay\",\"ops\":%" PRIu64 ",\"seconds\":%.9f,"
           "\"fingerprint\":{\"mallocs\":%" PRIu64 ",\"frees\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"hash\":%" PRIu32 "},"
           "\"threads\":%" PRIu32 ",",
           n_ops * loops, allocator.sum, fp.mallocs, fp.frees, fp.bytes, fp.hash, threaded ? n_threads : 1);
    if (loops) printf("\"bestPassSeconds\":%.9f,\"warmupPasses\":%" PRIu64 ",", allocator.best, warmup);
    if (threaded) {
        printf("\"oracleMethod\":\"%s\",", NO_THREADED_ORACLE);
    } else {
        if (loops) printf("\"harnessBestPassSeconds\":%.9f,", oracle.best);
        printf("\"harnessSeconds\":%.9f,\"oracleMethod\":\"%s\",", oracle.sum,
               "the same op loop and checks with no allocator call: each allocation hands out the block the "
               "allocator returned for that op in its last warm-up pass (the blocks the timed passes find), at its "
               "place in a mirror of those blocks' layout (blocks less than 1 MiB apart kept at their distances, "
               "page offsets and alignments kept), calloc zeroes its first and last bytes, realloc carries over its "
               "first byte when the block moved (only what the checks read: zeroing and copying count to the "
               "allocator), free does nothing");
    }
    if (footprint.resident >= 0) printf("\"peakFootprintBytes\":%" PRId64, footprint.resident);
    else printf("\"peakFootprintBytes\":null");
    printf(",\"footprintMethod\":\"%s\"", footprint.method);
    print_stats_footprint(&footprint.by_stats);
    if (threaded) print_threads();
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
