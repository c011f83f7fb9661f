"""Several small networks of one shape trained as one (lesson 05's five seeds on two mixtures).

:class:`Stacked` copies the weights of k plain MLPs (a :class:`~course_lib.tensorflow.models.Generator`
or :class:`~course_lib.tensorflow.models.Critic` made of Dense layers and ReLU/LeakyReLU) into
variables with a leading member axis and evaluates them with batched matrix products: input
``(k, n, d)``, output ``(k, n, ...)``. The members share nothing but the per-operation
overhead: each keeps its own weights, and with per-member mean losses summed, each member's
gradient (and so its Adam, RMSprop or clipping update, all elementwise) is the one a separate
run would get. On a CPU that makes ten tiny 2-D runs several times faster together than one
after another. :meth:`Stacked.unstack_into` writes the trained weights back into the models.
"""
from __future__ import annotations

import keras
import tensorflow as tf

from ..runs.stacking import common_architecture
from .models import Critic, Discriminator, Generator


def _plan(model):
    """``(denses, ops, output)``: the Dense layers in order, the operations between them as
    ``("linear", i)``, ``("relu",)`` or ``("leaky", slope)``, and how the output is finished."""
    if isinstance(model, Generator):
        output = model.output_kind
    elif isinstance(model, (Critic, Discriminator)):
        output = "score"
    else:
        raise TypeError(f"can stack Generator, Critic or Discriminator models, got {type(model).__name__}")
    denses, ops = [], []
    for layer in model.net.layers:
        if type(layer) is keras.layers.Dense:
            ops.append(("linear", len(denses)))
            denses.append(layer)
            act = keras.activations.serialize(layer.activation)
            name = act if isinstance(act, str) else act.get("config", act)
            if name == "relu":
                ops.append(("relu",))
            elif name != "linear":
                raise ValueError(f"cannot stack a Dense layer with activation {name!r}; use relu or none")
        elif isinstance(layer, keras.layers.ReLU):
            ops.append(("relu",))
        elif isinstance(layer, keras.layers.LeakyReLU):
            ops.append(("leaky", float(layer.negative_slope)))
        else:
            raise ValueError(f"cannot stack a model with {type(layer).__name__} layers: stacking needs members "
                             "that treat every sample alone (Dense and ReLU/LeakyReLU only)")
    return denses, ops, output


class Stacked(tf.Module):
    """``k`` models of one architecture as one callable over inputs of shape ``(k, n, d)``."""

    def __init__(self, members):
        super().__init__()
        members = list(members)
        plans = [_plan(m) for m in members]
        shapes = [[tuple(d.kernel.shape) for d in p[0]] for p in plans]
        self.ops, self.output = common_architecture(plans, shapes)
        self.z_dim = getattr(members[0], "z_dim", None)
        self.k = len(members)
        # (k, in, out) and (k, 1, out): x @ W + b, as Dense computes it
        n_layers = len(shapes[0])
        self.weights = [tf.Variable(tf.stack([tf.convert_to_tensor(p[0][i].kernel) for p in plans]),
                                    name=f"kernel_{i}") for i in range(n_layers)]
        self.biases = [tf.Variable(tf.stack([tf.convert_to_tensor(p[0][i].bias)[None] for p in plans]),
                                   name=f"bias_{i}") for i in range(n_layers)]

    @property
    def trainable_variables(self):
        return [v for pair in zip(self.weights, self.biases) for v in pair]

    def __len__(self) -> int:
        return self.k

    def __call__(self, x, training=False):
        if x.shape.rank != 3 or x.shape[0] != self.k:
            raise ValueError(f"expected input of shape ({self.k}, n, d), one batch per member, got {tuple(x.shape)}")
        for op in self.ops:
            if op[0] == "linear":
                x = tf.matmul(x, self.weights[op[1]]) + self.biases[op[1]]
            elif op[0] == "relu":
                x = tf.nn.relu(x)
            else:
                x = tf.nn.leaky_relu(x, alpha=op[1])
        if self.output == "sigmoid":
            return tf.sigmoid(x)
        return tf.squeeze(x, axis=-1) if self.output == "score" else x

    def unstack_into(self, members) -> None:
        """Copy member ``i``'s weights back into ``members[i]`` (the models it was built from)."""
        members = list(members)
        if len(members) != self.k:
            raise ValueError(f"expected {self.k} models to write back into, got {len(members)}")
        for i, model in enumerate(members):
            for dense, W, b in zip(_plan(model)[0], self.weights, self.biases):
                dense.kernel.assign(W[i])
                dense.bias.assign(b[i, 0])
