"""Every notebook of both editions (the complete lessons in notebooks/, the learner's edition in
notebooks/learner/) is committed clean (nbstripout --verify: no outputs, counts, widget state) and
follows the series' shape: an intro cell with "What you'll ..." and a link to the notation
page, and an "## Exercises" section. Parametrized over the notebooks that exist."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mathnn import course

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
EDITIONS = ("notebooks", "notebooks/learner")  # the complete lessons, the learner's edition


def notebooks():
    """The notebooks of both editions, present on disk or tracked by git, as paths relative to notebooks/
    ("00_data.ipynb", "learner/00_data.ipynb")."""
    found = {p.relative_to(ROOT) for edition in EDITIONS for p in (ROOT / edition).glob("*.ipynb")}
    try:
        tracked = subprocess.run(["git", "ls-files", "notebooks/"], cwd=ROOT, capture_output=True, text=True,
                                 check=True, timeout=30).stdout.split()
        found |= {Path(p) for p in tracked if p.endswith(".ipynb") and str(Path(p).parent) in EDITIONS}
    except (OSError, subprocess.SubprocessError):
        pass  # not a git checkout: the files on disk are all there is
    return sorted(str(p.relative_to("notebooks")) for p in found)


def load(name):
    path = NOTEBOOK_DIR / name
    assert path.is_file(), f"{name} is tracked by git but missing on disk"
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


@pytest.mark.parametrize("name", notebooks())
def test_notebook_is_stripped(name):
    """nbstripout (what `make strip` runs) would change nothing: no outputs, counts or widget state (and the cell ids
    of the complete lessons are numbered by position; the learner's edition keeps them, see make_learner_edition)."""
    nbstripout = Path(sys.executable).with_name("nbstripout")
    keep_id = ["--keep-id"] if name.startswith("learner/") else []  # a learner's cell keeps its lesson cell's id
    result = subprocess.run([str(nbstripout), "--verify", *keep_id, "--extra-keys", "metadata.widgets",
                             str(NOTEBOOK_DIR / name)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{name} carries outputs, execution counts or widget state: run `make strip`"


@pytest.mark.parametrize("name", notebooks())
def test_notebook_opens_with_intro_and_ends_with_exercises(name):
    cells = load(name)["cells"]
    assert cells, f"{name} has no cells"
    first = cells[0]
    assert first["cell_type"] == "markdown", f"{name}: the first cell should be the markdown introduction"
    intro = source(first)
    assert "What you'll" in intro, f"{name}: the intro lacks the \"What you'll ...\" sections"
    links = re.findall(r"\]\(([^)#]*notation\.md)(?:#[^)]*)?\)", intro)
    folder = (NOTEBOOK_DIR / name).parent
    assert any((folder / link).resolve() == NOTEBOOK_DIR / "notation.md" for link in links), \
        f"{name}: the intro does not link to notation.md"
    markdown = "\n".join(source(c) for c in cells if c["cell_type"] == "markdown")
    assert re.search(r"^## Exercises\b", markdown, re.MULTILINE), f"{name}: no \"## Exercises\" heading"


def test_the_series_is_complete_and_numbered():
    """The manifest's lessons (mathnn/course.toml) exist in both editions, numbered 00, 01, ... in order, and no
    other notebook does; plus the notation page."""
    expected = [lesson.name for lesson in course.lessons()]
    assert expected[:2] == ["00_data", "01_forward"] and expected == [f"{n:02d}_{name[3:]}" for n, name in
                                                                     enumerate(expected)]
    assert [name.removesuffix(".ipynb") for name in notebooks()] == expected + [f"learner/{n}" for n in expected]
    assert (NOTEBOOK_DIR / "notation.md").is_file()


@pytest.mark.parametrize("name", notebooks())
def test_every_matmul_line_has_a_shape_comment(name):
    """The series' convention: each line with a matrix product says its shapes in a comment."""
    missing = []
    for i, cell in enumerate(load(name)["cells"]):
        if cell["cell_type"] != "code":
            continue
        for line in source(cell).splitlines():
            code = line.split("#", 1)[0]
            if re.search(r"\s@\s|np\.(dot|matmul)\(", code) and "->" not in line.split("#", 1)[-1]:
                missing.append(f"cell {i}: {line.strip()}")
    assert not missing, "matmul lines without a '(shape) @ (shape) -> (shape)' comment:\n" + "\n".join(missing)
