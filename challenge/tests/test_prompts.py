"""Which character the challenge asks for: every label can come up on a fresh install, the
neediest first, and never one of the last few asked (Skip included)."""
import random

import pytest

from challenge.services import RECENT, choose_prompt, start

pytestmark = pytest.mark.django_db


def test_a_fresh_install_asks_for_every_letter_both_cases():
    rng = random.Random(1)
    asked = {choose_prompt("letter", rng=rng) for _ in range(600)}
    assert len(asked) == 52


def test_skipping_never_brings_back_a_recent_prompt():
    prompts, token = [], ""
    for _ in range(200):
        asked = start(token, "digit")
        prompts.append(asked["prompt"])
        token = asked["token"]
    for index in range(len(prompts)):
        window = prompts[max(0, index - RECENT + 1):index + 1]
        assert len(set(window)) == len(window), window
    assert set(prompts) == set("0123456789")
