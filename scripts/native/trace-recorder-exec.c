/*
 * The recorder follows exec: execve and the functions built on it (execv,
 * execvp, execvpe, execl, execle, execlp, fexecve) and posix_spawn(p) are
 * interposed so that the image they start gets LD_PRELOAD with this shim and
 * the recorder's variables back, even where a wrapper script (pyenv's shims,
 * env, a shell that unsets LD_PRELOAD) removed them. Whether it does is
 * recorder_before_exec's decision (trace-recorder.c): the recording process's
 * own exec always; other processes' only when children are recorded.
 *
 * The new environment is built in mmap'd memory: a vfork child shares its
 * parent's heap and must not call malloc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <spawn.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "trace-recorder.h"

extern char **environ;

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static int (*real_fexecve)(int, char *const[], char *const[]);
typedef int spawn_fn(pid_t *, const char *, const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
                     char *const[], char *const[]);
static spawn_fn *real_posix_spawn, *real_posix_spawnp;

void recorder_resolve_exec(void) {
    if (real_execve) return;
    real_execvpe = dlsym(RTLD_NEXT, "execvpe");
    real_fexecve = dlsym(RTLD_NEXT, "fexecve");
    real_posix_spawn = dlsym(RTLD_NEXT, "posix_spawn");
    real_posix_spawnp = dlsym(RTLD_NEXT, "posix_spawnp");
    real_execve = dlsym(RTLD_NEXT, "execve"); /* last: it marks the others as resolved */
}

static const char PRELOAD[] = "LD_PRELOAD";

/* The value of entry if it is NAME=value, else NULL. */
static const char *value_of(const char *entry, const char *name) {
    size_t n = strlen(name);
    return strncmp(entry, name, n) == 0 && entry[n] == '=' ? entry + n + 1 : NULL;
}

static char *put(char *to, const char *text) {
    return stpcpy(to, text);
}

/* An environment built for one exec; `map` is NULL when envp is used as given. */
typedef struct {
    char *const *envp;
    void *map;
    size_t bytes;
} env_t;

/*
 * envp with the recorder's variables set. LD_PRELOAD keeps what it held, with
 * the shim in front unless it is there already. When memory cannot be had,
 * envp as given: the new image then runs unrecorded.
 */
static env_t recording_env(char *const envp[], const recorder_env_t *r) {
    env_t out = {envp, NULL, 0};
    size_t count = 0;
    const char *preload = NULL;
    for (; envp && envp[count]; count++)
        if (value_of(envp[count], PRELOAD)) preload = value_of(envp[count], PRELOAD);
    int has_shim = preload && strstr(preload, r->shim);
    size_t text = strlen(PRELOAD) + strlen(r->shim) + (preload ? strlen(preload) : 0) + 3 +
                  strlen(RECORDER_DIR_VAR) + strlen(r->dir) + 2 + strlen(RECORDER_CHILDREN_VAR) + 3;
    size_t bytes = (count + 4) * sizeof(char *) + text;
    void *map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return out;

    char **list = map;
    char *p = (char *)(list + count + 4);
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        if (!value_of(envp[i], PRELOAD) && !value_of(envp[i], RECORDER_DIR_VAR) && !value_of(envp[i], RECORDER_CHILDREN_VAR))
            list[k++] = envp[i];
    list[k++] = p;
    p = put(put(p, PRELOAD), "=");
    if (!has_shim) p = put(p, r->shim);
    if (preload && !has_shim && *preload) p = put(p, " ");
    if (preload) p = put(p, preload);
    p++;
    list[k++] = p;
    p = put(put(put(p, RECORDER_DIR_VAR), "="), r->dir) + 1;
    if (r->children) {
        list[k++] = p;
        put(put(p, RECORDER_CHILDREN_VAR), "=1");
    }
    list[k] = NULL;
    out.envp = list;
    out.map = map;
    out.bytes = bytes;
    return out;
}

static void release(env_t *e) {
    int saved = errno;
    if (e->map) munmap(e->map, e->bytes);
    errno = saved;
}

/* The environment the image about to start gets. */
static env_t env_for(char *const envp[], int replaces) {
    recorder_resolve_exec();
    const recorder_env_t *r = recorder_before_exec(replaces);
    return r ? recording_env(envp, r) : (env_t){envp, NULL, 0};
}

int execve(const char *path, char *const argv[], char *const envp[]) {
    env_t e = env_for(envp, 1);
    int rc = real_execve(path, argv, e.envp);
    release(&e);
    return rc;
}

int execvpe(const char *file, char *const argv[], char *const envp[]) {
    env_t e = env_for(envp, 1);
    int rc = real_execvpe(file, argv, e.envp);
    release(&e);
    return rc;
}

int fexecve(int fd, char *const argv[], char *const envp[]) {
    env_t e = env_for(envp, 1);
    int rc = real_fexecve(fd, argv, e.envp);
    release(&e);
    return rc;
}

int execv(const char *path, char *const argv[]) {
    return execve(path, argv, environ);
}

int execvp(const char *file, char *const argv[]) {
    return execvpe(file, argv, environ);
}

/* execl, execle and execlp: how many arguments follow arg0, the NULL that ends them included. */
static size_t count_rest(va_list *ap) {
    size_t n = 1;
    while (va_arg(*ap, char *)) n++;
    return n;
}

/* argv[1..n] from the arguments after arg0 (argv[n] is their NULL). */
static void take_rest(char **argv, size_t n, va_list *ap) {
    for (size_t i = 1; i <= n; i++) argv[i] = va_arg(*ap, char *);
}

/*
 * Declares `char *argv[]` (on the stack: no malloc after a vfork) holding arg0 and the arguments
 * after it up to their NULL. Leaves `ap` started past that NULL (execle reads envp from it); the
 * caller ends it.
 */
#define ARGV_FROM_LIST(argv, ap, arg0)       \
    va_start(ap, arg0);                      \
    size_t argv##_count = count_rest(&ap);   \
    va_end(ap);                              \
    char *argv[argv##_count + 1];            \
    argv[0] = (char *)arg0;                  \
    va_start(ap, arg0);                      \
    take_rest(argv, argv##_count, &ap)

int execl(const char *path, const char *arg, ...) {
    va_list ap;
    ARGV_FROM_LIST(argv, ap, arg);
    va_end(ap);
    return execve(path, argv, environ);
}

int execlp(const char *file, const char *arg, ...) {
    va_list ap;
    ARGV_FROM_LIST(argv, ap, arg);
    va_end(ap);
    return execvpe(file, argv, environ);
}

int execle(const char *path, const char *arg, ...) {
    va_list ap;
    ARGV_FROM_LIST(argv, ap, arg);
    char *const *envp = va_arg(ap, char *const *);
    va_end(ap);
    return execve(path, argv, envp);
}

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                char *const argv[], char *const envp[]) {
    env_t e = env_for(envp, 0);
    int rc = real_posix_spawn(pid, path, actions, attr, argv, e.envp);
    release(&e);
    return rc;
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions, const posix_spawnattr_t *attr,
                 char *const argv[], char *const envp[]) {
    env_t e = env_for(envp, 0);
    int rc = real_posix_spawnp(pid, file, actions, attr, argv, e.envp);
    release(&e);
    return rc;
}
