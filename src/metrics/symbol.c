/* symbol.c: names for code addresses (dladdr, then the module's .symtab)
 * and the formatting of captured stacks, without malloc.
 *
 * Text is assembled with a small bounded writer instead of snprintf, whose
 * glibc implementation may allocate for some conversions. */
#include "metrics/stack.h"

#include <assert.h>
#include <dlfcn.h>
#include <stdint.h>
#include <string.h>

#include "eddy/errno.h"

#if defined(__GLIBC__)
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#define EDDY__HAVE_SYMTAB 1
#endif

/* ---- bounded text ------------------------------------------------------- */

/* Appends to buf[0..len-1], always NUL-terminated; what does not fit is
 * dropped and `truncated` set. len >= 1. */
struct eddy__text {
  char *buf;
  size_t len;
  size_t pos;
  int truncated;
};

static void eddy__text_init(struct eddy__text *t, char *buf, size_t len) {
  assert(len > 0);
  t->buf = buf;
  t->len = len;
  t->pos = 0;
  t->truncated = 0;
  buf[0] = '\0';
}

static void eddy__text_mem(struct eddy__text *t, const char *s, size_t n) {
  size_t room = t->len - 1 - t->pos;

  if (n > room) {
    n = room;
    t->truncated = 1;
  }
  memcpy(t->buf + t->pos, s, n);
  t->pos += n;
  t->buf[t->pos] = '\0';
}

static void eddy__text_str(struct eddy__text *t, const char *s) {
  eddy__text_mem(t, s, strlen(s));
}

/* v in the given base, most significant digit first. */
static void eddy__text_num(struct eddy__text *t, uintptr_t v, unsigned base) {
  char digits[8 * sizeof(v)];
  unsigned n = 0;

  do {
    digits[n++] = "0123456789abcdef"[v % base];
    v /= base;
  } while (v != 0 && n < sizeof(digits));
  while (n > 0)
    eddy__text_mem(t, &digits[--n], 1);
}

static void eddy__text_hex(struct eddy__text *t, uintptr_t v) {
  eddy__text_mem(t, "0x", 2);
  eddy__text_num(t, v, 16);
}

/* "name" or "name+0x1f". */
static void eddy__text_symbol(struct eddy__text *t, const char *name,
                              uintptr_t offset) {
  eddy__text_str(t, name);
  if (offset != 0) {
    eddy__text_str(t, "+");
    eddy__text_hex(t, offset);
  }
}

static const char *eddy__basename(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

/* ---- a module's full symbol table --------------------------------------- */

/* One module's file, mapped while lookups need it; a stack's frames mostly
 * share a few modules, so formatting keeps the last one open. */
struct eddy__symtab {
  const void *base; /* module it was opened for (dli_fbase); NULL: none */
  void *map;        /* the file, or NULL when it has no usable .symtab */
  size_t size;
#ifdef EDDY__HAVE_SYMTAB
  const ElfW(Sym) * syms;
  size_t nsyms;
  const char *strs;
  size_t strsize;
#endif
};

static void eddy__symtab_close(struct eddy__symtab *tab) {
#ifdef EDDY__HAVE_SYMTAB
  if (tab->map != NULL)
    munmap(tab->map, tab->size);
#endif
  memset(tab, 0, sizeof(*tab));
}

#ifdef EDDY__HAVE_SYMTAB
/* Does [off, off+len) lie inside a file of `size` bytes? */
static int eddy__in_file(uint64_t off, uint64_t len, size_t size) {
  return off <= size && len <= size - off;
}

/* Finds .symtab and its string table in the mapped file; 0 or -1. The
 * file must be the one loaded at base: same ELF header. */
static int eddy__symtab_parse(struct eddy__symtab *tab, const void *base) {
  const ElfW(Ehdr) *eh = tab->map;
  const ElfW(Shdr) * sh;
  unsigned i;

  if (tab->size < sizeof(*eh) || memcmp(eh, base, sizeof(*eh)) != 0 ||
      memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 ||
      eh->e_shentsize != sizeof(*sh) ||
      !eddy__in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(*sh),
                     tab->size))
    return -1;
  sh = (const ElfW(Shdr) *)((const char *)tab->map + eh->e_shoff);
  for (i = 0; i < eh->e_shnum; i++) {
    const ElfW(Shdr) *st = &sh[i], *str;

    if (st->sh_type != SHT_SYMTAB || st->sh_entsize != sizeof(ElfW(Sym)) ||
        st->sh_link >= eh->e_shnum ||
        !eddy__in_file(st->sh_offset, st->sh_size, tab->size))
      continue;
    str = &sh[st->sh_link];
    if (str->sh_type != SHT_STRTAB ||
        !eddy__in_file(str->sh_offset, str->sh_size, tab->size))
      continue;
    tab->syms = (const ElfW(Sym) *)((const char *)tab->map + st->sh_offset);
    tab->nsyms = st->sh_size / sizeof(ElfW(Sym));
    tab->strs = (const char *)tab->map + str->sh_offset;
    tab->strsize = str->sh_size;
    return 0;
  }
  return -1;
}

/* Makes tab hold the .symtab of the module loaded at base from path (kept
 * when it already does). Leaves tab->map NULL when there is none. */
static void eddy__symtab_open(struct eddy__symtab *tab, const char *path,
                              const void *base) {
  struct stat stbuf;
  int fd;

  if (tab->base == base)
    return;
  eddy__symtab_close(tab);
  tab->base = base;
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  if (fstat(fd, &stbuf) == 0 && S_ISREG(stbuf.st_mode) && stbuf.st_size > 0) {
    tab->size = (size_t)stbuf.st_size;
    tab->map = mmap(NULL, tab->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (tab->map == MAP_FAILED)
      tab->map = NULL;
  }
  close(fd);
  if (tab->map != NULL && eddy__symtab_parse(tab, base) != 0) {
    munmap(tab->map, tab->size);
    tab->map = NULL;
  }
}

/* The function symbol whose [value, value + size) holds off (an address
 * relative to the module's load bias), or NULL. Its name is checked to
 * end inside the string table. */
static const ElfW(Sym) *
    eddy__symtab_find(const struct eddy__symtab *tab, uintptr_t off) {
  size_t i;

  if (tab->map == NULL)
    return NULL;
  for (i = 0; i < tab->nsyms; i++) {
    const ElfW(Sym) *s = &tab->syms[i];

    if ((s->st_info & 0xf) != STT_FUNC || s->st_shndx == SHN_UNDEF ||
        off < s->st_value || off - s->st_value >= s->st_size)
      continue;
    if (s->st_name < tab->strsize &&
        memchr(tab->strs + s->st_name, '\0', tab->strsize - s->st_name))
      return s;
  }
  return NULL;
}
#endif

/* ---- naming ------------------------------------------------------------- */

/* Names `look` (the address to look up) and prints offsets for `addr`
 * (they differ by one for return addresses). 0 or EDDY_ENOENT. */
static int eddy__symbol_resolve(struct eddy__symtab *tab, uintptr_t addr,
                                uintptr_t look, struct eddy__text *out) {
  uintptr_t base;
  Dl_info info;
#ifdef EDDY__HAVE_SYMTAB
  const ElfW(Sym) *sym = NULL;
  struct link_map *map = NULL;

  if (dladdr1((void *)look, &info, (void **)&sym, RTLD_DL_SYMENT) == 0) {
    eddy__text_hex(out, addr);
    return EDDY_ENOENT;
  }
  /* glibc names only a symbol that contains the address; the size check
   * keeps it so whatever the C library. */
  if (info.dli_sname != NULL && info.dli_saddr != NULL && sym != NULL &&
      (look - (uintptr_t)info.dli_saddr < sym->st_size ||
       look == (uintptr_t)info.dli_saddr)) {
    eddy__text_symbol(out, info.dli_sname, addr - (uintptr_t)info.dli_saddr);
    return 0;
  }
  base = (uintptr_t)info.dli_fbase;
  if (dladdr1((void *)look, &info, (void **)&map, RTLD_DL_LINKMAP) != 0 &&
      map != NULL) {
    /* The executable's link map has an empty name. */
    eddy__symtab_open(tab, map->l_name[0] ? map->l_name : "/proc/self/exe",
                      info.dli_fbase);
    sym = eddy__symtab_find(tab, look - map->l_addr);
    if (sym != NULL) {
      eddy__text_symbol(out, tab->strs + sym->st_name,
                        addr - (map->l_addr + sym->st_value));
      return 0;
    }
    base = map->l_addr; /* the offset addr2line wants, even for ET_EXEC */
  }
#else
  (void)tab;
  if (dladdr((void *)look, &info) == 0) {
    eddy__text_hex(out, addr);
    return EDDY_ENOENT;
  }
  if (info.dli_sname != NULL && info.dli_saddr != NULL) {
    eddy__text_symbol(out, info.dli_sname, addr - (uintptr_t)info.dli_saddr);
    return 0;
  }
  base = (uintptr_t)info.dli_fbase;
#endif
  eddy__text_str(out, eddy__basename(info.dli_fname ? info.dli_fname : "?"));
  eddy__text_str(out, "+");
  eddy__text_hex(out, addr - base);
  return EDDY_ENOENT;
}

int eddy__symbol_name(const void *addr, char *buf, size_t len) {
  struct eddy__symtab tab;
  struct eddy__text out;
  int r;

  if (buf == NULL || len == 0)
    return EDDY_EINVAL;
  memset(&tab, 0, sizeof(tab));
  eddy__text_init(&out, buf, len);
  r = eddy__symbol_resolve(&tab, (uintptr_t)addr, (uintptr_t)addr, &out);
  eddy__symtab_close(&tab);
  return r;
}

/* ---- stacks as text ------------------------------------------------------ */

int eddy__stack_format(void *const *frames, int n,
                       eddy__stack_write_fn write_fn, void *arg) {
  struct eddy__symtab tab;
  char name[EDDY__SYMBOL_MAX];
  char line[EDDY__SYMBOL_MAX + 48]; /* "#N 0x... " + name + "\n" */
  int i, r = 0;

  if (write_fn == NULL || n < 0 || (frames == NULL && n > 0))
    return EDDY_EINVAL;
  memset(&tab, 0, sizeof(tab));
  for (i = 0; i < n && r == 0; i++) {
    uintptr_t a = (uintptr_t)frames[i];
    struct eddy__text nt, lt;

    eddy__text_init(&nt, name, sizeof(name));
    eddy__symbol_resolve(&tab, a, i > 0 && a > 0 ? a - 1 : a, &nt);
    eddy__text_init(&lt, line, sizeof(line));
    eddy__text_str(&lt, "#");
    eddy__text_num(&lt, (uintptr_t)i, 10);
    eddy__text_str(&lt, " ");
    eddy__text_hex(&lt, a);
    eddy__text_str(&lt, " ");
    eddy__text_str(&lt, name);
    eddy__text_str(&lt, "\n");
    assert(!lt.truncated);
    r = write_fn(arg, line, lt.pos);
  }
  eddy__symtab_close(&tab);
  return r;
}

/* write_fn for eddy__stack_format_buf: whole lines or EDDY_ENOBUFS. */
static int eddy__stack_buf_write(void *arg, const char *data, size_t len) {
  struct eddy__text *t = arg;

  if (len > t->len - 1 - t->pos)
    return EDDY_ENOBUFS;
  eddy__text_mem(t, data, len);
  return 0;
}

int eddy__stack_format_buf(void *const *frames, int n, char *buf, size_t len) {
  struct eddy__text t;
  int r;

  if (buf == NULL || len == 0 || len > INT32_MAX)
    return EDDY_EINVAL;
  eddy__text_init(&t, buf, len);
  r = eddy__stack_format(frames, n, eddy__stack_buf_write, &t);
  return r < 0 ? r : (int)t.pos;
}
