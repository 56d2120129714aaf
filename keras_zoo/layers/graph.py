"""Message passing on padded graph batches with `keras.ops` only: MessagePassing, GCN, GIN, GAT.

The lectures' generic layer: h_u' = update(h_u, aggregate_{v in N(u)} message(h_u, h_v, e_uv)).
Every layer here takes a graph batch dict (see `keras_zoo.datasets.graphs`: nodes (G, N, F),
senders/receivers (G, E), node_mask (G, N), edge_mask (G, E), optional edges (G, E, D)),
flattens it into one disjoint graph of G * N nodes, and aggregates with
`keras.ops.segment_sum` / `segment_max` over exactly G * N segments (a static count, which
JAX needs). Padded edges carry no message; padded nodes come out as zeros. Row gathers and
sums go through `workarounds.gather_rows` / `segment_sum` (the same ops; on torch, its
row-wise kernels).

Kipf & Welling 2017 (GCN); Xu et al. 2019 (GIN); Velickovic et al. 2018 (GAT);
Gilmer et al. 2017 (the message-passing framework).
"""

import keras
from keras import layers, ops

from keras_zoo.workarounds import gather_rows, segment_sum

AGGREGATIONS = ("sum", "mean", "max")
NEG = -1e9  # "minus infinity" for masked maxima and softmax logits (finite: no NaN gradients)


class FlatGraph:
    """A graph batch flattened to one disjoint graph (node g * N + n); see `flatten_graph`."""

    def __init__(self, nodes, senders, receivers, node_mask, edge_mask, edges, shape):
        self.nodes, self.senders, self.receivers = nodes, senders, receivers
        self.node_mask, self.edge_mask, self.edges = node_mask, edge_mask, edges
        self.shape = shape  # (G, N) of the padded batch
        self.num_segments = shape[0] * shape[1]


def flatten_graph(graph, self_loops=False):
    """A graph batch dict -> `FlatGraph`: nodes (G*N, F), edge index (G*E,), masks (.., 1).

    With `self_loops`, one edge n -> n per real node is appended (edge features zero).
    """
    nodes = graph["nodes"]
    g, n = ops.shape(nodes)[0], ops.shape(nodes)[1]
    offsets = ops.expand_dims(ops.arange(g, dtype="int32") * n, 1)  # (G, 1)
    senders = ops.reshape(ops.cast(graph["senders"], "int32") + offsets, (-1,))  # (G*E,)
    receivers = ops.reshape(ops.cast(graph["receivers"], "int32") + offsets, (-1,))
    node_mask = ops.reshape(ops.cast(graph["node_mask"], nodes.dtype), (-1, 1))  # (G*N, 1)
    edge_mask = ops.reshape(ops.cast(graph["edge_mask"], nodes.dtype), (-1, 1))  # (G*E, 1)
    x = ops.reshape(nodes, (-1, ops.shape(nodes)[-1]))  # (G*N, F)
    edges = graph.get("edges")
    if edges is not None:
        edges = ops.reshape(edges, (-1, ops.shape(edges)[-1]))  # (G*E, D)
    if self_loops:
        loops = ops.arange(g * n, dtype="int32")
        senders = ops.concatenate([senders, loops])
        receivers = ops.concatenate([receivers, loops])
        edge_mask = ops.concatenate([edge_mask, node_mask])
        if edges is not None:
            edges = ops.concatenate([edges, ops.zeros((g * n, ops.shape(edges)[-1]))])
    return FlatGraph(x, senders, receivers, node_mask, edge_mask, edges, (g, n))


def unflatten_nodes(x, flat):
    """(G*N, F) -> (G, N, F), padded nodes set to zero."""
    return ops.reshape(x * flat.node_mask, (flat.shape[0], flat.shape[1], ops.shape(x)[-1]))


def segment_aggregate(messages, segment_ids, num_segments, mask, how="sum"):
    """Sum, mean or max of `messages` (E, ...) per segment, ignoring rows where mask is 0.

    Empty segments (nodes without incoming edges) get 0 for every aggregation.
    """
    messages = ops.convert_to_tensor(messages)
    mask = ops.reshape(mask, (-1,) + (1,) * (len(messages.shape) - 1))
    if how == "max":
        best = ops.segment_max(ops.where(mask > 0, messages, NEG), segment_ids, num_segments)
        count = segment_sum(mask, segment_ids, num_segments)
        return ops.where(count > 0, best, ops.zeros_like(best))
    total = segment_sum(messages * mask, segment_ids, num_segments)
    if how == "mean":
        count = segment_sum(mask, segment_ids, num_segments)
        return total / ops.maximum(count, 1.0)
    if how != "sum":
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, got {how!r}")
    return total


def segment_softmax(logits, segment_ids, num_segments, mask):
    """Softmax of `logits` (E, H) over the edges of each segment (receiver); masked edges 0."""
    logits = ops.convert_to_tensor(logits)
    mask = ops.reshape(mask, (-1, 1))
    shifted = ops.where(mask > 0, logits, NEG)
    top = ops.stop_gradient(ops.segment_max(shifted, segment_ids, num_segments))  # (N, H)
    top = ops.where(top > NEG / 2, top, ops.zeros_like(top))
    weights = ops.exp(shifted - gather_rows(top, segment_ids)) * mask  # (E, H)
    total = segment_sum(weights, segment_ids, num_segments)
    return weights / (gather_rows(total, segment_ids) + 1e-16)


@keras.saving.register_keras_serializable(package="keras_zoo")
class MessagePassing(layers.Layer):
    """h_u' = update(h_u, aggregate_{v -> u} message(h_u, h_v, e_uv)), the lectures' formula.

    Subclasses override the hooks; this base passes the senders' features, summed:
    `transform(x)` (per node, first), `message(x_receivers, x_senders, edges, flat)` (per
    edge), `aggregate(messages, flat)` (per receiver) and `update(x, aggregated, flat)`.
    `x_receivers` is gathered only for a layer that sets `reads_receivers = True` (None
    otherwise): an eager backend would gather and differentiate it for nothing.

    Args:
        aggregate: "sum", "mean" or "max" over incoming edges.
        self_loops: add an edge n -> n for every node before passing messages.

    Call: `layer(graph)` with a graph batch dict -> new node features (G, N, F').
    """

    reads_receivers = False  # does `message` use x_receivers?

    def __init__(self, aggregate="sum", self_loops=False, **kwargs):
        super().__init__(**kwargs)
        if aggregate not in AGGREGATIONS:
            raise ValueError(f"aggregate must be one of {AGGREGATIONS}, got {aggregate!r}")
        self.aggregation, self.self_loops = aggregate, self_loops

    def transform(self, x, training=None):
        return x

    def message(self, x_receivers, x_senders, edges, flat, training=None):
        return x_senders

    def aggregate(self, messages, flat):
        return segment_aggregate(messages, flat.receivers, flat.num_segments, flat.edge_mask,
                                 self.aggregation)

    def update(self, x, aggregated, flat, training=None):
        return aggregated

    def call(self, graph, training=None):
        flat = flatten_graph(graph, self.self_loops)
        x = self.transform(flat.nodes, training)  # (G*N, F')
        x_receivers = gather_rows(x, flat.receivers) if self.reads_receivers else None
        messages = self.message(x_receivers, gather_rows(x, flat.senders), flat.edges, flat,
                                training)
        aggregated = self.aggregate(messages, flat)  # (G*N, F')
        return unflatten_nodes(self.update(x, aggregated, flat, training), flat)

    def get_config(self):
        return {**super().get_config(), "aggregate": self.aggregation,
                "self_loops": self.self_loops}


class _DenseConv(MessagePassing):
    """Shared constructor/config of the convolutions with a kernel and a bias."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.use_bias = units, use_bias
        self.activation = keras.activations.get(activation)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "activation": ser(self.activation),
                "kernel_initializer": ser(self.kernel_initializer),
                "kernel_regularizer": ser(self.kernel_regularizer)}


@keras.saving.register_keras_serializable(package="keras_zoo")
class GCNConv(_DenseConv):
    """Graph convolution: H' = act(D^-1/2 (A + I) D^-1/2 H W + b) (Kipf & Welling 2017).

    The normalisation is computed inside the layer from the edge list at every call, so
    the input is the plain graph: self-loops are added, a node's degree d is its number of
    incoming edges + 1, and the edge j -> i carries 1 / sqrt(d_i d_j). For an undirected
    graph (both directions listed) this is exactly `graphs.gcn_normalized_adjacency`,
    spektral's `gcn_filter`.

    Args:
        units: output features per node.
        activation, use_bias, kernel_initializer, kernel_regularizer: as in `Dense`.
    """

    def __init__(self, units, **kwargs):
        kwargs.setdefault("self_loops", True)
        super().__init__(units, **kwargs)

    def build(self, input_shape):
        features = input_shape["nodes"][-1]
        self.kernel = self.add_weight(name="kernel", shape=(features, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.bias = (self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
                     if self.use_bias else None)

    def transform(self, x, training=None):
        return ops.matmul(x, self.kernel)  # (G*N, units): cheaper before the edges

    def message(self, x_receivers, x_senders, edges, flat, training=None):
        degree = ops.maximum(
            segment_sum(flat.edge_mask, flat.receivers, flat.num_segments), 1.0)  # (G*N, 1)
        norm = ops.rsqrt(gather_rows(degree, flat.senders)
                         * gather_rows(degree, flat.receivers))  # (E, 1)
        return x_senders * norm

    def update(self, x, aggregated, flat, training=None):
        if self.use_bias:
            aggregated = aggregated + self.bias
        return self.activation(aggregated)


@keras.saving.register_keras_serializable(package="keras_zoo")
class GINConv(_DenseConv):
    """Graph isomorphism layer: h' = MLP((1 + eps) h + sum_{j -> i} h_j) (Xu et al. 2019).

    As spektral's GINConv with `mlp_batchnorm=False`: hidden Dense layers with
    `mlp_activation`, then Dense(units, activation); eps learnable (starts at 0) unless given.

    Args:
        units: output features per node.
        mlp_units: widths of the MLP's hidden layers.
        epsilon: a fixed eps, or None to learn it.
        mlp_activation: activation of the hidden layers.
        activation, use_bias, kernel_initializer, kernel_regularizer: of the Dense layers.
    """

    def __init__(self, units, mlp_units=(64,), epsilon=None, mlp_activation="relu", **kwargs):
        super().__init__(units, **kwargs)
        self.mlp_units, self.epsilon = tuple(mlp_units), epsilon
        self.mlp_activation = mlp_activation
        kw = dict(kernel_initializer=self.kernel_initializer, use_bias=self.use_bias,
                  kernel_regularizer=self.kernel_regularizer)
        self.mlp = [layers.Dense(w, activation=mlp_activation, name=f"mlp{i + 1}", **kw)
                    for i, w in enumerate(self.mlp_units)]
        self.mlp.append(layers.Dense(units, activation=self.activation, name="mlp_out", **kw))

    def build(self, input_shape):
        if self.epsilon is None:
            self.eps = self.add_weight(name="eps", shape=(), initializer="zeros")
        features = input_shape["nodes"][-1]
        for dense in self.mlp:
            dense.build((None, features))
            features = dense.units

    def update(self, x, aggregated, flat, training=None):
        eps = self.eps if self.epsilon is None else self.epsilon
        h = (1.0 + eps) * x + aggregated
        for dense in self.mlp:
            h = dense(h)
        return h

    def get_config(self):
        return {**super().get_config(), "mlp_units": list(self.mlp_units),
                "epsilon": self.epsilon, "mlp_activation": self.mlp_activation}


@keras.saving.register_keras_serializable(package="keras_zoo")
class GATConv(_DenseConv):
    """Graph attention: h_i' = ||_k sum_j alpha^k_ij W^k h_j (Velickovic et al. 2018).

    alpha^k_ij = softmax over the incoming edges of i (self-loop included) of
    LeakyReLU(a_k . [W^k h_i || W^k h_j]); heads are concatenated or averaged.

    Args:
        units: features per head.
        heads: number of attention heads.
        concat: concatenate the heads (units * heads outputs) or average them (units).
        dropout: dropout on the attention coefficients during training.
        negative_slope: of the LeakyReLU on the attention logits.
        activation, use_bias, kernel_initializer, kernel_regularizer: as in `Dense`.
    """

    reads_receivers = True  # attention logits of (receiver, sender) pairs

    def __init__(self, units, heads=1, concat=True, dropout=0.0, negative_slope=0.2, **kwargs):
        kwargs.setdefault("self_loops", True)
        super().__init__(units, **kwargs)
        self.heads, self.concat, self.dropout = heads, concat, dropout
        self.negative_slope = negative_slope
        # in the layer's own dtype policy: a float32 GATConv (a model's output layer under
        # a mixed policy) keeps its attention coefficients float32
        self.attention_dropout = layers.Dropout(dropout, dtype=self.dtype_policy)

    def build(self, input_shape):
        features, h, u = input_shape["nodes"][-1], self.heads, self.units
        self.kernel = self.add_weight(name="kernel", shape=(features, h * u),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.attention_self = self.add_weight(name="attention_self", shape=(h, u),
                                              initializer=self.kernel_initializer)
        self.attention_neighbor = self.add_weight(name="attention_neighbor", shape=(h, u),
                                                  initializer=self.kernel_initializer)
        out = h * u if self.concat else u
        self.bias = (self.add_weight(name="bias", shape=(out,), initializer="zeros")
                     if self.use_bias else None)

    def transform(self, x, training=None):
        return ops.reshape(ops.matmul(x, self.kernel), (-1, self.heads, self.units))  # (N, H, U)

    def message(self, x_receivers, x_senders, edges, flat, training=None):
        logits = (ops.sum(x_receivers * self.attention_self, axis=-1)
                  + ops.sum(x_senders * self.attention_neighbor, axis=-1))  # (E, H)
        logits = ops.leaky_relu(logits, self.negative_slope)
        alpha = segment_softmax(logits, flat.receivers, flat.num_segments, flat.edge_mask)
        alpha = self.attention_dropout(alpha, training=training)
        return x_senders * ops.expand_dims(alpha, -1)  # (E, H, U)

    def update(self, x, aggregated, flat, training=None):
        h = (ops.reshape(aggregated, (-1, self.heads * self.units)) if self.concat
             else ops.mean(aggregated, axis=1))
        if self.use_bias:
            h = h + self.bias
        return self.activation(h)

    def get_config(self):
        return {**super().get_config(), "heads": self.heads, "concat": self.concat,
                "dropout": self.dropout, "negative_slope": self.negative_slope}
