/* eddy/loop.h: the event loop and the handle base every handle starts with.
 *
 * One loop per thread. A loop and its handles belong to the thread that runs
 * it: none of the functions here may be called from another thread unless
 * its comment says so. One iteration of eddy_run() runs Node's phases:
 *
 *   timers -> pending -> idle -> prepare -> poll -> check -> close
 *
 * and after every callback the loop invokes it drains the next-tick queue and
 * the microtask queue (see eddy/tick.h). docs/loop.md explains the rules.
 */
#ifndef EDDY_LOOP_H
#define EDDY_LOOP_H

#include "export.h"

#include <stddef.h>
#include <stdint.h>

#include "errno.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_loop_s eddy_loop_t;
typedef struct eddy_handle_s eddy_handle_t;

/* Every handle type, once: XX(NAME, name) gives EDDY_NAME, its name for
 * eddy_handle_type_name(), and the row of the library's table of what each
 * type does on close. The order fixes the enum values, which are not
 * libuv's: compare with the names, print with eddy_handle_type_name().
 * EDDY_FILE, after them, is no handle: it is what eddy_guess_handle()
 * says of a file (libuv's UV_FILE); its name is "file". */
#define EDDY_HANDLE_TYPE_MAP(XX)                                               \
  XX(TIMER, timer)                                                             \
  XX(IDLE, idle)                                                               \
  XX(PREPARE, prepare)                                                         \
  XX(CHECK, check)                                                             \
  XX(ASYNC, async)                                                             \
  XX(POLL, poll)                                                               \
  XX(SIGNAL, signal)                                                           \
  XX(TCP, tcp)                                                                 \
  XX(NAMED_PIPE, pipe)                                                         \
  XX(UDP, udp)                                                                 \
  XX(PROCESS, process)                                                         \
  XX(FS_POLL, fs_poll)                                                         \
  XX(FS_EVENT, fs_event)                                                       \
  XX(TTY, tty)                                                                 \
  XX(PORT, port)                                                               \
  XX(WORKER, worker)

/* Every request type, once, the same way (eddy_req_type_name()). */
#define EDDY_REQ_TYPE_MAP(XX)                                                  \
  XX(WORK, work)               /* eddy_queue_work */                           \
  XX(FS, fs)                   /* eddy_fs_* */                                 \
  XX(GETADDRINFO, getaddrinfo) /* eddy_getaddrinfo */                          \
  XX(GETNAMEINFO, getnameinfo) /* eddy_getnameinfo */                          \
  XX(CRYPTO, crypto)           /* eddy_queue_pbkdf2, eddy_queue_random */      \
  XX(CONNECT, connect)         /* eddy_tcp_connect, eddy_pipe_connect */       \
  XX(WRITE, write)             /* eddy_write, eddy_write2 */                   \
  XX(SHUTDOWN, shutdown)       /* eddy_shutdown */                             \
  XX(UDP_SEND, udp_send)       /* eddy_udp_send */                             \
  XX(EXEC, exec)               /* eddy_exec, eddy_execfile */

#define EDDY__TYPE_ENUM(name, lower) EDDY_##name,
typedef enum {
  EDDY_UNKNOWN_HANDLE = 0,
  EDDY_HANDLE_TYPE_MAP(EDDY__TYPE_ENUM) EDDY_FILE,
  EDDY_HANDLE_TYPE_MAX
} eddy_handle_type;

/* Requests: one-shot operations the caller owns until their callback. */
typedef enum {
  EDDY_UNKNOWN_REQ = 0,
  EDDY_REQ_TYPE_MAP(EDDY__TYPE_ENUM) EDDY_REQ_TYPE_MAX
} eddy_req_type;
#undef EDDY__TYPE_ENUM

typedef enum {
  EDDY_RUN_DEFAULT = 0, /* run until no referenced work is left */
  EDDY_RUN_ONCE,        /* one iteration; block in poll if there is nothing to do */
  EDDY_RUN_NOWAIT       /* one iteration; never block */
} eddy_run_mode;

typedef void (*eddy_close_cb)(eddy_handle_t *handle);
typedef void (*eddy_before_exit_cb)(eddy_loop_t *loop);
typedef void (*eddy_walk_cb)(eddy_handle_t *handle, void *arg);

/* An intrusive doubly linked list node (private; shared by all subsystems). */
typedef struct eddy_queue_s {
  struct eddy_queue_s *next;
  struct eddy_queue_s *prev;
} eddy_queue_t;

/* The common header of every handle. Public fields: data (yours) and loop
 * (read only). Cast any handle pointer to eddy_handle_t * to use the generic
 * functions below. */
struct eddy_timer_s;
struct eddy_handle_s {
  void *data;
  eddy_loop_t *loop;
  struct {
    eddy_close_cb close_cb;
    union {
      /* The loop's open-handle list, then its closing list. */
      eddy_queue_t node;
      /* A timer is never on the open-handle list (the loop's timer array
       * knows its open timers), so until it closes the same bytes hold
       * its callback and repeat: a timer is this header and nothing
       * more. */
      struct {
        void (*cb)(struct eddy_timer_s *timer);
        uint64_t repeat; /* ms; 0 = one-shot */
      } timer;
    } u;
    uint16_t type;  /* eddy_handle_type */
    uint16_t flags; /* EDDY__HANDLE_* in src/core/handle.h */
    uint32_t index; /* per type: a timer's slot in the loop's timer array */
  } priv;
};

/* A buffer for reads and writes (file system and streams). On POSIX it
 * has struct iovec's layout, so arrays of them go to readv/writev as they
 * are (src/core/io.h checks this at compile time). */
typedef struct eddy_buf_s {
  void *base;
  size_t len;
} eddy_buf_t;

static inline eddy_buf_t eddy_buf_init(void *base, size_t len) {
  eddy_buf_t b;
  b.base = base;
  b.len = len;
  return b;
}

/* Readers (streams, UDP) ask the program for a buffer before each read:
 * set buf->base and buf->len; a NULL base or zero len means "none now"
 * (the read callback then gets EDDY_ENOBUFS). suggested_size is a hint. */
typedef void (*eddy_alloc_cb)(eddy_handle_t *handle, size_t suggested_size,
                              eddy_buf_t *buf);

/* The common header of every request. Public fields: data (yours) and
 * type (read only). */
struct eddy__work_s;
struct eddy__metrics_state;
typedef struct eddy_req_s {
  void *data;
  eddy_req_type type;
  struct {
    /* The pool job behind the request while it is on the pool (what
     * eddy_cancel() reaches), else NULL. */
    struct eddy__work_s *work;
  } priv;
} eddy_req_t;

/* A file descriptor watched by the loop's backend (private; embedded in the
 * handles that own descriptors). */
typedef struct eddy_io_s eddy_io_t;
typedef void (*eddy_io_cb)(eddy_loop_t *loop, eddy_io_t *io, unsigned events);
struct eddy_io_s {
  eddy_io_cb cb;
  eddy_queue_t change_node;  /* on the loop's change list until applied */
  eddy_queue_t pending_node; /* on the loop's pending list when fed */
  int fd;
  unsigned events;     /* what the owner wants now */
  unsigned registered; /* what the backend was last told */
};

/* A part of the library that keeps per-loop state the loop must hear
 * about (private): the loop runs each registered part's wake-up function
 * when another thread or a signal handler woke it, and its close function
 * when the loop closes. See src/core/loop_internal.h. */
struct eddy__loop_part_ops;
struct eddy__loop_part {
  const struct eddy__loop_part_ops *ops;
  eddy_queue_t node;
};

struct eddy_timer_slot;
struct eddy_task;
struct eddy__fired;
struct eddy__work_s;

/* A ring of deferred callbacks (next-tick or microtask queue). */
struct eddy_task_ring {
  struct eddy_task *tasks;
  uint32_t head;
  uint32_t count;
  uint32_t cap;
};

/* The loop. Everything but data is private, grouped by the part of the
 * library that owns it. */
struct eddy_loop_s {
  void *data; /* yours */
  struct {
    struct {                   /* src/core/loop.c, handle.c */
      uint64_t time;           /* cached loop time, ms */
      unsigned active_handles; /* active, referenced, not closing */
      unsigned active_reqs;    /* atomic: pool threads may submit */
      int stop_flag;
      eddy_queue_t handles; /* every open handle but timers, in init order */
      eddy_queue_t closing; /* handles waiting for their close callback */
      eddy_queue_t parts;   /* eddy__loop_part, by their order */
      eddy_before_exit_cb before_exit;
    } core;
    struct { /* src/core/metrics.c: written by the loop, read anywhere */
      uint64_t loop_count;     /* atomic: iterations */
      uint64_t events;         /* atomic: I/O events dispatched */
      uint64_t events_waiting; /* atomic: events the last wait returned */
      uint64_t idle_ns;        /* atomic: time blocked in the poll wait */
      int idle_on;             /* EDDY_METRICS_IDLE_TIME was set */
      /* src/metrics/: set by eddy_metrics_enable, NULL while off */
      struct eddy__metrics_state *state;
      unsigned flags;       /* EDDY_METRICS_* asked for (eddy/metrics.h) */
      uint64_t hrtime;      /* ns of the last eddy_update_time */
      uint64_t wait_since;  /* atomic: ns a blocking wait began, 0: none */
      uint64_t wake;        /* atomic: ns the last wait returned */
      const void *run_cb;   /* atomic: callback running now, or NULL */
      unsigned run_type;    /* atomic: its handle type, or 256 + req type */
      unsigned active[EDDY_HANDLE_TYPE_MAX]; /* atomic: active, by type */
      unsigned run_epoch;   /* atomic: odd while eddy_run runs */
      int reqs[EDDY_REQ_TYPE_MAX]; /* atomic: in flight, by type */
    } metrics;
    struct { /* src/core/timer.c */
      /* a 4-ary min-heap keyed by (due, start sequence), followed in the
       * same array by the timers started during the timers phase, then by
       * the open timers that are not started */
      struct eddy_timer_slot *heap;
      uint32_t count;
      uint32_t deferred;
      uint32_t open; /* slots in use: every open timer, parked last */
      uint32_t cap;
      int phase;
      uint64_t base; /* loop time when the loop was initialised */
      uint64_t seq;
    } timers;
    struct {              /* src/core/timers_node.c */
      eddy_queue_t queue; /* pending immediates, in set order */
      unsigned refs;      /* of them, the referenced */
    } immediates;
    struct { /* src/core/loopwatch.c */
      eddy_queue_t idle;
      eddy_queue_t prepare;
      eddy_queue_t check;
    } watchers;
    struct { /* src/core/tick.c */
      struct eddy_task_ring ticks;
      struct eddy_task_ring microtasks;
      int draining;
    } ticks;
    struct { /* src/core/io.c and the backend */
      const struct eddy_backend *backend;
      void *backend_state;
      eddy_io_t **watchers; /* indexed by fd */
      unsigned nwatchers;
      eddy_queue_t changes;      /* watchers the backend must hear of */
      eddy_queue_t pending;      /* deferred I/O callbacks (streams) */
      struct eddy__fired *fired; /* what the last wait reported */
      int nfired;                /* entries of fired still being dispatched */
      uint64_t blocked_signals;  /* bit n-1: signal n blocked in the wait */
    } io;
    struct { /* src/core/wakeup.c */
      eddy_io_t io;
      int wfd;
      unsigned pending;  /* atomic: something asked for a dispatch */
      unsigned sleeping; /* atomic: the loop may be blocked in poll */
      int hot;           /* the last poll phase had a wake-up */
    } wakeup;
    struct { /* src/core/async.c */
      struct eddy__loop_part part;
      eddy_queue_t handles;
    } async;
    struct { /* src/pool/work.c */
      struct eddy__loop_part part;
      struct eddy__work_s *done; /* completions: a lock-free stack */
      unsigned senders;          /* pool threads inside a push; close waits */
      eddy_queue_t batch;        /* jobs queued by completion callbacks */
    } work;
    struct {          /* src/net/stream.c */
      int reserve_fd; /* spare descriptor for accepting under EMFILE, or -1 */
    } net;
  } priv;
};

/* Initialise a loop the caller owns. Selects epoll on Linux, poll(2)
 * elsewhere, or poll(2) when the environment has EDDY_BACKEND=poll.
 * Returns 0, EDDY_ENOMEM, EDDY_EMFILE or another error from the backend. */
EDDY_EXTERN int eddy_loop_init(eddy_loop_t *loop);

/* Release a loop's resources. Returns EDDY_EBUSY, changing nothing, while
 * any handle is open or closing or a request is in flight; close them and run
 * the loop first. */
EDDY_EXTERN int eddy_loop_close(eddy_loop_t *loop);

/* The process-wide default loop, initialised on first call (thread-safe).
 * Returns NULL if it could not be initialised. */
EDDY_EXTERN eddy_loop_t *eddy_default_loop(void);

/* Run the loop. DEFAULT runs until eddy_stop() or until nothing referenced is
 * left; ONCE runs one iteration, blocking in poll if nothing is ready; NOWAIT
 * runs one iteration without blocking. Returns non-zero if the loop is still
 * alive (more work would run), 0 otherwise. Must not be called re-entrantly
 * from a callback. */
EDDY_EXTERN int eddy_run(eddy_loop_t *loop, eddy_run_mode mode);

/* How long, in ms, the loop's next poll phase would block if it started
 * now: 0 when something is waiting to run (a pending callback, an idle
 * handle, a closing handle, a timer already due, a stop) or nothing keeps
 * the loop alive, -1 when only I/O
 * can wake it, else until the nearest timer, counted from the clock at the
 * call (not from the cached loop time). Programs that embed the loop in
 * another one wait this long on the loop's backend. Loop thread. */
EDDY_EXTERN int eddy_backend_timeout(const eddy_loop_t *loop);

/* The descriptor that becomes readable when the loop has I/O to handle
 * (the epoll descriptor), for running the loop inside another event loop:
 * wait for it to be readable, or for eddy_backend_timeout() ms, then call
 * eddy_run(loop, EDDY_RUN_NOWAIT). -1 with the poll(2) backend, which has
 * no such descriptor. Loop thread. */
EDDY_EXTERN int eddy_backend_fd(const eddy_loop_t *loop);

/* Options for eddy_loop_configure (values as libuv's uv_loop_option). */
typedef enum {
  /* int signum: keep that signal blocked while the loop waits in its poll
   * phase (on top of the thread's own mask), so that it is never taken
   * inside the wait, e.g. SIGPROF from a profiler. */
  EDDY_LOOP_BLOCK_SIGNAL = 0,
  /* no argument: count the time the loop spends blocked in its poll
   * wait (eddy_metrics_idle_time in eddy/metrics.h). Two clock reads per
   * wait that blocks, nothing when it does not. */
  EDDY_METRICS_IDLE_TIME = 1
} eddy_loop_option;

/* Set a loop option; may be called again to add signals. Returns 0,
 * EDDY_EINVAL (loop NULL; a signal out of range, or one that must never
 * be blocked: SIGKILL, SIGSTOP, SIGSEGV, SIGBUS, SIGFPE, SIGILL) or
 * EDDY_ENOSYS (an option this build does not know). Loop thread, between
 * runs or from a callback. */
EDDY_EXTERN int eddy_loop_configure(eddy_loop_t *loop, eddy_loop_option option,
                                    ...);

/* Node's 'beforeExit': cb(loop) runs each time eddy_run(EDDY_RUN_DEFAULT)
 * is about to return because nothing keeps the loop alive (not after
 * eddy_stop()). Work it starts (a timer, I/O, an immediate) keeps the loop
 * running, and cb runs again when the loop is empty again; if it starts
 * nothing, eddy_run returns. Next-ticks and microtasks it queues run
 * before that decision. NULL removes it. Returns 0, or EDDY_EINVAL for a
 * NULL loop. Loop thread. */
EDDY_EXTERN int eddy_loop_set_before_exit(eddy_loop_t *loop,
                                          eddy_before_exit_cb cb);

/* Make eddy_run() return after the current iteration: poll does not block. */
EDDY_EXTERN void eddy_stop(eddy_loop_t *loop);

/* Non-zero while a referenced active handle, a request in flight or a
 * closing handle remains. */
EDDY_EXTERN int eddy_loop_alive(const eddy_loop_t *loop);

/* The cached loop time in milliseconds (monotonic, arbitrary origin). It is
 * refreshed at the start of each iteration and by eddy_update_time(). */
EDDY_EXTERN uint64_t eddy_now(const eddy_loop_t *loop);

/* Refresh the cached loop time from the monotonic clock. */
EDDY_EXTERN void eddy_update_time(eddy_loop_t *loop);

/* A monotonic clock in nanoseconds, arbitrary origin. Any thread. */
EDDY_EXTERN uint64_t eddy_hrtime(void);

/* Call walk_cb once for every open or closing handle of the loop: the open
 * handles other than timers in the order they were initialised, then the
 * open timers, then the closing handles. walk_cb may close handles,
 * including ones not visited yet (they are still visited), and open new
 * ones (not visited). Not re-entrant: walk_cb must not call eddy_walk on
 * the same loop. */
EDDY_EXTERN void eddy_walk(eddy_loop_t *loop, eddy_walk_cb walk_cb, void *arg);

/* Close a handle: it stops at once and close_cb (may be NULL) runs in the
 * loop's next close phase, after which the handle's memory may be reused.
 * Safe inside any callback, including the handle's own. Returns 0, or
 * EDDY_EINVAL if the handle is already closing or its type is not one a
 * handle can close as (EDDY_UNKNOWN_HANDLE, EDDY_FILE, out of range).
 * libuv's uv_close returns nothing; eddy reports the misuse. */
EDDY_EXTERN int eddy_close(eddy_handle_t *handle, eddy_close_cb close_cb);

/* A referenced active handle keeps the loop alive; an unreferenced one still
 * runs its callbacks while something else keeps the loop alive. Handles
 * start referenced. ref and unref are idempotent. */
EDDY_EXTERN void eddy_ref(eddy_handle_t *handle);
EDDY_EXTERN void eddy_unref(eddy_handle_t *handle);
EDDY_EXTERN int eddy_has_ref(const eddy_handle_t *handle);

/* Non-zero while the handle is active (a started timer, a watching poll
 * handle, an async handle that is not closing, ...). */
EDDY_EXTERN int eddy_is_active(const eddy_handle_t *handle);

/* Non-zero once eddy_close() has been called on the handle. */
EDDY_EXTERN int eddy_is_closing(const eddy_handle_t *handle);

/* The handle's type. */
EDDY_EXTERN eddy_handle_type eddy_handle_get_type(const eddy_handle_t *handle);

/* The descriptor of a TCP, pipe, tty, UDP or poll handle, in *fd (libuv's
 * uv_fileno). Returns 0, EDDY_EINVAL (NULL arguments, a closing handle or
 * a type without a descriptor: timers, processes, ...) or EDDY_EBADF (none
 * yet). Do not close it or change its mode behind the handle's back. */
EDDY_EXTERN int eddy_fileno(const eddy_handle_t *handle, int *fd);

/* The socket's send / receive buffer size (SO_SNDBUF / SO_RCVBUF) of a
 * TCP, pipe or UDP handle: with *value 0, read into *value; else set it to
 * *value (Linux then reports twice that, its bookkeeping included).
 * Returns 0, EDDY_EINVAL (NULL arguments, a negative value), EDDY_ENOTSUP
 * (another handle type), EDDY_EBADF (no socket yet) or the system's
 * error (EDDY_ENOTSOCK: a pipe that is a pipe(2), not a socket). */
EDDY_EXTERN int eddy_send_buffer_size(eddy_handle_t *handle, int *value);
EDDY_EXTERN int eddy_recv_buffer_size(eddy_handle_t *handle, int *value);

/* The name of a handle type ("timer", "tcp", "pipe", ...), or NULL for a
 * value that is not one. */
EDDY_EXTERN const char *eddy_handle_type_name(eddy_handle_type type);

/* The name of a request type ("fs", "write", ...), or NULL for a value
 * that is not one. */
EDDY_EXTERN const char *eddy_req_type_name(eddy_req_type type);

/* The name of a backend in use ("epoll" or "poll"). */
EDDY_EXTERN const char *eddy_backend_name(const eddy_loop_t *loop);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_LOOP_H */
