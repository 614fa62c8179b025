"""Memory of N notebook kernels that each load MNIST as the lessons do, started the way a hub starts them.

    MATHNN_DATA=/path/to/mnist .venv/bin/python benchmarks/hub_memory.py [--kernels 10] [--no-data] [--json]

Each kernel is the python3 kernel of this Python, started with jupyter_client's KernelManager (as
JupyterHub's single-user servers do) in an empty working folder, and runs what a lesson runs:
``import mathnn as mn; s = mn.load_mnist_splits()``, then touches every pixel of X_train, X_val and
X_test (``float(s.X_train.sum())`` ...), and reports how long its first and its second (cached) call of
load_mnist_splits took. With --no-data it only imports numpy and mathnn. While all
N kernels are alive, each one's /proc/PID/smaps_rollup is read:

* private MB = Private_Clean + Private_Dirty: memory no other process shares, the cost of one more learner
  (MB here = MiB, 2**20 bytes);
* PSS MB: the kernel's fair share (each shared page divided among the processes that map it);
  the sum of PSS over the kernels is what N learners cost together.

The kernels inherit this process's environment: to measure another copy of mathnn, put it first
on PYTHONPATH (the table names the mathnn each kernel imported). Printed, not asserted: the
numbers depend on the machine.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

LESSON = """
import json, os, time
import numpy as np
import mathnn as mn
start = time.perf_counter()
s = mn.load_mnist_splits()
first = time.perf_counter() - start
start = time.perf_counter()
mn.load_mnist_splits()
second = time.perf_counter() - start
total = float(s.X_train.sum()) + float(s.X_val.sum()) + float(s.X_test.sum())  # touch every pixel
print(json.dumps({"pid": os.getpid(), "mathnn": mn.__file__, "first_load_s": first, "second_load_s": second}))
"""

IMPORT_ONLY = """
import json, os
import numpy as np
import mathnn as mn
print(json.dumps({"pid": os.getpid(), "mathnn": mn.__file__, "first_load_s": None, "second_load_s": None}))
"""

FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty", "Shared_Clean")


def smaps_rollup(pid):
    """{field: kB} of /proc/PID/smaps_rollup for the FIELDS above."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in FIELDS:
                values[key] = int(rest.split()[0])
    return values


def run_in_kernel(client, code, timeout):
    """Execute code in a kernel; return what it printed on stdout (raise on an error in the kernel)."""
    out = []

    def hook(msg):
        if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise RuntimeError("\n".join(msg["content"]["traceback"]))

    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    if reply["content"]["status"] != "ok":
        raise RuntimeError(f"kernel: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    return "".join(out)


def measure(num_kernels, code, timeout=300):
    """Start num_kernels kernels, run code in each (one after the other, all kept alive), then read their memory."""
    from jupyter_client import KernelManager

    managers, rows = [], []
    with tempfile.TemporaryDirectory() as cwd:  # not the repository: its mathnn/ would shadow PYTHONPATH
        try:
            for _ in range(num_kernels):
                km = KernelManager(kernel_name="python3")
                km.start_kernel(cwd=cwd, env=dict(os.environ), stderr=subprocess.DEVNULL)  # its TCP warning
                managers.append(km)
                client = km.client()
                client.start_channels()
                client.wait_for_ready(timeout=timeout)
                rows.append(json.loads(run_in_kernel(client, code, timeout).strip().splitlines()[-1]))
                client.stop_channels()
            time.sleep(0.5)
            for row in rows:
                mem = smaps_rollup(row["pid"])
                row["private_mb"] = (mem["Private_Clean"] + mem["Private_Dirty"]) / 1024
                row["pss_mb"] = mem["Pss"] / 1024
                row["rss_mb"] = mem["Rss"] / 1024
        finally:
            for km in managers:
                km.shutdown_kernel(now=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernels", type=int, default=10, help="how many kernels to start (default 10)")
    parser.add_argument("--no-data", action="store_true", help="only import numpy and mathnn, load nothing")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.kernels < 1:
        parser.error("--kernels must be at least 1")

    rows = measure(args.kernels, IMPORT_ONLY if args.no_data else LESSON)
    summary = {
        "kernels": args.kernels,
        "what": "import numpy, mathnn" if args.no_data else "load_mnist_splits + touch every pixel",
        "mathnn": sorted({row["mathnn"] for row in rows}),
        "private_mb_per_kernel_mean": sum(r["private_mb"] for r in rows) / len(rows),
        "private_mb_per_kernel_max": max(r["private_mb"] for r in rows),
        "private_mb_sum": sum(r["private_mb"] for r in rows),
        "pss_mb_sum": sum(r["pss_mb"] for r in rows),
        "kernels_detail": rows,
    }
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{args.kernels} kernels, {summary['what']}; mathnn from {', '.join(summary['mathnn'])}")
    print(f"{'kernel':>6} {'pid':>8} {'private MB':>11} {'PSS MB':>8} {'RSS MB':>8} "
          f"{'1st load s':>11} {'2nd load s':>11}")
    for i, r in enumerate(rows, 1):
        loads = "" if r["first_load_s"] is None else f"{r['first_load_s']:11.3f} {r['second_load_s']:11.6f}"
        print(f"{i:>6} {r['pid']:>8} {r['private_mb']:11.1f} {r['pss_mb']:8.1f} {r['rss_mb']:8.1f} {loads}")
    print(f"{'sum':>6} {'':>8} {summary['private_mb_sum']:11.1f} {summary['pss_mb_sum']:8.1f}")
    print(f"private MB per kernel: mean {summary['private_mb_per_kernel_mean']:.1f}, "
          f"max {summary['private_mb_per_kernel_max']:.1f}; PSS sum {summary['pss_mb_sum']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
