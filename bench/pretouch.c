/* pretouch: allocate argv[1] MiB, write every page, free it and exit.
 * run.sh calls it, untimed, right before each big-memory benchmark program:
 * on these VMs memory freed a few seconds earlier goes back to the host and
 * costs several times more to touch again, so without this the first side
 * to run after a big free pays for it in its timings (docs/benchmarking.md,
 * point 2). Prints nothing on stdout; exits 1 if the memory is not there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  long mib = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
  if (mib <= 0) {
    fprintf(stderr, "usage: pretouch MIB\n");
    return 2;
  }
  size_t len = (size_t)mib << 20;
  unsigned char *p = malloc(len);
  if (p == NULL) {
    fprintf(stderr, "pretouch: cannot allocate %ld MiB\n", mib);
    return 1;
  }
  memset(p, 1, len);
  /* Read something back so the writes cannot be optimised away. */
  unsigned sum = 0;
  for (size_t i = 0; i < len; i += 4096) sum += p[i];
  free(p);
  return sum == (unsigned)(len / 4096) ? 0 : 1;
}
