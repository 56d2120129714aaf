"""Semi-supervised node classification: a GCN on Zachary's karate club from 4 labels.

Lecture 02 "Deep learning architectures", graph neural networks: a layer updates each
node from its neighbours, h_u' = phi(h_u, sum_v psi(h_u, h_v)). The companion notebook
trains a GCN (Kipf & Welling 2017) on Cora and shows t-SNE of the node outputs before and
after training; here the classic small case from the GCN paper: the 34 members of a
karate club that split in two (the `club` attribute in networkx). Features are just the
node ids (one-hot), so everything the model knows comes from the friendships; only 4
members are labelled (both leaders and one friend of each).

    KERAS_BACKEND=jax python tutorials/gnn_karate.py [--smoke]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.manifold import TSNE

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets.graphs import load_karate_club, pack_graphs

args = tutorial.setup(__doc__, epochs=200, data=("embedded",))  # one graph: no batches
LABELLED = [0, 1, 32, 33]  # Mr. Hi (0) and a friend, the officer (33) and a friend
UNITS, LEARNING_RATE = 16, 0.01

# %% Data: one graph (a batch of G = 1), labels per node, a weight only on labelled nodes
graph, labels = load_karate_club()  # 34 nodes, 156 directed edges (78 friendships)
x = pack_graphs([graph])  # nodes (1, 34, 34), senders/receivers (1, 156), masks
y = labels[None]  # (1, 34)
weight = np.zeros((1, graph.num_nodes), "float32")
weight[0, LABELLED] = graph.num_nodes / len(LABELLED)  # the loss: mean over the 4 labelled
unlabelled = np.setdiff1d(np.arange(graph.num_nodes), LABELLED)
print(f"karate club: {graph.num_nodes} members, {graph.num_edges // 2} friendships, "
      f"labelled {LABELLED} (clubs {labels[LABELLED].tolist()}), {len(unlabelled)} to predict")

# %% Model: GCNConv(16) -> ReLU -> Dropout -> GCNConv(2), logits per node
model = keras_zoo.build("gcn_node_classifier", node_features=graph.num_nodes, num_classes=2,
                        units=UNITS)
hidden = keras.Model(model.inputs, model.get_layer("gcn1").output)  # (1, 34, 16) embeddings
before = keras.ops.convert_to_numpy(hidden(x))[0]
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              weighted_metrics=["accuracy"])
history = model.fit(x, y, sample_weight=weight, epochs=args.epochs, batch_size=1, verbose=0,
                    callbacks=tutorial.callbacks(args))

# %% Evaluate on the 30 unlabelled members
predicted = np.argmax(keras.ops.convert_to_numpy(model(x))[0], axis=-1)  # (34,)
accuracy = float(np.mean(predicted[unlabelled] == labels[unlabelled]))
after = keras.ops.convert_to_numpy(hidden(x))[0]
print(f"final training loss {history.history['loss'][-1]:.3f}; accuracy on the "
      f"{len(unlabelled)} unlabelled members: {accuracy:.3f} (the GCN paper's target: >= 0.9)")
wrong = unlabelled[predicted[unlabelled] != labels[unlabelled]]
print(f"misclassified members: {wrong.tolist()}")

# %% Plot: the graph coloured by prediction; t-SNE of the hidden features before and after
import networkx as nx  # the graphs extra: load_karate_club said so in one line if missing

fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
g = nx.karate_club_graph()
pos = nx.spring_layout(g, seed=args.seed)
nx.draw_networkx_edges(g, pos, ax=axes[0], alpha=0.3)
nx.draw_networkx_nodes(g, pos, ax=axes[0], node_color=[f"C{p}" for p in predicted],
                       edgecolors=["black" if i in LABELLED else "white" for i in g],
                       linewidths=2.5, node_size=220)
nx.draw_networkx_nodes(g, pos, ax=axes[0], nodelist=wrong.tolist(), node_shape="x",
                       node_color="red", node_size=120)
nx.draw_networkx_labels(g, pos, ax=axes[0], font_size=7)
axes[0].set_title(f"predicted club (black ring: labelled, x: wrong)\naccuracy {accuracy:.2f}")
axes[0].axis("off")
for ax, features, when in ((axes[1], before, "before"), (axes[2], after, "after")):
    xy = TSNE(perplexity=8, random_state=args.seed, init="pca").fit_transform(features)
    for club, name in enumerate(("Mr. Hi", "Officer")):
        ax.scatter(*xy[labels == club].T, c=f"C{club}", label=f"true: {name}", s=40)
    ax.scatter(*xy[LABELLED].T, facecolors="none", edgecolors="black", s=140, label="labelled")
    ax.set_title(f"t-SNE of the 16 hidden features, {when} training")
    ax.legend(fontsize=8)
fig.suptitle(f"GCN on the karate club ({args.backend})")
tutorial.savefig(fig, args, "karate.png")

# %% One final metrics line
tutorial.report(args, unlabelled_accuracy=accuracy, labelled=len(LABELLED))
