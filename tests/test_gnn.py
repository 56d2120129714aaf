"""Graph neural networks: hand-computed cases, NumPy references, symmetry, padding, spektral.

- GCN's normalised adjacency by hand; GCNConv / GINConv / GATConv against NumPy.
- GCNConv and GATConv on a small directed graph (in- and out-degrees differ) by hand: the
  numbers tell senders from receivers and in-degree from out-degree.
- Every constructor argument, at a non-default value, survives get_config / from_config.
- Message passing is permutation-equivariant, readouts invariant (shuffled node order).
- Padding (more nodes / edges) does not change any result.
- Segment softmax sums to one per receiving node; aggregations by hand.
- spektral parity: GCNConv and GINConv equal spektral's (Keras 2, in a subprocess).
- Bad input: clear errors; unparsable SMILES are skipped and counted.
"""

import inspect
import subprocess
import sys
import types

import keras
import numpy as np
import pytest
import scipy.sparse as sp
from helpers import TESTS, subprocess_env

import keras_zoo
from keras_zoo.datasets import DatasetUnavailableError, molecules, particles
from keras_zoo.datasets import graphs as gdata
from keras_zoo.datasets.graphs import (
    Graph,
    check_graph_batch,
    edges_from_adjacency,
    from_spektral,
    gcn_normalized_adjacency,
    pack_graphs,
    random_graphs,
)
from keras_zoo.layers.graph import (
    GATConv,
    GCNConv,
    GINConv,
    MessagePassing,
    segment_aggregate,
    segment_softmax,
)
from keras_zoo.layers.graph_blocks import (
    EdgeConditionedConv,
    GlobalAttentionPool,
    GlobalPool,
    InteractionNetwork,
)

np_ = keras.ops.convert_to_numpy
PATH = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], "float32")  # 0 - 1 - 2


def undirected(adjacency, x, edges=None):
    """A `Graph` from a (symmetric) adjacency matrix and node features."""
    s, r, _ = edges_from_adjacency(adjacency)
    return Graph(x, s, r, edges=edges)


def layer_cases():
    return [GCNConv(5), GINConv(5, mlp_units=(6,)), GATConv(3, heads=2),
            GATConv(3, heads=2, concat=False), EdgeConditionedConv(4),
            MessagePassing("sum"), MessagePassing("mean"), MessagePassing("max")]


def run(layer, batch):
    out = layer(batch)
    return [np_(o) for o in out] if isinstance(out, tuple) else [np_(out)]


# ------------------------------------------------------------------- hand-computed cases


def test_gcn_normalized_adjacency_by_hand():
    r6 = 1 / np.sqrt(6)  # degrees with self-loops: 2, 3, 2
    expected = np.array([[1 / 2, r6, 0], [r6, 1 / 3, r6], [0, r6, 1 / 2]])
    np.testing.assert_allclose(gcn_normalized_adjacency(PATH), expected, rtol=1e-6)
    layer = GCNConv(3, use_bias=False, kernel_initializer="identity")
    out = np_(layer(pack_graphs([undirected(PATH, np.eye(3))])))[0]  # A_hat @ I @ I
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_aggregations_by_hand():
    messages = np.array([[1.0], [3.0], [-2.0], [7.0]], "float32")
    receivers = np.array([0, 0, 1, 1], "int32")
    mask = np.array([1, 1, 1, 0], "float32")  # the 7 is padding; node 2 receives nothing
    results = {how: np_(segment_aggregate(messages, receivers, 3, mask, how))[:, 0]
               for how in ("sum", "mean", "max")}
    np.testing.assert_allclose(results["sum"], [4, -2, 0])
    np.testing.assert_allclose(results["mean"], [2, -2, 0])
    np.testing.assert_allclose(results["max"], [3, -2, 0])
    with pytest.raises(ValueError, match="aggregation must be one of"):
        segment_aggregate(messages, receivers, 3, mask, "median")


def test_segment_softmax_sums_to_one_per_node(rng):
    receivers = rng.integers(0, 6, size=40).astype("int32")
    mask = (rng.random(40) < 0.8).astype("float32")
    logits = rng.normal(size=(40, 3)).astype("float32") * 5
    alpha = np_(segment_softmax(logits, receivers, 7, mask))
    assert np.all(alpha[mask == 0] == 0) and np.all(alpha >= 0)
    totals = np.zeros((7, 3))
    np.add.at(totals, receivers, alpha)
    has_edges = np.isin(np.arange(7), receivers[mask > 0])
    np.testing.assert_allclose(totals[has_edges], 1.0, rtol=1e-5)
    np.testing.assert_allclose(totals[~has_edges], 0.0)  # node 6 receives nothing


def reference_gat(a, x, kernel, att_self, att_neighbor):
    """Single-head GAT in NumPy with self-loops: softmax_j LeakyReLU(a.[Wh_i || Wh_j])."""
    h = x @ kernel
    logits = (h @ att_self[0])[:, None] + (h @ att_neighbor[0])[None, :]  # (i, j)
    logits = np.where(logits > 0, logits, 0.2 * logits)
    logits = np.where(a + np.eye(len(a)) > 0, logits, -np.inf)
    alpha = np.exp(logits - logits.max(1, keepdims=True))
    return (alpha / alpha.sum(1, keepdims=True)) @ h


def test_layers_match_numpy_references(rng):
    a = (rng.random((6, 6)) < 0.4).astype("float32")
    a = np.triu(a, 1) + np.triu(a, 1).T
    x = rng.normal(size=(6, 4)).astype("float32")
    batch = pack_graphs([undirected(a, x)], num_nodes=8, num_edges=40)
    gcn = GCNConv(3)
    out = np_(gcn(batch))[0, :6]
    w, b = (np_(v) for v in gcn.weights)
    np.testing.assert_allclose(out, gcn_normalized_adjacency(a) @ x @ w + b, rtol=1e-4,
                               atol=1e-5)
    gin = GINConv(3, mlp_units=(5,))
    gin(batch)
    gin.eps.assign(0.3)
    eps, k1, b1, k2, b2 = (np_(v) for v in gin.weights)
    expected = np.maximum(((1 + eps) * x + a @ x) @ k1 + b1, 0) @ k2 + b2
    np.testing.assert_allclose(np_(gin(batch))[0, :6], expected, rtol=1e-4, atol=1e-5)
    gat = GATConv(3, use_bias=False)
    out = np_(gat(batch))[0, :6]
    expected = reference_gat(a, x, *(np_(v) for v in gat.weights))
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------- a directed graph, by hand
# 0 -> 1, 0 -> 2, 1 -> 2, 3 -> 0: messages flow senders -> receivers. With the self-loops
# the layers add, the in-degrees are (2, 2, 3, 1) and the out-degrees (3, 2, 1, 2), so a
# layer that reads the edges backwards, or normalises by the out-degree, gives other numbers.
SENDERS, RECEIVERS = np.array([0, 0, 1, 3]), np.array([1, 2, 2, 0])
DIRECTED_X = np.array([[1, 0], [0, 1], [1, 1], [2, -1]], "float32")


def directed_batch(x, reverse=False):
    """The directed graph (or its reverse) with node features x, padded to 6 nodes, 7 edges."""
    s, r = (RECEIVERS, SENDERS) if reverse else (SENDERS, RECEIVERS)
    return pack_graphs([Graph(x, s, r)], num_nodes=6, num_edges=7)


def adjacency_with_loops(senders, receivers, n=4):
    """A_hat[i, j] = 1 for every edge j -> i (row = receiver), plus the self-loops."""
    a = np.eye(n)
    a[receivers, senders] = 1
    return a


def assert_clearly_different(expected, wrong):
    """Each wrong variant is far from the expected numbers (beyond any rtol)."""
    for name, value in wrong.items():
        assert np.abs(value - expected).max() > 0.02, f"the test cannot tell {name}"


def test_gcn_on_a_directed_graph_by_hand():
    """GCNConv: edge j -> i carries 1 / sqrt(d_i d_j), d = in-degree + 1 (its docstring)."""
    # Row i: the edges into i (self-loop included), each 1 / sqrt(d_i d_j).
    r2, r6 = 1 / np.sqrt(2), 1 / np.sqrt(6)
    expected_filter = np.array([[1 / 2, 0, 0, r2],  # 3 -> 0 (d = 2, 1) and 0 -> 0
                                [1 / 2, 1 / 2, 0, 0],  # 0 -> 1 (d = 2, 2) and 1 -> 1
                                [r6, r6, 1 / 3, 0],  # 0 -> 2, 1 -> 2 (d = 3, 2) and 2 -> 2
                                [0, 0, 0, 1]])  # 3 receives only its self-loop
    a = adjacency_with_loops(SENDERS, RECEIVERS)
    d_in, d_out = a.sum(1), a.sum(0)
    np.testing.assert_array_equal(d_in, [2, 2, 3, 1])
    np.testing.assert_array_equal(d_out, [3, 2, 1, 2])
    np.testing.assert_allclose(a / np.sqrt(np.outer(d_in, d_in)), expected_filter, rtol=1e-12)
    wrong_filters = {
        "senders and receivers swapped": a.T / np.sqrt(np.outer(d_out, d_out)),
        "the out-degree for d": a / np.sqrt(np.outer(d_out, d_out)),
        "D_in^-1/2 A D_out^-1/2": a / np.sqrt(np.outer(d_in, d_out)),
        "D^-1 A (a mean)": a / d_in[:, None],
    }
    assert_clearly_different(expected_filter, wrong_filters)

    # Identity features and kernel, no bias: the output is the filter itself.
    layer = GCNConv(4, use_bias=False, kernel_initializer="identity")
    out = np_(layer(directed_batch(np.eye(4, dtype="float32"))))[0]
    np.testing.assert_allclose(out[:4], expected_filter, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(out[4:], 0.0)  # padded nodes

    # Known kernel and bias: act(filter @ X @ W + b).
    kernel = np.array([[0.5, -1.0, 0.25], [0.25, 0.75, -0.5]], "float32")
    bias = np.array([0.1, -0.2, 0.3], "float32")
    layer = GCNConv(3, activation="tanh")
    layer(directed_batch(DIRECTED_X))
    layer.kernel.assign(kernel)
    layer.bias.assign(bias)
    out = np_(layer(directed_batch(DIRECTED_X)))[0]
    expected = np.tanh(expected_filter @ DIRECTED_X @ kernel + bias)
    np.testing.assert_allclose(out[:4], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(out[4:], 0.0)
    assert_clearly_different(expected, {name: np.tanh(f @ DIRECTED_X @ kernel + bias)
                                        for name, f in wrong_filters.items()})
    # the reversed graph (3 <- 0 ...) is the "swapped" filter's input
    swapped = wrong_filters["senders and receivers swapped"]
    reversed_out = np_(layer(directed_batch(DIRECTED_X, reverse=True)))[0, :4]
    np.testing.assert_allclose(reversed_out, np.tanh(swapped @ DIRECTED_X @ kernel + bias),
                               rtol=1e-5, atol=1e-7)


def gat_by_hand(x, senders, receivers, kernel, att_self, att_neighbor, bias, slope, concat):
    """GATConv's docstring formula, edge by edge, self-loops added.

    e_ij = LeakyReLU_slope(a_self^k . W^k h_i + a_neighbor^k . W^k h_j) for each edge j -> i;
    alpha^k_ij = softmax of e^k_ij over the edges into i; h_i' = heads concatenated (head
    after head) or averaged of sum_j alpha^k_ij W^k h_j, plus the bias.
    """
    n, (heads, units) = len(x), att_self.shape
    senders = np.concatenate([senders, np.arange(n)])
    receivers = np.concatenate([receivers, np.arange(n)])
    z = (x.astype("float64") @ kernel).reshape(n, heads, units)  # W^k h per node and head
    out = np.zeros((n, heads, units))
    for i in range(n):
        into = senders[receivers == i]  # the j of the edges j -> i
        logits = (z[i] * att_self).sum(-1) + (z[into] * att_neighbor).sum(-1)  # (j, heads)
        logits = np.where(logits > 0, logits, slope * logits)
        alpha = np.exp(logits) / np.exp(logits).sum(0)
        out[i] = np.einsum("jk,jku->ku", alpha, z[into])
    return (out.reshape(n, heads * units) if concat else out.mean(1)) + bias


@pytest.mark.parametrize("concat", [True, False], ids=["concat", "mean"])
def test_gat_on_a_directed_graph_by_hand(concat):
    kernel = np.array([[1, 0, 0.5, -1], [0, 1, 1, 0.5]], "float32")  # 2 features -> 2 x 2
    att_self = np.array([[1, -1], [0.5, -1]], "float32")  # (heads, units)
    att_neighbor = np.array([[-1, 1], [-1, 0.5]], "float32")
    bias = np.array([0.1, -0.2, 0.3, 0.05] if concat else [0.1, -0.2], "float32")
    layer = GATConv(2, heads=2, concat=concat, negative_slope=0.1)
    layer(directed_batch(DIRECTED_X))
    for weight, value in zip((layer.kernel, layer.attention_self, layer.attention_neighbor,
                              layer.bias), (kernel, att_self, att_neighbor, bias)):
        weight.assign(value)
    out = np_(layer(directed_batch(DIRECTED_X)))[0]

    def by_hand(senders=SENDERS, receivers=RECEIVERS, a_self=att_self, a_neighbor=att_neighbor,
                slope=0.1):
        return gat_by_hand(DIRECTED_X, senders, receivers, kernel, a_self, a_neighbor, bias,
                           slope, concat)

    expected = by_hand()
    np.testing.assert_allclose(out[:4], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(out[4:], 0.0)
    # Node 3 receives only its self-loop: alpha = 1, h_3' = W h_3 (+ b), whatever the logits.
    z3 = (DIRECTED_X[3] @ kernel).reshape(2, 2)
    np.testing.assert_allclose(out[3], (z3.reshape(-1) if concat else z3.mean(0)) + bias,
                               rtol=1e-5)
    assert_clearly_different(expected, {
        "senders and receivers swapped": by_hand(senders=RECEIVERS, receivers=SENDERS),
        "the default negative_slope 0.2": by_hand(slope=0.2),
        "a_self and a_neighbor swapped": by_hand(a_self=att_neighbor, a_neighbor=att_self),
    })


# ------------------------------------------------------------------------ symmetries


def permuted(graph, perm):
    """The same graph with node i renamed to position where perm puts it."""
    inverse = np.argsort(perm)  # old index -> new index
    return Graph(graph.nodes[perm], inverse[graph.senders], inverse[graph.receivers],
                 edges=graph.edges)


def test_permutation_equivariance_and_invariance(rng):
    graphs = random_graphs(2, 7, 16, node_features=4, edge_features=3, rng=rng)
    perms = [rng.permutation(g.num_nodes) for g in graphs]
    shuffled = [permuted(g, p) for g, p in zip(graphs, perms)]
    batch = pack_graphs(graphs + shuffled, 8, 20)  # rows 2, 3: rows 0, 1 shuffled
    for layer in [*layer_cases(), InteractionNetwork(node_units=(8, 3), edge_units=(8, 5))]:
        out = run(layer, batch)[0]
        for i, (g, p) in enumerate(zip(graphs, perms)):
            np.testing.assert_allclose(out[2 + i, :g.num_nodes], out[i, p], rtol=1e-4,
                                       atol=1e-5, err_msg=type(layer).__name__)
    for readout in (GlobalPool("sum"), GlobalPool("mean"), GlobalPool("max"),
                    GlobalAttentionPool(3)):
        out = np_(readout(batch))
        np.testing.assert_allclose(out[2:], out[:2], rtol=1e-4, atol=1e-5, err_msg=readout.name)
    model = keras_zoo.build("mpnn_molecule", node_features=4, edge_features=3, units=8)
    out = np_(model(batch))
    np.testing.assert_allclose(out[2:], out[:2], rtol=1e-4, atol=1e-4)


def test_padding_does_not_change_results(rng):
    graphs = random_graphs(3, 6, 12, node_features=4, edge_features=3, rng=rng)
    tight, padded = pack_graphs(graphs), pack_graphs(graphs, num_nodes=11, num_edges=30)
    padded["nodes"][padded["node_mask"] == 0] = 5.0  # garbage in padding is ignored too
    padded["senders"][padded["edge_mask"] == 0] = 3
    for layer in [*layer_cases(), InteractionNetwork(node_units=(8, 3), edge_units=(8, 5))]:
        a, b = run(layer, tight)[0], run(layer, padded)[0]
        n = a.shape[1]
        np.testing.assert_allclose(b[:, :n], a, rtol=1e-4, atol=1e-5,
                                   err_msg=type(layer).__name__)
        assert np.all(b[:, n:] == 0), "padded nodes must come out as zeros"
    for readout in (GlobalPool("sum"), GlobalPool("mean"), GlobalPool("max"),
                    GlobalAttentionPool(3)):
        np.testing.assert_allclose(np_(readout(padded)), np_(readout(tight)), rtol=1e-4,
                                   atol=1e-5)
    model = keras_zoo.build("gin_graph_regressor", node_features=4, units=8)
    tight.pop("edges"), padded.pop("edges")  # a functional model takes exactly its inputs
    np.testing.assert_allclose(np_(model(padded)), np_(model(tight)), rtol=1e-4, atol=1e-4)


# (class, required arguments, every other constructor argument at a non-default value)
NON_DEFAULT_CASES = [
    (MessagePassing, {}, dict(aggregate="max", self_loops=True)),
    (GCNConv, dict(units=3), dict(activation="tanh", use_bias=False,
                                  kernel_initializer="he_normal",
                                  kernel_regularizer=keras.regularizers.L2(0.01),
                                  aggregate="mean", self_loops=False)),
    (GINConv, dict(units=3), dict(mlp_units=(4, 5), epsilon=0.5, mlp_activation="tanh",
                                  activation="elu", use_bias=False,
                                  kernel_initializer="he_normal",
                                  kernel_regularizer=keras.regularizers.L2(0.01),
                                  aggregate="max", self_loops=True)),
    (GATConv, dict(units=3), dict(heads=2, concat=False, dropout=0.25, negative_slope=0.1,
                                  activation="elu", use_bias=False,
                                  kernel_initializer="he_normal",
                                  kernel_regularizer=keras.regularizers.L2(0.01),
                                  aggregate="mean", self_loops=False)),
    (EdgeConditionedConv, dict(units=3), dict(kernel_network=(4, 6), activation="tanh",
                                              aggregate="mean", self_loops=True)),
    (InteractionNetwork, {}, dict(node_units=(5, 3), edge_units=(6, 4), activation="tanh")),
    (GlobalPool, {}, dict(mode="mean")),
    (GlobalAttentionPool, dict(units=3), {}),
]
SERIALIZED = {"activation": keras.activations.get, "kernel_initializer": keras.initializers.get,
              "kernel_regularizer": keras.regularizers.get}


def constructor_arguments(cls):
    """Named arguments of `cls.__init__` and of the keras_zoo bases its **kwargs reach."""
    names = []
    for klass in cls.__mro__:
        if not klass.__module__.startswith("keras_zoo"):
            break  # keras.layers.Layer's own (name, dtype, ...) are Keras's business
        if "__init__" in vars(klass):
            names += [p.name for p in inspect.signature(klass.__init__).parameters.values()
                      if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
    return set(names)


@pytest.mark.parametrize("cls, required, options", NON_DEFAULT_CASES,
                         ids=[case[0].__name__ for case in NON_DEFAULT_CASES])
def test_non_default_arguments_survive_the_config(cls, required, options, rng):
    arguments = constructor_arguments(cls)
    assert set(required) | set(options) == arguments, "a constructor argument is not tested"
    layer, default = cls(**required, **options), cls(**required)
    config, default_config = layer.get_config(), default.get_config()
    assert type(default).from_config(default_config).get_config() == default_config
    assert arguments <= set(config), f"get_config misses {arguments - set(config)}"
    for name, value in {**required, **options}.items():
        stored, expected = config[name], list(value) if isinstance(value, tuple) else value
        if name in SERIALIZED and stored != expected:  # a Keras object, stored serialized
            expected = keras.saving.serialize_keras_object(SERIALIZED[name](value))
        assert stored == expected, name
        if name in options:
            assert stored != default_config[name], f"{name}={value!r} is the default"
    again = cls.from_config(config)
    assert again.get_config() == config
    graphs = random_graphs(2, 6, 12, node_features=3, edge_features=2, rng=rng)
    batch = pack_graphs(graphs, num_nodes=7, num_edges=14)
    run(layer, batch)  # builds both
    run(again, batch)
    layer.set_weights([rng.uniform(-1, 1, w.shape) for w in layer.weights])  # reproducible
    assert len(again.weights) == len(layer.weights)
    again.set_weights(layer.get_weights())
    for a, b in zip(run(layer, batch), run(again, batch), strict=True):
        assert np.abs(a).max() > 0.01, "a real output, not zeros"
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------------ bad input


def test_bad_graphs_give_clear_errors():
    with pytest.raises(ValueError, match=r"receivers must be node indices in \[0, 3\)"):
        Graph(np.zeros((3, 2)), [0, 1], [1, 3])
    with pytest.raises(ValueError, match="edges has 1 rows but there are 2 edges"):
        Graph(np.zeros((3, 2)), [0, 1], [1, 2], edges=np.zeros((1, 4)))
    g2, g3 = Graph(np.zeros((2, 2)), [0], [1]), Graph(np.zeros((2, 3)), [0], [1])
    with pytest.raises(ValueError, match="same feature sizes"):
        pack_graphs([g2, g3])
    with pytest.raises(ValueError, match="more than the padded sizes"):
        pack_graphs([g2], num_nodes=1)
    batch = pack_graphs([g2, g2])
    batch["senders"][1, 0] = 2
    with pytest.raises(ValueError, match=r"senders\[1, 0\] = 2 is out of range"):
        check_graph_batch(batch)
    with pytest.raises(ValueError, match="nodes have 2 features, expected 5"):
        check_graph_batch(pack_graphs([g2]), node_features=5)
    model = keras_zoo.build("gcn_node_classifier", node_features=5, units=4)
    with pytest.raises(ValueError, match=r"expected shape=\(None, None, 5\)"):
        model(pack_graphs([g2]))
    with pytest.raises(ValueError, match="needs edge features"):
        EdgeConditionedConv(3)(pack_graphs([g2]))


def test_bad_smiles_are_skipped_and_counted():
    with pytest.raises(ValueError, match="rdkit cannot parse the SMILES 'C1CC'"):
        molecules.smiles_to_graph("C1CC")
    data = molecules.molecules_from_smiles(["CCO", "not a molecule", "c1ccccc1", "C" * 30],
                                       [1.0, 2.0, 3.0, 4.0], max_atoms=20)
    assert data["smiles"] == ["CCO", "c1ccccc1"] and list(data["y"]) == [1.0, 3.0]
    assert data["skipped"] == {"unparsable": [(1, "not a molecule")],
                               "too_large": [(3, "C" * 30)]}
    ethanol, benzene = data["graphs"]
    assert ethanol.nodes.shape == (3, molecules.ATOM_FEATURES) and ethanol.num_edges == 4
    assert benzene.edges.shape == (12, molecules.BOND_FEATURES)
    assert np.all(benzene.edges[:, 3] == 1) and np.all(benzene.nodes[:, 0] == 1)  # C, aromatic


# ------------------------------------------------------------------------- data sets


def test_embedded_graph_data():
    graph, labels = gdata.load_karate_club()
    assert (graph.num_nodes, graph.num_edges, labels.sum()) == (34, 156, 17)
    assert labels[0] == 0 and labels[33] == 1  # Mr. Hi and the officer
    nci = molecules.load_nci_tpsa(limit=400)
    assert len(nci["graphs"]) + sum(map(len, nci["skipped"].values())) == 400
    assert nci["y"][0] == pytest.approx(34.14)  # CC1=CC(=O)C=CC1=O: two carbonyl O
    graph, labels = gdata.make_citation_graph(num_nodes=700, seed=1)
    same = labels[graph.senders] == labels[graph.receivers]
    assert 0.7 < same.mean() < 0.9 and 2.5 < graph.num_edges / 700 < 5.5


def test_particle_simulation_physics():
    x, v, acc, k = particles.simulate_particles(num_sims=3, num_particles=4, steps=5)
    s, t = 1, 2
    expected = sum(k[s, 0, j] * (x[s, t, j] - x[s, t, 0]) for j in range(4))
    np.testing.assert_allclose(acc[s, t, 0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(acc.sum(axis=2), 0.0, atol=1e-5)  # Newton's third law
    np.testing.assert_allclose(v[:, 1], v[:, 0] + 0.05 * acc[:, 0], rtol=1e-5, atol=1e-6)
    batch = particles.particle_graphs(x[:, 0], v[:, 0], k)
    check_graph_batch(batch, node_features=4, edge_features=1)
    e = 5  # some edge: its feature is k[receiver, sender]
    r, snd = batch["receivers"][0, e], batch["senders"][0, e]
    assert batch["edges"][0, e, 0] == k[0, r, snd] and r != snd


def test_from_spektral_graph_fixtures():
    from spektral.data import Graph as SpektralGraph

    a = sp.csr_matrix(np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], "float32"))
    e = np.arange(8, dtype="float32").reshape(4, 2)  # rows follow a's non-zeros
    g = from_spektral(SpektralGraph(x=np.eye(3), a=a, e=e, y=np.array([1])))
    assert list(zip(g.senders, g.receivers)) == [(1, 0), (2, 0), (0, 1), (0, 2)]
    np.testing.assert_array_equal(g.edges, e)
    dense_e = np.zeros((3, 3, 2), "float32")
    dense_e[0, 2] = [7, 9]  # the edge 2 -> 0 (row = receiver, column = sender)
    g = from_spektral(SpektralGraph(x=np.eye(3), a=a.toarray(), e=dense_e))
    np.testing.assert_array_equal(g.edges[1], [7, 9])
    with pytest.raises(ValueError, match="needs node features x and an adjacency a"):
        from_spektral(SpektralGraph(x=np.eye(3)))


def test_full_data_offline_error(monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("Name or service not known")

    fake = types.ModuleType("spektral.datasets")
    fake.Citation = fake.TUDataset = fail
    monkeypatch.setitem(sys.modules, "spektral.datasets", fake)
    with pytest.raises(DatasetUnavailableError, match="cannot load 'cora' through spektral"):
        gdata.load_planetoid("cora")
    with pytest.raises(DatasetUnavailableError, match="offline, use --data embedded"):
        gdata.load_tu_dataset("MUTAG")


# ------------------------------------------------------------------- spektral parity

SPEKTRAL = """
import sys
import numpy as np
import scipy.sparse as sp
from spektral.layers import GCNConv, GINConv
from spektral.utils import gcn_filter
from spektral.utils.sparse import sp_matrix_to_sp_tensor

d = np.load(sys.argv[1])
gcn = GCNConv(d["gcn_w"].shape[1])
gcn([d["x"], gcn_filter(d["a"])])
gcn.set_weights([d["gcn_w"], d["gcn_b"]])
gin = GINConv(d["gin_w2"].shape[1], mlp_hidden=[d["gin_w1"].shape[1]], mlp_batchnorm=False)
a = sp_matrix_to_sp_tensor(sp.csr_matrix(d["a"]))
gin([d["x"], a])
gin.set_weights([d["gin_eps"], d["gin_w1"], d["gin_b1"], d["gin_w2"], d["gin_b2"]])
np.savez(sys.argv[2], gcn=gcn([d["x"], gcn_filter(d["a"])]).numpy(), gin=gin([d["x"], a]).numpy())
"""


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="spektral's numbers do not depend on our backend: checked on the "
                           "TensorFlow run; the goldens hold the other backends to TF's")
def test_spektral_parity(rng, tmp_path):
    a = np.triu((rng.random((9, 9)) < 0.35).astype("float32"), 1)
    a = a + a.T
    x = rng.normal(size=(9, 5)).astype("float32")
    batch = pack_graphs([undirected(a, x)], num_nodes=12, num_edges=60)
    gcn, gin = GCNConv(4), GINConv(4, mlp_units=(6,))
    ours = {"gcn": np_(gcn(batch))[0, :9]}
    gin(batch)
    gin.eps.assign(0.25)
    ours["gin"] = np_(gin(batch))[0, :9]
    weights = dict(zip(["gcn_w", "gcn_b"], map(np_, gcn.weights)))
    eps, *mlp = map(np_, gin.weights)
    weights.update(zip(["gin_w1", "gin_b1", "gin_w2", "gin_b2"], mlp), gin_eps=eps[None])
    np.savez(tmp_path / "in.npz", x=x, a=a, **weights)
    env = dict(subprocess_env("tensorflow"), TF_USE_LEGACY_KERAS="1")
    proc = subprocess.run([sys.executable, "-c", SPEKTRAL, tmp_path / "in.npz",
                           tmp_path / "out.npz"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    theirs = np.load(tmp_path / "out.npz")
    for key in ("gcn", "gin"):
        assert np.std(theirs[key]) > 0.1
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.slow
@pytest.mark.skipif(keras.backend.backend() != "tensorflow",
                    reason="the data path is NumPy, the same on every backend: checked once, "
                           "on the TensorFlow run")
def test_cora_full_offline_gives_one_line_error(tmp_path):
    env = dict(subprocess_env(keras.backend.backend()), MPLBACKEND="Agg",
               HTTPS_PROXY="http://127.0.0.1:9", HTTP_PROXY="http://127.0.0.1:9",
               HOME=str(tmp_path))  # no spektral cache: a fresh, offline machine
    script = TESTS.parent / "tutorials" / "gnn_cora.py"
    proc = subprocess.run([sys.executable, str(script), "--data", "full", "--smoke", "--out",
                           str(tmp_path / "out")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot load 'cora'") and "--data embedded" in last, last
