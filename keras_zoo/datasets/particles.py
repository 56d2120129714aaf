"""Particle systems as graphs: the Interaction Networks task (NumPy simulation).

Particles with spring or gravity forces, integrated with semi-implicit Euler; each state
becomes a fully connected `Graph` whose target is the acceleration of every particle.
"""

import numpy as np


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
