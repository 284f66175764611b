/* What the Redis client's files share (client.c: commands, writing,
 * replies; connection.c: connecting, reconnecting, closing; session.c:
 * handshake, pub/sub, the RESP2 invalidation connection; cache.c: the local
 * cache). Built on the public API only. */
#ifndef EDDY_REDIS_INTERNAL_H
#define EDDY_REDIS_INTERNAL_H

#include <stdint.h>
#include <sys/socket.h>

#include "eddy/dns.h"
#include "eddy/loopwatch.h"
#include "eddy/pipe.h"
#include "eddy/redis.h"
#include "eddy/tcp.h"
#include "eddy/timer.h"

/* A growable byte buffer: data[start .. len) is in use. */
struct rbytes {
  char *data;
  size_t start, len, cap;
};

/* Kinds of command records. */
enum {
  CMD_USER = 0, /* the reply goes to cb */
  CMD_CACHED,   /* a cached read: the reply may fill the cache */
  CMD_SUB,      /* (un)subscribe: answered by a confirmation */
  CMD_INTERNAL  /* the client's own: the reply goes to an internal cb */
};

/* Record flags. */
enum {
  CMD_F_SENT = 1, /* handed to the socket */
  CMD_F_WRITE = 2 /* may write: not a known read */
};

struct eddy__redis_key; /* cache.c */

typedef void (*redis_internal_cb)(struct eddy__redis *s, int status,
                                  const eddy_resp_node_t *reply, void *arg);

/* One command awaiting its reply, in the ring in send order. */
struct redis_cmd {
  union {
    eddy_redis_reply_cb user;
    redis_internal_cb internal;
  } cb;
  void *arg;
  uint64_t issued_ms;          /* loop time when issued */
  uint64_t seq;                /* issue order */
  size_t bytes;                /* its encoded size in the output buffer */
  struct eddy__redis_key *key; /* CMD_CACHED: the key being fetched */
  char *cmd;                   /* CMD_CACHED: its encoded command (owned) */
  size_t cmdlen;
  uint64_t epoch;  /* CMD_CACHED: the key's and the cache's epochs at */
  uint64_t gepoch; /* issue (rule 2) */
  unsigned char kind;
  unsigned char flags;
};

/* A cache hit waiting for the next tick (rule 6). */
struct eddy__redis_entry; /* cache.c */
struct redis_hit {
  eddy_redis_reply_cb cb;
  void *arg;
  struct eddy__redis_entry *entry; /* holds a reference */
};

/* A remembered subscription. */
struct redis_sub {
  char *name;
  size_t len;
};

struct redis_subset {
  struct redis_sub *v;
  size_t n, cap;
};

/* Handshake steps, in order. */
enum {
  HS_NONE = 0,
  HS_HELLO,
  HS_AUTH,
  HS_SETNAME,
  HS_SELECT,
  HS_CLIENT_ID,
  HS_TRACKING_WAIT, /* RESP2: waiting for the invalidation connection */
  HS_TRACKING,
  HS_SUBSCRIBE,
  HS_DONE
};

enum { TARGET_NONE = 0, TARGET_TCP, TARGET_UNIX };

#define REDIS_MAX_ADDRS 8

struct eddy__redis_cache; /* cache.c */

struct eddy__redis {
  eddy_redis_t *self;
  eddy_loop_t *loop;
  eddy_redis_options_t opt; /* defaults filled in; strings owned */
  eddy_redis_state state;
  eddy_redis_close_cb close_cb;
  unsigned close_waits; /* handles and requests still to finish */

  /* target */
  int target;
  char *host;
  int port;
  char *path;

  /* the connection */
  union {
    eddy_tcp_t tcp;
    eddy_pipe_t pipe;
  } conn;
  int conn_open;    /* the handle is initialised and not closed yet */
  int conn_closing; /* its close callback is due */
  int connect_due;  /* an attempt waits for the old handle to close */
  eddy_connect_t connect_req;
  eddy_getaddrinfo_t gai;
  int gai_active;
  struct sockaddr_storage addrs[REDIS_MAX_ADDRS];
  int naddrs, addr_next;
  unsigned attempt; /* attempts since the last READY */
  int connected;    /* the socket is connected (handshake or READY) */
  int last_cause;

  eddy_timer_t timer;     /* connect timeout, or the reconnect delay */
  eddy_timer_t cmd_timer; /* command timeouts */
  eddy_prepare_t flush;   /* writes the output once per iteration */

  /* writing */
  struct rbytes out;  /* encoded, not yet written */
  struct rbytes wbuf; /* being written by wreq */
  eddy_write_t wreq;
  int writing;
  struct rbytes hsbuf; /* the handshake command being written */
  eddy_write_t hsreq;
  int hs_writing;

  /* reading */
  struct rbytes in;
  eddy_resp_parser_t parser;
  eddy_resp_node_t *nodes;
  size_t ncap;
  eddy_resp_limits_t limits;

  /* commands: a ring in issue order; the first `sent` are in flight */
  struct redis_cmd *ring;
  size_t rcap, rhead, rcount, rsent;
  uint64_t next_seq;

  /* session (session.c) */
  int protocol; /* 2 or 3 on this connection */
  int hs_step;
  int hs_kind;          /* HS_SUBSCRIBE: the kind being resubscribed */
  size_t hs_expect;     /* HS_SUBSCRIBE: confirmations still due */
  int64_t server_subs;  /* the server's count of our (p)subscriptions */
  int64_t server_ssubs; /* and of our shard subscriptions */
  struct redis_subset subs[3];
  int want_client_id; /* the RESP2 invalidation connection needs its id */
  int64_t client_id;

  /* cache (cache.c); NULL when cache_mode is OFF */
  struct eddy__redis_cache *cache;
  int tracking_on;         /* CLIENT TRACKING acknowledged here */
  unsigned write_inflight; /* rule 4 */
  uint64_t barrier_seq;
  int barrier_on;
  struct redis_hit *hits; /* rule 6 */
  size_t hcap, hhead, hcount;
  int tick_pending;

  /* RESP2: the invalidation connection (REDIRECT) */
  eddy_redis_t *redirect;
  struct eddy__redis *parent; /* set on the redirect client */
  int redirect_ready;
  int64_t redirect_id;
  int redirect_ping;          /* a barrier PING in flight */
  uint64_t redirect_ping_seq; /* the barrier it clears */

  eddy_redis_stats_t stats;
};

static inline struct eddy__redis *eddy__redis_state(const eddy_redis_t *r) {
  return r->priv.s;
}

static inline eddy_stream_t *eddy__redis_stream(struct eddy__redis *s) {
  return s->target == TARGET_UNIX ? &s->conn.pipe.stream : &s->conn.tcp.stream;
}

/* client.c */
int eddy__redis_bytes_reserve(struct rbytes *b, size_t n);
void eddy__redis_bytes_free(struct rbytes *b);
void eddy__redis_bytes_trim(struct rbytes *b, size_t keep);
void eddy__redis_fail_all(struct eddy__redis *s, int status);
void eddy__redis_fail_sent(struct eddy__redis *s, size_t n, int head_status);
int eddy__redis_read_begin(struct eddy__redis *s);
void eddy__redis_event(struct eddy__redis *s, eddy_redis_event_type type,
                       int status);
void eddy__redis_error_event(struct eddy__redis *s, int status,
                             const eddy_resp_node_t *reply);
int eddy__redis_push_cmd(struct eddy__redis *s, int argc,
                         const char *const *argv, const size_t *argvlen,
                         unsigned kind, void *cb, void *arg,
                         struct redis_cmd **out);
int eddy__redis_push_raw(struct eddy__redis *s, const char *bytes, size_t n,
                         unsigned kind, void *cb, void *arg,
                         struct redis_cmd **out);
void eddy__redis_head_reply(struct eddy__redis *s, const eddy_resp_node_t *v);
void eddy__redis_tick_done(struct eddy__redis *s);
int eddy__redis_hs_send(struct eddy__redis *s, int argc,
                        const char *const *argv, const size_t *argvlen);

/* connection.c */
void eddy__redis_ready(struct eddy__redis *s);
void eddy__redis_drop(struct eddy__redis *s, int cause, int detail);
void eddy__redis_kick(struct eddy__redis *s);
int eddy__redis_bytes_append(struct rbytes *b, const char *p, size_t n);
int eddy__redis_node_is(const eddy_resp_node_t *n, const char *lit);

/* session.c */
void eddy__redis_hs_start(struct eddy__redis *s);
void eddy__redis_hs_reply(struct eddy__redis *s, const eddy_resp_node_t *v);
int eddy__redis_is_push(struct eddy__redis *s, const eddy_resp_node_t *v);
void eddy__redis_push(struct eddy__redis *s, const eddy_resp_node_t *v);
int eddy__redis_sub_remember(struct eddy__redis *s, int kind, const char *name,
                             size_t len, int add);
void eddy__redis_subs_free(struct eddy__redis *s);
void eddy__redis_redirect_lost(struct eddy__redis *s);
int eddy__redis_redirect_start(struct eddy__redis *s);
void eddy__redis_redirect_barrier(struct eddy__redis *s);
void eddy__redis_tracking_args(struct eddy__redis *s, const char **argv,
                               size_t *lens, int *argc, char *idbuf);

/* cache.c */
struct eddy__redis_cache *eddy__redis_cache_new(const eddy_redis_options_t *o);
void eddy__redis_cache_free(struct eddy__redis_cache *c);
void eddy__redis_cache_flush(struct eddy__redis *s);
void eddy__redis_cache_invalidate(struct eddy__redis *s, const char *key,
                                  size_t len);
int eddy__redis_cache_try(struct eddy__redis *s, int argc,
                          const char *const *argv, const size_t *argvlen,
                          eddy_redis_reply_cb cb, void *arg);
void eddy__redis_cache_done(struct eddy__redis *s, struct redis_cmd *c,
                            const eddy_resp_node_t *reply);
void eddy__redis_hits_drop(struct eddy__redis *s);
int eddy__redis_cache_usable(struct eddy__redis *s);

#endif /* EDDY_REDIS_INTERNAL_H */
