/*
 * Resident memory from /proc. Peak resident growth of a run, for the harnesses that report memory
 * beside time (WORKLOADS.md "Suite workloads"): the resident size before the run as the baseline,
 * the kernel's high-water mark reset there ("5" into /proc/self/clear_refs), and after the run
 * VmHWM minus the baseline. -1 where /proc cannot tell. And the exact count with the fault count
 * that says when to take it, which the replayer reads after every op that faulted. Include
 * harness.h first.
 */
#ifndef RESIDENT_H
#define RESIDENT_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* The whole of a small /proc file, read without stdio (whose buffers are malloc'd). */
static int resident_read(const char *path, char *text, size_t room) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    ssize_t n = read(fd, text, room - 1);
    close(fd);
    if (n <= 0) return -1;
    text[n] = 0;
    return 0;
}

/* Resets the kernel's resident high-water mark (VmHWM) to the resident size now; 0 when not allowed. */
static int resident_reset_peak(void) {
    int fd = open("/proc/self/clear_refs", O_WRONLY);
    if (fd < 0) return 0;
    int reset = write(fd, "5", 1) == 1;
    close(fd);
    return reset;
}

/* The resident bytes now by the kernel's counters (/proc/self/statm), or -1. */
static long long resident_now(void) {
    char text[256];
    unsigned long long size, pages;
    if (resident_read("/proc/self/statm", text, sizeof text) || sscanf(text, "%llu %llu", &size, &pages) != 2) return -1;
    return (long long)pages * sysconf(_SC_PAGESIZE);
}

/* The bytes of the "KEY N kB" line of a /proc file, or -1. */
static long long resident_kib_line(const char *path, const char *key) {
    char text[8192];
    unsigned long long kib;
    if (resident_read(path, text, sizeof text)) return -1;
    const char *line = strstr(text, key);
    if (!line || sscanf(line + strlen(key), " %llu kB", &kib) != 1) return -1;
    return (long long)kib * 1024;
}

/* VmHWM, the kernel's resident high-water mark, in bytes, or -1. */
static long long resident_hwm(void) {
    return resident_kib_line("/proc/self/status", "VmHWM:");
}

/* Resets the high-water mark and returns the resident bytes now, or -1. */
static long long resident_baseline(void) {
    return resident_reset_peak() ? resident_now() : -1;
}

/* VmHWM minus the baseline, or -1 when either is unknown. */
static long long resident_peak_growth(long long baseline) {
    long long hwm = baseline < 0 ? -1 : resident_hwm();
    if (hwm < 0) return -1;
    return hwm > baseline ? hwm - baseline : 0;
}

/* The anonymous bytes resident now, counted page by page: the Anonymous line of /proc/self/smaps_rollup,
   a walk of the page tables. A heap is anonymous memory; the program's code pages, which the kernel
   may map or reclaim while it runs, are left out. statm and VmHWM read the kernel's per-CPU counters
   instead, which lag the pages mapped by up to some 400 KiB while pages fault in. -1 where the file
   cannot be read (Linux before 4.14). */
static long long resident_exact(void) {
    return resident_kib_line("/proc/self/smaps_rollup", "\nAnonymous:");
}

/* Page faults taken so far by this process (RUSAGE_SELF) or, where _GNU_SOURCE has it, this thread
   (RUSAGE_THREAD). A page becomes resident only through a fault, so where this count has not moved,
   no page came in. */
static unsigned long long resident_faults(int who) {
    struct rusage usage;
    getrusage(who, &usage);
    return (unsigned long long)usage.ru_minflt + (unsigned long long)usage.ru_majflt;
}

/* The result line's extra field: `,"peakResidentBytes":N`, null where unknown. */
static void resident_field(char *out, size_t room, long long growth) {
    if (growth < 0) snprintf(out, room, ",\"peakResidentBytes\":null");
    else snprintf(out, room, ",\"peakResidentBytes\":%lld", growth);
}

/* Prints the result line (harness.h) with the peak resident growth since `baseline`. */
static void print_suite_result(uint64_t ops, double seconds, uint64_t mallocs, uint64_t frees, uint64_t bytes,
                               uint32_t hash, uint32_t threads, long long baseline) {
    char extra[64];
    resident_field(extra, sizeof extra, resident_peak_growth(baseline));
    print_result_with(ops, seconds, mallocs, frees, bytes, hash, threads, extra);
}

#endif
