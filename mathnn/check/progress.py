"""Your progress through the course: every checker verdict on your own functions, kept in one file.

Every verdict passes through :func:`record`, which builds one entry

    {"lesson": 1, "part": "relu", "state": "passed" | "wrong" | "not written",
     "hint": the hint shown (None for a pass), "time": "2026-12-07T03:40:00Z" (UTC, ISO 8601)}

saves it in the progress file and, on a JupyterHub that runs the class view, sends it there too
(:mod:`mathnn.classroom`; nowhere else). The progress file is ``$MATHNN_PROGRESS`` if set, else
``progress.json`` in the user's data folder (``$XDG_DATA_HOME/mathnn``, by default ``~/.local/share/mathnn``;
on Windows ``%APPDATA%\\mathnn``), as :func:`mathnn.locations.progress_path` decides. The file holds, per
part, its last entry, when it last passed and how many times in a row it failed since (the checkers
show the code in a hint only from the second failure on). It is read, merged and written under a
lock, and replaced atomically, so several kernels can record at once; a file that is missing,
unreadable or corrupt gives a one-line warning and the checker goes on (a corrupt file is kept
aside as ``progress.json.corrupt``).
"""

import contextlib
import datetime
import json
import os
import sys
import tempfile
import time

from mathnn import classroom
from mathnn.locations import progress_path as path  # path(): the progress file (mathnn.locations decides where)

try:
    import fcntl as _fcntl  # Linux, macOS
except ImportError:  # Windows: the portable lock file below
    _fcntl = None

STATES = ("passed", "wrong", "not written")
_WARNED = set()  # the warnings already printed in this kernel: each once
_UNSAVED = {}  # progress file -> {part: its record}: this kernel's verdicts that could not be saved there


def record(lesson, part, state, hint=None):
    """Record one verdict (see the module docstring) in the progress file; return the entry.

    lesson: the lesson number (int); part: the checker's name; state: one of STATES; hint: the hint shown.
    Never raises because of the file: a problem with it is a one-line warning.
    """
    if state not in STATES:
        raise ValueError(f"record: state must be one of {STATES}, not {state!r}")
    entry = {"lesson": int(lesson), "part": str(part), "state": state, "hint": hint,
             "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    _save(entry)
    classroom.report(entry)  # on a JupyterHub with the class view: the instructor sees it too (else nothing)
    return entry


def load():
    """{part: {"last": entry, "last_passed": time or None, "failures": wrong verdicts in a row}} from the file.

    A missing file is an empty course; an unreadable or corrupt one gives a one-line warning and {}.
    """
    return {**_read(path())[0], **_UNSAVED.get(str(path()), {})}


def unsaved():
    """True if a verdict of this kernel could not be saved in the progress file (load() still shows it)."""
    return bool(_UNSAVED.get(str(path())))


def failures(part):
    """How many times in a row ``part`` was recorded wrong (0 after a pass, or if never recorded)."""
    return _read(path(), quiet=True)[0].get(part, {}).get("failures", 0)


def _save(entry):
    file = path()
    unsaved = _UNSAVED.setdefault(str(file), {})
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with _lock(file):
            parts, ok = _read(file)
            parts.update(unsaved)
            parts[entry["part"]] = _merged(parts.get(entry["part"], {}), entry)
            if not ok:  # unreadable: writing now would throw away what it holds
                unsaved[entry["part"]] = parts[entry["part"]]
                return
            _write(file, {"mathnn progress": 1, "parts": parts})
            unsaved.clear()  # saved now, with the file's
    except OSError as e:
        unsaved[entry["part"]] = _merged(unsaved.get(entry["part"], {}), entry)
        _warn(f"mathnn: your progress was not saved ({file}: {e.strerror or e}); the checker works as before")


def _merged(old, entry):
    """A part's record in the file after the verdict ``entry``, given its record ``old`` ({} if none)."""
    passed = entry["state"] == "passed"
    return {"last": entry, "last_passed": entry["time"] if passed else old.get("last_passed"),
            "failures": 0 if passed else old.get("failures", 0) + (entry["state"] == "wrong")}


def _read(file, quiet=False):
    """(parts, ok): ok is False when the file exists but cannot be read (then parts is {}).

    quiet: no warning, and a corrupt file is left where it is (for a look that saves nothing).
    """
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, True
    except (OSError, UnicodeDecodeError) as e:
        if quiet:
            return {}, False
        _warn(f"mathnn: cannot read your progress file {file} ({getattr(e, 'strerror', None) or e}); "
              f"progress is not saved until it is readable")
        return {}, False
    try:
        parts = json.loads(text)["parts"]
        if not isinstance(parts, dict) or not all(isinstance(p, dict) and "last" in p for p in parts.values()):
            raise ValueError("not a mathnn progress file")
        return parts, True
    except (ValueError, KeyError, TypeError) as e:
        if quiet:
            return {}, False
        aside = file.with_name(file.name + ".corrupt")
        with contextlib.suppress(OSError):
            os.replace(file, aside)
            _warn(f"mathnn: your progress file {file} was corrupt ({type(e).__name__}); kept it as {aside.name} "
                  f"and started a new one")
            return {}, True
        _warn(f"mathnn: your progress file {file} is corrupt and cannot be moved aside; progress is not saved")
        return {}, False


def _write(file, data):
    """Write data as JSON to file atomically: a temporary file in the same folder, then os.replace."""
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def _lock(file, wait=5.0, stale=30.0):
    """Hold an exclusive lock on ``file.lock`` while reading, merging and writing file.

    fcntl.flock where there is fcntl (Linux, macOS); elsewhere a lock file created exclusively
    (os.O_EXCL), waited for up to ``wait`` seconds, taken over if older than ``stale`` seconds (a kernel
    that died holding it).
    """
    lock = file.with_name(file.name + ".lock")
    if _fcntl is not None:
        with open(lock, "a") as f:
            _fcntl.flock(f, _fcntl.LOCK_EX)
            try:
                yield
            finally:
                _fcntl.flock(f, _fcntl.LOCK_UN)
        return
    deadline = time.monotonic() + wait
    while True:
        try:
            os.close(os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            with contextlib.suppress(OSError):
                if time.time() - lock.stat().st_mtime > stale:
                    os.unlink(lock)  # left behind by a kernel that died holding it
                    continue
            if time.monotonic() > deadline:
                raise OSError(f"{lock.name} stays locked") from None
            time.sleep(0.05)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)


def _warn(text):
    """Print a one-line warning once per kernel."""
    if text not in _WARNED:
        _WARNED.add(text)
        print(text, file=sys.stderr)
