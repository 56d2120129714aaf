"""Graph neural networks: node classification, molecule properties, particle physics.

Lecture 02 "Deep learning architectures" (graph neural networks: the message-passing
layer h_u' = phi(h_u, sum_v psi(h_u, h_v, e_uv)); molecule -> property, physics with
Interaction Networks, node and graph classification) and the companion notebook's GCN
on Cora. Kipf & Welling 2017 (GCN); Velickovic et al. 2018 (GAT); Xu et al. 2019 (GIN);
Gilmer et al. 2017 (MPNN); Battaglia et al. 2016 (Interaction Networks).

Every model takes a graph batch dict (`keras_zoo.datasets.graphs`: nodes (G, N, F), senders and
receivers (G, E), node_mask (G, N), edge_mask (G, E), edges (G, E, D) where used); N and
E are free, so the same model runs on any padded size. Outputs are logits per node
(G, N, classes), one row per graph (G, targets) or per-node vectors (G, N, output_size).
"""

import keras
from keras import layers

from keras_zoo.datasets.graphs import pack_graphs, random_graphs
from keras_zoo.layers import checked_input
from keras_zoo.layers.graph import GATConv, GCNConv, GINConv
from keras_zoo.layers.graph_blocks import (
    EdgeConditionedConv,
    GlobalAttentionPool,
    GlobalPool,
    InteractionNetwork,
)
from keras_zoo.models.base import ZooModel
from keras_zoo.registry import register_model

EXAMPLE_NODES, EXAMPLE_EDGES = 12, 24  # padded sizes of the registry's example batches


def graph_inputs(node_features, edge_features=None):
    """`keras.Input`s of a graph batch: returns (inputs dict, graph dict of checked tensors)."""
    inputs, graph = {}, {}
    inputs["nodes"], graph["nodes"] = checked_input((None, node_features), "nodes")
    for key, dtype in (("senders", "int32"), ("receivers", "int32"),
                       ("node_mask", "float32"), ("edge_mask", "float32")):
        inputs[key] = graph[key] = keras.Input((None,), dtype=dtype, name=key)
    if edge_features:
        inputs["edges"], graph["edges"] = checked_input((None, edge_features), "edges")
    return inputs, graph


def apply_gin_block(graph, units, num_layers, name="gin"):
    """`num_layers` GINConv layers (2-layer MLPs, ReLU); returns the sum readout of each.

    Xu et al. 2019 read out every layer and concatenate: (G, num_layers * units).
    """
    readouts = []
    for i in range(num_layers):
        nodes = GINConv(units, mlp_units=(units,), activation="relu",
                        name=f"{name}{i + 1}")(graph)  # (G, N, units)
        graph = {**graph, "nodes": nodes}
        readouts.append(GlobalPool("sum", name=f"{name}{i + 1}_sum")(graph))  # (G, units)
    return layers.Concatenate(name=f"{name}_readout")(readouts) if num_layers > 1 else readouts[0]


def _l2(weight_decay):
    # torch's Adam(weight_decay=wd) adds wd * w to the gradient: the gradient of wd/2 |w|^2.
    return keras.regularizers.L2(weight_decay / 2) if weight_decay else None


def graph_example(model, batch, rng):
    """Registry example: `batch` random graphs padded to 12 nodes / 24 edges, and targets.

    Node classifiers get labels per node (G, N), graph models one target row per graph,
    the interaction network a vector per node; edge indices are always in range.
    """
    shapes = {t.name: t.shape for t in model.inputs}
    edge_features = shapes["edges"][-1] if "edges" in shapes else None
    graphs = random_graphs(batch, EXAMPLE_NODES, EXAMPLE_EDGES, shapes["nodes"][-1],
                           edge_features, rng)
    x = pack_graphs(graphs, EXAMPLE_NODES, EXAMPLE_EDGES)
    out = model.outputs[0].shape
    if len(out) == 3 and model.name.endswith("classifier"):  # per node: (G, N) labels
        y = rng.integers(0, out[-1], size=(batch, EXAMPLE_NODES)).astype("int32")
    elif len(out) == 3:  # a vector per node
        y = rng.normal(size=(batch, EXAMPLE_NODES, out[-1])).astype("float32")
    elif model.name.endswith("classifier"):
        y = rng.integers(0, out[-1], size=(batch,)).astype("int32")
    else:
        y = rng.normal(size=(batch, out[-1])).astype("float32")
    return x, y


SMALL = {"node_features": 8, "units": 8}


@register_model(task="classification", family="gnn", example=graph_example,
                smoke={"node_features": 8, "units": 16, "dropout": 0.1})
def gcn_node_classifier(node_features=1433, num_classes=7, units=16, dropout=0.5,
                        weight_decay=5e-4, name="gcn_node_classifier"):
    """Two-layer GCN node classifier (Kipf & Welling 2017; the notebook's Cora model).

    GCNConv(units) -> ReLU -> Dropout -> GCNConv(num_classes), as in the companion notebook.

    Args:
        node_features: input features per node (Cora: 1433 word indicators).
        num_classes: classes per node.
        units: hidden features per node.
        dropout: dropout between the two layers.
        weight_decay: L2 on the kernels, equal to torch Adam's `weight_decay`.
        name: model name.

    Returns:
        A functional `keras.Model`: graph batch dict -> logits (G, N, num_classes).
    """
    inputs, graph = graph_inputs(node_features)
    h = GCNConv(units, activation="relu", kernel_regularizer=_l2(weight_decay),
                name="gcn1")(graph)  # (G, N, units)
    h = layers.Dropout(dropout, name="dropout")(h)
    logits = GCNConv(num_classes, kernel_regularizer=_l2(weight_decay), dtype="float32",
                     name="gcn2")({**graph, "nodes": h})  # (G, N, classes)
    return ZooModel(inputs, logits, name=name)


@register_model(task="classification", family="gnn", example=graph_example,
                smoke={"node_features": 8, "units": 4, "heads": 2, "dropout": 0.1})
def gat_node_classifier(node_features=1433, num_classes=7, units=8, heads=8, dropout=0.6,
                        weight_decay=5e-4, name="gat_node_classifier"):
    """Two-layer GAT node classifier (Velickovic et al. 2018, their Cora setting).

    Dropout -> GATConv(units x heads, ELU) -> Dropout -> GATConv(num_classes, 1 head).

    Args:
        node_features: input features per node.
        num_classes: classes per node.
        units: features per head in the hidden layer.
        heads: attention heads in the hidden layer.
        dropout: on the inputs, the hidden features and the attention coefficients.
        weight_decay: L2 on the kernels (as torch Adam's `weight_decay`).
        name: model name.

    Returns:
        A functional `keras.Model`: graph batch dict -> logits (G, N, num_classes).
    """
    inputs, graph = graph_inputs(node_features)
    h = layers.Dropout(dropout, name="input_dropout")(graph["nodes"])
    h = GATConv(units, heads=heads, dropout=dropout, activation="elu",
                kernel_regularizer=_l2(weight_decay), name="gat1")({**graph, "nodes": h})
    h = layers.Dropout(dropout, name="dropout")(h)  # (G, N, units * heads)
    logits = GATConv(num_classes, heads=1, concat=False, dropout=dropout,
                     kernel_regularizer=_l2(weight_decay), dtype="float32",
                     name="gat2")({**graph, "nodes": h})
    return ZooModel(inputs, logits, name=name)


def _gin(node_features, units, num_layers, outputs, name):
    inputs, graph = graph_inputs(node_features)
    h = apply_gin_block(graph, units, num_layers)  # (G, num_layers * units)
    h = layers.Dense(units, activation="relu", name="head")(h)
    return ZooModel(inputs, layers.Dense(outputs, dtype="float32", name="out")(h), name=name)


@register_model(task="regression", family="gnn", example=graph_example, smoke=SMALL)
def gin_graph_regressor(node_features=16, num_targets=1, units=64, num_layers=3,
                        name="gin_graph_regressor"):
    """GIN graph regressor: GIN layers, sum readout of every layer, MLP head (Xu et al. 2019).

    Args:
        node_features: input features per node.
        num_targets: values predicted per graph.
        units: hidden features.
        num_layers: GINConv layers.
        name: model name.

    Returns:
        A functional `keras.Model`: graph batch dict -> (G, num_targets).
    """
    return _gin(node_features, units, num_layers, num_targets, name)


@register_model(task="classification", family="gnn", example=graph_example, smoke=SMALL)
def gin_graph_classifier(node_features=16, num_classes=2, units=64, num_layers=3,
                         name="gin_graph_classifier"):
    """GIN graph classifier (Xu et al. 2019): logits per graph.

    Args:
        node_features: input features per node.
        num_classes: classes per graph.
        units: hidden features.
        num_layers: GINConv layers.
        name: model name.

    Returns:
        A functional `keras.Model`: graph batch dict -> logits (G, num_classes).
    """
    return _gin(node_features, units, num_layers, num_classes, name)


@register_model(task="regression", family="gnn", example=graph_example,
                smoke={"node_features": 8, "edge_features": 3, "units": 8})
def mpnn_molecule(node_features=16, edge_features=6, num_targets=1, units=32, num_steps=3,
                  name="mpnn_molecule"):
    """Edge-conditioned MPNN for molecular properties (Gilmer et al. 2017, edge network).

    Dense embedding of the atoms, `num_steps` EdgeConditionedConv layers whose filters
    are computed from the bond features (with residual connections), then sum and
    attention readouts and an MLP head.

    Args:
        node_features: atom features.
        edge_features: bond features.
        num_targets: properties predicted per molecule.
        units: hidden features per atom.
        num_steps: message-passing steps.
        name: model name.

    Returns:
        A functional `keras.Model`: graph batch dict -> (G, num_targets).
    """
    inputs, graph = graph_inputs(node_features, edge_features)
    h = layers.Dense(units, activation="relu", name="embed")(graph["nodes"])  # (G, N, units)
    for i in range(num_steps):
        m = EdgeConditionedConv(units, kernel_network=(units,), activation="relu",
                                name=f"ecc{i + 1}")({**graph, "nodes": h})
        h = layers.Add(name=f"residual{i + 1}")([h, m])
    graph = {**graph, "nodes": h}
    readout = layers.Concatenate(name="readout")([
        GlobalPool("sum", name="sum_pool")(graph),
        GlobalAttentionPool(units, name="attention_pool")(graph)])  # (G, 2 * units)
    h = layers.Dense(units, activation="relu", name="head")(readout)
    return ZooModel(inputs, layers.Dense(num_targets, dtype="float32", name="out")(h), name=name)


@register_model(task="regression", family="gnn", example=graph_example,
                smoke={"units": 16})
def interaction_network(node_features=4, edge_features=1, output_size=2, units=128,
                        name="interaction_network"):
    """Interaction Network (Battaglia et al. 2016): particle states -> per-particle outputs.

    One block: a relation MLP on every (receiver, sender, relation) triple, the effects
    summed per particle, an object MLP on (state, summed effects). Used to predict each
    particle's acceleration from positions and velocities.

    Args:
        node_features: state per particle (e.g. x, y, vx, vy).
        edge_features: relation attributes (e.g. spring constant).
        output_size: values per particle (e.g. acceleration ax, ay).
        units: hidden width of both MLPs (relation: 3 layers, object: 2 + output).
        name: model name.

    Returns:
        A functional `keras.Model`: graph batch dict -> (G, N, output_size).
    """
    inputs, graph = graph_inputs(node_features, edge_features)
    nodes, _ = InteractionNetwork(node_units=(units, units, output_size),
                                  edge_units=(units, units, units), dtype="float32",
                                  name="interaction")(graph)
    return ZooModel(inputs, nodes, name=name)



