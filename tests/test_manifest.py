"""The course's manifest (mathnn/course.toml, read by mathnn.course.read_manifest): the one list of the lessons.

It agrees with what is on disk (both editions, nothing more, nothing less: the Makefile's globs match exactly
the manifest's lessons), with each lesson's first heading, with the README's table, and with the checkers'
lessons; a broken manifest is refused, naming the entry.
"""

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from mathnn import check, course

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
LESSONS = course.lessons()


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_manifest_lists_every_notebook_of_both_editions_and_nothing_else():
    files = [lesson.file for lesson in LESSONS]
    assert files == sorted(files) and len(files) >= 11
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == files, "a lesson not in mathnn/course.toml?"
    assert sorted(p.name for p in (NOTEBOOKS / "learner").glob("*.ipynb")) == files, "run `make learner`"
    assert (NOTEBOOKS / course.read_manifest()["notation"]["file"]).is_file()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.name)
def test_a_lessons_first_heading_is_its_number_and_title(lesson):
    first = nbformat.read(NOTEBOOKS / lesson.file, as_version=4).cells[0]
    heading = re.search(r"^#\s+(.+)$", first.source, re.M)
    assert heading and heading.group(1).strip() == lesson.heading, \
        f"{lesson.file}'s first heading is {heading and heading.group(1)!r}; mathnn/course.toml says {lesson.heading!r}"


def test_the_readmes_course_table_is_the_manifests():
    readme_table = load_tool("readme_table")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme_table.with_table(readme, course.read_manifest()) == readme, "run `make readme`"
    for lesson in LESSONS:
        assert f"| [{lesson.name}](notebooks/{lesson.file}) | {lesson.title} | {lesson.you_will} |" in readme


def test_the_readme_table_follows_a_change_of_the_manifest():
    readme_table = load_tool("readme_table")
    manifest = course.read_manifest()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    changed = {**manifest, "lesson": [*manifest["lesson"], course.Lesson(len(LESSONS), "99_x.ipynb", "X", "do x")]}
    new = readme_table.with_table(readme, changed)
    assert new != readme and "| [99_x](notebooks/99_x.ipynb) | X | do x |" in new
    assert new.split(readme_table.BEGIN)[0] == readme.split(readme_table.BEGIN)[0]  # nothing else touched
    assert new.split(readme_table.END)[1] == readme.split(readme_table.END)[1]
    with pytest.raises(ValueError, match="needs one line"):
        readme_table.with_table("# no table here\n", manifest)


def checker_calls(path):
    """The names NAME of every check.NAME(...) call in a notebook's code cells."""
    names = set()
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        code = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute | ast.Name) and \
                    (func.value.attr if isinstance(func.value, ast.Attribute) else func.value.id) == "check":
                names.add(func.attr)
    return names


def test_every_checker_belongs_to_a_lesson_of_the_manifest_that_calls_it():
    """A checker names its lesson (@checker(lesson=N)); that lesson exists and calls it."""
    checkers = {name: getattr(check, name).lesson for name in check.__all__ if name != "progress"}
    assert checkers
    for name, number in checkers.items():
        assert 0 <= number < len(LESSONS), f"check.{name} belongs to lesson {number}, which the manifest lacks"
        assert name in checker_calls(NOTEBOOKS / LESSONS[number].file), \
            f"check.{name} belongs to lesson {number}, but {LESSONS[number].file} never calls it"


def write(tmp_path, text):
    path = tmp_path / "course.toml"
    path.write_text(text, encoding="utf-8")
    return path


NOTATION = '[notation]\nfile = "notation.md"\ntitle = "Notation"\nabout = "the names"\n'


def entry(number, file, **extra):
    fields = {"number": number, "file": file, "title": "T", "you_will": "do", **extra}
    return "[[lesson]]\n" + "".join(f"{key} = {value!r}\n".replace("'", '"') for key, value in fields.items()
                                    if value is not None)


def test_a_good_manifest_is_read_in_order(tmp_path):
    path = write(tmp_path, NOTATION + entry(0, "00_a.ipynb") + entry(1, "01_b.ipynb"))
    assert [(lesson.number, lesson.name, lesson.heading) for lesson in course.lessons(path)] == \
        [(0, "00_a", "00 · T"), (1, "01_b", "01 · T")]


@pytest.mark.parametrize(("text", "message"), [
    (NOTATION + entry(0, "00_a.ipynb") + entry(2, "02_c.ipynb"), r"lesson entry 1 \('02_c.ipynb', number 2\)"),
    (NOTATION + entry(0, "01_a.ipynb"), r"lesson entry 0 \('01_a.ipynb', number 0\) should be number 0, file 00_"),
    (NOTATION + entry(0, "00_a.md"), r"lesson entry 0 \('00_a.md'"),
    (NOTATION + entry(0, "00_a.ipynb", title=None), r"lesson entry 0 has the fields \['file', 'number', 'you_will'\]"),
    (NOTATION + entry(0, "00_a.ipynb", checkers="x"), "lesson entry 0 has the fields"),
    (NOTATION, r"needs \[\[lesson\]\] entries"),
    (entry(0, "00_a.ipynb"), r"a \[notation\] table"),
    (NOTATION + "[[lesson]\n", "cannot read the course's manifest"),
])
def test_a_broken_manifest_is_refused_naming_the_entry(tmp_path, text, message):
    with pytest.raises(course.CourseError, match=message):
        course.read_manifest(write(tmp_path, text))


def test_a_missing_manifest_is_refused(tmp_path):
    with pytest.raises(course.CourseError, match="cannot read the course's manifest .*nothing.toml"):
        course.read_manifest(tmp_path / "nothing.toml")
