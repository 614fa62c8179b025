"""Command line: ``python -m mathnn train`` and ``python -m mathnn bench``.

train  trains the 784-10-10 network on MNIST and reports test accuracy.
bench  times training epochs (batch 128, float32) and, when PyTorch is
       installed, the same network in PyTorch eager mode in the same run.
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

from mathnn.data import MNISTError, load_mnist, load_mnist_splits
from mathnn.network import SCHEMES, accuracy, init_params
from mathnn.optim import OPTIMIZERS, cosine_schedule
from mathnn.train import fit, train_and_report

# The default recipe: the best we found for the 784-10-10 network in a few seconds
# (benchmarks/recipe.md lists the runs that chose it).
DEFAULTS = dict(epochs=20, batch_size=16, lr=0.2, optimizer="sgd", init="he", seed=0)


def train(args):
    """Train with the given recipe; print progress (or one JSON object with --json)."""
    lr_schedule = cosine_schedule(args.lr, args.epochs) if args.schedule == "cosine" else None

    def progress(h):
        if not args.json and not h.diverged:  # a run that diverges in epoch 1 has no epoch to print
            print(f"epoch {h.epoch[-1]:3d}  train loss {h.train_loss[-1]:.4f}  "
                  f"val loss {h.val_loss[-1]:.4f}  val acc {h.val_acc[-1]:.4f}", flush=True)

    history = train_and_report(args.lr, args.init, args.epochs, args.batch_size, args.seed, optimizer=args.optimizer,
                               lr_schedule=lr_schedule, callback=progress)
    X_test, y_test = load_mnist_splits()[4:]
    with np.errstate(all="ignore"):  # after a divergence the weights may be inf/nan
        test_accuracy = accuracy(history.params, X_test, y_test)
    result = {
        "test_accuracy": test_accuracy,
        "train_seconds": history.seconds[-1] if history.seconds else 0.0,
        "epochs": len(history.epoch),
        "diverged": history.diverged,
        "recipe": {k: getattr(args, k) for k in (*DEFAULTS, "schedule")},
    }
    if args.json:
        print(json.dumps(result))
    else:
        if history.diverged:
            print(history.diverged, file=sys.stderr)
        print(f"test accuracy {result['test_accuracy']:.4f} after {result['epochs']} epochs, "
              f"{result['train_seconds']:.2f} s of training")
    return 1 if history.diverged else 0


def train_flops(sizes, m):
    """Floating-point operations of one epoch: forward, dW, and dA for every layer but the first."""
    total = 0
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        matmuls = 3 if l > 0 else 2
        total += matmuls * 2 * m * n_in * n_out
    return total


def time_numpy(X, y, epochs, batch_size):
    params = init_params((784, 10, 10), "he", np.random.default_rng(0))
    rng = np.random.default_rng(0)
    fit(params, X, y, rng=rng, lr=0.1, num_epochs=1, batch_size=batch_size)  # warm-up
    history = fit(params, X, y, rng=rng, lr=0.1, num_epochs=epochs, batch_size=batch_size)
    return np.diff([0.0] + history.seconds).tolist()


def time_torch(torch, X, y, epochs, batch_size):
    """The same network, loss, optimizer and batching in PyTorch eager mode."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 10), torch.nn.ReLU(), torch.nn.Linear(10, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
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


def bench(args):
    """Seconds per epoch and GFLOP/s of training; PyTorch's time and the ratio if available."""
    X, y = load_mnist("train")
    flops = train_flops((784, 10, 10), X.shape[1])
    seconds = statistics.median(time_numpy(X, y, args.epochs, args.batch_size))
    result = {"batch_size": args.batch_size, "epochs_timed": args.epochs,
              "numpy_seconds_per_epoch": seconds, "numpy_gflops": flops / seconds / 1e9}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch_seconds = statistics.median(time_torch(torch, X, y, args.epochs, args.batch_size))
        result.update(torch_version=torch.__version__, torch_threads=torch.get_num_threads(),
                      torch_seconds_per_epoch=torch_seconds,
                      torch_gflops=flops / torch_seconds / 1e9, speedup_vs_torch=torch_seconds / seconds)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"784-10-10, batch {args.batch_size}, float32, median of {args.epochs} epochs")
    print(f"numpy (mathnn): {seconds:.4f} s/epoch, {result['numpy_gflops']:.1f} GFLOP/s")
    if torch is None:
        print("PyTorch is not installed: no comparison (pip install torch in a throw-away venv)")
    else:
        print(f"PyTorch {torch.__version__} eager: {result['torch_seconds_per_epoch']:.4f} s/epoch, "
              f"{result['torch_gflops']:.1f} GFLOP/s")
        print(f"mathnn is {result['speedup_vs_torch']:.2f}x faster than PyTorch eager")
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m mathnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("train", help="train the 784-10-10 network on MNIST")
    p.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
    p.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"])
    p.add_argument("--lr", type=float, default=DEFAULTS["lr"])
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=DEFAULTS["optimizer"])
    p.add_argument("--init", choices=SCHEMES, default=DEFAULTS["init"])
    p.add_argument("--schedule", choices=("constant", "cosine"), default="cosine")
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=train)
    p = commands.add_parser("bench", help="time training epochs (and PyTorch, if installed)")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=bench)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except MNISTError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
