"""Transformers: the encoder-decoder, an encoder classifier and the Vision Transformer.

Vaswani et al. 2017 ("Attention is all you need": multi-head attention, sinusoidal
positions, padding and causal masks, residual + LayerNorm after each sub-layer);
Dosovitskiy et al. 2021 ("An image is worth 16x16 words": patches, a class token,
learned positions, LayerNorm before each sub-layer). Lecture: "Neural networks: CNN,
RNN, Transformer" (Transformer, Vision Transformer).

Token models take int32 ids, 0-padded; the padding is masked explicitly (`PaddingMask`
-> `MultiHeadAttention(attention_mask=...)`), so no Keras mask propagation is involved.
"""

from keras import layers

from keras_zoo.layers.attention import (
    ClassToken,
    PaddingMask,
    PatchEmbedding,
    PositionEmbedding,
    SinusoidalPositionEncoding,
)
from keras_zoo.layers.checks import checked_input, checked_token_input
from keras_zoo.models.base import ZooModel
from keras_zoo.models.seq2seq import random_ids, translation_example
from keras_zoo.registry import register_model


def apply_feed_forward_block(x, ff_dim, dropout, activation="relu", name="ffn"):
    """Position-wise Dense(ff_dim, activation) -> Dense(dim) -> Dropout."""
    dim = x.shape[-1]
    x = layers.Dense(ff_dim, activation=activation, name=f"{name}_1")(x)
    x = layers.Dense(dim, name=f"{name}_2")(x)
    return layers.Dropout(dropout, name=f"{name}_dropout")(x)


def apply_attention_block(x, context, mask, num_heads, dropout, causal=False,
                          norm_first=False, return_scores=False, name="attention"):
    """Multi-head attention of x over `context` (x itself for self-attention) + residual.

    Post-norm (the 2017 paper): LayerNorm(x + Dropout(MHA(x, context))); pre-norm (ViT,
    self-attention): x + Dropout(MHA(LN(x), LN(x))). `mask`: (batch, 1, T_context)
    boolean or None; `causal`: position t sees positions <= t only.

    Returns:
        (batch, T, dim), and the scores (batch, heads, T, T_context) if `return_scores`.
    """
    dim = x.shape[-1]
    if dim % num_heads:
        raise ValueError(f"{name}: num_heads={num_heads} must divide the model width "
                         f"dim={dim} (each head gets dim / num_heads)")
    norm = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_norm")
    mha = layers.MultiHeadAttention(num_heads, dim // num_heads, dropout=dropout,
                                    name=f"{name}_mha")
    query = norm(x) if norm_first else x
    value = query if context is None else context
    y, scores = mha(query, value, attention_mask=mask, use_causal_mask=causal,
                    return_attention_scores=True)
    y = x + layers.Dropout(dropout, name=f"{name}_dropout")(y)
    y = y if norm_first else norm(y)
    return (y, scores) if return_scores else y


def apply_encoder_block(x, mask, num_heads, ff_dim, dropout, norm_first=False,
                        activation="relu", return_scores=False, name="encoder"):
    """Self-attention then a feed-forward block, each with a residual and LayerNorm."""
    x, scores = apply_attention_block(x, None, mask, num_heads, dropout, norm_first=norm_first,
                                      return_scores=True, name=f"{name}_self")
    if norm_first:
        h = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ffn_norm")(x)
        x = x + apply_feed_forward_block(h, ff_dim, dropout, activation, name=f"{name}_ffn")
    else:
        x = x + apply_feed_forward_block(x, ff_dim, dropout, activation, name=f"{name}_ffn")
        x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ffn_norm")(x)
    return (x, scores) if return_scores else x


def apply_decoder_block(x, memory, target_mask, source_mask, num_heads, ff_dim, dropout,
                        name="decoder"):
    """Causal self-attention, attention over the encoder output, feed-forward (post-norm).

    Returns:
        (batch, T_out, dim) and the cross-attention scores (batch, heads, T_out, T_in).
    """
    x = apply_attention_block(x, None, target_mask, num_heads, dropout, causal=True,
                              name=f"{name}_self")
    x, scores = apply_attention_block(x, memory, source_mask, num_heads, dropout,
                                      return_scores=True, name=f"{name}_cross")
    x = x + apply_feed_forward_block(x, ff_dim, dropout, name=f"{name}_ffn")
    return layers.LayerNormalization(epsilon=1e-6, name=f"{name}_ffn_norm")(x), scores


def apply_token_embedding(ids, vocab, dim, max_length, dropout, name):
    """Embedding * sqrt(dim) + sinusoidal positions, then dropout: (batch, T, dim)."""
    x = layers.Embedding(vocab, dim, name=f"{name}_embedding")(ids)
    x = SinusoidalPositionEncoding(max_length, name=f"{name}_positions")(x)
    return layers.Dropout(dropout, name=f"{name}_dropout")(x)


@register_model(smoke={"dim": 16, "num_heads": 2, "ff_dim": 32, "num_layers": 1},
                example=translation_example)
def transformer(source_vocab=64, target_vocab=16, dim=64, num_heads=4, ff_dim=128,
                num_layers=2, dropout=0.1, max_source_length=64, max_target_length=32,
                return_attention=False, name="transformer"):
    """Encoder-decoder Transformer: source ids + decoder input ids -> next-token logits.

    Args:
        source_vocab: number of source ids (specials included).
        target_vocab: number of target ids: the width of the logits.
        dim: model width d_model; num_heads must divide it.
        num_heads: attention heads per attention layer.
        ff_dim: hidden size of the position-wise feed-forward blocks.
        num_layers: encoder blocks and decoder blocks (each).
        dropout: dropout rate after embeddings, attention and feed-forward blocks.
        max_source_length, max_target_length: the longest inputs accepted.
        return_attention: also return the last decoder block's attention over the
            source (batch, heads, T_out, T_in), for plotting; copy trained weights in
            with `set_weights`.
        name: model name.

    Returns:
        A functional `keras.Model`: [(batch, T_in), (batch, T_out)] int32 ->
        logits (batch, T_out, target_vocab) [, scores]. Decode with `keras_zoo.models.seq2seq`.
    """
    source_in, source = checked_token_input(name="source")  # (batch, T_in)
    decoder_in, decoder = checked_token_input(name="decoder_input")  # (batch, T_out)
    source_mask = PaddingMask(name="source_mask")(source)  # (batch, 1, T_in)
    target_mask = PaddingMask(name="target_mask")(decoder)  # (batch, 1, T_out)
    memory = apply_token_embedding(source, source_vocab, dim, max_source_length, dropout,
                                   name="source")
    for i in range(num_layers):
        memory = apply_encoder_block(memory, source_mask, num_heads, ff_dim, dropout,
                                     name=f"encoder{i + 1}")  # (batch, T_in, dim)
    x = apply_token_embedding(decoder, target_vocab, dim, max_target_length, dropout,
                              name="target")
    for i in range(num_layers):
        x, scores = apply_decoder_block(x, memory, target_mask, source_mask, num_heads,
                                        ff_dim, dropout, name=f"decoder{i + 1}")  # (b, T_out, d)
    logits = layers.Dense(target_vocab, dtype="float32", name="logits")(x)  # (b, T_out, vocab)
    outputs = [logits, scores] if return_attention else logits
    return ZooModel([source_in, decoder_in], outputs, name=name)


def classification_example(model, batch, rng, length=12):
    """`register_model` example: 0-padded token ids and class labels."""
    vocab = model.get_layer("source_embedding").input_dim
    classes = model.outputs[0].shape[-1]
    return random_ids(rng, batch, length, vocab), rng.integers(0, classes, batch).astype("int32")


@register_model(smoke={"dim": 16, "num_heads": 2, "ff_dim": 32, "num_layers": 1},
                example=classification_example)
def transformer_classifier(vocab=1000, num_classes=2, dim=64, num_heads=4, ff_dim=128,
                           num_layers=2, dropout=0.1, max_length=256,
                           name="transformer_classifier"):
    """Transformer encoder + masked mean pooling -> class logits (text classification).

    Args:
        vocab: number of token ids (0 = padding).
        num_classes: number of classes.
        dim, num_heads, ff_dim, num_layers, dropout: as in `transformer`.
        max_length: the longest input accepted.
        name: model name.

    Returns:
        A functional `keras.Model`: (batch, T) int32 -> logits (batch, num_classes).
    """
    ids_in, ids = checked_token_input(name="tokens")  # (batch, T)
    mask = PaddingMask(name="source_mask")(ids)  # (batch, 1, T)
    x = apply_token_embedding(ids, vocab, dim, max_length, dropout, name="source")
    for i in range(num_layers):
        x = apply_encoder_block(x, mask, num_heads, ff_dim, dropout, name=f"encoder{i + 1}")
    keep = PaddingMask(expand=False, name="pool_mask")(ids)  # (batch, T)
    x = layers.GlobalAveragePooling1D(name="pool")(x, mask=keep)  # (batch, dim)
    x = layers.Dropout(dropout, name="pool_dropout")(x)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    return ZooModel(ids_in, logits, name=name)


@register_model(smoke={"dim": 16, "num_heads": 2, "ff_dim": 32, "num_layers": 1})
def vit(input_shape=(28, 28, 1), patch_size=7, num_classes=10, dim=64, num_heads=4,
        ff_dim=128, num_layers=4, dropout=0.1, return_attention=False, name="vit"):
    """Vision Transformer: image patches + class token -> pre-norm encoder -> logits.

    Args:
        input_shape: (height, width, channels); patch_size must divide height and width.
        patch_size: side of the square patches (28x28 with 7 -> 16 patches).
        num_classes: number of classes.
        dim, num_heads, ff_dim, num_layers, dropout: as in `transformer` (GELU MLPs).
        return_attention: also return the last block's attention scores
            (batch, heads, 1 + patches, 1 + patches), for plotting; copy trained weights
            in with `set_weights`.
        name: model name.

    Returns:
        A functional `keras.Model`: (batch, *input_shape) -> logits (batch, num_classes).
    """
    inputs, x = checked_input(input_shape, "image")
    x = PatchEmbedding(patch_size, dim, name="patches")(x)  # (batch, patches, dim)
    patches = x.shape[1]
    x = ClassToken(name="class_token")(x)  # (batch, 1 + patches, dim)
    x = PositionEmbedding(patches + 1, name="positions")(x)
    x = layers.Dropout(dropout, name="embedding_dropout")(x)
    for i in range(num_layers):
        x, scores = apply_encoder_block(x, None, num_heads, ff_dim, dropout, norm_first=True,
                                        activation="gelu", return_scores=True,
                                        name=f"encoder{i + 1}")
    x = layers.LayerNormalization(epsilon=1e-6, name="final_norm")(x)
    x = layers.Cropping1D((0, patches), name="take_class_token")(x)  # (batch, 1, dim)
    x = layers.Flatten(name="class_features")(x)  # (batch, dim)
    logits = layers.Dense(num_classes, dtype="float32", name="logits")(x)
    outputs = [logits, scores] if return_attention else logits
    return ZooModel(inputs, outputs, name=name)
