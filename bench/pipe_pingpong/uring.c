/* pipe_pingpong, io_uring side: tcp_pingpong over a Unix stream socket (a
 * path in a fresh directory under /tmp); see tcp_pingpong/uring.c for the
 * shape, the checks and the output. */
#define BENCH_PIPE 1
#include "../tcp_pingpong/uring.c"
