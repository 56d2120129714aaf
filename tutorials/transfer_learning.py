"""Transfer learning: reuse a network trained on digits 0-4 to learn 5-9 from few labels.

Follows "Neural network architectures: CNN, RNN" ("Transfer Learning": recycle a network
trained on similar data; add one or more layers on top; freeze all or some of the
previously trained layers; retrain only the rest on the new task). A small ResNet-18
(`keras_zoo.build("resnet18", stem="small", width=0.125)`) is first trained on the
2,000 embedded training digits 0-4. Then digits 5-9 are learned from only 300 labelled
images (about 60 per digit) in three ways, each with a new 5-way dense head:
  - from scratch: the same network, fresh weights, everything trained;
  - frozen base: the pretrained network is frozen (`trainable = False`; its BatchNorm
    layers then run in inference mode), only the head learns;
  - fine-tune the top block: the last residual stage (conv5_*) and the head learn.
Expect the frozen base well behind the other two, and fine-tuning level with or ahead of
scratch (numbers: the README's results table) -- the 64 features of a network that never
saw a 5-9 are not enough for a linear head alone, but they are a good start for the top
block.

    KERAS_BACKEND=tensorflow python tutorials/transfer_learning.py [--labels 300]
"""

# %% Settings
import keras
import matplotlib.pyplot as plt
import numpy as np

from keras_zoo import tutorial
from keras_zoo.datasets import load_mnist
from keras_zoo.models.resnet import resnet

args = tutorial.setup(__doc__, epochs=15, batch_size=32, labels=("300", "100", "1000"),
                      pretrain_epochs=("3", "1", "5"))
NEW_LABELS = int(args.labels)
PRETRAIN_EPOCHS = 1 if args.smoke else int(args.pretrain_epochs)
BLOCKS = (0, 0, 0, 1) if args.smoke else (2, 2, 2, 2)  # ResNet-18; --smoke: stem + conv5
BASE = {"input_shape": (28, 28, 1), "num_classes": 5, "stem": "small", "width": 0.125}

# %% Data: the old task (digits 0-4, all 2,000) and the new one (digits 5-9, few labels)
(x_train, y_train), (x_test, y_test) = load_mnist(args.data)
old, new, new_test = y_train < 5, y_train >= 5, y_test >= 5
x_old, y_old = x_train[old], y_train[old]
x_new, y_new = x_train[new][:NEW_LABELS], y_train[new][:NEW_LABELS] - 5  # labels 0..4
x_new_test, y_new_test = x_test[new_test], y_test[new_test] - 5
x_old, y_old, x_new, y_new, x_new_test, y_new_test = tutorial.small(
    args, x_old, y_old, x_new, y_new, x_new_test, y_new_test, n=64)
print(f"old task: {len(x_old)} digits 0-4; new task: {len(x_new)} labelled digits 5-9, "
      f"{len(x_new_test)} test")


def compile_model(model, learning_rate=3e-3, steps=None):
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps or 1000)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


# %% Step 1: train the base network on digits 0-4
base = resnet(BLOCKS, bottleneck=False, **BASE)  # = keras_zoo.build("resnet18", **BASE)
steps = PRETRAIN_EPOCHS * -(-len(x_old) // 64)
compile_model(base, steps=steps).fit(x_old, y_old, batch_size=64, epochs=PRETRAIN_EPOCHS,
                                     callbacks=tutorial.callbacks(args, name="pretrain"),
                                     verbose=tutorial.verbose(args))
print(f"pretrained on 0-4: {base.count_params():,} parameters")


# %% Step 2: three ways to learn digits 5-9
def new_network(strategy):
    """A copy of the base (pretrained or fresh) with a new 5-way head; some layers frozen."""
    network = resnet(BLOCKS, bottleneck=False, **BASE)
    if strategy != "scratch":
        network.set_weights(base.get_weights())  # reuse what was learned on 0-4
    features = network.get_layer("avg_pool").output  # (batch, 64): the learned features
    logits = keras.layers.Dense(5, name="new_head")(features)
    model = keras.Model(network.input, logits, name=f"transfer_{strategy}")
    for layer in network.layers:
        if strategy == "frozen":
            layer.trainable = False
        elif strategy == "fine_tune_top":
            layer.trainable = layer.name.startswith(("conv5_", "avg_pool"))
    return model


results, curves = {}, {}
for strategy in ("scratch", "frozen", "fine_tune_top"):
    keras.utils.set_random_seed(args.seed)
    model = new_network(strategy)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    steps = args.epochs * -(-len(x_new) // args.batch_size)
    compile_model(model, steps=steps)
    history = model.fit(x_new, y_new, batch_size=args.batch_size, epochs=args.epochs,
                        validation_data=(x_new_test, y_new_test), verbose=0,
                        callbacks=tutorial.callbacks(args, name=strategy))
    results[strategy] = (history.history["val_accuracy"][-1], trainable)
    curves[strategy] = history.history["val_accuracy"]

# %% The table
print(f"\nlearning digits 5-9 from {len(x_new)} labels, {args.epochs} epochs")
print(f"{'strategy':15} {'trainable params':>16} {'test accuracy':>14}")
for strategy, (accuracy, trainable) in results.items():
    print(f"{strategy:15} {trainable:16,} {accuracy:14.4f}")

# %% Learning curves
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for strategy, curve in curves.items():
    ax.plot(np.arange(1, len(curve) + 1), curve, marker="o", markersize=3, label=strategy)
ax.set(xlabel="epoch", ylabel="test accuracy (digits 5-9)", ylim=(0, 1.01),
       title=f"transfer from digits 0-4: {len(x_new)} labels of 5-9")
ax.legend()
tutorial.savefig(fig, args, "transfer_curves.png")

# %% Result
tutorial.report(args, labels=len(x_new), **{f"accuracy_{k}": v[0] for k, v in results.items()})
