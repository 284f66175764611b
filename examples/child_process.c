/* child_process.c: spawn, exec and fork, as Node's child_process module.
 *
 * Three steps, one after the other:
 *
 *   1. spawn: `tr a-z A-Z` with a pipe on its stdin and one on its stdout;
 *      the parent writes a line, shuts its side (the child sees end of
 *      input), and reads the answer until the child closes its side.
 *   2. exec: `sleep 5` through /bin/sh with a 200 ms timeout; the child is
 *      killed with SIGTERM and the callback says so.
 *   3. fork: this program again, as a child with an IPC channel (it finds
 *      it through EDDY_CHANNEL_FD). The parent sends "ping" and gets
 *      "pong"; then it accepts a TCP connection from a client and passes
 *      the connection itself to the child inside a message. The child
 *      answers the client on that connection: the parent never touches the
 *      client's bytes. That is how Node's cluster hands connections to
 *      workers. Finally "bye" makes the child close the channel and exit.
 *
 * Output (the pid varies):
 *
 *   spawn: HELLO FROM THE PARENT (exit 0)
 *   exec: timed out, child killed by signal 15
 *   fork: child says "pong"
 *   fork: client got "served by the child, pid 12345"
 *   fork: channel closed, child exited with 0
 *
 * Exit status 0 when every step did what it says. */
#include <eddy.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
static eddy_loop_t *loop;

static void alloc_static(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  static char space[4096];

  (void)h;
  (void)suggested;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void step_exec(void);
static void step_fork(void);

/* ---- 1. spawn with pipes ------------------------------------------------- */

static eddy_process_t tr_process;
static eddy_pipe_t tr_in, tr_out;
static eddy_write_t tr_write;
static eddy_shutdown_t tr_shutdown;
static char tr_answer[128];
static size_t tr_len;
static int tr_pending = 2; /* the exit and the stdout EOF */

static void tr_step_done(void) {
  if (--tr_pending == 0)
    step_exec();
}

static void tr_exited(eddy_process_t *p, int64_t status, int sig) {
  printf("spawn: %.*s (exit %d)\n", (int)tr_len, tr_answer, (int)status);
  if (status != 0 || sig != 0 || strcmp(tr_answer, "HELLO FROM THE PARENT"))
    failures++;
  eddy_close(&p->handle, NULL);
  tr_step_done();
}

static void tr_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  if (nread > 0 && tr_len + (size_t)nread < sizeof(tr_answer)) {
    memcpy(tr_answer + tr_len, buf->base, (size_t)nread);
    tr_len += (size_t)nread;
    tr_answer[tr_len] = '\0';
  } else if (nread < 0) {
    eddy_close(&s->handle, NULL);
    tr_step_done();
  }
}

static void tr_input_done(eddy_shutdown_t *req, int status) {
  if (status != 0)
    failures++;
  eddy_close(&req->handle->handle, NULL);
}

static void step_spawn(void) {
  static char *args[] = {"tr", "a-z", "A-Z", NULL};
  static char line[] = "hello from the parent";
  eddy_stdio_container_t stdio[3];
  eddy_process_options_t o;
  eddy_buf_t buf = eddy_buf_init(line, strlen(line));

  eddy_pipe_init(loop, &tr_in, 0);
  eddy_pipe_init(loop, &tr_out, 0);
  stdio[0].flags = EDDY_CREATE_PIPE | EDDY_READABLE_PIPE;
  stdio[0].data.stream = &tr_in.stream;
  stdio[1].flags = EDDY_CREATE_PIPE | EDDY_WRITABLE_PIPE;
  stdio[1].data.stream = &tr_out.stream;
  stdio[2].flags = EDDY_INHERIT_FD;
  stdio[2].data.fd = 2;
  memset(&o, 0, sizeof(o));
  o.file = "tr";
  o.args = args;
  o.stdio = stdio;
  o.stdio_count = 3;
  o.exit_cb = tr_exited;
  if (eddy_spawn(loop, &tr_process, &o) != 0 ||
      eddy_write(&tr_write, &tr_in.stream, &buf, 1, NULL) != 0 ||
      eddy_shutdown(&tr_shutdown, &tr_in.stream, tr_input_done) != 0 ||
      eddy_read_start(&tr_out.stream, alloc_static, tr_read) != 0) {
    fprintf(stderr, "spawn failed\n");
    exit(1);
  }
}

/* ---- 2. exec with a timeout ---------------------------------------------- */

static eddy_exec_t sleeper;

static void sleeper_done(eddy_exec_t *req, int status, int64_t exit_status,
                         int term_signal) {
  (void)exit_status;
  if (status == EDDY_ETIMEDOUT)
    printf("exec: timed out, child killed by signal %d\n", term_signal);
  else
    failures++;
  eddy_exec_cleanup(req);
  step_fork();
}

static void step_exec(void) {
  eddy_exec_options_t o;

  memset(&o, 0, sizeof(o));
  o.timeout_ms = 200;
  o.kill_signal = SIGTERM;
  if (eddy_exec(loop, &sleeper, "sleep 5", &o, sleeper_done) != 0)
    failures++;
}

/* ---- 3. fork: messages and a passed TCP connection ----------------------- */

static eddy_process_t child;
static eddy_channel_t channel;
static eddy_channel_send_t send_ping, send_conn, send_bye;
static eddy_tcp_t server, accepted, client;
static eddy_connect_t client_connect;
static eddy_write_t client_write;
static char client_answer[128];
static size_t client_len;
static int fork_pending = 2; /* the disconnect and the exit */

static void fork_step_done(void) {
  if (--fork_pending == 0)
    eddy_channel_close(&channel, NULL);
}

static void conn_passed(eddy_channel_send_t *req, int status) {
  (void)req;
  if (status != 0)
    failures++;
  /* The kernel copied the descriptor into the child: ours can go. */
  eddy_close(&accepted.stream.handle, NULL);
}

static void on_connection(eddy_stream_t *s, int status) {
  if (status != 0 || eddy_tcp_init(loop, &accepted) != 0 ||
      eddy_accept(s, &accepted.stream) != 0) {
    failures++;
    return;
  }
  eddy_close(&s->handle, NULL); /* one connection is all this step needs */
  if (eddy_channel_send(&channel, &send_conn, "serve", 5, &accepted.stream,
                        conn_passed) != 0)
    failures++;
}

static void client_read(eddy_stream_t *s, ssize_t nread,
                        const eddy_buf_t *buf) {
  if (nread > 0 && client_len + (size_t)nread < sizeof(client_answer)) {
    memcpy(client_answer + client_len, buf->base, (size_t)nread);
    client_len += (size_t)nread;
  } else if (nread < 0) {
    printf("fork: client got \"%.*s\"\n", (int)client_len, client_answer);
    if (strncmp(client_answer, "served by the child", 19) != 0)
      failures++;
    eddy_close(&s->handle, NULL);
    eddy_channel_send(&channel, &send_bye, "bye", 3, NULL, NULL);
  }
}

static void client_connected(eddy_connect_t *req, int status) {
  eddy_buf_t buf = eddy_buf_init("hello?", 6);

  if (status != 0 ||
      eddy_read_start(req->handle, alloc_static, client_read) != 0 ||
      eddy_write(&client_write, req->handle, &buf, 1, NULL) != 0)
    failures++;
}

static void start_tcp_client(void) {
  struct sockaddr_in addr;
  int len = sizeof(addr);

  eddy_ip4_addr("127.0.0.1", 0, &addr);
  eddy_tcp_init(loop, &server);
  if (eddy_tcp_bind(&server, (struct sockaddr *)&addr, 0) != 0 ||
      eddy_listen(&server.stream, 8, on_connection) != 0 ||
      eddy_tcp_getsockname(&server, (struct sockaddr *)&addr, &len) != 0) {
    failures++;
    return;
  }
  eddy_tcp_init(loop, &client);
  if (eddy_tcp_connect(&client_connect, &client, (struct sockaddr *)&addr,
                       client_connected) != 0)
    failures++;
}

static void parent_message(eddy_channel_t *ch, const void *data, size_t len,
                           int has_handle) {
  (void)ch;
  (void)has_handle;
  printf("fork: child says \"%.*s\"\n", (int)len, (const char *)data);
  if (len != 4 || memcmp(data, "pong", 4) != 0)
    failures++;
  start_tcp_client();
}

static void parent_disconnect(eddy_channel_t *ch, int status) {
  (void)ch;
  if (status != 0)
    failures++;
  fork_step_done();
}

static void child_exited(eddy_process_t *p, int64_t status, int sig) {
  printf("fork: channel closed, child exited with %d\n", (int)status);
  if (status != 0 || sig != 0)
    failures++;
  eddy_close(&p->handle, NULL);
  fork_step_done();
}

static void step_fork(void) {
  static char *args[] = {"/proc/self/exe", "child", NULL};
  eddy_process_options_t o;

  memset(&o, 0, sizeof(o));
  o.file = args[0];
  o.args = args;
  o.exit_cb = child_exited;
  if (eddy_channel_init(loop, &channel, parent_message, parent_disconnect) !=
          0 ||
      eddy_fork(loop, &child, &channel, &o) != 0 ||
      eddy_channel_send(&channel, &send_ping, "ping", 4, NULL, NULL) != 0) {
    fprintf(stderr, "fork failed\n");
    exit(1);
  }
}

/* ---- the forked child --------------------------------------------------- */

static eddy_tcp_t served;
static eddy_write_t served_write;
static char served_line[64];
static eddy_channel_send_t child_reply;

static void served_written(eddy_write_t *req, int status) {
  (void)status;
  eddy_close(&req->handle->handle, NULL);
}

static void served_read(eddy_stream_t *s, ssize_t nread,
                        const eddy_buf_t *buf) {
  eddy_buf_t out;

  (void)buf;
  if (nread <= 0) {
    if (nread < 0)
      eddy_close(&s->handle, NULL);
    return;
  }
  eddy_read_stop(s);
  snprintf(served_line, sizeof(served_line), "served by the child, pid %d",
           (int)getpid());
  out = eddy_buf_init(served_line, strlen(served_line));
  eddy_write(&served_write, s, &out, 1, served_written);
}

static void child_message(eddy_channel_t *ch, const void *data, size_t len,
                          int has_handle) {
  if (has_handle && eddy_channel_pending_type(ch) == EDDY_TCP) {
    eddy_tcp_init(ch->pipe.stream.handle.loop, &served);
    if (eddy_channel_accept(ch, &served.stream) == 0)
      eddy_read_start(&served.stream, alloc_static, served_read);
  } else if (len == 4 && memcmp(data, "ping", 4) == 0) {
    eddy_channel_send(ch, &child_reply, "pong", 4, NULL, NULL);
  } else if (len == 3 && memcmp(data, "bye", 3) == 0) {
    eddy_channel_close(ch, NULL);
  }
}

static void child_disconnect(eddy_channel_t *ch, int status) {
  (void)status;
  eddy_channel_close(ch, NULL); /* the parent went away */
}

static int run_child(void) {
  static eddy_channel_t parent;

  if (eddy_channel_open_parent(loop, &parent, child_message,
                               child_disconnect) != 0)
    return 2;
  eddy_run(loop, EDDY_RUN_DEFAULT);
  return eddy_loop_close(loop) == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  loop = eddy_default_loop();
  if (argc > 1 && strcmp(argv[1], "child") == 0)
    return run_child();
  step_spawn();
  eddy_run(loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(loop) != 0)
    failures++;
  return failures == 0 ? 0 : 1;
}
