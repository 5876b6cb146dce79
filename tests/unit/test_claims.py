"""The claims (bench.analysis.claims): every verdict of every claim reachable from a folder
changed on purpose, the figures taken from the folder, and the section first in the report."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from bench.analysis import claims_leaks, claims_switch, claims_system
from bench.analysis.claims import all_claims
from bench.analysis.claims_base import DOES_NOT_HOLD, HOLDS, NOT_MEASURED, QUALIFIED, VERDICTS
from bench.render import report
from bench.render.claims import TITLE
from bench.results import read
from tests.conftest import REFERENCE


@pytest.fixture(scope="module")
def folder() -> read.Folder:
    return read.load(REFERENCE)


def _with(frame: pd.DataFrame, where: pd.Series, **values: object) -> pd.DataFrame:
    out = frame.copy()
    for column, value in values.items():
        out[column] = out[column].astype(object)
        out.loc[where, column] = value
    return out


def test_every_claim_has_a_figure_and_a_verdict_on_the_reference(folder: read.Folder) -> None:
    claims = all_claims(folder)
    assert len(claims) == 9
    for c in claims:
        assert c.verdict in VERDICTS and c.verdict != NOT_MEASURED
        assert c.figure != "—" and c.rule
        assert c.verdict == HOLDS or c.why  # a qualification or reason is always said


def test_report_opens_with_the_claims(folder: read.Folder) -> None:
    text = report.render_markdown(folder, {})
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings[0] == TITLE
    assert headings[1] == "## The answer"
    assert headings[2].startswith("## The ladder")


def test_thread_microseconds_every_verdict(folder: read.Folder) -> None:
    s = folder.summary
    assert claims_switch.thread_microseconds(s).verdict == HOLDS
    futex = s["case"] == "c.futex.same-core"
    one_cheap = _with(s, futex, ns_per_switch=999.0)
    c = claims_switch.thread_microseconds(one_cheap)
    assert c.verdict == QUALIFIED and "c.futex.same-core" in c.why and "999 ns" in c.figure
    cheap = s.assign(ns_per_switch=s["ns_per_switch"] / 1000)
    assert claims_switch.thread_microseconds(cheap).verdict == DOES_NOT_HOLD
    go_only = s[s["case"].str.startswith("go.")]
    assert claims_switch.thread_microseconds(go_only).verdict == NOT_MEASURED


def test_goroutine_user_space_every_verdict(folder: read.Folder) -> None:
    s = folder.summary
    p1 = s["case"] == "go.chan.p1"
    assert claims_switch.goroutine_user_space(s, None).verdict == HOLDS
    split = pd.DataFrame({"case": ["go.chan.p1"], "user_share": [0.5]})
    c = claims_switch.goroutine_user_space(s, split)
    assert c.verdict == QUALIFIED and "50.0%" in c.figure
    high = pd.DataFrame({"case": ["go.chan.p1"], "user_share": [0.99]})
    assert claims_switch.goroutine_user_space(s, high).verdict == HOLDS
    kernel = _with(s, p1, os_ctx_switches_per_switch=0.5)
    assert claims_switch.goroutine_user_space(kernel, None).verdict == DOES_NOT_HOLD
    assert claims_switch.goroutine_user_space(s[~p1], None).verdict == NOT_MEASURED


def test_goroutine_stack_every_verdict(folder: read.Folder) -> None:
    mem, growth = folder.memory, folder.stack_growth
    assert growth is not None
    # The reference's growth hits the SetMaxStack limit on purpose: qualified.
    assert claims_switch.goroutine_stack(mem, growth).verdict == QUALIFIED
    grown = growth[growth["status"] == "ok"]
    assert claims_switch.goroutine_stack(mem, grown).verdict == HOLDS
    assert "not measured" in claims_switch.goroutine_stack(mem, None).why
    big = _with(mem, mem["kind"] == "goroutine", stack_bytes_per_unit=8192.0)
    assert claims_switch.goroutine_stack(big, grown).verdict == DOES_NOT_HOLD
    flat = grown.assign(stack_inuse_delta_bytes=0.0)
    assert claims_switch.goroutine_stack(mem, flat).verdict == DOES_NOT_HOLD
    assert claims_switch.goroutine_stack(pd.DataFrame(), grown).verdict == NOT_MEASURED


def test_thread_stack_every_verdict(folder: read.Folder) -> None:
    host, mem, stacks = folder.host, folder.memory, folder.thread_stacks
    assert stacks is not None
    c = claims_switch.thread_stack(host, mem, stacks)
    assert c.verdict == QUALIFIED and "address space, not resident" in c.why
    finite = stacks[stacks["ulimit_s"] != "unlimited"]
    threads = mem["kind"] == "thread"
    resident = _with(mem, threads, rss_bytes_per_unit=mem["virtual_bytes_per_unit"])
    assert claims_switch.thread_stack(host, resident, finite).verdict == HOLDS
    other = {**host, "ulimit_s": {"soft_bytes": 16 << 20}}
    c = claims_switch.thread_stack(other, resident, finite)
    assert c.verdict == QUALIFIED and "16.0 MiB" in c.why
    wrong = _with(stacks, stacks["ulimit_s"] == "8MiB", thread_stack_bytes=4096.0)
    assert claims_switch.thread_stack(host, mem, wrong).verdict == DOES_NOT_HOLD
    assert claims_switch.thread_stack(host, mem, None).verdict == NOT_MEASURED


def test_channel_leaks_every_verdict(folder: read.Folder) -> None:
    leaks = folder.leaks
    assert leaks is not None
    assert claims_leaks.channel_leaks(leaks).verdict == HOLDS
    sender = (leaks["scenario"] == "sender") & (leaks["version"] == "leaking")
    collected = _with(leaks, sender, goroutines_left=0.0)
    c = claims_leaks.channel_leaks(collected)
    assert c.verdict == DOES_NOT_HOLD and "send" in c.why
    no_nil = leaks[leaks["scenario"] != "nilchan"]
    c = claims_leaks.channel_leaks(no_nil)
    assert c.verdict == QUALIFIED and "nil channel" in c.why
    assert claims_leaks.channel_leaks(None).verdict == NOT_MEASURED


def test_ticker_and_finalizer_every_verdict(folder: read.Folder) -> None:
    leaks = folder.leaks
    assert leaks is not None
    ticker = claims_leaks.ticker_leaks(leaks)
    # The verdict follows the two semantics' rows, whichever way they went.
    rows = leaks[
        leaks["scenario"].isin(["ticker", "ticker-go123"]) & (leaks["version"] == "leaking")
    ]
    leaked = (rows["leaked_per_iter"].astype(float) >= 0.5).sum()
    assert ticker.verdict == {2: HOLDS, 1: QUALIFIED, 0: DOES_NOT_HOLD}[int(leaked)]
    tickers = leaks["scenario"].str.startswith("ticker") & (leaks["version"] == "leaking")
    assert claims_leaks.ticker_leaks(_with(leaks, tickers, leaked_per_iter=1.0)).verdict == HOLDS
    none = _with(leaks, tickers, leaked_per_iter=0.0)
    assert claims_leaks.ticker_leaks(none).verdict == DOES_NOT_HOLD
    old_only = _with(leaks[leaks["scenario"] != "ticker-go123"], tickers, leaked_per_iter=1.0)
    c = claims_leaks.ticker_leaks(old_only)
    assert c.verdict == QUALIFIED and "only" in c.why
    assert claims_leaks.ticker_leaks(leaks[~tickers]).verdict == NOT_MEASURED

    cycle = (leaks["scenario"] == "finalizer-cycle") & (leaks["version"] == "leaking")
    assert claims_leaks.finalizer_leaks(leaks).verdict == HOLDS
    gone = _with(leaks, cycle, leaked_per_iter=0.0)
    assert claims_leaks.finalizer_leaks(gone).verdict == DOES_NOT_HOLD
    no_control = leaks[~((leaks["scenario"] == "finalizer-cycle") & (leaks["version"] == "fixed"))]
    assert claims_leaks.finalizer_leaks(no_control).verdict == QUALIFIED
    assert claims_leaks.finalizer_leaks(leaks[~cycle]).verdict == NOT_MEASURED


def test_detection_every_verdict(folder: read.Folder) -> None:
    leaks = folder.leaks
    assert leaks is not None
    c = claims_leaks.detection(leaks)
    assert c.verdict == QUALIFIED and "goroutines only" in c.why
    goroutines = leaks[leaks["unit"] == "goroutine"]
    assert claims_leaks.detection(goroutines).verdict == HOLDS
    missed = (goroutines["scenario"] == "sender") & (goroutines["version"] == "leaking")
    c = claims_leaks.detection(_with(goroutines, missed, caught_by_pprof="False"))
    assert c.verdict == DOES_NOT_HOLD and "pprof" in c.why
    assert claims_leaks.detection(leaks[leaks["unit"] != "goroutine"]).verdict == NOT_MEASURED


def test_vmstat_every_verdict(folder: read.Folder) -> None:
    s, system, threads = folder.summary, folder.system, folder.threads
    assert system is not None and threads is not None
    c = claims_system.vmstat_shows(s, system, threads)
    assert c.verdict == QUALIFIED and "OS-thread switches only" in c.why
    # A goroutine switch slow enough for the counter to see it leaves no qualification.
    slow = _with(s, s["case"] == "go.chan.p1", ns_per_switch=1e9)
    assert claims_system.vmstat_shows(slow, system, threads).verdict == HOLDS
    without_pidstat = claims_system.vmstat_shows(slow, system, None)
    assert without_pidstat.verdict == QUALIFIED and "threads.csv" in without_pidstat.why
    # A counter that reads the same every second shows nothing.
    flat = system.assign(ctxt=system["t_s"] * 1000.0)
    assert claims_system.vmstat_shows(s, flat, None).verdict == DOES_NOT_HOLD
    assert claims_system.vmstat_shows(s, None, None).verdict == NOT_MEASURED


def test_a_go_only_run_says_what_it_did_not_measure(folder: read.Folder) -> None:
    go = folder.summary[folder.summary["case"].str.startswith("go.")]
    data = dataclasses.replace(
        folder, summary=go, memory=pd.DataFrame(), leaks=None, thread_stacks=None
    )
    verdicts = {c.claim: c for c in all_claims(data)}
    assert verdicts["A thread switch costs microseconds."].verdict == NOT_MEASURED
    assert verdicts["A goroutine switch stays in user space."].verdict == HOLDS
    assert verdicts["Finalizers on cycles leak."].verdict == NOT_MEASURED
    text = report.render_markdown(data, {})
    row = next(x for x in text.splitlines() if x.startswith("| A thread switch"))
    assert "**not measured**" in row and "no OS-thread hand-off case ran" in row


def test_strings_from_the_folder_are_escaped(folder: read.Folder) -> None:
    leaks = folder.leaks
    assert leaks is not None
    odd = _with(leaks, leaks["scenario"] == "ticker", godebug="a|b*<i>")
    text = report.render_markdown(dataclasses.replace(folder, leaks=odd), {})
    row = next(x for x in text.splitlines() if x.startswith("| An unstopped Ticker"))
    assert "a\\|b\\*\\<i\\>" in row and "<i>" not in row
