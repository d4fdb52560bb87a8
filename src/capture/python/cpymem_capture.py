"""cpymem capture helper: markers from the script, the GC callback, and the last dump before exit.

Available only while a script runs under ``cpymem capture`` (which puts this directory on
PYTHONPATH just long enough for ``sitecustomize`` to import it)::

    try:
        import cpymem_capture
    except ImportError:          # not running under cpymem capture
        cpymem_capture = None
    ...
    if cpymem_capture:
        cpymem_capture.stats("after warm-up")   # a real pymalloc dump, now

The recorder itself is C code preloaded into the interpreter; this module only calls into it. The
calls go through ``ctypes.PyDLL``, never ``ctypes.CDLL``: a CDLL call releases the GIL, and another
thread could then allocate while the dump has the original allocators swapped in, unrecorded.
``PyDLL(None)`` finds the preloaded symbols without ``ctypes.util.find_library`` (which spawns
processes). What this module allocates is recorded like everything else.

Runs on CPython 3.8+ (no newer syntax).
"""
import sys

__all__ = ["stats", "note", "capturing"]

_REASON_SCRIPT = 2
_REASON_ATEXIT = 3

_marker = None
_note = None
_state = 0
_pid = None


def _attach():
    """Called once by the capture's sitecustomize. Installs the C GC callback and an atexit
    callback that takes a dump just before finalisation (the last one on 3.12+, where a dump after
    Py_FinalizeEx crashes; on 3.8-3.11 the recorder takes one more after it)."""
    global _marker, _note, _state, _pid
    import ctypes
    import os

    lib = ctypes.PyDLL(None)
    try:
        attach = lib.cpymem_attach
        marker = lib.cpymem_marker
        note_fn = lib.cpymem_note
    except AttributeError:
        return 0
    attach.restype = ctypes.c_int
    attach.argtypes = []
    marker.restype = ctypes.c_longlong
    marker.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_longlong]
    note_fn.restype = ctypes.c_longlong
    note_fn.argtypes = [ctypes.c_char_p]
    _state = attach()
    if not _state & 1:
        return _state
    _marker = marker
    _note = note_fn
    _pid = os.getpid()
    import atexit

    # Registered first, so it runs last of the atexit callbacks (they run in reverse order).
    atexit.register(_at_exit)
    return _state


def _encode(text):
    if text is None:
        return None
    if not isinstance(text, str):
        text = str(text)
    return text.encode("utf-8", "replace")


def capturing():
    """True when this process is being recorded (not in a fork child, not after the hooks were lost)."""
    import os

    return bool(_state & 1) and _marker is not None and os.getpid() == _pid


def stats(label=None):
    """Take a real ``_PyObject_DebugMallocStats`` dump now. Returns the marker's index in the
    bundle, or None when not capturing (e.g. in a fork child)."""
    if _marker is None:
        return None
    n = _marker(_REASON_SCRIPT, _encode(label), sys.getallocatedblocks())
    return None if n < 0 else n


def note(text):
    """Put a free-text note into the event stream at this point."""
    if _note is None:
        return None
    n = _note(_encode(text))
    return None if n < 0 else n


def _at_exit():
    if _marker is not None:
        _marker(_REASON_ATEXIT, b"atexit", sys.getallocatedblocks())
