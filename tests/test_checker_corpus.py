"""The regression corpus (tests/checker_corpus.py) against mathnn.check: no wrong answer accepted, no valid one
refused, no checker raises, every hint names its mistake, and a first hint never gives away the solution's line."""

import json
import re
from pathlib import Path

import checker_corpus as corpus
import numpy as np
import pytest

from mathnn import check
from mathnn.check import core

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PARTS = [name for name in check.__all__ if name != "progress"]
WRONG_IDS = [f"{part}: {label}" for part, label, *_ in corpus.WRONG]


@pytest.fixture(autouse=True)
def short_time_limits(monkeypatch):
    """The corpus's endless loops: stopped after 1 s (2 s for the training checker) instead of the usual limits."""
    for name in PARTS:
        monkeypatch.setattr(getattr(check, name), "time_limit", 2.0 if name == "sgd_epoch" else 1.0)


def _run(part, fn, capsys, repeat=False):
    checker = getattr(check, part)
    fn = checker.fallback if fn is corpus.FALLBACK else fn
    core._FAILED[(part, getattr(fn, "__name__", None))] = int(repeat)
    result = checker(fn)
    return checker, fn, result, capsys.readouterr().out


def test_the_corpus_covers_every_checker():
    wrong = {part: sum(p == part for p, *_ in corpus.WRONG) for part in PARTS}
    right = {part: sum(p == part for p, *_ in corpus.VALID) for part in PARTS}
    assert min(wrong.values()) >= 5 and min(right.values()) >= 2, (wrong, right)
    assert len(corpus.WRONG) >= 40 + 20 and len(corpus.VALID) >= 40


@pytest.mark.parametrize("part, label, fn, phrase", corpus.WRONG, ids=WRONG_IDS)
def test_no_wrong_answer_passes(part, label, fn, phrase, capsys):
    checker, fn, result, out = _run(part, fn, capsys)
    assert result is checker.fallback and not out.startswith("✓"), out
    assert out.startswith((f"✗ {checker.stub}: ", f"○ {checker.stub}: this is mathnn's")), out
    if phrase:
        assert phrase in out, out
    assert "«" not in out and "»" not in out, out


@pytest.mark.parametrize("part, label, fn", corpus.VALID, ids=[f"{p}: {label}" for p, label, _ in corpus.VALID])
def test_no_valid_answer_is_refused(part, label, fn, capsys):
    checker, _, result, out = _run(part, fn, capsys)
    assert result is fn and out.startswith(f"✓ {checker.stub}: all "), out


# ----------------------------------------------------------------------------- hints teach before they tell

def _solution_lines():
    """The code lines of the complete lessons' stubs (between ### BEGIN / END SOLUTION inside a def), normalized."""
    lines = set()
    for notebook in sorted(NOTEBOOKS.glob("[01]*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            for block in re.findall(r"\n([ \t]+)### BEGIN SOLUTION\n(.*?)\n[ \t]+### END SOLUTION", source, re.S):
                for line in block[1].splitlines():
                    code = line.split("  #")[0].strip()
                    expression = re.split(r"^return |^[\w\[\]\"'.,+ ]+?[-+*/]?=(?!=)", code)[-1]
                    for text in (code, expression):
                        text = _normal(text)
                        statement = re.search(r"[^=<>!][-+*/]?=[^=]", text)  # p -= lr * g: short, but code
                        if len(text) >= (6 if statement else 8) and re.search(r"[^\w.]", text):  # not a bare name
                            lines.add(text)
    return lines


def _normal(text):
    """Code as compared: no spaces, no np./math., one parameter's gradient grads[...] as g, no other subscripts.

    So that p -= lr * g in a hint matches p -= lr * grads["d" + key] in a solution, and m_hat = m / (1 - beta1**t)
    matches m_hat = m[key] / (1 - beta1**t).
    """
    text = re.sub(r"\b(np|math)\.", "", text.replace("'", '"'))
    text = re.sub(r"\bgrads\[[^\[\]]*\]", "g", text)
    text = re.sub(r"\[[^\[\]]*\]", "", text)
    return re.sub(r"\s+", "", text)


def _without_your_code(out):
    """What the checker printed, without the line of your own code it quotes (', in your code, line 3: ...')."""
    return re.sub(r", in your code, line \d+: .*?(?= \(it is called as)", "", out)


SOLUTION_LINES = _solution_lines()


def test_the_solution_lines_are_found():
    assert {_normal("np.maximum(Z, 0)"), _normal("dA1 * (Z1 > 0)"), _normal("(rng.random(A.shape) < keep) / keep"),
            _normal("dZ2.sum(axis=1, keepdims=True)"), _normal("p -= lr * g"),
            _normal("p -= lr * m_hat / (sqrt(v_hat) + eps)"), _normal("m_hat = m / (1 - beta1**t)")} <= SOLUTION_LINES


@pytest.mark.parametrize("part, label, fn, phrase", corpus.WRONG, ids=WRONG_IDS)
def test_a_first_hint_names_the_idea_without_the_solutions_line(part, label, fn, phrase, capsys):
    _, _, _, first = _run(part, fn, capsys)
    given = [line for line in SOLUTION_LINES if line in _normal(_without_your_code(first))]
    assert not given, (first, given)


def test_a_repeated_failure_shows_the_code(capsys):
    def relu(Z):
        return np.max(Z, 0)

    first = _run("relu", relu, capsys)[3]
    assert "elementwise maximum (eq. 2)" in first and "np.maximum" not in first, first
    assert "a second ✗ shows the code" in first
    check.relu(relu)  # the same function fails again
    again = capsys.readouterr().out
    assert "np.maximum(Z, 0)" in again and "second ✗" not in again, again


def test_hint_forms():
    assert core.hint_forms("do it (eq. 2)«: np.maximum(Z, 0)»") == (
        "do it (eq. 2) (check again after a fix: a second ✗ shows the code)", "do it (eq. 2): np.maximum(Z, 0)")
    assert core.hint_forms("plain") == ("plain", "plain")





def test_a_first_form_keeps_the_indent_of_a_list_of_hints():
    hint = "dW1 is wrong«: dW1 = dZ1 @ X.T»\n  2 more wrong:\n  - db1 is wrong«: dZ1.sum(axis=1)»\n  - dZ1  too"
    first, again = core.hint_forms(hint)
    assert "\n  2 more wrong:\n  - db1 is wrong\n  - dZ1 too" in first and "«" not in first, first
    assert "\n  - db1 is wrong: dZ1.sum(axis=1)\n" in again, again


def test_every_checker_the_package_exports_has_a_corpus():
    """A new checker (e.g. check.place_in_field of lesson 08) needs wrong and valid entries here before it ships."""
    assert set(PARTS) == {part for part, *_ in corpus.WRONG} == {part for part, *_ in corpus.VALID}
