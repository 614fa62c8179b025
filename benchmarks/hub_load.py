"""A class on one machine: N learners press Run All on the same lesson at the same moment.

    MATHNN_DATA=/path/to/shared/mnist .venv/bin/python benchmarks/hub_load.py notebooks/04_training.ipynb --learners 8

Starts N python3 kernels with jupyter_client's AsyncKernelManager (as each learner's JupyterLab server
does on a hub), each in the lesson's folder with one BLAS thread (OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1,
as deploy/jupyterhub_config.py sets) and its own MATHNN_TRAINED folder; once all N are up, runs the lesson
top to bottom in all of them at once (nbclient, cell by cell, as Run All does). Measured:

* per learner: wall seconds from the common start to their last cell, and the kernel's CPU seconds
  (user + system, /proc/PID/stat) spent on the lesson;
* memory: each kernel's anonymous memory (/proc/PID/smaps_rollup "Anonymous": the arrays and heap it made,
  what one more learner costs; the memory-mapped shared MNIST and the libraries are file pages, shared by
  all kernels, not counted), sampled every 0.2 s: the largest per kernel, and the largest sum over the N
  kernels at one instant (what the machine must hold when the class runs the lesson together);
* failures: a kernel that died, or an error in a cell not tagged raises-exception (the learner's edition
  tags its stubs: there the exercises' NotImplementedError is expected, not a failure).

The machine, its core count and its load average before the run are printed with the figures: a machine
shared with other work gives slower walls (CPU seconds change less). Printed, not asserted.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import runpy
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

# one BLAS thread per kernel, as the hub sets, and how a process's CPU and memory are read: lesson_cpu.py's
_LESSON_CPU = runpy.run_path(str(Path(__file__).with_name("lesson_cpu.py")), run_name="lesson_cpu")
ENV, cpu_seconds, anonymous_mb = _LESSON_CPU["ENV"], _LESSON_CPU["cpu_seconds"], _LESSON_CPU["anonymous_mb"]
SAMPLE_S = 0.2


class Sampler(threading.Thread):
    """Every SAMPLE_S seconds: each pid's anonymous MB; keeps each one's peak and the peak of their sum."""

    def __init__(self, pids):
        super().__init__(daemon=True)
        self.pids, self.stopped = pids, threading.Event()
        self.peak = dict.fromkeys(pids, 0.0)
        self.peak_sum = 0.0

    def run(self):
        while not self.stopped.wait(SAMPLE_S):
            now = {pid: anonymous_mb(pid) for pid in self.pids}
            for pid, mb in now.items():
                self.peak[pid] = max(self.peak[pid], mb)
            self.peak_sum = max(self.peak_sum, sum(now.values()))


def machine():
    """The machine the figures come from: CPU model, cores, memory, load average before the run."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {"cpu": model, "cores": os.cpu_count(), "memory_gb": round(memory_gb, 1),
            "load_average_1min_before": os.getloadavg()[0], "python": platform.python_version()}


async def run_lesson(client, cells, start):
    """Run every cell of one learner's notebook; return (wall seconds since start, failure or None)."""
    for index, cell in enumerate(cells):
        try:
            await client.async_execute_cell(cell, index)
        except DeadKernelError:
            return time.monotonic() - start, f"the kernel died at cell {index}"
        except CellExecutionError as e:
            if "raises-exception" not in cell.metadata.get("tags", []):
                return time.monotonic() - start, f"cell {index}: {e.ename}: {e.evalue}"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors and "raises-exception" not in cell.metadata.get("tags", []):
            return time.monotonic() - start, f"cell {index}: {errors[0]['ename']}: {errors[0]['evalue']}"
    return time.monotonic() - start, None


async def measure(path, learners, timeout):
    """Start `learners` kernels, then run the notebook at path in all of them at once; the figures."""
    clients, pids = [], []
    async with contextlib.AsyncExitStack() as stack:
        trained = stack.enter_context(tempfile.TemporaryDirectory())
        for i in range(learners):
            client = NotebookClient(nbformat.read(path, as_version=4), timeout=timeout, kernel_name="python3",
                                    allow_errors=True, resources={"metadata": {"path": str(path.parent)}})
            env = {**os.environ, **ENV, "MATHNN_TRAINED": str(Path(trained) / f"learner{i}")}
            await stack.enter_async_context(client.async_setup_kernel(env=env))
            clients.append(client)
            pids.append(client.km.provisioner.process.pid)
        sampler = Sampler(pids)
        sampler.start()
        cpu_before = [cpu_seconds(pid) for pid in pids]
        start = time.monotonic()
        outcomes = await asyncio.gather(*(run_lesson(c, c.nb.cells, start) for c in clients))
        cpu_after = [cpu_seconds(pid) for pid in pids]
        sampler.stopped.set()
        sampler.join()
    rows = [{"learner": i + 1, "wall_s": round(wall, 1),
             "cpu_s": None if after is None else round(after - before, 1),
             "peak_anon_mb": round(sampler.peak[pid]), "failure": failure}
            for i, ((wall, failure), pid, before, after) in enumerate(zip(outcomes, pids, cpu_before, cpu_after))]
    cpus = [r["cpu_s"] for r in rows if r["cpu_s"] is not None]
    return {"notebook": str(path), "learners": learners, "machine": machine(), "rows": rows,
            "wall_s_max": max(r["wall_s"] for r in rows), "wall_s_mean": round(sum(r["wall_s"] for r in rows)
                                                                                / len(rows), 1),
            "cpu_s_sum": round(sum(cpus), 1), "cpu_s_mean": round(sum(cpus) / max(len(cpus), 1), 1),
            "peak_anon_mb_max": max(r["peak_anon_mb"] for r in rows), "peak_anon_mb_sum": round(sampler.peak_sum),
            "failures": sum(r["failure"] is not None for r in rows)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, help="the lesson every learner runs")
    parser.add_argument("--learners", type=int, default=8, help="how many kernels run it at once (default 8)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds one cell may take (default 1800)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    if args.learners < 1:
        parser.error("--learners must be at least 1")
    if not args.notebook.is_file():
        parser.error(f"{args.notebook} is not a notebook file")
    result = asyncio.run(measure(args.notebook.resolve(), args.learners, args.timeout))
    if args.json:
        print(json.dumps(result))
        return 1 if result["failures"] else 0
    m = result["machine"]
    print(f"{args.notebook.name}, {args.learners} learners at once; {m['cpu']}, {m['cores']} cores, "
          f"{m['memory_gb']} GB, load average {m['load_average_1min_before']:.2f} before")
    print(f"{'learner':>7} {'wall s':>8} {'CPU s':>7} {'peak anon MB':>13}  failure")
    for r in result["rows"]:
        print(f"{r['learner']:>7} {r['wall_s']:8.1f} {r['cpu_s'] or 0:7.1f} {r['peak_anon_mb']:13d}  "
              f"{r['failure'] or ''}")
    print(f"wall: mean {result['wall_s_mean']} s, last learner {result['wall_s_max']} s; CPU: {result['cpu_s_sum']} s "
          f"in all ({result['cpu_s_mean']} per learner); anonymous memory: peak {result['peak_anon_mb_max']} MB "
          f"per kernel, {result['peak_anon_mb_sum']} MB for all at once; failures: {result['failures']}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
