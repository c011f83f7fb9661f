"""Critic-based GAN training for the PyTorch track (lesson 05): the non-saturating GAN with an
optional R1 penalty, WGAN with weight clipping and WGAN-GP, in one loop with ``n_critic``
critic steps per generator step. :func:`train_critic_gans` trains several runs (seeds,
mixtures) at once as one stacked network.

Batches, noise and the interpolation weights come from NumPy (:class:`course_lib.runs.draws.RunDraws`),
so both tracks, and a run alone or stacked, see the same numbers for a given seed. The
TensorFlow track has :func:`train_critic_gan` with the same signature.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..progress import progress
from ..runs.draws import RunDraws
from ..runs.history import RunningHistories, RunningHistory
from ..runs.stacking import check_runs
from ..techniques import critic_fields as _fields
from .penalties import clip_weights, gradient_norms, gradient_penalty, r1_penalty
from .stacked import Stacked
from .train import DEVICE, to_tensor

VARIANTS = ("gan", "wgan-clip", "wgan-gp", "gan-r1")


def _optimizer(params, kind, lr, betas):
    if kind == "rmsprop":  # WGAN (Arjovsky et al. 2017): RMSprop, no momentum
        return torch.optim.RMSprop(params, lr=lr, alpha=0.9, eps=1e-7)
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=1e-8)


def _real(x_all, idx):
    """The real batch at ``idx``: ``(n, d)`` from one dataset, ``(k, n, d)`` from stacked ones."""
    idx = torch.from_numpy(idx).to(DEVICE)
    return x_all[torch.arange(len(idx), device=DEVICE)[:, None], idx] if idx.dim() == 2 else x_all[idx]


def _train(G, D, x_all, draws, variant, steps, batch_size, lr, betas, n_critic, weight, optimizer, lr_d):
    """The loop both entry points share: an iterator of ``(step, d_loss, penalty, g_loss)`` after each
    generator step, one value per run (0-d for one model, ``(k,)`` for a stack). Losses are means
    over each run's samples (the last axis), summed over runs, so each run gets its own gradient."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    opt_g = _optimizer(G.parameters(), optimizer, lr, betas)
    opt_d = _optimizer(D.parameters(), optimizer, lr if lr_d is None else lr_d, betas)
    wasserstein = variant.startswith("wgan")
    def loop():  # a generator inside: bad arguments fail at the call, not at the first step
        for step in range(1, steps + 1):
            for _ in range(n_critic):
                real = _real(x_all, draws.indices())
                z = to_tensor(draws.noise(real.shape[-2]))
                with torch.no_grad():
                    fake = G(z)
                d_real, d_fake = D(real), D(fake)
                # Wasserstein critic: maximise E[D(real)] - E[D(fake)]; GAN: real -> 1, fake -> 0 (logits)
                d_loss = (d_fake.mean(-1) - d_real.mean(-1) if wasserstein
                          else F.softplus(-d_real).mean(-1) + F.softplus(d_fake).mean(-1))
                if variant == "wgan-gp":
                    pen = weight * gradient_penalty(D, real, fake, draws.weights(real.shape[-2]))
                elif variant == "gan-r1":
                    pen = r1_penalty(D, real, weight)
                else:
                    pen = torch.zeros_like(d_loss)
                opt_d.zero_grad(set_to_none=True)
                (d_loss + pen).sum().backward()
                opt_d.step()
                if variant == "wgan-clip":
                    clip_weights(D, weight)
            d_gen = D(G(to_tensor(draws.noise(batch_size))))
            g_loss = -d_gen.mean(-1) if wasserstein else F.softplus(-d_gen).mean(-1)
            opt_g.zero_grad(set_to_none=True)
            g_loss.sum().backward()
            opt_g.step()
            yield step, d_loss.detach(), pen.detach(), g_loss.detach()

    return loop()


def train_critic_gan(G, D, x_train, variant: str, steps: int, batch_size: int, seed: int, lr: float = 1e-4,
                     betas=(0.5, 0.9), n_critic: int = 1, weight: float = 10.0, optimizer: str = "adam",
                     lr_d: float | None = None, eval_every: int = 250, eval_fn=None, desc: str | None = None):
    """Train ``G`` against ``D`` for ``steps`` generator steps; returns a history dict.

    ``variant``: ``"gan"`` (non-saturating loss, no penalty), ``"gan-r1"`` (the same plus R1 on the
    reals, ``gamma = weight``), ``"wgan-clip"`` (Wasserstein loss, critic weights clipped to
    ``[-weight, weight]`` after every critic step) or ``"wgan-gp"`` (Wasserstein loss plus
    ``weight`` times the gradient penalty at interpolates). ``n_critic`` critic steps (each on a
    fresh batch) precede every generator step. ``optimizer``: ``"adam"`` (``lr``, ``betas``) or
    ``"rmsprop"``; ``lr_d``: the critic's rate when it differs from the generator's (TTUR).
    History: ``step``, ``d_loss`` (the critic's loss without the penalty), ``penalty``,
    ``g_loss`` (means since the last record) and ``eval_fn(G)``'s keys.
    """
    G.to(DEVICE), D.to(DEVICE)
    draws = RunDraws([len(x_train)], batch_size, [seed], G.z_dim, stacked=False)
    log = RunningHistory(["d_loss", "penalty", "g_loss"], steps, eval_every)
    G.train(), D.train()
    loop = _train(G, D, to_tensor(x_train), draws, variant, steps, batch_size, lr, betas, n_critic, weight,
                  optimizer, lr_d)
    bar = progress(total=steps, desc=desc or variant)
    for step, d_loss, pen, g_loss in loop:
        bar.update()
        if log.add(step, d_loss=d_loss.item(), penalty=pen.item(), g_loss=g_loss.item()):
            if eval_fn is not None:
                log.append(**eval_fn(G))
                G.train()
            bar.set_postfix(d=f"{log.last('d_loss'):.2f}", g=f"{log.last('g_loss'):.2f}")
    bar.close()
    G.eval(), D.eval()
    return log.history


def train_critic_gans(Gs, Ds, xs, variant: str, steps: int, batch_size: int, seeds, lr: float = 1e-4,
                      betas=(0.5, 0.9), n_critic: int = 1, weight: float = 10.0, optimizer: str = "adam",
                      lr_d: float | None = None, eval_every: int = 250, desc: str | None = None):
    """:func:`train_critic_gan` for several runs at once: run ``i`` trains ``Gs[i]`` against
    ``Ds[i]`` on ``xs[i]`` with ``seeds[i]``, as it would alone, but all runs step together as one
    :class:`~course_lib.torch.stacked.Stacked` network (much faster for tiny models on a CPU).
    The trained weights are written back into ``Gs`` and ``Ds``; returns one history per run.
    Every ``xs[i]`` must have the same number of points; no ``eval_fn`` (evaluate afterwards)."""
    Gs, Ds, xs, seeds = list(Gs), list(Ds), list(xs), list(seeds)
    check_runs(Gs, Ds, xs, seeds)
    G, D = Stacked(Gs).to(DEVICE), Stacked(Ds).to(DEVICE)
    draws = RunDraws([len(x) for x in xs], batch_size, seeds, G.z_dim, stacked=True)
    logs = RunningHistories(len(Gs), ["d_loss", "penalty", "g_loss"], steps, eval_every)
    loop = _train(G, D, torch.stack([to_tensor(x) for x in xs]), draws, variant, steps, batch_size, lr, betas,
                  n_critic, weight, optimizer, lr_d)
    bar = progress(total=steps, desc=desc or f"{variant} x{len(Gs)}")
    for step, d_loss, pen, g_loss in loop:
        bar.update()
        if logs.add(step, d_loss=d_loss.tolist(), penalty=pen.tolist(), g_loss=g_loss.tolist()):
            bar.set_postfix(d=f"{logs.mean_last('d_loss'):.2f}", g=f"{logs.mean_last('g_loss'):.2f}")
    bar.close()
    G.unstack_into(Gs), D.unstack_into(Ds)
    for model in Gs + Ds:
        model.eval()
    return logs.histories


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
    (for :func:`course_lib.techniques.critic_fields.plot_field`)."""
    xx, yy, pts = _fields.grid(lim, n)
    return xx, yy, critic_values(D, pts), gradient_norms(D, pts)
