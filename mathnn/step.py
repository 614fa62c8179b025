"""The fused training step: the forward and backward pass of :mod:`mathnn.network`, rearranged for speed.

This is the one place where the training math is not written as it reads.
:func:`mathnn.train.fit` uses it for the ReLU networks of :func:`mathnn.network.init_params`
(any depth D) with the built-in optimizers; ``tests/test_train.py`` checks that it gives the
same loss, gradients and training as ``forward``, ``backward`` and ``SGD`` (eq. 1-9, 12).

The equations and the column layout are the lessons' (Z_l (n_l, B), one example per column).
What changes, and why (a step of the 784-10-10 at batch 128 takes ~100 us, of which the two
products with the 784-row X take ~60, so every NumPy call of 1-2 us counts):

* MNIST's column-major X (784, m) holds each image in a contiguous row of X^T (m, 784), so the
  batch is gathered as rows, A_0^T (B, 784), with one ``np.take``; the two large products use it
  as it is: Z_1 = (A_0^T W_1^T)^T and dW_1 = (A_0 dZ_1^T)^T, the arrangements OpenBLAS runs fastest;
* every array is allocated once (per batch size: an epoch has at most two) and written with ``out=``
  (with dropout, A_l and M_l are new arrays each step);
* softmax and cross-entropy are fused: the loss and dZ_D = (A_D - Y) / B read each example's
  label directly, so no one-hot Y is built;
* the ReLU overwrites Z_l with A_l = max(Z_l, 0): backward needs only 1[A_l > 0] = 1[Z_l > 0].

With ``weight_decay`` (lambda) every dW_l gains lambda W_l (eq. 15); with ``keep`` < 1 the hidden
activations go through :func:`mathnn.regularization.dropout_forward` and their gradients through
its mask (eq. 16). The loss is the cross-entropy alone (without the penalty), as with ``keep = 1``.
"""

from types import SimpleNamespace

import numpy as np

from mathnn.network import num_layers
from mathnn.regularization import dropout_forward


class FusedStep:
    """Loss and gradients on mini-batches of X (n0, m), labels y (m,), for a D-layer ReLU network.

    ``loss(idx)`` runs the forward pass on the examples idx (B,) and returns the mean
    cross-entropy; ``grads()`` then returns the gradients of that loss, a dict
    {"dW1": (n1, n0), "db1": (n1, 1), ...} like :func:`mathnn.network.backward`'s, whose arrays
    the next ``grads()`` overwrites (apply them before the next step). The arrays of params
    (same dtype as X) must be changed in place, not replaced, between steps.
    weight_decay: lambda of eq. 15 (0: none). keep: the probability of keeping a hidden unit
    (1: no dropout, eq. 16); the dropout masks are drawn from rng (a ``np.random.Generator``).
    """

    def __init__(self, params, X, y, weight_decay=0.0, keep=1.0, rng=None):
        self.D = D = num_layers(params)
        self.weight_decay, self.keep, self.rng = weight_decay, keep, rng
        self.M = [None] * D  # M[l] (n_l, B): the dropout mask of hidden layer l in the last loss()
        self.W = [None] + [params[f"W{l}"] for l in range(1, D + 1)]  # W[l] (n_l, n_{l-1})
        self.b = [None] + [params[f"b{l}"] for l in range(1, D + 1)]  # b[l] (n_l, 1)
        self.X_rows, self.y, self.dtype = X.T, y, X.dtype  # X_rows (m, n0): a view, one example per row
        self.sizes = [X.shape[0]] + [W.shape[0] for W in self.W[1:]]  # n0, n1, ..., n_D
        n = self.sizes
        self.dW = [None, np.empty((n[0], n[1]), self.dtype).T]  # dW_1 (n1, n0): the transpose of a (n0, n1) array
        self.dW += [np.empty((n[l], n[l - 1]), self.dtype) for l in range(2, D + 1)]  # dW[l] (n_l, n_{l-1})
        self.db = [None] + [np.empty((n_l, 1), self.dtype) for n_l in n[1:]]  # db[l] (n_l, 1)
        self.grads_ = {}  # {"dW1": dW[1], "db1": db[1], ...}: the same arrays at every step
        for l in range(1, D + 1):
            self.grads_[f"dW{l}"], self.grads_[f"db{l}"] = self.dW[l], self.db[l]
        self.workspaces = {}

    def workspace(self, B):
        """The arrays of a batch of B examples, allocated on first use."""
        if B not in self.workspaces:
            n = self.sizes
            self.workspaces[B] = SimpleNamespace(
                A0_T=np.empty((B, n[0]), self.dtype),  # the batch, one example per row
                Z1_T=np.empty((B, n[1]), self.dtype),
                A=[None] + [np.empty((n_l, B), self.dtype) for n_l in n[1:]],  # Z_l, then A_l in place
                dZ=[None] + [np.empty((n_l, B), self.dtype) for n_l in n[1:]],  # dA_l, then dZ_l in place
                columns=np.arange(B),
            )
        return self.workspaces[B]

    def loss(self, idx):
        """Forward pass on the examples idx (B,); returns their mean cross-entropy (eq. 1-5)."""
        ws = self.workspace(len(idx))
        A, D = ws.A, self.D
        np.take(self.X_rows, idx, axis=0, out=ws.A0_T, mode="clip")  # A_0^T (B, n0); idx is a permutation's slice
        for l in range(1, D + 1):
            if l == 1:  # Z_1 = W_1 A_0, computed as (A_0^T W_1^T)^T
                np.matmul(ws.A0_T, self.W[1].T, out=ws.Z1_T)  # (B, n0) @ (n0, n1) -> (B, n1)
                np.copyto(A[1], ws.Z1_T.T)  # (n1, B)
            else:
                np.matmul(self.W[l], A[l - 1], out=A[l])  # Z_l = W_l A_{l-1}: (n_l, n_{l-1}) @ (n_{l-1}, B)
            A[l] += self.b[l]  # + b_l (n_l, 1)  (eq. 1)
            if l < D:
                np.maximum(A[l], 0, out=A[l])  # A_l = relu(Z_l)  (eq. 2)
                if self.keep < 1:  # A_l * M_l, a new array in the workspace's place  (eq. 16)
                    A[l], self.M[l] = dropout_forward(A[l], self.keep, self.rng)
        log_softmax_Z = A[D]  # Z_D becomes log softmax(Z_D) (k, B), in place  (eq. 4)
        log_softmax_Z -= log_softmax_Z.max(axis=0, keepdims=True)
        log_softmax_Z -= np.log(np.exp(log_softmax_Z).sum(axis=0, keepdims=True))
        self.ws, self.labels = ws, self.y[idx]
        return -float(log_softmax_Z[self.labels, ws.columns].sum()) / len(idx)  # -(1/B) sum_j log A_{y_j, j}  (eq. 5)

    def grads(self):
        """Backward pass of the last ``loss`` (eq. 5'-9); returns the gradients (reused arrays)."""
        ws, D = self.ws, self.D
        A, B = ws.A, len(self.labels)
        dZ = np.exp(A[D], out=ws.dZ[D])  # A_D = softmax(Z_D) (k, B)
        dZ[self.labels, ws.columns] -= 1  # A_D - Y
        dZ *= 1 / B  # dZ_D = (A_D - Y) / B  (eq. 5')
        for l in range(D, 0, -1):
            if l == 1:  # dW_1 = dZ_1 A_0^T, computed as (A_0 dZ_1^T)^T: (n0, B) @ (B, n1), into dW1's transpose
                np.matmul(ws.A0_T.T, dZ.T, out=self.dW[1].T)
            else:
                np.matmul(dZ, A[l - 1].T, out=self.dW[l])  # dW_l = dZ_l A_{l-1}^T: (n_l, B) @ (B, n_{l-1})
            if self.weight_decay:
                self.dW[l] += self.weight_decay * self.W[l]  # + lambda W_l  (eq. 15)
            np.add.reduce(dZ, axis=1, out=self.db[l][:, 0])  # db_l = sum over the batch (n_l,)
            if l > 1:
                dA = np.matmul(self.W[l].T, dZ, out=ws.dZ[l - 1])  # dA_{l-1} = W_l^T dZ_l (n_{l-1}, B)
                if self.keep < 1:
                    dA *= self.M[l - 1]  # through the dropout mask (eq. 16); then 1[A_{l-1} > 0] = 1[Z_{l-1} > 0]
                dZ = np.multiply(dA, A[l - 1] > 0, out=dA)  # dZ_{l-1} = dA_{l-1} * 1[Z_{l-1} > 0]  (eq. 9)
        return self.grads_
