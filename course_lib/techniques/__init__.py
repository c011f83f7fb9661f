"""One framework-neutral module per technique: the NumPy truths that both tracks are checked
against (regularization, early stopping, schedules, batch norm, gradient penalties) and the
lesson-specific helpers built on them. Imports neither PyTorch nor TensorFlow."""
