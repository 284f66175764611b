/* test_util.h: what every eddy test shares: cmocka, a recorder for event
 * order, and the clean-teardown check every test ends with. */
#ifndef EDDY_TEST_UTIL_H
#define EDDY_TEST_UTIL_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "eddy.h"

/* An append-only log of lines, compared with expected output. */
struct test_log {
  char buf[8192];
  size_t len;
};

static inline void test_log_printf(struct test_log *log, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void test_log_printf(struct test_log *log, const char *fmt, ...) {
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(log->buf + log->len, sizeof(log->buf) - log->len, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof(log->buf) - log->len);
  log->len += (size_t)n;
}

static void test_close_walk_cb(eddy_handle_t *h, void *arg) {
  (void)arg;
  if (!eddy_is_closing(h))
    eddy_close(h, NULL);
}

/* Close whatever is still open, run the close callbacks, and assert the
 * loop closes cleanly. */
static inline void test_teardown_loop(eddy_loop_t *loop) {
  eddy_walk(loop, test_close_walk_cb, NULL);
  eddy_run(loop, EDDY_RUN_DEFAULT);
  assert_int_equal(eddy_loop_close(loop), 0);
}

/* Assert that a loop with no open handles closes cleanly. */
static inline void test_assert_loop_clean(eddy_loop_t *loop) {
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_loop_close(loop), 0);
}

/* Spin (on the loop thread, as Node's busy-wait scenarios do) for ms. */
static inline void test_busy_wait_ms(uint64_t ms) {
  uint64_t end = eddy_hrtime() + ms * 1000000u;
  while (eddy_hrtime() < end)
    ;
}

/* Read a file under tests/scenarios into buf; returns its length. */
static inline size_t test_read_scenario(const char *name, char *buf,
                                        size_t cap) {
  char path[512];
  FILE *f;
  size_t n;

  snprintf(path, sizeof(path), "%s/%s", EDDY_TEST_SCENARIOS, name);
  f = fopen(path, "r");
  assert_non_null(f);
  n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return n;
}

/* The number of descriptors this process has open. */
static inline int test_count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  int n = 0;

  assert_non_null(d);
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.')
      n++;
  closedir(d);
  return n - 1; /* the directory's own descriptor */
}

/* cmocka setup/teardown pair: a test must leave as many descriptors open
 * as it found. */
static int test_fds_before;

static inline int test_fd_setup(void **state) {
  (void)state;
  test_fds_before = test_count_fds();
  return 0;
}

static inline int test_fd_teardown(void **state) {
  (void)state;
  assert_int_equal(test_count_fds(), test_fds_before);
  return 0;
}

/* Out of descriptors on purpose: the soft limit drops to 256 and /dev/null
 * fills the table but for keep_free slots; test_fds_release closes them and
 * puts the limit back. They return 0, or -1 with errno set, and assert
 * nothing, so a client thread may call them too. */
struct test_fd_fill {
  struct rlimit old;
  int fds[256];
  int n;
};

static inline int test_fds_exhaust(struct test_fd_fill *f, int keep_free) {
  struct rlimit low;
  int fd;

  f->n = 0;
  if (getrlimit(RLIMIT_NOFILE, &f->old) != 0)
    return -1;
  low = f->old;
  low.rlim_cur = 256;
  if (setrlimit(RLIMIT_NOFILE, &low) != 0)
    return -1;
  while ((fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
    if (f->n == 256) { /* more room than the limit said: give up */
      close(fd);
      errno = EINVAL;
      return -1;
    }
    f->fds[f->n++] = fd;
  }
  if (errno != EMFILE)
    return -1;
  while (keep_free-- > 0 && f->n > 0)
    close(f->fds[--f->n]);
  return 0;
}

static inline int test_fds_release(struct test_fd_fill *f) {
  while (f->n > 0)
    close(f->fds[--f->n]);
  return setrlimit(RLIMIT_NOFILE, &f->old);
}

/* 127.0.0.1:port. */
static inline struct sockaddr_in test_loopback4(int port) {
  struct sockaddr_in a;

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

#endif /* EDDY_TEST_UTIL_H */
