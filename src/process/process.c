/* process.c: child processes.
 *
 * Spawning: the parent prepares one descriptor per child slot (a socketpair
 * end, an inherited descriptor, or nothing for /dev/null), moves any that
 * sit below the slot count out of the way so that placing them cannot
 * clobber each other, and starts the child with posix_spawn (a vfork-style
 * clone in glibc: no page-table copy, and the exec error comes back to the
 * parent). Only setuid/setgid need a fork, which has its own small child
 * path with an error pipe. In the child, every descriptor beyond the slots
 * is closed and every signal is unblocked and back to its default.
 *
 * Reaping: each loop that spawned watches SIGCHLD with an internal signal
 * handle (unreferenced, invisible to eddy_walk). When it fires, the loop
 * calls waitpid(pid, WNOHANG) for each of its own children, so several
 * loops never steal each other's exit statuses, and no one blocks. */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/handle.h"
#include "core/io.h"
#include "core/loop_internal.h"
#include "eddy/process.h"
#include "eddy/signal.h"
#include "core/wakeup.h"
#include "net/stream_internal.h"

extern char **environ;

/* Per-loop state, made by the first spawn. */
struct eddy_process_state {
  struct eddy__loop_part part; /* the loop finds its state through it */
  eddy_signal_t sigchld;
  eddy_queue_t running; /* eddy_process_t.priv.node */
  eddy_queue_t reaped;  /* exited: reported after the next poll's I/O */
  eddy_queue_t due;     /* exited: reported in this wake-up */
  int *orphans;         /* children of closed handles, still to reap */
  unsigned norphans;
  unsigned orphan_cap;
};

/* ---- reaping ----------------------------------------------------------- */

static void eddy__process_reap_orphans(struct eddy_process_state *st) {
  unsigned i = 0;
  int status;

  while (i < st->norphans) {
    pid_t r = waitpid(st->orphans[i], &status, WNOHANG);

    if (r == 0 || (r == -1 && errno == EINTR)) {
      i++;
      continue;
    }
    st->orphans[i] = st->orphans[--st->norphans]; /* reaped, or not ours */
  }
}

static void eddy__process_wakeup(eddy_loop_t *loop,
                                 struct eddy__loop_part *part);
static void eddy__process_loop_close(eddy_loop_t *loop,
                                     struct eddy__loop_part *part);

static const struct eddy__loop_part_ops eddy__process_part = {
    .name = "process",
    .order = EDDY__PART_PROCESS,
    .wakeup = eddy__process_wakeup,
    .close = eddy__process_loop_close,
};

/* The loop's process state, or NULL before its first spawn. */
static struct eddy_process_state *eddy__process_state_of(eddy_loop_t *loop) {
  struct eddy__loop_part *p = eddy__loop_part_find(loop, &eddy__process_part);

  return p != NULL ? eddy__container_of(p, struct eddy_process_state, part)
                   : NULL;
}

/* SIGCHLD: reap this loop's exited children (each by its pid, so loops
 * never take each other's). Their exits are reported later, after the I/O
 * of the next poll phase: a child's descriptors are closed before it is
 * reported exited, so by then the end of its output is there to read, and
 * as in Node the end comes before the exit. The wake-up makes that poll
 * phase not block. */
static void eddy__process_on_sigchld(eddy_signal_t *sig, int signum) {
  eddy_loop_t *loop = sig->handle.loop;
  struct eddy_process_state *st =
      eddy__container_of(sig, struct eddy_process_state, sigchld);
  eddy_queue_t *node, *next;

  (void)signum;
  eddy__process_reap_orphans(st);
  for (node = st->running.next; node != &st->running; node = next) {
    eddy_process_t *p = eddy__container_of(node, eddy_process_t, priv.node);
    pid_t r;

    assert(p->pid > 0 && !p->priv.reaped && eddy__handle_active(&p->handle));
    next = node->next;
    do
      r = waitpid(p->pid, &p->priv.status, WNOHANG);
    while (r == -1 && errno == EINTR);
    if (r == 0)
      continue;
    if (r == -1) /* reaped behind our back: no status to report */
      p->priv.status = 0;
    p->priv.reaped = 1; /* gone: nothing may be sent to its number now */
    eddy__queue_remove(node);
    eddy__queue_insert_tail(&st->reaped, node);
  }
  if (!eddy__queue_empty(&st->reaped))
    eddy__wakeup_signal(loop);
}

/* Report the exits reaped before the last poll phase; those reaped since
 * wait for the next one. */
static void eddy__process_wakeup(eddy_loop_t *loop,
                                 struct eddy__loop_part *part) {
  struct eddy_process_state *st =
      eddy__container_of(part, struct eddy_process_state, part);
  eddy_queue_t batch;

  /* Callbacks may close or spawn processes: the batch is ours. */
  eddy__queue_move(&st->due, &batch);
  while (!eddy__queue_empty(&batch)) {
    eddy_process_t *p = eddy__container_of(batch.next, eddy_process_t,
                                           priv.node);
    int status = p->priv.status;

    assert(p->priv.reaped && eddy__handle_active(&p->handle));
    eddy__queue_remove(batch.next);
    eddy__handle_stop(&p->handle);
    if (p->priv.exit_cb != NULL) {
      p->priv.exit_cb(p, WIFEXITED(status) ? WEXITSTATUS(status) : 0,
                      WIFSIGNALED(status) ? WTERMSIG(status) : 0);
      eddy__after_callback(loop);
    }
  }
  eddy__queue_move(&st->reaped, &st->due);
  if (!eddy__queue_empty(&st->due))
    eddy__wakeup_signal(loop);
}

static int eddy__process_state(eddy_loop_t *loop) {
  struct eddy_process_state *st;
  int err;

  if (eddy__process_state_of(loop) != NULL)
    return 0;
  st = calloc(1, sizeof(*st));
  if (st == NULL)
    return EDDY_ENOMEM;
  eddy__queue_init(&st->running);
  eddy__queue_init(&st->reaped);
  eddy__queue_init(&st->due);
  if ((err = eddy_signal_init(loop, &st->sigchld)) != 0) {
    free(st);
    return err;
  }
  /* Internal: not in the handle list (eddy_walk, eddy_loop_close) and not
   * keeping the loop alive; the children's handles do that. */
  eddy__queue_remove(&st->sigchld.handle.priv.u.node);
  eddy__queue_init(&st->sigchld.handle.priv.u.node);
  eddy_unref(&st->sigchld.handle);
  if ((err = eddy_signal_start(&st->sigchld, eddy__process_on_sigchld,
                               SIGCHLD)) != 0) {
    free(st);
    return err;
  }
  eddy__loop_part_add(loop, &st->part, &eddy__process_part);
  return 0;
}

static void eddy__process_loop_close(eddy_loop_t *loop,
                                     struct eddy__loop_part *part) {
  struct eddy_process_state *st =
      eddy__container_of(part, struct eddy_process_state, part);

  (void)loop;
  assert(eddy__queue_empty(&st->running) && eddy__queue_empty(&st->reaped) &&
         eddy__queue_empty(&st->due));
  eddy_signal_stop(&st->sigchld);
  eddy__process_reap_orphans(st); /* the rest outlive the loop */
  free(st->orphans);
  free(st);
}

/* A closed handle's child is still reaped, without a callback. */
static void eddy__process_close(eddy_handle_t *h) {
  eddy_process_t *p = (eddy_process_t *)h;
  struct eddy_process_state *st;

  eddy__queue_remove(&p->priv.node); /* running, or reaped and not told */
  if (p->pid == 0 || p->priv.reaped)
    return; /* never started, or reaped */
  assert(p->pid > 0);
  st = eddy__process_state_of(h->loop);
  assert(st != NULL);
  if (st->norphans == st->orphan_cap) {
    unsigned cap = st->orphan_cap ? st->orphan_cap * 2 : 8;
    int *grown = realloc(st->orphans, cap * sizeof(*grown));

    if (grown == NULL)
      return; /* cannot remember it: it stays a zombie until we exit */
    st->orphans = grown;
    st->orphan_cap = cap;
  }
  st->orphans[st->norphans++] = p->pid;
}

/* ---- the child's descriptors -------------------------------------------- */

/* One slot: the descriptor the child gets there (-1: /dev/null), the
 * parent's end of a new socketpair (-1 if none), and whether fd is a
 * temporary the parent must close after spawning. */
struct eddy__slot {
  int fd;
  int parent_end;
  int temporary;
};

static void eddy__slots_release(struct eddy__slot *slots, int n) {
  int i;

  for (i = 0; i < n; i++) {
    if (slots[i].temporary)
      close(slots[i].fd);
    if (slots[i].parent_end != -1)
      close(slots[i].parent_end);
  }
}

/* The child gets its inherited descriptors blocking, as programs expect
 * (libuv does the same). O_NONBLOCK belongs to the open file, which the
 * parent shares: a pipe, FIFO or terminal is opened again through
 * /proc/self/fd for the child, so the parent's stays as it is; a socket
 * (or a file) cannot be, and is made blocking for both. eddy's own socket
 * I/O passes MSG_DONTWAIT on every call, so a parent stream on such a
 * socket still never blocks. */
static int eddy__slot_blocking(struct eddy__slot *slot) {
  int flags = fcntl(slot->fd, F_GETFL);
  struct stat st;

  if (flags == -1)
    return -errno;
  if (!(flags & O_NONBLOCK))
    return 0;
  if (fstat(slot->fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
    char path[32];
    int fd;

    snprintf(path, sizeof(path), "/proc/self/fd/%d", slot->fd);
    /* O_NONBLOCK for the open only: a FIFO's open must not wait. */
    fd = open(path, (flags & (O_ACCMODE | O_APPEND)) | O_NONBLOCK |
                        O_NOCTTY | O_CLOEXEC);
    if (fd >= 0) {
      if (eddy__set_nonblock(fd, 0) == 0) {
        if (slot->temporary)
          close(slot->fd);
        slot->fd = fd;
        slot->temporary = 1;
        return 0;
      }
      close(fd);
    }
  }
  return eddy__set_nonblock(slot->fd, 0);
}

static int eddy__slot_prepare(struct eddy__slot *slot,
                              const eddy_stdio_container_t *c) {
  int sv[2];

  slot->fd = -1;
  slot->parent_end = -1;
  slot->temporary = 0;
  if (c == NULL || c->flags == EDDY_IGNORE)
    return 0;
  if (c->flags & EDDY_CREATE_PIPE) {
    if (c->data.stream == NULL ||
        c->data.stream->handle.priv.type != EDDY_NAMED_PIPE ||
        eddy__stream_fd(c->data.stream) != -1)
      return EDDY_EINVAL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      return -errno;
    slot->parent_end = sv[0];
    slot->fd = sv[1];
    slot->temporary = 1;
    return 0;
  }
  if (c->flags & EDDY_INHERIT_FD) {
    if (c->data.fd < 0)
      return EDDY_EINVAL;
    slot->fd = c->data.fd;
    return eddy__slot_blocking(slot);
  }
  if (c->flags & EDDY_INHERIT_STREAM) {
    if (c->data.stream == NULL || eddy__stream_fd(c->data.stream) == -1)
      return EDDY_EINVAL;
    slot->fd = eddy__stream_fd(c->data.stream);
    return eddy__slot_blocking(slot);
  }
  return EDDY_EINVAL;
}

/* A descriptor below n that is not already in its own slot could be
 * overwritten while the slots are filled: move it to n or above. One in
 * its own slot stays if it is inheritable; if it is close-on-exec (our own
 * socket that landed there), it moves too, and the dup2 back clears the
 * flag. */
static int eddy__slots_untangle(struct eddy__slot *slots, int n) {
  int i;

  for (i = 0; i < n; i++) {
    int fd = slots[i].fd;
    int moved;

    if (fd < 0 || fd >= n)
      continue;
    if (fd == i && !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
      continue;
    moved = fcntl(fd, F_DUPFD_CLOEXEC, n);
    if (moved == -1)
      return -errno;
    if (slots[i].temporary)
      close(fd);
    slots[i].fd = moved;
    slots[i].temporary = 1;
  }
  /* Now placing slot i can clobber only slot i's own descriptor. */
  for (i = 0; i < n; i++)
    assert(slots[i].fd < 0 || slots[i].fd >= n || slots[i].fd == i);
  return 0;
}

/* ---- starting the child -------------------------------------------------- */

/* The program's path: file itself if it has a slash; else the first
 * executable match in the child's PATH when its environment names one
 * (*path NULL: let posix_spawnp search the parent's). */
static int eddy__process_find(const char *file, char *const *env,
                              char **path) {
  const char *p = NULL;
  size_t flen = strlen(file);
  char *const *e;
  int err = EDDY_ENOENT;

  *path = NULL;
  if (strchr(file, '/') != NULL || env == NULL)
    return 0;
  for (e = env; *e != NULL; e++)
    if (strncmp(*e, "PATH=", 5) == 0)
      p = *e + 5;
  if (p == NULL)
    return 0;
  while (*p != '\0') {
    const char *end = strchr(p, ':');
    size_t dlen = end != NULL ? (size_t)(end - p) : strlen(p);
    char *cand = malloc(dlen + flen + 3);

    if (cand == NULL)
      return EDDY_ENOMEM;
    /* An empty PATH entry means the current directory. */
    memcpy(cand, dlen ? p : ".", dlen ? dlen : 1);
    cand[dlen ? dlen : 1] = '/';
    memcpy(cand + (dlen ? dlen : 1) + 1, file, flen + 1);
    if (access(cand, X_OK) == 0) {
      *path = cand;
      return 0;
    }
    if (errno == EACCES)
      err = EDDY_EACCES;
    free(cand);
    if (end == NULL)
      break;
    p = end + 1;
  }
  return err;
}

static int eddy__spawn_posix(const eddy_process_options_t *o,
                             const char *path, char *const *args,
                             char *const *env, struct eddy__slot *slots,
                             int n, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  sigset_t none, all;
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  int err = 0;
  int i;

  if ((err = posix_spawn_file_actions_init(&fa)) != 0)
    return -err;
  if ((err = posix_spawnattr_init(&attr)) != 0) {
    posix_spawn_file_actions_destroy(&fa);
    return -err;
  }
  if (o->cwd != NULL)
    err = posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
  for (i = 0; err == 0 && i < n; i++) {
    if (slots[i].fd == -1)
      err = posix_spawn_file_actions_addopen(&fa, i, "/dev/null", O_RDWR, 0);
    else if (slots[i].fd != i)
      err = posix_spawn_file_actions_adddup2(&fa, slots[i].fd, i);
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
  /* Only the slots, even if the program left other descriptors
   * inheritable. */
  if (err == 0)
    err = posix_spawn_file_actions_addclosefrom_np(&fa, n);
#endif
  sigemptyset(&none);
  sigfillset(&all);
  if (o->flags & EDDY_PROCESS_DETACHED)
    flags |= POSIX_SPAWN_SETSID;
  if (err == 0)
    err = posix_spawnattr_setsigmask(&attr, &none);
  if (err == 0)
    err = posix_spawnattr_setsigdefault(&attr, &all);
  if (err == 0)
    err = posix_spawnattr_setflags(&attr, flags);
  if (err == 0)
    err = path != NULL
              ? posix_spawn(pid, path, &fa, &attr, args, env)
              : posix_spawnp(pid, o->file, &fa, &attr, args, env);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  return -err;
}

/* The child side of a fork: async-signal-safe calls only. */
static void eddy__child_exec(const eddy_process_options_t *o,
                             const char *path, char *const *args,
                             char *const *env, const struct eddy__slot *slots,
                             int n, int error_fd) {
  sigset_t none;
  int err;
  int i;

  if ((o->flags & EDDY_PROCESS_DETACHED) && setsid() == -1)
    goto fail;
  for (i = 0; i < n; i++) {
    int fd = slots[i].fd;

    if (fd == -1 && (fd = open("/dev/null", O_RDWR)) == -1)
      goto fail;
    if (fd != i && dup2(fd, i) == -1)
      goto fail;
  }
  if (o->cwd != NULL && chdir(o->cwd) != 0)
    goto fail;
  if ((o->flags & (EDDY_PROCESS_SETUID | EDDY_PROCESS_SETGID)) &&
      setgroups(0, NULL) != 0 && errno != EPERM)
    goto fail;
  if ((o->flags & EDDY_PROCESS_SETGID) && setgid(o->gid) != 0)
    goto fail;
  if ((o->flags & EDDY_PROCESS_SETUID) && setuid(o->uid) != 0)
    goto fail;
  for (i = 1; i < NSIG; i++)
    signal(i, SIG_DFL);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (path != NULL)
    execve(path, args, env);
  else
    execvpe(o->file, args, env);
fail:
  err = errno;
  while (write(error_fd, &err, sizeof(err)) == -1 && errno == EINTR)
    ;
  _exit(127);
}

static int eddy__spawn_fork(const eddy_process_options_t *o,
                            const char *path, char *const *args,
                            char *const *env, struct eddy__slot *slots, int n,
                            pid_t *pid) {
  int errpipe[2];
  int child_err = 0;
  ssize_t r;

  if (pipe2(errpipe, O_CLOEXEC) != 0)
    return -errno;
  *pid = fork();
  if (*pid == -1) {
    close(errpipe[0]);
    close(errpipe[1]);
    return -errno;
  }
  if (*pid == 0)
    eddy__child_exec(o, path, args, env, slots, n, errpipe[1]);
  close(errpipe[1]);
  /* The pipe closes at exec (success) or carries errno (failure). */
  do
    r = read(errpipe[0], &child_err, sizeof(child_err));
  while (r == -1 && errno == EINTR);
  close(errpipe[0]);
  if (r == (ssize_t)sizeof(child_err)) {
    while (waitpid(*pid, NULL, 0) == -1 && errno == EINTR)
      ;
    return -child_err;
  }
  return 0;
}

static int eddy__process_check(const eddy_process_options_t *o) {
  if (o == NULL || o->file == NULL || o->stdio_count < 0 ||
      (o->stdio_count > 0 && o->stdio == NULL))
    return EDDY_EINVAL;
  if (o->flags & ~(unsigned)(EDDY_PROCESS_SETUID | EDDY_PROCESS_SETGID |
                             EDDY_PROCESS_DETACHED))
    return EDDY_EINVAL;
  return 0;
}

int eddy_spawn(eddy_loop_t *loop, eddy_process_t *process,
               const eddy_process_options_t *o) {
  char *const default_args[] = {(char *)(o != NULL ? o->file : NULL), NULL};
  char *const *args;
  char *const *env;
  struct eddy__slot *slots;
  char *path = NULL;
  pid_t pid = 0;
  int n;
  int err;
  int i;

  if ((err = eddy__process_check(o)) != 0 ||
      (err = eddy__process_state(loop)) != 0)
    return err;
  args = o->args != NULL ? o->args : default_args;
  env = o->env != NULL ? o->env : environ;
  n = o->stdio_count > 3 ? o->stdio_count : 3;
  slots = calloc((size_t)n, sizeof(*slots));
  if (slots == NULL)
    return EDDY_ENOMEM;
  for (i = 0; i < n; i++) {
    err = eddy__slot_prepare(&slots[i], i < o->stdio_count ? &o->stdio[i]
                                                           : NULL);
    if (err != 0) {
      eddy__slots_release(slots, i);
      free(slots);
      return err;
    }
  }
  err = eddy__slots_untangle(slots, n);
  if (err == 0)
    err = eddy__process_find(o->file, o->env, &path);
  if (err == 0) {
    if (o->flags & (EDDY_PROCESS_SETUID | EDDY_PROCESS_SETGID))
      err = eddy__spawn_fork(o, path, args, env, slots, n, &pid);
    else
      err = eddy__spawn_posix(o, path, args, env, slots, n, &pid);
  }
  free(path);
  if (err != 0) {
    eddy__slots_release(slots, n);
    free(slots);
    return err;
  }
  /* The child has its copies: keep the parent's ends of new pipes. */
  for (i = 0; i < n; i++) {
    if (slots[i].temporary)
      close(slots[i].fd);
    if (slots[i].parent_end != -1) {
      eddy_stream_t *s = o->stdio[i].data.stream;

      eddy__set_nonblock(slots[i].parent_end, 1);
      eddy__stream_open(s, slots[i].parent_end,
                        EDDY__STREAM_READABLE | EDDY__STREAM_WRITABLE |
                            EDDY__STREAM_SOCKET);
    }
  }
  free(slots);
  eddy__handle_init(loop, &process->handle, EDDY_PROCESS);
  process->pid = pid;
  process->priv.exit_cb = o->exit_cb;
  process->priv.status = 0;
  process->priv.reaped = 0;
  eddy__queue_insert_tail(&eddy__process_state_of(loop)->running,
                          &process->priv.node);
  eddy__handle_start(&process->handle);
  return 0;
}

int eddy_process_kill(eddy_process_t *process, int signum) {
  if (process->pid == 0 || process->priv.reaped)
    return EDDY_ESRCH;
  return eddy_kill(process->pid, signum);
}

int eddy_kill(int pid, int signum) {
  return kill(pid, signum) != 0 ? -errno : 0;
}

int eddy_process_get_pid(const eddy_process_t *process) {
  return process->pid;
}

const struct eddy__handle_ops eddy__process_ops = {.close =
                                                       eddy__process_close};
