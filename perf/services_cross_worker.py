#!/usr/bin/env python3
"""What it costs podvs when the two directions of a Service's connections arrive on different
workers, against the same traffic on one worker (cycles per packet of the worker that translates
the replies).

Pod A sends UDP to a ClusterIP whose one endpoint is pod B, over --flows source ports: the worker
that polls A's queue creates the connections (the "forward" run). Then B answers every one of them
(from its target port to A's source ports) and the worker that polls B's queue translates the
replies back to the ClusterIP through entries another worker made (the "reply" run). Two layouts,
interleaved over --repetitions:
- "one worker": podvsd with one worker, which polls both pods;
- "two workers": two workers, A's queue on one and B's on the other (checked in `podvsctl port
  list`; B is re-added until placement puts it on the other worker). A has one tx queue, so the
  reply worker's transmissions to A take A's tx lock, as any pod with fewer queues than workers.
The two workers share the switch core (idle back-off: the one with nothing to poll sleeps), so
throughput with two workers says nothing; cycles per packet of the busy worker (its busy cycles
over its packets, podvsd's own counters) do. The generator runs on the other core, as in bench.py.

usage: perf/services_cross_worker.py [--repetitions N] [--flows N] [--duration S]
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the harness's process handling, pktgen runs and constants)

SVC_IP, SVC_PORT, TARGET = "10.96.0.10", 5000, 6000
CLIENT_FIRST_PORT = 1024


class Switch:
    """podvsd with pods A and B and one Service, with `workers` workers on the switch core."""

    def __init__(self, procs, work, workers):
        self.procs, self.work, self.workers = procs, work, workers
        self.sock = os.path.join(work, "podvsd.sock")

    def ctl(self, *args):
        out = bench.run([os.path.join(bench.BUILD, "podvsctl"), "--socket", self.sock, "--json",
                         *args])
        return json.loads(out or "null")

    def start(self):
        for d in ("state", "vhost"):
            shutil.rmtree(os.path.join(self.work, d), ignore_errors=True)
        log = os.path.join(self.work, "podvsd.log")
        cpus = ",".join([str(bench.SWITCH_CPU)] * self.workers)
        self.proc = self.procs.start(
            [os.path.join(bench.BUILD, "podvsd"), "--socket", self.sock, "--state-dir",
             os.path.join(self.work, "state"), "--file-prefix", "bench_xw", "--host-port",
             "pvxw0", "--vhost-dir", os.path.join(self.work, "vhost"), "--metrics-listen",
             f"127.0.0.1:{bench.free_port()}", "--workers", cpus, "--main-cpu",
             str(bench.GEN_CPU), "--idle-backoff-polls", "1000", "--idle-backoff-us", "50"], log)
        bench.wait_for(lambda: os.path.exists(self.sock) and "ready:" in open(log).read(), 30,
                       "podvsd")
        self.a = self.ctl("pod", "add", "--id", "xw-a", "--kind", "vhost-user")
        self.b = self.ctl("pod", "add", "--id", "xw-b", "--kind", "vhost-user")
        for _ in range(10):
            if self.workers == 1 or self.worker_of("xw-a") != self.worker_of("xw-b"):
                break
            self.ctl("pod", "del", "--id", "xw-b")
            self.b = self.ctl("pod", "add", "--id", "xw-b", "--kind", "vhost-user")
        else:
            raise RuntimeError("placement kept pods A and B on one worker")
        self.ctl("service", "add", "bench/xw", "--cluster-ip", SVC_IP, "--port",
                 f"udp:{SVC_PORT}:{TARGET}", "--endpoint", self.b["ip"])

    def worker_of(self, pod):
        return next(p["worker"] for p in self.ctl("port", "list") if p["pod_id"] == pod)

    def stop(self):
        self.procs.stop(self.proc)

    def forward_ends(self, flows):
        return {"tx_socket": self.a["socket_path"], "rx_socket": self.b["socket_path"],
                "tx_mac": self.a["mac"], "rx_mac": self.b["mac"], "dst_mac": bench.GATEWAY_MAC,
                "src_ip": self.a["ip"], "dst_ip": SVC_IP,
                "args": ["--src-port", str(CLIENT_FIRST_PORT), "--src-port-count", str(flows),
                         "--dst-port", str(SVC_PORT), "--dst-port-count", "1",
                         "--expect-dst", f"{self.b['ip']}:{TARGET}"]}

    def reply_ends(self, flows):
        return {"tx_socket": self.b["socket_path"], "rx_socket": self.a["socket_path"],
                "tx_mac": self.b["mac"], "rx_mac": self.a["mac"], "dst_mac": bench.GATEWAY_MAC,
                "src_ip": self.b["ip"], "dst_ip": self.a["ip"],
                "args": ["--src-port", str(TARGET), "--src-port-count", "1",
                         "--dst-port", str(CLIENT_FIRST_PORT), "--dst-port-count", str(flows),
                         "--expect-dst",
                         f"{self.a['ip']}:{CLIENT_FIRST_PORT}-{CLIENT_FIRST_PORT + flows - 1}"]}

    def busiest_worker(self):
        """(worker, its cycles per packet, packets) of the worker that received the most."""
        w = max(self.ctl("stats")["workers"], key=lambda w: w["rx_packets"])
        return w["worker"], w["cycles_per_packet"], w["rx_packets"]


def measure(procs, work, workers, flows, duration):
    sw = Switch(procs, work, workers)
    sw.start()
    try:
        row = {"workers": workers}
        for direction, ends in (("forward", sw.forward_ends(flows)),
                                ("reply", sw.reply_ends(flows))):
            sw.ctl("stats", "--clear")
            r = bench.pktgen(procs, work, ends, 64, flows, duration, 1)
            worker, cpp, packets = sw.busiest_worker()
            if (r["rx_packets"] == 0 or r["loss_pct"] > 50 or r["rx_wrong_dst"] != 0
                    or r["rx_bad_checksum"] != 0):
                raise RuntimeError(f"{direction} run did not forward: {json.dumps(r)[:2000]}")
            row[direction] = {"mpps": r["rx_mpps"],
                              "cycles_per_packet": cpp, "worker": worker, "packets": packets,
                              "loss_pct": r["loss_pct"]}
        placement = {p["pod_id"]: p["worker"] for p in sw.ctl("port", "list") if p["pod_id"]}
        row["placement"] = placement
        entries = sum(w["conntrack_entries"] for w in sw.ctl("stats")["workers"])
        row["conntrack_entries"] = entries
        return row
    finally:
        sw.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--flows", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=3)
    opts = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (hugepages, vhost-user sockets)")
    bench.pin_harness()
    work = tempfile.mkdtemp(prefix="podvs-xw-")
    procs = bench.Processes()
    rows = {1: [], 2: []}
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}; {opts.flows} flows of 64 B, "
          f"{opts.repetitions} repetition(s) of {opts.duration} s", flush=True)
    try:
        for rep in range(opts.repetitions):
            for workers in (1, 2):
                row = measure(procs, work, workers, opts.flows, opts.duration)
                rows[workers].append(row)
                print(f"rep {rep + 1}, {workers} worker(s): forward {row['forward']['cycles_per_packet']:.0f}"
                      f" cycles/pkt on worker {row['forward']['worker']}, reply "
                      f"{row['reply']['cycles_per_packet']:.0f} cycles/pkt on worker "
                      f"{row['reply']['worker']} (placement {row['placement']}, "
                      f"{row['conntrack_entries']} connections)", flush=True)
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)

    def spread(workers, direction):
        v = sorted(r[direction]["cycles_per_packet"] for r in rows[workers])
        return f"{v[0]:.0f} / {statistics.median(v):.0f} / {v[-1]:.0f}"
    print("\n| ClusterIP 64 B, cycles per packet (min / median / max) | one worker | "
          "two workers, replies on the other |\n| --- | --- | --- |")
    for direction, what in (("forward", "client to ClusterIP (creates nothing: warm-up made the"
                             " connections)"), ("reply", "endpoint's replies, translated back")):
        print(f"| {what} | {spread(1, direction)} | {spread(2, direction)} |")


if __name__ == "__main__":
    main()
