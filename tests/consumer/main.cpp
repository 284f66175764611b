/* The consumer in C++: installed headers and library only, compiled as
 * C++11 with -Wall -Wextra -Werror -pedantic. It proves that every public
 * header compiles as C++ and that its functions link (each header has an
 * extern "C" guard): one call per header, each in the table below. A new
 * header adds one line to the table. Exits 0 when every call gave what it
 * should, and prints which did not otherwise. */
#include <eddy.h>

#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace {

void on_close(eddy_handle_t *) {
}
void on_request(eddy_http_server_t *, eddy_http_exchange_t *) {
}

/* Initialise handle h of type T with init(loop, h), then close it: enough
 * to link the header's functions without doing any I/O. Each handle below
 * is used by one line of the table only. */
template <typename T, typename Init>
bool init_close(eddy_loop_t *loop, T *h, Init init) {
  if (init(loop, h) != 0)
    return false;
  eddy_close(reinterpret_cast<eddy_handle_t *>(h), on_close);
  return true;
}

struct check {
  const char *header;
  bool (*run)(eddy_loop_t *loop);
};

eddy_timer_t timer;
eddy_idle_t idle;
eddy_async_t async;
eddy_signal_t sig;
eddy_tcp_t tcp;
eddy_tcp_t stream_tcp;
eddy_pipe_t pipe_;
eddy_udp_t udp;
eddy_channel_t channel;
eddy_http_server_t http_server;
eddy_poll_t poll;
eddy_exec_t exec_req;
eddy_redis_t redis;
eddy_fs_event_t fs_event;
eddy_fs_poll_t fs_poll;
int ticks;

const check checks[] = {
    {"eddy/errno.h",
     [](eddy_loop_t *) {
       return std::strcmp(eddy_err_name(EDDY_ENOENT), "ENOENT") == 0 &&
              eddy_strerror(EDDY_EOF)[0] != '\0';
     }},
    {"eddy/version.h",
     [](eddy_loop_t *) { return eddy_version_string()[0] != '\0'; }},
    {"eddy/loop.h", [](eddy_loop_t *l) { return eddy_loop_alive(l) == 0; }},
    {"eddy/timer.h",
     [](eddy_loop_t *l) { return init_close(l, &timer, eddy_timer_init); }},
    {"eddy/loopwatch.h",
     [](eddy_loop_t *l) { return init_close(l, &idle, eddy_idle_init); }},
    {"eddy/async.h",
     [](eddy_loop_t *l) {
       return eddy_async_init(l, &async, nullptr) == 0 &&
              (eddy_close(&async.handle, on_close), true);
     }},
    {"eddy/poll.h",
     [](eddy_loop_t *l) { return eddy_poll_init(l, &poll, -1) == EDDY_EBADF; }},
    {"eddy/signal.h",
     [](eddy_loop_t *l) { return init_close(l, &sig, eddy_signal_init); }},
    {"eddy/stream.h",
     [](eddy_loop_t *l) {
       return eddy_tcp_init(l, &stream_tcp) == 0 &&
              eddy_stream_get_write_queue_size(&stream_tcp.stream) == 0 &&
              (eddy_close(&stream_tcp.stream.handle, on_close), true);
     }},
    {"eddy/tcp.h",
     [](eddy_loop_t *l) { return init_close(l, &tcp, eddy_tcp_init); }},
    {"eddy/pipe.h",
     [](eddy_loop_t *l) {
       return eddy_pipe_init(l, &pipe_, 0) == 0 &&
              (eddy_close(&pipe_.stream.handle, on_close), true);
     }},
    {"eddy/tty.h",
     [](eddy_loop_t *) {
       return eddy_guess_handle(-1) == EDDY_UNKNOWN_HANDLE && !eddy_isatty(-1);
     }},
    {"eddy/addr.h",
     [](eddy_loop_t *) {
       sockaddr_in a;
       return eddy_ip4_addr("127.0.0.1", 80, &a) == 0;
     }},
    {"eddy/udp.h",
     [](eddy_loop_t *l) { return init_close(l, &udp, eddy_udp_init); }},
    {"eddy/process.h",
     [](eddy_loop_t *) { return eddy_kill(getpid(), 0) == 0; }},
    {"eddy/channel.h",
     [](eddy_loop_t *l) {
       return eddy_channel_init(l, &channel, nullptr, nullptr) == 0 &&
              (eddy_channel_close(&channel, on_close), true);
     }},
    {"eddy/exec.h",
     [](eddy_loop_t *l) {
       return eddy_exec(l, &exec_req, nullptr, nullptr, nullptr) == EDDY_EINVAL;
     }},
    {"eddy/tick.h",
     [](eddy_loop_t *l) {
       return eddy_next_tick(
                  l, [](eddy_loop_t *, void *) { ticks++; }, nullptr) == 0 &&
              (eddy_drain_ticks(l), ticks == 1);
     }},
    {"eddy/work.h", [](eddy_loop_t *) { return eddy_threadpool_size() > 0; }},
    {"eddy/fs.h",
     [](eddy_loop_t *) {
       eddy_fs_t req;
       int r = eddy_fs_stat(nullptr, &req, "/", nullptr);
       eddy_fs_req_cleanup(&req);
       return r == 0;
     }},
    {"eddy/fs_stream.h",
     [](eddy_loop_t *l) {
       eddy_fs_stream_options_t o;
       eddy_fs_read_stream_t rs;
       eddy_fs_stream_options_init(&o);
       return o.fd == -1 &&
              eddy_fs_read_stream_open(l, &rs, nullptr, &o, nullptr, nullptr) ==
                  EDDY_EINVAL;
     }},
    {"eddy/fs_event.h",
     [](eddy_loop_t *l) {
       return init_close(l, &fs_event, eddy_fs_event_init);
     }},
    {"eddy/fs_poll.h",
     [](eddy_loop_t *l) { return init_close(l, &fs_poll, eddy_fs_poll_init); }},
    {"eddy/dns.h",
     [](eddy_loop_t *l) {
       eddy_getaddrinfo_t req;
       int r =
           eddy_getaddrinfo(l, &req, nullptr, "127.0.0.1", nullptr, nullptr);
       eddy_freeaddrinfo(req.addrinfo);
       return r == 0;
     }},
    {"eddy/crypto.h",
     [](eddy_loop_t *) {
       uint8_t out[32];
       return eddy_sha256("abc", 3, out) == 0 && out[0] == 0xba;
     }},
    {"eddy/http_parser.h",
     [](eddy_loop_t *) {
       static const char text[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
       eddy_http_header_t headers[4];
       eddy_http_request_t req;
       eddy_http_limits_t limits = eddy_http_limits_default();
       eddy_http_request_init(&req, headers, 4);
       return eddy_http_parse_request(text, sizeof(text) - 1, &req, &limits) ==
              int(sizeof(text) - 1);
     }},
    {"eddy/http_server.h",
     [](eddy_loop_t *l) {
       eddy_http_server_options_t o = eddy_http_server_options_default();
       return eddy_http_server_init(l, &http_server, &o, on_request) == 0 &&
              eddy_http_server_close(&http_server, nullptr) == 0;
     }},
    {"eddy/os.h", [](eddy_loop_t *) { return eddy_os_getpid() == getpid(); }},
    {"eddy/port.h",
     [](eddy_loop_t *l) {
       static eddy_port_t pa, pb;
       return eddy_port_pair(l, &pa, &pb) == 0 &&
              (eddy_close(&pa.handle, on_close), true) &&
              (eddy_close(&pb.handle, on_close), true);
     }},
    {"eddy/worker.h",
     [](eddy_loop_t *) { return eddy_worker_self() == nullptr; }},
    {"eddy/shared_buffer.h",
     [](eddy_loop_t *) {
       eddy_shared_buffer_t *b = eddy_shared_buffer_new(8);
       bool ok = b != nullptr && eddy_shared_buffer_len(b) == 8;
       eddy_shared_buffer_unref(b);
       return ok;
     }},
    {"eddy/thread.h",
     [](eddy_loop_t *) {
       eddy_mutex_t m;
       bool ok = eddy_mutex_init(&m) == 0 && eddy_mutex_trylock(&m) == 0;
       eddy_mutex_unlock(&m);
       eddy_mutex_destroy(&m);
       return ok;
     }},
    {"eddy/resp.h",
     [](eddy_loop_t *) {
       const char *argv[] = {"GET", "k"};
       return eddy_resp_encoded_size(2, argv, nullptr) == 20;
     }},
    {"eddy/redis.h",
     [](eddy_loop_t *l) {
       eddy_redis_options_t o;
       eddy_redis_options_init(&o);
       return eddy_redis_init(l, &redis, &o) == 0 &&
              eddy_redis_close(&redis, nullptr) == 0;
     }},
    {"eddy/cluster.h",
     [](eddy_loop_t *) {
       eddy_cluster_options_t o;
       return eddy_cluster_is_primary() != 0 &&
              eddy_cluster_options_init(&o) == 0 &&
              o.sched == EDDY_CLUSTER_SCHED_RR;
     }},
};

} // namespace

int main() {
  eddy_loop_t loop;
  int failed = 0;

  if (eddy_loop_init(&loop) != 0)
    return 1;
  for (const check &c : checks) {
    if (!c.run(&loop)) {
      std::printf("FAILED: the call from %s\n", c.header);
      failed++;
    }
  }
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0) {
    std::printf("FAILED: eddy_loop_close\n");
    failed++;
  }
  if (failed)
    return 1;
  std::printf("C++ consumer ok: %zu headers, eddy %s\n",
              sizeof(checks) / sizeof(checks[0]), eddy_version_string());
  return 0;
}
