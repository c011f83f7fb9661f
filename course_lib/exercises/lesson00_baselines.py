"""Lesson 00 exercises (baselines and measurement): ``frechet_distance``, ``reparameterize`` and
``negative_elbo``: the truths and the known mistakes, in NumPy."""
from __future__ import annotations

import numpy as np

from .. import metrics
from ..checks import Exercise, Mistake
from .gradient_check import Differentiable

# --- lesson 00: Fréchet distance -------------------------------------------------


def _frechet_cases():
    rng = np.random.default_rng(7)
    cases = []
    for n, d, shift in ((60, 3, 0.5), (80, 5, 2.0), (60, 2, 0.0)):
        a = rng.normal(size=(n, d)) @ rng.normal(size=(d, d))
        b = rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) + shift
        cases.append((a, b))
    return cases


def _fd_with(a, b, *, mean_term=True, sqrt_fn=None, cross=2.0, rowvar=False, root=False):
    mu_a, mu_b = a.mean(0), b.mean(0)
    s_a, s_b = np.cov(a, rowvar=rowvar), np.cov(b, rowvar=rowvar)
    if sqrt_fn is None:
        tr_cross = np.sqrt(np.clip(np.linalg.eigvals(s_a @ s_b).real, 0, None)).sum()
    else:
        tr_cross = np.trace(sqrt_fn(s_a, s_b))
    d = (mu_a - mu_b) @ (mu_a - mu_b) if mean_term else 0.0
    out = d + np.trace(s_a) + np.trace(s_b) - cross * tr_cross
    return np.sqrt(max(out, 0.0)) if root else out


FRECHET_MISTAKES = (
    Mistake("elementwise sqrt", lambda a, b: _fd_with(a, b, sqrt_fn=lambda s1, s2: np.sqrt(np.abs(s1 * s2))),
            "you took an element-wise square root of S1*S2. (S1 S2)^(1/2) is a *matrix* square root: "
            "use the eigenvalues of S1 @ S2 (sum of their square roots) or scipy.linalg.sqrtm."),
    Mistake("no mean term", lambda a, b: _fd_with(a, b, mean_term=False),
            "the term |mu1 - mu2|^2 is missing: two Gaussians with equal covariances but different means "
            "would get distance 0."),
    Mistake("cross term factor", lambda a, b: _fd_with(a, b, cross=1.0),
            "the cross term needs a factor 2: tr(S1 + S2 - 2 (S1 S2)^(1/2))."),
    Mistake("rows as variables", lambda a, b: _fd_with(a, b, rowvar=True) if len(a) == len(b) else np.nan,
            "np.cov treats each *row* as a variable by default, so you built an (n, n) covariance of samples. "
            "Pass rowvar=False (or use a.T)."),
    Mistake("square root of the distance", lambda a, b: _fd_with(a, b, root=True),
            "you returned the square root. The Fréchet distance used for FID/FCD is the squared "
            "2-Wasserstein distance: |mu1 - mu2|^2 + tr(...), no final sqrt."),
)


def frechet_distance(**kwargs) -> Exercise:
    return Exercise(
        name="frechet_distance",
        truth=metrics.frechet_distance,
        cases=_frechet_cases(),
        hints=(
            "Fit a Gaussian to each set: the mean of the rows and the covariance with np.cov(x, rowvar=False).",
            "d^2 = |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1 S2)^(1/2)).",
            "tr((S1 S2)^(1/2)) is the sum of the square roots of the eigenvalues of S1 @ S2 "
            "(they are real and >= 0 up to round-off: take .real and clip at 0).",
        ),
        mistakes=FRECHET_MISTAKES,
        rtol=1e-5, atol=1e-6, **kwargs)


# --- lesson 00: the VAE's reparameterization and negative ELBO ----------------------


def _vae_cases(n=5, z=3):
    rng = np.random.default_rng(11)
    return [(rng.normal(size=(n, z)).astype(np.float32), rng.normal(scale=0.7, size=(n, z)).astype(np.float32),
             rng.normal(size=(n, z)).astype(np.float32)) for _ in range(2)]


def reparameterize_truth(mu, logvar, eps):
    return mu + np.exp(0.5 * logvar) * eps


REPARAMETERIZE_MISTAKES = (
    Mistake("variance as std", lambda mu, lv, eps: mu + np.exp(lv) * eps,
            "you scaled eps by exp(logvar), the *variance*. The standard deviation is exp(logvar / 2)."),
    Mistake("logvar as std", lambda mu, lv, eps: mu + lv * eps,
            "you used logvar itself as the standard deviation. sigma = exp(logvar / 2)."),
    Mistake("no noise", lambda mu, lv, eps: mu + 0 * eps,
            "the noise is missing: z = mu ignores the posterior's spread and turns the VAE into a plain autoencoder."),
    Mistake("no mean", lambda mu, lv, eps: np.exp(0.5 * lv) * eps,
            "the mean is missing: z = mu + sigma * eps."),
    Mistake("sqrt of logvar", lambda mu, lv, eps: mu + np.sqrt(np.abs(lv)) * eps,
            "sqrt(logvar) is not sigma: logvar is a log, so sigma = exp(logvar / 2)."),
)


def reparameterize(**kwargs) -> Exercise:
    return Exercise(
        name="reparameterize",
        truth=reparameterize_truth,
        cases=_vae_cases(),
        hints=(
            "The encoder predicts mu and log(sigma^2); "
            "write z as a deterministic function of them and of eps ~ N(0, I).",
            "sigma = exp(0.5 * logvar).",
            "z = mu + exp(0.5 * logvar) * eps",
        ),
        mistakes=REPARAMETERIZE_MISTAKES, differentiable=Differentiable(
            {0: "mu", 1: "logvar"}, why="The reparameterization trick exists to keep z differentiable in mu and "
            "logvar, so that the encoder learns through the sample."), **kwargs)


def _bce_with_logits(x, logits):
    # log(1 + exp(l)) - x * l, written to stay finite for large |l|.
    return np.maximum(logits, 0) - logits * x + np.log1p(np.exp(-np.abs(logits)))


def _kl(mu, logvar):
    return -0.5 * np.sum(1.0 + logvar - mu**2 - np.exp(logvar), axis=1)


def negative_elbo_truth(x, logits, mu, logvar):
    """Per example, in nats: Bernoulli reconstruction summed over pixels plus KL(q(z|x) || N(0, I))."""
    return _bce_with_logits(x, logits).sum(axis=1) + _kl(mu, logvar)


def _elbo_cases():
    rng = np.random.default_rng(5)
    cases = []
    for n in (4, 6):
        x = rng.random((n, 64)).astype(np.float32)
        x[:, :8] = 0.0  # digits have blank pixels: exact zeros must work
        logits = rng.normal(scale=2.0, size=(n, 64)).astype(np.float32)
        mu = rng.normal(size=(n, 3)).astype(np.float32)
        logvar = rng.normal(scale=0.5, size=(n, 3)).astype(np.float32)
        cases.append((x, logits, mu, logvar))
    return cases


def _sigmoid(lg):
    return 1.0 / (1.0 + np.exp(-lg))


NEGATIVE_ELBO_MISTAKES = (
    Mistake("batch mean", lambda x, lg, mu, lv: negative_elbo_truth(x, lg, mu, lv).mean(),
            "return one value per example (shape (n,)); average over the batch only when you build the training loss."),
    Mistake("mean over pixels", lambda x, lg, mu, lv: _bce_with_logits(x, lg).mean(axis=1) + _kl(mu, lv),
            "the reconstruction term is averaged over the 64 pixels instead of summed, which silently weights "
            "the KL term 64 times more (a hidden beta) and is not the ELBO in nats."),
    Mistake("no KL", lambda x, lg, mu, lv: _bce_with_logits(x, lg).sum(axis=1),
            "the KL term is missing: "
            "without it the encoder is free to ignore the prior and sampling from N(0, I) fails."),
    Mistake("KL sign", lambda x, lg, mu, lv: _bce_with_logits(x, lg).sum(axis=1) - _kl(mu, lv),
            "the KL term has the wrong sign: the negative ELBO *adds* KL(q || p) >= 0."),
    Mistake("sigmoid twice", lambda x, lg, mu, lv: _bce_with_logits(x, _sigmoid(lg)).sum(axis=1) + _kl(mu, lv),
            "you passed probabilities to a loss that expects logits (the seed's `from_logits=True` on a sigmoid "
            "output): the sigmoid is applied twice. Give the loss the raw logits."),
    Mistake("KL with std", lambda x, lg, mu, lv: _bce_with_logits(x, lg).sum(axis=1)
            - 0.5 * np.sum(1.0 + lv - mu**2 - np.exp(0.5 * lv), axis=1),
            "in the KL term, exp(logvar) is sigma^2 (the variance), not exp(logvar / 2)."),
)


def negative_elbo(**kwargs) -> Exercise:
    return Exercise(
        name="negative_elbo",
        truth=negative_elbo_truth,
        cases=_elbo_cases(),
        hints=(
            "Two terms per example: "
            "the reconstruction cost -log p(x|z) summed over pixels, plus KL(q(z|x) || N(0, I)).",
            "For Bernoulli pixels and decoder logits, -log p(x|z) is binary cross-entropy *with logits*, summed over "
            "the 64 pixels (reduction none, then sum over axis 1).",
            "KL = -0.5 * sum(1 + logvar - mu**2 - exp(logvar)) over the latent axis.",
        ),
        mistakes=NEGATIVE_ELBO_MISTAKES, rtol=1e-4, atol=1e-3, differentiable=Differentiable(
            {1: "logits", 2: "mu", 3: "logvar"}, why="This is the loss training differentiates: its gradient is "
            "how the decoder and the encoder learn."), **kwargs)
