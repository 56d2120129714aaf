"""`ZooModel`: the functional `keras.Model` every registry builder returns.

A plain functional model in every respect (layers, weights, config, golden values),
plus `layers.checks.CheckedDataMixin`: the NumPy data given to `fit`, `evaluate` and
`predict` is checked first (`check_data`), so bad data fails with one clear message on
every backend instead of training silently on one of them. Registered, so `.keras`
files load in safe mode; files saved as a plain functional model load as before.
"""

import keras

from keras_zoo.layers.checks import CheckedDataMixin


@keras.saving.register_keras_serializable(package="keras_zoo")
class ZooModel(CheckedDataMixin, keras.Model):
    """`ZooModel(inputs, outputs, name=...)`, used exactly like `keras.Model(...)`."""
