"""Distributing the learner's edition with nbgitpuller: an update reaches a learner without losing their work.

The class repository is made by deploy/class_repo.py from notebooks/learner/; a learner's copy is
pulled with nbgitpuller's GitPuller, which is what the link /hub/user-redirect/git-pull?repo=... runs
in the learner's server. nbgitpuller commits the learner's changes and merges the update with
``git merge -Xours``: where both sides changed the same (or adjacent) lines, the learner's side wins.
These tests check the rules docs/teaching.md gives the instructor ("Updating the course").
"""

import importlib.util
import subprocess
from pathlib import Path

import nbformat
import pytest
from nbgitpuller.pull import GitPuller

ROOT = Path(__file__).resolve().parent.parent
LESSON = "learner/01_forward.ipynb"
OTHER = "learner/02_loss.ipynb"
STUB = "raise NotImplementedError("  # the stub's line starts so; its message says what to write
MINE = "def relu(Z):\n    return np.maximum(Z, 0)  # the learner's solution\n"


def load_class_repo():
    spec = importlib.util.spec_from_file_location("class_repo", ROOT / "deploy" / "class_repo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class_repo = load_class_repo()


@pytest.fixture
def course(tmp_path, monkeypatch):
    """(upstream class repository, the learner's copy after a first pull)."""
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Instructor")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "instructor@example.org")
    upstream, learner = tmp_path / "upstream", tmp_path / "home" / "mathnn-class"
    assert class_repo.publish(upstream) is not None
    pull(upstream, learner)
    return upstream, learner


def pull(upstream, learner):
    """What the nbgitpuller link does: clone the first time, merge the update afterwards."""
    for _ in GitPuller(str(upstream), str(learner), branch="main").pull():
        pass  # the pull runs as its log is read


def read(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)  # a broken merge (invalid JSON or nbformat) fails here
    return nb


def stub_index(nb):
    """Index of the first exercise cell (code holding the NotImplementedError stub)."""
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and STUB in c.source)


def solve_and_run(path):
    """The learner writes their solution into the first stub and saves after Run All, as JupyterLab does:
    execution counts and outputs in every code cell, language_info in the metadata."""
    nb = read(path)
    i = stub_index(nb)
    nb.cells[i].source = MINE
    for n, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.execution_count = n + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"output of cell {n + 1}\n")]
    nb.metadata["language_info"] = {"name": "python", "version": "3.11.2"}
    nbformat.write(nb, path)
    return nb.cells[i].id


def commit_upstream(upstream, changes):
    """The instructor edits notebooks in the class repository and commits: changes maps path -> fn(nb)."""
    for rel, change in changes.items():
        nb = read(upstream / rel)
        change(nb)
        nbformat.write(nb, upstream / rel)
    subprocess.run(["git", "-C", str(upstream), "commit", "--quiet", "-am", "update"], check=True)


def add_note(nb):
    """An instructor's change in another notebook: a sentence added to its first cell."""
    nb.cells[0].source += "\n\nNew in this update."


def cell(nb, cell_id):
    return next(c for c in nb.cells if c.id == cell_id)


def test_publish_copies_the_learners_edition_only(course):
    upstream, learner = course
    lessons = sorted(p.name for p in (ROOT / "notebooks" / "learner").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (learner / "learner").glob("*.ipynb")) == lessons
    assert (learner / "notation.md").read_text() == (ROOT / "notebooks" / "notation.md").read_text()
    assert (learner / LESSON).read_bytes() == (ROOT / "notebooks" / LESSON).read_bytes()
    assert not list(learner.glob("[0-9][0-9]_*.ipynb")), "a complete lesson (with solutions) was published"
    assert class_repo.publish(upstream) is None, "publishing the same edition again made a commit"


def test_update_keeps_the_learners_cell_and_brings_the_others(course):
    upstream, learner = course
    mine = solve_and_run(learner / LESSON)
    nb = read(upstream / LESSON)
    i = stub_index(nb)
    ran = next(c.id for c in nb.cells[i + 1:] if c.cell_type == "code")  # a code cell the learner ran
    text = next(c.id for c in nb.cells[i + 1:] if c.cell_type == "markdown")

    def change_01(nb):
        cell(nb, ran).source += "\n# corrected by the instructor"
        cell(nb, text).source += "\n\nA sentence the instructor added."

    commit_upstream(upstream, {LESSON: change_01, OTHER: add_note})
    pull(upstream, learner)

    nb = read(learner / LESSON)
    assert cell(nb, mine).source == MINE
    assert cell(nb, ran).source.endswith("# corrected by the instructor")
    assert cell(nb, ran).outputs, "the learner's outputs of the corrected cell were lost"
    assert cell(nb, text).source.endswith("A sentence the instructor added.")
    assert read(learner / OTHER).cells[0].source.endswith("New in this update.")
    assert [c.id for c in nb.cells] == [c.id for c in read(upstream / LESSON).cells]


def test_corrections_go_above_the_exercise(course):
    """The documented rule: once the class has a lesson, change neither an exercise cell nor the place right
    after it (the learner's side wins there, silently); a correction goes into the instructions above it."""
    upstream, learner = course
    mine = solve_and_run(learner / LESSON)
    instructions = read(upstream / LESSON).cells[stub_index(read(upstream / LESSON)) - 1].id
    assert cell(read(upstream / LESSON), instructions).cell_type == "markdown"

    def change(nb):
        cell(nb, mine).source += "\n# a hint added to the exercise"
        i = next(n for n, c in enumerate(nb.cells) if c.id == mine)
        nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell("A note right below the exercise."))
        cell(nb, instructions).source += "\n\n**Correction:** a note in the instructions."

    commit_upstream(upstream, {LESSON: change})
    pull(upstream, learner)
    nb = read(learner / LESSON)
    assert cell(nb, mine).source == MINE  # the learner's side won: the hint in their cell is dropped
    assert "A note right below the exercise." not in [c.source for c in nb.cells]  # and so is the cell next to it
    assert cell(nb, instructions).source.endswith("**Correction:** a note in the instructions.")


def test_deleting_a_cell_the_learner_ran_does_not_arrive(course):
    """The documented rule: don't delete a cell the class has run; the learner's outputs in it win."""
    upstream, learner = course
    solve_and_run(learner / LESSON)
    nb = read(upstream / LESSON)
    gone = next(c.id for c in nb.cells[stub_index(nb) + 3:] if c.cell_type == "code")  # away from the exercise
    commit_upstream(upstream, {LESSON: lambda nb: nb.cells.remove(cell(nb, gone)), OTHER: add_note})
    pull(upstream, learner)
    assert gone not in [c.id for c in read(upstream / LESSON).cells]
    assert gone in [c.id for c in read(learner / LESSON).cells]  # still there, with the learner's outputs
    assert read(learner / OTHER).cells[0].source.endswith("New in this update.")  # the rest of the update arrived


def test_a_deleted_notebook_comes_back_fresh(course):
    """The learner's way to start a lesson over: rename (or delete) it and click the link again."""
    upstream, learner = course
    solve_and_run(learner / LESSON)
    (learner / LESSON).rename(learner / "learner" / "01_forward_mine.ipynb")
    pull(upstream, learner)
    assert (learner / LESSON).read_bytes() == (upstream / LESSON).read_bytes()
    assert MINE in [c.source for c in read(learner / "learner" / "01_forward_mine.ipynb").cells]
