/*
 * The allocation trace recorder: an LD_PRELOAD shim that records every
 * malloc-family call of a process as binary trace records (trace-format.h),
 * each block named by a small ID instead of its address.
 *
 * HAKMEM_TRACE_DIR names a folder; each process image that records writes
 * DIR/PID.SEQ.hktrace, SEQ counting the images of one process from 0 (the
 * first free name is taken), with an `image:` and an `argv:` comment saying
 * what ran. The driver (lib/trace/record.ts) joins a process's images into one
 * trace. Which processes record:
 *  - by default, the first process and the images it execs into: the
 *    constructor removes HAKMEM_TRACE_DIR and LD_PRELOAD from the environment
 *    (the program sees a clean one, and what it starts runs without the shim);
 *    its own exec puts them back (trace-recorder-exec.c), and a forked child
 *    stops recording (pthread_atfork);
 *  - with HAKMEM_TRACE_CHILDREN=1, every process: the variables stay in the
 *    environment, exec and spawn put them back where a caller removed them, and
 *    a forked child starts a segment of its own, empty (frees of blocks it
 *    inherited are not recorded, as for blocks from before recording began).
 * Records are buffered and written with write(2) when the buffer fills, at
 * exit (a destructor), in _exit/_Exit and before exec; a process killed by a
 * signal loses its last buffer.
 *
 * Built by lib/trace/record.ts (buildC) as a shared object with trace-recorder-exec.c.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace-format.h"
#include "trace-recorder.h"

#define TLS __thread __attribute__((tls_model("initial-exec")))

/* ---- the real allocator, found with dlsym(RTLD_NEXT) ---------------------- */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void *(*real_reallocarray)(void *, size_t, size_t);
static void (*real_free)(void *);
static int (*real_posix_memalign)(void **, size_t, size_t);
static void *(*real_aligned_alloc)(size_t, size_t);
static void *(*real_memalign)(size_t, size_t);
static void *(*real_valloc)(size_t);
static void *(*real_pvalloc)(size_t);
static void (*real_exit)(int) __attribute__((noreturn));
static void (*real_Exit)(int) __attribute__((noreturn));

/*
 * dlsym itself may allocate (its error buffer); while resolving, those calls
 * are served from this buffer, never recorded and never handed to libc's free.
 */
static _Alignas(16) char bootstrap[64 * 1024];
static size_t bootstrap_used;
static int resolving;

static int in_bootstrap(const void *p) {
    return (const char *)p >= bootstrap && (const char *)p < bootstrap + sizeof bootstrap;
}

/* At most how many bytes a bootstrap block starting at p can hold. */
static size_t bootstrap_bytes_from(const void *p) {
    return (size_t)(bootstrap + bootstrap_used - (const char *)p);
}

static void *bootstrap_alloc(size_t size) {
    size_t need = (size + 15) & ~(size_t)15;
    if (bootstrap_used + need > sizeof bootstrap) return NULL;
    void *p = bootstrap + bootstrap_used;
    bootstrap_used += need;
    return p; /* zeroed: the buffer is static and never reused */
}

static void resolve(void) {
    if (real_malloc || resolving) return;
    resolving = 1;
    real_calloc = dlsym(RTLD_NEXT, "calloc");
    real_realloc = dlsym(RTLD_NEXT, "realloc");
    real_reallocarray = dlsym(RTLD_NEXT, "reallocarray");
    real_free = dlsym(RTLD_NEXT, "free");
    real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
    real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
    real_memalign = dlsym(RTLD_NEXT, "memalign");
    real_valloc = dlsym(RTLD_NEXT, "valloc");
    real_pvalloc = dlsym(RTLD_NEXT, "pvalloc");
    real_exit = dlsym(RTLD_NEXT, "_exit");
    real_Exit = dlsym(RTLD_NEXT, "_Exit");
    real_malloc = dlsym(RTLD_NEXT, "malloc"); /* last: it marks the others as resolved */
    resolving = 0;
}

/* ---- recording state ------------------------------------------------------ */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int recording;   /* this process records (set by the constructor) */
static int out_fd = -1;
static pid_t recording_pid;      /* the process that opened out_fd (a vfork child is another) */
static char trace_dir[PATH_MAX];
static char shim_path[PATH_MAX];
static recorder_env_t carried = {trace_dir, shim_path, 0};
static int finished;             /* the destructor ran: write every record at once */

/* Set while a thread is inside the shim, so allocations made beneath it are not recorded. */
static TLS int inside;
static TLS int thread_tag = -1;
static int next_thread_tag;

#define BUFFER_RECORDS 65536
static trace_record_t *buffer;   /* mmap'd */
static size_t buffered;

/* pointer -> ID: open addressing, linear probing, deletion by backward shift; mmap'd. */
typedef struct {
    uintptr_t key; /* 0 = empty */
    uint32_t id;
} slot_t;
static slot_t *table;
static size_t table_mask;        /* capacity - 1, capacity a power of two */
static size_t table_count;

/* Freed IDs, reused last-in first-out so IDs stay small. */
static uint32_t *free_ids;
static size_t free_ids_count, free_ids_capacity;
static uint32_t next_id;

static void *map_pages(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* 0 when the file cannot take it: recording stops, what was written is kept (disk full or closed). */
static int write_all(const void *data, size_t bytes) {
    const char *p = data;
    while (bytes > 0) {
        ssize_t n = write(out_fd, p, bytes);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            recording = 0;
            return 0;
        }
        p += n;
        bytes -= (size_t)n;
    }
    return 1;
}

static void flush_locked(void) {
    if (buffered > 0 && out_fd >= 0) write_all(buffer, buffered * sizeof(trace_record_t));
    buffered = 0;
}

static size_t slot_of(uintptr_t key) {
    uint64_t h = (uint64_t)key * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & table_mask;
}

static void table_insert(uintptr_t key, uint32_t id);

static int table_grow(void) {
    slot_t *old = table;
    size_t old_capacity = table_mask + 1;
    slot_t *grown = map_pages(2 * old_capacity * sizeof(slot_t));
    if (!grown) return 0;
    table = grown;
    table_mask = 2 * old_capacity - 1;
    table_count = 0;
    for (size_t i = 0; i < old_capacity; i++)
        if (old[i].key) table_insert(old[i].key, old[i].id);
    munmap(old, old_capacity * sizeof(slot_t));
    return 1;
}

static void table_insert(uintptr_t key, uint32_t id) {
    size_t i = slot_of(key);
    while (table[i].key) i = (i + 1) & table_mask;
    table[i].key = key;
    table[i].id = id;
    table_count++;
}

/* Removes key; returns its ID, or -1 when it is not there. */
static int64_t table_remove(uintptr_t key) {
    size_t i = slot_of(key);
    while (table[i].key != key) {
        if (!table[i].key) return -1;
        i = (i + 1) & table_mask;
    }
    uint32_t id = table[i].id;
    /* Backward shift: move later entries of the run into the hole when their home allows it. */
    size_t hole = i;
    for (size_t j = (i + 1) & table_mask; table[j].key; j = (j + 1) & table_mask) {
        size_t home = slot_of(table[j].key);
        if (((j - home) & table_mask) >= ((j - hole) & table_mask)) {
            table[hole] = table[j];
            hole = j;
        }
    }
    table[hole].key = 0;
    table_count--;
    return id;
}

static uint32_t take_id(void) {
    return free_ids_count > 0 ? free_ids[--free_ids_count] : next_id++;
}

static void give_back_id(uint32_t id) {
    if (free_ids_count == free_ids_capacity) {
        uint32_t *grown = map_pages(2 * free_ids_capacity * sizeof(uint32_t));
        if (!grown) return; /* the ID is simply not reused */
        memcpy(grown, free_ids, free_ids_count * sizeof(uint32_t));
        munmap(free_ids, free_ids_capacity * sizeof(uint32_t));
        free_ids = grown;
        free_ids_capacity *= 2;
    }
    free_ids[free_ids_count++] = id;
}

static void append_locked(uint8_t op, uint32_t id, uint64_t size, uint64_t aux) {
    /* Tags are u16: a program's 65,536th thread and later ones share the last tag. */
    if (thread_tag < 0) thread_tag = next_thread_tag < 0xffff ? next_thread_tag++ : 0xffff;
    trace_record_t *r = &buffer[buffered++];
    r->op = op;
    r->reserved = 0;
    r->thread = (uint16_t)thread_tag;
    r->id = id;
    r->size = size;
    r->aux = aux;
    if (buffered == BUFFER_RECORDS || finished) flush_locked();
}

/* A new block p: give it an ID and record the op. */
static void record_new(void *p, uint8_t op, uint64_t size, uint64_t aux) {
    pthread_mutex_lock(&lock);
    if (recording && ((table_count + 1) * 2 <= table_mask + 1 || table_grow())) {
        uint32_t id = take_id();
        table_insert((uintptr_t)p, id);
        append_locked(op, id, size, aux);
    }
    pthread_mutex_unlock(&lock);
}

/* Block p leaves the map before libc may hand its address out again; returns its ID or -1. */
static int64_t forget(void *p) {
    pthread_mutex_lock(&lock);
    int64_t id = recording ? table_remove((uintptr_t)p) : -1;
    pthread_mutex_unlock(&lock);
    return id;
}

static void record_free(uint32_t id) {
    pthread_mutex_lock(&lock);
    if (recording) append_locked(OP_FREE, id, 0, 0);
    give_back_id(id);
    pthread_mutex_unlock(&lock);
}

static void record_resized(void *q, uint32_t id, uint64_t size) {
    pthread_mutex_lock(&lock);
    if (recording && ((table_count + 1) * 2 <= table_mask + 1 || table_grow())) {
        table_insert((uintptr_t)q, id);
        append_locked(OP_REALLOC, id, size, 0);
    }
    pthread_mutex_unlock(&lock);
}

static void restore(void *p, uint32_t id) {
    pthread_mutex_lock(&lock);
    if (recording) table_insert((uintptr_t)p, id);
    pthread_mutex_unlock(&lock);
}

/* ---- start and end -------------------------------------------------------- */

#define INITIAL_TABLE_SLOTS (1u << 16)

/* DIR/PID.SEQ.hktrace with the first SEQ not taken, opened; -1 when none can be. */
static int open_segment(void) {
    char name[PATH_MAX];
    for (int seq = 0; seq < 1 << 20; seq++) {
        if (snprintf(name, sizeof name, "%s/%ld.%d.hktrace", trace_dir, (long)recording_pid, seq) >= (int)sizeof name)
            return -1;
        int fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

/* `what` as the file of this image reads it (/proc/self/...), NULs made spaces; "" if unreadable. */
static size_t read_self(const char *what, char *text, size_t capacity) {
    int fd = open(what, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, text, capacity);
    close(fd);
    if (n <= 0) return 0;
    for (ssize_t i = 0; i < n; i++)
        if (text[i] == '\0' || text[i] == '\n') text[i] = ' ';
    while (n > 0 && text[n - 1] == ' ') n--;
    return (size_t)n;
}

/*
 * Starts this process's next segment: its file and its header (comments
 * `image: EXE` and `argv: ...`, what ran). 0 when it cannot, nothing left open
 * (the process then runs unrecorded).
 */
static int begin_segment(void) {
    recording_pid = getpid();
    int fd = open_segment();
    if (fd < 0) return 0;
    /* Moved out of the way, so the program's own files get the numbers they get unrecorded. */
    int high = fcntl(fd, F_DUPFD_CLOEXEC, 500);
    if (high >= 0) {
        close(fd);
        fd = high;
    }
    out_fd = fd;

    char header[PATH_MAX + 1024];
    char *p = stpcpy(header, "image: ");
    ssize_t exe = readlink("/proc/self/exe", p, PATH_MAX);
    p += exe > 0 ? exe : 0;
    p = stpcpy(p, "\nargv: ");
    p += read_self("/proc/self/cmdline", p, header + sizeof header - p);
    uint32_t comment_bytes = (uint32_t)(p - header);
    if (write_all(TRACE_MAGIC, TRACE_MAGIC_BYTES) && write_all(&comment_bytes, sizeof comment_bytes) &&
        write_all(header, comment_bytes))
        return 1;
    close(out_fd);
    out_fd = -1;
    return 0;
}

/* The tables of a segment that starts empty. */
static int map_tables(void) {
    table_mask = INITIAL_TABLE_SLOTS - 1;
    table_count = 0;
    table = map_pages(INITIAL_TABLE_SLOTS * sizeof(slot_t));
    free_ids_capacity = 1u << 14;
    free_ids_count = 0;
    free_ids = map_pages(free_ids_capacity * sizeof(uint32_t));
    next_id = 0;
    return table && free_ids;
}

/* fork: no other thread may hold the lock (or be mid-record) while the child's copy is made. */
static void before_fork(void) {
    pthread_mutex_lock(&lock);
}

static void after_fork_in_parent(void) {
    pthread_mutex_unlock(&lock);
}

/* A forked child records a segment of its own only when children are recorded. */
static void after_fork_in_child(void) {
    int record = recording && carried.children;
    recording = 0;
    if (record) {
        close(out_fd); /* the parent's segment */
        munmap(table, (table_mask + 1) * sizeof(slot_t));
        munmap(free_ids, free_ids_capacity * sizeof(uint32_t));
        buffered = 0; /* the parent writes those */
        next_thread_tag = 0;
        thread_tag = -1; /* the forking thread is the child's first */
        recording = map_tables() && begin_segment();
    }
    if (!recording) out_fd = -1; /* the parent's segment is not this child's to write (O_CLOEXEC closes it at exec) */
    pthread_mutex_unlock(&lock);
}

extern char **environ;

/*
 * The environment read and changed directly, not through getenv/unsetenv: a
 * program may define its own (bash does, over its variable table, which is
 * not set up yet when the constructor runs).
 */
static const char *env_value(const char *name) {
    size_t n = strlen(name);
    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return *e + n + 1;
    return NULL;
}

/* Removes NAME from the environment in place, so main's envp (the same array) loses it too. */
static void env_remove(const char *name) {
    size_t n = strlen(name);
    char **to = environ;
    for (char **e = environ; e && *e; e++)
        if (!(strncmp(*e, name, n) == 0 && (*e)[n] == '=')) *to++ = *e;
    if (to) *to = NULL;
}

__attribute__((constructor)) static void start(void) {
    resolve();
    const char *dir = env_value(RECORDER_DIR_VAR);
    Dl_info self;
    if (!dir || !*dir || strlen(dir) >= sizeof trace_dir || !dladdr((void *)start, &self) || !self.dli_fname ||
        strlen(self.dli_fname) >= sizeof shim_path)
        return;
    inside = 1;
    strcpy(trace_dir, dir);
    strcpy(shim_path, self.dli_fname);
    const char *children = env_value(RECORDER_CHILDREN_VAR);
    carried.children = children && strcmp(children, "1") == 0;
    if (!carried.children) {
        /* What this process starts runs without the shim; its own exec puts it back. */
        env_remove(RECORDER_DIR_VAR);
        env_remove("LD_PRELOAD");
    }
    recorder_resolve_exec();
    buffer = map_pages(BUFFER_RECORDS * sizeof(trace_record_t));
    if (buffer && map_tables() && begin_segment()) {
        pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
        recording = 1;
    }
    inside = 0;
}

__attribute__((destructor)) static void finish(void) {
    pthread_mutex_lock(&lock);
    flush_locked();
    finished = 1; /* allocations after this (later destructors) are written one by one */
    pthread_mutex_unlock(&lock);
}

/* Writes the buffer, unless this is a vfork child (its parent's buffer is not its own). */
static void flush_now(void) {
    if (!recording || getpid() != recording_pid) return;
    pthread_mutex_lock(&lock);
    flush_locked();
    pthread_mutex_unlock(&lock);
}

const recorder_env_t *recorder_before_exec(int replaces) {
    if (!trace_dir[0]) return NULL;
    int own = replaces && recording && getpid() == recording_pid;
    if (own) flush_now();
    return own || carried.children ? &carried : NULL;
}

void _exit(int status) {
    resolve();
    flush_now();
    real_exit(status);
}

void _Exit(int status) {
    resolve();
    flush_now();
    real_Exit(status);
}

/* ---- the interposed functions --------------------------------------------- */

/* Whether this call is the program's own, to be recorded: sets `inside` when so. */
static int enter(void) {
    if (!recording || inside) return 0;
    inside = 1;
    return 1;
}

void *malloc(size_t size) {
    if (!real_malloc) {
        if (resolving) return bootstrap_alloc(size);
        resolve();
    }
    if (!enter()) return real_malloc(size);
    void *p = real_malloc(size);
    if (p) record_new(p, OP_MALLOC, size, 0);
    inside = 0;
    return p;
}

void *calloc(size_t n, size_t size) {
    if (!real_malloc) {
        if (resolving) return n && size > SIZE_MAX / n ? NULL : bootstrap_alloc(n * size);
        resolve();
    }
    if (!enter()) return real_calloc(n, size);
    void *p = real_calloc(n, size);
    if (p) record_new(p, OP_CALLOC, size, n);
    inside = 0;
    return p;
}

void free(void *p) {
    if (!p || in_bootstrap(p)) return;
    if (!real_malloc) resolve();
    if (!enter()) {
        real_free(p);
        return;
    }
    int64_t id = forget(p); /* -1: allocated before recording began */
    real_free(p);
    if (id >= 0) record_free((uint32_t)id);
    inside = 0;
}

/* realloc and reallocarray: `size` is the new size in bytes (for reallocarray, n * size, checked). */
static void *resize(void *p, size_t size, void *(*call)(void *, size_t, size_t), size_t n, size_t elem) {
    int64_t id = forget(p);
    void *q = call(p, n, elem);
    if (q) {
        if (id >= 0) record_resized(q, (uint32_t)id, size);
        else record_new(q, OP_MALLOC, size, 0); /* a block from before recording began */
    } else if (size == 0 && id >= 0) {
        record_free((uint32_t)id); /* realloc(p, 0) freed p and returned NULL */
    } else if (id >= 0) {
        restore(p, (uint32_t)id); /* failed: p is still the program's */
    }
    return q;
}

static void *call_realloc(void *p, size_t n, size_t elem) {
    (void)elem;
    return real_realloc(p, n);
}

static void *call_reallocarray(void *p, size_t n, size_t elem) {
    return real_reallocarray(p, n, elem);
}

void *realloc(void *p, size_t size) {
    if (!real_malloc && !resolving) resolve();
    if (resolving || (p && in_bootstrap(p))) {
        /* A bootstrap block (or one made while resolving): copied, never recorded. */
        void *q = resolving ? bootstrap_alloc(size) : malloc(size);
        if (q && p) memmove(q, p, bootstrap_bytes_from(p) < size ? bootstrap_bytes_from(p) : size);
        return q;
    }
    if (!enter()) return real_realloc(p, size);
    void *q;
    if (!p) {
        q = real_realloc(NULL, size);
        if (q) record_new(q, OP_MALLOC, size, 0);
    } else {
        q = resize(p, size, call_realloc, size, 0);
    }
    inside = 0;
    return q;
}

void *reallocarray(void *p, size_t n, size_t size) {
    if (!real_malloc) resolve();
    if (!enter()) return real_reallocarray(p, n, size);
    void *q;
    if (n && size > SIZE_MAX / n) {
        q = real_reallocarray(p, n, size); /* fails with ENOMEM: nothing to record */
    } else if (!p) {
        q = real_reallocarray(NULL, n, size);
        if (q) record_new(q, OP_MALLOC, n * size, 0);
    } else {
        q = resize(p, n * size, call_reallocarray, n, size);
    }
    inside = 0;
    return q;
}

/* glibc rounds an alignment that is not a power of two up to one; the trace says what was used. */
static uint64_t power_of_two_at_least(size_t align) {
    uint64_t a = 1;
    while (a < align) a <<= 1;
    return a;
}

int posix_memalign(void **out, size_t align, size_t size) {
    if (!real_malloc) resolve();
    if (!enter()) return real_posix_memalign(out, align, size);
    int rc = real_posix_memalign(out, align, size);
    if (rc == 0) record_new(*out, OP_ALIGNED, size, align);
    inside = 0;
    return rc;
}

void *aligned_alloc(size_t align, size_t size) {
    if (!real_malloc) resolve();
    if (!enter()) return real_aligned_alloc(align, size);
    void *p = real_aligned_alloc(align, size);
    if (p) record_new(p, OP_ALIGNED, size, power_of_two_at_least(align));
    inside = 0;
    return p;
}

void *memalign(size_t align, size_t size) {
    if (!real_malloc) resolve();
    if (!enter()) return real_memalign(align, size);
    void *p = real_memalign(align, size);
    if (p) record_new(p, OP_ALIGNED, size, power_of_two_at_least(align));
    inside = 0;
    return p;
}

void *valloc(size_t size) {
    if (!real_malloc) resolve();
    if (!enter()) return real_valloc(size);
    void *p = real_valloc(size);
    if (p) record_new(p, OP_ALIGNED, size, (uint64_t)sysconf(_SC_PAGESIZE));
    inside = 0;
    return p;
}

void *pvalloc(size_t size) {
    if (!real_malloc) resolve();
    if (!real_pvalloc) {
        errno = ENOMEM;
        return NULL;
    }
    if (!enter()) return real_pvalloc(size);
    void *p = real_pvalloc(size);
    if (p) {
        uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
        record_new(p, OP_ALIGNED, (size + page - 1) / page * page, page);
    }
    inside = 0;
    return p;
}
