"""The Monte Carlo comparison helper itself: it passes an unbiased estimate and fails a biased one."""

from __future__ import annotations

import numpy as np
import pytest

from tests._stats import assert_within_se, binomial_se, standard_error


def test_standard_error_is_sd_over_root_n():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    assert standard_error(x) == pytest.approx(np.sqrt(np.var(x, ddof=1) / 4), rel=1e-15)
    assert binomial_se(0.25, 300) == pytest.approx(0.025, rel=1e-15)


def test_passes_unbiased_and_fails_biased_samples():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, size=(4000, 3))  # SE = 2/sqrt(4000) ≈ 0.032 per column
    assert_within_se(exact=np.ones(3), samples=x)
    with pytest.raises(AssertionError, match=r"estimate .* exact .* SE"):
        assert_within_se(exact=np.ones(3) + 0.3, samples=x)  # ≈ 9.5 SE away
    with pytest.raises(AssertionError):
        assert_within_se(1.2, 1.0, 0.01)
    assert_within_se(1.2, 1.0, 0.01, bias=0.2)  # a stated deterministic allowance
