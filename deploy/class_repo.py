"""Publish the learner's edition as a class repository: the git repository a class pulls with nbgitpuller.

    python deploy/class_repo.py DIR            # create DIR (a git repository, branch main) or update it

DIR gets the learner's edition and the notation page, as the course's manifest (mathnn/course.toml) lists them,
laid out so that the notebooks' links work:

    DIR/learner/00_data.ipynb ... DIR/learner/10_regularization.ipynb
    DIR/notation.md

and one commit holding whatever changed (nothing is committed when nothing changed). The complete lessons
(with the solutions) are never copied. Push DIR to where the hub can clone it (a GitHub repository, or a
folder on the hub machine) and hand the class the nbgitpuller link (docs/teaching.md). Run it again after
`make learner` to publish an update: nbgitpuller merges it into each learner's copy and keeps their edits.

Commits need a git identity: git's own configuration, or GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL /
GIT_COMMITTER_NAME / GIT_COMMITTER_EMAIL.
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from mathnn import course

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
BRANCH = "main"


def git(repo, *args):
    """Run one git command in repo; return its stdout. A failure raises CalledProcessError with git's message."""
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def publish(repo, notebooks=NOTEBOOKS, message="The learner's edition, updated"):
    """Copy notebooks/learner/NN_name.ipynb of every lesson of the manifest and notebooks/notation.md into the git
    repository repo (created, on branch main, if missing) and commit them. Returns the new commit's hash, or None
    when nothing changed."""
    repo = Path(repo)
    lessons = [notebooks / "learner" / lesson.file for lesson in course.lessons()]
    missing = [path.name for path in lessons if not path.is_file()]
    if missing:
        raise FileNotFoundError(f"the learner's edition in {notebooks / 'learner'} lacks {', '.join(missing)}: run "
                                "`make learner` first")
    if not (repo / ".git").exists():
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "--quiet", f"--initial-branch={BRANCH}")
    (repo / "learner").mkdir(exist_ok=True)
    for path in lessons:
        shutil.copyfile(path, repo / "learner" / path.name)
    shutil.copyfile(notebooks / "notation.md", repo / "notation.md")
    git(repo, "add", "--all", "learner", "notation.md")
    if not git(repo, "diff", "--cached", "--name-only"):
        return None
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", type=Path, help="the class repository (created if missing)")
    parser.add_argument("-m", "--message", default="The learner's edition, updated", help="the commit message")
    args = parser.parse_args(argv)
    try:
        commit = publish(args.repo, message=args.message)
    except subprocess.CalledProcessError as e:
        print(f"error: {' '.join(e.cmd)} failed: {e.stderr.strip()}", file=sys.stderr)
        return 1
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{args.repo}: {'committed ' + commit[:12] if commit else 'nothing changed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
