"""The machinery every checker shares: run your function safely, compare, print one verdict.

A checker is written as ``body(c, fn)``: it feeds your ``fn`` crafted inputs through
``c.call`` and stops at the first problem (``c.require``, ``c.compare``), whose hint is the
message. The decorator :func:`checker` turns it into the public ``check.NAME(fn)``, which

- prints ``✓ NAME: all N checks passed`` and returns your ``fn``; or
- prints ``✗ NAME: <hint>`` and returns mathnn's version (``check.NAME.fallback``), saying so; or,
  if your function raises NotImplementedError (a stub not written yet), says so in one line and
  returns mathnn's version too;
- and records the verdict for :func:`progress`.

So a lesson writes ``relu = check.relu(relu)`` and goes on either way. Only with the environment
variable MATHNN_CHECK_STRICT set (``make test`` sets it when it runs the complete lessons) does a
function named like the stub (``relu``, or mathnn's name for it) that is missing or wrong raise
AssertionError: a solution in a complete lesson must pass its own checker.
"""

import os
import sysconfig
import traceback
import warnings
from datetime import UTC, datetime

import numpy as np

from mathnn import classroom

PASSED, WRONG, NOT_WRITTEN, NOT_RUN = "passed", "wrong (using mathnn's)", "not written yet", "not run yet"
_PARTS = {}  # lesson number -> the names of its checkers, in lesson order (filled at import)
_STATUS = {}  # checker name -> the status of its last run in this kernel


class _Fail(Exception):
    """Raised inside a checker at the first problem found; its message is the hint."""


class _NotWritten(Exception):
    """Your function raised NotImplementedError: the stub is still empty."""


def checker(lesson, fallback, signature):
    """Decorator: make ``body(c, fn)`` the checker ``NAME(fn)`` of lesson ``lesson`` (see the module docstring).

    fallback: mathnn's version of the function, returned when yours is missing or wrong.
    signature: how your function is called, e.g. "fn(Z) with Z of shape (n, m)", for the hints.
    """
    def make(body):
        name = body.__name__
        _PARTS.setdefault(lesson, []).append(name)

        def check(fn):
            _STATUS[name] = _run(body, name, signature, fn)
            if _STATUS[name] == PASSED:
                return fn
            if os.environ.get("MATHNN_CHECK_STRICT") and getattr(fn, "__name__", None) in (name, fallback.__name__):
                raise AssertionError(f"check.{name}: {fn.__name__} did not pass, and MATHNN_CHECK_STRICT is set "
                                     f"(make test sets it for the complete lessons, whose own code must pass)")
            return fallback

        check.__name__ = check.__qualname__ = name
        check.__doc__, check.__module__ = body.__doc__, body.__module__
        check.lesson, check.fallback = lesson, fallback
        return check
    return make


def _run(body, name, signature, fn):
    """Run one checker; print its verdict; send it to the class view (only on a hub); return the status."""
    c = _Checker(name, signature)
    status, hint = WRONG, None
    try:
        if not callable(fn):
            raise _Fail(f"pass your function itself, check.{name}(my_{name}), not a {type(fn).__name__}")
        body(c, fn)
    except _NotWritten:
        print(f"○ {name}: not written yet: using mathnn's {name} for now")
        status = NOT_WRITTEN
    except _Fail as e:
        hint = str(e)
    except Exception as e:  # your output was too odd to even compare
        hint = f"could not check your output ({type(e).__name__}: {e}); it is called as {signature}"
    else:
        print(f"✓ {name}: all {c.passed} checks passed")
        status = PASSED
    if hint is not None:
        print(f"✗ {name}: {hint}")
        print(f"  using mathnn's {name} for now, so the lesson can go on")
    classroom.report({"lesson": next(lesson for lesson, names in _PARTS.items() if name in names), "part": name,
                      "state": {PASSED: "passed", WRONG: "wrong", NOT_WRITTEN: "not written"}[status],
                      "hint": hint, "time": datetime.now(UTC).isoformat(timespec="seconds")})
    return status


def progress():
    """Print, for every lesson with a checker run in this kernel, each part and its status.

    A status is "passed", "wrong (using mathnn's)", "not written yet" or "not run yet";
    a checker run again replaces its status.
    """
    lessons = [lesson for lesson in sorted(_PARTS) if any(name in _STATUS for name in _PARTS[lesson])]
    if not lessons:
        print("no checker has run yet in this kernel")
    for lesson in lessons:
        names = _PARTS[lesson]
        passed = sum(_STATUS.get(name) == PASSED for name in names)
        print(f"lesson {lesson:02d}: {passed} of {len(names)} parts passed")
        for name in names:
            print(f"  {name:<20} {_STATUS.get(name, NOT_RUN)}")


class _Checker:
    """Counts passed checks; ``require`` and ``compare`` stop the checker with a hint."""

    def __init__(self, name, signature):
        self.name = name
        self.signature = signature  # how your function is called, for error messages
        self.passed = 0

    def require(self, condition, hint):
        """One check: count it if it holds, else stop with the hint."""
        if not condition:
            raise _Fail(hint)
        self.passed += 1

    def call(self, fn, *args, returns=True, on_error=None, keep=(), fix=""):
        """Run your function without NumPy warnings; turn its exceptions into hints.

        on_error: optional {exception type: extra hint}.
        keep: the names of the leading args your function must leave alone (arrays, or dicts of
        them). It gets copies of those; if it changes one (Z -= ..., cache.clear()), the hint says
        which and adds ``fix``, how to do it without changing the input.
        """
        originals = args[:len(keep)]
        args = tuple(_copy(arg) for arg in originals) + args[len(keep):]
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                out = fn(*args)
        except NotImplementedError:
            raise _NotWritten from None
        except Exception as e:
            extra = next((text for kind, text in (on_error or {}).items() if isinstance(e, kind)), "")
            if isinstance(e, KeyError):
                keys = "; ".join(", ".join(map(str, arg)) for arg in args if isinstance(arg, dict))
                extra = extra or f" — the dicts passed to it have the keys: {keys}"
            if isinstance(e, ValueError) and "broadcast" in str(e):
                extra = extra or (" — check the axis you reduce over (axis=0 runs down each column) "
                                  "and keep it with keepdims=True")
            raise _Fail(f"your function raised {type(e).__name__}: {str(e).strip()}{extra}{_where(e)} "
                        f"(it is called as {self.signature})") from None
        changes = [change for name, before, after in zip(keep, originals, args)
                   for change in _changes(name, before, after)]
        if changes:
            raise _Fail(f"your {self.name} {' and '.join(changes)}: {fix}")
        if returns and out is None:
            raise _Fail("your function returned None: did you forget the `return`?")
        return out

    def array(self, out):
        """Your output as a float64 array (for comparing), or a hint if it isn't numbers."""
        try:
            return np.asarray(out, dtype=np.float64)
        except (TypeError, ValueError):
            raise _Fail(f"your function returned a {type(out).__name__}, not an array of numbers") from None

    def require_shape(self, got, shape, hints=None, what="your output"):
        """Check got.shape == shape; a shape listed in ``hints`` gets its own message."""
        hint = (hints or {}).get(got.shape, f"{what} has shape {got.shape}; expected {shape}")
        self.require(got.shape == shape, hint)

    def compare(self, got, right, mistakes=(), otherwise="wrong values"):
        """One check: got ≈ right. If not, name the first known mistake that got matches.

        mistakes: (hint, what that mistake would have returned) pairs.
        otherwise: the hint when no known mistake matches.
        """
        if _close(got, right):
            self.passed += 1
            return
        for hint, wrong in mistakes:
            if _close(got, wrong):
                raise _Fail(hint)
        raise _Fail(otherwise)


_LIBRARY_DIRS = tuple({os.path.dirname(os.path.dirname(os.path.abspath(__file__))),  # mathnn/
                       *(sysconfig.get_paths()[key] for key in ("stdlib", "purelib", "platlib"))})


def _where(error):
    """', in your code, line 3: return np.max(Z, 0)': the innermost line of *your* code in the traceback."""
    mine = [frame for frame in traceback.extract_tb(error.__traceback__)
            if not os.path.abspath(frame.filename).startswith(_LIBRARY_DIRS)]
    if not mine or not mine[-1].line:
        return ""
    return f", in your code, line {mine[-1].lineno}: {mine[-1].line.strip()}"


def _close(got, want, rtol=1e-5, atol=1e-7):
    """Same shape and allclose (nan never matches)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=rtol, atol=atol))


def _copy(x):
    """A copy of an array, or of a dict or tuple of arrays (copied all the way down)."""
    if isinstance(x, dict):
        return {key: _copy(v) for key, v in x.items()}
    if isinstance(x, tuple):
        return tuple(_copy(v) for v in x)
    return x.copy() if isinstance(x, np.ndarray) else x


def _same(a, b):
    """a and b hold the same values: equal arrays of the same shape, or dicts/tuples of them."""
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[key], b[key]) for key in a)
    if isinstance(a, tuple):
        return isinstance(b, tuple) and len(a) == len(b) and all(map(_same, a, b))
    return a is b


def _changes(name, before, after):
    """What your function did to its input ``name`` (before: a copy, after: what it holds now).

    A list such as ["changed cache['A2'] in place"]; empty if nothing changed.
    """
    if isinstance(before, dict):
        if before and not after:
            return [f"emptied the dict {name} ({name}.clear()?)"]
        groups = (("deleted {}", [key for key in before if key not in after]),
                  ("added {}", [key for key in after if key not in before]),
                  ("changed {} in place", [key for key in before
                                           if key in after and not _same(before[key], after[key])]))
        return [what.format(", ".join(f"{name}[{key!r}]" for key in keys)) for what, keys in groups if keys]
    if _same(before, after):
        return []
    return [f"changed its input {name} in place (a {name} of shape {np.shape(before)})"]


def _fmt(a):
    """A small array or number, printed compactly for a hint."""
    return np.array2string(np.asarray(a, dtype=np.float64), precision=3, suppress_small=True, separator=", ")


class _ReadLog(dict):
    """A dict that notes (in ``.read``) whether anyone read its values: to tell "did nothing" apart."""

    read = False

    def __getitem__(self, key):
        self.read = True
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.read = True
        return super().get(key, default)

    def items(self):
        self.read = True
        return super().items()

    def values(self):
        self.read = True
        return super().values()
