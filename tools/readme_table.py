"""Write the README's course table from the course's manifest (mathnn/course.toml).

    python tools/readme_table.py           # rewrite the table in README.md (what `make readme` runs)
    python tools/readme_table.py --check   # exit 1, saying so, when README.md's table is not the manifest's

The table lives between the lines BEGIN and END below in README.md; nothing else in the README is touched.
tests/test_site.py fails when the README's table differs from the manifest.
"""

import argparse
import sys
from pathlib import Path

from mathnn import course

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN = "<!-- BEGIN COURSE TABLE: written by `make readme` from mathnn/course.toml; edit the manifest, not this -->"
END = "<!-- END COURSE TABLE -->"


def table(manifest):
    """The course table in markdown: the notation page, then every lesson (name, title, what the learner does)."""
    notation = manifest["notation"]
    rows = ["| notebook | title | you will |", "|---|---|---|",
            f"| [notation](notebooks/{notation['file']}) | {notation['title']} | {notation['about']} |"]
    rows += [f"| [{lesson.name}](notebooks/{lesson.file}) | {lesson.title} | {lesson.you_will} |"
             for lesson in manifest["lesson"]]
    return "\n".join(rows)


def with_table(readme, manifest):
    """readme with the text between BEGIN and END replaced by the manifest's table."""
    if readme.count(BEGIN) != 1 or readme.count(END) != 1 or readme.index(BEGIN) > readme.index(END):
        raise ValueError(f"README.md needs one line {BEGIN!r} and, after it, one line {END!r}")
    head, rest = readme.split(BEGIN)
    _, tail = rest.split(END)
    return f"{head}{BEGIN}\n{table(manifest)}\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only say whether README.md's table is up to date")
    args = parser.parse_args(argv)
    readme = README.read_text(encoding="utf-8")
    try:
        new = with_table(readme, course.read_manifest())
    except (ValueError, course.CourseError) as e:
        print(f"readme_table: {e}", file=sys.stderr)
        return 1
    if new == readme:
        print("README.md's course table is the manifest's")
        return 0
    if args.check:
        print("README.md's course table differs from mathnn/course.toml: run `make readme`", file=sys.stderr)
        return 1
    README.write_text(new, encoding="utf-8")
    print("wrote README.md's course table from mathnn/course.toml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
