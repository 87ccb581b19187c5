/*
 * What the recorder shim's two parts share: trace-recorder.c records the
 * malloc-family calls of a process image; trace-recorder-exec.c carries the
 * recorder into the images that exec and posix_spawn start.
 */
#ifndef TRACE_RECORDER_H
#define TRACE_RECORDER_H

/* The folder for the raw output, one PID.SEQ.hktrace per process image. */
#define RECORDER_DIR_VAR "HAKMEM_TRACE_DIR"
/* "1": every process started under the recorder records to a trace of its own. */
#define RECORDER_CHILDREN_VAR "HAKMEM_TRACE_CHILDREN"

/* What a new image's environment needs so that it records. */
typedef struct {
    const char *dir;
    const char *shim;     /* this shared object's path, for LD_PRELOAD */
    int children;
} recorder_env_t;

/*
 * Called before exec (replaces = 1) or posix_spawn (replaces = 0) starts an
 * image: NULL when that image must run without the recorder, else what to put
 * in its environment. The recording process writes its buffered records
 * before it replaces itself, so the new image's records follow them.
 */
const recorder_env_t *recorder_before_exec(int replaces);

/* Finds the real exec and spawn functions; the constructor calls it before recording starts. */
void recorder_resolve_exec(void);

#endif
