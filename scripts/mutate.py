"""Mutation testing for the fuller tier: plant a known bug, the tests must notice.

`MUTATIONS` lists hand-written source mutations: each one a realistic, one-line-ish bug
in one file of keras_zoo (a residual block without its add, a sampler without its noise,
a config that forgets an argument ...), with the few test files or node ids that should
catch it. For each mutation the runner

1. copies keras_zoo/, tests/, tutorials/, scripts/, results/, docs/, README.md and
   pyproject.toml into a temporary directory (no out/, __pycache__ or .venv),
2. checks that the mutation's `old` snippet occurs exactly once in the copied file
   (otherwise the code has changed under it: STALE), and replaces it with `new`,
3. runs `python -m pytest -x -q -p no:cacheprovider -n 0 -m "full or not full"
   <selection>` with the copy as working directory and first on PYTHONPATH, so that
   `import keras_zoo` loads the mutated copy, not the editable install (checked once per
   run with `python -c "import keras_zoo; print(keras_zoo.__file__)"` in a copy).
   The selection's fuller-tier tests run too; a `-k` in a selection filters every file
   of that selection.

Verdicts (from pytest's exit code):

    KILLED    1: a selected test failed, or 2: pytest was interrupted, e.g. by an error
              while collecting (raised by the mutated code on import). The first failing
              test is printed, so a reader can judge whether it failed for the bug.
    SURVIVED  0: every selected test passed with the bug in place.
    STALE     the `old` snippet is not in the file exactly once: update the mutation.
    ERROR     any other exit code (5: the selection collected no test, 3/4: pytest
              failed), a timeout, or a copy whose keras_zoo is not the one imported.
    SKIPPED   the mutation is on another backend's code path (`backends`).

The script exits 1 if any mutation SURVIVED, was STALE or ERROR, else 0.

    python scripts/mutate.py                      # every mutation (~15 min on 2 cores)
    python scripts/mutate.py --list               # what each one plants, and where
    python scripts/mutate.py --only iou_union_keeps_intersection,gcn_row_normalised
    python scripts/mutate.py --backend torch      # KERAS_BACKEND of the test runs
    python scripts/mutate.py --baseline           # also run each selection unmutated

The default backend is the current KERAS_BACKEND, else jax. tests/test_mutations.py runs
the whole list in the "full" tier and checks, in the default tier, that every `old`
snippet still occurs exactly once in today's code.
"""

import argparse
import dataclasses
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("tensorflow", "jax", "torch")
COPIED = ("keras_zoo", "tests", "tutorials", "scripts", "results", "docs", "README.md",
          "pyproject.toml")
IGNORED = shutil.ignore_patterns("out", "__pycache__", ".venv", "*.pyc", ".pytest_cache")
# The library-wide pieces that are not a model family but are mutated too.
LIBRARY_PIECES = ("datasets", "training", "workarounds")
PYTEST = ("-x", "-q", "-p", "no:cacheprovider", "-n", "0", "-m", "full or not full")


@dataclasses.dataclass(frozen=True)
class Mutation:
    """One planted bug.

    Attributes:
        id: short name, unique.
        family: the model family it hits (`keras_zoo.list_families()`) or one of
            `LIBRARY_PIECES`.
        path: file, relative to the repository root.
        old: exact snippet that must occur exactly once in the file.
        new: its replacement (the bug).
        description: what the bug is, in a line.
        selection: pytest arguments (test files, node ids, `-k EXPR`) that should kill it.
        backends: the backends whose code path the mutation is on (others: SKIPPED).
    """

    id: str
    family: str
    path: str
    old: str
    new: str
    description: str
    selection: tuple
    backends: tuple = BACKENDS


MUTATIONS = [
    # ---- known gaps of the suite (tests that kill these are being added) ----
    Mutation(
        "ddpm_sampler_without_noise", "generative", "keras_zoo/models/diffusion.py",
        old=("                if t > 0:\n"
             "                    x = x + np.sqrt(self.betas[t]) * normal()"),
        new=("                if t > 0:\n"
             "                    x = x"),
        description="DDPM ancestral sampling drops its sqrt(beta_t) * z noise term",
        selection=("tests/test_generative.py", "-k", "ddpm")),
    Mutation(
        "gat_config_forgets_negative_slope", "gnn", "keras_zoo/layers/graph.py",
        old='"dropout": self.dropout, "negative_slope": self.negative_slope}',
        new='"dropout": self.dropout}',
        description="GATConv.get_config leaves out negative_slope (reloads with 0.2)",
        selection=("tests/test_gnn.py", "tests/test_golden.py", "-k", "config or gat")),
    Mutation(
        "cnn_from_spec_pool_same", "cnn", "keras_zoo/models/cnn.py",
        old='x = layers.MaxPooling2D(2, name=f"pool{n_pool}")(x)',
        new='x = layers.MaxPooling2D(2, padding="same", name=f"pool{n_pool}")(x)',
        description='cnn_from_spec\'s 2x2 max pool pads "same" instead of "valid"',
        selection=("tests/test_reference.py", "tests/test_golden.py", "tests/test_summary.py",
                   "-k", "cnn_from_spec")),
    Mutation(
        "vae_loss_without_kl", "generative", "keras_zoo/models/vae.py",
        old="self.add_loss(ops.mean(bernoulli_nll(x, logits) + gaussian_kl(mean, log_var)))",
        new="self.add_loss(ops.mean(bernoulli_nll(x, logits)))",
        description="the VAE's loss is the reconstruction term alone, without the KL term",
        selection=("tests/test_generative.py", "tests/test_golden.py", "-k",
                   "vae or elbo or kl")),
    # ---- cnn ----
    Mutation(
        "resnet_basic_block_without_add", "cnn", "keras_zoo/models/resnet.py",
        old=('    x = _conv_bn(x, filters, 3, 1, use_bias, f"{name}_2", relu=False)\n'
             '    x = layers.Add(name=f"{name}_add")([shortcut, x])\n'),
        new='    x = _conv_bn(x, filters, 3, 1, use_bias, f"{name}_2", relu=False)\n',
        description="ResNet's basic block never adds its shortcut (a plain conv stack)",
        selection=("tests/test_cnn_zoo.py", "-k", "residual_blocks")),
    Mutation(
        "mobilenet_v2_bottleneck_relu6", "cnn", "keras_zoo/models/mobile.py",
        old='x = _bn(x, f"{name}_project_bn")  # linear bottleneck: no activation',
        new='x = layers.ReLU(6.0, name=f"{name}_project_relu")(_bn(x, f"{name}_project_bn"))',
        description="MobileNetV2's linear bottleneck gets a ReLU6 after its projection",
        selection=("tests/test_golden.py", "tests/test_cnn_zoo.py", "-k",
                   "mobilenet_v2 or inverted_residual")),
    Mutation(
        "lenet5_f6_relu", "cnn", "keras_zoo/models/cnn.py",
        old='x = layers.Dense(84, activation=activation, name="F6")(x)',
        new='x = layers.Dense(84, activation="relu", name="F6")(x)',
        description="LeNet-5's F6 layer uses ReLU instead of the squashing tanh",
        selection=("tests/test_reference.py", "-k", "lenet5")),
    Mutation(
        "channel_shuffle_without_transpose", "cnn", "keras_zoo/layers/shuffle.py",
        old="x = ops.transpose(x, (0, 1, 2, 4, 3))  # (b, h, w, c/g, g)",
        new="x = ops.transpose(x, (0, 1, 2, 3, 4))  # (b, h, w, c/g, g)",
        description="ShuffleNet's channel shuffle reshapes back without transposing",
        selection=("tests/test_cnn_zoo.py", "-k", "channel_shuffle or shuffle_unit")),
    # ---- mlp ----
    Mutation(
        "mlp_hidden_without_activation", "mlp", "keras_zoo/models/mlp.py",
        old="x = layers.Dense(units, activation=activation, name=name)(x)",
        new="x = layers.Dense(units, name=name)(x)",
        description="the MLP's hidden layers forget their activation (a linear network)",
        selection=("tests/test_reference.py", "-k", "mlp")),
    # ---- rnn ----
    Mutation(
        "lstm_forget_gate_from_input_gate", "rnn", "keras_zoo/layers/recurrent.py",
        old="i, f, o = ops.sigmoid(z_i), ops.sigmoid(z_f), ops.sigmoid(z_o)",
        new="i, f, o = ops.sigmoid(z_i), ops.sigmoid(z_i), ops.sigmoid(z_o)",
        description="the lecture LSTM cell's forget gate reads the input gate's weights",
        selection=("tests/test_rnn_zoo.py", "-k", "lecture_cell or lecture_lstm")),
    Mutation(
        "gru_update_gate_reversed", "rnn", "keras_zoo/layers/recurrent.py",
        old="h = z * h + (1.0 - z) * n",
        new="h = (1.0 - z) * h + z * n",
        description="the lecture GRU cell keeps the state with 1 - z instead of z",
        selection=("tests/test_rnn_zoo.py", "-k", "lecture_cell or lecture_gru")),
    # ---- seq2seq ----
    Mutation(
        "bahdanau_softmax_over_queries", "seq2seq", "keras_zoo/layers/attention.py",
        old="weights = ops.softmax(scores, axis=-1)  # (batch, T_q, T_v)",
        new="weights = ops.softmax(scores, axis=1)  # (batch, T_q, T_v)",
        description="Bahdanau attention normalises over the decoder steps, not the source",
        selection=("tests/test_attention.py", "-k", "bahdanau or attention_weights")),
    Mutation(
        "teacher_forcing_feeds_the_end_token", "seq2seq", "keras_zoo/models/seq2seq.py",
        old="decoder_input[:, 1:] = np.where(target[:, :-1] == END, PAD, target[:, :-1])",
        new="decoder_input[:, 1:] = target[:, :-1]",
        description="teacher forcing feeds the end token back into the decoder",
        selection=("tests/test_attention.py", "-k", "teacher_forcing")),
    # ---- attention ----
    Mutation(
        "transformer_decoder_not_causal", "attention", "keras_zoo/models/attention.py",
        old="x = apply_attention_block(x, None, target_mask, num_heads, dropout, causal=True,",
        new="x = apply_attention_block(x, None, target_mask, num_heads, dropout, causal=False,",
        description="the Transformer decoder's self-attention loses its causal mask",
        selection=("tests/test_attention.py", "-k", "look_ahead")),
    Mutation(
        "sinusoidal_sin_cos_swapped", "attention", "keras_zoo/layers/attention.py",
        old="return ops.where(dims % 2 == 0, ops.sin(angles), ops.cos(angles))",
        new="return ops.where(dims % 2 == 0, ops.cos(angles), ops.sin(angles))",
        description="the sinusoidal position encoding puts cos on even, sin on odd dims",
        selection=("tests/test_attention.py", "-k", "sinusoidal")),
    # ---- gnn ----
    Mutation(
        "gcn_row_normalised", "gnn", "keras_zoo/layers/graph.py",
        old=("        norm = ops.rsqrt(gather_rows(degree, flat.senders)\n"
             "                         * gather_rows(degree, flat.receivers))  # (E, 1)"),
        new="        norm = 1.0 / gather_rows(degree, flat.receivers)  # (E, 1)",
        description="GCN normalises by D^-1 (A + I) instead of D^-1/2 (A + I) D^-1/2",
        selection=("tests/test_gnn.py", "-k", "gcn_normalized or numpy_references")),
    Mutation(
        "gin_without_self_term", "gnn", "keras_zoo/layers/graph.py",
        old="h = (1.0 + eps) * x + aggregated",
        new="h = eps * x + aggregated",
        description="GIN weighs a node's own features by eps instead of 1 + eps",
        selection=("tests/test_gnn.py", "-k", "numpy_references")),
    # ---- detection ----
    Mutation(
        "iou_union_keeps_intersection", "detection", "keras_zoo/datasets/boxes.py",
        old="union = area_a + area_b - inter",
        new="union = area_a + area_b",
        description="IoU's union counts the intersection twice",
        selection=("tests/test_detection.py", "-k", "iou_matrix")),
    Mutation(
        "nms_lowest_score_first", "detection", "keras_zoo/datasets/boxes.py",
        old='order = np.argsort(-np.asarray(scores), kind="stable")',
        new='order = np.argsort(np.asarray(scores), kind="stable")',
        description="non-max suppression keeps the lowest-scoring box of each cluster",
        selection=("tests/test_detection.py", "-k", "non_max_suppression")),
    Mutation(
        "nms_suppresses_at_the_threshold", "detection", "keras_zoo/datasets/boxes.py",
        old="                      <= iou_threshold]",
        new="                      < iou_threshold]",
        description="non-max suppression also drops a box whose IoU equals the threshold",
        selection=("tests/test_detection.py", "-k", "nms_keeps_a_box")),
    Mutation(
        "match_boxes_strict_threshold", "detection", "keras_zoo/datasets/boxes.py",
        old="positive = iou[np.arange(len(anchors)), best] >= iou_threshold",
        new="positive = iou[np.arange(len(anchors)), best] > iou_threshold",
        description="an anchor whose IoU equals the threshold is no longer a positive match",
        selection=("tests/test_detection.py", "-k", "match_boxes")),
    Mutation(
        "ssd_loss_no_negatives_without_objects", "detection", "keras_zoo/models/detection.py",
        old=("num_neg = ops.minimum(neg_pos_ratio * ops.maximum(num_pos, 1.0), "
             "num_anchors - num_pos)"),
        new="num_neg = ops.minimum(neg_pos_ratio * num_pos, num_anchors - num_pos)",
        description="SSD's hard-negative mining takes no negatives from images without objects",
        selection=("tests/test_detection.py", "-k", "ssd_loss")),
    # ---- segmentation ----
    Mutation(
        "mean_iou_counts_absent_classes", "segmentation", "keras_zoo/models/segmentation.py",
        old="iou = np.where(union > 0, tp / np.where(union > 0, union, 1), np.nan)",
        new="iou = np.where(union > 0, tp / np.where(union > 0, union, 1), 0.0)",
        description="mean_iou counts classes absent from truth and prediction as IoU 0",
        selection=("tests/test_segmentation.py", "-k", "mean_iou")),
    Mutation(
        "unet_without_first_skip", "segmentation", "keras_zoo/models/segmentation.py",
        old="        if skips:\n",
        new="        if skips and level > 1:\n",
        description="U-Net drops the skip connection of its full-resolution level",
        selection=("tests/test_segmentation.py", "-k", "parameter_counts")),
    # ---- energy ----
    Mutation(
        "hopfield_keeps_diagonal", "energy", "keras_zoo/models/energy.py",
        old="off_diagonal = 1.0 - ops.eye(self.units)",
        new="off_diagonal = ops.ones((self.units, self.units))",
        description="Hebb's rule keeps the self-connections on the Hopfield diagonal",
        selection=("tests/test_energy.py", "-k", "hebbian")),
    Mutation(
        "rbm_negative_phase_from_data", "energy", "keras_zoo/models/energy.py",
        old="vk = ops.stop_gradient(self.gibbs_chain(v0, self.k))",
        new="vk = ops.stop_gradient(v0)",
        description="the RBM's training loss takes its negative phase from v0, not the chain",
        selection=("tests/test_energy.py", "-k", "rbm_train_step")),
    # ---- generative ----
    Mutation(
        "gan_generator_loss_fake_label", "generative", "keras_zoo/models/gan.py",
        old="return _BCE(ops.ones_like(fake_logits), fake_logits)",
        new="return _BCE(ops.zeros_like(fake_logits), fake_logits)",
        description='the GAN generator is trained towards "fake" instead of "real"',
        selection=("tests/test_generative.py", "-k", "gan_losses")),
    Mutation(
        "ddpm_noise_scale_without_sqrt", "generative", "keras_zoo/models/diffusion.py",
        old="+ self._take(np.sqrt(1.0 - self.alpha_bars), t) * noise)",
        new="+ self._take(1.0 - self.alpha_bars, t) * noise)",
        description="q(x_t | x_0) scales the noise by 1 - abar_t instead of its square root",
        selection=("tests/test_generative.py", "-k", "ddpm_forward_process")),
    # ---- library-wide: datasets, training, workarounds ----
    Mutation(
        "charvocab_ids_off_by_one", "datasets", "keras_zoo/datasets/text.py",
        old="self.index = {c: i + len(SPECIALS) for i, c in enumerate(self.chars)}",
        new="self.index = {c: i + len(SPECIALS) - 1 for i, c in enumerate(self.chars)}",
        description="CharVocab's first character gets the end token's id",
        selection=("tests/test_text.py",)),
    Mutation(
        "make_windows_target_is_last_input", "datasets", "keras_zoo/datasets/__init__.py",
        old="y = series[idx + window + np.arange(horizon)]  # (N, horizon)",
        new="y = series[idx + window - 1 + np.arange(horizon)]  # (N, horizon)",
        description="make_windows' target is the window's last value, not the next one",
        selection=("tests/test_datasets.py", "-k", "make_windows")),
    Mutation(
        "minimize_jax_never_updates", "training", "keras_zoo/training.py",
        old="        optimizer.apply(grads, variables)  # assignments go to the enclosing scope",
        new="        pass  # optimizer.apply(grads, variables) forgotten: no update",
        description="training.minimize on JAX computes the gradients but never applies them",
        selection=("tests/test_training.py", "-k", "minimize"), backends=("jax",)),
    Mutation(
        "minimize_tensorflow_never_updates", "training", "keras_zoo/training.py",
        old="    optimizer.apply(tape.gradient(loss, variables), variables)  # backward, update",
        new="    tape.gradient(loss, variables)  # backward; forgotten: no update",
        description="training.minimize on TensorFlow never applies its gradients",
        selection=("tests/test_training.py", "-k", "minimize"), backends=("tensorflow",)),
    Mutation(
        "minimize_torch_never_updates", "training", "keras_zoo/training.py",
        old="        optimizer.apply(list(grads), variables)",
        new="        pass  # forgotten: optimizer.apply(list(grads), variables)",
        description="training.minimize on PyTorch never applies its gradients",
        selection=("tests/test_training.py", "-k", "minimize"), backends=("torch",)),
    Mutation(
        "depthwise_taps_kernel_flipped", "workarounds", "keras_zoo/workarounds.py",
        old="outputs = outputs + window * kernel[i, j, :, 0]",
        new="outputs = outputs + window * kernel[kh - 1 - i, j, :, 0]",
        description="the JAX depthwise taps read the kernel upside down (a convolution)",
        selection=("tests/test_workarounds.py", "-k", "depthwise_by_taps")),
    Mutation(
        "fused_gru_gates_in_keras_order", "workarounds", "keras_zoo/workarounds.py",
        old="torch.cat([w[..., r], w[..., z], w[..., h]], dim=-1)",
        new="torch.cat([w[..., z], w[..., r], w[..., h]], dim=-1)",
        description="the fused GRU hands PyTorch the gates in Keras' order (z, r: swapped)",
        selection=("tests/test_workarounds.py", "-k", "fused_recurrence"),
        backends=("torch",)),
    Mutation(
        "fused_backwards_outputs_not_behind_padding", "workarounds",
        "keras_zoo/workarounds.py",
        old="shift = steps - (sequences.shape[1] - lengths[:, None])  # (batch, time)",
        new="shift = steps.expand(len(lengths), -1)",
        description="a masked go_backwards row's outputs start at step 0, not behind the "
                    "padding Keras reads first",
        selection=("tests/test_workarounds.py", "-k", "fused_recurrence"),
        backends=("torch",)),
    Mutation(
        "fused_adam_epsilon_as_pytorch_places_it", "workarounds", "keras_zoo/workarounds.py",
        old="eps=self.epsilon / math.sqrt(1.0 - self.beta_2**step), maximize=False)",
        new="eps=self.epsilon, maximize=False)",
        description="the fused Adam adds epsilon where PyTorch does, not where Keras does",
        selection=("tests/test_workarounds.py", "-k", "fused_adam"), backends=("torch",)),
    Mutation(
        "alphazero_value_without_tanh", "rl", "keras_zoo/models/rl.py",
        old='return layers.Dense(1, activation="tanh", dtype="float32", name=name)(x)',
        new='return layers.Dense(1, dtype="float32", name=name)(x)',
        description="AlphaZero's value head loses its tanh (values outside [-1, 1])",
        selection=("tests/test_golden.py", "tests/test_rl.py", "-k", "alphazero")),
    Mutation(
        "mcts_backup_without_sign_flip", "rl", "keras_zoo/rl/mcts.py",
        old="        value = -value  # the edge belongs to the player who moved into the child\n",
        new="",
        description="MCTS backs a leaf's value up without alternating its sign per ply",
        selection=("tests/test_rl.py",)),
    Mutation(
        "reinforce_without_baseline", "rl", "keras_zoo/rl/control.py",
        old="    advantages = returns - values\n",
        new="    advantages = returns\n",
        description="REINFORCE's advantages ignore the value network (no baseline)",
        selection=("tests/test_control.py",)),
    Mutation(
        "gaussian_policy_loss_unscaled", "rl", "keras_zoo/rl/control.py",
        old="loss_weights=[dims / (2.0 * sigma**2)]",
        new="loss_weights=[1.0]",
        description="the Gaussian policy's MSE lacks 1 / (2 sigma^2): not -log N(a; mu, sigma)",
        selection=("tests/test_control.py",)),
    Mutation(
        "episodes_record_overwritten_observations", "rl", "keras_zoo/rl/control.py",
        old="(observations[i].copy(), actions[i]",
        new="(observations[i], actions[i]",
        description="run_episodes records a view of the batch row that the next step overwrites",
        selection=("tests/test_control.py",)),
    Mutation(
        "full_batch_drops_sample_weight", "workarounds", "keras_zoo/workarounds.py",
        old="batch = tuple(part for part in (x, y, sample_weight) if part is not None)",
        new="batch = tuple(part for part in (x, y) if part is not None)",
        description="full_batch trains on every node, not only the weighted (labelled) ones",
        selection=("tests/test_workarounds.py", "-k", "full_batch"),
        backends=("tensorflow", "torch")),
    Mutation(
        "segment_sum_on_sender_rows", "workarounds", "keras_zoo/workarounds.py",
        old="return out.index_add(0, ids, wide).to(data.dtype)",
        new="return out.index_add(0, ids.flip(0), wide).to(data.dtype)",
        description="torch's row-wise segment sum adds each row to another row's segment",
        selection=("tests/test_workarounds.py", "-k", "gather_rows"), backends=("torch",)),
    Mutation(
        "same_padding_on_the_wrong_side", "workarounds", "keras_zoo/workarounds.py",
        old="x = torch.nn.functional.pad(x, (left, right, top, bottom))",
        new="x = torch.nn.functional.pad(x, (right, left, bottom, top))",
        description="torch's copy-free conv pads the extra row and column before, not after",
        selection=("tests/test_workarounds.py", "-k", "channels_last_conv"),
        backends=("torch",)),
    Mutation(
        "batch_norm_variance_keeps_epsilon", "workarounds", "keras_zoo/workarounds.py",
        old="variance = inv_std.detach() ** -2 - layer.epsilon",
        new="variance = inv_std.detach() ** -2",
        description="torch's fused batch norm moves the moving variance by var + epsilon",
        selection=("tests/test_workarounds.py", "-k", "fused_batch_norm"),
        backends=("torch",)),
]


@dataclasses.dataclass
class Result:
    mutation: Mutation
    verdict: str
    seconds: float = 0.0
    detail: str = ""
    output: str = ""


def copy_repository(destination):
    """Copy the parts of the repository the tests need into `destination`."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=IGNORED)
        elif source.exists():
            shutil.copy2(source, destination / name)


def apply_mutation(mutation, root):
    """Replace `old` by `new` in the copy; returns None, or why the mutation is STALE."""
    path = root / mutation.path
    if not path.exists():
        return f"{mutation.path} does not exist"
    text = path.read_text()
    count = text.count(mutation.old)
    if count != 1:
        return f"old snippet found {count} times in {mutation.path}"
    path.write_text(text.replace(mutation.old, mutation.new))
    return None


def child_env(root, backend):
    """The environment of a child process that must import keras_zoo from `root`."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH"))
                                        if p)
    return env


def run(command, root, backend, timeout):
    """Run `command` in `root`; (exit code or None on timeout, output, seconds)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=root, env=child_env(root, backend),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
        code = process.returncode
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # the child's own process group
        output, _ = process.communicate()
        code = None
    return code, output, time.perf_counter() - start


def check_import(root, backend):
    """Raise RuntimeError unless `import keras_zoo` in `root` loads the copy."""
    code, output, _ = run([sys.executable, "-c", "import keras_zoo; print(keras_zoo.__file__)"],
                          root, backend, timeout=300)
    lines = output.strip().splitlines()
    loaded = lines[-1] if lines else ""
    if code != 0 or not Path(loaded).resolve().is_relative_to(root.resolve()):
        raise RuntimeError(f"keras_zoo in the copy {root} loads {loaded!r} "
                           f"(exit {code}): {output[-2000:]}")


def first_failure(output):
    """The first FAILED/ERROR line of pytest's summary, else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if re.match(r"(FAILED|ERROR) ", line):
            return line
    for line in lines:
        if line.startswith(("ERROR collecting", "E   ")):
            return line
    return lines[-1] if lines else ""


def pytest_command(mutation):
    return [sys.executable, "-m", "pytest", *PYTEST, *mutation.selection]


_IMPORT_CHECKED = []


def run_mutation(mutation, backend, timeout=600, baseline=False):
    """Plant `mutation` in a fresh copy and run its selection; a `Result`."""
    if backend not in mutation.backends:
        return Result(mutation, "SKIPPED", detail=f"only on {', '.join(mutation.backends)}")
    with tempfile.TemporaryDirectory(prefix=f"mutate_{mutation.id}_") as tmp:
        root = Path(tmp)
        copy_repository(root)
        if not _IMPORT_CHECKED:
            try:
                check_import(root, backend)
            except RuntimeError as err:
                return Result(mutation, "ERROR", detail=str(err)[:200], output=str(err))
            _IMPORT_CHECKED.append(True)
        if baseline:
            code, output, seconds = run(pytest_command(mutation), root, backend, timeout)
            if code != 0:
                return Result(mutation, "ERROR", seconds,
                              f"fails without the mutation (exit {code}): "
                              f"{first_failure(output)}", output)
        stale = apply_mutation(mutation, root)
        if stale:
            return Result(mutation, "STALE", detail=stale)
        code, output, seconds = run(pytest_command(mutation), root, backend, timeout)
    if code is None:
        return Result(mutation, "ERROR", seconds, f"timed out after {timeout} s", output)
    if code in (1, 2):
        return Result(mutation, "KILLED", seconds, first_failure(output), output)
    if code == 0:
        return Result(mutation, "SURVIVED", seconds, first_failure(output), output)
    return Result(mutation, "ERROR", seconds, f"pytest exit {code}: {first_failure(output)}",
                  output)


FAILING = ("SURVIVED", "STALE", "ERROR")


def format_table(results):
    rows = [("id", "family", "verdict", "seconds", "first failing test / note")]
    rows += [(r.mutation.id, r.mutation.family, r.verdict, f"{r.seconds:.1f}",
              r.detail[:160]) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(row[:4], widths)), row[4]])
                     for row in rows)


def list_mutations(mutations):
    for m in mutations:
        only = "" if m.backends == BACKENDS else f" [{', '.join(m.backends)} only]"
        print(f"{m.id} ({m.family}){only}\n    {m.path}: {m.description}\n"
              f"    pytest {shlex.join(m.selection)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated mutation ids to run")
    parser.add_argument("--list", action="store_true", help="print the mutations and exit")
    parser.add_argument("--backend", choices=BACKENDS,
                        default=os.environ.get("KERAS_BACKEND") or "jax",
                        help="KERAS_BACKEND of the test runs (default: the current one, "
                             "else jax)")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds per mutation before it counts as ERROR")
    parser.add_argument("--baseline", action="store_true",
                        help="first run each selection without its mutation: it must pass")
    args = parser.parse_args(argv)
    mutations = MUTATIONS
    if args.only:
        wanted = [name.strip() for name in args.only.split(",") if name.strip()]
        known = {m.id: m for m in MUTATIONS}
        unknown = [name for name in wanted if name not in known]
        if unknown:
            parser.error(f"unknown mutation(s) {unknown}; see --list")
        mutations = [known[name] for name in wanted]
    if args.list:
        list_mutations(mutations)
        return 0
    print(f"{len(mutations)} mutation(s), KERAS_BACKEND={args.backend}", flush=True)
    results = []
    for mutation in mutations:
        result = run_mutation(mutation, args.backend, args.timeout, args.baseline)
        results.append(result)
        print(f"{result.verdict:8s} {mutation.id} ({result.seconds:.1f} s) {result.detail}",
              flush=True)
        if result.verdict == "ERROR" and result.output:
            tail = "\n".join(result.output.strip().splitlines()[-15:])
            print("    " + tail.replace("\n", "\n    "), flush=True)
    print()
    print(format_table(results))
    failed = [r for r in results if r.verdict in FAILING]
    counts = {v: sum(r.verdict == v for r in results)
              for v in ("KILLED", "SURVIVED", "STALE", "ERROR", "SKIPPED")}
    print("\n" + ", ".join(f"{n} {v.lower()}" for v, n in counts.items() if n))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
