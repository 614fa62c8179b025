"""Where mathnn keeps its files: every folder and file path it uses is decided here, and only here.

=================  ==========================  ===========================================================
what               set it with                 otherwise
=================  ==========================  ===========================================================
MNIST's .gz files  ``load_mnist(root=...)``,   ``data/`` in a source checkout, else the per-user cache
                   ``$MATHNN_DATA``            ``$XDG_CACHE_HOME/mathnn`` (by default ``~/.cache/mathnn``)
trained networks   ``$MATHNN_TRAINED``         ``trained/`` in a source checkout, else ``trained/`` in the
                                               per-user cache
your progress      ``$MATHNN_PROGRESS``        ``progress.json`` in ``$XDG_DATA_HOME/mathnn`` (by default
                                               ``~/.local/share/mathnn``; on Windows ``%APPDATA%\\mathnn``)
the course's       (installed with mathnn)     ``notebooks/`` in the installed package (a wheel), else the
notebooks                                      checkout's ``notebooks/``
=================  ==========================  ===========================================================

A source checkout is the repository itself (``pip install -e .`` or running from it); an installed package
(a wheel in site-packages) never writes into its own folder. A relative folder in ``$MATHNN_DATA`` or
``$MATHNN_TRAINED`` is taken from the current working folder (a notebook's kernel works in ``notebooks/``).
"""

import os
import sys
from pathlib import Path

__all__ = ["trained_path"]

PACKAGE = Path(__file__).resolve().parent  # mathnn/, in a checkout or in site-packages
CHECKOUT = PACKAGE.parent  # the repository, when mathnn runs from a source checkout
REPO_DATA = CHECKOUT / "data"
PACKAGED_NOTEBOOKS = PACKAGE / "notebooks"  # the course's notebooks in an installed wheel (setup.py puts them there)


def is_source_checkout(folder):
    """True when folder is a checkout of the mathnn repository (it has pyproject.toml and data/README.md)."""
    return (folder / "pyproject.toml").is_file() and (folder / "data" / "README.md").is_file()


SOURCE_CHECKOUT = is_source_checkout(CHECKOUT)  # False when mathnn is installed into site-packages


def user_cache_dir():
    """The per-user cache: $XDG_CACHE_HOME/mathnn, or ~/.cache/mathnn when XDG_CACHE_HOME is unset or relative."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache") / "mathnn"


# --- MNIST ------------------------------------------------------------------------------------------------------------


def default_data_dir():
    """The folder searched last for MNIST: the repository's data/ in a source checkout, else the per-user
    cache (:func:`user_cache_dir`), never the installed package's folder."""
    return REPO_DATA if SOURCE_CHECKOUT else user_cache_dir()


def data_dirs(root=None):
    """The folders MNIST's files are looked for in, in order: root, $MATHNN_DATA, default_data_dir().

    A relative $MATHNN_DATA is taken from the current working folder and returned absolute. Raises
    NotADirectoryError (its message says what to do) when $MATHNN_DATA names a file or a broken link.
    """
    dirs = [Path(root)] if root is not None else []
    if os.environ.get("MATHNN_DATA"):
        env = Path(os.path.abspath(os.environ["MATHNN_DATA"]))
        if env.exists() and not env.is_dir():
            raise NotADirectoryError(f"MATHNN_DATA={os.environ['MATHNN_DATA']} is a file, not a folder: set "
                                     f"MATHNN_DATA to the folder that holds (or will hold) MNIST's four .gz files")
        if env.is_symlink() and not env.exists():
            raise NotADirectoryError(f"MATHNN_DATA={os.environ['MATHNN_DATA']} is a symbolic link that leads nowhere "
                                     f"(a broken link, or a loop): point MATHNN_DATA at a real folder")
        dirs.append(env)
    dirs.append(default_data_dir())
    return dirs


def relative_data_note():
    """A warning for an error message when $MATHNN_DATA is a relative path, else ''."""
    value = os.environ.get("MATHNN_DATA", "")
    if not value or os.path.isabs(value):
        return ""
    return (
        f" (MATHNN_DATA={value} is a relative path, so it was read from the working folder {os.getcwd()}; "
        f"a notebook's kernel works in notebooks/: set MATHNN_DATA to an absolute path)"
    )


# --- trained networks, progress, the course's notebooks ---------------------------------------------------------------


def trained_path(name="784-10-10"):
    """Where the course keeps a trained network: the file NAME.npz in the folder trained/.

    trained/ is in the repository (git ignores it), or in the per-user cache
    (~/.cache/mathnn/trained) when mathnn is installed without a source checkout, or the folder
    the environment variable MATHNN_TRAINED names (a hub sets one per learner, so that learners
    who share an installation do not share their networks); it is created if missing. Lesson 04
    saves its network there (:func:`mathnn.save_params`), lesson 08 loads it (:func:`mathnn.load_params`).
    """
    if os.environ.get("MATHNN_TRAINED"):
        folder = Path(os.environ["MATHNN_TRAINED"]).expanduser().resolve()
    else:
        folder = (CHECKOUT if SOURCE_CHECKOUT else user_cache_dir()) / "trained"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.npz"


def progress_path():
    """The progress file (:mod:`mathnn.check.progress`): $MATHNN_PROGRESS, else progress.json in the user's
    data folder ($XDG_DATA_HOME/mathnn, by default ~/.local/share/mathnn; on Windows %APPDATA%\\mathnn)."""
    if os.environ.get("MATHNN_PROGRESS"):
        return Path(os.environ["MATHNN_PROGRESS"]).expanduser()
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "mathnn" / "progress.json"


def course_dir():
    """The folder holding the course's learner/NN_name.ipynb and notation.md (``mathnn lab`` copies them): the
    installed package's copy, else the checkout's notebooks/; None when this installation has neither."""
    if PACKAGED_NOTEBOOKS.is_dir():
        return PACKAGED_NOTEBOOKS
    return CHECKOUT / "notebooks" if SOURCE_CHECKOUT else None
