"""keras_zoo.rl.control: the lane-keeping car's rules by hand, returns-to-go, advantages,
and the policy-gradient losses against the analytic REINFORCE gradient.

The gradients are checked through Keras itself: one SGD step of `train_on_batch` with
the advantages as sample weights must move the weights by -lr times the gradient derived
by hand, on every backend.
"""

import warnings

import keras
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import keras_zoo
from keras_zoo.rl import (
    Episode,
    LaneKeeping,
    compile_policy,
    discounted_returns,
    gaussian_policy,
    reinforce_batch,
    run_episodes,
    softmax_policy,
)

# --- LaneKeeping: the rules -----------------------------------------------------------


def drive(env, actions, seed=0, **start):
    """Reset (the start set through options), apply `actions`; the step results."""
    env.reset(seed=seed, options=start or None)
    return [env.step(a) for a in actions]


def test_straight_car_on_a_straight_road_stays_centred_until_the_time_limit():
    env = LaneKeeping(max_steps=50, max_curvature=0.0)
    steps = drive(env, [[0.0]] * 50, offset=0.0, heading=0.0)
    assert all(s[0][0] == 0.0 and s[0][1] == 0.0 and s[1] == 1.0 for s in steps)
    assert [s[3] for s in steps] == [False] * 49 + [True]  # truncated at the limit, only
    assert not any(s[2] for s in steps)  # never terminated


def test_one_step_follows_the_bicycle_model():
    env = LaneKeeping(max_curvature=0.0)
    (obs, reward, *_), = drive(env, [[90.0]], offset=0.2, heading=0.01)
    delta = np.radians(90.0) / 15.0  # steering ratio 15:1
    heading = 0.01 + 15.0 * np.tan(delta) / 2.7 * 0.1  # v tan(delta) / L dt
    offset = 0.2 + 15.0 * np.sin(heading) * 0.1
    np.testing.assert_allclose(obs[[0, 1, 4]], [offset / 1.75, heading / 0.1, 90.0 / 45.0],
                               rtol=1e-6)  # offset, heading error, the wheel just applied
    assert reward == pytest.approx(1.0 - (offset / 1.75) ** 2 - 0.05 * (90.0 / 45.0) ** 2)


def test_the_utility_charges_distance_from_the_centre_and_jerks_of_the_wheel():
    env = LaneKeeping(max_curvature=0.0, comfort=0.1)
    steps = drive(env, [[0.0], [45.0], [45.0], [-45.0]], offset=0.0, heading=0.0)
    jerks = np.array([0.0, 1.0, 0.0, 2.0])  # wheel change / 45°
    offsets = np.array([s[4]["offset"] for s in steps])
    np.testing.assert_allclose([s[1] for s in steps],
                               1.0 - (offsets / 1.75) ** 2 - 0.1 * jerks**2, rtol=1e-6)
    assert steps[0][1] == 1.0 and steps[3][1] < steps[1][1] < steps[2][1] < 1.0


@pytest.mark.parametrize("wheel,side", [(30.0, 1.0), (-30.0, -1.0)])
def test_steering_left_moves_left_and_right_moves_right(wheel, side):
    steps = drive(LaneKeeping(max_curvature=0.0), [[wheel]] * 5, offset=0.0, heading=0.0)
    offsets = [s[4]["offset"] for s in steps]
    assert np.all(side * np.diff(offsets) > 0) and side * offsets[-1] > 0.1


def test_a_bend_pushes_a_car_that_goes_straight_to_the_outside():
    env = LaneKeeping(max_curvature=0.01)
    steps = drive(env, [[0.0]] * 10, seed=3, offset=0.0, heading=0.0)
    bend = np.sum([s[4]["curvature"] for s in steps])
    assert np.sign(steps[-1][4]["offset"]) == -np.sign(bend)  # the road turns away


def test_leaving_the_lane_terminates_with_no_reward():
    steps = []
    env = LaneKeeping(max_curvature=0.0, comfort=0.0)
    env.reset(seed=0, options={"offset": 1.5, "heading": 0.0})
    while not steps or not (steps[-1][2] or steps[-1][3]):
        steps.append(env.step([200.0]))
    *inside, last = steps
    assert last[2] and not last[3] and last[1] == 0.0 and last[4]["offset"] > 1.75
    assert all(0.0 < s[1] < 1.0 and abs(s[4]["offset"]) <= 1.75 for s in inside)
    assert len(steps) < 10


def test_discrete_actions_are_the_documented_angles():
    assert LaneKeeping.DISCRETE_WHEEL == (45.0, 0.0, -45.0)  # left, still, right
    discrete, continuous = LaneKeeping("discrete"), LaneKeeping("continuous")
    assert discrete.action_space.n == 3 and continuous.action_space.shape == (1,)
    for action, wheel in enumerate((45.0, 0.0, -45.0)):
        a, = drive(discrete, [action], seed=5)
        b, = drive(continuous, [[wheel]], seed=5)
        assert a[4]["wheel_angle"] == wheel
        np.testing.assert_array_equal(a[0], b[0])


def test_angles_beyond_540_degrees_are_clipped():
    for asked, applied in ((1000.0, 540.0), (-2000.0, -540.0), (300.0, 300.0)):
        env, reference = LaneKeeping(), LaneKeeping()
        a, = drive(env, [[asked]], seed=2)
        b, = drive(reference, [[applied]], seed=2)
        assert a[4]["wheel_angle"] == applied
        np.testing.assert_array_equal(a[0], b[0])


def test_a_seed_fixes_the_road_and_the_start():
    actions = [[a] for a in np.random.default_rng(0).uniform(-20, 20, 30)]
    first, again, other = (drive(LaneKeeping(), actions, seed=s) for s in (7, 7, 8))
    assert all(np.array_equal(a[0], b[0]) and a[1] == b[1] for a, b in zip(first, again))
    assert not np.array_equal(first[0][0], other[0][0])


def test_lane_keeping_passes_gymnasiums_environment_checker():
    for actions in ("continuous", "discrete"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # its advice on unbounded observations
            check_env(LaneKeeping(actions), skip_render_check=True)


def test_bad_actions_argument_is_refused():
    with pytest.raises(ValueError, match="actions must be 'continuous' or 'discrete'"):
        LaneKeeping("steer")


# --- Returns, episodes, advantages ----------------------------------------------------


def test_discounted_returns_by_hand():
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], 0.5),
                               [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3])
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], 0.5, bootstrap=4.0),
                               [2.75 + 0.125 * 4, 3.5 + 0.25 * 4, 3 + 0.5 * 4])
    np.testing.assert_allclose(discounted_returns([1.0] * 3, 1.0), [3, 2, 1])


def test_run_episodes_steps_every_env_together_and_records_what_each_saw():
    calls = []

    def act(observations):
        calls.append(observations.shape)
        return np.where(observations[:, :1] > 0, -60.0, 60.0).astype("float32")  # (n, 1)

    envs = [LaneKeeping(max_steps=30) for _ in range(3)]
    episodes = run_episodes(envs, act, seeds=[0, 1, 2])
    assert calls == [(3, 5)] * max(len(e.rewards) for e in episodes)  # one call a step
    env = LaneKeeping(max_steps=30)  # the second episode again, one env on its own
    observation = env.reset(seed=1)[0]
    for t, action in enumerate(episodes[1].actions):
        np.testing.assert_array_equal(episodes[1].observations[t], observation)
        observation, reward, *_ = env.step(action)
        assert episodes[1].rewards[t] == reward
    np.testing.assert_array_equal(episodes[1].final_observation, observation)
    assert [e.truncated for e in episodes] == [len(e.rewards) == 30 for e in episodes]


def constant_value(gamma, value):
    """A value_mlp whose output is `value * (1 - gamma)` everywhere: V(s) = value."""
    model = keras_zoo.build("value_mlp", observation_dim=5, units=())
    kernel, bias = model.get_layer("value").weights
    kernel.assign(np.zeros(kernel.shape, "float32"))
    bias.assign(np.full(bias.shape, value * (1 - gamma), "float32"))
    return model


def test_advantages_are_returns_less_the_baseline_and_truncation_bootstraps():
    episodes = run_episodes([LaneKeeping(max_steps=4, max_curvature=0.0)] * 1,
                            lambda o: np.zeros((len(o), 1), "float32"), seeds=[0])
    cut = episodes[0]  # truncated after 4 steps
    ended = Episode(cut.observations, cut.actions, cut.rewards, False, cut.final_observation,
                    cut.infos)  # the same steps, ended by failure
    gamma = 0.9
    for episode, bootstrap in ((cut, 2.0), (ended, 0.0)):
        batch = reinforce_batch([episode], gamma, constant_value(gamma, 2.0), normalize=False)
        returns = discounted_returns(episode.rewards, gamma, bootstrap)
        np.testing.assert_allclose(batch.advantages, returns - 2.0, rtol=1e-5)
        np.testing.assert_allclose(batch.value_targets[:, 0], returns * (1 - gamma), rtol=1e-5)
    plain = reinforce_batch([ended], gamma, normalize=False)  # no baseline: A = G
    np.testing.assert_allclose(plain.advantages, discounted_returns(ended.rewards, gamma),
                               rtol=1e-6)


def test_the_batch_is_cut_to_whole_minibatches():
    episodes = run_episodes([LaneKeeping(max_steps=10) for _ in range(3)],
                            lambda o: np.zeros((len(o), 1), "float32"), seeds=[0, 1, 2])
    steps = sum(len(e.rewards) for e in episodes)
    batch = reinforce_batch(episodes, 0.9, multiple_of=4)
    assert len(batch.observations) == steps // 4 * 4 == len(batch.advantages)
    assert len(reinforce_batch(episodes, 0.9, multiple_of=1000).actions) == 1000
    normalized = reinforce_batch(episodes, 0.9).advantages
    assert abs(normalized.mean()) < 1e-5 and normalized.std() == pytest.approx(1.0, rel=1e-4)


def test_policies_sample_from_the_network_or_take_its_best_action():
    model = keras_zoo.build("policy_mlp", observation_dim=1, num_actions=3, units=())
    kernel, bias = model.get_layer("policy").weights
    kernel.assign(np.zeros(kernel.shape, "float32"))
    bias.assign(np.log(np.float32([0.2, 0.5, 0.3])))
    rng = np.random.default_rng(0)
    states = np.zeros((20_000, 1), "float32")
    counts = np.bincount(softmax_policy(model, rng)(states), minlength=3) / len(states)
    np.testing.assert_allclose(counts, [0.2, 0.5, 0.3], atol=0.015)
    assert set(softmax_policy(model, rng, greedy=True)(states[:5])) == {1}
    mean = keras_zoo.build("policy_mlp", observation_dim=1, num_actions=1, units=())
    mean.get_layer("policy").weights[1].assign(np.float32([0.4]))
    actions = gaussian_policy(mean, rng, sigma=0.1)(states)
    assert actions.shape == (20_000, 1)
    assert abs(actions.mean() - 0.4) < 0.005 and abs(actions.std() - 0.1) < 0.005
    np.testing.assert_allclose(gaussian_policy(mean, rng, 0.1, greedy=True)(states[:3]), 0.4)


# --- The policy-gradient losses are REINFORCE -----------------------------------------

STATES = np.float32([[1.0, -0.5, 0.2], [0.3, 0.8, -1.0], [-0.7, 0.1, 0.5], [0.2, 0.2, 0.9]])
ADVANTAGES = np.float32([1.5, -0.8, 0.3, -2.0])
LR = 0.1


def linear_policy(num_actions, action, **compile_args):
    """policy_mlp without hidden layers: outputs s W + b, W known, b = 0; SGD."""
    model = keras_zoo.build("policy_mlp", observation_dim=3, num_actions=num_actions, units=())
    kernel, bias = model.get_layer("policy").weights
    kernel.assign(np.random.default_rng(0).normal(size=kernel.shape).astype("float32"))
    bias.assign(np.zeros(bias.shape, "float32"))
    return compile_policy(model, action, optimizer=keras.optimizers.SGD(LR), **compile_args)


def one_step(model, actions, advantages):
    """(W, b) before, and their change after one `train_on_batch` step."""
    before = [keras.ops.convert_to_numpy(w).astype("float64") for w in model.trainable_weights]
    model.train_on_batch(STATES, actions, sample_weight=advantages)
    after = [keras.ops.convert_to_numpy(w).astype("float64") for w in model.trainable_weights]
    return before, [a - b for a, b in zip(after, before)]


def softmax_gradient(W, b, actions, advantages):
    """d/d(W, b) of -(1/N) sum_i A_i log pi(a_i | s_i), pi = softmax(s W + b):
    -(1/N) sum_i A_i s_i (onehot(a_i) - pi(s_i))^T, and the same without s_i for b."""
    z = STATES @ W + b
    pi = np.exp(z - z.max(1, keepdims=True))
    pi /= pi.sum(1, keepdims=True)
    error = advantages[:, None] * (np.eye(W.shape[1])[actions] - pi)  # (N, actions)
    return -STATES.T @ error / len(STATES), -error.sum(0) / len(STATES)


def test_weighted_cross_entropy_step_is_the_reinforce_gradient():
    actions = np.array([0, 1, 1, 0])
    (W, b), (dW, db) = one_step(linear_policy(2, "discrete"), actions, ADVANTAGES)
    gW, gb = softmax_gradient(W, b, actions, ADVANTAGES)
    np.testing.assert_allclose(dW, -LR * gW, atol=1e-5)
    np.testing.assert_allclose(db, -LR * gb, atol=1e-5)
    # It can fail: the wrong sign (ascent on the loss) or a missing baseline (A + 1,
    # as if V were 1 too low) move the weights elsewhere.
    assert not np.allclose(dW, LR * gW, atol=1e-5)
    assert not np.allclose(dW, -LR * softmax_gradient(W, b, actions, ADVANTAGES + 1)[0],
                           atol=1e-5)


def test_the_loss_is_minus_the_advantage_weighted_log_probability():
    actions = np.array([1, 0, 1, 1])
    model = linear_policy(2, "discrete")
    W, b = (keras.ops.convert_to_numpy(w) for w in model.trainable_weights)
    z = STATES @ W + b
    log_pi = z - np.log(np.exp(z).sum(1, keepdims=True))
    expected = -np.mean(ADVANTAGES * log_pi[np.arange(4), actions])
    loss = model.test_on_batch(STATES, actions, sample_weight=ADVANTAGES)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_weighted_mse_step_is_the_gaussian_policy_gradient():
    sigma = 0.5
    actions = np.float32([[0.4], [-1.0], [0.9], [0.1]])
    (W, b), (dW, db) = one_step(linear_policy(1, "gaussian", sigma=sigma), actions, ADVANTAGES)
    # -log N(a; mu, sigma^2) = (a - mu)^2 / (2 sigma^2) + const, mu = s W + b:
    # d/dW of (1/N) sum_i A_i (-log N) = -(1/N) sum_i A_i (a_i - mu_i) / sigma^2 s_i
    error = ADVANTAGES[:, None] * (actions - (STATES @ W + b)) / sigma**2  # (N, 1)
    gW, gb = -STATES.T @ error / len(STATES), -error.sum(0) / len(STATES)
    np.testing.assert_allclose(dW, -LR * gW, atol=1e-5)
    np.testing.assert_allclose(db, -LR * gb, atol=1e-5)
    assert not np.allclose(dW, LR * gW, atol=1e-5)  # the sign matters
    assert not np.allclose(dW, -LR * 2 * sigma**2 * gW, atol=1e-5)  # so does 1 / (2 sigma^2)


def test_a_gaussian_policy_needs_a_positive_sigma():
    model = keras_zoo.build("policy_mlp", units=())
    for sigma in (None, 0.0, -1.0):
        with pytest.raises(ValueError, match="needs sigma > 0"):
            compile_policy(model, "gaussian", sigma=sigma)
    with pytest.raises(ValueError, match="action must be 'discrete' or 'gaussian'"):
        compile_policy(model, "beta")
