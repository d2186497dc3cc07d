# isol8 python context driver: one long-lived interpreter fed cells by the supervisor.
# Started as `python3 -c <this file>` by embedded/supervisor.c (see "contexts" there): stdin is
# /dev/null (input() raises EOFError at once), fd 3 brings cells, fd 4 takes replies.
# Frames both ways: [u8 type][u32 big-endian length][payload].
#   in:  'c' cell (UTF-8 code)
#   out: 'y' ready, 'o'/'x' stdout/stderr text, 'r' result {"data": {mime: text}, "truncated"?: true}, 'e' error
#        {"name", "value", "traceback"}, 'd' done
# The user's code runs in this process and can write to fd 4 itself: the supervisor and the
# engine treat every frame as untrusted. Nothing here is a security boundary.
import ast
import base64
import builtins
import io
import json
import linecache
import os
import signal
import sys
import traceback
import types
import warnings

CELL_IN, REPLY_OUT = 3, 4
MAX_RESULT = int(os.environ.pop("ISOL8_CONTEXT_MAX_RESULT_BYTES", "5242880"))
os.set_inheritable(CELL_IN, False)
os.set_inheritable(REPLY_OUT, False)
warnings.filterwarnings("ignore", message=".*non-interactive.*")
# matplotlib's cache per context uid outside /sandbox (files there are the user's artifacts)
os.environ.setdefault("MPLCONFIGDIR", "/tmp/.isol8-matplotlib-%d" % os.getuid())

class _FrameWriter(io.RawIOBase):
    """The interpreter's sys.stdout / sys.stderr: text goes over fd 4 ('o' / 'x' frames), in
    order with results. Subprocesses and os.write(1, ...) still use fds 1 and 2."""

    def __init__(self, kind):
        self._kind = kind

    def writable(self):
        return True

    def write(self, data):
        if data:
            _send(self._kind, bytes(data))
        return len(data)


def _stream(kind, fd):
    return io.TextIOWrapper(io.BufferedWriter(_FrameWriter(kind), 65536), encoding="utf-8", errors="backslashreplace", line_buffering=True)


_user = types.ModuleType("__main__")
_user.__dict__["__builtins__"] = builtins
sys.modules["__main__"] = _user
_ns = _user.__dict__
_state = {"count": 0, "shown": set(), "loop": None}


def _send(kind, payload=b""):
    data = bytes([ord(kind)]) + len(payload).to_bytes(4, "big") + payload
    while data:
        data = data[os.write(REPLY_OUT, data):]


def _read_exact(n):
    chunks = []
    while n:
        chunk = os.read(CELL_IN, n)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _text(value):
    return value if isinstance(value, str) else str(value)


def _binary(value):
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return _text(value)


_REPRS = (
    ("text/html", "_repr_html_", _text),
    ("text/markdown", "_repr_markdown_", _text),
    ("image/svg+xml", "_repr_svg_", _text),
    ("image/png", "_repr_png_", _binary),
    ("image/jpeg", "_repr_jpeg_", _binary),
    ("application/json", "_repr_json_", lambda v: v if isinstance(v, str) else json.dumps(v)),
)


def _figure_png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _is_figure(obj):
    return type(obj).__module__.startswith("matplotlib.figure") and hasattr(obj, "savefig")


def _bundle(obj):
    data = {}
    if not isinstance(obj, type):
        method = getattr(type(obj), "_repr_mimebundle_", None)
        if callable(method):
            try:
                found = obj._repr_mimebundle_()
                if isinstance(found, tuple):
                    found = found[0]
                for mime, value in (found or {}).items():
                    data[str(mime)] = _binary(value) if mime.startswith("image/") and mime != "image/svg+xml" else (
                        value if isinstance(value, str) else json.dumps(value)
                    )
            except Exception:
                pass
        for mime, name, convert in _REPRS:
            if mime in data:
                continue
            method = getattr(type(obj), name, None)
            if not callable(method):
                continue
            try:
                value = getattr(obj, name)()
                if isinstance(value, tuple):
                    value = value[0]
                if value is not None:
                    data[mime] = convert(value)
            except Exception:
                pass
        if _is_figure(obj) and "image/png" not in data:
            try:
                data["image/png"] = _figure_png(obj)
                _state["shown"].add(id(obj))
            except Exception:
                pass
    if "text/plain" not in data:
        try:
            data["text/plain"] = repr(obj)
        except Exception as error:
            data["text/plain"] = "<unrepresentable %s: %s>" % (type(obj).__name__, error)
    return data


def _publish_bundle(data):
    _flush()
    payload = json.dumps({"data": data}).encode("utf-8")
    if len(payload) > MAX_RESULT:
        plain = data.get("text/plain", "")[:1000]
        note = "[result of %d bytes left out: over the %d-byte limit per result]" % (len(payload), MAX_RESULT)
        payload = json.dumps({"data": {"text/plain": (plain + "\n" + note) if plain else note}, "truncated": True}).encode("utf-8")
    _send("r", payload)


def display(*objs, raw=False):
    """Shows each object as a rich result (a MIME bundle; with raw=True, objs are bundles)."""
    for obj in objs:
        if raw and isinstance(obj, dict):
            _publish_bundle({str(k): _text(v) for k, v in obj.items()})
        else:
            _publish_bundle(_bundle(obj))


builtins.display = display


def _sweep_figures():
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    try:
        for num in plt.get_fignums():
            fig = plt.figure(num)
            if id(fig) not in _state["shown"]:
                _publish_bundle({"text/plain": repr(fig), "image/png": _figure_png(fig)})
        plt.close("all")
    except Exception as error:
        sys.stderr.write("isol8: cannot render a matplotlib figure: %s\n" % error)


def _user_traceback(error):
    tb = error.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<cell-"):
        tb = tb.tb_next
    if isinstance(error, SyntaxError) and error.filename and error.filename.startswith("<cell-"):
        tb = None
    return "".join(traceback.format_exception(type(error), error, tb))


def _report(error):
    _flush()
    try:
        value = str(error)
    except Exception:
        value = "<unprintable %s>" % type(error).__name__
    body = {"name": type(error).__name__, "value": value, "traceback": _user_traceback(error)}
    _send("e", json.dumps(body).encode("utf-8"))


def _run(code):
    result = eval(code, _ns)
    if code.co_flags & 0x80:  # CO_COROUTINE: the cell used top-level await
        import asyncio

        if _state["loop"] is None:
            _state["loop"] = asyncio.new_event_loop()
        result = _state["loop"].run_until_complete(result)
    return result


def _run_cell(source):
    _state["count"] += 1
    _state["shown"] = set()
    name = "<cell-%d>" % _state["count"]
    linecache.cache[name] = (len(source), None, source.splitlines(True), name)
    flags = getattr(ast, "PyCF_ALLOW_TOP_LEVEL_AWAIT", 0)
    try:
        tree = ast.parse(source, name, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        _run(compile(tree, name, "exec", flags=flags, dont_inherit=True))
        if last is not None:
            value = _run(compile(last, name, "eval", flags=flags, dont_inherit=True))
            if value is not None:
                _ns["_"] = value
                display(value)
    except BaseException as error:  # KeyboardInterrupt and SystemExit too: the context lives on
        _report(error)
    _sweep_figures()
    _flush()


sys.stdout = _stream("o", 1)
sys.stderr = _stream("x", 2)


def _main():
    # Interrupts count only while a cell runs: one that comes late must not hit the next cell.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _send("y")
    while True:
        try:
            head = _read_exact(5)
            body = _read_exact(int.from_bytes(head[1:5], "big"))
        except EOFError:
            return
        if head[0:1] != b"c":
            continue
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            _run_cell(body.decode("utf-8", "replace"))
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        _flush()
        _send("d")


_main()
