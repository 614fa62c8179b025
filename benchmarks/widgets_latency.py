"""How long the training panel takes from a click on Train to its last redraw.

    MATHNN_DATA=../shared/mnist .venv/bin/python benchmarks/widgets_latency.py [--runs 7]

Issue 12 asks: retraining 3 epochs on the 55,000 images and redrawing takes at most 2 s after the click.
The click handler runs synchronously in the kernel, so the time from ``click()`` until it
returns is the kernel's share of that latency (training, evaluation on the 5,000 validation
images after every epoch, one PNG of the plot per epoch, the status line's dead-unit count); the
browser then only swaps an image. The panel keeps its default ``max_runs`` runs on the plot, so
the redraws draw the loss of every step of up to five runs (the costliest plot a learner sees).
Printed, not asserted: the numbers depend on the machine and on what else runs on it.
"""

import argparse
import statistics
import time

import numpy as np

from mathnn.data import load_mnist_splits
from mathnn.widgets import TrainingPanel, train_mnist


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    start = time.perf_counter()
    load_mnist_splits()
    print(f"loading MNIST (once per kernel): {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    panel = TrainingPanel(lr=0.1, init="he", num_epochs=3, batch_size=128)
    print(f"building the panel: {time.perf_counter() - start:.2f} s")
    panel.train_button.click()  # warm-up: first BLAS calls, font cache
    # Every run below changes lr or init from the run before: a click that repeats the last run's settings does
    # not train. From the fifth run on, the plot holds max_runs = 5 runs.

    clicks, trains, redraws = [], [], []
    for run in range(args.runs):
        panel.lr.value = [0.05, 0.1, 0.2, 0.3, 0.5][run % 5]
        panel.init.value = ["he", "glorot"][run % 2]
        before = panel.trainings
        start = time.perf_counter()
        panel.train_button.click()
        clicks.append(time.perf_counter() - start)
        assert panel.trainings == before + 1 and panel.history.diverged is None

        start = time.perf_counter()
        train_mnist(**panel.settings())
        trains.append(time.perf_counter() - start)
        start = time.perf_counter()
        panel.redraw()
        redraws.append(time.perf_counter() - start)

    def summary(times):
        return f"median {statistics.median(times):.2f} s, max {max(times):.2f} s"

    print(f"click -> last redraw, 3 epochs of 55,000 images ({args.runs} runs): {summary(clicks)}")
    print(f"  of which training + validation alone:  {summary(trains)}")
    print(f"  one redraw (plot + PNG, {len(panel.runs)} runs on it): {summary(redraws)} (3 per click)")
    print(f"the panel's history: {len(panel.history.epoch)} epochs, validation accuracy "
          f"{np.round(panel.history.val_acc, 3).tolist()}")

    # The slowest choices of the panel's controls, for comparison (not part of the promise above).
    panel.hidden.value, panel.optimizer.value, panel.lr.value = 100, "adam", 0.01
    start = time.perf_counter()
    panel.train_button.click()
    print(f"one click with 784-100-10 and adam (the widest network): {time.perf_counter() - start:.2f} s")


if __name__ == "__main__":
    main()
