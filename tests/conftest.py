"""Shared fixtures: MNIST, loaded once per test session (per xdist worker)."""

import os

import pytest

from mathnn import locations
from mathnn import mnist as mnist_files


def _mnist_available():
    """True when $MATHNN_DATA is set or the default folder (data/, or the user cache) holds the four files."""
    if os.environ.get("MATHNN_DATA"):
        return True
    return all((locations.default_data_dir() / name).is_file() for name in mnist_files.SHA256)


@pytest.fixture(scope="session")
def mnist():
    """{"train": (X, y), "test": (X, y)} from mathnn.load_mnist; skips only when no copy is reachable."""
    if not _mnist_available():
        pytest.skip(
            f"MNIST not available: MATHNN_DATA is unset and {locations.default_data_dir()} lacks the four .gz files "
            f"(set MATHNN_DATA=/path/to/mnist, e.g. ../shared/mnist)"
        )
    return {split: mnist_files.load_mnist(split, download=False) for split in ("train", "test")}


@pytest.fixture(autouse=True)
def _progress_file(tmp_path, monkeypatch):
    """The checkers record progress in a temporary file (MATHNN_PROGRESS), never in the user's own."""
    monkeypatch.setenv("MATHNN_PROGRESS", str(tmp_path / "mathnn-progress.json"))
