"""Several small networks of one shape trained as one (lesson 05's five seeds on two mixtures).

:class:`Stacked` copies the weights of k plain MLPs (a :class:`~course_lib.torch.models.Generator`
or :class:`~course_lib.torch.models.Critic` made of Linear layers and ReLU/LeakyReLU) into
tensors with a leading member axis and evaluates them with batched matrix products: input
``(k, n, d)``, output ``(k, n, ...)``. The members share nothing but the Python overhead: each
keeps its own weights, and with per-member mean losses summed, each member's gradient (and so
its Adam, RMSprop or clipping update, all elementwise) is the one a separate run would get. On
a CPU, where tiny 2-D networks spend most of a step in per-operation overhead, that makes ten
runs about three times faster together than one after another. :meth:`Stacked.unstack_into`
writes the trained weights back into the original models.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

from ..runs.stacking import common_architecture
from .models import Critic, Discriminator, Generator


def _plan(model: nn.Module):
    """``(linears, ops, output)``: the Linear layers in order, the operations between them as
    ``("linear", i)``, ``("relu",)`` or ``("leaky", slope)``, and how the output is finished."""
    if isinstance(model, Generator):
        output = model.output
    elif isinstance(model, (Critic, Discriminator)):
        output = "score"
    else:
        raise TypeError(f"can stack Generator, Critic or Discriminator models, got {type(model).__name__}")
    linears, ops = [], []
    for module in model.modules():
        if isinstance(module, nn.Linear):
            if parametrize.is_parametrized(module):
                raise ValueError("cannot stack a spectrally normalised layer; stack plain MLPs only")
            ops.append(("linear", len(linears)))
            linears.append(module)
        elif isinstance(module, nn.ReLU):
            ops.append(("relu",))
        elif isinstance(module, nn.LeakyReLU):
            ops.append(("leaky", module.negative_slope))
        elif not list(module.children()) and not isinstance(module, parametrize.ParametrizationList):
            raise ValueError(f"cannot stack a model with {type(module).__name__} layers: stacking needs "
                             "members that treat every sample alone (Linear and ReLU/LeakyReLU only)")
    return linears, ops, output


class Stacked(nn.Module):
    """``k`` models of one architecture as one module over inputs of shape ``(k, n, d)``."""

    def __init__(self, members):
        super().__init__()
        members = list(members)
        plans = [_plan(m) for m in members]
        shapes = [[tuple(lin.weight.shape) for lin in p[0]] for p in plans]
        self.ops, self.output = common_architecture(plans, shapes)
        self.z_dim = getattr(members[0], "z_dim", None)
        # (k, in, out) and (k, 1, out): x @ W + b, as nn.Linear computes x @ weight.T + bias
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([p[0][i].weight.detach().T for p in plans]).contiguous())
            for i in range(len(shapes[0])))
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([p[0][i].bias.detach()[None] for p in plans]).contiguous())
            for i in range(len(shapes[0])))

    def __len__(self) -> int:
        return len(self.weights[0])

    def forward(self, x):
        if x.dim() != 3 or len(x) != len(self):
            raise ValueError(f"expected input of shape ({len(self)}, n, d), one batch per member, "
                             f"got {tuple(x.shape)}")
        for op in self.ops:
            if op[0] == "linear":
                x = torch.baddbmm(self.biases[op[1]], x, self.weights[op[1]])
            elif op[0] == "relu":
                x = F.relu(x)
            else:
                x = F.leaky_relu(x, op[1])
        if self.output == "sigmoid":
            return torch.sigmoid(x)
        return x.squeeze(-1) if self.output == "score" else x

    @torch.no_grad()
    def unstack_into(self, members) -> None:
        """Copy member ``i``'s weights back into ``members[i]`` (the models it was built from)."""
        members = list(members)
        if len(members) != len(self):
            raise ValueError(f"expected {len(self)} models to write back into, got {len(members)}")
        for i, model in enumerate(members):
            for lin, W, b in zip(_plan(model)[0], self.weights, self.biases):
                lin.weight.copy_(W[i].T)
                lin.bias.copy_(b[i, 0])
