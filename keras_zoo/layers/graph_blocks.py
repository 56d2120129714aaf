"""Graph blocks with edge features (ECC, Interaction Network) and global readouts.

Same graph batch dicts as `keras_zoo.layers.graph`. Simonovsky & Komodakis 2017 and
Gilmer et al. 2017 (edge-conditioned convolution / MPNN edge network); Battaglia et al.
2016 (Interaction Networks); Li et al. 2016 (gated attention readout).
"""

import keras
from keras import layers, ops

from keras_zoo.layers.graph import MessagePassing, flatten_graph, segment_aggregate
from keras_zoo.workarounds import gather_rows


def _mlp(units, activation, name, last_activation=None, last_dtype=None):
    """Dense layers of widths `units`; the last one gets `last_activation` and `last_dtype`
    (None: the global dtype policy, as the others)."""
    last = len(units) - 1
    return [layers.Dense(w, activation=activation if i < last else last_activation,
                         dtype=last_dtype if i == last else None, name=f"{name}{i + 1}")
            for i, w in enumerate(units)]


def _build_mlp(mlp, features):
    for dense in mlp:
        dense.build((None, features))
        features = dense.units
    return features


def _run(mlp, x):
    for dense in mlp:
        x = dense(x)
    return x


@keras.saving.register_keras_serializable(package="keras_zoo")
class EdgeConditionedConv(MessagePassing):
    """h_i' = act(W_root h_i + agg_{j -> i} Theta(e_ji) h_j + b), Theta an MLP of the edge.

    The filter network maps each edge's features to a (F, units) matrix (ECC, Simonovsky
    & Komodakis 2017; the "edge network" message of Gilmer et al. 2017's MPNN).

    Args:
        units: output features per node.
        kernel_network: hidden widths of the filter network (ReLU).
        aggregate: "sum", "mean" or "max".
        activation: output activation.
    """

    def __init__(self, units, kernel_network=(32,), activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.kernel_network = units, tuple(kernel_network)
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        features = input_shape["nodes"][-1]
        if input_shape.get("edges") is None:
            raise ValueError("EdgeConditionedConv needs edge features: graph['edges']")
        self.filter_net = _mlp((*self.kernel_network, features * self.units), "relu", "filter")
        _build_mlp(self.filter_net, input_shape["edges"][-1])
        self.root = self.add_weight(name="root_kernel", shape=(features, self.units))
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

    def message(self, x_receivers, x_senders, edges, flat, training=None):
        theta = ops.reshape(_run(self.filter_net, edges),
                            (-1, ops.shape(x_senders)[-1], self.units))  # (E, F, units)
        return ops.einsum("ef,efu->eu", x_senders, theta)

    def update(self, x, aggregated, flat, training=None):
        return self.activation(ops.matmul(x, self.root) + aggregated + self.bias)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "kernel_network": list(self.kernel_network),
                "activation": keras.saving.serialize_keras_object(self.activation)}


@keras.saving.register_keras_serializable(package="keras_zoo")
class InteractionNetwork(layers.Layer):
    """One Interaction Network block (Battaglia et al. 2016).

    Relation model on every edge: effect_k = phi_R(o_receiver, o_sender, r_k); effects
    summed per receiver; object model on every node: o' = phi_O(o, sum of effects).

    Args:
        node_units: widths of the object model (the last is the output size per node).
        edge_units: widths of the relation model (the last is the effect size per edge).
        activation: of the hidden layers (the last layers are linear).

    Call: `block(graph)` -> (nodes (G, N, node_units[-1]), effects (G, E, edge_units[-1])).

    Dtypes: the block's own dtype policy (`dtype=`) is that of its node outputs (the
    object model's last layer); the other layers of both models follow the global policy.
    So `InteractionNetwork(..., dtype="float32")` under a mixed policy computes its MLPs
    in 16 bits and outputs float32 nodes, as a model's output should.
    """

    def __init__(self, node_units=(64, 2), edge_units=(64, 64), activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.node_units, self.edge_units = tuple(node_units), tuple(edge_units)
        self.activation = activation
        self.relation = _mlp(self.edge_units, activation, "relation")
        self.object = _mlp(self.node_units, activation, "object", last_dtype=self.dtype_policy)

    def build(self, input_shape):
        features = input_shape["nodes"][-1]
        edges = input_shape.get("edges")
        _build_mlp(self.relation, 2 * features + (edges[-1] if edges is not None else 0))
        _build_mlp(self.object, features + self.edge_units[-1])

    def call(self, graph):
        flat = flatten_graph(graph)
        parts = [gather_rows(flat.nodes, flat.receivers),
                 gather_rows(flat.nodes, flat.senders)]
        if flat.edges is not None:
            parts.append(flat.edges)
        # Under a mixed policy the MLPs' outputs may differ in dtype from the block's own
        # (the masks'): cast explicitly, as TensorFlow does not promote.
        effects = _run(self.relation, ops.concatenate(parts, axis=-1))
        edge_mask = ops.cast(flat.edge_mask, effects.dtype)
        effects = effects * edge_mask
        total = segment_aggregate(effects, flat.receivers, flat.num_segments, edge_mask)
        total = ops.cast(total, flat.nodes.dtype)
        nodes = _run(self.object, ops.concatenate([flat.nodes, total], axis=-1))
        g, n = flat.shape
        nodes = nodes * ops.cast(flat.node_mask, nodes.dtype)
        nodes = ops.reshape(nodes, (g, n, self.node_units[-1]))
        return nodes, ops.reshape(effects, (g, -1, self.edge_units[-1]))

    def get_config(self):
        return {**super().get_config(), "node_units": list(self.node_units),
                "edge_units": list(self.edge_units), "activation": self.activation}


@keras.saving.register_keras_serializable(package="keras_zoo")
class GlobalPool(layers.Layer):
    """Readout: sum, mean or max of the real nodes of each graph, (G, N, F) -> (G, F)."""

    def __init__(self, mode="sum", **kwargs):
        super().__init__(**kwargs)
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"mode must be 'sum', 'mean' or 'max', got {mode!r}")
        self.mode = mode

    def call(self, graph):
        x = graph["nodes"]
        mask = ops.expand_dims(ops.cast(graph["node_mask"], x.dtype), -1)  # 0/1: exact
        if self.mode == "max":
            best = ops.max(ops.where(mask > 0, x, -1e9), axis=1)
            return ops.where(ops.max(mask, axis=1) > 0, best, ops.zeros_like(best))
        total = ops.sum(x * mask, axis=1)
        return total / ops.maximum(ops.sum(mask, axis=1), 1.0) if self.mode == "mean" else total

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


@keras.saving.register_keras_serializable(package="keras_zoo")
class GlobalAttentionPool(layers.Layer):
    """Readout sum_n softmax_n(w . h_n) * (V h_n) over the real nodes (attention pooling).

    Args:
        units: output size (the values' projection V).
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.gate = layers.Dense(1, name="gate")
        self.value = layers.Dense(units, name="value")

    def build(self, input_shape):
        self.gate.build(input_shape["nodes"])
        self.value.build(input_shape["nodes"])

    def call(self, graph):
        x, mask = graph["nodes"], ops.expand_dims(ops.cast(graph["node_mask"], "float32"), -1)
        gate = ops.cast(self.gate(x), "float32")  # the softmax in float32 under any policy
        logits = ops.where(mask > 0, gate, -1e9)  # (G, N, 1)
        weights = ops.softmax(logits, axis=1) * mask
        values = self.value(x)
        return ops.sum(ops.cast(weights, values.dtype) * values, axis=1)  # (G, units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}
