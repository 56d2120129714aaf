"""Graph data as `keras_zoo.graphs.Graph`s: karate club, NCI molecules, particles, citations.

Embedded (offline) by default, from what packages ship or from a simulation:
- Zachary's karate club (networkx): 34 members, 78 friendships, the `club` split.
- ~5,000 NCI molecules with their TPSA (the rdkit wheel: `Data/NCI/first_5k.tpsa.csv`),
  SMILES -> atom/bond graphs through rdkit; SMILES rdkit cannot parse are skipped and
  counted, as are molecules above `max_atoms`. Split: random, fixed seed (`split_indices`).
- Particles with spring or gravity forces (NumPy), the Interaction Networks task.
- A citation-like graph from a stochastic block model with class-dependent sparse
  bag-of-words features, the offline stand-in for Cora.
`data="full"`: Cora/CiteSeer/PubMed and TU data sets through `spektral.datasets` (they
download, then use a cache); offline they raise `DatasetUnavailableError` in one line.
"""

import csv
import os

import numpy as np

from keras_zoo.datasets import DatasetUnavailableError
from keras_zoo.graphs import Graph, from_spektral

ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P")  # + "other"
ATOM_FEATURES = len(ELEMENTS) + 1 + 5 + 4 + 1 + 3 + 1  # 24, see `atom_features`
BOND_FEATURES = 6  # single, double, triple, aromatic, conjugated, in ring


def load_karate_club():
    """Zachary's karate club: features = identity (one-hot node id), labels = the club.

    Returns:
        (graph, labels): a `Graph` with 34 nodes (34 features) and 156 directed edges
        (each friendship both ways); labels int32 (34,), 0 = "Mr. Hi", 1 = "Officer".
    """
    import networkx as nx

    g = nx.karate_club_graph()
    edges = np.array(g.edges(), dtype="int32")  # (78, 2)
    senders = np.concatenate([edges[:, 0], edges[:, 1]])
    receivers = np.concatenate([edges[:, 1], edges[:, 0]])
    labels = np.array([g.nodes[i]["club"] != "Mr. Hi" for i in g.nodes], dtype="int32")
    return Graph(np.eye(len(g), dtype="float32"), senders, receivers), labels


def _one_hot(value, choices):
    out = [0.0] * (len(choices) + 1)  # the last slot: anything else
    out[choices.index(value) if value in choices else len(choices)] = 1.0
    return out


def atom_features(atom):
    """24 features: element (C N O S F Cl Br I P other), degree 0-4+, hydrogens 0-3+,
    aromatic, formal charge (<0, 0, >0), in a ring."""
    charge = atom.GetFormalCharge()
    return (_one_hot(atom.GetSymbol(), ELEMENTS) + _one_hot(min(atom.GetDegree(), 4), (0, 1, 2, 3))
            + _one_hot(min(atom.GetTotalNumHs(), 3), (0, 1, 2)) + [float(atom.GetIsAromatic())]
            + [float(charge < 0), float(charge == 0), float(charge > 0)]
            + [float(atom.IsInRing())])


def bond_features(bond):
    """6 features: single, double, triple, aromatic, conjugated, in a ring."""
    kind = str(bond.GetBondType())
    return [float(kind == k) for k in ("SINGLE", "DOUBLE", "TRIPLE", "AROMATIC")] + [
        float(bond.GetIsConjugated()), float(bond.IsInRing())]


def smiles_to_graph(smiles, y=None):
    """A SMILES string -> molecular `Graph` (heavy atoms; each bond both ways).

    Raises:
        ValueError: rdkit cannot parse the SMILES.
    """
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # rdkit prints parse errors itself; we raise instead
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None or mol.GetNumAtoms() == 0:
        raise ValueError(f"rdkit cannot parse the SMILES {smiles!r}")
    nodes = np.array([atom_features(a) for a in mol.GetAtoms()], dtype="float32")
    senders, receivers, edges = [], [], []
    for bond in mol.GetBonds():
        i, j, f = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), bond_features(bond)
        senders += [i, j]
        receivers += [j, i]
        edges += [f, f]
    edges = np.array(edges, dtype="float32").reshape(-1, BOND_FEATURES)
    return Graph(nodes, senders, receivers, edges=edges, y=y)


def molecules_from_smiles(smiles, targets, max_atoms=None):
    """Graphs for every parseable SMILES; bad ones are skipped and counted, not fatal.

    Args:
        smiles: list of SMILES strings.
        targets: one target per SMILES.
        max_atoms: skip (and count) molecules with more heavy atoms.

    Returns:
        dict: graphs (list of `Graph`), y (float32 array), smiles (kept), skipped
        ({"unparsable": [(index, smiles), ...], "too_large": [...]}).
    """
    graphs, kept, y = [], [], []
    skipped = {"unparsable": [], "too_large": []}
    for i, (s, t) in enumerate(zip(smiles, targets, strict=True)):
        try:
            g = smiles_to_graph(s, y=t)
        except ValueError:
            skipped["unparsable"].append((i, s))
            continue
        if max_atoms and g.num_nodes > max_atoms:
            skipped["too_large"].append((i, s))
            continue
        graphs.append(g), kept.append(s), y.append(t)
    return {"graphs": graphs, "y": np.array(y, dtype="float32"), "smiles": kept,
            "skipped": skipped}


def load_nci_tpsa(limit=None, max_atoms=64):
    """The ~5,000 NCI molecules that ship with rdkit and their TPSA (in square angstrom).

    Args:
        limit: read only the first `limit` molecules.
        max_atoms: skip larger molecules (6 of the 4,999 have more than 64 heavy atoms).

    Returns:
        `molecules_from_smiles`' dict; 8 of the SMILES in the file do not parse.
    """
    from rdkit import RDConfig

    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5k.tpsa.csv")
    with open(path) as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")][:limit]
    return molecules_from_smiles([r[0] for r in rows], [float(r[1]) for r in rows], max_atoms)


def split_indices(count, fractions=(0.8, 0.1, 0.1), seed=0):
    """A random split of range(count) into train / validation / test index arrays."""
    order = np.random.default_rng(seed).permutation(count)
    a, b = int(fractions[0] * count), int((fractions[0] + fractions[1]) * count)
    return order[:a], order[a:b], order[b:]


def simulate_particles(num_sims=100, num_particles=5, steps=50, dt=0.05, force="springs",
                       seed=0):
    """Particles under pairwise forces, integrated with semi-implicit Euler (unit masses).

    springs: a random half of the pairs are joined by springs (k = 1, rest length 0),
    a_i = sum_j k_ij (x_j - x_i). gravity: a_i = sum_j m_j (x_j - x_i) / (|r|^2 + 0.1)^1.5
    with masses in [0.5, 1.5], and k_ij = m_j. Step: v += dt * a(x); x += dt * v.

    Returns:
        positions, velocities (num_sims, steps + 1, num_particles, 2), accelerations
        (num_sims, steps + 1, num_particles, 2) and the pair constants k (num_sims, P, P).
    """
    rng = np.random.default_rng(seed)
    p = num_particles
    if force == "springs":
        k = np.triu(rng.random((num_sims, p, p)) < 0.5, 1).astype("float64")
        k = k + np.transpose(k, (0, 2, 1))
    elif force == "gravity":
        mass = rng.uniform(0.5, 1.5, size=(num_sims, 1, p))
        k = np.broadcast_to(mass, (num_sims, p, p)) * (1 - np.eye(p))
    else:
        raise ValueError(f"force must be 'springs' or 'gravity', got {force!r}")
    x = rng.normal(0.0, 1.0, size=(num_sims, p, 2))
    v = rng.normal(0.0, 0.5, size=(num_sims, p, 2))

    def accel(x):
        diff = x[:, None, :, :] - x[:, :, None, :]  # (S, i, j, 2): x_j - x_i
        if force == "gravity":
            diff = diff / (np.sum(diff**2, -1, keepdims=True) + 0.1) ** 1.5
        return np.sum(k[..., None] * diff, axis=2)

    xs, vs, acc = [x], [v], [accel(x)]
    for _ in range(steps):
        v = v + dt * acc[-1]
        x = x + dt * v
        xs.append(x), vs.append(v), acc.append(accel(x))
    f32 = [np.stack(a, axis=1).astype("float32") for a in (xs, vs, acc)]
    return (*f32, k.astype("float32"))


def particle_graphs(positions, velocities, k):
    """Particle states -> a packed, fully connected graph batch for `interaction_network`.

    Node features [x - centre of mass, y - ..., vx, vy] (physics does not depend on
    where the system is); edge j -> i for every ordered pair, feature k_ij.

    Args:
        positions, velocities: (G, P, 2) states; k: (G, P, P) pair constants.

    Returns:
        A graph batch dict: nodes (G, P, 4), edges (G, P(P-1), 1), ...
    """
    g, p = positions.shape[:2]
    receivers, senders = np.nonzero(1 - np.eye(p))  # every ordered pair i != j
    centred = positions - positions.mean(axis=1, keepdims=True)
    return {"nodes": np.concatenate([centred, velocities], -1).astype("float32"),
            "senders": np.tile(senders.astype("int32"), (g, 1)),
            "receivers": np.tile(receivers.astype("int32"), (g, 1)),
            "node_mask": np.ones((g, p), "float32"),
            "edge_mask": np.ones((g, len(senders)), "float32"),
            "edges": k[:, receivers, senders][..., None].astype("float32")}


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
    try:
        import spektral.datasets as sd

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
