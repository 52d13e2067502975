"""Judges whether one benchmark measurement can be believed, from the evidence perf/bench.py
gathered over its measured window. Pure: it reads nothing and starts nothing, so that the rules
can be tested on recorded evidence (tests/bench_validity_test.py).

A figure says something about a switch only when the switch, and nothing else, was the limit:
- the generator had time to spare (else the generator was the bottleneck);
- at the maximum rate, the switch's core was busy nearly all the time (else something other than
  its forwarding work held it back, or it was not the bottleneck);
- the machine left both cores alone: the switch thread barely waited in the run queue, was seldom
  switched out against its will, the hypervisor stole (almost) no time, and the generator's loop
  had no long gaps;
- a no-drop rate lost (almost) nothing when it was checked again.

Evidence of one measurement (a dict; values in percent unless named otherwise):
  kind                      "max_rate" (unpaced), "paced" (latency at a set rate) or "ndr"
                            (a confirmation run at the no-drop rate found)
  generator_idle_pct        idle share of the generator's core (podvs-pktgen's headroom)
  generator_stalled_pct     share of the generator's window lost in long gaps of its loop
  switch_busy_pct           share of the switch core's polls that found work (its own counters)
  switch_runq_wait_pct      the switch thread's run-queue wait (schedstat) over the window
  switch_involuntary_per_s  the switch thread's involuntary context switches per second
  switch_rx_burst_avg       packets per non-empty receive burst of the switch (podvs's own
                            counters; testpmd and OVS do not count bursts, so theirs is absent
                            and the rule that reads it is not applied to them)
  steal_pct                 steal time of the measured cores (/proc/stat)
  core_round_trip_ns_before a cache line's round trip between the generator's and the switch's
  core_round_trip_ns_after  CPUs before the switch started and after it stopped
                            (perf/core_probe.cc): where the host had the vCPUs. Judged where
                            the bench measured it (the keys present)
  loss_pct                  packets sent and not received, over those sent
  window_error              why the window could not be sampled (None when it was)
Evidence that a rule needs and that is missing (None or absent) makes the measurement invalid:
a bench that cannot see must say so.

A row (one switch, one scenario) is measured several times, interleaved with the other switches.
Its figures are those of its valid repetitions: a repetition that the machine spoiled is set
aside (and listed as such), not averaged in. The row is valid when at least
MIN_VALID_REPETITIONS of them are (all of them, when fewer were run).
"""

# Every threshold, in one place. The README's "How the benchmark judges a row" cites these.
THRESHOLDS = {
    # Below this idle share the generator may be what limits the rate.
    "generator_idle_pct_min": 5.0,
    # More of the generator's window than this lost to descheduling: its rate is not its own.
    "generator_stalled_pct_max": 2.0,
    # At the maximum rate the switch core must be busy at least this much of the time.
    "switch_busy_pct_min": 95.0,
    # The switch thread may wait in the run queue at most this share of the window...
    "switch_runq_wait_pct_max": 2.0,
    # ...and be switched out against its will at most this often.
    "switch_involuntary_per_s_max": 200.0,
    # At the maximum rate a saturated switch finds its receive queue full at every poll: its
    # bursts are the full 32. Fewer on average means it emptied the queue faster than the
    # generator filled it, so the generator set the rate (busy share cannot tell: a poll that
    # finds one packet counts as busy). Only where the switch counts bursts (podvs).
    "switch_rx_burst_avg_min": 28.0,
    # A cache line's round trip between the generator's and the switch's CPUs, before the switch
    # started and after it stopped, may take at most this long. On the 2-core EPYC VM of
    # 2026-12-02 it took 80-135 ns or, when the host had moved the vCPUs apart, 400-460 ns, and
    # the same podvs build then forwarded 40-60 % less (1518 B: 3.39 Mpps at 770 cycles/pkt
    # against 8.87 at 293): the switch's figure then says where the host put the vCPUs.
    "core_round_trip_ns_max": 250.0,
    # The hypervisor may steal at most this share of the measured cores.
    "steal_pct_max": 2.0,
    # A no-drop rate, sent again, may lose at most this share.
    "ndr_loss_pct_max": 0.1,
}

KINDS = ("max_rate", "paced", "ndr")


def _missing(evidence, key):
    return evidence.get(key) is None


def judge(evidence, thresholds=THRESHOLDS):
    """Returns the reasons why this measurement is invalid: an empty list means valid."""
    t = thresholds
    kind = evidence.get("kind")
    if kind not in KINDS:
        return [f"unknown measurement kind {kind!r} (expected one of {', '.join(KINDS)})"]
    reasons = []
    if evidence.get("window_error"):
        reasons.append(f"window not sampled: {evidence['window_error']}")

    def need(key, what):
        if _missing(evidence, key):
            reasons.append(f"no evidence of {what}: the bench could not measure it")
            return False
        return True

    if need("generator_idle_pct", "the generator's headroom"):
        idle = evidence["generator_idle_pct"]
        if idle < t["generator_idle_pct_min"]:
            reasons.append(f"generator-bound: the generator was idle {idle:.1f} % of its core "
                           f"(< {t['generator_idle_pct_min']:g} %)")
    if need("generator_stalled_pct", "gaps in the generator's loop"):
        stalled = evidence["generator_stalled_pct"]
        if stalled > t["generator_stalled_pct_max"]:
            reasons.append(f"generator descheduled: {stalled:.1f} % of its window lost in gaps "
                           f"(> {t['generator_stalled_pct_max']:g} %)")
    if kind == "max_rate" and need("switch_busy_pct", "the switch core's busy share"):
        busy = evidence["switch_busy_pct"]
        if busy < t["switch_busy_pct_min"]:
            reasons.append(f"switch not the bottleneck: its core was busy {busy:.1f} % "
                           f"(< {t['switch_busy_pct_min']:g} %)")
    if kind == "max_rate" and not _missing(evidence, "switch_rx_burst_avg"):
        burst = evidence["switch_rx_burst_avg"]
        if burst < t["switch_rx_burst_avg_min"]:
            reasons.append(f"switch not saturated: its receive bursts held {burst:.1f} packets on "
                           f"average (< {t['switch_rx_burst_avg_min']:g} of 32)")
    if need("switch_runq_wait_pct", "the switch thread's run-queue wait"):
        wait = evidence["switch_runq_wait_pct"]
        if wait > t["switch_runq_wait_pct_max"]:
            reasons.append(f"run-queue wait: the switch thread waited for its CPU {wait:.1f} % of the window "
                           f"(> {t['switch_runq_wait_pct_max']:g} %)")
    if need("switch_involuntary_per_s", "the switch thread's involuntary switches"):
        invol = evidence["switch_involuntary_per_s"]
        if invol > t["switch_involuntary_per_s_max"]:
            reasons.append(f"involuntary switches: the switch thread was switched out {invol:.0f} times/s "
                           f"(> {t['switch_involuntary_per_s_max']:g}/s)")
    for key, when in (("core_round_trip_ns_before", "before"), ("core_round_trip_ns_after", "after")):
        if key in evidence and need(key, f"where the measured CPUs were {when} the switch ran"):
            rtt = evidence[key]
            if rtt > t["core_round_trip_ns_max"]:
                reasons.append(f"CPUs apart: a cache line took {rtt:.0f} ns between the measured CPUs "
                               f"{when} the switch ran (> {t['core_round_trip_ns_max']:g} ns)")
    if need("steal_pct", "steal time"):
        steal = evidence["steal_pct"]
        if steal > t["steal_pct_max"]:
            reasons.append(f"steal: the hypervisor stole {steal:.1f} % of the measured cores "
                           f"(> {t['steal_pct_max']:g} %)")
    if kind == "ndr" and need("loss_pct", "loss at the no-drop rate"):
        loss = evidence["loss_pct"]
        if loss > t["ndr_loss_pct_max"]:
            reasons.append(f"not a no-drop rate: {loss:.3f} % lost when sent again "
                           f"(> {t['ndr_loss_pct_max']:g} %)")
    return reasons


# A row's figures need this many valid repetitions (min/median/max over at least three).
MIN_VALID_REPETITIONS = 3


def valid_repetitions(reasons_per_run, min_valid=MIN_VALID_REPETITIONS):
    """The indices of the repetitions a row's figures come from, and the row's reasons for being
    invalid (empty when it is valid). Valid: at least min_valid repetitions (every one, when
    fewer were run) passed judge(); the figures are then theirs alone. Invalid: the figures are
    every repetition's, and the reasons those of summarize()."""
    if not reasons_per_run:
        return [], ["no repetition was run"]
    valid = [i for i, reasons in enumerate(reasons_per_run) if not reasons]
    if len(valid) >= min(min_valid, len(reasons_per_run)):
        return valid, []
    return list(range(len(reasons_per_run))), summarize(reasons_per_run)


def summarize(reasons_per_run):
    """One row's verdict over its repetitions: valid only when every repetition is. Returns the
    distinct reasons in the order first seen, each with how many repetitions it struck. Every
    reason judge() gives is "kind: detail"; repetitions differ only in the detail."""
    counts = {}
    for reasons in reasons_per_run:
        first = {}  # each kind once per run, with its first detail
        for r in reasons:
            first.setdefault(r.split(":")[0], r)
        for key, example in first.items():
            counts.setdefault(key, [0, example])[0] += 1
    n = len(reasons_per_run)
    return [f"{example} ({count} of {n} runs)" if n > 1 else example
            for count, example in counts.values()]
