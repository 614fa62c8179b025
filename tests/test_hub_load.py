"""benchmarks/hub_load.py measures what it says: on tiny notebooks whose memory and failures are known."""

import asyncio
import runpy
from pathlib import Path

import nbformat

hub_load = runpy.run_path(str(Path(__file__).resolve().parent.parent / "benchmarks" / "hub_load.py"),
                          run_name="hub_load_under_test")


def notebook(path, *cells, tags=()):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    for i in tags:
        nb.cells[i].metadata["tags"] = ["raises-exception"]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def test_memory_cpu_and_wall_of_each_learner(tmp_path):
    path = notebook(tmp_path / "load.ipynb",
                    "import numpy as np\nx = np.ones(80 * 2**20 // 8)  # 80 MB, every page touched",
                    "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass",
                    "import time; time.sleep(0.5)")  # the sampler sees x in place
    result = asyncio.run(hub_load["measure"](path, 2, timeout=60))
    assert result["failures"] == 0 and len(result["rows"]) == 2
    for row in result["rows"]:
        assert 80 <= row["peak_anon_mb"] < 400, row
        assert row["cpu_s"] >= 0.5, row
        assert row["wall_s"] >= 1.0, row
    assert result["peak_anon_mb_sum"] >= 160
    assert result["machine"]["cores"] >= 1


def test_an_error_is_a_failure_unless_the_cell_expects_it(tmp_path):
    path = notebook(tmp_path / "errors.ipynb", "raise NotImplementedError()", "1 / 0", tags=[0])
    result = asyncio.run(hub_load["measure"](path, 1, timeout=60))
    assert result["failures"] == 1
    assert result["rows"][0]["failure"] == "cell 1: ZeroDivisionError: division by zero"
