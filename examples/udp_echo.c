/* udp_echo.c: an echo server and a client on UDP, in one loop.
 *
 * The server binds 127.0.0.1 on a port the kernel picks (port 0) and sends
 * every datagram back to where it came from. The client sends three
 * datagrams, one at a time, each after the echo of the one before:
 *
 *   server: bound to 127.0.0.1, port chosen by the kernel
 *   client: echo of 5 bytes: "hello"
 *   client: echo of 0 bytes: ""
 *   client: echo of 26 bytes: "datagrams keep their edges"
 *   done: 3 datagrams echoed
 *
 * What it shows: UDP keeps message boundaries. Each eddy_udp_send is one
 * datagram and each receive callback gets one whole datagram, never two
 * glued together or one cut in half (as a TCP stream may do), and an
 * empty datagram is a message of its own (nread 0 with an address; nread 0
 * without one only means "nothing more to read now"). There is no
 * connection: the server learns the client's address from each datagram,
 * and nothing tells either side that the other went away.
 *
 * Both handles use the same allocator; the server copies the datagram it
 * echoes, because the receive buffer is the allocator's again once the
 * callback returns, while a send needs its bytes until its callback.
 * Exit status 0 when all three echoes matched. */
#include <eddy.h>
#include <stdio.h>
#include <string.h>

static const char *const messages[] = {"hello", "",
                                       "datagrams keep their edges"};
#define MESSAGES (sizeof(messages) / sizeof(messages[0]))

static eddy_udp_t server, client;
static struct sockaddr_in server_addr;
static eddy_udp_send_t server_send, client_send;
static char echo_copy[EDDY_UDP_DGRAM_MAX];
static size_t sent, echoed;
static int failed;

static void alloc_buffer(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  static char server_space[EDDY_UDP_DGRAM_MAX],
      client_space[EDDY_UDP_DGRAM_MAX];

  (void)suggested;
  if (h == &server.handle)
    *buf = eddy_buf_init(server_space, sizeof(server_space));
  else
    *buf = eddy_buf_init(client_space, sizeof(client_space));
}

static void send_next(void) {
  eddy_buf_t buf =
      eddy_buf_init((void *)messages[sent], strlen(messages[sent]));

  if (eddy_udp_send(&client_send, &client, &buf, 1,
                    (const struct sockaddr *)&server_addr, NULL) != 0)
    failed = 1;
  sent++;
}

static void on_server_recv(eddy_udp_t *udp, ssize_t nread,
                           const eddy_buf_t *buf, const struct sockaddr *addr,
                           unsigned flags) {
  eddy_buf_t reply;

  (void)flags;
  if (addr == NULL) { /* nothing more now, or an error */
    if (nread < 0)
      failed = 1;
    return;
  }
  memcpy(echo_copy, buf->base, (size_t)nread);
  reply = eddy_buf_init(echo_copy, (size_t)nread);
  if (eddy_udp_send(&server_send, udp, &reply, 1, addr, NULL) != 0)
    failed = 1;
}

static void on_client_recv(eddy_udp_t *udp, ssize_t nread,
                           const eddy_buf_t *buf, const struct sockaddr *addr,
                           unsigned flags) {
  const char *want;

  (void)udp;
  (void)flags;
  if (addr == NULL) {
    if (nread < 0)
      failed = 1;
    return;
  }
  want = messages[echoed++];
  printf("client: echo of %zd bytes: \"%.*s\"\n", nread, (int)nread,
         (const char *)buf->base);
  if ((size_t)nread != strlen(want) || memcmp(buf->base, want, strlen(want)))
    failed = 1;
  if (echoed < MESSAGES) {
    send_next();
  } else {
    eddy_close(&server.handle, NULL);
    eddy_close(&client.handle, NULL);
  }
}

int main(void) {
  eddy_loop_t loop;
  struct sockaddr_in any;
  int len = sizeof(server_addr);

  if (eddy_loop_init(&loop) != 0 || eddy_udp_init(&loop, &server) != 0 ||
      eddy_udp_init(&loop, &client) != 0)
    return 1;
  eddy_ip4_addr("127.0.0.1", 0, &any);
  if (eddy_udp_bind(&server, (const struct sockaddr *)&any, 0) != 0 ||
      eddy_udp_getsockname(&server, (struct sockaddr *)&server_addr, &len) ||
      eddy_udp_bind(&client, (const struct sockaddr *)&any, 0) != 0 ||
      eddy_udp_recv_start(&server, alloc_buffer, on_server_recv) != 0 ||
      eddy_udp_recv_start(&client, alloc_buffer, on_client_recv) != 0) {
    fprintf(stderr, "udp_echo: cannot set up the sockets\n");
    return 1;
  }
  printf("server: bound to 127.0.0.1, port chosen by the kernel\n");
  send_next();
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0)
    failed = 1;
  if (failed || echoed != MESSAGES)
    return 1;
  printf("done: %zu datagrams echoed\n", echoed);
  return 0;
}
