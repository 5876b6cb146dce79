"""The native bodies, called directly at small loop counts."""

import pytest

from bench.native.bridge import NativeError, TimedRun


def test_check_catches_a_broken_handoff():
    good = TimedRun(10, 1000, 10, 10, 0, 0, 0)
    good.check()
    for bad in (
        TimedRun(10, 1000, 10, 9, 0, 0, 0),
        TimedRun(10, 1000, 10, 10, 1, 0, 0),
        TimedRun(10, 0, 10, 10, 0, 0, 0),
    ):
        with pytest.raises(NativeError):
            bad.check()
