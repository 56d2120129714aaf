"""Learning physics: an Interaction Network learns pairwise forces from simulated particles.

Lecture 02 "Deep learning architectures" names physics simulation with Interaction
Networks (Battaglia et al. 2016) as a use of graph networks: particles are nodes, pairs
are edges; a relation MLP computes the effect of each sender on its receiver, the effects
are summed, and an object MLP turns a particle's state and summed effects into its
acceleration. Data: 5 particles, random springs between half of the pairs (`--force
gravity`: mutual attraction by mass), simulated in NumPy with semi-implicit Euler.

Trained on one-step accelerations only; tested by rolling the learnt dynamics forward
for 50 steps from the first state of held-out simulations and comparing the
trajectories with the truth and with a constant-velocity baseline.

    KERAS_BACKEND=jax python tutorials/interaction_network.py [--force gravity] [--smoke]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets.particles import particle_graphs, simulate_particles

args = tutorial.setup(__doc__, epochs=15, batch_size=128, data=("embedded",),
                      force=("springs", "gravity"))
NUM_TRAIN, NUM_TEST = (40, 10) if args.smoke else (500, 100)  # simulations
PARTICLES, STEPS, DT = 5, 50, 0.05
UNITS, LEARNING_RATE = 32 if args.smoke else 128, 1e-3

# %% Data: simulate; every (simulation, step) state is one training graph
x, v, acc, k = simulate_particles(NUM_TRAIN + NUM_TEST, PARTICLES, STEPS, DT, args.force,
                                  seed=args.seed)  # x, v, acc: (S, STEPS + 1, P, 2)
flat = lambda a: a[:NUM_TRAIN].reshape(-1, PARTICLES, *a.shape[3:])  # noqa: E731
k_train = np.repeat(k[:NUM_TRAIN], STEPS + 1, axis=0)  # (S * (STEPS + 1), P, P)
train = particle_graphs(flat(x), flat(v), k_train)  # nodes (G, 5, 4), edges (G, 20, 1)
scale = float(flat(acc).std())  # targets in units of their spread
print(f"{args.force}: {NUM_TRAIN} + {NUM_TEST} simulations of {PARTICLES} particles, "
      f"{STEPS} steps of {DT}; {len(train['nodes'])} training graphs; |a| spread {scale:.2f}")

# %% Model: one Interaction Network block -> acceleration per particle
model = keras_zoo.build("interaction_network", node_features=4, edge_features=1,
                        output_size=2, units=UNITS)
model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
lr = keras.callbacks.ReduceLROnPlateau("loss", factor=0.5, patience=3, min_lr=1e-5)
history = model.fit(train, flat(acc) / scale, epochs=args.epochs, batch_size=args.batch_size,
                    callbacks=tutorial.callbacks(args, lr), verbose=tutorial.verbose(args))


def predict_acc(pos, vel, kk):
    return keras.ops.convert_to_numpy(model(particle_graphs(pos, vel, kk))) * scale


# %% One-step error and a rollout from the first state of each held-out simulation
xt, vt, at, kt = x[NUM_TRAIN:], v[NUM_TRAIN:], acc[NUM_TRAIN:], k[NUM_TRAIN:]
one_step = predict_acc(xt[:, 10], vt[:, 10], kt)  # accelerations at step 10
one_step_error = float(np.sqrt(np.mean((one_step - at[:, 10]) ** 2)) / scale)
horizon = 10 if args.smoke else STEPS
pos, vel, rollout = xt[:, 0], vt[:, 0], [xt[:, 0]]
for _ in range(horizon):  # the simulator's own integrator, with learnt accelerations
    vel = vel + DT * predict_acc(pos, vel, kt)
    pos = pos + DT * vel
    rollout.append(pos)
rollout = np.stack(rollout, axis=1)  # (NUM_TEST, horizon + 1, P, 2)
steps = np.arange(horizon + 1)[None, :, None, None]
constant = xt[:, :1] + steps * DT * vt[:, :1]  # constant velocity from the first state
truth = xt[:, :horizon + 1]


def error(traj):  # mean distance to the true positions, per step
    return np.linalg.norm(traj - truth, axis=-1).mean(axis=(0, 2))


in_error, cv_error = error(rollout), error(constant)
print(f"one-step acceleration RMSE {one_step_error:.3f} (in units of its spread)")
print(f"rollout position error, mean over {horizon} steps: interaction network "
      f"{in_error.mean():.3f} vs constant velocity {cv_error.mean():.3f}; at the end "
      f"{in_error[-1]:.3f} vs {cv_error[-1]:.3f}")

# %% Plot: true vs predicted trajectories of two test simulations; error over time
fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
for ax, s in zip(axes[:2], range(2)):
    for p in range(PARTICLES):
        ax.plot(*truth[s, :, p].T, color=f"C{p}", lw=2, alpha=0.5)
        ax.plot(*rollout[s, :, p].T, color=f"C{p}", ls="--")
        ax.plot(*constant[s, :, p].T, color=f"C{p}", ls=":", lw=1)
        ax.scatter(*truth[s, 0, p], color=f"C{p}", s=30)
    ax.set_title(f"test simulation {s}: true (solid), IN rollout (dashed), const. vel. (dotted)",
                 fontsize=9)
    ax.set_aspect("equal", adjustable="datalim")
axes[2].plot(in_error, label="interaction network rollout")
axes[2].plot(cv_error, label="constant velocity")
axes[2].set(xlabel="step", ylabel="mean position error", title="rollout error")
axes[2].legend()
fig.suptitle(f"Interaction network, {args.force} ({args.backend})")
tutorial.savefig(fig, args, "rollout.png")

# %% One final metrics line
tutorial.report(args, one_step_rmse=one_step_error, rollout_error=in_error.mean(),
                constant_velocity_error=cv_error.mean(), final_loss=history.history["loss"][-1])
