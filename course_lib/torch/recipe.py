"""The full recipe in the PyTorch track (lesson 10): R1 on the augmented reals, TTUR (a faster
discriminator), DiffAugment or ADA with the translation of lesson 06, and a moving average of the
generator, trained as one stacked network over many runs, each with its own seed and its own
settings. :class:`RunAdam` is Adam with one learning rate per run (the stack's leading axis), so
runs with and without TTUR share one stack; it computes what ``torch.optim.Adam`` computes for
each run. The random numbers come from NumPy in the notebook's order, as in lesson 06, so a run
draws the same numbers alone or stacked, in either track; the TensorFlow track has the same names.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
import torch.nn.functional as F

from .. import data
from ..progress import progress
from ..runs.stacking import check_runs
from ..techniques import augmentation as _aug, recipe as _recipe
from .augment import translate
from .stacked import Stacked
from .train import DEVICE, to_tensor

TRAINED, READOUTS, run_settings, select = _recipe.TRAINED, _recipe.READOUTS, _recipe.run_settings, _recipe.select


def recipe_d_loss(D, real, fake, augment, gamma: float):
    """The reference (the exercise's answer): the non-saturating discriminator loss on augmented
    reals and fakes plus R1, ``gamma / 2 * mean |grad_x D(x)|^2`` at the augmented reals, kept in the
    graph (``create_graph``) so that the penalty trains D."""
    x = augment(real).detach().requires_grad_(True)
    d_real = D(x)
    (grad,) = torch.autograd.grad(d_real.sum(), x, create_graph=True)
    r1 = 0.5 * gamma * grad.pow(2).sum(-1).mean()
    return F.softplus(-d_real).mean() + F.softplus(D(augment(fake))).mean() + r1


class RunAdam:
    """Adam over stacked parameters (leading axis: the run) with one learning rate per run, the
    update of ``torch.optim.Adam`` (``eps`` added after the bias-corrected square root)."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps: float = 1e-8):
        self.params = list(params)
        k = len(self.params[0])
        self.lr = torch.as_tensor(np.broadcast_to(np.asarray(lr, np.float32), (k,)).copy(), device=DEVICE)
        self.betas, self.eps, self.t = tuple(betas), eps, 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.t += 1
        b1, b2 = self.betas
        c1, c2 = 1.0 - b1 ** self.t, math.sqrt(1.0 - b2 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            m.lerp_(p.grad, 1.0 - b1)
            v.mul_(b2).addcmul_(p.grad, p.grad, value=1.0 - b2)
            rate = (self.lr / c1).reshape(-1, *[1] * (p.dim() - 1))  # one rate per run
            p.sub_(rate * m / ((v.sqrt() / c2).add_(self.eps)))


def train_recipe_gans(Gs, Ds, xs, seeds, steps: int, batch_size: int, lr_g: float, lr_d, gamma, augmented, betas,
                      ema_decay: float, check_every: int, p=1.0, adaptive=False, ada_target: float = 0.6,
                      ada_step: float = 0.0, ada_interval: int = 4, ada_update=_aug.ada_update, desc: str = "runs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` on ``xs[i]`` with ``seeds[i]`` as the notebook's step
    would alone: D's rate ``lr_d[i]`` (G's ``lr_g``), R1 weight ``gamma[i]`` (0: none), ``augmented[i]``
    (1: every input of D translated, in both steps), ``p[i]`` the probability of translating a sample,
    adapted by ADA's rule where ``adaptive[i]``; after every G step a moving average of G with
    ``ema_decay``. All runs step together as one stacked network. Writes the weights back; returns
    ``{"step": checkpoints, "raw": [...], "ema": [...], "p": (runs, adjustments)}``: at every
    ``check_every``-th step, the stacked generator's weights and their average (lists of tensors)."""
    Gs, Ds, xs, seeds = list(Gs), list(Ds), list(xs), list(seeds)
    check_runs(Gs, Ds, xs, seeds)
    k = len(Gs)
    per_run = [np.broadcast_to(np.asarray(v, dtype=float), (k,)).copy() for v in (lr_d, gamma, augmented, p)]
    lr_d, gamma, augmented, probs = per_run
    adaptive = np.broadcast_to(np.asarray(adaptive, dtype=bool), (k,))
    G, D = Stacked(Gs).to(DEVICE), Stacked(Ds).to(DEVICE)
    opt_g, opt_d = RunAdam(G.parameters(), lr_g, betas), RunAdam(D.parameters(), lr_d, betas)
    gam = torch.as_tensor(gamma, dtype=torch.float32, device=DEVICE)
    flag = torch.as_tensor(augmented, dtype=torch.float32, device=DEVICE)[:, None, None]
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    x_all, rows = torch.stack([to_tensor(x) for x in xs]), torch.arange(k, device=DEVICE)[:, None]
    ema = [w.detach().clone() for w in G.parameters()]
    out, signs = {"step": [], "raw": [], "ema": [], "p": []}, np.zeros(k)

    def draws(n):  # per run: the noise, then the offsets, kept with the run's probability
        z, a = zip(*[(data.noise(n, G.z_dim, r), _aug.draw_shifts(n, r, probs[i])) for i, r in enumerate(rngs)])
        return to_tensor(np.stack(z)), torch.from_numpy(np.stack(a)).to(DEVICE)

    def T(x, a):
        return flag * translate(x, a) + (1.0 - flag) * x  # flags are 0 or 1: exactly one of the two

    for step in progress(range(1, steps + 1), desc=desc):
        real = x_all[rows, torch.from_numpy(np.stack([next(b) for b in batches])).to(DEVICE)]
        z, a = draws(batch_size)
        with torch.no_grad():
            fake = G(z)
        x = T(real, a).detach().requires_grad_(True)
        d_real = D(x)
        (grad,) = torch.autograd.grad(d_real.sum(), x, create_graph=True)
        d_loss = (F.softplus(-d_real).mean(-1) + F.softplus(D(T(fake, a))).mean(-1)
                  + 0.5 * gam * grad.pow(2).sum(-1).mean(-1))
        opt_d.zero_grad()
        d_loss.sum().backward()  # per-run means summed: each run gets its own gradient
        opt_d.step()
        signs += torch.sign(d_real.detach()).mean(-1).cpu().numpy()
        z, a = draws(batch_size)
        g_loss = F.softplus(-D(T(G(z), a))).mean(-1)
        opt_g.zero_grad()
        g_loss.sum().backward()
        opt_g.step()
        with torch.no_grad():
            for e, w in zip(ema, G.parameters()):
                e.mul_(ema_decay).add_(w, alpha=1.0 - ema_decay)
        if step % ada_interval == 0:
            _aug.ada_adjust(probs, signs, adaptive, ada_interval, ada_target, ada_step, ada_update)
            out["p"].append(probs.copy())
        if step % check_every == 0 or step == steps:
            out["step"].append(step)
            out["raw"].append([w.detach().clone() for w in G.parameters()])
            out["ema"].append([e.clone() for e in ema])
    G.unstack_into(Gs), D.unstack_into(Ds)
    for model in Gs + Ds:
        model.eval()
    out["p"] = np.array(out["p"]).T.reshape(k, -1)
    return out


_HOLDERS: dict = {}


@torch.no_grad()
def sample_stacked(Gs, weights, n: int, seeds) -> np.ndarray:
    """``(runs, n, 64)``: run ``i``'s generator with the stacked ``weights`` (a checkpoint of
    :func:`train_recipe_gans`) on the noise of ``seeds[i]``, as ``sample_gan`` would draw it."""
    key = tuple(map(id, Gs))
    if key not in _HOLDERS:  # one stacked holder per set of runs: building it copies every run's weights
        _HOLDERS.clear()
        _HOLDERS[key] = (list(Gs), Stacked(Gs).to(DEVICE))  # the list keeps the ids taken
    G = _HOLDERS[key][1]
    for p, w in zip(G.parameters(), weights):
        p.copy_(w)
    z = to_tensor(np.stack([data.noise(n, G.z_dim, s) for s in seeds]))
    return G(z).cpu().numpy()


@torch.no_grad()
def generators_at(Gs, weights):
    """Copies of the models ``Gs`` (eval mode), copy ``i`` holding run ``i``'s slice of the stacked ``weights``
    (a checkpoint of :func:`train_recipe_gans`): to sample from, or to compare with a run trained alone."""
    holder, copies = Stacked(Gs), [copy.deepcopy(G) for G in Gs]
    for p, w in zip(holder.parameters(), weights):
        p.copy_(w)
    holder.unstack_into(copies)
    return [G.eval() for G in copies]
