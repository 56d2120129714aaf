"""RBF network vs MLP, and the universal approximation theorem with one hidden layer.

Follows "Modern architectures" ("Radial basis function networks - Perceptron algorithms
tweaked to find cluster centers"; Broomhead & Lowe 1988, Moody & Darken 1989) and
"CNN, RNN" ("Universal Approximation Theorem: a two-layer neural network with a
sufficient number of neurons can approximate any continuous function"; Cybenko 1989).
Teaches: Gaussian units that respond near a centre (local) vs ReLU/tanh units that cut
the plane with lines (global); starting the centres on k-means clusters; and how the
error of a one-hidden-layer fit of a continuous function falls as the width grows.

    KERAS_BACKEND=jax python tutorials/rbf_network.py [--epochs 150]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.cluster import KMeans
from sklearn.datasets import make_moons

import keras_zoo
from keras_zoo import tutorial

args = tutorial.setup(__doc__, epochs=150, batch_size=64, data=("moons",),
                      resumable=False)  # many fits of seconds each: nothing worth resuming
CENTRES = 16  # radial basis functions of the classifier
WIDTHS = (1, 2, 4, 8, 16, 32)  # hidden widths for the approximation experiment
rng = np.random.default_rng(args.seed)

# %% Data: two interleaving half-moons, 400 train / 400 test points
x, y = make_moons(800, noise=0.25, random_state=args.seed)
x = ((x - x.mean(0)) / x.std(0)).astype("float32")
y = y.astype("int32")
x_train, y_train, x_test, y_test = x[:400], y[:400], x[400:], y[400:]


def train(model, x, y, loss, epochs, batch_size, name, learning_rate=1e-2):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0,
              callbacks=tutorial.callbacks(args, name=name))
    return model


def centres_from_kmeans(model, x, units):
    """Moody & Darken: put the centres on k-means clusters of the inputs."""
    km = KMeans(units, n_init=4, random_state=args.seed).fit(x)
    model.get_layer("rbf").centers.assign(km.cluster_centers_.astype("float32"))


# %% An RBF network and an MLP with the same number of hidden units
xent = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
rbf = keras_zoo.build("rbf_network", units=CENTRES, width=0.5)
centres_from_kmeans(rbf, x_train, CENTRES)
mlp = keras_zoo.build("mlp", input_shape=(2,), num_classes=2, units=(CENTRES,))
models = {"RBF network": rbf, "MLP (ReLU)": mlp}
accuracy = {}
for label, model in models.items():
    train(model, x_train, y_train, xent, args.epochs, args.batch_size, label)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    accuracy[label] = float(np.mean(predicted == y_test))
    print(f"{label}: {model.count_params()} parameters, test accuracy {accuracy[label]:.3f}")

# %% Figure: decision boundaries; the RBF centres as crosses
grid = np.stack(np.meshgrid(np.linspace(-2.5, 2.5, 150), np.linspace(-2.5, 2.5, 150)), -1)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (label, model) in zip(axes, models.items()):
    logits = model.predict(grid.reshape(-1, 2).astype("float32"), verbose=0, batch_size=4096)
    prob = keras.ops.convert_to_numpy(keras.ops.softmax(logits))[:, 1].reshape(150, 150)
    ax.contourf(grid[..., 0], grid[..., 1], prob, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.contour(grid[..., 0], grid[..., 1], prob, levels=[0.5], colors="k")
    ax.scatter(x_test[:, 0], x_test[:, 1], c=y_test, cmap="RdBu_r", s=8, edgecolors="k",
               linewidths=0.3)
    ax.set(title=f"{label}: test accuracy {accuracy[label]:.3f}", xticks=[], yticks=[])
centres = keras.ops.convert_to_numpy(rbf.get_layer("rbf").centers)
axes[0].scatter(centres[:, 0], centres[:, 1], marker="x", c="k", s=40, label="centres")
axes[0].legend(loc="lower left", fontsize=8)
tutorial.savefig(fig, args, "rbf_vs_mlp_boundaries.png")

# %% Universal approximation: fit a continuous function with one hidden layer of width w
def target(t):
    return np.sin(2 * np.pi * t) + 0.5 * np.cos(5 * np.pi * t) * t


t = np.linspace(0, 1, 256, dtype="float32")[:, None]  # (256, 1)
f = target(t).astype("float32")
u = 6 * t - 3  # network input in [-3, 3]: tanh units then bend inside the range
widths = WIDTHS[:3] if args.smoke else WIDTHS
reps, epochs = (10, 2) if args.smoke else (50, 30)  # 1,500 Adam steps of 256 points
u_rep, f_rep = np.tile(u, (reps, 1)), np.tile(f, (reps, 1))
schedule = keras.optimizers.schedules.CosineDecay(3e-2, reps * epochs)
fits, mse = {}, {"tanh MLP": [], "RBF network": []}
for w in widths:
    for label in mse:
        keras.utils.set_random_seed(args.seed + w)
        if label == "tanh MLP":
            model = keras_zoo.build("mlp", input_shape=(1,), num_classes=1, units=(w,),
                                    activation="tanh")
        else:
            model = keras_zoo.build("rbf_network", input_shape=(1,), num_classes=1, units=w,
                                    width=3.0 / w)
            model.get_layer("rbf").centers.assign(  # evenly spaced over [-3, 3]
                (6 * (np.arange(w) + 0.5) / w - 3)[:, None].astype("float32"))
        train(model, u_rep, f_rep, "mse", epochs, len(t), f"{label}, width {w}",
              learning_rate=schedule)
        fits[label, w] = model.predict(u, verbose=0)
        mse[label].append(float(np.mean((fits[label, w] - f) ** 2)))
    print(f"width {w:2d}: MSE tanh MLP {mse['tanh MLP'][-1]:.5f}, "
          f"RBF {mse['RBF network'][-1]:.5f}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
axes[0].plot(t, f, "k", lw=3, label="target")
for w in widths:
    axes[0].plot(t, fits["tanh MLP", w], label=f"tanh, width {w}")
axes[0].set(title="One hidden layer (tanh) fits better as it widens", xlabel="x")
axes[0].legend(fontsize=7)
for label, values in mse.items():
    axes[1].loglog(widths, values, "o-", label=label)
axes[1].set(xlabel="hidden units", ylabel="MSE", title="Approximation error vs width")
axes[1].legend()
tutorial.savefig(fig, args, "universal_approximation.png")

# %% Result
tutorial.report(args, rbf_accuracy=accuracy["RBF network"], mlp_accuracy=accuracy["MLP (ReLU)"],
                uat_mse_narrow=mse["tanh MLP"][0], uat_mse_wide=mse["tanh MLP"][-1],
                rbf_mse_wide=mse["RBF network"][-1])
