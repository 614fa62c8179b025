"""The two editions: tools/make_learner_edition.py makes the learner's edition (notebooks/learner/) from the
complete lessons (notebooks/). Its rules on small synthetic lessons, then the committed edition against its lessons,
then the Makefile and the Jupyter setup around it."""

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from mathnn import course

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "notebooks"
LEARNER_DIR = SOURCE_DIR / "learner"
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}

_spec = importlib.util.spec_from_file_location("make_learner_edition", ROOT / "tools" / "make_learner_edition.py")
editions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(editions)

RELU = 'def relu(Z):\n    """Z (n, m) -> (n, m)"""\n    ### BEGIN SOLUTION\n    return np.maximum(Z, 0)\n' \
       '    ### END SOLUTION\n\nrelu(np.ones((2, 1)))'
INTRO = '# Demo\n\nSee [notation](notation.md), [the next lesson](02_next.ipynb#top), [MNIST](https://example.org),\n' \
        '[below](#exercises) and <img src="figure.png">.'


def write_lesson(folder, name, cells):
    path = folder / name
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC}), path)
    return path


@pytest.fixture
def lessons(tmp_path):
    """Two lessons in tmp_path: 01_demo with every kind of solution region, 02_next without any."""
    ran = new_code_cell("import numpy as np", execution_count=3, outputs=[new_output("stream", text="hi\n")])
    demo = write_lesson(tmp_path, "01_demo.ipynb", [
        new_markdown_cell(INTRO),
        ran,
        new_code_cell(RELU),
        new_markdown_cell("Exercise 1: why?\n\n<!-- BEGIN SOLUTION -->\nBecause.\n<!-- END SOLUTION -->"),
        new_markdown_cell("### BEGIN SOLUTION\n**Solution to exercise 2.** It is.\n### END SOLUTION"),
    ])
    following = write_lesson(tmp_path, "02_next.ipynb", [new_markdown_cell("# Next")])
    return demo, following


def make(sources, out, *options):
    return editions.main([*map(str, sources), "--out", str(out), *options])


def cells(path):
    return [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]


def learner_edits(path):
    """A learner solves the exercise in the learner's edition at path."""
    nb = nbformat.read(path, as_version=4)
    nb.cells[2].source = "def relu(Z):\n    return Z * (Z > 0)"
    nbformat.write(nb, path)


def change_lesson(path):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(new_markdown_cell("A new paragraph."))
    nbformat.write(nb, path)


def test_solution_regions_become_stubs_and_the_rest_stays(lessons, tmp_path):
    demo, following = lessons
    source_text = demo.read_text()
    assert make(lessons, tmp_path / "learner") == 0
    nb = nbformat.read(tmp_path / "learner" / "01_demo.ipynb", as_version=4)
    intro, imports, relu, exercise, solution = nb.cells
    assert relu.source == 'def relu(Z):\n    """Z (n, m) -> (n, m)"""\n    # YOUR CODE HERE\n' \
                          '    raise NotImplementedError("write relu\'s body here, then run this cell")\n\n' \
                          'relu(np.ones((2, 1)))'
    assert exercise.source == "Exercise 1: why?\n\nYOUR ANSWER HERE"
    assert solution.source == "YOUR ANSWER HERE"  # a worked solution: the learner's answer goes here
    assert imports.source == "import numpy as np"
    assert (imports.outputs, imports.execution_count) == ([], None)
    assert relu.metadata.tags == ["raises-exception"] and "tags" not in imports.metadata
    nbstripout = Path(sys.executable).with_name("nbstripout")  # what `make strip` runs would change nothing
    assert subprocess.run([nbstripout, "--verify", "--keep-id", "--extra-keys", "metadata.widgets",
                           tmp_path / "learner" / "01_demo.ipynb"], timeout=60).returncode == 0
    assert [c.id for c in nb.cells] == ["0", "1", "2", "3", "4"]  # ids as `make strip` numbers the lesson's cells
    assert nb.metadata.mathnn.generated_from == os.path.join("..", "01_demo.ipynb")
    assert demo.read_text() == source_text  # the lesson itself is untouched
    namespace = {"np": __import__("numpy")}
    with pytest.raises(NotImplementedError, match="write relu's body here"):
        exec(relu.source, namespace)


DERIVED = ["# Derive\n\nWhat is $dZ$? Known: $A = Z^2$.",
           "<!-- BEGIN DERIVATION -->\nBy the chain rule, $dZ = 2 Z\\, dA$.\n<!-- END DERIVATION -->",
           "<!-- BEGIN DERIVATION: Why the 2 -->\nThe power rule.\n<!-- END DERIVATION -->",
           "Write `grad_square` below: the contract is in its docstring.",
           'def grad_square(Z, dA):\n    """dA (n, m) -> dZ (n, m) of A = Z ** 2 (eq. 4)."""\n    ### BEGIN SOLUTION\n'
           '    return 2 * Z * dA\n    ### END SOLUTION',
           "## Exercises",
           "1. **Square it.** Compute $3^2$.",
           "### BEGIN SOLUTION\nnine = 3 ** 2\n### END SOLUTION",
           "2. **And twice.** Square it again, in a function.",
           "def twice(x):\n    ### BEGIN SOLUTION\n    return x ** 4\n    ### END SOLUTION\n\n\nclass Power:\n"
           "    def apply(self, x):\n        ### BEGIN SOLUTION\n        return x\n        ### END SOLUTION"]


def derived_lesson(folder, sources=DERIVED):
    return write_lesson(folder, "01_derived.ipynb", [(new_markdown_cell if s.startswith(("#", "<", "W", "1", "2"))
                                                      and "###" not in s else new_code_cell)(s) for s in sources])


def test_a_derivation_is_folded_after_its_stub_and_stays_in_the_lesson(tmp_path):
    lesson = derived_lesson(tmp_path)
    assert make([lesson], tmp_path / "learner") == 0
    nb = nbformat.read(tmp_path / "learner" / "01_derived.ipynb", as_version=4)
    assert [c.id for c in nb.cells] == ["0", "3", "4", "1", "2", "5", "6", "7", "8", "9"]  # each keeps its id
    question, scaffold, stub, derivation, why = nb.cells[:5]
    assert question.source == DERIVED[0] and scaffold.source == DERIVED[3]
    assert "raise NotImplementedError(\"write grad_square's body here (eq. 4), then run this cell\")" in stub.source
    assert derivation.source == "<details><summary>The derivation (open it after you have tried)</summary>\n\n" \
                                "By the chain rule, $dZ = 2 Z\\, dA$.\n\n</details>"
    assert why.source.startswith("<details><summary>Why the 2 (open it after you have tried)</summary>")
    nbstripout = Path(sys.executable).with_name("nbstripout")
    assert subprocess.run([nbstripout, "--verify", "--keep-id", "--extra-keys", "metadata.widgets",
                           tmp_path / "learner" / "01_derived.ipynb"], timeout=60).returncode == 0
    lesson_cells = {c.id: c for c in editions.strip(nbformat.read(lesson, as_version=4)).cells}
    for cell in nb.cells:  # matched by id, every cell is the lesson's, of the same type
        assert cell.cell_type == lesson_cells[cell.id].cell_type
    assert [c.source for c in lesson_cells.values()] == DERIVED  # the complete lesson keeps its derivation in place
    assert make([lesson], tmp_path / "learner") == 0  # regenerating: up to date, not "edited"
    assert not editions.is_edited(nbformat.read(tmp_path / "learner" / "01_derived.ipynb", as_version=4))


def test_every_stub_says_what_to_do_there(tmp_path):
    make([derived_lesson(tmp_path)], tmp_path / "learner")
    nb = nbformat.read(tmp_path / "learner" / "01_derived.ipynb", as_version=4)
    messages = [re.findall(r'raise NotImplementedError\("([^"]+)"\)', c.source) for c in nb.cells]
    assert [m for m in messages if m] == [
        ["write grad_square's body here (eq. 4), then run this cell"],
        ["Exercise 1: write your code in this cell, then run it"],
        ["write twice's body here, then run this cell", "write Power.apply's body here, then run this cell"]]


@pytest.mark.parametrize("broken", [
    ["What? <!-- BEGIN DERIVATION -->\nx\n<!-- END DERIVATION -->", "x = 1\n### BEGIN SOLUTION\n### END SOLUTION"],
    ["<!-- BEGIN DERIVATION -->\nx\n<!-- END DERIVATION -->", "x = 1"],
], ids=["not-the-whole-cell", "no-stub-after-it"])
def test_a_misplaced_derivation_stops_with_the_notebook_named_and_nothing_written(tmp_path, broken):
    lesson = derived_lesson(tmp_path, broken)
    with pytest.raises(SystemExit, match=r"01_derived\.ipynb: cell 0: a derivation region"):
        make([lesson], tmp_path / "learner")
    assert not (tmp_path / "learner").exists()


def test_relative_links_are_rewritten_for_the_learner_folder(lessons, tmp_path):
    make(lessons, tmp_path / "learner")
    intro = nbformat.read(tmp_path / "learner" / "01_demo.ipynb", as_version=4).cells[0].source
    assert intro == '# Demo\n\nSee [notation](../notation.md), [the next lesson](02_next.ipynb#top), ' \
                    '[MNIST](https://example.org),\n[below](#exercises) and <img src="../figure.png">.'


def test_unbalanced_markers_stop_with_the_notebook_named_and_nothing_written(tmp_path):
    broken = write_lesson(tmp_path, "03_broken.ipynb", [new_code_cell("x = 1\n### BEGIN SOLUTION\ny = 2")])
    with pytest.raises(SystemExit, match=r"03_broken\.ipynb: no end solution statement found"):
        make([broken], tmp_path / "learner")
    assert not (tmp_path / "learner" / "03_broken.ipynb").exists()


def test_regenerating_keeps_a_learners_edits_and_refuses_to_replace_them(lessons, tmp_path, capsys):
    demo, _ = lessons
    out = tmp_path / "learner"
    make(lessons, out)
    learner_edits(out / "01_demo.ipynb")
    edited = (out / "01_demo.ipynb").read_text()

    assert make(lessons, out) == 0  # the lesson did not change: nothing to do
    assert (out / "01_demo.ipynb").read_text() == edited

    change_lesson(demo)
    capsys.readouterr()
    assert make(lessons, out) == 1
    message = capsys.readouterr().err
    assert "you edited" in message and str(out / "01_demo.ipynb") in message and "--force" in message
    assert (out / "01_demo.ipynb").read_text() == edited
    assert sorted(p.name for p in out.iterdir()) == ["01_demo.ipynb", "02_next.ipynb"]  # no backup, nothing new


def test_force_keeps_a_backup_of_the_edited_notebook_then_replaces_it(lessons, tmp_path):
    demo, _ = lessons
    out = tmp_path / "learner"
    make(lessons, out)
    learner_edits(out / "01_demo.ipynb")
    edited = (out / "01_demo.ipynb").read_text()
    change_lesson(demo)

    assert make(lessons, out, "--force") == 0
    backups = list(out.glob("01_demo.ipynb.bak-*"))
    assert len(backups) == 1 and backups[0].read_text() == edited
    regenerated = nbformat.read(out / "01_demo.ipynb", as_version=4)
    assert regenerated.cells[-1].source == "A new paragraph." and not editions.is_edited(regenerated)


def test_a_notebook_that_was_not_generated_counts_as_edited(lessons, tmp_path):
    out = tmp_path / "learner"
    out.mkdir()
    write_lesson(out, "01_demo.ipynb", [new_code_cell("my own work")])
    assert make(lessons, out) == 1
    assert cells(out / "01_demo.ipynb") == [("code", "my own work")]


def test_a_folder_in_a_notebooks_place_is_named_and_nothing_is_written(lessons, tmp_path, capsys):
    out = tmp_path / "learner"
    (out / "01_demo.ipynb").mkdir(parents=True)
    for force in ((), ("--force",)):
        assert make(lessons, out, *force) == 1
        assert "is not a file (a folder?): move it away" in capsys.readouterr().err
        assert sorted(p.name for p in out.iterdir()) == ["01_demo.ipynb"]


def test_a_write_that_fails_halfway_leaves_the_old_notebook_whole(lessons, tmp_path, monkeypatch, capsys):
    """nbformat.write truncates, then writes: the generator writes a temporary file and renames it instead."""
    demo, _ = lessons
    out = tmp_path / "learner"
    make(lessons, out)
    before = (out / "01_demo.ipynb").read_text()
    change_lesson(demo)

    def write_half(nb, path):
        Path(path).write_text(before[:100])
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(editions.nbformat, "write", write_half)
    assert make(lessons, out) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert (out / "01_demo.ipynb").read_text() == before
    assert sorted(p.name for p in out.iterdir()) == ["01_demo.ipynb", "02_next.ipynb"]  # no temporary file left


def test_an_unreadable_notebook_is_kept_too(lessons, tmp_path):
    out = tmp_path / "learner"
    make(lessons, out)
    (out / "01_demo.ipynb").write_text('{"cells": [half a notebook')
    assert make(lessons, out) == 1
    assert make(lessons, out, "--force") == 0
    assert [p.read_text() for p in out.glob("01_demo.ipynb.bak-*")] == ['{"cells": [half a notebook']
    assert not editions.is_edited(nbformat.read(out / "01_demo.ipynb", as_version=4))


def test_a_missing_lesson_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit):
        make([tmp_path / "99_none.ipynb"], tmp_path / "learner")
    assert "99_none.ipynb: no such notebook" in capsys.readouterr().err
    assert not (tmp_path / "learner").exists()


def test_outputs_a_learner_produced_are_not_edits(lessons, tmp_path):
    demo, _ = lessons
    out = tmp_path / "learner"
    make(lessons, out)
    nb = nbformat.read(out / "01_demo.ipynb", as_version=4)
    nb.cells[1].execution_count, nb.cells[1].outputs = 1, [new_output("stream", text="ran\n")]
    nbformat.write(nb, out / "01_demo.ipynb")
    ran = (out / "01_demo.ipynb").read_text()

    assert make(lessons, out) == 0
    assert (out / "01_demo.ipynb").read_text() == ran  # nothing new: the outputs stay
    change_lesson(demo)
    assert make(lessons, out) == 0  # replaced without asking: only outputs are lost
    assert cells(out / "01_demo.ipynb")[-1] == ("markdown", "A new paragraph.")
    assert not list(out.glob("*.bak-*"))


# --- the committed edition ----------------------------------------------------------------------

def test_the_learners_edition_is_up_to_date_with_its_lessons(tmp_path):
    """notebooks/learner/ is what `make learner` makes from notebooks/ now, and nobody edited it."""
    assert editions.main(["--out", str(tmp_path)]) == 0
    expected = sorted(p.name for p in tmp_path.glob("*.ipynb"))
    assert expected, "no lessons found"
    assert sorted(p.name for p in LEARNER_DIR.glob("*.ipynb")) == expected, "run `make learner`"
    for name in expected:
        committed = nbformat.read(LEARNER_DIR / name, as_version=4)
        fresh = nbformat.read(tmp_path / name, as_version=4)
        assert not editions.is_edited(committed), f"notebooks/learner/{name} was edited by hand: edit the lesson"
        assert editions.cells_digest(committed) == editions.cells_digest(fresh), \
            f"notebooks/learner/{name} is out of date with notebooks/{name}: run `make learner`"
        assert committed.metadata.mathnn.generated_from == f"../{name}"


def test_no_stub_of_the_learners_edition_raises_without_a_message():
    """Issue 17: Run All of the unfilled edition shows errors that say what to do, never a bare NotImplementedError."""
    import ast

    bare = []
    for path in sorted(LEARNER_DIR.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(code)):
                exc = node.exc if isinstance(node, ast.Raise) else None
                name = exc.func if isinstance(exc, ast.Call) else exc
                if isinstance(name, ast.Name) and name.id == "NotImplementedError" and not (
                        isinstance(exc, ast.Call) and exc.args and isinstance(exc.args[0], ast.Constant)
                        and str(exc.args[0].value).strip()):
                    bare.append(f"{path.name}, cell {cell.id}: {ast.get_source_segment(code, node)}")
    assert not bare, "stubs without a message:\n" + "\n".join(bare)


def test_the_learners_edition_has_every_cell_of_its_lesson_under_its_id():
    """The two editions compare cell by cell by id: same ids, same types, and outside solution regions the same
    text (derivations folded, links rewritten)."""
    for lesson in [SOURCE_DIR / lesson.file for lesson in course.lessons()]:
        learner = {c.id: c for c in nbformat.read(LEARNER_DIR / lesson.name, as_version=4).cells}
        complete = editions.strip(nbformat.read(lesson, as_version=4)).cells
        assert sorted(learner, key=int) == [c.id for c in complete], lesson.name
        for cell in complete:
            assert learner[cell.id].cell_type == cell.cell_type, f"{lesson.name}, cell {cell.id}"
            if "SOLUTION" not in cell.source and "DERIVATION" not in cell.source and cell.cell_type == "code":
                assert learner[cell.id].source == cell.source, f"{lesson.name}, cell {cell.id}"


def relative_targets(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for _, target in editions.LINK.findall(cell.source):
                if not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|#", target):
                    yield target


@pytest.mark.parametrize("path", sorted(SOURCE_DIR.glob("*.ipynb")) + sorted(LEARNER_DIR.glob("*.ipynb")),
                         ids=lambda p: str(p.relative_to(SOURCE_DIR)))
def test_every_relative_link_opens_a_file(path):
    broken = [t for t in relative_targets(path) if not (path.parent / t.split("#")[0]).exists()]
    assert not broken, f"{path.relative_to(ROOT)} links to missing files: {broken}"


# --- make and Jupyter ---------------------------------------------------------------------------

def dry_run(*targets):
    """The commands `make -n targets` would run, one per line (continuation lines joined)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}  # as under make test
    result = subprocess.run(["make", "-n", "--no-print-directory", *targets], cwd=ROOT, capture_output=True, text=True,
                            timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.replace("\\\n", " ").splitlines()


def test_strip_test_and_lab_never_write_into_the_learners_edition():
    commands = dry_run("strip", "test", "lab")
    assert not [c for c in commands if "make_learner_edition" in c]
    strip = [c for c in commands if "nbstripout" in c]
    assert strip, "make strip should run nbstripout"
    for command in strip:  # a shell glob notebooks/*.ipynb does not reach into notebooks/learner/
        paths = [a for a in shlex.split(command) if a.endswith(".ipynb")]
        assert paths and all(re.fullmatch(r"notebooks/[^/]+\.ipynb", a) for a in paths), command
    naming = [c for c in commands if "notebooks/learner" in c]
    assert len(naming) == 1 and re.search(r"jupyter lab .* notebooks/learner/00_data\.ipynb$", naming[0]), naming


def test_make_lab_serves_both_editions_and_the_notation_page():
    """Given a file, Jupyter serves only that file's folder unless root_dir says otherwise."""
    lab = next(c for c in dry_run("lab") if "jupyter lab" in c)
    root = re.search(r"--ServerApp\.root_dir=(\S+)", lab)
    assert root, f"make lab should set --ServerApp.root_dir: {lab}"
    served = (ROOT / root.group(1)).resolve()
    for needed in (LEARNER_DIR / "00_data.ipynb", SOURCE_DIR / "00_data.ipynb", SOURCE_DIR / "notation.md"):
        assert needed.is_relative_to(served), f"make lab does not serve {needed.relative_to(ROOT)}"


def test_make_learner_passes_force_only_when_asked():
    assert dry_run("learner")[-1].split()[-1].endswith("make_learner_edition.py")
    assert dry_run("learner", "FORCE=1")[-1].split()[-1] == "--force"


def test_make_notebooks_runs_both_editions():
    command = next(c for c in dry_run("notebooks") if "--nbval-lax" in c)
    args = shlex.split(command)
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                *args[args.index("--nbval-lax"):]],
                               cwd=ROOT, capture_output=True, text=True, timeout=120).stdout
    files = {line.split("::")[0] for line in collected.splitlines() if "::" in line}
    lessons = {f"notebooks/{lesson.file}" for lesson in course.lessons()}
    assert lessons and files == lessons | {f"notebooks/learner/{Path(name).name}" for name in lessons}


def test_nbgraders_jupyter_extensions_are_off(tmp_path):
    """nbgrader (needed only to make the learner's edition) adds a grading UI: `make install` disables it."""
    jupyter = Path(sys.executable).with_name("jupyter")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path), JUPYTER_DATA_DIR=str(tmp_path / "data"))
    env.pop("JUPYTER_CONFIG_PATH", None)
    listing = ""
    for command in (["labextension", "list"], ["server", "extension", "list"]):
        result = subprocess.run([str(jupyter), *command], capture_output=True, text=True, env=env, timeout=120)
        listing += re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    states = re.findall(r"(\S*nbgrader\S*)(?: v\S+)? (enabled|disabled)", listing)
    assert len(states) == 5, listing  # the lab extension and four server extensions
    assert {state for _, state in states} == {"disabled"}, states


def run_learner_lesson(name, fill):
    """Run notebooks/learner/NAME top to bottom in a fresh kernel after fill(source) -> source changed the stubs.

    Returns the text of all outputs. Fails on any error in a cell not tagged raises-exception."""
    from nbclient import NotebookClient

    nb = nbformat.read(LEARNER_DIR / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = fill(cell.source)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(LEARNER_DIR)}}).execute()
    assert all(cell.execution_count for cell in nb.cells if cell.cell_type == "code"), "every cell ran"
    return "\n".join(out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
                     for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", []))


def test_a_wrong_stub_gets_its_hint_and_the_lesson_still_runs_to_its_end():
    """Issue 10's promise: a learner's wrong relu in lesson 01 is named, mathnn's is used, and every later cell runs."""
    stub = '    """Z (n, m) -> A (n, m), the ReLU of every entry (eq. 2). Z itself stays unchanged."""\n' \
           '    # YOUR CODE HERE\n    raise NotImplementedError("write relu\'s body here (eq. 2), then run this cell")'
    wrong = '    """Z (n, m) -> A (n, m), the ReLU of every entry (eq. 2). Z itself stays unchanged."""\n' \
            '    return np.max(Z, 0)  # a classic slip: np.max reduces, np.maximum compares'

    def fill(source):
        return source.replace(stub, wrong)

    assert any(stub in cell.source for cell in nbformat.read(LEARNER_DIR / "01_forward.ipynb", as_version=4).cells)
    text = run_learner_lesson("01_forward.ipynb", fill)
    assert "✗ relu" in text and "using mathnn's relu for now" in text
    assert "○ softmax: not written yet" in text and "○ forward: not written yet" in text
