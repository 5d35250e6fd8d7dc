"""The networks: `seed` (the original app's baseline), `vgg` and `vgg-slim` (the defaults).

All take the 28x28x1 float32 input of the serving contract and end in a float32 softmax (also
when trained with bfloat16 compute); none holds augmentation or other training-only layers, so
the exported .tflite is plain inference.
"""
from functools import partial

import keras
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


def build_model(architecture, classes):
    builders = {"vgg": build_vgg, "vgg-slim": partial(build_vgg, width=16, name="vgg-slim"),
                "seed": build_seed}
    return builders[architecture](classes)
