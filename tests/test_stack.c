/* test_stack.c: symbol names and the capture of another thread's stack
 * (src/metrics/stack.h), as the watchdog will use them: a thread spinning
 * in a known function, a thread blocked in read(), a thread that has the
 * signal blocked, and a program that owns the signal already.
 *
 * The binary links with -rdynamic (tests/CMakeLists.txt), so its global
 * functions are in the dynamic symbol table (dladdr's path); its static
 * functions are named from the file's .symtab. */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "metrics/stack.h"
#include "test_util.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1 /* signals wait for the target's next atomic or call */
#else
#define UNDER_TSAN 0
#endif

#define CAPTURE_TIMEOUT_MS 10000 /* generous: the machine may be loaded */

/* ---- code to name ------------------------------------------------------- */

/* Global (exported by -rdynamic): named through dladdr. */
__attribute__((noinline, noclone)) int test_stack_exported_fn(int x);
__attribute__((noinline, noclone)) int test_stack_exported_fn(int x) {
  __asm__ volatile("" : "+r"(x));
  return x * 3 + 1;
}

/* Static: named through the .symtab. */
__attribute__((noinline, noclone)) static int static_fn(int x) {
  __asm__ volatile("" : "+r"(x));
  return x * 5 + 2;
}

static char data_table[64]; /* an object, not a function */

static int starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* ---- threads to capture ---------------------------------------------------
 */

struct spinner {
  pthread_t thread;
  int entered; /* atomic */
  int stop;    /* atomic */
  int errno_after;
};

/* Spins until told to stop; the atomic load is also where TSan delivers
 * the signal. */
__attribute__((noinline, noclone)) static void
spin_in_static(struct spinner *sp) {
  __atomic_store_n(&sp->entered, 1, __ATOMIC_RELEASE);
  while (!__atomic_load_n(&sp->stop, __ATOMIC_ACQUIRE))
    __asm__ volatile("" ::: "memory");
}

static void *spinner_main(void *arg) {
  struct spinner *sp = arg;

  errno = EDOM; /* the handler must leave it as it was */
  spin_in_static(sp);
  sp->errno_after = errno;
  return NULL;
}

static void spinner_start(struct spinner *sp) {
  memset(sp, 0, sizeof(*sp));
  assert_int_equal(pthread_create(&sp->thread, NULL, spinner_main, sp), 0);
  while (!__atomic_load_n(&sp->entered, __ATOMIC_ACQUIRE))
    sched_yield();
}

static void spinner_stop(struct spinner *sp) {
  __atomic_store_n(&sp->stop, 1, __ATOMIC_RELEASE);
  assert_int_equal(pthread_join(sp->thread, NULL), 0);
  assert_int_equal(sp->errno_after, EDOM);
}

/* Does any frame's name start with prefix? */
static int frames_name(void **frames, int n, const char *prefix) {
  char text[EDDY__STACK_FRAMES_MAX * (EDDY__SYMBOL_MAX + 48)];
  char *line;

  assert_true(eddy__stack_format_buf(frames, n, text, sizeof(text)) > 0);
  for (line = text; *line; line = strchr(line, '\n') + 1) {
    const char *name = strchr(strchr(line, ' ') + 1, ' ') + 1;
    if (starts_with(name, prefix))
      return 1;
  }
  print_message("no frame named %s in:\n%s", prefix, text);
  return 0;
}

/* ---- symbol names -----------------------------------------------------------
 */

static void test_symbol_exported(void **state) {
  char buf[EDDY__SYMBOL_MAX];

  (void)state;
  assert_int_equal(
      eddy__symbol_name((void *)test_stack_exported_fn, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "test_stack_exported_fn");
  assert_int_equal(eddy__symbol_name((char *)(void *)test_stack_exported_fn + 1,
                                     buf, sizeof(buf)),
                   0);
  assert_string_equal(buf, "test_stack_exported_fn+0x1");
  /* A library function linked in from eddy_static. */
  assert_int_equal(eddy__symbol_name((void *)eddy_strerror, buf, sizeof(buf)),
                   0);
  assert_string_equal(buf, "eddy_strerror");
  assert_int_equal(test_stack_exported_fn(1), 4);
}

static void test_symbol_static(void **state) {
  char buf[EDDY__SYMBOL_MAX];

  (void)state;
  assert_int_equal(eddy__symbol_name((void *)static_fn, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "static_fn");
  assert_int_equal(
      eddy__symbol_name((char *)(void *)static_fn + 2, buf, sizeof(buf)), 0);
  assert_string_equal(buf, "static_fn+0x2");
  assert_int_equal(eddy__symbol_name((void *)spinner_main, buf, sizeof(buf)),
                   0);
  assert_string_equal(buf, "spinner_main");
  assert_int_equal(static_fn(1), 7);
}

/* Not a function: the module and offset; not in a module: the address. */
static void test_symbol_none(void **state) {
  char buf[EDDY__SYMBOL_MAX], want[64];
  int local = 0;

  (void)state;
  assert_int_equal(eddy__symbol_name(data_table, buf, sizeof(buf)),
                   EDDY_ENOENT);
  assert_true(starts_with(buf, "test_stack+0x"));
  assert_int_equal(eddy__symbol_name(&local, buf, sizeof(buf)), EDDY_ENOENT);
  snprintf(want, sizeof(want), "%p", (void *)&local);
  assert_string_equal(buf, want);
  assert_int_equal(eddy__symbol_name(NULL, buf, sizeof(buf)), EDDY_ENOENT);
  assert_string_equal(buf, "0x0");
}

static void test_symbol_truncates(void **state) {
  char buf[8];

  (void)state;
  memset(buf, 'z', sizeof(buf));
  assert_int_equal(eddy__symbol_name((void *)test_stack_exported_fn, buf, 5),
                   0);
  assert_string_equal(buf, "test");
  assert_int_equal(buf[5], 'z');
  assert_int_equal(eddy__symbol_name((void *)static_fn, buf, 1), 0);
  assert_string_equal(buf, "");
  assert_int_equal(eddy__symbol_name((void *)static_fn, NULL, 8), EDDY_EINVAL);
  assert_int_equal(eddy__symbol_name((void *)static_fn, buf, 0), EDDY_EINVAL);
}

/* ---- formatting
 * -------------------------------------------------------------- */

static int writes;
static int failing_write(void *arg, const char *data, size_t len) {
  (void)arg;
  assert_true(len > 0 && data[len - 1] == '\n');
  return ++writes == 2 ? EDDY_EIO : 0;
}

static void test_format(void **state) {
  int local;
  /* frames[0] exact; the others are return addresses (looked up at - 1). */
  void *frames[3] = {(void *)test_stack_exported_fn,
                     (char *)(void *)static_fn + 1, &local};
  char buf[1024], want[1024];
  int n;

  (void)state;
  n = eddy__stack_format_buf(frames, 3, buf, sizeof(buf));
  snprintf(want, sizeof(want),
           "#0 %p test_stack_exported_fn\n#1 %p static_fn+0x1\n#2 %p %p\n",
           frames[0], frames[1], frames[2], frames[2]);
  assert_string_equal(buf, want);
  assert_int_equal(n, (int)strlen(want));
  /* Whole lines only. */
  n = (int)(strchr(want, '\n') - want) + 1;
  assert_int_equal(eddy__stack_format_buf(frames, 3, buf, (size_t)n + 1),
                   EDDY_ENOBUFS);
  assert_int_equal((int)strlen(buf), n);
  assert_int_equal(eddy__stack_format_buf(frames, 3, buf, 4), EDDY_ENOBUFS);
  assert_string_equal(buf, "");
  assert_int_equal(eddy__stack_format_buf(frames, 0, buf, sizeof(buf)), 0);
  assert_int_equal(eddy__stack_format_buf(NULL, 0, buf, sizeof(buf)), 0);
  /* The writer's error stops the formatting. */
  writes = 0;
  assert_int_equal(eddy__stack_format(frames, 3, failing_write, NULL),
                   EDDY_EIO);
  assert_int_equal(writes, 2);
  assert_int_equal(eddy__stack_format(frames, 3, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy__stack_format(frames, -1, failing_write, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy__stack_format(NULL, 1, failing_write, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy__stack_format_buf(frames, 3, NULL, 10), EDDY_EINVAL);
  assert_int_equal(eddy__stack_format_buf(frames, 3, buf, 0), EDDY_EINVAL);
}

/* ---- capture
 * -------------------------------------------------------------------- */

static void test_init(void **state) {
  struct sigaction sa;

  (void)state;
  assert_int_equal(eddy__stack_capture_init(), 0);
  assert_int_equal(eddy__stack_capture_init(), 0);
  assert_int_equal(eddy__stack_signal(), SIGRTMIN + 4);
  assert_int_equal(sigaction(eddy__stack_signal(), NULL, &sa), 0);
  assert_true(sa.sa_flags & SA_RESTART);
  assert_true(sa.sa_flags & SA_SIGINFO);
}

static void test_capture_errors(void **state) {
  void *frames[4];

  (void)state;
  assert_int_equal(eddy__stack_capture(pthread_self(), NULL, 4, 100),
                   EDDY_EINVAL);
  assert_int_equal(eddy__stack_capture(pthread_self(), frames, 0, 100),
                   EDDY_EINVAL);
  assert_int_equal(eddy__stack_capture(pthread_self(), frames, 4, -1),
                   EDDY_EINVAL);
}

/* A thread spinning in a static function: the function is in its stack
 * (at frames[0], the interrupted instruction, unless TSan delays the
 * signal to its next atomic operation), and errno survives. */
static void test_capture_spinning(void **state) {
  void *frames[EDDY__STACK_FRAMES_MAX];
  struct spinner sp;
  char name[EDDY__SYMBOL_MAX];
  int n, round;

  (void)state;
  spinner_start(&sp);
  for (round = 0; round < 3; round++) {
    n = eddy__stack_capture(sp.thread, frames, EDDY__STACK_FRAMES_MAX,
                            CAPTURE_TIMEOUT_MS);
    assert_true(n > 0);
    assert_true(frames_name(frames, n, "spin_in_static"));
    assert_true(frames_name(frames, n, "spinner_main"));
    if (!UNDER_TSAN) {
      assert_int_equal(eddy__symbol_name(frames[0], name, sizeof(name)), 0);
      assert_true(starts_with(name, "spin_in_static"));
    }
  }
  /* max caps the frames written. */
  n = eddy__stack_capture(sp.thread, frames, 1, CAPTURE_TIMEOUT_MS);
  assert_int_equal(n, 1);
  spinner_stop(&sp);
}

/* The caller's own stack works too (the signal comes back to itself). */
static void test_capture_self(void **state) {
  void *frames[EDDY__STACK_FRAMES_MAX];
  int n;

  (void)state;
  n = eddy__stack_capture(pthread_self(), frames, EDDY__STACK_FRAMES_MAX,
                          CAPTURE_TIMEOUT_MS);
  assert_true(n > 0);
  assert_true(frames_name(frames, n, "test_capture_self"));
}

struct reader {
  pthread_t thread;
  int fds[2];
  long tid;     /* atomic */
  int returned; /* atomic: read() returned */
  ssize_t got;
  char byte;
  int err;
};

static void *reader_main(void *arg) {
  struct reader *rd = arg;

  __atomic_store_n(&rd->tid, (long)syscall(SYS_gettid), __ATOMIC_RELEASE);
  rd->got = read(rd->fds[0], &rd->byte, 1);
  rd->err = rd->got < 0 ? errno : 0;
  __atomic_store_n(&rd->returned, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* Is thread tid inside system call nr now? /proc/self/task/TID/syscall
 * starts with the number of the call the thread is blocked in. */
static int thread_in_syscall(long tid, long nr) {
  char path[64], text[256];
  ssize_t n;
  int fd;

  snprintf(path, sizeof(path), "/proc/self/task/%ld/syscall", tid);
  fd = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  n = read(fd, text, sizeof(text) - 1);
  close(fd);
  if (n <= 0)
    return 0;
  text[n] = '\0';
  return strtol(text, NULL, 10) == nr && text[0] >= '0' && text[0] <= '9';
}

/* A thread blocked in read() on a pipe: captured inside the call, and
 * the read then completes normally (SA_RESTART), not with EINTR. Under
 * TSan the handler runs only once read() has returned; the read must
 * still complete normally. */
static void test_capture_blocked_read(void **state) {
  void *frames[EDDY__STACK_FRAMES_MAX];
  struct reader rd;
  long tid;
  int n, waited;

  (void)state;
  memset(&rd, 0, sizeof(rd));
  assert_int_equal(pipe(rd.fds), 0);
  assert_int_equal(pthread_create(&rd.thread, NULL, reader_main, &rd), 0);
  while ((tid = __atomic_load_n(&rd.tid, __ATOMIC_ACQUIRE)) == 0)
    sched_yield();
  for (waited = 0; !thread_in_syscall(tid, SYS_read); waited++) {
    assert_true(waited < 10000); /* 10 s */
    sleep_ms(1);
  }
  if (UNDER_TSAN) {
    /* TSan keeps the signal until read() returns: its read interceptor is
     * not one of the blocking calls it delivers signals in. */
    assert_int_equal(
        eddy__stack_capture(rd.thread, frames, EDDY__STACK_FRAMES_MAX, 100),
        EDDY_ETIMEDOUT);
  } else {
    n = eddy__stack_capture(rd.thread, frames, EDDY__STACK_FRAMES_MAX,
                            CAPTURE_TIMEOUT_MS);
    assert_true(n > 0);
    assert_true(frames_name(frames, n, "read"));
    assert_true(frames_name(frames, n, "reader_main"));
  }
  /* Back inside the read after the handler (the kernel restarted it). */
  for (waited = 0; !thread_in_syscall(tid, SYS_read); waited++) {
    assert_true(waited < 10000);
    assert_false(__atomic_load_n(&rd.returned, __ATOMIC_ACQUIRE));
    sleep_ms(1);
  }
  assert_false(__atomic_load_n(&rd.returned, __ATOMIC_ACQUIRE));
  assert_int_equal(write(rd.fds[1], "x", 1), 1);
  assert_int_equal(pthread_join(rd.thread, NULL), 0);
  assert_int_equal(rd.err, 0);
  assert_int_equal(rd.got, 1);
  assert_int_equal(rd.byte, 'x');
  close(rd.fds[0]);
  close(rd.fds[1]);
}

struct blocker {
  pthread_t thread;
  int fds[2];
  int blocked; /* atomic: the signal is blocked */
  struct spinner sp;
};

/* Blocks the capture signal, waits for a byte, unblocks it (the late
 * signal is delivered then, and must do nothing), then spins. */
static void *blocker_main(void *arg) {
  struct blocker *b = arg;
  sigset_t set;
  char c;

  sigemptyset(&set);
  sigaddset(&set, eddy__stack_signal());
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  __atomic_store_n(&b->blocked, 1, __ATOMIC_RELEASE);
  if (read(b->fds[0], &c, 1) != 1)
    abort();
  pthread_sigmask(SIG_UNBLOCK, &set, NULL);
  return spinner_main(&b->sp);
}

/* A target that never answers times out, and the capture after it (of
 * another thread, then of the same one once it unblocks) still works. */
static void test_capture_blocked_signal(void **state) {
  void *frames[EDDY__STACK_FRAMES_MAX];
  struct blocker b;
  struct spinner other;
  int n;

  (void)state;
  memset(&b, 0, sizeof(b));
  assert_int_equal(pipe(b.fds), 0);
  assert_int_equal(pthread_create(&b.thread, NULL, blocker_main, &b), 0);
  while (!__atomic_load_n(&b.blocked, __ATOMIC_ACQUIRE))
    sched_yield();
  assert_int_equal(
      eddy__stack_capture(b.thread, frames, EDDY__STACK_FRAMES_MAX, 100),
      EDDY_ETIMEDOUT);
  assert_int_equal(
      eddy__stack_capture(b.thread, frames, EDDY__STACK_FRAMES_MAX, 0),
      EDDY_ETIMEDOUT);

  spinner_start(&other);
  n = eddy__stack_capture(other.thread, frames, EDDY__STACK_FRAMES_MAX,
                          CAPTURE_TIMEOUT_MS);
  assert_true(n > 0);
  assert_true(frames_name(frames, n, "spin_in_static"));
  spinner_stop(&other);

  /* Unblocked, the thread receives the two stale signals and carries on. */
  assert_int_equal(write(b.fds[1], "x", 1), 1);
  while (!__atomic_load_n(&b.sp.entered, __ATOMIC_ACQUIRE))
    sched_yield();
  n = eddy__stack_capture(b.thread, frames, EDDY__STACK_FRAMES_MAX,
                          CAPTURE_TIMEOUT_MS);
  assert_true(n > 0);
  assert_true(frames_name(frames, n, "spin_in_static"));
  __atomic_store_n(&b.sp.stop, 1, __ATOMIC_RELEASE);
  assert_int_equal(pthread_join(b.thread, NULL), 0);
  assert_int_equal(b.sp.errno_after, EDOM);
  close(b.fds[0]);
  close(b.fds[1]);
}

/* ---- a program that owns the signal
 * ------------------------------------------- */

static void program_handler(int sig) {
  (void)sig;
}

/* Runs in a fresh process (the test binary started again): the program
 * takes the signal before eddy, and eddy leaves it alone. Exit 0 when so. */
static int child_signal_taken(const char *how) {
  struct sigaction sa, now;
  void *frames[4];
  int sig = SIGRTMIN + 4;

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = strcmp(how, "ignored") == 0 ? SIG_IGN : program_handler;
  if (sigaction(sig, &sa, NULL) != 0)
    return 10;
  if (eddy__stack_capture_init() != EDDY_EBUSY)
    return 11;
  if (eddy__stack_capture(pthread_self(), frames, 4, 100) != EDDY_EBUSY)
    return 12;
  if (sigaction(sig, NULL, &now) != 0 || now.sa_handler != sa.sa_handler)
    return 13;
  return 0;
}

static void run_child(const char *how) {
  int status;
  pid_t pid = fork();

  assert_true(pid >= 0);
  if (pid == 0) {
    execl("/proc/self/exe", "test_stack", "--signal-taken", how, (char *)NULL);
    _exit(127);
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_signal_already_taken(void **state) {
  (void)state;
  run_child("handler");
  run_child("ignored");
}

int main(int argc, char **argv) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_symbol_exported),
      cmocka_unit_test(test_symbol_static),
      cmocka_unit_test(test_symbol_none),
      cmocka_unit_test(test_symbol_truncates),
      cmocka_unit_test(test_format),
      cmocka_unit_test(test_init),
      cmocka_unit_test(test_capture_errors),
      cmocka_unit_test(test_capture_spinning),
      cmocka_unit_test(test_capture_self),
      cmocka_unit_test(test_capture_blocked_read),
      cmocka_unit_test(test_capture_blocked_signal),
      cmocka_unit_test(test_signal_already_taken),
  };

  if (argc == 3 && strcmp(argv[1], "--signal-taken") == 0)
    return child_signal_taken(argv[2]);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
