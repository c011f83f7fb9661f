import numpy as np
import pytest

from course_lib import data


def test_digit_splits_shapes_ranges_and_sizes():
    sizes = {}
    for split in data.SPLITS:
        x, y = data.digits(split, with_labels=True)
        assert x.dtype == np.float32 and x.ndim == 2 and x.shape[1] == 64
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert x.max() == 1.0  # scaled by 16, the largest raw value
        assert y.shape == (len(x),) and set(np.unique(y)) == set(range(10))
        sizes[split] = len(x)
    assert sizes == {"train": 1257, "val": 180, "test": 360}


def test_digit_splits_are_disjoint_and_cover_everything():
    idx = {s: set(data.digit_indices(s)) for s in data.SPLITS}
    assert not idx["train"] & idx["val"] and not idx["train"] & idx["test"] and not idx["val"] & idx["test"]
    assert len(idx["train"] | idx["val"] | idx["test"]) == 1797


def test_digit_split_is_fixed_and_callers_cannot_corrupt_it():
    a = data.digits("test")
    a[:] = 0
    b = data.digits("test")
    assert b.max() == 1.0
    assert np.array_equal(data.digit_indices("val"), data.digit_indices("val"))


@pytest.mark.parametrize("bad", ["training", "", None, "TEST"])
def test_unknown_split_lists_valid_ones(bad):
    with pytest.raises(ValueError, match="train, val, test"):
        data.digits(bad)


def test_printed_digits_format_balance_and_determinism():
    x, y = data.printed_digits(200, seed=3, with_labels=True)
    assert x.shape == (200, 64) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y).tolist() == [20] * 10
    x2, y2 = data.printed_digits(200, seed=3, with_labels=True)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert not np.array_equal(x, data.printed_digits(200, seed=4))
    # every image has ink, and roughly as much as a handwritten digit
    assert (x.sum(1) > 5).all()
    assert 0.5 < x.mean() / data.digits("train").mean() < 1.5


def test_printed_digit_holes_stay_open():
    # An upright zero must have background inside its loop: outlines are filled even-odd.
    path, lo, hi = data._glyph("DejaVu Sans", 0, False)
    img = data._render(path, lo, hi, angle=0.0, scale=1.0, shift=np.zeros(2), shear=0.0)
    assert img[3:5, 3:5].mean() < 0.5 * img.max()


@pytest.mark.parametrize("n", [0, -5, 2.5, "10", True])
def test_bad_sizes_raise_clear_errors(n):
    with pytest.raises(ValueError, match="positive integer"):
        data.printed_digits(n)
    with pytest.raises(ValueError, match="positive integer"):
        data.mixture("ring8", n)


def test_unknown_font_and_mixture_list_valid_names():
    with pytest.raises(ValueError, match="DejaVu Sans"):
        data.printed_digits(10, fonts=("Comic Sans",))
    with pytest.raises(ValueError, match="ring8, grid25, ring8_uneven"):
        data.mixture("swiss_roll", 10)


@pytest.mark.parametrize("name,k", [("ring8", 8), ("grid25", 25), ("ring8_uneven", 8)])
def test_mixtures(name, k):
    spec = data.mixture_spec(name)
    assert spec.centers.shape == (k, 2) and np.isclose(spec.weights.sum(), 1.0)
    x, modes = data.mixture(name, 4000, seed=1, with_labels=True)
    assert x.shape == (4000, 2) and x.dtype == np.float32
    # points sit around their own mode with the stated spread
    resid = x - spec.centers[modes]
    assert np.allclose(resid.std(0), spec.std, rtol=0.1)
    assert np.allclose(np.bincount(modes, minlength=k) / 4000, spec.weights, atol=0.03)
    assert np.array_equal(x, data.mixture(name, 4000, seed=1))


def test_batch_indices_are_epochs_of_permutations():
    gen = data.batch_indices(10, 3, seed=0)
    epoch = np.concatenate([next(gen) for _ in range(3)])
    assert len(set(epoch)) == 9  # one permutation, last incomplete batch dropped
    with pytest.raises(ValueError, match="larger than the data set"):
        next(data.batch_indices(5, 6, seed=0))
