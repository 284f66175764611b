/* test_cluster.c: the cluster, with this program as its own worker.
 *
 * Run as a worker (EDDY_CLUSTER_ID set by the primary), it plays the
 * role CLUSTER_TEST_ROLE names: "serve" answers each connection with its
 * pid and closes; "hold" keeps a connection until the client writes,
 * then answers; "crash" exits 1 at once; "die1" serves, but worker 1
 * dies inside its first connection callback, before it answers;
 * "mute1" likewise, but worker 1 hangs there instead; "garbage" sends
 * nonsense control messages first, then serves; "flood" serves, and
 * worker 1 floods the primary with program messages. A serving worker listens
 * on 127.0.0.1:CLUSTER_TEST_PORT (0 when unset), answers the message "ping"
 * with "pong", and closes its server when told to disconnect.
 *
 * Run as the primary, the tests: life-cycle order; 8 sequential
 * connections over 2 workers split 4/4 with round-robin, on one port
 * although both asked for port 0; the shared-socket and SO_REUSEPORT
 * modes; a worker dying between receiving a connection and answering, or
 * stuck there until killed, and no connection lost; a worker sending
 * nonsense, or flooding the primary with messages; accept backpressure
 * when every slot is held; a crash seen as disconnect then exit and
 * restarted with backoff until errored; sticky mapping over 100
 * connections from 20 addresses, and only a replaced worker's addresses
 * moving; least-connections following reported closes; a graceful
 * disconnect that waits for an open connection; a disconnect right
 * behind a hand-over, and the client answered once; a rolling reload
 * under sequential load that loses no request, in every mode the primary
 * shares; no descriptor left in the primary after 10,000 connections;
 * program messages both ways with the cluster's own kept out; a listen
 * error reaching the worker; the API's error paths. Nothing waits on
 * time: every step follows an event. */
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cluster/cluster_internal.h"
#include "test_util.h"

#define GUARD_MS 60000

/* ---- the worker --------------------------------------------------------- */

static eddy_loop_t wloop;
static eddy_cluster_t wcluster;
static eddy_tcp_t wserver;
static int hold_mode, die_mode, mute_mode;

struct wconn {
  eddy_tcp_t tcp;
  eddy_write_t write;
  char out[32];
  char in[64];
};

static void wconn_closed(eddy_handle_t *h) {
  free(h->data);
}

static void wconn_written(eddy_write_t *req, int status) {
  struct wconn *c = req->req.data;

  (void)status;
  eddy_close(&c->tcp.stream.handle, wconn_closed);
}

static void wconn_answer(struct wconn *c) {
  eddy_buf_t b;

  snprintf(c->out, sizeof(c->out), "%d\n", (int)getpid());
  b = eddy_buf_init(c->out, strlen(c->out));
  c->write.req.data = c;
  if (eddy_write(&c->write, &c->tcp.stream, &b, 1, wconn_written) != 0)
    eddy_close(&c->tcp.stream.handle, wconn_closed);
}

static void wconn_alloc(eddy_handle_t *h, size_t n, eddy_buf_t *b) {
  struct wconn *c = h->data;

  (void)n;
  *b = eddy_buf_init(c->in, sizeof(c->in));
}

static void wconn_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *b) {
  struct wconn *c = s->handle.data;

  (void)b;
  eddy_read_stop(s);
  if (n > 0)
    wconn_answer(c);
  else
    eddy_close(&c->tcp.stream.handle, wconn_closed);
}

static eddy_cluster_send_t wsend;

static void worker_connection(eddy_stream_t *server, int status) {
  struct wconn *c;

  if (status != 0 || (c = calloc(1, sizeof(*c))) == NULL)
    return;
  eddy_tcp_init(&wloop, &c->tcp);
  c->tcp.stream.handle.data = c;
  if (eddy_accept(server, &c->tcp.stream) != 0) {
    eddy_close(&c->tcp.stream.handle, wconn_closed);
    return;
  }
  if (die_mode && eddy_cluster_worker_id() == 1)
    _exit(7); /* took it, never answered: dies mid-hand-over */
  if (mute_mode && eddy_cluster_worker_id() == 1)
    for (;;)
      pause(); /* stuck: never answers */
  if (!hold_mode) {
    wconn_answer(c);
    return;
  }
  eddy_read_start(&c->tcp.stream, wconn_alloc, wconn_read);
  eddy_cluster_send(&wcluster, NULL, &wsend, "accepted", 8, NULL, NULL);
}

static void worker_event(eddy_cluster_t *c, const eddy_cluster_event_t *ev) {
  (void)c;
  if (ev->type == EDDY_CLUSTER_EV_DISCONNECT &&
      !eddy_is_closing(&wserver.stream.handle))
    eddy_close(&wserver.stream.handle, NULL);
}

static void worker_message(eddy_cluster_t *c, eddy_cluster_worker_t *w,
                           const void *data, size_t len, int has_handle) {
  (void)w;
  (void)has_handle;
  if (len == 4 && memcmp(data, "ping", 4) == 0)
    eddy_cluster_send(c, NULL, &wsend, "pong", 4, NULL, NULL);
  else
    eddy_cluster_send(c, NULL, &wsend, "unexpected", 10, NULL, NULL);
}

/* Control messages that make no sense: too short, unknown, about keys
 * and hand-overs that do not exist. The primary must shrug them off. */
static void send_garbage(void) {
  struct eddy__cl_msg m;
  static const int ops[] = {EDDY__CL_ANSWER,
                            EDDY__CL_LISTENING,
                            EDDY__CL_UNLISTEN,
                            EDDY__CL_CLOSED,
                            'z',
                            EDDY__CL_NEWCONN,
                            EDDY__CL_DISCONNECT};
  size_t i;

  for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
    eddy__cl_msg_start(&m, ops[i]);
    eddy__cluster_worker_send_ctl(wcluster.priv, &m); /* no fields */
    eddy__cl_msg_u32(&m, 12345);
    eddy__cl_msg_u32(&m, 999);
    eddy__cl_msg_u32(&m, 1);
    eddy__cluster_worker_send_ctl(wcluster.priv, &m); /* wrong fields */
    eddy__cl_msg_u32(&m, 0xffffffffU);
    eddy__cluster_worker_send_ctl(wcluster.priv, &m); /* and one more */
  }
}

/* "flood": FLOOD_BURST program messages queued at once before it
 * listens, then FLOOD_STEADY of them sent again as each goes, until the
 * channel ends. */
#define FLOOD_BURST 20000
#define FLOOD_STEADY 64
static eddy_cluster_send_t flood_reqs[FLOOD_BURST];

static void flood_sent(eddy_cluster_send_t *req, int status) {
  if (status == 0 && req - flood_reqs < FLOOD_STEADY)
    eddy_cluster_send(&wcluster, NULL, req, "flood", 5, NULL, flood_sent);
}

static void flood_start(void) {
  int i;

  for (i = 0; i < FLOOD_BURST; i++)
    if (eddy_cluster_send(&wcluster, NULL, &flood_reqs[i], "flood", 5, NULL,
                          flood_sent) != 0)
      _exit(14);
}

static int worker_main(void) {
  const char *role = getenv("CLUSTER_TEST_ROLE");
  const char *port = getenv("CLUSTER_TEST_PORT");
  eddy_cluster_options_t o;
  struct sockaddr_in a;
  int err;

  if (role == NULL)
    return 10;
  if (strcmp(role, "crash") == 0)
    return 1;
  hold_mode = strcmp(role, "hold") == 0;
  die_mode = strcmp(role, "die1") == 0;
  mute_mode = strcmp(role, "mute1") == 0;
  eddy_loop_init(&wloop);
  eddy_cluster_options_init(&o);
  o.on_event = worker_event;
  o.on_message = worker_message;
  if (eddy_cluster_init(&wloop, &wcluster, &o) != 0)
    return 11;
  if (strcmp(role, "garbage") == 0)
    send_garbage();
  if (strcmp(role, "flood") == 0 && eddy_cluster_worker_id() == 1)
    flood_start();
  eddy_tcp_init(&wloop, &wserver);
  a = test_loopback4(port != NULL ? atoi(port) : 0);
  if ((err = eddy_tcp_bind(&wserver, (struct sockaddr *)&a, 0)) == 0)
    err = eddy_listen(&wserver.stream, 128, worker_connection);
  if (err != 0)
    return err == EDDY_EADDRINUSE ? 3 : err == EDDY_EACCES ? 4 : 12;
  eddy_run(&wloop, EDDY_RUN_DEFAULT);
  eddy_cluster_close(&wcluster);
  eddy_run(&wloop, EDDY_RUN_DEFAULT);
  return eddy_loop_close(&wloop) == 0 ? 0 : 13;
}

/* ---- the primary's side: events, clients -------------------------------- */

static eddy_loop_t loop;
static eddy_cluster_t cluster;
static eddy_timer_t guard;

struct event_rec {
  int type, id, pid;
  int64_t status;
  int sig;
  int port;
};

static struct event_rec events[256];
static int nevents;
/* the test's own reaction, after the recording */
static void (*on_event_hook)(const eddy_cluster_event_t *ev);

static int addr_port(const struct sockaddr *a) {
  return a == NULL ? 0 : ntohs(((const struct sockaddr_in *)a)->sin_port);
}

static void record_event(eddy_cluster_t *c, const eddy_cluster_event_t *ev) {
  struct event_rec *r = &events[nevents < 255 ? nevents++ : 255];

  (void)c;
  r->type = ev->type;
  r->id = ev->worker != NULL ? ev->worker->id : 0;
  r->pid = ev->worker != NULL ? ev->worker->pid : 0;
  r->status =
      ev->type == EDDY_CLUSTER_EV_RELOADED ? ev->status : ev->exit_status;
  r->sig = ev->term_signal;
  r->port = addr_port(ev->address);
  if (on_event_hook != NULL)
    on_event_hook(ev);
}

static int count_events(int type) {
  int i, n = 0;

  for (i = 0; i < nevents; i++)
    n += events[i].type == type;
  return n;
}

static int find_event(int type, int id) {
  int i;

  for (i = 0; i < nevents; i++)
    if (events[i].type == type && events[i].id == id)
      return i;
  return -1;
}

static void guard_fired(eddy_timer_t *t) {
  (void)t;
  fail_msg("test timed out");
}

static char *role_env[3];
static char role_buf[64], port_buf[64];

static void start(eddy_cluster_options_t *o, const char *role, int port,
                  eddy_cluster_sched sched) {
  snprintf(role_buf, sizeof(role_buf), "CLUSTER_TEST_ROLE=%s", role);
  snprintf(port_buf, sizeof(port_buf), "CLUSTER_TEST_PORT=%d", port);
  role_env[0] = role_buf;
  role_env[1] = port_buf;
  role_env[2] = NULL;
  nevents = 0;
  on_event_hook = NULL;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_cluster_options_init(o), 0);
  o->sched = sched;
  o->env = role_env;
  o->on_event = record_event;
  assert_int_equal(eddy_timer_init(&loop, &guard), 0);
  assert_int_equal(eddy_timer_start(&guard, guard_fired, GUARD_MS, 0), 0);
  eddy_unref(&guard.handle);
}

/* The cluster, with two workers forked. */
static void init_fork_two(const eddy_cluster_options_t *o) {
  assert_int_equal(eddy_cluster_init(&loop, &cluster, o), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
}

/* Run until the cluster is done, then close it, the guard and extra (a
 * handle of the test's own, or NULL) and the loop. */
static void finish_closing(eddy_handle_t *extra) {
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  if (extra != NULL)
    eddy_close(extra, NULL);
  assert_int_equal(eddy_cluster_workers(&cluster, NULL, 0), 0);
  assert_int_equal(eddy_cluster_close(&cluster), 0);
  eddy_close(&guard.handle, NULL);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

static void finish(void) {
  finish_closing(NULL);
}

/* A client: connect from (optionally) a chosen address, write if told,
 * read the pid until EOF. */
struct client {
  eddy_tcp_t tcp;
  eddy_connect_t connect;
  eddy_write_t write;
  char buf[64];
  size_t len;
  int pid; /* the answer; -1 on any failure */
  void (*done)(struct client *c);
};

static void client_closed(eddy_handle_t *h) {
  struct client *c = h->data;

  c->done(c);
}

static void client_alloc(eddy_handle_t *h, size_t n, eddy_buf_t *b) {
  struct client *c = h->data;

  (void)n;
  *b = eddy_buf_init(c->buf + c->len, sizeof(c->buf) - 1 - c->len);
}

static void client_read(eddy_stream_t *s, ssize_t n, const eddy_buf_t *b) {
  struct client *c = s->handle.data;

  (void)b;
  if (n > 0) {
    c->len += (size_t)n;
    return;
  }
  c->buf[c->len] = '\0';
  c->pid = n == EDDY_EOF && c->len > 0 ? atoi(c->buf) : -1;
  eddy_close(&s->handle, client_closed);
}

static void client_connected(eddy_connect_t *req, int status) {
  struct client *c = req->req.data;

  if (status != 0) {
    c->pid = -1;
    eddy_close(&c->tcp.stream.handle, client_closed);
    return;
  }
  eddy_read_start(&c->tcp.stream, client_alloc, client_read);
}

static void client_start(struct client *c, int port, const char *from,
                         void (*done)(struct client *)) {
  struct sockaddr_in a = test_loopback4(port);

  memset(c, 0, sizeof(*c));
  c->done = done;
  c->connect.req.data = c;
  assert_int_equal(eddy_tcp_init(&loop, &c->tcp), 0);
  c->tcp.stream.handle.data = c;
  if (from != NULL) {
    struct sockaddr_in b = test_loopback4(0);
    assert_int_equal(inet_pton(AF_INET, from, &b.sin_addr), 1);
    assert_int_equal(eddy_tcp_bind(&c->tcp, (struct sockaddr *)&b, 0), 0);
  }
  assert_int_equal(eddy_tcp_connect(&c->connect, &c->tcp, (struct sockaddr *)&a,
                                    client_connected),
                   0);
}

static void client_write(struct client *c, const char *text) {
  eddy_buf_t b = eddy_buf_init((char *)text, strlen(text));

  assert_int_equal(eddy_write(&c->write, &c->tcp.stream, &b, 1, NULL), 0);
}

/* ---- life cycle ------------------------------------------------------------
 */

static void lifecycle_hook(const eddy_cluster_event_t *ev) {
  if (ev->type == EDDY_CLUSTER_EV_LISTENING) {
    assert_int_equal(ev->worker->state, EDDY_WORKER_LISTENING);
    assert_int_equal(eddy_cluster_workers(&cluster, NULL, 0), 1);
    assert_int_equal(eddy_cluster_worker_disconnect(ev->worker), 0);
    assert_int_equal(eddy_cluster_worker_disconnect(ev->worker), EDDY_EALREADY);
  }
  if (ev->type == EDDY_CLUSTER_EV_DISCONNECT)
    assert_int_equal(ev->worker->state, EDDY_WORKER_DISCONNECTED);
  if (ev->type == EDDY_CLUSTER_EV_EXIT) {
    assert_int_equal(ev->worker->state, EDDY_WORKER_DEAD);
    assert_true(ev->worker->exited_after_disconnect);
    assert_int_equal(eddy_cluster_workers(&cluster, NULL, 0), 0);
  }
}

static void test_lifecycle_order(void **state) {
  eddy_cluster_options_t o;
  eddy_cluster_worker_t *w = NULL, *list[4];
  static const int want[] = {EDDY_CLUSTER_EV_FORK, EDDY_CLUSTER_EV_ONLINE,
                             EDDY_CLUSTER_EV_LISTENING,
                             EDDY_CLUSTER_EV_DISCONNECT, EDDY_CLUSTER_EV_EXIT};
  int i;

  (void)state;
  start(&o, "serve", 0, EDDY_CLUSTER_SCHED_RR);
  on_event_hook = lifecycle_hook;
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  assert_true(eddy_cluster_is_primary());
  assert_int_equal(eddy_cluster_worker_id(), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, &w), 0);
  assert_non_null(w);
  assert_int_equal(w->id, 1);
  assert_true(w->pid > 0);
  assert_int_equal(w->state, EDDY_WORKER_NONE);
  assert_int_equal(nevents, 0); /* FORK comes in a next tick */
  assert_int_equal(eddy_cluster_workers(&cluster, list, 4), 1);
  assert_ptr_equal(list[0], w);
  finish();
  assert_int_equal(nevents, 5);
  for (i = 0; i < 5; i++) {
    assert_int_equal(events[i].type, want[i]);
    assert_int_equal(events[i].id, 1);
  }
  assert_true(events[2].port > 0);
  assert_int_equal(events[4].status, 0);
  assert_int_equal(events[4].sig, 0);
}

/* ---- round-robin and one port for port 0 ------------------------------------
 */

static struct client clients[4];
static int port_seen, nlistening, nclients, nclients_want, nfailed;
static int pids[8], pid_counts[8], npids;

static void tally(int pid) {
  int i;

  if (pid <= 0) {
    nfailed++;
    return;
  }
  for (i = 0; i < npids; i++)
    if (pids[i] == pid) {
      pid_counts[i]++;
      return;
    }
  if (npids < 8) {
    pids[npids] = pid;
    pid_counts[npids++] = 1;
  }
}

static void tally_reset(void) {
  npids = nfailed = nclients = nlistening = port_seen = 0;
  memset(pid_counts, 0, sizeof(pid_counts));
}

static void sequential_done(struct client *c) {
  tally(c->pid);
  if (++nclients < nclients_want)
    client_start(&clients[0], port_seen, NULL, sequential_done);
  else
    eddy_cluster_disconnect(&cluster);
}

static void two_listening_hook(const eddy_cluster_event_t *ev) {
  if (ev->type != EDDY_CLUSTER_EV_LISTENING)
    return;
  if (port_seen == 0)
    port_seen = addr_port(ev->address);
  assert_int_equal(addr_port(ev->address), port_seen); /* one port */
  if (++nlistening == 2)
    client_start(&clients[0], port_seen, NULL, sequential_done);
}

static void run_two(const char *role, eddy_cluster_sched sched, int conns) {
  eddy_cluster_options_t o;

  start(&o, role, 0, sched);
  tally_reset();
  nclients_want = conns;
  on_event_hook = two_listening_hook;
  init_fork_two(&o);
  finish();
  assert_int_equal(nfailed, 0);
  assert_int_equal(nclients, conns);
  assert_int_equal(count_events(EDDY_CLUSTER_EV_EXIT), 2);
}

static void run_two_workers(eddy_cluster_sched sched, int conns) {
  run_two("serve", sched, conns);
}

static void test_rr_split_and_one_port(void **state) {
  (void)state;
  run_two_workers(EDDY_CLUSTER_SCHED_RR, 8);
  assert_int_equal(npids, 2);
  assert_int_equal(pid_counts[0], 4);
  assert_int_equal(pid_counts[1], 4);
}

static void test_shared_socket(void **state) {
  (void)state;
  run_two_workers(EDDY_CLUSTER_SCHED_NONE, 8);
  assert_true(npids >= 1); /* the kernel picks */
}

/* Each worker has a socket of its own on the port the primary holds. */
static void test_reuseport(void **state) {
  (void)state;
  run_two_workers(EDDY_CLUSTER_SCHED_REUSEPORT, 8);
  assert_true(npids >= 1); /* the kernel hashes the client's port */
}

/* ---- a worker dying mid-hand-over
 * ------------------------------------------------ */

static void test_death_mid_handover(void **state) {
  (void)state;
  /* worker 1 dies holding the first connection it is given: that one,
   * and all after it, are answered by worker 2 */
  {
    eddy_cluster_options_t o;
    start(&o, "die1", 0, EDDY_CLUSTER_SCHED_RR);
    tally_reset();
    nclients_want = 4;
    on_event_hook = two_listening_hook;
    init_fork_two(&o);
    finish();
  }
  assert_int_equal(nfailed, 0);
  assert_int_equal(nclients, 4);
  assert_int_equal(npids, 1);
  assert_int_equal(pid_counts[0], 4);
  assert_int_equal(events[find_event(EDDY_CLUSTER_EV_EXIT, 1)].status, 7);
}

/* A worker that sends nonsense control messages costs nothing: both
 * workers serve, and exit when asked. */
static void test_garbage_shrugged_off(void **state) {
  (void)state;
  run_two("garbage", EDDY_CLUSTER_SCHED_RR, 8);
  assert_int_equal(npids, 2);
  assert_int_equal(pid_counts[0], 4);
  assert_int_equal(events[find_event(EDDY_CLUSTER_EV_EXIT, 1)].status, 0);
  assert_int_equal(events[find_event(EDDY_CLUSTER_EV_EXIT, 2)].status, 0);
}

/* A worker that floods the primary with messages costs only itself: its
 * burst is all delivered, in order before its LISTENING, and while it
 * goes on sending, every client is served. */
static int nflood, nflood_at_listening;

static void flood_message(eddy_cluster_t *c, eddy_cluster_worker_t *w,
                          const void *data, size_t len, int has_handle) {
  (void)c;
  (void)has_handle;
  assert_int_equal(w->id, 1);
  assert_int_equal(len, 5);
  assert_memory_equal(data, "flood", 5);
  nflood++;
}

static void flood_hook(const eddy_cluster_event_t *ev) {
  if (ev->type == EDDY_CLUSTER_EV_LISTENING && ev->worker->id == 1)
    nflood_at_listening = nflood;
  two_listening_hook(ev);
}

static void test_flood_shrugged_off(void **state) {
  eddy_cluster_options_t o;

  (void)state;
  start(&o, "flood", 0, EDDY_CLUSTER_SCHED_RR);
  tally_reset();
  nflood = nflood_at_listening = 0;
  nclients_want = 8;
  o.on_message = flood_message;
  on_event_hook = flood_hook;
  init_fork_two(&o);
  finish();
  /* Who served which is not fixed: the flooder's answers queue behind
   * its messages, so it may still be busy when the next client comes. */
  assert_int_equal(nfailed, 0);
  assert_int_equal(nclients, 8);
  assert_int_equal(nflood_at_listening, FLOOD_BURST);
  assert_true(nflood >= FLOOD_BURST);
  assert_int_equal(events[find_event(EDDY_CLUSTER_EV_EXIT, 1)].status, 0);
}

/* A worker stuck before it answers is killed after handover_timeout_ms
 * (the progress of the test, not a timing assertion) and its connection
 * served by the other. */
static void test_stuck_worker_killed(void **state) {
  eddy_cluster_options_t o;

  (void)state;
  start(&o, "mute1", 0, EDDY_CLUSTER_SCHED_RR);
  tally_reset();
  nclients_want = 4;
  o.handover_timeout_ms = 200;
  on_event_hook = two_listening_hook;
  init_fork_two(&o);
  finish();
  assert_int_equal(nfailed, 0);
  assert_int_equal(npids, 1);
  assert_int_equal(pid_counts[0], 4);
  assert_int_equal(events[find_event(EDDY_CLUSTER_EV_EXIT, 1)].sig, SIGKILL);
}

/* ---- accept backpressure ------------------------------------------------ */

/* Worker 1 hangs on the first connection it is given and is never timed
 * out, so everything after it waits in the primary: every slot fills,
 * and the primary stops accepting, leaving the rest in the kernel's
 * backlog. A second worker then drains the queue and the backlog; killing
 * worker 1 hands its connection on too. Not one client is lost. */
#define BACKLOG_CLIENTS (EDDY_CLUSTER_PENDING_MAX + 8)

static struct client backlog_clients[BACKLOG_CLIENTS];
static eddy_check_t backlog_check;
static eddy_cluster_worker_t *backlog_mute;
static int backlog_forked, backlog_killed, backlog_served_before_second;

static void backlog_done(struct client *c) {
  tally(c->pid);
  nclients++;
  if (!backlog_killed && backlog_mute != NULL &&
      nclients + (int)eddy__balance_inflight(backlog_mute->priv) ==
          BACKLOG_CLIENTS) {
    backlog_killed = 1; /* only its own hand-overs are left */
    assert_int_equal(eddy_cluster_worker_kill(backlog_mute, SIGKILL), 0);
  }
  if (nclients == BACKLOG_CLIENTS)
    eddy_cluster_disconnect(&cluster);
}

/* After every poll phase: once the primary holds all it can, and has
 * stopped accepting, the second worker comes. */
static void backlog_poll_done(eddy_check_t *check) {
  int paused;
  unsigned held = eddy__balance_held(cluster.priv, &paused);

  if (held < EDDY_CLUSTER_PENDING_MAX || !paused)
    return;
  assert_int_equal(held, EDDY_CLUSTER_PENDING_MAX);
  backlog_served_before_second = nclients;
  eddy_check_stop(check);
  backlog_forked = 1;
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
}

static void backlog_hook(const eddy_cluster_event_t *ev) {
  int i;

  if (ev->type != EDDY_CLUSTER_EV_LISTENING || ev->worker->id != 1)
    return;
  backlog_mute = ev->worker;
  for (i = 0; i < BACKLOG_CLIENTS; i++)
    client_start(&backlog_clients[i], addr_port(ev->address), NULL,
                 backlog_done);
  assert_int_equal(eddy_check_init(&loop, &backlog_check), 0);
  assert_int_equal(eddy_check_start(&backlog_check, backlog_poll_done), 0);
}

static void test_accept_backpressure(void **state) {
  eddy_cluster_options_t o;

  (void)state;
  start(&o, "mute1", 0, EDDY_CLUSTER_SCHED_RR);
  tally_reset();
  backlog_mute = NULL;
  backlog_forked = backlog_killed = 0;
  o.handover_timeout_ms = 0; /* worker 1 is never timed out */
  on_event_hook = backlog_hook;
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  finish_closing(&backlog_check.handle);
  assert_true(backlog_forked);
  assert_true(backlog_killed);
  assert_int_equal(backlog_served_before_second, 0);
  assert_int_equal(nfailed, 0);
  assert_int_equal(nclients, BACKLOG_CLIENTS);
  assert_int_equal(npids, 1); /* all by the second worker */
  assert_int_equal(pid_counts[0], BACKLOG_CLIENTS);
  assert_int_equal(events[find_event(EDDY_CLUSTER_EV_EXIT, 1)].sig, SIGKILL);
}

/* ---- crash, restart, errored
 * ------------------------------------------------- */

static void test_crash_restart_errored(void **state) {
  eddy_cluster_options_t o;
  int id;

  (void)state;
  start(&o, "crash", 0, EDDY_CLUSTER_SCHED_RR);
  o.restart = 1;
  o.restart_delay_ms = 10;
  o.max_fast_crashes = 3;
  o.fast_crash_ms = 60000; /* every crash counts as fast */
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_DEFAULT), 0);
  for (id = 1; id <= 3; id++) {
    int d = find_event(EDDY_CLUSTER_EV_DISCONNECT, id);
    int e = find_event(EDDY_CLUSTER_EV_EXIT, id);
    assert_true(d >= 0 && e > d);
    assert_int_equal(events[e].status, 1);
  }
  assert_int_equal(find_event(EDDY_CLUSTER_EV_FORK, 4), -1);
  assert_int_equal(count_events(EDDY_CLUSTER_EV_ERRORED), 1);
  assert_true(find_event(EDDY_CLUSTER_EV_ERRORED, 3) >
              find_event(EDDY_CLUSTER_EV_EXIT, 3));
  /* 10 ms, then 15: the next would have been 22 */
  assert_true(cluster.priv->slots[0].errored);
  assert_int_equal(cluster.priv->slots[0].delay_ms, 22);
  finish();
}

/* ---- sticky
 * ------------------------------------------------------------------ */

#define STICKY_ADDRS 20
static int sticky_pid[STICKY_ADDRS], sticky_round, sticky_next, sticky_bad;
static int sticky_victim, sticky_new_pid;

static void sticky_from(int i, char *buf, size_t n) {
  snprintf(buf, n, "127.0.0.%d", i + 2);
}

static void sticky_done(struct client *c);

static void sticky_next_client(void) {
  char from[32];

  sticky_from(sticky_next % STICKY_ADDRS, from, sizeof(from));
  client_start(&clients[0], port_seen, from, sticky_done);
}

static void sticky_done(struct client *c) {
  int i = sticky_next % STICKY_ADDRS;

  if (c->pid <= 0)
    nfailed++;
  if (sticky_round == 0) {
    if (sticky_pid[i] == 0)
      sticky_pid[i] = c->pid;
    else if (sticky_pid[i] != c->pid)
      sticky_bad++;
  } else if (sticky_pid[i] == sticky_victim) {
    if (c->pid != sticky_new_pid)
      sticky_bad++; /* the dead worker's address goes to its successor */
  } else if (c->pid != sticky_pid[i]) {
    sticky_bad++; /* every other address stays */
  }
  sticky_next++;
  if (sticky_round == 0 && sticky_next == 5 * STICKY_ADDRS) {
    /* a crash (not a kill through the cluster): the slot restarts */
    sticky_round = 1;
    sticky_next = 0;
    sticky_victim = sticky_pid[0];
    kill(sticky_victim, SIGKILL);
    return;
  }
  if (sticky_round == 1 && sticky_next == STICKY_ADDRS) {
    eddy_cluster_disconnect(&cluster);
    return;
  }
  sticky_next_client();
}

static void sticky_hook(const eddy_cluster_event_t *ev) {
  if (ev->type != EDDY_CLUSTER_EV_LISTENING)
    return;
  port_seen = addr_port(ev->address);
  if (++nlistening == 3)
    sticky_next_client();
  if (nlistening == 4) { /* the replacement */
    sticky_new_pid = ev->worker->pid;
    sticky_next_client();
  }
}

static void test_sticky(void **state) {
  eddy_cluster_options_t o;
  int i, distinct = 0;

  (void)state;
  start(&o, "serve", 0, EDDY_CLUSTER_SCHED_STICKY);
  tally_reset();
  memset(sticky_pid, 0, sizeof(sticky_pid));
  sticky_round = sticky_next = sticky_bad = 0;
  o.restart = 1;
  o.restart_delay_ms = 1;
  on_event_hook = sticky_hook;
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  for (i = 0; i < 3; i++)
    assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  finish();
  assert_int_equal(nfailed, 0);
  assert_int_equal(sticky_bad, 0);
  assert_int_equal(sticky_round, 1);
  assert_int_equal(sticky_next, STICKY_ADDRS);
  for (i = 1; i < STICKY_ADDRS; i++)
    distinct += sticky_pid[i] != sticky_pid[0];
  assert_true(distinct > 0); /* spread over more than one worker */
}

/* ---- least connections
 * --------------------------------------------------------- */

static eddy_cluster_worker_t *lc_by[3];
static int lc_accepted, lc_done;
static eddy_idle_t lc_idle;

static void lc_client_done(struct client *c) {
  tally(c->pid);
  if (++lc_done == 3)
    eddy_cluster_disconnect(&cluster);
}

/* Waits (on the primary's own count, not on time) until the close of the
 * first connection was reported, then opens the third. The worker's
 * "accepted" message comes before its answer to the hand-over, so the
 * count is 0 also while that answer is still on its way: wait for both. */
static void lc_wait_close(eddy_idle_t *idle) {
  if (eddy__balance_conns(lc_by[0]->priv) != 0 ||
      eddy__balance_inflight(lc_by[0]->priv) != 0)
    return;
  eddy_idle_stop(idle);
  eddy_close(&idle->handle, NULL);
  client_start(&clients[2], port_seen, NULL, lc_client_done);
}

static void lc_message(eddy_cluster_t *c, eddy_cluster_worker_t *w,
                       const void *data, size_t len, int has_handle) {
  (void)c;
  (void)data;
  (void)len;
  (void)has_handle;
  lc_by[lc_accepted++] = w;
  if (lc_accepted == 1) {
    client_start(&clients[1], port_seen, NULL, lc_client_done);
  } else if (lc_accepted == 2) {
    assert_ptr_not_equal(lc_by[1], lc_by[0]); /* 1 against 0 */
    client_write(&clients[0], "x");           /* the first one ends */
    assert_int_equal(eddy_idle_init(&loop, &lc_idle), 0);
    assert_int_equal(eddy_idle_start(&lc_idle, lc_wait_close), 0);
  } else {
    /* 0 against 1: the worker whose connection closed */
    assert_ptr_equal(lc_by[2], lc_by[0]);
    client_write(&clients[1], "x");
    client_write(&clients[2], "x");
  }
}

static void lc_hook(const eddy_cluster_event_t *ev) {
  if (ev->type == EDDY_CLUSTER_EV_LISTENING && ++nlistening == 2) {
    port_seen = addr_port(ev->address);
    client_start(&clients[0], port_seen, NULL, lc_client_done);
  }
}

static void test_leastconn(void **state) {
  eddy_cluster_options_t o;

  (void)state;
  start(&o, "hold", 0, EDDY_CLUSTER_SCHED_LEASTCONN);
  tally_reset();
  lc_accepted = lc_done = 0;
  o.on_message = lc_message;
  on_event_hook = lc_hook;
  init_fork_two(&o);
  finish();
  assert_int_equal(nfailed, 0);
  assert_int_equal(lc_done, 3);
}

/* ---- a disconnect right behind a hand-over ------------------------------ */

/* The primary asks a worker to go just after handing it a connection, so
 * that the worker often reads both in one go. The worker takes the
 * connection; its answer must reach the primary before its channel ends,
 * or the primary would give the connection to the other worker as well
 * and two workers would answer one client. */
static eddy_check_t dh_check;
static int dh_lines, dh_disconnected;

static void dh_done(struct client *c) {
  const char *p;

  tally(c->pid);
  nclients++;
  for (p = c->buf; (p = strchr(p, '\n')) != NULL; p++)
    dh_lines++;
  eddy_cluster_disconnect(&cluster);
}

static void dh_poll_done(eddy_check_t *check) {
  eddy_cluster_worker_t *list[2];
  int i, n = eddy_cluster_workers(&cluster, list, 2);

  for (i = 0; i < n; i++)
    if (eddy__balance_inflight(list[i]->priv) > 0) {
      assert_int_equal(eddy_cluster_worker_disconnect(list[i]), 0);
      dh_disconnected++;
      eddy_check_stop(check);
      return;
    }
}

static void dh_hook(const eddy_cluster_event_t *ev) {
  if (ev->type != EDDY_CLUSTER_EV_LISTENING || ++nlistening != 2)
    return;
  assert_int_equal(eddy_check_start(&dh_check, dh_poll_done), 0);
  client_start(&clients[0], addr_port(ev->address), NULL, dh_done);
}

static void test_disconnect_behind_handover(void **state) {
  eddy_cluster_options_t o;
  int round;

  (void)state;
  for (round = 0; round < 10; round++) {
    start(&o, "serve", 0, EDDY_CLUSTER_SCHED_RR);
    tally_reset();
    dh_lines = dh_disconnected = 0;
    on_event_hook = dh_hook;
    assert_int_equal(eddy_check_init(&loop, &dh_check), 0);
    init_fork_two(&o);
    finish_closing(&dh_check.handle);
    assert_int_equal(dh_disconnected, 1);
    assert_int_equal(nfailed, 0);
    assert_int_equal(nclients, 1);
    assert_int_equal(dh_lines, 1); /* one worker answered it */
  }
}

/* ---- graceful disconnect
 * ------------------------------------------------------- */

static int graceful_answer_after_disconnect;

/* The answer comes from the worker after its disconnect (the write went
 * out then); whether the primary reaps it before or after reading it is
 * the kernel's race, not checked. */
static void graceful_done(struct client *c) {
  tally(c->pid);
  graceful_answer_after_disconnect =
      count_events(EDDY_CLUSTER_EV_DISCONNECT) == 1;
}

static void graceful_hook(const eddy_cluster_event_t *ev) {
  if (ev->type == EDDY_CLUSTER_EV_LISTENING)
    client_start(&clients[0], addr_port(ev->address), NULL, graceful_done);
  if (ev->type == EDDY_CLUSTER_EV_DISCONNECT)
    client_write(&clients[0], "x"); /* the open connection still works */
}

static void graceful_message(eddy_cluster_t *c, eddy_cluster_worker_t *w,
                             const void *data, size_t len, int has_handle) {
  (void)c;
  (void)has_handle;
  assert_int_equal(len, 8);
  assert_memory_equal(data, "accepted", 8);
  assert_int_equal(eddy_cluster_worker_disconnect(w), 0);
}

static void test_graceful_disconnect(void **state) {
  eddy_cluster_options_t o;

  (void)state;
  start(&o, "hold", 0, EDDY_CLUSTER_SCHED_RR);
  tally_reset();
  o.grace_ms = 0; /* never killed: it must end on its own */
  o.on_message = graceful_message;
  on_event_hook = graceful_hook;
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  finish();
  assert_int_equal(npids, 1);
  assert_true(graceful_answer_after_disconnect);
  /* it ended on its own, not killed */
  assert_int_equal(events[nevents - 1].type, EDDY_CLUSTER_EV_EXIT);
  assert_int_equal(events[nevents - 1].status, 0);
  assert_int_equal(events[nevents - 1].sig, 0);
}

/* ---- rolling reload
 * ----------------------------------------------------------- */

static int reloaded, reload_status;

static void reload_done(struct client *c) {
  tally(c->pid);
  nclients++;
  if (nclients == 10) {
    assert_int_equal(eddy_cluster_reload(&cluster), 0);
    assert_int_equal(eddy_cluster_reload(&cluster), EDDY_EALREADY);
  }
  /* go on until the reload ended and 20 more came after it */
  if (reloaded && nclients_want == 0)
    nclients_want = nclients + 20;
  if (!reloaded || nclients < nclients_want) {
    client_start(&clients[0], port_seen, NULL, reload_done);
    return;
  }
  eddy_cluster_disconnect(&cluster);
}

static void reload_hook(const eddy_cluster_event_t *ev) {
  if (ev->type == EDDY_CLUSTER_EV_RELOADED) {
    reloaded = 1;
    reload_status = ev->status;
  }
  if (ev->type == EDDY_CLUSTER_EV_LISTENING && ++nlistening == 2) {
    port_seen = addr_port(ev->address);
    client_start(&clients[0], port_seen, NULL, reload_done);
  }
}

static void test_reload_loses_nothing(void **state) {
  eddy_cluster_options_t o;
  int i;
  static const eddy_cluster_sched scheds[] = {
      EDDY_CLUSTER_SCHED_RR, EDDY_CLUSTER_SCHED_NONE, EDDY_CLUSTER_SCHED_STICKY,
      EDDY_CLUSTER_SCHED_LEASTCONN};
  /* distinct workers that must have answered: both old ones and a new
   * one after them for RR; with the shared socket the kernel may give
   * all the rest to one; one address sticks to one worker at a time;
   * least connections may keep choosing the same one */
  static const int min_pids[] = {4, 3, 2, 2};

  (void)state;
  for (i = 0; i < 4; i++) {
    eddy_cluster_sched sched = scheds[i];
    start(&o, "serve", 0, sched);
    tally_reset();
    reloaded = 0;
    reload_status = 1;
    nclients_want = 0;
    on_event_hook = reload_hook;
    init_fork_two(&o);
    finish();
    assert_int_equal(reload_status, 0);
    assert_int_equal(nfailed, 0);
    assert_true(npids >= min_pids[i]);
    /* ids 1, 2 replaced by 3, 4, each listening before the old went */
    assert_true(find_event(EDDY_CLUSTER_EV_LISTENING, 3) <
                find_event(EDDY_CLUSTER_EV_DISCONNECT, 1));
    assert_true(find_event(EDDY_CLUSTER_EV_LISTENING, 4) <
                find_event(EDDY_CLUSTER_EV_DISCONNECT, 2));
    assert_true(find_event(EDDY_CLUSTER_EV_EXIT, 1) <
                find_event(EDDY_CLUSTER_EV_FORK, 4));
  }
}

/* ---- no leak in the primary
 * ------------------------------------------------------ */

static int fds_at_listen, fds_at_end;

static void leak_done(struct client *c) {
  tally(c->pid);
  if (++nclients < nclients_want) {
    client_start(&clients[0], port_seen, NULL, leak_done);
    return;
  }
  fds_at_end = test_count_fds();
  eddy_cluster_disconnect(&cluster);
}

static void leak_hook(const eddy_cluster_event_t *ev) {
  if (ev->type == EDDY_CLUSTER_EV_LISTENING) {
    port_seen = addr_port(ev->address);
    fds_at_listen = test_count_fds();
    client_start(&clients[0], port_seen, NULL, leak_done);
  }
}

static void test_no_fd_leak(void **state) {
  eddy_cluster_options_t o;

  (void)state;
  start(&o, "serve", 0, EDDY_CLUSTER_SCHED_RR);
  tally_reset();
  nclients_want = 10000;
  on_event_hook = leak_hook;
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  finish();
  assert_int_equal(nfailed, 0);
  assert_int_equal(nclients, 10000);
  assert_int_equal(fds_at_end, fds_at_listen);
}

/* ---- messages, listen errors, API errors
 * ---------------------------------------- */

static eddy_cluster_send_t psend;
static int nmessages;

static void ping_hook(const eddy_cluster_event_t *ev) {
  if (ev->type == EDDY_CLUSTER_EV_LISTENING) {
    assert_int_equal(eddy_cluster_send(&cluster, ev->worker, &psend,
                                       EDDY__CL_PREFIX "x", 5, NULL, NULL),
                     EDDY_EINVAL);
    assert_int_equal(
        eddy_cluster_send(&cluster, NULL, &psend, "ping", 4, NULL, NULL),
        EDDY_EINVAL);
    assert_int_equal(
        eddy_cluster_send(&cluster, ev->worker, &psend, "ping", 4, NULL, NULL),
        0);
  }
}

static void pong_message(eddy_cluster_t *c, eddy_cluster_worker_t *w,
                         const void *data, size_t len, int has_handle) {
  static eddy_tcp_t t;

  assert_false(has_handle);
  assert_int_equal(len, 4);
  assert_memory_equal(data, "pong", 4);
  eddy_tcp_init(&loop, &t);
  assert_int_equal(eddy_cluster_accept(c, &t.stream), EDDY_EAGAIN);
  eddy_close(&t.stream.handle, NULL);
  nmessages++;
  eddy_cluster_worker_disconnect(w);
}

static void test_messages(void **state) {
  eddy_cluster_options_t o;
  eddy_tcp_t t;

  (void)state;
  start(&o, "serve", 0, EDDY_CLUSTER_SCHED_RR);
  nmessages = 0;
  o.on_message = pong_message;
  on_event_hook = ping_hook;
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), EDDY_EBUSY);
  assert_int_equal(eddy_cluster_ready(&cluster), EDDY_EINVAL);
  eddy_tcp_init(&loop, &t);
  assert_int_equal(eddy_cluster_accept(&cluster, &t.stream), EDDY_EINVAL);
  eddy_close(&t.stream.handle, NULL);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  assert_int_equal(eddy_cluster_close(&cluster), EDDY_EBUSY);
  finish();
  assert_int_equal(nmessages, 1);
}

static void test_listen_error_reaches_worker(void **state) {
  eddy_cluster_options_t o;
  struct sockaddr_in a = test_loopback4(0);
  socklen_t len = sizeof(a);
  int fd;

  (void)state;
  /* a port this process listens on, outside the cluster */
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
  assert_int_equal(listen(fd, 8), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  start(&o, "serve", ntohs(a.sin_port), EDDY_CLUSTER_SCHED_RR);
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), 0);
  finish();
  close(fd);
  assert_int_equal(find_event(EDDY_CLUSTER_EV_LISTENING, 1), -1);
  assert_int_equal(events[nevents - 1].type, EDDY_CLUSTER_EV_EXIT);
  assert_int_equal(events[nevents - 1].status, 3); /* EADDRINUSE */
}

/* The primary of a process without the right to bind a privileged port:
 * its worker's listen on port 1 fails with EACCES, and the worker exits
 * with that answer (4). Returns that exit status, or 90+ if the set-up
 * failed. Runs in a child of the test, so it uses no cmocka assert. */
static int eacces_primary(void) {
  eddy_cluster_options_t o;

  if (geteuid() == 0 && setuid(65534) != 0)
    return 90;
  snprintf(role_buf, sizeof(role_buf), "CLUSTER_TEST_ROLE=serve");
  snprintf(port_buf, sizeof(port_buf), "CLUSTER_TEST_PORT=1");
  role_env[0] = role_buf;
  role_env[1] = port_buf;
  role_env[2] = NULL;
  nevents = 0;
  if (eddy_loop_init(&loop) != 0 || eddy_cluster_options_init(&o) != 0)
    return 91;
  o.env = role_env;
  o.on_event = record_event;
  if (eddy_cluster_init(&loop, &cluster, &o) != 0 ||
      eddy_cluster_fork(&cluster, NULL) != 0)
    return 92;
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (find_event(EDDY_CLUSTER_EV_LISTENING, 1) != -1 || nevents == 0 ||
      events[nevents - 1].type != EDDY_CLUSTER_EV_EXIT)
    return 93;
  return (int)events[nevents - 1].status;
}

static void test_listen_eacces_reaches_worker(void **state) {
  FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "r");
  int start_port = 1024, status;
  pid_t pid;

  (void)state;
  if (f != NULL) {
    if (fscanf(f, "%d", &start_port) != 1)
      start_port = 1024;
    fclose(f);
  }
  if (start_port <= 1) {
    print_message("every port is unprivileged here: skipped\n");
    skip();
  }
  fflush(NULL);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0)
    _exit(eacces_primary());
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 4); /* EACCES in the worker */
}

static void test_api_errors(void **state) {
  eddy_cluster_options_t o;
  eddy_cluster_worker_t *list[1];

  (void)state;
  assert_int_equal(eddy_cluster_options_init(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_cluster_options_init(&o), 0);
  assert_int_equal(o.sched, EDDY_CLUSTER_SCHED_RR);
  assert_int_equal(o.restart_delay_ms, 100);
  assert_int_equal(o.restart_max_ms, 15000);
  assert_int_equal(o.stable_ms, 30000);
  assert_int_equal(o.max_fast_crashes, 16);
  setenv(EDDY_CLUSTER_SCHED_ENV, "bogus", 1);
  assert_int_equal(eddy_cluster_options_init(&o), EDDY_EINVAL);
  setenv(EDDY_CLUSTER_SCHED_ENV, "sticky", 1);
  assert_int_equal(eddy_cluster_options_init(&o), 0);
  assert_int_equal(o.sched, EDDY_CLUSTER_SCHED_STICKY);
  unsetenv(EDDY_CLUSTER_SCHED_ENV);
  assert_int_equal(eddy_cluster_init(NULL, &cluster, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_loop_init(&loop), 0);
  o.sched = (eddy_cluster_sched)9;
  assert_int_equal(eddy_cluster_init(&loop, &cluster, &o), EDDY_EINVAL);
  assert_int_equal(eddy_cluster_init(&loop, &cluster, NULL), 0);
  assert_int_equal(eddy_cluster_workers(&cluster, list, 1), 0);
  assert_int_equal(eddy_cluster_worker_disconnect(NULL), EDDY_EINVAL);
  assert_int_equal(eddy_cluster_worker_kill(NULL, 0), EDDY_EINVAL);
  assert_int_equal(eddy_cluster_send(NULL, NULL, NULL, "", 0, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_cluster_disconnect(&cluster), 0);
  assert_int_equal(eddy_cluster_fork(&cluster, NULL), EDDY_EINVAL);
  assert_int_equal(eddy_cluster_reload(&cluster), EDDY_EINVAL);
  assert_int_equal(eddy_cluster_close(&cluster), 0);
  assert_int_equal(eddy_cluster_close(&cluster), EDDY_EINVAL);
  assert_int_equal(eddy_loop_close(&loop), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
#define T(name)                                                                \
  cmocka_unit_test_setup_teardown(name, test_fd_setup, test_fd_teardown)
      T(test_api_errors),
      T(test_lifecycle_order),
      T(test_rr_split_and_one_port),
      T(test_shared_socket),
      T(test_reuseport),
      T(test_death_mid_handover),
      T(test_garbage_shrugged_off),
      T(test_flood_shrugged_off),
      T(test_stuck_worker_killed),
      T(test_accept_backpressure),
      T(test_crash_restart_errored),
      T(test_sticky),
      T(test_leastconn),
      T(test_graceful_disconnect),
      T(test_disconnect_behind_handover),
      T(test_reload_loses_nothing),
      T(test_no_fd_leak),
      T(test_messages),
      T(test_listen_error_reaches_worker),
      T(test_listen_eacces_reaches_worker),
#undef T
  };

  if (!eddy_cluster_is_primary())
    return worker_main();
  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
