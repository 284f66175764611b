/* fs_file.c: Node's fs.readFile and fs.writeFile as chains of pool jobs.
 *
 * A chain is a small state machine in req->priv: step is the step queued
 * or running (open, fstat, read, write, close). Each step is one pool job;
 * its completion runs on the loop thread, where eddy__fs_chain_advance
 * picks the next step and queues it. Jobs that other code queues meanwhile
 * therefore run between the steps, in submission order, as they do in
 * Node, where readFile is open, fstat, read... and close requests issued
 * one after another from JavaScript.
 *
 * Only the loop thread writes step; the step functions, on a pool thread,
 * write the data fields (ptr, len, cap, done, eof) and step_result, which
 * the loop thread reads after the pool's completion hand-off. appendFile
 * is the write chain with the file opened O_APPEND. An error
 * or a cancellation with the file open still runs the close step, and the
 * callback then reports the first error. The synchronous form runs the
 * same steps inline. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs/fs_internal.h"

#define EDDY__FS_CHUNK (512u << 10)       /* bytes per read or write step */
#define EDDY__FS_UNKNOWN_SIZE (64u << 10) /* first buffer when size is 0 */

/* ---- the steps (pool thread, or inline for sync calls) ---------------- */

static ssize_t eddy__fs_chain_open(eddy_fs_t *req) {
  int flags = req->fs_type == EDDY_FS_READ_FILE ? O_RDONLY
                                                : O_WRONLY | O_CREAT | O_TRUNC;
  int fd;

  if (req->fs_type == EDDY_FS_APPEND_FILE)
    flags = O_WRONLY | O_CREAT | O_APPEND;
  EDDY__FS_RETRY(fd,
                 open(req->path, flags | O_CLOEXEC, (mode_t)req->priv.mode));
  return eddy__fs_ret(fd);
}

/* Size the buffer from the file's size. Files that report 0 (empty, or
 * /proc and pipes whose size is unknown) start with 64 KiB and grow. */
static ssize_t eddy__fs_chain_fstat(eddy_fs_t *req) {
  size_t cap = EDDY__FS_UNKNOWN_SIZE;
  struct stat st;

  if (fstat(req->priv.file, &st) == -1)
    return -errno;
  if (S_ISDIR(st.st_mode))
    return EDDY_EISDIR;
  if (S_ISREG(st.st_mode) && st.st_size > 0) {
    if ((uint64_t)st.st_size >= (uint64_t)SSIZE_MAX / 2)
      return EDDY_EFBIG;
    /* One byte more than the size, so the read that finds the end of the
     * file has room and the buffer never grows for it. */
    cap = (size_t)st.st_size + 1;
  }
  req->ptr = malloc(cap + 1); /* + 1: the NUL after the data */
  if (req->ptr == NULL)
    return EDDY_ENOMEM;
  req->priv.cap = cap;
  return 0;
}

static int eddy__fs_chain_grow(eddy_fs_t *req) {
  size_t cap = req->priv.cap;
  char *p;

  if (cap > (size_t)SSIZE_MAX / 2)
    return EDDY_EFBIG;
  cap *= 2;
  p = realloc(req->ptr, cap + 1);
  if (p == NULL)
    return EDDY_ENOMEM;
  req->ptr = p;
  req->priv.cap = cap;
  return 0;
}

/* Read up to one chunk, in as many read(2) calls as it takes, growing the
 * buffer when it is full; stop early at end of file. Returns the bytes
 * read. */
static ssize_t eddy__fs_chain_read(eddy_fs_t *req) {
  size_t got = 0;
  size_t want;
  ssize_t n;
  int err;

  while (got < EDDY__FS_CHUNK) {
    if (req->priv.len == req->priv.cap && (err = eddy__fs_chain_grow(req)))
      return err;
    want = req->priv.cap - req->priv.len;
    if (want > EDDY__FS_CHUNK - got)
      want = EDDY__FS_CHUNK - got;
    EDDY__FS_RETRY(
        n, read(req->priv.file, (char *)req->ptr + req->priv.len, want));
    if (n == -1)
      return -errno;
    if (n == 0) {
      req->priv.eof = 1;
      break;
    }
    req->priv.len += (size_t)n;
    got += (size_t)n;
  }
  return (ssize_t)got;
}

/* Write up to one chunk of what is left. Returns the bytes written. */
static ssize_t eddy__fs_chain_write(eddy_fs_t *req) {
  const char *data = (const char *)req->priv.data + req->priv.done;
  size_t want = req->priv.len - req->priv.done;
  size_t put = 0;
  ssize_t n;

  if (want > EDDY__FS_CHUNK)
    want = EDDY__FS_CHUNK;
  while (put < want) {
    EDDY__FS_RETRY(n, write(req->priv.file, data + put, want - put));
    if (n == -1)
      return -errno;
    if (n == 0) /* no progress and no error: do not spin */
      return EDDY_EIO;
    put += (size_t)n;
  }
  req->priv.done += put;
  return (ssize_t)put;
}

static ssize_t eddy__fs_chain_step(eddy_fs_t *req) {
  switch (req->priv.step) {
  case EDDY__FS_STEP_OPEN:
    return eddy__fs_chain_open(req);
  case EDDY__FS_STEP_FSTAT:
    return eddy__fs_chain_fstat(req);
  case EDDY__FS_STEP_READ:
    return eddy__fs_chain_read(req);
  case EDDY__FS_STEP_WRITE:
    return eddy__fs_chain_write(req);
  default:
    assert(req->priv.step == EDDY__FS_STEP_CLOSE);
    return eddy__fs_close_fd(req->priv.file);
  }
}

/* ---- moving along the chain (loop thread, or inline) ----------------- */

/* Take the finished step's result (status: EDDY_ECANCELED if it never
 * ran) and choose the next step. Returns 1 if there is one to run. */
static int eddy__fs_chain_advance(eddy_fs_t *req, int status) {
  ssize_t r = status != 0 ? status : req->priv.step_result;

  if (req->priv.step == EDDY__FS_STEP_CLOSE) {
    if (status != 0) /* the close step was cancelled: close it here */
      eddy__fs_close_fd(req->priv.file);
    req->priv.file = -1;
    if (r < 0 && req->priv.error == 0)
      req->priv.error = r;
    return 0;
  }
  if (r < 0) {
    req->priv.error = r;
    req->priv.step = EDDY__FS_STEP_CLOSE;
    return req->priv.file >= 0;
  }
  switch (req->priv.step) {
  case EDDY__FS_STEP_OPEN:
    req->priv.file = (eddy_file)r;
    if (req->fs_type == EDDY_FS_READ_FILE)
      req->priv.step = EDDY__FS_STEP_FSTAT;
    else
      req->priv.step =
          req->priv.len > 0 ? EDDY__FS_STEP_WRITE : EDDY__FS_STEP_CLOSE;
    break;
  case EDDY__FS_STEP_FSTAT:
    req->priv.step = EDDY__FS_STEP_READ;
    break;
  case EDDY__FS_STEP_READ:
    if (req->priv.eof)
      req->priv.step = EDDY__FS_STEP_CLOSE;
    break;
  default:
    assert(req->priv.step == EDDY__FS_STEP_WRITE);
    if (req->priv.done == req->priv.len)
      req->priv.step = EDDY__FS_STEP_CLOSE;
    break;
  }
  return 1;
}

/* Set the outcome the callback (or the sync caller) sees. */
static void eddy__fs_chain_finish(eddy_fs_t *req) {
  if (req->priv.error < 0) {
    free(req->ptr);
    req->ptr = NULL;
    req->result = req->priv.error;
    return;
  }
  if (req->fs_type == EDDY_FS_READ_FILE)
    ((char *)req->ptr)[req->priv.len] = '\0';
  req->result = (ssize_t)req->priv.len;
}

static void eddy__fs_chain_work(eddy__work_t *w) {
  eddy_fs_t *req = eddy__container_of(w, eddy_fs_t, priv.work);

  req->priv.step_result = eddy__fs_chain_step(req);
}

static void eddy__fs_chain_done(eddy__work_t *w, int status) {
  eddy_fs_t *req = eddy__container_of(w, eddy_fs_t, priv.work);
  int err;

  if (eddy__fs_chain_advance(req, status)) {
    err = eddy__work_submit(req->loop, w, EDDY__WORK_FAST_IO,
                            eddy__fs_chain_work, eddy__fs_chain_done);
    if (err == 0)
      return;
    /* The pool is running, so this hardly happens: end the chain here,
     * closing inline rather than leaking the descriptor. */
    if (req->priv.error == 0)
      req->priv.error = err;
    if (req->priv.file >= 0)
      eddy__fs_close_fd(req->priv.file);
    req->priv.file = -1;
  }
  eddy__fs_chain_finish(req);
  req->priv.cb(req);
}

static int eddy__fs_chain_start(eddy_fs_t *req) {
  int err;

  req->priv.step = EDDY__FS_STEP_OPEN;
  if (req->priv.cb == NULL) {
    do
      req->priv.step_result = eddy__fs_chain_step(req);
    while (eddy__fs_chain_advance(req, 0));
    eddy__fs_chain_finish(req);
    return eddy__fs_sync_result(req);
  }
  err = eddy__work_submit(req->loop, &req->priv.work, EDDY__WORK_FAST_IO,
                          eddy__fs_chain_work, eddy__fs_chain_done);
  if (err != 0) {
    eddy_fs_req_cleanup(req);
    req->result = err;
  }
  return err;
}

/* ---- the public calls ------------------------------------------------- */

int eddy_fs_read_file(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                      eddy_fs_cb cb) {
  int err;

  if (path == NULL)
    return req != NULL ? (int)(req->result = EDDY_EINVAL) : EDDY_EINVAL;
  err = eddy__fs_init(loop, req, EDDY_FS_READ_FILE, path, NULL, cb);
  if (err != 0)
    return err;
  return eddy__fs_chain_start(req);
}

/* write_file and append_file: the same chain, opened differently. */
static int eddy__fs_put_file(eddy_loop_t *loop, eddy_fs_t *req,
                             eddy_fs_type type, const char *path,
                             const void *data, size_t len, int mode,
                             eddy_fs_cb cb) {
  int err;

  if (path == NULL || (data == NULL && len > 0) || len > SSIZE_MAX)
    return req != NULL ? (int)(req->result = EDDY_EINVAL) : EDDY_EINVAL;
  err = eddy__fs_init(loop, req, type, path, NULL, cb);
  if (err != 0)
    return err;
  req->priv.data = data;
  req->priv.len = len;
  req->priv.mode = mode;
  return eddy__fs_chain_start(req);
}

int eddy_fs_write_file(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                       const void *data, size_t len, int mode, eddy_fs_cb cb) {
  return eddy__fs_put_file(loop, req, EDDY_FS_WRITE_FILE, path, data, len, mode,
                           cb);
}

int eddy_fs_append_file(eddy_loop_t *loop, eddy_fs_t *req, const char *path,
                        const void *data, size_t len, int mode, eddy_fs_cb cb) {
  return eddy__fs_put_file(loop, req, EDDY_FS_APPEND_FILE, path, data, len,
                           mode, cb);
}
