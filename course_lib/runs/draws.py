"""The random numbers a critic-based GAN run consumes (lesson 05), drawn from NumPy in a fixed
order: a batch of indices, noise for the fakes, interpolation weights, then noise for the
generator step. Both tracks' training loops use :class:`RunDraws`, so a run's numbers depend
on its seed only, not on the framework nor on whether it is trained alone or stacked with
others (:mod:`course_lib.torch.stacked`, :mod:`course_lib.tensorflow.stacked`)."""
from __future__ import annotations

import numpy as np

from .. import data
from ..techniques.penalties import interpolation_weights


class RunDraws:
    """Draws for runs with datasets of ``sizes`` rows and ``seeds``: batches from
    :func:`course_lib.data.batch_indices` (``seed``), noise and weights from one generator per run
    (``seed + 1``). ``stacked=False`` (one run) gives arrays shaped as for one model; ``True`` adds
    a leading run axis: indices ``(k, n)``, noise ``(k, n, z_dim)``, weights ``(k, n, 1)``."""

    def __init__(self, sizes, batch_size: int, seeds, z_dim: int, stacked: bool):
        sizes, seeds = list(sizes), list(seeds)
        if len(sizes) != len(seeds) or not sizes or (not stacked and len(sizes) != 1):
            raise ValueError(f"need one dataset size per seed (exactly one unless stacked), got {sizes} and {seeds}")
        self.stacked, self.z_dim = stacked, z_dim
        self._batches = [data.batch_indices(n, batch_size, seed) for n, seed in zip(sizes, seeds)]
        self._rngs = [np.random.default_rng(seed + 1) for seed in seeds]

    def _join(self, arrays):
        return np.stack(arrays) if self.stacked else arrays[0]

    def indices(self) -> np.ndarray:
        return self._join([next(b) for b in self._batches])

    def noise(self, n: int) -> np.ndarray:
        return self._join([data.noise(n, self.z_dim, rng) for rng in self._rngs])

    def weights(self, n: int) -> np.ndarray:
        return self._join([interpolation_weights(n, rng) for rng in self._rngs])

