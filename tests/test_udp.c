/* test_udp.c: UDP handles on 127.0.0.1 and ::1, and on AF_UNIX datagram
 * socketpairs (eddy_udp_open) where a full send queue must be reached
 * deterministically: loopback UDP almost never pushes back. */
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "test_util.h"

#define MAX_DGRAMS 256

struct dgram {
  char data[64];
  ssize_t n;
  unsigned flags;
  struct sockaddr_storage from;
};

/* What the callbacks saw; reset by every test. */
static struct {
  struct dgram got[MAX_DGRAMS];
  int ndgrams;
  int nends;   /* nread 0, addr NULL: nothing more to read */
  int nerrors; /* nread < 0 */
  ssize_t last_error;
  int target;          /* stop receiving once this many arrived */
  int close_at_target; /* ... by closing the handle instead */
  int sends_done;
  int send_order[MAX_DGRAMS];
  int send_status[MAX_DGRAMS];
  int inside_send;    /* set around eddy_udp_send calls */
  int cb_inside_send; /* callbacks that ran while it was set */
  int close_in_send;  /* close the handle from the first send callback */
  int stop_on_end;    /* stop receiving at "nothing more to read" */
  int closed;
  /* batches */
  int allocs, frees, chunks, batch, max_batch;
  char *cur_buf;
  size_t cur_len;
  struct test_log log;
} st;

static void reset(void) {
  memset(&st, 0, sizeof(st));
}

/* Open descriptors of the process, to catch leaks. */
static void on_close(eddy_handle_t *h) {
  (void)h;
  st.closed++;
  test_log_printf(&st.log, "close\n");
}

static void alloc_static(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char mem[EDDY_UDP_DGRAM_MAX];

  (void)h;
  assert_true(size >= EDDY_UDP_DGRAM_MAX);
  *buf = eddy_buf_init(mem, sizeof(mem));
}

static void alloc_small(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  static char mem[4];

  (void)h;
  (void)size;
  *buf = eddy_buf_init(mem, sizeof(mem));
}

static void alloc_none(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  (void)size;
  *buf = eddy_buf_init(NULL, 0);
}

static void keep_dgram(ssize_t nread, const eddy_buf_t *buf,
                       const struct sockaddr *addr, unsigned flags) {
  struct dgram *d;
  size_t n = (size_t)nread;

  assert_true(st.ndgrams < MAX_DGRAMS);
  d = &st.got[st.ndgrams++];
  if (n > sizeof(d->data) - 1)
    n = sizeof(d->data) - 1;
  memcpy(d->data, buf->base, n);
  d->data[n] = '\0';
  d->n = nread;
  d->flags = flags;
  memset(&d->from, 0, sizeof(d->from));
  if (eddy_sockaddr_len(addr) > 0)
    memcpy(&d->from, addr, (size_t)eddy_sockaddr_len(addr));
  else
    d->from.ss_family = addr->sa_family;
}

static void at_target(eddy_udp_t *udp) {
  if (st.ndgrams != st.target)
    return;
  if (st.close_at_target)
    eddy_close(&udp->handle, on_close);
  else
    eddy_udp_recv_stop(udp);
}

static void record_dgram(eddy_udp_t *udp, ssize_t nread, const eddy_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags) {
  assert_false(flags & (EDDY_UDP_MMSG_CHUNK | EDDY_UDP_MMSG_FREE));
  if (nread < 0) {
    assert_null(addr);
    st.nerrors++;
    st.last_error = nread;
    eddy_udp_recv_stop(udp);
    return;
  }
  if (addr == NULL) {
    assert_int_equal(nread, 0);
    st.nends++;
    return;
  }
  keep_dgram(nread, buf, addr, flags);
  at_target(udp);
}

static void on_send(eddy_udp_send_t *req, int status) {
  int id = (int)(intptr_t)req->req.data;

  if (st.inside_send)
    st.cb_inside_send++;
  assert_int_equal(req->req.type, EDDY_UDP_SEND);
  st.send_order[st.sends_done] = id;
  st.send_status[st.sends_done] = status;
  st.sends_done++;
  test_log_printf(&st.log, "send %d %s\n", id,
                  status == 0 ? "ok" : eddy_err_name(status));
  if (st.close_in_send && !eddy_is_closing(&req->handle->handle))
    eddy_close(&req->handle->handle, on_close);
}

static int send_buf(eddy_udp_send_t *req, eddy_udp_t *udp, int id,
                    const char *data, size_t len, const struct sockaddr *addr) {
  eddy_buf_t b = eddy_buf_init((void *)data, len);
  int err;

  req->req.data = (void *)(intptr_t)id;
  st.inside_send = 1;
  err = eddy_udp_send(req, udp, &b, 1, addr, on_send);
  st.inside_send = 0;
  return err;
}

static int try_str(eddy_udp_t *udp, const char *s,
                   const struct sockaddr *addr) {
  eddy_buf_t b = eddy_buf_init((void *)s, strlen(s));

  return eddy_udp_try_send(udp, &b, 1, addr);
}

static void bind4(eddy_udp_t *udp, struct sockaddr_in *out) {
  struct sockaddr_in a;
  int len = sizeof(*out);

  assert_int_equal(eddy_ip4_addr("127.0.0.1", 0, &a), 0);
  assert_int_equal(eddy_udp_bind(udp, (struct sockaddr *)&a, 0), 0);
  assert_int_equal(eddy_udp_getsockname(udp, (struct sockaddr *)out, &len), 0);
  assert_int_equal(len, sizeof(*out));
  assert_int_not_equal(out->sin_port, 0);
}

static int sock_port(const eddy_udp_t *udp) {
  struct sockaddr_storage ss;
  int len = sizeof(ss);

  assert_int_equal(eddy_udp_getsockname(udp, (struct sockaddr *)&ss, &len), 0);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int getopt_int(const eddy_udp_t *udp, int level, int name) {
  int v = -1;
  socklen_t len = sizeof(v);

  assert_int_equal(getsockopt(eddy_udp_fileno(udp), level, name, &v, &len), 0);
  return v;
}

/* Fill an AF_UNIX datagram pair until the kernel pushes back. */
static int fill_until_eagain(eddy_udp_t *udp) {
  static char big[2048];
  eddy_buf_t b = eddy_buf_init(big, sizeof(big));
  int n = 0, r;

  memset(big, 'f', sizeof(big));
  while ((r = eddy_udp_try_send(udp, &b, 1, NULL)) > 0)
    n++;
  assert_int_equal(r, EDDY_EAGAIN);
  assert_true(n > 0);
  return n;
}

/* ---- round trips ---------------------------------------------------- */

static void test_roundtrip_ip4(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  eddy_udp_send_t req;
  struct sockaddr_in saddr;
  struct sockaddr_in *from;
  eddy_buf_t bufs[2];

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_handle_get_type(&server.handle), EDDY_UDP);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  assert_int_equal(eddy_udp_fileno(&client), EDDY_EBADF); /* lazy */
  assert_false(eddy_is_active(&client.handle));
  bind4(&server, &saddr);
  st.target = 1;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_true(eddy_is_active(&server.handle));
  /* Two buffers, one datagram. */
  bufs[0] = eddy_buf_init("hello, ", 7);
  bufs[1] = eddy_buf_init("world", 5);
  req.req.data = (void *)(intptr_t)7;
  st.inside_send = 1;
  assert_int_equal(
      eddy_udp_send(&req, &client, bufs, 2, (struct sockaddr *)&saddr, on_send),
      0);
  st.inside_send = 0;
  assert_int_equal(st.sends_done, 0); /* never inside eddy_udp_send */
  assert_ptr_equal(req.handle, &client);
  assert_true(eddy_is_active(&client.handle));
  assert_true(eddy_udp_fileno(&client) >= 0);
  assert_int_not_equal(sock_port(&client), 0); /* bound by the send */
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.sends_done, 1);
  assert_int_equal(st.send_status[0], 0);
  assert_int_equal(st.send_order[0], 7);
  assert_int_equal(st.cb_inside_send, 0);
  assert_int_equal(client.send_queue_count, 0);
  assert_int_equal(client.send_queue_size, 0);
  assert_false(eddy_is_active(&client.handle));
  assert_int_equal(st.ndgrams, 1);
  assert_int_equal(st.got[0].n, 12);
  assert_string_equal(st.got[0].data, "hello, world");
  assert_int_equal(st.got[0].flags, 0);
  from = (struct sockaddr_in *)&st.got[0].from;
  assert_int_equal(from->sin_family, AF_INET);
  assert_int_equal(ntohl(from->sin_addr.s_addr), 0x7f000001);
  assert_int_equal(ntohs(from->sin_port), sock_port(&client));
  test_teardown_loop(&loop);
}

/* IPv6 on ::1, a socket made by init_ex, the server closing itself from
 * its read callback. */
static void test_roundtrip_ip6(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  eddy_udp_send_t req;
  struct sockaddr_in6 a, saddr;
  struct sockaddr_in6 *from;
  char name[EDDY_IP6_NAMELEN];
  int len = sizeof(saddr);
  int err;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init_ex(&loop, &server, AF_INET6), 0);
  assert_true(eddy_udp_fileno(&server) >= 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  assert_int_equal(eddy_ip6_addr("::1", 0, &a), 0);
  err = eddy_udp_bind(&server, (struct sockaddr *)&a, EDDY_UDP_IPV6ONLY);
  if (err == EDDY_EADDRNOTAVAIL || err == EDDY_EAFNOSUPPORT) {
    print_message("skipping: no IPv6 loopback here (%s)\n", eddy_err_name(err));
    test_teardown_loop(&loop);
    skip();
  }
  assert_int_equal(err, 0);
  assert_int_equal(getopt_int(&server, IPPROTO_IPV6, IPV6_V6ONLY), 1);
  assert_int_equal(
      eddy_udp_getsockname(&server, (struct sockaddr *)&saddr, &len), 0);
  st.target = 1;
  st.close_at_target = 1;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(
      send_buf(&req, &client, 1, "six", 3, (struct sockaddr *)&saddr), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.closed, 1);
  assert_int_equal(st.ndgrams, 1);
  assert_string_equal(st.got[0].data, "six");
  from = (struct sockaddr_in6 *)&st.got[0].from;
  assert_int_equal(from->sin6_family, AF_INET6);
  assert_int_equal(eddy_ip_name((struct sockaddr *)from, name, sizeof(name)),
                   0);
  assert_string_equal(name, "::1");
  assert_int_equal(st.sends_done, 1);
  assert_int_equal(st.send_status[0], 0);
  test_teardown_loop(&loop);
}

static void test_empty_datagram(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  eddy_udp_send_t req[2];
  struct sockaddr_in saddr;
  eddy_buf_t empty = eddy_buf_init(NULL, 0);

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &saddr);
  st.target = 2;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  /* No buffers at all, and one buffer of length 0. */
  req[0].req.data = (void *)(intptr_t)0;
  req[1].req.data = (void *)(intptr_t)1;
  assert_int_equal(eddy_udp_send(&req[0], &client, NULL, 0,
                                 (struct sockaddr *)&saddr, on_send),
                   0);
  assert_int_equal(eddy_udp_send(&req[1], &client, &empty, 1,
                                 (struct sockaddr *)&saddr, on_send),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 2);
  assert_int_equal(st.got[0].n, 0);
  assert_int_equal(st.got[1].n, 0);
  assert_int_equal(st.got[0].from.ss_family, AF_INET);
  assert_int_equal(st.sends_done, 2);
  test_teardown_loop(&loop);
}

static void test_truncated(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  struct sockaddr_in saddr;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &saddr);
  assert_int_equal(try_str(&client, "0123456789", (struct sockaddr *)&saddr),
                   10);
  assert_int_equal(try_str(&client, "abc", (struct sockaddr *)&saddr), 3);
  st.target = 2;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_small, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 2);
  assert_int_equal(st.got[0].n, 4);
  assert_string_equal(st.got[0].data, "0123");
  assert_int_equal(st.got[0].flags, EDDY_UDP_PARTIAL);
  assert_int_equal(st.got[1].n, 3);
  assert_string_equal(st.got[1].data, "abc");
  assert_int_equal(st.got[1].flags, 0);
  test_teardown_loop(&loop);
}

/* An allocator that gives nothing: EDDY_ENOBUFS, and the datagram stays
 * in the kernel for a later read. */
static void test_enobufs(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  struct sockaddr_in saddr;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &saddr);
  assert_int_equal(try_str(&client, "kept", (struct sockaddr *)&saddr), 4);
  assert_int_equal(eddy_udp_recv_start(&server, alloc_none, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.nerrors, 1);
  assert_int_equal(st.last_error, EDDY_ENOBUFS);
  assert_int_equal(st.ndgrams, 0);
  st.target = 1;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 1);
  assert_string_equal(st.got[0].data, "kept");
  test_teardown_loop(&loop);
}

/* ---- connected handles --------------------------------------------- */

static void test_connected(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  eddy_udp_send_t req[3];
  struct sockaddr_in saddr, peer;
  int len = sizeof(peer);

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &saddr);
  /* Not connected: an address is required. */
  assert_int_equal(send_buf(&req[0], &client, 0, "x", 1, NULL),
                   EDDY_EDESTADDRREQ);
  assert_int_equal(try_str(&client, "x", NULL), EDDY_EDESTADDRREQ);
  assert_int_equal(eddy_udp_connect(&client, NULL), EDDY_ENOTCONN);
  assert_int_equal(eddy_udp_connect(&client, (struct sockaddr *)&saddr), 0);
  assert_int_equal(eddy_udp_connect(&client, (struct sockaddr *)&saddr),
                   EDDY_EISCONN);
  assert_int_equal(
      eddy_udp_getpeername(&client, (struct sockaddr *)&peer, &len), 0);
  assert_int_equal(peer.sin_port, saddr.sin_port);
  /* Connected: no address allowed. */
  assert_int_equal(
      send_buf(&req[0], &client, 0, "x", 1, (struct sockaddr *)&saddr),
      EDDY_EISCONN);
  assert_int_equal(try_str(&client, "x", (struct sockaddr *)&saddr),
                   EDDY_EISCONN);
  assert_int_equal(send_buf(&req[0], &client, 0, "one", 3, NULL), 0);
  assert_int_equal(try_str(&client, "two", NULL), 3);
  st.target = 2;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 2);
  assert_string_equal(st.got[0].data, "one");
  assert_string_equal(st.got[1].data, "two");
  /* Disconnect: addresses are required again. */
  assert_int_equal(eddy_udp_connect(&client, NULL), 0);
  assert_int_equal(eddy_udp_connect(&client, NULL), EDDY_ENOTCONN);
  len = sizeof(peer);
  assert_int_equal(
      eddy_udp_getpeername(&client, (struct sockaddr *)&peer, &len),
      EDDY_ENOTCONN);
  assert_int_equal(send_buf(&req[1], &client, 1, "x", 1, NULL),
                   EDDY_EDESTADDRREQ);
  assert_int_equal(
      send_buf(&req[1], &client, 1, "three", 5, (struct sockaddr *)&saddr), 0);
  st.target = 3;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 3);
  assert_string_equal(st.got[2].data, "three");
  assert_int_equal(st.sends_done, 2);
  test_teardown_loop(&loop);
}

/* A connected socket learns of a closed port (ICMP) and the next read
 * reports EDDY_ECONNREFUSED. */
static void test_connection_refused(void **state) {
  eddy_loop_t loop;
  eddy_udp_t gone, client;
  eddy_udp_send_t req;
  struct sockaddr_in addr;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &gone), 0);
  bind4(&gone, &addr);
  eddy_close(&gone.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  assert_int_equal(eddy_udp_connect(&client, (struct sockaddr *)&addr), 0);
  assert_int_equal(send_buf(&req, &client, 0, "anyone?", 7, NULL), 0);
  assert_int_equal(eddy_udp_recv_start(&client, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.sends_done, 1);
  assert_int_equal(st.nerrors, 1);
  assert_int_equal(st.last_error, EDDY_ECONNREFUSED);
  test_teardown_loop(&loop);
}

/* IP_RECVERR: an unconnected socket hears of the unreachable port, once,
 * and the kernel's error queue is left empty (else the descriptor would
 * stay flagged); receiving goes on afterwards. */
static void test_linux_recverr(void **state) {
#ifdef __linux__
  eddy_loop_t loop;
  eddy_udp_t gone, client, peer;
  eddy_udp_send_t req;
  struct sockaddr_in gone_addr, client_addr, any;
  struct msghdr msg;
  char control[256];

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &gone), 0);
  bind4(&gone, &gone_addr);
  eddy_close(&gone.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 0, &any), 0);
  assert_int_equal(eddy_udp_bind(&client, (struct sockaddr *)&any,
                                 EDDY_UDP_LINUX_RECVERR),
                   0);
  assert_int_equal(getopt_int(&client, IPPROTO_IP, IP_RECVERR), 1);
  assert_int_equal(
      send_buf(&req, &client, 0, "anyone?", 7, (struct sockaddr *)&gone_addr),
      0);
  assert_int_equal(eddy_udp_recv_start(&client, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.sends_done, 1);
  assert_int_equal(st.send_status[0], 0);
  assert_int_equal(st.nerrors, 1);
  assert_int_equal(st.last_error, EDDY_ECONNREFUSED);
  memset(&msg, 0, sizeof(msg));
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  assert_int_equal(
      recvmsg(eddy_udp_fileno(&client), &msg, MSG_ERRQUEUE | MSG_DONTWAIT),
      -1);
  assert_int_equal(errno, EAGAIN);
  /* still a working socket */
  st.target = 1;
  assert_int_equal(eddy_udp_recv_start(&client, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_udp_init(&loop, &peer), 0);
  {
    int len = sizeof(client_addr);

    assert_int_equal(eddy_udp_getsockname(&client,
                                          (struct sockaddr *)&client_addr,
                                          &len),
                     0);
  }
  assert_int_equal(try_str(&peer, "after", (struct sockaddr *)&client_addr),
                   5);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 1);
  assert_string_equal(st.got[0].data, "after");
  assert_int_equal(st.nerrors, 1);
  eddy_close(&peer.handle, NULL);
  test_teardown_loop(&loop);
#else
  (void)state;
  skip();
#endif
}

/* SO_REUSEPORT: a second socket on a taken address only with the flag on
 * both; unknown flags are refused. */
static void test_reuseport(void **state) {
  eddy_loop_t loop;
  eddy_udp_t a, b, c;
  struct sockaddr_in addr;
  int port;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &a), 0);
  assert_int_equal(eddy_udp_init(&loop, &b), 0);
  assert_int_equal(eddy_udp_init(&loop, &c), 0);
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 0, &addr), 0);
  assert_int_equal(eddy_udp_bind(&a, (struct sockaddr *)&addr,
                                 EDDY_UDP_REUSEPORT),
                   0);
  port = sock_port(&a);
  assert_int_equal(getopt_int(&a, SOL_SOCKET, SO_REUSEPORT), 1);
  assert_int_equal(eddy_ip4_addr("127.0.0.1", port, &addr), 0);
  assert_int_equal(eddy_udp_bind(&c, (struct sockaddr *)&addr, 0),
                   EDDY_EADDRINUSE);
  assert_int_equal(eddy_udp_bind(&b, (struct sockaddr *)&addr,
                                 EDDY_UDP_REUSEPORT),
                   0);
  assert_int_equal(sock_port(&b), port);
  assert_int_equal(eddy_udp_bind(&c, (struct sockaddr *)&addr, 1u << 12),
                   EDDY_EINVAL);
  eddy_close(&a.handle, NULL);
  eddy_close(&b.handle, NULL);
  eddy_close(&c.handle, NULL);
  test_teardown_loop(&loop);
}

/* Several datagrams in one call, in order; the arguments are checked. */
static void test_try_send2(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  struct sockaddr_in addr;
  eddy_buf_t b0[1], b1[2], b2[1];
  eddy_buf_t *bufs[3] = {b0, b1, b2};
  unsigned nbufs[3] = {1, 2, 1};
  struct sockaddr *addrs[3];

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &addr);
  b0[0] = eddy_buf_init("one", 3);
  b1[0] = eddy_buf_init("tw", 2);
  b1[1] = eddy_buf_init("o", 1);
  b2[0] = eddy_buf_init("three", 5);
  addrs[0] = addrs[1] = addrs[2] = (struct sockaddr *)&addr;
  assert_int_equal(eddy_udp_try_send2(&client, 0, bufs, nbufs, addrs, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_try_send2(&client, 3, bufs, nbufs, addrs, 1),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_try_send2(&client, 3, NULL, nbufs, addrs, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_try_send2(&client, 3, bufs, nbufs, NULL, 0),
                   EDDY_EDESTADDRREQ);
  assert_int_equal(eddy_udp_try_send2(&client, 3, bufs, nbufs, addrs, 0), 3);
  st.target = 3;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 3);
  assert_string_equal(st.got[0].data, "one");
  assert_string_equal(st.got[1].data, "two");
  assert_string_equal(st.got[2].data, "three");
  eddy_close(&server.handle, NULL);
  eddy_close(&client.handle, NULL);
  test_teardown_loop(&loop);
}

/* UDP over a Unix datagram socket: bound to a path, sent to by a handle
 * that has no socket yet (an unnamed one is made), replies by path. */
static void test_unix_datagram(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client, made;
  struct sockaddr_un sun;
  char dir[] = "/tmp/eddy-udp-XXXXXX";

  (void)state;
  reset();
  assert_non_null(mkdtemp(dir));
  memset(&sun, 0, sizeof(sun));
  sun.sun_family = AF_UNIX;
  snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/s", dir);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_bind(&server, (struct sockaddr *)&sun, 0), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  assert_int_equal(try_str(&client, "via path", (struct sockaddr *)&sun), 8);
  st.target = 1;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 1);
  assert_string_equal(st.got[0].data, "via path");
  assert_int_equal(st.got[0].from.ss_family, AF_UNSPEC); /* unnamed */
  /* made up front by init_ex */
  assert_int_equal(eddy_udp_init_ex(&loop, &made, AF_UNIX), 0);
  assert_true(eddy_udp_fileno(&made) >= 0);
  eddy_close(&made.handle, NULL);
  eddy_close(&server.handle, NULL);
  eddy_close(&client.handle, NULL);
  test_teardown_loop(&loop);
  assert_int_equal(unlink(sun.sun_path), 0);
  assert_int_equal(rmdir(dir), 0);
}

/* ---- options -------------------------------------------------------- */

static void test_options(void **state) {
  eddy_loop_t loop;
  eddy_udp_t u, u6;
  struct sockaddr_in addr;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &u), 0);
  /* No socket yet. */
  assert_int_equal(eddy_udp_set_broadcast(&u, 1), EDDY_EBADF);
  assert_int_equal(eddy_udp_set_ttl(&u, 10), EDDY_EBADF);
  assert_int_equal(eddy_udp_set_multicast_ttl(&u, 1), EDDY_EBADF);
  assert_int_equal(eddy_udp_set_multicast_loop(&u, 1), EDDY_EBADF);
  assert_int_equal(eddy_udp_set_multicast_interface(&u, NULL), EDDY_EBADF);
  bind4(&u, &addr);
  assert_int_equal(eddy_udp_set_broadcast(&u, 1), 0);
  assert_int_equal(getopt_int(&u, SOL_SOCKET, SO_BROADCAST), 1);
  assert_int_equal(eddy_udp_set_broadcast(&u, 0), 0);
  assert_int_equal(getopt_int(&u, SOL_SOCKET, SO_BROADCAST), 0);
  assert_int_equal(eddy_udp_set_ttl(&u, 0), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_ttl(&u, -1), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_ttl(&u, 256), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_ttl(&u, 1), 0);
  assert_int_equal(getopt_int(&u, IPPROTO_IP, IP_TTL), 1);
  assert_int_equal(eddy_udp_set_ttl(&u, 255), 0);
  assert_int_equal(getopt_int(&u, IPPROTO_IP, IP_TTL), 255);
  assert_int_equal(eddy_udp_set_multicast_ttl(&u, -1), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_multicast_ttl(&u, 256), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_multicast_ttl(&u, 0), 0);
  assert_int_equal(eddy_udp_set_multicast_ttl(&u, 32), 0);
  assert_int_equal(getopt_int(&u, IPPROTO_IP, IP_MULTICAST_TTL), 32);
  assert_int_equal(eddy_udp_set_multicast_loop(&u, 0), 0);
  assert_int_equal(getopt_int(&u, IPPROTO_IP, IP_MULTICAST_LOOP), 0);
  assert_int_equal(eddy_udp_set_multicast_loop(&u, 1), 0);
  assert_int_equal(getopt_int(&u, IPPROTO_IP, IP_MULTICAST_LOOP), 1);
  assert_int_equal(eddy_udp_set_multicast_interface(&u, NULL), 0);
  assert_int_equal(eddy_udp_set_multicast_interface(&u, "127.0.0.1"), 0);
  assert_int_equal(eddy_udp_set_multicast_interface(&u, "::1"), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_multicast_interface(&u, "bogus"), EDDY_EINVAL);
  /* IPv6 names of the same options. */
  assert_int_equal(eddy_udp_init_ex(&loop, &u6, AF_INET6), 0);
  assert_int_equal(eddy_udp_set_ttl(&u6, 64), 0);
  assert_int_equal(getopt_int(&u6, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 64);
  assert_int_equal(eddy_udp_set_multicast_ttl(&u6, 5), 0);
  assert_int_equal(getopt_int(&u6, IPPROTO_IPV6, IPV6_MULTICAST_HOPS), 5);
  assert_int_equal(eddy_udp_set_multicast_loop(&u6, 0), 0);
  assert_int_equal(getopt_int(&u6, IPPROTO_IPV6, IPV6_MULTICAST_LOOP), 0);
  assert_int_equal(eddy_udp_set_multicast_interface(&u6, "::%lo"), 0);
  assert_int_equal(eddy_udp_set_multicast_interface(&u6, NULL), 0);
  assert_int_equal(eddy_udp_set_multicast_interface(&u6, "127.0.0.1"),
                   EDDY_EINVAL);
  /* Closing: every call is refused. */
  eddy_close(&u.handle, NULL);
  assert_int_equal(eddy_udp_set_ttl(&u, 10), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_broadcast(&u, 1), EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_multicast_loop(&u, 1), EDDY_EINVAL);
  test_teardown_loop(&loop);
}

/* ---- multicast ------------------------------------------------------ */

#define GROUP4 "239.255.42.99"

/* Can a datagram for the group leave this host at all? */
static int have_multicast_route(void) {
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  int ok;

  assert_true(fd >= 0);
  assert_int_equal(eddy_ip4_addr(GROUP4, 9, &a), 0);
  ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
  close(fd);
  return ok;
}

static int guard_fired;
static eddy_udp_t *mc_handles[2];
static void on_guard(eddy_timer_t *t) {
  /* The kernel accepted the membership and the send yet delivered
   * nothing (a firewall?): give up on the datagram, do not hang. */
  guard_fired = 1;
  eddy_udp_recv_stop(mc_handles[0]);
  eddy_close((eddy_handle_t *)t, NULL);
}

static void stop_guard_on_dgram(eddy_udp_t *udp, ssize_t nread,
                                const eddy_buf_t *buf,
                                const struct sockaddr *addr, unsigned flags) {
  record_dgram(udp, nread, buf, addr, flags);
  if (st.ndgrams == st.target)
    eddy_close((eddy_handle_t *)udp->handle.data, NULL);
}

static void test_multicast(void **state) {
  eddy_loop_t loop;
  eddy_udp_t recv, sender, u6;
  eddy_timer_t guard;
  struct sockaddr_in any, group;
  int err;

  (void)state;
  reset();
  guard_fired = 0;
  if (!have_multicast_route()) {
    print_message("skipping: no multicast route on this machine\n");
    skip();
  }
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &recv), 0);
  assert_int_equal(eddy_udp_init_ex(&loop, &sender, AF_INET), 0);
  assert_int_equal(eddy_ip4_addr("0.0.0.0", 0, &any), 0);
  assert_int_equal(
      eddy_udp_bind(&recv, (struct sockaddr *)&any, EDDY_UDP_REUSEADDR), 0);
  assert_int_equal(getopt_int(&recv, SOL_SOCKET, SO_REUSEADDR), 1);
  /* Argument errors first. */
  assert_int_equal(
      eddy_udp_set_membership(&recv, "300.1.1.1", NULL, EDDY_JOIN_GROUP),
      EDDY_EINVAL);
  assert_int_equal(eddy_udp_set_membership(&recv, NULL, NULL, EDDY_JOIN_GROUP),
                   EDDY_EINVAL);
  assert_int_equal(
      eddy_udp_set_membership(&recv, GROUP4, NULL, (eddy_membership)7),
      EDDY_EINVAL);
  assert_int_equal(
      eddy_udp_set_membership(&recv, GROUP4, "bogus", EDDY_JOIN_GROUP),
      EDDY_EINVAL);
  err = eddy_udp_set_membership(&recv, GROUP4, NULL, EDDY_JOIN_GROUP);
  if (err != 0) {
    print_message("skipping: cannot join %s here (%s)\n", GROUP4,
                  eddy_err_name(err));
    test_teardown_loop(&loop);
    skip();
  }
  /* Loopback on, TTL 0: the datagram comes back to this host and goes no
   * further. */
  assert_int_equal(eddy_udp_set_multicast_loop(&sender, 1), 0);
  assert_int_equal(eddy_udp_set_multicast_ttl(&sender, 0), 0);
  assert_int_equal(eddy_ip4_addr(GROUP4, sock_port(&recv), &group), 0);
  assert_int_equal(try_str(&sender, "to the group", (struct sockaddr *)&group),
                   12);
  assert_int_equal(eddy_timer_init(&loop, &guard), 0);
  assert_int_equal(eddy_timer_start(&guard, on_guard, 10000, 0), 0);
  mc_handles[0] = &recv;
  recv.handle.data = &guard;
  st.target = 1;
  assert_int_equal(
      eddy_udp_recv_start(&recv, alloc_static, stop_guard_on_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  if (guard_fired) {
    print_message("note: joined %s but no datagram came back\n", GROUP4);
  } else {
    assert_int_equal(st.ndgrams, 1);
    assert_string_equal(st.got[0].data, "to the group");
  }
  assert_int_equal(
      eddy_udp_set_membership(&recv, GROUP4, NULL, EDDY_LEAVE_GROUP), 0);
  assert_int_equal(
      eddy_udp_set_membership(&recv, GROUP4, NULL, EDDY_LEAVE_GROUP),
      EDDY_EADDRNOTAVAIL);
  /* Source-specific membership, where the system has it. */
  err = eddy_udp_set_source_membership(&recv, "232.1.2.3", NULL, "127.0.0.1",
                                       EDDY_JOIN_GROUP);
  if (err != EDDY_ENOSYS) {
    assert_int_equal(err, 0);
    assert_int_equal(eddy_udp_set_source_membership(&recv, "232.1.2.3", NULL,
                                                    "127.0.0.1",
                                                    EDDY_LEAVE_GROUP),
                     0);
  }
  assert_int_equal(eddy_udp_set_source_membership(&recv, "232.1.2.3", NULL,
                                                  "::1", EDDY_JOIN_GROUP),
                   EDDY_EINVAL);
  /* IPv6 groups: a handle made by the membership call itself. */
  assert_int_equal(eddy_udp_init(&loop, &u6), 0);
  err = eddy_udp_set_membership(&u6, "ff15::4242", NULL, EDDY_JOIN_GROUP);
  if (err == 0)
    assert_int_equal(
        eddy_udp_set_membership(&u6, "ff15::4242", NULL, EDDY_LEAVE_GROUP), 0);
  else
    print_message("note: IPv6 group not joined here (%s)\n",
                  eddy_err_name(err));
  test_teardown_loop(&loop);
}

/* ---- batched receives ----------------------------------------------- */

static void alloc_heap(eddy_handle_t *h, size_t size, eddy_buf_t *buf) {
  (void)h;
  st.cur_buf = malloc(size);
  assert_non_null(st.cur_buf);
  st.cur_len = size;
  st.allocs++;
  *buf = eddy_buf_init(st.cur_buf, size);
}

static void record_batch(eddy_udp_t *udp, ssize_t nread, const eddy_buf_t *buf,
                         const struct sockaddr *addr, unsigned flags) {
  if (flags & EDDY_UDP_MMSG_CHUNK) {
    /* A slot inside the buffer: not ours to free. */
    assert_non_null(addr);
    assert_true((char *)buf->base >= st.cur_buf &&
                (char *)buf->base + buf->len <= st.cur_buf + st.cur_len);
    st.chunks++;
    st.batch++;
    keep_dgram(nread, buf, addr, flags & ~(unsigned)EDDY_UDP_MMSG_CHUNK);
    at_target(udp);
    return;
  }
  /* Every other call hands the whole buffer back. */
  assert_ptr_equal(buf->base, st.cur_buf);
  if (flags & EDDY_UDP_MMSG_FREE) {
    assert_int_equal(nread, 0);
    assert_null(addr);
    if (st.batch > st.max_batch)
      st.max_batch = st.batch;
    st.batch = 0;
  } else if (nread < 0) {
    st.nerrors++;
  } else if (addr != NULL) {
    keep_dgram(nread, buf, addr, flags); /* a plain read */
    at_target(udp);
  } else {
    st.nends++;
    if (st.stop_on_end)
      eddy_udp_recv_stop(udp);
  }
  free(buf->base);
  st.frees++;
}

static void test_recvmmsg(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  struct sockaddr_in saddr;
  char msg[32];
  int i, rcvbuf = 1 << 20;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(
      eddy_udp_init_ex(&loop, &server, AF_INET | EDDY_UDP_RECVMMSG), 0);
#ifdef __linux__
  assert_true(eddy_udp_using_recvmmsg(&server));
#endif
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  assert_false(eddy_udp_using_recvmmsg(&client));
  bind4(&server, &saddr);
  setsockopt(eddy_udp_fileno(&server), SOL_SOCKET, SO_RCVBUF, &rcvbuf,
             sizeof(rcvbuf));
  for (i = 0; i < 100; i++) {
    snprintf(msg, sizeof(msg), "dgram %03d", i);
    assert_int_equal(try_str(&client, msg, (struct sockaddr *)&saddr), 9);
  }
  /* Stop after 50: the batch in progress still completes, nothing is
   * lost, and the rest comes after a restart. */
  st.target = 50;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_heap, record_batch), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_true(st.ndgrams >= 50);
  st.target = -1; /* read on until the socket is empty */
  st.stop_on_end = 1;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_heap, record_batch), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 100);
  for (i = 0; i < 100; i++) {
    snprintf(msg, sizeof(msg), "dgram %03d", i);
    assert_string_equal(st.got[i].data, msg);
    assert_int_equal(st.got[i].n, 9);
    assert_int_equal(st.got[i].flags, 0);
  }
  assert_int_equal(st.nends, 1);
  assert_int_equal(st.allocs, st.frees);
  assert_int_equal(st.nerrors, 0);
#ifdef __linux__
  assert_int_equal(st.chunks, 100);
  assert_true(st.max_batch > 1);
  assert_true(st.max_batch <= EDDY_UDP_MMSG_SLOTS);
#endif
  test_teardown_loop(&loop);
}

/* ---- the send queue ------------------------------------------------- */

static void open_pair(eddy_loop_t *loop, eddy_udp_t *a, eddy_udp_t *b) {
  int sv[2];

  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  assert_int_equal(eddy_udp_init(loop, a), 0);
  assert_int_equal(eddy_udp_open(a, sv[0]), 0);
  assert_int_equal(fcntl(sv[0], F_GETFL) & O_NONBLOCK, O_NONBLOCK);
  if (b != NULL) {
    assert_int_equal(eddy_udp_init(loop, b), 0);
    assert_int_equal(eddy_udp_open(b, sv[1]), 0);
  } else {
    close(sv[1]);
  }
}

/* Many sends queued behind a full socket leave in order (sendmmsg
 * batches on Linux) as the reader makes room. */
static void test_send_queue_drains_in_order(void **state) {
  enum { N = 40 };
  eddy_loop_t loop;
  eddy_udp_t writer, reader;
  eddy_udp_send_t reqs[N];
  char msgs[N][16];
  size_t bytes = 0;
  int i, nfill;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop, &writer, &reader);
  nfill = fill_until_eagain(&writer);
  for (i = 0; i < N; i++) {
    snprintf(msgs[i], sizeof(msgs[i]), "queued %02d", i);
    bytes += strlen(msgs[i]);
    assert_int_equal(
        send_buf(&reqs[i], &writer, i, msgs[i], strlen(msgs[i]), NULL), 0);
  }
  assert_int_equal(st.sends_done, 0);
  assert_int_equal(writer.send_queue_count, N);
  assert_int_equal(eddy_udp_get_send_queue_count(&writer), N);
  assert_int_equal(writer.send_queue_size, bytes);
  assert_int_equal(eddy_udp_get_send_queue_size(&writer), bytes);
  /* try_send never jumps the queue. */
  assert_int_equal(try_str(&writer, "late", NULL), EDDY_EAGAIN);
  st.target = nfill + N;
  assert_int_equal(eddy_udp_recv_start(&reader, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, nfill + N);
  for (i = 0; i < N; i++)
    assert_string_equal(st.got[nfill + i].data, msgs[i]);
  assert_int_equal(st.got[0].from.ss_family, AF_UNSPEC); /* unnamed peer */
  assert_int_equal(st.sends_done, N);
  for (i = 0; i < N; i++) {
    assert_int_equal(st.send_order[i], i);
    assert_int_equal(st.send_status[i], 0);
  }
  assert_int_equal(st.cb_inside_send, 0);
  assert_int_equal(writer.send_queue_count, 0);
  assert_int_equal(writer.send_queue_size, 0);
  assert_false(eddy_is_active(&writer.handle));
  test_teardown_loop(&loop);
}

/* One send queued with more buffers than the request holds inline: the
 * array is copied, and it leaves with a plain sendmsg. */
static void test_queued_many_buffers(void **state) {
  eddy_loop_t loop;
  eddy_udp_t writer, reader;
  eddy_udp_send_t req;
  eddy_buf_t bufs[6];
  const char *parts[6] = {"a", "bb", "ccc", "dddd", "eeeee", "ffffff"};
  int i, nfill;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop, &writer, &reader);
  nfill = fill_until_eagain(&writer);
  for (i = 0; i < 6; i++)
    bufs[i] = eddy_buf_init((void *)parts[i], strlen(parts[i]));
  req.req.data = (void *)(intptr_t)9;
  assert_int_equal(eddy_udp_send(&req, &writer, bufs, 6, NULL, on_send), 0);
  memset(bufs, 0, sizeof(bufs)); /* the caller may reuse the array */
  assert_int_equal(writer.send_queue_count, 1);
  assert_int_equal(writer.send_queue_size, 21);
  st.target = nfill + 1;
  assert_int_equal(eddy_udp_recv_start(&reader, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, nfill + 1);
  assert_string_equal(st.got[nfill].data, "abbcccddddeeeeeffffff");
  assert_int_equal(st.sends_done, 1);
  assert_int_equal(st.send_status[0], 0);
  test_teardown_loop(&loop);
}

/* A queued send the kernel refuses fails alone, in its place; those
 * around it still go. */
static void test_queued_error_in_order(void **state) {
  static char huge[1 << 20]; /* more than any AF_UNIX socket buffer */
  eddy_loop_t loop;
  eddy_udp_t writer, reader;
  eddy_udp_send_t reqs[3];
  int nfill;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  open_pair(&loop, &writer, &reader);
  nfill = fill_until_eagain(&writer);
  assert_int_equal(send_buf(&reqs[0], &writer, 0, "before", 6, NULL), 0);
  assert_int_equal(send_buf(&reqs[1], &writer, 1, huge, sizeof(huge), NULL), 0);
  assert_int_equal(send_buf(&reqs[2], &writer, 2, "after", 5, NULL), 0);
  st.target = nfill + 2;
  assert_int_equal(eddy_udp_recv_start(&reader, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(st.log.buf, "send 0 ok\n"
                                  "send 1 EMSGSIZE\n"
                                  "send 2 ok\n");
  assert_string_equal(st.got[nfill].data, "before");
  assert_string_equal(st.got[nfill + 1].data, "after");
  assert_int_equal(writer.send_queue_size, 0);
  test_teardown_loop(&loop);
}

/* The descriptor closed behind the handle's back: the reader and the
 * queued sends hear EDDY_EBADF. */
static void test_fd_closed_behind_back(void **state) {
  eddy_loop_t loop;
  eddy_udp_t u;
  struct sockaddr_in addr;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &u), 0);
  bind4(&u, &addr);
  assert_int_equal(eddy_udp_recv_start(&u, alloc_static, record_dgram), 0);
  close(eddy_udp_fileno(&u));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.nerrors, 1);
  assert_int_equal(st.last_error, EDDY_EBADF);
  assert_false(eddy_is_active(&u.handle));
  test_teardown_loop(&loop);
}

/* Close with sends done and sends queued: their callbacks run in order,
 * the queued ones with EDDY_ECANCELED, then the close callback. Twice:
 * closed from outside, and from the first send callback. */
static void close_with_queue(int from_callback) {
  eddy_loop_t loop;
  eddy_udp_t writer;
  eddy_udp_send_t reqs[4];
  int sv[2];
  int i;

  reset();
  st.close_in_send = from_callback;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
  assert_int_equal(eddy_udp_init(&loop, &writer), 0);
  assert_int_equal(eddy_udp_open(&writer, sv[0]), 0);
  /* One send the kernel takes at once, then a full socket, then three
   * that must wait. */
  assert_int_equal(send_buf(&reqs[0], &writer, 0, "done", 4, NULL), 0);
  fill_until_eagain(&writer);
  for (i = 1; i < 4; i++)
    assert_int_equal(send_buf(&reqs[i], &writer, i, "queued", 6, NULL), 0);
  assert_int_equal(writer.send_queue_count, 3);
  if (!from_callback) {
    assert_int_equal(eddy_close(&writer.handle, on_close), 0);
    assert_int_equal(st.sends_done, 0); /* nothing inside eddy_close */
    assert_int_equal(eddy_udp_send(&reqs[0], &writer, NULL, 0, NULL, NULL),
                     EDDY_EINVAL);
  }
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(st.log.buf, "send 0 ok\n"
                                  "send 1 ECANCELED\n"
                                  "send 2 ECANCELED\n"
                                  "send 3 ECANCELED\n"
                                  "close\n");
  assert_int_equal(eddy_loop_close(&loop), 0);
  close(sv[1]);
}

static void test_close_cancels_queued(void **state) {
  (void)state;
  close_with_queue(0);
}

static void test_close_in_send_callback(void **state) {
  (void)state;
  close_with_queue(1);
}

/* Sends made from send callbacks: each callback still comes later, from
 * the loop, and the chain arrives in order. */
static eddy_udp_send_t chain_reqs[5];
static char chain_msgs[5][24];
static struct sockaddr_in chain_to;
static void chain_send(eddy_udp_send_t *req, int status) {
  int next = (int)(intptr_t)req->req.data + 1;
  eddy_buf_t b;

  on_send(req, status);
  if (next == 5)
    return;
  snprintf(chain_msgs[next], sizeof(chain_msgs[next]), "link %d", next);
  b = eddy_buf_init(chain_msgs[next], strlen(chain_msgs[next]));
  chain_reqs[next].req.data = (void *)(intptr_t)next;
  st.inside_send = 1;
  assert_int_equal(eddy_udp_send(&chain_reqs[next], req->handle, &b, 1,
                                 (struct sockaddr *)&chain_to, chain_send),
                   0);
  st.inside_send = 0;
}

static void test_send_from_send_callback(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  eddy_buf_t b = eddy_buf_init("link 0", 6);
  int i;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &chain_to);
  st.target = 5;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  chain_reqs[0].req.data = (void *)(intptr_t)0;
  assert_int_equal(eddy_udp_send(&chain_reqs[0], &client, &b, 1,
                                 (struct sockaddr *)&chain_to, chain_send),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.sends_done, 5);
  assert_int_equal(st.cb_inside_send, 0);
  assert_int_equal(st.ndgrams, 5);
  for (i = 0; i < 5; i++) {
    char msg[24];

    snprintf(msg, sizeof(msg), "link %d", i);
    assert_string_equal(st.got[i].data, msg);
  }
  test_teardown_loop(&loop);
}

/* A datagram too big for UDP: the error comes to the callback, later. */
static void test_send_error_to_callback(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  eddy_udp_send_t req;
  struct sockaddr_in saddr;
  static char big[70000];
  eddy_buf_t bufs[2];

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &saddr);
  bufs[0] = eddy_buf_init(big, 35000);
  bufs[1] = eddy_buf_init(big + 35000, 35000);
  req.req.data = (void *)(intptr_t)1;
  st.inside_send = 1;
  assert_int_equal(
      eddy_udp_send(&req, &client, bufs, 2, (struct sockaddr *)&saddr, on_send),
      0);
  st.inside_send = 0;
  assert_int_equal(st.sends_done, 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.sends_done, 1);
  assert_int_equal(st.send_status[0], EDDY_EMSGSIZE);
  assert_int_equal(
      eddy_udp_try_send(&client, bufs, 2, (struct sockaddr *)&saddr),
      EDDY_EMSGSIZE);
  test_teardown_loop(&loop);
}

/* ---- receiving control ---------------------------------------------- */

static void test_recv_stop(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  struct sockaddr_in saddr;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &saddr);
  assert_int_equal(try_str(&client, "one", (struct sockaddr *)&saddr), 3);
  assert_int_equal(try_str(&client, "two", (struct sockaddr *)&saddr), 3);
  st.target = 1; /* stops from the callback */
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram),
                   EDDY_EALREADY);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 1);
  assert_false(eddy_is_active(&server.handle));
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 0);
  assert_int_equal(st.ndgrams, 1);
  /* The second datagram waited in the kernel. */
  st.target = 2;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 2);
  assert_string_equal(st.got[1].data, "two");
  /* Stopping a stopped handle is fine. */
  assert_int_equal(eddy_udp_recv_stop(&server), 0);
  /* An unreferenced receiver does not keep the loop alive. */
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  eddy_unref(&server.handle);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  test_teardown_loop(&loop);
}

/* One readiness event reads at most EDDY_UDP_READS_PER_EVENT datagrams:
 * the check phase of the first iteration sees exactly that many. */
static int seen_at_check = -1;
static void note_at_check(eddy_check_t *check) {
  seen_at_check = st.ndgrams;
  eddy_close((eddy_handle_t *)check, NULL);
}

static void test_read_budget(void **state) {
  eddy_loop_t loop;
  eddy_udp_t server, client;
  eddy_check_t check;
  struct sockaddr_in saddr;
  int i;

  (void)state;
  reset();
  seen_at_check = -1;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &server), 0);
  assert_int_equal(eddy_udp_init(&loop, &client), 0);
  bind4(&server, &saddr);
  for (i = 0; i < EDDY_UDP_READS_PER_EVENT + 8; i++)
    assert_int_equal(try_str(&client, "b", (struct sockaddr *)&saddr), 1);
  assert_int_equal(eddy_check_init(&loop, &check), 0);
  assert_int_equal(eddy_check_start(&check, note_at_check), 0);
  st.target = EDDY_UDP_READS_PER_EVENT + 8;
  assert_int_equal(eddy_udp_recv_start(&server, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(seen_at_check, EDDY_UDP_READS_PER_EVENT);
  assert_int_equal(st.ndgrams, EDDY_UDP_READS_PER_EVENT + 8);
  test_teardown_loop(&loop);
}

/* recv_start on a handle with no socket binds 0.0.0.0, port 0. */
static void test_recv_start_binds(void **state) {
  eddy_loop_t loop;
  eddy_udp_t u;
  struct sockaddr_in a;
  int len = sizeof(a);

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &u), 0);
  assert_int_equal(eddy_udp_recv_start(&u, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_udp_getsockname(&u, (struct sockaddr *)&a, &len), 0);
  assert_int_equal(a.sin_family, AF_INET);
  assert_int_equal(a.sin_addr.s_addr, htonl(INADDR_ANY));
  assert_int_not_equal(a.sin_port, 0);
  test_teardown_loop(&loop);
}

/* ---- errors and descriptors ------------------------------------------ */

/* Out of descriptors: creating the socket (eddy_udp_init_ex, or a bind
 * that needs one) fails with EMFILE and leaves the handle usable; once
 * descriptors free up the same handle binds and sends. */
static void test_out_of_descriptors(void **state) {
  eddy_loop_t loop;
  eddy_udp_t a, b;
  eddy_udp_send_t req;
  struct sockaddr_in addr = test_loopback4(0), bound;
  struct test_fd_fill fill;
  eddy_buf_t msg = eddy_buf_init("x", 1);
  int err_init, err_bind;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &a), 0);
  assert_int_equal(test_fds_exhaust(&fill, 0), 0);
  err_init = eddy_udp_init_ex(&loop, &b, AF_INET);
  err_bind = eddy_udp_bind(&a, (struct sockaddr *)&addr, 0);
  assert_int_equal(test_fds_release(&fill), 0);
  assert_true(err_init == EDDY_EMFILE || err_init == EDDY_ENFILE);
  assert_true(err_bind == EDDY_EMFILE || err_bind == EDDY_ENFILE);
  assert_int_equal(eddy_udp_fileno(&a), EDDY_EBADF);
  /* The same handle, with descriptors back. */
  bind4(&a, &bound);
  st.target = 1;
  assert_int_equal(eddy_udp_recv_start(&a, alloc_static, record_dgram), 0);
  assert_int_equal(eddy_udp_init(&loop, &b), 0);
  req.req.data = (void *)(intptr_t)0;
  assert_int_equal(
      eddy_udp_send(&req, &b, &msg, 1, (struct sockaddr *)&bound, on_send), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(st.ndgrams, 1);
  assert_int_equal(st.sends_done, 1);
  test_teardown_loop(&loop);
}

static void test_bind_errors(void **state) {
  eddy_loop_t loop;
  eddy_udp_t a, b, c, d, e;
  struct sockaddr_in addr, raddr;
  struct sockaddr_storage unix_addr;
  int len;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &a), 0);
  assert_int_equal(eddy_udp_init(&loop, &b), 0);
  bind4(&a, &addr);
  /* The same address without REUSEADDR; b's socket is dropped again. */
  assert_int_equal(eddy_udp_bind(&b, (struct sockaddr *)&addr, 0),
                   EDDY_EADDRINUSE);
  assert_int_equal(eddy_udp_fileno(&b), EDDY_EBADF);
  assert_int_equal(eddy_udp_bind(&b, (struct sockaddr *)&addr, 1u << 10),
                   EDDY_EINVAL);
  assert_int_equal(
      eddy_udp_bind(&b, (struct sockaddr *)&addr, EDDY_UDP_IPV6ONLY),
      EDDY_EINVAL);
  assert_int_equal(eddy_udp_bind(&b, NULL, 0), EDDY_EINVAL);
  /* A Unix address on an IPv4 socket: another family. */
  memset(&unix_addr, 0, sizeof(unix_addr));
  unix_addr.ss_family = AF_UNIX;
  assert_int_equal(eddy_udp_init_ex(&loop, &e, AF_INET), 0);
  assert_int_equal(eddy_udp_bind(&e, (struct sockaddr *)&unix_addr, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_connect(&e, (struct sockaddr *)&unix_addr),
                   EDDY_EINVAL);
  /* Binding a bound socket again. */
  assert_int_equal(eddy_udp_bind(&a, (struct sockaddr *)&addr, 0), EDDY_EINVAL);
  /* Both with REUSEADDR: they share. */
  assert_int_equal(eddy_udp_init(&loop, &c), 0);
  assert_int_equal(eddy_udp_init(&loop, &d), 0);
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 0, &raddr), 0);
  assert_int_equal(
      eddy_udp_bind(&c, (struct sockaddr *)&raddr, EDDY_UDP_REUSEADDR), 0);
  raddr.sin_port = htons((uint16_t)sock_port(&c));
  assert_int_equal(
      eddy_udp_bind(&d, (struct sockaddr *)&raddr, EDDY_UDP_REUSEADDR), 0);
  assert_int_equal(sock_port(&d), sock_port(&c));
  /* Names. */
  len = sizeof(addr);
  assert_int_equal(eddy_udp_getsockname(&b, (struct sockaddr *)&addr, &len),
                   EDDY_EBADF);
  assert_int_equal(eddy_udp_getsockname(&a, NULL, &len), EDDY_EINVAL);
  assert_int_equal(eddy_udp_getsockname(&a, (struct sockaddr *)&addr, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_getpeername(&a, (struct sockaddr *)&addr, &len),
                   EDDY_ENOTCONN);
  test_teardown_loop(&loop);
}

static void test_init_open_errors(void **state) {
  eddy_loop_t loop;
  eddy_udp_t u, v;
  eddy_udp_send_t req;
  struct sockaddr_storage unix_addr;
  eddy_buf_t b = eddy_buf_init("x", 1);
  int p[2], tcp;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init_ex(&loop, &u, 1u << 12), EDDY_EINVAL);
  assert_int_equal(eddy_udp_init_ex(&loop, &u, 99), EDDY_EINVAL);
  assert_int_equal(eddy_udp_init_ex(&loop, &u, AF_INET), 0);
  /* Made now: non-blocking and close-on-exec. */
  assert_true(fcntl(eddy_udp_fileno(&u), F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(eddy_udp_fileno(&u), F_GETFD) & FD_CLOEXEC);
  assert_int_equal(eddy_udp_open(&u, 0), EDDY_EBUSY);
  assert_int_equal(eddy_udp_init(&loop, &v), 0);
  assert_int_equal(eddy_udp_open(&v, -1), EDDY_EBADF);
  assert_int_equal(pipe(p), 0);
  assert_int_equal(eddy_udp_open(&v, p[0]), EDDY_ENOTSOCK);
  tcp = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(tcp >= 0);
  assert_int_equal(eddy_udp_open(&v, tcp), EDDY_EPROTOTYPE);
  close(tcp);
  close(p[0]);
  close(p[1]);
  /* Argument errors of send and recv_start. */
  assert_int_equal(eddy_udp_recv_start(&v, NULL, record_dgram), EDDY_EINVAL);
  assert_int_equal(eddy_udp_recv_start(&v, alloc_static, NULL), EDDY_EINVAL);
  memset(&unix_addr, 0, sizeof(unix_addr));
  unix_addr.ss_family = 99; /* a family UDP has no use for */
  assert_int_equal(
      eddy_udp_send(NULL, &v, &b, 1, (struct sockaddr *)&unix_addr, on_send),
      EDDY_EINVAL);
  assert_int_equal(
      eddy_udp_send(&req, &v, NULL, 1, (struct sockaddr *)&unix_addr, on_send),
      EDDY_EINVAL);
  assert_int_equal(
      eddy_udp_send(&req, &v, &b, 1, (struct sockaddr *)&unix_addr, on_send),
      EDDY_EINVAL);
  assert_int_equal(eddy_udp_try_send(&v, &b, 1, (struct sockaddr *)&unix_addr),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_fileno(&v), EDDY_EBADF);
  /* A closing handle refuses everything. */
  assert_int_equal(eddy_close(&u.handle, on_close), 0);
  assert_int_equal(eddy_close(&u.handle, on_close), EDDY_EINVAL);
  assert_int_equal(eddy_udp_fileno(&u), EDDY_EBADF);
  assert_int_equal(eddy_udp_recv_start(&u, alloc_static, record_dgram),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_bind(&u, (struct sockaddr *)&unix_addr, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_udp_connect(&u, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_udp_open(&u, 0), EDDY_EINVAL);
  assert_int_equal(eddy_udp_try_send(&u, &b, 1, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_udp_send(&req, &u, &b, 1, NULL, on_send), EDDY_EINVAL);
  assert_int_equal(
      eddy_udp_set_membership(&u, "239.1.1.1", NULL, EDDY_JOIN_GROUP),
      EDDY_EINVAL);
  test_teardown_loop(&loop);
  assert_int_equal(st.closed, 1);
}

/* Sockets made lazily are non-blocking and close-on-exec too, and every
 * kind of handle gives its descriptor back on close. */
static void test_descriptors(void **state) {
  eddy_loop_t loop;
  eddy_udp_t lazy, ex6, opened, member;
  struct sockaddr_in to;
  int fd;

  (void)state;
  reset();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_udp_init(&loop, &lazy), 0);
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 9, &to), 0);
  assert_int_equal(eddy_udp_connect(&lazy, (struct sockaddr *)&to), 0);
  fd = eddy_udp_fileno(&lazy);
  assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
  assert_int_equal(eddy_udp_init_ex(&loop, &ex6, AF_INET6), 0);
  assert_int_equal(eddy_udp_init(&loop, &opened), 0);
  assert_int_equal(eddy_udp_open(&opened, socket(AF_INET, SOCK_DGRAM, 0)), 0);
  assert_int_equal(eddy_udp_init(&loop, &member), 0);
  assert_int_equal(eddy_udp_set_multicast_loop(&member, 1), EDDY_EBADF);
  test_teardown_loop(&loop);
  assert_int_equal(fcntl(fd, F_GETFD), -1);
}

/* Every test also checks that it left no descriptor open. */
#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(name, test_fd_setup, test_fd_teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(test_roundtrip_ip4),
      T(test_roundtrip_ip6),
      T(test_empty_datagram),
      T(test_truncated),
      T(test_enobufs),
      T(test_connected),
      T(test_connection_refused),
      T(test_linux_recverr),
      T(test_reuseport),
      T(test_try_send2),
      T(test_unix_datagram),
      T(test_options),
      T(test_multicast),
      T(test_recvmmsg),
      T(test_send_queue_drains_in_order),
      T(test_queued_many_buffers),
      T(test_queued_error_in_order),
      T(test_fd_closed_behind_back),
      T(test_close_cancels_queued),
      T(test_close_in_send_callback),
      T(test_send_from_send_callback),
      T(test_send_error_to_callback),
      T(test_recv_stop),
      T(test_read_budget),
      T(test_recv_start_binds),
      T(test_bind_errors),
      T(test_out_of_descriptors),
      T(test_init_open_errors),
      T(test_descriptors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
