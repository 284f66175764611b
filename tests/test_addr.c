/* test_addr.c: the IP address helpers of eddy/addr.h. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdlib.h>

#include "test_util.h"

static void test_ip4_addr(void **state) {
  struct sockaddr_in a;
  char name[EDDY_IP4_NAMELEN];

  (void)state;
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 8080, &a), 0);
  assert_int_equal(a.sin_family, AF_INET);
  assert_int_equal(ntohs(a.sin_port), 8080);
  assert_int_equal(ntohl(a.sin_addr.s_addr), 0x7f000001);
  assert_int_equal(eddy_ip4_name(&a, name, sizeof(name)), 0);
  assert_string_equal(name, "127.0.0.1");
  assert_int_equal(eddy_ip4_addr("0.0.0.0", 0, &a), 0);
  assert_int_equal(eddy_ip4_addr("255.255.255.255", 65535, &a), 0);
  assert_int_equal(eddy_ip4_name(&a, name, sizeof(name)), 0);
  assert_string_equal(name, "255.255.255.255");
  /* Malformed text, IPv6 text, bad ports, NULLs. */
  assert_int_equal(eddy_ip4_addr("256.0.0.1", 1, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr("1.2.3", 1, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr("1.2.3.4 ", 1, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr("", 1, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr("::1", 1, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr("1.2.3.4", -1, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr("1.2.3.4", 65536, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr(NULL, 1, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_addr("1.2.3.4", 1, NULL), EDDY_EINVAL);
}

static void test_ip6_addr(void **state) {
  struct sockaddr_in6 a;
  char name[EDDY_IP6_NAMELEN];
  char text[64];
  unsigned lo = if_nametoindex("lo");

  (void)state;
  assert_int_equal(eddy_ip6_addr("::1", 53, &a), 0);
  assert_int_equal(a.sin6_family, AF_INET6);
  assert_int_equal(ntohs(a.sin6_port), 53);
  assert_int_equal(a.sin6_scope_id, 0);
  assert_true(IN6_IS_ADDR_LOOPBACK(&a.sin6_addr));
  assert_int_equal(eddy_ip6_name(&a, name, sizeof(name)), 0);
  assert_string_equal(name, "::1");
  assert_int_equal(eddy_ip6_addr("2001:db8::ff00:42:8329", 0, &a), 0);
  assert_int_equal(eddy_ip6_name(&a, name, sizeof(name)), 0);
  assert_string_equal(name, "2001:db8::ff00:42:8329");
  assert_int_equal(eddy_ip6_addr("::ffff:10.0.0.1", 0, &a), 0);
  assert_true(IN6_IS_ADDR_V4MAPPED(&a.sin6_addr));
  /* A numeric zone, printed back as the interface name when it has one. */
  assert_int_equal(eddy_ip6_addr("fe80::1%7", 0, &a), 0);
  assert_int_equal(a.sin6_scope_id, 7);
  if (lo != 0) {
    snprintf(text, sizeof(text), "fe80::1%%%u", lo);
    assert_int_equal(eddy_ip6_addr(text, 0, &a), 0);
    assert_int_equal(a.sin6_scope_id, lo);
    assert_int_equal(eddy_ip6_name(&a, name, sizeof(name)), 0);
    assert_string_equal(name, "fe80::1%lo");
    /* A named zone, and the round trip. */
    assert_int_equal(eddy_ip6_addr("fe80::abcd%lo", 9, &a), 0);
    assert_int_equal(a.sin6_scope_id, lo);
    assert_int_equal(eddy_ip6_name(&a, name, sizeof(name)), 0);
    assert_string_equal(name, "fe80::abcd%lo");
  }
  /* An index with no interface prints as a number. */
  a.sin6_scope_id = 4000000000u;
  assert_int_equal(eddy_ip6_name(&a, name, sizeof(name)), 0);
  assert_non_null(strstr(name, "%4000000000"));
  /* Errors. */
  assert_int_equal(eddy_ip6_addr("fe80::1%no-such-if0", 0, &a), EDDY_ENODEV);
  assert_int_equal(eddy_ip6_addr("fe80::1%", 0, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_addr("fe80::1%12x", 0, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_addr("fe80::1%99999999999", 0, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_addr("1:2:3:4:5:6:7:8:9", 0, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_addr(":::", 0, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_addr("127.0.0.1", 0, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_addr("::1", 70000, &a), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_addr(NULL, 0, &a), EDDY_EINVAL);
  assert_int_equal(
      eddy_ip6_addr("0000:0000:0000:0000:0000:0000:0000:0000:0000:1", 0, &a),
      EDDY_EINVAL);
}

static void test_names_and_space(void **state) {
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  struct sockaddr_storage ss;
  char name[EDDY_IP6_NAMELEN];

  (void)state;
  assert_int_equal(eddy_ip4_addr("10.20.30.40", 1, &a4), 0);
  assert_int_equal(eddy_ip6_addr("fd00::2", 1, &a6), 0);
  /* Exactly enough room, then one byte short. */
  assert_int_equal(eddy_ip4_name(&a4, name, 12), 0);
  assert_string_equal(name, "10.20.30.40");
  strcpy(name, "junk");
  assert_int_equal(eddy_ip4_name(&a4, name, 11), EDDY_ENOSPC);
  assert_string_equal(name, "");
  assert_int_equal(eddy_ip6_name(&a6, name, 8), 0);
  assert_string_equal(name, "fd00::2");
  assert_int_equal(eddy_ip6_name(&a6, name, 7), EDDY_ENOSPC);
  assert_string_equal(name, "");
  assert_int_equal(eddy_ip6_name(&a6, name, 0), EDDY_ENOSPC);
  a6.sin6_scope_id = 3;
  assert_int_equal(eddy_ip6_name(&a6, name, 8), EDDY_ENOSPC);
  /* eddy_ip_name picks the family. */
  assert_int_equal(eddy_ip_name((struct sockaddr *)&a4, name, sizeof(name)), 0);
  assert_string_equal(name, "10.20.30.40");
  a6.sin6_scope_id = 0;
  assert_int_equal(eddy_ip_name((struct sockaddr *)&a6, name, sizeof(name)), 0);
  assert_string_equal(name, "fd00::2");
  memset(&ss, 0, sizeof(ss));
  ss.ss_family = AF_UNIX;
  assert_int_equal(eddy_ip_name((struct sockaddr *)&ss, name, sizeof(name)),
                   EDDY_EAFNOSUPPORT);
  assert_int_equal(eddy_ip_name(NULL, name, sizeof(name)), EDDY_EINVAL);
  assert_int_equal(eddy_ip4_name(NULL, name, sizeof(name)), EDDY_EINVAL);
  assert_int_equal(eddy_ip6_name(NULL, name, sizeof(name)), EDDY_EINVAL);
}

static void test_pton_ntop(void **state) {
  struct in_addr in4;
  struct in6_addr in6;
  char text[EDDY_IP6_NAMELEN];

  (void)state;
  assert_int_equal(eddy_inet_pton(AF_INET, "192.168.1.2", &in4), 0);
  assert_int_equal(ntohl(in4.s_addr), 0xc0a80102);
  assert_int_equal(eddy_inet_ntop(AF_INET, &in4, text, sizeof(text)), 0);
  assert_string_equal(text, "192.168.1.2");
  assert_int_equal(eddy_inet_pton(AF_INET6, "fe80::1:2", &in6), 0);
  assert_int_equal(eddy_inet_ntop(AF_INET6, &in6, text, sizeof(text)), 0);
  assert_string_equal(text, "fe80::1:2");
  /* A zone is accepted and dropped. */
  memset(&in6, 0xff, sizeof(in6));
  assert_int_equal(eddy_inet_pton(AF_INET6, "fe80::1:2%lo", &in6), 0);
  assert_int_equal(eddy_inet_ntop(AF_INET6, &in6, text, sizeof(text)), 0);
  assert_string_equal(text, "fe80::1:2");
  /* Errors. */
  assert_int_equal(eddy_inet_pton(AF_INET, "1.2.3.4.5", &in4), EDDY_EINVAL);
  assert_int_equal(eddy_inet_pton(AF_INET, "::1", &in4), EDDY_EINVAL);
  assert_int_equal(eddy_inet_pton(AF_INET6, "1.2.3.4", &in6), EDDY_EINVAL);
  assert_int_equal(eddy_inet_pton(AF_INET6, "g::1", &in6), EDDY_EINVAL);
  assert_int_equal(eddy_inet_pton(AF_UNIX, "1.2.3.4", &in4), EDDY_EAFNOSUPPORT);
  assert_int_equal(eddy_inet_pton(AF_INET, NULL, &in4), EDDY_EINVAL);
  assert_int_equal(eddy_inet_pton(AF_INET, "1.2.3.4", NULL), EDDY_EINVAL);
  assert_int_equal(eddy_inet_ntop(AF_UNIX, &in4, text, sizeof(text)),
                   EDDY_EAFNOSUPPORT);
  assert_int_equal(eddy_inet_ntop(AF_INET, &in4, text, 4), EDDY_ENOSPC);
  assert_string_equal(text, "");
  assert_int_equal(eddy_inet_ntop(AF_INET6, &in6, text, 3), EDDY_ENOSPC);
  assert_int_equal(eddy_inet_ntop(AF_INET, NULL, text, sizeof(text)),
                   EDDY_EINVAL);
  assert_int_equal(eddy_inet_ntop(AF_INET, &in4, NULL, 16), EDDY_EINVAL);
}

static void test_sockaddr_len(void **state) {
  struct sockaddr_in a4;
  struct sockaddr_in6 a6;
  struct sockaddr_storage ss;

  (void)state;
  assert_int_equal(eddy_ip4_addr("127.0.0.1", 1, &a4), 0);
  assert_int_equal(eddy_ip6_addr("::1", 1, &a6), 0);
  assert_int_equal(eddy_sockaddr_len((struct sockaddr *)&a4), sizeof(a4));
  assert_int_equal(eddy_sockaddr_len((struct sockaddr *)&a6), sizeof(a6));
  memset(&ss, 0, sizeof(ss));
  ss.ss_family = AF_UNSPEC;
  assert_int_equal(eddy_sockaddr_len((struct sockaddr *)&ss),
                   EDDY_EAFNOSUPPORT);
  assert_int_equal(eddy_sockaddr_len(NULL), EDDY_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ip4_addr),        cmocka_unit_test(test_ip6_addr),
      cmocka_unit_test(test_names_and_space), cmocka_unit_test(test_pton_ntop),
      cmocka_unit_test(test_sockaddr_len),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
