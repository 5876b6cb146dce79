"""Property-based checks of the statistics and of reading result folders back."""

import shutil

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bench.analysis import stats
from bench.errors import UsageError
from bench.results import read
from tests.conftest import ROOT

samples = st.lists(
    st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=3,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(values=samples, seed=st.integers(0, 2**32 - 1))
def test_summary_ignores_sample_order(values, seed):
    shuffled = np.random.default_rng(seed).permutation(values)
    assert stats.median_ci(np.array(values)) == pytest.approx(stats.median_ci(shuffled))


@settings(max_examples=40, deadline=None)
@given(values=samples, k=st.floats(min_value=0.01, max_value=100.0))
# Found by hypothesis: the percentile interpolation put the CI an ulp past the median.
@example(values=[208001.0, 208000.79603734353, 208000.79603734353], k=1.0)
def test_scaling_the_samples_scales_median_and_ci(values, k):
    m1, l1, h1 = stats.median_ci(np.array(values))
    m2, l2, h2 = stats.median_ci(np.array(values) * k)
    assert (m2, l2, h2) == pytest.approx((k * m1, k * l1, k * h1), rel=1e-9)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    junk=st.binary(max_size=300), which=st.sampled_from(["host.json", "summary.csv", "run.json"])
)
def test_random_bytes_in_a_result_folder_never_crash_the_loader(tmp_path, junk, which):
    target = tmp_path / "run"
    if not target.exists():
        shutil.copytree(
            ROOT / "results" / "reference",
            target,
            ignore=shutil.ignore_patterns("raw", "*.png", "*.svg", "*.csv"),
        )
        shutil.copy(ROOT / "results" / "reference" / "summary.csv", target / "summary.csv")
    original = (ROOT / "results" / "reference" / which).read_bytes()
    for data in (junk, original[: len(junk)]):  # random bytes, and a truncated real file
        (target / which).write_bytes(data)
        try:
            read.load_host(target)
            read.load_run(target)
            read.load_summary(target)
        except UsageError as e:
            assert str(target) in str(e)
        (target / which).write_bytes(original)
