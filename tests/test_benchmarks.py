"""The benchmark scripts stay runnable: each imports cleanly and defines main()."""

import runpy
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parent.parent / "benchmarks").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
def test_benchmark_script_imports_and_has_main(script):
    namespace = runpy.run_path(str(script), run_name="benchmark_under_test")  # runs imports, not main()
    assert callable(namespace.get("main")), f"{script.name} has no main()"
