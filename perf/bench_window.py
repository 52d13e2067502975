"""Evidence of one generator run, sampled over the steady part of its measured window: podvs-pktgen
--mark-window writes "start NS" when its measured window begins and "end NS" when sending stops
(CLOCK_MONOTONIC nanoseconds); a thread of perf/bench.py waits for the start, then reads the
switch's own busy counters and the kernel's view of the switch thread and the measured cores
(bench_evidence.py) twice, MARGIN_S inside each end of the window (or at once when the run marks
an early end), so that neither the warm-up nor the drain dilutes them.

The harness is quiet inside the window. On a 2-core machine it shares the generator's core, and
the generator counts every iteration of its loop that took 50 us or more as stalled (descheduled):
a harness thread that woke every 10 ms to read a mark file made each wake-up such a gap. So the
marks come through a FIFO: the thread blocks in select() on it and wakes only for the two marks
and the two readings; nothing else of the harness runs between them.
"""
import os
import select
import threading
import time

import bench_evidence

# How far inside each end of the measured window the readings are taken: more than the time it
# takes to ask a switch for its counters (an HTTP request to podvsd, ovs-appctl: milliseconds to
# tens of milliseconds).
MARGIN_S = 0.25
# How long the generator may take to reach its window (EAL, links, warm-up on a loaded machine).
START_TIMEOUT_S = 120


class MarkPipe:
    """The reading end of the FIFO podvs-pktgen writes its marks to. Opened before the generator
    starts (non-blocking, so that opening needs no writer yet; the generator's open for writing
    then finds a reader and does not block either)."""

    def __init__(self, path):
        self.path = path
        if os.path.exists(path):
            os.unlink(path)
        os.mkfifo(path, 0o600)
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.buf = b""
        self.marks = {}
        self.closed = False  # the writer has gone (or stop() was called): no more marks
        # stop() wakes a waiting thread through this pipe: a generator that failed before it
        # opened the FIFO never closes it, and so never wakes the reader.
        self.wake_r, self.wake_w = os.pipe()

    def wait(self, name, until):
        """Blocks until mark `name` has arrived (returns its time, seconds on time.monotonic()'s
        clock) or until the monotonic time `until` (returns None). Wakes only when a mark arrives."""
        while name not in self.marks and not self.closed:
            left = until - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([self.fd, self.wake_r], [], [], left)
            if self.fd in ready:
                self._read()
            if self.wake_r in ready:
                self.closed = True
        ns = self.marks.get(name)
        return None if ns is None else ns / 1e9

    def _read(self):
        try:
            data = os.read(self.fd, 4096)
        except BlockingIOError:
            return
        if not data:
            # No writer: before the generator opened the FIFO (a reader of a FIFO that never had
            # a writer is not woken for that) or after it closed it.
            self.closed = True
            return
        self.buf += data
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            parts = line.split()
            if len(parts) == 2:
                self.marks[parts[0].decode()] = int(parts[1])

    def stop(self):
        os.write(self.wake_w, b"x")

    def close(self):
        for fd in (self.fd, self.wake_r, self.wake_w):
            os.close(fd)
        try:
            os.unlink(self.path)
        except OSError:
            pass


class Window:
    """Start it before the generator, finish() after; evidence() then holds what was seen.
    `switch` needs pid() and busy_counters() -> (busy, total) in any one unit, cumulative, or
    (busy, total, rx_packets, rx_bursts) from a switch that counts its non-empty receive bursts.
    `started`, a threading.Event, is set when the measured window begins."""

    def __init__(self, switch, mark_path, duration_s, cpus, switch_cpu, started=None):
        self.switch, self.duration = switch, duration_s
        self.cpus, self.switch_cpu = cpus, switch_cpu
        self.started = started or threading.Event()
        self.readings = []
        self.error = None
        self.pipe = MarkPipe(mark_path)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _read(self, tid):
        return {"kernel": bench_evidence.take(self.switch.pid(), tid, self.cpus),
                "busy": self.switch.busy_counters()}

    def _run(self):
        try:
            start = self.pipe.wait("start", time.monotonic() + START_TIMEOUT_S)
            if start is None:
                self.error = "the generator never marked its measured window"
                return
            self.started.set()
            # The mark's own time, not when this thread saw it: the window is the generator's.
            if self.pipe.wait("end", start + MARGIN_S) is not None:
                self.error = "the measured window was too short to sample"
                return
            tid = bench_evidence.switch_thread(self.switch.pid(), self.switch_cpu)
            self.tid = tid
            began = time.monotonic()
            self.readings.append(self._read(tid))
            # A reading takes a request to the switch, which answers somewhere within it. The
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
            self.pipe.wait("end", end_at)
            self.readings.append(self._read(tid))
        except Exception as e:  # reported as missing evidence, never a crash of the run
            self.error = f"{type(e).__name__}: {e}"
        finally:
            self.started.set()  # whoever waits for the window does not wait forever

    def finish(self):
        self.pipe.stop()
        self.thread.join()
        self.pipe.close()

    def evidence(self):
        """bench_validity.py's switch and kernel fields (None where nothing could be read)."""
        out = {"switch_busy_pct": None, "switch_rx_burst_avg": None, "switch_runq_wait_pct": None,
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
            if len(before["busy"]) == 4 and len(after["busy"]) == 4:
                packets = after["busy"][2] - before["busy"][2]
                bursts = after["busy"][3] - before["busy"][3]
                if bursts > 0:
                    out["switch_rx_burst_avg"] = packets / bursts
        return out
