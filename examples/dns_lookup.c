/* dns_lookup.c: name resolution on the work pool (Node's dns.lookup).
 *
 *   dns_lookup [NAME]        (default "localhost": no network needed)
 *
 * Three requests start together and finish in any order:
 *
 *   1. eddy_getaddrinfo(NAME, port 8080, TCP): the addresses of NAME;
 *   2. eddy_getnameinfo(127.0.0.1:8080, NI_NUMERICSERV): the name of an
 *      address, the reverse of 1;
 *   3. eddy_getaddrinfo(NAME) with AI_NUMERICHOST: "only accept a numeric
 *      address", which a name is not, so it fails without asking anyone.
 *
 * Typical output for localhost (the addresses, and whether ::1 is among
 * them, come from /etc/hosts):
 *
 *   lookup localhost: 127.0.0.1 port 8080
 *   lookup localhost: ::1 port 8080
 *   reverse 127.0.0.1: localhost, service 8080
 *   numeric-only localhost: EAI_NONAME (unknown host name or service)
 *
 * What it shows: getaddrinfo(3) and getnameinfo(3) block (files, then
 * maybe a DNS server across the network), so eddy runs them as jobs on
 * the work pool, like libuv and Node do, and the loop stays free; the
 * callback runs back on the loop's thread. Resolver errors are EDDY_EAI_*
 * codes with fixed values of their own (-3100 down), named by
 * eddy_err_name() and described by eddy_strerror() like any eddy error.
 * The callback owns the result list and frees it with eddy_freeaddrinfo().
 *
 * Exit status 0 when the lookup of NAME found an address, the reverse
 * lookup gave a name and the numeric-only lookup failed for a name (or
 * succeeded for an address given as NAME). */
#define _POSIX_C_SOURCE 200809L /* struct addrinfo, AI_*, NI_* */
#include <eddy.h>
#include <stdio.h>
#include <string.h>

static const char *name = "localhost";
static int found, reversed, numeric_right;

static void on_lookup(eddy_getaddrinfo_t *req, int status,
                      struct addrinfo *res) {
  struct addrinfo *ai;
  char text[64];

  (void)req;
  if (status != 0) {
    printf("lookup %s: %s (%s)\n", name, eddy_err_name(status),
           eddy_strerror(status));
    return;
  }
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const struct sockaddr_in *a = (const void *)ai->ai_addr;

      eddy_ip4_name(a, text, sizeof(text));
      printf("lookup %s: %s port %d\n", name, text, ntohs(a->sin_port));
    } else if (ai->ai_family == AF_INET6) {
      const struct sockaddr_in6 *a = (const void *)ai->ai_addr;

      eddy_ip6_name(a, text, sizeof(text));
      printf("lookup %s: %s port %d\n", name, text, ntohs(a->sin6_port));
    }
    found++;
  }
  eddy_freeaddrinfo(res);
}

static void on_reverse(eddy_getnameinfo_t *req, int status, const char *host,
                       const char *service) {
  (void)req;
  if (status != 0) {
    printf("reverse 127.0.0.1: %s (%s)\n", eddy_err_name(status),
           eddy_strerror(status));
    return;
  }
  printf("reverse 127.0.0.1: %s, service %s\n", host, service);
  reversed = 1;
}

static void on_numeric(eddy_getaddrinfo_t *req, int status,
                       struct addrinfo *res) {
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  int numeric =
      eddy_ip4_addr(name, 0, &a4) == 0 || eddy_ip6_addr(name, 0, &a6) == 0;

  (void)req;
  if (status == 0) {
    printf("numeric-only %s: accepted, it is an address\n", name);
    eddy_freeaddrinfo(res);
    numeric_right = numeric;
    return;
  }
  printf("numeric-only %s: %s (%s)\n", name, eddy_err_name(status),
         eddy_strerror(status));
  numeric_right = !numeric && status == EDDY_EAI_NONAME;
}

int main(int argc, char **argv) {
  eddy_loop_t *loop = eddy_default_loop();
  static eddy_getaddrinfo_t lookup, numeric;
  static eddy_getnameinfo_t reverse;
  struct addrinfo hints, numeric_hints;
  struct sockaddr_in loopback;

  if (argc > 1)
    name = argv[1];
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  numeric_hints = hints;
  numeric_hints.ai_flags = AI_NUMERICHOST;
  eddy_ip4_addr("127.0.0.1", 8080, &loopback);

  if (eddy_getaddrinfo(loop, &lookup, on_lookup, name, "8080", &hints) != 0 ||
      eddy_getnameinfo(loop, &reverse, on_reverse,
                       (const struct sockaddr *)&loopback,
                       NI_NUMERICSERV) != 0 ||
      eddy_getaddrinfo(loop, &numeric, on_numeric, name, NULL,
                       &numeric_hints) != 0)
    return 1;
  eddy_run(loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(loop) != 0)
    return 1;
  return found > 0 && reversed && numeric_right ? 0 : 1;
}
