"""Lesson 01 (PyTorch): L2 in the loss vs decoupled weight decay, dropout, and a discriminator
with spectral normalization, plus the measurements of overfitting (train vs validation).

Only weight matrices are regularized (``p.ndim >= 2``), never biases: see
:mod:`course_lib.techniques.regularization`.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .. import metrics
from ..techniques import regularization as reg
from .models import MLP, VAE, Discriminator
from .train import _adam, sample_gan, test_negative_elbo, to_tensor, train_gan, train_vae

VARIANTS = ("none", "L2 in Adam", "AdamW", "dropout")


def split_params(model: nn.Module):
    """(weights, others): matrices to decay, and biases (1-D) to leave alone."""
    weights = [p for p in model.parameters() if p.ndim >= 2]
    others = [p for p in model.parameters() if p.ndim < 2]
    return weights, others


def l2_penalty(params, wd: float):
    """wd / 2 * sum of squared weight entries (biases, the 1-D tensors, are skipped)."""
    return wd / 2 * sum((p**2).sum() for p in params if p.ndim >= 2)


def adamw(model: nn.Module, lr: float, wd: float, betas=(0.9, 0.999)) -> torch.optim.AdamW:
    """Decoupled weight decay on the weight matrices only (biases get weight_decay=0)."""
    weights, others = split_params(model)
    return torch.optim.AdamW([{"params": weights, "weight_decay": wd}, {"params": others, "weight_decay": 0.0}],
                             lr=lr, betas=tuple(betas), eps=1e-8)


def train_vae_variant(variant: str, x_train, x_val, cfg, seed: int, desc=None, x_test=None,
                      l2_penalty_fn=None) -> dict:
    """Train one VAE of lesson 01 and return its history and final numbers.

    ``none``: Adam. ``L2 in Adam``: Adam on nELBO + ``l2_penalty_fn(list(model.parameters()),
    cfg.wd_l2)`` (the notebook passes the learner's function as its checker returned it; this
    module's :func:`l2_penalty` by default). ``AdamW``: decoupled decay wd_adamw on weights.
    ``dropout``: Adam with dropout after every hidden layer.
    ``history["train_eval"]`` is the nELBO on the whole training subset in eval mode (no
    dropout, one fixed noise draw), measured at the same steps as ``val_loss``. With ``x_test``,
    the result also holds ``"test"``, the test nELBO over ``cfg.elbo_samples`` noise draws.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    torch.manual_seed(seed)
    model = VAE(z_dim=cfg.vae_z_dim, hidden=cfg.vae_hidden, dropout=cfg.dropout if variant == "dropout" else 0.0)
    optimizer = adamw(model, cfg.vae_lr, cfg.wd_adamw) if variant == "AdamW" else _adam(model.parameters(), cfg.vae_lr)
    l2 = l2_penalty_fn or l2_penalty
    penalty = (lambda m: l2(list(m.parameters()), cfg.wd_l2)) if variant == "L2 in Adam" else None
    history = train_vae(model, x_train, cfg.vae_steps, cfg.batch_size, cfg.vae_lr, seed, x_val=x_val,
                        eval_every=cfg.eval_every, optimizer=optimizer, penalty_fn=penalty,
                        on_eval=lambda h: h.setdefault("train_eval", []).append(
                            test_negative_elbo(model, x_train, seed=0, n_samples=1)),
                        desc=desc or f"VAE {variant}, seed {seed}")
    out = {"history": history, "model": model,
           "train": test_negative_elbo(model, x_train, seed, cfg.elbo_samples),
           "val": test_negative_elbo(model, x_val, seed, cfg.elbo_samples),
           "weight_norm": float(sum((p.detach()**2).sum() for p in split_params(model)[0]).sqrt())}
    if x_test is not None:
        out["test"] = test_negative_elbo(model, x_test, seed, cfg.elbo_samples)
    return out


class RegDiscriminator(Discriminator):
    """The baseline discriminator, optionally with dropout after each hidden layer and/or
    spectral normalization of every Linear weight (one power iteration per training forward)."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128), spectral: bool = False, dropout: float = 0.0):
        super().__init__(in_dim, hidden)
        self.net = MLP([in_dim, *hidden, 1], activation=lambda: nn.LeakyReLU(0.2), dropout=dropout)
        if spectral:
            for i, layer in enumerate(self.net):
                if isinstance(layer, nn.Linear):
                    self.net[i] = spectral_norm(layer)


def real_score(D, x) -> tuple[float, float]:
    """(accuracy, mean sigmoid output) of D on real images ``x``, in eval mode."""
    was_training = D.training
    D.eval()
    with torch.no_grad():
        logits = D(to_tensor(x))
    D.train(was_training)
    return float((logits > 0).float().mean()), float(torch.sigmoid(logits).mean())


def d_logits(D, x) -> np.ndarray:
    """D's logits on images ``x`` as a NumPy array, in eval mode (spectral norm reuses its last estimate)."""
    was_training = D.training
    D.eval()
    with torch.no_grad():
        logits = D(to_tensor(x))
    D.train(was_training)
    return logits.detach().cpu().numpy().astype(np.float64)


def train_gan_variant(variant: str, x_train, x_val, cfg, seed: int, desc=None) -> dict:
    """Train one GAN of lesson 01 (``none``, ``spectral norm`` or ``dropout`` in D) and watch
    D's accuracy and mean output on training reals versus held-out reals. Returns the history,
    the networks ``G`` and ``D``, and :func:`gan_measures` (samples, FCD with precision and recall,
    D's gap, mean outputs and AUCs)."""
    torch.manual_seed(seed)
    from .models import Generator
    G = Generator(z_dim=cfg.gan_z_dim, hidden=cfg.gan_hidden)
    D = RegDiscriminator(spectral=variant == "spectral norm", dropout=cfg.d_dropout if variant == "dropout" else 0.0)

    def watch(_G):
        acc_train, p_train = real_score(D, x_train)
        acc_val, p_val = real_score(D, x_val)
        return {"acc_train": acc_train, "acc_val": acc_val, "p_train": p_train, "p_val": p_val}

    history = train_gan(G, D, x_train, cfg.gan_steps, cfg.batch_size, cfg.gan_lr, seed, cfg.gan_betas,
                        eval_every=cfg.gan_eval_every, eval_fn=watch, desc=desc or f"GAN {variant}, seed {seed}")
    return {"history": history, "G": G, "D": D, **gan_measures(G, D, x_train, x_val, history, seed)}


def gan_measures(G, D, x_train, x_val, history: dict, seed: int) -> dict:
    """What lesson 01 measures on a trained GAN (see :func:`course_lib.techniques.regularization.
    discriminator_report`): its samples, their FCD, precision and recall, and the discriminator's
    gap, mean outputs (fakes from fresh noise), memorisation AUC and real/fake AUC."""
    samples = sample_gan(G, metrics.n_eval(), seed)
    fakes = sample_gan(G, len(x_val), seed + 10_000)
    return {"samples": samples, **reg.discriminator_report(samples, d_logits(D, x_train), d_logits(D, x_val),
                                                            d_logits(D, fakes), history)}


def largest_singular_value(layer: nn.Linear) -> float:
    """Largest singular value of the weight the layer actually uses (after any parametrization)."""
    return float(torch.linalg.matrix_norm(layer.weight.detach(), ord=2))


RECIPES = ("torch.optim.AdamW(weight_decay=wd)", "torch.optim.Adam(weight_decay=wd)",
           "Adam, wd/2 * sum(w^2) in the loss")


def one_step(recipe: str, w, grad, lr: float, wd: float) -> np.ndarray:
    """One optimizer step from a fresh state on a weight ``w`` whose loss has gradient ``grad``
    (the loss is ``sum(grad * w)``), following one of :data:`RECIPES`. Returns the new weight."""
    p = nn.Parameter(torch.tensor(np.asarray(w, dtype=np.float64)))
    if recipe == RECIPES[0]:
        opt = torch.optim.AdamW([p], lr=lr, weight_decay=wd, eps=1e-8)
    elif recipe == RECIPES[1]:
        opt = torch.optim.Adam([p], lr=lr, weight_decay=wd, eps=1e-8)
    elif recipe == RECIPES[2]:
        opt = torch.optim.Adam([p], lr=lr, eps=1e-8)
    else:
        raise ValueError(f"unknown recipe {recipe!r}; expected one of {RECIPES}")
    loss = (p * torch.tensor(np.asarray(grad, dtype=np.float64))).sum()
    if recipe == RECIPES[2]:
        loss = loss + wd / 2 * (p**2).sum()
    loss.backward()
    opt.step()
    return p.detach().numpy()
