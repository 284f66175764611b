/* test_exec.c: exec and execFile: output, stderr, exit codes and signals,
 * cwd and env, the output limit (exactly max_buffer bytes kept), timeouts,
 * 10 MB without a deadlock, missing programs, a grandchild holding stdout
 * (the callback waits for it), teardown from outside, and no descriptor
 * left behind by any of them. */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

/* ---- one request on a fresh loop ----------------------------------------- */

struct result {
  int calls;
  int status;
  int64_t exit_status;
  int term_signal;
};

static void record(eddy_exec_t *req, int status, int64_t exit_status,
                   int term_signal) {
  struct result *r = req->req.data;

  r->calls++;
  r->status = status;
  r->exit_status = exit_status;
  r->term_signal = term_signal;
  /* Every handle of the request is closed: its memory is ours again. */
  assert_int_equal(req->priv.open, 0);
  assert_non_null(req->out);
  assert_non_null(req->err);
  assert_int_equal(req->out[req->out_len], '\0');
  assert_int_equal(req->err[req->err_len], '\0');
}

/* Run command (file == NULL) or file with args to the end; the callback
 * runs once and never inside the starting call. */
static void run(eddy_exec_t *req, const char *command, const char *file,
                char *const *args, const eddy_exec_options_t *opts,
                struct result *r) {
  eddy_loop_t loop;

  memset(r, 0, sizeof(*r));
  memset(req, 0, sizeof(*req));
  req->req.data = r;
  assert_int_equal(eddy_loop_init(&loop), 0);
  if (file == NULL)
    assert_int_equal(eddy_exec(&loop, req, command, opts, record), 0);
  else
    assert_int_equal(eddy_execfile(&loop, req, file, args, opts, record), 0);
  assert_int_equal(req->req.type, EDDY_EXEC);
  assert_ptr_equal(req->loop, &loop);
  assert_int_equal(r->calls, 0);
  assert_true(eddy_loop_alive(&loop));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r->calls, 1);
  test_assert_loop_clean(&loop);
}

/* ---- output -------------------------------------------------------------- */

static void test_echo(void **state) {
  eddy_exec_t req;
  struct result r;

  (void)state;
  run(&req, "echo hello", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.exit_status, 0);
  assert_int_equal(r.term_signal, 0);
  assert_true(req.pid > 0);
  assert_string_equal(req.out, "hello\n");
  assert_int_equal(req.out_len, 6);
  assert_string_equal(req.err, "");
  assert_int_equal(req.err_len, 0);
  eddy_exec_cleanup(&req);
  assert_null(req.out);
  assert_null(req.err);
  eddy_exec_cleanup(&req); /* twice is harmless */
}

static void test_stderr(void **state) {
  eddy_exec_t req;
  struct result r;

  (void)state;
  run(&req, "echo out; echo err >&2; printf 'a\\0b' >&2", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 0);
  assert_string_equal(req.out, "out\n");
  assert_int_equal(req.err_len, 7); /* binary data: the NUL is counted */
  assert_memory_equal(req.err, "err\na\0b", 8);
  eddy_exec_cleanup(&req);
}

static void test_stdin_is_null(void **state) {
  eddy_exec_t req;
  struct result r;

  (void)state;
  run(&req, "cat; echo done", NULL, NULL, NULL, &r); /* EOF at once */
  assert_int_equal(r.status, 0);
  assert_string_equal(req.out, "done\n");
  eddy_exec_cleanup(&req);
}

/* A non-zero exit and a death by a signal are reported, not errors. */
static void test_exit_codes_and_signals(void **state) {
  eddy_exec_t req;
  struct result r;

  (void)state;
  run(&req, "echo partial; exit 3", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.exit_status, 3);
  assert_int_equal(r.term_signal, 0);
  assert_string_equal(req.out, "partial\n");
  eddy_exec_cleanup(&req);

  run(&req, "kill -TERM $$", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.exit_status, 0);
  assert_int_equal(r.term_signal, SIGTERM);
  eddy_exec_cleanup(&req);

  /* The shell's own "not found" is an exit code, like Node's 127. */
  run(&req, "eddy-no-such-program-xyz", NULL, NULL, NULL, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.exit_status, 127);
  assert_true(req.err_len > 0);
  eddy_exec_cleanup(&req);
}

static void test_cwd_and_env(void **state) {
  char dir[64] = "/tmp/eddy-exec-XXXXXX";
  char real[PATH_MAX];
  char expect[PATH_MAX + 16];
  char *env[] = {"FOO=bar baz", "PATH=/usr/bin:/bin", NULL};
  char *args[] = {"printf", "%s|%s", "one", "two words", NULL};
  eddy_exec_options_t opts;
  eddy_exec_t req;
  struct result r;

  (void)state;
  assert_non_null(mkdtemp(dir));
  assert_non_null(realpath(dir, real));
  memset(&opts, 0, sizeof(opts));
  opts.cwd = dir;
  opts.env = env;
  run(&req, "pwd; printf %s \"$FOO\"", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, 0);
  snprintf(expect, sizeof(expect), "%s\nbar baz", real);
  assert_string_equal(req.out, expect);
  eddy_exec_cleanup(&req);

  /* execFile: no shell, arguments as given, PATH from the child's env. */
  run(&req, NULL, "printf", args, &opts, &r);
  assert_int_equal(r.status, 0);
  assert_string_equal(req.out, "one|two words");
  eddy_exec_cleanup(&req);

  /* args NULL: { file, NULL }. */
  run(&req, NULL, "pwd", NULL, &opts, &r);
  assert_int_equal(r.status, 0);
  snprintf(expect, sizeof(expect), "%s\n", real);
  assert_string_equal(req.out, expect);
  eddy_exec_cleanup(&req);

  /* A directory that does not exist: the spawn fails. */
  opts.cwd = "/nonexistent-eddy-dir";
  run(&req, "true", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, EDDY_ENOENT);
  eddy_exec_cleanup(&req);
  assert_int_equal(rmdir(dir), 0);
}

/* ---- the output limit ---------------------------------------------------- */

static void test_max_buffer_stdout(void **state) {
  eddy_exec_options_t opts;
  eddy_exec_t req;
  struct result r;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  opts.max_buffer = 1000;
  /* The child would live on: only the kill ends it. */
  run(&req, "head -c 5000 /dev/zero | tr '\\0' x; exec sleep 10", NULL, NULL,
      &opts, &r);
  assert_int_equal(r.status, EDDY_EMAXBUFFER);
  assert_int_equal(r.term_signal, SIGTERM);
  assert_int_equal(req.out_len, 1000);
  assert_int_equal(strlen(req.out), 1000);
  assert_int_equal(req.out[999], 'x');
  assert_int_equal(req.err_len, 0);
  eddy_exec_cleanup(&req);
}

static void test_max_buffer_stderr_kill_signal(void **state) {
  eddy_exec_options_t opts;
  eddy_exec_t req;
  struct result r;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  opts.max_buffer = 1000;
  opts.kill_signal = SIGKILL;
  run(&req, "echo fine; head -c 5000 /dev/zero >&2; exec sleep 10", NULL, NULL,
      &opts, &r);
  assert_int_equal(r.status, EDDY_EMAXBUFFER);
  assert_int_equal(r.term_signal, SIGKILL);
  assert_int_equal(req.err_len, 1000);
  eddy_exec_cleanup(&req);
}

/* Exactly the limit is fine; one byte more is not. Large limits take many
 * reads and growths and still cut exactly. */
static void test_max_buffer_edges(void **state) {
  eddy_exec_options_t opts;
  eddy_exec_t req;
  struct result r;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  opts.max_buffer = 1000;
  run(&req, "head -c 1000 /dev/zero", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(req.out_len, 1000);
  eddy_exec_cleanup(&req);

  run(&req, "head -c 1001 /dev/zero; exec sleep 10", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, EDDY_EMAXBUFFER);
  assert_int_equal(req.out_len, 1000);
  eddy_exec_cleanup(&req);

  opts.max_buffer = 150000;
  run(&req, "head -c 300000 /dev/zero; exec sleep 10", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, EDDY_EMAXBUFFER);
  assert_int_equal(req.out_len, 150000);
  eddy_exec_cleanup(&req);

  /* 0: the default, 1 MiB. */
  opts.max_buffer = 0;
  run(&req, "head -c 1048577 /dev/zero; exec sleep 10", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, EDDY_EMAXBUFFER);
  assert_int_equal(req.out_len, EDDY_EXEC_DEFAULT_MAX_BUFFER);
  eddy_exec_cleanup(&req);
}

/* 10 MB through stdout (no limit but memory) while stderr stays quiet:
 * both pipes are read all along, so the child never blocks for good. */
static void test_ten_megabytes(void **state) {
  char *args[] = {"head", "-c", "10000000", "/dev/zero", NULL};
  eddy_exec_options_t opts;
  eddy_exec_t req;
  struct result r;
  size_t i;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  opts.max_buffer = SIZE_MAX;
  run(&req, NULL, "head", args, &opts, &r);
  assert_int_equal(r.status, 0);
  assert_int_equal(r.exit_status, 0);
  assert_int_equal(req.out_len, 10000000);
  for (i = 0; i < req.out_len; i++)
    if (req.out[i] != '\0')
      break;
  assert_int_equal(i, req.out_len);
  eddy_exec_cleanup(&req);
}

/* ---- timeouts ------------------------------------------------------------ */

static void test_timeout(void **state) {
  char *args[] = {"sleep", "10", NULL};
  eddy_exec_options_t opts;
  eddy_exec_t req;
  struct result r;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  opts.timeout_ms = 100;
  run(&req, NULL, "sleep", args, &opts, &r);
  assert_int_equal(r.status, EDDY_ETIMEDOUT);
  assert_int_equal(r.exit_status, 0);
  assert_int_equal(r.term_signal, SIGTERM);
  eddy_exec_cleanup(&req);

  opts.kill_signal = SIGKILL;
  run(&req, NULL, "sleep", args, &opts, &r);
  assert_int_equal(r.status, EDDY_ETIMEDOUT);
  assert_int_equal(r.term_signal, SIGKILL);
  eddy_exec_cleanup(&req);

  /* A child faster than its timeout: the timer goes away quietly. */
  opts.timeout_ms = 10000;
  run(&req, "echo quick", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, 0);
  assert_string_equal(req.out, "quick\n");
  eddy_exec_cleanup(&req);
}

/* ---- missing programs ---------------------------------------------------- */

static void test_enoent(void **state) {
  eddy_exec_options_t opts;
  eddy_exec_t req;
  struct result r;

  (void)state;
  /* Reported through the callback, as Node does; no child ever ran. */
  run(&req, NULL, "/nonexistent/eddy-no-such-program", NULL, NULL, &r);
  assert_int_equal(r.status, EDDY_ENOENT);
  assert_int_equal(r.exit_status, 0);
  assert_int_equal(r.term_signal, 0);
  assert_int_equal(req.pid, 0);
  assert_string_equal(req.out, "");
  assert_string_equal(req.err, "");
  eddy_exec_cleanup(&req);

  run(&req, NULL, "eddy-no-such-program-xyz", NULL, NULL, &r); /* PATH */
  assert_int_equal(r.status, EDDY_ENOENT);
  eddy_exec_cleanup(&req);

  /* The same road with a timer in the request. */
  memset(&opts, 0, sizeof(opts));
  opts.timeout_ms = 10000;
  opts.shell = "/nonexistent/sh";
  run(&req, "true", NULL, NULL, &opts, &r);
  assert_int_equal(r.status, EDDY_ENOENT);
  eddy_exec_cleanup(&req);
}

/* ---- a grandchild holding stdout ----------------------------------------- */

static char gdir[64];
static char gfile[128];
static struct test_log glog;
static eddy_timer_t probe;
static eddy_exec_t greq;

/* The shell exits at once; its background job keeps stdout open until the
 * test, having seen the exit, creates the file it waits for; the job
 * removes the file, prints and exits. */
static void grand_probe(eddy_timer_t *t) {
  struct result *r = greq.req.data;
  FILE *f;

  if (!greq.priv.process.priv.reaped)
    return; /* not reaped yet */
  assert_int_equal(r->calls, 0);
  test_log_printf(&glog, "exit\n");
  f = fopen(gfile, "w");
  assert_non_null(f);
  fclose(f);
  test_log_printf(&glog, "go\n");
  eddy_close(&t->handle, NULL);
}

static void grand_done(eddy_exec_t *req, int status, int64_t exit_status,
                       int term_signal) {
  record(req, status, exit_status, term_signal);
  test_log_printf(&glog, "close\n");
  if (!eddy_is_closing(&probe.handle))
    eddy_close(&probe.handle, NULL);
}

static void grand_start(eddy_loop_t *loop, uint64_t timeout_ms,
                        struct result *r) {
  char cmd[512];
  eddy_exec_options_t opts;

  /* The wait is bounded (10 s) so a failing test leaves nothing behind. */
  snprintf(cmd, sizeof(cmd),
           "echo early; (i=0; while [ ! -e %s ] && [ $i -lt 1000 ]; do "
           "sleep 0.01; i=$((i+1)); done; rm -f %s; echo late) &",
           gfile, gfile);
  memset(&opts, 0, sizeof(opts));
  opts.timeout_ms = timeout_ms;
  memset(r, 0, sizeof(*r));
  memset(&glog, 0, sizeof(glog));
  greq.req.data = r;
  assert_int_equal(eddy_exec(loop, &greq, cmd, &opts, grand_done), 0);
}

static void test_grandchild_holds_stdout(void **state) {
  eddy_loop_t loop;
  struct result r;

  (void)state;
  strcpy(gdir, "/tmp/eddy-exec-XXXXXX");
  assert_non_null(mkdtemp(gdir));
  snprintf(gfile, sizeof(gfile), "%s/go", gdir);
  assert_int_equal(eddy_loop_init(&loop), 0);
  grand_start(&loop, 30000, &r);
  assert_int_equal(eddy_timer_init(&loop, &probe), 0);
  assert_int_equal(eddy_timer_start(&probe, grand_probe, 5, 5), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.calls, 1);
  assert_string_equal(glog.buf, "exit\ngo\nclose\n");
  assert_int_equal(r.status, 0);
  assert_int_equal(r.exit_status, 0);
  assert_string_equal(greq.out, "early\nlate\n");
  assert_int_equal(access(gfile, F_OK), -1); /* removed before "late" */
  eddy_exec_cleanup(&greq);
  test_assert_loop_clean(&loop);
  assert_int_equal(rmdir(gdir), 0);
}

/* The timeout covers the wait for the pipes too (Node's): the shell has
 * exited, so nothing is killed, but the pipes are let go. */
static void test_grandchild_timeout(void **state) {
  eddy_loop_t loop;
  struct result r;
  FILE *f;
  int i;

  (void)state;
  strcpy(gdir, "/tmp/eddy-exec-XXXXXX");
  assert_non_null(mkdtemp(gdir));
  snprintf(gfile, sizeof(gfile), "%s/go", gdir);
  assert_int_equal(eddy_loop_init(&loop), 0);
  grand_start(&loop, 100, &r);
  assert_int_equal(eddy_timer_init(&loop, &probe), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.calls, 1);
  assert_int_equal(r.status, EDDY_ETIMEDOUT);
  assert_int_equal(r.exit_status, 0);
  assert_int_equal(r.term_signal, 0);
  assert_string_equal(greq.out, "early\n");
  eddy_exec_cleanup(&greq);
  test_assert_loop_clean(&loop);
  /* Release the background job and wait (bounded) until it has seen
   * the file; writing "late" to the closed pipe then ends it. */
  f = fopen(gfile, "w");
  assert_non_null(f);
  fclose(f);
  for (i = 0; i < 1000 && access(gfile, F_OK) == 0; i++)
    usleep(10000);
  assert_int_equal(access(gfile, F_OK), -1);
  assert_int_equal(rmdir(gdir), 0);
}

/* ---- requests and the loop ----------------------------------------------- */

/* The callback may free the request: nothing touches it afterwards. */
static void free_in_callback(eddy_exec_t *req, int status, int64_t exit_status,
                             int term_signal) {
  int *calls = req->req.data;

  assert_int_equal(status, 0);
  assert_int_equal(exit_status, 0);
  assert_int_equal(term_signal, 0);
  assert_string_equal(req->out, "x\n");
  (*calls)++;
  eddy_exec_cleanup(req);
  memset(req, 0xa5, sizeof(*req));
  free(req);
}

static void test_free_in_callback(void **state) {
  eddy_loop_t loop;
  eddy_exec_t *a = malloc(sizeof(*a));
  eddy_exec_t *b = malloc(sizeof(*b));
  int calls = 0;

  (void)state;
  assert_non_null(a);
  assert_non_null(b);
  assert_int_equal(eddy_loop_init(&loop), 0);
  a->req.data = &calls;
  b->req.data = &calls;
  /* Two at once on one loop. */
  assert_int_equal(eddy_exec(&loop, a, "echo x", NULL, free_in_callback), 0);
  assert_int_equal(eddy_exec(&loop, b, "echo x", NULL, free_in_callback), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(calls, 2);
  test_assert_loop_clean(&loop);
}

static void never_called(eddy_exec_t *req, int status, int64_t exit_status,
                         int term_signal) {
  (void)req;
  (void)status;
  (void)exit_status;
  (void)term_signal;
  fail();
}

static void test_bad_arguments(void **state) {
  eddy_exec_options_t opts;
  eddy_loop_t loop;
  eddy_exec_t req;

  (void)state;
  memset(&opts, 0, sizeof(opts));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_exec(NULL, &req, "true", NULL, never_called),
                   EDDY_EINVAL);
  assert_int_equal(eddy_exec(&loop, NULL, "true", NULL, never_called),
                   EDDY_EINVAL);
  assert_int_equal(eddy_exec(&loop, &req, NULL, NULL, never_called),
                   EDDY_EINVAL);
  assert_int_equal(eddy_exec(&loop, &req, "true", NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_execfile(&loop, &req, NULL, NULL, NULL, never_called),
                   EDDY_EINVAL);
  assert_int_equal(eddy_execfile(NULL, &req, "true", NULL, NULL, never_called),
                   EDDY_EINVAL);
  assert_int_equal(eddy_execfile(&loop, NULL, "true", NULL, NULL, never_called),
                   EDDY_EINVAL);
  assert_int_equal(eddy_execfile(&loop, &req, "true", NULL, NULL, NULL),
                   EDDY_EINVAL);
  opts.kill_signal = -1;
  assert_int_equal(eddy_exec(&loop, &req, "true", &opts, never_called),
                   EDDY_EINVAL);
  opts.kill_signal = 100000;
  assert_int_equal(
      eddy_execfile(&loop, &req, "true", NULL, &opts, never_called),
      EDDY_EINVAL);
  /* Nothing was started: no buffers, cleanup is harmless. */
  assert_null(req.out);
  assert_null(req.err);
  eddy_exec_cleanup(&req);
  eddy_exec_cleanup(NULL);
  assert_false(eddy_loop_alive(&loop));
  test_assert_loop_clean(&loop);
}

/* A teardown that closes every handle of the loop from outside: no
 * callback, a clean loop close, and the buffers freed by cleanup. */
static void test_teardown_in_flight(void **state) {
  eddy_loop_t loop;
  eddy_exec_t req;
  int status;
  pid_t r;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_exec(&loop, &req, "exit 0", NULL, never_called), 0);
  assert_true(req.pid > 0);
  test_teardown_loop(&loop);
  eddy_exec_cleanup(&req);
  /* The loop reaped the child if it had exited already; else we do. */
  do
    r = waitpid(req.pid, &status, 0);
  while (r == -1 && errno == EINTR);
  assert_true(r == req.pid || (r == -1 && errno == ECHILD));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_echo, test_fd_setup, test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_stderr, test_fd_setup, test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_stdin_is_null, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_exit_codes_and_signals, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_cwd_and_env, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_max_buffer_stdout, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_max_buffer_stderr_kill_signal,
                                      test_fd_setup, test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_max_buffer_edges, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_ten_megabytes, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_timeout, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_enoent, test_fd_setup, test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_grandchild_holds_stdout, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_grandchild_timeout, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_free_in_callback, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_bad_arguments, test_fd_setup,
                                      test_fd_teardown),
      cmocka_unit_test_setup_teardown(test_teardown_in_flight, test_fd_setup,
                                      test_fd_teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
