/* bench/free_port.c: print a TCP port on 127.0.0.1 that is free now.
 *
 * For the servers that cannot report the port they were given when asked
 * for port 0 (nginx): bind 127.0.0.1:0, read the port the kernel picked,
 * close and print it. Another program may take it before the server binds
 * it; bench/http/run.sh then sees the server fail to start and asks again.
 * Exits 1 with a message when no socket can be bound. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof(a);
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    perror("free_port");
    return 1;
  }
  close(fd);
  printf("%d\n", ntohs(a.sin_port));
  return 0;
}
