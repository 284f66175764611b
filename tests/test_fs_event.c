/* test_fs_event.c: inotify watching (libuv's uv_fs_event_t, Node's
 * fs.watch): files and directories, rename and change events with names,
 * the watched directory removed, recursive watching (subdirectories at
 * start, created later, moved in and out, removed), several handles on one
 * directory, stop / close / start inside callbacks, the watch limit
 * (EDDY_ENOSPC, at start and for a later subdirectory, through the test
 * seam), the instance limit, and a queue overflow.
 *
 * inotify queues an event before the system call that caused it returns,
 * so each step changes the file system and then runs the loop until the
 * expected callbacks have arrived (a 10 s guard timer turns a missing one
 * into a failure, not a hang). */
#include <sys/inotify.h>

#include "fs/fs_event_internal.h"
#include "test_fs_util.h"

/* ---- a recorder ------------------------------------------------------- */

struct events {
  char log[8192];
  size_t len;
  int calls;
  int nulls; /* callbacks without a name (overflow notices) */
  int quiet; /* count only: the overflow test's thousands of events */
  void (*after)(eddy_fs_event_t *h, struct events *ev); /* per callback */
};

static void on_event(eddy_fs_event_t *h, const char *name, int events,
                     int status) {
  struct events *ev = h->handle.data;
  int n;

  ev->calls++;
  if (name == NULL)
    ev->nulls++;
  if (ev->quiet)
    return;
  n = snprintf(ev->log + ev->len, sizeof(ev->log) - ev->len, "%s%s %s%s%s\n",
               events & EDDY_RENAME ? "R" : "", events & EDDY_CHANGE ? "C" : "",
               name != NULL ? name : "(null)", status != 0 ? " " : "",
               status != 0 ? eddy_err_name(status) : "");
  assert_true(n > 0 && (size_t)n < sizeof(ev->log) - ev->len);
  ev->len += (size_t)n;
  if (ev->after != NULL)
    ev->after(h, ev);
}

static void on_guard(eddy_timer_t *t) {
  (void)t;
  fail_msg("an expected fs event did not come");
}

/* Run the loop until ev has seen want callbacks in all. */
static void wait_calls(eddy_loop_t *loop, struct events *ev, int want) {
  static eddy_timer_t guard;

  assert_int_equal(eddy_timer_init(loop, &guard), 0);
  assert_int_equal(eddy_timer_start(&guard, on_guard, 10000, 0), 0);
  eddy_unref(&guard.handle);
  while (ev->calls < want)
    eddy_run(loop, EDDY_RUN_ONCE);
  eddy_close(&guard.handle, NULL);
  eddy_run(loop, EDDY_RUN_NOWAIT);
}

/* Nothing more comes: everything inotify has queued is delivered by a few
 * non-blocking iterations. */
static void settle(eddy_loop_t *loop) {
  int i;

  for (i = 0; i < 4; i++)
    eddy_run(loop, EDDY_RUN_NOWAIT);
}

static void expect(struct events *ev, const char *want) {
  assert_string_equal(ev->log, want);
  ev->len = 0;
  ev->log[0] = '\0';
}

static void start(eddy_loop_t *loop, eddy_fs_event_t *h, struct events *ev,
                  const char *path, unsigned flags) {
  memset(ev, 0, sizeof(*ev));
  assert_int_equal(eddy_fs_event_init(loop, h), 0);
  h->handle.data = ev;
  assert_int_equal(eddy_fs_event_start(h, on_event, path, flags), 0);
}

static void close_now(eddy_loop_t *loop, eddy_fs_event_t *h) {
  eddy_close(&h->handle, NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

static void touch(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

  assert_true(fd >= 0);
  close(fd);
}

static void append(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);

  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
}

/* ---- a file, a directory ---------------------------------------------- */

static void test_watch_file(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_event_t h;
  struct events ev;

  make_file(tp("wf"), "x");
  start(loop, &h, &ev, tp("wf"), 0);
  assert_true(eddy_is_active(&h.handle));
  assert_int_equal(eddy_handle_get_type(&h.handle), EDDY_FS_EVENT);
  assert_string_equal(eddy_handle_type_name(EDDY_FS_EVENT), "fs_event");
  append(tp("wf"), "more");
  wait_calls(loop, &ev, 1);
  expect(&ev, "C wf\n"); /* the file's own name */
  assert_int_equal(chmod(tp("wf"), 0600), 0);
  wait_calls(loop, &ev, 2);
  expect(&ev, "C wf\n");
  assert_int_equal(rename(tp("wf"), tp("wf-moved")), 0);
  wait_calls(loop, &ev, 3);
  expect(&ev, "R wf\n");
  /* it still follows the file, now under its new name */
  append(tp("wf-moved"), "!");
  wait_calls(loop, &ev, 4);
  expect(&ev, "C wf\n");
  close_now(loop, &h);
}

static void test_watch_dir(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_event_t h;
  struct events ev;

  assert_int_equal(mkdir(tp("wd"), 0755), 0);
  start(loop, &h, &ev, tp("wd"), 0);
  touch(tp("wd/a"));
  wait_calls(loop, &ev, 1);
  expect(&ev, "R a\n");
  append(tp("wd/a"), "data");
  wait_calls(loop, &ev, 2);
  expect(&ev, "C a\n");
  assert_int_equal(rename(tp("wd/a"), tp("wd/b")), 0);
  wait_calls(loop, &ev, 4);
  expect(&ev, "R a\nR b\n");
  assert_int_equal(unlink(tp("wd/b")), 0);
  wait_calls(loop, &ev, 5);
  expect(&ev, "R b\n");
  /* not recursive: a subdirectory's entries are not seen */
  assert_int_equal(mkdir(tp("wd/sub"), 0755), 0);
  wait_calls(loop, &ev, 6);
  expect(&ev, "R sub\n");
  touch(tp("wd/sub/deep"));
  settle(loop);
  assert_int_equal(ev.calls, 6);
  /* the directory's own attributes */
  assert_int_equal(chmod(tp("wd"), 0700), 0);
  wait_calls(loop, &ev, 7);
  expect(&ev, "C wd\n");
  close_now(loop, &h);
}

/* The watched directory removed: one rename with its name, then the
 * handle watches nothing (still active, as libuv's). */
static void test_watched_dir_removed(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_event_t h;
  struct events ev;
  char buf[PATH_MAX];
  size_t size = sizeof(buf);

  assert_int_equal(mkdir(tp("gone"), 0755), 0);
  start(loop, &h, &ev, tp("gone/"), 0); /* a trailing slash too */
  assert_int_equal(rmdir(tp("gone")), 0);
  wait_calls(loop, &ev, 1);
  settle(loop);
  expect(&ev, "R gone\n");
  assert_true(eddy_is_active(&h.handle));
  assert_true(h.priv.subs.next == &h.priv.subs); /* its watch is gone */
  assert_int_equal(eddy_fs_event_getpath(&h, buf, &size), 0);
  assert_string_equal(buf, tp("gone/"));
  /* made again: a new directory, not watched */
  assert_int_equal(mkdir(tp("gone"), 0755), 0);
  touch(tp("gone/x"));
  settle(loop);
  assert_int_equal(ev.calls, 1);
  assert_int_equal(eddy_fs_event_stop(&h), 0);
  assert_false(eddy_is_active(&h.handle));
  close_now(loop, &h);
}

/* ---- recursive -------------------------------------------------------- */

static void test_recursive(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_event_t h;
  struct events ev;

  assert_int_equal(mkdir(tp("rt"), 0755), 0);
  assert_int_equal(mkdir(tp("rt/a"), 0755), 0);
  assert_int_equal(mkdir(tp("rt/a/b"), 0755), 0);
  assert_int_equal(mkdir(tp("rt/a/b/c"), 0755), 0);
  assert_int_equal(mkdir(tp("rt-outside"), 0755), 0);
  start(loop, &h, &ev, tp("rt"), EDDY_FS_EVENT_RECURSIVE);
  /* directories that were there at start */
  touch(tp("rt/a/b/c/f"));
  wait_calls(loop, &ev, 1);
  expect(&ev, "R a/b/c/f\n");
  append(tp("rt/a/b/c/f"), "x");
  wait_calls(loop, &ev, 2);
  expect(&ev, "C a/b/c/f\n");
  /* a directory made later: watched from its creation event on */
  assert_int_equal(mkdir(tp("rt/a/new"), 0755), 0);
  wait_calls(loop, &ev, 3);
  expect(&ev, "R a/new\n");
  touch(tp("rt/a/new/g"));
  wait_calls(loop, &ev, 4);
  expect(&ev, "R a/new/g\n");
  /* two levels made before the loop saw the first: both watched */
  assert_int_equal(mkdir(tp("rt/n1"), 0755), 0);
  assert_int_equal(mkdir(tp("rt/n1/n2"), 0755), 0);
  wait_calls(loop, &ev, 5);
  expect(&ev, "R n1\n"); /* n2's creation came before n1 was watched */
  touch(tp("rt/n1/n2/h"));
  wait_calls(loop, &ev, 6);
  expect(&ev, "R n1/n2/h\n");
  /* moved out: no longer watched */
  assert_int_equal(rename(tp("rt/a/b"), tp("rt-outside/b")), 0);
  wait_calls(loop, &ev, 7);
  expect(&ev, "R a/b\n");
  touch(tp("rt-outside/b/c/later"));
  settle(loop);
  assert_int_equal(ev.calls, 7);
  /* moved back in, under another name: watched under it */
  assert_int_equal(rename(tp("rt-outside/b"), tp("rt/back")), 0);
  wait_calls(loop, &ev, 8);
  expect(&ev, "R back\n");
  touch(tp("rt/back/c/again"));
  wait_calls(loop, &ev, 9);
  expect(&ev, "R back/c/again\n");
  /* moved within the tree: names follow */
  assert_int_equal(rename(tp("rt/back"), tp("rt/a/inner")), 0);
  wait_calls(loop, &ev, 11);
  expect(&ev, "R back\nR a/inner\n");
  touch(tp("rt/a/inner/c/moved"));
  wait_calls(loop, &ev, 12);
  expect(&ev, "R a/inner/c/moved\n");
  /* a subdirectory removed: reported once, by its parent */
  assert_int_equal(unlink(tp("rt/a/new/g")), 0);
  assert_int_equal(rmdir(tp("rt/a/new")), 0);
  wait_calls(loop, &ev, 14);
  settle(loop);
  expect(&ev, "R a/new/g\nR a/new\n");
  close_now(loop, &h);
}

/* A link to a directory is an entry like any other: not followed. */
static void test_recursive_links_not_followed(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_event_t h;
  struct events ev;

  assert_int_equal(mkdir(tp("rl"), 0755), 0);
  assert_int_equal(mkdir(tp("rl-target"), 0755), 0);
  assert_int_equal(symlink(tp("rl-target"), tp("rl/at-start")), 0);
  start(loop, &h, &ev, tp("rl"), EDDY_FS_EVENT_RECURSIVE);
  assert_int_equal(symlink(tp("rl-target"), tp("rl/later")), 0);
  wait_calls(loop, &ev, 1);
  expect(&ev, "R later\n");
  touch(tp("rl-target/inside"));
  settle(loop);
  assert_int_equal(ev.calls, 1);
  close_now(loop, &h);
}

/* ---- several handles, callbacks that stop, close, start --------------- */

static void test_two_handles(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_event_t a, b;
  struct events ea, eb;

  assert_int_equal(mkdir(tp("two"), 0755), 0);
  start(loop, &a, &ea, tp("two"), 0);
  start(loop, &b, &eb, tp("two"), EDDY_FS_EVENT_RECURSIVE);
  touch(tp("two/x"));
  wait_calls(loop, &ea, 1);
  wait_calls(loop, &eb, 1);
  expect(&ea, "R x\n");
  expect(&eb, "R x\n");
  assert_int_equal(eddy_fs_event_stop(&a), 0);
  touch(tp("two/y"));
  wait_calls(loop, &eb, 2);
  settle(loop);
  expect(&eb, "R y\n");
  assert_int_equal(ea.calls, 1);
  /* started again on the same directory */
  assert_int_equal(eddy_fs_event_start(&a, on_event, tp("two"), 0), 0);
  touch(tp("two/z"));
  wait_calls(loop, &ea, 2);
  wait_calls(loop, &eb, 3);
  expect(&ea, "R z\n");
  expect(&eb, "R z\n");
  eddy_close(&a.handle, NULL);
  close_now(loop, &b);
}

static eddy_fs_event_t cb_handles[3];
static struct events cb_events[3];

static void stop_other_and_self(eddy_fs_event_t *h, struct events *ev) {
  (void)ev;
  /* stop the other handle on this watch before it is called, then self */
  assert_int_equal(eddy_fs_event_stop(&cb_handles[1]), 0);
  assert_int_equal(eddy_fs_event_stop(h), 0);
}

static void close_self(eddy_fs_event_t *h, struct events *ev) {
  (void)ev;
  eddy_close(&h->handle, NULL);
}

static void start_new(eddy_fs_event_t *h, struct events *ev) {
  (void)h;
  if (ev->calls == 1) {
    memset(&cb_events[2], 0, sizeof(cb_events[2]));
    assert_int_equal(eddy_fs_event_init(h->handle.loop, &cb_handles[2]), 0);
    cb_handles[2].handle.data = &cb_events[2];
    assert_int_equal(
        eddy_fs_event_start(&cb_handles[2], on_event, tp("cbs"), 0), 0);
  }
}

static void test_callbacks_stop_close_start(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;

  assert_int_equal(mkdir(tp("cbs"), 0755), 0);
  start(loop, &cb_handles[0], &cb_events[0], tp("cbs"), 0);
  start(loop, &cb_handles[1], &cb_events[1], tp("cbs"), 0);
  cb_events[0].after = stop_other_and_self;
  touch(tp("cbs/one"));
  touch(tp("cbs/two"));
  wait_calls(loop, &cb_events[0], 1);
  settle(loop);
  assert_int_equal(cb_events[0].calls, 1);
  assert_int_equal(cb_events[1].calls, 0); /* stopped before its turn */
  assert_false(eddy_is_active(&cb_handles[0].handle));
  /* close in the callback, the other event in the same read ignored */
  assert_int_equal(eddy_fs_event_start(&cb_handles[0], on_event, tp("cbs"), 0),
                   0);
  cb_events[0].after = close_self;
  cb_events[0].calls = 0;
  touch(tp("cbs/three"));
  touch(tp("cbs/four"));
  wait_calls(loop, &cb_events[0], 1);
  settle(loop);
  assert_int_equal(cb_events[0].calls, 1);
  /* a callback that starts another handle on the same directory */
  memset(&cb_events[1], 0, sizeof(cb_events[1]));
  assert_int_equal(eddy_fs_event_start(&cb_handles[1], on_event, tp("cbs"), 0),
                   0);
  cb_events[1].after = start_new;
  touch(tp("cbs/five"));
  wait_calls(loop, &cb_events[1], 1);
  touch(tp("cbs/six"));
  wait_calls(loop, &cb_events[1], 2);
  wait_calls(loop, &cb_events[2], 1);
  expect(&cb_events[2], "R six\n");
  eddy_close(&cb_handles[1].handle, NULL);
  close_now(loop, &cb_handles[2]);
}

/* ---- arguments, getpath ------------------------------------------------ */

static void test_start_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char buf[PATH_MAX];
  char small[3];
  eddy_fs_event_t h;
  size_t size;

  make_file(tp("se-file"), "x");
  assert_int_equal(eddy_fs_event_init(loop, &h), 0);
  assert_int_equal(eddy_fs_event_start(&h, on_event, tp("nope"), 0),
                   EDDY_ENOENT);
  assert_int_equal(eddy_fs_event_start(&h, on_event, tp("se-file/x"), 0),
                   EDDY_ENOTDIR);
  assert_int_equal(eddy_fs_event_start(&h, NULL, tp("se-file"), 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_event_start(&h, on_event, NULL, 0), EDDY_EINVAL);
  assert_int_equal(eddy_fs_event_start(&h, on_event, tp("se-file"), 8),
                   EDDY_EINVAL);
  assert_false(eddy_is_active(&h.handle));
  size = sizeof(buf);
  assert_int_equal(eddy_fs_event_getpath(&h, buf, &size), EDDY_EINVAL);
  assert_int_equal(size, 0);
  /* WATCH_ENTRY and STAT are accepted */
  assert_int_equal(
      eddy_fs_event_start(&h, on_event, tp("se-file"),
                          EDDY_FS_EVENT_WATCH_ENTRY | EDDY_FS_EVENT_STAT),
      0);
  assert_int_equal(eddy_fs_event_start(&h, on_event, tp("se-file"), 0),
                   EDDY_EINVAL); /* started */
  size = sizeof(buf);
  assert_int_equal(eddy_fs_event_getpath(&h, buf, &size), 0);
  assert_string_equal(buf, tp("se-file"));
  assert_int_equal(size, strlen(tp("se-file")));
  size = sizeof(small);
  assert_int_equal(eddy_fs_event_getpath(&h, small, &size), EDDY_ENOBUFS);
  assert_int_equal(size, strlen(tp("se-file")) + 1);
  assert_int_equal(eddy_fs_event_getpath(&h, NULL, &size), EDDY_EINVAL);
  assert_int_equal(eddy_fs_event_stop(&h), 0);
  assert_int_equal(eddy_fs_event_stop(&h), 0);
  eddy_close(&h.handle, NULL);
  assert_int_equal(eddy_fs_event_start(&h, on_event, tp("se-file"), 0),
                   EDDY_EINVAL); /* closing */
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

/* ---- limits ----------------------------------------------------------- */

static int fake_budget; /* watches the fake grants before ENOSPC */

static int fake_add_watch(int fd, const char *path, uint32_t mask) {
  if (fake_budget-- <= 0) {
    errno = ENOSPC;
    return -1;
  }
  return inotify_add_watch(fd, path, mask);
}

static void test_watch_limit(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  int (*real)(int, const char *, uint32_t) = eddy__fs_event_add_watch;
  eddy_fs_event_t h;
  struct events ev;

  assert_int_equal(mkdir(tp("lim"), 0755), 0);
  assert_int_equal(mkdir(tp("lim/a"), 0755), 0);
  assert_int_equal(mkdir(tp("lim/b"), 0755), 0);
  assert_int_equal(mkdir(tp("lim/c"), 0755), 0);
  eddy__fs_event_add_watch = fake_add_watch;
  memset(&ev, 0, sizeof(ev));
  assert_int_equal(eddy_fs_event_init(loop, &h), 0);
  h.handle.data = &ev;
  /* at start: the root and two subdirectories fit, the third does not */
  fake_budget = 3;
  assert_int_equal(
      eddy_fs_event_start(&h, on_event, tp("lim"), EDDY_FS_EVENT_RECURSIVE),
      EDDY_ENOSPC);
  assert_false(eddy_is_active(&h.handle));
  assert_true(h.priv.subs.next == &h.priv.subs); /* all given back */
  fake_budget = 0;
  assert_int_equal(eddy_fs_event_start(&h, on_event, tp("lim"), 0),
                   EDDY_ENOSPC);
  /* later: a new subdirectory past the limit is reported */
  fake_budget = 4;
  assert_int_equal(
      eddy_fs_event_start(&h, on_event, tp("lim"), EDDY_FS_EVENT_RECURSIVE), 0);
  assert_int_equal(mkdir(tp("lim/d"), 0755), 0);
  wait_calls(loop, &ev, 2);
  expect(&ev, "R d\n d ENOSPC\n");
  /* the rest is still watched */
  touch(tp("lim/a/file"));
  wait_calls(loop, &ev, 3);
  expect(&ev, "R a/file\n");
  eddy__fs_event_add_watch = real;
  close_now(loop, &h);
}

static void test_instance_limit(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  struct test_fd_fill fill;
  eddy_fs_event_t h;
  int r;

  make_file(tp("il"), "x");
  assert_int_equal(eddy_fs_event_init(loop, &h), 0);
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  r = eddy_fs_event_start(&h, on_event, tp("il"), 0);
  assert_int_equal(test_fds_release(&fill), 0);
  assert_true(r == EDDY_EMFILE || r == EDDY_ENFILE);
  assert_false(eddy_is_active(&h.handle));
  assert_int_equal(eddy_fs_event_start(&h, on_event, tp("il"), 0), 0);
  close_now(loop, &h);
}

/* More events than the kernel queues (fs.inotify.max_queued_events,
 * 16384 by default): one notice with no name, then events again. */
static void test_overflow(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char name[64];
  eddy_fs_event_t h;
  struct events ev;
  FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
  int max = 0, i;

  if (f != NULL) {
    if (fscanf(f, "%d", &max) != 1)
      max = 0;
    fclose(f);
  }
  if (max <= 0 || max > 100000)
    skip();
  assert_int_equal(mkdir(tp("of"), 0755), 0);
  start(loop, &h, &ev, tp("of"), 0);
  ev.quiet = 1;
  for (i = 0; i < max; i++) { /* two events each: twice what fits */
    snprintf(name, sizeof(name), "of/%d", i);
    touch(tp(name));
    assert_int_equal(unlink(tp(name)), 0);
  }
  do { /* reading that many takes several iterations */
    i = ev.calls;
    settle(loop);
  } while (ev.calls != i);
  assert_int_equal(ev.nulls, 1);
  assert_true(ev.calls < 2 * max); /* some were dropped */
  ev.quiet = 0;
  ev.calls = 0;
  touch(tp("of/after"));
  wait_calls(loop, &ev, 1);
  expect(&ev, "R after\n");
  close_now(loop, &h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      FS_TEST(test_watch_file),
      FS_TEST(test_watch_dir),
      FS_TEST(test_watched_dir_removed),
      FS_TEST(test_recursive),
      FS_TEST(test_recursive_links_not_followed),
      FS_TEST(test_two_handles),
      FS_TEST(test_callbacks_stop_close_start),
      FS_TEST(test_start_errors),
      FS_TEST(test_watch_limit),
      FS_TEST(test_instance_limit),
      FS_TEST(test_overflow),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
