/* test_fs_poll.c: stat polling (libuv's uv_fs_poll_t): libuv's rules for
 * when the callback runs (a change only; one error while the path is
 * missing, again when the error changes and when it appears), prev and
 * curr, getpath, start and stop at every moment, close with a stat in
 * flight. The file system is changed from the callbacks themselves, so
 * every step waits for the poll that sees it; "nothing happened" is
 * checked over a fixed number of intervals, never as an upper bound on
 * time. */
#include "test_fs_util.h"

#define INTERVAL 5 /* ms */

struct seen {
  int calls;
  int status[16];
  eddy_stat_t prev[16];
  eddy_stat_t curr[16];
  int (*step)(eddy_fs_poll_t *h, struct seen *s); /* after each call */
};

static void on_poll(eddy_fs_poll_t *h, int status, const eddy_stat_t *prev,
                    const eddy_stat_t *curr) {
  struct seen *s = h->handle.data;

  assert_true(s->calls < 16);
  assert_non_null(prev);
  assert_non_null(curr);
  s->status[s->calls] = status;
  s->prev[s->calls] = *prev;
  s->curr[s->calls] = *curr;
  s->calls++;
  if (s->step != NULL && s->step(h, s))
    assert_int_equal(eddy_fs_poll_stop(h), 0);
}

/* Close a handle of this stack frame and run its close phase before the
 * frame goes. */
static void close_now(eddy_loop_t *loop, eddy_fs_poll_t *h) {
  eddy_close(&h->handle, NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

static int is_zero(const eddy_stat_t *st) {
  static const eddy_stat_t zero;

  return memcmp(st, &zero, sizeof(zero)) == 0;
}

/* Let the handle poll for n intervals (a timer, unreferenced work aside,
 * keeps the loop running). */
static void on_wait(eddy_timer_t *t) {
  (void)t;
}

static void run_for(eddy_loop_t *loop, unsigned n) {
  static eddy_timer_t t; /* outlives the call until its close phase */

  assert_int_equal(eddy_timer_init(loop, &t), 0);
  assert_int_equal(eddy_timer_start(&t, on_wait, n * INTERVAL, 0), 0);
  while (eddy_is_active(&t.handle))
    eddy_run(loop, EDDY_RUN_ONCE);
  eddy_close(&t.handle, NULL);
  eddy_run(loop, EDDY_RUN_NOWAIT); /* its close phase */
}

/* missing -> created -> grown -> chmod -> removed -> stop */
static int story(eddy_fs_poll_t *h, struct seen *s) {
  (void)h;
  switch (s->calls) {
  case 1:
    make_file(tp("story"), "abc");
    return 0;
  case 2:
    make_file(tp("story"), "abcdef");
    return 0;
  case 3:
    assert_int_equal(chmod(tp("story"), 0600), 0);
    return 0;
  case 4:
    assert_int_equal(unlink(tp("story")), 0);
    return 0;
  default:
    return 1;
  }
}

static void test_poll_story(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_poll_t h;
  struct seen s;

  memset(&s, 0, sizeof(s));
  s.step = story;
  assert_int_equal(eddy_fs_poll_init(loop, &h), 0);
  h.handle.data = &s;
  assert_int_equal(eddy_handle_get_type(&h.handle), EDDY_FS_POLL);
  assert_string_equal(eddy_handle_type_name(EDDY_FS_POLL), "fs_poll");
  assert_false(eddy_is_active(&h.handle));
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("story"), INTERVAL), 0);
  assert_true(eddy_is_active(&h.handle));
  assert_int_equal(s.calls, 0); /* not inside start */
  /* runs until the story's last step stops the handle */
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(s.calls, 5);
  /* 1: missing from the start: the error, prev and curr zero */
  assert_int_equal(s.status[0], EDDY_ENOENT);
  assert_true(is_zero(&s.prev[0]) && is_zero(&s.curr[0]));
  /* 2: it appeared: prev zero (nothing good was seen before) */
  assert_int_equal(s.status[1], 0);
  assert_true(is_zero(&s.prev[1]));
  assert_int_equal(s.curr[1].size, 3);
  /* 3: it grew */
  assert_int_equal(s.status[2], 0);
  assert_int_equal(s.prev[2].size, 3);
  assert_int_equal(s.curr[2].size, 6);
  assert_int_equal(s.prev[2].ino, s.curr[2].ino);
  /* 4: its mode changed */
  assert_int_equal(s.status[3], 0);
  assert_int_equal(s.curr[3].mode & 0777, 0600);
  assert_true((s.prev[3].mode & 0777) != 0600);
  /* 5: removed: the error, prev the last good stat, curr zero */
  assert_int_equal(s.status[4], EDDY_ENOENT);
  assert_int_equal(s.prev[4].size, 6);
  assert_true(is_zero(&s.curr[4]));
  assert_false(eddy_is_active(&h.handle));
  close_now(loop, &h);
}

/* No change, no callback; a missing path reports once, not per poll. */
static void test_poll_quiet(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_poll_t a, b;
  struct seen sa, sb;

  memset(&sa, 0, sizeof(sa));
  memset(&sb, 0, sizeof(sb));
  make_file(tp("quiet"), "x");
  eddy_fs_poll_init(loop, &a);
  eddy_fs_poll_init(loop, &b);
  a.handle.data = &sa;
  b.handle.data = &sb;
  assert_int_equal(eddy_fs_poll_start(&a, on_poll, tp("quiet"), INTERVAL), 0);
  assert_int_equal(eddy_fs_poll_start(&b, on_poll, tp("gone"), INTERVAL), 0);
  run_for(loop, 20);
  assert_int_equal(sa.calls, 0);
  assert_int_equal(sb.calls, 1);
  assert_int_equal(sb.status[0], EDDY_ENOENT);
  eddy_close(&a.handle, NULL);
  close_now(loop, &b);
}

/* The error itself changing is a change: ENOENT, then ENOTDIR once the
 * parent turns out to be a file, then the path appears. */
static int error_change(eddy_fs_poll_t *h, struct seen *s) {
  (void)h;
  if (s->calls == 1) {
    make_file(tp("ec"), "file in the way");
    return 0;
  }
  if (s->calls == 2) {
    assert_int_equal(unlink(tp("ec")), 0);
    assert_int_equal(mkdir(tp("ec"), 0755), 0);
    make_file(tp("ec/child"), "");
    return 0;
  }
  return 1;
}

static void test_poll_error_changes(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_poll_t h;
  struct seen s;

  memset(&s, 0, sizeof(s));
  s.step = error_change;
  eddy_fs_poll_init(loop, &h);
  h.handle.data = &s;
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("ec/child"), 0), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(s.calls, 3);
  assert_int_equal(s.status[0], EDDY_ENOENT);
  assert_int_equal(s.status[1], EDDY_ENOTDIR);
  assert_int_equal(s.status[2], 0);
  assert_true(S_ISREG(s.curr[2].mode));
  close_now(loop, &h);
}

static void test_poll_getpath(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  char buf[PATH_MAX];
  char small[4];
  eddy_fs_poll_t h;
  struct seen s;
  size_t size;

  memset(&s, 0, sizeof(s));
  eddy_fs_poll_init(loop, &h);
  h.handle.data = &s;
  size = sizeof(buf);
  assert_int_equal(eddy_fs_poll_getpath(&h, buf, &size), EDDY_EINVAL);
  assert_int_equal(size, 0);
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("gp"), 1000), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_fs_poll_getpath(&h, buf, &size), 0);
  assert_string_equal(buf, tp("gp"));
  assert_int_equal(size, strlen(tp("gp")));
  size = sizeof(small);
  assert_int_equal(eddy_fs_poll_getpath(&h, small, &size), EDDY_ENOBUFS);
  assert_int_equal(size, strlen(tp("gp")) + 1);
  assert_int_equal(eddy_fs_poll_getpath(&h, NULL, &size), EDDY_EINVAL);
  assert_int_equal(eddy_fs_poll_getpath(&h, buf, NULL), EDDY_EINVAL);
  /* starting again changes nothing */
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("other"), 10), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_fs_poll_getpath(&h, buf, &size), 0);
  assert_string_equal(buf, tp("gp"));
  assert_int_equal(eddy_fs_poll_stop(&h), 0);
  assert_int_equal(eddy_fs_poll_stop(&h), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_fs_poll_getpath(&h, buf, &size), EDDY_EINVAL);
  /* and again with another path */
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("gp2"), 1000), 0);
  size = sizeof(buf);
  assert_int_equal(eddy_fs_poll_getpath(&h, buf, &size), 0);
  assert_string_equal(buf, tp("gp2"));
  assert_int_equal(eddy_run(loop, EDDY_RUN_NOWAIT), 1);
  eddy_close(&h.handle, NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

static int closed;

static void on_closed(eddy_handle_t *h) {
  (void)h;
  closed++;
}

/* Stop and close at every moment: right after start (its stat still on
 * the pool), while waiting for the timer, in the callback. Nothing leaks
 * (ASan) and the loop closes (the fixture). */
/* Close on the first error: a stat that was on the pool while the test
 * unlinked the file may first see the unlink's own ctime change (the path
 * still resolved, the link count already dropped), as stat(2) allows. */
static int close_on_error(eddy_fs_poll_t *h, struct seen *s) {
  if (s->status[s->calls - 1] != 0)
    eddy_close(&h->handle, on_closed);
  return 0;
}

static void test_poll_stop_close(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_poll_t h;
  struct seen s;

  memset(&s, 0, sizeof(s));
  closed = 0;
  make_file(tp("sc"), "x");
  /* closed with the first stat held on the pool */
  test_gate_occupy_pool(&gate, loop);
  eddy_fs_poll_init(loop, &h);
  h.handle.data = &s;
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("sc"), INTERVAL), 0);
  eddy_close(&h.handle, on_closed);
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("sc"), INTERVAL),
                   EDDY_EINVAL); /* closing */
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(closed, 1);
  assert_int_equal(s.calls, 0);
  /* stopped between polls, then started again: the new start's first
   * stat only records */
  eddy_fs_poll_init(loop, &h);
  h.handle.data = &s;
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("sc"), INTERVAL), 0);
  run_for(loop, 3);
  assert_int_equal(eddy_fs_poll_stop(&h), 0);
  make_file(tp("sc"), "changed while stopped");
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("sc"), INTERVAL), 0);
  run_for(loop, 3);
  assert_int_equal(s.calls, 0);
  /* closed inside its callback */
  s.step = close_on_error;
  assert_int_equal(unlink(tp("sc")), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_true(s.calls == 1 || s.calls == 2);
  if (s.calls == 2) { /* the unlink's ctime, same file and contents */
    assert_int_equal(s.status[0], 0);
    assert_int_equal(s.curr[0].ino, s.prev[0].ino);
    assert_int_equal(s.curr[0].size, s.prev[0].size);
    assert_int_equal(s.curr[0].mtim.nsec, s.prev[0].mtim.nsec);
  }
  assert_int_equal(s.status[s.calls - 1], EDDY_ENOENT);
  assert_int_equal(closed, 2);
}

static void test_poll_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_poll_t h;

  eddy_fs_poll_init(loop, &h);
  assert_int_equal(eddy_fs_poll_start(&h, NULL, tp("x"), 10), EDDY_EINVAL);
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, NULL, 10), EDDY_EINVAL);
  assert_false(eddy_is_active(&h.handle));
  assert_int_equal(eddy_fs_poll_stop(&h), 0);
  close_now(loop, &h);
}

/* An unreferenced handle does not keep the loop alive (its timer never
 * does). */
static void test_poll_unref(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_poll_t h;
  struct seen s;

  memset(&s, 0, sizeof(s));
  make_file(tp("unref"), "x");
  eddy_fs_poll_init(loop, &h);
  h.handle.data = &s;
  assert_int_equal(eddy_fs_poll_start(&h, on_poll, tp("unref"), INTERVAL), 0);
  eddy_unref(&h.handle);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT),
                   0); /* the stat, then out */
  assert_true(eddy_is_active(&h.handle));
  close_now(loop, &h);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      FS_TEST(test_poll_story),         FS_TEST(test_poll_quiet),
      FS_TEST(test_poll_error_changes), FS_TEST(test_poll_getpath),
      FS_TEST(test_poll_stop_close),    FS_TEST(test_poll_errors),
      FS_TEST(test_poll_unref),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
