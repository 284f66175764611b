/* multitask.c: which work waits for the pool, and which does not.
 *
 * Started together, in this order: a request to a TCP server on 127.0.0.1
 * (in this same process), an eddy_fs_read_file of this program's binary,
 * and four PBKDF2-SHA512 hashes. Typical output on a 2-core machine with
 * the default pool of four threads:
 *
 *   network request done
 *   hash 1 done
 *   file read done
 *   hash 2 done
 *   hash 3 done
 *   hash 4 done
 *
 * Why: the network request never touches the pool. Connecting, writing
 * and reading a socket are non-blocking system calls the loop makes itself
 * when the kernel says the socket is ready, so the answer arrives within a
 * millisecond whatever the pool is doing.
 *
 * The file read is Node's readFile: open, fstat, read, close, each a
 * separate job on the pool, and each step queued only when the previous
 * one has come back to the loop. Its open is queued first and takes one
 * thread while the first three hashes take the other three. The open
 * returns at once, but in the meantime the fourth hash sat in the queue,
 * so the freed thread takes that hash, not the file read's next step: the
 * fstat now waits behind four hashes and runs only when one of them
 * finishes. A file read that needs a few microseconds of work finishes
 * after a 200 ms hash. With EDDY_THREADPOOL_SIZE=5 the file read comes
 * right after the network request: there is always a free thread.
 *
 * (The network side uses a poll handle on raw sockets; it will use the TCP
 * stream API once that lands. Either way no pool thread is involved.)
 *
 * Exit status 0 when every task completed without error. */
#include <arpa/inet.h>
#include <eddy.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HASHES 4

static int failures;
static int completed;

static void done(const char *what, int status) {
  if (status != 0) {
    printf("%s failed: %s\n", what, eddy_strerror(status));
    failures++;
  } else {
    printf("%s done\n", what);
  }
  completed++;
}

/* ---- the network request: a one-line echo over loopback TCP ------------ */

static eddy_poll_t listener, server_conn, client;
static int server_fd = -1;
static int client_sent;

static void close_poll(eddy_poll_t *p) {
  int fd = eddy_poll_fileno(p);

  eddy_close(&p->handle, NULL);
  close(fd); /* after eddy_close: the loop has forgotten the descriptor */
}

static void on_server_conn(eddy_poll_t *p, int status, int events) {
  char buf[64];
  ssize_t n;

  (void)events;
  n = status == 0 ? read(eddy_poll_fileno(p), buf, sizeof(buf)) : -1;
  if (n > 0 && write(eddy_poll_fileno(p), buf, (size_t)n) != n)
    failures++;
  close_poll(p);
}

static void on_listener(eddy_poll_t *p, int status, int events) {
  int fd;

  (void)events;
  if (status != 0)
    return;
  fd = accept(eddy_poll_fileno(p), NULL, NULL);
  if (fd < 0)
    return;
  if (eddy_poll_init(p->handle.loop, &server_conn, fd) != 0 ||
      eddy_poll_start(&server_conn, EDDY_READABLE, on_server_conn) != 0)
    failures++;
  close_poll(p); /* one request is all this example serves */
}

static void on_client(eddy_poll_t *p, int status, int events) {
  static const char request[] = "ping\n";
  char buf[64];
  ssize_t n;

  if (status == 0 && !client_sent && (events & EDDY_WRITABLE)) {
    client_sent = write(eddy_poll_fileno(p), request, sizeof(request) - 1) ==
                  (ssize_t)(sizeof(request) - 1);
    eddy_poll_start(p, EDDY_READABLE, on_client);
    return;
  }
  n = status == 0 ? read(eddy_poll_fileno(p), buf, sizeof(buf)) : -1;
  done("network request", n == (ssize_t)(sizeof(request) - 1) ? 0 : EDDY_EIO);
  close_poll(p);
}

static int start_network_request(eddy_loop_t *loop) {
  struct sockaddr_in addr;
  socklen_t len = sizeof(addr);
  int fd;

  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  server_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server_fd < 0 || bind(server_fd, (struct sockaddr *)&addr, len) != 0 ||
      listen(server_fd, 8) != 0 ||
      getsockname(server_fd, (struct sockaddr *)&addr, &len) != 0)
    return -1;
  if (eddy_poll_init(loop, &listener, server_fd) != 0 ||
      eddy_poll_start(&listener, EDDY_READABLE, on_listener) != 0)
    return -1;
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  /* Non-blocking connect: EINPROGRESS, then writable when established. */
  if (connect(fd, (struct sockaddr *)&addr, len) != 0 && errno != EINPROGRESS)
    return -1;
  if (eddy_poll_init(loop, &client, fd) != 0 ||
      eddy_poll_start(&client, EDDY_WRITABLE, on_client) != 0)
    return -1;
  return 0;
}

/* ---- the file read and the hashes --------------------------------------- */

static void on_file_read(eddy_fs_t *req) {
  done("file read", req->result < 0 ? (int)req->result : 0);
  eddy_fs_req_cleanup(req);
}

struct hash_job {
  eddy_crypto_req_t req;
  uint8_t key[64];
};

static int hashes_done;

static void on_hashed(eddy_crypto_req_t *req, int status) {
  char what[32];

  (void)req;
  snprintf(what, sizeof(what), "hash %d", ++hashes_done);
  done(what, status);
}

int main(int argc, char **argv) {
  eddy_loop_t *loop = eddy_default_loop();
  static struct hash_job hashes[HASHES];
  static eddy_fs_t file_req;
  int i;

  (void)argc;
  if (start_network_request(loop) != 0) {
    perror("network setup");
    return 1;
  }
  if (eddy_fs_read_file(loop, &file_req, argv[0], on_file_read) != 0)
    return 1;
  for (i = 0; i < HASHES; i++)
    if (eddy_queue_pbkdf2(loop, &hashes[i].req, EDDY_HASH_SHA512, "secret", 6,
                          "salt", 4, 100000, hashes[i].key,
                          sizeof(hashes[i].key), on_hashed) != 0)
      return 1;
  eddy_run(loop, EDDY_RUN_DEFAULT);
  return eddy_loop_close(loop) == 0 && failures == 0 &&
                 completed == HASHES + 2
             ? 0
             : 1;
}
