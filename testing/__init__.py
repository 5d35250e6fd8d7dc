"""Support shared by the apps' tests and the benches: small slices of the datasets shipped in the
repository, the slanted-writer population, words drawn as the page sends them, real servers."""
from pathlib import Path

# Laid out as HWR_DATASETS_DIR is (mnist/, unipen/, femnist_leaf/), with a few hundred samples
# of each: the tests read these, so that they run from a fresh clone. `make_dataset_slices.py`
# cuts them from the full datasets; README.md there says what each holds and under what licence.
DATASET_SLICES = Path(__file__).resolve().parent / "datasets"
