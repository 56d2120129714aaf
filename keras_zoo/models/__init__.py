"""Model families; importing this package registers every builder (one line per module).

The subclassed models (their own `train_step` or sampling) are importable from here; the
functional ones come from `keras_zoo.build(name)`, each a `ZooModel` (a functional model
that checks the data given to fit / evaluate / predict).
"""

import keras_zoo.models.attention  # noqa: F401
import keras_zoo.models.autoencoder  # noqa: F401
import keras_zoo.models.classic  # noqa: F401
import keras_zoo.models.cnn  # noqa: F401
import keras_zoo.models.detection  # noqa: F401
import keras_zoo.models.diffusion  # noqa: F401
import keras_zoo.models.energy  # noqa: F401
import keras_zoo.models.gan  # noqa: F401
import keras_zoo.models.gnn  # noqa: F401
import keras_zoo.models.language  # noqa: F401
import keras_zoo.models.mlp  # noqa: F401
import keras_zoo.models.mobile  # noqa: F401
import keras_zoo.models.resnet  # noqa: F401
import keras_zoo.models.rl  # noqa: F401
import keras_zoo.models.rnn  # noqa: F401
import keras_zoo.models.segmentation  # noqa: F401
import keras_zoo.models.seq2seq  # noqa: F401
import keras_zoo.models.vae  # noqa: F401
from keras_zoo.models.base import ZooModel
from keras_zoo.models.detection import SingleShotDetector
from keras_zoo.models.diffusion import DDPM
from keras_zoo.models.energy import RBM, Hopfield
from keras_zoo.models.gan import GAN
from keras_zoo.models.vae import VAE

__all__ = ["DDPM", "GAN", "RBM", "VAE", "Hopfield", "SingleShotDetector", "ZooModel"]
