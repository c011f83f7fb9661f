"""Conditional generative models for lesson 08 (multi-task learning), PyTorch track: a generator
conditioned on a label, the two discriminators of the comparison (the label concatenated to the input,
or AC-GAN's shared trunk with a source head and a class head), a VAE whose encoder also feeds a class
head, and :func:`train_conditional_gans`, which trains several runs (seeds, auxiliary weights) as one
stacked network, making the updates of the notebook's ``d_step`` and ``g_step`` run after run.

The random numbers come from NumPy (:mod:`course_lib.techniques.multitask`) in the order of the
notebook's loop: the batch indices, then for D's step the noise and the fakes' labels, then for G's
step the same. The TensorFlow track has the same names.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import data
from ..progress import progress
from ..techniques import multitask as _mt
from .models import MLP, VAE, init_weights
from .train import DEVICE, to_tensor


def one_hot(y, n_classes: int = _mt.N_CLASSES):
    return F.one_hot(torch.as_tensor(y, device=DEVICE).long(), n_classes).float()


class ConditionalGenerator(nn.Module):
    """Noise and a label to data: the label's one-hot code is concatenated to the noise."""

    def __init__(self, z_dim: int = 16, hidden=(128, 256), out_dim: int = 64, n_classes: int = _mt.N_CLASSES,
                 output: str = "sigmoid"):
        super().__init__()
        self.z_dim, self.n_classes, self.output = z_dim, n_classes, output
        self.net = MLP([z_dim + n_classes, *hidden, out_dim])

    def forward(self, z, y):
        out = self.net(torch.cat([z, one_hot(y, self.n_classes)], dim=-1))
        return torch.sigmoid(out) if self.output == "sigmoid" else out

    def plan(self):
        lins = [m for m in self.net if isinstance(m, nn.Linear)]
        return [([lin], "relu") for lin in lins[:-1]] + [([lins[-1]], self.output)]


def _trunk(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.LeakyReLU(0.2)]
    return nn.Sequential(*layers)


class ConcatDiscriminator(nn.Module):
    """(data, label) to one logit: the label's one-hot code is concatenated to the input."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128), n_classes: int = _mt.N_CLASSES):
        super().__init__()
        self.n_classes = n_classes
        self.trunk, self.source = _trunk([in_dim + n_classes, *hidden]), nn.Linear(hidden[-1], 1)
        self.apply(init_weights)

    def forward(self, x, y):
        return self.source(self.trunk(torch.cat([x, one_hot(y, self.n_classes)], dim=-1))).squeeze(-1)

    def plan(self):
        return [([lin], "leaky") for lin in self.trunk if isinstance(lin, nn.Linear)] + [([self.source], "linear")]


class ACDiscriminator(nn.Module):
    """AC-GAN's discriminator: one shared trunk, two heads. Data to (source logit ``(n,)``, class
    logits ``(n, n_classes)``); the label is not an input."""

    def __init__(self, in_dim: int = 64, hidden=(256, 128), n_classes: int = _mt.N_CLASSES):
        super().__init__()
        self.trunk = _trunk([in_dim, *hidden])
        self.source, self.classes = nn.Linear(hidden[-1], 1), nn.Linear(hidden[-1], n_classes)
        self.apply(init_weights)

    def forward(self, x):
        h = self.trunk(x)
        return self.source(h).squeeze(-1), self.classes(h)

    def plan(self):  # the two heads side by side: one (hidden, 1 + n_classes) layer in the stack
        return ([([lin], "leaky") for lin in self.trunk if isinstance(lin, nn.Linear)]
                + [([self.source, self.classes], "linear")])


class MultitaskVAE(VAE):
    """A VAE whose encoder's mean also feeds a linear class head: one encoder, two tasks."""

    def __init__(self, x_dim: int = 64, z_dim: int = 8, hidden=(256, 128), n_classes: int = _mt.N_CLASSES):
        super().__init__(x_dim, z_dim, hidden)
        self.head = nn.Linear(z_dim, n_classes)
        init_weights(self.head)

    def classify(self, x):
        return self.head(self.encode(x)[0])


# --- several runs as one stacked network ------------------------------------------------------


class StackedNet(nn.Module):
    """``k`` models of one architecture (their ``plan()``: layers side by side, then an activation) as
    one module over inputs ``(k, n, d)``, with batched matrix products. Each member keeps its own
    weights; with per-member mean losses summed, each gets the gradient (and the Adam step) of a
    separate run."""

    def __init__(self, members):
        super().__init__()
        plans = [m.plan() for m in members]
        self.acts = [act for _, act in plans[0]]
        self.weights = nn.ParameterList(nn.Parameter(torch.stack(
            [torch.cat([lin.weight.detach().T for lin in p[i][0]], 1) for p in plans]).contiguous())
            for i in range(len(self.acts)))
        self.biases = nn.ParameterList(nn.Parameter(torch.stack(
            [torch.cat([lin.bias.detach() for lin in p[i][0]])[None] for p in plans]).contiguous())
            for i in range(len(self.acts)))

    def forward(self, x):
        for W, b, act in zip(self.weights, self.biases, self.acts):
            x = torch.baddbmm(b, x, W)
            activation = {"relu": F.relu, "leaky": lambda t: F.leaky_relu(t, 0.2), "sigmoid": torch.sigmoid}
            x = activation.get(act, lambda t: t)(x)
        return x

    @torch.no_grad()
    def unstack_into(self, members) -> None:
        for i, model in enumerate(members):
            for (lins, _), W, b in zip(model.plan(), self.weights, self.biases):
                start = 0
                for lin in lins:
                    width = lin.weight.shape[0]
                    lin.weight.copy_(W[i, :, start:start + width].T)
                    lin.bias.copy_(b[i, 0, start:start + width])
                    start += width


def _ce(logits, y):  # per-sample cross-entropy over the last axis, any leading axes
    return torch.logsumexp(logits, -1) - torch.gather(logits, -1, y[..., None])[..., 0]


def train_conditional_gans(Gs, Ds, xs, ys, seeds, weights, steps: int, batch_size: int, lr: float, betas,
                           eval_fn=None, eval_every: int = 0, desc: str = "runs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` on ``(xs[i], ys[i])`` with ``seeds[i]`` (Adam, one D
    step then one G step per batch), as the notebook's step would alone; all runs step together. All
    discriminators are :class:`ConcatDiscriminator` (``weights`` unused) or all :class:`ACDiscriminator`
    (``weights[i]``: run i's auxiliary weight, 0 = no class loss). Writes the weights back. With
    ``eval_fn(G, i)``, every ``eval_every`` steps: returns ``{"step": [...], "values": (runs, evaluations)}``."""
    Gs, Ds = list(Gs), list(Ds)
    ac = isinstance(Ds[0], ACDiscriminator)
    if any(isinstance(D, ACDiscriminator) != ac for D in Ds) or len({len(Gs), len(Ds), len(xs), len(seeds)}) != 1:
        raise ValueError("need one generator, discriminator (all of one kind), data set and seed per run")
    G, D = StackedNet(Gs).to(DEVICE), StackedNet(Ds).to(DEVICE)
    k, n_classes = len(Gs), Gs[0].n_classes
    w = torch.as_tensor(np.broadcast_to(np.asarray(weights, np.float32), (k,)).copy(), device=DEVICE)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=tuple(betas))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=tuple(betas))
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    x_all, y_all = torch.stack([to_tensor(x) for x in xs]), torch.stack([torch.as_tensor(y) for y in ys]).to(DEVICE)
    rows = torch.arange(k, device=DEVICE)[:, None]

    def draws(n):
        z, y = zip(*[_mt.draw_fakes(n, Gs[0].z_dim, rng, n_classes) for rng in rngs])
        y = torch.from_numpy(np.stack(y)).to(DEVICE)
        return torch.cat([to_tensor(np.stack(z)), one_hot(y, n_classes)], -1), y

    def judge(x, y):  # (source logits (k, n), class logits or None)
        out = D(x) if ac else D(torch.cat([x, one_hot(y, n_classes)], -1))
        return out[..., 0], (out[..., 1:] if ac else None)

    history = {"step": [], "values": []}
    for step in progress(range(1, steps + 1), desc=desc):
        idx = torch.from_numpy(np.stack([next(b) for b in batches])).to(DEVICE)
        real, y_real = x_all[rows, idx], y_all[rows, idx]
        g_in, y_fake = draws(batch_size)
        with torch.no_grad():
            fake = G(g_in)
        (s_r, c_r), (s_f, c_f) = judge(real, y_real), judge(fake, y_fake)
        d_loss = F.softplus(-s_r).mean(-1) + F.softplus(s_f).mean(-1)
        if ac:
            d_loss = d_loss + w * (_ce(c_r, y_real).mean(-1) + _ce(c_f, y_fake).mean(-1))
        opt_d.zero_grad(set_to_none=True)
        d_loss.sum().backward()  # per-run means summed: each run gets its own gradient
        opt_d.step()
        g_in, y_fake = draws(batch_size)
        s_f, c_f = judge(G(g_in), y_fake)
        g_loss = F.softplus(-s_f).mean(-1) + (w * _ce(c_f, y_fake).mean(-1) if ac else 0.0)
        opt_g.zero_grad(set_to_none=True)
        g_loss.sum().backward()
        opt_g.step()
        if eval_fn is not None and step % eval_every == 0:
            G.unstack_into(Gs)
            history["step"].append(step), history["values"].append([eval_fn(g, i) for i, g in enumerate(Gs)])
    G.unstack_into(Gs), D.unstack_into(Ds)
    for model in Gs + Ds:
        model.eval()
    history["values"] = np.array(history["values"], dtype=float).T.reshape(len(Gs), -1)
    return history


@torch.no_grad()
def sample(G, labels, seed: int = 0) -> np.ndarray:
    """Samples of ``G`` for the requested ``labels``, from NumPy noise with ``seed``."""
    G.eval()
    z = to_tensor(data.noise(len(labels), G.z_dim, seed))
    return G(z, torch.as_tensor(np.asarray(labels), device=DEVICE)).cpu().numpy()


@torch.no_grad()
def latent_means(vae, x) -> np.ndarray:
    vae.eval()
    return vae.encode(to_tensor(x))[0].cpu().numpy()


def acgan_d_loss(src_real, cls_real, y_real, src_fake, cls_fake, y_fake, weight):
    """AC-GAN's discriminator loss on its two heads' outputs
    (see :func:`course_lib.techniques.multitask.acgan_d_loss`)."""
    source = F.softplus(-src_real).mean() + F.softplus(src_fake).mean()
    return source + weight * (F.cross_entropy(cls_real, y_real) + F.cross_entropy(cls_fake, y_fake))


def acgan_g_loss(src_fake, cls_fake, y_fake, weight):
    """AC-GAN's generator loss: fakes judged real and classified as the label they were made for."""
    return F.softplus(-src_fake).mean() + weight * F.cross_entropy(cls_fake, y_fake)


# --- the checkers' side ----------------------------------------------------------------------


def adapt(a):
    """Checker argument conversion: float arrays -> float32 tensors, integer arrays (labels) -> int64
    tensors, a :class:`~course_lib.exercises.lesson08_multitask.Losses` -> a list of scalar tensors."""
    from ..exercises.lesson08_multitask import Losses

    if isinstance(a, Losses):
        return [to_tensor(v) for v in a.values]
    if isinstance(a, np.ndarray):
        return torch.from_numpy(a.astype(np.int64)).to(DEVICE) if a.dtype.kind in "iu" else to_tensor(a)
    return a
