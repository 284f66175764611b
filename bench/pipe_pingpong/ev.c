/* pipe_pingpong, libev side: tcp_pingpong over a Unix stream socket (a
 * path in a fresh directory under /tmp); see tcp_pingpong/ev.c for the
 * shape, the checks and the output. */
#define BENCH_PIPE 1
#include "../tcp_pingpong/ev.c"
