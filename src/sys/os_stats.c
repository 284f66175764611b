/* os_stats.c: CPUs, load average, memory, uptime and resident set size.
 *
 * Linux reads /proc and /sys, as libuv does; the readers take their paths
 * as arguments (see os_internal.h) so the tests can feed them made-up
 * files. Other systems get the cheap portable answers listed in eddy/os.h
 * and EDDY_ENOSYS for the rest. */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/sysinfo.h>
#endif

#include "eddy/os.h"
#include "sys/os_internal.h"

/* --- text helpers --------------------------------------------------------- */

/* The line after the one p is in, or NULL at the end of the text. */
static const char *eddy__next_line(const char *p) {
  p = strchr(p, '\n');
  return p == NULL ? NULL : p + 1;
}

/* If line starts with key followed by blanks and a ':', the value after it
 * (blanks skipped), else NULL. */
static const char *eddy__field(const char *line, const char *key) {
  size_t n = strlen(key);

  if (strncmp(line, key, n) != 0)
    return NULL;
  line += n;
  while (*line == ' ' || *line == '\t')
    line++;
  if (*line != ':')
    return NULL;
  line++;
  while (*line == ' ' || *line == '\t')
    line++;
  return line;
}

/* Length of the value starting at v, up to the end of its line. */
static size_t eddy__value_len(const char *v) {
  size_t n = strcspn(v, "\n");

  while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
    n--;
  return n;
}

/* --- CPUs ----------------------------------------------------------------- */

/* What /proc/cpuinfo says about one processor. */
struct eddy__cpu_desc {
  const char *model; /* into the cpuinfo text; NULL: not said */
  size_t model_len;
  int mhz;
};

/* Record the model and MHz /proc/cpuinfo gives each "processor : N" block
 * (N < ncpu); keys before the first block (some ARM kernels) apply to all. */
static void eddy__cpuinfo_scan(const char *text, struct eddy__cpu_desc *d,
                               size_t ncpu) {
  static const char *const model_keys[] = {"model name", "Processor",
                                           "cpu model", "cpu"};
  struct eddy__cpu_desc common = {NULL, 0, 0};
  struct eddy__cpu_desc *cur = &common;
  const char *line, *v;
  size_t i, k;

  for (line = text; line != NULL && *line != '\0';
       line = eddy__next_line(line)) {
    if ((v = eddy__field(line, "processor")) != NULL) {
      unsigned long n = strtoul(v, NULL, 10);
      cur = n < ncpu ? &d[n] : NULL;
      continue;
    }
    if (cur == NULL)
      continue;
    if ((v = eddy__field(line, "cpu MHz")) != NULL) {
      cur->mhz = (int)strtol(v, NULL, 10);
      continue;
    }
    for (k = 0; k < sizeof(model_keys) / sizeof(model_keys[0]); k++) {
      v = eddy__field(line, model_keys[k]);
      if (v != NULL && cur->model == NULL) {
        cur->model = v;
        cur->model_len = eddy__value_len(v);
      }
    }
  }
  for (i = 0; i < ncpu; i++) {
    if (d[i].model == NULL) {
      d[i].model = common.model;
      d[i].model_len = common.model_len;
    }
    if (d[i].mhz == 0)
      d[i].mhz = common.mhz;
  }
}

/* cpufreq's current clock of CPU n in MHz, or 0 when it is not exposed (as
 * in most virtual machines). */
static int eddy__cpufreq_mhz(const char *sysfs_cpu, unsigned n) {
  char path[512];
  char *text;
  long khz;

  if (snprintf(path, sizeof(path), "%s/cpu%u/cpufreq/scaling_cur_freq",
               sysfs_cpu, n) >= (int)sizeof(path))
    return 0;
  if (eddy__read_file(path, &text, NULL) != 0)
    return 0;
  khz = strtol(text, NULL, 10);
  free(text);
  return khz > 0 && khz / 1000 <= INT_MAX ? (int)(khz / 1000) : 0;
}

/* Parse "cpuN user nice system idle iowait irq ..." into times (ms) and
 * *index; returns 0 if line is not a per-CPU line. */
static int eddy__stat_cpu_line(const char *line, long clk_tck,
                               eddy_cpu_times_t *t, unsigned *index) {
  unsigned long long user, nice, sys, idle, iowait, irq;
  unsigned n;

  if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
    return 0;
  if (sscanf(line + 3, "%u %llu %llu %llu %llu %llu %llu", &n, &user, &nice,
             &sys, &idle, &iowait, &irq) != 7)
    return 0;
  t->user = user * 1000 / (unsigned long long)clk_tck;
  t->nice = nice * 1000 / (unsigned long long)clk_tck;
  t->sys = sys * 1000 / (unsigned long long)clk_tck;
  t->idle = idle * 1000 / (unsigned long long)clk_tck;
  t->irq = irq * 1000 / (unsigned long long)clk_tck;
  *index = n;
  return 1;
}

/* One block: the entries, then the model strings. */
static int eddy__cpu_info_build(const char *stat, const char *cpuinfo,
                                const char *sysfs_cpu, long clk_tck,
                                eddy_cpu_info_t **cpu_infos, int *count) {
  struct eddy__cpu_desc *desc;
  eddy_cpu_times_t times;
  size_t ncpu = 0, maxidx = 0, bytes = 0, i = 0;
  unsigned idx;
  eddy_cpu_info_t *out;
  const char *line;
  char *p;

  for (line = stat; line != NULL; line = eddy__next_line(line))
    if (eddy__stat_cpu_line(line, clk_tck, &times, &idx)) {
      ncpu++;
      if (idx >= maxidx)
        maxidx = (size_t)idx + 1;
    }
  if (ncpu == 0 || ncpu > INT_MAX)
    return EDDY_EIO;
  desc = calloc(maxidx, sizeof(*desc));
  if (desc == NULL)
    return EDDY_ENOMEM;
  if (cpuinfo != NULL)
    eddy__cpuinfo_scan(cpuinfo, desc, maxidx);
  for (line = stat; line != NULL; line = eddy__next_line(line))
    if (eddy__stat_cpu_line(line, clk_tck, &times, &idx))
      bytes += (desc[idx].model != NULL ? desc[idx].model_len : 7) + 1;
  out = malloc(ncpu * sizeof(*out) + bytes);
  if (out == NULL) {
    free(desc);
    return EDDY_ENOMEM;
  }
  p = (char *)(out + ncpu);
  i = 0;
  for (line = stat; line != NULL; line = eddy__next_line(line)) {
    if (!eddy__stat_cpu_line(line, clk_tck, &times, &idx))
      continue;
    assert(i < ncpu);
    const struct eddy__cpu_desc *d = &desc[idx];
    const char *model = d->model != NULL ? d->model : "unknown";
    size_t len = d->model != NULL ? d->model_len : 7;
    memcpy(p, model, len);
    p[len] = '\0';
    out[i].model = p;
    p += len + 1;
    out[i].speed = eddy__cpufreq_mhz(sysfs_cpu, idx);
    if (out[i].speed == 0)
      out[i].speed = d->mhz;
    out[i].cpu_times = times;
    i++;
  }
  free(desc);
  *cpu_infos = out;
  *count = (int)ncpu;
  return 0;
}

int eddy__cpu_info_read(const char *stat_path, const char *cpuinfo_path,
                        const char *sysfs_cpu, long clk_tck,
                        eddy_cpu_info_t **cpu_infos, int *count) {
  char *stat, *cpuinfo = NULL;
  int r;

  if (cpu_infos == NULL || count == NULL || clk_tck <= 0)
    return EDDY_EINVAL;
  r = eddy__read_file(stat_path, &stat, NULL);
  if (r != 0)
    return r;
  if (eddy__read_file(cpuinfo_path, &cpuinfo, NULL) != 0)
    cpuinfo = NULL; /* models and speeds unknown, times still good */
  r = eddy__cpu_info_build(stat, cpuinfo, sysfs_cpu, clk_tck, cpu_infos, count);
  free(stat);
  free(cpuinfo);
  return r;
}

int eddy_cpu_info(eddy_cpu_info_t **cpu_infos, int *count) {
#ifdef __linux__
  long tck = sysconf(_SC_CLK_TCK);

  return eddy__cpu_info_read("/proc/stat", "/proc/cpuinfo",
                             "/sys/devices/system/cpu", tck > 0 ? tck : 100,
                             cpu_infos, count);
#else
  if (cpu_infos == NULL || count == NULL)
    return EDDY_EINVAL;
  return EDDY_ENOSYS;
#endif
}

void eddy_free_cpu_info(eddy_cpu_info_t *cpu_infos, int count) {
  (void)count; /* one block: see eddy__cpu_info_build */
  free(cpu_infos);
}

/* --- load, uptime, rss ---------------------------------------------------- */

void eddy_loadavg(double avg[3]) {
#ifdef __linux__
  struct sysinfo info;

  if (sysinfo(&info) == 0) {
    avg[0] = (double)info.loads[0] / (double)(1 << SI_LOAD_SHIFT);
    avg[1] = (double)info.loads[1] / (double)(1 << SI_LOAD_SHIFT);
    avg[2] = (double)info.loads[2] / (double)(1 << SI_LOAD_SHIFT);
    return;
  }
#elif defined(__APPLE__) || defined(__FreeBSD__) || defined(__OpenBSD__) ||    \
    defined(__NetBSD__) || defined(__DragonFly__)
  if (getloadavg(avg, 3) == 3)
    return;
#endif
  avg[0] = avg[1] = avg[2] = 0;
}

int eddy_uptime(double *uptime) {
#ifdef __linux__
  struct timespec ts;
  char *text;

  if (uptime == NULL)
    return EDDY_EINVAL;
  if (eddy__read_file("/proc/uptime", &text, NULL) == 0) {
    char *end;
    double v = strtod(text, &end);
    int ok = end != text;
    free(text);
    if (ok) {
      *uptime = v;
      return 0;
    }
  }
  /* No /proc (a chroot, say): the boot clock counts the same seconds. */
  if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0)
    return -errno;
  *uptime = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
  return 0;
#else
  if (uptime == NULL)
    return EDDY_EINVAL;
  return EDDY_ENOSYS;
#endif
}

int eddy_resident_set_memory(size_t *rss) {
#ifdef __linux__
  unsigned long pages = 0;
  const char *p;
  char *text;
  int r, i;

  if (rss == NULL)
    return EDDY_EINVAL;
  r = eddy__read_file("/proc/self/stat", &text, NULL);
  if (r != 0)
    return r;
  /* The command name (field 2) may hold spaces and parentheses: fields
   * are counted from its closing ')'. RSS is field 24, in pages. */
  p = strrchr(text, ')');
  for (i = 3; p != NULL && i <= 24; i++) {
    p = strchr(p + 1, ' ');
    if (p != NULL && i == 24)
      pages = strtoul(p + 1, NULL, 10);
  }
  free(text);
  if (p == NULL)
    return EDDY_EIO;
  *rss = (size_t)pages * (size_t)sysconf(_SC_PAGESIZE);
  return 0;
#else
  if (rss == NULL)
    return EDDY_EINVAL;
  return EDDY_ENOSYS;
#endif
}

/* --- memory -------------------------------------------------------------- */

#ifdef __linux__
/* A "Key:   123 kB" value of /proc/meminfo in bytes, or 0. */
static uint64_t eddy__meminfo(const char *key) {
  const char *line, *v;
  uint64_t bytes = 0;
  char *text;

  if (eddy__read_file("/proc/meminfo", &text, NULL) != 0)
    return 0;
  for (line = text; line != NULL; line = eddy__next_line(line))
    if ((v = eddy__field(line, key)) != NULL) {
      bytes = (uint64_t)strtoull(v, NULL, 10) * 1024;
      break;
    }
  free(text);
  return bytes;
}
#endif

uint64_t eddy_get_free_memory(void) {
#ifdef __linux__
  struct sysinfo info;
  uint64_t v = eddy__meminfo("MemAvailable");

  if (v != 0)
    return v;
  if (sysinfo(&info) == 0)
    return (uint64_t)info.freeram * info.mem_unit;
  return 0;
#elif defined(_SC_AVPHYS_PAGES)
  long pages = sysconf(_SC_AVPHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
#else
  return 0;
#endif
}

uint64_t eddy_get_total_memory(void) {
#ifdef __linux__
  struct sysinfo info;
  uint64_t v = eddy__meminfo("MemTotal");

  if (v != 0)
    return v;
  if (sysinfo(&info) == 0)
    return (uint64_t)info.totalram * info.mem_unit;
  return 0;
#elif defined(_SC_PHYS_PAGES)
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
#else
  return 0;
#endif
}

/* --- cgroups ------------------------------------------------------------- */

/* A memory limit or usage file: the number, or UINT64_MAX for "max" (v2),
 * for a v1 value past 2^62 (the kernel's "unlimited" is LONG_MAX rounded to
 * pages), or for a missing or unreadable file. */
static uint64_t eddy__cgroup_value(const char *dir, const char *file) {
  char path[4096];
  unsigned long long v;
  char *text, *end;

  if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path))
    return UINT64_MAX;
  if (eddy__read_file(path, &text, NULL) != 0)
    return UINT64_MAX;
  v = strtoull(text, &end, 10);
  if (end == text || v >= (1ull << 62))
    v = UINT64_MAX;
  free(text);
  return (uint64_t)v;
}

/* Walk dir and its parents up to root; keep the smallest limit and the
 * smallest limit minus usage. v2 names its files memory.max, memory.high and
 * memory.current; v1 memory.limit_in_bytes and memory.usage_in_bytes. */
static void eddy__cgroup_walk(char *dir, size_t root_len, int v2,
                              uint64_t *limit, uint64_t *room) {
  uint64_t lim, high, used;
  char *slash;

  for (;;) {
    lim = eddy__cgroup_value(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
    if (v2) {
      high = eddy__cgroup_value(dir, "memory.high");
      lim = high < lim ? high : lim;
    }
    if (lim != UINT64_MAX) {
      used = eddy__cgroup_value(dir, v2 ? "memory.current"
                                        : "memory.usage_in_bytes");
      if (lim < *limit)
        *limit = lim;
      if (used == UINT64_MAX)
        used = 0;
      used = used < lim ? lim - used : 0;
      if (used < *room)
        *room = used;
    }
    slash = strrchr(dir, '/');
    if (slash == NULL || (size_t)(slash - dir) < root_len)
      break;
    *slash = '\0';
  }
}

int eddy__cgroup_memory(const char *proc_cgroup, const char *root,
                        uint64_t *limit, uint64_t *room) {
  const char *line, *v1 = NULL, *v2 = NULL;
  char dir[4096];
  char *text;
  size_t n;
  int r, len;

  *limit = UINT64_MAX;
  *room = UINT64_MAX;
  r = eddy__read_file(proc_cgroup, &text, NULL);
  if (r != 0)
    return r;
  /* "ID:controllers:path". A v1 hierarchy that lists "memory" holds the
   * memory controller; otherwise the v2 line "0::path" does. */
  for (line = text; line != NULL; line = eddy__next_line(line)) {
    const char *c = strchr(line, ':'), *p, *m;
    if (c == NULL)
      continue;
    p = strchr(c + 1, ':');
    if (p == NULL)
      continue;
    if (p == c + 1 && strncmp(line, "0:", 2) == 0)
      v2 = p + 1;
    for (m = c + 1; m < p; m += n + (m[n] == ',')) {
      n = strcspn(m, ",:");
      if (n == 6 && strncmp(m, "memory", 6) == 0)
        v1 = p + 1;
    }
  }
  line = v1 != NULL ? v1 : v2;
  if (line != NULL) {
    n = eddy__value_len(line);
    while (n > 0 && line[n - 1] == '/')
      n--; /* the root cgroup "/" walks nothing above the mount */
    len = snprintf(dir, sizeof(dir), "%s%s%.*s", root,
                   v1 != NULL ? "/memory" : "", (int)n, line);
    if (len > 0 && (size_t)len < sizeof(dir))
      eddy__cgroup_walk(dir, (size_t)len - n, v1 == NULL, limit, room);
  }
  free(text);
  if (*limit == UINT64_MAX)
    *limit = 0;
  return 0;
}

uint64_t eddy_get_constrained_memory(void) {
#ifdef __linux__
  uint64_t limit, room;

  if (eddy__cgroup_memory("/proc/self/cgroup", "/sys/fs/cgroup", &limit,
                          &room) != 0)
    return 0;
  return limit;
#else
  return 0;
#endif
}

uint64_t eddy_get_available_memory(void) {
  uint64_t free_mem = eddy_get_free_memory();
#ifdef __linux__
  uint64_t limit, room;

  if (eddy__cgroup_memory("/proc/self/cgroup", "/sys/fs/cgroup", &limit,
                          &room) == 0 &&
      room < free_mem)
    return room;
#endif
  return free_mem;
}
