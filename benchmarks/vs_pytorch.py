"""mathnn against PyTorch eager mode: the same training epoch, both on one thread, in the same run.

    MATHNN_DATA=../shared/mnist python benchmarks/vs_pytorch.py [--rounds 3] [--num-epochs 5] [--json]

Needs PyTorch (not a dependency of mathnn: ``pip install torch`` in a throw-away venv).
The same network (784-10-10, ReLU, softmax cross-entropy), SGD at lr 0.1, batch 128 in
float32, one shuffle per epoch. mathnn's ``fit`` trains on one BLAS thread;
``torch.set_num_threads(1)`` does the same for PyTorch. Each round times ``--num-epochs`` epochs
of each (after a warm-up epoch), first on the machine as it is, then with one core kept busy
by another process (:func:`mathnn.cli.busy_core`); the figures are medians over all rounds.
Other load on the machine slows both sides: compare the ratio, not the seconds.
"""

import argparse
import os
import statistics
import time

import numpy as np

from mathnn.cli import busy_core, time_epochs, to_json
from mathnn.mnist import load_mnist
from mathnn.optim import SGD


def time_torch(torch, X, y, epochs, batch_size):
    """Seconds of each of ``epochs`` epochs of the same network, loss, optimizer and batching in PyTorch."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 10), torch.nn.ReLU(), torch.nn.Linear(10, 10))
    opt = torch.optim.SGD(model.parameters(), lr=SGD.default_lr)  # as mathnn's fit (time_epochs)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_rows = torch.from_numpy(np.ascontiguousarray(X.T))  # (m, 784)
    labels = torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)
    times = []
    for epoch in range(epochs + 1):  # the first epoch is a warm-up
        start = time.perf_counter()
        perm = torch.randperm(len(labels), generator=gen)
        for s in range(0, len(labels), batch_size):
            idx = perm[s:s + batch_size]
            loss = loss_fn(model(X_rows[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch:
            times.append(time.perf_counter() - start)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--num-epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    import torch  # here, not at the top: the script must import without torch (tests/test_benchmarks.py)

    torch.set_num_threads(1)
    X, y = load_mnist("train")
    times = {"numpy": [], "torch": [], "numpy_busy": [], "torch_busy": []}
    for _ in range(args.rounds):
        times["numpy"] += time_epochs(X, y, args.num_epochs, args.batch_size)
        times["torch"] += time_torch(torch, X, y, args.num_epochs, args.batch_size)
        with busy_core():
            times["numpy_busy"] += time_epochs(X, y, args.num_epochs, args.batch_size)
            times["torch_busy"] += time_torch(torch, X, y, args.num_epochs, args.batch_size)
    s = {name: statistics.median(t) for name, t in times.items()}
    result = {"torch_version": torch.__version__, "batch_size": args.batch_size, "epochs_per_round": args.num_epochs,
              "rounds": args.rounds, "load_average": os.getloadavg()[0],
              **{f"{name}_seconds_per_epoch": seconds for name, seconds in s.items()},
              "speedup_vs_torch": s["torch"] / s["numpy"], "speedup_vs_torch_busy": s["torch_busy"] / s["numpy_busy"],
              "numpy_busy_slowdown": s["numpy_busy"] / s["numpy"]}
    if args.json:
        print(to_json(result))
        return
    print(f"784-10-10, batch {args.batch_size}, float32, one thread each, median of {args.rounds} x {args.num_epochs} "
          f"epochs (load average {result['load_average']:.1f})")
    print(f"              mathnn (numpy)   PyTorch {torch.__version__} eager   mathnn faster by")
    print(f"quiet         {s['numpy']:.4f} s/epoch    {s['torch']:.4f} s/epoch          "
          f"{result['speedup_vs_torch']:.2f}x")
    print(f"one core busy {s['numpy_busy']:.4f} s/epoch    {s['torch_busy']:.4f} s/epoch          "
          f"{result['speedup_vs_torch_busy']:.2f}x")


if __name__ == "__main__":
    main()
