"""Helpers for the tests of mathnn.check: run a checker, read its verdict and what it printed."""

from mathnn.check import core


def verdict(checker, fn, capsys):
    """Run a checker; return (the function it returned, what it printed)."""
    result = checker(fn)
    return result, capsys.readouterr().out


def assert_passes(checker, fn, capsys):
    """fn passes: the checker returns fn itself and prints ✓."""
    result, out = verdict(checker, fn, capsys)
    assert result is fn, out
    assert out.startswith(f"✓ {checker.stub}: all ") and "checks passed" in out, out


def assert_hint(checker, fn, phrase, capsys, repeat=True):
    """fn is wrong: the checker prints ✗ and a hint containing phrase, and returns mathnn's version.

    repeat: as a second failure of the same function, whose hint shows the code (the first leaves it out).
    """
    core._FAILED[(checker.__name__, getattr(fn, "__name__", None))] = 1 if repeat else 0
    result, out = verdict(checker, fn, capsys)
    assert result is checker.fallback and result is not fn, out
    assert out.startswith(f"✗ {checker.stub}: "), out
    assert phrase in out, out
    assert out.rstrip().endswith(f"using mathnn's {checker.stub} for now, so the lesson can go on"), out


def copy_of(fn):
    """A copy of mathnn's function (or class) fn, as if a learner had written the same code: not fn itself."""
    import types

    if isinstance(fn, type):
        return type(fn.__name__, (fn,), {"forward": fn.forward, "backward": fn.backward})
    fn = getattr(fn, "__wrapped__", fn)  # the function inside mathnn's shape-checking decorator
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, fn.__defaults__, fn.__closure__)
