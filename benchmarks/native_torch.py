"""Native PyTorch versions of the benchmarked keras_zoo models, and their training epoch.

The reference side of `epoch_time.py`: the same architectures as `keras_zoo.build(...)`,
written the way the lecture's PyTorch code writes them (`nn.Module`, NCHW images,
`nn.LSTM`), trained with `torch.optim.Adam` on the same arrays, batch size and loss.

Differences from the Keras models that do not change the work per step in any way that
matters: PyTorch's default initialisers; NCHW instead of NHWC (the arrays are transposed
once, outside the timed epoch); `nn.LSTM`/`nn.GRU`/`nn.RNN` keep two bias vectors where
Keras keeps one (4*units, 3*units or units extra parameters).

This module imports only torch and numpy, never keras, so the native worker process
loads no Keras backend.
"""

import time

import numpy as np
import torch
from torch import nn

CLASSIFIERS = ("mlp", "lenet5")
FORECASTERS = {"rnn_forecaster": nn.RNN, "gru_forecaster": nn.GRU, "lstm_forecaster": nn.LSTM}
MODELS = CLASSIFIERS + tuple(FORECASTERS)


class MLP(nn.Module):
    """784 -> 512 -> 512 -> 10 with ReLU, logits out (keras_zoo `mlp`)."""

    def __init__(self, in_features=784, units=(512, 512), num_classes=10):
        super().__init__()
        layers, width = [nn.Flatten()], in_features
        for hidden in units:
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):  # (batch, 1, 28, 28) -> (batch, num_classes)
        return self.net(x)


class LeNet5(nn.Module):
    """LeNet-5 as keras_zoo `lenet5`: tanh after every conv and every average pool."""

    def __init__(self, in_channels=1, num_classes=10):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Tanh(),  # C1, S2
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Tanh(),  # C3, S4
            nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),  # C5 -> (batch, 120)
            nn.Linear(120, 84), nn.Tanh(),  # F6
            nn.Linear(84, num_classes),  # Out (logits)
        )

    def forward(self, x):  # (batch, 1, 32, 32) -> (batch, num_classes)
        return self.net(x)


class Forecaster(nn.Module):
    """One recurrent layer, last hidden state -> Dense(horizon) (keras_zoo `*_forecaster`)."""

    def __init__(self, cell="lstm_forecaster", features=1, units=64, horizon=1):
        super().__init__()
        self.rnn = FORECASTERS[cell](features, units, batch_first=True)
        self.head = nn.Linear(units, horizon)

    def forward(self, x):  # (batch, window, features) -> (batch, horizon)
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def build(name, units=None):
    """A native model for a keras_zoo registry name; `units` sizes the recurrent layer."""
    if name == "mlp":
        return MLP()
    if name == "lenet5":
        return LeNet5()
    if name in FORECASTERS:
        return Forecaster(name, units=units or 64)
    raise ValueError(f"no native PyTorch version of {name!r}; known: {', '.join(MODELS)}")


class Trainer:
    """A model, its data as tensors, Adam and the loss: `epoch()` runs one shuffled epoch.

    Args:
        name: registry name of the model.
        x, y: NumPy arrays as fed to Keras (images NHWC; they are moved to NCHW here).
        batch_size: examples per step; the last batch may be smaller, as in `fit`.
        units: recurrent layer size for the forecasters.
        compile: wrap the model in `torch.compile` (a variant, off by default).
        loader: "tensors" (index pre-made tensors with a random permutation, the fast
            loop) or "dataloader" (`TensorDataset` + `DataLoader(shuffle=True)`, the
            tutorial loop).
        adam: "default" (`torch.optim.Adam(params, lr)`: on CPU a per-tensor loop),
            "foreach" or "fused" (the multi-tensor and the fused kernels).
        seed: seeds the weights and the shuffling.
    """

    def __init__(self, name, x, y, batch_size=64, units=None, compile=False,
                 loader="tensors", adam="default", seed=0):
        if loader not in ("tensors", "dataloader"):
            raise ValueError(f"loader must be 'tensors' or 'dataloader', got {loader!r}")
        if adam not in ("default", "foreach", "fused"):
            raise ValueError(f"adam must be 'default', 'foreach' or 'fused', got {adam!r}")
        torch.manual_seed(seed)
        x = torch.from_numpy(np.asarray(x, dtype="float32"))
        if x.ndim == 4:  # NHWC -> NCHW, once, outside the timed epoch
            x = x.permute(0, 3, 1, 2)
        # Plain row-major strides. With one channel, NumPy's "contiguous" NCHW copy keeps a
        # channel stride of 1, which torch reads as channels_last and then runs the convs
        # ~1.5x slower; clone(contiguous_format) writes the canonical strides.
        self.x = x.clone(memory_format=torch.contiguous_format)
        if name in CLASSIFIERS:
            self.y = torch.from_numpy(np.asarray(y, dtype="int64"))
            self.loss_fn = nn.CrossEntropyLoss()
        else:
            self.y = torch.from_numpy(np.asarray(y, dtype="float32"))
            self.loss_fn = nn.MSELoss()
        self.module = build(name, units=units)
        self.model = torch.compile(self.module) if compile else self.module
        kernel = {} if adam == "default" else {adam: True}
        self.optimizer = torch.optim.Adam(self.module.parameters(), lr=1e-3, **kernel)
        self.batch_size = batch_size
        self.loader = loader
        self.generator = torch.Generator().manual_seed(seed)
        if loader == "dataloader":
            self.data = torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(self.x, self.y), batch_size=batch_size,
                shuffle=True, generator=self.generator)

    @property
    def num_params(self):
        return sum(p.numel() for p in self.module.parameters())

    def _batches(self):
        if self.loader == "dataloader":
            yield from self.data
            return
        order = torch.randperm(len(self.x), generator=self.generator)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.x[idx], self.y[idx]

    def epoch(self):
        """Train one epoch; returns (wall seconds, mean training loss)."""
        self.model.train()
        start = time.perf_counter()
        total, count = torch.zeros(()), 0
        for xb, yb in self._batches():
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss_fn(self.model(xb), yb)
            loss.backward()
            self.optimizer.step()
            total += loss.detach() * len(xb)  # a running mean, as Keras' loss tracker
            count += len(xb)
        mean_loss = (total / count).item()
        return time.perf_counter() - start, mean_loss
