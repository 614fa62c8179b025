"""The course without the repository: ``mathnn lab [DIR]`` (or ``python -m mathnn lab [DIR]``).

It copies the learner's edition and the notation page into DIR (default: ``mathnn-course`` in the
current folder), laid out as in the repository's ``notebooks/`` folder and in a class repository
(deploy/class_repo.py), so that the notebooks' links work::

    DIR/learner/00_data.ipynb ... DIR/learner/10_regularization.ipynb
    DIR/notation.md

then starts JupyterLab there, on 127.0.0.1 with a token, at the first lesson. Only the files DIR
lacks are copied: a file the learner has is never replaced, so running it again only adds what is
missing (a lesson deleted, or one that a newer mathnn brings). ``--copy-only`` copies and stops.

The files come from the installed package (a wheel carries them as ``mathnn/notebooks/``: setup.py
copies them from ``notebooks/`` when it builds), or from the checkout's ``notebooks/`` when mathnn
runs from a source checkout. Paths go through pathlib, and nothing needs make, git or a shell.
"""

import argparse
import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from mathnn import locations

MANIFEST = Path(__file__).resolve().parent / "course.toml"  # the lessons, in the checkout and in the wheel
DEFAULT_FOLDER = "mathnn-course"
LAB_HELP = f"""\
Copy the learner's edition and the notation page into DIR (default: {DEFAULT_FOLDER} in the current
folder) as DIR/learner/NN_name.ipynb and DIR/notation.md, then start JupyterLab there on 127.0.0.1
with a token (the URL to open is printed) at the first lesson. Only the files DIR lacks are copied:
a file you have is never replaced (to get a fresh copy of a lesson, rename yours and run this again).
"""


class CourseError(Exception):
    """The course cannot be copied or opened: the message says why and what to do."""


@dataclass(frozen=True)
class Lesson:
    """One entry of the manifest (mathnn/course.toml): notebooks/FILE, notebooks/learner/FILE."""

    number: int  # its two digits start file: 3 -> "03_backprop.ipynb"
    file: str
    title: str  # the notebook's first heading is f"{number:02d} · {title}"
    you_will: str  # one line of markdown

    @property
    def name(self):
        """The file's name without .ipynb: "03_backprop"."""
        return self.file.removesuffix(".ipynb")

    @property
    def heading(self):
        return f"{self.number:02d} · {self.title}"


def read_manifest(path=MANIFEST):
    """The manifest as a dict: {"notation": {"file", "title", "about"}, "lesson": [Lesson, ...]} in lesson order.

    An entry that breaks the manifest's rules (numbers 0, 1, 2, ... in order; file "NN_name.ipynb" starting
    with its number; every field present, and no other) raises CourseError naming it."""
    try:
        manifest = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise CourseError(f"cannot read the course's manifest {path}: {e}") from e
    lessons, fields = [], set(Lesson.__dataclass_fields__)
    for index, entry in enumerate(manifest.get("lesson", [])):
        if set(entry) != fields:
            raise CourseError(f"{path}: lesson entry {index} has the fields {sorted(entry)}, not {sorted(fields)}")
        lesson = Lesson(**entry)
        if lesson.number != index or not (lesson.file.startswith(f"{index:02d}_") and lesson.file.endswith(".ipynb")):
            raise CourseError(f"{path}: lesson entry {index} ({lesson.file!r}, number {lesson.number!r}) should be "
                              f"number {index}, file {index:02d}_name.ipynb: lessons are numbered 0, 1, 2, ...")
        lessons.append(lesson)
    if not lessons or set(manifest.get("notation", {})) != {"file", "title", "about"}:
        raise CourseError(f"{path}: needs [[lesson]] entries and a [notation] table with file, title and about")
    return {"notation": manifest["notation"], "lesson": lessons}


def lessons(path=MANIFEST):
    """The course's lessons in order (Lesson records), from the manifest."""
    return read_manifest(path)["lesson"]


def source_folder():
    """The folder holding learner/NN_name.ipynb and notation.md (:func:`mathnn.locations.course_dir`)."""
    folder = locations.course_dir()
    if folder is None:
        raise CourseError(f"this installation of mathnn has no course files ({locations.PACKAGED_NOTEBOOKS} is "
                          f"missing): reinstall it from a wheel built with its setup.py (python -m pip install "
                          f"--force-reinstall mathnn)")
    return folder


def course_files(source):
    """The course's files, as paths relative to source: notation.md, then learner/NN_name.ipynb in lesson order
    (the manifest's)."""
    manifest = read_manifest()
    files = [Path(manifest["notation"]["file"])] + [Path("learner", lesson.file) for lesson in manifest["lesson"]]
    missing = [name.as_posix() for name in files if not (source / name).is_file()]
    if missing:
        raise CourseError(f"{source} lacks {', '.join(missing)} (the learner's edition, learner/NN_name.ipynb, or "
                          f"notation.md)")
    return files


def copy_new(source, target):
    """Copy the file source to target unless target exists (never replaced); True when copied."""
    content = source.read_bytes()
    try:
        out = open(target, "xb")  # exclusive: fails if the file appeared meanwhile
    except FileExistsError:
        return False
    try:
        with out:
            out.write(content)
    except BaseException:
        target.unlink()  # a partial copy of ours, not the learner's file
        raise
    return True


def copy_course(folder, source=None):
    """Copy the course's files that folder lacks into it (created if missing); return (copied, kept): the
    relative paths copied and those left as they were. Raises CourseError when folder cannot hold them."""
    folder = Path(folder)
    source = source_folder() if source is None else Path(source)
    copied, kept = [], []
    try:
        for name in course_files(source):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (copied if copy_new(source / name, folder / name) else kept).append(name)
    except FileExistsError as e:  # mkdir: a file stands where a folder should be
        raise CourseError(f"{e.filename} is a file, not a folder: choose another folder for the course") from e
    except OSError as e:
        raise CourseError(f"cannot write into {e.filename or folder} ({e.strerror or e}): choose a folder you can "
                          f"write to (mathnn lab FOLDER)") from e
    return copied, kept


def lab_argv(folder, port, open_browser):
    """JupyterLab's command line: serve folder on 127.0.0.1 (its default: a new token, printed in the URL) and open
    the first lesson; --allow-root only when running as root (which JupyterLab otherwise refuses)."""
    folder = Path(folder).absolute()
    argv = ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", f"--ServerApp.root_dir={folder}"]
    argv += [] if open_browser else ["--no-browser"]
    argv += ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return argv + [str(folder / "learner" / lessons()[0].file)]


def start_lab(argv):
    """Run JupyterLab in this process (the kernels then use this Python) until it is stopped; its exit status."""
    from jupyterlab.labapp import LabApp

    LabApp.launch_instance(argv=argv)
    return 0


def lab(args):
    """The `lab` command: copy what DIR lacks, say what was copied and kept, then start JupyterLab (unless
    --copy-only). Errors are printed with what to do; the exit status is then 2."""
    try:
        if not args.copy_only and importlib.util.find_spec("jupyterlab") is None:
            raise CourseError(f"JupyterLab is not installed in this Python ({sys.executable}): "
                              f"{Path(sys.executable).name} -m pip install 'mathnn[notebooks]' (or use --copy-only)")
        copied, kept = copy_course(args.folder)
    except CourseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    folder = Path(args.folder).absolute()
    if copied:
        print(f"copied into {folder}: {', '.join(name.as_posix() for name in copied)}")
    if kept:
        print(f"kept as they are in {folder}: {len(kept)} files you already have (never replaced; to get a fresh "
              f"copy of one, rename yours and run this again)")
    if args.copy_only:
        return 0
    return start_lab(lab_argv(folder, args.port, not args.no_browser))


def port(text):
    """An argparse type: a TCP port number, 1 to 65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to 65535, e.g. 8888)")
    return int(text)


def add_lab_command(commands):
    """Register `lab` on the command line's subparsers (mathnn/cli.py)."""
    p = commands.add_parser("lab", help="copy the learner's edition into DIR (first time) and open it in JupyterLab",
                            description=LAB_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", metavar="DIR", nargs="?", type=Path, default=Path(DEFAULT_FOLDER),
                   help=f"the course's folder (default: {DEFAULT_FOLDER} in the current folder)")
    p.add_argument("--copy-only", action="store_true", help="copy the files DIR lacks, then stop")
    p.add_argument("--port", type=port, default=8888, help="JupyterLab's port (the next free one if taken)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser: the URL is printed")
    p.set_defaults(run=lab)
