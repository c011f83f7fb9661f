"""A hyperparameter whose value depends on the budget: ``_b(smoke, cpu, gpu)`` in the lesson tables."""


class _ByBudget:
    """One hyperparameter whose value depends on the budget."""
    __slots__ = ("values",)

    def __init__(self, values: dict):
        self.values = values


def _b(smoke, cpu, gpu) -> _ByBudget:
    """A hyperparameter's value at each budget, in the order smoke, cpu, gpu."""
    return _ByBudget({"smoke": smoke, "cpu": cpu, "gpu": gpu})
