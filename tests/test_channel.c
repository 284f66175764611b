/* test_channel.c: framed IPC message channels and fork.
 *
 * Over socketpairs in one process: empty, one-byte and 64 KiB messages
 * and the size limit on both sides; many messages back to back and a byte
 * stream split at arbitrary points; a TCP connection and a listening
 * server passed with a message and then served by the receiver; several
 * handle messages in a row (each descriptor lands with its own message);
 * malformed frames and a peer that dies mid-message; disconnect on both
 * sides; closing inside a callback; unref; eddy_channel_open_parent. With
 * tests/channel_child.c: ping/pong, the child's environment, a 100 KiB
 * echo, a TCP connection served by the child, a child that dies mid-frame
 * or is killed, and fork's errors. Every test checks /proc/self/fd for
 * leaks and runs under an unreferenced guard timer. */
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test_util.h"

#define GUARD_MS 20000
#define MAX_MSGS 1100

/* ---- shared helpers ------------------------------------------------------ */

static void guard_fired(eddy_timer_t *t) {
  (void)t;
  fail_msg("test timed out");
}

/* Fail instead of hanging; unreferenced, so it never keeps a loop alive. */
static void guard_start(eddy_loop_t *loop, eddy_timer_t *guard) {
  assert_int_equal(eddy_timer_init(loop, guard), 0);
  assert_int_equal(eddy_timer_start(guard, guard_fired, GUARD_MS, 0), 0);
  eddy_unref(&guard->handle);
}

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* ---- a recorder behind each channel (channel->data) ----------------------- */

struct msg {
  char *data;
  size_t len;
  int has_handle;
};

struct rec;
typedef void (*rec_hook)(eddy_channel_t *ch, struct rec *r, const void *data,
                         size_t len, int has_handle);

struct rec {
  struct msg m[MAX_MSGS];
  int nmsg;
  int disconnects;
  int status;
  int closed;
  int close_on_disconnect;
  int close_after; /* close the channel once this many messages came */
  rec_hook hook;
  void *arg;
};

static void rec_closed(eddy_handle_t *h) {
  struct rec *r = ((eddy_channel_t *)h)->data;

  r->closed++;
}

static void rec_message(eddy_channel_t *ch, const void *data, size_t len,
                        int has_handle) {
  struct rec *r = ch->data;
  struct msg *m;

  assert_true(r->nmsg < MAX_MSGS);
  m = &r->m[r->nmsg++];
  m->data = malloc(len + 1);
  assert_non_null(m->data);
  if (len > 0)
    memcpy(m->data, data, len);
  m->data[len] = '\0';
  m->len = len;
  m->has_handle = has_handle;
  if (r->hook != NULL)
    r->hook(ch, r, data, len, has_handle);
  if (r->close_after > 0 && r->nmsg == r->close_after)
    eddy_channel_close(ch, rec_closed);
}

static void rec_disconnect(eddy_channel_t *ch, int status) {
  struct rec *r = ch->data;

  r->disconnects++;
  r->status = status;
  assert_true(eddy_channel_is_disconnected(ch));
  if (r->close_on_disconnect)
    eddy_channel_close(ch, rec_closed);
}

static void rec_free(struct rec *r) {
  int i;

  for (i = 0; i < r->nmsg; i++)
    free(r->m[i].data);
  r->nmsg = 0;
}

static void channel_init(eddy_loop_t *loop, eddy_channel_t *ch,
                         struct rec *r) {
  memset(r, 0, sizeof(*r));
  assert_int_equal(eddy_channel_init(loop, ch, rec_message, rec_disconnect),
                   0);
  ch->data = r;
}

/* Two channels over one socketpair. */
static void pair_open(eddy_loop_t *loop, eddy_channel_t *a, struct rec *ra,
                      eddy_channel_t *b, struct rec *rb) {
  int sv[2];

  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  channel_init(loop, a, ra);
  channel_init(loop, b, rb);
  assert_int_equal(eddy_channel_open_fd(a, sv[0]), 0);
  assert_int_equal(eddy_channel_open_fd(b, sv[1]), 0);
}

/* A channel whose peer is a raw descriptor the test writes by hand. */
static int raw_open(eddy_loop_t *loop, eddy_channel_t *ch, struct rec *r) {
  int sv[2];

  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  channel_init(loop, ch, r);
  assert_int_equal(eddy_channel_open_fd(ch, sv[0]), 0);
  return sv[1];
}

static void write_all(int fd, const void *data, size_t len) {
  const char *p = data;

  while (len > 0) {
    ssize_t n = write(fd, p, len);

    assert_true(n > 0);
    p += n;
    len -= (size_t)n;
  }
}

/* Send with an optional descriptor, in one sendmsg. */
static void send_with_fds(int fd, const void *data, size_t len,
                          const int *fds, int nfds) {
  union {
    char space[CMSG_SPACE(4 * sizeof(int))];
    struct cmsghdr align;
  } control;
  struct iovec iov = {(void *)data, len};
  struct msghdr msg;
  struct cmsghdr *c;

  memset(&msg, 0, sizeof(msg));
  memset(&control, 0, sizeof(control));
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (nfds > 0) {
    msg.msg_control = control.space;
    msg.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
  }
  assert_int_equal(sendmsg(fd, &msg, 0), (ssize_t)len);
}

static void frame_header(unsigned char *h, uint32_t len, uint32_t flags) {
  put_be32(h, len);
  put_be32(h + 4, flags);
}

static int send_status[MAX_MSGS];
static int send_calls;

static void count_sent(eddy_channel_send_t *req, int status) {
  send_status[(intptr_t)req->req.data] = status;
  send_calls++;
}

/* ---- errors of the API itself -------------------------------------------- */

static void test_api_errors(void **state) {
  eddy_loop_t loop;
  eddy_channel_t ch, other;
  eddy_channel_send_t req;
  eddy_timer_t timer;
  struct rec r, ro;
  int sv[2];
  int fd;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_channel_init(NULL, &ch, NULL, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_channel_init(&loop, NULL, NULL, NULL), EDDY_EINVAL);
  channel_init(&loop, &ch, &r);
  assert_int_equal(eddy_channel_get_max_message(&ch),
                   EDDY_CHANNEL_MAX_MESSAGE);
  assert_int_equal(eddy_channel_open_fd(NULL, 0), EDDY_EINVAL);
  assert_int_equal(eddy_channel_open_fd(&ch, -1), EDDY_EBADF);
  fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  assert_true(fd >= 0);
  assert_int_equal(eddy_channel_open_fd(&ch, fd), EDDY_ENOTSOCK);
  close(fd);
  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(eddy_channel_open_fd(&ch, sv[0]), EDDY_EPROTOTYPE);
  close(sv[0]);
  close(sv[1]);
  /* Not open yet: nothing to send on. */
  assert_int_equal(eddy_channel_send(&ch, &req, "x", 1, NULL, NULL),
                   EDDY_EBADF);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  assert_int_equal(eddy_channel_open_fd(&ch, sv[0]), 0);
  assert_int_equal(eddy_channel_open_fd(&ch, sv[1]), EDDY_EBUSY);
  close(sv[1]);
  assert_int_equal(eddy_channel_send(NULL, &req, "x", 1, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_channel_send(&ch, NULL, "x", 1, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_channel_send(&ch, &req, NULL, 1, NULL, NULL),
                   EDDY_EINVAL);
  /* A handle must be a stream with a descriptor. */
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_int_equal(eddy_channel_send(&ch, &req, "x", 1,
                                     (eddy_stream_t *)&timer, NULL),
                   EDDY_EINVAL);
  channel_init(&loop, &other, &ro);
  assert_int_equal(eddy_channel_send(&ch, &req, "x", 1, &other.pipe.stream,
                                     NULL),
                   EDDY_EBADF);
  /* No message, no handle. */
  assert_int_equal(eddy_channel_accept(&ch, &other.pipe.stream), EDDY_EAGAIN);
  assert_int_equal(eddy_channel_accept(NULL, &other.pipe.stream),
                   EDDY_EINVAL);
  assert_int_equal(eddy_channel_accept(&ch, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_channel_pending_type(&ch), EDDY_UNKNOWN_HANDLE);
  assert_int_equal(eddy_channel_set_max_message(NULL, 1), EDDY_EINVAL);
  if (SIZE_MAX > EDDY_CHANNEL_MAX_LIMIT)
    assert_int_equal(eddy_channel_set_max_message(
                         &ch, EDDY_CHANNEL_MAX_LIMIT + (size_t)1),
                     EDDY_EINVAL);
  assert_int_equal(eddy_channel_set_max_message(&ch, EDDY_CHANNEL_MAX_LIMIT),
                   0);
  assert_int_equal(eddy_channel_get_max_message(&ch), EDDY_CHANNEL_MAX_LIMIT);
  assert_false(eddy_channel_is_disconnected(&ch));
  eddy_channel_close(&ch, rec_closed);
  eddy_channel_close(&ch, rec_closed); /* a second close does nothing */
  assert_true(eddy_channel_is_disconnected(&ch));
  assert_int_equal(eddy_channel_send(&ch, &req, "x", 1, NULL, NULL),
                   EDDY_EPIPE);
  assert_int_equal(eddy_channel_open_fd(&ch, 0), EDDY_EBUSY);
  eddy_channel_close(&other, rec_closed);
  eddy_close(&timer.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.closed, 1);
  assert_int_equal(ro.closed, 1);
  assert_int_equal(r.disconnects, 0);
  test_assert_loop_clean(&loop);
}

/* ---- message sizes ----------------------------------------------------------- */

static void test_sizes(void **state) {
  static char big[65536];
  static char over[101];
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t a, b;
  struct rec ra, rb;
  eddy_channel_send_t req[5];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(big); i++)
    big[i] = (char)(i * 7 + i / 251);
  memset(over, 'o', sizeof(over));
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  pair_open(&loop, &a, &ra, &b, &rb);
  send_calls = 0;
  for (i = 0; i < 5; i++)
    req[i].req.data = (void *)(intptr_t)i;
  assert_int_equal(eddy_channel_send(&a, &req[0], NULL, 0, NULL, count_sent),
                   0);
  assert_int_equal(eddy_channel_send(&a, &req[1], "z", 1, NULL, count_sent),
                   0);
  assert_ptr_equal(req[1].channel, &a);
  assert_int_equal(req[1].req.type, EDDY_WRITE);
  assert_int_equal(eddy_channel_send(&a, &req[2], big, sizeof(big), NULL,
                                     count_sent),
                   0);
  /* Just over a lowered maximum fails at once; exactly at it goes. */
  assert_int_equal(eddy_channel_set_max_message(&a, 100), 0);
  assert_int_equal(eddy_channel_send(&a, &req[3], over, 101, NULL,
                                     count_sent),
                   EDDY_EMSGSIZE);
  assert_int_equal(eddy_channel_send(&a, &req[3], over, 100, NULL,
                                     count_sent),
                   0);
  assert_int_equal(eddy_channel_set_max_message(&a, 0), 0);
  assert_int_equal(eddy_channel_send(&a, &req[4], "z", 1, NULL, count_sent),
                   EDDY_EMSGSIZE);
  assert_int_equal(eddy_channel_send(&a, &req[4], NULL, 0, NULL, count_sent),
                   0);
  rb.close_after = 5;
  rb.close_on_disconnect = 1;
  ra.close_on_disconnect = 1;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(send_calls, 5);
  for (i = 0; i < 5; i++)
    assert_int_equal(send_status[i], 0);
  assert_int_equal(rb.nmsg, 5);
  assert_int_equal(rb.m[0].len, 0);
  assert_int_equal(rb.m[1].len, 1);
  assert_memory_equal(rb.m[1].data, "z", 1);
  assert_int_equal(rb.m[2].len, sizeof(big));
  assert_memory_equal(rb.m[2].data, big, sizeof(big));
  assert_int_equal(rb.m[3].len, 100);
  assert_memory_equal(rb.m[3].data, over, 100);
  assert_int_equal(rb.m[4].len, 0);
  for (i = 0; i < 5; i++)
    assert_false(rb.m[i].has_handle);
  /* b closed after its fifth message: a saw a clean end. */
  assert_int_equal(ra.disconnects, 1);
  assert_int_equal(ra.status, 0);
  assert_int_equal(rb.disconnects, 0);
  assert_int_equal(ra.closed + rb.closed, 2);
  rec_free(&ra);
  rec_free(&rb);
  test_teardown_loop(&loop);
}

/* A receiver with a lower maximum than its sender disconnects on the
 * header, before buffering the body; so does an absurd length. */
static void test_receiver_max(void **state) {
  static char body[200];
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t a, b, c;
  struct rec ra, rb, rc;
  eddy_channel_send_t req;
  unsigned char h[8];
  int raw;

  (void)state;
  memset(body, 'b', sizeof(body));
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  pair_open(&loop, &a, &ra, &b, &rb);
  assert_int_equal(eddy_channel_set_max_message(&b, 100), 0);
  ra.close_on_disconnect = 1;
  rb.close_on_disconnect = 1;
  send_calls = 0;
  req.req.data = (void *)(intptr_t)0;
  assert_int_equal(eddy_channel_send(&a, &req, body, 101, NULL, count_sent),
                   0);
  raw = raw_open(&loop, &c, &rc);
  rc.close_on_disconnect = 1;
  frame_header(h, 0xffffffffu, 0);
  write_all(raw, h, sizeof(h));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(send_calls, 1);
  assert_int_equal(send_status[0], 0);
  assert_int_equal(rb.nmsg, 0);
  assert_int_equal(rb.disconnects, 1);
  assert_int_equal(rb.status, EDDY_EMSGSIZE);
  assert_int_equal(ra.disconnects, 1);
  assert_int_equal(ra.status, 0);
  assert_int_equal(rc.nmsg, 0);
  assert_int_equal(rc.status, EDDY_EMSGSIZE);
  assert_int_equal(read(raw, h, 1), 0); /* the channel shut its end */
  close(raw);
  test_teardown_loop(&loop);
}

/* ---- many messages back to back, and a stream split anywhere ------------- */

static size_t msg_size(int i) {
  return (size_t)((i * 37) % 2000);
}

static char msg_byte(int i, size_t j) {
  return (char)(i * 13 + (int)j);
}

static void check_pattern(const struct rec *r, int count) {
  int i;
  size_t j;

  assert_int_equal(r->nmsg, count);
  for (i = 0; i < count; i++) {
    assert_int_equal(r->m[i].len, msg_size(i));
    for (j = 0; j < r->m[i].len; j++)
      assert_int_equal(r->m[i].data[j], msg_byte(i, j));
  }
}

static void test_back_to_back(void **state) {
  enum { COUNT = 1000 };
  static eddy_channel_send_t reqs[COUNT];
  static char data[COUNT][2000];
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t a, b;
  struct rec ra, rb;
  int i;
  size_t j;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  pair_open(&loop, &a, &ra, &b, &rb);
  send_calls = 0;
  for (i = 0; i < COUNT; i++) {
    for (j = 0; j < msg_size(i); j++)
      data[i][j] = msg_byte(i, j);
    reqs[i].req.data = (void *)(intptr_t)i;
    assert_int_equal(eddy_channel_send(&a, &reqs[i], data[i], msg_size(i),
                                       NULL, count_sent),
                     0);
  }
  rb.close_after = COUNT;
  ra.close_on_disconnect = 1;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(send_calls, COUNT);
  for (i = 0; i < COUNT; i++)
    assert_int_equal(send_status[i], 0);
  check_pattern(&rb, COUNT);
  assert_int_equal(ra.status, 0);
  rec_free(&rb);
  test_teardown_loop(&loop);
}

/* Each descriptor ends the read that brings it, so a read cut short by
 * one does not mean the socket is drained: messages with descriptors sent
 * back to back are all delivered in one poll phase, not one per loop
 * iteration. */
static void test_handles_back_to_back_one_iteration(void **state) {
  enum { COUNT = 5 };
  unsigned char f[8 + 1];
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t ch;
  struct rec r;
  int raw, fd, i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  raw = raw_open(&loop, &ch, &r);
  r.close_on_disconnect = 1;
  for (i = 0; i < COUNT; i++) {
    frame_header(f, 1, 1);
    f[8] = (unsigned char)('a' + i);
    send_with_fds(raw, f, sizeof(f), &fd, 1);
  }
  eddy_run(&loop, EDDY_RUN_NOWAIT);
  assert_int_equal(r.nmsg, COUNT);
  for (i = 0; i < COUNT; i++) {
    assert_int_equal(r.m[i].len, 1);
    assert_int_equal(r.m[i].data[0], 'a' + i);
    assert_true(r.m[i].has_handle);
  }
  close(raw);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.status, 0);
  close(fd);
  rec_free(&r);
  test_teardown_loop(&loop);
}

static void test_split_anywhere(void **state) {
  enum { COUNT = 300 };
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t ch;
  struct rec r;
  unsigned char *stream;
  size_t total = 0, off = 0, j;
  uint32_t seed = 12345;
  int raw, i, chunks = 0;

  (void)state;
  for (i = 0; i < COUNT; i++)
    total += 8 + msg_size(i);
  stream = malloc(total);
  assert_non_null(stream);
  for (i = 0; i < COUNT; i++) {
    frame_header(stream + off, (uint32_t)msg_size(i), 0);
    off += 8;
    for (j = 0; j < msg_size(i); j++)
      stream[off++] = (unsigned char)msg_byte(i, j);
  }
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  raw = raw_open(&loop, &ch, &r);
  /* Each chunk is written, then read by one loop iteration: the reader
   * sees the stream cut at every kind of place, byte by byte at first. */
  for (off = 0; off < total; off += j) {
    seed = seed * 1103515245u + 12345u;
    j = chunks < 100 ? 1 + (size_t)(chunks % 3) : 1 + (seed >> 16) % 3000;
    if (j > total - off)
      j = total - off;
    write_all(raw, stream + off, j);
    eddy_run(&loop, EDDY_RUN_ONCE);
    chunks++;
  }
  check_pattern(&r, COUNT);
  close(raw);
  r.close_on_disconnect = 1;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.disconnects, 1);
  assert_int_equal(r.status, 0);
  free(stream);
  rec_free(&r);
  test_teardown_loop(&loop);
}

/* ---- passing TCP handles ------------------------------------------------- */

struct tcp_case {
  eddy_loop_t *loop;
  eddy_channel_t a, b;
  struct rec ra, rb;
  eddy_tcp_t server;   /* the parent's listener */
  eddy_tcp_t accepted; /* the parent's copy of the connection */
  eddy_tcp_t served;   /* the receiver's copy (connection or listener) */
  eddy_tcp_t served_conn;
  eddy_pipe_t wrong; /* a handle of the wrong type for the passed one */
  eddy_tcp_t client;
  eddy_connect_t connect_req;
  eddy_write_t client_write, serve_write;
  eddy_channel_send_t pass;
  char serve_buf[64];
  char reply[64];
  size_t reply_len;
  int reply_eof;
  int port;
};

static struct tcp_case tc;

static void buf_alloc(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char space[65536];

  (void)h;
  (void)size;
  *buf = eddy_buf_init(space, sizeof(space));
}

static void close_handle(eddy_handle_t *h) {
  if (!eddy_is_closing(h))
    eddy_close(h, NULL);
}

static void client_read(eddy_stream_t *s, ssize_t nread,
                        const eddy_buf_t *buf) {
  if (nread > 0) {
    assert_true(tc.reply_len + (size_t)nread <= sizeof(tc.reply));
    memcpy(tc.reply + tc.reply_len, buf->base, (size_t)nread);
    tc.reply_len += (size_t)nread;
    return;
  }
  if (nread == 0)
    return;
  /* The end of the answer: tear everything down. */
  tc.reply_eof = 1;
  close_handle(&s->handle);
  close_handle(&tc.server.stream.handle);
  eddy_channel_close(&tc.a, rec_closed);
  eddy_channel_close(&tc.b, rec_closed);
}

static void client_connected(eddy_connect_t *req, int status) {
  static char hello[] = "hello";
  eddy_buf_t buf = eddy_buf_init(hello, 5);

  assert_int_equal(status, 0);
  assert_int_equal(eddy_read_start(req->handle, buf_alloc, client_read), 0);
  assert_int_equal(eddy_write(&tc.client_write, req->handle, &buf, 1, NULL),
                   0);
}

static void client_start(eddy_loop_t *loop) {
  struct sockaddr_in addr = test_loopback4(tc.port);

  assert_int_equal(eddy_tcp_init(loop, &tc.client), 0);
  assert_int_equal(eddy_tcp_connect(&tc.connect_req, &tc.client,
                                    (struct sockaddr *)&addr,
                                    client_connected),
                   0);
}

static void server_start(eddy_loop_t *loop, eddy_connection_cb cb) {
  struct sockaddr_in addr = test_loopback4(0);
  struct sockaddr_storage ss;
  int len = sizeof(ss);

  assert_int_equal(eddy_tcp_init(loop, &tc.server), 0);
  assert_int_equal(eddy_tcp_bind(&tc.server, (struct sockaddr *)&addr, 0), 0);
  assert_int_equal(eddy_listen(&tc.server.stream, 8, cb), 0);
  assert_int_equal(eddy_tcp_getsockname(&tc.server, (struct sockaddr *)&ss,
                                        &len),
                   0);
  tc.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/* The receiver's side of a passed connection: answer "echo:<request>". */
static void serve_written(eddy_write_t *req, int status) {
  assert_int_equal(status, 0);
  close_handle(&req->handle->handle);
}

static void serve_read(eddy_stream_t *s, ssize_t nread,
                       const eddy_buf_t *buf) {
  eddy_buf_t out;

  if (nread == 0)
    return;
  assert_true(nread > 0);
  eddy_read_stop(s);
  memcpy(tc.serve_buf, "echo:", 5);
  memcpy(tc.serve_buf + 5, buf->base, (size_t)nread);
  out = eddy_buf_init(tc.serve_buf, 5 + (size_t)nread);
  assert_int_equal(eddy_write(&tc.serve_write, s, &out, 1, serve_written), 0);
}

static void passed_close_copy(eddy_channel_send_t *req, int status) {
  assert_int_equal(status, 0);
  /* The kernel holds the receiver's copy now: let ours go. */
  close_handle((eddy_handle_t *)req->req.data);
}

static void take_connection(eddy_channel_t *ch, struct rec *r, const void *data,
                            size_t len, int has_handle) {
  int fd;

  (void)r;
  assert_int_equal(len, 4);
  assert_memory_equal(data, "conn", 4);
  assert_true(has_handle);
  assert_int_equal(eddy_channel_pending_type(ch), EDDY_TCP);
  /* Its memory must outlive the close, which ends in the close phase. */
  assert_int_equal(eddy_pipe_init(tc.loop, &tc.wrong, 0), 0);
  assert_int_equal(eddy_channel_accept(ch, &tc.wrong.stream), EDDY_EINVAL);
  eddy_close(&tc.wrong.stream.handle, NULL);
  assert_int_equal(eddy_tcp_init(tc.loop, &tc.served), 0);
  assert_int_equal(eddy_channel_accept(ch, &tc.served.stream), 0);
  assert_int_equal(eddy_fileno(&tc.served.stream.handle, &fd), 0);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC); /* a child does not get it */
  assert_int_equal(eddy_channel_accept(ch, &tc.served.stream), EDDY_EAGAIN);
  assert_int_equal(eddy_channel_pending_type(ch), EDDY_UNKNOWN_HANDLE);
  assert_int_equal(eddy_read_start(&tc.served.stream, buf_alloc, serve_read),
                   0);
}

static void pass_on_connection(eddy_stream_t *server, int status) {
  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(tc.loop, &tc.accepted), 0);
  assert_int_equal(eddy_accept(server, &tc.accepted.stream), 0);
  tc.pass.req.data = &tc.accepted.stream.handle;
  assert_int_equal(eddy_channel_send(&tc.a, &tc.pass, "conn", 4,
                                     &tc.accepted.stream, passed_close_copy),
                   0);
}

static void tcp_case_start(eddy_loop_t *loop) {
  memset(&tc, 0, sizeof(tc));
  tc.loop = loop;
  pair_open(loop, &tc.a, &tc.ra, &tc.b, &tc.rb);
}

static void test_pass_connection(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  tcp_case_start(&loop);
  tc.rb.hook = take_connection;
  server_start(&loop, pass_on_connection);
  client_start(&loop);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(tc.rb.nmsg, 1);
  assert_true(tc.reply_eof);
  assert_int_equal(tc.reply_len, 10);
  assert_memory_equal(tc.reply, "echo:hello", 10);
  assert_int_equal(tc.ra.closed + tc.rb.closed, 2);
  rec_free(&tc.rb);
  test_teardown_loop(&loop);
}

/* A listening server passed over the channel: the receiver accepts the
 * next client on it after the sender closed its copy. */
static void listener_conn(eddy_stream_t *server, int status) {
  eddy_buf_t out = eddy_buf_init("hi from b", 9);

  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(tc.loop, &tc.served_conn), 0);
  assert_int_equal(eddy_accept(server, &tc.served_conn.stream), 0);
  close_handle(&server->handle);
  assert_int_equal(eddy_write(&tc.serve_write, &tc.served_conn.stream, &out,
                              1, serve_written),
                   0);
}

static void take_listener(eddy_channel_t *ch, struct rec *r, const void *data,
                          size_t len, int has_handle) {
  (void)r;
  (void)data;
  (void)len;
  assert_true(has_handle);
  assert_int_equal(eddy_channel_pending_type(ch), EDDY_TCP);
  assert_int_equal(eddy_tcp_init(tc.loop, &tc.served), 0);
  assert_int_equal(eddy_channel_accept(ch, &tc.served.stream), 0);
  assert_int_equal(eddy_listen(&tc.served.stream, 8, listener_conn), 0);
}

static void listener_passed(eddy_channel_send_t *req, int status) {
  (void)req;
  assert_int_equal(status, 0);
  close_handle(&tc.server.stream.handle);
  client_start(tc.loop);
}

static void not_called(eddy_stream_t *server, int status) {
  (void)server;
  (void)status;
  fail_msg("the sender's copy must not accept");
}

static void test_pass_listener(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  tcp_case_start(&loop);
  tc.rb.hook = take_listener;
  server_start(&loop, not_called);
  assert_int_equal(eddy_channel_send(&tc.a, &tc.pass, "srv", 3,
                                     &tc.server.stream, listener_passed),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_true(tc.reply_eof);
  assert_int_equal(tc.reply_len, 9);
  assert_memory_equal(tc.reply, "hi from b", 9);
  rec_free(&tc.rb);
  test_teardown_loop(&loop);
}

/* ---- several handle messages in a row ------------------------------------- */

/* Messages "h<i>" carry pipe i (a socketpair end whose other end the test
 * holds); "p" carries nothing. The receiver writes i over the pipe that
 * came with "h<i>", so a descriptor matched to the wrong message shows.
 * "h3" is not taken: the channel must close it. */
enum { NPIPES = 5 };

struct several {
  eddy_pipe_t sent[NPIPES];
  eddy_pipe_t got[NPIPES];
  int peer[NPIPES];
  eddy_channel_send_t reqs[2 * NPIPES + 1];
} sv_case;

static void several_take(eddy_channel_t *ch, struct rec *r, const void *data,
                         size_t len, int has_handle) {
  const char *s = data;
  int i;

  (void)r;
  if (len == 3 && memcmp(s, "end", 3) == 0) {
    eddy_channel_close(ch, rec_closed);
    return;
  }
  if (s[0] == 'p') {
    assert_false(has_handle);
    assert_int_equal(eddy_channel_pending_type(ch), EDDY_UNKNOWN_HANDLE);
    return;
  }
  assert_true(has_handle);
  assert_int_equal(eddy_channel_pending_type(ch), EDDY_NAMED_PIPE);
  i = s[1] - '0';
  if (i == 3)
    return; /* left for the channel to close */
  assert_int_equal(eddy_pipe_init(ch->pipe.stream.handle.loop, &sv_case.got[i],
                                  0),
                   0);
  assert_int_equal(eddy_channel_accept(ch, &sv_case.got[i].stream), 0);
  {
    eddy_buf_t b = eddy_buf_init((void *)(s + 1), 1);
    assert_int_equal(eddy_try_write(&sv_case.got[i].stream, &b, 1), 1);
  }
  eddy_close(&sv_case.got[i].stream.handle, NULL);
}

static void several_sent(eddy_channel_send_t *req, int status) {
  assert_int_equal(status, 0);
  if (req->req.data != NULL)
    eddy_close((eddy_handle_t *)req->req.data, NULL);
}

static void test_several_handles(void **state) {
  static const char *const names[] = {"h0", "p", "h1", "h2", "p", "h3",
                                      "h4", "p", "end"};
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t a, b;
  struct rec ra, rb;
  unsigned k;
  int i, sp[2];
  char c;

  (void)state;
  memset(&sv_case, 0, sizeof(sv_case));
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  pair_open(&loop, &a, &ra, &b, &rb);
  rb.hook = several_take;
  ra.close_on_disconnect = 1;
  for (i = 0; i < NPIPES; i++) {
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp),
                     0);
    assert_int_equal(eddy_pipe_init(&loop, &sv_case.sent[i], 0), 0);
    assert_int_equal(eddy_pipe_open(&sv_case.sent[i], sp[0]), 0);
    sv_case.peer[i] = sp[1];
  }
  /* All sent before the loop runs: back to back on the wire. */
  for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
    eddy_stream_t *h = NULL;

    if (names[k][0] == 'h')
      h = &sv_case.sent[names[k][1] - '0'].stream;
    sv_case.reqs[k].req.data = h;
    assert_int_equal(eddy_channel_send(&a, &sv_case.reqs[k], names[k],
                                       strlen(names[k]), h, several_sent),
                     0);
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(rb.nmsg, 9);
  for (k = 0; k < 9; k++) {
    assert_string_equal(rb.m[k].data, names[k]);
    assert_int_equal(rb.m[k].has_handle, names[k][0] == 'h');
  }
  /* Every copy is closed now: each peer sees its own index, then EOF. */
  for (i = 0; i < NPIPES; i++) {
    if (i != 3) {
      assert_int_equal(recv(sv_case.peer[i], &c, 1, MSG_DONTWAIT), 1);
      assert_int_equal(c, '0' + i);
    }
    assert_int_equal(recv(sv_case.peer[i], &c, 1, MSG_DONTWAIT), 0);
    close(sv_case.peer[i]);
  }
  rec_free(&rb);
  test_teardown_loop(&loop);
}

/* ---- malformed frames and peers that die mid-message --------------------- */

enum {
  BAD_FLAGS,          /* an unknown flag bit */
  BAD_HANDLE_NO_FD,   /* the handle bit, no descriptor */
  BAD_FD_NO_HANDLE,   /* a descriptor with a frame without the bit */
  BAD_FD_MID_FRAME,   /* a descriptor arriving inside a frame */
  BAD_TWO_FDS,        /* two descriptors for one frame */
  BAD_CASES
};

static void bad_write(eddy_loop_t *loop, int raw, int which, int fd) {
  unsigned char f[8 + 2];
  int two[2] = {fd, fd};

  memcpy(f + 8, "xy", 2);
  switch (which) {
  case BAD_FLAGS:
    frame_header(f, 2, 2);
    write_all(raw, f, sizeof(f));
    break;
  case BAD_HANDLE_NO_FD:
    frame_header(f, 2, 1);
    write_all(raw, f, sizeof(f));
    break;
  case BAD_FD_NO_HANDLE:
    frame_header(f, 2, 0);
    send_with_fds(raw, f, sizeof(f), &fd, 1);
    break;
  case BAD_FD_MID_FRAME:
    /* Read apart, or the kernel may glue both parts into one read, which
     * is a well-formed frame with a handle. */
    frame_header(f, 2, 1);
    write_all(raw, f, 4);
    eddy_run(loop, EDDY_RUN_ONCE);
    send_with_fds(raw, f + 4, sizeof(f) - 4, &fd, 1);
    break;
  case BAD_TWO_FDS:
    frame_header(f, 2, 1);
    send_with_fds(raw, f, sizeof(f), two, 2);
    break;
  }
}

static void test_protocol_errors(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t ch;
  struct rec r;
  int which, raw, fd;
  char c;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(fd >= 0);
  for (which = 0; which < BAD_CASES; which++) {
    raw = raw_open(&loop, &ch, &r);
    r.close_on_disconnect = 1;
    /* A good message first: it is delivered before the failure. */
    write_all(raw, "\0\0\0\2\0\0\0\0ok", 10);
    eddy_run(&loop, EDDY_RUN_ONCE);
    bad_write(&loop, raw, which, fd);
    assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
    assert_int_equal(r.nmsg, 1);
    assert_string_equal(r.m[0].data, "ok");
    assert_int_equal(r.disconnects, 1);
    assert_int_equal(r.status, EDDY_EPROTO);
    assert_int_equal(r.closed, 1);
    assert_int_equal(recv(raw, &c, 1, MSG_DONTWAIT), 0);
    close(raw);
    rec_free(&r);
  }
  close(fd);
  test_teardown_loop(&loop);
}

/* The peer writes a header promising 100 bytes and 10 of them, or part of
 * a header, then closes: no message, and the disconnect says so. A clean
 * close after a whole message is a clean end. */
static void test_peer_dies_mid_message(void **state) {
  static const struct {
    size_t len;
    int status;
  } cases[] = {{8 + 10, EDDY_ECONNRESET}, {3, EDDY_ECONNRESET}, {0, 0}};
  unsigned char f[8 + 10];
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t ch;
  struct rec r;
  unsigned k;
  int raw;

  (void)state;
  memset(f, 'd', sizeof(f));
  frame_header(f, 100, 0);
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
    raw = raw_open(&loop, &ch, &r);
    r.close_on_disconnect = 1;
    write_all(raw, "\0\0\0\1\0\0\0\0!", 9);
    if (cases[k].len > 0)
      write_all(raw, f, cases[k].len);
    close(raw);
    assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
    assert_int_equal(r.nmsg, 1);
    assert_string_equal(r.m[0].data, "!");
    assert_int_equal(r.disconnects, 1);
    assert_int_equal(r.status, cases[k].status);
    rec_free(&r);
  }
  test_teardown_loop(&loop);
}

/* ---- disconnect, close in callbacks, ref ------------------------------------ */

static void test_disconnect_both_sides(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t a, b;
  struct rec ra, rb;
  eddy_channel_send_t reqs[3], late;
  int i;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  /* a sends three messages and closes at once: b gets all three, then a
   * clean disconnect; a's sends had finished and say so. */
  pair_open(&loop, &a, &ra, &b, &rb);
  send_calls = 0;
  for (i = 0; i < 3; i++) {
    reqs[i].req.data = (void *)(intptr_t)i;
    assert_int_equal(eddy_channel_send(&a, &reqs[i], "abc", (size_t)i + 1,
                                       NULL, count_sent),
                     0);
  }
  eddy_channel_close(&a, rec_closed);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(send_calls, 3);
  for (i = 0; i < 3; i++)
    assert_int_equal(send_status[i], 0);
  assert_int_equal(rb.nmsg, 3);
  assert_int_equal(rb.m[2].len, 3);
  assert_int_equal(rb.disconnects, 1);
  assert_int_equal(rb.status, 0);
  assert_int_equal(ra.disconnects, 0); /* closing locally is no disconnect */
  /* After the disconnect: sends fail at once, and b no longer keeps the
   * loop alive, but it is still open until closed. */
  assert_true(eddy_channel_is_disconnected(&b));
  assert_int_equal(eddy_channel_send(&b, &late, "x", 1, NULL, NULL),
                   EDDY_EPIPE);
  assert_false(eddy_loop_alive(&loop));
  eddy_channel_close(&b, rec_closed);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(rb.disconnects, 1);
  assert_int_equal(ra.closed + rb.closed, 2);
  rec_free(&rb);

  /* The other way round, both closing in their disconnect callbacks. */
  pair_open(&loop, &a, &ra, &b, &rb);
  ra.close_on_disconnect = 1;
  rb.close_after = 1;
  assert_int_equal(eddy_channel_send(&a, &late, "bye", 3, NULL, NULL), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(rb.nmsg, 1);
  assert_int_equal(ra.disconnects, 1);
  assert_int_equal(ra.status, 0);
  assert_int_equal(ra.closed + rb.closed, 2);
  rec_free(&rb);
  test_teardown_loop(&loop);
}

/* Closing in a message callback stops delivery at once, handles waiting
 * included; sends still queued are cancelled. */
static void test_close_in_callback(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t a, b;
  struct rec ra, rb;
  eddy_channel_send_t reqs[3];
  eddy_pipe_t h;
  int sp[2], i;
  char c;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  pair_open(&loop, &a, &ra, &b, &rb);
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
  assert_int_equal(eddy_pipe_init(&loop, &h, 0), 0);
  assert_int_equal(eddy_pipe_open(&h, sp[0]), 0);
  rb.close_after = 1;
  ra.close_on_disconnect = 1;
  send_calls = 0;
  for (i = 0; i < 3; i++) {
    reqs[i].req.data = (void *)(intptr_t)i;
    assert_int_equal(eddy_channel_send(&a, &reqs[i], "m", 1,
                                       i == 0 ? &h.stream : NULL, count_sent),
                     0);
  }
  eddy_close(&h.stream.handle, NULL); /* the kernel has its copy */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(rb.nmsg, 1);
  assert_true(rb.m[0].has_handle);
  assert_int_equal(rb.closed, 1);
  assert_int_equal(ra.disconnects, 1);
  assert_int_equal(send_calls, 3);
  assert_int_equal(recv(sp[1], &c, 1, MSG_DONTWAIT), 0); /* all copies gone */
  close(sp[1]);
  rec_free(&rb);

  /* A send queued behind a full socket is cancelled by close. */
  pair_open(&loop, &a, &ra, &b, &rb);
  eddy_channel_unref(&b);
  {
    static char fill[1 << 20];
    int queued = 0;

    send_calls = 0;
    for (i = 0; i < 3; i++) {
      reqs[i].req.data = (void *)(intptr_t)i;
      assert_int_equal(eddy_channel_send(&a, &reqs[i], fill, sizeof(fill),
                                         NULL, count_sent),
                       0);
    }
    queued = eddy_stream_get_write_queue_size(&a.pipe.stream) > 0;
    assert_true(queued);
  }
  eddy_channel_close(&a, rec_closed);
  eddy_channel_close(&b, rec_closed);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(send_calls, 3);
  assert_int_equal(send_status[2], EDDY_ECANCELED);
  test_teardown_loop(&loop);
}

static void timer_close(eddy_timer_t *t) {
  eddy_close(&t->handle, NULL);
}

/* A teardown that closes every handle with eddy_close (eddy_walk), not
 * eddy_channel_close, still releases the receive buffer (ASan's leak
 * check sees it otherwise). */
static void test_teardown_by_walk(void **state) {
  eddy_loop_t loop;
  eddy_channel_t a, b;
  struct rec ra, rb;
  eddy_channel_send_t req;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  pair_open(&loop, &a, &ra, &b, &rb);
  assert_int_equal(eddy_channel_send(&a, &req, "kept", 4, NULL, NULL), 0);
  while (rb.nmsg == 0)
    eddy_run(&loop, EDDY_RUN_ONCE);
  test_teardown_loop(&loop);
  rec_free(&ra);
  rec_free(&rb);
}

static void test_unref(void **state) {
  eddy_loop_t loop;
  eddy_timer_t timer;
  eddy_channel_t ch;
  struct rec r;
  int raw;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  raw = raw_open(&loop, &ch, &r);
  assert_true(eddy_loop_alive(&loop)); /* a live channel keeps it alive */
  eddy_channel_unref(&ch);
  eddy_channel_unref(&ch);
  assert_false(eddy_loop_alive(&loop));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  eddy_channel_ref(&ch);
  assert_true(eddy_loop_alive(&loop));
  /* Unreferenced, it still delivers while something else keeps the loop
   * running (here a timer). */
  eddy_channel_unref(&ch);
  write_all(raw, "\0\0\0\1\0\0\0\0u", 9);
  assert_int_equal(eddy_timer_init(&loop, &timer), 0);
  assert_int_equal(eddy_timer_start(&timer, timer_close, 1, 0), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.nmsg, 1);
  close(raw);
  eddy_channel_close(&ch, rec_closed);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.closed, 1);
  rec_free(&r);
  test_assert_loop_clean(&loop);
}

/* ---- eddy_channel_open_parent in this process ----------------------------- */

static void test_open_parent(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t ch, peer;
  struct rec r, rp;
  eddy_channel_send_t req;
  char num[16];
  int sv[2], fd;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  unsetenv(EDDY_CHANNEL_ENV);
  assert_int_equal(eddy_channel_open_parent(&loop, &ch, NULL, NULL),
                   EDDY_ENOENT);
  assert_int_equal(eddy_channel_open_parent(NULL, &ch, NULL, NULL),
                   EDDY_EINVAL);
  setenv(EDDY_CHANNEL_ENV, "3x", 1);
  assert_int_equal(eddy_channel_open_parent(&loop, &ch, NULL, NULL),
                   EDDY_EINVAL);
  assert_null(getenv(EDDY_CHANNEL_ENV));
  setenv(EDDY_CHANNEL_ENV, "", 1);
  assert_int_equal(eddy_channel_open_parent(&loop, &ch, NULL, NULL),
                   EDDY_EINVAL);
  fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  snprintf(num, sizeof(num), "%d", fd);
  setenv(EDDY_CHANNEL_ENV, num, 1);
  assert_int_equal(eddy_channel_open_parent(&loop, &ch, NULL, NULL),
                   EDDY_ENOTSOCK);
  close(fd);
  setenv(EDDY_CHANNEL_ENV, num, 1); /* now closed */
  assert_int_equal(eddy_channel_open_parent(&loop, &ch, NULL, NULL),
                   EDDY_EBADF);
  /* The real thing: a socketpair end named by the variable. */
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  snprintf(num, sizeof(num), "%d", sv[1]);
  setenv(EDDY_CHANNEL_ENV, num, 1);
  memset(&r, 0, sizeof(r));
  assert_int_equal(eddy_channel_open_parent(&loop, &ch, rec_message,
                                            rec_disconnect),
                   0);
  ch.data = &r;
  assert_null(getenv(EDDY_CHANNEL_ENV));
  channel_init(&loop, &peer, &rp);
  assert_int_equal(eddy_channel_open_fd(&peer, sv[0]), 0);
  assert_int_equal(eddy_channel_send(&peer, &req, "up", 2, NULL, NULL), 0);
  r.close_after = 1;
  rp.close_on_disconnect = 1;
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.nmsg, 1);
  assert_string_equal(r.m[0].data, "up");
  assert_int_equal(rp.status, 0);
  rec_free(&r);
  test_teardown_loop(&loop);
}

/* ---- fork, with tests/channel_child.c ------------------------------------- */

struct exit_record {
  int calls;
  int64_t status;
  int signal;
};

static void record_exit(eddy_process_t *p, int64_t status, int sig) {
  struct exit_record *e = p->handle.data;

  e->calls++;
  e->status = status;
  e->signal = sig;
  eddy_close(&p->handle, NULL);
}

static char *child_args[] = {(char *)EDDY_TEST_CHANNEL_CHILD, NULL};

static void fork_options(eddy_process_options_t *o, struct exit_record *e,
                         eddy_process_t *p) {
  memset(o, 0, sizeof(*o));
  memset(e, 0, sizeof(*e));
  o->file = EDDY_TEST_CHANNEL_CHILD;
  o->args = child_args;
  o->exit_cb = record_exit;
  p->handle.data = e;
}

/* A conversation: each reply checked, then the next request. */
static char big_echo[100000];
static const char *const script[][2] = {
    {"ping", "pong"},
    {"env EDDY_CHANNEL_FD", "(null)"}, /* removed by open_parent */
    {"env CHANNEL_TEST", "yes"},       /* our env passed through */
    {NULL, NULL},                      /* big_echo, echoed */
    {"exit 7", NULL}};
static eddy_channel_send_t script_reqs[5]; /* one each: a req is ours
                                              until its callback */
static int script_step;

static void script_send(eddy_channel_t *ch) {
  const char *s = script[script_step][0];

  if (s == NULL)
    assert_int_equal(eddy_channel_send(ch, &script_reqs[script_step], big_echo,
                                       sizeof(big_echo), NULL, NULL),
                     0);
  else
    assert_int_equal(eddy_channel_send(ch, &script_reqs[script_step], s,
                                       strlen(s), NULL, NULL),
                     0);
}

static void script_reply(eddy_channel_t *ch, struct rec *r, const void *data,
                         size_t len, int has_handle) {
  const char *want = script[script_step][1];

  (void)r;
  assert_false(has_handle);
  if (want == NULL) {
    assert_int_equal(len, sizeof(big_echo));
    assert_memory_equal(data, big_echo, len);
  } else {
    assert_int_equal(len, strlen(want));
    assert_memory_equal(data, want, len);
  }
  script_step++;
  script_send(ch);
}

static void test_fork_conversation(void **state) {
  char *env[] = {"CHANNEL_TEST=yes", EDDY_CHANNEL_ENV "=42", NULL};
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t ch;
  struct rec r;
  eddy_process_options_t o;
  eddy_process_t p;
  struct exit_record e;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof(big_echo); i++)
    big_echo[i] = (char)(i % 253);
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  channel_init(&loop, &ch, &r);
  r.hook = script_reply;
  r.close_on_disconnect = 1;
  fork_options(&o, &e, &p);
  o.env = env; /* its stale EDDY_CHANNEL_FD=42 is replaced */
  assert_int_equal(eddy_fork(&loop, &p, &ch, &o), 0);
  assert_true(p.pid > 0);
  script_step = 0;
  script_send(&ch);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(script_step, 4);
  assert_int_equal(r.nmsg, 4);
  assert_int_equal(r.disconnects, 1);
  assert_int_equal(r.status, 0);
  assert_int_equal(e.calls, 1);
  assert_int_equal(e.status, 7);
  assert_int_equal(e.signal, 0);
  rec_free(&r);
  test_teardown_loop(&loop);
}

/* The parent accepts a TCP client and passes the connection to the child,
 * which answers it; then the child says "served" and is told to exit. */
static void fork_served(eddy_channel_t *ch, struct rec *r, const void *data,
                        size_t len, int has_handle) {
  static eddy_channel_send_t req;

  (void)r;
  (void)has_handle;
  assert_int_equal(len, 6);
  assert_memory_equal(data, "served", 6);
  assert_int_equal(eddy_channel_send(ch, &req, "exit 0", 6, NULL, NULL), 0);
}

static void fork_on_connection(eddy_stream_t *server, int status) {
  assert_int_equal(status, 0);
  assert_int_equal(eddy_tcp_init(tc.loop, &tc.accepted), 0);
  assert_int_equal(eddy_accept(server, &tc.accepted.stream), 0);
  close_handle(&server->handle);
  tc.pass.req.data = &tc.accepted.stream.handle;
  assert_int_equal(eddy_channel_send(&tc.a, &tc.pass, "serve", 5,
                                     &tc.accepted.stream, passed_close_copy),
                   0);
}

static void fork_client_read(eddy_stream_t *s, ssize_t nread,
                             const eddy_buf_t *buf) {
  if (nread > 0) {
    memcpy(tc.reply + tc.reply_len, buf->base, (size_t)nread);
    tc.reply_len += (size_t)nread;
  } else if (nread < 0) {
    tc.reply_eof = 1;
    close_handle(&s->handle);
  }
}

static void fork_client_connected(eddy_connect_t *req, int status) {
  static char hello[] = "hello";
  eddy_buf_t buf = eddy_buf_init(hello, 5);

  assert_int_equal(status, 0);
  assert_int_equal(eddy_read_start(req->handle, buf_alloc, fork_client_read),
                   0);
  assert_int_equal(eddy_write(&tc.client_write, req->handle, &buf, 1, NULL),
                   0);
}

static void test_fork_serves_tcp(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_process_options_t o;
  eddy_process_t p;
  struct exit_record e;
  struct sockaddr_in addr;

  (void)state;
  memset(&tc, 0, sizeof(tc));
  assert_int_equal(eddy_loop_init(&loop), 0);
  tc.loop = &loop;
  guard_start(&loop, &guard);
  channel_init(&loop, &tc.a, &tc.ra);
  tc.ra.hook = fork_served;
  tc.ra.close_on_disconnect = 1;
  fork_options(&o, &e, &p);
  assert_int_equal(eddy_fork(&loop, &p, &tc.a, &o), 0);
  server_start(&loop, fork_on_connection);
  addr = test_loopback4(tc.port);
  assert_int_equal(eddy_tcp_init(&loop, &tc.client), 0);
  assert_int_equal(eddy_tcp_connect(&tc.connect_req, &tc.client,
                                    (struct sockaddr *)&addr,
                                    fork_client_connected),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_true(tc.reply_eof);
  assert_int_equal(tc.reply_len, 11);
  assert_memory_equal(tc.reply, "child:hello", 11);
  assert_int_equal(tc.ra.nmsg, 1);
  assert_int_equal(tc.ra.status, 0);
  assert_int_equal(e.calls, 1);
  assert_int_equal(e.status, 0);
  rec_free(&tc.ra);
  test_teardown_loop(&loop);
}

/* A child that dies in the middle of a frame, and one that is killed. */
static void test_fork_child_dies(void **state) {
  eddy_loop_t loop;
  eddy_timer_t guard;
  eddy_channel_t ch;
  struct rec r;
  eddy_process_options_t o;
  eddy_process_t p;
  struct exit_record e;
  eddy_channel_send_t req;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  guard_start(&loop, &guard);
  channel_init(&loop, &ch, &r);
  r.close_on_disconnect = 1;
  fork_options(&o, &e, &p);
  assert_int_equal(eddy_fork(&loop, &p, &ch, &o), 0);
  assert_int_equal(eddy_channel_send(&ch, &req, "truncate", 8, NULL, NULL),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.nmsg, 0);
  assert_int_equal(r.disconnects, 1);
  assert_int_equal(r.status, EDDY_ECONNRESET);
  assert_int_equal(e.status, 3);

  channel_init(&loop, &ch, &r);
  r.close_on_disconnect = 1;
  fork_options(&o, &e, &p);
  assert_int_equal(eddy_fork(&loop, &p, &ch, &o), 0);
  assert_int_equal(eddy_process_kill(&p, SIGKILL), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.disconnects, 1);
  assert_true(r.status == 0 || r.status == EDDY_ECONNRESET);
  assert_int_equal(e.signal, SIGKILL);
  test_teardown_loop(&loop);
}

static void test_fork_errors(void **state) {
  char *args[] = {"/nonexistent/eddy-child", NULL};
  eddy_loop_t loop;
  eddy_channel_t ch;
  struct rec r;
  eddy_process_options_t o;
  eddy_process_t p;
  struct exit_record e;
  int fd;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  channel_init(&loop, &ch, &r);
  fork_options(&o, &e, &p);
  assert_int_equal(eddy_fork(NULL, &p, &ch, &o), EDDY_EINVAL);
  assert_int_equal(eddy_fork(&loop, NULL, &ch, &o), EDDY_EINVAL);
  assert_int_equal(eddy_fork(&loop, &p, NULL, &o), EDDY_EINVAL);
  assert_int_equal(eddy_fork(&loop, &p, &ch, NULL), EDDY_EINVAL);
  o.stdio_count = 1; /* without an array */
  assert_int_equal(eddy_fork(&loop, &p, &ch, &o), EDDY_EINVAL);
  o.stdio_count = 0;
  o.file = args[0];
  o.args = args;
  assert_int_equal(eddy_fork(&loop, &p, &ch, &o), EDDY_ENOENT);
  assert_int_equal(eddy_stream_fileno(&ch.pipe.stream, &fd), EDDY_EBADF);
  /* The channel is as it was: a fork can follow. */
  fork_options(&o, &e, &p);
  r.close_on_disconnect = 1;
  assert_int_equal(eddy_fork(&loop, &p, &ch, &o), 0);
  assert_int_equal(eddy_fork(&loop, &p, &ch, &o), EDDY_EINVAL); /* has one */
  assert_int_equal(eddy_channel_send(&ch, &script_reqs[0], "exit 5", 6,
                                     NULL, NULL),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(e.status, 5);
  assert_int_equal(r.status, 0);
  /* Spawned without a channel, the child's open_parent says ENOENT. */
  fork_options(&o, &e, &p);
  assert_int_equal(eddy_spawn(&loop, &p, &o), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(e.status, 2);
  test_assert_loop_clean(&loop);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, test_fd_setup, test_fd_teardown)
      T(test_api_errors),
      T(test_sizes),
      T(test_receiver_max),
      T(test_back_to_back),
      T(test_handles_back_to_back_one_iteration),
      T(test_split_anywhere),
      T(test_pass_connection),
      T(test_pass_listener),
      T(test_several_handles),
      T(test_protocol_errors),
      T(test_peer_dies_mid_message),
      T(test_disconnect_both_sides),
      T(test_close_in_callback),
      T(test_teardown_by_walk),
      T(test_unref),
      T(test_open_parent),
      T(test_fork_conversation),
      T(test_fork_serves_tcp),
      T(test_fork_child_dies),
      T(test_fork_errors),
#undef T
  };
  /* A child that dies must not kill us with SIGPIPE on a raw write. */
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
