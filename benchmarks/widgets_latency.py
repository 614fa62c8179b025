"""How long the training panel takes from a click on Train to its last redraw.

    MATHNN_DATA=../shared/mnist .venv/bin/python benchmarks/widgets_latency.py [--runs 5]

Lesson 06 promises: retraining 3 epochs and redrawing takes at most 2 s after the click.
The click handler runs synchronously in the kernel, so the time from ``click()`` until it
returns is the kernel's share of that latency (training, evaluation on the 5,000 validation
images after every epoch, one PNG per epoch, the status line's dead-unit count); the browser
then only swaps an image. Printed, not asserted:
the numbers depend on the machine and on what else runs on it.
"""

import argparse
import statistics
import time

import numpy as np

from mathnn.data import load_mnist_splits
from mathnn.plots import png_bytes
from mathnn.widgets import TrainingPanel, train_mnist


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    start = time.perf_counter()
    load_mnist_splits()
    print(f"loading MNIST (once per kernel): {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    panel = TrainingPanel(lr=0.1, init="he", num_epochs=3, batch_size=128)
    print(f"building the panel: {time.perf_counter() - start:.2f} s")
    panel.train_button.click()  # warm-up: first BLAS calls, font cache
    # Every run below changes lr from the run before: a click that repeats the last run's settings does not train.

    clicks, trains, pngs = [], [], []
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
        png_bytes(panel.curve.fig)
        pngs.append(time.perf_counter() - start)

    def summary(times):
        return f"median {statistics.median(times):.2f} s, max {max(times):.2f} s"

    print(f"click -> last redraw, 3 epochs of 55,000 images ({args.runs} runs): {summary(clicks)}")
    print(f"  of which training + validation alone:           {summary(trains)}")
    print(f"  one PNG of the learning curve:                   {summary(pngs)} (x3 per run)")
    print(f"the panel's history: {len(panel.history.epoch)} epochs, validation accuracy "
          f"{np.round(panel.history.val_acc, 3).tolist()}")


if __name__ == "__main__":
    main()
