/*
 * The binary form of an allocation trace (format v1), shared by the recorder
 * shim and the native replayer; lib/trace reads and writes the same bytes.
 *
 *   "HKTRACE1"                 8 bytes, the magic
 *   u32 comment_bytes          little-endian
 *   comment_bytes of UTF-8     the header comments, one per line, '\n'-separated, no leading "# "
 *   records                    trace_record_t each, to the end of the file
 *
 * A file whose record area is not a whole number of records is truncated.
 */
#ifndef TRACE_FORMAT_H
#define TRACE_FORMAT_H

#include <stdint.h>

#define TRACE_MAGIC "HKTRACE1"
#define TRACE_MAGIC_BYTES 8

enum { OP_MALLOC = 0, OP_CALLOC = 1, OP_REALLOC = 2, OP_ALIGNED = 3, OP_FREE = 4 };

/* 24 bytes, little-endian, no padding. */
typedef struct {
    uint8_t op;        /* OP_* */
    uint8_t reserved;  /* 0 */
    uint16_t thread;   /* the thread tag, 0 for untagged */
    uint32_t id;       /* the block ID */
    uint64_t size;     /* malloc/realloc/aligned: SIZE; calloc: element SIZE; free: 0 */
    uint64_t aux;      /* calloc: N; aligned: ALIGN; otherwise 0 */
} trace_record_t;

_Static_assert(sizeof(trace_record_t) == 24, "trace_record_t must be 24 bytes");

#endif
