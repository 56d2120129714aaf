"""Graphs for keras_zoo's GNNs: the batch format, a packer and checks, and graph data.

A batch of G graphs is a dict of NumPy arrays, each padded to fixed sizes so that every
batch has the same shapes (JAX compiles once, not once per batch):

    nodes      (G, N, F) float32  node features; padded rows are zero
    senders    (G, E)    int32    edge j -> i: the sender j, an index into that graph's nodes
    receivers  (G, E)    int32    ... and the receiver i (messages flow senders -> receivers)
    node_mask  (G, N)    float32  1 for a real node, 0 for padding
    edge_mask  (G, E)    float32  1 for a real edge, 0 for padding (padded edges point 0 -> 0)
    edges      (G, E, D) float32  optional edge features

The graph index of a node is its row: `model.fit` slices batches along axis 0, so a
mini-batch is a set of whole graphs. Inside the layers the rows are flattened into one
disjoint graph of G * N nodes (node n of graph g becomes g * N + n), which is the
jraph / spektral "disjoint" format, and aggregated with `keras.ops.segment_*` over a
static number of segments. A single large graph (karate, Cora) is a batch with G = 1.
Undirected graphs list every edge in both directions.

Data, embedded (offline) by default: Zachary's karate club (networkx), and a
citation-like graph from a stochastic block model with class-dependent sparse
bag-of-words features (the offline stand-in for Cora). `data="full"`: Cora/CiteSeer/PubMed
and TU data sets through `spektral.datasets` (they download, then use a cache); offline
they raise `DatasetUnavailableError` in one line. networkx and spektral come with the
`graphs` extra; without them a loader raises `MissingDataExtraError` (one line).
Molecules: `datasets.molecules`; particle systems: `datasets.particles`.
"""

from dataclasses import dataclass

import numpy as np

from keras_zoo.datasets import DatasetUnavailableError, require_for_data

GRAPH_KEYS = ("nodes", "senders", "receivers", "node_mask", "edge_mask")


@dataclass
class Graph:
    """One graph: node features, directed edges (senders -> receivers), edge features.

    Args:
        nodes: (n, F) node features.
        senders: (e,) int sender indices in [0, n).
        receivers: (e,) int receiver indices in [0, n).
        edges: optional (e, D) edge features.
        y: optional target (a graph property, or one value per node).
    """

    nodes: np.ndarray
    senders: np.ndarray
    receivers: np.ndarray
    edges: np.ndarray | None = None
    y: object = None

    def __post_init__(self):
        self.nodes = np.asarray(self.nodes, dtype="float32")
        if self.nodes.ndim == 1:
            self.nodes = self.nodes[:, None]
        self.senders = np.asarray(self.senders, dtype="int32").reshape(-1)
        self.receivers = np.asarray(self.receivers, dtype="int32").reshape(-1)
        if self.edges is not None:
            self.edges = np.asarray(self.edges, dtype="float32")
            if self.edges.ndim == 1:
                self.edges = self.edges[:, None]
        check_graph(self)

    @property
    def num_nodes(self):
        return len(self.nodes)

    @property
    def num_edges(self):
        return len(self.senders)


def check_graph(graph):
    """Raise `ValueError` with a clear message if a `Graph`'s arrays do not fit together."""
    n = len(graph.nodes)
    if graph.nodes.ndim != 2:
        raise ValueError(f"nodes must have shape (num_nodes, features), got {graph.nodes.shape}")
    if graph.senders.shape != graph.receivers.shape:
        raise ValueError(f"senders {graph.senders.shape} and receivers "
                         f"{graph.receivers.shape} must have the same length")
    for key in ("senders", "receivers"):
        index = getattr(graph, key)
        bad = index[(index < 0) | (index >= n)]
        if bad.size:
            raise ValueError(f"{key} must be node indices in [0, {n}) but contain "
                             f"{bad[:5].tolist()} (the graph has {n} nodes)")
    if graph.edges is not None and len(graph.edges) != len(graph.senders):
        raise ValueError(f"edges has {len(graph.edges)} rows but there are "
                         f"{len(graph.senders)} edges (senders/receivers)")


def pack_graphs(graphs, num_nodes=None, num_edges=None):
    """Pad a list of `Graph`s into one batch dict (see the module docstring).

    Args:
        graphs: list of `Graph` (all with the same node and edge feature sizes).
        num_nodes: N, the padded number of nodes (default: the largest graph's).
        num_edges: E, the padded number of edges (default: the most edges of any graph).

    Returns:
        dict with nodes, senders, receivers, node_mask, edge_mask (and edges if the
        graphs have edge features).

    Raises:
        ValueError: a graph is larger than N / E, feature sizes differ, bad indices.
    """
    graphs = list(graphs)
    if not graphs:
        raise ValueError("pack_graphs needs at least one graph")
    n_max = max(g.num_nodes for g in graphs)
    e_max = max(g.num_edges for g in graphs)
    num_nodes, num_edges = num_nodes or n_max, num_edges or max(e_max, 1)
    if n_max > num_nodes or e_max > num_edges:
        raise ValueError(f"a graph has {n_max} nodes / {e_max} edges, more than the padded "
                         f"sizes num_nodes={num_nodes} / num_edges={num_edges}")
    features = {g.nodes.shape[1] for g in graphs}
    has_edges = {g.edges is not None for g in graphs}
    edge_features = {g.edges.shape[1] for g in graphs if g.edges is not None}
    if len(features) > 1 or len(edge_features) > 1 or len(has_edges) > 1:
        raise ValueError(f"all graphs need the same feature sizes: node features {features}, "
                         f"edge features {edge_features or None} (some without: "
                         f"{False in has_edges})")
    count = len(graphs)
    batch = {
        "nodes": np.zeros((count, num_nodes, features.pop()), "float32"),
        "senders": np.zeros((count, num_edges), "int32"),
        "receivers": np.zeros((count, num_edges), "int32"),
        "node_mask": np.zeros((count, num_nodes), "float32"),
        "edge_mask": np.zeros((count, num_edges), "float32"),
    }
    if edge_features:
        batch["edges"] = np.zeros((count, num_edges, edge_features.pop()), "float32")
    for i, g in enumerate(graphs):
        check_graph(g)
        n, e = g.num_nodes, g.num_edges
        batch["nodes"][i, :n] = g.nodes
        batch["senders"][i, :e] = g.senders
        batch["receivers"][i, :e] = g.receivers
        batch["node_mask"][i, :n] = 1.0
        batch["edge_mask"][i, :e] = 1.0
        if "edges" in batch:
            batch["edges"][i, :e] = g.edges
    return batch


def check_graph_batch(batch, node_features=None, edge_features=None):
    """Raise `ValueError` unless `batch` is a valid padded graph batch.

    Checks shapes, that real edges index real nodes, and optional feature sizes (the
    layers cannot check indices on every backend: JAX clips an out-of-range gather).
    """
    missing = [k for k in GRAPH_KEYS if k not in batch]
    if missing:
        raise ValueError(f"graph batch lacks {missing}; it needs {list(GRAPH_KEYS)} (+ edges)")
    nodes, senders, receivers = (np.asarray(batch[k]) for k in GRAPH_KEYS[:3])
    node_mask, edge_mask = np.asarray(batch["node_mask"]), np.asarray(batch["edge_mask"])
    if nodes.ndim != 3 or node_mask.shape != nodes.shape[:2]:
        raise ValueError(f"nodes must be (graphs, N, F) and node_mask (graphs, N); got "
                         f"{nodes.shape} and {node_mask.shape}")
    if senders.shape != receivers.shape or edge_mask.shape != senders.shape:
        raise ValueError(f"senders, receivers and edge_mask must all be (graphs, E); got "
                         f"{senders.shape}, {receivers.shape}, {edge_mask.shape}")
    if node_features is not None and nodes.shape[-1] != node_features:
        raise ValueError(f"nodes have {nodes.shape[-1]} features, expected {node_features}")
    if "edges" in batch:
        edges = np.asarray(batch["edges"])
        if edges.shape[:2] != senders.shape:
            raise ValueError(f"edges {edges.shape} do not match senders {senders.shape}")
        if edge_features is not None and edges.shape[-1] != edge_features:
            raise ValueError(f"edges have {edges.shape[-1]} features, expected {edge_features}")
    n_real = node_mask.sum(axis=1, keepdims=True)  # (graphs, 1)
    for key, index in (("senders", senders), ("receivers", receivers)):
        bad = (edge_mask > 0) & ((index < 0) | (index >= n_real))
        if bad.any():
            g, e = np.argwhere(bad)[0]
            raise ValueError(f"{key}[{g}, {e}] = {index[g, e]} is out of range: graph {g} "
                             f"has {int(n_real[g, 0])} nodes")
    return batch


def edges_from_adjacency(adjacency):
    """Dense or scipy-sparse adjacency A -> (senders, receivers, weights), row-major order.

    Follows spektral: A[i, j] != 0 is a message from node j (sender) to node i (receiver).
    """
    import scipy.sparse as sp

    a = sp.coo_matrix(adjacency)
    order = np.lexsort((a.col, a.row))  # by receiver (row), then sender (column)
    return (a.col[order].astype("int32"), a.row[order].astype("int32"),
            a.data[order].astype("float32"))


def from_spektral(graph):
    """A `spektral.data.Graph` (x, a, e, y; single mode) -> a keras_zoo `Graph`.

    Edge features `e` may be (num_edges, S) in the order of a's non-zeros (row-major, as
    spektral stores them) or dense (N, N, S). spektral itself is not imported.
    """
    if getattr(graph, "x", None) is None or getattr(graph, "a", None) is None:
        raise ValueError("a spektral Graph needs node features x and an adjacency a")
    senders, receivers, _ = edges_from_adjacency(graph.a)
    edges = getattr(graph, "e", None)
    if edges is not None:
        edges = np.asarray(edges)
        edges = edges[receivers, senders] if edges.ndim == 3 else edges
    return Graph(graph.x, senders, receivers, edges=edges, y=getattr(graph, "y", None))


def gcn_normalized_adjacency(adjacency):
    """D^-1/2 (A + I) D^-1/2 (Kipf & Welling 2017) as a dense NumPy array.

    The reference the tests compare `GCNConv` with; `GCNConv` computes the same inside
    the layer from the edge list (degree = incoming edges + 1).
    """
    a = np.asarray(adjacency, dtype="float64") + np.eye(len(adjacency))
    d = 1.0 / np.sqrt(a.sum(axis=1))
    return (d[:, None] * a * d[None, :]).astype("float32")


def random_graphs(count, num_nodes, num_edges, node_features, edge_features=None, rng=None):
    """`count` random graphs with 2..num_nodes nodes and up to num_edges random edges.

    For tests and the registry's example batches: features uniform in [0, 1).
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    graphs = []
    for _ in range(count):
        n = int(rng.integers(max(2, num_nodes // 2), num_nodes + 1))
        e = int(rng.integers(num_edges // 2, num_edges + 1))
        senders, receivers = rng.integers(0, n, size=(2, e))
        edges = None if not edge_features else rng.uniform(size=(e, edge_features))
        graphs.append(Graph(rng.uniform(size=(n, node_features)), senders, receivers, edges))
    return graphs


def load_karate_club():
    """Zachary's karate club: features = identity (one-hot node id), labels = the club.

    Returns:
        (graph, labels): a `Graph` with 34 nodes (34 features) and 156 directed edges
        (each friendship both ways); labels int32 (34,), 0 = "Mr. Hi", 1 = "Officer".
    """
    nx = require_for_data("networkx", "graphs", "the karate club graph")
    g = nx.karate_club_graph()
    edges = np.array(g.edges(), dtype="int32")  # (78, 2)
    senders = np.concatenate([edges[:, 0], edges[:, 1]])
    receivers = np.concatenate([edges[:, 1], edges[:, 0]])
    labels = np.array([g.nodes[i]["club"] != "Mr. Hi" for i in g.nodes], dtype="int32")
    return Graph(np.eye(len(g), dtype="float32"), senders, receivers), labels


def split_indices(count, fractions=(0.8, 0.1, 0.1), seed=0):
    """A random split of range(count) into train / validation / test index arrays."""
    order = np.random.default_rng(seed).permutation(count)
    a, b = int(fractions[0] * count), int((fractions[0] + fractions[1]) * count)
    return order[:a], order[a:b], order[b:]


def make_citation_graph(num_nodes=2000, num_classes=7, num_features=500, degree=4.0,
                        homophily=0.8, words=10, topic=0.25, seed=0):
    """A Cora-like graph: stochastic block model + class-dependent sparse binary features.

    Each node links to ~`degree` others, a fraction `homophily` of them in its own class.
    Each node has ~`words` binary "word" features; each word is drawn from its class's
    own vocabulary (num_features / num_classes words) with probability `topic`, else
    uniformly, so features alone are weak evidence (an MLP stays well below a GCN).

    Returns:
        (graph, labels): undirected `Graph` (both directions) and int32 labels (num_nodes,).
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, num_nodes).astype("int32")
    same = labels[:, None] == labels[None, :]
    p_in = homophily * degree / (num_nodes / num_classes)
    p_out = (1 - homophily) * degree / (num_nodes - num_nodes / num_classes)
    links = np.triu(rng.random((num_nodes, num_nodes)) < np.where(same, p_in, p_out), 1)
    i, j = np.nonzero(links)
    vocab = num_features // num_classes
    x = np.zeros((num_nodes, num_features), "float32")
    for n in range(num_nodes):
        own = rng.random(words) < topic
        x[n, np.where(own, labels[n] * vocab + rng.integers(0, vocab, words),
                      rng.integers(0, num_features, words))] = 1.0
    graph = Graph(x, np.concatenate([i, j]), np.concatenate([j, i]))
    return graph, labels


def planetoid_split(labels, per_class=20, num_val=500, num_test=1000, seed=0):
    """Planetoid-style masks: `per_class` training nodes per class, then val and test."""
    rng = np.random.default_rng(seed)
    train = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class]
                            for c in np.unique(labels)])
    rest = rng.permutation(np.setdiff1d(np.arange(len(labels)), train))
    masks = [np.zeros(len(labels), bool) for _ in range(3)]
    for mask, idx in zip(masks, (train, rest[:num_val], rest[num_val:num_val + num_test])):
        mask[idx] = True
    return masks


def _spektral(loader, name):
    sd = require_for_data("spektral.datasets", "graphs", f"loading {name!r} (the full data set)")
    try:
        return loader(sd)
    except Exception as err:  # noqa: BLE001 - any failure inside spektral: not available
        cause = str(err).splitlines()[0][:100] if str(err) else "no details"
        raise DatasetUnavailableError(
            f"cannot load {name!r} through spektral.datasets ({type(err).__name__}: {cause}); "
            "it downloads on first use: offline, use --data embedded") from None


def load_planetoid(name="cora"):
    """Cora / CiteSeer / PubMed (Planetoid split) via spektral: (graph, labels, masks).

    Returns:
        a `Graph`, int32 labels (N,), and boolean (train, val, test) masks.
    """
    data = _spektral(lambda sd: sd.Citation(name, normalize_x=False), name)
    g = data[0]
    graph = from_spektral(g)
    masks = tuple(np.asarray(m, bool) for m in (data.mask_tr, data.mask_va, data.mask_te))
    return graph, np.argmax(g.y, axis=-1).astype("int32"), masks


def load_tu_dataset(name="MUTAG"):
    """A TU graph classification data set via spektral (`TUDataset`): graphs, labels."""
    data = _spektral(lambda sd: sd.TUDataset(name), name)
    graphs = [from_spektral(g) for g in data]
    return graphs, np.array([np.argmax(g.y) for g in graphs], dtype="int32")
