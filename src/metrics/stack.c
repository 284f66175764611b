/* stack.c: the stack of another thread, taken by a signal handler.
 *
 * Protocol (one capture at a time, under `lock` on the monitor side). One
 * 32-bit word, `state`, holds the capture's number and its phase:
 *
 *   monitor: state = (gen, PENDING); pthread_sigqueue(target, gen)
 *   handler: CAS (gen, PENDING) -> (gen, CLAIMED); backtrace into the slot;
 *            state = (gen, DONE); futex wake
 *   monitor: waits on the futex until (gen, DONE), copies the slot, IDLE;
 *            at its deadline, CAS (gen, PENDING) -> (gen, IDLE): from then
 *            on a late handler finds the wrong word and does nothing.
 *
 * The number travels in the signal's value, so a stray or late signal
 * (another capture's, or one sent with kill) never claims the slot: the
 * CAS fails. The slot is eddy's, not the caller's, so a handler that
 * answers after the caller gave up writes into memory that is still
 * valid; while that handler holds CLAIMED the next capture gets
 * EDDY_EBUSY. */
#include "metrics/stack.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "eddy/errno.h"

#if defined(__linux__) && defined(__GLIBC__)
#include <execinfo.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#define EDDY__STACK_SUPPORTED 1
#endif

#ifdef EDDY__STACK_SUPPORTED

/* The signal is SIGRTMIN + this (see stack.h). */
#define EDDY__STACK_SIGNAL_OFFSET 4
/* Frames the handler takes: the caller's maximum plus room for the
 * handler's own frames, which are dropped. */
#define EDDY__STACK_SLOT (EDDY__STACK_FRAMES_MAX + 8)

enum { PHASE_IDLE, PHASE_PENDING, PHASE_CLAIMED, PHASE_DONE };
#define PHASE_MASK 3u
#define GEN_MASK 0x3fffffffu /* gen << 2 fits 32 bits; sent as an int */
#define WORD(gen, phase) (((uint32_t)(gen) << 2) | (phase))

static struct {
  pthread_once_t once;
  int init_result;
  int signo;
  pthread_mutex_t lock; /* one capture at a time */
  uint32_t gen;         /* under lock: the last capture's number */
  uint32_t state;       /* atomic: WORD(gen, phase); the futex word */
  /* Written by the handler while it holds CLAIMED, read by the monitor
   * after it sees DONE (acquire). */
  int count;
  int skip;
  void *frames[EDDY__STACK_SLOT];
} eddy__stack = {
    PTHREAD_ONCE_INIT, 0, 0, PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0, {0}};

/* The interrupted instruction, from the signal context, or NULL. */
static void *eddy__stack_pc(void *ucontext) {
  ucontext_t *uc = ucontext;

  if (uc == NULL)
    return NULL;
#if defined(__x86_64__)
  return (void *)uc->uc_mcontext.gregs[REG_RIP];
#elif defined(__i386__)
  return (void *)uc->uc_mcontext.gregs[REG_EIP];
#elif defined(__aarch64__)
  return (void *)uc->uc_mcontext.pc;
#else
  return NULL;
#endif
}

/* Runs in the handler: backtrace() into the slot, then the frames to drop.
 * Not inlined, so that its return address is a known frame: the handler's.
 * Everything from there up (handler, trampoline, a sanitizer's frames) is
 * dropped; if the interrupted PC appears after it, the stack starts there. */
__attribute__((noinline, noclone)) static void
eddy__stack_take(void *ucontext) {
  void *in_handler = __builtin_return_address(0);
  void *pc = eddy__stack_pc(ucontext);
  int n = backtrace(eddy__stack.frames, EDDY__STACK_SLOT), i, skip = 0;

  for (i = 0; i < n; i++)
    if (eddy__stack.frames[i] == in_handler) {
      skip = i + 1;
      break;
    }
  for (i = skip; pc != NULL && i < n && i < skip + 4; i++)
    if (eddy__stack.frames[i] == pc) {
      skip = i;
      break;
    }
  eddy__stack.count = n;
  eddy__stack.skip = skip;
}

static void eddy__stack_handler(int signo, siginfo_t *si, void *ucontext) {
  int saved_errno = errno;
  uint32_t gen, expect;

  (void)signo;
  if (si != NULL && si->si_code == SI_QUEUE && si->si_pid == getpid()) {
    gen = (uint32_t)si->si_value.sival_int & GEN_MASK;
    expect = WORD(gen, PHASE_PENDING);
    if (__atomic_compare_exchange_n(&eddy__stack.state, &expect,
                                    WORD(gen, PHASE_CLAIMED), 0,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
      eddy__stack_take(ucontext);
      __atomic_store_n(&eddy__stack.state, WORD(gen, PHASE_DONE),
                       __ATOMIC_RELEASE);
      syscall(SYS_futex, &eddy__stack.state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
              0);
    }
  }
  errno = saved_errno;
}

static void eddy__stack_init_once(void) {
  struct sigaction sa, old;
  void *probe[4];
  int signo = SIGRTMIN + EDDY__STACK_SIGNAL_OFFSET;

  if (signo > SIGRTMAX) {
    eddy__stack.init_result = EDDY_ENOSYS;
    return;
  }
  if (sigaction(signo, NULL, &old) != 0) {
    eddy__stack.init_result = -errno;
    return;
  }
  /* SIG_DFL only: a handler, or SIG_IGN, is the program's choice. */
  if (!(old.sa_flags & SA_SIGINFO) && old.sa_handler == SIG_DFL) {
    /* The first backtrace() loads libgcc_s (dlopen, malloc): do it here,
     * never in the handler. */
    backtrace(probe, 4);
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = eddy__stack_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&sa.sa_mask);
    if (sigaction(signo, &sa, NULL) != 0) {
      eddy__stack.init_result = -errno;
      return;
    }
    eddy__stack.signo = signo;
    eddy__stack.init_result = 0;
    return;
  }
  eddy__stack.init_result = EDDY_EBUSY;
}

int eddy__stack_capture_init(void) {
  pthread_once(&eddy__stack.once, eddy__stack_init_once);
  return eddy__stack.init_result;
}

int eddy__stack_signal(void) {
  return SIGRTMIN + EDDY__STACK_SIGNAL_OFFSET;
}

static uint64_t eddy__stack_now_ns(void) {
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits until state leaves `seen` or ns pass (spurious wake-ups are fine:
 * the caller looks again). */
static void eddy__stack_futex_wait(uint32_t seen, uint64_t ns) {
  struct timespec ts;

  ts.tv_sec = (time_t)(ns / 1000000000u);
  ts.tv_nsec = (long)(ns % 1000000000u);
  syscall(SYS_futex, &eddy__stack.state, FUTEX_WAIT_PRIVATE, seen, &ts, NULL,
          0);
}

/* Copies the slot into frames and frees it; the frame count. */
static int eddy__stack_collect(void **frames, int max) {
  int n = eddy__stack.count - eddy__stack.skip;

  n = n < 0 ? 0 : n > max ? max : n;
  memcpy(frames, eddy__stack.frames + eddy__stack.skip,
         (size_t)n * sizeof(*frames));
  __atomic_store_n(&eddy__stack.state, WORD(eddy__stack.gen, PHASE_IDLE),
                   __ATOMIC_RELEASE);
  return n;
}

/* Waits for the handler of capture gen; under lock. */
static int eddy__stack_wait(void **frames, int max, int timeout_ms) {
  uint32_t done = WORD(eddy__stack.gen, PHASE_DONE);
  uint64_t deadline = eddy__stack_now_ns() + (uint64_t)timeout_ms * 1000000u;

  for (;;) {
    uint32_t s = __atomic_load_n(&eddy__stack.state, __ATOMIC_ACQUIRE);
    uint64_t now;

    if (s == done)
      return eddy__stack_collect(frames, max);
    now = eddy__stack_now_ns();
    if (now >= deadline) {
      uint32_t expect = WORD(eddy__stack.gen, PHASE_PENDING);
      if (__atomic_compare_exchange_n(&eddy__stack.state, &expect,
                                      WORD(eddy__stack.gen, PHASE_IDLE), 0,
                                      __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
        return EDDY_ETIMEDOUT;
      if (expect == done)
        return eddy__stack_collect(frames, max);
      return EDDY_ETIMEDOUT; /* claimed: the handler is still running */
    }
    eddy__stack_futex_wait(s, deadline - now);
  }
}

static int eddy__stack_capture_locked(pthread_t target, void **frames, int max,
                                      int timeout_ms) {
  uint32_t s = __atomic_load_n(&eddy__stack.state, __ATOMIC_ACQUIRE);
  union sigval value;
  int r;

  if ((s & PHASE_MASK) == PHASE_CLAIMED)
    return EDDY_EBUSY;
  eddy__stack.gen = (eddy__stack.gen + 1) & GEN_MASK;
  __atomic_store_n(&eddy__stack.state, WORD(eddy__stack.gen, PHASE_PENDING),
                   __ATOMIC_RELEASE);
  memset(&value, 0, sizeof(value));
  value.sival_int = (int)eddy__stack.gen;
  r = pthread_sigqueue(target, eddy__stack.signo, value);
  if (r != 0) {
    /* Nothing was sent, so no handler can hold this number. */
    __atomic_store_n(&eddy__stack.state, WORD(eddy__stack.gen, PHASE_IDLE),
                     __ATOMIC_RELEASE);
    return -r;
  }
  return eddy__stack_wait(frames, max, timeout_ms);
}

int eddy__stack_capture(pthread_t target, void **frames, int max,
                        int timeout_ms) {
  int r = eddy__stack_capture_init();

  if (r != 0)
    return r;
  if (frames == NULL || max <= 0 || timeout_ms < 0)
    return EDDY_EINVAL;
  pthread_mutex_lock(&eddy__stack.lock);
  r = eddy__stack_capture_locked(target, frames, max, timeout_ms);
  pthread_mutex_unlock(&eddy__stack.lock);
  return r;
}

#else /* !EDDY__STACK_SUPPORTED */

int eddy__stack_capture_init(void) {
  return EDDY_ENOSYS;
}

int eddy__stack_signal(void) {
  return EDDY_ENOSYS;
}

int eddy__stack_capture(pthread_t target, void **frames, int max,
                        int timeout_ms) {
  (void)target;
  (void)frames;
  (void)max;
  (void)timeout_ms;
  return EDDY_ENOSYS;
}

#endif
