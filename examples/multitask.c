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
 * The network side is eddy's TCP streams (eddy/tcp.h): a server that
 * echoes one line and a client that sends it, both on this loop; no pool
 * thread is involved.
 *
 * Exit status 0 when every task completed without error. */
#include <eddy.h>
#include <stdio.h>
#include <string.h>

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

static const char request[] = "ping\n";
static eddy_tcp_t listener, server_conn, client;
static eddy_connect_t connect_req;
static eddy_write_t client_write, server_write;
static char server_buf[64];

static void alloc_buffer(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  static char space[64];

  (void)suggested;
  if (h == &server_conn.stream.handle)
    *buf = eddy_buf_init(server_buf, sizeof(server_buf));
  else
    *buf = eddy_buf_init(space, sizeof(space));
}

static void on_server_written(eddy_write_t *req, int status) {
  if (status != 0)
    failures++;
  eddy_close(&req->handle->handle, NULL);
}

/* The server echoes what it read, then closes the connection. */
static void on_server_read(eddy_stream_t *s, ssize_t nread,
                           const eddy_buf_t *buf) {
  eddy_buf_t echo;

  if (nread <= 0) {
    if (nread < 0)
      eddy_close(&s->handle, NULL);
    return;
  }
  eddy_read_stop(s);
  echo = eddy_buf_init(buf->base, (size_t)nread);
  if (eddy_write(&server_write, s, &echo, 1, on_server_written) != 0) {
    failures++;
    eddy_close(&s->handle, NULL);
  }
}

static void on_connection(eddy_stream_t *server, int status) {
  if (status != 0 || eddy_tcp_init(server->handle.loop, &server_conn) != 0 ||
      eddy_accept(server, &server_conn.stream) != 0 ||
      eddy_read_start(&server_conn.stream, alloc_buffer, on_server_read) != 0)
    failures++;
  eddy_close(&server->handle, NULL); /* one request is all this serves */
}

static void on_client_read(eddy_stream_t *s, ssize_t nread,
                           const eddy_buf_t *buf) {
  int status = 0;

  if (nread == 0)
    return;
  if (nread < 0)
    status = nread == EDDY_EOF ? EDDY_EIO : (int)nread;
  else if ((size_t)nread != sizeof(request) - 1 ||
           memcmp(buf->base, request, sizeof(request) - 1) != 0)
    status = EDDY_EIO;
  done("network request", status);
  eddy_close(&s->handle, NULL);
}

static void on_connect(eddy_connect_t *req, int status) {
  eddy_buf_t buf = eddy_buf_init((void *)request, sizeof(request) - 1);

  if (status != 0 ||
      eddy_read_start(req->handle, alloc_buffer, on_client_read) != 0 ||
      eddy_write(&client_write, req->handle, &buf, 1, NULL) != 0) {
    done("network request", status != 0 ? status : EDDY_EIO);
    eddy_close(&req->handle->handle, NULL);
  }
}

static int start_network_request(eddy_loop_t *loop) {
  struct sockaddr_in addr;
  int len = sizeof(addr);

  eddy_ip4_addr("127.0.0.1", 0, &addr); /* port 0: the kernel picks one */
  if (eddy_tcp_init(loop, &listener) != 0 ||
      eddy_tcp_bind(&listener, (struct sockaddr *)&addr, 0) != 0 ||
      eddy_listen(&listener.stream, 8, on_connection) != 0 ||
      eddy_tcp_getsockname(&listener, (struct sockaddr *)&addr, &len) != 0 ||
      eddy_tcp_init(loop, &client) != 0 ||
      eddy_tcp_connect(&connect_req, &client, (struct sockaddr *)&addr,
                       on_connect) != 0)
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
    fprintf(stderr, "multitask: cannot set up the TCP server and client\n");
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
  return eddy_loop_close(loop) == 0 && failures == 0 && completed == HASHES + 2
             ? 0
             : 1;
}
