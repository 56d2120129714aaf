"""Control as reinforcement learning: a lane-keeping car, and policy gradients through `fit`.

Lecture: "Neural networks: CNN, RNN, Transformer, RL" (NN for RL: to steer a car, predict
the steering angle in [-540°, 540°] by regression, or classify turn left / turn right /
stay still? And: design the utility). Williams, "Simple statistical gradient-following
algorithms for connectionist reinforcement learning", Machine Learning 1992 (REINFORCE);
Sutton & Barto, "Reinforcement Learning: An Introduction", 2nd ed. 2018, section 13.4
(REINFORCE with baseline).

- `LaneKeeping`: a `gymnasium.Env` (like CartPole): a car on a road of smoothly random
  curvature, steered by the wheel angle (continuous) or by left / still / right.
- Policy gradients, NumPy around Keras models: `run_episodes` (a list of environments
  stepped together, one network call per step for all), `softmax_policy` /
  `gaussian_policy`, `discounted_returns`, `reinforce_batch` (episodes -> observations,
  actions, advantages, value targets) and `compile_policy` (the loss).

REINFORCE as a weighted loss. The policy gradient is E[A(s, a) grad log pi(a | s)], with
A = G - V(s) the return-to-go G less a baseline V. Fitting the policy with
`fit(observations, actions, sample_weight=advantages)` on the loss -log pi(a | s) descends
(1/N) sum_i A_i (-log pi(a_i | s_i)), whose gradient is minus that estimate: `fit` does
gradient ascent on the expected return. For a softmax policy -log pi(a | s) is the
cross-entropy of the logits against the action taken, `SparseCategoricalCrossentropy(
from_logits=True)`. For a Gaussian policy N(mu(s), sigma^2) with a fixed sigma,
-log pi(a | s) = (a - mu)^2 / (2 sigma^2) + const: a weighted MSE (`loss_weights`
1 / (2 sigma^2)). No gradient code of our own: Keras differentiates the loss on every
backend. The baseline `value_mlp` is fitted with MSE to the returns.
"""

from dataclasses import dataclass

import gymnasium
import keras
import numpy as np

MAX_WHEEL = 540.0  # degrees: one and a half turns of the steering wheel either way


class LaneKeeping(gymnasium.Env):
    """A car at constant speed on a curving road; keep it in its lane by steering.

    Dynamics (kinematic bicycle model in the road's frame, Euler steps of `DT`): the
    steering-wheel angle w (degrees, positive = left, clipped to [-540, 540]) turns the
    front wheels by delta = w / STEERING_RATIO; the car yaws at v tan(delta) / WHEELBASE
    and the road at v kappa (kappa: its curvature, positive = bending left), so the
    heading error psi changes by (v tan(delta) / L - v kappa) dt and the lateral offset y
    (positive = left of the centre line) by v sin(psi) dt. The curvature is a sum of
    three sines of random periods (4-12 s), phases and weights, at most `max_curvature`
    (1/100 m: a bend of radius 100 m, taken with w about 23°).

    Utility (the reward), what a passenger wants, in order: 1 - (y / HALF_WIDTH)^2 -
    comfort ((w - w_before) / WHEEL_UNIT)^2 for every step that ends in the lane, 0 for
    the step that leaves it, which ends the episode (terminated). Staying in the lane is
    worth the most (every later step is lost with it); among the ways of staying, the
    centre is worth most (a margin against the next bend), and a calm wheel: a jerk of
    45° within a step costs `comfort` (0.05), a twentieth of a step's worth. Episodes are
    truncated after `max_steps`.

    Observation (5 floats, about [-1, 1]): y / HALF_WIDTH, psi / HEADING_SCALE, the
    curvature here and LOOKAHEAD_STEPS ahead, each / max_curvature, and the wheel angle
    of the step before / WHEEL_UNIT (the comfort term depends on it).

    Args:
        actions: "continuous": a `Box` of one float, the wheel angle in degrees.
            "discrete": `Discrete(3)`, the fixed angles `DISCRETE_WHEEL`: 0 left (+45°),
            1 still (0°), 2 right (-45°); 45° is twice what the sharpest bend needs, so
            alternating between them can follow any bend.
        max_steps: time limit in steps (200 steps of 0.1 s: 20 s, 300 m).
        max_curvature: the sharpest bend, 1/m; 0 gives a straight road.
        comfort: the cost of turning the wheel by WHEEL_UNIT within one step.

    `reset(seed=..., options={"offset": y, "heading": psi})` may set the start, which is
    otherwise drawn (|y| < 0.5 m, |psi| < 0.03 rad). Seeded, everything is deterministic.
    """

    metadata = {"render_modes": []}
    SPEED, WHEELBASE, STEERING_RATIO, DT = 15.0, 2.7, 15.0, 0.1  # m/s, m, :1, s
    HALF_WIDTH = 1.75  # m: a 3.5 m lane; the car leaves it when its centre crosses a line
    HEADING_SCALE = 0.1  # rad: the observation's unit of heading error (about 6°)
    LOOKAHEAD_STEPS = 10  # the curvature 1 s (15 m) ahead is observed
    DISCRETE_WHEEL = (45.0, 0.0, -45.0)  # degrees: left, still, right
    WHEEL_UNIT = 45.0  # degrees: the observation's and the comfort term's unit of wheel

    def __init__(self, actions="continuous", max_steps=200, max_curvature=0.01, comfort=0.05):
        if actions not in ("continuous", "discrete"):
            raise ValueError(f"actions must be 'continuous' or 'discrete', got {actions!r}")
        self.actions, self.max_steps, self.max_curvature = actions, max_steps, max_curvature
        self.comfort = comfort
        self.observation_space = gymnasium.spaces.Box(-np.inf, np.inf, (5,), np.float32)
        self.action_space = (gymnasium.spaces.Discrete(3) if actions == "discrete" else
                             gymnasium.spaces.Box(-MAX_WHEEL, MAX_WHEEL, (1,), np.float32))

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        rng, options = self.np_random, options or {}
        weights = rng.dirichlet(np.ones(3))  # sum 1: |kappa| <= max_curvature
        periods, phases = rng.uniform(4.0, 12.0, 3), rng.uniform(0.0, 2 * np.pi, 3)
        t = np.arange(self.max_steps + self.LOOKAHEAD_STEPS + 1)[:, None] * self.DT
        self.road = self.max_curvature * np.sum(  # (steps + lookahead + 1,) curvature
            weights * np.sin(2 * np.pi * t / periods + phases), axis=1)
        self.offset = float(options.get("offset", rng.uniform(-0.5, 0.5)))
        self.heading = float(options.get("heading", rng.uniform(-0.03, 0.03)))
        self.steps, self.wheel = 0, 0.0  # the wheel starts straight
        return self._observation(), {}

    def wheel_angle(self, action):
        """The steering-wheel angle in degrees that `action` asks for (clipped)."""
        if self.actions == "discrete":
            return self.DISCRETE_WHEEL[int(action)]
        return float(np.clip(np.asarray(action, dtype=np.float64).reshape(-1)[0],
                             -MAX_WHEEL, MAX_WHEEL))

    def step(self, action):
        wheel = self.wheel_angle(action)
        delta = np.radians(wheel) / self.STEERING_RATIO  # front-wheel angle, rad
        curvature = self.road[self.steps]
        v = self.SPEED
        self.heading += (v * np.tan(delta) / self.WHEELBASE - v * curvature) * self.DT
        self.offset += v * np.sin(self.heading) * self.DT
        self.steps += 1
        jerk, self.wheel = (wheel - self.wheel) / self.WHEEL_UNIT, wheel
        terminated = abs(self.offset) > self.HALF_WIDTH
        reward = 0.0 if terminated else (1.0 - (self.offset / self.HALF_WIDTH) ** 2
                                         - self.comfort * jerk**2)
        truncated = not terminated and self.steps >= self.max_steps
        info = {"offset": self.offset, "heading": self.heading, "curvature": curvature,
                "wheel_angle": wheel}
        return self._observation(), reward, terminated, truncated, info

    def _observation(self):
        scale = self.max_curvature or 1.0
        return np.array([self.offset / self.HALF_WIDTH, self.heading / self.HEADING_SCALE,
                         self.road[self.steps] / scale,
                         self.road[self.steps + self.LOOKAHEAD_STEPS] / scale,
                         self.wheel / self.WHEEL_UNIT], np.float32)


def discounted_returns(rewards, gamma, bootstrap=0.0):
    """Returns-to-go G_t = r_t + gamma r_{t+1} + gamma^2 r_{t+2} + ... of one episode.

    Args:
        rewards: (T,) the rewards of the episode's steps.
        gamma: discount in [0, 1].
        bootstrap: the value of the state after the last step, added discounted after
            the last reward: 0 where the episode ended (terminated), V(s_T) where it was
            only cut off by a time limit (truncated).

    Returns:
        (T,) float64.
    """
    returns, g = np.zeros(len(rewards)), float(bootstrap)
    for t in range(len(rewards) - 1, -1, -1):
        g = rewards[t] + gamma * g
        returns[t] = g
    return returns


@dataclass
class Episode:
    """One episode: what was seen, done and earned at each of its T steps."""

    observations: np.ndarray  # (T, observation_dim)
    actions: np.ndarray  # (T,) ints or (T, action_dim) floats: what the policy chose
    rewards: np.ndarray  # (T,)
    truncated: bool  # cut off by the time limit (not ended by failure)
    final_observation: np.ndarray  # (observation_dim,) after the last step
    infos: list  # (T,) the environment's info dicts

    @property
    def total_reward(self):
        return float(np.sum(self.rewards))


def run_episodes(envs, act, seeds):
    """One episode in each environment, all stepped together.

    Args:
        envs: a list of `gymnasium.Env`s with the same spaces.
        act: `act(observations) -> actions`: (n, observation_dim) -> n actions, called
            once per step with every environment's observation (one batched network
            call; environments already done pass their last one, and their actions are
            ignored: the batch shape never changes, so a compiled network never retraces).
        seeds: one reset seed per environment.

    Returns:
        A list of `Episode`s, in the order of `envs`.
    """
    observations = np.stack([env.reset(seed=int(s))[0] for env, s in zip(envs, seeds)])
    logs = [([], [], [], []) for _ in envs]  # per env: observations, actions, rewards, infos
    running, truncated = np.ones(len(envs), bool), np.zeros(len(envs), bool)
    while running.any():
        actions = act(observations)
        for i in np.flatnonzero(running):
            obs, reward, terminated, cut, info = envs[i].step(actions[i])
            for log, value in zip(logs[i], (observations[i].copy(), actions[i], reward, info)):
                log.append(value)
            observations[i] = obs  # overwrites the row: the log holds a copy
            running[i], truncated[i] = not (terminated or cut), cut and not terminated
    return [Episode(np.array(o), np.array(a), np.array(r, np.float64), bool(cut),
                    observations[i].copy(), infos)
            for i, ((o, a, r, infos), cut) in enumerate(zip(logs, truncated))]


def softmax_policy(model, rng, greedy=False):
    """`act` for discrete actions: sample a ~ softmax(model(s)), or take the argmax."""

    def act(observations):
        logits = np.asarray(model.predict_on_batch(observations), np.float64)  # (n, actions)
        if greedy:
            return np.argmax(logits, axis=1)
        gumbel = -np.log(-np.log(rng.uniform(size=logits.shape)))  # argmax(z + G) ~ softmax(z)
        return np.argmax(logits + gumbel, axis=1)

    return act


def gaussian_policy(model, rng, sigma, greedy=False):
    """`act` for continuous actions: a ~ N(model(s), sigma^2), or the mean itself."""

    def act(observations):
        mean = np.asarray(model.predict_on_batch(observations))  # (n, action_dim)
        return mean if greedy else (mean + sigma * rng.normal(size=mean.shape)).astype("float32")

    return act


@dataclass
class Batch:
    """Episodes flattened into the data of one policy and one value update."""

    observations: np.ndarray  # (N, observation_dim) float32
    actions: np.ndarray  # (N,) ints or (N, action_dim) floats
    advantages: np.ndarray  # (N,) float32: the policy's sample weights
    value_targets: np.ndarray  # (N, 1) float32: returns * (1 - gamma)


def reinforce_batch(episodes, gamma, value_model=None, normalize=True, multiple_of=1,
                    rng=None):
    """REINFORCE with a baseline: returns-to-go, advantages, value targets.

    The value network predicts returns in units of 1 / (1 - gamma), the return of a
    reward of 1 forever, so its targets stay about [0, 1] whatever gamma is. Truncated
    episodes are bootstrapped with V(s_T): the time limit is not a failure.

    Args:
        episodes: from `run_episodes`.
        gamma: discount.
        value_model: a `value_mlp` (the baseline), or None for plain REINFORCE (A = G).
        normalize: scale the advantages to mean 0 and standard deviation 1 per batch (a
            second, constant baseline and a step size that does not grow with rewards).
        multiple_of: keep a random subset of a multiple of this many steps (the minibatch
            size; at least one minibatch, drawn with replacement from fewer steps): every
            minibatch has the same shape, so a compiled `fit` step never retraces.
        rng: NumPy generator for that subset.

    Returns:
        A `Batch`.
    """
    observations = np.concatenate([e.observations for e in episodes]).astype("float32")
    actions = np.concatenate([e.actions for e in episodes])
    values, finals = np.zeros(len(observations)), np.zeros(len(episodes))
    if value_model is not None:  # one call for every state and every final state
        both = np.concatenate([observations, np.stack([e.final_observation for e in episodes])])
        predicted = np.asarray(value_model.predict_on_batch(both))[:, 0] / (1.0 - gamma)
        values, finals = predicted[:len(observations)], predicted[len(observations):]
    returns = np.concatenate([discounted_returns(e.rewards, gamma, finals[i] * e.truncated)
                              for i, e in enumerate(episodes)])
    advantages = returns - values
    if normalize:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    keep = np.arange(len(returns))
    if multiple_of > 1:
        rng = rng if rng is not None else np.random.default_rng(0)
        n = len(returns) // multiple_of * multiple_of
        keep = (rng.permutation(len(returns))[:n] if n else  # fewer steps than a minibatch:
                rng.choice(len(returns), multiple_of))  # one, drawn with replacement
    return Batch(observations[keep], actions[keep], advantages[keep].astype("float32"),
                 (returns[keep, None] * (1.0 - gamma)).astype("float32"))


def compile_policy(model, action="discrete", sigma=None, learning_rate=1e-3, optimizer=None):
    """Compile a policy network with the loss -log pi(a | s) (weighted by `sample_weight`).

    Args:
        model: a `policy_mlp`.
        action: "discrete": softmax over the outputs, `SparseCategoricalCrossentropy(
            from_logits=True)` against the action taken. "gaussian": the outputs are the
            mean, MSE against the action taken times 1 / (2 sigma^2) (MSE averages over
            the action's dimensions, so times action_dim / (2 sigma^2)).
        sigma: the Gaussian's fixed standard deviation (action="gaussian").
        learning_rate: of the default optimizer, Adam.
        optimizer: another optimizer (e.g. SGD in the tests).

    Returns:
        The model, compiled: `fit(observations, actions, sample_weight=advantages)` is
        one REINFORCE update.
    """
    optimizer = optimizer or keras.optimizers.Adam(learning_rate)
    if action == "discrete":
        model.compile(optimizer=optimizer,
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    elif action == "gaussian":
        if not sigma or sigma <= 0:
            raise ValueError(f"a Gaussian policy needs sigma > 0, got {sigma!r}")
        dims = model.outputs[0].shape[-1]
        model.compile(optimizer=optimizer, loss=keras.losses.MeanSquaredError(),
                      loss_weights=[dims / (2.0 * sigma**2)])
    else:
        raise ValueError(f"action must be 'discrete' or 'gaussian', got {action!r}")
    return model
