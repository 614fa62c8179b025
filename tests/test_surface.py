"""mn.'s public surface is deliberate: what the lessons and their readers call, and nothing else.

Every name a lesson, the notation page, the README, the docs or a benchmark uses as ``mn.NAME`` (or
``mathnn.NAME``, or ``from mathnn import NAME``) exists, in mn. or as one of its modules; every name in
``mn.__all__`` is used by one of them, or is in the short list of extras below, each with its reason.
Everything else stays in its module.
"""

import importlib.util
import json
import re
import sys
from pathlib import Path

import mathnn as mn

ROOT = Path(__file__).resolve().parent.parent
# A user-facing name no lesson or page uses yet, and why mn. offers it anyway.
EXTRAS = {
    "relu_backward": "the backward half of relu_forward (lessons 01, 09): the layers come in forward/backward pairs",
}


def user_texts():
    """{path: text}: the code and prose of the complete lessons, the notation page, README, docs and benchmarks
    (benchmarks/probes.py, which probes every function of every module on purpose, is not a user)."""
    paths = [*sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")), ROOT / "notebooks" / "notation.md",
             ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")),
             *sorted(p for p in (ROOT / "benchmarks").glob("*.py") if p.name != "probes.py")]
    texts = {}
    for path in paths:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"])
        texts[path.relative_to(ROOT).as_posix()] = text
    return texts


def used_names(text):
    """The NAMEs of mn.NAME, mathnn.NAME and `from mathnn import NAME, ...` in text (not a file name mathnn.py)."""
    names = set(re.findall(r"(?<![\w/.-])(?:mn|mathnn)\.([A-Za-z_]\w*)(?![\w.]*\.py\b)", text)) - {"py"}
    for group in re.findall(r"^\s*from mathnn import (\([^)]*\)|[^\n]+)", text, flags=re.M):
        names |= {name for name in re.findall(r"\w+", group.split("#")[0]) if name != "as"}
    return names


def test_every_name_the_lessons_and_pages_use_exists():
    missing = sorted(f"{name} ({path})" for path, text in user_texts().items() for name in used_names(text)
                     if not hasattr(mn, name) and importlib.util.find_spec(f"mathnn.{name}") is None)
    assert missing == [], f"used as mn.NAME but not in mathnn: {missing}"


def test_every_name_mn_offers_is_used_or_a_listed_extra():
    used = set().union(*map(used_names, user_texts().values()))
    unused = sorted(set(mn.__all__) - used - set(EXTRAS))
    assert unused == [], f"in mn.__all__ but no lesson, page or benchmark uses them (move them out of mn.): {unused}"
    assert set(EXTRAS) <= set(mn.__all__), "an extra that mn. no longer offers"


def test_the_surface_is_what_all_says_and_each_name_is_its_module_s():
    """mn.__all__ lists exactly the public, non-module names of mathnn, and mn.NAME is the object of the module
    that defines it (no name imported twice under one name)."""
    public = {name for name, value in vars(mn).items()
              if not name.startswith("_") and not isinstance(value, type(sys))}
    assert public | {"check", "TrainingPanel", "DrawingPad"} == set(mn.__all__)
    assert len(mn.__all__) == len(set(mn.__all__))
    for name in mn.__all__:
        value = getattr(mn, name)
        home = sys.modules.get(getattr(value, "__module__", None) or "")
        if home is not None and home.__name__.startswith("mathnn.") and hasattr(home, name):
            assert getattr(home, name) is value, f"mn.{name} is not {home.__name__}.{name}"


def test_the_widgets_come_on_demand_from_one_module():
    from mathnn import widgets

    assert mn.TrainingPanel is widgets.TrainingPanel and mn.DrawingPad is widgets.DrawingPad
    assert not hasattr(mn.draw, "DrawingPad"), "the drawing pad lives with the other widgets"
