"""Training loops, losses and sampling for the PyTorch track.

The data set lives on the device as one tensor; batches are index arrays from
:func:`course_lib.data.batch_indices` and noise comes from NumPy, so both tracks see the
same batches and the same noise for a given seed.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .. import data
from ..exercises.gradient_check import Autodiff, NotATensor
from ..progress import progress
from ..runs.history import RunningHistory

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def to_tensor(a) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float32), device=DEVICE)


def reparameterize(mu, logvar, eps):
    """z = mu + sigma * eps with sigma = exp(logvar / 2): differentiable in mu and logvar."""
    return mu + torch.exp(0.5 * logvar) * eps


def negative_elbo(x, logits, mu, logvar):
    """Per example, in nats: Bernoulli reconstruction (summed over pixels) + KL(q(z|x) || N(0, I))."""
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(dim=1)
    kl = -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)
    return rec + kl


def _vae_loss(model, x, eps, reparam, nelbo):
    mu, logvar = model.encode(x)
    return nelbo(x, model.decode(reparam(mu, logvar, eps)), mu, logvar)


def test_negative_elbo(model, x, seed: int = 0, n_samples: int = 10) -> float:
    """Mean negative ELBO in nats over ``x``, averaged over ``n_samples`` noise draws."""
    x = to_tensor(x)
    rng = np.random.default_rng(seed)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        vals = [_vae_loss(model, x, to_tensor(data.noise(len(x), model.z_dim, rng)), reparameterize, negative_elbo)
                .mean().item() for _ in range(n_samples)]
    model.train(was_training)
    return float(np.mean(vals))


def _adam(params, lr, betas=(0.9, 0.999), weight_decay=0.0):
    # eps=1e-8 stated explicitly: Keras' default is 1e-7, and both tracks should match.
    return torch.optim.Adam(params, lr=lr, betas=tuple(betas), eps=1e-8, weight_decay=weight_decay)


def train_vae(model, x_train, steps: int, batch_size: int, lr: float, seed: int, x_val=None,
              eval_every: int = 250, reparameterize_fn=None, negative_elbo_fn=None, optimizer=None,
              desc: str = "VAE", scheduler=None, on_eval=None, record_lr: bool = False, penalty_fn=None):
    """Minimise the mean negative ELBO with Adam. Returns a history dict.

    ``history["step"]``, ``["loss"]`` (mean training nELBO since the last record) and, when
    ``x_val`` is given, ``["val_loss"]`` (validation nELBO). ``reparameterize_fn`` and
    ``negative_elbo_fn`` let a notebook train with the learner's own functions.
    ``scheduler`` (a ``torch.optim.lr_scheduler`` built on ``optimizer``) is stepped once per
    training step, after ``optimizer.step()``; ``on_eval(history)`` runs after each record (e.g.
    to step a ``ReduceLROnPlateau`` on the validation loss); ``record_lr`` adds ``history["lr"]``.
    ``penalty_fn(model)``, when given, is added to the loss that is minimised (e.g. an L2 penalty);
    ``history["loss"]`` stays the nELBO alone.
    """
    reparam = reparameterize_fn or reparameterize
    nelbo = negative_elbo_fn or negative_elbo
    model.to(DEVICE)
    x_all = to_tensor(x_train)
    opt = optimizer or _adam(model.parameters(), lr)
    batches = data.batch_indices(len(x_all), batch_size, seed)
    rng = np.random.default_rng(seed + 1)
    log = RunningHistory(["loss"], steps, eval_every)
    model.train()
    bar = progress(range(1, steps + 1), desc=desc)
    for step in bar:
        x = x_all[torch.from_numpy(next(batches)).to(DEVICE)]
        loss = _vae_loss(model, x, to_tensor(data.noise(len(x), model.z_dim, rng)), reparam, nelbo).mean()
        opt.zero_grad(set_to_none=True)
        (loss if penalty_fn is None else loss + penalty_fn(model)).backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        if log.add(step, loss=loss.item()):
            if x_val is not None:
                log.append(val_loss=test_negative_elbo(model, x_val, seed=0, n_samples=1))
            if record_lr:
                log.append(lr=float(opt.param_groups[0]["lr"]))
            if on_eval is not None:
                on_eval(log.history)
            bar.set_postfix(loss=f"{log.last('loss'):.1f}")
    model.eval()
    return log.history


def train_gan(G, D, x_train, steps: int, batch_size: int, lr: float, seed: int, betas=(0.5, 0.999),
              lr_d: float | None = None, eval_every: int = 250, eval_fn=None, desc: str = "GAN"):
    """Non-saturating GAN: one discriminator step, then one generator step, per batch.

    Returns ``history`` with ``step``, ``d_loss``, ``g_loss`` (means since the last record)
    and, if ``eval_fn(G) -> dict`` is given, one list per key it returns.
    """
    G.to(DEVICE), D.to(DEVICE)
    x_all = to_tensor(x_train)
    opt_g = _adam(G.parameters(), lr, betas)
    opt_d = _adam(D.parameters(), lr_d or lr, betas)
    batches = data.batch_indices(len(x_all), batch_size, seed)
    rng = np.random.default_rng(seed + 1)
    log = RunningHistory(["d_loss", "g_loss"], steps, eval_every)
    G.train(), D.train()
    bar = progress(range(1, steps + 1), desc=desc)
    for step in bar:
        real = x_all[torch.from_numpy(next(batches)).to(DEVICE)]
        z = to_tensor(data.noise(len(real), G.z_dim, rng))
        fake = G(z)
        # Discriminator: real -> 1, fake -> 0, written with softplus on logits (stable BCE).
        d_loss = F.softplus(-D(real)).mean() + F.softplus(D(fake.detach())).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        # Generator, non-saturating: maximise log D(G(z)) rather than minimise log(1 - D(G(z))).
        g_loss = F.softplus(-D(fake)).mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        if log.add(step, d_loss=d_loss.item(), g_loss=g_loss.item()):
            if eval_fn is not None:
                log.append(**eval_fn(G))
                G.train()
            bar.set_postfix(d=f"{log.last('d_loss'):.2f}", g=f"{log.last('g_loss'):.2f}")
    G.eval(), D.eval()
    return log.history


def _sample(fn, module, n, seed, z_dim):
    was_training = module.training
    module.eval()
    with torch.no_grad():
        out = to_numpy(fn(to_tensor(data.noise(n, z_dim, seed))))
    module.train(was_training)
    return out


def sample_gan(G, n: int, seed: int = 0) -> np.ndarray:
    """``n`` generator samples as a NumPy array, from NumPy noise with ``seed``."""
    return _sample(G, G, n, seed, G.z_dim)


def sample_vae(model, n: int, seed: int = 0) -> np.ndarray:
    """``n`` VAE samples: the decoder's pixel means sigmoid(logits) for z ~ N(0, I)."""
    return _sample(lambda z: torch.sigmoid(model.decode(z)), model, n, seed, model.z_dim)


# --- the checkers' side: gradients of a learner's function ---------------------------------


def _sources(a) -> list:
    """The tensors of checker argument ``a`` to differentiate: a network's weight matrices, or ``a``
    itself (each tensor of a list), made to record gradients."""
    if isinstance(a, torch.nn.Module):
        return [p for p in a.parameters() if p.dim() > 1]
    tensors = list(a) if isinstance(a, (list, tuple)) else [a]
    return [t.requires_grad_(True) for t in tensors]


def gradients(fn, args, adapt, wrt, output, weights) -> dict:
    """The gradient of ``sum(weights * out)`` w.r.t. the arguments at the indices ``wrt``, where
    ``out`` is ``fn``'s result on ``adapt`` of the NumPy ``args`` (its element ``output`` if not
    None): ``{index: [array or None per tensor]}`` (see :class:`course_lib.exercises.gradient_check.Autodiff`)."""
    args = [adapt(a) for a in args]
    sources = {i: _sources(args[i]) for i in wrt}
    with torch.enable_grad():
        out = fn(*args)
    out = out[output] if output is not None and isinstance(out, (tuple, list)) else out
    if not torch.is_tensor(out):
        raise NotATensor(out)
    flat = [t for i in wrt for t in sources[i]]
    grads = iter(torch.autograd.grad((out * torch.as_tensor(weights, dtype=out.dtype, device=out.device)).sum(), flat,
                                     allow_unused=True) if out.requires_grad else [None] * len(flat))
    return {i: [None if g is None else to_numpy(g) for g in (next(grads) for _ in sources[i])] for i in wrt}


# The gradient check's words for how a PyTorch graph gets cut (course_lib.exercises.gradient_check).
AUTODIFF = Autodiff(gradients, plain=".item(), float() or .numpy()",
                    cut="computed under torch.no_grad(), with .detach() or through NumPy (.numpy(), then back to a "
                        "tensor)")
