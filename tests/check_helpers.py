"""Helpers for the tests of mathnn.check: run a checker, read its verdict and what it printed."""

from mathnn.check import core


def verdict(checker, fn, capsys):
    """Run a checker; return (the function it returned, what it printed)."""
    result = checker(fn)
    return result, capsys.readouterr().out


def assert_passes(checker, fn, capsys):
    """fn passes: the checker returns fn itself, prints ✓ and records "passed"."""
    result, out = verdict(checker, fn, capsys)
    assert result is fn, out
    assert out.startswith(f"✓ {checker.__name__}: all ") and "checks passed" in out, out
    assert core._STATUS[checker.__name__] == core.PASSED


def assert_hint(checker, fn, phrase, capsys):
    """fn is wrong: the checker prints ✗ and a hint containing phrase, and returns mathnn's version."""
    result, out = verdict(checker, fn, capsys)
    assert result is checker.fallback and result is not fn, out
    assert out.startswith(f"✗ {checker.__name__}: "), out
    assert phrase in out, out
    assert out.rstrip().endswith(f"using mathnn's {checker.__name__} for now, so the lesson can go on"), out
    assert core._STATUS[checker.__name__] == core.WRONG
