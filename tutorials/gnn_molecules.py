"""Molecule -> property: GIN and an edge-conditioned MPNN predict TPSA from molecular graphs.

Lecture 02 "Deep learning architectures", graph neural networks, names drug discovery
(molecule -> property) as a use of message passing. Data: the ~5,000 NCI molecules that
ship with rdkit, each with its topological polar surface area (TPSA, in square
angstrom: a sum of contributions of N and O atoms and their hydrogens, a standard
drug-likeness descriptor). SMILES -> graphs with rdkit: 24 atom features (element,
degree, hydrogens, aromatic, charge, ring), 6 bond features; SMILES rdkit cannot parse
are skipped and counted. Random 80/10/10 split (seed 0), the last 10% held out.

Baseline: least squares on simple counts (atoms of each element, bonds of each type).

    KERAS_BACKEND=jax python tutorials/gnn_molecules.py [--models {gin,mpnn,both}] [--smoke]
"""

# %% Settings
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import graphs as gdata
from keras_zoo.datasets import molecules
from keras_zoo.datasets.graphs import pack_graphs

args = tutorial.setup(__doc__, epochs=40, batch_size=64, data=("embedded",),
                      models=("gin", "mpnn", "both"))
MODELS = ("gin", "mpnn") if args.models == "both" else (args.models,)
MAX_ATOMS, LEARNING_RATE = 64, 2e-3

# %% Data: SMILES -> graphs -> one padded batch dict; split
data = molecules.load_nci_tpsa(limit=300 if args.smoke else None, max_atoms=MAX_ATOMS)
skipped = {k: len(v) for k, v in data["skipped"].items()}
print(f"{len(data['graphs'])} molecules, skipped {skipped}: e.g. "
      f"{[s for _, s in data['skipped']['unparsable'][:2]]}")
num_edges = max(g.num_edges for g in data["graphs"])
batch = pack_graphs(data["graphs"], num_nodes=MAX_ATOMS, num_edges=num_edges)
y = data["y"]  # (M,) TPSA
train, val, test = gdata.split_indices(len(y), seed=0)
mean, std = y[train].mean(), y[train].std()  # targets standardised for training


def rows(idx, keys=None):
    return {k: v[idx] for k, v in batch.items() if keys is None or k in keys}


print(f"padded to {MAX_ATOMS} atoms / {num_edges} directed bonds; split {len(train)} / "
      f"{len(val)} / {len(test)}; TPSA mean {mean:.1f}, std {std:.1f}")


def scores(pred, idx):
    err = pred - y[idx]
    return {"mae": float(np.mean(np.abs(err))),
            "r2": float(1 - np.sum(err**2) / np.sum((y[idx] - y[idx].mean()) ** 2))}


# %% Baseline: least squares on counts of atoms per element and bonds per type
def counts(idx):
    atoms = batch["nodes"][idx, :, :len(molecules.ELEMENTS) + 1].sum(axis=1)  # (M, 10)
    bonds = batch["edges"][idx, :, :4].sum(axis=1) / 2  # (M, 4): each bond stored twice
    return np.concatenate([atoms, bonds, np.ones((len(idx), 1))], axis=1)


coef, *_ = np.linalg.lstsq(counts(train), y[train], rcond=None)
results = {"counts baseline": scores(counts(test) @ coef, test)}
predictions = {"counts baseline": counts(test) @ coef}

# %% GIN (atoms only) and MPNN (bond features condition the messages)
histories = {}
for name in MODELS:
    start = time.perf_counter()
    if name == "gin":
        model = keras_zoo.build("gin_graph_regressor", node_features=molecules.ATOM_FEATURES,
                                units=32 if args.smoke else 64)
    else:
        model = keras_zoo.build("mpnn_molecule", node_features=molecules.ATOM_FEATURES,
                                edge_features=molecules.BOND_FEATURES,
                                units=8 if args.smoke else 16)
    keys = [t.name for t in model.inputs]
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
    fit_rows = tutorial.small(args, train)
    lr = keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=4, min_lr=1e-4)
    histories[name] = model.fit(
        rows(fit_rows, keys), (y[fit_rows, None] - mean) / std, epochs=args.epochs,
        batch_size=args.batch_size, validation_data=(rows(val, keys), (y[val, None] - mean) / std),
        callbacks=tutorial.callbacks(args, lr, name=name), verbose=tutorial.verbose(args)).history
    pred = keras.ops.convert_to_numpy(model.predict(rows(test, keys), batch_size=256,
                                                    verbose=0))[:, 0] * std + mean
    predictions[name], results[name] = pred, scores(pred, test)
    print(f"{name}: {model.count_params():,} weights, {time.perf_counter() - start:.1f} s")

print(f"held-out molecules ({len(test)}):")
for name, r in results.items():
    print(f"  {name:>16}: MAE {r['mae']:6.2f}  R^2 {r['r2']:.4f}")

# %% Plot: parity plots (predicted vs true TPSA) and the learning curves
fig, axes = plt.subplots(1, len(predictions) + 1, figsize=(4.5 * (len(predictions) + 1), 4.3))
top = float(y[test].max()) * 1.05
for ax, (name, pred) in zip(axes, predictions.items()):
    ax.scatter(y[test], pred, s=6, alpha=0.5)
    ax.plot([0, top], [0, top], color="black", lw=1)
    ax.set(title=f"{name}: MAE {results[name]['mae']:.2f}, R$^2$ {results[name]['r2']:.3f}",
           xlabel="true TPSA", ylabel="predicted TPSA", xlim=(0, top), ylim=(0, top))
for name, h in histories.items():
    axes[-1].plot(h["loss"], label=f"{name} training")
    axes[-1].plot(h["val_loss"], ls=":", label=f"{name} validation")
axes[-1].set(yscale="log", xlabel="epoch", ylabel="MSE (standardised)", title="learning curves")
axes[-1].legend(fontsize=8)
fig.suptitle(f"TPSA of held-out NCI molecules ({args.backend})")
tutorial.savefig(fig, args, "tpsa_parity.png")

# %% One final metrics line
best = {f"{n}_{k}": v for n in MODELS for k, v in results[n].items()}
tutorial.report(args, **best, baseline_r2=results["counts baseline"]["r2"],
                baseline_mae=results["counts baseline"]["mae"],
                skipped_unparsable=skipped["unparsable"])
