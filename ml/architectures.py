"""The networks: `seed` (the original app's baseline) and `vgg` (the default).

Both take the 28x28x1 float32 input of the serving contract and end in a softmax; neither holds
augmentation or other training-only layers, so the exported .tflite is plain inference.
"""
import keras
from keras import layers

ARCHITECTURES = ("vgg", "seed")
DEFAULT_ARCHITECTURE = "vgg"


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
            layers.Dense(classes, activation="softmax"),
        ],
        name="seed",
    )


def _conv_block(x, filters):
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_vgg(classes):
    """Compact VGG-style CNN: 32-32 / 64-64 / 128 conv blocks with batch norm, dense 256, dropout.

    'same' padding keeps the strokes near the border, batch norm allows a high learning rate
    and dropout regularises; about 0.5 M parameters, fast enough on two CPU cores.
    """
    inputs = keras.Input((28, 28, 1))
    x = _conv_block(inputs, 32)
    x = _conv_block(x, 32)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.1)(x)
    x = _conv_block(x, 64)
    x = _conv_block(x, 64)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.2)(x)
    x = _conv_block(x, 128)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dense(256, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    x = layers.Dropout(0.4)(x)
    outputs = layers.Dense(classes, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="vgg")


def build_model(architecture, classes):
    builders = {"vgg": build_vgg, "seed": build_seed}
    return builders[architecture](classes)
