"""Native PyTorch versions of the benchmarked keras_zoo models, and their training epoch.

The reference side of `epoch_time.py`: the same architectures as `keras_zoo.build(...)`
with the same overrides, written the way the lectures' PyTorch notebooks write them
(`nn.Module`, NCHW images, `nn.LSTM`, `nn.MultiheadAttention`, a GCN with `index_add_`,
the notebook's GAN and VAE loops), trained with `torch.optim.Adam` on the same arrays,
batch size and loss.

Differences from the Keras models that do not change the work per step in any way that
matters: PyTorch's default initialisers; NCHW instead of NHWC (the arrays are transposed
once, outside the timed epoch); `nn.LSTM`/`nn.GRU`/`nn.RNN` keep two bias vectors where
Keras keeps one (4*units, 3*units or units extra parameters), and BatchNorm's moving mean
and variance are buffers here but (non-trainable) weights in Keras:
`keras_equivalent_params` counts a module the way Keras' `count_params()` does, and the
benchmark asserts the two counts are equal before it times anything.

This module imports only torch and numpy, never keras, so the native worker process
loads no Keras backend.
"""

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CLASSIFIERS = ("mlp", "lenet5", "resnet18", "mobilenet_v2", "rnn_classifier",
               "transformer_classifier")
FORECASTERS = {"rnn_forecaster": nn.RNN, "gru_forecaster": nn.GRU, "lstm_forecaster": nn.LSTM}
MODELS = CLASSIFIERS + tuple(FORECASTERS) + ("gcn_node_classifier", "gan_mlp", "vae")


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


def conv_bn(cin, cout, kernel, stride=1, groups=1, act=nn.ReLU, bias=False):
    """Conv ('same'-sized padding, optional bias) -> BatchNorm -> optional activation."""
    layers = [nn.Conv2d(cin, cout, kernel, stride, padding=kernel // 2, groups=groups,
                        bias=bias), nn.BatchNorm2d(cout)]
    return nn.Sequential(*layers, act()) if act else nn.Sequential(*layers)


class BasicBlock(nn.Module):
    """ResNet basic block: 3x3 conv-BN-ReLU, 3x3 conv-BN, + shortcut (1x1 conv-BN), ReLU."""

    def __init__(self, cin, cout, stride, bias=False):
        super().__init__()
        self.body = nn.Sequential(conv_bn(cin, cout, 3, stride, bias=bias),
                                  conv_bn(cout, cout, 3, act=None, bias=bias))
        self.shortcut = (conv_bn(cin, cout, 1, stride, act=None, bias=bias)
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    """ResNet with basic blocks (He et al. 2016), as keras_zoo `resnet18` small variants.

    Args:
        blocks: basic blocks per stage; (2, 2, 2, 2) is ResNet-18.
        width: channels of the first stage; stages double it.
        stem_kernel, stem_stride, stem_pool: the stem conv (ImageNet: 7, 2, max-pool 3/2;
            small images: 3, 1, no pool).
        bias: biases in the convolutions (keras_zoo's default, as keras.applications;
            torchvision has none).
    """

    def __init__(self, blocks=(2, 2, 2, 2), width=64, in_channels=1, num_classes=10,
                 stem_kernel=3, stem_stride=1, stem_pool=False, bias=False):
        super().__init__()
        layers = [conv_bn(in_channels, width, stem_kernel, stem_stride, bias=bias)]
        if stem_pool:
            layers.append(nn.MaxPool2d(3, 2, padding=1))
        cin = width
        for stage, count in enumerate(blocks):
            cout = width * 2 ** stage
            for i in range(count):
                layers.append(BasicBlock(cin, cout, 2 if stage > 0 and i == 0 else 1, bias))
                cin = cout
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(cin, num_classes)

    def forward(self, x):  # (batch, C, H, W) -> (batch, num_classes)
        return self.head(self.features(x).mean(dim=(2, 3)))


def make_divisible(value, divisor=8):
    """MobileNet's channel rounding (as keras.applications.MobileNetV2)."""
    new = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return new + divisor if new < 0.9 * value else new


class InvertedResidual(nn.Module):
    """MobileNetV2 block: 1x1 expand (ReLU6), 3x3 depthwise (ReLU6), 1x1 linear project."""

    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        layers = [conv_bn(cin, hidden, 1, act=nn.ReLU6)] if expansion != 1 else []
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden, act=nn.ReLU6),
                   conv_bn(hidden, cout, 1, act=None)]
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.body(x) if self.residual else self.body(x)


# (expansion t, channels c, repeats n, first stride s) of Sandler et al. 2018, Table 2.
MOBILENET_V2_CONFIG = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1))


class MobileNetV2(nn.Module):
    """MobileNetV2 with a width multiplier `alpha`, as keras_zoo `mobilenet_v2`.

    Args:
        alpha: width multiplier (channels rounded to multiples of 8).
        stem_stride: stride of the first 3x3 conv (2 at ImageNet size).
        strides: per-stage first strides overriding the paper's (small images).
        last_channels: width of the final 1x1 conv (1280; scaled by alpha when alpha > 1).
    """

    def __init__(self, alpha=1.0, in_channels=1, num_classes=10, stem_stride=2, strides=None,
                 last_channels=1280, config=MOBILENET_V2_CONFIG):
        super().__init__()
        cin = make_divisible(32 * alpha)
        layers = [conv_bn(in_channels, cin, 3, stem_stride, act=nn.ReLU6)]
        for stage, (t, c, n, s) in enumerate(config):
            cout = make_divisible(c * alpha)
            first = s if strides is None else strides[stage]
            for i in range(n):
                layers.append(InvertedResidual(cin, cout, first if i == 0 else 1, t))
                cin = cout
        last = make_divisible(last_channels * alpha) if alpha > 1.0 else last_channels
        layers.append(conv_bn(cin, last, 1, act=nn.ReLU6))
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(last, num_classes)

    def forward(self, x):  # (batch, C, H, W) -> (batch, num_classes)
        return self.head(self.features(x).mean(dim=(2, 3)))


class Forecaster(nn.Module):
    """One recurrent layer, last hidden state -> Dense(horizon) (keras_zoo `*_forecaster`)."""

    def __init__(self, cell="lstm_forecaster", features=1, units=64, horizon=1):
        super().__init__()
        self.rnn = FORECASTERS[cell](features, units, batch_first=True)
        self.head = nn.Linear(units, horizon)

    def forward(self, x):  # (batch, window, features) -> (batch, horizon)
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


class RowClassifier(nn.Module):
    """MNIST read row by row: LSTM/GRU/RNN over 28 steps of 28 pixels -> Dense(classes)."""

    def __init__(self, cell="lstm", features=28, units=128, num_classes=10):
        super().__init__()
        rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn(features, units, batch_first=True)
        self.head = nn.Linear(units, num_classes)

    def forward(self, x):  # (batch, 1, 28, 28) -> (batch, num_classes)
        out, _ = self.rnn(x.reshape(len(x), x.shape[-2], x.shape[-1]))  # rows = time steps
        return self.head(out[:, -1])


def sinusoidal_table(length, dim):
    """PE[p, 2i] = sin(p / 10000^(2i/dim)), PE[p, 2i+1] = cos(...): (length, dim)."""
    rates = torch.exp((2 * (torch.arange(dim) // 2)).float() * (-math.log(10_000.0) / dim))
    angles = torch.arange(length, dtype=torch.float32)[:, None] * rates[None, :]
    return torch.where(torch.arange(dim) % 2 == 0, torch.sin(angles), torch.cos(angles))


class TransformerClassifier(nn.Module):
    """keras_zoo `transformer_classifier`: embedding * sqrt(dim) + sinusoidal positions,
    post-norm encoder blocks with a padding mask, masked mean pooling, dropout, logits.

    The block is `nn.TransformerEncoderLayer` (self-attention, add & norm, ReLU
    feed-forward, add & norm), the layer a PyTorch user reaches for.
    """

    def __init__(self, vocab=1000, num_classes=2, dim=64, num_heads=4, ff_dim=128,
                 num_layers=2, dropout=0.1, max_length=256):
        super().__init__()
        self.embedding = nn.Embedding(vocab, dim)
        self.register_buffer("table", sinusoidal_table(max_length, dim), persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.encoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(dim, num_heads, ff_dim, dropout, batch_first=True,
                                       layer_norm_eps=1e-6),
            num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(dim, num_classes)

    def forward(self, ids):  # (batch, T) int64, 0 = padding -> (batch, num_classes)
        x = self.embedding(ids) * math.sqrt(self.embedding.embedding_dim)
        x = self.dropout(x + self.table[:ids.shape[1]])
        pad = ids == 0
        x = self.encoder(x, src_key_padding_mask=pad)  # (batch, T, dim)
        keep = (~pad).unsqueeze(-1).to(x.dtype)
        x = (x * keep).sum(1) / keep.sum(1).clamp(min=1.0)  # masked mean
        return self.head(self.dropout(x))


class GCN(nn.Module):
    """Kipf & Welling's GCN with scatter-add message passing (`index_add_`), full batch.

    Each layer: h W, then out[r] += norm_e * (h W)[s] over the edges s -> r plus a
    self-loop per node, norm_e = deg(s)^-1/2 deg(r)^-1/2 (deg: incoming edges + 1),
    computed from the edge list in every forward pass as keras_zoo's `GCNConv` (and
    PyG's uncached `GCNConv`) do; then the bias. ReLU and dropout between the layers.
    """

    def __init__(self, node_features=1433, num_classes=7, units=16, dropout=0.5):
        super().__init__()
        self.linears = nn.ModuleList([nn.Linear(node_features, units, bias=False),
                                      nn.Linear(units, num_classes, bias=False)])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(units)),
                                        nn.Parameter(torch.zeros(num_classes))])
        self.dropout = dropout

    @staticmethod
    def propagate(h, senders, receivers):
        loops = torch.arange(len(h))
        senders, receivers = torch.cat([senders, loops]), torch.cat([receivers, loops])
        degree = torch.zeros(len(h)).index_add_(0, receivers, torch.ones(len(receivers)))
        inv_sqrt = degree.rsqrt()
        norm = inv_sqrt[senders] * inv_sqrt[receivers]  # (E + N,)
        out = torch.zeros_like(h)
        return out.index_add_(0, receivers, h[senders] * norm[:, None])

    def forward(self, x, senders, receivers):  # (nodes, F) -> (nodes, classes)
        for i, (linear, bias) in enumerate(zip(self.linears, self.biases)):
            if i:
                x = F.dropout(F.relu(x), self.dropout, self.training)
            x = self.propagate(linear(x), senders, receivers) + bias
        return x


class Generator(nn.Module):
    """The notebook's G: z 100 -> 128 -> 256 -> 512 -> 1024 -> 784 tanh; BN from 256."""

    def __init__(self, latent_dim=100, units=(128, 256, 512, 1024), out_features=784):
        super().__init__()
        layers, width = [], latent_dim
        for i, hidden in enumerate(units):
            layers.append(nn.Linear(width, hidden))
            if i:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.LeakyReLU(0.2))
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, out_features), nn.Tanh())

    def forward(self, z):
        return self.net(z)


class Discriminator(nn.Module):
    """The notebook's D: 784 -> 512 -> 256 -> 1 with LeakyReLU 0.2, sigmoid out."""

    def __init__(self, in_features=784, units=(512, 256)):
        super().__init__()
        layers, width = [], in_features
        for hidden in units:
            layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, 1), nn.Sigmoid())

    def forward(self, x):
        return self.net(x.flatten(1))


class GAN(nn.Module):
    def __init__(self, latent_dim=100, g_units=(128, 256, 512, 1024), d_units=(512, 256),
                 features=784):
        super().__init__()
        self.latent_dim = latent_dim
        self.generator = Generator(latent_dim, g_units, features)
        self.discriminator = Discriminator(features, d_units)


class VAE(nn.Module):
    """The notebook's VAE: 784 -> 400 -> 400 -> (mu, log var) 200; 200 -> 400 -> 400 -> 784."""

    def __init__(self, features=784, units=(400, 400), latent_dim=200):
        super().__init__()
        enc, width = [], features
        for hidden in units:
            enc += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.encoder = nn.Sequential(*enc)
        self.mean = nn.Linear(width, latent_dim)
        self.log_var = nn.Linear(width, latent_dim)
        dec, width = [], latent_dim
        for hidden in reversed(units):
            dec += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.decoder = nn.Sequential(*dec, nn.Linear(width, features), nn.Sigmoid())

    def forward(self, x):  # (batch, 784) -> reconstruction, mean, log variance
        h = self.encoder(x.flatten(1))
        mean, log_var = self.mean(h), self.log_var(h)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)  # reparameterisation
        return self.decoder(z), mean, log_var


def build(name, **kwargs):
    """A native model for a keras_zoo registry name; `kwargs` size it (see each class)."""
    if name == "mlp":
        return MLP(**kwargs)
    if name == "lenet5":
        return LeNet5(**kwargs)
    if name in FORECASTERS:
        return Forecaster(name, units=kwargs.get("units") or 64)
    classes = {"resnet18": ResNet, "mobilenet_v2": MobileNetV2, "rnn_classifier": RowClassifier,
               "transformer_classifier": TransformerClassifier, "gcn_node_classifier": GCN,
               "gan_mlp": GAN, "vae": VAE}
    if name in classes:
        return classes[name](**kwargs)
    raise ValueError(f"no native PyTorch version of {name!r}; known: {', '.join(MODELS)}")


def keras_equivalent_params(module):
    """`module`'s parameter count as Keras' `count_params()` would count the same model.

    Adds BatchNorm's running mean and variance (Keras weights, torch buffers) and drops
    the second bias vector of `nn.RNN`/`nn.GRU`/`nn.LSTM` (Keras keeps one; `nn.GRU`'s
    second bias is Keras' `reset_after` recurrent bias, which Keras does keep).
    """
    count = sum(p.numel() for p in module.parameters())
    for sub in module.modules():
        if isinstance(sub, nn.modules.batchnorm._BatchNorm) and sub.track_running_stats:
            count += sub.running_mean.numel() + sub.running_var.numel()
        if isinstance(sub, (nn.RNN, nn.LSTM)) and sub.bias:
            count -= sum(p.numel() for n, p in sub.named_parameters() if "bias_hh" in n)
    return count


def _to_tensor(array, dtype):
    x = torch.from_numpy(np.asarray(array, dtype=dtype))
    if x.ndim == 4:  # NHWC -> NCHW, once, outside the timed epoch
        x = x.permute(0, 3, 1, 2)
    # Plain row-major strides. With one channel, NumPy's "contiguous" NCHW copy keeps a
    # channel stride of 1, which torch reads as channels_last and then runs the convs
    # ~1.5x slower; clone(contiguous_format) writes the canonical strides.
    return x.clone(memory_format=torch.contiguous_format)


class Trainer:
    """A model, its data as tensors, Adam and the loss: `epoch()` runs one shuffled epoch.

    Args:
        name: registry name of the model.
        data: dict of NumPy arrays as fed to Keras ("x", "y"; images NHWC, moved to NCHW
            here), or for `gcn_node_classifier` "features", "senders", "receivers",
            "labels", "train_mask".
        batch_size: examples per step; the last batch may be smaller, as in `fit`.
        model_kwargs: arguments of the native model's class (`build`).
        lr: Adam's learning rate; GAN: both optimizers at 2e-4, beta1 0.5.
        weight_decay: Adam's (L2 added to the gradient; the GCN notebook's 5e-4).
        steps: full-batch models (the GCN): training steps per `epoch()` call.
        compile: wrap the model in `torch.compile` (a variant, off by default).
        loader: "tensors" (index pre-made tensors with a random permutation, the fast
            loop) or "dataloader" (`TensorDataset` + `DataLoader(shuffle=True)`, the
            tutorial loop).
        adam: "default" (`torch.optim.Adam(params, lr)`: on CPU a per-tensor loop),
            "foreach" or "fused" (the multi-tensor and the fused kernels).
        seed: seeds the weights and the shuffling.
    """

    def __init__(self, name, data, batch_size=64, model_kwargs=None, lr=1e-3, weight_decay=0.0,
                 steps=1, compile=False, loader="tensors", adam="default", seed=0):
        if loader not in ("tensors", "dataloader"):
            raise ValueError(f"loader must be 'tensors' or 'dataloader', got {loader!r}")
        if adam not in ("default", "foreach", "fused"):
            raise ValueError(f"adam must be 'default', 'foreach' or 'fused', got {adam!r}")
        torch.manual_seed(seed)
        self.name, self.batch_size, self.loader, self.steps = name, batch_size, loader, steps
        self.module = build(name, **(model_kwargs or {}))
        kernel = {} if adam == "default" else {adam: True}
        self.generator = torch.Generator().manual_seed(seed)
        if name == "gcn_node_classifier":
            self._setup_graph(data)
        else:
            self.x = _to_tensor(data["x"], "int64" if name == "transformer_classifier"
                                else "float32")
            y = data.get("y")
            self.y = None if y is None else _to_tensor(
                y, "int64" if name in CLASSIFIERS else "float32")
        if name == "gan_mlp":
            gan = self.module
            self.g_opt = torch.optim.Adam(gan.generator.parameters(), 2e-4, betas=(0.5, 0.999),
                                          **kernel)
            self.d_opt = torch.optim.Adam(gan.discriminator.parameters(), 2e-4,
                                          betas=(0.5, 0.999), **kernel)
            self.step = self._gan_step
        else:
            self.optimizer = torch.optim.Adam(self.module.parameters(), lr=lr,
                                              weight_decay=weight_decay, **kernel)
            self.step = {"vae": self._vae_step, "gcn_node_classifier": self._gcn_step}.get(
                name, self._supervised_step)
            self.loss_fn = nn.CrossEntropyLoss() if name in CLASSIFIERS else nn.MSELoss()
        self.model = torch.compile(self.module) if compile else self.module
        if loader == "dataloader" and name != "gcn_node_classifier":
            tensors = (self.x,) if self.y is None else (self.x, self.y)
            self.data = torch.utils.data.DataLoader(
                torch.utils.data.TensorDataset(*tensors), batch_size=batch_size,
                shuffle=True, generator=self.generator)

    def _setup_graph(self, data):
        self.graph = (torch.from_numpy(np.asarray(data["features"], "float32")),
                      torch.from_numpy(np.asarray(data["senders"], "int64")),
                      torch.from_numpy(np.asarray(data["receivers"], "int64")))
        self.labels = torch.from_numpy(np.asarray(data["labels"], "int64"))
        self.train_mask = torch.from_numpy(np.asarray(data["train_mask"], bool))

    @property
    def num_params(self):
        return sum(p.numel() for p in self.module.parameters())

    @property
    def keras_params(self):
        return keras_equivalent_params(self.module)

    def _batches(self):
        if self.loader == "dataloader":
            for batch in self.data:
                yield batch if len(batch) == 2 else (batch[0], None)
            return
        order = torch.randperm(len(self.x), generator=self.generator)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield self.x[idx], None if self.y is None else self.y[idx]

    def _supervised_step(self, xb, yb):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.model(xb), yb)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def _vae_step(self, xb, _):
        """Summed BCE + KL per sample (the notebook's loss, averaged over the batch)."""
        self.optimizer.zero_grad(set_to_none=True)
        flat = xb.flatten(1)
        recon, mean, log_var = self.model(flat)
        bce = F.binary_cross_entropy(recon, flat, reduction="sum")
        kl = -0.5 * torch.sum(1 + log_var - mean.pow(2) - log_var.exp())
        loss = (bce + kl) / len(xb)
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def _gan_step(self, xb, _):
        """The notebook's order: a generator step, then a discriminator step on its fakes."""
        gan, bce, n = self.module, F.binary_cross_entropy, len(xb)
        real, ones, zeros = xb.flatten(1), torch.ones(n, 1), torch.zeros(n, 1)
        z = torch.randn(n, gan.latent_dim, generator=self.generator)
        self.g_opt.zero_grad(set_to_none=True)
        fake = gan.generator(z)
        g_loss = bce(gan.discriminator(fake), ones)
        g_loss.backward()
        self.g_opt.step()
        self.d_opt.zero_grad(set_to_none=True)
        d_loss = (bce(gan.discriminator(real), ones)
                  + bce(gan.discriminator(fake.detach()), zeros)) / 2
        d_loss.backward()
        self.d_opt.step()
        return d_loss.detach() + g_loss.detach()

    def _gcn_step(self):
        self.optimizer.zero_grad(set_to_none=True)
        logits = self.model(*self.graph)
        loss = F.cross_entropy(logits[self.train_mask], self.labels[self.train_mask])
        loss.backward()
        self.optimizer.step()
        return loss.detach()

    def epoch(self):
        """Train one epoch; returns (wall seconds per epoch, mean training loss).

        Full-batch models run `steps` steps (epochs of one step each) and return the
        seconds per step.
        """
        self.model.train()
        start = time.perf_counter()
        if self.name == "gcn_node_classifier":
            losses = [self._gcn_step() for _ in range(self.steps)]
            return (time.perf_counter() - start) / self.steps, losses[-1].item()
        total, count = torch.zeros(()), 0
        for xb, yb in self._batches():
            loss = self.step(xb, yb)
            total += loss * len(xb)  # a running mean, as Keras' loss tracker
            count += len(xb)
        mean_loss = (total / count).item()
        return time.perf_counter() - start, mean_loss

