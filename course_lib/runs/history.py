"""The history a training loop returns: running means of per-step values, recorded every
``every`` steps and at the last step. Framework-neutral; every loop of both tracks uses it,
so their histories have the same shape and the same arithmetic."""
from __future__ import annotations


class RunningHistory:
    """``add(step, loss=..., ...)`` each step; it returns True when it has just recorded.

    ``history`` is a plain dict ``{"step": [...], key: [...]}``; :meth:`append` adds values
    measured at a record (validation loss, FCD, the learning rate) under their own keys.
    """

    def __init__(self, keys, steps: int, every: int):
        if every < 1:
            raise ValueError(f"eval_every must be a positive integer, got {every!r}")
        self.keys, self.steps, self.every = tuple(keys), steps, every
        self.history = {"step": [], **{k: [] for k in self.keys}}
        self._sums, self._count = [0.0] * len(self.keys), 0

    def add(self, step: int, **values: float) -> bool:
        for i, key in enumerate(self.keys):
            self._sums[i] += float(values[key])
        self._count += 1
        if step % self.every and step != self.steps:
            return False
        self.history["step"].append(step)
        for key, total in zip(self.keys, self._sums):
            self.history[key].append(total / self._count)
        self._sums, self._count = [0.0] * len(self.keys), 0
        return True

    def append(self, **values) -> None:
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)

    def last(self, key: str) -> float:
        return self.history[key][-1]


class RunningHistories:
    """One :class:`RunningHistory` per run of a stacked training loop: :meth:`add` takes one value
    per run for each key and returns True when the runs have just recorded."""

    def __init__(self, n_runs: int, keys, steps: int, every: int):
        self.logs = [RunningHistory(keys, steps, every) for _ in range(n_runs)]

    def add(self, step: int, **values) -> bool:
        recorded = False
        for i, log in enumerate(self.logs):
            recorded = log.add(step, **{key: v[i] for key, v in values.items()})
        return recorded

    def mean_last(self, key: str) -> float:
        """The runs' mean of their last record of ``key`` (for a progress bar)."""
        return sum(log.last(key) for log in self.logs) / len(self.logs)

    @property
    def histories(self) -> list[dict]:
        return [log.history for log in self.logs]
