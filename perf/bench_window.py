"""Evidence of one generator run, sampled over the steady part of its measured window: podvs-pktgen
--mark-window appends "start NS" when its measured window begins and "end NS" when sending
stops; a thread of perf/bench.py waits for the start, then reads the switch's own busy counters
and the kernel's view of the switch thread and the measured cores (bench_evidence.py) twice,
MARGIN_S inside each end of the window (or at once when the run marks an early end), so that
neither the warm-up nor the drain dilutes them.
"""
import os
import threading
import time

import bench_evidence

# How far inside each end of the measured window the readings are taken: more than the time it
# takes to ask a switch for its counters (podvsctl, ovs-appctl: tens of milliseconds).
MARGIN_S = 0.25
POLL_S = 0.01  # how often the mark file is read while waiting


class Window:
    """Start it before the generator, finish() after; evidence() then holds what was seen.
    `switch` needs pid() and busy_counters() -> (busy, total) in any one unit, cumulative."""

    def __init__(self, switch, mark_path, duration_s, cpus, switch_cpu):
        self.switch, self.path, self.duration = switch, mark_path, duration_s
        self.cpus, self.switch_cpu = cpus, switch_cpu
        self.readings = []
        self.error = None
        self.done = threading.Event()
        open(mark_path, "w").close()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _marks(self):
        with open(self.path) as f:
            return dict(line.split() for line in f if len(line.split()) == 2)

    def _wait(self, predicate, until):
        while time.monotonic() < until and not self.done.is_set():
            if predicate():
                return True
            self.done.wait(POLL_S)
        return predicate()

    def _read(self, tid):
        return {"kernel": bench_evidence.take(self.switch.pid(), tid, self.cpus),
                "busy": self.switch.busy_counters()}

    def _run(self):
        try:
            # The generator's start-up (EAL, links, warm-up) can take long on a loaded machine.
            if not self._wait(lambda: "start" in self._marks(), time.monotonic() + 120):
                self.error = "the generator never marked its measured window"
                return
            start = time.monotonic()
            if self._wait(lambda: "end" in self._marks(), start + MARGIN_S):
                self.error = "the measured window was too short to sample"
                return
            tid = bench_evidence.switch_thread(self.switch.pid(), self.switch_cpu)
            self.tid = tid
            began = time.monotonic()
            self.readings.append(self._read(tid))
            # Asking a switch for its counters takes a process start (podvsctl, ovs-appctl): up to
            # a second on a loaded machine, and the switch answers somewhere within it. The
            # second reading starts early enough to end inside the window even if it takes twice
            # as long as the first; a reading after the traffic stopped would count the drain's
            # idle polls as the switch's.
            cost = time.monotonic() - began
            end_at = start + self.duration - MARGIN_S - 2 * cost
            if end_at <= time.monotonic():
                self.error = (f"reading the switch took {cost:.2f} s, too long for a "
                              f"{self.duration:g} s window")
                return
            # A run that ends early (a new-connection sweep that used up its tuples) is read as
            # soon as it marks its end: only the reading's own delay is drain.
            self._wait(lambda: "end" in self._marks(), end_at)
            self.readings.append(self._read(tid))
        except Exception as e:  # reported as missing evidence, never a crash of the run
            self.error = f"{type(e).__name__}: {e}"

    def finish(self):
        self.done.set()
        self.thread.join()
        try:
            os.unlink(self.path)
        except OSError:
            pass

    def evidence(self):
        """bench_validity.py's switch and kernel fields (None where nothing could be read)."""
        out = {"switch_busy_pct": None, "switch_runq_wait_pct": None,
               "switch_involuntary_per_s": None, "steal_pct": None, "window_s": None,
               "switch_tid": getattr(self, "tid", None), "window_error": self.error}
        if len(self.readings) != 2:
            return out
        before, after = self.readings
        out.update(bench_evidence.delta(before["kernel"], after["kernel"]))
        if before["busy"] and after["busy"]:
            busy = after["busy"][0] - before["busy"][0]
            total = after["busy"][1] - before["busy"][1]
            if total > 0:
                out["switch_busy_pct"] = 100.0 * busy / total
        return out
