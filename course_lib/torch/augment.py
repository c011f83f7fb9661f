"""Data augmentation for GANs in the PyTorch track (lesson 06): the differentiable translation,
the 2-D jitter, and :func:`train_augmented_gans`, which trains several runs (seeds x arms) at once
as one stacked network, each with its own arm (which inputs of the discriminator are augmented)
and, for ADA, its own adaptive probability ``p``.

The arms, as flags ``(reals, fakes in D's step, fakes in G's step)``: ``"none"`` (0, 0, 0),
``"reals only"`` (1, 0, 0), ``"D step only"`` (1, 1, 0), ``"DiffAugment"`` (1, 1, 1) and
``"ADA"`` (DiffAugment with ``p`` adjusted by ADA's rule). The random numbers come from NumPy
(:mod:`course_lib.techniques.augmentation`) in the order of the notebook's loop, so a run gives
the same draws alone or stacked, in either track. The TensorFlow track has the same names.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import data
from ..progress import progress
from ..runs.stacking import check_runs
from ..techniques import augmentation as _aug
from .stacked import Stacked
from .train import DEVICE, to_tensor

ARMS = {"none": (0, 0, 0), "reals only": (1, 0, 0), "D step only": (1, 1, 0), "DiffAugment": (1, 1, 1),
        "ADA": (1, 1, 1)}
SIDE = _aug.SIDE


def translate(x, shifts):
    """Each image of ``x`` (``(..., 64)``) moved by its own integer ``shifts`` (``(..., 2)``: rows down,
    columns right) with zero fill: pixel ``(r, c)`` gathers ``(r - dy, c - dx)`` and is zeroed where
    that lies outside the frame. Differentiable with respect to ``x``; any leading axes."""
    shifts = torch.as_tensor(shifts, device=x.device)
    r = torch.arange(SIDE, device=x.device)
    rows, cols = r - shifts[..., :1], r - shifts[..., 1:]  # (..., 8) source rows and columns
    inside = ((rows >= 0) & (rows < SIDE))[..., :, None] & ((cols >= 0) & (cols < SIDE))[..., None, :]
    index = rows.clamp(0, SIDE - 1)[..., :, None] * SIDE + cols.clamp(0, SIDE - 1)[..., None, :]
    out = torch.gather(x, -1, index.reshape(*index.shape[:-2], SIDE * SIDE))
    return out * inside.reshape(*inside.shape[:-2], SIDE * SIDE).to(x.dtype)


def jitter(x, eps, sigma: float):
    """``x + sigma * eps``: the 2-D augmentation (differentiable with respect to ``x``)."""
    return x + sigma * torch.as_tensor(eps, device=x.device)


def discriminator_loss(D, real, fake, augment):
    """DiffAugment's discriminator loss on logits, every input augmented:
    ``mean softplus(-D(augment(real))) + mean softplus(D(augment(fake)))``."""
    return F.softplus(-D(augment(real))).mean() + F.softplus(D(augment(fake))).mean()


def _augment(kind, sigma):
    return translate if kind == "translate" else (lambda x, a: jitter(x, a, sigma))


def _draw(kind, n, rng, p, z_dim):
    """One step's draws in the notebook's order: the noise, then the augmentation's numbers."""
    z = data.noise(n, z_dim, rng)
    a = _aug.draw_shifts(n, rng, p) if kind == "translate" else _aug.draw_jitter(n, rng)
    return z, a


def _where(flag, augmented, x):
    return flag * augmented + (1.0 - flag) * x  # flags are 0 or 1: exactly one of the two


def train_augmented_gans(Gs, Ds, xs, seeds, arms, steps: int, batch_size: int, lr: float, betas, kind="translate",
                         sigma: float = 0.0, p: float = 1.0, ada_target: float = 0.6, ada_step: float = 0.0,
                         ada_interval: int = 4, ada_update=_aug.ada_update, desc: str = "runs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` (non-saturating GAN, Adam) on ``xs[i]`` with
    ``seeds[i]`` and arm ``arms[i]``, as the notebook's step would alone; all runs step together as
    one stacked network. ``kind``: ``"translate"`` (digits) or ``"jitter"`` (2-D, ``sigma``).
    ``p``: the probability of augmenting a sample, one for all runs or one per run. ADA runs start
    there and adapt it every ``ada_interval`` D steps with ``ada_update(p, r_t, ada_target,
    ada_step)``, the learner's function or the reference. Writes the weights back; returns
    ``{"step": [...], "p": (k, checks)}``, every run's p after each adjustment."""
    Gs, Ds, xs, seeds, arms = list(Gs), list(Ds), list(xs), list(seeds), list(arms)
    check_runs(Gs, Ds, xs, seeds)
    if len(arms) != len(Gs) or any(a not in ARMS for a in arms):
        raise ValueError(f"need one arm per run from {list(ARMS)}, got {arms}")
    G, D = Stacked(Gs).to(DEVICE), Stacked(Ds).to(DEVICE)
    flags = torch.tensor([ARMS[a] for a in arms], dtype=torch.float32, device=DEVICE)[:, :, None, None]
    adaptive = np.array([a == "ADA" for a in arms])
    probs = np.broadcast_to(np.asarray(p, dtype=float), (len(arms),)).copy()  # one p per run, or one for all
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=tuple(betas))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=tuple(betas))
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    x_all, augment = torch.stack([to_tensor(x) for x in xs]), _augment(kind, sigma)
    rows = torch.arange(len(xs), device=DEVICE)[:, None]
    history, signs = {"step": [], "p": []}, np.zeros(len(arms))

    def draws(n):
        z, a = zip(*[_draw(kind, n, rng, probs[i], G.z_dim) for i, rng in enumerate(rngs)])
        return to_tensor(np.stack(z)), torch.from_numpy(np.stack(a)).to(DEVICE)

    for step in progress(range(1, steps + 1), desc=desc):
        real = x_all[rows, torch.from_numpy(np.stack([next(b) for b in batches])).to(DEVICE)]
        z, a = draws(real.shape[1])
        with torch.no_grad():
            fake = G(z)
        real_in = _where(flags[:, 0], augment(real, a), real)
        d_real = D(real_in)
        d_loss = F.softplus(-d_real).mean(-1) + F.softplus(D(_where(flags[:, 1], augment(fake, a), fake))).mean(-1)
        opt_d.zero_grad(set_to_none=True)
        d_loss.sum().backward()  # per-run means summed: each run gets its own gradient
        opt_d.step()
        signs += torch.sign(d_real.detach()).mean(-1).cpu().numpy()
        z, a = draws(batch_size)
        fake = G(z)
        g_loss = F.softplus(-D(_where(flags[:, 2], augment(fake, a), fake))).mean(-1)
        opt_g.zero_grad(set_to_none=True)
        g_loss.sum().backward()
        opt_g.step()
        if step % ada_interval == 0:
            _aug.ada_adjust(probs, signs, adaptive, ada_interval, ada_target, ada_step, ada_update)
            history["step"].append(step), history["p"].append(probs.copy())
    G.unstack_into(Gs), D.unstack_into(Ds)
    for model in Gs + Ds:
        model.eval()
    history["p"] = np.array(history["p"]).T.reshape(len(arms), -1)
    return history


@torch.no_grad()
def discriminator_gap(D, x_train, x_held_out) -> float:
    """The discriminator's overfitting gap: its mean probability "real" on training reals minus on
    held-out reals (no augmentation). Near 0: it cannot tell them apart; large: it memorised."""
    D.eval()
    return float(torch.sigmoid(D(to_tensor(x_train))).mean() - torch.sigmoid(D(to_tensor(x_held_out))).mean())


# --- the checkers' side -------------------------------------------------------------------


def adapt(a):
    """Checker argument conversion: a discriminator's NumPy weights -> a network, float arrays ->
    float32 tensors, integer arrays (offsets) -> int64 tensors, fixed offsets -> a function of ``x``."""
    from ..exercises.lesson06_augmentation import AugmentWith
    from ..techniques.penalties import CriticWeights
    from .penalties import critic_from_weights

    if isinstance(a, CriticWeights):
        return critic_from_weights(a)
    if isinstance(a, AugmentWith):
        shifts = torch.from_numpy(np.asarray(a.shifts, np.int64)).to(DEVICE)
        return lambda x: translate(x, shifts)
    if isinstance(a, np.ndarray):
        return torch.from_numpy(a.astype(np.int64)).to(DEVICE) if a.dtype.kind in "iu" else to_tensor(a)
    return a
