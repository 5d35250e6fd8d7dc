"""The networks `train --arch` offers (the original app's baseline and the two VGG widths) and
the rotation voting a bundle may serve them with."""
import numpy as np
import pytest
from scipy import ndimage

from ml import datasets
from ml.architectures import (ARCHITECTURES, DEFAULT_ARCHITECTURES, VOTE_ANGLES, Rotate,
                              build_model, network_of, voting_angles, with_rotation_voting)
from ml.kinds import KINDS
from testing import DATASET_SLICES


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


def _turned_by_scipy(images, angle):
    """Reference turn: SciPy's bilinear affine transform about the 28x28 frame's centre, zero
    outside the frame. "grid-constant", not "constant": SciPy's "constant" gives 0 for a point
    between the last pixel and the frame's edge instead of blending that pixel with the zero
    beyond, so it disagreed with `Rotate` on digits whose ink reaches the edge row."""
    centre = np.full(2, 13.5)
    matrix = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.stack([ndimage.affine_transform(image, matrix, centre - matrix @ centre, order=1,
                                              mode="grid-constant")
                     for image in images])


@pytest.fixture(scope="module")
def digits():
    part = datasets.load_part(datasets.raw_mnist(DATASET_SLICES), "test", list("0123456789"), limit=32)
    return part.images.astype(np.float32) / 255.0


@pytest.mark.parametrize("angle", [0.1, -0.1, 0.5])
def test_a_turn_is_the_bilinear_rotation_scipy_computes(digits, angle):
    turned = np.asarray(Rotate(angle)(digits[..., None]))[..., 0]
    assert np.abs(turned - _turned_by_scipy(digits, angle)).max() < 1e-5
    assert np.abs(turned - digits).max() > 0.5  # it did turn the strokes


def test_the_served_model_is_the_mean_of_its_network_over_turned_copies(digits):
    network = build_model("vgg-slim", 10)
    served = with_rotation_voting(network, VOTE_ANGLES["digit"])
    views = [digits] + [_turned_by_scipy(digits, angle) for angle in VOTE_ANGLES["digit"]]
    expected = np.mean([network.predict(view[..., None], verbose=0) for view in views], axis=0)
    assert np.abs(served.predict(digits[..., None], verbose=0) - expected).max() < 1e-5
    assert network_of(served) is network and voting_angles(served) == VOTE_ANGLES["digit"]


def test_a_kind_that_does_not_vote_serves_its_plain_network():
    network = build_model("vgg", 62)
    assert VOTE_ANGLES["any"] == ()
    served = with_rotation_voting(network, VOTE_ANGLES["any"])
    assert served is network and network_of(served) is network and voting_angles(served) == ()
