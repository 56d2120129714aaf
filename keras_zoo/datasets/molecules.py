"""Molecules as graphs: SMILES -> atom/bond `Graph`s through rdkit, and the NCI/TPSA data.

~5,000 NCI molecules with their TPSA ship with the rdkit wheel
(`Data/NCI/first_5k.tpsa.csv`), so this runs offline. SMILES rdkit cannot parse are
skipped and counted, as are molecules above `max_atoms`. Split them with
`keras_zoo.datasets.graphs.split_indices` (random, fixed seed). rdkit comes with the
`graphs` extra; without it these functions raise `MissingDataExtraError` (one line).
"""

import csv
import os

import numpy as np

from keras_zoo.datasets import require_for_data
from keras_zoo.datasets.graphs import Graph

ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P")  # + "other"
ATOM_FEATURES = len(ELEMENTS) + 1 + 5 + 4 + 1 + 3 + 1  # 24, see `atom_features`
BOND_FEATURES = 6  # single, double, triple, aromatic, conjugated, in ring


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
        MissingDataExtraError: rdkit is not installed (the `graphs` extra).
    """
    require_for_data("rdkit", "graphs", "reading SMILES into molecular graphs")
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
    require_for_data("rdkit", "graphs", "the NCI molecule set (it ships with rdkit)")
    from rdkit import RDConfig

    path = os.path.join(RDConfig.RDDataDir, "NCI", "first_5k.tpsa.csv")
    with open(path) as f:
        rows = [r for r in csv.reader(f) if r and not r[0].startswith("#")][:limit]
    return molecules_from_smiles([r[0] for r in rows], [float(r[1]) for r in rows], max_atoms)
