"""Command line: ``python -m mathnn train``, ``python -m mathnn bench``, ``python -m mathnn data prepare DIR``.

train         trains the 784-10-10 network (or --sizes 784,128,10 ...) on MNIST and reports test accuracy.
bench         times training epochs (batch 128, float32), on a quiet machine and with
              one core kept busy by another process (benchmarks/vs_pytorch.py compares PyTorch).
data prepare  for an instructor: turns DIR into a class's shared, read-only MNIST folder, once.
"""

import argparse
import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from mathnn.course import add_lab_command
from mathnn.data import load_mnist_splits
from mathnn.mnist import MNISTError, load_mnist
from mathnn.network import INITS, accuracy, init_params
from mathnn.optim import OPTIMIZERS, cosine_schedule
from mathnn.shared import prepare_shared_folder
from mathnn.train import CHANCE, fit, train_mnist

# The default recipe: the best median validation accuracy over seeds 0-4 that we found for the
# 784-10-10 network in a few seconds (benchmarks/recipe.md lists the runs that chose it). Its lr, 0.15, belongs to
# the recipe (SGD, batch 32, 30 epochs, the peak of a cosine schedule), not to SGD: with --optimizer momentum or adam
# and no --lr, the optimizer's own default is used (its default_lr, as fit does), see recipe_lr.
DEFAULTS = dict(sizes=(784, 10, 10), num_epochs=30, batch_size=32, lr=0.15, optimizer="sgd", init="he", seed=0,
                schedule="cosine")


def recipe_lr(optimizer):
    """The learning rate of ``train`` without --lr: the recipe's for the recipe's optimizer (SGD), else that
    optimizer's default (:attr:`mathnn.optim.Adam.default_lr`, ...), which the recipe was not chosen for."""
    return DEFAULTS["lr"] if optimizer == DEFAULTS["optimizer"] else OPTIMIZERS[optimizer].default_lr


def train(args):
    """Train with the given recipe; print progress (or one JSON object with --json)."""
    if args.lr is None:
        args.lr = recipe_lr(args.optimizer)
    lr_schedule = cosine_schedule(args.lr, args.num_epochs) if args.schedule == "cosine" else None

    def progress(h):
        if not args.json and not h.diverged:  # a run that diverges in epoch 1 has no epoch to print
            print(f"epoch {h.epoch[-1]:3d}  train loss {h.train_loss[-1]:.4f}  "
                  f"val loss {h.val_loss[-1]:.4f}  val acc {h.val_acc[-1]:.4f}", flush=True)

    params, history = train_mnist(lr=args.lr, init=args.init, num_epochs=args.num_epochs, batch_size=args.batch_size,
                                  seed=args.seed, sizes=args.sizes, optimizer=args.optimizer,
                                  lr_schedule=lr_schedule, callback=progress)
    splits = load_mnist_splits()
    X_test, y_test = splits.X_test, splits.y_test
    with np.errstate(all="ignore"):  # after a divergence the weights may be inf/nan
        test_accuracy = accuracy(params, X_test, y_test)
    result = {
        "test_accuracy": test_accuracy,
        "val_accuracy": history.val_acc[-1] if history.val_acc else None,
        "train_seconds": history.cumulative_seconds[-1] if history.cumulative_seconds else 0.0,
        "epochs": len(history.epoch),
        "diverged": history.diverged,
        "failed": failure(history, test_accuracy),
        "recipe": {k: getattr(args, k) for k in DEFAULTS},
    }
    if args.json:
        print(to_json(result))
    else:
        if result["failed"]:
            print(result["failed"], file=sys.stderr)
        print(f"test accuracy {result['test_accuracy']:.4f} after {result['epochs']} epochs, "
              f"{result['train_seconds']:.2f} s of training")
    return 1 if result["failed"] else 0


def failure(history, test_accuracy):
    """Why a finished run counts as failed (its JSON's "failed", and exit code 1), or None: it diverged, or it
    ended no better than guessing (test accuracy below CHANCE: dead ReLUs after too large a learning rate)."""
    if history.diverged:
        return history.diverged
    if not test_accuracy >= CHANCE:  # NaN too
        return (f"test accuracy {test_accuracy:.3f} is no better than guessing (below {CHANCE}): the network did "
                f"not learn; usually the learning rate is too large (its ReLUs died): try a smaller --lr")
    return None


def train_flops(sizes, m):
    """Floating-point operations of one epoch: forward, dW, and dA for every layer but the first."""
    total = 0
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        matmuls = 3 if l > 0 else 2
        total += matmuls * 2 * m * n_in * n_out
    return total


def time_epochs(X, y, num_epochs, batch_size):
    """Seconds of each of ``num_epochs`` training epochs of the 784-10-10 (batch_size, float32), after a warm-up one.

    fit trains with one BLAS thread (see :func:`mathnn.train.fit`).
    """
    params = init_params((784, 10, 10), "he", np.random.default_rng(0))
    rng = np.random.default_rng(0)
    fit(params, X, y, rng=rng, num_epochs=1, batch_size=batch_size)  # warm-up; SGD at its default lr (0.1)
    history = fit(params, X, y, rng=rng, num_epochs=num_epochs, batch_size=batch_size)
    return np.diff([0.0] + history.cumulative_seconds).tolist()


BUSY_LOOP = "import time\nend = time.monotonic() + {seconds}\nwhile time.monotonic() < end:\n    pass\n"


@contextlib.contextmanager
def busy_core(seconds=600):
    """Keep one CPU core busy while the block runs: a Python process spinning a loop, as a
    notebook kernel or a browser tab does while a lesson trains. The process stops by itself
    after ``seconds`` at the latest and is killed when the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", BUSY_LOOP.format(seconds=seconds)])
    try:
        time.sleep(0.2)  # let it start spinning
        yield proc
    finally:
        proc.kill()
        proc.wait()


def bench(args):
    """Seconds per epoch and GFLOP/s of training, on a quiet machine and with one busy core."""
    X, y = load_mnist("train")
    flops = train_flops((784, 10, 10), X.shape[1])
    seconds = statistics.median(time_epochs(X, y, args.num_epochs, args.batch_size))
    with busy_core():
        busy_seconds = statistics.median(time_epochs(X, y, args.num_epochs, args.batch_size))
    result = {"batch_size": args.batch_size, "epochs_timed": args.num_epochs, "blas_threads": 1,
              "numpy_seconds_per_epoch": seconds, "numpy_gflops": flops / seconds / 1e9,
              "busy_core_seconds_per_epoch": busy_seconds, "busy_core_slowdown": busy_seconds / seconds}
    if args.json:
        print(to_json(result))
        return 0
    print(f"784-10-10, batch {args.batch_size}, float32, one BLAS thread, median of {args.num_epochs} epochs")
    print(f"numpy (mathnn): {seconds:.4f} s/epoch, {result['numpy_gflops']:.1f} GFLOP/s")
    print(f"with one core kept busy by another process: {busy_seconds:.4f} s/epoch "
          f"({result['busy_core_slowdown']:.2f}x)")
    print("PyTorch comparison: python benchmarks/vs_pytorch.py (needs torch)")
    return 0


PREPARE_HELP = """\
For an instructor: make DIR the MNIST folder a whole class shares (on a JupyterHub, for example).
It checks the four official .gz files in DIR (SHA-256; the missing ones are downloaded unless
--no-download) and writes the decompressed float32 copies (mnist-*-images-float32.npy, each with a
.json sidecar recording its SHA-256), readable by everyone. Then make DIR read-only
(chmod -R a-w DIR) and give every learner MATHNN_DATA=DIR: their kernels map those files and
share one copy of MNIST in memory (benchmarks/hub_memory.py measured 45 MB private per kernel
instead of 254), and nothing is written into DIR. Running it again keeps valid copies and
replaces damaged ones.
"""


def prepare(args):
    """Turn a folder into a shared MNIST folder (see PREPARE_HELP); print what it holds."""
    folder = Path(args.folder).resolve()  # MATHNN_DATA must be absolute: kernels run in other folders
    for path in prepare_shared_folder(folder, download_ok=not args.no_download):
        print(f"ok  {path}  ({path.stat().st_size:,} bytes)")
    print(f"{folder} is ready: make it read-only (chmod -R a-w {folder}) and set MATHNN_DATA={folder} "
          f"for every learner")
    return 0


def to_json(result):
    """One line of strict JSON: a NaN or infinite number becomes null (JSON has neither)."""
    def clean(value):
        if isinstance(value, dict):
            return {key: clean(v) for key, v in value.items()}
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return value
    return json.dumps(clean(result), allow_nan=False)


def number(kind, what, ok):
    """An argparse type: text -> a finite number of ``kind`` (int or float) for which ok(value) holds."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not (math.isfinite(value) and ok(value)):
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}")
        return value
    return parse


POSITIVE_INT = number(int, "a positive integer (1, 2, ...)", lambda value: value >= 1)
SEED = number(int, "a seed: an integer >= 0", lambda value: value >= 0)
POSITIVE_FLOAT = number(float, "a positive finite number (e.g. 0.1)", lambda value: value > 0)


def SIZES(text):
    """An argparse type: "784,128,10" -> (784, 128, 10): 784 inputs, hidden sizes, 10 classes."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of sizes, e.g. 784,128,10") from None
    if len(sizes) < 2 or sizes[0] != 784 or sizes[-1] != 10 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: sizes start with 784 (the pixels), end with 10 (the digits) "
                                         f"and are all >= 1, e.g. 784,10,10 or 784,128,10")
    return sizes


class Parser(argparse.ArgumentParser):
    """argparse, except that with --json a usage error is one JSON object on stdout too."""

    json_errors = False

    def error(self, message):
        if Parser.json_errors:
            print(to_json({"error": f"{self.prog}: {message}"}))
        super().error(message)  # the usage and the message on stderr, exit code 2


def main(argv=None):
    """Run one command; return its exit code. With --json, stdout holds one JSON object whatever happens
    ({"error": ...} and a non-zero code on failure); Ctrl+C and a closed output pipe end with one line."""
    argv = sys.argv[1:] if argv is None else list(argv)
    Parser.json_errors = "--json" in argv
    try:
        return run(argv)
    except KeyboardInterrupt:
        return stop(130, "interrupted (Ctrl+C); nothing was saved", "python -m mathnn: ")
    except BrokenPipeError:  # e.g. `python -m mathnn train | head -1`: the reader left
        with contextlib.suppress(OSError):  # no second error when Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("python -m mathnn: output closed early (broken pipe); stopped", file=sys.stderr)
        return 141


def stop(code, message, prefix="error: "):
    """End with one line on stderr, prefix + message (and with --json, {"error": message} on stdout); return
    the exit code."""
    if Parser.json_errors:
        with contextlib.suppress(OSError):
            print(to_json({"error": message}), flush=True)
    print(prefix + message, file=sys.stderr)
    return code


def run(argv):
    parser = Parser(prog="python -m mathnn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("train", help="train the 784-10-10 network on MNIST")
    p.add_argument("--sizes", type=SIZES, default=DEFAULTS["sizes"], help="layer sizes, e.g. 784,128,10")
    p.add_argument("--num-epochs", type=POSITIVE_INT, default=DEFAULTS["num_epochs"])
    p.add_argument("--batch-size", type=POSITIVE_INT, default=DEFAULTS["batch_size"])
    p.add_argument("--lr", type=POSITIVE_FLOAT, default=None,
                   help=f"learning rate (default: {DEFAULTS['lr']} with sgd, the recipe's; else the optimizer's "
                        f"own, e.g. adam {OPTIMIZERS['adam'].default_lr})")
    p.add_argument("--optimizer", choices=tuple(OPTIMIZERS), default=DEFAULTS["optimizer"])
    p.add_argument("--init", choices=INITS, default=DEFAULTS["init"])
    p.add_argument("--schedule", choices=("constant", "cosine"), default=DEFAULTS["schedule"])
    p.add_argument("--seed", type=SEED, default=DEFAULTS["seed"])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=train)
    p = commands.add_parser("bench", help="time training epochs, on a quiet machine and with one busy core")
    p.add_argument("--num-epochs", type=POSITIVE_INT, default=5)
    p.add_argument("--batch-size", type=POSITIVE_INT, default=128)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=bench)
    p = commands.add_parser("data", help="MNIST for a class: data prepare DIR")
    data_commands = p.add_subparsers(dest="data_command", required=True)
    p = data_commands.add_parser("prepare", help="make DIR a shared, read-only MNIST folder for a class",
                                 description=PREPARE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder", metavar="DIR", type=Path, help="the shared folder (it exists, and you can write to it)")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading a missing .gz file")
    p.set_defaults(run=prepare)
    add_lab_command(commands)  # lab [DIR]: mathnn/course.py
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except MNISTError as e:
        return stop(2, str(e))
    except BrokenPipeError:
        raise
    except (ValueError, OSError) as e:  # bad settings, a folder that cannot be written, ...
        return stop(1, f"{type(e).__name__}: {e}")
    except Exception as e:
        if not Parser.json_errors:
            raise
        return stop(1, f"{type(e).__name__}: {e}")
