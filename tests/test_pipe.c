/* test_pipe.c: Unix pipes: paths and abstract names, socket-file
 * permissions, pipe(2) ends, names, errors, and IPC: a live TCP connection
 * passed over a pipe and served by the receiver. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_stream_model.h"
#include "test_util.h"

static char dir[64];
static char sock_path[128];

static int setup_dir(void **state) {
  (void)state;
  strcpy(dir, "/tmp/eddy-pipe-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(sock_path, sizeof(sock_path), "%s/sock", dir);
  return 0;
}

static int remove_dir(void **state) {
  (void)state;
  unlink(sock_path);
  rmdir(dir);
  return 0;
}

static char read_space[4096];

static void alloc_static(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = eddy_buf_init(read_space, sizeof(read_space));
}

/* ---- a path: listen, connect, exchange, names --------------------------- */

struct path_state {
  eddy_pipe_t server, conn, client;
  eddy_connect_t connect_req;
  eddy_write_t write_req;
  char got[16];
  size_t got_len;
  int eof;
};

static struct path_state pst;

static void path_server_read(eddy_stream_t *s, ssize_t nread,
                             const eddy_buf_t *buf) {
  if (nread == EDDY_EOF) {
    pst.eof = 1;
    eddy_close(&s->handle, NULL);
    eddy_close(&pst.server.stream.handle, NULL);
    return;
  }
  assert_true(nread >= 0);
  memcpy(pst.got + pst.got_len, buf->base, (size_t)nread);
  pst.got_len += (size_t)nread;
}

static void path_on_connection(eddy_stream_t *server, int status) {
  char name[128];
  size_t len = sizeof(name);

  assert_int_equal(status, 0);
  assert_int_equal(eddy_pipe_init(server->handle.loop, &pst.conn, 0), 0);
  assert_int_equal(eddy_accept(server, &pst.conn.stream), 0);
  assert_int_equal(eddy_pipe_getsockname(&pst.conn, name, &len), 0);
  assert_string_equal(name, sock_path);
  assert_int_equal(eddy_read_start(&pst.conn.stream, alloc_static,
                                   path_server_read),
                   0);
}

static void path_written(eddy_write_t *req, int status) {
  assert_int_equal(status, 0);
  eddy_close(&req->handle->handle, NULL);
}

static void path_connected(eddy_connect_t *req, int status) {
  static char msg[] = "pipe!";
  eddy_buf_t buf = eddy_buf_init(msg, 5);
  char name[128];
  size_t len = sizeof(name);

  assert_int_equal(status, 0);
  assert_int_equal(eddy_pipe_getpeername(&pst.client, name, &len), 0);
  assert_string_equal(name, sock_path);
  assert_int_equal(len, strlen(sock_path));
  len = 3;
  assert_int_equal(eddy_pipe_getpeername(&pst.client, name, &len),
                   EDDY_ENOBUFS);
  assert_int_equal(len, strlen(sock_path) + 1);
  assert_int_equal(eddy_write(&pst.write_req, req->handle, &buf, 1,
                              path_written),
                   0);
}

static void test_path_listen_connect(void **state) {
  eddy_loop_t loop;
  struct stat st;

  (void)state;
  memset(&pst, 0, sizeof(pst));
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &pst.server, 0), 0);
  assert_int_equal(eddy_handle_get_type(&pst.server.stream.handle),
                   EDDY_NAMED_PIPE);
  assert_int_equal(eddy_listen(&pst.server.stream, 8, path_on_connection),
                   EDDY_EINVAL); /* not bound */
  assert_int_equal(eddy_pipe_bind(&pst.server, sock_path), 0);
  assert_int_equal(eddy_pipe_bind(&pst.server, sock_path), EDDY_EBUSY);
  assert_int_equal(eddy_pipe_chmod(&pst.server, 0), EDDY_EINVAL);
  assert_int_equal(eddy_pipe_chmod(&pst.server,
                                   EDDY_PIPE_READABLE | EDDY_PIPE_WRITABLE),
                   0);
  assert_int_equal(stat(sock_path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 0666, 0666);
  assert_int_equal(eddy_listen(&pst.server.stream, 8, path_on_connection), 0);
  assert_int_equal(eddy_pipe_init(&loop, &pst.client, 0), 0);
  assert_int_equal(eddy_pipe_connect(&pst.connect_req, &pst.client, sock_path,
                                     path_connected),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(pst.got_len, 5);
  assert_memory_equal(pst.got, "pipe!", 5);
  assert_int_equal(pst.eof, 1);
  test_assert_loop_clean(&loop);
  assert_int_equal(unlink(sock_path), 0);
}

/* ---- errors ---------------------------------------------------------------- */

static int connect_status;

static void record_connect(eddy_connect_t *req, int status) {
  connect_status = status;
  eddy_close(&req->handle->handle, NULL);
}

static void keep_connect_status(eddy_connect_t *req, int status) {
  (void)req;
  connect_status = status;
}

static void test_errors(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t a, b;
  eddy_connect_t req;
  char longname[200];
  char name[8];
  size_t len = sizeof(name);

  (void)state;
  memset(longname, 'x', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &a, 0), 0);
  assert_int_equal(eddy_pipe_init(&loop, &b, 0), 0);
  assert_int_equal(eddy_pipe_bind(&a, longname), EDDY_ENAMETOOLONG);
  assert_int_equal(eddy_pipe_bind(&a, ""), EDDY_EINVAL);
  assert_int_equal(eddy_pipe_bind(&a, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_pipe_getsockname(&a, name, &len), EDDY_EBADF);
  assert_int_equal(eddy_pipe_chmod(&a, EDDY_PIPE_READABLE), EDDY_EINVAL);
  assert_int_equal(eddy_pipe_bind(&a, "/nonexistent-dir/sock"), EDDY_ENOENT);
  assert_int_equal(eddy_pipe_pending_count(&a), 0);
  assert_int_equal(eddy_pipe_pending_type(&a), EDDY_UNKNOWN_HANDLE);
  /* The handle is still usable after a failed bind. */
  assert_int_equal(eddy_pipe_bind(&a, sock_path), 0);
  assert_int_equal(eddy_pipe_bind(&b, sock_path), EDDY_EADDRINUSE);
  eddy_close(&a.stream.handle, NULL);
  assert_int_equal(unlink(sock_path), 0);
  /* Nobody at the path: ENOENT, from the loop. */
  connect_status = 1;
  assert_int_equal(eddy_pipe_connect(&req, &b, sock_path, record_connect), 0);
  assert_int_equal(connect_status, 1);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(connect_status, EDDY_ENOENT);
  test_assert_loop_clean(&loop);
}


/* Out of descriptors: a connect cannot create its socket and says
 * EMFILE (from the call or through its callback); once descriptors free
 * up, the same handle connects. */
static void emfile_on_connection(eddy_stream_t *server, int status) {
  (void)server;
  (void)status; /* the accepted connection is not needed */
}

static void test_connect_out_of_descriptors(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t server, client;
  eddy_connect_t req;
  struct test_fd_fill fill;
  int err;

  (void)state;
  connect_status = 1;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &server, 0), 0);
  assert_int_equal(eddy_pipe_bind(&server, sock_path), 0);
  assert_int_equal(eddy_listen(&server.stream, 8, emfile_on_connection), 0);
  assert_int_equal(eddy_pipe_init(&loop, &client, 0), 0);
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  err = eddy_pipe_connect(&req, &client, sock_path, keep_connect_status);
  if (err == 0)
    assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 1);
  else
    connect_status = err;
  assert_int_equal(test_fds_release(&fill), 0);
  assert_true(connect_status == EDDY_EMFILE || connect_status == EDDY_ENFILE);
  connect_status = 1;
  assert_int_equal(
      eddy_pipe_connect(&req, &client, sock_path, keep_connect_status), 0);
  while (connect_status == 1)
    assert_true(eddy_run(&loop, EDDY_RUN_ONCE) >= 0);
  assert_int_equal(connect_status, 0);
  test_teardown_loop(&loop);
  assert_int_equal(unlink(sock_path), 0);
}

/* ---- abstract names (Linux) ------------------------------------------------- */

static void abstract_on_connection(eddy_stream_t *server, int status) {
  eddy_pipe_t *conn = malloc(sizeof(*conn));
  char name[64];
  size_t len = sizeof(name);

  assert_int_equal(status, 0);
  assert_non_null(conn);
  assert_int_equal(eddy_pipe_init(server->handle.loop, conn, 0), 0);
  assert_int_equal(eddy_accept(server, &conn->stream), 0);
  assert_int_equal(eddy_pipe_getsockname(conn, name, &len), 0);
  assert_true(len > 1 && name[0] == '\0');
  assert_memory_equal(name + 1, "eddy-test-abstract", len - 1);
  eddy_close(&conn->stream.handle, (eddy_close_cb)free);
  eddy_close(&server->handle, NULL);
}

static void test_abstract_name(void **state) {
#ifdef __linux__
  static const char name[] = "\0eddy-test-abstract";
  eddy_loop_t loop;
  eddy_pipe_t server, client;
  eddy_connect_t req;

  (void)state;
  connect_status = 1;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &server, 0), 0);
  assert_int_equal(eddy_pipe_bind2(&server, name, sizeof(name) - 1), 0);
  assert_int_equal(eddy_pipe_chmod(&server, EDDY_PIPE_READABLE), EDDY_EINVAL);
  assert_int_equal(eddy_listen(&server.stream, 4, abstract_on_connection), 0);
  assert_int_equal(eddy_pipe_init(&loop, &client, 0), 0);
  assert_int_equal(eddy_pipe_connect2(&req, &client, name, sizeof(name) - 1,
                                      record_connect),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(connect_status, 0);
  test_assert_loop_clean(&loop);
#else
  (void)state;
  skip();
#endif
}

/* ---- pipe(2) ends ------------------------------------------------------------ */

static size_t pipe_got;
static int pipe_eof;

static void pipe_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  (void)buf;
  if (nread == EDDY_EOF) {
    pipe_eof = 1;
    eddy_close(&s->handle, NULL);
    return;
  }
  assert_true(nread >= 0);
  pipe_got += (size_t)nread;
}

static void pipe_written(eddy_write_t *req, int status) {
  assert_int_equal(status, 0);
  eddy_close(&req->handle->handle, NULL);
}

static void test_pipe2_ends(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t r, w;
  eddy_write_t req;
  static char data[100000];
  eddy_buf_t buf = eddy_buf_init(data, sizeof(data));
  int fds[2];

  (void)state;
  pipe_got = 0;
  pipe_eof = 0;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &r, 0), 0);
  assert_int_equal(eddy_pipe_init(&loop, &w, 0), 0);
  assert_int_equal(eddy_pipe_open(&r, fds[0]), 0);
  assert_int_equal(eddy_pipe_open(&w, fds[1]), 0);
  assert_int_equal(eddy_pipe_open(&w, fds[1]), EDDY_EBUSY);
  assert_true(eddy_is_readable(&r.stream));
  assert_false(eddy_is_writable(&r.stream));
  assert_true(eddy_is_writable(&w.stream));
  assert_false(eddy_is_readable(&w.stream));
  assert_int_equal(eddy_write(&req, &r.stream, &buf, 1, NULL), EDDY_EPIPE);
  /* 100 kB does not fit a 64 kB pipe: part waits in the queue. */
  assert_int_equal(eddy_write(&req, &w.stream, &buf, 1, pipe_written), 0);
  assert_true(w.stream.write_queue_size > 0);
  assert_int_equal(eddy_read_start(&r.stream, alloc_static, pipe_read), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(pipe_got, sizeof(data));
  assert_int_equal(pipe_eof, 1);
  test_assert_loop_clean(&loop);
}

/* ---- IPC: pass a live TCP connection and serve it in the receiver ------- */

struct ipc_state {
  eddy_tcp_t server;   /* accepts the client */
  eddy_tcp_t accepted; /* the connection, then handed over */
  eddy_tcp_t client;   /* the remote client */
  eddy_pipe_t sender, receiver;
  eddy_tcp_t served;   /* the receiver's copy of the connection */
  eddy_connect_t connect_req;
  eddy_write_t pass_req, client_write, serve_write;
  char reply[32];
  size_t reply_len;
  int passed;
  int received_handles;
};

static struct ipc_state is;

static void served_read(eddy_stream_t *s, ssize_t nread,
                        const eddy_buf_t *buf) {
  static char answer[32];
  eddy_buf_t out;

  if (nread <= 0) {
    if (nread < 0)
      eddy_close(&s->handle, NULL);
    return;
  }
  /* Serve the request on the received connection: answer "ok:<request>". */
  memcpy(answer, "ok:", 3);
  memcpy(answer + 3, buf->base, (size_t)nread);
  out = eddy_buf_init(answer, (size_t)nread + 3);
  assert_int_equal(eddy_write(&is.serve_write, s, &out, 1, NULL), 0);
}

static void receiver_read(eddy_stream_t *s, ssize_t nread,
                          const eddy_buf_t *buf) {
  (void)buf;
  if (nread == EDDY_EOF) {
    eddy_close(&s->handle, NULL);
    return;
  }
  while (eddy_pipe_pending_count(&is.receiver) > 0) {
    assert_int_equal(eddy_pipe_pending_type(&is.receiver), EDDY_TCP);
    assert_int_equal(eddy_tcp_init(s->handle.loop, &is.served), 0);
    assert_int_equal(eddy_accept(s, &is.served.stream), 0);
    is.received_handles++;
    assert_int_equal(eddy_read_start(&is.served.stream, alloc_static,
                                     served_read),
                     0);
  }
}

static void passed(eddy_write_t *req, int status) {
  assert_int_equal(status, 0);
  is.passed = 1;
  /* The sender lets go of its copy; the receiver's stays open. */
  eddy_close(&is.accepted.stream.handle, NULL);
  eddy_close(&req->handle->handle, NULL);
}

static void ipc_on_connection(eddy_stream_t *server, int status) {
  static char note[] = "take it";
  eddy_buf_t buf = eddy_buf_init(note, 7);

  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(server->handle.loop, &is.accepted), 0);
  assert_int_equal(eddy_accept(server, &is.accepted.stream), 0);
  eddy_close(&server->handle, NULL);
  assert_int_equal(eddy_write2(&is.pass_req, &is.sender.stream, &buf, 1,
                               &is.accepted.stream, passed),
                   0);
}

static void client_read(eddy_stream_t *s, ssize_t nread,
                        const eddy_buf_t *buf) {
  if (nread <= 0)
    return;
  memcpy(is.reply + is.reply_len, buf->base, (size_t)nread);
  is.reply_len += (size_t)nread;
  if (is.reply_len == 8) {
    eddy_close(&s->handle, NULL);
    eddy_close(&is.served.stream.handle, NULL);
  }
}

static void client_connected(eddy_connect_t *req, int status) {
  static char request[] = "hello";
  eddy_buf_t buf = eddy_buf_init(request, 5);

  assert_int_equal(status, 0);
  assert_int_equal(eddy_read_start(req->handle, alloc_static, client_read), 0);
  assert_int_equal(eddy_write(&is.client_write, req->handle, &buf, 1, NULL),
                   0);
}

static void test_ipc_pass_tcp_connection(void **state) {
  eddy_loop_t loop;
  struct sockaddr_in addr = test_loopback4(0);
  eddy_write_t req;
  eddy_buf_t buf = eddy_buf_init("x", 1);
  struct sockaddr_storage ss;
  int len = sizeof(ss);
  int sv[2];

  (void)state;
  memset(&is, 0, sizeof(is));
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &is.sender, 1), 0);
  assert_int_equal(eddy_pipe_init(&loop, &is.receiver, 1), 0);
  assert_int_equal(is.sender.ipc, 1);
  assert_int_equal(eddy_pipe_open(&is.sender, sv[0]), 0);
  assert_int_equal(eddy_pipe_open(&is.receiver, sv[1]), 0);
  assert_int_equal(eddy_read_start(&is.receiver.stream, alloc_static,
                                   receiver_read),
                   0);
  assert_int_equal(eddy_tcp_init(&loop, &is.server), 0);
  assert_int_equal(eddy_tcp_bind(&is.server, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(eddy_listen(&is.server.stream, 8, ipc_on_connection), 0);
  assert_int_equal(eddy_tcp_init(&loop, &is.client), 0);
  /* write2 needs an IPC pipe and a handle with a descriptor. */
  assert_int_equal(eddy_write2(&req, &is.server.stream, &buf, 1,
                               &is.server.stream, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_write2(&req, &is.sender.stream, &buf, 1,
                               &is.client.stream, NULL),
                   EDDY_EBADF);
  assert_int_equal(eddy_tcp_getsockname(&is.server, (struct sockaddr *)&ss,
                                        &len),
                   0);
  addr = test_loopback4(ntohs(((struct sockaddr_in *)&ss)->sin_port));
  assert_int_equal(eddy_tcp_connect(&is.connect_req, &is.client,
                                    (struct sockaddr *)&addr,
                                    client_connected),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(is.passed, 1);
  assert_int_equal(is.received_handles, 1);
  assert_int_equal(is.reply_len, 8);
  assert_memory_equal(is.reply, "ok:hello", 8);
  test_assert_loop_clean(&loop);
}

/* The byte-stream model test (test_stream_model.h) over a socketpair, in
 * plain and in IPC mode (whose writes go through sendmsg). */
static void test_random_ops_against_model(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t a, b;
  unsigned seed;
  int ipc, sv[2];

  (void)state;
  for (ipc = 0; ipc <= 1; ipc++)
    for (seed = 1; seed <= 4; seed++) {
      assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                       0);
      assert_int_equal(eddy_loop_init(&loop), 0);
      assert_int_equal(eddy_pipe_init(&loop, &a, ipc), 0);
      assert_int_equal(eddy_pipe_init(&loop, &b, ipc), 0);
      assert_int_equal(eddy_pipe_open(&a, sv[0]), 0);
      assert_int_equal(eddy_pipe_open(&b, sv[1]), 0);
      stream_model_run(&loop, &a.stream, &b.stream, seed + 100 * ipc,
                       seed % 2 == 0);
      test_teardown_loop(&loop);
    }
}

/* A socket whose peer has gone: every write path (one buffer: send; several:
 * sendmsg) reports EDDY_EPIPE and raises no SIGPIPE (SIGPIPE keeps its
 * default action here, which would end the test program). */
static int gone_status[2];
static void gone_written(eddy_write_t *req, int status) {
  gone_status[req->req.data != NULL] = status;
}

static void test_write_to_gone_peer_is_epipe(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t p;
  char a[3] = "abc", b[3] = "def";
  eddy_buf_t bufs[2] = {eddy_buf_init(a, 3), eddy_buf_init(b, 3)};
  eddy_write_t one, two;
  int sv[2];

  (void)state;
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &p, 0), 0);
  assert_int_equal(eddy_pipe_open(&p, sv[0]), 0);
  assert_int_equal(close(sv[1]), 0);
  assert_int_equal(eddy_try_write(&p.stream, bufs, 1), EDDY_EPIPE);
  assert_int_equal(eddy_try_write(&p.stream, bufs, 2), EDDY_EPIPE);
  gone_status[0] = gone_status[1] = 1;
  one.req.data = NULL;
  two.req.data = &two;
  assert_int_equal(eddy_write(&one, &p.stream, bufs, 1, gone_written), 0);
  assert_int_equal(eddy_write(&two, &p.stream, bufs, 2, gone_written), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  assert_int_equal(gone_status[0], EDDY_EPIPE);
  assert_int_equal(gone_status[1], EDDY_EPIPE);
  test_teardown_loop(&loop);
}

/* A pipe handle that stopped reading gives its descriptor back: a second
 * handle on the same fd may read from it. */
static int second_reads;
static char second_buf[16];

static void second_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = eddy_buf_init(second_buf, sizeof(second_buf));
}

static void second_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *buf) {
  (void)buf;
  if (n > 0) {
    second_reads++;
    eddy_read_stop(s);
  }
}

static void test_second_handle_after_read_stop(void **state) {
  eddy_loop_t loop;
  eddy_pipe_t first, second;
  int fds[2];

  (void)state;
  assert_int_equal(pipe(fds), 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_pipe_init(&loop, &first, 0), 0);
  assert_int_equal(eddy_pipe_init(&loop, &second, 0), 0);
  assert_int_equal(eddy_pipe_open(&first, fds[0]), 0);
  /* The same descriptor in both: at teardown the second close of it fails
   * quietly (EBADF; nothing opens a descriptor in between). */
  assert_int_equal(eddy_pipe_open(&second, fds[0]), 0);
  assert_int_equal(eddy_read_start(&first.stream, second_alloc, second_read),
                   0);
  assert_int_equal(eddy_read_stop(&first.stream), 0);
  assert_int_equal(eddy_read_start(&second.stream, second_alloc, second_read),
                   0);
  assert_int_equal(write(fds[1], "hi", 2), 2);
  second_reads = 0;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(second_reads, 1);
  test_teardown_loop(&loop);
  close(fds[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_path_listen_connect),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_connect_out_of_descriptors),
      cmocka_unit_test(test_abstract_name),
      cmocka_unit_test(test_pipe2_ends),
      cmocka_unit_test(test_ipc_pass_tcp_connection),
      cmocka_unit_test(test_write_to_gone_peer_is_epipe),
      cmocka_unit_test(test_random_ops_against_model),
      cmocka_unit_test(test_second_handle_after_read_stop),
  };
  return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
