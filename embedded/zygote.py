# isol8 python zygote (see embedded/supervisor.c, "python zygote").
#
# Started by the supervisor as root (with only the supervisor's capabilities) in a python
# container; it never runs user code and never reads an execution's data. Between executions it
# keeps one standby program forked ahead: its own child, still root, waiting on the zygote's
# socket (fd 3) for the five descriptors of one execution: the program's stdin, stdout, stderr,
# the report pipe and a memfd holding argv, env, cwd and the sandbox uid. The standby hands the
# report pipe to the zygote, answers the supervisor with its own pid and takes exactly the
# posture of drop_and_exec (own session, empty capability sets, setresuid/gid to the sandbox uid,
# NoNewPrivs, core dumps off, umask 022, the cwd, the image's environment plus the request's)
# before it reads the program. What a fresh `python3 <file>` would do differently
# (PYTHON*/LC_*/LANG entries, a user site directory, another argv shape) is run by exec'ing
# python3 after the same drop. Before the request the standby does only what needs no data of
# it: until then it is root, and no process of the sandbox uid exists.
#
# While the execution runs the zygote is its runner, as supervisor.c's run_runner is for a
# program it forks: a child subreaper that reaps the program and everything it leaves behind and
# reports "M <status>" and "U <user_us> <sys_us> <maxrss_kb>". The program's CPU time counts from
# its request: the standby's own (its rehearsal, before any request) is taken off, as a program
# the supervisor forks starts at zero. Only once no process of the execution is left does it
# fork the next standby: one fork per execution, and no standby exists while user code runs.
import sys

_BASELINE = frozenset(sys.modules)
del sys.path[0]  # '' of -c: the zygote imports nothing from the working directory

import array
import ctypes
import errno
import gc
import os
import resource
import select
import signal
import socket
import struct
import time
import weakref

_libc = ctypes.CDLL(None, use_errno=True)
# Looked up once, here: ctypes resolves a libc function on its first use (dlsym, ~0.1 ms in a
# forked program).
_capset = _libc.capset
_PR_SET_PDEATHSIG = 1
_PR_GET_DUMPABLE = 3
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


def _cap_args():
    """capget/capset's arguments for this process, version 3 (two data words), all zero."""
    return _CapHeader(0x20080522, 0), (_CapData * 2)()


# The standby's hand-over to the zygote: b"r", then the CPU time it spent before its request
# (user, system; microseconds), with the report pipe attached.
_SPENT = struct.Struct("=qq")


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
    signal mask, the bounding and ambient sets, the groups. Done once, in the zygote (it execs
    nothing and keeps its own effective set), so every standby inherits them. None or (what
    failed, errno): then every program fails with 126 before anything of it runs."""
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
    header, data = _cap_args()
    if _capset(ctypes.byref(header), data) != 0:
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
    return not os.path.isdir(_user_site())


def _user_site():
    """The user site directory a fresh interpreter would add for this environment (HOME,
    PYTHONUSERBASE), computed anew."""
    import site

    site.USER_BASE = None
    site.USER_SITE = None
    return site.getusersitepackages()


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


def _run_file(argv):
    """Runs the program file as __main__; its exit status, and whether it was interrupted. No
    reference to the program's module or frames outlives the call (finalization finds them)."""
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
    scope = main.__dict__
    del main
    try:
        with open(path, "rb") as f:
            source = f.read()
        exec(compile(source, path, "exec", dont_inherit=True), scope)
    except SystemExit as exc:
        return _exit_status(exc), False
    except BaseException as exc:
        tb = exc.__traceback__.tb_next if exc.__traceback__ else None
        exc.__traceback__ = tb
        sys.excepthook(type(exc), exc, tb)
        return 1, isinstance(exc, KeyboardInterrupt)
    return 0, False


def _run_main(argv):
    """`python3 <file> args...`: __main__, sys.argv, sys.path[0], exit status, finalization."""
    status, interrupted = _run_file(argv)
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException:
            pass
    del threading
    try:
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        pass
    if not _flush_std() and status == 0:
        status = 120
    _finalize_program()
    if not _flush_std() and status == 0:
        status = 120
    if interrupted:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(status)


def _flush_std():
    """Flushes stdout and stderr as an exiting interpreter does; False when one cannot be."""
    flushed = True
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BaseException:
            flushed = False
    return flushed


def _clear_module(module):
    """CPython's _PyModule_ClearDict: names with one leading underscore become None first, then
    every other name but __builtins__ (what a module's objects see in their __del__)."""
    scope = getattr(module, "__dict__", None)
    if not isinstance(scope, dict):
        return
    for single in (True, False):
        for name in list(scope):
            if not isinstance(name, str) or name == "__builtins__":
                continue
            if not single or (name[:1] == "_" and name[1:2] != "_"):
                try:
                    scope[name] = None
                except BaseException:
                    pass


def _finalize_program():
    """What a fresh interpreter's finalization does that a program can see, for what the
    program made: the objects only its modules hold are finalized (__del__ methods, weakref
    callbacks, generators' finally blocks, and buffered files left open are flushed and
    closed). As CPython's finalize_modules: every module leaves sys.modules (an import from a
    __del__ fails as it would), garbage is collected, the program's modules (__main__ and those
    it imported) that are still alive are cleared in reverse import order, and garbage is
    collected again. The zygote's own modules are not cleared: the process ends right after
    (os._exit), and touching their objects would copy the zygote's pages for nothing. Daemon
    threads, which CPython stops from running Python code while it finalizes, are kept off the
    interpreter as far as Python allows: no forced switch to them from here on."""
    sys.setswitchinterval(1e6)
    modules = sys.modules
    alive = []
    for name in list(modules):
        if name == "__main__" or name not in _BASELINE:
            try:
                alive.append(weakref.ref(modules[name]))
            except TypeError:
                pass
        modules[name] = None
    try:
        gc.collect()
        for ref in reversed(alive):
            module = ref()
            if module is not None:
                _clear_module(module)
            del module
        gc.collect()
    except BaseException:
        pass


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


# Run by each standby while it waits for its request: compiling and running it copies, ahead
# of the request, the pages of the interpreter every program writes to (a fork shares them with
# the zygote; the first write to each costs a page fault and a copy). It imports nothing, prints
# nothing (an empty print to the standby's own stdout object writes no byte) and leaves no name
# behind. A request that is already waiting goes first: each step starts only if none is.
_REHEARSAL = """\
def double(n):
    return [i * 2 for i in range(n)]
found = {"k": double(3), "s": f"{1.5:.1f} {'a'}"}
print(*(), end="")
"""


def _rehearse(sock):
    waiting = select.poll()
    waiting.register(sock, select.POLLIN)
    if waiting.poll(0):
        return
    scope = {"__builtins__": sys.modules["builtins"], "__name__": "__main__"}
    try:
        code = compile(_REHEARSAL, "<isol8 rehearsal>", "exec", dont_inherit=True)
        if not waiting.poll(0):
            exec(code, scope)
            sys.stdout.flush()
        if not waiting.poll(0):
            _rehearse_steps()
    except Exception:
        pass
    scope.clear()


def _rehearse_steps():
    """The calls of _drop, _emulable and the exit steps that every program makes after its
    request, made ahead with twins that change nothing and read nothing of an execution:
    capget for capset, a prctl get for the sets, getrlimit for setrlimit, the user site of the
    standby's own environment (_emulable computes it anew from the request's), stat calls on
    "/", a collection of the standby's own garbage."""
    header, data = _cap_args()
    _libc.capget(ctypes.byref(header), data)
    _prctl(_PR_GET_DUMPABLE)
    resource.getrlimit(resource.RLIMIT_CORE)
    os.getuid(), os.geteuid(), os.getgid(), os.getgroups()
    ctypes.set_errno(0)
    os.path.isfile("/"), os.path.islink("/"), os.path.isdir(_user_site())
    gc.collect()


def _next_program(sock, to_zygote, zygote, fail):
    """The standby program: root until a request arrives on the zygote's socket."""
    # Dies with the zygote: no standby outlives it to take a request nobody would report on.
    # Checked after setting it, in case the zygote is already gone.
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != zygote:
        os._exit(0)
    os.setsid()
    _rehearse(sock)
    # The CPU time spent before the request is not the program's: the zygote takes it off.
    # Read before waiting (which costs none), so it is off the execution's path.
    before = resource.getrusage(resource.RUSAGE_SELF)
    spent = _SPENT.pack(round(before.ru_utime * 1e6), round(before.ru_stime * 1e6))
    msg, ancillary, _flags, _addr = sock.recvmsg(1, socket.CMSG_SPACE(_FDS * 4))
    if not msg:
        to_zygote.send(b"q")  # the supervisor is gone: so is the zygote
        os._exit(0)
    fds = _descriptors(ancillary)
    if len(fds) != _FDS:
        for fd in fds:
            os.close(fd)
        sock.send(struct.pack("=i", -1))
        os._exit(0)
    in_fd, out_fd, err_fd, rep_fd, spec_fd = fds
    try:
        to_zygote.sendmsg([b"r" + spent], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [rep_fd]))])
    except OSError:
        # The zygote is gone: no one would report on this execution. The supervisor is told at
        # once (-1) and fails it.
        sock.send(struct.pack("=i", -1))
        os._exit(0)
    os.close(rep_fd)
    sock.send(struct.pack("=i", os.getpid()))
    _program(in_fd, out_fd, err_fd, spec_fd, fail)


def _write(fd, data):
    """A report line; the supervisor may have stopped reading (it gave up on this execution)."""
    try:
        os.write(fd, data)
    except OSError:
        pass


def _run_execution(program, rep_fd, before=(0, 0)):
    """supervisor.c run_runner for one program: reaps it and everything it left behind (the
    zygote is a child subreaper), then reports the usage of all of them, less the program's
    CPU time `before` its request (user, system; microseconds)."""
    user = -before[0]
    system = -before[1]
    maxrss = 0
    while True:
        try:
            pid, status, ru = os.wait4(-1, 0)
        except ChildProcessError:
            break
        user += round(ru.ru_utime * 1e6)
        system += round(ru.ru_stime * 1e6)
        maxrss = max(maxrss, ru.ru_maxrss)
        if pid == program and rep_fd >= 0:
            _write(rep_fd, b"M %d\n" % status)
    if rep_fd >= 0:
        _write(rep_fd, b"U %d %d %d\n" % (max(user, 0), max(system, 0), maxrss))
        os.close(rep_fd)


def _serve():
    """Forks one standby; runs the execution it takes; forks the next once that one is over."""
    _prctl(_PR_SET_DUMPABLE, 0)
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)
    sock = socket.socket(fileno=3)
    zygote = os.getpid()
    fail = _drop_sets()
    # The modules the zygote imported for itself leave sys.modules (they stay loaded for its own
    # code, referenced by `kept`, so leaving frees nothing): every standby starts with what a
    # fresh interpreter imports.
    kept = [sys.modules.pop(name) for name in [n for n in sys.modules if n not in _BASELINE]]  # noqa: F841 (held)
    gc.collect()
    gc.freeze()  # the collector leaves the zygote's objects alone: fewer pages copied per fork
    extra = []
    while True:
        if len(sys.modules) != len(_BASELINE) + len(extra):
            # Modules the zygote's own calls imported since (os.wait4 looks `resource` up in
            # sys.modules on every call): they stay for the zygote, each standby drops them.
            extra = [n for n in sys.modules if n not in _BASELINE]
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = os.fork()
        except OSError:
            pid = -1
        if pid == 0:
            mine.close()
            for name in extra:
                del sys.modules[name]
            _next_program(sock, theirs, zygote, fail)
        theirs.close()
        msg, ancillary, _flags, _addr = mine.recvmsg(1 + _SPENT.size, socket.CMSG_SPACE(4)) if pid > 0 else (b"", [], 0, None)
        mine.close()
        fds = _descriptors(ancillary)
        if msg == b"q":
            os._exit(0)
        if msg[:1] == b"r" and len(msg) == 1 + _SPENT.size and len(fds) == 1:
            _run_execution(pid, fds[0], _SPENT.unpack(msg[1:]))
            continue
        for fd in fds:
            os.close(fd)
        if pid > 0:
            _run_execution(pid, -1)  # a refused request or a standby that died: reaped, not reported
        if msg[:1] != b"r":
            time.sleep(0.05)  # it died before a request: not in a tight loop


_serve()
