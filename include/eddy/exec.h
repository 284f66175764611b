/* eddy/exec.h: run a program and collect its output (Node's exec and
 * execFile).
 *
 * eddy_exec runs a command line through a shell (/bin/sh -c), eddy_execfile
 * a program directly (searched in PATH, as eddy_spawn does). The child's
 * stdin is /dev/null; its stdout and stderr go to two pipes whose bytes are
 * collected into req->out and req->err, up to a limit per stream. The
 * callback runs once, on the loop's thread, after the child has exited AND
 * both pipes have closed: Node's 'close', not 'exit'. A grandchild that
 * keeps the child's stdout or stderr open therefore delays the callback
 * until it closes them (or the timeout fires).
 *
 * Outcomes, as the callback's status:
 *   0                the child ran and ended; exit_status and term_signal
 *                    say how. A non-zero exit or a death by a signal not
 *                    sent by eddy is not an error here (Node would make it
 *                    one): test exit_status and term_signal yourself.
 *   EDDY_EMAXBUFFER  stdout or stderr went over max_buffer: the child was
 *                    sent kill_signal, both pipes were closed, and the
 *                    stream keeps exactly max_buffer bytes (Node's
 *                    ERR_CHILD_PROCESS_STDIO_MAXBUFFER).
 *   EDDY_ETIMEDOUT   timeout_ms passed before the callback was due: the
 *                    child, if it was still running, was sent kill_signal,
 *                    and both pipes were closed (Node: err.killed).
 *   spawn errors     EDDY_ENOENT, EDDY_EACCES, EDDY_EMFILE, EDDY_EAGAIN,
 *                    EDDY_ENOMEM...: no child ran (pid 0, exit_status 0,
 *                    term_signal 0, empty output). Reported through the
 *                    callback, as Node does, never by eddy_exec's return.
 *   EDDY_ENOMEM      no memory to grow an output buffer: the child was
 *                    killed as for EDDY_EMAXBUFFER.
 *   read errors      a pipe failed (EDDY_ECONNRESET...): that pipe was
 *                    closed and the child left to end on its own.
 * The first of these wins. In every case exit_status and term_signal are
 * what the child actually ended with (term_signal is kill_signal when eddy's
 * kill ended it; both are 0 if it had exited before the kill).
 *
 * Memory: req->out and req->err are allocated by eddy, always valid and
 * NUL-terminated (out[out_len] == '\0', convenient for text; out_len counts
 * the bytes, which may include NULs) from a successful eddy_exec until
 * eddy_exec_cleanup. The callback runs after every handle of the request is
 * closed, so it may reuse or free the request itself (after cleanup).
 *
 * The request's handles (a process, two pipes, a timer) keep the loop
 * alive and appear in eddy_walk. If they are closed from outside (a
 * teardown that closes every handle of the loop), the callback never runs
 * and the child is not killed; call eddy_exec_cleanup after the loop has
 * run the closes. All functions: loop thread only.
 */
#ifndef EDDY_EXEC_H
#define EDDY_EXEC_H

#include "export.h"

#include <stddef.h>
#include <stdint.h>

#include "pipe.h"
#include "process.h"
#include "timer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The default limit per stream: 1 MiB, as Node's maxBuffer. */
#define EDDY_EXEC_DEFAULT_MAX_BUFFER ((size_t)1024 * 1024)

typedef struct eddy_exec_s eddy_exec_t;

/* status: 0 or an error (see above); exit_status: the exit code if the
 * child exited, else 0; term_signal: the signal that ended it, else 0. */
typedef void (*eddy_exec_cb)(eddy_exec_t *req, int status, int64_t exit_status,
                             int term_signal);

typedef struct eddy_exec_options_s {
  const char *cwd;     /* NULL: the parent's directory */
  char *const *env;    /* NULL: the parent's environment */
  const char *shell;   /* eddy_exec only; NULL: "/bin/sh" */
  size_t max_buffer;   /* bytes per stream; 0: the default (1 MiB);
                          SIZE_MAX: no limit but memory */
  uint64_t timeout_ms; /* 0: none */
  int kill_signal;     /* for max_buffer and timeout; 0: SIGTERM */
} eddy_exec_options_t;

struct eddy_exec_s {
  eddy_req_t req;    /* req.data is yours; req.type is EDDY_EXEC */
  eddy_loop_t *loop; /* read only */
  int pid;           /* read only: the child's pid, 0 if the spawn failed;
                        kept after the child is reaped */
  char *out;         /* read only: stdout, NUL-terminated */
  size_t out_len;
  char *err; /* read only: stderr, NUL-terminated */
  size_t err_len;
  struct {
    eddy_exec_cb cb;
    eddy_process_t process;
    eddy_pipe_t pipes[2]; /* the child's stdout, stderr */
    eddy_timer_t timer;
    size_t cap[2]; /* bytes allocated for out, err */
    size_t max_buffer;
    int kill_signal;
    int status; /* the first error, or 0 */
    int64_t exit_status;
    int term_signal;
    unsigned open;  /* handles not yet closed */
    unsigned flags; /* EDDY__EXEC_* in exec.c */
  } priv;
};

/* Run command with the shell (opts->shell, default /bin/sh) as
 * `shell -c command`. opts may be NULL (all defaults); it is read only
 * during the call. cb is required and runs exactly once, never inside this
 * call. Returns 0, or with nothing started and cb never to run:
 * EDDY_EINVAL (loop, req, command or cb NULL; kill_signal not a valid
 * signal) or EDDY_ENOMEM. req must not be in flight already. */
EDDY_EXTERN int eddy_exec(eddy_loop_t *loop, eddy_exec_t *req,
                          const char *command, const eddy_exec_options_t *opts,
                          eddy_exec_cb cb);

/* Run file without a shell. args is the whole argv, argv[0] included,
 * NULL-terminated; NULL means { file, NULL }. A file without a slash is
 * searched in PATH (the child's, if opts->env has one). A missing program
 * is reported to cb as EDDY_ENOENT. Returns as eddy_exec (EDDY_EINVAL for
 * a NULL file). */
EDDY_EXTERN int eddy_execfile(eddy_loop_t *loop, eddy_exec_t *req,
                              const char *file, char *const args[],
                              const eddy_exec_options_t *opts, eddy_exec_cb cb);

/* Free req->out and req->err (NULL, lengths 0 after). Call it after the
 * callback (or after an outside teardown closed the request's handles); it
 * is safe after a failed eddy_exec and when called twice. */
EDDY_EXTERN void eddy_exec_cleanup(eddy_exec_t *req);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_EXEC_H */
