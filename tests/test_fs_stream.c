/* test_fs_stream.c: file read and write streams (Node's createReadStream
 * and createWriteStream): chunking by highWaterMark, start and end,
 * pause and resume (also with a read in flight), destroy at every stage,
 * open, read and write errors, the drain callback, descriptors given in
 * the options, and a copy through both streams with backpressure. */
#include "test_fs_util.h"

static unsigned char pattern[(1u << 20) + 123];

static void fill_file(const char *path, size_t n) {
  FILE *f = fopen(path, "w");
  size_t i;

  for (i = 0; i < sizeof(pattern); i++)
    pattern[i] = (unsigned char)(i * 31 + (i >> 8));
  assert_non_null(f);
  assert_int_equal(fwrite(pattern, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

/* ---- a read stream's recorder ----------------------------------------- */

struct reader {
  unsigned char *got;
  size_t len;
  size_t cap;
  int chunks;
  size_t max_chunk;
  int eofs;
  int errors;
  int last_error;
  int closes;
  int close_status;
  int after_eof_data; /* data after EOF: must never happen */
  int pause_after;    /* pause once this many chunks arrived (0: never) */
  int destroy_after;  /* destroy once this many chunks arrived */
};

static void reader_init(struct reader *r, size_t cap) {
  memset(r, 0, sizeof(*r));
  r->cap = cap;
  r->got = malloc(cap ? cap : 1);
  assert_non_null(r->got);
}

static void on_rs_data(eddy_fs_read_stream_t *rs, ssize_t n,
                       const eddy_buf_t *buf) {
  struct reader *r = rs->data;

  if (n > 0) {
    if (r->eofs || r->errors)
      r->after_eof_data++;
    assert_true(r->len + (size_t)n <= r->cap);
    memcpy(r->got + r->len, buf->base, (size_t)n);
    r->len += (size_t)n;
    r->chunks++;
    if ((size_t)n > r->max_chunk)
      r->max_chunk = (size_t)n;
    if (r->pause_after && r->chunks == r->pause_after)
      assert_int_equal(eddy_fs_read_stream_pause(rs), 0);
    if (r->destroy_after && r->chunks == r->destroy_after)
      assert_int_equal(eddy_fs_read_stream_destroy(rs), 0);
  } else if (n == EDDY_EOF) {
    r->eofs++;
    assert_null(buf->base);
  } else {
    r->errors++;
    r->last_error = (int)n;
  }
}

static void on_rs_close(eddy_fs_read_stream_t *rs, int status) {
  struct reader *r = rs->data;

  r->closes++;
  r->close_status = status;
  assert_int_equal(rs->fd, -1);
}

static void open_reader(eddy_loop_t *loop, eddy_fs_read_stream_t *rs,
                        struct reader *r, const char *path,
                        const eddy_fs_stream_options_t *opts) {
  assert_int_equal(
      eddy_fs_read_stream_open(loop, rs, path, opts, on_rs_data, on_rs_close),
      0);
  rs->data = r;
}

/* ---- reading ---------------------------------------------------------- */

static void test_read_whole(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  size_t n = sizeof(pattern);
  eddy_fs_stream_options_t o;
  eddy_fs_read_stream_t rs;
  struct reader r;

  fill_file(tp("rs"), n);
  /* defaults: 64 KiB chunks */
  reader_init(&r, n);
  open_reader(loop, &rs, &r, tp("rs"), NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.len, n);
  assert_memory_equal(r.got, pattern, n);
  assert_int_equal(r.max_chunk, 64u << 10);
  assert_int_equal(r.chunks, (int)((n + (64u << 10) - 1) / (64u << 10)));
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.errors, 0);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.close_status, 0);
  assert_int_equal(rs.bytes_read, (int64_t)n);
  free(r.got);
  /* a small high-water mark */
  eddy_fs_stream_options_init(&o);
  o.high_water_mark = 1000;
  reader_init(&r, n);
  open_reader(loop, &rs, &r, tp("rs"), &o);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.len, n);
  assert_memory_equal(r.got, pattern, n);
  assert_int_equal(r.max_chunk, 1000);
  assert_int_equal(r.chunks, (int)((n + 999) / 1000));
  assert_int_equal(r.eofs + r.closes, 2);
  free(r.got);
  /* an empty file: the end at once */
  make_file(tp("rs-empty"), "");
  reader_init(&r, 0);
  open_reader(loop, &rs, &r, tp("rs-empty"), NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.chunks, 0);
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.closes, 1);
  free(r.got);
}

static void read_range(eddy_loop_t *loop, int64_t start, int64_t end,
                       size_t hwm, size_t want_off, size_t want_len) {
  eddy_fs_stream_options_t o;
  eddy_fs_read_stream_t rs;
  struct reader r;

  eddy_fs_stream_options_init(&o);
  o.start = start;
  o.end = end;
  o.high_water_mark = hwm;
  reader_init(&r, sizeof(pattern));
  open_reader(loop, &rs, &r, tp("rr"), &o);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.len, want_len);
  assert_memory_equal(r.got, pattern + want_off, want_len);
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.close_status, 0);
  assert_int_equal(rs.bytes_read, (int64_t)want_len);
  free(r.got);
}

static void test_read_start_end(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;

  fill_file(tp("rr"), 5000);
  read_range(loop, 10, 19, 0, 10, 10);         /* end is inclusive */
  read_range(loop, 10, 19, 3, 10, 10);         /* in chunks of 3 */
  read_range(loop, 42, 42, 0, 42, 1);          /* one byte */
  read_range(loop, -1, 4, 0, 0, 5);            /* end alone */
  read_range(loop, 4000, -1, 256, 4000, 1000); /* start alone */
  read_range(loop, 4990, 99999, 0, 4990, 10);  /* end past EOF */
  read_range(loop, 6000, -1, 0, 0, 0);         /* start past EOF */
}

static void test_read_pause_resume(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_options_t o;
  eddy_fs_read_stream_t rs;
  struct reader r;

  fill_file(tp("rp"), 10000);
  eddy_fs_stream_options_init(&o);
  o.high_water_mark = 1000;
  reader_init(&r, 10000);
  r.pause_after = 3;
  open_reader(loop, &rs, &r, tp("rp"), &o);
  /* paused in the third callback: nothing in flight keeps the loop */
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.chunks, 3);
  assert_true(eddy_fs_read_stream_is_paused(&rs));
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.chunks, 3);
  assert_int_equal(eddy_fs_read_stream_resume(&rs), 0);
  assert_false(eddy_fs_read_stream_is_paused(&rs));
  assert_int_equal(r.chunks, 3); /* nothing inside resume */
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.len, 10000);
  assert_memory_equal(r.got, pattern, 10000);
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.closes, 1);
  /* resume after the end: refused */
  assert_int_equal(eddy_fs_read_stream_resume(&rs), EDDY_EINVAL);
  assert_int_equal(eddy_fs_read_stream_pause(&rs), EDDY_EINVAL);
  assert_int_equal(eddy_fs_read_stream_destroy(&rs), EDDY_EINVAL);
  free(r.got);
}

/* Paused while the open and the first read are in flight: that read's
 * data waits, and comes from resume (after it returns), then the rest. */
static void test_read_pause_in_flight(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_options_t o;
  eddy_fs_read_stream_t rs;
  struct reader r;

  fill_file(tp("rpf"), 2500);
  eddy_fs_stream_options_init(&o);
  o.high_water_mark = 1000;
  reader_init(&r, 2500);
  open_reader(loop, &rs, &r, tp("rpf"), &o);
  assert_int_equal(eddy_fs_read_stream_pause(&rs), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.chunks, 0);
  assert_int_equal(rs.bytes_read, 0); /* started paused: nothing read */
  assert_int_equal(eddy_fs_read_stream_resume(&rs), 0);
  assert_int_equal(eddy_fs_read_stream_pause(&rs), 0);
  /* the first read completes while paused: read, not delivered */
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(rs.bytes_read, 1000);
  assert_int_equal(r.chunks, 0);
  assert_int_equal(eddy_fs_read_stream_resume(&rs), 0);
  assert_int_equal(r.chunks, 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.len, 2500);
  assert_memory_equal(r.got, pattern, 2500);
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.closes, 1);
  free(r.got);
  /* the end waits for resume too */
  eddy_fs_stream_options_init(&o);
  o.end = 99;
  reader_init(&r, 100);
  r.pause_after = 1;
  open_reader(loop, &rs, &r, tp("rpf"), &o);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.len, 100);
  assert_int_equal(r.eofs, 0);
  assert_int_equal(r.closes, 0);
  assert_int_equal(eddy_fs_read_stream_resume(&rs), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.closes, 1);
  free(r.got);
}

static void test_read_destroy(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_options_t o;
  eddy_fs_read_stream_t rs;
  struct reader r;

  fill_file(tp("rd"), 10000);
  eddy_fs_stream_options_init(&o);
  o.high_water_mark = 1000;
  /* inside the data callback */
  reader_init(&r, 10000);
  r.destroy_after = 2;
  open_reader(loop, &rs, &r, tp("rd"), &o);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.chunks, 2);
  assert_int_equal(r.eofs + r.errors, 0);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.close_status, 0);
  free(r.got);
  /* while paused with nothing in flight */
  reader_init(&r, 10000);
  r.pause_after = 1;
  open_reader(loop, &rs, &r, tp("rd"), &o);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_fs_read_stream_destroy(&rs), 0);
  assert_int_equal(eddy_fs_read_stream_destroy(&rs), EDDY_EINVAL);
  assert_int_equal(eddy_fs_read_stream_resume(&rs), EDDY_EINVAL);
  assert_int_equal(r.closes, 0); /* not inside destroy */
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.chunks, 1);
  assert_int_equal(r.closes, 1);
  free(r.got);
  /* right after open: the open is cancelled while it waits for a thread */
  test_gate_occupy_pool(&gate, loop);
  reader_init(&r, 10000);
  open_reader(loop, &rs, &r, tp("rd"), &o);
  assert_int_equal(eddy_fs_read_stream_destroy(&rs), 0);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.chunks + r.eofs + r.errors, 0);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.close_status, 0);
  free(r.got);
}

static void test_read_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_options_t o;
  eddy_fs_read_stream_t rs;
  struct reader r;

  /* open fails: the error, then the close */
  reader_init(&r, 10);
  open_reader(loop, &rs, &r, tp("nope"), NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.errors, 1);
  assert_int_equal(r.last_error, EDDY_ENOENT);
  assert_int_equal(r.eofs, 0);
  assert_int_equal(r.closes, 1);
  assert_int_equal(r.close_status, EDDY_ENOENT);
  free(r.got);
  /* a directory opens, and its read fails */
  reader_init(&r, 10);
  open_reader(loop, &rs, &r, tmpdir, NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.errors, 1);
  assert_int_equal(r.last_error, EDDY_EISDIR);
  assert_int_equal(r.close_status, EDDY_EISDIR);
  free(r.got);
  /* arguments */
  eddy_fs_stream_options_init(&o);
  o.start = 10;
  o.end = 9;
  assert_int_equal(
      eddy_fs_read_stream_open(loop, &rs, tp("x"), &o, on_rs_data, on_rs_close),
      EDDY_EINVAL);
  o.start = -2;
  o.end = -1;
  assert_int_equal(
      eddy_fs_read_stream_open(loop, &rs, tp("x"), &o, on_rs_data, on_rs_close),
      EDDY_EINVAL);
  assert_int_equal(
      eddy_fs_read_stream_open(loop, &rs, NULL, NULL, on_rs_data, on_rs_close),
      EDDY_EINVAL);
  assert_int_equal(
      eddy_fs_read_stream_open(loop, &rs, tp("x"), NULL, NULL, on_rs_close),
      EDDY_EINVAL);
  assert_int_equal(eddy_fs_read_stream_open(NULL, &rs, tp("x"), NULL,
                                            on_rs_data, on_rs_close),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_read_stream_pause(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_read_stream_destroy(NULL), EDDY_EINVAL);
  assert_false(eddy_fs_read_stream_is_paused(NULL));
}

/* A descriptor in the options: a pipe, read at its position to its end
 * (positional reads would fail on a pipe). */
static void test_read_fd(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_options_t o;
  eddy_fs_read_stream_t rs;
  struct reader r;
  int p[2];

  assert_int_equal(eddy_pipe(p, 0, 0), 0);
  assert_int_equal(write(p[1], "through a pipe", 14), 14);
  close(p[1]);
  eddy_fs_stream_options_init(&o);
  o.fd = p[0];
  reader_init(&r, 64);
  open_reader(loop, &rs, &r, NULL, &o);
  assert_int_equal(rs.fd, p[0]);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.len, 14);
  assert_memory_equal(r.got, "through a pipe", 14);
  assert_int_equal(r.eofs, 1);
  assert_int_equal(r.closes, 1);
  assert_int_equal(fcntl(p[0], F_GETFD), -1); /* closed by the stream */
  free(r.got);
  /* positional reads on a pipe: ESPIPE, reported, then closed */
  assert_int_equal(eddy_pipe(p, 0, 0), 0);
  close(p[1]);
  o.fd = p[0];
  o.start = 0;
  reader_init(&r, 64);
  open_reader(loop, &rs, &r, NULL, &o);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(r.last_error, EDDY_ESPIPE);
  assert_int_equal(r.closes, 1);
  free(r.got);
}

/* ---- a write stream's recorder ---------------------------------------- */

struct writer {
  int done[64];
  int status[64];
  int drains;
  int closes;
  int close_status;
  int need_drain_at_drain;
};

static void on_ws_write(eddy_fs_stream_write_t *req, int status) {
  struct writer *w = req->stream->data;
  int i = (int)(intptr_t)req->req.data;

  w->done[i]++;
  w->status[i] = status;
}

static void on_ws_drain(eddy_fs_write_stream_t *ws) {
  struct writer *w = ws->data;

  w->drains++;
  w->need_drain_at_drain = ws->need_drain;
  assert_int_equal(ws->write_queue_size, 0);
}

static void on_ws_close(eddy_fs_write_stream_t *ws, int status) {
  struct writer *w = ws->data;

  w->closes++;
  w->close_status = status;
  assert_int_equal(ws->fd, -1);
}

static void open_writer(eddy_loop_t *loop, eddy_fs_write_stream_t *ws,
                        struct writer *w, const char *path,
                        const eddy_fs_stream_options_t *opts) {
  memset(w, 0, sizeof(*w));
  assert_int_equal(
      eddy_fs_write_stream_open(loop, ws, path, opts, on_ws_drain, on_ws_close),
      0);
  ws->data = w;
}

static void ws_put(eddy_fs_write_stream_t *ws, eddy_fs_stream_write_t *req,
                   int i, const char *text) {
  eddy_buf_t b = eddy_buf_init((void *)text, strlen(text));

  req->req.data = (void *)(intptr_t)i;
  assert_int_equal(eddy_fs_write_stream_write(ws, req, &b, 1, on_ws_write), 0);
}

/* ---- writing ---------------------------------------------------------- */

static void test_write_end(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_write_t reqs[4];
  eddy_fs_write_stream_t ws;
  eddy_buf_t many[6];
  struct writer w;
  int i;

  make_file(tp("ws"), "old contents, longer");
  open_writer(loop, &ws, &w, tp("ws"), NULL);
  ws_put(&ws, &reqs[0], 0, "one ");
  ws_put(&ws, &reqs[1], 1, "two ");
  assert_int_equal(ws.write_queue_size, 8);
  assert_int_equal(w.done[0], 0); /* not inside write */
  for (i = 0; i < 6; i++)
    many[i] = eddy_buf_init((void *)("abcdef" + i), 1);
  reqs[2].req.data = (void *)(intptr_t)2;
  assert_int_equal(
      eddy_fs_write_stream_write(&ws, &reqs[2], many, 6, on_ws_write), 0);
  assert_int_equal(eddy_fs_write_stream_end(&ws), 0);
  assert_int_equal(eddy_fs_write_stream_end(&ws), EDDY_EINVAL);
  assert_int_equal(
      eddy_fs_write_stream_write(&ws, &reqs[3], many, 1, on_ws_write),
      EDDY_EPIPE);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  for (i = 0; i < 3; i++) {
    assert_int_equal(w.done[i], 1);
    assert_int_equal(w.status[i], 0);
  }
  assert_int_equal(w.drains, 0); /* never reached the mark */
  assert_int_equal(w.closes, 1);
  assert_int_equal(w.close_status, 0);
  assert_int_equal(ws.bytes_written, 14);
  assert_int_equal(ws.write_queue_size, 0);
  assert_string_equal(slurp(tp("ws")), "one two abcdef"); /* truncated */
  assert_int_equal(eddy_fs_write_stream_destroy(&ws), EDDY_EINVAL);
  /* end with nothing written: an empty file */
  open_writer(loop, &ws, &w, tp("ws-empty"), NULL);
  assert_int_equal(eddy_fs_write_stream_end(&ws), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.closes, 1);
  assert_true(exists(tp("ws-empty")));
}

static void test_write_start_flags(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_write_t reqs[2];
  eddy_fs_stream_options_t o;
  eddy_fs_write_stream_t ws;
  struct writer w;

  make_file(tp("wsf"), "0123456789");
  eddy_fs_stream_options_init(&o);
  o.flags = O_WRONLY; /* Node's 'r+': no truncation */
  o.start = 3;
  open_writer(loop, &ws, &w, tp("wsf"), &o);
  ws_put(&ws, &reqs[0], 0, "ab");
  ws_put(&ws, &reqs[1], 1, "cd");
  assert_int_equal(eddy_fs_write_stream_end(&ws), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_string_equal(slurp(tp("wsf")), "012abcd789");
  /* appending */
  o.flags = O_WRONLY | O_CREAT | O_APPEND;
  o.start = -1;
  open_writer(loop, &ws, &w, tp("wsf"), &o);
  ws_put(&ws, &reqs[0], 0, "+tail");
  assert_int_equal(eddy_fs_write_stream_end(&ws), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.close_status, 0);
  assert_string_equal(slurp(tp("wsf")), "012abcd789+tail");
}

static void test_write_drain(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_write_t reqs[4];
  eddy_fs_stream_options_t o;
  eddy_fs_write_stream_t ws;
  struct writer w;

  eddy_fs_stream_options_init(&o);
  o.high_water_mark = 16;
  open_writer(loop, &ws, &w, tp("wd"), &o);
  assert_int_equal(ws.high_water_mark, 16);
  ws_put(&ws, &reqs[0], 0, "0123456789");
  assert_int_equal(ws.need_drain, 0); /* 10 < 16 */
  ws_put(&ws, &reqs[1], 1, "abcdef");
  assert_int_equal(ws.need_drain, 1); /* 16: Node's write() says false */
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.drains, 1);
  assert_int_equal(w.need_drain_at_drain, 0);
  assert_int_equal(w.done[0] + w.done[1], 2);
  /* once more */
  ws_put(&ws, &reqs[2], 2, "a long write past the mark");
  assert_int_equal(ws.need_drain, 1);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.drains, 2);
  /* ending: no drain (Node's rule) */
  ws_put(&ws, &reqs[3], 3, "and the last past the mark too");
  assert_int_equal(eddy_fs_write_stream_end(&ws), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.drains, 2);
  assert_int_equal(w.closes, 1);
  assert_string_equal(slurp(tp("wd")), "0123456789abcdefa long write past "
                                       "the markand the last past the mark "
                                       "too");
}

static void test_write_errors(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_write_t reqs[3];
  eddy_fs_stream_options_t o;
  eddy_fs_write_stream_t ws;
  struct writer w;
  eddy_buf_t b = eddy_buf_init("x", 1);
  int fd;

  /* open fails: queued writes are cancelled, the close says why */
  open_writer(loop, &ws, &w, tp("no-dir/f"), NULL);
  ws_put(&ws, &reqs[0], 0, "a");
  ws_put(&ws, &reqs[1], 1, "b");
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.status[0], EDDY_ECANCELED);
  assert_int_equal(w.status[1], EDDY_ECANCELED);
  assert_int_equal(w.closes, 1);
  assert_int_equal(w.close_status, EDDY_ENOENT);
  /* a write fails: that write has the error, the rest are cancelled */
  make_file(tp("wro"), "");
  fd = open(tp("wro"), O_RDONLY | O_CLOEXEC);
  eddy_fs_stream_options_init(&o);
  o.fd = fd;
  open_writer(loop, &ws, &w, NULL, &o);
  ws_put(&ws, &reqs[0], 0, "a");
  ws_put(&ws, &reqs[1], 1, "b");
  ws_put(&ws, &reqs[2], 2, "c");
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.status[0], EDDY_EBADF);
  assert_int_equal(w.status[1], EDDY_ECANCELED);
  assert_int_equal(w.status[2], EDDY_ECANCELED);
  assert_int_equal(w.closes, 1);
  assert_int_equal(w.close_status, EDDY_EBADF);
  assert_int_equal(ws.write_queue_size, 0);
  assert_int_equal(fcntl(fd, F_GETFD), -1);
  assert_int_equal(eddy_fs_write_stream_write(&ws, &reqs[0], &b, 1, NULL),
                   EDDY_EPIPE);
  /* arguments */
  open_writer(loop, &ws, &w, tp("wargs"), NULL);
  assert_int_equal(eddy_fs_write_stream_write(&ws, &reqs[0], &b, 0, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_write_stream_write(&ws, &reqs[0], NULL, 1, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_fs_write_stream_end(&ws), 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.close_status, 0);
  eddy_fs_stream_options_init(&o);
  o.start = -5;
  assert_int_equal(
      eddy_fs_write_stream_open(loop, &ws, tp("x"), &o, NULL, NULL),
      EDDY_EINVAL);
  assert_int_equal(eddy_fs_write_stream_open(loop, &ws, NULL, NULL, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(
      eddy_fs_write_stream_open(NULL, &ws, tp("x"), NULL, NULL, NULL),
      EDDY_EINVAL);
  assert_int_equal(eddy_fs_write_stream_end(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_fs_write_stream_destroy(NULL), EDDY_EINVAL);
  assert_false(exists(tp("x")));
}

static void destroy_in_cb(eddy_fs_stream_write_t *req, int status) {
  on_ws_write(req, status);
  if ((intptr_t)req->req.data == 0)
    assert_int_equal(eddy_fs_write_stream_destroy(req->stream), 0);
}

static void test_write_destroy(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  eddy_fs_stream_write_t reqs[3];
  eddy_fs_write_stream_t ws;
  eddy_buf_t b = eddy_buf_init("b", 1);
  struct writer w;

  /* before anything ran: the open is cancelled, nothing is created */
  test_gate_occupy_pool(&gate, loop);
  open_writer(loop, &ws, &w, tp("wx"), NULL);
  ws_put(&ws, &reqs[0], 0, "a");
  assert_int_equal(eddy_fs_write_stream_destroy(&ws), 0);
  assert_int_equal(eddy_fs_write_stream_destroy(&ws), EDDY_EINVAL);
  assert_int_equal(eddy_fs_write_stream_write(&ws, &reqs[1], &b, 1, NULL),
                   EDDY_EPIPE);
  test_gate_release(&gate);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.status[0], EDDY_ECANCELED);
  assert_int_equal(w.closes, 1);
  assert_int_equal(w.close_status, EDDY_ECANCELED);
  assert_false(exists(tp("wx")));
  /* inside the first write's callback: the others are cancelled */
  open_writer(loop, &ws, &w, tp("wy"), NULL);
  ws_put(&ws, &reqs[0], 0, "a");
  reqs[1].req.data = (void *)(intptr_t)1;
  reqs[2].req.data = (void *)(intptr_t)2;
  assert_int_equal(
      eddy_fs_write_stream_write(&ws, &reqs[1], &b, 1, destroy_in_cb), 0);
  assert_int_equal(
      eddy_fs_write_stream_write(&ws, &reqs[2], &b, 1, destroy_in_cb), 0);
  reqs[0].priv.cb = destroy_in_cb;
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.status[0], 0);
  assert_int_equal(w.status[1], EDDY_ECANCELED);
  assert_int_equal(w.status[2], EDDY_ECANCELED);
  assert_int_equal(w.closes, 1);
  assert_int_equal(w.close_status, EDDY_ECANCELED);
  assert_string_equal(slurp(tp("wy")), "a");
  /* idle with nothing queued: a clean close */
  open_writer(loop, &ws, &w, tp("wz"), NULL);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_fs_write_stream_destroy(&ws), 0);
  assert_int_equal(w.closes, 0);
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(w.closes, 1);
  assert_int_equal(w.close_status, 0);
}

/* ---- both: a copy with backpressure ----------------------------------- */

struct pump {
  eddy_fs_read_stream_t rs;
  eddy_fs_write_stream_t ws;
  eddy_fs_stream_write_t reqs[64];
  char bufs[64][4096];
  unsigned next;
  int pauses;
  int closes;
  size_t max_queue;
};

static void pump_written(eddy_fs_stream_write_t *req, int status) {
  (void)req;
  assert_int_equal(status, 0);
}

static void pump_data(eddy_fs_read_stream_t *rs, ssize_t n,
                      const eddy_buf_t *buf) {
  struct pump *p = rs->data;
  unsigned slot;
  eddy_buf_t b;

  if (n == EDDY_EOF) {
    assert_int_equal(eddy_fs_write_stream_end(&p->ws), 0);
    return;
  }
  assert_true(n > 0 && n <= 4096);
  slot = p->next++ % 64; /* the ring is far larger than the mark allows */
  memcpy(p->bufs[slot], buf->base, (size_t)n);
  b = eddy_buf_init(p->bufs[slot], (size_t)n);
  assert_int_equal(
      eddy_fs_write_stream_write(&p->ws, &p->reqs[slot], &b, 1, pump_written),
      0);
  if (p->ws.write_queue_size > p->max_queue)
    p->max_queue = p->ws.write_queue_size;
  if (p->ws.need_drain) { /* backpressure: stop reading until drained */
    assert_int_equal(eddy_fs_read_stream_pause(rs), 0);
    p->pauses++;
  }
}

static void pump_drain(eddy_fs_write_stream_t *ws) {
  struct pump *p = ws->data;

  assert_int_equal(eddy_fs_read_stream_resume(&p->rs), 0);
}

static void pump_rs_close(eddy_fs_read_stream_t *rs, int status) {
  struct pump *p = rs->data;

  assert_int_equal(status, 0);
  p->closes++;
}

static void pump_ws_close(eddy_fs_write_stream_t *ws, int status) {
  struct pump *p = ws->data;

  assert_int_equal(status, 0);
  p->closes++;
}

static void test_copy_with_backpressure(void **state) {
  eddy_loop_t *loop = &((struct fixture *)*state)->loop;
  static struct pump p;
  eddy_fs_stream_options_t ro, wo;
  eddy_fs_t req;

  memset(&p, 0, sizeof(p));
  fill_file(tp("pump-in"), sizeof(pattern));
  eddy_fs_stream_options_init(&ro);
  ro.high_water_mark = 4096;
  eddy_fs_stream_options_init(&wo);
  /* a mark of one chunk: every write asks for a drain, whatever the
   * relative speed of the pool's reads and writes */
  wo.high_water_mark = 4096;
  assert_int_equal(eddy_fs_read_stream_open(loop, &p.rs, tp("pump-in"), &ro,
                                            pump_data, pump_rs_close),
                   0);
  p.rs.data = &p;
  assert_int_equal(eddy_fs_write_stream_open(loop, &p.ws, tp("pump-out"), &wo,
                                             pump_drain, pump_ws_close),
                   0);
  p.ws.data = &p;
  assert_int_equal(eddy_run(loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(p.closes, 2);
  assert_true(p.pauses > 0);
  /* never more than the mark plus one chunk was waiting */
  assert_true(p.max_queue <= 2 * 4096);
  assert_int_equal(p.ws.bytes_written, (int64_t)sizeof(pattern));
  assert_int_equal(eddy_fs_read_file(loop, &req, tp("pump-out"), NULL),
                   (int)sizeof(pattern));
  assert_memory_equal(req.ptr, pattern, sizeof(pattern));
  eddy_fs_req_cleanup(&req);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      FS_TEST(test_read_whole),
      FS_TEST(test_read_start_end),
      FS_TEST(test_read_pause_resume),
      FS_TEST(test_read_pause_in_flight),
      FS_TEST(test_read_destroy),
      FS_TEST(test_read_errors),
      FS_TEST(test_read_fd),
      FS_TEST(test_write_end),
      FS_TEST(test_write_start_flags),
      FS_TEST(test_write_drain),
      FS_TEST(test_write_errors),
      FS_TEST(test_write_destroy),
      FS_TEST(test_copy_with_backpressure),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
