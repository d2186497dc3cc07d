// The programs `isol8 doctor --attack` runs inside a sandbox. Each prints one JSON document
// of what its attempts got: [return value, errno] per call (made in a forked child, so a
// crash is a result too). None of them sends a packet anywhere: sockets are created, never
// connected (a UDP connect() sends nothing), and addresses are reached only through the
// filtering proxy, whose refusal is the result.

/** Python helpers every probe starts with: `call(fn)` -> [rc, errno] from a forked child. */
const PRELUDE = `
import ctypes, ctypes.util, errno, json, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
def call(fn):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            rc = fn()
            e = ctypes.get_errno() if rc == -1 else 0
        except OSError as ex:
            rc, e = -1, ex.errno or 0
        os.write(w, json.dumps([rc if isinstance(rc, int) else 0, e]).encode())
        os._exit(0)
    os.close(w)
    data = os.read(r, 4096)
    os.waitpid(pid, 0)
    return json.loads(data) if data else [-2, 0]
def sock(family, kind, proto=0):
    def make():
        s = socket.socket(family, kind, proto)
        s.close()
        return 0
    return make
`;

const py = (body: string) => `${PRELUDE}\n${body.trim()}\n`;

export const CAPABILITIES = py(`
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
PR_GET_NO_NEW_PRIVS = 39
print(json.dumps({
  "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
  "caps": {k: status.get(k, "").strip() for k in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]},
  "seccomp": status.get("Seccomp", "").strip(),
  "noNewPrivs": libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0),
  "setuid0": call(lambda: libc.setuid(0)),
}))
`);

export const MOUNTS = py(`
os.makedirs("/sandbox/doctor-mnt", exist_ok=True)
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x20000, 0x10000000, 0x40000000
print(json.dumps({
  "mount tmpfs": call(lambda: libc.mount(b"none", b"/sandbox/doctor-mnt", b"tmpfs", 0, None)),
  "mount proc": call(lambda: libc.mount(b"proc", b"/sandbox/doctor-mnt", b"proc", 0, None)),
  "unshare(user)": call(lambda: libc.unshare(CLONE_NEWUSER)),
  "unshare(mount)": call(lambda: libc.unshare(CLONE_NEWNS)),
  "unshare(net)": call(lambda: libc.unshare(CLONE_NEWNET)),
  "control: mkdir": call(lambda: os.mkdir("/sandbox/doctor-dir") or 0),
}))
`);

export const PTRACE = py(`
PTRACE_ATTACH, PTRACE_SEIZE = 16, 0x4206
others = sorted(int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid())
root_pids = [p for p in others if os.path.exists(f"/proc/{p}/status") and "Uid:\\t0\\t" in open(f"/proc/{p}/status").read()]
results = {}
for p in root_pids[:4]:
    results[f"ptrace(ATTACH, {p})"] = call(lambda p=p: libc.ptrace(PTRACE_ATTACH, p, 0, 0))
    results[f"ptrace(SEIZE, {p})"] = call(lambda p=p: libc.ptrace(PTRACE_SEIZE, p, 0, 0))
    results[f"read /proc/{p}/mem"] = call(lambda p=p: len(open(f"/proc/{p}/mem", "rb").read(1)))
    results[f"kill({p})"] = call(lambda p=p: libc.kill(p, 0))
print(json.dumps({"rootPids": root_pids, "results": results, "control: kill(self, 0)": call(lambda: libc.kill(os.getpid(), 0))}))
`);

export const RAW_SOCKETS = py(`
print(json.dumps({
  "AF_PACKET raw": call(sock(17, socket.SOCK_RAW)),
  "AF_INET raw icmp": call(sock(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
  "AF_INET6 raw": call(sock(socket.AF_INET6, socket.SOCK_RAW, 58)),
  "AF_VSOCK (created only)": call(sock(40, socket.SOCK_STREAM)),
  "AF_ALG": call(sock(38, socket.SOCK_SEQPACKET)),
  "control: AF_INET stream": call(sock(socket.AF_INET, socket.SOCK_STREAM)),
}))
`);

/** Runs every probe program under /sandbox/probes and prints `name status` lines. */
export const COMPAT_ABI_RUNNER = `cd /sandbox/probes && for p in *; do chmod 700 "$p"; ./"$p" 2>/dev/null; echo "$p $?"; done`;

export const PROC_SECRETS = py(`
secret = os.environ["ISOL8_DOCTOR_CANARY"]
found = []
readable = []
for p in os.listdir("/proc"):
    if not p.isdigit() or int(p) == os.getpid():
        continue
    for f in ["environ", "cmdline"]:
        try:
            data = open(f"/proc/{p}/{f}", "rb").read()
        except OSError:
            continue
        readable.append(f"{p}/{f}")
        if secret.encode() in data:
            found.append(f"/proc/{p}/{f}")
def write(path, text):
    def go():
        with open(path, "w") as f:
            f.write(text)
        return 0
    return go
print(json.dumps({
  "secretFoundIn": found,
  "write /proc/sys/kernel/core_pattern": call(write("/proc/sys/kernel/core_pattern", "|/sandbox/x")),
  "write /proc/sysrq-trigger": call(write("/proc/sysrq-trigger", "h")),
  "read /proc/kcore": call(lambda: len(open("/proc/kcore", "rb").read(1))),
  # A program exec'd by this one, after the scan: its /proc/self/environ is the environment the
  # execution passed (a python program forked from the zygote keeps the zygote's there).
  "control: own environ": secret.encode() in __import__("subprocess").run(["cat", "/proc/self/environ"], capture_output=True).stdout,
}))
`);

export const DEVICES = py(`
import stat
def mknod_and_open(major, minor):
    def go():
        path = f"/sandbox/dev-{major}-{minor}"
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(major, minor))
        return len(open(path, "rb").read(1))
    return go
print(json.dumps({
  "mknod+read mem (1,1)": call(mknod_and_open(1, 1)),
  "mknod+read kmsg (1,11)": call(mknod_and_open(1, 11)),
  "mknod+read sda (8,0)": call(mknod_and_open(8, 0)),
  "read /dev/mem": call(lambda: len(open("/dev/mem", "rb").read(1))),
  "read /dev/kmsg": call(lambda: len(open("/dev/kmsg", "rb").read(1))),
  "control: /dev/urandom": call(lambda: len(open("/dev/urandom", "rb").read(8))),
}))
`);

/** Pool hygiene, first execution: leaves canaries everywhere it can write and a process behind. */
export function leaveCanaries(canary: string): string {
  return py(`
import subprocess
canary = ${JSON.stringify(canary)}
for path in ["/sandbox/canary", "/tmp/canary", "/dev/shm/canary", "/sandbox/.bashrc", "/sandbox/.profile"]:
    open(path, "w").write(canary)
subprocess.Popen(["sleep", "300"], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(json.dumps({"written": sorted(os.listdir("/sandbox")), "ok": all(open(p).read() == canary for p in ["/sandbox/canary", "/tmp/canary", "/dev/shm/canary"])}))
`);
}

/** Pool hygiene, the next execution: looks for anything the first one left. */
export function findCanaries(canary: string): string {
  return py(`
canary = ${JSON.stringify(canary)}
found = []
for root in ["/sandbox", "/tmp", "/dev/shm"]:
    for dirpath, dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(dirpath, name)
            if path == os.path.abspath(sys.argv[0]):
                continue  # this program's own file holds the canary as text
            try:
                if canary.encode() in open(path, "rb").read():
                    found.append(path)
            except OSError:
                pass
for p in os.listdir("/proc"):
    if p.isdigit() and int(p) != os.getpid():
        try:
            # The sleep the first execution started (argv[0] "sleep"), not any command line
            # that holds the word (the python zygote's program text does).
            if open(f"/proc/{p}/cmdline", "rb").read().split(b"\\0")[0] == b"sleep":
                found.append(f"process {p}")
        except OSError:
            pass
print(json.dumps({"found": found}))
`);
}

/**
 * Through the filtering proxy (filtered mode): metadata and private addresses, as plain HTTP
 * and as CONNECT. The proxy refuses each by its address policy before any connection is made.
 */
export const PROXY_TARGETS = [
  "http://169.254.169.254/latest/meta-data/",
  "http://metadata.google.internal/computeMetadata/v1/",
  "http://10.0.0.1/",
  "http://192.168.0.1/",
  "http://[fd00::1]/",
  "https://169.254.169.254/",
  "https://172.16.0.1/",
] as const;

export const THROUGH_PROXY = py(`
import urllib.request, urllib.error
targets = ${JSON.stringify(PROXY_TARGETS)}
results = {}
for url in targets:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            results[url] = {"status": r.status}
    except urllib.error.HTTPError as e:
        results[url] = {"status": e.code}
    except Exception as e:
        results[url] = {"error": type(e).__name__ + ": " + str(e)[:120]}
print(json.dumps(results))
`);

/** DNS around the proxy: no interface but loopback, no route, and no way to the resolver (a UDP connect sends nothing). */
export const AROUND_PROXY = py(`
interfaces = sorted(l.split(":")[0].strip() for l in open("/proc/net/dev").read().splitlines()[2:])
routes = [l for l in open("/proc/net/route").read().splitlines()[1:] if l.strip()]
nameservers = [l.split()[1] for l in open("/etc/resolv.conf").read().splitlines() if l.startswith("nameserver")] if os.path.exists("/etc/resolv.conf") else []
def udp_connect(host):
    def go():
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_DGRAM)
        s.connect((host, 53))
        s.close()
        return 0
    return go
print(json.dumps({
  "interfaces": interfaces,
  "routes": len(routes),
  "resolvers": {ns: call(udp_connect(ns)) for ns in nameservers if not ns.startswith("127.")},
}))
`);

export const CLOCK = py(`
class timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]
class timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]
now = timespec()
libc.clock_gettime(0, ctypes.byref(now))
later = timespec(now.tv_sec + 3600, 0)
buf = ctypes.create_string_buffer(512)
ctypes.memmove(buf, (ctypes.c_uint * 1)(1), 4)  # modes = ADJ_OFFSET
print(json.dumps({
  "clock_settime(REALTIME)": call(lambda: libc.clock_settime(0, ctypes.byref(later))),
  "settimeofday": call(lambda: libc.settimeofday(ctypes.byref(timeval(now.tv_sec + 3600, 0)), None)),
  "adjtimex(ADJ_OFFSET)": call(lambda: libc.adjtimex(buf)),
  "clock_adjtime(REALTIME)": call(lambda: libc.syscall(305, 0, buf)),
  "control: clock_gettime": call(lambda: libc.clock_gettime(0, ctypes.byref(timespec()))),
}))
`);

/** The allowlist's edges: calls the strict profile refuses that no capability guards. */
export const SYSCALL_SURFACE = py(`
print(json.dumps({
  "personality(ADDR_NO_RANDOMIZE)": call(lambda: libc.personality(0x0040000)),
  "keyctl(GET_KEYRING_ID)": call(lambda: libc.syscall(250, 0, -3, 0)),
  "add_key": call(lambda: libc.syscall(248, b"user", b"doctor", b"x", 1, -3)),
  "bpf(PROG_LOAD)": call(lambda: libc.syscall(321, 5, 0, 0)),
  "io_uring_setup": call(lambda: libc.syscall(425, 1, ctypes.create_string_buffer(120))),
  "userfaultfd": call(lambda: libc.syscall(323, 0)),
  "perf_event_open": call(lambda: libc.syscall(298, ctypes.create_string_buffer(128), 0, -1, -1, 0)),
  "control: getpid": call(lambda: os.getpid()),
}))
`);
