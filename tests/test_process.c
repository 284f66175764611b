/* test_process.c: child processes: exit codes and signals, stdio pipes
 * (10 MB without a deadlock), closed stdin, env and cwd, ENOENT/EACCES
 * from eddy_spawn itself, 100 children reaped, several loops, descriptors
 * a child inherits, detached sessions, setuid, and no leaks. */
#include <dirent.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

/* ---- exit status and signals ---------------------------------------------- */

struct exit_record {
  int calls;
  int64_t status;
  int signal;
};

static void record_exit(eddy_process_t *p, int64_t status, int sig) {
  struct exit_record *r = p->handle.data;

  /* the pid stays readable; signals to the reaped number are refused */
  assert_true(p->pid > 0);
  assert_int_equal(eddy_process_get_pid(p), p->pid);
  assert_int_equal(eddy_process_kill(p, 0), EDDY_ESRCH);
  r->calls++;
  r->status = status;
  r->signal = sig;
  eddy_close(&p->handle, NULL);
}

static void run_sh(eddy_loop_t *loop, const char *script,
                   struct exit_record *r) {
  char *args[] = {"/bin/sh", "-c", (char *)script, NULL};
  eddy_process_options_t o;
  eddy_process_t p;

  memset(&o, 0, sizeof(o));
  memset(r, 0, sizeof(*r));
  o.file = "/bin/sh";
  o.args = args;
  o.exit_cb = record_exit;
  p.handle.data = r;
  assert_int_equal(eddy_spawn(loop, &p, &o), 0);
  assert_true(p.pid > 0);
  assert_int_equal(eddy_process_get_pid(&p), p.pid);
  assert_int_equal(eddy_handle_get_type(&p.handle), EDDY_PROCESS);
  assert_true(eddy_is_active(&p.handle));
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

static void test_exit_codes_and_signals(void **state) {
  eddy_loop_t loop;
  struct exit_record r;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  run_sh(&loop, "exit 3", &r);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, 3);
  assert_int_equal(r.signal, 0);
  run_sh(&loop, "exit 0", &r);
  assert_int_equal(r.status, 0);
  run_sh(&loop, "kill -TERM $$", &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.signal, SIGTERM);
  test_assert_loop_clean(&loop);
}

static void test_kill(void **state) {
  char *args[] = {"sleep", "30", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  eddy_process_t p;
  struct exit_record r = {0};

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "sleep"; /* found in the parent's PATH */
  o.args = args;
  o.exit_cb = record_exit;
  p.handle.data = &r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_spawn(&loop, &p, &o), 0);
  assert_int_equal(eddy_process_kill(&p, 0), 0); /* alive */
  assert_int_equal(eddy_process_kill(&p, SIGKILL), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.signal, SIGKILL);
  assert_int_equal(eddy_process_kill(&p, SIGTERM), EDDY_ESRCH);
  assert_int_equal(eddy_kill(getpid(), 0), 0);
  assert_int_equal(eddy_kill(getpid(), -1), EDDY_EINVAL);
  test_assert_loop_clean(&loop);
}

/* ---- stdio ------------------------------------------------------------------ */

struct capture {
  char *data;
  size_t len;
  size_t cap;
  int eof;
};

static void alloc_heap(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  (void)h;
  *buf = eddy_buf_init(malloc(suggested), suggested);
}

static void capture_read(eddy_stream_t *s, ssize_t nread,
                         const eddy_buf_t *buf) {
  struct capture *c = s->handle.data;

  if (nread > 0) {
    if (c->len + (size_t)nread + 1 > c->cap) {
      c->cap = (c->len + (size_t)nread + 1) * 2;
      c->data = realloc(c->data, c->cap);
      assert_non_null(c->data);
    }
    memcpy(c->data + c->len, buf->base, (size_t)nread);
    c->len += (size_t)nread;
    c->data[c->len] = '\0';
  } else if (nread < 0) {
    assert_int_equal(nread, EDDY_EOF);
    c->eof = 1;
    eddy_close(&s->handle, NULL);
  }
  free(buf->base);
}

/* Run args with stdout captured through a pipe; stdin as given. */
static void run_capture(eddy_loop_t *loop, eddy_process_options_t *o,
                        struct capture *out, struct exit_record *r) {
  eddy_pipe_t pipe_out;
  eddy_stdio_container_t stdio[3];
  eddy_process_t p;

  memset(out, 0, sizeof(*out));
  memset(r, 0, sizeof(*r));
  assert_int_equal(eddy_pipe_init(loop, &pipe_out, 0), 0);
  pipe_out.stream.handle.data = out;
  stdio[0].flags = EDDY_IGNORE;
  stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
  stdio[1].data.stream = &pipe_out.stream;
  stdio[2].flags = EDDY_INHERIT_FD;
  stdio[2].data.fd = 2;
  o->stdio = stdio;
  o->stdio_count = 3;
  o->exit_cb = record_exit;
  p.handle.data = r;
  assert_int_equal(eddy_spawn(loop, &p, o), 0);
  assert_int_equal(eddy_read_start(&pipe_out.stream, alloc_heap,
                                   capture_read),
                   0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(out->eof, 1);
  assert_int_equal(r->calls, 1);
}

static void test_stdout_pipe(void **state) {
  char *args[] = {"echo", "hello", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  struct capture out;
  struct exit_record r;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "echo";
  o.args = args;
  assert_int_equal(eddy_loop_init(&loop), 0);
  run_capture(&loop, &o, &out, &r);
  assert_string_equal(out.data, "hello\n");
  assert_int_equal(r.status, 0);
  free(out.data);
  test_assert_loop_clean(&loop);
}

/* 10 MB through stdout: the parent reads while the child writes, so
 * neither waits on the other. */
static void test_10mb_stdout(void **state) {
  char *args[] = {"head", "-c", "10000000", "/dev/zero", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  struct capture out;
  struct exit_record r;
  size_t i;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "head";
  o.args = args;
  assert_int_equal(eddy_loop_init(&loop), 0);
  run_capture(&loop, &o, &out, &r);
  assert_int_equal(out.len, 10000000);
  for (i = 0; i < out.len; i++)
    if (out.data[i] != 0)
      fail();
  assert_int_equal(r.status, 0);
  free(out.data);
  test_assert_loop_clean(&loop);
}

/* stdin ignored (/dev/null): cat sees end of file at once. */
static void test_closed_stdin(void **state) {
  char *args[] = {"cat", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  struct capture out;
  struct exit_record r;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "cat";
  o.args = args;
  assert_int_equal(eddy_loop_init(&loop), 0);
  run_capture(&loop, &o, &out, &r);
  assert_int_equal(out.len, 0);
  assert_int_equal(r.status, 0);
  free(out.data);
  test_assert_loop_clean(&loop);
}

/* A stdin pipe: what the parent writes, the child reads; shutting the
 * parent's side ends the child's input. */
static eddy_write_t stdin_write;
static eddy_shutdown_t stdin_shutdown;

static void stdin_shut(eddy_shutdown_t *req, int status) {
  assert_int_equal(status, 0);
  eddy_close(&req->handle->handle, NULL);
}

static void test_stdin_pipe(void **state) {
  char *args[] = {"tr", "a-z", "A-Z", NULL};
  eddy_loop_t loop;
  eddy_pipe_t in, out_pipe;
  eddy_stdio_container_t stdio[2];
  eddy_process_options_t o;
  eddy_process_t p;
  struct capture out = {0};
  struct exit_record r = {0};
  eddy_buf_t buf = eddy_buf_init("shout", 5);

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &in, 0), 0);
  assert_int_equal(eddy_pipe_init(&loop, &out_pipe, 0), 0);
  out_pipe.stream.handle.data = &out;
  stdio[0].flags = EDDY_CREATE_PIPE | EDDY_READABLE_PIPE;
  stdio[0].data.stream = &in.stream;
  stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
  stdio[1].data.stream = &out_pipe.stream;
  memset(&o, 0, sizeof(o));
  o.file = "tr";
  o.args = args;
  o.stdio = stdio;
  o.stdio_count = 2; /* stderr: /dev/null */
  o.exit_cb = record_exit;
  p.handle.data = &r;
  assert_int_equal(eddy_spawn(&loop, &p, &o), 0);
  assert_int_equal(eddy_write(&stdin_write, &in.stream, &buf, 1, NULL), 0);
  assert_int_equal(eddy_shutdown(&stdin_shutdown, &in.stream, stdin_shut), 0);
  assert_int_equal(eddy_read_start(&out_pipe.stream, alloc_heap,
                                   capture_read),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(out.data, "SHOUT");
  assert_int_equal(r.status, 0);
  free(out.data);
  test_assert_loop_clean(&loop);
}

/* ---- env, cwd, inherited descriptors ------------------------------------ */

static void test_env_and_cwd(void **state) {
  char *args[] = {"sh", "-c", "echo \"$FOO\"; pwd", NULL};
  char *env[] = {"FOO=bar baz", "PATH=/usr/bin:/bin", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  struct capture out;
  struct exit_record r;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "sh"; /* found through the child's PATH */
  o.args = args;
  o.env = env;
  o.cwd = "/";
  assert_int_equal(eddy_loop_init(&loop), 0);
  run_capture(&loop, &o, &out, &r);
  assert_string_equal(out.data, "bar baz\n/\n");
  free(out.data);
  test_assert_loop_clean(&loop);
}

/* The child gets exactly its slots: an inheritable descriptor the parent
 * happens to have open does not leak into it. Slot 1 inherits a pipe(2)
 * end by descriptor. */
static void test_child_gets_only_its_slots(void **state) {
  char script[64];
  char *args[] = {"sh", "-c", script, NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  eddy_stdio_container_t stdio[3];
  eddy_process_t p;
  struct exit_record r = {0};
  char answer[16] = {0};
  int fds[2];
  int stray;

  (void)state;
  /* Inheritable (no close-on-exec), and above the standard three even if
   * one of them is closed. */
  stray = open("/dev/null", O_RDONLY);
  assert_true(stray >= 0);
  if (stray <= 2) {
    int low = stray;

    stray = fcntl(low, F_DUPFD, 3);
    close(low);
  }
  assert_true(stray > 2);
  snprintf(script, sizeof(script), "test -e /proc/self/fd/%d && echo leak "
           "|| echo ok", stray);
  assert_int_equal(pipe(fds), 0);
  stdio[0].flags = EDDY_IGNORE;
  stdio[1].flags = EDDY_INHERIT_FD;
  stdio[1].data.fd = fds[1];
  stdio[2].flags = EDDY_IGNORE;
  memset(&o, 0, sizeof(o));
  o.file = "sh";
  o.args = args;
  o.stdio = stdio;
  o.stdio_count = 3;
  o.exit_cb = record_exit;
  p.handle.data = &r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_spawn(&loop, &p, &o), 0);
  close(fds[1]);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_true(read(fds[0], answer, sizeof(answer) - 1) > 0);
  assert_string_equal(answer, "ok\n");
  close(fds[0]);
  close(stray);
  test_assert_loop_clean(&loop);
}

/* ---- errors come from eddy_spawn, with nothing left behind -------------- */

static void test_spawn_errors(void **state) {
  char *env[] = {"PATH=/nonexistent", NULL};
  char path[] = "/tmp/eddy-noexec-XXXXXX";
  eddy_loop_t loop;
  eddy_process_options_t o;
  eddy_pipe_t out;
  eddy_stdio_container_t stdio[2];
  eddy_process_t p;
  int fd;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  memset(&o, 0, sizeof(o));
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_EINVAL); /* no file */
  o.file = "/nonexistent/program";
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_ENOENT);
  o.file = "no-such-program-anywhere";
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_ENOENT);
  o.file = "sh";
  o.env = env; /* the child's PATH has no sh */
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_ENOENT);
  o.env = NULL;
  o.flags = 1u << 10;
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_EINVAL);
  o.flags = 1u << 2; /* libuv's Windows-only bit: unknown here */
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_EINVAL);
  o.flags = 0;
  fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd); /* mode 0600: not executable */
  o.file = path;
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_EACCES);
  unlink(path);
  /* A pipe slot whose handle is not a pipe, or already open. */
  assert_int_equal(eddy_pipe_init(&loop, &out, 0), 0);
  stdio[0].flags = EDDY_IGNORE;
  stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
  stdio[1].data.stream = (eddy_stream_t *)&p; /* not a pipe */
  o.file = "true";
  o.stdio = stdio;
  o.stdio_count = 2;
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_EINVAL);
  /* A failed spawn leaves the pipe unopened and reusable. */
  stdio[1].data.stream = &out.stream;
  o.file = "/nonexistent/program";
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_ENOENT);
  assert_int_equal(eddy_read_start(&out.stream, alloc_heap, capture_read),
                   EDDY_ENOTCONN);
  eddy_close(&out.stream.handle, NULL);
  test_assert_loop_clean(&loop); /* no process handle was left behind */
}

/* ---- out of descriptors ------------------------------------------------- */

/* A spawn that needs a pipe while the descriptor table is full fails with
 * EMFILE and leaves nothing behind: the pipe handle stays unopened, the
 * loop closes clean. Once descriptors free up, spawning works again. */
static void test_spawn_out_of_descriptors(void **state) {
  char *args[] = {"echo", "again", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  eddy_stdio_container_t stdio[2];
  eddy_pipe_t out;
  eddy_process_t p;
  struct test_fd_fill fill;
  struct capture cap;
  struct exit_record r;
  int err;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "echo";
  o.args = args;
  assert_int_equal(eddy_loop_init(&loop), 0);
  /* A first child sets up what reaping needs (signal watcher, wake-up
   * descriptor) while descriptors are there. */
  run_capture(&loop, &o, &cap, &r);
  free(cap.data);
  assert_int_equal(eddy_pipe_init(&loop, &out, 0), 0);
  stdio[0].flags = EDDY_IGNORE;
  stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
  stdio[1].data.stream = &out.stream;
  o.stdio = stdio;
  o.stdio_count = 2;
  o.exit_cb = record_exit;
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  err = eddy_spawn(&loop, &p, &o);
  assert_int_equal(test_fds_release(&fill), 0);
  assert_true(err == EDDY_EMFILE || err == EDDY_ENFILE);
  assert_int_equal(eddy_read_start(&out.stream, alloc_heap, capture_read),
                   EDDY_ENOTCONN);
  eddy_close(&out.stream.handle, NULL);
  run_capture(&loop, &o, &cap, &r);
  assert_string_equal(cap.data, "again\n");
  assert_int_equal(r.status, 0);
  free(cap.data);
  test_assert_loop_clean(&loop);
}

/* ---- many children, several loops --------------------------------------- */

#define MANY 100

static int many_exits;

static void count_exit(eddy_process_t *p, int64_t status, int sig) {
  assert_int_equal(status, 0);
  assert_int_equal(sig, 0);
  many_exits++;
  eddy_close(&p->handle, (eddy_close_cb)free);
}

static void test_100_children_reaped(void **state) {
  char *args[] = {"true", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  int i;

  (void)state;
  many_exits = 0;
  memset(&o, 0, sizeof(o));
  o.file = "true";
  o.args = args;
  o.exit_cb = count_exit;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < MANY; i++) {
    eddy_process_t *p = malloc(sizeof(*p));

    assert_non_null(p);
    assert_int_equal(eddy_spawn(&loop, p, &o), 0);
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(many_exits, MANY);
  /* No zombie left: this process has no children at all. */
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  test_assert_loop_clean(&loop);
}

#define LOOPS 3
#define PER_LOOP 20

struct loop_job {
  pthread_t thread;
  int exits;
  int wrong_loop;
  eddy_loop_t loop;
};

static void loop_job_exit(eddy_process_t *p, int64_t status, int sig) {
  struct loop_job *job = p->handle.data;

  if (p->handle.loop != &job->loop || status != 0 || sig != 0)
    job->wrong_loop++;
  job->exits++;
  eddy_close(&p->handle, (eddy_close_cb)free);
}

static void *loop_job_main(void *arg) {
  char *args[] = {"true", NULL};
  struct loop_job *job = arg;
  eddy_process_options_t o;
  int i;

  memset(&o, 0, sizeof(o));
  o.file = "true";
  o.args = args;
  o.exit_cb = loop_job_exit;
  if (eddy_loop_init(&job->loop) != 0)
    return (void *)1;
  for (i = 0; i < PER_LOOP; i++) {
    eddy_process_t *p = malloc(sizeof(*p));

    p->handle.data = job;
    if (eddy_spawn(&job->loop, p, &o) != 0)
      return (void *)1;
  }
  eddy_run(&job->loop, EDDY_RUN_DEFAULT);
  return (void *)(intptr_t)eddy_loop_close(&job->loop);
}

/* Three loops on three threads, each reaping exactly its own children. */
static void test_several_loops(void **state) {
  struct loop_job jobs[LOOPS];
  void *ret;
  int i;

  (void)state;
  memset(jobs, 0, sizeof(jobs));
  for (i = 0; i < LOOPS; i++)
    assert_int_equal(pthread_create(&jobs[i].thread, NULL, loop_job_main,
                                    &jobs[i]),
                     0);
  for (i = 0; i < LOOPS; i++) {
    assert_int_equal(pthread_join(jobs[i].thread, &ret), 0);
    assert_null(ret);
    assert_int_equal(jobs[i].exits, PER_LOOP);
    assert_int_equal(jobs[i].wrong_loop, 0);
  }
}

/* Wait (bounded) until pid has exited and waits to be reaped. */
static void wait_zombie(int pid) {
  char path[64], stat[256];
  int i;

  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  for (i = 0; i < 5000; i++) {
    FILE *f = fopen(path, "r");
    char *close_paren;

    assert_non_null(f);
    stat[0] = '\0';
    assert_non_null(fgets(stat, sizeof(stat), f));
    fclose(f);
    close_paren = strrchr(stat, ')');
    if (close_paren != NULL && close_paren[2] == 'Z')
      return;
    usleep(1000);
  }
  fail_msg("child %d did not exit within 5 s", pid);
}

/* A closed handle's child is still reaped (no callback, no zombie). The
 * first child has exited before the second starts, so the SIGCHLD that
 * reaps the second certainly finds the first. */
static void test_closed_handle_still_reaped(void **state) {
  char *quick[] = {"true", NULL};
  char *slow[] = {"true", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  eddy_process_t a, b;
  struct exit_record ra = {0}, rb = {0};
  int a_pid;

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "true";
  o.args = quick;
  o.exit_cb = record_exit;
  a.handle.data = &ra;
  b.handle.data = &rb;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_spawn(&loop, &a, &o), 0);
  a_pid = a.pid;
  eddy_close(&a.handle, NULL);
  wait_zombie(a_pid);
  o.args = slow;
  assert_int_equal(eddy_spawn(&loop, &b, &o), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(ra.calls, 0);
  assert_int_equal(rb.calls, 1);
  assert_int_equal(waitpid(a_pid, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  test_assert_loop_clean(&loop);
}

/* ---- detached, setuid ---------------------------------------------------- */

static void test_detached_new_session(void **state) {
  char *args[] = {"sleep", "5", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  eddy_process_t p;
  struct exit_record r = {0};

  (void)state;
  memset(&o, 0, sizeof(o));
  o.file = "sleep";
  o.args = args;
  o.flags = EDDY_PROCESS_DETACHED;
  o.exit_cb = record_exit;
  p.handle.data = &r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_spawn(&loop, &p, &o), 0);
  assert_int_equal(getsid(p.pid), p.pid); /* a session leader */
  assert_true(getsid(0) != p.pid);
  assert_int_equal(eddy_process_kill(&p, SIGTERM), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.signal, SIGTERM);
  test_assert_loop_clean(&loop);
}

static void test_setuid(void **state) {
  char *args[] = {"id", "-u", NULL};
  eddy_loop_t loop;
  eddy_process_options_t o;
  eddy_process_t p;
  struct capture out;
  struct exit_record r;

  (void)state;
  if (getuid() != 0)
    skip(); /* only root may switch users */
  memset(&o, 0, sizeof(o));
  o.file = "id";
  o.args = args;
  o.flags = EDDY_PROCESS_SETUID | EDDY_PROCESS_SETGID;
  o.uid = 65534;
  o.gid = 65534;
  assert_int_equal(eddy_loop_init(&loop), 0);
  run_capture(&loop, &o, &out, &r);
  assert_string_equal(out.data, "65534\n");
  free(out.data);
  /* The fork path reports exec errors from eddy_spawn too. */
  o.file = "/nonexistent/program";
  o.stdio_count = 0;
  assert_int_equal(eddy_spawn(&loop, &p, &o), EDDY_ENOENT);
  test_assert_loop_clean(&loop);
}

/* ---- inherited descriptors are blocking for the child ------------------- */

/* A descriptor the parent made non-blocking (eddy_pipe_open does) is
 * blocking for a child that inherits it: `cat` reading stdin that has no
 * data yet waits instead of failing with EAGAIN. For a pipe the parent's
 * own descriptor stays non-blocking; for a socket, whose mode the two
 * processes share, the parent's stream still never blocks. */
static int late_writer_fd;
static void late_write(eddy_timer_t *t) {
  assert_int_equal(write(late_writer_fd, "hello", 5), 5);
  /* The end of cat's input; a socket stays open for the parent's writes. */
  if (shutdown(late_writer_fd, SHUT_WR) != 0)
    close(late_writer_fd);
  eddy_close(&t->handle, NULL);
}

static void run_cat_on(eddy_loop_t *loop, eddy_stream_t *in, int writer,
                       struct capture *out, struct exit_record *r) {
  char *args[] = {"cat", NULL};
  eddy_stdio_container_t stdio[3];
  eddy_process_options_t o;
  eddy_pipe_t pipe_out;
  eddy_process_t p;
  eddy_timer_t t;

  memset(&o, 0, sizeof(o));
  memset(out, 0, sizeof(*out));
  memset(r, 0, sizeof(*r));
  assert_int_equal(eddy_pipe_init(loop, &pipe_out, 0), 0);
  pipe_out.stream.handle.data = out;
  stdio[0].flags = EDDY_INHERIT_STREAM;
  stdio[0].data.stream = in;
  stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
  stdio[1].data.stream = &pipe_out.stream;
  stdio[2].flags = EDDY_INHERIT_FD;
  stdio[2].data.fd = 2;
  o.file = "cat";
  o.args = args;
  o.stdio = stdio;
  o.stdio_count = 3;
  o.exit_cb = record_exit;
  p.handle.data = r;
  assert_int_equal(eddy_spawn(loop, &p, &o), 0);
  assert_int_equal(eddy_read_start(&pipe_out.stream, alloc_heap,
                                   capture_read),
                   0);
  late_writer_fd = writer;
  assert_int_equal(eddy_timer_init(loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, late_write, 50, 0), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

static void test_inherited_fd_is_blocking(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t in, sock;
  struct capture out;
  struct exit_record r;
  int fds[2], sv[2];
  char chunk[65536];
  eddy_buf_t b = eddy_buf_init(chunk, sizeof(chunk));
  int i;
  ssize_t n = 0;

  (void)state;
  memset(chunk, 'z', sizeof(chunk));
  assert_int_equal(eddy_loop_init(&loop), 0);
  /* A pipe. */
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_pipe_init(&loop, &in, 0), 0);
  assert_int_equal(eddy_pipe_open(&in, fds[0]), 0);
  run_cat_on(&loop, &in.stream, fds[1], &out, &r);
  assert_non_null(out.data);
  assert_string_equal(out.data, "hello");
  assert_int_equal(r.status, 0);
  assert_true(fcntl(fds[0], F_GETFL) & O_NONBLOCK);
  free(out.data);
  eddy_close(&in.stream.handle, NULL);
  /* A socket. */
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(eddy_pipe_init(&loop, &sock, 0), 0);
  assert_int_equal(eddy_pipe_open(&sock, sv[0]), 0);
  run_cat_on(&loop, &sock.stream, sv[1], &out, &r);
  assert_string_equal(out.data, "hello");
  assert_int_equal(r.status, 0);
  free(out.data);
  /* Nobody reads the other end: the parent's writes fill the socket and
   * then say EAGAIN, never block, though the socket is blocking now. */
  for (i = 0; i < 1000 && (n = eddy_try_write(&sock.stream, &b, 1)) > 0; i++)
    ;
  assert_int_equal(n, EDDY_EAGAIN);
  test_teardown_loop(&loop);
  close(sv[1]);
}

/* ---- the order of data, end, exit, close ---------------------------------- */

/* A child that writes, closes its stdout and exits: as in Node, the data,
 * then the end of its output, then its exit, then close (Node's 'close':
 * the exit seen and the pipe closed), every time. The kernel has closed
 * the child's descriptors before it reports the exit, so an exit must
 * never overtake an end that was already there to read. 40 children in a
 * row, one at a time. */
struct order_run {
  eddy_process_t proc;
  eddy_pipe_t out;
  char log[16]; /* d = data, e = end, x = exit, c = close */
  int n;
  int pending; /* of the exit and the pipe's close */
  char buf[64];
};

static void order_note(struct order_run *o, char c) {
  if (o->n == 0 || o->log[o->n - 1] != c)
    o->log[o->n++] = c;
  assert_true(o->n < (int)sizeof(o->log));
}

static void order_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  struct order_run *o = h->data;

  (void)size;
  *buf = eddy_buf_init(o->buf, sizeof(o->buf));
}

static void order_one_done(struct order_run *o) {
  if (--o->pending == 0)
    order_note(o, 'c');
}

static void order_closed(eddy_handle_t *h) {
  order_one_done(h->data);
}

static void order_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *buf) {
  struct order_run *o = s->handle.data;

  (void)buf;
  if (n > 0)
    order_note(o, 'd');
  else if (n == EDDY_EOF) {
    order_note(o, 'e');
    eddy_close(&s->handle, order_closed);
  }
}

static void order_exit(eddy_process_t *p, int64_t status, int sig) {
  assert_int_equal(status, 0);
  assert_int_equal(sig, 0);
  order_note(p->handle.data, 'x');
  order_one_done(p->handle.data);
  eddy_close(&p->handle, NULL);
}

static void test_output_ends_before_exit(void **state) {
  char *args[] = {"/bin/sh", "-c", "printf data", NULL};
  eddy_stdio_container_t stdio[2];
  eddy_process_options_t opts;
  struct order_run o;
  eddy_loop_t loop;
  int i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < 40; i++) {
    memset(&o, 0, sizeof(o));
    memset(&opts, 0, sizeof(opts));
    o.pending = 2;
    assert_int_equal(eddy_pipe_init(&loop, &o.out, 0), 0);
    o.out.stream.handle.data = &o;
    o.proc.handle.data = &o;
    stdio[0].flags = EDDY_IGNORE;
    stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
    stdio[1].data.stream = &o.out.stream;
    opts.file = "/bin/sh";
    opts.args = args;
    opts.stdio = stdio;
    opts.stdio_count = 2;
    opts.exit_cb = order_exit;
    assert_int_equal(eddy_spawn(&loop, &o.proc, &opts), 0);
    assert_int_equal(eddy_read_start(&o.out.stream, order_alloc, order_read),
                     0);
    assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
    o.log[o.n] = '\0';
    assert_string_equal(o.log, "dexc");
  }
  test_assert_loop_clean(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, test_fd_setup, \
                                                test_fd_teardown)
      T(test_exit_codes_and_signals),
      T(test_kill),
      T(test_stdout_pipe),
      T(test_10mb_stdout),
      T(test_closed_stdin),
      T(test_stdin_pipe),
      T(test_env_and_cwd),
      T(test_child_gets_only_its_slots),
      T(test_spawn_errors),
      T(test_spawn_out_of_descriptors),
      T(test_100_children_reaped),
      T(test_several_loops),
      T(test_closed_handle_still_reaped),
      T(test_detached_new_session),
      T(test_setuid),
      T(test_output_ends_before_exit),
      T(test_inherited_fd_is_blocking),
#undef T
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
