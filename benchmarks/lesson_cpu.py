"""CPU and memory of one learner running a lesson: to size a hub's cores (docs/teaching.md, "What a hub needs").

    MATHNN_DATA=/path/to/shared/mnist .venv/bin/python benchmarks/lesson_cpu.py notebooks/0*.ipynb notebooks/10_*.ipynb

Each notebook runs top to bottom in a fresh python3 kernel (nbclient, as Run All does; errors are allowed, so
the learner's edition runs past its stubs), with one BLAS thread (OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=1, as
the hub sets). Printed for each: the kernel's CPU seconds (user + system, from /proc/PID/stat), the wall
seconds, and its anonymous memory (/proc/PID/smaps_rollup, sampled every 0.1 s): the heap and the arrays the
kernel made, memory that one learner costs and no other process can share: its peak (the memory limit must
allow it) and its value at the end (what the kernel keeps while the learner goes on working in it). Not
counted: file pages such as the libraries and the memory-mapped MNIST of the shared folder, which all kernels
share (a kernel alone on a machine would show them as Private_Clean). Printed, not asserted: the numbers
depend on the machine and on how busy it is (on a loaded machine CPU seconds grow too: compare lessons measured
in one run). --cells S also lists the code cells that took more than S CPU seconds, --save DIR keeps the executed
notebooks (outputs included) to read next to the numbers.
"""

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "MPLBACKEND": "agg"}


def cpu_seconds(pid):
    """User + system CPU seconds of a process (None once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def anonymous_mb(pid):
    """Anonymous memory of a process (heap, arrays; not file pages), in MB (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class PeakSampler(threading.Thread):
    """Samples anonymous_mb(pid) every 0.1 s until stopped; .peak is the largest value seen."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0.0, threading.Event()

    def run(self):
        while not self.stopped.wait(0.1):
            self.peak = max(self.peak, anonymous_mb(self.pid))


def run(path, timeout=1200, save=None):
    """{notebook, cpu_s, wall_s, peak_anon_mb, end_anon_mb, errors} of one run of the notebook at path.

    save: a folder to write the executed notebook into (with its outputs), to read them next to the figures."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.monotonic()
    with client.setup_kernel(env={**os.environ, **ENV}):
        pid = client.km.provisioner.process.pid
        sampler = PeakSampler(pid)
        sampler.start()
        cells = []  # (index, CPU seconds) of every code cell
        for index, cell in enumerate(client.nb.cells):
            before = cpu_seconds(pid)
            client.execute_cell(cell, index)
            if cell.cell_type == "code":
                cells.append((index, round(cpu_seconds(pid) - before, 2)))
        cpu, end = cpu_seconds(pid), anonymous_mb(pid)
        sampler.stopped.set()
        sampler.join()
    errors = sum(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, save / Path(path).name)
    return {"notebook": str(path), "cpu_s": round(cpu, 1), "wall_s": round(time.monotonic() - start, 1),
            "peak_anon_mb": round(max(sampler.peak, end)), "end_anon_mb": round(end), "errors": errors,
            "cell_cpu_s": cells}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--json", action="store_true", help="print one JSON object per notebook")
    parser.add_argument("--save", type=Path, metavar="DIR", help="also write each executed notebook into DIR")
    parser.add_argument("--cells", type=float, metavar="S", help="also list the cells over S CPU seconds")
    args = parser.parse_args(argv)
    total = 0.0
    for path in args.notebooks:
        result = run(path, save=args.save)
        total += result["cpu_s"]
        if args.json:
            print(json.dumps(result), flush=True)
        else:
            print(f"{path.name:<32} CPU {result['cpu_s']:7.1f} s   wall {result['wall_s']:7.1f} s   "
                  f"anonymous MB: peak {result['peak_anon_mb']:5d}, at the end {result['end_anon_mb']:5d}   "
                  f"errors {result['errors']}", flush=True)
            if args.cells is not None:
                print("    " + ", ".join(f"cell {i}: {s} s" for i, s in result["cell_cpu_s"] if s > args.cells))
    if not args.json:
        print(f"{'all':<32} CPU {total:7.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
