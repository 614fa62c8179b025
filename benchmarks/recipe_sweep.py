"""Sweep training recipes for the 784-10-10 network; prints one line per recipe.

    MATHNN_DATA=../shared/mnist python benchmarks/recipe_sweep.py

Each recipe: He init, cosine lr schedule, seeds 0-2; reports the final test accuracy of
each seed and the training seconds of the last one (see benchmarks/recipe.md).
"""

import numpy as np

import mathnn as mn

RECIPES = [  # optimizer, lr, batch_size, num_epochs
    ("momentum", 0.1, 64, 12),
    ("momentum", 0.05, 64, 15),
    ("adam", 0.005, 64, 12),
    ("adam", 0.002, 32, 20),
    ("momentum", 0.02, 16, 15),
    ("sgd", 0.3, 16, 15),
    ("sgd", 0.2, 16, 15),
    ("sgd", 0.1, 8, 10),
    ("sgd", 0.2, 16, 20),
]


def main():
    X, y = mn.load_mnist("train")
    X_test, y_test = mn.load_mnist("test")
    for optimizer, lr, batch_size, num_epochs in RECIPES:
        accuracies = []
        for seed in (0, 1, 2):
            rng = np.random.default_rng(seed)
            params = mn.init_params(scheme="he", rng=rng)
            history = mn.fit(params, X, y, rng=rng, X_val=X_test, y_val=y_test, optimizer=optimizer, lr=lr,
                             batch_size=batch_size, num_epochs=num_epochs,
                             lr_schedule=mn.cosine_schedule(lr, num_epochs))
            accuracies.append(history.val_acc[-1])
        print(f"{optimizer:9s} lr={lr:<6g} batch={batch_size:<4d} epochs={num_epochs:<3d} "
              f"test acc {', '.join(f'{a:.4f}' for a in accuracies)}  {history.seconds[-1]:.1f} s", flush=True)


if __name__ == "__main__":
    main()
