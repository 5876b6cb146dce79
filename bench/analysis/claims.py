"""A checked result folder (bench.results.read.Folder) → the study note's claims, in order.

Each claim comes with the figure this run measured and a verdict computed from it by a
stated rule (bench.analysis.claims_base: holds, holds with a qualification, does not hold
here, not measured). The claims are the project's own words for what the study note
says; the note itself is not quoted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.analysis import claims_leaks, claims_switch, claims_system
from bench.analysis.claims_base import VERDICTS, Claim

if TYPE_CHECKING:
    from bench.results.read import Folder

__all__ = ["VERDICTS", "Claim", "all_claims"]


def all_claims(data: Folder) -> list[Claim]:
    """Every claim, checked against one folder. timesplit.csv is optional (a run made
    before the time split has none), read where the Folder carries it."""
    timesplit = data.timesplit
    threads = getattr(data, "threads", None)
    return [
        claims_switch.thread_microseconds(data.summary),
        claims_switch.goroutine_user_space(data.summary, timesplit),
        claims_switch.goroutine_stack(data.memory, data.stack_growth),
        claims_switch.thread_stack(data.host, data.memory, data.thread_stacks),
        claims_leaks.channel_leaks(data.leaks),
        claims_leaks.ticker_leaks(data.leaks),
        claims_leaks.finalizer_leaks(data.leaks),
        claims_leaks.detection(data.leaks),
        claims_system.vmstat_shows(data.summary, data.system, threads),
    ]
