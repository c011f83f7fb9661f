"""Transfer learning for the PyTorch track (lesson 07): the shipped pretrained weights loaded into the
course's models, freezing a network's lower layers, and fine-tuning several runs as one stacked network.

The TensorFlow track's :mod:`course_lib.tensorflow.transfer` has the same names. Weights travel as
``[(kernel, bias), ...]`` NumPy pairs with ``kernel`` of shape ``(inputs, outputs)``
(:mod:`course_lib.pretrained`); a ``Linear.weight`` is its transpose.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import pretrained as _pretrained
from ..progress import progress
from ..runs.draws import RunDraws
from ..runs.history import RunningHistories
from ..runs.stacking import check_runs
from .models import VAE, Critic, Generator
from .stacked import Stacked
from .train import DEVICE, to_tensor

NORMS = (nn.BatchNorm1d, nn.LayerNorm)


def dense_layers(model: nn.Module) -> list:
    """The model's ``Linear`` layers, input side first."""
    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def blocks(model: nn.Module) -> list[list[nn.Module]]:
    """The model's layers as blocks, input side first: each ``Linear`` with the normalization layer
    that follows it, if any (what "the lower k layers" means when freezing)."""
    out = []
    for m in model.modules():
        if isinstance(m, nn.Linear):
            out.append([m])
        elif isinstance(m, NORMS) and out:
            out[-1].append(m)
    return out


@torch.no_grad()
def load_layers(model: nn.Module, layers) -> nn.Module:
    """Copy ``[(kernel, bias), ...]`` into the model's Linear layers (copies: the arrays stay as they are)."""
    linears = dense_layers(model)
    if len(linears) != len(layers):
        raise ValueError(f"the model has {len(linears)} Linear layers, the weights {len(layers)}")
    for lin, (kernel, bias) in zip(linears, layers):
        lin.weight.copy_(torch.as_tensor(np.asarray(kernel).T))
        lin.bias.copy_(torch.as_tensor(np.asarray(bias)))
    return model


def export_layers(model: nn.Module) -> list[tuple[np.ndarray, np.ndarray]]:
    """The model's Linear layers as ``[(kernel, bias), ...]`` float32 NumPy copies."""
    return [(lin.weight.detach().cpu().numpy().T.copy(), lin.bias.detach().cpu().numpy().copy())
            for lin in dense_layers(model)]


def _arch(model: str, net: str) -> dict:
    return _pretrained.manifest()["models"][model]["architecture"][net]


def new_gan(seed: int | None = None):
    """A fresh (randomly initialised) generator and discriminator of the pretrained GAN's architecture
    (the discriminator is a :class:`Critic` without normalization: LeakyReLU(0.2), one logit)."""
    if seed is not None:
        torch.manual_seed(seed)
    g, d = _arch("gan", "generator"), _arch("gan", "discriminator")
    return (Generator(z_dim=g["sizes"][0], hidden=tuple(g["sizes"][1:-1]), out_dim=g["sizes"][-1]).to(DEVICE),
            Critic(in_dim=d["sizes"][0], hidden=tuple(d["sizes"][1:-1])).to(DEVICE))


def pretrained_gan():
    """The shipped GAN, pretrained on printed digits: ``(generator, discriminator)``."""
    G, D = new_gan()
    weights = _pretrained.load("gan")
    return load_layers(G, weights["generator"]), load_layers(D, weights["discriminator"])


def new_vae(seed: int | None = None) -> VAE:
    """A fresh VAE of the pretrained VAE's architecture."""
    if seed is not None:
        torch.manual_seed(seed)
    enc = _arch("vae", "encoder")["sizes"]
    return VAE(x_dim=enc[0], z_dim=enc[-1] // 2, hidden=tuple(enc[1:-1])).to(DEVICE)


def pretrained_vae() -> VAE:
    """The shipped VAE, pretrained on printed digits."""
    vae, weights = new_vae(), _pretrained.load("vae")
    load_layers(vae.encoder, weights["encoder"])
    load_layers(vae.decoder, weights["decoder"])
    return vae


def freeze_lower(model: nn.Module, k: int) -> list:
    """Freeze the lower ``k`` blocks (no gradients; normalization layers in eval mode, so their running
    statistics stay as they are) and return the parameters that still train, for the optimizer."""
    for block in blocks(model)[:k]:
        for layer in block:
            layer.requires_grad_(False)
            if isinstance(layer, NORMS):
                layer.eval()
    return [p for p in model.parameters() if p.requires_grad]


def fine_tune_gans(Gs, Ds, x, steps: int, batch_size: int, seeds, lr: float, betas=(0.5, 0.999),
                   freeze: int = 0, eval_fn=None, eval_every: int = 250, desc: str | None = None):
    """Non-saturating GAN training of run ``i`` (``Gs[i]`` against ``Ds[i]`` on ``x``, ``seeds[i]``), all
    runs as one :class:`~course_lib.torch.stacked.Stacked` network, with the discriminator's lower
    ``freeze`` layers frozen (left out of its optimizer). One discriminator step on a fresh batch, then
    one generator step, Adam at ``lr`` for both. Draws as :class:`~course_lib.runs.draws.RunDraws`:
    indices, the fakes' noise, the generator step's noise. ``eval_fn(G)`` (a plain generator, eval
    mode) runs every ``eval_every`` steps and at the end; returns one history per run with
    ``step``, ``d_loss``, ``g_loss``, ``seconds`` (training time so far) and ``eval_fn``'s keys."""
    import time
    Gs, Ds, seeds = list(Gs), list(Ds), list(seeds)
    check_runs(Gs, Ds, [x] * len(Gs), seeds)
    G, D = Stacked(Gs).to(DEVICE), Stacked(Ds).to(DEVICE)
    trainable = [p for i, pair in enumerate(zip(D.weights, D.biases)) if i >= freeze for p in pair]
    for i, pair in enumerate(zip(D.weights, D.biases)):
        for p in pair:
            p.requires_grad_(i >= freeze)
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=tuple(betas), eps=1e-8)
    opt_d = torch.optim.Adam(trainable, lr=lr, betas=tuple(betas), eps=1e-8)
    x_all = to_tensor(np.stack([x] * len(Gs)))
    draws = RunDraws([len(x)] * len(Gs), batch_size, seeds, G.z_dim, stacked=True)
    logs = RunningHistories(len(Gs), ["d_loss", "g_loss"], steps, eval_every)
    rows = torch.arange(len(Gs), device=DEVICE)[:, None]
    clock, bar = 0.0, progress(total=steps, desc=desc or f"fine-tune x{len(Gs)}")
    for step in range(1, steps + 1):
        start = time.perf_counter()
        real = x_all[rows, torch.from_numpy(draws.indices()).to(DEVICE)]
        with torch.no_grad():
            fake = G(to_tensor(draws.noise(real.shape[1])))
        d_loss = F.softplus(-D(real)).mean(-1) + F.softplus(D(fake)).mean(-1)
        opt_d.zero_grad(set_to_none=True)
        d_loss.sum().backward()
        opt_d.step()
        g_loss = F.softplus(-D(G(to_tensor(draws.noise(batch_size))))).mean(-1)
        opt_g.zero_grad(set_to_none=True)
        g_loss.sum().backward()
        opt_g.step()
        clock += time.perf_counter() - start
        bar.update()
        if logs.add(step, d_loss=d_loss.tolist(), g_loss=g_loss.tolist()):
            for log in logs.logs:
                log.append(seconds=clock)
            if eval_fn is not None:
                G.unstack_into(Gs)
                for log, member in zip(logs.logs, Gs):
                    member.eval()
                    log.append(**eval_fn(member))
    bar.close()
    G.unstack_into(Gs), D.unstack_into(Ds)
    for model in Gs + Ds:
        model.eval()
    return logs.histories


# --- the checkers' side (lesson 07's exercises): build, run and probe networks -------------------


def build_spec(spec):
    """The network a :class:`course_lib.exercises.lesson07_transfer.NetSpec` describes, freshly initialised."""
    from .models import MLP
    torch.manual_seed(spec.seed)
    sizes = list(spec.sizes)
    if spec.kind == "generator":
        return Generator(z_dim=sizes[0], hidden=tuple(sizes[1:-1]), out_dim=sizes[-1])
    if spec.kind == "critic":
        return Critic(in_dim=sizes[0], hidden=tuple(sizes[1:-1]), norm=spec.norm)
    return MLP(sizes)


@torch.no_grad()
def outputs(model, x) -> np.ndarray:
    """The model's outputs on the NumPy inputs ``x``, as NumPy."""
    return model(to_tensor(x)).cpu().numpy()


def independent_check(fn) -> str | None:
    """The loaded model must hold *copies* of the arrays, as trainable parameters."""
    from ..exercises.lesson07_transfer import load_cases
    spec, layers = load_cases()[0]
    kept = [(k.copy(), b.copy()) for k, b in layers]
    model = fn(build_spec(spec), layers)
    params = list(model.parameters())
    if len(params) != 2 * len(layers) or not all(p.requires_grad for p in params):
        return ("the loaded weights are no longer the model's trainable parameters: copy the arrays into the "
                "existing parameters (lin.weight.copy_(...) under torch.no_grad()) instead of replacing them.")
    with torch.no_grad():
        for p in params:
            p.add_(1.0)  # what training does to them, in place
    if any(not (np.array_equal(k, k0) and np.array_equal(b, b0)) for (k, b), (k0, b0) in zip(layers, kept)):
        return ("training the model changed the NumPy arrays you loaded from: the parameters share memory with "
                "them (torch.from_numpy, or .data = ...). Copy them (weight.copy_(torch.as_tensor(kernel.T))), so "
                "the pretrained weights stay as they were for the next run.")
    return None


def _block_state(blocks_):
    weights, stats = [], []
    for block in blocks_:
        weights.append([p.detach().clone() for layer in block for p in layer.parameters(recurse=False)])
        stats.append([b.detach().clone() for layer in block if isinstance(layer, NORMS)
                      for b in (getattr(layer, "running_mean", None), getattr(layer, "running_var", None))
                      if b is not None])
    return weights, stats


def freeze_probe(fn, spec, k) -> np.ndarray:
    """Build ``spec``'s discriminator, call the learner's ``fn(D, k)``, give what it returned to Adam, take a
    few non-saturating steps in training mode and report what changed (see ``freeze_truth``)."""
    from ..exercises.lesson07_transfer import FREEZE_STEPS
    D = build_spec(spec)
    rng = np.random.default_rng(spec.seed)
    batches = [(rng.normal(size=(8, spec.sizes[0])), rng.normal(0.5, 1.0, size=(8, spec.sizes[0])))
               for _ in range(FREEZE_STEPS)]
    params = fn(D, k)
    if params is None:
        raise ValueError("it returned None: return the parameters that still train, for the optimizer")
    params = list(params)
    trainable = [p for p in D.parameters() if p.requires_grad]
    exact = len(params) == len(trainable) and {id(p) for p in params} == {id(p) for p in trainable}
    before = _block_state(blocks(D))
    opt = torch.optim.Adam(params, lr=0.05)
    for real, fake in batches:  # the model's mode is what fn left: training mode unless it changed it
        loss = F.softplus(-D(to_tensor(real))).mean() + F.softplus(D(to_tensor(fake))).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    after = _block_state(blocks(D))
    changed = lambda a, b: float(any(not torch.equal(x, y) for x, y in zip(a, b)))  # noqa: E731
    rows = [v for w0, s0, w1, s1 in zip(*before, *after) for v in (changed(w0, w1), changed(s0, s1))]
    return np.array(rows + [float(exact)])
