"""Sweep training recipes for the 784-10-10 network on the VALIDATION set; one line per recipe.

    MATHNN_DATA=../shared/mnist python benchmarks/recipe_sweep.py            # choose on validation
    MATHNN_DATA=../shared/mnist python benchmarks/recipe_sweep.py --test     # then: the default, on test, once

Each recipe: He init, cosine lr schedule, trained on the 55,000 training images with
``mn.train_mnist`` (as ``python -m mathnn train`` does), seeds 0-4. A line gives the final
validation accuracy of every seed, their min, median and max, and the median training
seconds. ``--test`` trains the CLI's default recipe for the same seeds and reports test
accuracy: the figure ``python -m mathnn train --json`` prints (see benchmarks/recipe.md).
"""

import argparse
import statistics

import mathnn as mn
from mathnn.cli import DEFAULTS

SEEDS = (0, 1, 2, 3, 4)
RECIPES = [  # optimizer, lr, batch_size, num_epochs: every row of benchmarks/recipe.md
    ("sgd", 0.2, 16, 20),
    ("sgd", 0.3, 16, 20),
    ("sgd", 0.1, 16, 20),
    ("sgd", 0.05, 16, 20),
    ("sgd", 0.1, 16, 30),
    ("sgd", 0.05, 16, 30),
    ("sgd", 0.1, 8, 15),
    ("sgd", 0.05, 8, 20),
    ("sgd", 0.4, 32, 30),
    ("sgd", 0.2, 32, 30),
    ("sgd", 0.15, 32, 30),
    ("sgd", 0.1, 32, 30),
    ("sgd", 0.2, 32, 40),
    ("sgd", 0.1, 32, 40),
    ("sgd", 0.05, 32, 40),
    ("sgd", 0.3, 64, 40),
    ("sgd", 0.2, 64, 40),
    ("momentum", 0.01, 16, 20),
    ("adam", 0.001, 16, 20),
    ("adam", 0.002, 32, 20),
    ("adam", 0.001, 32, 30),
]


def run(optimizer, lr, batch_size, num_epochs, seed):
    """Train one recipe from scratch; return (params, history)."""
    return mn.train_mnist(lr, "he", num_epochs, batch_size, seed, optimizer=optimizer,
                          lr_schedule=mn.cosine_schedule(lr, num_epochs))


def summary(accuracies):
    return (f"{', '.join(f'{a:.4f}' for a in accuracies)}  "
            f"min {min(accuracies):.4f} median {statistics.median(accuracies):.4f} max {max(accuracies):.4f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test", action="store_true", help="report the default recipe's test accuracy")
    args = parser.parse_args(argv)
    if args.test:
        recipe = (DEFAULTS["optimizer"], DEFAULTS["lr"], DEFAULTS["batch_size"], DEFAULTS["num_epochs"])
        X_test, y_test = mn.load_mnist_splits()[4:]
        accuracies = [mn.accuracy(run(*recipe, seed)[0], X_test, y_test) for seed in SEEDS]
        print(f"default {recipe}: test acc (seeds {SEEDS}) {summary(accuracies)}")
        return
    for recipe in RECIPES:
        histories = [run(*recipe, seed)[1] for seed in SEEDS]
        accuracies = [h.val_acc[-1] if not h.diverged else 0.0 for h in histories]
        seconds = statistics.median(h.cumulative_seconds[-1] for h in histories)
        optimizer, lr, batch_size, num_epochs = recipe
        print(f"{optimizer:9s} lr={lr:<6g} batch={batch_size:<4d} epochs={num_epochs:<3d} "
              f"val acc {summary(accuracies)}  {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
