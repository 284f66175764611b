/* eddy/process.h: child processes.
 *
 * eddy_spawn starts a program (never through a shell) with the arguments,
 * environment, directory, credentials and standard descriptors given, and
 * reports its end through the exit callback, on the loop's thread. The
 * loop reaps its children when SIGCHLD arrives: no zombies, no blocking
 * waitpid, and several loops on several threads each reap only their own.
 * Every descriptor eddy opens is close-on-exec, so a child inherits exactly
 * the descriptors its stdio array names.
 *
 * A process handle is active (keeps the loop alive) until the child has
 * exited and its exit callback has run. Closing the handle does not kill
 * the child; the loop still reaps it, without a callback.
 */
#ifndef EDDY_PROCESS_H
#define EDDY_PROCESS_H

#include "export.h"

#include <stdint.h>
#include <sys/types.h>

#include "stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_process_s eddy_process_t;

/* exit_status: the exit code (0..255) if the child exited, else 0;
 * term_signal: the signal that ended it, else 0. */
typedef void (*eddy_exit_cb)(eddy_process_t *process, int64_t exit_status,
                             int term_signal);

/* What one of the child's descriptors (0, 1, 2, ...) is. */
enum {
  EDDY_IGNORE = 0,          /* /dev/null (read and write) */
  EDDY_CREATE_PIPE = 1,     /* a new socketpair: data.stream is an
                               initialised eddy_pipe_t (its ipc flag makes
                               the channel an IPC one) that gets the
                               parent's end */
  EDDY_INHERIT_FD = 2,      /* data.fd, the parent's descriptor */
  EDDY_INHERIT_STREAM = 4,  /* data.stream's descriptor */
  EDDY_READABLE_PIPE = 16,  /* with CREATE_PIPE: the child reads */
  EDDY_WRITABLE_PIPE = 32   /* with CREATE_PIPE: the child writes */
};

typedef struct eddy_stdio_container_s {
  int flags;
  union {
    eddy_stream_t *stream;
    int fd;
  } data;
} eddy_stdio_container_t;

/* The bit values are libuv's (1 << 2 is a Windows-only flag there); any
 * other bit makes eddy_spawn() return EDDY_EINVAL. */
enum {
  EDDY_PROCESS_SETUID = 1 << 0, /* run as options.uid */
  EDDY_PROCESS_SETGID = 1 << 1, /* run as options.gid */
  EDDY_PROCESS_DETACHED = 1 << 3 /* setsid(): no controlling terminal, the child
                                    outlives a terminal hang-up of ours */
};

typedef struct eddy_process_options_s {
  eddy_exit_cb exit_cb;    /* may be NULL */
  const char *file;        /* searched in PATH (the child's, if env has
                              one) unless it contains a slash */
  char *const *args;       /* argv, NULL-terminated; NULL: { file, NULL } */
  char *const *env;        /* NULL: the parent's environment */
  const char *cwd;         /* NULL: the parent's directory */
  unsigned flags;          /* EDDY_PROCESS_* */
  int stdio_count;
  const eddy_stdio_container_t *stdio; /* descriptors beyond stdio_count
                                          are not inherited */
  uid_t uid;
  gid_t gid;
} eddy_process_options_t;

struct eddy_process_s {
  eddy_handle_t handle;
  int pid; /* read only; kept after the exit, as libuv and Node keep it */
  struct {
    eddy_exit_cb exit_cb;
    eddy_queue_t node; /* the loop's list of running children */
    int status;        /* waitpid status once reaped */
    int reaped;        /* the number may belong to another process now */
  } priv;
};

/* Start a child. Returns 0 with process->pid set, or an error with nothing
 * left behind (no child, no descriptors, no handle to close):
 * EDDY_ENOENT / EDDY_EACCES / EDDY_ENOEXEC-like errors of the program
 * itself, EDDY_EINVAL (bad options), EDDY_EPERM (setuid/setgid refused),
 * EDDY_EMFILE, EDDY_EAGAIN (fork refused), EDDY_ENOMEM. Loop thread. */
EDDY_EXTERN int eddy_spawn(eddy_loop_t *loop, eddy_process_t *process,
                           const eddy_process_options_t *options);

/* Send signum to the child. Returns 0, EDDY_ESRCH (it has exited),
 * EDDY_EINVAL (bad signal). */
EDDY_EXTERN int eddy_process_kill(eddy_process_t *process, int signum);

/* kill(2): send signum to any pid. Returns 0 or a negative error. */
EDDY_EXTERN int eddy_kill(int pid, int signum);

/* The child's pid. It stays after the exit callback (as in libuv and
 * Node), but the number may then name another process: use
 * eddy_process_kill(), which refuses once the child was reaped, rather
 * than eddy_kill() on it. */
EDDY_EXTERN int eddy_process_get_pid(const eddy_process_t *process);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_PROCESS_H */
