/* format.c: every metric of a loop as Prometheus text exposition
 * (format 0.0.4): "# HELP", "# TYPE", then "name{labels} value" lines.
 * Histograms are written as summaries (quantiles, _sum, _count), in
 * seconds as Prometheus expects; counters of time too. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "metrics/metrics_internal.h"

struct eddy__prom {
  char *buf;
  size_t len;
  size_t at;
  int full;
};

static void eddy__prom_printf(struct eddy__prom *p, const char *fmt, ...) {
  va_list ap;
  int n;

  if (p->full)
    return;
  va_start(ap, fmt);
  n = vsnprintf(p->buf + p->at, p->len - p->at, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= p->len - p->at) {
    p->full = 1;
    p->buf[p->at] = '\0';
    return;
  }
  p->at += (size_t)n;
}

static void eddy__prom_head(struct eddy__prom *p, const char *name,
                            const char *type, const char *help) {
  eddy__prom_printf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void eddy__prom_value(struct eddy__prom *p, const char *name,
                             const char *type, const char *help, double value) {
  eddy__prom_head(p, name, type, help);
  eddy__prom_printf(p, "%s %.17g\n", name, value);
}

static void eddy__prom_summary(struct eddy__prom *p, const char *name,
                               const char *help,
                               const eddy_metrics_histogram_t *h) {
  static const double q[] = {0.5, 0.9, 0.99, 0.999};
  uint64_t v[4] = {h->p50, h->p90, h->p99, h->p999};
  unsigned i;

  eddy__prom_head(p, name, "summary", help);
  for (i = 0; i < 4; i++)
    eddy__prom_printf(p, "%s{quantile=\"%g\"} %.9f\n", name, q[i],
                      (double)v[i] / 1e9);
  eddy__prom_printf(p, "%s_sum %.9f\n%s_count %llu\n", name,
                    h->mean * (double)h->count / 1e9, name,
                    (unsigned long long)h->count);
  eddy__prom_printf(p,
                    "%s_min %.9f\n%s_max %.9f\n%s_mean %.9f\n"
                    "%s_stddev %.9f\n",
                    name, (double)h->min / 1e9, name, (double)h->max / 1e9,
                    name, h->mean / 1e9, name, h->stddev / 1e9);
}

static void eddy__prom_loop(struct eddy__prom *p, const eddy_loop_t *loop) {
  eddy_metrics_loop_t m;
  unsigned i;

  eddy_metrics_loop(loop, &m);
  eddy__prom_value(p, "eddy_loop_iterations_total", "counter",
                   "Loop iterations completed.", (double)m.iterations);
  eddy__prom_value(p, "eddy_loop_events_total", "counter",
                   "I/O events dispatched.", (double)m.events);
  eddy__prom_value(p, "eddy_loop_events_waiting", "gauge",
                   "Events the last poll wait returned.",
                   (double)m.events_waiting);
  eddy__prom_head(p, "eddy_loop_active_handles", "gauge",
                  "Active handles by type.");
  for (i = 1; i < EDDY_HANDLE_TYPE_MAX; i++) {
    const char *name = eddy_handle_type_name((eddy_handle_type)i);

    if (name != NULL)
      eddy__prom_printf(p, "eddy_loop_active_handles{type=\"%s\"} %u\n", name,
                        m.active_handles[i]);
  }
  eddy__prom_value(p, "eddy_loop_active_requests", "gauge",
                   "Requests in flight.", (double)m.active_requests);
  eddy__prom_head(p, "eddy_loop_requests", "gauge",
                  "Requests in flight by type, since metrics were enabled.");
  for (i = 0; i < EDDY_REQ_TYPE_MAX; i++) {
    const char *name = eddy_req_type_name((eddy_req_type)i);

    if (name != NULL)
      eddy__prom_printf(p, "eddy_loop_requests{type=\"%s\"} %u\n", name,
                        m.requests[i]);
  }
  eddy__prom_head(p, "eddy_loop_phase_seconds_total", "counter",
                  "Time per loop phase (with EDDY_METRICS_PHASES).");
  for (i = 0; i < EDDY_METRICS_PHASE_COUNT; i++)
    eddy__prom_printf(p, "eddy_loop_phase_seconds_total{phase=\"%s\"} %.9f\n",
                      eddy_metrics_phase_name((eddy_metrics_phase)i),
                      (double)m.phase_ns[i] / 1e9);
}

static void eddy__prom_pool(struct eddy__prom *p, const eddy_loop_t *loop) {
  static const char *const kinds[EDDY_METRICS_POOL_KINDS] = {"cpu", "fs",
                                                             "dns"};
  eddy_metrics_pool_t m;
  unsigned k;

  eddy_metrics_pool(loop, &m);
  eddy__prom_value(p, "eddy_pool_threads", "gauge", "Work pool threads.",
                   (double)m.threads);
  eddy__prom_value(p, "eddy_pool_busy_threads", "gauge",
                   "Work pool threads not waiting for a job.", (double)m.busy);
  eddy__prom_value(p, "eddy_pool_queue_depth", "gauge",
                   "Jobs waiting for a pool thread.", (double)m.queued);
  eddy__prom_head(p, "eddy_pool_jobs_completed_total", "counter",
                  "This loop's pool jobs delivered, by kind.");
  for (k = 0; k < EDDY_METRICS_POOL_KINDS; k++)
    eddy__prom_printf(p, "eddy_pool_jobs_completed_total{kind=\"%s\"} %llu\n",
                      kinds[k], (unsigned long long)m.kinds[k].completed);
  eddy__prom_head(p, "eddy_pool_queue_wait_seconds", "gauge",
                  "Time this loop's jobs waited for a thread, by kind.");
  for (k = 0; k < EDDY_METRICS_POOL_KINDS; k++)
    eddy__prom_printf(p,
                      "eddy_pool_queue_wait_seconds{kind=\"%s\",quantile="
                      "\"0.5\"} %.9f\n"
                      "eddy_pool_queue_wait_seconds{kind=\"%s\",quantile="
                      "\"0.99\"} %.9f\n",
                      kinds[k], (double)m.kinds[k].wait_p50_ns / 1e9, kinds[k],
                      (double)m.kinds[k].wait_p99_ns / 1e9);
}

int eddy_metrics_format(const eddy_loop_t *loop, char *buf, size_t len) {
  struct eddy__prom p = {buf, len, 0, 0};
  eddy_metrics_elu_t elu;
  eddy_metrics_histogram_t h;

  if (loop == NULL || buf == NULL || len == 0)
    return EDDY_EINVAL;
  buf[0] = '\0';
  eddy__prom_loop(&p, loop);
  if (eddy_metrics_elu(loop, &elu) == 0) {
    eddy__prom_value(&p, "eddy_loop_idle_seconds_total", "counter",
                     "Time parked in the poll wait.",
                     (double)elu.idle_ns / 1e9);
    eddy__prom_value(&p, "eddy_loop_active_seconds_total", "counter",
                     "Time out of the poll wait.", (double)elu.active_ns / 1e9);
    eddy__prom_value(&p, "eddy_loop_utilization", "gauge",
                     "Active share of the time since metrics were enabled.",
                     elu.utilization);
  }
  if (eddy_metrics_delay(loop, &h) == 0)
    eddy__prom_summary(&p, "eddy_loop_delay_seconds",
                       "Loop delay, sampled once per iteration.", &h);
  if (eddy_metrics_delay_timer(loop, &h) == 0 && h.count != 0)
    eddy__prom_summary(&p, "eddy_loop_delay_timer_seconds",
                       "Loop delay, timer-based (as Node's).", &h);
  eddy__prom_pool(&p, loop);
  return p.full ? EDDY_ENOBUFS : (int)p.at;
}
