/* A program that uses eddy the way an outside user does: installed headers
 * and library only. It runs a 1 ms timer and exits 0 if it fired. */
#include <eddy.h>
#include <stdio.h>

static int fired;

static void on_timer(eddy_timer_t *timer) {
  fired = 1;
  eddy_close(&timer->handle, NULL);
}

int main(void) {
  eddy_loop_t loop;
  eddy_timer_t timer;

  if (eddy_loop_init(&loop) != 0 || eddy_timer_init(&loop, &timer) != 0 ||
      eddy_timer_start(&timer, on_timer, 1, 0) != 0)
    return 1;
  eddy_run(&loop, EDDY_RUN_DEFAULT);
  if (eddy_loop_close(&loop) != 0 || !fired)
    return 1;
  printf("consumer ok, eddy %s\n", eddy_version_string());
  return 0;
}
