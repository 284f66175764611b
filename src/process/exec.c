/* exec.c: exec and execFile, built on eddy_spawn, two pipes and a timer.
 *
 * The request owns up to four handles: the process, the stdout and stderr
 * pipes, and a timeout timer. Each is closed when its part is over: the
 * process at exit, a pipe at its EOF (or at once on a kill), the timer once
 * the child has exited and both pipes are closing. Every close callback
 * counts down priv.open; the last one runs the user's callback. So the
 * callback comes after the exit and after both pipes' EOF (Node's 'close'),
 * and in the close phase, when no handle of the request is in use any more
 * and the request's memory is the caller's again.
 *
 * A spawn error takes the same road: the pipes and the timer are already
 * initialised (eddy_spawn needs the pipes), so they are closed and the
 * error reaches the callback, as in Node, rather than eddy_exec's return.
 *
 * Output is read straight into the growing out/err buffers. A read is
 * offered at most one byte more than the limit leaves: that byte, if it
 * comes, is how an overflow is seen, and it is dropped, so a stream keeps
 * exactly max_buffer bytes. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "eddy/exec.h"

enum {
  EDDY__EXEC_SPAWNED = 1 << 0, /* the process handle exists */
  EDDY__EXEC_EXITED = 1 << 1,  /* its exit callback ran (or no child) */
  EDDY__EXEC_KILLED = 1 << 2,  /* the kill path ran */
  EDDY__EXEC_TIMER = 1 << 3    /* the timer handle exists */
};

/* Buffers start small (most commands print a line) and double. */
#define EDDY__EXEC_INITIAL_CAP 128
/* The most one read may take: bounds a single growth step. */
#define EDDY__EXEC_READ_CHUNK ((size_t)64 * 1024)

static char **eddy__exec_data(eddy_exec_t *req, int i) {
  return i == 0 ? &req->out : &req->err;
}

static size_t *eddy__exec_len(eddy_exec_t *req, int i) {
  return i == 0 ? &req->out_len : &req->err_len;
}

static int eddy__exec_index(const eddy_exec_t *req, const eddy_handle_t *h) {
  return h == &req->priv.pipes[1].stream.handle ? 1 : 0;
}

/* ---- completion ---------------------------------------------------------- */

static void eddy__exec_on_close(eddy_handle_t *h) {
  eddy_exec_t *req = h->data;

  assert(req->priv.open > 0);
  if (--req->priv.open != 0)
    return;
  req->priv.cb(req, req->priv.status, req->priv.exit_status,
               req->priv.term_signal);
}

static void eddy__exec_close(eddy_handle_t *h) {
  if (!eddy_is_closing(h))
    eddy_close(h, eddy__exec_on_close);
}

/* The timer outlives the child while a pipe is still open (a grandchild
 * may hold it: the timeout still applies, as in Node); once both are
 * closing nothing is left to wait for. */
static void eddy__exec_check_done(eddy_exec_t *req) {
  if (!(req->priv.flags & EDDY__EXEC_EXITED) ||
      !eddy_is_closing(&req->priv.pipes[0].stream.handle) ||
      !eddy_is_closing(&req->priv.pipes[1].stream.handle))
    return;
  if (req->priv.flags & EDDY__EXEC_TIMER)
    eddy__exec_close(&req->priv.timer.handle);
}

static void eddy__exec_set_status(eddy_exec_t *req, int err) {
  if (req->priv.status == 0)
    req->priv.status = err;
}

/* Give up on the child: record why, send it kill_signal if it is still
 * running, and stop waiting for its output (Node destroys both streams). */
static void eddy__exec_kill(eddy_exec_t *req, int err) {
  eddy__exec_set_status(req, err);
  if (req->priv.flags & EDDY__EXEC_KILLED)
    return;
  req->priv.flags |= EDDY__EXEC_KILLED;
  if ((req->priv.flags & EDDY__EXEC_SPAWNED) &&
      !(req->priv.flags & EDDY__EXEC_EXITED))
    eddy_process_kill(&req->priv.process, req->priv.kill_signal);
  eddy__exec_close(&req->priv.pipes[0].stream.handle);
  eddy__exec_close(&req->priv.pipes[1].stream.handle);
  if (req->priv.flags & EDDY__EXEC_TIMER)
    eddy__exec_close(&req->priv.timer.handle);
}

static void eddy__exec_on_exit(eddy_process_t *process, int64_t exit_status,
                               int term_signal) {
  eddy_exec_t *req = process->handle.data;

  req->priv.exit_status = exit_status;
  req->priv.term_signal = term_signal;
  req->priv.flags |= EDDY__EXEC_EXITED;
  eddy__exec_close(&process->handle);
  eddy__exec_check_done(req);
}

static void eddy__exec_on_timeout(eddy_timer_t *timer) {
  eddy__exec_kill(timer->handle.data, EDDY_ETIMEDOUT);
}

/* ---- collecting output --------------------------------------------------- */

/* Make room for the next read and offer it: at most what the limit leaves
 * plus the one byte that detects an overflow, always keeping a byte for
 * the terminating NUL. A failed growth offers nothing (EDDY_ENOBUFS). */
static void eddy__exec_alloc(eddy_handle_t *h, size_t suggested,
                             eddy_buf_t *buf) {
  eddy_exec_t *req = h->data;
  int i = eddy__exec_index(req, h);
  char **data = eddy__exec_data(req, i);
  size_t len = *eddy__exec_len(req, i);
  size_t cap = req->priv.cap[i];
  size_t room = req->priv.max_buffer + 1 - len;
  size_t want = room < EDDY__EXEC_READ_CHUNK ? room : EDDY__EXEC_READ_CHUNK;

  (void)suggested;
  assert(len <= req->priv.max_buffer);
  if (cap - len - 1 < want) {
    size_t grown = cap * 2 > len + want + 1 ? cap * 2 : len + want + 1;
    char *p;

    if (grown > req->priv.max_buffer + 2)
      grown = req->priv.max_buffer + 2;
    p = realloc(*data, grown);
    if (p == NULL) {
      *buf = eddy_buf_init(NULL, 0);
      return;
    }
    *data = p;
    req->priv.cap[i] = cap = grown;
  }
  if (cap - len - 1 < room)
    room = cap - len - 1;
  *buf = eddy_buf_init(*data + len, room);
}

static void eddy__exec_on_read(eddy_stream_t *s, ssize_t nread,
                               const eddy_buf_t *buf) {
  eddy_exec_t *req = s->handle.data;
  int i = eddy__exec_index(req, &s->handle);
  size_t *len = eddy__exec_len(req, i);

  (void)buf;
  if (nread > 0) {
    *len += (size_t)nread;
    if (*len > req->priv.max_buffer) {
      *len = req->priv.max_buffer;
      eddy__exec_kill(req, EDDY_EMAXBUFFER);
    }
    (*eddy__exec_data(req, i))[*len] = '\0';
    return;
  }
  if (nread == 0)
    return;
  if (nread == EDDY_ENOBUFS) {
    eddy__exec_kill(req, EDDY_ENOMEM);
    return;
  }
  if (nread != EDDY_EOF)
    eddy__exec_set_status(req, (int)nread);
  eddy__exec_close(&s->handle);
  eddy__exec_check_done(req);
}

/* ---- starting ------------------------------------------------------------ */

static int eddy__exec_check(eddy_loop_t *loop, const char *what,
                            const eddy_exec_options_t *opts, eddy_exec_cb cb) {
  sigset_t set;

  if (loop == NULL || what == NULL || cb == NULL)
    return EDDY_EINVAL;
  /* sigaddset knows which numbers are signals; kill would say too late. */
  sigemptyset(&set);
  if (opts != NULL && opts->kill_signal != 0 &&
      sigaddset(&set, opts->kill_signal) != 0)
    return EDDY_EINVAL;
  return 0;
}

/* Allocate the two (empty, NUL-terminated) output buffers. */
static int eddy__exec_buffers(eddy_exec_t *req) {
  int i;

  for (i = 0; i < 2; i++) {
    size_t cap = EDDY__EXEC_INITIAL_CAP;

    if (cap > req->priv.max_buffer + 2)
      cap = req->priv.max_buffer + 2;
    *eddy__exec_data(req, i) = malloc(cap);
    if (*eddy__exec_data(req, i) == NULL) {
      eddy_exec_cleanup(req);
      return EDDY_ENOMEM;
    }
    (*eddy__exec_data(req, i))[0] = '\0';
    req->priv.cap[i] = cap;
  }
  return 0;
}

static void eddy__exec_init(eddy_loop_t *loop, eddy_exec_t *req,
                            const eddy_exec_options_t *opts, eddy_exec_cb cb) {
  size_t max = opts != NULL ? opts->max_buffer : 0;

  eddy__req_init(&req->req, EDDY_EXEC);
  req->loop = loop;
  req->pid = 0;
  req->out_len = 0;
  req->err_len = 0;
  req->priv.cb = cb;
  /* Half the address space is no limit at all, and keeps max + 2 exact. */
  if (max == 0)
    max = EDDY_EXEC_DEFAULT_MAX_BUFFER;
  req->priv.max_buffer = max > SIZE_MAX / 2 ? SIZE_MAX / 2 : max;
  req->priv.kill_signal =
      opts != NULL && opts->kill_signal != 0 ? opts->kill_signal : SIGTERM;
  req->priv.status = 0;
  req->priv.exit_status = 0;
  req->priv.term_signal = 0;
  req->priv.open = 0;
  req->priv.flags = 0;
}

/* Initialise a handle of the request: it points back at the request and
 * counts until its close callback. */
static void eddy__exec_own(eddy_exec_t *req, eddy_handle_t *h) {
  h->data = req;
  req->priv.open++;
}

/* Spawn file with args and start collecting. Past the checks everything
 * ends in the callback: a failure closes what was opened. */
static int eddy__exec_start(eddy_loop_t *loop, eddy_exec_t *req,
                            const char *file, char *const args[],
                            const eddy_exec_options_t *opts, eddy_exec_cb cb) {
  eddy_process_options_t po;
  eddy_stdio_container_t stdio[3];
  int err;
  int i;

  eddy__exec_init(loop, req, opts, cb);
  if ((err = eddy__exec_buffers(req)) != 0)
    return err;
  stdio[0].flags = EDDY_IGNORE;
  stdio[0].data.fd = -1;
  for (i = 0; i < 2; i++) {
    eddy_pipe_init(loop, &req->priv.pipes[i], 0);
    eddy__exec_own(req, &req->priv.pipes[i].stream.handle);
    stdio[i + 1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
    stdio[i + 1].data.stream = &req->priv.pipes[i].stream;
  }
  if (opts != NULL && opts->timeout_ms != 0) {
    err = eddy_timer_init(loop, &req->priv.timer);
    if (err != 0) {
      /* No timer, so no child: report err once the pipes have closed. */
      req->priv.flags |= EDDY__EXEC_EXITED;
      eddy__exec_kill(req, err);
      return 0;
    }
    eddy__exec_own(req, &req->priv.timer.handle);
    req->priv.flags |= EDDY__EXEC_TIMER;
  }
  memset(&po, 0, sizeof(po));
  po.exit_cb = eddy__exec_on_exit;
  po.file = file;
  po.args = args;
  po.env = opts != NULL ? opts->env : NULL;
  po.cwd = opts != NULL ? opts->cwd : NULL;
  po.stdio_count = 3;
  po.stdio = stdio;
  err = eddy_spawn(loop, &req->priv.process, &po);
  if (err != 0) {
    /* No child: nothing to wait for but the closes. */
    req->priv.flags |= EDDY__EXEC_EXITED;
    eddy__exec_kill(req, err);
    return 0;
  }
  req->pid = req->priv.process.pid;
  req->priv.flags |= EDDY__EXEC_SPAWNED;
  eddy__exec_own(req, &req->priv.process.handle);
  for (i = 0; i < 2 && err == 0; i++)
    err = eddy_read_start(&req->priv.pipes[i].stream, eddy__exec_alloc,
                          eddy__exec_on_read);
  if (err == 0 && (req->priv.flags & EDDY__EXEC_TIMER))
    err = eddy_timer_start(&req->priv.timer, eddy__exec_on_timeout,
                           opts->timeout_ms, 0);
  if (err != 0)
    eddy__exec_kill(req, err);
  return 0;
}

int eddy_exec(eddy_loop_t *loop, eddy_exec_t *req, const char *command,
              const eddy_exec_options_t *opts, eddy_exec_cb cb) {
  const char *shell =
      opts != NULL && opts->shell != NULL ? opts->shell : "/bin/sh";
  char *args[4];
  int err;

  if (req == NULL)
    return EDDY_EINVAL;
  req->out = NULL;
  req->err = NULL;
  if ((err = eddy__exec_check(loop, command, opts, cb)) != 0)
    return err;
  /* posix_spawn takes char *const[]; the strings are not written to. */
  args[0] = (char *)shell;
  args[1] = (char *)"-c";
  args[2] = (char *)command;
  args[3] = NULL;
  return eddy__exec_start(loop, req, shell, args, opts, cb);
}

int eddy_execfile(eddy_loop_t *loop, eddy_exec_t *req, const char *file,
                  char *const args[], const eddy_exec_options_t *opts,
                  eddy_exec_cb cb) {
  int err;

  if (req == NULL)
    return EDDY_EINVAL;
  req->out = NULL;
  req->err = NULL;
  if ((err = eddy__exec_check(loop, file, opts, cb)) != 0)
    return err;
  return eddy__exec_start(loop, req, file, args, opts, cb);
}

void eddy_exec_cleanup(eddy_exec_t *req) {
  if (req == NULL)
    return;
  free(req->out);
  free(req->err);
  req->out = NULL;
  req->err = NULL;
  req->out_len = 0;
  req->err_len = 0;
}
