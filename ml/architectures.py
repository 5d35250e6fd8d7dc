"""The networks: `seed` (the original app's baseline), `vgg` and `vgg-slim` (the defaults), and
the rotation voting a bundle may serve them with.

All take the 28x28x1 float32 input of the serving contract and end in a float32 softmax (also
when trained with bfloat16 compute); none holds augmentation or other training-only layers, so
the exported .tflite is plain inference (voting adds fixed turns of the input, no weights).
"""
from functools import partial

import keras
import numpy as np
from keras import layers

ARCHITECTURES = ("vgg", "vgg-slim", "seed")
# Ten digit classes need less width than 52 or 62 characters: at the same time budget the slim
# network runs more epochs, and it infers in a third of the time on the web workers.
DEFAULT_ARCHITECTURES = {"digit": "vgg-slim", "letter": "vgg", "any": "vgg"}


def build_seed(classes):
    """The original app's CNN, 197,482 parameters for 10 classes (the "198k" baseline).

    The classic Keras MNIST convnet: two 3x3 conv(32), max-pool, two 3x3 conv(64), max-pool,
    dense(128), dropout 0.5, softmax; 'valid' padding, no batch normalisation.
    """
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(32, 3, activation="relu"),
            layers.Conv2D(32, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"),
            layers.Conv2D(64, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dense(128, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(classes, activation="softmax", dtype="float32"),
        ],
        name="seed",
    )


def _conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_vgg(classes, width=32, name="vgg"):
    """Compact VGG-style CNN: width-width / 2w-2w / 4w conv blocks with batch norm, dense 8w,
    dropout (w = 32: about 0.45 M parameters; w = 16, `vgg-slim`: 0.11 M and a quarter of the
    multiply-adds).

    'same' padding keeps the strokes near the border, batch norm allows a high learning rate
    and dropout regularises.
    """
    inputs = keras.Input((28, 28, 1))
    x = _conv_block(inputs, width)
    x = _conv_block(x, width)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.1)(x)
    x = _conv_block(x, 2 * width)
    x = _conv_block(x, 2 * width)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = _conv_block(x, 4 * width)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(8 * width, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(classes, activation="softmax", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="hwr")
class Rotate(layers.Layer):
    """A fixed turn of 28x28 images about their centre: bilinear, zero outside the frame.

    Each output pixel is a weighted sum of four gathered input pixels, with indices and weights
    computed once, so that the exported .tflite runs it with builtin ops (a gather, a product
    and a sum) and needs neither TensorFlow's image ops nor the Flex delegate.
    """

    def __init__(self, angle, **kwargs):
        super().__init__(**kwargs)
        self.angle = float(angle)
        size = 28
        centre = (size - 1) / 2.0
        rows, cols = np.mgrid[0:size, 0:size].reshape(2, -1) - centre
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        source_rows = cos * rows - sin * cols + centre
        source_cols = sin * rows + cos * cols + centre
        top, left = np.floor(source_rows), np.floor(source_cols)
        indices, shares = [], []
        for row, row_share in ((top, 1 - (source_rows - top)), (top + 1, source_rows - top)):
            for col, col_share in ((left, 1 - (source_cols - left)), (left + 1, source_cols - left)):
                inside = (row >= 0) & (row < size) & (col >= 0) & (col < size)
                # Pixels outside the frame read index size*size, a zero appended to each image.
                indices.append(np.where(inside, row * size + col, size * size).astype("int32"))
                shares.append(np.where(inside, row_share * col_share, 0.0).astype("float32"))
        # Not `self.weights`: a Keras layer's weights are its trainable variables (it has none).
        self.indices, self.shares = np.stack(indices, axis=1), np.stack(shares, axis=1)

    def call(self, images):
        flat = keras.ops.reshape(images, (-1, 28 * 28))
        flat = keras.ops.concatenate([flat, keras.ops.zeros_like(flat[:, :1])], axis=1)
        gathered = keras.ops.take(flat, self.indices, axis=1)
        turned = keras.ops.sum(gathered * self.shares, axis=-1)
        return keras.ops.reshape(turned, (-1, 28, 28, 1))

    def get_config(self):
        return {**super().get_config(), "angle": self.angle}


# The turns (radians) each kind's served model votes over: the mean of the network's softmax
# over the image and copies of it turned by about 6 degrees either way (chosen on the validation
# writers). `any` serves the plain network: the votes tip its `0` and `1` towards their letter twins.
VOTE_ANGLES = {"digit": (0.1, -0.1), "letter": (0.1, -0.1), "any": ()}


def with_rotation_voting(network, angles):
    """`network` served as the mean of its softmax over the image and copies of it turned by
    `angles` (the network itself when there are none)."""
    if not angles:
        return network
    inputs = keras.Input((28, 28, 1))
    views = [network(inputs)] + [network(Rotate(angle)(inputs)) for angle in angles]
    outputs = layers.Average(dtype="float32")(views)
    return keras.Model(inputs, outputs, name=f"{network.name}-voting")


def voting_angles(model):
    """The turns a served model votes over (none for a plain network)."""
    return tuple(layer.angle for layer in model.layers if isinstance(layer, Rotate))


def load_served(path):
    """A bundle's model.keras (importing this module registers its `Rotate` layers)."""
    return keras.models.load_model(path)


def network_of(model):
    """The trainable network inside a served model (the model itself if it does not vote)."""
    inner = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    return inner[0] if inner else model


def build_model(architecture, classes):
    builders = {"vgg": build_vgg, "vgg-slim": partial(build_vgg, width=16, name="vgg-slim"),
                "seed": build_seed}
    return builders[architecture](classes)
