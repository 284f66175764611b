/* test_stream_model.h: random operations on a connected stream pair,
 * checked against a byte-stream model; test_tcp.c and test_pipe.c run it
 * over their transports.
 *
 * The client writes slices of a fixed pattern (eddy_write with one to three
 * buffers, eddy_try_write) in random sizes while the server's reading is
 * stopped and started at random and the loop turns in between. The model:
 * the server reads exactly the bytes accepted, in order; write callbacks
 * come in submission order with status 0; try_write never overtakes a
 * queued write; write_queue_size is 0 once every write is called back.
 * The run ends with a shutdown (the server sees EOF after every byte) or
 * with a close (the writes still queued end with ECANCELED, in order,
 * before the close callback). Fixed seeds, so that a failure replays. */
#ifndef EDDY_TEST_STREAM_MODEL_H
#define EDDY_TEST_STREAM_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "test_util.h"

#define RM_PERIOD 1000003u /* prime: no slice length lines up with it */
#define RM_MAXBUF 70000u   /* more than one read */
#define RM_SLOTS 48

static unsigned char rm_pattern[RM_PERIOD + 3 * RM_MAXBUF];
static unsigned char rm_read_space[65536];

struct rm_state {
  unsigned seed;
  eddy_write_t reqs[RM_SLOTS];
  uint64_t req_seq[RM_SLOTS];
  size_t req_len[RM_SLOTS];
  int busy[RM_SLOTS];
  int nbusy;
  uint64_t next_seq, next_done;
  uint64_t accepted, received, in_writes, cancelled_bytes;
  int reading, eof, cancelled, closed, ending_by_close;
  int bad;
};

static struct rm_state rm;

/* Byte k of the stream; computed once, the table wraps at RM_PERIOD. */
static void rm_pattern_fill(void) {
  static int filled;
  size_t k;

  if (filled)
    return;
  for (k = 0; k < sizeof(rm_pattern); k++)
    rm_pattern[k] = (unsigned char)((k % RM_PERIOD) * 2654435761u >> 13);
  filled = 1;
}

static unsigned rm_rand(unsigned n) {
  return (unsigned)rand_r(&rm.seed) % n;
}

/* A size that is often small, sometimes large, sometimes 0. */
static size_t rm_size(void) {
  switch (rm_rand(4)) {
  case 0:
    return rm_rand(16);
  case 1:
    return rm_rand(2000);
  default:
    return rm_rand(RM_MAXBUF + 1);
  }
}

static void rm_alloc(eddy_handle_t *h, size_t suggested, eddy_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf =
      eddy_buf_init((char *)rm_read_space, 1 + rm_rand(sizeof(rm_read_space)));
}

static void rm_read(eddy_stream_t *s, ssize_t nread, const eddy_buf_t *buf) {
  (void)s;
  if (nread > 0) {
    size_t at = (size_t)(rm.received % RM_PERIOD);

    if (memcmp(buf->base, rm_pattern + at, (size_t)nread) != 0)
      rm.bad++;
    rm.received += (uint64_t)nread;
    return;
  }
  if (nread == EDDY_EOF)
    rm.eof++;
  else if (nread < 0)
    rm.bad++;
}

static void rm_written(eddy_write_t *req, int status) {
  int i = (int)(req - rm.reqs);

  assert_int_equal(rm.closed, 0); /* every callback before the close's */
  assert_true(rm.busy[i]);
  assert_true(rm.req_seq[i] == rm.next_done); /* in submission order */
  rm.next_done++;
  if (status == EDDY_ECANCELED && rm.ending_by_close) {
    rm.cancelled++;
    rm.cancelled_bytes += rm.req_len[i];
  } else {
    assert_int_equal(status, 0);
    assert_int_equal(rm.cancelled, 0); /* none done after one cancelled */
  }
  rm.in_writes -= rm.req_len[i];
  rm.busy[i] = 0;
  rm.nbusy--;
}

/* n buffers that continue the stream from rm.accepted, total bytes. */
static size_t rm_slice(eddy_buf_t *bufs, unsigned n) {
  size_t total = 0, len;
  unsigned i;

  for (i = 0; i < n; i++) {
    len = rm_size();
    bufs[i] = eddy_buf_init(
        (char *)rm_pattern + (rm.accepted + total) % RM_PERIOD, len);
    total += len;
  }
  return total;
}

static void rm_write(eddy_stream_t *s) {
  eddy_buf_t bufs[3];
  unsigned n = 1 + rm_rand(3);
  size_t total;
  int i;

  if (rm.nbusy == RM_SLOTS)
    return;
  i = 0;
  while (rm.busy[i])
    i++;
  total = rm_slice(bufs, n);
  assert_int_equal(eddy_write(&rm.reqs[i], s, bufs, n, rm_written), 0);
  rm.busy[i] = 1;
  rm.nbusy++;
  rm.req_seq[i] = rm.next_seq++;
  rm.req_len[i] = total;
  rm.in_writes += total;
  rm.accepted += total;
}

static void rm_try_write(eddy_stream_t *s) {
  eddy_buf_t bufs[2];
  unsigned n = 1 + rm_rand(2);
  size_t total = rm_slice(bufs, n);
  size_t unsent = s->write_queue_size;
  ssize_t r = eddy_try_write(s, bufs, n);

  if (r == EDDY_EAGAIN)
    return;
  assert_true(r >= 0);
  assert_int_equal(unsent, 0); /* never ahead of queued bytes */
  assert_true((size_t)r <= total);
  rm.accepted += (uint64_t)r;
}

static void rm_closed(eddy_handle_t *h) {
  (void)h;
  rm.closed = 1;
}

static void rm_shutdown_done(eddy_shutdown_t *req, int status) {
  (void)req;
  assert_int_equal(status, 0);
}

/* One seeded run over a connected pair: client writes, server reads. The
 * loop has nothing else to do; both handles are closed at the end, and the
 * caller tears the loop down. */
static void stream_model_run(eddy_loop_t *loop, eddy_stream_t *client,
                             eddy_stream_t *server, unsigned seed,
                             int end_by_close) {
  eddy_shutdown_t sd;
  int step, fd, small = 65536;

  rm_pattern_fill();
  memset(&rm, 0, sizeof(rm));
  rm.seed = seed;
  rm.ending_by_close = end_by_close;
  /* Small kernel buffers, so that writes go partial and queue up. */
  assert_int_equal(eddy_stream_fileno(client, &fd), 0);
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)),
                   0);
  assert_int_equal(eddy_stream_fileno(server, &fd), 0);
  assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)),
                   0);
  for (step = 0; step < 3000; step++) {
    switch (rm_rand(10)) {
    case 0:
    case 1:
    case 2:
    case 3:
      rm_write(client);
      break;
    case 4:
      rm_try_write(client);
      break;
    case 5: /* the reader pauses now and then, for a while */
      if (rm.reading && rm_rand(3) == 0) {
        assert_int_equal(eddy_read_stop(server), 0);
        rm.reading = 0;
      } else if (!rm.reading) {
        assert_int_equal(eddy_read_start(server, rm_alloc, rm_read), 0);
        rm.reading = 1;
      }
      break;
    default:
      assert_true(eddy_run(loop, EDDY_RUN_NOWAIT) >= 0);
    }
    if (rm.nbusy == 0)
      assert_int_equal(client->write_queue_size, 0);
    assert_true(client->write_queue_size <= rm.in_writes);
    assert_int_equal(eddy_stream_get_write_queue_size(client),
                     client->write_queue_size);
    assert_int_equal(rm.bad, 0);
  }
  if (!rm.reading)
    assert_int_equal(eddy_read_start(server, rm_alloc, rm_read), 0);
  if (end_by_close) {
    eddy_close(&client->handle, rm_closed);
    while (!rm.closed)
      assert_true(eddy_run(loop, EDDY_RUN_ONCE) >= 0);
    assert_int_equal(rm.nbusy, 0);
    while (!rm.eof)
      assert_true(eddy_run(loop, EDDY_RUN_ONCE) >= 0);
    /* The server got a prefix of the stream (rm_read checks the bytes):
     * at least every byte outside the cancelled writes, since a close
     * sends what the kernel holds before its FIN. */
    assert_true(rm.received <= rm.accepted);
    assert_true(rm.received >= rm.accepted - rm.cancelled_bytes);
  } else {
    assert_int_equal(eddy_shutdown(&sd, client, rm_shutdown_done), 0);
    while (!rm.eof)
      assert_true(eddy_run(loop, EDDY_RUN_ONCE) >= 0);
    assert_int_equal(rm.nbusy, 0);
    assert_true(rm.received == rm.accepted);
    assert_int_equal(rm.cancelled, 0);
    eddy_close(&client->handle, rm_closed);
  }
  assert_int_equal(rm.bad, 0);
  assert_int_equal(rm.eof, 1);
  assert_true(rm.next_done == rm.next_seq);
  assert_true(rm.accepted > 1000000); /* the run moved real amounts */
  eddy_close(&server->handle, NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
}

#endif /* EDDY_TEST_STREAM_MODEL_H */
