/* The Redis client's session: the handshake after each connect (HELLO or
 * AUTH, SETNAME, SELECT, CLIENT ID, CLIENT TRACKING, the subscriptions
 * again), out-of-band messages (pub/sub, invalidations, confirmations),
 * the remembered subscriptions, and with RESP2 the second connection that
 * receives the invalidations (CLIENT TRACKING ... REDIRECT).
 *
 * The handshake sends one command at a time and reads its reply before
 * the next: it runs once per connection, and one reply at a time keeps
 * every failure (a wrong password, an unknown HELLO) simple to act on.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "redis_internal.h"

#define INVALIDATE_CHANNEL "__redis__:invalidate"

static const char *const sub_cmds[3] = {"SUBSCRIBE", "PSUBSCRIBE",
                                        "SSUBSCRIBE"};
static const char *const unsub_cmds[3] = {"UNSUBSCRIBE", "PUNSUBSCRIBE",
                                          "SUNSUBSCRIBE"};

/* ---- remembered subscriptions -------------------------------------------- */

static ssize_t sub_find(const struct redis_subset *set, const char *name,
                        size_t len) {
  size_t i;

  for (i = 0; i < set->n; i++)
    if (set->v[i].len == len && memcmp(set->v[i].name, name, len) == 0)
      return (ssize_t)i;
  return -1;
}

/* Adds (add 1) or removes a name; returns 0 or EDDY_ENOMEM. */
int eddy__redis_sub_remember(struct eddy__redis *s, int kind, const char *name,
                             size_t len, int add) {
  struct redis_subset *set = &s->subs[kind];
  ssize_t at = sub_find(set, name, len);
  char *copy;

  if (!add) {
    if (at >= 0) {
      free(set->v[at].name);
      set->v[at] = set->v[--set->n];
    }
    return 0;
  }
  if (at >= 0)
    return 0;
  if (set->n == set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 8;
    struct redis_sub *v = realloc(set->v, cap * sizeof(*v));
    if (v == NULL)
      return EDDY_ENOMEM;
    set->v = v;
    set->cap = cap;
  }
  copy = malloc(len ? len : 1);
  if (copy == NULL)
    return EDDY_ENOMEM;
  memcpy(copy, name, len);
  set->v[set->n].name = copy;
  set->v[set->n].len = len;
  set->n++;
  return 0;
}

void eddy__redis_subs_free(struct eddy__redis *s) {
  size_t k, i;

  for (k = 0; k < 3; k++) {
    for (i = 0; i < s->subs[k].n; i++)
      free(s->subs[k].v[i].name);
    free(s->subs[k].v);
    memset(&s->subs[k], 0, sizeof(s->subs[k]));
  }
}

static int sub_call(eddy_redis_t *r, eddy_redis_sub_kind kind, const char *name,
                    size_t len, eddy_redis_reply_cb cb, void *arg, int add) {
  struct eddy__redis *s;
  const char *argv[2];
  size_t lens[2];
  int err;

  if (r == NULL || r->priv.s == NULL || (name == NULL && len > 0) ||
      kind < EDDY_REDIS_CHANNEL || kind > EDDY_REDIS_SHARD)
    return EDDY_EINVAL;
  s = r->priv.s;
  if (s->state == EDDY_REDIS_CLOSING)
    return EDDY_ECANCELED;
  argv[0] = add ? sub_cmds[kind] : unsub_cmds[kind];
  lens[0] = strlen(argv[0]);
  argv[1] = name != NULL ? name : "";
  lens[1] = len;
  err = eddy__redis_push_cmd(s, 2, argv, lens, CMD_SUB, (void *)cb, arg, NULL);
  if (err == 0)
    err = eddy__redis_sub_remember(s, kind, argv[1], len, add);
  return err;
}

/* Public: see the header. */
int eddy_redis_subscribe(eddy_redis_t *r, eddy_redis_sub_kind kind,
                         const char *name, size_t len, eddy_redis_reply_cb cb,
                         void *arg) {
  return sub_call(r, kind, name, len, cb, arg, 1);
}

/* Public: see the header. */
int eddy_redis_unsubscribe(eddy_redis_t *r, eddy_redis_sub_kind kind,
                           const char *name, size_t len, eddy_redis_reply_cb cb,
                           void *arg) {
  return sub_call(r, kind, name, len, cb, arg, 0);
}

/* ---- the handshake ------------------------------------------------------- */

/* Sends one handshake command; a failure to send drops the connection. */
static int hs_send(struct eddy__redis *s, int argc, const char *const *argv) {
  int err = eddy__redis_hs_send(s, argc, argv, NULL);

  if (err != 0)
    eddy__redis_drop(s, err, 0);
  return err;
}

/* CLIENT TRACKING on [REDIRECT id] [BCAST PREFIX p ...] [OPTIN] into
 * argv/lens (room for 6 + 2 * prefixes); idbuf holds the id's text. */
void eddy__redis_tracking_args(struct eddy__redis *s, const char **argv,
                               size_t *lens, int *argc, char *idbuf) {
  int n = 0;
  size_t i;

  argv[n++] = "CLIENT";
  argv[n++] = "TRACKING";
  argv[n++] = "on";
  if (s->redirect != NULL) {
    snprintf(idbuf, 24, "%lld", (long long)s->redirect_id);
    argv[n++] = "REDIRECT";
    argv[n++] = idbuf;
  }
  if (s->opt.cache_mode == EDDY_REDIS_CACHE_BCAST) {
    argv[n++] = "BCAST";
    for (i = 0; i < s->opt.cache_nprefixes; i++) {
      argv[n++] = "PREFIX";
      argv[n++] = s->opt.cache_prefixes[i];
    }
  } else if (s->opt.cache_mode == EDDY_REDIS_CACHE_OPTIN) {
    argv[n++] = "OPTIN";
  }
  for (i = 0; i < (size_t)n; i++)
    lens[i] = strlen(argv[i]);
  *argc = n;
}

/* Sends the tracking command (tracking argv may be long: BCAST prefixes). */
static void hs_tracking(struct eddy__redis *s) {
  size_t n = 8 + 2 * s->opt.cache_nprefixes;
  const char **argv = malloc(n * sizeof(*argv));
  size_t *lens = malloc(n * sizeof(*lens));
  char idbuf[24];
  int argc, err = EDDY_ENOMEM;

  if (argv != NULL && lens != NULL) {
    eddy__redis_tracking_args(s, argv, lens, &argc, idbuf);
    err = eddy__redis_hs_send(s, argc, argv, lens);
  }
  free(argv);
  free(lens);
  if (err != 0)
    eddy__redis_drop(s, err, 0);
}

/* Sends (P|S)SUBSCRIBE with every remembered name of kind k. */
static void hs_subscribe(struct eddy__redis *s, int k) {
  struct redis_subset *set = &s->subs[k];
  const char **argv = malloc((set->n + 1) * sizeof(*argv));
  size_t *lens = malloc((set->n + 1) * sizeof(*lens)), i;
  int err = EDDY_ENOMEM;

  if (argv != NULL && lens != NULL) {
    argv[0] = sub_cmds[k];
    lens[0] = strlen(argv[0]);
    for (i = 0; i < set->n; i++) {
      argv[i + 1] = set->v[i].name;
      lens[i + 1] = set->v[i].len;
    }
    s->hs_kind = k;
    s->hs_expect = set->n;
    err = eddy__redis_hs_send(s, (int)set->n + 1, argv, lens);
  }
  free(argv);
  free(lens);
  if (err != 0)
    eddy__redis_drop(s, err, 0);
}

/* Moves to the next step that applies and sends its command; READY after
 * the last. */
static void hs_next(struct eddy__redis *s) {
  const char *argv[8];
  char num[24];
  int k;

  for (;;) {
    s->hs_step++;
    switch (s->hs_step) {
    case HS_HELLO:
      if (s->opt.protocol != 3) {
        s->protocol = 2;
        continue;
      }
      argv[0] = "HELLO";
      argv[1] = "3";
      k = 2;
      if (s->opt.password != NULL) {
        argv[k++] = "AUTH";
        argv[k++] = s->opt.username ? s->opt.username : "default";
        argv[k++] = s->opt.password;
      }
      if (s->opt.client_name != NULL) {
        argv[k++] = "SETNAME";
        argv[k++] = s->opt.client_name;
      }
      hs_send(s, k, argv);
      return;
    case HS_AUTH:
      if (s->protocol != 2 || s->opt.password == NULL)
        continue;
      argv[0] = "AUTH";
      k = 1;
      if (s->opt.username != NULL)
        argv[k++] = s->opt.username;
      argv[k++] = s->opt.password;
      hs_send(s, k, argv);
      return;
    case HS_SETNAME:
      if (s->protocol != 2 || s->opt.client_name == NULL)
        continue;
      argv[0] = "CLIENT";
      argv[1] = "SETNAME";
      argv[2] = s->opt.client_name;
      hs_send(s, 3, argv);
      return;
    case HS_SELECT:
      if (s->opt.db == 0)
        continue;
      snprintf(num, sizeof(num), "%u", s->opt.db);
      argv[0] = "SELECT";
      argv[1] = num;
      hs_send(s, 2, argv);
      return;
    case HS_CLIENT_ID:
      if (!s->want_client_id)
        continue;
      argv[0] = "CLIENT";
      argv[1] = "ID";
      hs_send(s, 2, argv);
      return;
    case HS_TRACKING_WAIT:
      if (s->cache == NULL || s->protocol == 3)
        continue;
      if (s->redirect == NULL && eddy__redis_redirect_start(s) != 0) {
        eddy__redis_drop(s, EDDY_ENOMEM, 0);
        return;
      }
      if (!s->redirect_ready)
        return; /* redirect_on_event resumes here */
      continue;
    case HS_TRACKING:
      if (s->cache == NULL)
        continue;
      hs_tracking(s);
      return;
    case HS_SUBSCRIBE:
      for (k = s->hs_kind; k < 3; k++)
        if (s->subs[k].n > 0) {
          hs_subscribe(s, k);
          return;
        }
      continue;
    default:
      eddy__redis_ready(s);
      return;
    }
  }
}

void eddy__redis_hs_start(struct eddy__redis *s) {
  s->hs_step = HS_NONE;
  s->hs_kind = 0;
  s->hs_expect = 0;
  s->protocol = s->opt.protocol == 2 ? 2 : 3;
  hs_next(s);
}

/* An error reply that means "no such command / protocol": fall back. */
static int is_no_hello(const eddy_resp_node_t *v) {
  return v->len >= 7 && (strncmp(v->str, "NOPROTO", 7) == 0 ||
                         (v->len >= 15 && memmem(v->str, v->len,
                                                 "unknown "
                                                 "command",
                                                 15) != NULL));
}

/* A reply to the handshake command in flight. */
void eddy__redis_hs_reply(struct eddy__redis *s, const eddy_resp_node_t *v) {
  int err = eddy_resp_is_error(v);

  switch (s->hs_step) {
  case HS_HELLO:
    if (err && is_no_hello(v)) {
      s->protocol = 2; /* an old server: RESP2, AUTH on its own */
      break;
    }
    if (err) {
      eddy__redis_error_event(s, EDDY_EACCES, v);
      eddy__redis_drop(s, EDDY_EACCES, 0);
      return;
    }
    s->protocol = 3;
    break;
  case HS_AUTH:
    if (err) {
      eddy__redis_error_event(s, EDDY_EACCES, v);
      eddy__redis_drop(s, EDDY_EACCES, 0);
      return;
    }
    break;
  case HS_SELECT:
    if (err) {
      eddy__redis_error_event(s, EDDY_EINVAL, v);
      eddy__redis_drop(s, EDDY_EINVAL, 0);
      return;
    }
    break;
  case HS_CLIENT_ID:
    if (v->type == EDDY_RESP_INTEGER)
      s->client_id = v->integer;
    break;
  case HS_TRACKING:
    s->tracking_on = !err;
    s->barrier_on = 0;
    if (err)
      eddy__redis_error_event(s, EDDY_EPROTO, v);
    break;
  case HS_SUBSCRIBE:
    if (err) { /* no confirmations will come for this kind */
      eddy__redis_error_event(s, EDDY_EPROTO, v);
      s->hs_expect = 0;
      s->hs_kind++;
      s->hs_step--; /* hs_next comes back to HS_SUBSCRIBE */
      break;
    }
    return; /* confirmations are pushes */
  default:
    if (err)
      eddy__redis_error_event(s, EDDY_EPROTO, v);
    break;
  }
  if (s->state == EDDY_REDIS_CONNECTING)
    hs_next(s);
}

/* ---- out-of-band messages ------------------------------------------------ */

static const char *const confirm_words[6] = {"subscribe",    "psubscribe",
                                             "ssubscribe",   "unsubscribe",
                                             "punsubscribe", "sunsubscribe"};

static int confirm_kind(const eddy_resp_node_t *w) {
  int i;

  for (i = 0; i < 6; i++)
    if (eddy__redis_node_is(w, confirm_words[i]))
      return i;
  return -1;
}

static int is_message_word(const eddy_resp_node_t *w) {
  return eddy__redis_node_is(w, "message") ||
         eddy__redis_node_is(w, "pmessage") ||
         eddy__redis_node_is(w, "smessage");
}

/* True if v is out of band: a RESP3 push, or with RESP2 a pub/sub array
 * on a subscribed connection. */
int eddy__redis_is_push(struct eddy__redis *s, const eddy_resp_node_t *v) {
  const eddy_resp_node_t *w;

  if (v->type == EDDY_RESP_PUSH)
    return 1;
  if (s->protocol == 3 || v->type != EDDY_RESP_ARRAY || v->len < 3)
    return 0;
  w = eddy_resp_element(v, 0);
  if (w->type != EDDY_RESP_BULK)
    return 0;
  if (s->server_subs + s->server_ssubs > 0 && is_message_word(w))
    return 1;
  if (confirm_kind(w) < 0)
    return 0;
  /* a confirmation is expected by the handshake or by the head record */
  return s->hs_step == HS_SUBSCRIBE || s->server_subs + s->server_ssubs > 0 ||
         (s->rsent > 0 && s->ring[s->rhead].kind == CMD_SUB);
}

/* The keys of an invalidation payload (an array, or null for all). */
static void invalidate_payload(struct eddy__redis *s,
                               const eddy_resp_node_t *keys) {
  size_t i;

  if (keys == NULL)
    return;
  if (keys->type == EDDY_RESP_NULL) {
    eddy__redis_cache_invalidate(s, NULL, 0);
    return;
  }
  if (keys->type != EDDY_RESP_ARRAY && keys->type != EDDY_RESP_SET)
    return;
  for (i = 0; i < keys->len; i++) {
    const eddy_resp_node_t *k = eddy_resp_element(keys, i);
    if (k != NULL && k->str != NULL)
      eddy__redis_cache_invalidate(s, k->str, k->len);
  }
}

static void on_message(struct eddy__redis *s, const eddy_resp_node_t *v,
                       const eddy_resp_node_t *w) {
  eddy_redis_sub_kind kind = EDDY_REDIS_CHANNEL;
  const eddy_resp_node_t *pat = NULL, *ch, *payload;

  if (eddy__redis_node_is(w, "pmessage")) {
    if (v->len < 4)
      return;
    kind = EDDY_REDIS_PATTERN;
    pat = eddy_resp_element(v, 1);
    ch = eddy_resp_element(v, 2);
    payload = eddy_resp_element(v, 3);
  } else {
    if (eddy__redis_node_is(w, "smessage"))
      kind = EDDY_REDIS_SHARD;
    ch = eddy_resp_element(v, 1);
    payload = eddy_resp_element(v, 2);
  }
  /* The RESP2 invalidation connection hands its messages to its parent. */
  if (s->parent != NULL && kind == EDDY_REDIS_CHANNEL &&
      eddy__redis_node_is(ch, INVALIDATE_CHANNEL)) {
    invalidate_payload(s->parent, payload);
    return;
  }
  s->stats.messages++;
  if (s->opt.on_message != NULL)
    s->opt.on_message(s->self, kind, pat, ch, payload);
}

/* A (un)subscribe confirmation: for the handshake, the head record, or
 * nobody (then it goes to on_push). */
static void on_confirm(struct eddy__redis *s, const eddy_resp_node_t *v,
                       int ck) {
  const eddy_resp_node_t *count = eddy_resp_element(v, 2);

  if (count != NULL && count->type == EDDY_RESP_INTEGER) {
    if (ck % 3 == 2)
      s->server_ssubs = count->integer;
    else
      s->server_subs = count->integer;
  }
  if (s->state == EDDY_REDIS_CONNECTING && s->hs_step == HS_SUBSCRIBE) {
    if (s->hs_expect > 0 && --s->hs_expect == 0) {
      s->hs_kind++;
      s->hs_step--; /* hs_next comes back to HS_SUBSCRIBE for the rest */
      hs_next(s);
    }
    return;
  }
  if (s->rsent > 0 && s->ring[s->rhead].kind == CMD_SUB) {
    eddy__redis_head_reply(s, v);
    return;
  }
  if (s->opt.on_push != NULL)
    s->opt.on_push(s->self, v);
}

/* Routes an out-of-band message. */
void eddy__redis_push(struct eddy__redis *s, const eddy_resp_node_t *v) {
  const eddy_resp_node_t *w = eddy_resp_element(v, 0);
  int ck;

  if (w == NULL || w->str == NULL) {
    if (s->opt.on_push != NULL)
      s->opt.on_push(s->self, v);
    return;
  }
  if (eddy__redis_node_is(w, "invalidate")) {
    invalidate_payload(s, eddy_resp_element(v, 1));
    return;
  }
  if (is_message_word(w) && v->len >= 3) {
    on_message(s, v, w);
    return;
  }
  if ((ck = confirm_kind(w)) >= 0) {
    on_confirm(s, v, ck);
    return;
  }
  if (s->opt.on_push != NULL)
    s->opt.on_push(s->self, v);
}

/* ---- RESP2: the invalidation connection ---------------------------------- */

static void on_tracking_reply(struct eddy__redis *s, int status,
                              const eddy_resp_node_t *reply, void *arg) {
  (void)arg;
  if (status == 0 && !eddy_resp_is_error(reply) && s->redirect_ready) {
    s->tracking_on = 1;
    s->barrier_on = 0;
  } else if (status == 0) {
    eddy__redis_error_event(s, EDDY_EPROTO, reply);
  }
}

/* Turns tracking on again on a READY connection, to the new redirect id. */
static void tracking_again(struct eddy__redis *s) {
  size_t n = 8 + 2 * s->opt.cache_nprefixes;
  const char **argv = malloc(n * sizeof(*argv));
  size_t *lens = malloc(n * sizeof(*lens));
  const char *off[3] = {"CLIENT", "TRACKING", "off"};
  char idbuf[24];
  int argc;

  if (argv != NULL && lens != NULL &&
      eddy__redis_push_cmd(s, 3, off, NULL, CMD_INTERNAL, NULL, NULL, NULL) ==
          0) {
    eddy__redis_tracking_args(s, argv, lens, &argc, idbuf);
    eddy__redis_push_cmd(s, argc, argv, lens, CMD_INTERNAL,
                         (void *)on_tracking_reply, NULL, NULL);
  }
  free(argv);
  free(lens);
}

static void redirect_on_event(eddy_redis_t *r, const eddy_redis_event_t *ev) {
  struct eddy__redis *s = r->data;

  if (s->state == EDDY_REDIS_CLOSING)
    return;
  if (ev->type == EDDY_REDIS_EV_READY) {
    s->redirect_ready = 1;
    s->redirect_id = r->priv.s->client_id;
    if (s->state == EDDY_REDIS_CONNECTING && s->hs_step == HS_TRACKING_WAIT)
      hs_next(s);
    else if (s->state == EDDY_REDIS_READY)
      tracking_again(s);
  } else if (ev->type == EDDY_REDIS_EV_DISCONNECTED) {
    eddy__redis_redirect_lost(s);
  }
}

/* The invalidation connection is gone: nothing cached can be trusted. */
void eddy__redis_redirect_lost(struct eddy__redis *s) {
  s->redirect_ready = 0;
  s->tracking_on = 0;
  s->redirect_ping = 0;
  if (s->cache != NULL)
    eddy__redis_cache_flush(s);
}

/* Creates and connects the RESP2 invalidation connection. */
int eddy__redis_redirect_start(struct eddy__redis *s) {
  eddy_redis_options_t o;
  eddy_redis_t *r;
  int err;

  memset(&o, 0, sizeof(o));
  o.username = s->opt.username;
  o.password = s->opt.password;
  o.protocol = 2;
  o.connect_timeout_ms = s->opt.connect_timeout_ms;
  o.reconnect_initial_ms = s->opt.reconnect_initial_ms;
  o.reconnect_factor = s->opt.reconnect_factor;
  o.reconnect_max_ms = s->opt.reconnect_max_ms;
  o.on_event = redirect_on_event;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return EDDY_ENOMEM;
  if ((err = eddy_redis_init(s->loop, r, &o)) != 0) {
    free(r);
    return err;
  }
  r->data = s;
  r->priv.s->parent = s;
  r->priv.s->want_client_id = 1;
  s->redirect = r;
  err = eddy_redis_subscribe(r, EDDY_REDIS_CHANNEL, INVALIDATE_CHANNEL,
                             strlen(INVALIDATE_CHANNEL), NULL, NULL);
  if (err == 0)
    err = s->target == TARGET_UNIX ? eddy_redis_connect_unix(r, s->path)
                                   : eddy_redis_connect(r, s->host, s->port);
  return err;
}

static void on_barrier_pong(eddy_redis_t *r, int status,
                            const eddy_resp_node_t *reply, void *arg) {
  struct eddy__redis *s = r->data;

  (void)reply;
  (void)arg;
  if (s->state == EDDY_REDIS_CLOSING)
    return;
  s->redirect_ping = 0;
  if (status != 0)
    return; /* the connection was lost: redirect_lost flushed the cache */
  if (s->barrier_seq == s->redirect_ping_seq)
    s->barrier_on = 0;
  else if (s->barrier_on)
    eddy__redis_redirect_barrier(s); /* a newer write since: once more */
}

/* Rule 4 with RESP2: a PING on the invalidation connection, sent after a
 * write's reply, returns after every invalidation the write caused. */
void eddy__redis_redirect_barrier(struct eddy__redis *s) {
  if (s->redirect == NULL || !s->redirect_ready || s->redirect_ping)
    return;
  s->redirect_ping_seq = s->barrier_seq;
  if (eddy_redis_cmd(s->redirect, on_barrier_pong, NULL, "PING", NULL) == 0)
    s->redirect_ping = 1;
}
