"""Multi-task learning for generative models (lesson 08), the framework-neutral part: the NumPy
truths of the losses, the draws both tracks share, the 2-D two-class data with its closed forms, and
the metrics of class control. Imports neither PyTorch nor TensorFlow.

Multi-task learning is **one** network: a shared trunk, one head per task, trained on one weighted
sum of the tasks' losses, so the trunk's parameters receive gradient from every head. (Several
separate models, one per task, share nothing: that is an ensemble.) AC-GAN (Odena et al. 2017)
gives the discriminator a second head that classifies its input; the generator is rewarded for
samples that head classifies as the label it was given. Its known failure (Gong et al. 2019,
"Twin Auxiliary Classifiers GAN"): the class loss rewards samples that are *easy* to classify, so
where two classes overlap the generator under-samples the overlap and pushes the classes apart.
"""
from __future__ import annotations

import math

import numpy as np

N_CLASSES = 10
GAP = 1.5  # the 2-D classes' means are (0, 0) and (GAP, 0), both with unit covariance


# --- the losses, as NumPy truths (logits in, mean losses out) ---------------------------------


def softplus(t):
    return np.logaddexp(0.0, np.asarray(t, dtype=np.float64))


def cross_entropy(logits, labels) -> np.ndarray:
    """Per sample: ``logsumexp(logits) - logits[label]`` (softmax cross-entropy, in nats)."""
    z = np.asarray(logits, dtype=np.float64)
    top = z.max(axis=-1, keepdims=True)
    lse = top[..., 0] + np.log(np.exp(z - top).sum(axis=-1))
    return lse - np.take_along_axis(z, np.asarray(labels)[..., None].astype(np.int64), axis=-1)[..., 0]


def acgan_d_loss(src_real, cls_real, y_real, src_fake, cls_fake, y_fake, weight) -> float:
    """AC-GAN's discriminator loss: the source term (real -> 1, fake -> 0, on logits) plus ``weight``
    times the class term, the cross-entropy of the class head on the reals with their labels **and**
    on the fakes with the labels the generator was given (Odena et al. 2017, eq. 2-3)."""
    source = softplus(-np.asarray(src_real)).mean() + softplus(src_fake).mean()
    classes = cross_entropy(cls_real, y_real).mean() + cross_entropy(cls_fake, y_fake).mean()
    return float(source + weight * classes)


def acgan_g_loss(src_fake, cls_fake, y_fake, weight) -> float:
    """AC-GAN's generator loss: non-saturating source term (fakes judged real) plus ``weight`` times
    the class head's cross-entropy on the fakes with the labels the generator was given."""
    return float(softplus(-np.asarray(src_fake)).mean() + weight * cross_entropy(cls_fake, y_fake).mean())


def multitask_loss(losses, weights) -> float:
    """``sum_i w_i L_i / sum_i w_i``: a convex combination of the tasks' losses, so the weights set the
    balance between the tasks and not the size of the step (which scaling all weights would change)."""
    w = np.asarray(weights, dtype=np.float64)
    return float((w * np.asarray(losses, dtype=np.float64)).sum() / w.sum())


def combine(losses, weights):
    """:func:`multitask_loss` for any numbers that add and multiply (tensors of either framework)."""
    return sum(w * loss for w, loss in zip(weights, losses)) / sum(weights)


# --- the draws, from NumPy, in the same order in both tracks ---------------------------------


def draw_fakes(n: int, z_dim: int, rng: np.random.Generator, n_classes: int = N_CLASSES):
    """One step's generator inputs: noise ``(n, z_dim)`` float32, then labels ``(n,)`` int64, uniform
    over the classes and drawn independently of the real batch's labels."""
    z = rng.standard_normal((n, z_dim), dtype=np.float32)
    return z, rng.integers(0, n_classes, size=n).astype(np.int64)


def balanced_labels(n_per_class: int, n_classes: int = N_CLASSES) -> np.ndarray:
    """``n_per_class`` of each class, in order: the labels samples are requested for at evaluation."""
    return np.repeat(np.arange(n_classes), n_per_class).astype(np.int64)


def few_labels(y, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` examples of each class: the labelled few."""
    y = np.asarray(y)
    return np.sort(np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)]))


# --- 2-D: two overlapping Gaussian classes (the TAC-GAN setting), with closed forms ------------


def two_classes(n_per_class: int, seed: int, gap: float = GAP):
    """Class 0 ~ N((0, 0), I) and class 1 ~ N((gap, 0), I): points ``(2n, 2)`` float32 and labels."""
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1], n_per_class)
    x = rng.standard_normal((2 * n_per_class, 2)) + np.stack([gap * y, np.zeros_like(y)], 1)
    return x.astype(np.float32), y.astype(np.int64)


def _phi(t: float) -> float:
    return 0.5 * (1.0 + math.erf(t / math.sqrt(2.0)))


def true_overlap_share(gap: float = GAP) -> float:
    """The share of either class's points between the two means (``0 <= x_1 <= gap``): ``Phi(gap) - 1/2``."""
    return _phi(gap) - 0.5


def density(t, mean: float) -> np.ndarray:
    """A class's true density along ``x_1``: the unit normal around ``mean``."""
    t = np.asarray(t, dtype=np.float64)
    return np.exp(-0.5 * (t - mean) ** 2) / math.sqrt(2.0 * math.pi)


def class_geometry(samples, labels, gap: float = GAP) -> dict:
    """Along ``x_1``: the gap between the two classes' sample means (true: ``gap``), each class's
    standard deviation (true: 1) and the share of all samples between the true means (true:
    :func:`true_overlap_share`)."""
    x1, y = np.asarray(samples, dtype=np.float64)[:, 0], np.asarray(labels)
    a, b = x1[y == 0], x1[y == 1]
    return {"gap": float(b.mean() - a.mean()), "sd0": float(a.std(ddof=1)), "sd1": float(b.std(ddof=1)),
            "overlap": float(((x1 >= 0.0) & (x1 <= gap)).mean())}


# --- digits: class control and within-class diversity (the shipped classifier's view) ----------


def class_control(predicted, requested, n_classes: int = N_CLASSES) -> float:
    """Per requested class, the share of samples the classifier assigns to it; the mean over classes."""
    predicted, requested = np.asarray(predicted), np.asarray(requested)
    return float(np.mean([(predicted[requested == c] == c).mean() for c in range(n_classes)]))


def mean_pairwise_distance(features) -> float:
    """The mean Euclidean distance between two different rows of ``features``."""
    f = np.asarray(features, dtype=np.float64)
    sq = (f * f).sum(1)
    d = np.sqrt(np.clip(sq[:, None] + sq[None, :] - 2.0 * f @ f.T, 0.0, None))
    n = len(f)
    return float(d.sum() / (n * (n - 1)))


def within_class_diversity(features, labels, n_classes: int = N_CLASSES) -> np.ndarray:
    """Per class, the mean pairwise distance among its rows (feature space): how varied one class is."""
    labels = np.asarray(labels)
    return np.array([mean_pairwise_distance(np.asarray(features)[labels == c]) for c in range(n_classes)])


def diversity_ratio(features, requested, predicted, real_diversity, n_classes: int = N_CLASSES) -> float:
    """Within-class diversity of samples against real digits': per requested class, the mean pairwise
    distance among the samples the classifier agrees are of that class (all of the class's samples when
    fewer than 2 agree), over the same for real digits of the class (``real_diversity``); the mean over
    classes. 1: as varied as real digits of a class; below 1: less varied."""
    f, requested, predicted = np.asarray(features), np.asarray(requested), np.asarray(predicted)
    ratios = []
    for c in range(n_classes):
        rows = (requested == c) & (predicted == c)
        rows = rows if rows.sum() >= 2 else requested == c
        ratios.append(mean_pairwise_distance(f[rows]) / real_diversity[c])
    return float(np.mean(ratios))


# --- the VAE's latent space ----------------------------------------------------------------


def logistic_probe(z_train, y_train, z_test, y_test) -> float:
    """Test accuracy of a multinomial logistic regression (scikit-learn, L2 with C = 1, lbfgs) fitted
    on ``z_train``: a linear classifier on frozen features, the same capacity as a linear head."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=1.0, max_iter=2000).fit(np.asarray(z_train, np.float64), np.asarray(y_train))
    return float((model.predict(np.asarray(z_test, np.float64)) == np.asarray(y_test)).mean())


def pca_2d(z) -> np.ndarray:
    """The first two principal components of the rows of ``z`` (centred): a 2-D picture of a latent space."""
    z = np.asarray(z, dtype=np.float64)
    z = z - z.mean(0)
    _, _, vt = np.linalg.svd(z, full_matrices=False)
    return z @ vt[:2].T


def between_within_ratio(z, labels) -> float:
    """How far apart the classes sit in a space relative to their own spread: the mean squared distance
    of the class means from the overall mean over the mean squared distance of points from their
    class mean (a Fisher-style ratio; 0 when the classes are mixed)."""
    z, labels = np.asarray(z, dtype=np.float64), np.asarray(labels)
    means = {c: z[labels == c].mean(0) for c in np.unique(labels)}
    within = np.mean([((z[labels == c] - m) ** 2).sum(1).mean() for c, m in means.items()])
    between = np.mean([((m - z.mean(0)) ** 2).sum() for m in means.values()])
    return float(between / within)
