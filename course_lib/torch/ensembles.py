"""Ensembles in the PyTorch track (lesson 09): a model's state for a moving average, GANs trained
stacked with moving averages of their generators riding along, mixtures of generators (sampled
uniformly, their outputs averaged, MGAN), and VAEs trained stacked with snapshots, scored by
importance sampling. The random numbers come from NumPy in the notebook's order, so a run draws
the same numbers alone or stacked, in either track; the TensorFlow track has the same names."""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from .. import data
from ..progress import progress
from ..runs.stacking import check_runs
from ..techniques import ensembles as _ens
from .models import Generator
from .stacked import Stacked
from .train import DEVICE, to_tensor


def ema_update(average, current, decay: float, is_buffer):
    """The reference moving-average update (the exercise's answer): a copy of ``current`` on the first call
    (``average`` None), then ``decay * average + (1 - decay) * current`` for weights, buffers copied."""
    if average is None:
        return [w.detach().clone() for w in current]
    return [w.detach().clone() if buf else decay * a + (1.0 - decay) * w.detach()
            for a, w, buf in zip(average, current, is_buffer)]


def state(model):
    """``(tensors, is_buffer)``: the model's parameters, then its buffers (BatchNorm's running statistics
    and batch counter), detached, and which of them are buffers (what a moving average copies)."""
    params, buffers = [p.detach() for p in model.parameters()], [b.detach() for b in model.buffers()]
    return params + buffers, [False] * len(params) + [True] * len(buffers)


@torch.no_grad()
def load_state(model, tensors):
    """Write ``tensors`` (as :func:`state` lists them) into ``model``."""
    for target, value in zip([*model.parameters(), *model.buffers()], tensors):
        target.copy_(value.to(target.dtype))
    return model


def snapshot(model):
    """A copy of the model's state now, as :func:`state` lists it (clones: later steps do not change it)."""
    return [t.clone() for t in state(model)[0]]


def copy_with(model, tensors):
    """A copy of ``model`` (in eval mode) holding ``tensors``, as :func:`state` lists them:
    to sample from an average."""
    return load_state(copy.deepcopy(model), tensors).eval()


def _gan_draws(xs, seeds, batch_size, z_dim):
    batches = [data.batch_indices(len(x), batch_size, s) for x, s in zip(xs, seeds)]
    rngs = [np.random.default_rng(s + 1) for s in seeds]
    return batches, rngs, (lambda n: to_tensor(np.stack([data.noise(n, z_dim, r) for r in rngs])))


def train_gans(Gs, Ds, xs, seeds, steps: int, batch_size: int, lr: float, betas, decays=(), ema_update=None,
               desc: str = "GANs"):
    """Run ``i`` trains ``Gs[i]`` against ``Ds[i]`` on ``xs[i]`` with ``seeds[i]`` (non-saturating GAN, Adam,
    one D step then one G step), all runs stacked, as the notebook's step would alone. After every G step,
    ``ema_update(average, current, decay, is_buffer)`` updates one moving average of the generators' weights
    per decay in ``decays``. Writes the weights back; returns ``{decay: copies of Gs holding the averages}``."""
    Gs, Ds, xs, seeds = list(Gs), list(Ds), list(xs), list(seeds)
    check_runs(Gs, Ds, xs, seeds)
    G, D = Stacked(Gs).to(DEVICE), Stacked(Ds).to(DEVICE)
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), lr=lr, betas=tuple(betas)) for m in (G, D))
    batches, _, noise = _gan_draws(xs, seeds, batch_size, G.z_dim)
    x_all, rows = torch.stack([to_tensor(x) for x in xs]), torch.arange(len(xs), device=DEVICE)[:, None]
    flags = [False] * len(list(G.parameters()))
    with torch.no_grad():
        averages = {d: ema_update(None, [p.detach() for p in G.parameters()], d, flags) for d in decays}
    for _ in progress(range(steps), desc=desc):
        real = x_all[rows, torch.from_numpy(np.stack([next(b) for b in batches])).to(DEVICE)]
        with torch.no_grad():
            fake = G(noise(batch_size))
        d_loss = F.softplus(-D(real)).mean(-1) + F.softplus(D(fake)).mean(-1)
        opt_d.zero_grad(set_to_none=True)
        d_loss.sum().backward()  # per-run means summed: each run gets its own gradient
        opt_d.step()
        g_loss = F.softplus(-D(G(noise(batch_size)))).mean(-1)
        opt_g.zero_grad(set_to_none=True)
        g_loss.sum().backward()
        opt_g.step()
        with torch.no_grad():
            current = [p.detach() for p in G.parameters()]
            averages = {d: ema_update(a, current, d, flags) for d, a in averages.items()}
    copies = {d: _stacked_copies(G, Gs, a) for d, a in averages.items()}
    G.unstack_into(Gs), D.unstack_into(Ds)
    for model in Gs + Ds:
        model.eval()
    return copies


@torch.no_grad()
def _stacked_copies(G, Gs, tensors):
    """Copies of the models ``Gs`` holding the stacked ``tensors`` (listed as ``G.parameters()``)."""
    copies = [copy.deepcopy(m) for m in Gs]
    holder = copy.deepcopy(G)
    for p, t in zip(holder.parameters(), tensors):
        p.copy_(t)
    holder.unstack_into(copies)
    for m in copies:
        m.eval()
    return copies


# --- mixtures of generators ---------------------------------------------------------------------


@torch.no_grad()
def sample_mixture(Gs, n: int, seed: int) -> np.ndarray:
    """``n`` samples of the uniform mixture of the generators ``Gs``: member ``k`` makes its share
    (:func:`course_lib.techniques.ensembles.member_counts`) from the noise of ``seed``."""
    z = to_tensor(data.noise(n, Gs[0].z_dim, seed))
    cuts = np.cumsum([0] + _ens.member_counts(n, len(Gs)))
    return np.concatenate([G.eval()(z[a:b]).cpu().numpy() for G, a, b in zip(Gs, cuts[:-1], cuts[1:])])


@torch.no_grad()
def sample_averaged(Gs, n: int, seed: int) -> np.ndarray:
    """The naive "ensemble": the mean of the generators' outputs for the same noise."""
    z = to_tensor(data.noise(n, Gs[0].z_dim, seed))
    return torch.stack([G.eval()(z) for G in Gs]).mean(0).cpu().numpy()


def classifier(k: int, hidden, seed: int):
    """MGAN's classifier: 2-D points to ``k`` logits (which generator made the point), an MLP built as a
    linear-output :class:`Generator` so that :class:`Stacked` can batch it."""
    torch.manual_seed(seed)
    return Generator(z_dim=2, hidden=hidden, out_dim=k, output="linear")


def train_mgan(Gs, Ds, Cs, xs, seeds, k: int, steps: int, batch_size: int, lr: float, betas, beta: float,
               desc: str = "MGAN"):
    """MGAN (Hoang et al. 2018), small: run ``s`` trains the ``k`` generators ``Gs[s*k:(s+1)*k]`` against one
    discriminator ``Ds[s]`` and one classifier ``Cs[s]`` on ``xs[s]``. Each generator makes ``batch_size // k``
    fakes a step; D sees the mixture, C learns which generator made each fake, and the generators minimise
    the non-saturating loss plus ``beta`` times C's cross-entropy (they want to be told apart)."""
    Gs, Ds, Cs, xs, seeds = list(Gs), list(Ds), list(Cs), list(xs), list(seeds)
    check_runs(Ds, Cs, xs, seeds)
    S, m = len(seeds), batch_size // k
    G, D, C = (Stacked(M).to(DEVICE) for M in (Gs, Ds, Cs))
    opt_g, opt_d, opt_c = (torch.optim.Adam(M.parameters(), lr=lr, betas=tuple(betas)) for M in (G, D, C))
    batches, _, noise = _gan_draws(xs, seeds, k * m, G.z_dim)
    x_all, rows = torch.stack([to_tensor(x) for x in xs]), torch.arange(S, device=DEVICE)[:, None]
    labels = torch.arange(k, device=DEVICE).repeat_interleave(m).repeat(S)  # which generator, per fake

    def fakes():  # (S, k*m, 2): each seed's k generators, m fakes each, from that seed's noise
        return G(noise(k * m).reshape(S * k, m, -1)).reshape(S, k * m, -1)

    def ce(fake):  # C's cross-entropy per seed, averaged over its fakes
        return F.cross_entropy(C(fake).reshape(S * k * m, k), labels, reduction="none").reshape(S, -1).mean(-1)

    for _ in progress(range(steps), desc=desc):
        real = x_all[rows, torch.from_numpy(np.stack([next(b) for b in batches])).to(DEVICE)]
        with torch.no_grad():
            fake = fakes()
        d_loss = F.softplus(-D(real)).mean(-1) + F.softplus(D(fake)).mean(-1)
        c_loss = ce(fake)
        for opt, loss in ((opt_d, d_loss), (opt_c, c_loss)):
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
        fake = fakes()
        g_loss = F.softplus(-D(fake)).mean(-1) + beta * ce(fake)
        opt_g.zero_grad(set_to_none=True)
        g_loss.sum().backward()
        opt_g.step()
    G.unstack_into(Gs), D.unstack_into(Ds), C.unstack_into(Cs)
    for model in Gs + Ds + Cs:
        model.eval()


# --- VAE ensembles ---------------------------------------------------------------------------------


def new_vae(seed: int, hidden, z_dim: int, x_dim: int = 64):
    """A VAE as two MLPs (lesson 00's shapes, so :class:`Stacked` can batch them): an encoder to
    ``(mu, logvar)`` and a decoder to Bernoulli logits, initialised from ``seed``."""
    torch.manual_seed(seed)
    encoder = Generator(z_dim=x_dim, hidden=hidden, out_dim=2 * z_dim, output="linear")
    return encoder, Generator(z_dim=z_dim, hidden=tuple(reversed(hidden)), out_dim=x_dim, output="linear")


def _log_weights(enc, dec, x, eps):
    """Importance weights ``log p(x|z) + log p(z) - log q(z|x)`` for ``z = mu + sigma eps``; stacked
    members: ``x`` (k, n, 64), ``eps`` (k, S, n, z) -> (k, S, n)."""
    mu, logvar = enc(x).chunk(2, dim=-1)
    z = mu[:, None] + torch.exp(0.5 * logvar)[:, None] * eps
    k, S, n, d = z.shape
    logits = dec(z.reshape(k, S * n, d)).reshape(k, S, n, -1)
    log_px = -F.binary_cross_entropy_with_logits(logits, x[:, None].expand_as(logits), reduction="none").sum(-1)
    log_pz = -0.5 * (z ** 2 + np.log(2 * np.pi)).sum(-1)
    log_qz = -0.5 * (eps ** 2 + np.log(2 * np.pi) + logvar[:, None]).sum(-1)
    return log_px + log_pz - log_qz


def train_vaes(encs, decs, x, seeds, steps: int, batch_size: int, lr: float, cycle: int, desc: str = "VAEs"):
    """Member ``i`` (``encs[i]``, ``decs[i]``) minimises the negative ELBO on ``x`` with ``seeds[i]``'s batches
    and noise, Adam at the snapshot ensembles' cosine-with-restarts rate (cycles of ``cycle`` steps); all
    members stacked. Returns the snapshots: per cycle end, copies of every member's ``(encoder, decoder)``."""
    encs, decs, seeds = list(encs), list(decs), list(seeds)
    check_runs(encs, decs, [x] * len(seeds), seeds)
    E, Dd = Stacked(encs).to(DEVICE), Stacked(decs).to(DEVICE)
    opt = torch.optim.Adam([*E.parameters(), *Dd.parameters()], lr=lr)
    batches, _, noise = _gan_draws([x] * len(seeds), seeds, batch_size, Dd.z_dim)
    x_all, snapshots = to_tensor(x), []
    for step in progress(range(steps), desc=desc):
        opt.param_groups[0]["lr"] = _ens.cosine_restarts(step, cycle, lr)
        xb = x_all[torch.from_numpy(np.stack([next(b) for b in batches])).to(DEVICE)]
        mu, logvar = E(xb).chunk(2, dim=-1)
        logits = Dd(mu + torch.exp(0.5 * logvar) * noise(batch_size))
        rec = F.binary_cross_entropy_with_logits(logits, xb, reduction="none").sum(-1)
        kl = -0.5 * (1.0 + logvar - mu ** 2 - logvar.exp()).sum(-1)
        opt.zero_grad(set_to_none=True)
        (rec + kl).mean(-1).sum().backward()  # per-member means summed: each member its own gradient
        opt.step()
        if (step + 1) % cycle == 0:
            snapshots.append(list(zip(_stacked_copies(E, encs, list(E.parameters())),
                                      _stacked_copies(Dd, decs, list(Dd.parameters())))))
    E.unstack_into(encs), Dd.unstack_into(decs)
    return snapshots


@torch.no_grad()
def log_likelihoods(members, x, n_samples: int, seed: int, chunk: int = 10):
    """Per member and test example: the importance-sampled estimate of ``log p(x)`` with ``n_samples``
    samples of ``q(z|x)`` (the IWAE bound, Burda et al. 2016) and the ELBO (its one-sample average),
    ``(K, n)`` each. ``members``: ``(encoder, decoder)`` pairs of one architecture; noise from ``seed``."""
    E, Dd = Stacked([m[0] for m in members]).to(DEVICE), Stacked([m[1] for m in members]).to(DEVICE)
    xk = to_tensor(x)[None].expand(len(members), -1, -1).contiguous()
    rng, logw = np.random.default_rng(seed), []
    for start in range(0, n_samples, chunk):
        s = min(chunk, n_samples - start)
        eps = to_tensor(rng.standard_normal((s, len(x), Dd.z_dim), dtype=np.float32))
        logw.append(_log_weights(E, Dd, xk, eps[None].expand(len(members), -1, -1, -1)))
    logw = torch.cat(logw, 1).double()
    iwae = torch.logsumexp(logw, 1) - np.log(n_samples)
    return iwae.cpu().numpy(), logw.mean(1).cpu().numpy()


def ensemble_log_likelihood(member_log_likelihoods):
    """The reference (the exercise's answer): log-mean-exp over the members, ``(K, n) -> (n,)``."""
    x = torch.as_tensor(member_log_likelihoods)
    return torch.logsumexp(x, 0) - np.log(x.shape[0])


def adapt(a):
    """Checker argument conversion: arrays (and lists of them) -> float32 tensors;
    None, numbers and flags as they are."""
    if isinstance(a, np.ndarray):
        return to_tensor(a)
    if isinstance(a, list) and a and isinstance(a[0], np.ndarray):
        return [to_tensor(x) for x in a]
    return a
