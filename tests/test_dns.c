/* test_dns.c: getaddrinfo and getnameinfo, synchronous and on the pool.
 *
 * The machine running the tests may have no network: every lookup here is
 * numeric, "localhost" from /etc/hosts, or fails on its arguments alone.
 * Never resolve a real external name (it would wait out the resolver). */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "test_pool.h"
#include "test_util.h"

/* ---- helpers ---- */

static struct addrinfo make_hints(int family, int socktype, int flags) {
  struct addrinfo h;

  memset(&h, 0, sizeof(h));
  h.ai_family = family;
  h.ai_socktype = socktype;
  h.ai_flags = flags;
  return h;
}

/* Assert that the list holds an entry with this address and port. */
static void assert_has_addr(const struct addrinfo *ai, const char *addr,
                            int port) {
  char buf[INET6_ADDRSTRLEN];
  int found = 0;

  for (; ai != NULL; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const struct sockaddr_in *sin = (const void *)ai->ai_addr;

      inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf));
      found |= strcmp(buf, addr) == 0 && ntohs(sin->sin_port) == port;
    } else if (ai->ai_family == AF_INET6) {
      const struct sockaddr_in6 *sin6 = (const void *)ai->ai_addr;

      inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf));
      found |= strcmp(buf, addr) == 0 && ntohs(sin6->sin6_port) == port;
    }
  }
  assert_true(found);
}

static struct sockaddr_storage make_addr(const char *ip, int port) {
  struct sockaddr_storage ss;
  struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
  struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

  memset(&ss, 0, sizeof(ss));
  if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
  } else {
    assert_int_equal(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
  }
  return ss;
}

/* What the asynchronous callbacks saw. */
static struct {
  int calls;
  int status;
  char addr[INET6_ADDRSTRLEN];
  int port;
  int had_res;
  char host[EDDY_NI_MAXHOST];
  char service[EDDY_NI_MAXSERV];
  int had_names;
} seen;

static void reset_seen(void) {
  memset(&seen, 0, sizeof(seen));
}

/* Record the first entry and release the list, which the callback owns. */
static void on_addrinfo(eddy_getaddrinfo_t *req, int status,
                        struct addrinfo *res) {
  seen.calls++;
  seen.status = status;
  seen.had_res = res != NULL;
  assert_ptr_equal(req->addrinfo, res);
  assert_null(req->priv.copies); /* freed before the callback */
  if (res != NULL) {
    const struct sockaddr_in *sin = (const void *)res->ai_addr;

    assert_int_equal(res->ai_family, AF_INET);
    inet_ntop(AF_INET, &sin->sin_addr, seen.addr, sizeof(seen.addr));
    seen.port = ntohs(sin->sin_port);
  }
  eddy_freeaddrinfo(res);
}

static void on_nameinfo(eddy_getnameinfo_t *req, int status,
                        const char *host, const char *service) {
  (void)req;
  seen.calls++;
  seen.status = status;
  seen.had_names = host != NULL || service != NULL;
  if (host != NULL)
    snprintf(seen.host, sizeof(seen.host), "%s", host);
  if (service != NULL)
    snprintf(seen.service, sizeof(seen.service), "%s", service);
}

/* ---- getaddrinfo, synchronous ---- */

static void test_getaddrinfo_sync_numeric(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  struct addrinfo h4 = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);
  struct addrinfo h6 = make_hints(AF_INET6, SOCK_STREAM, AI_NUMERICHOST);

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "127.0.0.1", "80", &h4),
                   0);
  assert_int_equal(req.req.type, EDDY_GETADDRINFO);
  assert_ptr_equal(req.loop, &loop);
  assert_non_null(req.addrinfo);
  assert_int_equal(req.addrinfo->ai_socktype, SOCK_STREAM);
  assert_has_addr(req.addrinfo, "127.0.0.1", 80);
  assert_null(req.priv.copies);
  eddy_freeaddrinfo(req.addrinfo);

  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "::1", "443", &h6), 0);
  assert_int_equal(req.addrinfo->ai_family, AF_INET6);
  assert_has_addr(req.addrinfo, "::1", 443);
  eddy_freeaddrinfo(req.addrinfo);

  /* A synchronous request never queued anything: nothing to cancel. */
  assert_int_equal(eddy_cancel(&req.req), EDDY_EBUSY);
  test_assert_loop_clean(&loop);
}

static void test_getaddrinfo_sync_localhost(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, 0);

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "localhost", "80", &h),
                   0);
  assert_has_addr(req.addrinfo, "127.0.0.1", 80);
  eddy_freeaddrinfo(req.addrinfo);
  test_assert_loop_clean(&loop);
}

/* Hints and strings are copied: the caller's may change right after. */
static void test_getaddrinfo_service_only_and_null_hints(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, AI_PASSIVE);

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  /* No node, passive: the wildcard address. */
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, NULL, "8080", &h), 0);
  assert_has_addr(req.addrinfo, "0.0.0.0", 8080);
  eddy_freeaddrinfo(req.addrinfo);
  /* No hints at all: still a numeric answer. */
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "127.0.0.1", NULL,
                                    NULL),
                   0);
  assert_has_addr(req.addrinfo, "127.0.0.1", 0);
  eddy_freeaddrinfo(req.addrinfo);
  eddy_freeaddrinfo(NULL); /* NULL-safe */
  test_assert_loop_clean(&loop);
}

/* Each resolver error has its own code, name and message. */
static void test_getaddrinfo_sync_errors(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  struct addrinfo num = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);
  struct addrinfo fam = make_hints(12345, SOCK_STREAM, AI_NUMERICHOST);
  struct addrinfo sock = make_hints(AF_INET, 12345, AI_NUMERICHOST);
  struct addrinfo raw = make_hints(AF_INET, SOCK_RAW, AI_NUMERICHOST);
  struct addrinfo canon = make_hints(AF_INET, SOCK_STREAM, AI_CANONNAME);

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "not-a-number", "80",
                                    &num),
                   EDDY_EAI_NONAME);
  assert_null(req.addrinfo);
  assert_null(req.priv.copies);
  assert_string_equal(eddy_err_name(EDDY_EAI_NONAME), "EAI_NONAME");
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "127.0.0.1", "80",
                                    &fam),
                   EDDY_EAI_FAMILY);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "127.0.0.1", "80",
                                    &sock),
                   EDDY_EAI_SOCKTYPE);
  /* A port means nothing to a raw socket. */
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "127.0.0.1", "80",
                                    &raw),
                   EDDY_EAI_SERVICE);
  /* A canonical name needs a node. */
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, NULL, "80", &canon),
                   EDDY_EAI_BADFLAGS);
#ifdef EAI_ADDRFAMILY
  /* glibc: an IPv6 literal asked for as IPv4. */
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "::1", "80", &num),
                   EDDY_EAI_ADDRFAMILY);
#endif
  assert_null(req.addrinfo);
  test_assert_loop_clean(&loop);
}

/* Argument errors: no request is queued and no callback runs. */
static void test_getaddrinfo_argument_errors(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  char long_name[EDDY_NI_MAXHOST + 1];
  char long_service[EDDY_NI_MAXSERV + 1];

  (void)state;
  reset_seen();
  memset(long_name, 'a', sizeof(long_name) - 1);
  long_name[sizeof(long_name) - 1] = '\0';
  memset(long_service, '1', sizeof(long_service) - 1);
  long_service[sizeof(long_service) - 1] = '\0';
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, NULL, NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, on_addrinfo, NULL, NULL,
                                    NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_getaddrinfo(&loop, NULL, on_addrinfo, "localhost",
                                    NULL, NULL),
                   EDDY_EINVAL);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, on_addrinfo, long_name, "80",
                                    NULL),
                   EDDY_ENAMETOOLONG);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, "localhost",
                                    long_service, NULL),
                   EDDY_ENAMETOOLONG);
  assert_null(req.priv.copies);
  /* The longest accepted name is copied whole (and fails as a number). */
  long_name[EDDY_NI_MAXHOST - 1] = '\0';
  {
    struct addrinfo num = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);

    assert_int_equal(eddy_getaddrinfo(&loop, &req, NULL, long_name, "80",
                                      &num),
                     EDDY_EAI_NONAME);
  }
  assert_false(eddy_loop_alive(&loop));
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.calls, 0);
}

/* ---- getaddrinfo, asynchronous ---- */

static void check_async_getaddrinfo(const char *node, int flags) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, flags);
  char node_copy[64];

  reset_seen();
  snprintf(node_copy, sizeof(node_copy), "%s", node);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, on_addrinfo, node_copy, "80",
                                    &h),
                   0);
  /* The arguments were copied. */
  memset(node_copy, 'x', sizeof(node_copy) - 1);
  h.ai_family = 12345;
  assert_int_equal(req.req.type, EDDY_GETADDRINFO);
  /* The request in flight keeps the loop alive. */
  assert_true(eddy_loop_alive(&loop));
  assert_int_equal(seen.calls, 0);
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.status, 0);
  assert_true(seen.had_res);
  assert_string_equal(seen.addr, "127.0.0.1");
  assert_int_equal(seen.port, 80);
  /* A finished request cannot be cancelled. */
  assert_int_equal(eddy_cancel(&req.req), EDDY_EBUSY);
}

static void test_getaddrinfo_async_numeric(void **state) {
  (void)state;
  check_async_getaddrinfo("127.0.0.1", AI_NUMERICHOST);
}

static void test_getaddrinfo_async_localhost(void **state) {
  (void)state;
  check_async_getaddrinfo("localhost", 0);
}

static void test_getaddrinfo_async_error(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);

  (void)state;
  reset_seen();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, on_addrinfo, "not-a-number",
                                    "80", &h),
                   0);
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.status, EDDY_EAI_NONAME);
  assert_false(seen.had_res);
}

/* Many lookups at once: more than the slow-job share of the pool. */
#define MANY 16
static int many_done;

static void on_many(eddy_getaddrinfo_t *req, int status,
                    struct addrinfo *res) {
  int port = (int)(intptr_t)req->req.data;

  assert_int_equal(status, 0);
  assert_has_addr(res, "127.0.0.1", port);
  eddy_freeaddrinfo(res);
  many_done++;
}

static void test_getaddrinfo_async_many(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t reqs[MANY];
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);
  char port[16];
  int i;

  (void)state;
  many_done = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  for (i = 0; i < MANY; i++) {
    snprintf(port, sizeof(port), "%d", 1000 + i);
    reqs[i].req.data = (void *)(intptr_t)(1000 + i);
    assert_int_equal(eddy_getaddrinfo(&loop, &reqs[i], on_many, "127.0.0.1",
                                      port, &h),
                     0);
  }
  test_assert_loop_clean(&loop);
  assert_int_equal(many_done, MANY);
}

/* A callback may reuse its own request for the next lookup. */
static int chain_left;

static void on_chain(eddy_getaddrinfo_t *req, int status,
                     struct addrinfo *res) {
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);

  assert_int_equal(status, 0);
  assert_has_addr(res, "127.0.0.1", 80);
  eddy_freeaddrinfo(res);
  if (--chain_left > 0)
    assert_int_equal(eddy_getaddrinfo(req->loop, req, on_chain, "127.0.0.1",
                                      "80", &h),
                     0);
}

static void test_getaddrinfo_reuse_in_callback(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t req;
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);

  (void)state;
  chain_left = 3;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getaddrinfo(&loop, &req, on_chain, "127.0.0.1", "80",
                                    &h),
                   0);
  test_assert_loop_clean(&loop);
  assert_int_equal(chain_left, 0);
}

/* ---- getnameinfo ---- */

static void test_getnameinfo_sync(void **state) {
  eddy_loop_t loop;
  eddy_getnameinfo_t req;
  struct sockaddr_storage a4 = make_addr("127.0.0.1", 8080);
  struct sockaddr_storage a6 = make_addr("::1", 443);
  const int numeric = NI_NUMERICHOST | NI_NUMERICSERV;

  (void)state;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getnameinfo(&loop, &req, NULL,
                                    (struct sockaddr *)&a4, numeric),
                   0);
  assert_int_equal(req.req.type, EDDY_GETNAMEINFO);
  assert_ptr_equal(req.loop, &loop);
  assert_string_equal(req.host, "127.0.0.1");
  assert_string_equal(req.service, "8080");
  assert_int_equal(eddy_getnameinfo(&loop, &req, NULL,
                                    (struct sockaddr *)&a6, numeric),
                   0);
  assert_string_equal(req.host, "::1");
  assert_string_equal(req.service, "443");
  assert_int_equal(eddy_cancel(&req.req), EDDY_EBUSY);
  test_assert_loop_clean(&loop);
}

static void test_getnameinfo_errors(void **state) {
  eddy_loop_t loop;
  eddy_getnameinfo_t req;
  struct sockaddr_storage a4 = make_addr("127.0.0.1", 8080);
  struct sockaddr_storage unix_addr;

  (void)state;
  reset_seen();
  memset(&unix_addr, 0, sizeof(unix_addr));
  unix_addr.ss_family = AF_UNIX;
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getnameinfo(&loop, &req, on_nameinfo,
                                    (struct sockaddr *)&unix_addr,
                                    NI_NUMERICHOST),
                   EDDY_EINVAL);
  assert_int_equal(eddy_getnameinfo(&loop, &req, NULL,
                                    (struct sockaddr *)&unix_addr, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_getnameinfo(&loop, &req, on_nameinfo, NULL, 0),
                   EDDY_EINVAL);
  assert_int_equal(eddy_getnameinfo(&loop, NULL, on_nameinfo,
                                    (struct sockaddr *)&a4, 0),
                   EDDY_EINVAL);
  /* A resolver error: flags it does not know. */
  assert_int_equal(eddy_getnameinfo(&loop, &req, NULL,
                                    (struct sockaddr *)&a4, 0x40000000),
                   EDDY_EAI_BADFLAGS);
  assert_string_equal(req.host, "");
  assert_string_equal(req.service, "");
  assert_false(eddy_loop_alive(&loop));
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.calls, 0);
}

static void test_getnameinfo_async(void **state) {
  eddy_loop_t loop;
  eddy_getnameinfo_t req;
  struct sockaddr_storage addr = make_addr("127.0.0.1", 8080);

  (void)state;
  reset_seen();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getnameinfo(&loop, &req, on_nameinfo,
                                    (struct sockaddr *)&addr,
                                    NI_NUMERICHOST | NI_NUMERICSERV),
                   0);
  memset(&addr, 0, sizeof(addr)); /* the address was copied */
  assert_true(eddy_loop_alive(&loop));
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.status, 0);
  assert_string_equal(seen.host, "127.0.0.1");
  assert_string_equal(seen.service, "8080");
  assert_int_equal(eddy_cancel(&req.req), EDDY_EBUSY);

  /* IPv6, and an asynchronous resolver error with no names. */
  reset_seen();
  addr = make_addr("::1", 443);
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getnameinfo(&loop, &req, on_nameinfo,
                                    (struct sockaddr *)&addr,
                                    NI_NUMERICHOST | NI_NUMERICSERV),
                   0);
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.status, 0);
  assert_string_equal(seen.host, "::1");
  assert_string_equal(seen.service, "443");

  reset_seen();
  assert_int_equal(eddy_loop_init(&loop), 0);
  assert_int_equal(eddy_getnameinfo(&loop, &req, on_nameinfo,
                                    (struct sockaddr *)&addr, 0x40000000),
                   0);
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.status, EDDY_EAI_BADFLAGS);
  assert_false(seen.had_names);
}

/* ---- cancellation ---- */

/* Jobs that hold pool threads until the test lets them go
 * (tests/test_pool.h). */
static struct test_gate gate;

static int cancelled_gai, cancelled_gni;

static void on_cancelled_gai(eddy_getaddrinfo_t *req, int status,
                             struct addrinfo *res) {
  assert_int_equal(status, EDDY_ECANCELED);
  assert_null(res);
  assert_null(req->addrinfo);
  assert_null(req->priv.copies);
  cancelled_gai++;
}

static void on_cancelled_gni(eddy_getnameinfo_t *req, int status,
                             const char *host, const char *service) {
  (void)req;
  assert_int_equal(status, EDDY_ECANCELED);
  assert_null(host);
  assert_null(service);
  cancelled_gni++;
}

static void test_cancel(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t gai;
  eddy_getnameinfo_t gni;
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);
  struct sockaddr_storage addr = make_addr("127.0.0.1", 8080);

  (void)state;
  cancelled_gai = cancelled_gni = 0;
  assert_int_equal(eddy_loop_init(&loop), 0);
  test_gate_init(&gate);
  test_gate_occupy_pool(&gate, &loop);

  assert_int_equal(eddy_getaddrinfo(&loop, &gai, on_cancelled_gai,
                                    "127.0.0.1", "80", &h),
                   0);
  assert_int_equal(eddy_getnameinfo(&loop, &gni, on_cancelled_gni,
                                    (struct sockaddr *)&addr,
                                    NI_NUMERICHOST | NI_NUMERICSERV),
                   0);
  assert_int_equal(eddy_cancel(&gai.req), 0);
  assert_int_equal(eddy_cancel(&gni.req), 0);
  /* Cancelled already: a second cancel finds nothing queued. */
  assert_int_equal(eddy_cancel(&gai.req), EDDY_EBUSY);
  assert_int_equal(eddy_cancel(&gni.req), EDDY_EBUSY);
  /* The callbacks have not run yet; they are the loop's to run. */
  assert_int_equal(cancelled_gai + cancelled_gni, 0);
  assert_true(eddy_loop_alive(&loop));

  test_gate_release(&gate);
  test_assert_loop_clean(&loop);
  assert_int_equal(cancelled_gai, 1);
  assert_int_equal(cancelled_gni, 1);
  assert_int_equal(eddy_cancel(&gai.req), EDDY_EBUSY);
  assert_int_equal(eddy_cancel(&gni.req), EDDY_EBUSY);
  test_gate_destroy(&gate);
}

/* A lookup queued behind a full pool waits for a thread, keeping the loop
 * alive, and runs once the pool frees up. */
static void test_queued_behind_busy_pool(void **state) {
  eddy_loop_t loop;
  eddy_getaddrinfo_t gai;
  struct addrinfo h = make_hints(AF_INET, SOCK_STREAM, AI_NUMERICHOST);

  (void)state;
  reset_seen();
  assert_int_equal(eddy_loop_init(&loop), 0);
  test_gate_init(&gate);
  test_gate_occupy_pool(&gate, &loop);
  assert_int_equal(eddy_getaddrinfo(&loop, &gai, on_addrinfo, "127.0.0.1",
                                    "80", &h),
                   0);
  assert_int_equal(eddy_run(&loop, EDDY_RUN_NOWAIT), 1);
  assert_int_equal(seen.calls, 0);
  test_gate_release(&gate);
  test_assert_loop_clean(&loop);
  assert_int_equal(seen.calls, 1);
  assert_int_equal(seen.status, 0);
  assert_string_equal(seen.addr, "127.0.0.1");
  test_gate_destroy(&gate);
}

/* ---- error codes ---- */

static void test_eai_error_codes(void **state) {
  (void)state;
  /* Distinct, outside errno's range, away from EOF. */
  assert_true(EDDY_EAI_ADDRFAMILY < -1000 && EDDY_EAI_SOCKTYPE < -1000);
  assert_true(EDDY_EAI_SOCKTYPE > EDDY_EOF);
  assert_string_equal(eddy_err_name(EDDY_EAI_AGAIN), "EAI_AGAIN");
  assert_string_equal(eddy_err_name(EDDY_EAI_SOCKTYPE), "EAI_SOCKTYPE");
  assert_string_equal(eddy_strerror(EDDY_EAI_NONAME),
                      "unknown host name or service");
  assert_string_equal(eddy_strerror(EDDY_EAI_AGAIN),
                      "temporary failure in name resolution");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_getaddrinfo_sync_numeric),
      cmocka_unit_test(test_getaddrinfo_sync_localhost),
      cmocka_unit_test(test_getaddrinfo_service_only_and_null_hints),
      cmocka_unit_test(test_getaddrinfo_sync_errors),
      cmocka_unit_test(test_getaddrinfo_argument_errors),
      cmocka_unit_test(test_getaddrinfo_async_numeric),
      cmocka_unit_test(test_getaddrinfo_async_localhost),
      cmocka_unit_test(test_getaddrinfo_async_error),
      cmocka_unit_test(test_getaddrinfo_async_many),
      cmocka_unit_test(test_getaddrinfo_reuse_in_callback),
      cmocka_unit_test(test_getnameinfo_sync),
      cmocka_unit_test(test_getnameinfo_errors),
      cmocka_unit_test(test_getnameinfo_async),
      cmocka_unit_test(test_cancel),
      cmocka_unit_test(test_queued_behind_busy_pool),
      cmocka_unit_test(test_eai_error_codes),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
