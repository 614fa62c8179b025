"""The benchmark scripts stay runnable: each imports cleanly (without PyTorch) and defines main()."""

import runpy
from pathlib import Path

import numpy as np
import pytest

SCRIPTS = sorted((Path(__file__).resolve().parent.parent / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_script_imports_and_has_main(script):
    namespace = runpy.run_path(str(script), run_name="benchmark_under_test")  # runs imports, not main()
    assert callable(namespace.get("main")), f"{script.name} has no main()"


def test_vs_pytorch_times_the_same_training_in_torch(mnist):
    """PyTorch is optional (not a dependency): this runs where it is installed, as in the project's .venv."""
    torch = pytest.importorskip("torch")
    script = next(s for s in SCRIPTS if s.name == "vs_pytorch.py")
    time_torch = runpy.run_path(str(script), run_name="benchmark_under_test")["time_torch"]
    X, y = mnist["train"]
    times = time_torch(torch, X[:, :1000], y[:1000], epochs=2, batch_size=128)
    assert len(times) == 2 and all(t > 0 for t in times)
    assert np.isfinite(times).all()
