"""Forecast next month's airline passengers with a SimpleRNN, a GRU and an LSTM.

Lecture 05 "Modern architectures: Hopfield, LeNet, LSTM", part "Example: Time Series":
feed a recurrent net a window of past points and predict the next one. The companion
notebook ("RNNs", PyTorch) trains an LSTM on the 144 monthly airline passenger totals
1949-1960 (quadratic trend removed, MinMax scaled, chronological 67/33 split) and reaches
a test RMSE of about 32 thousand passengers on the last third of the months.

Same data and split here, windows of 12 months (one seasonal cycle), early stopping on
the last two training years, and two baselines every forecaster must be compared with:
naive ("same as last month") and seasonal naive ("same as 12 months ago", plus trend).
`--series synthetic` runs the lecture's own example: a noisy sum of sines, sequences of
40 points, predict the next.

    KERAS_BACKEND=jax python tutorials/lstm_timeseries.py [--series synthetic] [--smoke]
"""

# %% Settings
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_zoo
from keras_zoo import tutorial
from keras_zoo.datasets import load_airline_passengers, make_synthetic_series, make_windows

args = tutorial.setup(__doc__, epochs=800, batch_size=8, data=("embedded",),
                      series=("airline", "synthetic"))
AIRLINE = args.series == "airline"
WINDOW = 12 if AIRLINE else 40  # past steps per input: one year of months | the lecture's 40
N_VAL = 24 if AIRLINE else 200  # last training windows held out for early stopping
PATIENCE = 80 if AIRLINE else 10  # epochs without a better validation loss before stopping
UNITS, LEARNING_RATE = 32, 1e-3
CELLS = ("rnn", "gru", "lstm")
COLORS = {"naive": "gray", "seasonal naive": "tab:brown", "rnn": "C0", "gru": "C1", "lstm": "C3"}

# %% Data: remove the trend, scale, cut windows
if AIRLINE:
    months, series = load_airline_passengers()  # (144,) thousands of passengers
else:
    series = make_synthetic_series()  # (2000,)
    months = np.arange(len(series))  # just step numbers
n_train = int(len(series) * 0.67)  # airline: 96 months (1949-1956) train, 48 (1957-1960) test
print(f"data: {'airline passengers 1949-1960' if AIRLINE else 'synthetic sum of sines'}, "
      f"{len(series)} {'months' if AIRLINE else 'steps'}, train {n_train} ({months[0]}.."
      f"{months[n_train - 1]}) / test {len(series) - n_train} ({months[n_train]}..{months[-1]})")

# The notebook subtracts 114.03 + 1.655 t + 0.00701 t^2, fitted on all 144 months, so its
# trend has seen the test years. We fit the quadratic on the training months only and
# extrapolate it: more honest (by 1960 it runs ~6% high; the windows see and absorb that).
# Synthetic: only the training mean is removed.
t = np.arange(len(series))  # months since 1949-01 | steps
trend = np.polyval(np.polyfit(t[:n_train], series[:n_train], 2 if AIRLINE else 0), t)
residual = series - trend
lo, hi = residual[:n_train].min(), residual[:n_train].max()  # MinMax fitted on training part
scaled = (residual - lo) / (hi - lo)  # training part in [0, 1]; the test part may leave it


def unscale(z, when):
    """Scaled forecasts for time steps `when` -> series units (thousands of passengers)."""
    return z * (hi - lo) + lo + trend[when]


x, y = make_windows(scaled, WINDOW)  # x (N, WINDOW, 1): steps s-WINDOW..s-1; y (N, 1): step s
target = np.arange(len(y)) + WINDOW  # the step s each window predicts
is_test = target >= n_train  # test windows may read training months, never predict them
x_fit, y_fit = tutorial.small(args, x[~is_test][:-N_VAL], y[~is_test][:-N_VAL])
x_val, y_val = x[~is_test][-N_VAL:], y[~is_test][-N_VAL:]  # airline: 1955-1956
x_test, t_test = x[is_test], target[is_test]  # (48, 12, 1) for airline
print(f"windows of {WINDOW}: fit {len(x_fit)} / validation {len(x_val)} / test {len(x_test)}")


def rmse(forecast):
    return float(np.sqrt(np.mean((forecast - series[t_test]) ** 2)))


# %% Baselines, on the same windows: the last value, and the value one season back
forecasts = {"naive": unscale(x_test[:, -1, 0], t_test)}  # = last month + trend growth
if AIRLINE:  # x[:, 0] is 12 months back: same month last year + trend growth
    forecasts["seasonal naive"] = unscale(x_test[:, 0, 0], t_test)

# %% Train SimpleRNN, GRU and LSTM: MSE, Adam, early stopping on the validation years
histories = {}
for cell in CELLS:
    start = time.perf_counter()
    model = keras_zoo.build(f"{cell}_forecaster", window=WINDOW, units=UNITS)  # -> (batch, 1)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE), loss="mse")
    stop = keras.callbacks.EarlyStopping(patience=PATIENCE, restore_best_weights=True)
    fit = model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=args.epochs,
                    batch_size=args.batch_size, callbacks=tutorial.callbacks(args, stop, name=cell),
                    verbose=0)
    histories[cell] = fit.history
    predicted = keras.ops.convert_to_numpy(model(x_test))  # (48, 1); a call, like predict()
    forecasts[cell] = unscale(predicted[:, 0], t_test)  # (48,) thousands of passengers
    print(f"{cell:>4}: {model.count_params()} weights, {len(fit.history['loss'])} epochs "
          f"(best {stop.best_epoch + 1}), {time.perf_counter() - start:.1f} s")

print("test RMSE" + (" (thousands of passengers; notebook LSTM ~32)" if AIRLINE else ""))
for name, forecast in forecasts.items():
    print(f"  {name:>14}: {rmse(forecast):.4g}")
# Expect (airline, any backend) the LSTM near 23-28, below the notebook's 32 and far below
# naive (48); SimpleRNN and GRU vary more with the random start. Seasonal naive (20.5) is
# as good or better: from 60 training windows a net learns little beyond "last year + trend".

# %% Plot: the series, the split, every one-step test forecast; the loss curves
fig, (ax, ax_loss) = plt.subplots(2, 1, figsize=(10, 8), height_ratios=(2, 1))
when = 1949 + t / 12 if AIRLINE else t  # x axis: years | steps
ax.plot(when, series, color="black", lw=2, label="data")
ax.axvspan(when[n_train - N_VAL], when[n_train], color="gold", alpha=0.2,
           label="validation (early stopping)")
ax.axvline(when[n_train], color="gray", ls="--", label="train | test")
for name, forecast in forecasts.items():
    ax.plot(when[t_test], forecast, color=COLORS[name], ls=":" if "naive" in name else "-",
            label=f"{name} (RMSE {rmse(forecast):.4g})")
if not AIRLINE:  # 2,000 steps are a blur: zoom in around the split
    ax.set_xlim(n_train - 150, n_train + 150)
ax.set(title=f"One-step forecasts ({args.backend})", xlabel="year" if AIRLINE else "step",
       ylabel="passengers (thousands)" if AIRLINE else "value")
ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1, 1))  # outside the axes
for cell in CELLS:
    ax_loss.plot(histories[cell]["loss"], color=COLORS[cell], label=f"{cell} training")
    ax_loss.plot(histories[cell]["val_loss"], color=COLORS[cell], ls=":", label="validation")
ax_loss.set(yscale="log", xlabel="epoch", ylabel="MSE (scaled)")
ax_loss.legend(fontsize=8, ncols=3)
tutorial.savefig(fig, args, "forecasts.png")

# %% One final metrics line
extra = {"seasonal_naive_rmse": rmse(forecasts["seasonal naive"])} if AIRLINE else {}
tutorial.report(args, rnn_rmse=rmse(forecasts["rnn"]), gru_rmse=rmse(forecasts["gru"]),
                lstm_rmse=rmse(forecasts["lstm"]), naive_rmse=rmse(forecasts["naive"]), **extra)
