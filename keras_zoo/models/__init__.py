"""Model families; importing this package registers every builder."""

from keras_zoo.models import cnn, mlp, rnn

__all__ = ["cnn", "mlp", "rnn"]
