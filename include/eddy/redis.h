/* eddy/redis.h: a Redis client on the loop, with client-side caching.
 *
 * One eddy_redis_t is one connection to one server (TCP or a Unix socket)
 * that the client keeps up by itself: it connects, says HELLO 3 (with
 * AUTH and SETNAME) and falls back to RESP2 for a server that does not
 * know RESP3, selects the database, turns on tracking for the cache,
 * subscribes again to every channel it had, and reconnects with backoff
 * whenever the connection is lost. The replies are parsed by eddy/resp.h.
 * docs/redis.md explains the rules below at more length.
 *
 * Commands. A command is an argv of binary-safe strings with one callback
 * that runs exactly once: status 0 with the reply (which may be a Redis
 * error reply: eddy_resp_is_error()), or a negative status and no reply:
 *   EDDY_ECONNRESET  the connection was lost with the command in flight
 *                    (it may or may not have run on the server)
 *   EDDY_ETIMEDOUT   no reply within command_timeout_ms
 *   EDDY_EPROTO      the server's reply was malformed
 *   EDDY_EMSGSIZE    the reply was over max_reply_bytes / max_reply_nodes
 *   EDDY_ENOTCONN    the client stopped reconnecting, or
 *                    fail_while_disconnected is set
 *   EDDY_ECANCELED   the client was closed first
 * The reply and everything it points to are valid only during the
 * callback. Callbacks never run inside the call that issued the command.
 *
 * Pipelining. Every command is encoded into the output buffer when it is
 * issued; the buffer is written once per loop iteration (just before the
 * loop waits for I/O), so all the commands issued in one iteration go out
 * in one write. Replies are matched to commands in order.
 *
 * Disconnected. Commands issued while the client is not connected (before
 * the first connection, while reconnecting) wait in the queue, bounded by
 * max_pending, and are sent in order once the connection is ready; with
 * fail_while_disconnected they are refused at once (EDDY_ENOTCONN). When
 * the connection drops, the commands already written fail with
 * EDDY_ECONNRESET (the one whose reply was being read with the cause, see
 * above), exactly once; the commands not yet written stay queued for the
 * next connection. A reply that is malformed or too large drops the
 * connection the same way (and nothing of it is buffered past the limits);
 * the client then reconnects.
 *
 * Pub/sub. eddy_redis_subscribe and eddy_redis_unsubscribe (SUBSCRIBE,
 * PSUBSCRIBE, SSUBSCRIBE); messages come to on_message. The client
 * remembers the channels: after a reconnect it subscribes to all of them
 * again before it reports READY. With RESP3 the same connection still
 * takes other commands; with RESP2 a subscribed connection takes only
 * (un)subscribe and PING (the server's rule). The SUBSCRIBE family,
 * MONITOR, RESET and HELLO cannot be sent through eddy_redis_command
 * (EDDY_EINVAL): they would change the connection behind the client.
 *
 * Client-side caching (cache_mode, Redis's "client-side caching" with
 * CLIENT TRACKING; the default, BCAST with prefixes, or OPTIN).
 * eddy_redis_cached() issues a read command whose key is argv[1] (GET,
 * HGET, HGETALL, LRANGE, SMEMBERS, ...: reads of that one key only) and
 * keeps its reply in a local LRU cache bounded by entries, bytes and age;
 * the server tells the client when a key it read changes, and the entry is
 * dropped. The rules, which together mean the cache never serves a value
 * after the server said it changed or could have said so unheard:
 *   1. The whole cache is dropped when the connection drops (or, with
 *      RESP2, the connection that receives the invalidations), and nothing
 *      is cached until tracking is on again on the new connection.
 *   2. Caching in progress: a read is marked on its key when it is sent;
 *      an invalidation of that key (or a flush) that arrives before its
 *      reply means the reply is delivered but not cached, since it may
 *      predate the change.
 *   3. A null invalidation (FLUSHALL, FLUSHDB) drops the whole cache.
 *   4. Reads follow this client's own writes: while a command that may
 *      write (any command but a known read) is in flight, and after its
 *      reply until the invalidations it caused are known to have arrived
 *      (a later command's reply, or with RESP2 a PING on the invalidation
 *      connection), cached reads go to the server, in order.
 *   5. In BCAST mode only keys under the prefixes are cached (the server
 *      reports no others); in OPTIN mode each cached read is sent after
 *      CLIENT CACHING yes.
 *   6. A hit is delivered from the next tick; an entry invalidated in
 *      between is not delivered but read from the server instead.
 *   7. Error replies are not cached; a hit is a copy, never shared with the
 *      network buffer. No NOLOOP: the client is told of its own writes.
 * Invalidations come on the same connection with RESP3, and with RESP2
 * through a second connection the client makes for them (REDIRECT).
 *
 * Threads: everything here runs on the loop's thread only.
 */
#ifndef EDDY_REDIS_H
#define EDDY_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "export.h"
#include "loop.h"
#include "resp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eddy_redis_s eddy_redis_t;

/* A command's one callback: see "Commands" above. */
typedef void (*eddy_redis_reply_cb)(eddy_redis_t *r, int status,
                                    const eddy_resp_node_t *reply, void *arg);
typedef void (*eddy_redis_close_cb)(eddy_redis_t *r);

/* Where the client is. */
typedef enum eddy_redis_state {
  EDDY_REDIS_IDLE = 0,   /* initialised, no connect asked for yet */
  EDDY_REDIS_CONNECTING, /* resolving, connecting, or in the handshake */
  EDDY_REDIS_READY,      /* commands are being sent */
  EDDY_REDIS_WAITING,    /* disconnected, a reconnect is scheduled */
  EDDY_REDIS_STOPPED,    /* disconnected for good (reconnect off or
                            max attempts reached); eddy_redis_connect
                            starts again */
  EDDY_REDIS_CLOSING     /* eddy_redis_close was called */
} eddy_redis_state;

typedef enum eddy_redis_event_type {
  EDDY_REDIS_EV_CONNECTING = 1, /* an attempt starts: attempt (1, 2...) */
  EDDY_REDIS_EV_READY,          /* handshake done: protocol (2 or 3) */
  EDDY_REDIS_EV_DISCONNECTED,   /* status: why (EDDY_ECONNRESET,
                                   EDDY_ECONNREFUSED, EDDY_ETIMEDOUT,
                                   EDDY_EPROTO, EDDY_EMSGSIZE, EDDY_EACCES,
                                   ...); failed: commands failed by it */
  EDDY_REDIS_EV_RECONNECTING,   /* next attempt number and delay_ms */
  EDDY_REDIS_EV_STOPPED,        /* no more attempts (status: the last
                                   cause) */
  EDDY_REDIS_EV_ERROR           /* a server error in the handshake or when
                                   turning tracking on: status (EDDY_EACCES
                                   for authentication, EDDY_EINVAL for
                                   SELECT, EDDY_EPROTO else) and message */
} eddy_redis_event_type;

typedef struct eddy_redis_event {
  eddy_redis_event_type type;
  int status;          /* an eddy error code, 0 when none */
  int detail;          /* EDDY_RESP_E_* behind EDDY_EPROTO/EDDY_EMSGSIZE */
  unsigned attempt;    /* CONNECTING, RECONNECTING: 1 for the first */
  uint64_t delay_ms;   /* RECONNECTING */
  int protocol;        /* READY: 2 or 3 */
  size_t failed;       /* DISCONNECTED: commands failed */
  const char *message; /* ERROR: the server's text (not NUL-terminated) */
  size_t message_len;
} eddy_redis_event_t;

typedef void (*eddy_redis_event_cb)(eddy_redis_t *r,
                                    const eddy_redis_event_t *ev);

typedef enum eddy_redis_sub_kind {
  EDDY_REDIS_CHANNEL = 0, /* SUBSCRIBE / UNSUBSCRIBE */
  EDDY_REDIS_PATTERN,     /* PSUBSCRIBE / PUNSUBSCRIBE */
  EDDY_REDIS_SHARD        /* SSUBSCRIBE / SUNSUBSCRIBE */
} eddy_redis_sub_kind;

/* A published message: pattern is NULL unless kind is EDDY_REDIS_PATTERN.
 * Nodes are valid during the callback only. */
typedef void (*eddy_redis_message_cb)(eddy_redis_t *r, eddy_redis_sub_kind kind,
                                      const eddy_resp_node_t *pattern,
                                      const eddy_resp_node_t *channel,
                                      const eddy_resp_node_t *payload);
/* Any other out-of-band message (RESP3 push) the client does not handle
 * itself. */
typedef void (*eddy_redis_push_cb)(eddy_redis_t *r,
                                   const eddy_resp_node_t *push);
/* The server invalidated key[0 .. len) (key NULL: everything). Called for
 * every key of every invalidation, cached here or not. */
typedef void (*eddy_redis_invalidate_cb)(eddy_redis_t *r, const char *key,
                                         size_t len);

typedef enum eddy_redis_cache_mode {
  EDDY_REDIS_CACHE_OFF = 0,
  EDDY_REDIS_CACHE_DEFAULT, /* CLIENT TRACKING on: keys read are tracked */
  EDDY_REDIS_CACHE_BCAST,   /* CLIENT TRACKING on BCAST PREFIX ... */
  EDDY_REDIS_CACHE_OPTIN    /* CLIENT TRACKING on OPTIN + CLIENT CACHING yes */
} eddy_redis_cache_mode;

/* Options. A zeroed struct means every default; a 0 in a field means its
 * default. Strings are copied by eddy_redis_init. */
typedef struct eddy_redis_options {
  const char *username;          /* ACL user (NULL: "default" when a password
                                    is set) */
  const char *password;          /* NULL: no AUTH */
  unsigned db;                   /* SELECT db when not 0 */
  const char *client_name;       /* CLIENT SETNAME, NULL: none */
  int protocol;                  /* 3 (default): HELLO 3, RESP2 when the server
                                    refuses; 2: RESP2 only */
  uint64_t connect_timeout_ms;   /* resolve + connect + handshake; 5000 */
  uint64_t command_timeout_ms;   /* from issue to reply; 0: none (the
                                    default, as blocking commands need).
                                    A command in flight that times out
                                    drops the connection. */
  uint64_t reconnect_initial_ms; /* first delay; 100 */
  double reconnect_factor;       /* each next delay = previous * factor; 2 */
  uint64_t reconnect_max_ms;     /* delay cap; 5000 */
  double reconnect_jitter;       /* 0..1: each delay is cut by up to this
                                    fraction at random; 0 (default) */
  unsigned reconnect_max_attempts;   /* attempts after a loss (or for the
                                        first connection) before STOPPED;
                                        0: forever */
  int no_reconnect;                  /* 1: never reconnect (STOPPED at once) */
  int fail_while_disconnected;       /* 1: refuse commands when not READY */
  size_t max_pending;                /* commands queued or in flight; 100000 */
  size_t max_reply_bytes;            /* one reply; 512 MiB (Redis's bulk
                                        limit); at most EDDY_RESP_REPLY_CAP */
  size_t max_reply_nodes;            /* values in one reply; 1048576 */
  eddy_redis_cache_mode cache_mode;  /* EDDY_REDIS_CACHE_OFF */
  const char *const *cache_prefixes; /* BCAST prefixes (none: every key) */
  size_t cache_nprefixes;
  size_t cache_max_entries;  /* 10000 */
  size_t cache_max_bytes;    /* keys + replies + overhead; 64 MiB */
  uint64_t cache_max_age_ms; /* an entry's life; 0: no limit */
  eddy_redis_event_cb on_event;
  eddy_redis_message_cb on_message;
  eddy_redis_push_cb on_push;
  eddy_redis_invalidate_cb on_invalidate;
} eddy_redis_options_t;

/* Counters since eddy_redis_init, and the state now. */
typedef struct eddy_redis_stats {
  uint64_t commands;        /* commands written to the server */
  uint64_t replies;         /* replies read (error replies included) */
  uint64_t error_replies;   /* replies that were Redis errors */
  uint64_t failed;          /* commands failed by the client */
  uint64_t timeouts;        /* of those, by command_timeout_ms */
  uint64_t pushes;          /* out-of-band messages read */
  uint64_t messages;        /* pub/sub messages delivered */
  uint64_t connects;        /* connections that became READY */
  uint64_t reconnects;      /* attempts after a loss */
  uint64_t disconnects;     /* connections lost */
  uint64_t protocol_errors; /* malformed or oversized replies */
  uint64_t bytes_sent;
  uint64_t bytes_received;
  uint64_t cache_hits;
  uint64_t cache_misses;        /* cached reads sent to the server */
  uint64_t cache_invalidations; /* keys invalidated by the server */
  uint64_t cache_evictions;     /* entries dropped for the bounds or age */
  uint64_t cache_flushes;       /* whole-cache drops */
  size_t cache_entries;         /* now */
  size_t cache_bytes;           /* now */
  size_t pending;               /* commands queued or in flight now */
  eddy_redis_state state;
  int protocol; /* 2 or 3 once READY, else 0 */
} eddy_redis_stats_t;

struct eddy__redis; /* the client's state, allocated by eddy_redis_init */

/* The handle. `data` is yours; `loop` is read only. */
struct eddy_redis_s {
  void *data;
  eddy_loop_t *loop;
  struct {
    struct eddy__redis *s;
  } priv;
};

/* Zeroes *opts: every option at its default. */
EDDY_EXTERN void eddy_redis_options_init(eddy_redis_options_t *opts);

/* Initialise a client (no connection yet). opts may be NULL (defaults);
 * it is copied, strings included. The caller owns r, which must stay valid
 * until the close callback. Returns 0, EDDY_EINVAL (a bad option: protocol
 * not 2/3, a cache mode or jitter out of range, max_reply_bytes over
 * EDDY_RESP_REPLY_CAP) or EDDY_ENOMEM. On error nothing needs closing. */
EDDY_EXTERN int eddy_redis_init(eddy_loop_t *loop, eddy_redis_t *r,
                                const eddy_redis_options_t *opts);

/* Start connecting to host:port (an IPv4/IPv6 literal or a name, resolved
 * on the work pool at each attempt; every address is tried in turn), or to
 * the Unix socket at path. The client keeps the target and reconnects to
 * it. Progress comes to on_event. Returns 0, EDDY_EINVAL (host NULL, port
 * out of 1..65535, path NULL or too long, closing), EDDY_EISCONN (already
 * connecting or connected; allowed again once STOPPED) or EDDY_ENOMEM. */
EDDY_EXTERN int eddy_redis_connect(eddy_redis_t *r, const char *host, int port);
EDDY_EXTERN int eddy_redis_connect_unix(eddy_redis_t *r, const char *path);

/* Issue a command (argc >= 1 strings; argvlen NULL: NUL-terminated).
 * argv is copied (encoded) at once. cb may be NULL (the reply is dropped).
 * Returns 0 (cb will run once), or, and then cb never runs:
 * EDDY_EINVAL (argc < 1, a command the client refuses: see "Pub/sub"),
 * EDDY_ENOBUFS (max_pending reached), EDDY_ENOTCONN (STOPPED, or not READY
 * with fail_while_disconnected), EDDY_ECANCELED (closing), EDDY_ENOMEM. */
EDDY_EXTERN int eddy_redis_command(eddy_redis_t *r, int argc,
                                   const char *const *argv,
                                   const size_t *argvlen,
                                   eddy_redis_reply_cb cb, void *arg);

/* eddy_redis_command with NUL-terminated strings given as arguments, the
 * last one NULL: eddy_redis_cmd(r, cb, arg, "SET", "k", "v", NULL). At
 * most 64 strings. Same returns. */
EDDY_EXTERN int eddy_redis_cmd(eddy_redis_t *r, eddy_redis_reply_cb cb,
                               void *arg, ...);

/* A read of the single key argv[1] through the cache (see the rules
 * above): from the cache when it holds the reply, else from the server,
 * keeping the reply. Without a cache (cache_mode OFF, or tracking not on
 * yet) it is a plain command. argc >= 2. Same returns as
 * eddy_redis_command. */
EDDY_EXTERN int eddy_redis_cached(eddy_redis_t *r, int argc,
                                  const char *const *argv,
                                  const size_t *argvlen, eddy_redis_reply_cb cb,
                                  void *arg);

/* Subscribe to (or unsubscribe from) one channel, pattern or shard
 * channel. The client remembers it at once (subscribed again after each
 * reconnect, until unsubscribed); cb (may be NULL) gets the server's
 * confirmation, or an error status as any command. Messages come to
 * on_message. Returns as eddy_redis_command; EDDY_EINVAL for a bad kind. */
EDDY_EXTERN int eddy_redis_subscribe(eddy_redis_t *r, eddy_redis_sub_kind kind,
                                     const char *name, size_t len,
                                     eddy_redis_reply_cb cb, void *arg);
EDDY_EXTERN int eddy_redis_unsubscribe(eddy_redis_t *r,
                                       eddy_redis_sub_kind kind,
                                       const char *name, size_t len,
                                       eddy_redis_reply_cb cb, void *arg);

/* Drop every cache entry now (counted as a flush). Returns 0. */
EDDY_EXTERN int eddy_redis_cache_flush(eddy_redis_t *r);

/* Copy the counters and the state into *out. */
EDDY_EXTERN void eddy_redis_get_stats(const eddy_redis_t *r,
                                      eddy_redis_stats_t *out);

/* The state now. */
EDDY_EXTERN eddy_redis_state eddy_redis_get_state(const eddy_redis_t *r);

/* Close the client: the connection and every internal handle close, each
 * command still waiting gets EDDY_ECANCELED, then cb (may be NULL) runs,
 * after which r's memory may be reused. Safe inside any of the client's
 * callbacks. Returns 0, or EDDY_EINVAL if already closing. */
EDDY_EXTERN int eddy_redis_close(eddy_redis_t *r, eddy_redis_close_cb cb);

/* A static name for a state or an event type ("ready", "reconnecting"). */
EDDY_EXTERN const char *eddy_redis_state_name(eddy_redis_state state);
EDDY_EXTERN const char *eddy_redis_event_name(eddy_redis_event_type type);

#ifdef __cplusplus
}
#endif

#endif /* EDDY_REDIS_H */
