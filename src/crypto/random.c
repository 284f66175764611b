/*
 * random.c - kernel CSPRNG access and constant-time comparison.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* syscall(2) */
#endif

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#endif

#include "crypto_internal.h"

/* Largest chunk requested per read; getrandom(2) caps single calls at
 * 32 MiB - 1 anyway, and smaller chunks bound the time spent per call. */
#define RANDOM_CHUNK ((size_t) 1 << 20)

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

/* Read len bytes from /dev/urandom. Opened per call so no descriptor is
 * held (or leaked across fork/exec) between calls. */
int eddy__random_bytes_urandom(void *buf, size_t len) {
  uint8_t *p = buf;
  ssize_t r;
  int err;
  int fd;

  if (buf == NULL && len > 0)
    return EDDY_EINVAL;
  if (len == 0)
    return 0;

  do
    fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  while (fd < 0 && errno == EINTR);
  if (fd < 0)
    return -errno;

  err = 0;
  while (len > 0) {
    r = read(fd, p, len < RANDOM_CHUNK ? len : RANDOM_CHUNK);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      err = -errno;
      break;
    }
    if (r == 0) {
      err = EDDY_EIO;
      break;
    }
    assert((size_t)r <= len);
    p += r;
    len -= (size_t) r;
  }

  close(fd);
  return err;
}

#if defined(__linux__) && defined(SYS_getrandom)
/* Fill buf via getrandom(2). Returns 0, EDDY_ENOSYS or EDDY_EPERM when the
 * system call is unavailable (old kernel, seccomp sandbox) before any byte
 * was produced, or the error of the failing call. */
static int random_bytes_getrandom(uint8_t *p, size_t len) {
  long r;

  while (len > 0) {
    r = syscall(SYS_getrandom, p, len < RANDOM_CHUNK ? len : RANDOM_CHUNK, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    assert((size_t) r <= len);
    if (r == 0)
      return EDDY_EIO; /* never expected; avoids spinning forever */
    p += r;
    len -= (size_t) r;
  }
  return 0;
}
#endif

/* Prefer getrandom(2): no file descriptor, works in chroots, and blocks
 * only until the kernel pool is first seeded. Fall back to /dev/urandom
 * when the system call does not exist. */
int eddy_random_bytes(void *buf, size_t len) {
  if (buf == NULL && len > 0)
    return EDDY_EINVAL;
  if (len == 0)
    return 0;

#if defined(__linux__) && defined(SYS_getrandom)
  int err = random_bytes_getrandom(buf, len);
  if (err != EDDY_ENOSYS && err != EDDY_EPERM)
    return err;
#endif
  return eddy__random_bytes_urandom(buf, len);
}

/* OR together the XOR of every byte pair so the loop always runs to the
 * end, then map "no difference" to 1 without a data-dependent branch. */
int eddy_timingsafe_equal(const void *a, const void *b, size_t len) {
  const volatile uint8_t *pa = a;
  const volatile uint8_t *pb = b;
  uint32_t diff = 0;
  size_t i;

  if (len == 0)
    return 1;
  if (a == NULL || b == NULL)
    return 0;

  for (i = 0; i < len; i++)
    diff |= (uint32_t) (pa[i] ^ pb[i]);
  /* diff is in 0..255: diff - 1 underflows (top bit set) only if diff == 0. */
  return (int) (((diff - 1) >> 31) & 1);
}
