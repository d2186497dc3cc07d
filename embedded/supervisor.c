/*
 * isol8-supervisor: the in-container helper that runs every execution.
 *
 * Runs as root (caps: SETUID, SETGID, SETPCAP, KILL only) under tini, and talks to
 * the engine over its fds 0 and 1: the container's attached stdin/stdout, or the engine's
 * direct channel (see "direct channel") put in their place at start. User programs run as the
 * sandbox uid with empty capability sets; they get their own pipes, never this
 * process's fds 0 and 1, and cannot signal or ptrace it (different uid, no caps),
 * so the control channel cannot be read, forged or hijacked by user code.
 *
 * Frames in both directions: [u8 type][u32 big-endian length][payload].
 *   engine -> supervisor
 *     'W' write file   [u32 mode][u16 len][relpath][content]        -> 'w' "ok" | "<reason>: <detail>"
 *     'G' read file    [u32 max][relpath]                           -> 'g' [u8 1][content] | [u8 0]<reason>: <detail>
 *     'X' execute      TLV list [u8 key][u32 len][value]            -> '1'/'2'..., 'E'
 *     'K' abort the running execution (only while one runs)
 *     'C' clean + verify (processes, /sandbox, /tmp, /dev/shm, IPC, xattrs) -> 'c' status text
 *     'P' ping                                                      -> 'p'
 *     'H' hold: keep running after the engine detaches (for inspection)
 *   supervisor -> engine
 *     'R' ready (version, uid, pid), '1' stdout bytes, '2' stderr bytes, 'E' exit report (key=value lines)
 *
 * File reasons (a refused 'W' or 'G'): not-found, outside-sandbox, symlink, not-regular-file,
 * permission-denied, too-large, invalid-path, io. File work never blocks: nothing but a regular
 * file is ever opened for reading or writing, every open is non-blocking, and a symlink is
 * never written through.
 *
 * The sandbox uid (= gid) comes from the engine in ISOL8_SANDBOX_UID, one per container, so
 * per-user kernel limits are not shared between containers. At start the supervisor writes
 * /etc/isol8/passwd and /etc/isol8/group (a root-owned tmpfs; /etc/passwd and /etc/group
 * link there) from the image's entries plus a "sandbox" entry for that uid.
 *
 * Process tree of one execution: supervisor -> runner (child subreaper, collects the
 * execution's rusage) -> user program (own session). Orphans re-parent to the runner, so
 * rusage covers every process of the execution and nothing of earlier ones. With the python
 * zygote ('z' in the execute frame, see "python zygote"): supervisor -> zygote (root, never
 * runs user code; the child subreaper and runner of each program it forks) -> user program,
 * with the same posture and reports. With a
 * standby program ('p', see "standby program"): the same tree as without, started after the
 * last clean; the program takes the execution's argv, env and working directory from fd 3.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define SANDBOX_DIR "/sandbox"
#define UID_ENV "ISOL8_SANDBOX_UID"
#define UID_MAX_ALLOWED 2147483646ULL
/* Under gVisor only: the pidsLimit, applied as RLIMIT_NPROC to every program (see process_limit). */
#define PROCESS_LIMIT_ENV "ISOL8_PROCESS_LIMIT"
#define PROCESS_LIMIT_MAX 4194304ULL
/* Written at start (a root-owned tmpfs the engine mounts); the image's own entries live in IMAGE_IDENTITY_DIR. */
#define IDENTITY_DIR "/etc/isol8"
#define IMAGE_IDENTITY_DIR "/usr/local/lib/isol8"
#define IO_CHUNK 65536
#define KILL_BUDGET_MS 3000
#define DRAIN_BUDGET_MS 2000

static const char *WIPE_DIRS[] = {"/sandbox", "/tmp", "/dev/shm", "/dev/mqueue", NULL};

/* The uid (and gid) user programs run as in this container; set once at start from UID_ENV. */
static uid_t sandbox_uid;
static gid_t sandbox_gid;

/* RLIMIT_NPROC of every program, or 0 for none. Set under gVisor, whose kernel counts each
 * uid's processes against it (fork fails with EAGAIN, as at pids.max under runc), while the
 * host's pids limit, which gVisor's own threads share, would stop the whole sandbox. */
static rlim_t process_limit;

/* ---------- small utilities ---------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void logf_(const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
  buf[n++] = '\n';
  ssize_t ignored = write(2, buf, (size_t)n);
  (void)ignored;
}

static int write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        poll(&pfd, 1, 100);
        continue;
      }
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

/* One frame in one write where the pipe takes it whole (every relay between here and the engine
 * then handles it once); the rest, if any, follows. */
static void send_frame(char type, const void *payload, uint32_t len) {
  unsigned char hdr[5] = {(unsigned char)type, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
                          (unsigned char)(len >> 8), (unsigned char)len};
  struct iovec iov[2] = {{.iov_base = hdr, .iov_len = 5}, {.iov_base = (void *)payload, .iov_len = len}};
  ssize_t n;
  do n = writev(1, iov, len ? 2 : 1);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN) _exit(3); /* the engine is gone: nothing left to serve */
  size_t done = n < 0 ? 0 : (size_t)n;
  if (done < 5 && write_all(1, hdr + done, 5 - done) < 0) _exit(3);
  size_t sent = done > 5 ? done - 5 : 0;
  if (sent < len && write_all(1, (const char *)payload + sent, len - sent) < 0) _exit(3);
}

static void send_text(char type, const char *fmt, ...) {
  char buf[4096];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if (n >= (int)sizeof buf) n = sizeof buf - 1;
  send_frame(type, buf, (uint32_t)n);
}

static uint32_t rd32(const unsigned char *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* ---------- control-channel reader ---------- */

static unsigned char *in_buf;
static size_t in_len, in_cap;
static int in_eof;

/* Reads whatever is available on fd 0 into the buffer. Returns -1 on EOF. */
static int fill_input(void) {
  if (in_cap - in_len < IO_CHUNK) {
    size_t cap = in_cap ? in_cap * 2 : 4 * IO_CHUNK;
    while (cap - in_len < IO_CHUNK) cap *= 2;
    unsigned char *nb = realloc(in_buf, cap);
    if (!nb) _exit(4);
    in_buf = nb;
    in_cap = cap;
  }
  ssize_t n = read(0, in_buf + in_len, in_cap - in_len);
  if (n == 0) {
    in_eof = 1;
    return -1;
  }
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
  in_len += (size_t)n;
  return 0;
}

/* If a complete frame is buffered, returns 1 and sets type/payload/len (valid until consume_frame). */
static int peek_frame(char *type, unsigned char **payload, uint32_t *len) {
  if (in_len < 5) return 0;
  uint32_t l = rd32(in_buf + 1);
  if (in_len < 5 + (size_t)l) return 0;
  *type = (char)in_buf[0];
  *payload = in_buf + 5;
  *len = l;
  return 1;
}

static void consume_frame(void) {
  uint32_t l = rd32(in_buf + 1);
  size_t total = 5 + (size_t)l;
  memmove(in_buf, in_buf + total, in_len - total);
  in_len -= total;
}

/* Blocks until a full frame is buffered. Returns 0 on EOF. */
static int wait_frame(char *type, unsigned char **payload, uint32_t *len) {
  for (;;) {
    if (peek_frame(type, payload, len)) return 1;
    if (in_eof || fill_input() < 0) return 0;
  }
}

/* ---------- identity switching for file work ---------- */

/* gVisor has no setfsuid/setfsgid: there file work switches the effective ids instead. The
 * real and saved ids stay 0, so no sandbox process can signal or trace the supervisor meanwhile
 * (and a change of euid makes it non-dumpable); file work never overlaps a running program. */
static int no_fsuid(void) {
  static int known = -1;
  if (known < 0) known = syscall(SYS_setfsuid, -1) < 0; /* on Linux it never fails: it returns the fsuid */
  return known;
}

/* File work as uid/gid (back with as_root). */
static void as_ids(uid_t uid, gid_t gid) {
  if (no_fsuid()) {
    if (setegid(gid) < 0 || seteuid(uid) < 0) _exit(5);
    return;
  }
  setfsgid(gid);
  setfsuid(uid);
}

static void as_sandbox(void) { as_ids(sandbox_uid, sandbox_gid); }

static void as_root(void) {
  if (no_fsuid()) {
    if (seteuid(0) < 0 || setegid(0) < 0) _exit(5);
    return;
  }
  setfsuid(0);
  setfsgid(0);
}

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

static long open_beneath_walk(int root, const char *path, int flags, mode_t mode);

static long sys_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = (uint64_t)flags;
  how.mode = (flags & O_CREAT) ? mode : 0;
  how.resolve = resolve;
  return syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

static long openat2_(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve) {
  /* gVisor (and kernels before 5.6) have no openat2 (gVisor's seccomp filter refuses the call
   * with EPERM, its kernel with ENOSYS): when opening the directory itself fails, every call
   * takes the walk below. */
  static int missing = -1;
  if (missing < 0) {
    long probe = sys_openat2(dirfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC, 0, BENEATH);
    missing = probe < 0;
    if (probe >= 0) close((int)probe);
  }
  if (!missing) return sys_openat2(dirfd, path, flags, mode, resolve);
  if (resolve != BENEATH) {
    errno = ENOSYS;
    return -1;
  }
  return open_beneath_walk(dirfd, path, flags, mode);
}

#define WALK_MAX_DEPTH 512
#define WALK_MAX_LINKS 40

/*
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) done by hand, one component at a time,
 * each opened with O_NOFOLLOW relative to the directory before it: ".." above root and an
 * absolute symlink fail with EXDEV (as openat2 does), a relative symlink is resolved the same
 * way from where it sits (at most 40, else ELOOP), and the final component is opened with
 * O_NOFOLLOW (a final symlink is followed only when the caller did not pass O_NOFOLLOW).
 * Nothing outside root is ever named, so no magic link (/proc) is reachable either.
 */
static long open_beneath_walk(int root, const char *path, int flags, mode_t mode) {
  static char rest[2 * 4096 + 2];
  int dirs[WALK_MAX_DEPTH];
  int depth = 0, links = 0, err = 0;
  long result = -1;
  size_t plen = strlen(path);
  if (plen >= 4096) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(rest, path, plen + 1);
#define CUR (depth ? dirs[depth - 1] : root)
  for (;;) {
    char *p = rest;
    while (*p == '/') p++;
    if (!*p) { /* nothing left (empty path, or it ended in "." or ".."): the current directory */
      result = openat(CUR, ".", (flags & ~(O_CREAT | O_NOFOLLOW)) | O_CLOEXEC, mode);
      if (result < 0) err = errno;
      break;
    }
    char *slash = strchr(p, '/');
    size_t nlen = slash ? (size_t)(slash - p) : strlen(p);
    char name[256];
    if (nlen >= sizeof name) { err = ENAMETOOLONG; break; }
    memcpy(name, p, nlen);
    name[nlen] = 0;
    memmove(rest, p + nlen, strlen(p + nlen) + 1);
    int last = rest[strspn(rest, "/")] == 0;
    if (!strcmp(name, ".")) continue;
    if (!strcmp(name, "..")) {
      if (!depth) { err = EXDEV; break; }
      close(dirs[--depth]);
      continue;
    }
    struct stat st;
    int follow_final = !(flags & O_NOFOLLOW);
    if (fstatat(CUR, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) && (!last || follow_final)) {
      char target[4096];
      ssize_t tlen = readlinkat(CUR, name, target, sizeof target - 1);
      if (tlen < 0) { err = errno; break; }
      target[tlen] = 0;
      if (++links > WALK_MAX_LINKS) { err = ELOOP; break; }
      if (target[0] == '/') { err = EXDEV; break; }
      size_t left = strlen(rest);
      if ((size_t)tlen + 1 + left + 1 > sizeof rest) { err = ENAMETOOLONG; break; }
      memmove(rest + tlen + 1, rest, left + 1);
      memcpy(rest, target, (size_t)tlen);
      rest[tlen] = '/';
      continue;
    }
    if (last) {
      result = openat(CUR, name, flags | O_NOFOLLOW | O_CLOEXEC, mode);
      if (result < 0) err = errno;
      break;
    }
    int fd = openat(CUR, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) { err = errno == ELOOP ? ENOTDIR : errno; break; }
    if (depth == WALK_MAX_DEPTH) { close(fd); err = ENAMETOOLONG; break; }
    dirs[depth++] = fd;
  }
#undef CUR
  while (depth) close(dirs[--depth]);
  if (result < 0) errno = err;
  return result;
}

static int sandbox_root_fd = -1;

/* A refused file operation: a reason token the engine maps to its error (see the header), and a
 * detail for people. */
struct refusal {
  const char *reason;
  char detail[200];
};

static int refuse(struct refusal *why, const char *reason, const char *detail) {
  why->reason = reason;
  snprintf(why->detail, sizeof why->detail, "%s", detail);
  return -1;
}

static const char *kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO";
  if (S_ISSOCK(mode)) return "is a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "is a device";
  if (S_ISLNK(mode)) return "is a symbolic link";
  return "is not a regular file";
}

/* errno of a failed open/write beneath /sandbox -> refusal. */
static int refuse_errno(struct refusal *why, int err, int writing) {
  switch (err) {
    case ENOENT: return refuse(why, "not-found", "no such file or directory");
    case ENOTDIR:
      return writing ? refuse(why, "not-regular-file", "a parent is not a directory")
                     : refuse(why, "not-found", "no such file (a parent is not a directory)");
    case EXDEV: return refuse(why, "outside-sandbox", "the path leaves /sandbox (through \"..\" or a symbolic link)");
    case ELOOP: return refuse(why, "symlink", writing ? "is a symbolic link: files are never written through one" : "too many levels of symbolic links");
    case EISDIR: return refuse(why, "not-regular-file", "is a directory");
    case ENXIO: case ENODEV: return refuse(why, "not-regular-file", "is a socket, FIFO or device");
    case EACCES: case EPERM: return refuse(why, "permission-denied", "permission denied for the sandbox user");
    case ENOSPC: case EDQUOT: case EFBIG: return refuse(why, "too-large", "no space left in /sandbox");
    case ENAMETOOLONG: return refuse(why, "invalid-path", "a name or the path is too long");
    default: return refuse(why, "io", strerror(err));
  }
}

/* Names the engine already refuses; checked again so the supervisor never depends on it. */
static int bad_path(const char *path) {
  for (const unsigned char *c = (const unsigned char *)path; *c; c++)
    if (*c < 0x20 || *c == 0x7f) return 1;
  return path[0] == 0 || path[0] == '/';
}

/* Creates every missing parent directory of relpath, each resolved beneath /sandbox. */
static int make_parents(const char *relpath) {
  char buf[4096];
  size_t n = strlen(relpath);
  if (n >= sizeof buf) return ENAMETOOLONG;
  memcpy(buf, relpath, n + 1);
  for (char *slash = strchr(buf, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = 0;
    long fd = openat2_(sandbox_root_fd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, BENEATH);
    if (fd >= 0) {
      close((int)fd);
    } else if (errno == ENOENT) {
      char *last = strrchr(buf, '/');
      int parent = sandbox_root_fd;
      const char *name = buf;
      if (last) {
        *last = 0;
        long pfd = openat2_(sandbox_root_fd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, BENEATH);
        *last = '/';
        if (pfd < 0) return errno;
        parent = (int)pfd;
        name = last + 1;
      }
      int rc = mkdirat(parent, name, 0755);
      int err = errno;
      if (parent != sandbox_root_fd) close(parent);
      if (rc < 0 && err != EEXIST) return err;
    } else {
      return errno;
    }
    *slash = '/';
  }
  return 0;
}

/* What is at path now, without following a final symlink and without opening it for I/O:
 * 0 and *st filled, or an errno (ENOENT when nothing is there). */
static int probe_beneath(const char *path, int follow, struct stat *st) {
  long fd = openat2_(sandbox_root_fd, path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW), 0, BENEATH);
  if (fd < 0) return errno;
  int err = fstat((int)fd, st) < 0 ? errno : 0;
  close((int)fd);
  return err;
}

static int write_as_sandbox(const char *path, mode_t mode, const unsigned char *content, size_t clen, struct refusal *why) {
  if (bad_path(path)) return refuse(why, "invalid-path", "empty, absolute or holding a control character");
  int err = make_parents(path);
  if (err) return refuse_errno(why, err, 1);
  struct stat st;
  err = probe_beneath(path, 0, &st);
  if (!err && !S_ISREG(st.st_mode)) {
    if (S_ISLNK(st.st_mode)) return refuse(why, "symlink", "is a symbolic link: files are never written through one");
    return refuse(why, "not-regular-file", kind_of(st.st_mode));
  }
  if (err && err != ENOENT) return refuse_errno(why, err, 1);
  /* O_NONBLOCK: should a FIFO appear in between, opening it can never wait for a reader. */
  long fd = openat2_(sandbox_root_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                     mode, BENEATH);
  if (fd < 0) return refuse_errno(why, errno, 1);
  int rc = 0;
  if (fstat((int)fd, &st) < 0) rc = refuse_errno(why, errno, 1);
  else if (!S_ISREG(st.st_mode)) rc = refuse(why, "not-regular-file", kind_of(st.st_mode));
  else if (write_all((int)fd, content, clen) < 0 || fchmod((int)fd, mode) < 0) rc = refuse_errno(why, errno, 1);
  close((int)fd);
  return rc;
}

/* Writes a regular file beneath /sandbox as the sandbox user (parents created). 0, or -1 and why. */
static int write_beneath(const char *path, mode_t mode, const unsigned char *content, size_t clen, struct refusal *why) {
  as_sandbox();
  int rc = write_as_sandbox(path, mode & 0777, content, clen, why);
  as_root();
  return rc;
}

/* Parses [u32 mode][u16 len][relpath][content]. Returns 0 on success. */
static int parse_file(unsigned char *p, uint32_t len, char *path, mode_t *mode, unsigned char **content, size_t *clen) {
  if (len < 6) return -1;
  uint32_t plen = ((uint32_t)p[4] << 8) | p[5];
  if (6 + plen > len || plen == 0 || plen >= 4096) return -1;
  *mode = (mode_t)(rd32(p) & 07777);
  memcpy(path, p + 6, plen);
  path[plen] = 0;
  if (memchr(path, 0, plen)) return -1;
  *content = p + 6 + plen;
  *clen = len - 6 - plen;
  return 0;
}

static void standby_discard(void);
static int standby_reads(const char *path);

static void handle_write(unsigned char *p, uint32_t len) {
  char path[4096];
  mode_t mode;
  unsigned char *content;
  size_t clen;
  if (parse_file(p, len, path, &mode, &content, &clen) < 0) {
    send_text('w', "invalid-path: malformed write frame");
    return;
  }
  /* A file the waiting standby program's runtime would have read as it started. */
  if (standby_reads(path)) standby_discard();
  struct refusal why;
  if (write_beneath(path, mode, content, clen, &why) < 0) send_text('w', "%s: %s", why.reason, why.detail);
  else send_text('w', "ok");
}

static void send_read_refusal(const struct refusal *why) {
  char msg[256];
  int n = snprintf(msg, sizeof msg, "%c%s: %s", 0, why->reason, why->detail);
  if (n >= (int)sizeof msg) n = sizeof msg - 1;
  send_frame('g', msg, (uint32_t)n);
}

/* Opens a regular file beneath /sandbox for reading (symlinks inside /sandbox are followed):
 * anything else is refused before it is opened for I/O, so nothing can block or have side
 * effects. Returns the fd, or -1 and why. */
static int open_regular(const char *path, uint32_t max, struct stat *st, struct refusal *why) {
  if (bad_path(path)) return refuse(why, "invalid-path", "empty, absolute or holding a control character");
  int err = probe_beneath(path, 1, st);
  if (err) return refuse_errno(why, err, 0);
  if (!S_ISREG(st->st_mode)) return refuse(why, "not-regular-file", kind_of(st->st_mode));
  long fd = openat2_(sandbox_root_fd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0, BENEATH);
  if (fd < 0) return refuse_errno(why, errno, 0);
  if (fstat((int)fd, st) < 0 || !S_ISREG(st->st_mode)) {
    close((int)fd);
    return refuse(why, "not-regular-file", "is not a regular file");
  }
  if ((uint64_t)st->st_size > max) {
    close((int)fd);
    char detail[120];
    snprintf(detail, sizeof detail, "is %lld bytes, over the %u byte limit", (long long)st->st_size, max);
    return refuse(why, "too-large", detail);
  }
  return (int)fd;
}

static void handle_read(unsigned char *p, uint32_t len) {
  struct refusal why;
  if (len < 5 || len - 4 >= 4096) {
    refuse(&why, "invalid-path", "malformed read frame");
    send_read_refusal(&why);
    return;
  }
  uint32_t max = rd32(p);
  char path[4096];
  memcpy(path, p + 4, len - 4);
  path[len - 4] = 0;
  if (memchr(path, 0, len - 4)) {
    refuse(&why, "invalid-path", "holds a NUL byte");
    send_read_refusal(&why);
    return;
  }

  struct stat st;
  as_sandbox();
  int fd = open_regular(path, max, &st, &why);
  as_root();
  if (fd < 0) {
    send_read_refusal(&why);
    return;
  }
  size_t cap = (size_t)st.st_size + 1;
  unsigned char *buf = malloc(cap + 1);
  if (!buf) _exit(4);
  buf[0] = 1;
  size_t got = 0;
  for (;;) {
    ssize_t n = read(fd, buf + 1 + got, cap - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += (size_t)n;
    if (got >= cap) break;
  }
  close(fd);
  if (got > max) got = max; /* grew while reading: keep the limit */
  send_frame('g', buf, (uint32_t)(got + 1));
  free(buf);
}

/* ---------- processes of the sandbox uid ---------- */

/* Calls fn for every live (non-zombie) process owned by uid. Returns the count. */
static int each_uid_proc(uid_t owner, void (*fn)(pid_t pid, char state)) {
  DIR *d = opendir("/proc");
  if (!d) return -1;
  int count = 0;
  struct dirent *e;
  char path[64], buf[1024];
  while ((e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    pid_t pid = (pid_t)atoi(e->d_name);
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    char *st = strstr(buf, "\nState:\t");
    char *uid = strstr(buf, "\nUid:\t");
    if (!st || !uid) continue;
    char state = st[8];
    if (state == 'Z' || state == 'X') continue;
    unsigned r = 0, eff = 0, sv = 0, fs = 0;
    if (sscanf(uid + 6, "%u %u %u %u", &r, &eff, &sv, &fs) != 4) continue;
    if (r != owner && eff != owner && sv != owner) continue;
    count++;
    if (fn) fn(pid, state);
  }
  closedir(d);
  return count;
}

static int each_sandbox_proc(void (*fn)(pid_t pid, char state)) { return each_uid_proc(sandbox_uid, fn); }

static int running_seen;
static void stop_proc(pid_t pid, char state) {
  if (state != 'T' && state != 't') running_seen++;
  kill(pid, SIGSTOP);
}
static void kill_proc(pid_t pid, char state) {
  (void)state;
  kill(pid, SIGKILL);
}

/* Freeze-then-kill every process of uid, looped until none remains
 * (a re-forking loop cannot outrun it: stopped processes cannot fork). */
static int kill_uid_procs(uid_t owner) {
  int64_t deadline = now_ms() + KILL_BUDGET_MS;
  for (;;) {
    running_seen = 0;
    int n = each_uid_proc(owner, stop_proc);
    if (n <= 0) return n == 0 ? 0 : -1;
    if (running_seen == 0) break;
    if (now_ms() > deadline) break;
  }
  for (;;) {
    int n = each_uid_proc(owner, kill_proc);
    if (n == 0) return 0;
    if (n < 0 || now_ms() > deadline) return -1;
    usleep(500);
  }
}

static int kill_sandbox_procs(void) { return kill_uid_procs(sandbox_uid); }

/* ---------- cleaning ---------- */

/* Removes everything inside dirfd (not dirfd itself), as the sandbox uid: directories
 * are made searchable first, so chmod 000 cannot defeat it; names are never parsed. Closes
 * dirfd. Stops at the first subdirectory it cannot empty and remove (deeper than 256
 * levels, for one): the verification then finds what is left, and the container is
 * destroyed; going round again would descend into that subdirectory without end. */
static int wipe_dir(int dirfd, int depth) {
  if (depth > 256) {
    close(dirfd);
    return ELOOP;
  }
  DIR *d = fdopendir(dirfd);
  if (!d) {
    int err = errno;
    close(dirfd);
    return err;
  }
  int err = 0;
  struct dirent *e;
  for (;;) {
    errno = 0;
    e = readdir(d);
    if (!e) break;
    const char *name = e->d_name;
    if (name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0))) continue;
    if (unlinkat(dirfd, name, 0) == 0) continue;
    if (errno != EISDIR && errno != EPERM) {
      if (errno != ENOENT) err = errno;
      continue;
    }
    fchmodat(dirfd, name, 0700, AT_SYMLINK_NOFOLLOW);
    int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      err = errno;
      continue;
    }
    int e2 = wipe_dir(sub, depth + 1); /* closes sub */
    if (e2 == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) e2 = errno;
    if (e2) {
      err = e2;
      break;
    }
    rewinddir(d); /* entries may move when one is removed while reading */
  }
  closedir(d);
  return err;
}

static int dir_entries(const char *path, char *first, size_t first_len) {
  DIR *d = opendir(path);
  if (!d) return errno == ENOENT ? 0 : -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) continue;
    if (n == 0 && first) snprintf(first, first_len, "%s", e->d_name);
    n++;
  }
  closedir(d);
  return n;
}

/* The names of every extended attribute of fd that this process may see (ACLs are
 * system.posix_acl_access and system.posix_acl_default): their total length, or -1 when they
 * cannot be listed (a list over the kernel's 64 KiB maximum, for one). *names is malloc'd. */
static ssize_t list_xattrs(int fd, char **names) {
  *names = NULL;
  for (int attempt = 0; attempt < 4; attempt++) {
    ssize_t size = flistxattr(fd, NULL, 0);
    if (size < 0) return errno == ENOTSUP ? 0 : -1;
    if (size == 0) return 0;
    char *buf = malloc((size_t)size);
    if (!buf) _exit(4);
    ssize_t n = flistxattr(fd, buf, (size_t)size);
    if (n >= 0) {
      *names = buf;
      return n;
    }
    free(buf);
    if (errno != ERANGE) return -1; /* ERANGE: attributes were added in between; list again */
  }
  return -1;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* fd's extended attributes as canonical bytes: "<name>\0<u32 length><value>" records sorted
 * by name. 0, or -1 when they cannot be listed or read. *out is malloc'd. */
static int xattr_snapshot(int fd, char **out, size_t *out_len) {
  *out = NULL;
  *out_len = 0;
  char *names;
  ssize_t n = list_xattrs(fd, &names);
  if (n < 0) return -1;
  size_t count = 0;
  for (ssize_t off = 0; off < n; off += (ssize_t)strlen(names + off) + 1) count++;
  char **sorted = malloc((count ? count : 1) * sizeof *sorted);
  if (!sorted) _exit(4);
  count = 0;
  for (ssize_t off = 0; off < n; off += (ssize_t)strlen(names + off) + 1) sorted[count++] = names + off;
  qsort(sorted, count, sizeof *sorted, by_name);
  int rc = 0;
  char *buf = NULL;
  size_t len = 0;
  for (size_t i = 0; i < count && rc == 0; i++) {
    ssize_t size = fgetxattr(fd, sorted[i], NULL, 0);
    size_t name_len = strlen(sorted[i]) + 1;
    char *grown = size < 0 ? NULL : realloc(buf, len + name_len + 4 + (size_t)size);
    if (!grown) {
      rc = -1;
      break;
    }
    buf = grown;
    memcpy(buf + len, sorted[i], name_len);
    len += name_len;
    ssize_t got = fgetxattr(fd, sorted[i], buf + len + 4, (size_t)size);
    if (got != size) rc = -1;
    unsigned char *l = (unsigned char *)buf + len;
    l[0] = (unsigned char)(got >> 24), l[1] = (unsigned char)(got >> 16), l[2] = (unsigned char)(got >> 8), l[3] = (unsigned char)got;
    len += 4 + (size_t)(got > 0 ? got : 0);
  }
  free(sorted);
  free(names);
  if (rc < 0) {
    free(buf);
    return -1;
  }
  *out = buf;
  *out_len = len;
  return 0;
}

/* The attributes each wiped directory had when the container started (a security module's
 * label, such as security.selinux, is not the program's doing): the wipe keeps exactly
 * these, and the verification expects exactly these, with the same values. */
static struct {
  int present;
  char *bytes;
  size_t len;
} xattr_baseline[sizeof WIPE_DIRS / sizeof WIPE_DIRS[0]];

static int in_baseline(int dir, const char *name) {
  const char *p = xattr_baseline[dir].bytes, *end = p + xattr_baseline[dir].len;
  while (p && p < end) {
    size_t name_len = strlen(p) + 1;
    const unsigned char *l = (const unsigned char *)p + name_len;
    if (strcmp(p, name) == 0) return 1;
    p += name_len + 4 + rd32(l);
  }
  return 0;
}

static int record_xattr_baseline(void) {
  for (int i = 0; WIPE_DIRS[i]; i++) {
    int fd = open(WIPE_DIRS[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    int rc = xattr_snapshot(fd, &xattr_baseline[i].bytes, &xattr_baseline[i].len);
    close(fd);
    if (rc < 0) return -1;
    xattr_baseline[i].present = 1;
  }
  return 0;
}

/* Removes every extended attribute of wiped directory `dir` that it did not have at start:
 * user.*, the POSIX ACLs, security.* where the caller may. */
static void wipe_xattrs(int dir, int fd) {
  char *names;
  ssize_t n = list_xattrs(fd, &names);
  for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
    if (!in_baseline(dir, names + off)) fremovexattr(fd, names + off);
  }
  free(names);
}

/* Whether wiped directory `dir` has exactly its attributes of the start (names and values). */
static const char *xattrs_changed(int dir, int fd) {
  char *now;
  size_t len;
  if (xattr_snapshot(fd, &now, &len) < 0) return "cannot list the extended attributes of";
  int same = xattr_baseline[dir].present && len == xattr_baseline[dir].len && (len == 0 || memcmp(now, xattr_baseline[dir].bytes, len) == 0);
  free(now);
  return same ? NULL : "extended attributes were added or changed on";
}

/* Counts (and, when remove is set, removes) SysV IPC objects of the sandbox uid. */
static int sysv_ipc(int remove) {
  static const char *files[] = {"/proc/sysvipc/shm", "/proc/sysvipc/msg", "/proc/sysvipc/sem"};
  int count = 0;
  for (int i = 0; i < 3; i++) {
    FILE *f = fopen(files[i], "re");
    if (!f) continue;
    char line[512];
    if (!fgets(line, sizeof line, f)) {
      fclose(f);
      continue;
    }
    while (fgets(line, sizeof line, f)) {
      long key, id;
      if (sscanf(line, "%ld %ld", &key, &id) != 2) continue;
      count++;
      if (!remove) continue;
      if (i == 0) shmctl((int)id, IPC_RMID, NULL);
      else if (i == 1) msgctl((int)id, IPC_RMID, NULL);
      else semctl((int)id, 0, IPC_RMID);
    }
    fclose(f);
  }
  return count;
}

static void standby_start(void);

static void handle_clean(void) {
  char problem[512] = "";
  standby_discard();
  if (kill_sandbox_procs() != 0) snprintf(problem, sizeof problem, "sandbox processes survive");

  /* File and IPC removal as the sandbox uid: ownership grants every right needed, and
   * nothing the user planted (symlinks, odd names) is followed. Real and saved uid stay
   * 0, so no sandbox process could signal this one even if one were alive. */
  if (setresgid((gid_t)-1, sandbox_gid, (gid_t)-1) < 0 || setresuid((uid_t)-1, sandbox_uid, (uid_t)-1) < 0) {
    send_text('c', "fail: cannot switch to the sandbox uid: %s", strerror(errno));
    return;
  }
  for (int i = 0; WIPE_DIRS[i]; i++) {
    int fd = open(WIPE_DIRS[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    /* The roots survive the wipe: attributes and ACLs set on them would carry over (a
     * default ACL on /sandbox shapes every file the next execution creates). Entries below
     * are removed with their attributes. */
    wipe_xattrs(i, fd);
    if (i == 0) fchmod(fd, 0755);
    wipe_dir(fd, 0);
  }
  sysv_ipc(1);
  if (setresuid((uid_t)-1, 0, (uid_t)-1) < 0 || setresgid((gid_t)-1, 0, (gid_t)-1) < 0) _exit(5);

  /* Verify: every claim is re-read, not assumed. */
  if (!problem[0] && each_sandbox_proc(NULL) != 0) snprintf(problem, sizeof problem, "sandbox processes survive");
  for (int i = 0; !problem[0] && WIPE_DIRS[i]; i++) {
    char first[256] = "";
    int n = dir_entries(WIPE_DIRS[i], first, sizeof first);
    if (n != 0) snprintf(problem, sizeof problem, "%s is not empty (%d entries)", WIPE_DIRS[i], n);
  }
  for (int i = 0; !problem[0] && WIPE_DIRS[i]; i++) {
    int fd = open(WIPE_DIRS[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    const char *changed = xattrs_changed(i, fd);
    close(fd);
    if (changed) snprintf(problem, sizeof problem, "%s %s", changed, WIPE_DIRS[i]);
  }
  if (!problem[0] && sysv_ipc(0) != 0) snprintf(problem, sizeof problem, "SysV IPC objects survive");
  if (!problem[0]) {
    int fd = open(SANDBOX_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0 || (st.st_mode & 07777) != 0755 || st.st_uid != sandbox_uid || st.st_gid != sandbox_gid)
      snprintf(problem, sizeof problem, "/sandbox itself was changed");
    if (fd >= 0) close(fd);
  }
  if (problem[0]) {
    send_text('c', "fail: %s", problem);
  } else {
    send_text('c', "ok");
    standby_start();
  }
}

/* ---------- execution ---------- */

/* Most arguments and environment entries one execute frame may carry: well above what a
 * request may hold (1,000 args; 1,000 env entries plus 100 secrets, plus the engine's own). */
#define MAX_SPEC_LIST 4096

struct exec_spec {
  char **argv; /* NULL-terminated after parsing; grown as entries arrive */
  int argc, argv_cap;
  char **envp; /* put into the environment one by one (never passed as an array) */
  int envc, envp_cap;
  char *cwd;
  int64_t timeout_ms;
  uint64_t max_output;
  unsigned char *stdin_data;
  size_t stdin_len;
  char *remove_after[16];
  int removec;
  unsigned char *files[16]; /* written before the run: [u32 mode][u16 len][relpath][content] */
  uint32_t file_lens[16];
  int filec;
  /* Context open ('O') only: the context's own uid, its id, how it is interrupted. */
  uid_t ctx_uid;
  uint32_t ctx_id;
  char ctx_interrupt;
  /* 'z': start the program from the python zygote when this container has one. */
  int zygote;
  /* 'p': hand the execution to the container's standby program when one is waiting. */
  int standby;
};

static char *dup_n(const unsigned char *p, uint32_t n) {
  char *s = malloc((size_t)n + 1);
  if (!s) _exit(4);
  memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* Appends to a NULL-terminated list, growing it; -1 past MAX_SPEC_LIST entries. */
static int push_entry(char ***list, int *n, int *cap, char *entry) {
  if (*n >= MAX_SPEC_LIST) {
    free(entry);
    return -1;
  }
  if (*n + 1 >= *cap) {
    int grown_cap = *cap ? *cap * 2 : 64;
    char **grown = realloc(*list, (size_t)grown_cap * sizeof **list);
    if (!grown) _exit(4);
    *list = grown;
    *cap = grown_cap;
  }
  (*list)[(*n)++] = entry;
  (*list)[*n] = NULL;
  return 0;
}

static int parse_spec(unsigned char *p, uint32_t len, struct exec_spec *s) {
  memset(s, 0, sizeof *s);
  s->timeout_ms = 30000;
  s->max_output = 1 << 20;
  uint32_t off = 0;
  while (off + 5 <= len) {
    char key = (char)p[off];
    uint32_t l = rd32(p + off + 1);
    off += 5;
    if (off + l > len) return -1;
    unsigned char *v = p + off;
    off += l;
    switch (key) {
      case 'a':
        if (push_entry(&s->argv, &s->argc, &s->argv_cap, dup_n(v, l)) < 0) return -1;
        break;
      case 'e':
        if (push_entry(&s->envp, &s->envc, &s->envp_cap, dup_n(v, l)) < 0) return -1;
        break;
      case 'c': s->cwd = dup_n(v, l); break;
      case 't': {
        char *t = dup_n(v, l);
        s->timeout_ms = atoll(t);
        free(t);
        break;
      }
      case 'o': {
        char *t = dup_n(v, l);
        s->max_output = strtoull(t, NULL, 10);
        free(t);
        break;
      }
      case 'i':
        s->stdin_data = v;
        s->stdin_len = l;
        break;
      case 'r':
        if (s->removec < 16) s->remove_after[s->removec++] = dup_n(v, l);
        break;
      case 'u':
      case 'n': {
        char *t = dup_n(v, l);
        char *end = NULL;
        unsigned long long n = strtoull(t, &end, 10);
        int bad = !l || *end || n > UID_MAX_ALLOWED;
        free(t);
        if (bad) return -1;
        if (key == 'u') s->ctx_uid = (uid_t)n;
        else s->ctx_id = (uint32_t)n;
        break;
      }
      case 'm':
        if (l != 1 || (v[0] != 's' && v[0] != 'f')) return -1;
        s->ctx_interrupt = (char)v[0];
        break;
      case 'z':
        if (l != 0) return -1;
        s->zygote = 1;
        break;
      case 'p':
        if (l != 0) return -1;
        s->standby = 1;
        break;
      case 'f':
        if (s->filec >= 16) return -1;
        s->files[s->filec] = v;
        s->file_lens[s->filec++] = l;
        break;
      default: return -1;
    }
  }
  if (off != len || s->argc == 0) return -1;
  return 0;
}

static void free_spec(struct exec_spec *s) {
  for (int i = 0; i < s->argc; i++) free(s->argv[i]);
  for (int i = 0; i < s->envc; i++) free(s->envp[i]);
  free(s->argv);
  free(s->envp);
  for (int i = 0; i < s->removec; i++) free(s->remove_after[i]);
  free(s->cwd);
}

static long read_counter(const char *path, const char *key) {
  FILE *f = fopen(path, "re");
  if (!f) return -1;
  char line[256];
  long v = -1;
  size_t kl = strlen(key);
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, key, kl) == 0 && line[kl] == ' ') {
      v = atol(line + kl + 1);
      break;
    }
  }
  fclose(f);
  return v;
}

static long oom_kills(void) {
  long v = read_counter("/sys/fs/cgroup/memory/memory.oom_control", "oom_kill");
  if (v < 0) v = read_counter("/sys/fs/cgroup/memory.events", "oom_kill");
  return v;
}

static long pids_max_hits(void) {
  long v = read_counter("/sys/fs/cgroup/pids/pids.events", "max");
  if (v < 0) v = read_counter("/sys/fs/cgroup/pids.events", "max");
  return v;
}

/* Closes the descriptors from..to (inclusive). gVisor (and kernels before 5.9) have no
 * close_range: then the open ones are closed as /proc/self/fd lists them (one call per open
 * descriptor), or, when that cannot be read, every possible one up to the nofile limit. */
static void close_fds(unsigned from, unsigned to) {
  if (syscall(SYS_close_range, from, to, 0) == 0) return;
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    int own = dirfd(d), fds[1024], n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 1024) {
      if (e->d_name[0] == '.') continue;
      long fd = atol(e->d_name);
      if (fd >= (long)from && fd <= (long)to && fd != own) fds[n++] = (int)fd;
    }
    closedir(d);
    if (n < 1024) {
      for (int i = 0; i < n; i++) close(fds[i]);
      return;
    }
  }
  struct rlimit rl;
  long max = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (long)rl.rlim_cur : 65536;
  for (long fd = from; fd < max && fd <= (long)to; fd++) close((int)fd);
}

/* Closes every descriptor from lowfd up. */
static void close_from(int lowfd) { close_fds((unsigned)lowfd, ~0U); }

/*
 * gVisor's filter for the container's seccomp profile skips the names its kernel does not
 * know, clone3 among them, so clone3 gets the profile's default EPERM; glibc then creates no
 * thread (it falls back to clone only on ENOSYS). Where clone3 fails with EPERM, each program
 * gets one more filter that answers clone3 with ENOSYS, as the profile itself says (a filter
 * can only narrow what is allowed: every other call still meets the profile).
 */
static int clone3_refused_eperm = 0;

static void detect_clone3(void) {
  clone3_refused_eperm = syscall(SYS_clone3, NULL, 0) < 0 && errno == EPERM;
}

static int clone3_enosys_filter(void) {
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof code / sizeof code[0], .filter = code};
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

/* The user's process: drop everything (to uid, with umask), then exec. Never returns. */
static void drop_and_exec(struct exec_spec *s, uid_t uid, gid_t gid, mode_t mask);

/* spec_fd (a standby program's, else -1) becomes fd 3: where it reads its execution's spec. */
static void exec_user(struct exec_spec *s, int in_fd, int out_fd, int err_fd, int spec_fd) {
  setsid();
  if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) _exit(126);
  if (spec_fd >= 0) {
    /* dup2 onto itself keeps close-on-exec: clear it either way. */
    if ((spec_fd != 3 && dup2(spec_fd, 3) < 0) || fcntl(3, F_SETFD, 0) < 0) _exit(126);
    close_from(4);
  } else {
    close_from(3);
  }
  drop_and_exec(s, sandbox_uid, sandbox_gid, 022);
}

static void drop_and_exec(struct exec_spec *s, uid_t uid, gid_t gid, mode_t mask) {
  signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  const char *fail = NULL;
  for (int cap = 0; cap <= 63; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) fail = "cannot drop the bounding set";
  }
  /* EINVAL: no ambient set in this kernel (gVisor); the capset below empties it anyway. */
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) fail = "cannot clear ambient capabilities";
  if (setgroups(0, NULL) < 0) fail = "cannot clear groups";
  if (setresgid(gid, gid, gid) < 0) fail = "cannot set gid";
  if (setresuid(uid, uid, uid) < 0) fail = "cannot set uid";
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &hdr, data) < 0) fail = "cannot clear capabilities";
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail = "cannot set no_new_privs";
  if (!fail && clone3_refused_eperm && clone3_enosys_filter() < 0) fail = "cannot filter clone3";
  if (fail) {
    dprintf(2, "isol8: %s: %s\n", fail, strerror(errno));
    _exit(126);
  }
  struct rlimit core = {0, 0};
  setrlimit(RLIMIT_CORE, &core);
  struct rlimit nproc = {process_limit, process_limit};
  if (process_limit && setrlimit(RLIMIT_NPROC, &nproc) < 0) {
    dprintf(2, "isol8: cannot limit processes: %s\n", strerror(errno));
    _exit(126);
  }
  umask(mask);
  if (chdir(s->cwd ? s->cwd : SANDBOX_DIR) < 0) {
    dprintf(2, "isol8: cannot enter %s: %s\n", s->cwd ? s->cwd : SANDBOX_DIR, strerror(errno));
    _exit(126);
  }
  /* The image's environment (PATH, HOME, CA bundle paths...) plus the request's entries;
   * per-execution values never touch the container's own environment. */
  for (int i = 0; i < s->envc; i++) putenv(s->envp[i]);
  execvp(s->argv[0], s->argv);
  dprintf(2, "isol8: cannot run %s: %s\n", s->argv[0], strerror(errno));
  _exit(errno == ENOENT ? 127 : 126);
}

/* A runner's (child subreaper's) wait: reaps every descendant until none is left, and reports
 * "M <status>" when `child` (the user process or the context's driver) ends. */
static void reap_reporting(pid_t child, int rep_fd) {
  for (;;) {
    int st;
    pid_t p = waitpid(-1, &st, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (p == child) dprintf(rep_fd, "M %d\n", st);
  }
}

/* The per-execution subreaper: starts the user process, reaps every descendant, then
 * reports "M <status>" when the main process ends and "U <user_us> <sys_us> <maxrss_kb>"
 * when no descendant remains. */
static void run_runner(struct exec_spec *s, int in_fd, int out_fd, int err_fd, int rep_fd, int spec_fd) {
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  pid_t child = fork();
  if (child < 0) {
    dprintf(rep_fd, "M %d\n", 126 << 8);
    dprintf(rep_fd, "U 0 0 0\n");
    _exit(0);
  }
  if (child == 0) {
    close(rep_fd);
    exec_user(s, in_fd, out_fd, err_fd, spec_fd);
  }
  close(in_fd);
  close(out_fd);
  close(err_fd);
  if (spec_fd >= 0) close(spec_fd);
  reap_reporting(child, rep_fd);
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  dprintf(rep_fd, "U %lld %lld %ld\n", (long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
          (long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec, ru.ru_maxrss);
  _exit(0);
}

/* ---------- python zygote ----------
 * In a python container the engine may pass a python program (embedded/zygote.py) in
 * ZYGOTE_ENV; the supervisor then starts it once, as root with only this process's
 * capabilities, undumpable, in its own session, stdin/stdout on pipes, its socket on fd 3.
 * User code runs as the sandbox uid (or a context's uid) without capabilities, so it cannot
 * signal, ptrace or open /proc/<pid>/mem of the zygote or its standby (different uid, not
 * dumpable). The zygote never runs user code and never reads an execution's data: for an
 * 'X' frame with 'z' its standby program receives the program's stdin/stdout/stderr, the report
 * pipe and a memfd ('a' argv, 'e' env, 'c' cwd, 'u' sandbox uid, as TLVs) and answers with its
 * own pid. The zygote (root, child subreaper) is the program's runner and reports like
 * run_runner; the program takes drop_and_exec's posture step by step before anything of the
 * execution runs. The next standby is forked once no process of the execution is left.
 * Where clone3 is refused with EPERM (gVisor) no zygote is started: the extra filter that
 * gives clone3 ENOSYS exists only in drop_and_exec. Any failure before the hand-over stops
 * the zygote and the execution forks its runner here as before.
 */
#define ZYGOTE_ENV "ISOL8_PYTHON_ZYGOTE"
#define ZYGOTE_ANSWER_MS 10000
static pid_t zygote_pid = -1;
static int zygote_fd = -1;

static void zygote_stop(void) {
  if (zygote_pid > 0) {
    kill(zygote_pid, SIGKILL);
    waitpid(zygote_pid, NULL, 0);
  }
  if (zygote_fd >= 0) close(zygote_fd);
  zygote_pid = -1;
  zygote_fd = -1;
}

static void start_zygote(void) {
  const char *env = getenv(ZYGOTE_ENV);
  if (!env) return;
  char *script = strdup(env);
  unsetenv(ZYGOTE_ENV);
  if (!script || clone3_refused_eperm) {
    free(script);
    return;
  }
  /* Its stdin and stdout are pipes (stdin at end of file, stdout with no reader), like every
   * program's: Python sets up sys.stdin and sys.stdout once, in the zygote, for what these are
   * (not seekable, not a terminal), and the programs inherit those objects. */
  int sv[2], in_p[2], out_p[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    free(script);
    return;
  }
  if (pipe2(in_p, O_CLOEXEC) < 0 || pipe2(out_p, O_CLOEXEC) < 0) {
    free(script);
    close(sv[0]);
    close(sv[1]);
    return;
  }
  pid_t pid = fork();
  if (pid == 0) {
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    close(in_p[1]);
    close(out_p[0]);
    if (dup2(in_p[0], 0) < 0 || dup2(out_p[1], 1) < 0 || dup2(sv[1], 3) < 0) _exit(126);
    close_from(4);
    if (chdir("/") < 0) _exit(126);
    signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execlp("python3", "python3", "-c", script, (char *)NULL);
    _exit(127);
  }
  free(script);
  close(sv[1]);
  close(in_p[0]), close(in_p[1]), close(out_p[0]), close(out_p[1]);
  if (pid < 0) {
    close(sv[0]);
    return;
  }
  zygote_pid = pid;
  zygote_fd = sv[0];
}

static void put_tlv(char **buf, size_t *len, size_t *cap, char key, const char *value) {
  size_t n = strlen(value);
  if (*len + 5 + n > *cap) {
    size_t grown = (*cap ? *cap * 2 : 4096) + n + 5;
    char *b = realloc(*buf, grown);
    if (!b) _exit(4);
    *buf = b;
    *cap = grown;
  }
  (*buf)[(*len)++] = key;
  unsigned char *p = (unsigned char *)*buf + *len;
  p[0] = (unsigned char)(n >> 24), p[1] = (unsigned char)(n >> 16), p[2] = (unsigned char)(n >> 8), p[3] = (unsigned char)n;
  *len += 4;
  memcpy(*buf + *len, value, n);
  *len += n;
}

/* The program's part of an execution as TLVs: 'a' argv, 'e' env, 'c' cwd, 'u' sandbox uid. */
static char *program_tlv(struct exec_spec *s, size_t *len) {
  char *buf = NULL, uid[24];
  size_t cap = 0;
  *len = 0;
  for (int i = 0; i < s->argc; i++) put_tlv(&buf, len, &cap, 'a', s->argv[i]);
  for (int i = 0; i < s->envc; i++) put_tlv(&buf, len, &cap, 'e', s->envp[i]);
  if (s->cwd) put_tlv(&buf, len, &cap, 'c', s->cwd);
  snprintf(uid, sizeof uid, "%u", (unsigned)sandbox_uid);
  put_tlv(&buf, len, &cap, 'u', uid);
  return buf;
}

/* The spec of the program as the zygote reads it: a sealed-size memfd, rewound. */
static int zygote_spec_fd(struct exec_spec *s) {
  size_t len;
  char *buf = program_tlv(s, &len);
  int fd = memfd_create("isol8-spec", MFD_CLOEXEC);
  if (fd >= 0 && (write_all(fd, buf, len) < 0 || lseek(fd, 0, SEEK_SET) < 0)) {
    close(fd);
    fd = -1;
  }
  free(buf);
  return fd;
}

/* Hands the program's descriptors to the zygote. Returns the program's pid (the zygote is
 * its runner); -1 with *handed 0 when nothing reached the zygote (the caller forks its own
 * runner); -1 with *handed 1 when the zygote took the descriptors but did not answer (it is
 * stopped; the execution fails). */
static pid_t zygote_spawn(struct exec_spec *s, int in_fd, int out_fd, int err_fd, int rep_fd, int *handed) {
  *handed = 0;
  int spec_fd = zygote_spec_fd(s);
  if (spec_fd < 0) return -1;
  int fds[5] = {in_fd, out_fd, err_fd, rep_fd, spec_fd};
  char byte = 'x';
  struct iovec iov = {.iov_base = &byte, .iov_len = 1};
  union {
    char buf[CMSG_SPACE(sizeof fds)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof fds);
  memcpy(CMSG_DATA(cm), fds, sizeof fds);
  ssize_t sent = sendmsg(zygote_fd, &msg, MSG_NOSIGNAL);
  close(spec_fd);
  if (sent != 1) {
    zygote_stop();
    return -1;
  }
  *handed = 1;
  struct pollfd pfd = {.fd = zygote_fd, .events = POLLIN};
  int32_t pid = -1;
  int r;
  do r = poll(&pfd, 1, ZYGOTE_ANSWER_MS);
  while (r < 0 && errno == EINTR);
  /* The program is a child of the zygote: never pid 1 or the zygote itself. */
  if (r != 1 || recv(zygote_fd, &pid, sizeof pid, 0) != (ssize_t)sizeof pid || pid <= 1 || pid == zygote_pid) {
    zygote_stop();
    return -1;
  }
  return (pid_t)pid;
}

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* The pipes between the supervisor and one program: stdin, stdout, stderr, its runner's report
 * and, for a standby program, its spec. [0] is the read end, [1] the write end; -1: closed. */
struct program_pipes {
  int in[2], out[2], err[2], rep[2], spec[2];
};
#define NO_PIPES {{-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}, {-1, -1}}

static void close_pipes(struct program_pipes *p) {
  int *ends[] = {&p->in[0], &p->in[1], &p->out[0], &p->out[1], &p->err[0], &p->err[1], &p->rep[0], &p->rep[1], &p->spec[0], &p->spec[1]};
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++) close_fd(ends[i]);
}

/* The program's ends (its runner's after a fork, the zygote's once handed over). */
static void close_program_ends(struct program_pipes *p) {
  close_fd(&p->in[0]), close_fd(&p->out[1]), close_fd(&p->err[1]), close_fd(&p->rep[1]), close_fd(&p->spec[0]);
}

static void close_supervisor_ends(struct program_pipes *p) {
  close_fd(&p->in[1]), close_fd(&p->out[0]), close_fd(&p->err[0]), close_fd(&p->rep[0]), close_fd(&p->spec[1]);
}

/* Makes a program's pipes (the spec pipe only with `spec`); -1 (errno kept) with none open. */
static int open_pipes(struct program_pipes *p, int spec) {
  *p = (struct program_pipes)NO_PIPES;
  if (pipe2(p->in, O_CLOEXEC) == 0 && pipe2(p->out, O_CLOEXEC) == 0 && pipe2(p->err, O_CLOEXEC) == 0 &&
      pipe2(p->rep, O_CLOEXEC) == 0 && (!spec || pipe2(p->spec, O_CLOEXEC) == 0))
    return 0;
  int err = errno;
  close_pipes(p);
  errno = err;
  return -1;
}

/* Forks the runner of `s` (run_runner) on the pipes; this process keeps the supervisor's ends.
 * The runner's pid, or -1 (errno) with the pipes as they were. */
static pid_t fork_runner(struct exec_spec *s, struct program_pipes *p) {
  pid_t runner = fork();
  if (runner == 0) {
    close_supervisor_ends(p);
    run_runner(s, p->in[0], p->out[1], p->err[1], p->rep[1], p->spec[0]);
  }
  if (runner > 0) close_program_ends(p);
  return runner;
}

/* ---------- standby program ----------
 * In a node or bun container the engine may describe, in STANDBY_ENV, a program to start ahead
 * of the next execution: one entry per line, "a<argument>" or "e<NAME=value>" (the environment
 * entries the runtime reads as it starts, the same for every execution of the container). The
 * supervisor starts it once 'R' is sent and again after every clean that ends "ok", exactly as
 * an execution's program (run_runner: its own runner, the sandbox uid, no capabilities,
 * NoNewPrivs, the container's seccomp profile, /sandbox), with one more pipe as its fd 3. It
 * starts its interpreter, then blocks reading fd 3. An 'X' frame with 'p' writes the
 * execution's program TLVs there (program_tlv: argv, env, cwd) and closes it; the program
 * takes them (environment entries, working directory, argv) and runs the execution's program
 * file. From then on it is that execution's program: the same pipes, reports, deadline, kills.
 * Nothing of one execution meets a standby program: it starts only after a clean has killed
 * every sandbox process and verified the wiped directories, and every other frame that starts
 * sandbox processes ('X' without 'p', 'O') discards it first, as does a clean. One that has
 * ended (its report pipe is readable) or does not take its spec is discarded, and the execution
 * starts its own program as always. Lines "f<name>" name files of /sandbox the runtime reads as
 * it starts (bunfig.toml, .env): a 'W' frame writing one discards the waiting program.
 */
#define STANDBY_ENV "ISOL8_STANDBY"
#define STANDBY_SPEC_MS 5000
#define STANDBY_MAX_FILES 16
static struct exec_spec standby_spec;
static int standby_wanted;
static char *standby_files[STANDBY_MAX_FILES];
static int standby_filec;
struct standby {
  pid_t runner;
  struct program_pipes pipes; /* the supervisor's ends */
};
static const struct standby NO_STANDBY = {-1, NO_PIPES};
static struct standby standby = {-1, NO_PIPES};

static void load_standby_spec(void) {
  const char *env = getenv(STANDBY_ENV);
  if (!env) return;
  char *copy = strdup(env);
  if (!copy) _exit(4);
  unsetenv(STANDBY_ENV);
  memset(&standby_spec, 0, sizeof standby_spec);
  for (char *line = copy, *next; line && *line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    char *entry = strdup(line + 1);
    if (!entry) _exit(4);
    int bad = line[0] == 'a'   ? push_entry(&standby_spec.argv, &standby_spec.argc, &standby_spec.argv_cap, entry)
              : line[0] == 'e' ? push_entry(&standby_spec.envp, &standby_spec.envc, &standby_spec.envp_cap, entry)
              : line[0] == 'f' && standby_filec < STANDBY_MAX_FILES ? (standby_files[standby_filec++] = entry, 0)
                               : (free(entry), -1);
    if (bad < 0) {
      logf_("isol8-supervisor: %s: entries start with 'a', 'e' or 'f' (at most %d): no standby program", STANDBY_ENV, STANDBY_MAX_FILES);
      free_spec(&standby_spec);
      memset(&standby_spec, 0, sizeof standby_spec);
      break;
    }
  }
  free(copy);
  standby_wanted = standby_spec.argc > 0;
}

/* Whether a program's runtime reads this /sandbox path (relative, as 'W' frames name it) as it starts. */
static int standby_reads(const char *path) {
  while (path[0] == '.' && path[1] == '/') path += 2;
  for (int i = 0; i < standby_filec; i++)
    if (strcmp(path, standby_files[i]) == 0) return 1;
  return 0;
}

/* Kills the waiting standby program (and its runner) and forgets it. */
static void standby_discard(void) {
  if (standby.runner <= 0) return;
  kill(standby.runner, SIGKILL);
  kill_sandbox_procs();
  waitpid(standby.runner, NULL, 0);
  close_pipes(&standby.pipes);
  standby = NO_STANDBY;
}

static void standby_start(void) {
  if (!standby_wanted || standby.runner > 0) return;
  struct program_pipes p;
  if (open_pipes(&p, 1) < 0) return;
  pid_t runner = fork_runner(&standby_spec, &p);
  if (runner < 0) {
    close_pipes(&p);
    return;
  }
  standby = (struct standby){runner, p};
}

/* Writes the execution's program TLVs to the waiting standby program. 1: it has them (the
 * caller takes over its pipes); 0: none waits, it has ended, or it did not take them all. */
static int standby_hand(struct exec_spec *s) {
  if (standby.runner <= 0) return 0;
  struct pollfd ended = {.fd = standby.pipes.rep[0], .events = POLLIN};
  if (poll(&ended, 1, 0) != 0) return 0;
  size_t len, off = 0;
  char *buf = program_tlv(s, &len);
  int spec_w = standby.pipes.spec[1];
  set_nonblock(spec_w);
  int64_t until = now_ms() + STANDBY_SPEC_MS;
  while (off < len) {
    ssize_t n = write(spec_w, buf + off, len - off);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    int64_t left = until - now_ms();
    if ((n < 0 && errno != EAGAIN && errno != EINTR) || left <= 0) break;
    struct pollfd room = {.fd = spec_w, .events = POLLOUT};
    poll(&room, 1, (int)left);
  }
  free(buf);
  close_fd(&standby.pipes.spec[1]);
  return off == len;
}

enum end_reason { END_NONE, END_EXITED, END_TIMEOUT, END_OUTPUT_CAP, END_ABORTED };

struct stream {
  int fd;
  char frame;
  uint64_t bytes;     /* bytes forwarded */
  uint64_t produced;  /* bytes read from the program */
  int truncated;
};

/* Reads once from a stream; forwards up to the cap. Returns 1 when the cap was crossed. */
static int pump(struct stream *st, uint64_t cap, unsigned char *buf) {
  ssize_t n = read(st->fd, buf, IO_CHUNK);
  if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
    close(st->fd);
    st->fd = -1;
    return 0;
  }
  if (n < 0) return 0;
  st->produced += (uint64_t)n;
  if (st->truncated) return 0;
  uint64_t room = cap > st->bytes ? cap - st->bytes : 0;
  uint64_t fwd = (uint64_t)n < room ? (uint64_t)n : room;
  if (fwd) send_frame(st->frame, buf, (uint32_t)fwd);
  st->bytes += fwd;
  if ((uint64_t)n > fwd) {
    st->truncated = 1;
    return 1;
  }
  return 0;
}

static void handle_execute(unsigned char *p, uint32_t len) {
  struct exec_spec s;
  if (parse_spec(p, len, &s) < 0) {
    free_spec(&s);
    send_text('E', "error=malformed execute frame\n");
    return;
  }
  for (int i = 0; i < s.filec; i++) {
    char path[4096] = "";
    mode_t mode;
    unsigned char *content;
    size_t clen;
    struct refusal why = {.reason = "invalid-path", .detail = "malformed file entry"};
    if (parse_file(s.files[i], s.file_lens[i], path, &mode, &content, &clen) < 0 ||
        write_beneath(path, mode, content, clen, &why) < 0) {
      send_text('E', "error=cannot write /sandbox/%s: %s (%s)\nrefused_file=%s\n", path, why.detail, why.reason, path);
      free_spec(&s);
      return;
    }
  }
  long oom_before = oom_kills(), pids_before = pids_max_hits();
  int64_t start_us = now_us();
  int64_t deadline = now_ms() + s.timeout_ms;
  struct program_pipes pipes = NO_PIPES;
  pid_t runner = -1;
  int from_zygote = 0;
  if (s.standby && standby_hand(&s)) {
    runner = standby.runner;
    pipes = standby.pipes;
    standby = NO_STANDBY; /* it is this execution's program now */
  } else {
    standby_discard();
    if (open_pipes(&pipes, 0) < 0) {
      send_text('E', "error=cannot create pipes: %s\n", strerror(errno));
      free_spec(&s);
      return;
    }
    if (s.zygote && zygote_fd >= 0) {
      int handed;
      runner = zygote_spawn(&s, pipes.in[0], pipes.out[1], pipes.err[1], pipes.rep[1], &handed);
      if (runner < 0 && handed) {
        kill_sandbox_procs();
        close_pipes(&pipes);
        send_text('E', "error=the python zygote did not start the program\n");
        free_spec(&s);
        return;
      }
      from_zygote = runner > 0;
      if (from_zygote) close_program_ends(&pipes);
    }
    if (!from_zygote && (runner = fork_runner(&s, &pipes)) < 0) {
      int err = errno;
      close_pipes(&pipes);
      send_text('E', "error=cannot fork: %s\n", strerror(err));
      free_spec(&s);
      return;
    }
  }
  int stdin_fd = pipes.in[1];
  set_nonblock(stdin_fd);
  set_nonblock(pipes.out[0]);
  set_nonblock(pipes.err[0]);
  set_nonblock(pipes.rep[0]);
  size_t stdin_off = 0;
  if (s.stdin_len == 0) {
    close(stdin_fd);
    stdin_fd = -1;
  }

  struct stream out = {.fd = pipes.out[0], .frame = '1'}, err = {.fd = pipes.err[0], .frame = '2'};
  int rep_fd = pipes.rep[0];
  char rep[256];
  size_t rep_len = 0;
  int main_status = -1, have_usage = 0, clean = 1;
  long long u_us = 0, s_us = 0, maxrss = 0;
  enum end_reason reason = END_NONE;
  int64_t drain_deadline = 0;
  static unsigned char buf[IO_CHUNK];

  while (out.fd >= 0 || err.fd >= 0 || rep_fd >= 0) {
    if (reason != END_NONE && now_ms() > drain_deadline) {
      clean = 0; /* something still holds a pipe or the runner hangs */
      break;
    }
    struct pollfd fds[5];
    int nf = 0, i_ctl = -1, i_out = -1, i_err = -1, i_rep = -1, i_in = -1;
    if (reason == END_NONE) {
      i_ctl = nf;
      fds[nf++] = (struct pollfd){.fd = 0, .events = POLLIN};
    }
    if (out.fd >= 0) { i_out = nf; fds[nf++] = (struct pollfd){.fd = out.fd, .events = POLLIN}; }
    if (err.fd >= 0) { i_err = nf; fds[nf++] = (struct pollfd){.fd = err.fd, .events = POLLIN}; }
    if (rep_fd >= 0) { i_rep = nf; fds[nf++] = (struct pollfd){.fd = rep_fd, .events = POLLIN}; }
    if (stdin_fd >= 0) { i_in = nf; fds[nf++] = (struct pollfd){.fd = stdin_fd, .events = POLLOUT}; }
    int64_t wait = (reason == END_NONE ? deadline : drain_deadline) - now_ms();
    if (wait < 0) wait = 0;
    int r = poll(fds, (nfds_t)nf, (int)(wait > 1000 ? 1000 : wait));
    if (r < 0 && errno != EINTR) break;
    if (reason == END_NONE && now_ms() >= deadline) reason = END_TIMEOUT;

    if (i_ctl >= 0 && fds[i_ctl].revents) {
      if (fill_input() < 0 && in_eof) reason = END_ABORTED;
      char t;
      unsigned char *fp;
      uint32_t fl;
      while (peek_frame(&t, &fp, &fl)) {
        consume_frame();
        if (t == 'K') reason = END_ABORTED;
      }
    }
    if (i_in >= 0 && fds[i_in].revents) {
      ssize_t n = write(stdin_fd, s.stdin_data + stdin_off, s.stdin_len - stdin_off);
      if (n > 0) stdin_off += (size_t)n;
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || stdin_off >= s.stdin_len) {
        close(stdin_fd);
        stdin_fd = -1;
      }
    }
    if (i_out >= 0 && fds[i_out].revents && pump(&out, s.max_output, buf) && reason == END_NONE) reason = END_OUTPUT_CAP;
    if (i_err >= 0 && fds[i_err].revents && pump(&err, s.max_output, buf) && reason == END_NONE) reason = END_OUTPUT_CAP;
    if (i_rep >= 0 && fds[i_rep].revents) {
      ssize_t n = read(rep_fd, rep + rep_len, sizeof rep - 1 - rep_len);
      if (n <= 0 && !(n < 0 && (errno == EAGAIN || errno == EINTR))) {
        close(rep_fd);
        rep_fd = -1;
      } else if (n > 0) {
        rep_len += (size_t)n;
        rep[rep_len] = 0;
        char *nl;
        while ((nl = strchr(rep, '\n'))) {
          *nl = 0;
          if (rep[0] == 'M') {
            main_status = atoi(rep + 2);
            if (reason == END_NONE) reason = END_EXITED;
          } else if (rep[0] == 'U') {
            sscanf(rep + 2, "%lld %lld %lld", &u_us, &s_us, &maxrss);
            have_usage = 1;
          }
          size_t used = (size_t)(nl - rep) + 1;
          memmove(rep, nl + 1, rep_len - used + 1);
          rep_len -= used;
        }
        /* "U" is the runner's last line, written once no descendant is left: the report is
         * complete without waiting for the runner's own exit. */
        if (have_usage) {
          close(rep_fd);
          rep_fd = -1;
        }
      }
    }
    if (reason != END_NONE && drain_deadline == 0) {
      /* The execution is over: nothing it started may outlive it. */
      if (stdin_fd >= 0) {
        close(stdin_fd);
        stdin_fd = -1;
      }
      if (kill_sandbox_procs() != 0) clean = 0;
      drain_deadline = now_ms() + DRAIN_BUDGET_MS;
    }
  }
  if (stdin_fd >= 0) close(stdin_fd);
  if (out.fd >= 0) close(out.fd);
  if (err.fd >= 0) close(err.fd);
  if (rep_fd >= 0) close(rep_fd);
  int rst;
  /* A zygote's program is the zygote's child: the zygote reaps it. */
  if (!clean) kill(runner, SIGKILL);
  if (!from_zygote) waitpid(runner, &rst, 0);
  int64_t duration_us = now_us() - start_us;

  as_sandbox();
  for (int i = 0; i < s.removec; i++) unlinkat(sandbox_root_fd, s.remove_after[i], 0);
  as_root();

  int exit_code = -1, sig = 0;
  if (main_status >= 0) {
    if (WIFEXITED(main_status)) exit_code = WEXITSTATUS(main_status);
    else if (WIFSIGNALED(main_status)) {
      sig = WTERMSIG(main_status);
      exit_code = 128 + sig;
    }
  }
  long oom_after = oom_kills(), pids_after = pids_max_hits();
  static const char *reasons[] = {"none", "exited", "timeout", "output-cap", "aborted"};
  send_text('E',
            "exit=%d\nsignal=%d\nreason=%s\ntruncated_stdout=%d\ntruncated_stderr=%d\n"
            "oom_killed=%d\npids_limit_hit=%d\ncpu_user_us=%lld\ncpu_sys_us=%lld\nmax_rss_kb=%lld\n"
            "stdout_bytes=%llu\nstderr_bytes=%llu\nduration_us=%lld\nusage=%d\nclean=%d\n",
            exit_code, sig, reasons[reason], out.truncated, err.truncated,
            oom_before >= 0 && oom_after > oom_before, pids_before >= 0 && pids_after > pids_before, u_us, s_us,
            maxrss, (unsigned long long)out.produced, (unsigned long long)err.produced, (long long)duration_us,
            have_usage, clean);
  free_spec(&s);
}


/* ---------- contexts: long-lived interpreters of a session ----------
 * A context is one interpreter driver started like an execution's program (own session,
 * empty capability sets, NoNewPrivs, the container's seccomp profile) but as its OWN uid
 * (from the engine, distinct from the container's sandbox uid and from every other
 * context's), so a context cannot signal, ptrace or read /proc/<pid>/mem of another
 * context or of executions, and its processes are found and killed by that uid alone.
 * Its gid is the sandbox gid and its umask 002: contexts and executions share /sandbox.
 *
 * Process tree: supervisor -> context runner (root subreaper, reports the driver's pid
 * and exit) -> driver (stdin /dev/null, stdout/stderr pipes, fd 3 cells in, fd 4 replies out).
 * Driver frames are [u8 type][u32 big-endian length][payload] both ways:
 *   supervisor -> driver: 'c' cell (code), 'i' interrupt (runtimes that cannot take SIGINT)
 *   driver -> supervisor: 'y' ready (once), 'r' result (JSON), 'e' error (JSON), 'd' cell done,
 *                         'o' / 'x' the interpreter's own stdout / stderr text (same channel as
 *                         results, so their order is kept; fds 1 and 2 carry what else writes there)
 * Everything on fd 4 is untrusted (the user's code shares the process): a frame of another
 * type, over the size cap, a 'y' after start, or fd 4 closed during a cell is a protocol
 * violation and the context is killed. Results are only ever copied, never interpreted here.
 *
 * engine -> supervisor:
 *   'O' open   TLV as 'X' plus 'u' uid, 'n' id, 'm' interrupt (s = SIGINT, f = 'i' frame),
 *              't' start timeout                                   -> 'o' "ok\npid=N" | "error=...\nstderr=..."
 *   'Y' cell   [u32 id][u32 timeout ms][u32 grace ms][u32 max output][u32 max result]
 *              [u32 max results per cell][code]                   -> '1', '2', 'V' [type][payload]..., 'Z' report
 *   'K'        during a cell: interrupt it (cancel)
 *   'Q' close  [u32 id]                                           -> 'q' "ok" | "unknown"
 *   'L' list /sandbox (see "listing")                             -> 'l' lines
 */

#define MAX_CONTEXTS 64
#define CTX_FRAME_SLACK 65536
#define CTX_FRAME_HARD_MAX (64u << 20)

struct context {
  int used;
  uint32_t id;
  uid_t uid;
  pid_t runner, driver;
  char interrupt_mode;
  int cell_fd, reply_fd, rep_fd;
  struct stream out, err;
  unsigned char *rbuf;
  size_t rlen, rcap;
  char rep[256];
  size_t rep_len;
  int driver_exited, driver_status;
  const char *lost; /* why the context is gone (NULL while it lives) */
};

static struct context contexts[MAX_CONTEXTS];

static struct context *find_context(uint32_t id) {
  for (int i = 0; i < MAX_CONTEXTS; i++)
    if (contexts[i].used && contexts[i].id == id) return &contexts[i];
  return NULL;
}

static int uid_in_use(uid_t uid) {
  if (uid == sandbox_uid) return 1;
  for (int i = 0; i < MAX_CONTEXTS; i++)
    if (contexts[i].used && contexts[i].uid == uid) return 1;
  return 0;
}

/* Moves fd to a number >= 10 (so dup2 into 0..4 never clobbers a source), close-on-exec. */
static int high_fd(int fd) {
  int h = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  return h;
}

/* The context runner: a subreaper that starts the driver, reports "P <pid>", then "M <status>"
 * when the driver ends, and reaps every other process of the context until none is left. */
/* Closes every descriptor from 3 up except those in keep (a forked helper must not hold the
 * pipes of other contexts, or the control channel beyond fds 0-2). */
static void close_all_but(int *keep, int n) {
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
      int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  unsigned from = 3;
  for (int i = 0; i < n; i++) {
    if (keep[i] < 3) continue;
    if ((unsigned)keep[i] > from) close_fds(from, (unsigned)keep[i] - 1);
    from = (unsigned)keep[i] + 1;
  }
  close_fds(from, ~0U);
}

static void run_context_runner(struct exec_spec *s, int null_fd, int out_fd, int err_fd, int cell_fd, int reply_fd, int rep_fd) {
  int keep[6] = {null_fd, out_fd, err_fd, cell_fd, reply_fd, rep_fd};
  close_all_but(keep, 6);
  prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  pid_t child = fork();
  if (child < 0) {
    dprintf(rep_fd, "M %d\n", 126 << 8);
    _exit(0);
  }
  if (child == 0) {
    close(rep_fd);
    setsid();
    int fds[5] = {high_fd(null_fd), high_fd(out_fd), high_fd(err_fd), high_fd(cell_fd), high_fd(reply_fd)};
    for (int i = 0; i < 5; i++)
      if (fds[i] < 0 || dup2(fds[i], i) < 0) _exit(126);
    close_from(5);
    drop_and_exec(s, s->ctx_uid, sandbox_gid, 002);
  }
  dprintf(rep_fd, "P %d\n", child);
  close(null_fd);
  close(out_fd);
  close(err_fd);
  close(cell_fd);
  close(reply_fd);
  reap_reporting(child, rep_fd);
  _exit(0);
}

/* Reads the runner's report lines ("P pid", "M status"). */
static void context_read_reports(struct context *c) {
  if (c->rep_fd < 0) return;
  for (;;) {
    ssize_t n = read(c->rep_fd, c->rep + c->rep_len, sizeof c->rep - 1 - c->rep_len);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return; /* EAGAIN */
    if (n == 0) {
      close(c->rep_fd);
      c->rep_fd = -1;
      if (!c->driver_exited) c->driver_exited = 1;
      return;
    }
    c->rep_len += (size_t)n;
    c->rep[c->rep_len] = 0;
    char *nl;
    while ((nl = strchr(c->rep, '\n'))) {
      *nl = 0;
      if (c->rep[0] == 'P') c->driver = (pid_t)atoi(c->rep + 2);
      else if (c->rep[0] == 'M') {
        c->driver_exited = 1;
        c->driver_status = atoi(c->rep + 2);
      }
      size_t used = (size_t)(nl - c->rep) + 1;
      memmove(c->rep, nl + 1, c->rep_len - used + 1);
      c->rep_len -= used;
    }
    if (c->rep_len >= sizeof c->rep - 1) c->rep_len = 0; /* the runner is root: cannot happen */
  }
}

/* Kills every process of the context, closes its pipes, reaps its runner; keeps the slot
 * (marked lost) so the next cell can say why, unless free_slot. */
static void context_kill(struct context *c, const char *why, int free_slot) {
  kill_uid_procs(c->uid);
  if (c->cell_fd >= 0) close(c->cell_fd);
  if (c->reply_fd >= 0) close(c->reply_fd);
  if (c->out.fd >= 0) close(c->out.fd);
  if (c->err.fd >= 0) close(c->err.fd);
  if (c->rep_fd >= 0) close(c->rep_fd);
  c->cell_fd = c->reply_fd = c->out.fd = c->err.fd = c->rep_fd = -1;
  if (c->runner > 0) {
    int st;
    kill(c->runner, SIGKILL);
    waitpid(c->runner, &st, 0);
    c->runner = 0;
  }
  free(c->rbuf);
  c->rbuf = NULL;
  c->rlen = c->rcap = 0;
  if (!c->lost) c->lost = why;
  if (free_slot) memset(c, 0, sizeof *c);
}

/* Reads what fd 4 has into the context's buffer. Returns -1 on EOF or error. */
static int context_fill_reply(struct context *c) {
  if (c->rcap - c->rlen < IO_CHUNK) {
    size_t cap = c->rcap ? c->rcap * 2 : 4 * IO_CHUNK;
    while (cap - c->rlen < IO_CHUNK) cap *= 2;
    unsigned char *nb = realloc(c->rbuf, cap);
    if (!nb) _exit(4);
    c->rbuf = nb;
    c->rcap = cap;
  }
  ssize_t n = read(c->reply_fd, c->rbuf + c->rlen, c->rcap - c->rlen);
  if (n == 0) return -1;
  if (n < 0) return errno == EINTR || errno == EAGAIN ? 0 : -1;
  c->rlen += (size_t)n;
  return 0;
}

static void drop_reply_bytes(struct context *c, size_t n) {
  memmove(c->rbuf, c->rbuf + n, c->rlen - n);
  c->rlen -= n;
}

static int write_some(int fd, const unsigned char *data, size_t len, size_t *off) {
  while (*off < len) {
    ssize_t n = write(fd, data + *off, len - *off);
    if (n > 0) {
      *off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    return -1;
  }
  return 0;
}

static void handle_context_open(unsigned char *p, uint32_t len) {
  struct exec_spec s;
  if (parse_spec(p, len, &s) < 0 || s.ctx_uid == 0 || !s.ctx_interrupt) {
    send_text('o', "error=malformed open frame\n");
    return;
  }
  /* A context's runner would hold the standby program's pipes open (and share its container). */
  standby_discard();
  struct context *c = NULL;
  if (find_context(s.ctx_id) || uid_in_use(s.ctx_uid)) {
    send_text('o', "error=context %u or uid %u is in use\n", s.ctx_id, (unsigned)s.ctx_uid);
    free_spec(&s);
    return;
  }
  for (int i = 0; i < MAX_CONTEXTS && !c; i++)
    if (!contexts[i].used) c = &contexts[i];
  if (!c) {
    send_text('o', "error=at most %d contexts per container\n", MAX_CONTEXTS);
    free_spec(&s);
    return;
  }
  /* Contexts write /sandbox as their own uid in the sandbox group (group-writable, setgid). */
  as_sandbox();
  int mode_err = fchmodat(AT_FDCWD, SANDBOX_DIR, 02775, 0) < 0 ? errno : 0;
  as_root();
  int out_p[2], err_p[2], cell_p[2], reply_p[2], rep_p[2];
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  /* The driver's pipes belong to the context's uid, so it may reopen them through /proc/self/fd
   * (deno cannot use an inherited descriptor by number); other uids still cannot. */
  as_ids(s.ctx_uid, sandbox_gid);
  int pipes_failed = pipe2(out_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC) || pipe2(cell_p, O_CLOEXEC) || pipe2(reply_p, O_CLOEXEC);
  as_root();
  if (mode_err || null_fd < 0 || pipes_failed || pipe2(rep_p, O_CLOEXEC)) {
    send_text('o', "error=cannot prepare the context: %s\n", strerror(mode_err ? mode_err : errno));
    free_spec(&s);
    return;
  }
  pid_t runner = fork();
  if (runner < 0) {
    send_text('o', "error=cannot fork: %s\n", strerror(errno));
    free_spec(&s);
    return;
  }
  if (runner == 0) {
    close(out_p[0]);
    close(err_p[0]);
    close(cell_p[1]);
    close(reply_p[0]);
    close(rep_p[0]);
    run_context_runner(&s, null_fd, out_p[1], err_p[1], cell_p[0], reply_p[1], rep_p[1]);
  }
  close(null_fd);
  close(out_p[1]);
  close(err_p[1]);
  close(cell_p[0]);
  close(reply_p[1]);
  close(rep_p[1]);
  memset(c, 0, sizeof *c);
  c->used = 1;
  c->id = s.ctx_id;
  c->uid = s.ctx_uid;
  c->runner = runner;
  c->interrupt_mode = s.ctx_interrupt;
  c->cell_fd = cell_p[1];
  c->reply_fd = reply_p[0];
  c->rep_fd = rep_p[0];
  c->out = (struct stream){.fd = out_p[0], .frame = '1'};
  c->err = (struct stream){.fd = err_p[0], .frame = '2'};
  set_nonblock(c->cell_fd);
  set_nonblock(c->reply_fd);
  set_nonblock(c->rep_fd);
  set_nonblock(c->out.fd);
  set_nonblock(c->err.fd);
  int64_t deadline = now_ms() + s.timeout_ms;
  free_spec(&s);

  /* Wait for the driver's 'y'; keep the start of its stderr to say why it did not come. */
  char errtext[1024];
  size_t errlen = 0;
  const char *problem = NULL;
  for (;;) {
    if (c->rlen >= 5) {
      uint32_t l = rd32(c->rbuf + 1);
      if (c->rbuf[0] == 'y' && l == 0) {
        drop_reply_bytes(c, 5);
        break;
      }
      problem = "the driver broke the protocol";
      break;
    }
    int64_t wait = deadline - now_ms();
    if (wait <= 0) {
      problem = "the driver did not start in time";
      break;
    }
    struct pollfd fds[3] = {{.fd = c->reply_fd, .events = POLLIN}, {.fd = c->err.fd, .events = POLLIN}, {.fd = c->out.fd, .events = POLLIN}};
    int r = poll(fds, 3, (int)(wait > 1000 ? 1000 : wait));
    if (r < 0 && errno != EINTR) {
      problem = "poll failed";
      break;
    }
    if (fds[1].revents) {
      ssize_t n = read(c->err.fd, errtext + errlen, sizeof errtext - 1 - errlen);
      if (n > 0) errlen += (size_t)n;
      else if (n == 0) fds[1].fd = -1;
    }
    if (fds[2].revents) {
      char sink[4096];
      ssize_t n = read(c->out.fd, sink, sizeof sink);
      (void)n;
    }
    if (fds[0].revents && context_fill_reply(c) < 0) {
      problem = "the driver exited while starting";
      break;
    }
  }
  if (problem) {
    errtext[errlen] = 0;
    for (size_t i = 0; i < errlen; i++)
      if (errtext[i] == '\n') errtext[i] = ' ';
    context_kill(c, "exited", 1);
    send_text('o', "error=%s\nstderr=%s\n", problem, errtext);
    return;
  }
  context_read_reports(c);
  send_text('o', "ok\npid=%d\n", c->driver);
}

static void context_interrupt(struct context *c, unsigned char *pending, size_t *pending_len) {
  if (c->interrupt_mode == 's') {
    /* the driver's process group: the interpreter and its foreground children (Ctrl-C) */
    if (c->driver > 0) kill(-c->driver, SIGINT);
    return;
  }
  /* 'i' frame after whatever of the cell is not written yet */
  unsigned char frame[5] = {'i', 0, 0, 0, 0};
  memcpy(pending + *pending_len, frame, 5);
  *pending_len += 5;
}

/* Forwards bytes the driver sent as an 'o'/'x' frame as the stream's output, up to the cap. */
static void forward_bytes(struct stream *st, uint64_t cap, const unsigned char *data, uint32_t n) {
  st->produced += n;
  if (st->truncated) return;
  uint64_t room = cap > st->bytes ? cap - st->bytes : 0;
  uint64_t fwd = (uint64_t)n < room ? (uint64_t)n : room;
  if (fwd) send_frame(st->frame, data, (uint32_t)fwd);
  st->bytes += fwd;
  if ((uint64_t)n > fwd) st->truncated = 1;
}

/* Reads a stream until it has nothing more right now (or 64 reads), forwarding up to the cap. */
static void drain_stream(struct stream *st, uint64_t cap, unsigned char *buf) {
  for (int i = 0; i < 64 && st->fd >= 0; i++) {
    ssize_t n = read(st->fd, buf, IO_CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close(st->fd);
      st->fd = -1;
      return;
    }
    st->produced += (uint64_t)n;
    if (st->truncated) continue;
    uint64_t room = cap > st->bytes ? cap - st->bytes : 0;
    uint64_t fwd = (uint64_t)n < room ? (uint64_t)n : room;
    if (fwd) send_frame(st->frame, buf, (uint32_t)fwd);
    st->bytes += fwd;
    if ((uint64_t)n > fwd) st->truncated = 1;
  }
}

static void handle_context_cell(unsigned char *p, uint32_t len) {
  if (len < 24) {
    send_text('Z', "status=lost\nreason=protocol\nerror=malformed cell frame\n");
    return;
  }
  uint32_t id = rd32(p), timeout_ms = rd32(p + 4), grace_ms = rd32(p + 8);
  uint64_t max_output = rd32(p + 12), max_result = rd32(p + 16), max_results = rd32(p + 20);
  struct context *c = find_context(id);
  if (!c) {
    send_text('Z', "status=lost\nreason=closed\n");
    return;
  }
  context_read_reports(c);
  if (c->driver_exited && !c->lost) context_kill(c, "exited", 0);
  if (c->lost) {
    send_text('Z', "status=lost\nreason=%s\ndriver_exit=%d\ndriver_signal=%d\n", c->lost,
              c->driver_exited && WIFEXITED(c->driver_status) ? WEXITSTATUS(c->driver_status) : -1,
              c->driver_exited && WIFSIGNALED(c->driver_status) ? WTERMSIG(c->driver_status) : 0);
    return;
  }
  uint32_t code_len = len - 24;
  /* the cell frame, plus room for one interrupt frame */
  unsigned char *pending = malloc((size_t)code_len + 16);
  if (!pending) _exit(4);
  pending[0] = 'c';
  pending[1] = (unsigned char)(code_len >> 24);
  pending[2] = (unsigned char)(code_len >> 16);
  pending[3] = (unsigned char)(code_len >> 8);
  pending[4] = (unsigned char)code_len;
  memcpy(pending + 5, p + 24, code_len);
  size_t pending_len = (size_t)code_len + 5, pending_off = 0;

  long oom_before = oom_kills(), pids_before = pids_max_hits();
  int64_t start_us = now_us();
  int64_t deadline = now_ms() + timeout_ms, interrupt_deadline = 0;
  /* fd 4 reached EOF: a driver that died says so through its runner within this; one that lives broke the protocol */
  int64_t eof_deadline = 0;
  const char *cause = NULL, *lost = NULL;
  int done = 0, results_truncated = 0;
  uint64_t results_bytes = 0;
  uint64_t frame_max = max_result + CTX_FRAME_SLACK;
  if (frame_max > CTX_FRAME_HARD_MAX) frame_max = CTX_FRAME_HARD_MAX;
  c->out.bytes = c->out.produced = 0;
  c->err.bytes = c->err.produced = 0;
  c->out.truncated = c->err.truncated = 0;
  static unsigned char buf[IO_CHUNK];

  while (!done && !lost) {
    int64_t now = now_ms();
    if (!cause && now >= deadline) {
      cause = "timeout";
      context_interrupt(c, pending, &pending_len);
      interrupt_deadline = now + grace_ms;
    }
    if (cause && now >= interrupt_deadline) {
      lost = cause;
      break;
    }
    if (eof_deadline && now >= eof_deadline) {
      lost = "protocol";
      break;
    }
    struct pollfd fds[6];
    int nf = 0, i_ctl = -1, i_out = -1, i_err = -1, i_reply = -1, i_rep = -1, i_cell = -1;
    i_ctl = nf;
    fds[nf++] = (struct pollfd){.fd = 0, .events = POLLIN};
    if (c->out.fd >= 0) { i_out = nf; fds[nf++] = (struct pollfd){.fd = c->out.fd, .events = POLLIN}; }
    if (c->err.fd >= 0) { i_err = nf; fds[nf++] = (struct pollfd){.fd = c->err.fd, .events = POLLIN}; }
    if (c->reply_fd >= 0) { i_reply = nf; fds[nf++] = (struct pollfd){.fd = c->reply_fd, .events = POLLIN}; }
    if (c->rep_fd >= 0) { i_rep = nf; fds[nf++] = (struct pollfd){.fd = c->rep_fd, .events = POLLIN}; }
    if (pending_off < pending_len && c->cell_fd >= 0) { i_cell = nf; fds[nf++] = (struct pollfd){.fd = c->cell_fd, .events = POLLOUT}; }
    int64_t wait = (cause ? interrupt_deadline : deadline) - now;
    if (eof_deadline && eof_deadline - now < wait) wait = eof_deadline - now;
    if (wait < 0) wait = 0;
    int r = poll(fds, (nfds_t)nf, (int)(wait > 1000 ? 1000 : wait));
    if (r < 0 && errno != EINTR) {
      lost = "protocol";
      break;
    }
    if (fds[i_ctl].revents) {
      if (fill_input() < 0 && in_eof) {
        lost = "closed";
        break;
      }
      char t;
      unsigned char *fp;
      uint32_t fl;
      while (peek_frame(&t, &fp, &fl)) {
        consume_frame();
        if (t == 'K' && !cause) {
          cause = "cancelled";
          context_interrupt(c, pending, &pending_len);
          interrupt_deadline = now_ms() + grace_ms;
        }
      }
    }
    if (i_cell >= 0 && fds[i_cell].revents) {
      if (write_some(c->cell_fd, pending, pending_len, &pending_off) < 0) {
        lost = "protocol"; /* the driver closed its cell pipe */
        break;
      }
    }
    /* stdout and stderr before replies: output written before a result frame stays before it */
    if (i_out >= 0 && fds[i_out].revents) drain_stream(&c->out, max_output, buf);
    if (i_err >= 0 && fds[i_err].revents) drain_stream(&c->err, max_output, buf);
    if (i_reply >= 0 && fds[i_reply].revents) {
      drain_stream(&c->out, max_output, buf);
      drain_stream(&c->err, max_output, buf);
      if (context_fill_reply(c) < 0) {
        close(c->reply_fd);
        c->reply_fd = -1;
      }
      while (c->rlen >= 5 && !lost && !done) {
        char t = (char)c->rbuf[0];
        uint32_t l = rd32(c->rbuf + 1);
        if ((t != 'r' && t != 'e' && t != 'd' && t != 'o' && t != 'x') || l > frame_max) {
          lost = "protocol";
          break;
        }
        if (c->rlen < 5 + (size_t)l) break;
        if (t == 'd') {
          done = 1;
        } else if (t == 'o' || t == 'x') {
          forward_bytes(t == 'o' ? &c->out : &c->err, max_output, c->rbuf + 5, l);
        } else if (results_bytes + l > max_results) {
          results_truncated = 1;
        } else {
          results_bytes += l;
          c->rbuf[4] = (unsigned char)t; /* reuse the header: [type][payload] as one 'V' payload */
          send_frame('V', c->rbuf + 4, l + 1);
        }
        drop_reply_bytes(c, 5 + (size_t)l);
      }
      if (c->reply_fd < 0 && !done && !lost && !eof_deadline) eof_deadline = now_ms() + 500;
    }
    if (i_rep >= 0 && fds[i_rep].revents) {
      context_read_reports(c);
      if (c->driver_exited && !done) lost = "exited";
    }
  }
  if (!lost && c->rlen > 0) lost = "protocol"; /* bytes after 'd': a forged or broken stream */
  /* whatever the cell printed before it said done */
  drain_stream(&c->out, max_output, buf);
  drain_stream(&c->err, max_output, buf);
  long oom_after = oom_kills(), pids_after = pids_max_hits();
  int oom = oom_before >= 0 && oom_after > oom_before;
  int pids = pids_before >= 0 && pids_after > pids_before;
  if (lost && strcmp(lost, "exited") == 0) {
    if (oom) lost = "memory-limit";
    else if (pids) lost = "pids-limit";
  }
  /* A cell that hit the pids limit has filled the session's process table: its context goes. */
  if (!lost && pids) lost = "pids-limit";
  if (lost) context_kill(c, lost, 0);
  free(pending);
  send_text('Z',
            "status=%s\nreason=%s\ninterrupted=%d\ntruncated_stdout=%d\ntruncated_stderr=%d\nresults_truncated=%d\n"
            "stdout_bytes=%llu\nstderr_bytes=%llu\noom_killed=%d\npids_limit_hit=%d\nduration_us=%lld\n"
            "driver_exit=%d\ndriver_signal=%d\n",
            lost ? "lost" : "ok", lost ? lost : (cause ? cause : "none"), cause != NULL, c->out.truncated,
            c->err.truncated, results_truncated, (unsigned long long)c->out.produced,
            (unsigned long long)c->err.produced, oom, pids, (long long)(now_us() - start_us),
            c->driver_exited && WIFEXITED(c->driver_status) ? WEXITSTATUS(c->driver_status) : -1,
            c->driver_exited && WIFSIGNALED(c->driver_status) ? WTERMSIG(c->driver_status) : 0);
}

static void handle_context_close(unsigned char *p, uint32_t len) {
  struct context *c = len == 4 ? find_context(rd32(p)) : NULL;
  if (!c) {
    send_text('q', "unknown");
    return;
  }
  context_kill(c, "closed", 1);
  send_text('q', "ok");
}

/* ---------- listing /sandbox (artifacts) ----------
 * 'L' -> 'l' one line per regular file: "<size>\t<mtime s>.<mtime ns>\t<path relative to /sandbox>".
 * Read as the sandbox user; symlinks are never followed; directories it cannot search, names
 * with a tab or newline, and entries past the caps are left out (the last line says "truncated"). */
#define LIST_MAX_ENTRIES 10000
#define LIST_MAX_DEPTH 32

struct listing {
  char *buf;
  size_t len, cap;
  int entries, truncated;
};

static void list_append(struct listing *l, const char *text, size_t n) {
  if (l->len + n + 1 > l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 65536;
    while (cap < l->len + n + 1) cap *= 2;
    char *nb = realloc(l->buf, cap);
    if (!nb) _exit(4);
    l->buf = nb;
    l->cap = cap;
  }
  memcpy(l->buf + l->len, text, n);
  l->len += n;
}

static void list_dir(struct listing *l, int dirfd, const char *prefix, int depth) {
  DIR *d = fdopendir(dirfd);
  if (!d) {
    close(dirfd);
    return;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    if (strpbrk(e->d_name, "\t\n")) continue;
    if (l->entries >= LIST_MAX_ENTRIES) {
      l->truncated = 1;
      break;
    }
    struct stat st;
    if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    char path[4096];
    int n = snprintf(path, sizeof path, "%s%s", prefix, e->d_name);
    if (n < 0 || n >= (int)sizeof path - 2) continue;
    if (S_ISREG(st.st_mode)) {
      char line[4200];
      int m = snprintf(line, sizeof line, "%lld\t%lld.%09ld\t%s\n", (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, path);
      if (m > 0 && m < (int)sizeof line) list_append(l, line, (size_t)m);
      l->entries++;
    } else if (S_ISDIR(st.st_mode) && depth < LIST_MAX_DEPTH) {
      int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) continue;
      path[n] = '/';
      path[n + 1] = 0;
      list_dir(l, sub, path, depth + 1);
    }
  }
  closedir(d);
}

static void handle_list(void) {
  struct listing l = {0};
  as_sandbox();
  int fd = openat(sandbox_root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) list_dir(&l, fd, "", 0);
  as_root();
  if (l.truncated) list_append(&l, "truncated\n", 10);
  send_frame('l', l.buf, (uint32_t)l.len);
  free(l.buf);
}

static void kill_all_contexts(void) {
  for (int i = 0; i < MAX_CONTEXTS; i++)
    if (contexts[i].used) context_kill(&contexts[i], "closed", 1);
}

/* ---------- filtered networking: the in-container forwarder ----------
 * In filtered mode the container has no network but loopback. This process (uid 0, no
 * capabilities, not signalable by the sandbox uid) listens on 127.0.0.1:<port> and relays
 * each connection byte for byte to isol8's filtering proxy through a unix socket that the
 * engine bind-mounts from the host (root-only: the sandbox uid cannot open it). The proxy
 * decides; this process only carries bytes. */

#define RELAY_MAX 256
#define RELAY_BUF 16384

struct half {
  unsigned char buf[RELAY_BUF];
  size_t len, off;
  int eof; /* the reading side finished */
  int shut; /* shutdown(SHUT_WR) sent to the writing side */
};

struct relay {
  int fd[2];        /* 0: sandbox client, 1: proxy */
  struct half dir[2]; /* dir[0]: client -> proxy, dir[1]: proxy -> client */
};

static void drop_all_caps(void) {
  for (int cap = 0; cap <= 63; cap++) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  syscall(SYS_capset, &hdr, data);
}

static void relay_close(struct relay *r) {
  close(r->fd[0]);
  close(r->fd[1]);
  r->fd[0] = r->fd[1] = -1;
}

/* Moves bytes for one direction; returns -1 when the relay must close. */
static int relay_step(struct relay *r, int d, short rev_in, short rev_out) {
  struct half *h = &r->dir[d];
  int from = r->fd[d], to = r->fd[1 - d];
  if ((rev_in & (POLLIN | POLLHUP | POLLERR)) && !h->eof && h->len == 0) {
    ssize_t n = read(from, h->buf, RELAY_BUF);
    if (n > 0) {
      h->len = (size_t)n;
      h->off = 0;
    } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
      h->eof = 1;
    }
  }
  if (h->len > h->off && (rev_out & POLLOUT)) {
    ssize_t n = write(to, h->buf + h->off, h->len - h->off);
    if (n > 0) h->off += (size_t)n;
    else if (n < 0 && errno != EAGAIN && errno != EINTR) return -1;
    if (h->off >= h->len) h->len = h->off = 0;
  }
  if (h->eof && h->len == 0 && !h->shut) {
    shutdown(to, SHUT_WR);
    h->shut = 1;
  }
  return 0;
}

static void run_forwarder(int port, const char *socket_path, int ready_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  drop_all_caps();
  signal(SIGPIPE, SIG_IGN);
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(lfd, 128) < 0) {
    dprintf(ready_fd, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
    _exit(1);
  }
  ssize_t ignored = write(ready_fd, "ok", 2);
  (void)ignored;
  close(ready_fd);
  static struct relay relays[RELAY_MAX];
  int count = 0;
  for (;;) {
    struct pollfd fds[1 + 2 * RELAY_MAX];
    int nf = 0;
    fds[nf++] = (struct pollfd){.fd = lfd, .events = count < RELAY_MAX ? POLLIN : 0};
    for (int i = 0; i < count; i++) {
      for (int side = 0; side < 2; side++) {
        short ev = 0;
        /* read from this side when its outgoing buffer is empty; write when the other side has data */
        if (!relays[i].dir[side].eof && relays[i].dir[side].len == 0) ev |= POLLIN;
        if (relays[i].dir[1 - side].len > relays[i].dir[1 - side].off) ev |= POLLOUT;
        fds[nf++] = (struct pollfd){.fd = relays[i].fd[side], .events = ev};
      }
    }
    if (poll(fds, (nfds_t)nf, -1) < 0 && errno != EINTR) _exit(2);
    for (int i = 0; i < count; i++) {
      struct pollfd *c = &fds[1 + 2 * i], *p = &fds[2 + 2 * i];
      if (relay_step(&relays[i], 0, c->revents, p->revents) < 0 || relay_step(&relays[i], 1, p->revents, c->revents) < 0 ||
          (relays[i].dir[0].shut && relays[i].dir[1].shut) || ((c->revents | p->revents) & POLLNVAL)) {
        relay_close(&relays[i]);
      }
    }
    /* compact closed relays (poll indexes were used above, so only now) */
    int w = 0;
    for (int i = 0; i < count; i++) {
      if (relays[i].fd[0] >= 0) {
        if (w != i) relays[w] = relays[i];
        w++;
      }
    }
    count = w;
    if (fds[0].revents & POLLIN) {
      for (;;) {
        int client = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (client < 0) break;
        if (count >= RELAY_MAX) {
          close(client);
          continue;
        }
        int up = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un ua = {.sun_family = AF_UNIX};
        snprintf(ua.sun_path, sizeof ua.sun_path, "%s", socket_path);
        if (up < 0 || connect(up, (struct sockaddr *)&ua, sizeof ua) < 0) {
          /* fail closed: the program sees a refused connection, never another route */
          if (up >= 0) close(up);
          close(client);
          continue;
        }
        fcntl(up, F_SETFL, fcntl(up, F_GETFL) | O_NONBLOCK);
        memset(&relays[count], 0, sizeof relays[count]);
        relays[count].fd[0] = client;
        relays[count].fd[1] = up;
        count++;
      }
    }
  }
}

/* ---------- identity ---------- */

/* A whole decimal number from 1 to max in the environment entry `name`, taken out of the
 * environment programs inherit: 1 with *out set, 0 when absent, -1 when malformed. */
static int take_env_number(const char *name, unsigned long long max, unsigned long long *out) {
  const char *value = getenv(name);
  if (!value) return 0;
  if (value[0] < '0' || value[0] > '9') return -1;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(value, &end, 10);
  if (errno || *end || n < 1 || n > max) return -1;
  *out = n;
  unsetenv(name);
  return 1;
}

/* The sandbox uid from the engine (required). */
static int read_sandbox_uid(void) {
  unsigned long long uid;
  if (take_env_number(UID_ENV, UID_MAX_ALLOWED, &uid) != 1) return -1;
  sandbox_uid = (uid_t)uid;
  sandbox_gid = (gid_t)uid;
  return 0;
}

/* The process limit from the engine (absent: none). */
static int read_process_limit(void) {
  unsigned long long limit;
  int found = take_env_number(PROCESS_LIMIT_ENV, PROCESS_LIMIT_MAX, &limit);
  if (found == 1) process_limit = (rlim_t)limit;
  return found < 0 ? -1 : 0;
}

/* Whether an image's passwd/group line names "sandbox" or holds this id (the third field). */
static int clashes(const char *line, unsigned id) {
  const char *c1 = strchr(line, ':');
  if (!c1) return 0;
  if (c1 - line == 7 && memcmp(line, "sandbox", 7) == 0) return 1;
  const char *c2 = strchr(c1 + 1, ':');
  if (!c2 || c2[1] < '0' || c2[1] > '9') return 0;
  char *end;
  unsigned long v = strtoul(c2 + 1, &end, 10);
  return *end == ':' && v == id;
}

/* Writes IDENTITY_DIR/<file>: the image's entries (IMAGE_IDENTITY_DIR/<file>) except any that
 * would clash, then the sandbox's own entry. Programs asking who they are (id, getpwuid,
 * os.userInfo, pip --user) get an answer; the sandbox user cannot change it (root-owned). */
static int write_identity(const char *file, unsigned id, const char *own_fmt) {
  char src[128], dst[128];
  snprintf(src, sizeof src, "%s/%s", IMAGE_IDENTITY_DIR, file);
  snprintf(dst, sizeof dst, "%s/%s", IDENTITY_DIR, file);
  int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0) return -1;
  FILE *in = fopen(src, "re");
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  int rc = 0;
  while (in && rc == 0 && (n = getline(&line, &cap, in)) > 0) {
    if (clashes(line, id)) continue;
    rc = write_all(out, line, (size_t)n);
    if (rc == 0 && line[n - 1] != '\n') rc = write_all(out, "\n", 1);
  }
  free(line);
  if (in) fclose(in);
  char own[128];
  int len = snprintf(own, sizeof own, own_fmt, id, id);
  if (rc == 0) rc = write_all(out, own, (size_t)len);
  if (rc == 0) rc = fchmod(out, 0644);
  close(out);
  return rc;
}

/* ---------- direct channel ----------
 * When the engine names CHANNEL_ENV, it listens there for this supervisor: a unix socket in a
 * root-only (0700) host directory of its own, bind-mounted read-only into this container only.
 * The supervisor connects once, at start, before any other process of the container exists,
 * and puts the connection in place of fds 0 and 1: every frame then goes straight to the
 * engine, not through Docker's attach relay (dockerd and the container's shim copy each frame
 * of the attach stream twice). The engine takes that one connection and removes the socket and
 * its directory at once, so nothing can connect after it; the sandbox uid could not even reach
 * the directory. Everything that keeps programs off fds 0 and 1 keeps them off the connection.
 * Logs stay on fd 2 (the attach stream). When the connection cannot be made (an engine whose
 * files Docker does not see, a runtime without host sockets), the attach stream serves, as
 * without CHANNEL_ENV. */
#define CHANNEL_ENV "ISOL8_CHANNEL_SOCKET"
#define CHANNEL_SEND_BUFFER (1 << 20)

static int connect_direct_channel(void) {
  const char *env = getenv(CHANNEL_ENV);
  if (!env) return 0;
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  int fd = -1;
  const char *failed = NULL;
  if (strlen(env) >= sizeof addr.sun_path) failed = "path too long";
  else {
    memcpy(addr.sun_path, env, strlen(env) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) failed = strerror(errno);
  }
  if (!failed) {
    /* Room for what a program writes while the engine is busy, as the attach relay's buffers
     * gave: a full socket would stop this process draining the program's pipes (the kernel
     * caps it at net.core.wmem_max). */
    int room = CHANNEL_SEND_BUFFER;
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
  }
  if (failed) {
    logf_("isol8-supervisor: no direct channel (%s: %s): using the attach stream", env, failed);
    if (fd >= 0) close(fd);
  } else if (dup2(fd, 0) < 0 || dup2(fd, 1) < 0) {
    logf_("isol8-supervisor: cannot take the direct channel: %s", strerror(errno));
    return -1; /* fds 0 and 1 may now be two channels: none is served */
  } else if (fd > 1) {
    close(fd);
  }
  unsetenv(CHANNEL_ENV);
  return 0;
}

/* Starts the forwarder when the engine asked for filtered networking; waits until it listens. */
static int start_forwarder(void) {
  const char *port = getenv("ISOL8_PROXY_PORT");
  const char *path = getenv("ISOL8_PROXY_SOCKET");
  if (!port || !path) return 0;
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(p[0]);
    close(0);
    close(1);
    run_forwarder(atoi(port), path, p[1]);
  }
  close(p[1]);
  char msg[256] = "";
  ssize_t n = read(p[0], msg, sizeof msg - 1);
  close(p[0]);
  if (n != 2 || memcmp(msg, "ok", 2) != 0) {
    logf_("isol8-supervisor: network forwarder failed: %s", n > 0 ? msg : "exited");
    return -1;
  }
  return 0;
}

int main(void) {
  int hold = 0;
  signal(SIGPIPE, SIG_IGN);
  if (read_sandbox_uid() < 0) {
    logf_("isol8-supervisor: %s must be a uid from 1 to %llu", UID_ENV, UID_MAX_ALLOWED);
    return 1;
  }
  if (read_process_limit() < 0) {
    logf_("isol8-supervisor: %s must be a number of processes from 1 to %llu", PROCESS_LIMIT_ENV, PROCESS_LIMIT_MAX);
    return 1;
  }
  load_standby_spec();
  if (write_identity("passwd", sandbox_uid, "sandbox:x:%u:%u:isol8 sandbox:/sandbox:/bin/bash\n") < 0 ||
      write_identity("group", sandbox_gid, "sandbox:x:%u:\n") < 0) {
    logf_("isol8-supervisor: cannot write %s: %s", IDENTITY_DIR, strerror(errno));
    return 1;
  }
  sandbox_root_fd = open(SANDBOX_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (sandbox_root_fd < 0) {
    logf_("isol8-supervisor: cannot open %s: %s", SANDBOX_DIR, strerror(errno));
    return 1;
  }
  if (record_xattr_baseline() < 0) {
    logf_("isol8-supervisor: cannot read the extended attributes of the wiped directories: %s", strerror(errno));
    return 1;
  }
  detect_clone3();
  if (connect_direct_channel() < 0) return 1;
  if (start_forwarder() < 0) return 1;
  start_zygote();
  send_text('R', "version=2\nuid=%u\npid=%d\n", (unsigned)sandbox_uid, getpid());
  standby_start();
  for (;;) {
    char type;
    unsigned char *payload;
    uint32_t len;
    if (!wait_frame(&type, &payload, &len)) break;
    /* Copy out: handlers may read more input (abort frames) and move the buffer. */
    unsigned char *copy = malloc(len ? len : 1);
    if (!copy) _exit(4);
    memcpy(copy, payload, len);
    consume_frame();
    switch (type) {
      case 'W': handle_write(copy, len); break;
      case 'G': handle_read(copy, len); break;
      case 'X': handle_execute(copy, len); break;
      case 'C': handle_clean(); break;
      case 'O': handle_context_open(copy, len); break;
      case 'Y': handle_context_cell(copy, len); break;
      case 'Q': handle_context_close(copy, len); break;
      case 'L': handle_list(); break;
      case 'P': send_frame('p', NULL, 0); break;
      case 'K': break; /* abort with nothing running */
      case 'H': hold = 1; break;
      default: logf_("isol8-supervisor: unknown frame type %d", type);
    }
    free(copy);
  }
  kill_all_contexts();
  standby_discard();
  kill_sandbox_procs();
  zygote_stop();
  /* Kept for inspection (isol8 run --persist): the container stays up, its tmpfs intact. */
  while (hold) pause();
  return 0;
}
