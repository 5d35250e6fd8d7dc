"""The networks `train --arch` offers: the original app's baseline and the two VGG widths."""
import numpy as np
import pytest

from ml.architectures import ARCHITECTURES, DEFAULT_ARCHITECTURES, build_model
from recognition.kinds import KINDS


def test_seed_is_the_original_apps_198k_parameter_network():
    assert build_model("seed", 10).count_params() == 197_482


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_architecture_maps_the_input_contract_to_class_probabilities(architecture):
    model = build_model(architecture, 62)
    probabilities = model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0)
    assert probabilities.shape == (2, 62)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_the_slim_network_has_about_a_quarter_of_the_convolution_weights():
    conv_weights = {name: sum(int(np.prod(w.shape)) for w in build_model(name, 10).weights
                              if len(w.shape) == 4) for name in ("vgg", "vgg-slim")}
    assert 3.9 < conv_weights["vgg"] / conv_weights["vgg-slim"] <= 4  # the first layer has one input
    assert set(DEFAULT_ARCHITECTURES) == set(KINDS) and set(DEFAULT_ARCHITECTURES.values()) <= set(ARCHITECTURES)
