"""Batch normalization helpers for the PyTorch track (lesson 04): reference layers for the
exercises, sampling a generator in train or eval mode without touching its running
statistics, running-mean traces, per-sample gradient coupling, and discriminator scores on
real and fake batches fed separately or mixed. The TensorFlow track has the same functions."""
from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from .train import to_numpy, to_tensor


def batchnorm_train(x, gamma, beta, running_mean, running_var, momentum=0.1, eps=1e-5):
    """BatchNorm1d's training-mode forward pass and running-statistics update, written out:
    returns ``(y, new_running_mean, new_running_var)`` (PyTorch's momentum convention)."""
    n = x.shape[0]
    mean, var = x.mean(dim=0), x.var(dim=0, unbiased=False)
    y = gamma * (x - mean) / torch.sqrt(var + eps) + beta
    new_mean = (1 - momentum) * running_mean + momentum * mean
    new_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
    return y, new_mean, new_var


def layernorm(x, gamma, beta, eps=1e-5):
    """LayerNorm written out: each sample over its own features."""
    mean, var = x.mean(dim=1, keepdim=True), x.var(dim=1, unbiased=False, keepdim=True)
    return gamma * (x - mean) / torch.sqrt(var + eps) + beta


def is_batchnorm(module: nn.Module) -> bool:
    """A BatchNorm layer: PyTorch's own, or any module that keeps ``running_mean`` and ``running_var``
    tensors and a ``momentum`` (PyTorch's convention), as lesson 04's layer built on the learner's
    ``batchnorm_train`` does."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return True
    return (all(torch.is_tensor(getattr(module, name, None)) for name in ("running_mean", "running_var"))
            and hasattr(module, "momentum"))


def bn_layers(model: nn.Module) -> list:
    return [m for m in model.modules() if is_batchnorm(m)]


def generate(G, z, train_mode: bool) -> np.ndarray:
    """``G(z)`` with ``G`` in train mode (batch statistics) or eval mode (running statistics), on a
    copy, so that neither G's mode nor its running statistics change."""
    g = copy.deepcopy(G).train(train_mode)
    with torch.no_grad():
        return to_numpy(g(to_tensor(z)))


def with_fresh_running_stats(G, momentum: float | None = None):
    """A copy of ``G`` whose BatchNorm layers have running statistics reset to (mean 0, var 1), as
    in a freshly built model, and optionally a new momentum (PyTorch convention)."""
    g = copy.deepcopy(G)
    for bn in bn_layers(g):
        with torch.no_grad():
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0)
        if isinstance(getattr(bn, "num_batches_tracked", None), torch.Tensor):
            bn.num_batches_tracked.zero_()
        if momentum is not None:
            bn.momentum = momentum
    return g


def warm_up(G, n_batches: int, batch_size: int, seed: int = 0):
    """Run ``n_batches`` forward passes of noise through ``G`` in train mode (no gradients): this
    is how running statistics are (re)estimated. Returns ``G`` in eval mode."""
    rng = np.random.default_rng(seed)
    G.train()
    with torch.no_grad():
        for _ in range(n_batches):
            G(to_tensor(rng.standard_normal((batch_size, G.z_dim))))
    return G.eval()


def running_mean_trace(batches, momentum: float) -> np.ndarray:
    """``nn.BatchNorm1d(1, momentum=momentum)``'s running mean after each of ``batches`` (n_batches, n, 1)."""
    bn = nn.BatchNorm1d(batches.shape[-1], momentum=momentum).train()
    out = []
    with torch.no_grad():
        for b in batches:
            bn(torch.as_tensor(b))
            out.append(bn.running_mean.clone().numpy())
    return np.array(out)


def cross_sample_gradients(critic, x, train_mode: bool = True) -> np.ndarray:
    """``M[i, j] = |d critic(x)[i] / d x[j]|``: how much sample i's score moves with sample j.
    A per-sample network has ``M`` diagonal; BatchNorm in train mode fills the off-diagonal."""
    c = copy.deepcopy(critic).train(train_mode)
    xt = to_tensor(x)
    jac = torch.autograd.functional.jacobian(lambda inp: c(inp).reshape(len(xt)), xt)  # (n, n, d)
    return to_numpy(jac.norm(dim=2))


def d_scores(D, real, fake, mixed: bool) -> tuple[np.ndarray, np.ndarray]:
    """A discriminator's train-mode scores for ``real`` and ``fake`` batches, fed as two separate
    forward passes (``mixed=False``: each batch normalised by its own statistics) or as one
    concatenated batch (``mixed=True``). Runs on a copy: D's running statistics do not move."""
    d = copy.deepcopy(D).train()
    r, f = to_tensor(real), to_tensor(fake)
    with torch.no_grad():
        if mixed:
            s = d(torch.cat([r, f])).reshape(-1)
            return to_numpy(s[: len(r)]), to_numpy(s[len(r):])
        return to_numpy(d(r).reshape(-1)), to_numpy(d(f).reshape(-1))
