/* The Redis client's local cache (the rules are in eddy/redis.h).
 *
 * Keys sit in a chained hash table; each key holds the cached replies of
 * the read commands made on it (usually one: GET) and the count of reads
 * of it in flight. Every key has an epoch, raised by each invalidation of
 * it, and the cache has one, raised by each flush: a read records both
 * when it is sent and fills the cache with its reply only if neither
 * moved (rule 2, "caching in progress"). Entries are on an LRU list
 * bounded by entries and bytes, and may expire. An entry is one block:
 * the entry, its command, its key, the reply's nodes and their strings;
 * hits waiting for their tick hold a reference, so an invalidated entry
 * is freed only when the last one let go of it.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "eddy/tick.h"
#include "redis_internal.h"

struct eddy__redis_key {
  struct eddy__redis_key *next; /* hash chain */
  uint64_t hash;
  uint64_t epoch;
  unsigned pending;                  /* reads in flight */
  struct eddy__redis_entry *entries; /* cached replies of this key */
  size_t len;
  char name[]; /* the key, len bytes */
};

struct eddy__redis_entry {
  struct eddy__redis_key *key; /* NULL once dropped */
  struct eddy__redis_entry *knext;
  struct eddy__redis_entry *prev, *next; /* LRU: head is the newest */
  uint64_t expires_ms;                   /* 0: never */
  size_t bytes;
  unsigned refs;
  const char *cmd; /* the encoded command */
  size_t cmdlen;
  const char *keyname; /* a copy of the key (for a read again) */
  size_t keylen;
  eddy_resp_node_t *nodes;
};

struct eddy__redis_cache {
  struct eddy__redis_key **buckets;
  size_t nbuckets, nkeys;
  struct eddy__redis_entry lru; /* sentinel */
  size_t entries, bytes;
  uint64_t gepoch;
  struct rbytes scratch; /* encodes the command of a lookup */
};

static uint64_t hash_bytes(const char *p, size_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  size_t i;

  for (i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 0x100000001b3ull;
  }
  return h ^ (h >> 29);
}

struct eddy__redis_cache *eddy__redis_cache_new(const eddy_redis_options_t *o) {
  struct eddy__redis_cache *c = calloc(1, sizeof(*c));

  (void)o;
  if (c == NULL)
    return NULL;
  c->nbuckets = 64;
  c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
  if (c->buckets == NULL) {
    free(c);
    return NULL;
  }
  c->lru.prev = c->lru.next = &c->lru;
  return c;
}

/* ---- keys ---------------------------------------------------------------- */

static struct eddy__redis_key *key_find(struct eddy__redis_cache *c,
                                        const char *name, size_t len,
                                        uint64_t h) {
  struct eddy__redis_key *k = c->buckets[h & (c->nbuckets - 1)];

  for (; k != NULL; k = k->next)
    if (k->hash == h && k->len == len && memcmp(k->name, name, len) == 0)
      return k;
  return NULL;
}

static void table_grow(struct eddy__redis_cache *c) {
  size_t n = c->nbuckets * 2, i;
  struct eddy__redis_key **b = calloc(n, sizeof(*b));

  if (b == NULL)
    return; /* longer chains, still correct */
  for (i = 0; i < c->nbuckets; i++) {
    struct eddy__redis_key *k = c->buckets[i], *next;
    for (; k != NULL; k = next) {
      next = k->next;
      k->next = b[k->hash & (n - 1)];
      b[k->hash & (n - 1)] = k;
    }
  }
  free(c->buckets);
  c->buckets = b;
  c->nbuckets = n;
}

static struct eddy__redis_key *key_get(struct eddy__redis_cache *c,
                                       const char *name, size_t len) {
  uint64_t h = hash_bytes(name, len);
  struct eddy__redis_key *k = key_find(c, name, len, h), **slot;

  if (k != NULL)
    return k;
  k = malloc(sizeof(*k) + len);
  if (k == NULL)
    return NULL;
  memset(k, 0, sizeof(*k));
  k->hash = h;
  k->len = len;
  memcpy(k->name, name, len);
  slot = &c->buckets[h & (c->nbuckets - 1)];
  k->next = *slot;
  *slot = k;
  if (++c->nkeys > c->nbuckets)
    table_grow(c);
  return k;
}

/* Frees a key that holds nothing and waits for nothing. */
static void key_release(struct eddy__redis_cache *c,
                        struct eddy__redis_key *k) {
  struct eddy__redis_key **p;

  if (k->pending > 0 || k->entries != NULL)
    return;
  for (p = &c->buckets[k->hash & (c->nbuckets - 1)]; *p != k; p = &(*p)->next)
    assert(*p != NULL);
  *p = k->next;
  c->nkeys--;
  free(k);
}

/* ---- entries ------------------------------------------------------------- */

static void entry_unref(struct eddy__redis_entry *e) {
  assert(e->refs > 0);
  if (--e->refs == 0)
    free(e);
}

/* Takes e out of the cache (its memory lives while hits hold it). */
static void entry_drop(struct eddy__redis *s, struct eddy__redis_entry *e) {
  struct eddy__redis_cache *c = s->cache;
  struct eddy__redis_key *k = e->key;
  struct eddy__redis_entry **p;

  assert(k != NULL);
  for (p = &k->entries; *p != e; p = &(*p)->knext)
    assert(*p != NULL);
  *p = e->knext;
  e->prev->next = e->next;
  e->next->prev = e->prev;
  e->key = NULL;
  c->entries--;
  c->bytes -= e->bytes;
  s->stats.cache_entries = c->entries;
  s->stats.cache_bytes = c->bytes;
  entry_unref(e);
}

static void key_drop_entries(struct eddy__redis *s, struct eddy__redis_key *k) {
  while (k->entries != NULL)
    entry_drop(s, k->entries);
}

/* Bytes of the strings of nodes[0 .. n). */
static size_t strings_size(const eddy_resp_node_t *nodes, size_t n) {
  size_t i, total = 0;

  for (i = 0; i < n; i++)
    if (nodes[i].str != NULL)
      total += nodes[i].len;
  return total;
}

/* Stores a copy of reply (and its subtree) for command cmd on key k. */
static void entry_store(struct eddy__redis *s, struct eddy__redis_key *k,
                        const char *cmd, size_t cmdlen,
                        const eddy_resp_node_t *reply) {
  struct eddy__redis_cache *c = s->cache;
  size_t n = reply->size, strs = strings_size(reply, n), i, bytes;
  struct eddy__redis_entry *e, *old;
  char *p;

  bytes = sizeof(*e) + n * sizeof(eddy_resp_node_t) + cmdlen + k->len + strs +
          sizeof(*k);
  if (bytes > s->opt.cache_max_bytes)
    return;
  for (old = k->entries; old != NULL; old = old->knext)
    if (old->cmdlen == cmdlen && memcmp(old->cmd, cmd, cmdlen) == 0) {
      entry_drop(s, old); /* a newer reply replaces it */
      break;
    }
  e = malloc(bytes);
  if (e == NULL)
    return;
  memset(e, 0, sizeof(*e));
  e->nodes = (eddy_resp_node_t *)(e + 1);
  memcpy(e->nodes, reply, n * sizeof(eddy_resp_node_t));
  p = (char *)(e->nodes + n);
  memcpy(p, cmd, cmdlen);
  e->cmd = p;
  e->cmdlen = cmdlen;
  p += cmdlen;
  memcpy(p, k->name, k->len);
  e->keyname = p;
  e->keylen = k->len;
  p += k->len;
  for (i = 0; i < n; i++)
    if (e->nodes[i].str != NULL) {
      memcpy(p, e->nodes[i].str, e->nodes[i].len);
      e->nodes[i].str = p;
      p += e->nodes[i].len;
    }
  e->bytes = bytes;
  e->refs = 1; /* the cache's */
  e->key = k;
  e->knext = k->entries;
  k->entries = e;
  e->next = c->lru.next;
  e->prev = &c->lru;
  c->lru.next->prev = e;
  c->lru.next = e;
  if (s->opt.cache_max_age_ms != 0)
    e->expires_ms = eddy_now(s->loop) + s->opt.cache_max_age_ms;
  c->entries++;
  c->bytes += bytes;
  /* the bounds: drop the least recently used */
  while ((c->entries > s->opt.cache_max_entries ||
          c->bytes > s->opt.cache_max_bytes) &&
         c->lru.prev != e) {
    struct eddy__redis_entry *victim = c->lru.prev;
    struct eddy__redis_key *vk = victim->key;
    entry_drop(s, victim);
    key_release(c, vk);
    s->stats.cache_evictions++;
  }
  s->stats.cache_entries = c->entries;
  s->stats.cache_bytes = c->bytes;
}

/* ---- invalidation and flushes ---------------------------------------------
 */

/* Drops everything (rules 1 and 3); reads in flight will not fill. */
void eddy__redis_cache_flush(struct eddy__redis *s) {
  struct eddy__redis_cache *c = s->cache;
  size_t i;

  assert(c != NULL);
  c->gepoch++;
  s->stats.cache_flushes++;
  for (i = 0; i < c->nbuckets; i++) {
    struct eddy__redis_key *k = c->buckets[i], *next;
    for (; k != NULL; k = next) {
      next = k->next;
      key_drop_entries(s, k);
      key_release(c, k);
    }
  }
  assert(c->entries == 0 && c->bytes == 0);
}

/* The server said key (NULL: every key) changed. */
void eddy__redis_cache_invalidate(struct eddy__redis *s, const char *key,
                                  size_t len) {
  struct eddy__redis_key *k;

  s->stats.cache_invalidations++;
  if (s->cache != NULL) {
    if (key == NULL) {
      eddy__redis_cache_flush(s);
    } else if ((k = key_find(s->cache, key, len, hash_bytes(key, len))) !=
               NULL) {
      k->epoch++; /* a read of it in flight must not fill (rule 2) */
      key_drop_entries(s, k);
      key_release(s->cache, k);
    }
  }
  if (s->opt.on_invalidate != NULL)
    s->opt.on_invalidate(s->self, key, len);
}

/* ---- reads --------------------------------------------------------------- */

/* The cache may be filled: tracking is on for this connection (and, with
 * RESP2, the invalidation connection is up). */
static int cache_fillable(struct eddy__redis *s) {
  return s->cache != NULL && s->tracking_on && s->state == EDDY_REDIS_READY &&
         (s->redirect == NULL || s->redirect_ready);
}

/* Hits may be served: fillable, and no write of ours unsettled (rule 4). */
int eddy__redis_cache_usable(struct eddy__redis *s) {
  return cache_fillable(s) && s->write_inflight == 0 && !s->barrier_on;
}

/* BCAST: only keys under a prefix are reported by the server (rule 5). */
static int key_cacheable(struct eddy__redis *s, const char *key, size_t len) {
  size_t i;

  if (s->opt.cache_mode != EDDY_REDIS_CACHE_BCAST ||
      s->opt.cache_nprefixes == 0)
    return 1;
  for (i = 0; i < s->opt.cache_nprefixes; i++) {
    size_t n = strlen(s->opt.cache_prefixes[i]);
    if (n <= len && memcmp(key, s->opt.cache_prefixes[i], n) == 0)
      return 1;
  }
  return 0;
}

/* Sends a read that may fill the cache for key (rule 2 and, in OPTIN
 * mode, rule 5). */
static int read_send(struct eddy__redis *s, const char *key, size_t klen,
                     const char *cmd, size_t cmdlen, eddy_redis_reply_cb cb,
                     void *arg) {
  static const char *const caching[3] = {"CLIENT", "CACHING", "yes"};
  struct eddy__redis_key *k;
  struct redis_cmd *rc;
  char *copy;
  int err;

  s->stats.cache_misses++;
  if (!key_cacheable(s, key, klen))
    return eddy__redis_push_raw(s, cmd, cmdlen, CMD_CACHED, (void *)cb, arg,
                                NULL);
  copy = malloc(cmdlen);
  k = key_get(s->cache, key, klen);
  if (copy == NULL || k == NULL) {
    free(copy);
    if (k != NULL)
      key_release(s->cache, k);
    return EDDY_ENOMEM;
  }
  memcpy(copy, cmd, cmdlen);
  if (s->opt.cache_mode == EDDY_REDIS_CACHE_OPTIN &&
      (err = eddy__redis_push_cmd(s, 3, caching, NULL, CMD_INTERNAL, NULL, NULL,
                                  NULL)) != 0) {
    free(copy);
    key_release(s->cache, k);
    return err;
  }
  err = eddy__redis_push_raw(s, cmd, cmdlen, CMD_CACHED, (void *)cb, arg, &rc);
  if (err != 0) {
    free(copy);
    key_release(s->cache, k);
    return err;
  }
  k->pending++;
  rc->key = k;
  rc->epoch = k->epoch;
  rc->gepoch = s->cache->gepoch;
  rc->cmd = copy;
  rc->cmdlen = cmdlen;
  return 0;
}

/* A cached read's record is done: fill the cache if rule 2 allows. */
void eddy__redis_cache_done(struct eddy__redis *s, struct redis_cmd *rc,
                            const eddy_resp_node_t *reply) {
  struct eddy__redis_key *k = rc->key;

  if (k == NULL)
    return;
  assert(k->pending > 0);
  k->pending--;
  if (reply != NULL && !eddy_resp_is_error(reply) && cache_fillable(s) &&
      k->epoch == rc->epoch && s->cache->gepoch == rc->gepoch)
    entry_store(s, k, rc->cmd, rc->cmdlen, reply);
  free(rc->cmd);
  rc->cmd = NULL;
  key_release(s->cache, k);
}

static void on_hits_tick(eddy_loop_t *loop, void *arg);

static int hit_push(struct eddy__redis *s, struct eddy__redis_entry *e,
                    eddy_redis_reply_cb cb, void *arg) {
  struct redis_hit *h;

  if (s->hcount == s->hcap) {
    size_t cap = s->hcap ? s->hcap * 2 : 64, i;
    struct redis_hit *v = malloc(cap * sizeof(*v));
    if (v == NULL)
      return EDDY_ENOMEM;
    for (i = 0; i < s->hcount; i++)
      v[i] = s->hits[(s->hhead + i) & (s->hcap - 1)];
    free(s->hits);
    s->hits = v;
    s->hcap = cap;
    s->hhead = 0;
  }
  if (!s->tick_pending) {
    int err = eddy_next_tick(s->loop, on_hits_tick, s);
    if (err != 0)
      return err;
    s->tick_pending = 1;
  }
  h = &s->hits[(s->hhead + s->hcount) & (s->hcap - 1)];
  s->hcount++;
  h->cb = cb;
  h->arg = arg;
  h->entry = e;
  e->refs++;
  return 0;
}

/* Delivers the hits queued so far (rule 6: an entry dropped since goes
 * to the server instead). */
static void on_hits_tick(eddy_loop_t *loop, void *arg) {
  struct eddy__redis *s = arg;
  size_t n = s->hcount;

  (void)loop;
  s->tick_pending = 0;
  while (n-- > 0) {
    struct redis_hit h = s->hits[s->hhead];
    struct eddy__redis_entry *e = h.entry;
    s->hhead = (s->hhead + 1) & (s->hcap - 1);
    s->hcount--;
    if (e->key != NULL) {
      if (h.cb != NULL)
        h.cb(s->self, 0, e->nodes, h.arg);
    } else {
      int err =
          read_send(s, e->keyname, e->keylen, e->cmd, e->cmdlen, h.cb, h.arg);
      s->stats.cache_hits--; /* counted as a miss after all */
      if (err != 0 && h.cb != NULL)
        h.cb(s->self, err, NULL, h.arg);
    }
    entry_unref(e);
  }
  if (s->hcount > 0 && !s->tick_pending &&
      eddy_next_tick(s->loop, on_hits_tick, s) == 0)
    s->tick_pending = 1;
  eddy__redis_tick_done(s);
}

/* eddy_redis_cached with a cache: a hit, or a read that may fill it. */
int eddy__redis_cache_try(struct eddy__redis *s, int argc,
                          const char *const *argv, const size_t *argvlen,
                          eddy_redis_reply_cb cb, void *arg) {
  struct eddy__redis_cache *c = s->cache;
  struct rbytes *sc = &c->scratch;
  const char *key = argv[1];
  size_t klen = argvlen ? argvlen[1] : strlen(argv[1]);
  size_t need = eddy_resp_encoded_size(argc, argv, argvlen);
  struct eddy__redis_key *k;
  struct eddy__redis_entry *e;
  long n;

  if (s->state == EDDY_REDIS_CLOSING)
    return EDDY_ECANCELED;
  sc->start = sc->len = 0;
  if (sc->cap < need) {
    char *p = realloc(sc->data, need);
    if (p == NULL)
      return EDDY_ENOMEM;
    sc->data = p;
    sc->cap = need;
  }
  n = eddy_resp_encode(sc->data, sc->cap, argc, argv, argvlen);
  if (n < 0)
    return (int)n;
  if (eddy__redis_cache_usable(s) &&
      (k = key_find(c, key, klen, hash_bytes(key, klen))) != NULL) {
    for (e = k->entries; e != NULL; e = e->knext)
      if (e->cmdlen == (size_t)n && memcmp(e->cmd, sc->data, (size_t)n) == 0)
        break;
    if (e != NULL && e->expires_ms != 0 && e->expires_ms <= eddy_now(s->loop)) {
      entry_drop(s, e);
      s->stats.cache_evictions++;
      e = NULL;
    }
    if (e != NULL) {
      int err = hit_push(s, e, cb, arg);
      if (err == 0) {
        s->stats.cache_hits++;
        /* the newest at the LRU's head */
        e->prev->next = e->next;
        e->next->prev = e->prev;
        e->next = c->lru.next;
        e->prev = &c->lru;
        c->lru.next->prev = e;
        c->lru.next = e;
      }
      return err;
    }
    key_release(c, k);
  }
  return read_send(s, key, klen, sc->data, (size_t)n, cb, arg);
}

/* Releases hits never delivered (closing). */
void eddy__redis_hits_drop(struct eddy__redis *s) {
  while (s->hcount > 0) {
    entry_unref(s->hits[s->hhead].entry);
    s->hhead = (s->hhead + 1) & (s->hcap - 1);
    s->hcount--;
  }
}

void eddy__redis_cache_free(struct eddy__redis_cache *c) {
  size_t i;

  if (c == NULL)
    return;
  for (i = 0; i < c->nbuckets; i++) {
    struct eddy__redis_key *k = c->buckets[i], *next;
    for (; k != NULL; k = next) {
      struct eddy__redis_entry *e = k->entries, *en;
      next = k->next;
      for (; e != NULL; e = en) {
        en = e->knext;
        entry_unref(e);
      }
      free(k);
    }
  }
  free(c->buckets);
  free(c->scratch.data);
  free(c);
}
