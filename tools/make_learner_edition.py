"""Generate the learner's edition, notebooks/learner/NN_name.ipynb, from the complete lessons notebooks/NN_name.ipynb.

    python tools/make_learner_edition.py            # every lesson of the manifest (what `make learner` runs)
    python tools/make_learner_edition.py --force    # also replace notebooks a learner edited (keeps a backup)

The lessons are those the course's manifest lists (mathnn/course.toml), in its order.

A lesson marks the learner's parts as solution regions: the lines from one with "BEGIN SOLUTION" to one with
"END SOLUTION" (`### BEGIN SOLUTION` in code; in markdown `<!-- BEGIN SOLUTION -->` hides the markers in the
complete lesson). nbgrader's ClearSolutions replaces a code region with `# YOUR CODE HERE` + `raise
NotImplementedError(...)` and a markdown region with `YOUR ANSWER HERE`. The error's message says what to do
there: "write relu's body here (eq. 2), then run this cell" in a function (the equation is the first "(eq. N)" of
its docstring), "Exercise 3: write your code in this cell, then run it" at the top level of a cell (the exercise is the
cell's own "# Exercise 3" comment, else the item "3. ..." of the "## Exercises" list in the markdown cell above
it, if that cell holds one item; else the message names no number). A markdown cell wholly inside a region (a worked
solution) becomes a cell holding only `YOUR ANSWER HERE`: the learner's place for their answer. A code cell that
lost a region is tagged `raises-exception`: Run All (and nbval) goes on past an exercise not done yet.

A derivation region asks before it shows: a markdown cell whose whole source is wrapped in
`<!-- BEGIN DERIVATION -->` ... `<!-- END DERIVATION -->` (or `<!-- BEGIN DERIVATION: a title -->`; the markers
are HTML comments, invisible in the complete lesson, where the cell stays as it is) is folded in the learner's
edition as `<details><summary>The derivation (open it after you have tried)</summary>` ... `</details>` and
moved to right after the next code cell that holds a solution region (its stub). The cells before the stub
should then ask the question and give the scaffold; the learner opens the derivation after trying.

Every cell keeps its id, numbered by its position in the complete lesson as `make strip` numbers them, so the
two editions compare cell by cell by id (only a derivation changes its place, and keeps its id). Relative links
in markdown are rewritten to work from notebooks/learner/ (links to another lesson stay: they open its learner's
edition). Outputs are stripped as by `make strip` (but the ids are kept: `nbstripout --keep-id` changes nothing).

Nothing a learner typed is overwritten: each generated notebook records its lesson and a SHA-256 of its cells
(type, source, tags; not outputs). A notebook whose cells no longer match it was edited; when its lesson changed,
it is not replaced (nothing is written, the exit status is 1) unless --force, which keeps a copy as
NAME.ipynb.bak-<timestamp> first. --force also resets an edited notebook whose lesson did not change.
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbgrader.preprocessors import ClearSolutions
from nbstripout import strip_output

from mathnn import course

SOURCE_DIR = Path(__file__).resolve().parent.parent / "notebooks"
LEARNER_DIR = SOURCE_DIR / "learner"
# what `make strip` (nbstripout --extra-keys metadata.widgets) removes besides outputs, counts and cell ids
STRIP_KEYS = ["metadata.signature", "metadata.widgets", "cell.metadata.collapsed", "cell.metadata.ExecuteTime",
              "cell.metadata.execution", "cell.metadata.heading_collapsed", "cell.metadata.hidden",
              "cell.metadata.scrolled"]
LINK = re.compile(r"""(\]\(|(?:src|href)=["'])([^)"'\s]+)""")  # ](target) and src="target" / href="target"
DERIVATION = re.compile(r"\A\s*<!-- BEGIN DERIVATION(?::\s*(.*?))?\s*-->\n(.*)\n<!-- END DERIVATION -->\s*\Z",
                        re.DOTALL)  # a whole markdown cell: (title or None, the derivation)
STUB = re.compile(r"^(\s*)raise NotImplementedError\(\)$", re.MULTILINE)


def cells_digest(nb):
    """SHA-256 of the cells' types, sources and tags: what a learner's edit changes (outputs don't count)."""
    cells = [[c.cell_type, c.source, c.metadata.get("tags", [])] for c in nb.cells]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def is_edited(nb):
    """True if the cells differ from what was generated (or nothing was recorded: not a generated notebook)."""
    return nb.metadata.get("mathnn", {}).get("cells_sha256") != cells_digest(nb)


def relink(text, lessons):
    """Relative link targets in markdown, rewritten from notebooks/ to notebooks/learner/."""
    def fix(match):
        prefix, target = match.groups()
        relative = not re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:|[#/]", target)
        return prefix + ("../" + target if relative and target.split("#")[0] not in lessons else target)
    return LINK.sub(fix, text)


def strip(nb, keep_id=False):
    """nb without outputs, execution counts and what else `make strip` removes; cell ids renumbered as it does."""
    return strip_output(nb, keep_output=False, keep_count=False, keep_id=keep_id, extra_keys=STRIP_KEYS)


def read_or_none(path):
    """The notebook at path, or None if it is not a readable notebook (still the learner's file)."""
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return None


def stub_message(lines, row, exercise):
    """What the learner is to do at the stub on lines[row]: write the enclosing function's body, or the exercise."""
    def enclosing(keyword, row, indent):  # (name, indent, row) of the nearest `keyword name` above, less indented
        for above in range(row - 1, -1, -1):
            match = re.match(rf"(\s*){keyword} (\w+)\b", lines[above])
            if match and len(match.group(1)) < indent:
                return match.group(2), len(match.group(1)), above
        return None

    function = enclosing("def", row, len(lines[row]) - len(lines[row].lstrip()))
    if function is None:
        return f"{f'Exercise {exercise}: ' if exercise else ''}write your code in this cell, then run it"
    name, indent, start = function
    owner = enclosing("class", start, indent) if indent else None
    equation = re.search(r"\((eqs?\. [^)]+)\)", "\n".join(lines[start:row]))
    return f"write {owner[0] + '.' if owner else ''}{name}'s body here{f' ({equation.group(1)})' if equation else ''}" \
           ", then run this cell"


def add_stub_messages(source, exercise):
    """source with each bare `raise NotImplementedError()` of ClearSolutions given a message (stub_message)."""
    lines = source.split("\n")
    for row, line in enumerate(lines):
        if STUB.fullmatch(line):
            message = stub_message(lines, row, exercise)
            assert '"' not in message and "\\" not in message, message
            lines[row] = f'{line[:-2]}("{message}")'
    return "\n".join(lines)


def fold_derivations(nb, stubs, source):
    """Fold each derivation cell of nb in <details> and move it after the next cell whose id is in stubs (in place)."""
    order, waiting = [], []
    for cell in nb.cells:
        text = cell.source if cell.cell_type == "markdown" else ""
        match = DERIVATION.match(text)
        if match:
            title = match.group(1) or "The derivation"
            cell.source = f"<details><summary>{title} (open it after you have tried)</summary>\n\n" \
                          f"{match.group(2).strip()}\n\n</details>"
            waiting.append(cell)
            continue
        if "DERIVATION -->" in text:
            raise SystemExit(f"{source}: cell {cell.id}: a derivation region must hold its whole markdown cell, "
                             "from <!-- BEGIN DERIVATION --> on the first line to <!-- END DERIVATION --> on the last")
        order.append(cell)
        if cell.id in stubs:
            order, waiting = order + waiting, []
    if waiting:
        raise SystemExit(f"{source}: cell {waiting[0].id}: a derivation region needs a code cell with a solution "
                         "region after it (the stub it explains)")
    nb.cells = order


def generate(source, out_dir, lessons):
    """The learner's edition of the lesson at source, as a notebook (not written). lessons: the file names of the
    lessons (links to them stay as they are: they open the learner's edition)."""
    nb = nbformat.read(source, as_version=4)
    before = [cell.source for cell in nb.cells]
    try:
        ClearSolutions(enforce_metadata=False).preprocess(nb, {})
    except RuntimeError as e:  # nested BEGIN SOLUTION, or no END SOLUTION
        raise SystemExit(f"{source}: {e}; fix its solution markers (the cell is shown above)") from None
    strip(nb)  # ids: each cell's position in the complete lesson
    stubs, exercise = set(), None  # exercise: the number of the last exercise ("N. ..." after "## Exercises")
    for cell, old in zip(nb.cells, before):
        if re.search(r"^## Exercises\b", old, re.MULTILINE) and cell.cell_type == "markdown":
            exercise = 0
        if exercise is not None and cell.cell_type == "markdown" and "BEGIN SOLUTION" not in old:
            numbers = re.findall(r"^(\d+)\.\s", old, re.MULTILINE)  # one item: that exercise; several: unknown
            exercise = (int(numbers[0]) if len(numbers) == 1 else None) if numbers else exercise
        comment = re.search(r"^#\s*Exercise (\d+)\b", old, re.MULTILINE) if cell.cell_type == "code" else None
        if comment:  # a code cell's own "# Exercise N" comment says it best
            exercise = int(comment.group(1))
        if cell.cell_type == "markdown":
            cell.source = relink(cell.source, lessons)
        elif cell.source != old:
            stubs.add(cell.id)
            cell.source = add_stub_messages(cell.source, exercise)
            if "raises-exception" not in cell.metadata.get("tags", []):
                cell.metadata["tags"] = [*cell.metadata.get("tags", []), "raises-exception"]
    fold_derivations(nb, stubs, source)
    nb.metadata["mathnn"] = {"generated_from": os.path.relpath(source, out_dir), "cells_sha256": cells_digest(nb)}
    return nb


def write_atomically(nb, target):
    """Write nb to target through a temporary file beside it: a killed run leaves the old file or the new one."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        nbformat.write(nb, temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", type=Path, help="lessons (default: every lesson of mathnn/course.toml)")
    parser.add_argument("--out", type=Path, default=LEARNER_DIR, help="where to write (default: notebooks/learner)")
    parser.add_argument("--force", action="store_true", help="replace edited notebooks too, keeping a backup")
    args = parser.parse_args(argv)
    sources = args.sources or [SOURCE_DIR / lesson.file for lesson in course.lessons()]
    for source in sources:
        if not source.is_file():
            parser.error(f"{source}: no such notebook")

    lessons = {lesson.file for lesson in course.lessons()} | {source.name for source in sources}
    plans, edited = [], []  # decide for every notebook before writing any
    for source in sources:
        nb, target = generate(source, args.out, lessons), args.out / source.name
        if target.exists() and not target.is_file():
            print(f"{target} is not a file (a folder?): move it away and run this again. Nothing was written.",
                  file=sys.stderr)
            return 1
        if target.exists():
            old = read_or_none(target)
            if old is None or is_edited(old):
                if not args.force and old is not None and old.metadata.get("mathnn") == nb.metadata["mathnn"]:
                    continue  # made from the lesson as it is now: the learner's work stays
                edited.append(target)
            elif strip(old, keep_id=True) == nb:
                continue  # up to date; outputs the learner produced stay
        plans.append((target, nb))
    if edited and not args.force:
        names = "\n".join(f"  {path}" for path in edited)
        print(f"Not regenerated: their lessons changed, but you edited these notebooks of the learner's edition:\n"
              f"{names}\nNothing was written. To replace them anyway, keeping a copy of each as "
              "NAME.ipynb.bak-<time>, run again with --force (make learner FORCE=1).", file=sys.stderr)
        return 1

    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for target, nb in plans:
            if target in edited:
                backup = target.with_name(f"{target.name}.bak-{stamp}")
                shutil.copy2(target, backup)
                print(f"kept your edited {target.name} as {backup}")
            write_atomically(nb, target)
            print(f"wrote {target}")
    except OSError as e:
        print(f"cannot write {e.filename or args.out}: {e.strerror or e}. Every notebook not listed above as "
              f"written is as it was.", file=sys.stderr)
        return 1
    print(f"the learner's edition in {args.out} is up to date ({len(sources)} lessons, {len(plans)} written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
