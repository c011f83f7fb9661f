"""Critic-based GAN training for the PyTorch track (lesson 05): the non-saturating GAN with an
optional R1 penalty, WGAN with weight clipping and WGAN-GP, in one loop with ``n_critic``
critic steps per generator step.

Batches come from :func:`course_lib.data.batch_indices`, noise and the interpolation weights
from NumPy (one generator per run), so both tracks see the same numbers for a given seed. The
TensorFlow track has :func:`train_critic_gan` with the same signature.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import critic_fields as _fields
from .. import data
from ..history import RunningHistory
from ..progress import progress
from .penalties import clip_weights, gradient_norms, gradient_penalty, interpolation_weights, r1_penalty
from .train import DEVICE, to_tensor

VARIANTS = ("gan", "wgan-clip", "wgan-gp", "gan-r1")


def _optimizer(params, kind, lr, betas):
    if kind == "rmsprop":  # WGAN (Arjovsky et al. 2017): RMSprop, no momentum
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=1e-8)


def train_critic_gan(G, D, x_train, variant: str, steps: int, batch_size: int, seed: int, lr: float = 1e-4,
                     betas=(0.5, 0.9), n_critic: int = 1, weight: float = 10.0, optimizer: str = "adam",
                     eval_every: int = 250, eval_fn=None, desc: str | None = None):
    """Train ``G`` against ``D`` for ``steps`` generator steps; returns a history dict.

    ``variant``: ``"gan"`` (non-saturating loss, no penalty), ``"gan-r1"`` (the same plus R1 on the
    reals, ``gamma = weight``), ``"wgan-clip"`` (Wasserstein loss, critic weights clipped to
    ``[-weight, weight]`` after every critic step) or ``"wgan-gp"`` (Wasserstein loss plus
    ``weight`` times the gradient penalty at interpolates). ``n_critic`` critic steps (each on a
    fresh batch) precede every generator step. ``optimizer``: ``"adam"`` (``lr``, ``betas``) or
    ``"rmsprop"``. History: ``step``, ``d_loss`` (the critic's loss without the penalty),
    ``penalty``, ``g_loss`` (means since the last record) and ``eval_fn(G)``'s keys.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    G.to(DEVICE), D.to(DEVICE)
    x_all = to_tensor(x_train)
    opt_g, opt_d = _optimizer(G.parameters(), optimizer, lr, betas), _optimizer(D.parameters(), optimizer, lr, betas)
    batches = data.batch_indices(len(x_all), batch_size, seed)
    rng = np.random.default_rng(seed + 1)
    wasserstein = variant.startswith("wgan")
    log = RunningHistory(["d_loss", "penalty", "g_loss"], steps, eval_every)
    G.train(), D.train()
    bar = progress(range(1, steps + 1), desc=desc or variant)
    for step in bar:
        for _ in range(n_critic):
            real = x_all[torch.from_numpy(next(batches)).to(DEVICE)]
            z = to_tensor(data.noise(len(real), G.z_dim, rng))
            with torch.no_grad():
                fake = G(z)
            d_real, d_fake = D(real), D(fake)
            # Wasserstein critic: maximise E[D(real)] - E[D(fake)]; GAN: real -> 1, fake -> 0 (logits)
            d_loss = (d_fake.mean() - d_real.mean() if wasserstein
                      else F.softplus(-d_real).mean() + F.softplus(d_fake).mean())
            if variant == "wgan-gp":
                pen = weight * gradient_penalty(D, real, fake, interpolation_weights(len(real), rng))
            elif variant == "gan-r1":
                pen = r1_penalty(D, real, weight)
            else:
                pen = torch.zeros((), device=DEVICE)
            opt_d.zero_grad(set_to_none=True)
            (d_loss + pen).backward()
            opt_d.step()
            if variant == "wgan-clip":
                clip_weights(D, weight)
        z = to_tensor(data.noise(batch_size, G.z_dim, rng))
        d_gen = D(G(z))
        g_loss = -d_gen.mean() if wasserstein else F.softplus(-d_gen).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        if log.add(step, d_loss=d_loss.item(), penalty=pen.item(), g_loss=g_loss.item()):
            if eval_fn is not None:
                log.append(**eval_fn(G))
                G.train()
            bar.set_postfix(d=f"{log.last('d_loss'):.2f}", g=f"{log.last('g_loss'):.2f}")
    G.eval(), D.eval()
    return log.history


@torch.no_grad()
def critic_values(D, x) -> np.ndarray:
    """The critic's scores on ``x`` (NumPy in, NumPy out; eval mode, restored afterwards)."""
    was_training = D.training
    D.eval()
    try:
        return D(to_tensor(x)).cpu().numpy()
    finally:
        D.train(was_training)


def critic_field(D, lim: float = 3.0, n: int = 61):
    """``(xx, yy, values, grad_norms)`` of the critic on an ``n`` x ``n`` grid over ``[-lim, lim]^2``
    (for :func:`course_lib.critic_fields.plot_field`)."""
    xx, yy, pts = _fields.grid(lim, n)
    return xx, yy, critic_values(D, pts), gradient_norms(D, pts)
