"""The machinery every checker shares: run your function safely, compare, print one verdict.

A checker is written as ``body(c, fn)``: it feeds your ``fn`` crafted inputs through
``c.call`` and stops at the first problem (``c.require``, ``c.compare``), whose hint is the
message. The decorator :func:`checker` turns it into the public ``check.NAME(fn)``, which

- prints ``✓ NAME: all N checks passed`` and returns your ``fn``; or
- prints ``✗ NAME: <hint>`` and returns mathnn's version (``check.NAME.fallback``), saying so; or,
  if your function raises NotImplementedError (a stub not written yet), says so in one line and
  returns mathnn's version too;
- and, when ``fn`` is your own function for the stub (named like it, defined in your notebook, not
  mathnn's), records the verdict in your progress file (:mod:`mathnn.check.progress`).

Hints teach before they tell: the parts of a hint written «like this» (the code of the fix) are
left out the first time a part fails, and shown from the second failure on.

Your function runs under a time limit (``check.NAME.time_limit`` seconds per call): an endless loop
is stopped and told, with signal.setitimer in a kernel's main thread, else in a helper thread.

Only with the environment variable MATHNN_CHECK_STRICT set (``make test`` sets it when it runs the
complete lessons) does a function named like the stub that is missing or wrong raise
AssertionError: a solution in a complete lesson must pass its own checker.
"""

import contextvars
import ctypes
import os
import re
import signal
import sys
import sysconfig
import threading
import time
import traceback
import types
import warnings

import numpy as np

from mathnn.check import progress as _progress

PASSED, WRONG, NOT_WRITTEN = _progress.STATES
_CHECKERS = {}  # checker name -> the public check function (filled at import, in lesson order)
_FAILED = {}  # (checker name, your function's name) -> wrong verdicts in this kernel: the second shows the code
TIME_LIMIT = 5.0  # seconds per call of your function, unless a checker says otherwise


class _Fail(Exception):
    """Raised inside a checker at the first problem found; its message is the hint."""


class _NotWritten(Exception):
    """Your function raised NotImplementedError: the stub is still empty."""


class _TimeUp(BaseException):
    """Your function ran past the time limit (a BaseException, so that `except Exception` in it can't catch it)."""


def checker(lesson, fallback, signature, *, stub=None, mathnn=(), time_limit=TIME_LIMIT):
    """Decorator: make ``body(c, fn)`` the checker ``NAME(fn)`` of lesson ``lesson`` (see the module docstring).

    fallback: mathnn's version of the function, returned when yours is missing or wrong.
    signature: how your function is called, e.g. "fn(Z) with Z of shape (n, m)", for the hints.
    stub: the name of the lesson's stub (default: the checker's name), e.g. "Linear".
    mathnn: mathnn's public versions of the same thing (besides the fallback) that your function must not
    merely call, e.g. (mn.relu_forward,). time_limit: seconds per call of your function.
    """
    def make(body):
        name = body.__name__

        def check(fn):
            state = _verdict(check, body, fn)
            if state == PASSED:
                return fn
            if (os.environ.get("MATHNN_CHECK_STRICT") and getattr(fn, "__name__", None) == check.stub
                    and (_mathnns(fn, check) or ("",))[0] != "is"):
                raise AssertionError(f"check.{name}: {fn.__name__} did not pass, and MATHNN_CHECK_STRICT is set "
                                     f"(make test sets it for the complete lessons, whose own code must pass)")
            return fallback

        check.__name__ = check.__qualname__ = name
        check.__doc__, check.__module__ = body.__doc__, body.__module__
        check.lesson, check.fallback, check.signature, check.body = lesson, fallback, signature, body
        check.stub, check.mathnn, check.time_limit = stub or name, (fallback, *mathnn), time_limit
        _CHECKERS[name] = check
        return check
    return make


def _verdict(check, body, fn):
    """Run one checker on fn; print its verdict; record it if fn is your own; return the state."""
    name, stub = check.__name__, check.stub
    mathnns = _mathnns(fn, check)
    own = getattr(fn, "__name__", None) == stub and getattr(fn, "__module__", None) == "__main__"
    if mathnns and mathnns[0] == "is":
        what = "class" if isinstance(fn, type) else "def"
        print(f"○ {stub}: this is mathnn's {stub} ({mathnns[1]}), not yours: run your `{what} {stub}` cell first, "
              f"then this check again (your progress is unchanged)")
        return WRONG
    key = (name, getattr(fn, "__name__", None))
    repeat = _FAILED.get(key, 0) > 0 or (own and _progress.failures(name) > 0)
    state, hint = _run(body, check, fn, mathnns, repeat)
    _FAILED[key] = _FAILED.get(key, 0) + 1 if state == WRONG else 0
    if own:
        try:
            _progress.record(check.lesson, name, state, hint)
        except Exception as e:  # a checker never fails because of the progress file
            _progress._warn(f"mathnn: your progress was not saved ({type(e).__name__}: {e})")
    elif state == PASSED and getattr(fn, "__name__", None) == stub:
        print(f"  (not recorded in your progress: {stub} was not defined in your notebook)")
    return state


def _run(body, check, fn, mathnns, repeat):
    """Run one checker; print its verdict (under the stub's name: Linear, relu); return (state, the hint or None)."""
    name, shown = check.__name__, check.stub
    c = _Checker(name, check.signature, check.time_limit)
    try:
        if not callable(fn):
            raise _Fail(f"pass your function itself, check.{name}(my_{name}), not a {type(fn).__name__}")
        if mathnns:
            raise _Fail(f"you called {mathnns[1]}, mathnn's own {check.stub}: write it yourself")
        body(c, fn)
    except _NotWritten:
        print(f"○ {shown}: not written yet: using mathnn's {shown} for now")
        return NOT_WRITTEN, None
    except _Fail as e:
        hint = _shown(str(e), repeat)
    except Exception as e:  # your output was too odd to even compare
        hint = f"could not check your output ({type(e).__name__}: {e}); it is called as {check.signature}"
    else:
        print(f"✓ {shown}: all {c.passed} checks passed")
        return PASSED, None
    print(f"✗ {shown}: {hint}")
    print(f"  using mathnn's {shown} for now, so the lesson can go on")
    return WRONG, hint


def _shown(hint, repeat):
    """The hint as shown: on a first failure without its «code» parts (and saying so), on a repeat with them."""
    if repeat or "«" not in hint:
        return hint.replace("«", "").replace("»", "")
    idea = re.sub(r"\s*«[^»]*»\s*(?=[,.;:)]|$)", "", hint)  # code left out before punctuation: no space left
    idea = re.sub(r"(?<=\S) {2,}", " ", re.sub(r"«[^»]*»", "", idea)).strip(" :;,")  # (a list's indent stays)
    return f"{idea} (check again after a fix: a second ✗ shows the code)"


def hint_forms(hint):
    """(first form, repeated form) of a hint: what a first and a second failure show."""
    return _shown(hint, False), _shown(hint, True)


def _mathnns(fn, check):
    """("is", name) if fn is mathnn's own version; ("calls", name) if your fn uses it; None if neither.

    A class (linear_module) that inherits forward and backward from mathnn's counts as calling it.
    """
    forbidden = {id(obj): obj for obj in check.mathnn}
    if id(fn) in forbidden:
        return "is", _public(fn)
    if isinstance(fn, type):
        for base in fn.__mro__[1:]:
            if id(base) in forbidden and not any("forward" in vars(k) or "backward" in vars(k)
                                                 for k in fn.__mro__[:fn.__mro__.index(base)]):
                return "calls", _public(base)
        return None
    return _calls(fn, forbidden, set(), HELPER_DEPTH)


HELPER_DEPTH = 3  # how far _calls follows your own helper functions (relu -> _h -> _g -> mn.relu_forward)


def _calls(fn, forbidden, seen, depth):
    """("calls", name) if the code of fn reaches one of the forbidden objects, else None.

    Looks at what fn's code names: its globals, closure cells and defaults, attribute chains from mathnn
    (mn.relu_forward, mathnn.layers.relu_forward, check.relu.fallback), and follows your own helper
    functions (not mathnn's, not a library's) up to ``depth`` levels down.
    """
    code, glob = getattr(fn, "__code__", None), getattr(fn, "__globals__", {})
    if code is None or id(fn) in seen:
        return None
    seen.add(id(fn))
    names = _names(fn)
    held = [cell.cell_contents for cell in fn.__closure__ or () if _filled(cell)] + list(fn.__defaults__ or ())
    imported = [sys.modules[n] for n in names if n.split(".")[0] == "mathnn" and n in sys.modules]  # import inside
    objects = held + imported + [glob[n] for n in names if n in glob]
    for obj in objects:
        found = _reaches(obj, names, forbidden, 3)
        if found:
            return "calls", _public(found)
    if depth > 0:
        for obj in objects:
            if isinstance(obj, types.FunctionType) and not _library(obj):
                found = _calls(obj, forbidden, seen, depth - 1)
                if found:
                    return found
    return None


def _names(fn):
    """The global and attribute names fn's code uses (its nested functions' too): {"np", "flatten", ...}."""
    names, stack = set(), [getattr(fn, "__code__", None)]
    while stack:
        co = stack.pop()
        if co is not None:
            names.update(co.co_names)
            stack.extend(k for k in co.co_consts if isinstance(k, types.CodeType))
    return names


def _reaches(obj, names, forbidden, hops):
    """The forbidden object that obj is, or that obj.a.b... is (attributes among `names`, through mathnn), or None."""
    if id(obj) in forbidden:
        return obj
    if hops == 0 or not (isinstance(obj, types.ModuleType) and obj.__name__.split(".")[0] == "mathnn"
                         or str(getattr(obj, "__module__", "")).split(".")[0] == "mathnn"):
        return None
    for attr in names:
        try:
            inner = getattr(obj, attr, None)
        except Exception:  # noqa: BLE001 (an odd attribute is not a call of mathnn's)
            continue
        if inner is not None and inner is not obj:
            found = _reaches(inner, names, forbidden, hops - 1)
            if found is not None:
                return found
    return None


def _library(fn):
    """fn was defined in mathnn, the standard library or an installed package (not in your notebook)."""
    return os.path.abspath(fn.__code__.co_filename).startswith(_LIBRARY_DIRS)


BY_POSITION = ("your function matches params and grads by position (e.g. zip(params.items(), grads.values())), but "
               "the two dicts need not list their keys in the same order — mn.backward does not: look up each "
               "parameter's gradient by its key«, grads['d' + key]»")


def _other_order(args):
    """Two of the dicts in args hold the same names (W1 and dW1, ...) in another order: zip would pair them wrong."""
    keys = [[str(key).removeprefix("d") for key in arg] for arg in args if isinstance(arg, dict)]
    return any(set(a) == set(b) and a != b for i, a in enumerate(keys) for b in keys[i + 1:])


def _filled(cell):
    try:
        cell.cell_contents  # noqa: B018 (reading it is the test)
    except ValueError:  # an empty cell
        return False
    return True


def _public(obj):
    """mn.relu_forward, mn.draw.place_in_field, ...: how a learner knows mathnn's version."""
    import mathnn

    name, module = getattr(obj, "__name__", "?"), getattr(obj, "__module__", "") or ""
    if getattr(mathnn, name, None) is obj:
        return f"mn.{name}"
    home = sys.modules.get(module) if module.startswith("mathnn.") and not module.startswith("mathnn.check") else None
    if getattr(home, name, None) is obj:
        return f"mn.{module.removeprefix('mathnn.')}.{name}"  # a name that stays in its module
    return f"check.{name.removesuffix('_mathnn')}.fallback"


def _limited(fn, args, seconds):
    """fn(*args), stopped with _TimeUp after `seconds` (None: no limit).

    In the main thread where there is signal.setitimer (a Jupyter kernel on Linux or macOS) a timer
    signal interrupts even time.sleep; elsewhere fn runs in a helper thread, which is sent _TimeUp
    (ctypes.pythonapi.PyThreadState_SetAsyncExc) when the time is up and left behind as a daemon.
    """
    if not seconds:
        return fn(*args)
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        def time_up(signum, frame):
            raise _TimeUp
        old, start = signal.signal(signal.SIGALRM, time_up), time.monotonic()
        old_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)
            if old_timer[0] > 0:  # someone else's timer was running: give it back what is left of it
                signal.setitimer(signal.ITIMER_REAL, max(old_timer[0] - (time.monotonic() - start), 1e-3),
                                 old_timer[1])
    result = {}

    def run():
        try:
            result["out"] = fn(*args)
        except BaseException as e:  # handed to the caller's thread below
            result["error"] = e

    context = contextvars.copy_context()  # np.errstate is a context variable: the same in the helper thread
    thread = threading.Thread(target=context.run, args=(run,), daemon=True, name="mathnn check")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        if hasattr(ctypes, "pythonapi"):
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(_TimeUp))
        raise _TimeUp
    if "error" in result:
        raise result["error"].with_traceback(result["error"].__traceback__)
    return result["out"]


def progress():
    """Print the whole course from your progress file: every lesson and part, its state, when it last passed.

    A part is "passed", "wrong", "not written" (your stub still raises NotImplementedError) or "not
    checked yet"; the last line names the next part to do. Works in any kernel: the verdicts of your own
    functions are kept in the progress file (see mathnn.check.progress).
    """
    parts = _progress.load()
    by_lesson = {}
    for name, check in _CHECKERS.items():
        by_lesson.setdefault(check.lesson, []).append(name)
    todo = None
    for lesson in sorted(by_lesson):
        names = by_lesson[lesson]
        passed = sum(parts.get(name, {}).get("last", {}).get("state") == PASSED for name in names)
        print(f"lesson {lesson:02d}: {passed} of {len(names)} parts passed")
        for name in names:
            state = parts.get(name, {}).get("last", {}).get("state", "not checked yet")
            when = parts.get(name, {}).get("last_passed")
            last = f"   last passed {when.replace('T', ' ').rstrip('Z')} UTC" if when else ""
            shown = getattr(_CHECKERS[name], "stub", name)  # as you wrote it: Linear, relu
            print(f"  {shown:<20} {state:<16}{last}".rstrip())
            if state != PASSED and todo is None:
                todo = (lesson, shown)
    print(f"next: lesson {todo[0]:02d}, {todo[1]}" if todo else "every part passed: well done")
    file = _progress.path()
    if _progress.unsaved():
        print(f"(your progress could NOT be saved in {file}: the parts checked in this kernel are shown, but a new "
              f"kernel will not see them; set MATHNN_PROGRESS to a file you can write)")
    else:
        print(f"(saved in {file})" if file.exists() else f"(nothing saved yet: your progress will be kept in {file})")


class _Checker:
    """Counts passed checks; ``require`` and ``compare`` stop the checker with a hint."""

    def __init__(self, name, signature, time_limit=TIME_LIMIT):
        self.name = name
        self.signature = signature  # how your function is called, for error messages
        self.time_limit = time_limit
        self.passed = 0

    def require(self, condition, hint):
        """One check: count it if it holds, else stop with the hint."""
        if not condition:
            raise _Fail(hint)
        self.passed += 1

    def call(self, fn, *args, returns=True, on_error=None, keep=(), fix=""):
        """Run your function without NumPy warnings, under the time limit; turn its exceptions into hints.

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
                out = _limited(fn, args, self.time_limit)
        except NotImplementedError:
            raise _NotWritten from None
        except _TimeUp:
            raise _Fail(f"your function ran for more than {self.time_limit:g} s — an endless loop? (a `while` whose "
                        f"condition never changes, a time.sleep, a loop over far more than it needs)") from None
        except Exception as e:
            extra = next((text for kind, text in (on_error or {}).items() if isinstance(e, kind)), "")
            if isinstance(e, KeyError):
                keys = "; ".join(", ".join(map(str, arg)) for arg in args if isinstance(arg, dict))
                extra = extra or f" — the dicts passed to it have the keys: {keys}"
            if isinstance(e, ValueError) and "broadcast" in str(e) and _other_order(args) and "zip" in _names(fn):
                extra = " — " + BY_POSITION
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

    def array(self, out, what="your output", dtype=None):
        """Your output, which must be a NumPy array (of ``dtype``, if given), as float64 for comparing.

        A list, an np.matrix or another dtype gets a hint: the lesson's next cells need a plain array.
        """
        if isinstance(out, np.matrix):
            raise _Fail(f"{what} is an np.matrix: return a plain NumPy array (np.matrix makes * a matrix "
                        f"product and keeps two axes whatever you index; np.asarray(...) converts it)")
        if isinstance(out, (int, float, np.number)) and not isinstance(out, bool):
            out = np.asarray(out)  # a single number: the shape checks that follow say what was expected
        if not isinstance(out, np.ndarray):
            kind = "None" if out is None else f"a {type(out).__name__}"
            raise _Fail(f"{what} is {kind}, not a NumPy array: the lesson's next cells use array operations "
                        f"on it (build it with NumPy, or convert with np.array(...))")
        if out.dtype.kind not in "biuf":
            raise _Fail(f"{what} is an array of dtype {out.dtype}, not of numbers")
        if dtype is not None and out.dtype != dtype:
            name = np.dtype(dtype).name
            fix = (f"it holds {out.dtype} values, not numbers of the inputs' kind: make them {name}, e.g. with "
                   f".astype(np.{name})" if out.dtype.kind in "biu"
                   else "don't convert with .astype(...) or build it with another dtype")
            raise _Fail(f"{what} has dtype {out.dtype}; for these {name} inputs it must be {name} too ({fix})")
        return out.astype(np.float64)

    def require_shape(self, got, shape, hints=None, what="your output"):
        """Check got.shape == shape; a shape listed in ``hints`` gets its own message."""
        hint = (hints or {}).get(got.shape, f"{what} has shape {got.shape}; expected {shape}")
        self.require(got.shape == shape, hint)

    def compare(self, got, right, mistakes=(), otherwise="wrong values", rtol=None):
        """One check: got ≈ right, at right's precision (see _close). If not, name the first known mistake got matches.

        mistakes: (hint, what that mistake would have returned) pairs.
        otherwise: the hint when no known mistake matches.
        """
        if _close(got, right, rtol):
            self.passed += 1
            return
        for hint, wrong in mistakes:
            if _close(got, wrong, rtol):
                raise _Fail(hint)
        if rtol is None and np.asarray(right).dtype == np.float64 and _close(got, right, 1e-5):
            error = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - right) / np.maximum(np.abs(right), 1e-300)))
            raise _Fail(f"your result is right to about 6 digits only (relative error {error:.1g}), float32's "
                        f"precision, for float64 inputs: did you compute in float32 inside (.astype(np.float32), "
                        f"dtype=np.float32, np.float32(...))? Keep float64 throughout")
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


def _close(got, want, rtol=None):
    """Same shape and allclose (nan never matches), at want's precision.

    float64 (and Python floats) to rtol 1e-8, atol 1e-11, which tells a float32 computation apart;
    float32 to rtol 1e-5, atol 1e-7; a given rtol overrides both (atol is then rtol / 100).
    """
    want = np.asarray(want)
    if rtol is None:
        rtol, atol = (1e-5, 1e-7) if want.dtype in (np.float32, np.float16) else (1e-8, 1e-11)
    else:
        atol = rtol / 100
    got, want = np.asarray(got, dtype=np.float64), want.astype(np.float64)
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
