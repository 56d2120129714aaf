"""REINFORCE with a baseline on CartPole: a policy network trained by `fit` on weighted
cross-entropy, a value network by `fit` on MSE.

Follows "Neural networks: CNN, RNN, Transformer, RL" (NN for RL: the network outputs the
action, "which move" is a classification; the utility is what it maximises). Teaches:
the policy gradient E[A grad log pi(a | s)] is the gradient of a cross-entropy weighted by
the advantage, so one `fit(observations, actions, sample_weight=advantages)` is one
REINFORCE update (Williams 1992); a value network as the baseline (A = G - V(s)) makes
those weights small where the outcome was expected; 16 environments stepped together
make one network call per step. Within the run's 3,200 episodes the policy learns to
balance the pole for whole episodes (500 steps); gymnasium's CartPole-v1 counts as
solved at a mean return of 475 (here: the last 20 training episodes).

    KERAS_BACKEND=jax python tutorials/policy_gradient_cartpole.py [--smoke] [--seed 1]
"""

# %% Settings
import gymnasium
import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.rl import compile_policy, reinforce_batch, run_episodes, softmax_policy

args = tutorial.setup(__doc__, batch_size=512, data=("cartpole",),
                      resumable=False)  # many tiny fits, seconds each: nothing to resume
rng = np.random.default_rng(args.seed)
ITERATIONS = 2 if args.smoke else 200  # 3,200 episodes
EPISODES = 16  # per iteration, stepped together: one network call per step for all 16
GAMMA = 0.99  # a horizon of about 100 steps
# Adam's step for both networks; the policy's decays linearly to 0 over the run, so that
# late updates polish a policy that balances the pole instead of knocking it over
LEARNING_RATE = 5e-4
SOLVED = 475.0  # gymnasium's CartPole-v1 threshold (a mean return over 100 episodes)

# %% The environment: 4 observations (cart position, velocity, pole angle, angular
# velocity), 2 actions (push left, push right), +1 per step until the pole falls or the
# cart leaves the track; truncated at 500 steps
envs = [gymnasium.make("CartPole-v1") for _ in range(EPISODES)]
observation_dim = envs[0].observation_space.shape[0]  # 4
num_actions = int(envs[0].action_space.n)  # 2

# %% The networks: policy logits and value, 4 -> 64 -> 64 (tanh) -> 2 and -> 1
policy = compile_policy(keras_zoo.build("policy_mlp", observation_dim=observation_dim,
                                        num_actions=num_actions),
                        "discrete", learning_rate=LEARNING_RATE)
value = keras_zoo.build("value_mlp", observation_dim=observation_dim)
value.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
policy_callbacks = tutorial.callbacks(args, name="policy")
value_callbacks = tutorial.callbacks(args, name="value")

# %% Training: play 16 episodes with the sampling policy, turn them into (state, action,
# advantage), one pass of minibatch steps for each network
returns, steps = [], 0
for iteration in range(ITERATIONS):
    policy.optimizer.learning_rate = LEARNING_RATE * (1 - iteration / ITERATIONS)
    seeds = args.seed * 100_000 + iteration * EPISODES + np.arange(EPISODES)
    episodes = run_episodes(envs, softmax_policy(policy, rng), seeds)
    batch = reinforce_batch(episodes, GAMMA, value, multiple_of=args.batch_size, rng=rng)
    policy.fit(batch.observations, batch.actions, sample_weight=batch.advantages,
               batch_size=args.batch_size, epochs=1, verbose=0, callbacks=policy_callbacks)
    value.fit(batch.observations, batch.value_targets, batch_size=args.batch_size, epochs=1,
              verbose=0, callbacks=value_callbacks)
    returns += [e.total_reward for e in episodes]
    steps += sum(len(e.rewards) for e in episodes)
    if iteration % 10 == 9 or iteration == ITERATIONS - 1:
        print(f"iteration {iteration + 1}: {len(returns)} episodes, {steps} steps, "
              f"mean return of the last 20 {np.mean(returns[-20:]):.1f}")

# %% Greedy evaluation: the most probable action, on 16 fresh seeds
held_out = 10**6 + np.arange(EPISODES)
greedy = [e.total_reward for e in run_episodes(envs, softmax_policy(policy, rng, greedy=True),
                                               held_out)]
print(f"greedy policy: mean return {np.mean(greedy):.1f} over {EPISODES} new episodes")

# %% Learning curve
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(returns, ".", alpha=0.3, label="episode return")
window = min(20, len(returns))
ax.plot(np.arange(window - 1, len(returns)),
        np.convolve(returns, np.ones(window) / window, mode="valid"), label="mean of 20")
ax.axhline(SOLVED, color="red", ls="--", label=f"solved ({SOLVED:.0f})")
ax.set(xlabel="training episode", ylabel="return (steps balanced)",
       title="REINFORCE with a baseline on CartPole-v1")
ax.legend()
tutorial.savefig(fig, args, "cartpole_learning_curve.png")

# %% Result
mean_return = float(np.mean(returns[-20:]))
print(f"mean return of the last 20 training episodes: {mean_return:.1f} "
      f"({'solved' if mean_return >= SOLVED else 'not solved'}: the bar is {SOLVED:.0f})")
tutorial.report(args, mean_return=mean_return, greedy_return=float(np.mean(greedy)),
                episodes=len(returns), env_steps=steps)
