"""Shared helper library of the course *Optimizing Generative Models*.

Framework-neutral modules (data, metrics, plots, checks, budgets, results,
runner) import neither PyTorch nor TensorFlow. Each framework has its own
package: ``course_lib.torch`` and ``course_lib.tensorflow``.
"""

__version__ = "0.1.0"
