"""What both tracks' stacked training shares (lesson 05): the checks that k runs can train as one
stacked network (:mod:`course_lib.torch.stacked`, :mod:`course_lib.tensorflow.stacked`). Framework-
neutral: a model's *plan* is ``(layers, ops, output)``, read by each track from its own layers."""
from __future__ import annotations


def check_runs(generators, critics, xs, seeds) -> None:
    """Stacked training's inputs: one generator, critic, dataset and seed per run, and datasets of
    one size (the runs' batches are gathered from one stacked array)."""
    counts = [len(generators), len(critics), len(xs), len(seeds)]
    if len(set(counts)) != 1 or counts[0] == 0:
        raise ValueError("need one generator, critic, dataset and seed per run, got {}, {}, {} and {}".format(*counts))
    if len({len(x) for x in xs}) > 1:
        raise ValueError(f"every run's dataset must have the same size, got {[len(x) for x in xs]}")


def common_architecture(plans, shapes):
    """``(ops, output)`` shared by every model, given each model's plan ``(layers, ops, output)`` and
    its layers' weight shapes; a clear error when there are no models or they differ."""
    if not plans:
        raise ValueError("Stacked needs at least one model")
    if any(s != shapes[0] or p[1:] != plans[0][1:] for s, p in zip(shapes, plans)):
        raise ValueError(f"stacked models must share one architecture, got layer shapes {shapes}")
    return plans[0][1], plans[0][2]
