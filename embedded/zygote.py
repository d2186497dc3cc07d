# isol8 python zygote (see embedded/supervisor.c, "python zygote").
#
# Started by the supervisor as root (with only the supervisor's capabilities) in a python
# container; it never runs user code and never reads an execution's data. It keeps one standby
# pair forked ahead of the next execution: a runner (root, child subreaper, reports
# "M <status>" and "U <user_us> <sys_us> <maxrss_kb>" like supervisor.c's run_runner) and its
# child, the next program, still root, which waits on the zygote's socket (fd 3) for the five
# descriptors of one execution: the program's stdin, stdout, stderr, the report pipe and a memfd
# holding argv, env, cwd and the sandbox uid. The child hands the report pipe to its runner,
# answers the supervisor with the runner's pid, tells the zygote to fork the next standby, and
# takes exactly the posture of drop_and_exec (own session, empty capability sets, setresuid/gid
# to the sandbox uid, NoNewPrivs, core dumps off, umask 022, the cwd, the image's environment
# plus the request's) before it reads the program. What a fresh `python3 <file>` would do
# differently (PYTHON*/LC_*/LANG entries, a user site directory, another argv shape) is run by
# exec'ing python3 after the same drop. Before the request the child does only what needs no
# data of it (its session, the bounding and ambient sets, groups): until then it is root, out of
# reach of the running execution's uid.
import sys

_BASELINE = frozenset(sys.modules)
del sys.path[0]  # '' of -c: the zygote imports nothing from the working directory

import array
import ctypes
import errno
import gc
import os
import resource
import signal
import socket
import struct
import time

_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_CAPBSET_DROP = 24
_PR_SET_CHILD_SUBREAPER = 36
_PR_SET_NO_NEW_PRIVS = 38
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4
_FDS = 5


def _prctl(option, arg=0):
    ulong = ctypes.c_ulong
    if _libc.prctl(ctypes.c_int(option), ulong(arg), ulong(0), ulong(0), ulong(0)) == 0:
        return 0
    return ctypes.get_errno()


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _read_spec(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    data = b"".join(chunks)
    spec = {"a": [], "e": [], "c": None, "u": None}
    off = 0
    while off + 5 <= len(data):
        key = chr(data[off])
        (length,) = struct.unpack_from(">I", data, off + 1)
        value = data[off + 5 : off + 5 + length]
        off += 5 + length
        if key in ("a", "e"):
            spec[key].append(os.fsdecode(value))
        else:
            spec[key] = os.fsdecode(value)
    return spec


def _fail(what, err):
    os.write(2, ("isol8: %s: %s\n" % (what, os.strerror(err))).encode())
    os._exit(126)


def _drop_sets():
    """The first steps of supervisor.c drop_and_exec, which need nothing of the execution: the
    signal mask, the bounding and ambient sets, the groups. None or (what failed, errno)."""
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    fail = None
    for cap in range(64):
        e = _prctl(_PR_CAPBSET_DROP, cap)
        if e and e != errno.EINVAL:
            fail = ("cannot drop the bounding set", e)
    e = _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    if e and e != errno.EINVAL:
        fail = ("cannot clear ambient capabilities", e)
    try:
        os.setgroups([])
    except OSError as err:
        fail = ("cannot clear groups", err.errno)
    return fail


def _drop(uid, fail):
    """The rest of drop_and_exec (the clone3 filter is never needed: the supervisor starts no
    zygote where clone3 is refused with EPERM); any failure, earlier ones included, ends the
    program with 126 before anything of it runs."""
    for what, step in (
        ("cannot set gid", lambda: os.setresgid(uid, uid, uid)),
        ("cannot set uid", lambda: os.setresuid(uid, uid, uid)),
    ):
        try:
            step()
        except OSError as err:
            fail = (what, err.errno)
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    if _libc.capset(ctypes.byref(header), data) != 0:
        fail = ("cannot clear capabilities", ctypes.get_errno())
    e = _prctl(_PR_SET_NO_NEW_PRIVS, 1)
    if e:
        fail = ("cannot set no_new_privs", e)
    if fail or os.getuid() != uid or os.geteuid() != uid or os.getgid() != uid or os.getgroups():
        _fail(*(fail or ("cannot set uid", errno.EPERM)))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # A uid change leaves a process undumpable; a program exec'd by the C path is dumpable.
    _prctl(_PR_SET_DUMPABLE, 1)
    # ctypes keeps its own copy of errno per thread: the program's ctypes starts from 0, as in
    # a fresh interpreter, not from the EINVAL of the bounding-set loop.
    ctypes.set_errno(0)


def _exec(argv):
    """What drop_and_exec does after the drop: the dispositions Python set back to default."""
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        signal.signal(sig, signal.SIG_DFL)
    try:
        os.execvp(argv[0], argv)
    except OSError as err:
        os.write(2, ("isol8: cannot run %s: %s\n" % (argv[0], os.strerror(err.errno))).encode())
        os._exit(127 if err.errno == errno.ENOENT else 126)


_RESTARTS = ("PYTHON", "LC_")


def _emulable(argv, env_keys):
    """Whether this interpreter can run the program as a fresh `python3 <file>` would."""
    if len(argv) < 2 or argv[0] != "python3" or not argv[1].startswith("/"):
        return False
    if any(k.startswith(_RESTARTS) or k in ("LANG", "LANGUAGE") for k in env_keys):
        return False
    if not os.path.isfile(argv[1]) or os.path.islink(argv[1]):
        return False
    import site

    site.USER_BASE = None
    site.USER_SITE = None
    return not os.path.isdir(site.getusersitepackages())


def _exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def _run_main(argv):
    """`python3 <file> args...`: __main__, sys.argv, sys.path[0], exit status, finalization."""
    path = argv[1]
    sys.argv = list(argv[1:])
    sys.orig_argv = list(argv)
    sys.path.insert(0, os.path.dirname(path))
    main = type(sys)("__main__")
    main.__file__ = path
    main.__cached__ = None
    main.__builtins__ = sys.modules["builtins"]
    main.__loader__ = sys.modules["_frozen_importlib_external"].SourceFileLoader("__main__", path)
    sys.modules["__main__"] = main
    status, interrupted = 0, False
    try:
        with open(path, "rb") as f:
            source = f.read()
        exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)
    except SystemExit as exc:
        status = _exit_status(exc)
    except BaseException as exc:
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        exc.__traceback__ = tb
        sys.excepthook(type(exc), exc, tb)
        status, interrupted = 1, isinstance(exc, KeyboardInterrupt)
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException:
            pass
    try:
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BaseException:
            if status == 0:
                status = 120
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(status)


def _program(in_fd, out_fd, err_fd, spec_fd, fail):
    spec = _read_spec(spec_fd)
    for fd, target in ((in_fd, 0), (out_fd, 1), (err_fd, 2)):
        os.dup2(fd, target)
    os.closerange(3, resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    uid = int(spec["u"] or "0")
    if uid < 1:
        _fail("cannot set uid", errno.EINVAL)
    _drop(uid, fail)
    os.umask(0o022)
    cwd = spec["c"] or "/sandbox"
    try:
        os.chdir(cwd)
    except OSError as err:
        os.write(2, ("isol8: cannot enter %s: %s\n" % (cwd, os.strerror(err.errno))).encode())
        os._exit(126)
    keys = []
    for entry in spec["e"]:
        key, _, value = entry.partition("=")
        os.environ[key] = value
        keys.append(key)
    time.tzset()
    argv = spec["a"]
    if not _emulable(argv, keys):
        _exec(argv)
    _run_main(argv)


def _descriptors(ancillary):
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return list(fds)


def _next_program(sock, to_runner, taken_w, runner):
    """The standby program: root until a request arrives on the zygote's socket."""
    # Dies with its runner (which dies with the zygote): no standby outlives them to take a
    # request nobody would report on. Checked after setting it, in case the runner is gone.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != runner:
        os._exit(0)
    os.setsid()
    fail = _drop_sets()
    # The modules the zygote imported for itself leave sys.modules (they stay loaded for the
    # code below): the program starts with what a fresh interpreter imports.
    for name in [n for n in sys.modules if n not in _BASELINE]:
        del sys.modules[name]
    msg, ancillary, _flags, _addr = sock.recvmsg(1, socket.CMSG_SPACE(_FDS * 4))
    if not msg:
        os.write(taken_w, b"q")  # the supervisor is gone: so is the zygote
        os._exit(0)
    fds = _descriptors(ancillary)
    if len(fds) != _FDS:
        for fd in fds:
            os.close(fd)
        sock.send(struct.pack("=i", -1))
        os.write(taken_w, b"t")
        os._exit(0)
    in_fd, out_fd, err_fd, rep_fd, spec_fd = fds
    try:
        to_runner.sendmsg([b"r"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [rep_fd]))])
    except OSError:
        # The runner is gone: no one would report on this execution. The supervisor is told
        # at once (-1) and fails it; the zygote forks another standby.
        sock.send(struct.pack("=i", -1))
        os.write(taken_w, b"t")
        os._exit(0)
    os.close(rep_fd)
    sock.send(struct.pack("=i", runner))
    os.write(taken_w, b"t")
    _program(in_fd, out_fd, err_fd, spec_fd, fail)


def _standby(sock, taken_w):
    """supervisor.c run_runner, forked ahead: the subreaper of the next execution."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    runner = os.getpid()
    child = os.fork()
    if child == 0:
        mine.close()
        _next_program(sock, theirs, taken_w, runner)
    theirs.close()
    sock.close()
    os.close(taken_w)
    msg, ancillary, _flags, _addr = mine.recvmsg(1, socket.CMSG_SPACE(4))
    fds = _descriptors(ancillary) if msg else []
    mine.close()
    rep_fd = fds[0] if len(fds) == 1 else -1
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child and rep_fd >= 0:
            os.write(rep_fd, b"M %d\n" % status)
    if rep_fd >= 0:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.write(rep_fd, b"U %d %d %d\n" % (round(ru.ru_utime * 1e6), round(ru.ru_stime * 1e6), ru.ru_maxrss))
    os._exit(0)


def _reap(*_):
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _serve():
    """Keeps one standby pair; forks the next as soon as one takes an execution."""
    _prctl(_PR_SET_DUMPABLE, 0)
    sock = socket.socket(fileno=3)
    signal.signal(signal.SIGCHLD, _reap)
    # The modules each standby takes out of sys.modules stay referenced here: taking them out
    # then frees nothing (freeing would copy the pages they live on into every standby).
    kept = [sys.modules[name] for name in sys.modules if name not in _BASELINE]  # noqa: F841 (held)
    gc.collect()
    gc.freeze()  # the collector leaves the zygote's objects alone: fewer pages copied per fork
    while True:
        taken_r, taken_w = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            os.close(taken_r)
            _standby(sock, taken_w)
        os.close(taken_w)
        word = os.read(taken_r, 1)
        os.close(taken_r)
        if word == b"q":
            os._exit(0)
        if word != b"t":
            time.sleep(0.05)  # the standby died before a request: not in a tight loop


_serve()
