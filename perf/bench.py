#!/usr/bin/env python3
"""Benchmarks podvs against the limit (dpdk-testpmd io forwarding) and OVS-DPDK, in one run on
the same cores: podvs-pktgen plays two DPDK pods on vhost-user, each switch forwards between
them with the same semantics (route on the destination IP, rewrite MACs, decrement TTL), and
every scenario is repeated (--repetitions, interleaved between switches) and reported as
min/median/max.

The VXLAN scenarios put the generator on both sides of the overlay: "encap" sends from a pod to
a pod of a remote node (the switch routes, encapsulates and sends on its uplink, where pktgen
plays the remote node's VTEP and answers its ARP), "decap" sends VXLAN from that remote VTEP to
the switch's uplink (the switch decapsulates and routes to the pod). podvs runs with its own
vhost-user uplink (uplink_vhost_socket); OVS-DPDK with a VXLAN tunnel port on an integration bridge and userspace tunnelling over
an underlay bridge that owns the vhost-user uplink. testpmd-io cannot encapsulate or
decapsulate: it has no VXLAN rows. Frame sizes are the inner frame's (the uplink frames are 50
bytes longer; the uplink MTU is 1600 on both switches so that 1518-byte inner frames fit).

The ClusterIP scenarios send from pod A to a Service's ClusterIP:5000 whose one endpoint is pod B
(anti-spoofing binds one address per pod, so the sink can own only one endpoint), and the sink
(pktgen --expect-dst) counts a frame only if it arrives to B's target port with correct IPv4 and
UDP checksums. podvs gets the Services through `podvsctl service load`; OVS-DPDK gets OpenFlow rules
with conntrack and NAT in its userspace datapath, as OVN writes them for a load balancer: every
packet to a frontend (and from the endpoint) goes through ct(zone,nat), which translates a known
connection's packets; a new connection goes to the Service's select group (dp_hash, one bucket per
endpoint) whose bucket commits it with ct(commit,nat(dst=B:port)). Pod-to-pod traffic meets no
conntrack on either switch. testpmd-io cannot NAT: it has no ClusterIP rows.
- "established": 1k flows (source ports) to one ClusterIP; the warm-up creates their connections,
  the measurement sees only packets of known connections (lookup, translate, route).
- "new connections": every packet carries a tuple never sent before (pktgen --new-flows), so the
  rate it measures is connections created per second, each with its first packet delivered
  translated. A pod's source address is fixed by anti-spoofing, so the tuples are its 64,512
  source ports times 128 ClusterIPs (128 Services with the same endpoint, each with a target port
  of its own, 6001-6128, so that no two connections share a reply tuple), taken in order, 8
  million of them, with a 0.2 s warm-up. Nothing ever expires or is evicted during a run (UDP's
  shortest idle timeout is 30 s on both switches), so both tables are sized to hold every
  connection a run creates: podvs --conntrack-entries and OVS dpctl/ct-set-maxconns are both
  8,388,608, and a run ends when its 8 million tuples are used up (or at --duration), which
  bounds the measured window (about 8M / rate). A refused connection would show as loss; after
  the run the harness reports OVS's connection count and podvs's flow-cache misses and drop
  reasons next to the packets sent. This is a table-filling rate, not a steady state with
  expiry: it includes each switch's cost of growing its table to millions of entries (podvs
  preallocates; OVS allocates per connection).

The control-plane section adds perf/attach_latency.sh (pod attach) and
perf/service_programming.sh (10,000 Services with 100,000 endpoints through `podvsctl service
load`, podvsd's RSS, restart restoring them; 1,000 Services with --quick).

Every measurement carries its evidence, sampled over the steady part of its measured window
(bench_window.py): the generator's headroom (podvs-pktgen's idle and stalled share of its core),
the switch core's busy share (each switch's own counters: podvs's worker cycles, OVS's PMD
cycles, testpmd's --record-core-cycles), the switch thread's run-queue wait and involuntary
context switches, and the measured cores' steal time (bench_evidence.py). bench_validity.py judges
it: an invalid row is marked and says why, and never reaches DIR/readme_table.md. The harness pins
itself off the measured cores (on a 2-core machine it can only share the generator's) and names
the machine, the CPU clock, the kernel, the date and the load average in every output.

Regression guard: every podvs row prints its cycles per packet next to the figure of the run
the README's table came from (--reference, default perf/results/reference.json) and is flagged
when it costs more than bench_reference.TOLERANCE_PCT above it.

usage: perf/bench.py [--quick] [--repetitions N] [--switches podvs,testpmd,ovs] [--out DIR]
                     [--reference FILE]
Environment: PODVS_BUILD (default: build/) holds podvsd, podvsctl and perf/podvs-pktgen;
PODVS_PKTGEN names another podvs-pktgen; PODVS_BENCH_NAME (default "bench", at most 8 letters
and digits) starts the hugepage file prefixes and the host port's name, so that two runs on one
machine do not collide.
Writes DIR/results.json, DIR/results.md (every row, invalid ones marked, cycles per packet against
the reference; printed at the end), DIR/readme_table.md (valid rows only), DIR/reference.json (the
valid podvs rows' cycles per packet, the next runs' reference when DIR is perf/results) and
DIR/throughput.png.
Everything it starts is stopped by PID; it leaves no hugepage files or sockets behind.
"""
import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

import bench_evidence
import bench_reference
import bench_validity
from bench_window import Window

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("PODVS_BUILD", os.path.join(TOP, "build"))
# The generator may come from another build than podvsd (a tree that built only pktgen).
PKTGEN = os.environ.get("PODVS_PKTGEN", os.path.join(BUILD, "perf", "podvs-pktgen"))
CORE_PROBE = os.path.join(BUILD, "perf", "podvs-core-probe")
GATEWAY_MAC = "0a:58:a9:fe:01:01"
# The VXLAN scenarios' underlay: the switch is node 192.168.50.1 and owns pod CIDR 10.244.0.0/24;
# pktgen plays the remote node 192.168.50.2 (pod CIDR 10.244.1.0/24) on the switch's uplink.
NODE_IP = "192.168.50.1"
UNDERLAY_LEN = 24
REMOTE_NODE_IP = "192.168.50.2"
REMOTE_VTEP_MAC = "02:00:00:00:50:02"
REMOTE_POD_CIDR = "10.244.1.0/24"
REMOTE_POD_IP = "10.244.1.2"
VXLAN_PORT = 4789
VNI = 1
UPLINK_MTU = 1600  # 1518-byte inner frames + 50 bytes of VXLAN fit
# The Services scenarios: pod A sends UDP to ClusterIPs whose one endpoint is pod B.
# "established" uses one Service (to B:6000); "new connections" sweeps 128 more (10.96.1.1-128, to
# B:6001-6128) so that the tuples outnumber one pod's 64,512 source ports. Each of those has a
# target port of its own: a connection's reply tuple (B:target -> A:source port) must be unique,
# or a switch could not tell whose reply it is; both would then also SNAT the connection to another
# source port (podvs as Linux does, OVS by searching for a free NAT tuple), work this scenario is
# not about. With one client address and one endpoint address only the target ports can keep
# the reply tuples apart.
SVC_IP = "10.96.0.10"
SVC_PORT = 5000
SVC_TARGET_PORT = 6000
NEW_CONN_SERVICES = 128
NEW_CONN_FIRST_IP = "10.96.1.1"
# Both switches get the same connection table capacity (podvs per worker, one worker here; OVS's
# ct-set-maxconns), larger than everything one switch start sends: the new-connection run's
# tuples, the 1k established flows and the checks. The sweep's 8,000,000 tuples fill 124 of the
# 128 ClusterIPs' 64,512 source ports and 512 of the 125th: the checks use the last ClusterIP,
# which the sweep never reaches, so none of their connections is one the sweep meets again.
CONNTRACK_ENTRIES = 1 << 23
NEW_CONN_FLOWS = 8_000_000
# A short warm-up: warm-up packets are new connections too and take tuples from the sweep.
NEW_CONN_WARMUP_S = 0.2
# What this run's DPDK file prefixes and podvsd's host port (a tap in the host's namespace) are
# called: unique per run where several share a machine.
NAME = os.environ.get("PODVS_BENCH_NAME", "bench")
if not re.fullmatch(r"[a-z0-9]{1,8}", NAME):
    sys.exit(f"PODVS_BENCH_NAME={NAME!r}: use 1 to 8 lowercase letters and digits")
CPUS = os.cpu_count()
SWITCH_CPU = CPUS - 1  # the switch's one worker core
GEN_CPU = 0            # the generator's core (and every control thread)
MEASURED_CPUS = (GEN_CPU, SWITCH_CPU)
ALL_CPUS = os.sched_getaffinity(0)


class Processes:
    """Starts processes and always stops them again, by PID."""

    def __init__(self):
        self.procs = []

    def start(self, args, log, stdin=subprocess.DEVNULL, **kw):
        p = subprocess.Popen(args, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
                             stdin=stdin, start_new_session=True, preexec_fn=unpin, **kw)
        self.procs.append(p)
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        if p.poll() is None:
            os.killpg(p.pid, sig)
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)


# --boost: the measured processes' scheduling groups get the highest weight (autogroup nice -20),
# so that on a machine shared with other work the switch and the generator keep their cores
# (everything else there then runs in what they leave). Off by default: a figure for the README
# comes from a quiet machine, not from one where the bench took the cores.
BOOST = False
VIRTIO_ARGS = None  # --virtio-args: more virtio_user devargs for the generator's ports
BOOST_NICE = -20


def unpin():
    """In a child of the harness: undo the harness's own pinning (pin_harness), so that switches
    and the generator place their threads as they would anywhere else; with BOOST, raise the
    weight of the child's scheduling group (a new session is a new autogroup)."""
    os.sched_setaffinity(0, ALL_CPUS)
    if BOOST:
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(BOOST_NICE))
        except OSError:
            pass  # no autogroups on this kernel: nice alone then
        os.nice(BOOST_NICE)


def pin_harness():
    """Keeps this script off the measured cores where the machine has others; on a 2-core machine
    it can only share the generator's core, where its cost shows in the generator's headroom
    instead of in the switch's rate. Returns the CPUs it runs on."""
    others = ALL_CPUS - set(MEASURED_CPUS)
    cpus = others or {GEN_CPU}
    os.sched_setaffinity(0, cpus)
    return sorted(cpus)


def free_port():
    """A TCP port on the loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def wait_for(predicate, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError("timed out waiting for " + what)


class Podvs:
    name = "podvs"

    def __init__(self, procs, work):
        self.procs, self.work = procs, work
        self.sock = os.path.join(work, "podvsd.sock")
        self.proc = None
        self.mode = "pods"

    def ctl(self, *args):
        return json.loads(run([os.path.join(BUILD, "podvsctl"), "--socket", self.sock, "--json", *args]) or "null")

    modes = ("pods", "vxlan", "services")

    def start(self, mode="pods"):
        log = os.path.join(self.work, "podvsd.log")
        self.mode = mode
        self.metrics_port = free_port()
        # Every start is a fresh node: no pods restored from an earlier repetition.
        for d in ("state", "vhost"):
            shutil.rmtree(os.path.join(self.work, d), ignore_errors=True)
        overlay = []
        if mode == "vxlan":
            # The uplink is podvs's own vhost-user port (uplink_vhost_socket), as OVS-DPDK's is
            # a dpdkvhostuserclient: pktgen's virtio_user serves the socket, as it does the pods'.
            overlay = ["--uplink-vhost-socket", os.path.join(self.work, "uplink.sock"),
                       "--node-ip", f"{NODE_IP}/{UNDERLAY_LEN}", "--uplink-mtu", str(UPLINK_MTU),
                       "--vxlan-port", str(VXLAN_PORT), "--vxlan-vni", str(VNI),
                       "--pod-cidr", "10.244.0.0/24", "--cluster-cidr", "10.244.0.0/16"]
        elif mode == "services":
            overlay = ["--conntrack-entries", str(CONNTRACK_ENTRIES)]
        self.proc = self.procs.start(
            [os.path.join(BUILD, "podvsd"), "--socket", self.sock, "--state-dir",
             os.path.join(self.work, "state"), "--file-prefix", f"{NAME}_podvs", "--host-port",
             f"pv{NAME}0", "--vhost-dir", os.path.join(self.work, "vhost"), "--metrics-listen",
             f"127.0.0.1:{self.metrics_port}",
             "--workers", str(SWITCH_CPU), "--main-cpu", str(GEN_CPU), *overlay], log)
        wait_for(lambda: os.path.exists(self.sock) and "ready:" in open(log).read(), 30, "podvsd")
        if mode == "vxlan":
            return self.start_vxlan()
        a = self.ctl("pod", "add", "--id", "bench-a", "--kind", "vhost-user")
        b = self.ctl("pod", "add", "--id", "bench-b", "--kind", "vhost-user")
        ends = {"tx_socket": a["socket_path"], "rx_socket": b["socket_path"],
                "tx_mac": a["mac"], "rx_mac": b["mac"], "dst_mac": GATEWAY_MAC,
                "src_ip": a["ip"], "dst_ip": b["ip"]}
        if mode == "services":
            # Every Service the scenarios use, in one `service load`: the established scenario's
            # and the new-connection sweep's, all with pod B as their one endpoint.
            path = os.path.join(self.work, "services.txt")
            with open(path, "w") as f:
                for name, vip, target in service_frontends():
                    f.write(f"bench/{name} --cluster-ip {vip} --port udp:{SVC_PORT}:{target}"
                            f" --endpoint {b['ip']}\n")
            run([os.path.join(BUILD, "podvsctl"), "--socket", self.sock, "service", "load", path])
            return service_ends(ends)
        return ends

    def start_vxlan(self):
        pod = self.ctl("pod", "add", "--id", "bench-a", "--kind", "vhost-user")
        self.ctl("node", "add", "--name", "remote", "--pod-cidr", REMOTE_POD_CIDR,
                 "--node-ip", REMOTE_NODE_IP, "--vtep-mac", REMOTE_VTEP_MAC)
        vtep_mac = self.ctl("status")["vtep_mac"]
        return vxlan_ends(pod["socket_path"], os.path.join(self.work, "uplink.sock"), pod["mac"],
                          pod["ip"], vtep_mac)

    def diagnose(self):
        """Where packets went, for a forwarding check that failed."""
        ports = self.ctl("port", "list")
        nodes = self.ctl("node", "list") if self.mode == "vxlan" else None
        services = self.ctl("service", "list") if self.mode == "services" else None
        return json.dumps({"ports": ports, "nodes": nodes, "services": services})[-3000:]

    def clear(self):
        self.ctl("stats", "--clear")

    def cycles_per_packet(self):
        w = self.ctl("stats")["workers"][0]
        return w["cycles_per_packet"] or None

    def pid(self):
        return self.proc.pid

    def busy_counters(self):
        """The worker's own accounting: TSC cycles of polls that found work, of all polls, and
        its received packets and non-empty receive bursts. Read from the Prometheus endpoint: an
        HTTP request costs milliseconds, where starting podvsctl on a loaded machine took
        seconds, longer than a quick run's window."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        text = urllib.request.urlopen(url, timeout=5).read().decode()
        values = {}
        for line in text.splitlines():
            m = re.match(r'podvs_worker_(busy_cycles|idle_cycles|rx_packets|rx_bursts)_total'
                         r'\{[^}]*worker="0"[^}]*\} (\S+)', line)
            if m:
                values[m.group(1)] = float(m.group(2))
        busy, idle = values["busy_cycles"], values["idle_cycles"]
        return busy, busy + idle, values["rx_packets"], values["rx_bursts"]

    def connection_stats(self):
        """After a new-connection run (stats cleared before it): podvs does not report its
        connection count, but every packet of a new tuple misses the flow cache, and a Service
        packet whose connection could not be created is dropped with a reason (conntrack_full)."""
        stats = self.ctl("stats")
        return {"flow_cache_misses": stats["workers"][0]["flow_cache_misses"],
                "drops": {k: v for k, v in stats["drops"].items() if v}}

    def stop(self):
        if self.proc:
            self.procs.stop(self.proc)


class Testpmd:
    name = "testpmd-io"

    modes = ("pods",)  # io forwarding cannot encapsulate or decapsulate

    def __init__(self, procs, work):
        self.procs, self.work, self.proc = procs, work, None

    def start(self, mode="pods"):
        a, b = os.path.join(self.work, "tp-a.sock"), os.path.join(self.work, "tp-b.sock")
        self.log = os.path.join(self.work, "testpmd.log")
        # Interactive, so that the harness can ask for its forwarding statistics (busy cycles,
        # --record-core-cycles) during a run; stdbuf makes it print them at once into the log.
        self.proc = self.procs.start(
            ["stdbuf", "-oL", "dpdk-testpmd", f"--lcores=0@{GEN_CPU},1@{SWITCH_CPU}", "--no-pci",
             "--in-memory", f"--file-prefix={NAME}_tp", "--log-level=4",
             f"--vdev=net_vhost0,iface={a},client=1,queues=1",
             f"--vdev=net_vhost1,iface={b},client=1,queues=1", "--", "-i",
             "--forward-mode=io", "--auto-start", "--nb-cores=1", "--record-core-cycles",
             "--total-num-mbufs=16384"], self.log, stdin=subprocess.PIPE)
        # io forwarding changes nothing: the generator addresses the receiver directly.
        return {"tx_socket": a, "rx_socket": b, "tx_mac": "02:00:00:00:00:0a",
                "rx_mac": "02:00:00:00:00:0b", "dst_mac": "02:00:00:00:00:0b",
                "src_ip": "10.244.0.2", "dst_ip": "10.244.0.3"}

    def diagnose(self):
        return "testpmd-io keeps no per-port drop reasons"

    def clear(self):
        pass

    def cycles_per_packet(self):
        return None

    def pid(self):
        return self.proc.pid

    def command(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def busy_counters(self):
        """testpmd's busy cycles (--record-core-cycles counts the cycles of polls that received
        packets) against the TSC cycles of wall time: `show fwd stats all` prints them cumulated
        since the start."""
        offset = os.path.getsize(self.log)
        now = time.monotonic()
        self.command("show fwd stats all")
        # The cycles line follows the accumulated block's closing line of '+', when packets passed.
        block = re.compile(r"Accumulated forward statistics.*?\n\s*\+{40,}\s*\n", re.S)
        deadline = now + 5
        text = ""
        while time.monotonic() < deadline:
            text = open(self.log, errors="replace").read()[offset:]
            if block.search(text) and ("total cycles=" in text or time.monotonic() > now + 0.2):
                break
            time.sleep(0.01)
        m = re.search(r"total cycles=(\d+) .* at (\d+) MHz", text)
        hz = (int(m.group(2)) * 1e6) if m else None
        if hz is None:
            return (0, now * self.tsc_hz) if getattr(self, "tsc_hz", None) else None
        self.tsc_hz = hz
        return int(m.group(1)), now * hz

    def stop(self):
        if self.proc:
            try:
                self.command("stop")
                self.command("quit")
                self.proc.wait(15)
            except (OSError, subprocess.TimeoutExpired):
                pass
            if self.proc in self.procs.procs:
                self.procs.stop(self.proc, signal.SIGINT)


class Ovs:
    """OVS-DPDK started privately: its own database, run dir and DPDK file prefix."""
    name = "ovs-dpdk"

    def __init__(self, procs, work):
        self.procs, self.work = procs, work
        self.dir = os.path.join(work, "ovs")
        self.env = dict(os.environ, OVS_RUNDIR=self.dir, OVS_LOGDIR=self.dir, OVS_DBDIR=self.dir,
                        OVS_SYSCONFDIR=self.dir)
        self.db = self.vswitchd = None

    def vsctl(self, *args):
        return run(["ovs-vsctl", "--db=unix:" + os.path.join(self.dir, "db.sock"), "--timeout=30", *args], env=self.env)

    def appctl(self, *args):
        return run(["ovs-appctl", "--target=" + os.path.join(self.dir, "ovs-vswitchd.ctl"), *args], env=self.env)

    modes = ("pods", "vxlan", "services")
    # Bridge names are also kernel tap names: distinct ones, so that a stale tap is surely ours.
    INT_BR, PHY_BR, SVC_BR = "pvb-int", "pvb-phy", "pvb-svc"
    VTEP_MAC = "02:00:00:00:50:01"  # the underlay bridge's MAC, OVS's VTEP MAC
    POD_MAC = "0a:58:0a:f4:00:02"

    def ofctl(self, bridge, *args):
        return run(["ovs-ofctl", *args[:1], "unix:" + os.path.join(self.dir, bridge + ".mgmt"), *args[1:]],
                   env=self.env)

    def start(self, mode="pods"):
        # Every start is a fresh OVS: a new database, no state from an earlier repetition.
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        conf = os.path.join(self.dir, "conf.db")
        run(["ovsdb-tool", "create", conf, "/usr/share/openvswitch/vswitch.ovsschema"])
        self.db = self.procs.start(
            ["ovsdb-server", conf, "--remote=punix:" + os.path.join(self.dir, "db.sock"),
             "--pidfile=" + os.path.join(self.dir, "ovsdb.pid"), "--unixctl=" + os.path.join(self.dir, "ovsdb.ctl")],
            os.path.join(self.dir, "ovsdb.log"), env=self.env)
        wait_for(lambda: os.path.exists(os.path.join(self.dir, "db.sock")), 10, "ovsdb-server")
        self.vsctl("--no-wait", "init")
        self.vsctl("--no-wait", "set", "Open_vSwitch", ".", "other_config:dpdk-init=true",
                   f"other_config:dpdk-lcore-mask={1 << GEN_CPU:#x}",
                   f"other_config:pmd-cpu-mask={1 << SWITCH_CPU:#x}",
                   "other_config:dpdk-socket-mem=512",
                   f'other_config:dpdk-extra="--no-pci --in-memory --file-prefix={NAME}_ovs"')
        self.vswitchd = self.procs.start(
            ["/usr/lib/openvswitch-switch-dpdk/ovs-vswitchd-dpdk", "unix:" + os.path.join(self.dir, "db.sock"),
             "--pidfile=" + os.path.join(self.dir, "ovs-vswitchd.pid"),
             "--unixctl=" + os.path.join(self.dir, "ovs-vswitchd.ctl"),
             "--log-file=" + os.path.join(self.dir, "ovs-vswitchd.log")],
            os.path.join(self.dir, "ovs-vswitchd.out"), env=self.env)
        wait_for(lambda: "true" in self.vsctl("get", "Open_vSwitch", ".", "dpdk_initialized"), 60, "OVS DPDK init")
        if mode == "vxlan":
            return self.start_vxlan()
        if mode == "services":
            return self.start_services()
        a, b = os.path.join(self.work, "ovs-a.sock"), os.path.join(self.work, "ovs-b.sock")
        self.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev")
        self.vsctl("add-port", "br0", "va", "--", "set", "Interface", "va", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={a}", "ofport_request=1")
        self.vsctl("add-port", "br0", "vb", "--", "set", "Interface", "vb", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={b}", "ofport_request=2")
        # The same forwarding semantics as podvs: route on the destination IP, rewrite both MACs,
        # decrement the TTL.
        run(["ovs-ofctl", "del-flows", "unix:" + os.path.join(self.dir, "br0.mgmt")], env=self.env)
        run(["ovs-ofctl", "add-flow", "unix:" + os.path.join(self.dir, "br0.mgmt"),
             "priority=10,ip,nw_dst=10.244.0.3,actions=mod_dl_src:" + GATEWAY_MAC +
             ",mod_dl_dst:0a:58:0a:f4:00:03,dec_ttl,output:2"], env=self.env)
        return {"tx_socket": a, "rx_socket": b, "tx_mac": "0a:58:0a:f4:00:02",
                "rx_mac": "0a:58:0a:f4:00:03", "dst_mac": GATEWAY_MAC,
                "src_ip": "10.244.0.2", "dst_ip": "10.244.0.3"}

    def start_vxlan(self):
        """OVS userspace tunnelling, as its documentation sets it up: the pod and a VXLAN port on an
        integration bridge; an underlay bridge owning the uplink, with the tunnel endpoint's
        address on the bridge's own (tap) interface, a route and the remote VTEP's neighbour entry."""
        pod, uplink = os.path.join(self.work, "ovs-a.sock"), os.path.join(self.work, "ovs-ul.sock")
        ib, pb = self.INT_BR, self.PHY_BR
        self.vsctl("add-br", ib, "--", "set", "bridge", ib, "datapath_type=netdev")
        self.vsctl("add-port", ib, "va", "--", "set", "Interface", "va", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={pod}", "ofport_request=1")
        self.vsctl("add-port", ib, "vx0", "--", "set", "Interface", "vx0", "type=vxlan",
                   "options:remote_ip=flow", f"options:key={VNI}", f"options:dst_port={VXLAN_PORT}",
                   "ofport_request=2")
        self.vsctl("add-br", pb, "--", "set", "bridge", pb, "datapath_type=netdev",
                   f"other_config:hwaddr={self.VTEP_MAC}")
        self.vsctl("add-port", pb, "ul", "--", "set", "Interface", "ul", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={uplink}", f"mtu_request={UPLINK_MTU}", "ofport_request=1")
        # The tunnel endpoint address lives on the underlay bridge's tap (OVS reads it from the
        # kernel); nothing of the host should talk on that tap.
        run(["sysctl", "-qw", f"net.ipv6.conf.{pb}.disable_ipv6=1"])
        run(["ip", "addr", "add", f"{NODE_IP}/{UNDERLAY_LEN}", "dev", pb])
        run(["ip", "link", "set", pb, "up"])
        subnet = f"{NODE_IP.rsplit('.', 1)[0]}.0/{UNDERLAY_LEN}"
        try:
            wait_for(lambda: subnet in self.appctl("ovs/route/show"), 5, "OVS to learn the underlay route")
        except RuntimeError:
            self.appctl("ovs/route/add", subnet, pb)
        self.appctl("tnl/arp/set", pb, REMOTE_NODE_IP, REMOTE_VTEP_MAC)
        # Underlay bridge: the uplink and the bridge's own port (where tunnels end) only.
        self.ofctl(pb, "del-flows")
        self.ofctl(pb, "add-flow", "priority=10,in_port=LOCAL,actions=output:1")
        self.ofctl(pb, "add-flow", "priority=10,in_port=1,actions=LOCAL")
        # Integration bridge, podvs's semantics: to a remote node's pod, route (set the tunnel
        # destination), decrement the TTL, inner MACs from our VTEP to theirs; from the tunnel
        # (our VNI, to our VTEP MAC), route to the pod with the gateway MAC as source.
        self.ofctl(ib, "del-flows")
        self.ofctl(ib, "add-flow", f"priority=10,in_port=1,ip,nw_dst={REMOTE_POD_CIDR},actions="
                   f"set_field:{REMOTE_NODE_IP}->tun_dst,mod_dl_src:{self.VTEP_MAC},"
                   f"mod_dl_dst:{REMOTE_VTEP_MAC},dec_ttl,output:2")
        self.ofctl(ib, "add-flow", f"priority=10,in_port=2,tun_id={VNI},ip,dl_dst={self.VTEP_MAC},"
                   f"nw_dst=10.244.0.2,actions=mod_dl_src:{GATEWAY_MAC},mod_dl_dst:{self.POD_MAC},"
                   "dec_ttl,output:1")
        return vxlan_ends(pod, uplink, self.POD_MAC, "10.244.0.2", self.VTEP_MAC)

    def start_services(self):
        """The Services as OpenFlow rules with conntrack and NAT in the userspace datapath, the way
        OVN programs a load balancer: every packet to a frontend or from the endpoint goes through
        ct(zone, nat), which translates the packets of a known connection; a new connection to a
        frontend goes to the Service's select group (dp_hash), whose one bucket per endpoint
        commits the connection with its DNAT. Then podvs's routing: both MACs, TTL, out the pod.
        Pod-to-pod traffic never meets conntrack, as in podvs."""
        a, b = os.path.join(self.work, "ovs-a.sock"), os.path.join(self.work, "ovs-b.sock")
        br = self.SVC_BR
        self.vsctl("add-br", br, "--", "set", "bridge", br, "datapath_type=netdev",
                   "protocols=OpenFlow10,OpenFlow13,OpenFlow15")
        self.vsctl("add-port", br, "va", "--", "set", "Interface", "va", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={a}", "ofport_request=1")
        self.vsctl("add-port", br, "vb", "--", "set", "Interface", "vb", "type=dpdkvhostuserclient",
                   f"options:vhost-server-path={b}", "ofport_request=2")
        self.appctl("dpctl/ct-set-maxconns", str(CONNTRACK_ENTRIES))
        pod_a, pod_b, mac_a, mac_b = "10.244.0.2", "10.244.0.3", self.POD_MAC, "0a:58:0a:f4:00:03"
        to_a = f"mod_dl_src:{GATEWAY_MAC},mod_dl_dst:{mac_a},dec_ttl,output:1"
        to_b = f"mod_dl_src:{GATEWAY_MAC},mod_dl_dst:{mac_b},dec_ttl,output:2"
        zone = 1
        flows = [f"table=0,priority=10,ip,nw_dst={pod_a},actions={to_a}",
                 f"table=0,priority=10,ip,nw_dst={pod_b},actions={to_b}",
                 f"table=1,priority=10,ct_state=+trk-inv,ip,nw_dst={pod_a},actions={to_a}",
                 f"table=1,priority=10,ct_state=+trk-inv,ip,nw_dst={pod_b},actions={to_b}"]
        groups = []
        for group_id, (_, vip, target) in enumerate(service_frontends(), start=1):
            frontend = f"udp,nw_dst={vip},tp_dst={SVC_PORT}"
            flows.append(f"table=0,priority=20,{frontend},actions=ct(zone={zone},nat,table=1)")
            flows.append(f"table=1,priority=20,ct_state=+new+trk,{frontend},actions=group:{group_id}")
            # Replies from the endpoint are translated back (one-way UDP sends none, but a
            # Service needs them).
            flows.append(f"table=0,priority=20,udp,nw_src={pod_b},tp_src={target},"
                         f"actions=ct(zone={zone},nat,table=1)")
            groups.append(f"group_id={group_id},type=select,selection_method=dp_hash,"
                          f"bucket=bucket_id:0,actions=ct(commit,zone={zone},table=1,"
                          f"nat(dst={pod_b}:{target}))")
        flow_file, group_file = os.path.join(self.dir, "flows.txt"), os.path.join(self.dir, "groups.txt")
        open(flow_file, "w").write("\n".join(flows) + "\n")
        open(group_file, "w").write("\n".join(groups) + "\n")
        mgmt = "unix:" + os.path.join(self.dir, br + ".mgmt")
        run(["ovs-ofctl", "-O", "OpenFlow15", "del-flows", mgmt], env=self.env)
        run(["ovs-ofctl", "-O", "OpenFlow15", "add-groups", mgmt, group_file], env=self.env)
        run(["ovs-ofctl", "-O", "OpenFlow15", "add-flows", mgmt, flow_file], env=self.env)
        return service_ends({"tx_socket": a, "rx_socket": b, "tx_mac": mac_a, "rx_mac": mac_b,
                             "dst_mac": GATEWAY_MAC, "src_ip": pod_a, "dst_ip": pod_b})

    def diagnose(self):
        out = [self.appctl("dpif-netdev/pmd-stats-show"), self.appctl("tnl/ports/show"),
               self.appctl("tnl/neigh/show"), self.appctl("dpctl/dump-flows")]
        return "\n".join(out)[-3000:]

    def clear(self):
        self.appctl("dpif-netdev/pmd-stats-clear")

    def cycles_per_packet(self):
        for line in self.appctl("dpif-netdev/pmd-stats-show").splitlines():
            if "avg processing cycles per packet" in line:
                return float(line.split(":")[1].split()[0])
        return None

    def pid(self):
        return self.vswitchd.pid

    def busy_counters(self):
        """The PMD thread's own accounting (pmd-stats-show, since the last clear): processing
        cycles against processing plus idle cycles."""
        idle = processing = None
        ours = False  # in the section of the PMD thread on the switch core
        for line in self.appctl("dpif-netdev/pmd-stats-show").splitlines():
            if not line.startswith(" "):
                ours = line.startswith("pmd thread") and f"core_id {SWITCH_CPU}:" in line
            line = line.strip()
            if not ours:
                continue
            if line.startswith("idle cycles:"):
                idle = int(line.split()[2])
            elif line.startswith("processing cycles:"):
                processing = int(line.split()[2])
        if idle is None or processing is None:
            return None
        return processing, processing + idle

    def connection_stats(self):
        """Connections in OVS's table (none expire within a run: UDP's shortest timeout is 30 s)."""
        return {"conntrack_entries": int(self.appctl("dpctl/ct-get-nconns").strip())}

    def stop(self):
        if self.vswitchd:
            try:
                self.appctl("exit", "--cleanup")
                self.vswitchd.wait(20)
            except Exception:
                pass
            if self.vswitchd in self.procs.procs:
                self.procs.stop(self.vswitchd)
        if self.db:
            self.procs.stop(self.db)
        # exit --cleanup removes the bridges' taps; if OVS died first they stay behind.
        for tap in (self.INT_BR, self.PHY_BR, self.SVC_BR):
            if os.path.exists(os.path.join("/sys/class/net", tap)):
                subprocess.run(["ip", "link", "del", tap], check=False, capture_output=True)


def service_frontends():
    """(name, ClusterIP, target port) of every Service the scenarios use: the established
    scenario's first, then the new-connection sweep's."""
    first = ipaddress.IPv4Address(NEW_CONN_FIRST_IP)
    return [("svc", SVC_IP, SVC_TARGET_PORT)] + [
        (f"new{i}", str(first + i), SVC_TARGET_PORT + 1 + i) for i in range(NEW_CONN_SERVICES)]


def service_ends(pods):
    """The generator's ends for the Services scenarios through a switch whose pods are `pods`
    (pod_ends: A sends, B is every Service's endpoint): the sink accepts only frames translated to
    B's target port with correct checksums. "check" is what the forwarding check and the warm-up
    run send instead of the scenario's own traffic: one flow through a Service."""
    def expect(first, last):
        return ["--expect-dst", f"{pods['dst_ip']}:{first}-{last}", "--dst-port", str(SVC_PORT),
                "--dst-port-count", "1"]
    established = dict(pods, dst_ip=SVC_IP, args=expect(SVC_TARGET_PORT, SVC_TARGET_PORT))
    _, last_vip, last_target = service_frontends()[-1]
    new = dict(pods, dst_ip=NEW_CONN_FIRST_IP, warmup=NEW_CONN_WARMUP_S,
               args=expect(SVC_TARGET_PORT + 1, last_target)
               + ["--new-flows", str(NEW_CONN_FLOWS), "--dst-ip-count", str(NEW_CONN_SERVICES)],
               check=dict(pods, dst_ip=last_vip, args=expect(last_target, last_target)))
    return {"svc-est": established, "svc-new": new}


def vxlan_ends(pod_socket, uplink_socket, pod_mac, pod_ip, vtep_mac):
    """The generator's ends for the two VXLAN directions through a switch whose pod is
    (pod_socket, pod_mac, pod_ip) and whose uplink has VTEP MAC vtep_mac; pktgen plays the remote
    node on the uplink and answers the switch's ARP for it."""
    arp = ["--answer-arp", f"{REMOTE_NODE_IP},{REMOTE_VTEP_MAC}", "--vxlan-port", str(VXLAN_PORT),
           "--vni", str(VNI)]
    encap = {"tx_socket": pod_socket, "rx_socket": uplink_socket, "tx_mac": pod_mac,
             "rx_mac": REMOTE_VTEP_MAC, "dst_mac": GATEWAY_MAC, "src_ip": pod_ip,
             "dst_ip": REMOTE_POD_IP, "args": ["--vxlan-rx", *arp]}
    decap = {"tx_socket": uplink_socket, "rx_socket": pod_socket, "tx_mac": REMOTE_VTEP_MAC,
             "rx_mac": pod_mac, "dst_mac": vtep_mac, "src_ip": REMOTE_POD_IP, "dst_ip": pod_ip,
             "args": ["--vxlan-tx", "--outer-src-mac", REMOTE_VTEP_MAC, "--outer-dst-mac", vtep_mac,
                      "--outer-src-ip", REMOTE_NODE_IP, "--outer-dst-ip", NODE_IP, *arp]}
    return {"encap": encap, "decap": decap}


def pktgen(procs, work, ends, size, flows, duration, warmup, rate=0.0, tcp=False, sw=None,
           kind=None, started=None):
    """One generator run against a started switch; returns its JSON report. `ends` may override
    the warm-up (a new-connection sweep keeps it short). With `sw` and `kind` (bench_validity.KINDS)
    the report also holds the run's evidence, sampled over its measured window, and "invalid":
    why it cannot be believed (empty when it can). `started` (a threading.Event) is set when the
    measured window begins."""
    warmup = ends.get("warmup", warmup)
    window = None
    if sw is not None:
        mark = os.path.join(work, "window.marks")
        window = Window(sw, mark, duration, MEASURED_CPUS, SWITCH_CPU, started)
    args = [PKTGEN, f"--lcores=0@{GEN_CPU}", "--no-pci",
            "--in-memory", "--single-file-segments", f"--file-prefix={NAME}_gen", "--log-level=3",
            "--", "--server", "--tx-socket", ends["tx_socket"], "--rx-socket", ends["rx_socket"],
            "--tx-mac", ends["tx_mac"], "--rx-mac", ends["rx_mac"], "--src-mac", ends["tx_mac"],
            "--dst-mac", ends["dst_mac"], "--src-ip", ends["src_ip"], "--dst-ip", ends["dst_ip"],
            "--size", str(size), "--flows", str(flows), "--rate", str(rate),
            "--duration", str(duration), "--warmup", str(warmup), "--wait-link", "30", "--json"]
    if VIRTIO_ARGS is not None:
        args += ["--virtio-args", VIRTIO_ARGS]
    if tcp:
        args.append("--tcp")
    if window:
        args += ["--mark-window", mark]
    args += ends.get("args", [])
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=duration + warmup + 60,
                             stdin=subprocess.DEVNULL, preexec_fn=unpin)
    finally:
        if window:
            window.finish()
    if out.returncode != 0:
        raise RuntimeError("podvs-pktgen failed: " + out.stderr[-2000:])
    r = json.loads(out.stdout.strip().splitlines()[-1])
    if window:
        evidence = window.evidence()
        evidence.update(kind=kind, generator_idle_pct=r["headroom"]["idle_pct"],
                        generator_stalled_pct=r["headroom"]["stalled_pct"], loss_pct=r["loss_pct"])
        r["evidence"] = evidence
        r["invalid"] = bench_validity.judge(evidence)
    return r


def no_drop_rate(procs, work, ends, ceiling, seconds, warmup, steps):
    """Highest rate with zero loss over `seconds`: binary search below the best measured rate."""
    low, high = 0.0, ceiling
    for _ in range(steps):
        rate = (low + high) / 2
        r = pktgen(procs, work, ends, 64, 1, seconds, warmup, rate=rate)
        if r["rx_packets"] > 0 and r["loss"] == 0:
            low = rate
        else:
            high = rate
    return low


SCENARIOS = [  # label, frame size (inner with VXLAN), flows, TCP-flagged, path
    ("64B, 1 flow", 64, 1, False, "pods"), ("64B, 1k flows", 64, 1000, False, "pods"),
    ("64B, 100k flows", 64, 100000, False, "pods"), ("64B TCP, 1k flows", 64, 1000, True, "pods"),
    ("512B, 1k flows", 512, 1000, False, "pods"), ("1518B, 1k flows", 1518, 1000, False, "pods"),
    ("VXLAN encap 64B", 64, 1000, False, "encap"), ("VXLAN encap 1518B", 1518, 1000, False, "encap"),
    ("VXLAN decap 64B", 64, 1000, False, "decap"), ("VXLAN decap 1518B", 1518, 1000, False, "decap"),
    ("ClusterIP 64B, 1k flows (established)", 64, 1000, False, "svc-est"),
    ("ClusterIP 64B, new connections", 64, 1, False, "svc-new")]
# How a switch is started for a path: pod to pod, with an uplink for both VXLAN directions, or
# with the Services (and a connection table of CONNTRACK_ENTRIES) for the ClusterIP paths.
MODE = {"pods": "pods", "encap": "vxlan", "decap": "vxlan", "svc-est": "services",
        "svc-new": "services"}
VERIFY_RATE_MPPS = 0.1
VERIFY_ATTEMPTS = 4  # a switch that lost the remote VTEP's ARP asks again within ~10 s
VERIFY_MAX_LOSS_PCT = 1.0


def path_ends(ends, path):
    return ends if path == "pods" else ends[path]


def check_ends(ends):
    """What the forwarding check and the warm-up send: the path's own ends unless it names others."""
    return ends.get("check", ends)


def verify_forwarding(sw, procs, work, ends, path):
    """Numbers count only from a switch that forwards: at a low rate nearly everything must
    arrive (and, with VXLAN, arrive encapsulated). The first attempts may lose packets while the
    switch resolves the remote VTEP."""
    for attempt in range(VERIFY_ATTEMPTS):
        r = pktgen(procs, work, check_ends(ends), 64, 1, 1, 1, rate=VERIFY_RATE_MPPS)
        ok = (r["rx_packets"] > 0 and r["loss_pct"] <= VERIFY_MAX_LOSS_PCT
              and r.get("rx_not_vxlan", 0) == 0 and r.get("rx_wrong_dst", 0) == 0
              and r.get("rx_bad_checksum", 0) == 0)
        if ok:
            return
        print(f"{sw.name:12} {path}: forwarding check {attempt + 1} failed (rx {r['rx_packets']}"
              f" of {r['tx_packets']}, not VXLAN {r.get('rx_not_vxlan', 0)}, not translated "
              f"{r.get('rx_wrong_dst', 0)}, bad checksum {r.get('rx_bad_checksum', 0)})", flush=True)
        time.sleep(3)
    raise RuntimeError(f"{sw.name} does not forward on the {path} path: {json.dumps(r)}\n"
                       + sw.diagnose())


def core_round_trip_ns():
    """The cache-line round trip between the generator's and the switch's CPUs now
    (perf/core_probe.cc), or None when it cannot be measured. Only while no switch polls."""
    try:
        out = subprocess.run([CORE_PROBE, str(GEN_CPU), str(SWITCH_CPU)], capture_output=True,
                             text=True, timeout=30, stdin=subprocess.DEVNULL)
        return json.loads(out.stdout)["round_trip_ns"] if out.returncode == 0 else None
    except (OSError, ValueError, KeyError, subprocess.TimeoutExpired):
        return None


PLACEMENT_WAIT_S = 0  # set from --placement-wait


def close_cpus_round_trip_ns():
    """The CPUs' round trip before a session, after waiting up to PLACEMENT_WAIT_S seconds for the
    host to put them close (bench_validity's placement threshold): a session started while they
    are apart is invalid by that rule, so waiting a minute for the host's next move costs less
    than a spoiled session. The reading returned is the one the session is judged by."""
    limit = bench_validity.THRESHOLDS["core_round_trip_ns_max"]
    deadline = time.monotonic() + PLACEMENT_WAIT_S
    rtt = core_round_trip_ns()
    waited = 0
    while rtt is not None and rtt > limit and time.monotonic() < deadline:
        time.sleep(5)
        waited += 5
        rtt = core_round_trip_ns()
    if waited:
        print(f"waited {waited} s for the host to place the measured CPUs close: {rtt} ns",
              flush=True)
    return rtt


SESSION_PER_SCENARIO = False  # set from --session-per-scenario


def sessions(scenarios):
    """The switch sessions of one repetition, as (mode, scenarios) in order: one per mode (the
    switch started once for all its scenarios), or with --session-per-scenario one per scenario,
    so that the placement probes bracket a single measurement (each costs a start, a check and a
    warm-up: some 25 s a scenario, about three times the run)."""
    if SESSION_PER_SCENARIO:
        return [(MODE[s[4]], [s]) for s in scenarios]
    return [(mode, [s for s in scenarios if MODE[s[4]] == mode])
            for mode in dict.fromkeys(MODE[s[4]] for s in scenarios)]


def run_switch_once(sw, procs, work, duration, warmup, scenarios, reference=None):
    """Runs every scenario once on one switch, session by session (sessions()): one repetition of
    that switch. Scenarios the switch cannot run are left out. podvs's rows print their cycles
    per packet against `reference` (bench_reference.py)."""
    out = {}
    skipped = set()
    for mode, group in sessions(scenarios):
        if mode not in sw.modes:
            if mode not in skipped:
                print(f"{sw.name:12} skips the {mode} scenarios (it cannot encapsulate or NAT)",
                      flush=True)
                skipped.add(mode)
            continue
        # Where the host has the two vCPUs, before the switch starts and after it stops: a run
        # is comparable with another only under the same placement (perf/core_probe.cc).
        rtt_before = close_cpus_round_trip_ns()
        session = []
        try:
            ends = sw.start(mode)
            for path in dict.fromkeys(s[4] for s in group):
                verify_forwarding(sw, procs, work, path_ends(ends, path), path)
                pktgen(procs, work, check_ends(path_ends(ends, path)), 64, 1, 2, 1)  # warm the path once
            for label, size, flows, tcp, path in group:
                sw.clear()
                r = pktgen(procs, work, path_ends(ends, path), size, flows, duration, warmup, tcp=tcp,
                           sw=sw, kind="max_rate")
                r["cycles_per_packet"] = sw.cycles_per_packet()
                if path == "svc-new":
                    # Every packet sent is a connection the switch must have created.
                    r["connections"] = sw.connection_stats()
                out[label] = r
                session.append((label, r))
        finally:
            sw.stop()
            rtt_after = core_round_trip_ns()
            placed([r for _, r in session], rtt_before, rtt_after)
        # Printed once the placement after the session is known: the verdict includes it.
        for label, r in session:
            cost = (" " + bench_reference.describe(label, r["cycles_per_packet"], reference,
                                                    invalid=r.get("invalid", ["no evidence"]))
                    if sw.name == "podvs" else "")
            print(f"{sw.name:12} {label:18} {r['rx_mpps']:.2f} Mpps (loss {r['loss_pct']:.2f} %)"
                  f"{cost} {describe(r)}", flush=True)
        print(f"{sw.name:12} {mode}: cache-line round trip between the measured CPUs "
              f"{rtt_before} ns before, {rtt_after} ns after", flush=True)
    return out


def judge_again(r):
    """Judges a run's recorded evidence (if it has any) with perf/bench_validity.py's rules."""
    if r and r.get("evidence"):
        r["invalid"] = bench_validity.judge(r["evidence"])


def placed(reports, before, after):
    """Adds the CPUs' placement around a switch's session to the evidence of the runs measured in
    it, and judges them again with it (perf/bench_validity.py's placement rule)."""
    for r in reports:
        if r.get("evidence") is not None:
            r["evidence"].update(core_round_trip_ns_before=before, core_round_trip_ns_after=after)
            judge_again(r)


def describe(r):
    """A run's evidence in one line: what perf/bench_validity.py judged from."""
    e = r.get("evidence")
    if not e:
        return ""
    f = lambda key, fmt: "?" if e.get(key) is None else format(e[key], fmt)
    verdict = "valid" if not r["invalid"] else "INVALID: " + "; ".join(r["invalid"])
    return (f"[generator idle {f('generator_idle_pct', '.1f')} % stalled "
            f"{f('generator_stalled_pct', '.2f')} %, switch busy {f('switch_busy_pct', '.1f')} %"
            + (f" with {f('switch_rx_burst_avg', '.1f')} packets per rx burst"
               if e.get("switch_rx_burst_avg") is not None else "") + ", "
            f"run-queue wait {f('switch_runq_wait_pct', '.2f')} %, involuntary "
            f"{f('switch_involuntary_per_s', '.0f')}/s, steal {f('steal_pct', '.2f')} %: {verdict}]")


def latency_and_ndr(sw, procs, work, row, duration, warmup, ndr_seconds, ndr_steps):
    """Latency at half the measured 64B/1-flow rate and the no-drop rate, on a fresh start. The
    no-drop rate found is sent once more with its evidence gathered: the row's no-drop figure
    counts only if that run, too, lost (almost) nothing on a quiet machine."""
    rtt_before = close_cpus_round_trip_ns()
    measured = []
    try:
        ends = sw.start()
        verify_forwarding(sw, procs, work, ends, "pods")
        pktgen(procs, work, ends, 64, 1, 2, 1)
        lat = pktgen(procs, work, ends, 64, 1, duration, warmup, rate=row["mpps_median"] / 2,
                     sw=sw, kind="paced")
        row["latency_us_at_half_rate"] = {k: lat["latency_us"].get(k) for k in ("p50", "p99", "p99_9")}
        row["latency_run"] = lat
        measured.append(lat)
        row["ndr_mpps"] = no_drop_rate(procs, work, ends, row["mpps_max"], ndr_seconds, warmup, ndr_steps)
        if row["ndr_mpps"] > 0:
            check = pktgen(procs, work, ends, 64, 1, ndr_seconds, warmup, rate=row["ndr_mpps"],
                           sw=sw, kind="ndr")
            row["ndr_run"] = check
            measured.append(check)
            print(f"{sw.name:12} no-drop rate {row['ndr_mpps']:.2f} Mpps, sent again: loss "
                  f"{check['loss_pct']:.3f} %", flush=True)
    finally:
        sw.stop()
        placed(measured, rtt_before, core_round_trip_ns())
    for r in measured:
        print(f"{sw.name:12} {'no-drop rate, sent again' if r is row.get('ndr_run') else 'latency at half rate'} "
              f"{describe(r)}", flush=True)


def perf_script(name, *args):
    """Runs perf/NAME with podvs from BUILD; returns the JSON of its last "JSON " line."""
    out = subprocess.run(["bash", os.path.join(TOP, "perf", name), *map(str, args)],
                         capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL,
                         env=dict(os.environ, PODVSD=os.path.join(BUILD, "podvsd"),
                                  PODVSCTL=os.path.join(BUILD, "podvsctl")))
    for line in out.stdout.splitlines():
        if line.startswith("JSON "):
            return json.loads(line[5:])
    raise RuntimeError(name + " failed: " + (out.stdout + out.stderr)[-2000:])


def control_plane(pods, services):
    """Pod add to first forwarded packet and pods attached per second (perf/attach_latency.sh);
    the time to program `services` Services of 10 endpoints each and to restore them on a restart
    (perf/service_programming.sh)."""
    cp = perf_script("attach_latency.sh", pods, 20)
    try:
        cp["services"] = perf_script("service_programming.sh", services, 10)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        # The throughput results of a long run are still worth writing.
        print(e, file=sys.stderr)
        cp["services"] = {"error": str(e)[-500:]}
    return cp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="short runs (3 s measured, 1 s warm-up)")
    ap.add_argument("--repetitions", type=int, default=5,
                    help="runs of every scenario on every switch, interleaved between switches "
                         "(podvs, testpmd, OVS, podvs, ...); min/median/max over the valid ones, "
                         f"of which a row needs {bench_validity.MIN_VALID_REPETITIONS}")
    ap.add_argument("--switches", default="podvs,testpmd,ovs")
    ap.add_argument("--scenarios", default="", help="labels to run, separated by semicolons (default: all)")
    ap.add_argument("--no-control-plane", action="store_true", help="skip the pod attach measurement")
    ap.add_argument("--boost", action="store_true",
                    help="give the switch and the generator the highest scheduling weight (for a "
                         "shared machine; the output says so; not for README figures)")
    ap.add_argument("--virtio-args", default=None,
                    help="more virtio_user devargs for the generator's ports (default: none, "
                         "the virtio PMD's own features)")
    ap.add_argument("--placement-wait", type=int, default=180,
                    help="seconds to wait before each switch session for the host to place the "
                         "generator's and the switch's CPUs close (perf/core_probe.cc); a session "
                         "that starts with them apart is invalid (default: 180)")
    ap.add_argument("--session-per-scenario", action="store_true",
                    help="start the switch for each scenario, not once per mode, so that the "
                         "placement probes bracket one measurement (about three times as long)")
    ap.add_argument("--out", default=os.path.join(TOP, "perf", "results"))
    ap.add_argument("--reference", default=os.path.join(TOP, "perf", "results", "reference.json"),
                    help="the README run's cycles per packet (its DIR/reference.json), which podvs's "
                         "rows are compared with")
    ap.add_argument("--rejudge", action="store_true",
                    help="measure nothing: judge the runs in OUT/results.json again with today's "
                         "rules and write OUT's files again from them")
    opts = ap.parse_args()
    if opts.rejudge:
        rejudge(opts.out, bench_reference.load(opts.reference))
        return
    reps = opts.repetitions
    duration, warmup = (3, 1) if opts.quick else (10, 2)
    ndr_seconds, ndr_steps = (2, 3) if opts.quick else (10, 6)
    wanted = set(filter(None, opts.scenarios.split(";")))
    scenarios = [s for s in SCENARIOS if not wanted or s[0] in wanted]
    switches = {"podvs": Podvs, "testpmd": Testpmd, "ovs": Ovs}
    os.makedirs(opts.out, exist_ok=True)
    global BOOST, VIRTIO_ARGS, PLACEMENT_WAIT_S, SESSION_PER_SCENARIO
    SESSION_PER_SCENARIO = opts.session_per_scenario
    VIRTIO_ARGS = opts.virtio_args
    PLACEMENT_WAIT_S = opts.placement_wait
    BOOST = opts.boost
    harness_cpus = pin_harness()
    machine = bench_evidence.machine(MEASURED_CPUS)
    machine.update(generator_cpu=GEN_CPU, switch_cpu=SWITCH_CPU, harness_cpus=harness_cpus, boost=BOOST,
                   repetitions=reps, duration_s=duration, warmup_s=warmup,
                   placement_wait_s=PLACEMENT_WAIT_S, session_per_scenario=SESSION_PER_SCENARIO)
    print(machine_line(machine), flush=True)
    # Read before this run writes its own (DIR/reference.json may be the same file).
    reference = bench_reference.load(opts.reference)
    if reference:
        print(f"podvs's cycles per packet are compared with {opts.reference} of "
              f"{reference['date_utc']} (tolerance {bench_reference.TOLERANCE_PCT:g} %)"
              + ("; " + bench_reference.other_machine(reference, machine)
                 if bench_reference.other_machine(reference, machine) else ""), flush=True)
    results = []
    procs = Processes()
    work = tempfile.mkdtemp(prefix="podvs-bench-")
    runs = {}  # (switch, scenario) -> [report per repetition]
    try:
        # Repetitions alternate between switches, so that the drift of a shared VM over the run
        # lands on every switch alike instead of on whichever ran last.
        for _ in range(reps):
            for key in opts.switches.split(","):
                sw = switches[key](procs, work)
                once = run_switch_once(sw, procs, work, duration, warmup, scenarios, reference)
                for label, r in once.items():
                    runs.setdefault((sw.name, label), []).append(r)
        for key in opts.switches.split(","):
            sw = switches[key](procs, work)
            for label, size, flows, tcp, path in scenarios:
                rs = runs.get((sw.name, label))
                if not rs:
                    continue  # a path this switch cannot take (testpmd-io and VXLAN)
                row = make_row(sw.name, (label, size, flows, tcp, path), rs)
                if size == 64 and flows == 1 and path == "pods":
                    latency_and_ndr(sw, procs, work, row, duration, warmup, ndr_seconds, ndr_steps)
                results.append(row)
        cp = (None if opts.no_control_plane
              else control_plane(20 if opts.quick else 100, 1000 if opts.quick else 10000))
    finally:
        procs.stop_all()
        shutil.rmtree(work, ignore_errors=True)
    machine["loadavg_at_end"] = open("/proc/loadavg").read().split()[:3]
    write_outputs(opts.out, machine, results, cp, reference)


def make_row(switch, scenario, rs):
    """One switch's row of one scenario from its repetitions' reports. The figures come from the
    valid repetitions when there are enough of them; the others are set aside and listed
    (bench_validity.valid_repetitions)."""
    label, size, flows, tcp, path = scenario
    verdicts = [r.get("invalid", ["no evidence"]) for r in rs]
    used, invalid = bench_validity.valid_repetitions(verdicts)
    mpps = [rs[i]["rx_mpps"] for i in used]
    cycles = [rs[i]["cycles_per_packet"] for i in used if rs[i]["cycles_per_packet"]]
    row = {"switch": switch, "scenario": label, "size": size, "flows": flows, "tcp": tcp,
           "path": path,
           "mpps_min": min(mpps), "mpps_median": statistics.median(mpps),
           "mpps_max": max(mpps), "loss": rs[-1].get("loss"),
           "cycles_per_packet": statistics.median(cycles) if cycles else None, "runs": rs,
           "used_runs": used, "invalid": invalid,
           "set_aside": [] if invalid else bench_validity.summarize(
               [v for i, v in enumerate(verdicts) if i not in used])}
    if path == "svc-new":
        row["connections"] = [r["connections"] for r in rs]
    return row


def rejudge(out, reference):
    """Judges the runs recorded in OUT/results.json again with today's rules
    (perf/bench_validity.py) and writes every output again from them: a rule learnt from a run
    applies to its evidence without measuring anything again. The figures of each run are not
    touched; only which runs count."""
    data = json.load(open(os.path.join(out, "results.json")))
    scenarios = {s[0]: s for s in SCENARIOS}
    results = []
    for old in data["results"]:
        for r in old["runs"]:
            judge_again(r)
        row = make_row(old["switch"], scenarios[old["scenario"]], old["runs"])
        for key in ("latency_us_at_half_rate", "latency_run", "ndr_mpps", "ndr_run"):
            if key in old:
                row[key] = old[key]
        judge_again(row.get("latency_run"))
        judge_again(row.get("ndr_run"))
        results.append(row)
    data["machine"]["rejudged_utc"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    write_outputs(out, data["machine"], results, data.get("control_plane"), reference)


def write_outputs(out, machine, results, cp, reference):
    """results.json, results.md, readme_table.md, reference.json and the plot in OUT."""
    json.dump({"machine": machine, "thresholds": bench_validity.THRESHOLDS, "results": results,
               "control_plane": cp},
              open(os.path.join(out, "results.json"), "w"), indent=2)
    md = (machine_line(machine) + "\n\n" + table(results) + evidence_table(results)
          + invalid_list(results) + bench_reference.table(results, reference, machine)
          + control_plane_table(cp))
    open(os.path.join(out, "results.md"), "w").write(md)
    open(os.path.join(out, "readme_table.md"), "w").write(
        machine_line(machine) + "\n\n" + readme_table(results))
    # The next run's regression guard: the cycles per packet of the rows the README table shows.
    json.dump(bench_reference.make(results, machine),
              open(os.path.join(out, "reference.json"), "w"), indent=2)
    plot(results, os.path.join(out, "throughput.png"))
    print(md)


def machine_line(m):
    mhz = ", ".join(f"CPU {c}: {v:.0f} MHz" for c, v in sorted(m["cpu_mhz"].items()))
    return (f"{m['date_utc']}, {m['cpu_model']} ({m['cpus']} CPUs; {mhz}), kernel {m['kernel']}; "
            f"generator on CPU {m['generator_cpu']}, switch on CPU {m['switch_cpu']}, harness on "
            f"CPU {','.join(map(str, m['harness_cpus']))}; load average at start "
            f"{' '.join(m['loadavg_at_start'])}; {m['repetitions']} repetition(s) of "
            f"{m['duration_s']} s" + (f"; judged again {m['rejudged_utc']} (--rejudge)"
                                       if m.get("rejudged_utc") else "")
            + ("; BOOSTED (--boost: switch and generator at the highest "
                                       "scheduling weight on a shared machine)" if m.get("boost") else ""))


def ndr_invalid(r):
    if "ndr_run" not in r:
        return ["no-drop rate not confirmed: no rate without loss was found"]
    return r["ndr_run"]["invalid"]


def evidence_table(results):
    """Every row's evidence, the median over every repetition, set aside or not
    (perf/bench_validity.py's fields); "valid" says how many repetitions the figures come from."""
    fields = [("generator_idle_pct", "generator idle %", ".1f"),
              ("generator_stalled_pct", "generator stalled %", ".2f"),
              ("switch_busy_pct", "switch busy %", ".1f"),
              ("switch_rx_burst_avg", "packets per rx burst", ".1f"),
              ("core_round_trip_ns_before", "CPU-to-CPU round trip ns, before", ".0f"),
              ("core_round_trip_ns_after", "after", ".0f"),
              ("switch_runq_wait_pct", "run-queue wait %", ".2f"),
              ("switch_involuntary_per_s", "involuntary switches/s", ".0f"),
              ("steal_pct", "steal %", ".2f")]
    lines = ["", "| switch | scenario | " + " | ".join(h for _, h, _ in fields) + " | valid |",
             "| --- | --- | " + " | ".join("---" for _ in fields) + " | --- |"]
    for r in results:
        cells = []
        for key, _, fmt in fields:
            values = [x["evidence"][key] for x in r["runs"]
                      if x.get("evidence") and x["evidence"].get(key) is not None]
            cells.append(format(statistics.median(values), fmt) if values else "?")
        used = f"{len(r['used_runs'])} of {len(r['runs'])}" if not r["invalid"] else "no"
        lines.append(f"| {r['switch']} | {r['scenario']} | " + " | ".join(cells) + f" | {used} |")
    return "\n".join(lines) + "\n"


def invalid_list(results):
    """Why each invalid row is invalid (perf/bench_validity.py's reasons)."""
    lines = []
    for r in results:
        for what, reasons in ((r["scenario"], r["invalid"]),
                              (f"{r['scenario']}, no-drop rate", ndr_invalid(r) if "ndr_mpps" in r else []),
                              (f"{r['scenario']}, latency at half rate",
                               r["latency_run"]["invalid"] if "latency_run" in r else [])):
            if reasons:
                lines.append(f"- {r['switch']}, {what}: " + "; ".join(reasons))
    aside = [f"- {r['switch']}, {r['scenario']}: " + "; ".join(r["set_aside"])
             for r in results if r.get("set_aside")]
    out = ("\nEvery row is valid (perf/bench_validity.py).\n" if not lines else
           "\nInvalid rows (✗ above; perf/bench_validity.py), never to be quoted:\n"
           + "\n".join(lines) + "\n")
    if aside:
        out += ("\nRepetitions set aside in valid rows (their figures are the other repetitions'; "
                f"a row needs {bench_validity.MIN_VALID_REPETITIONS} valid ones):\n"
                + "\n".join(aside) + "\n")
    return out


def readme_table(results):
    """The README's table: only valid rows; an invalid one shows as '–' and takes no ratio."""
    by = {(r["scenario"], r["switch"]): r for r in results if not r["invalid"]}
    lines = ["| scenario | podvs Mpps (min/med/max) | testpmd-io Mpps | OVS-DPDK Mpps | podvs/testpmd | podvs/OVS | cycles/pkt podvs / OVS |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    ndr = []
    for scenario in dict.fromkeys(r["scenario"] for r in results):
        p, t, o = (by.get((scenario, s)) for s in ("podvs", "testpmd-io", "ovs-dpdk"))
        f = lambda r: f"{r['mpps_min']:.2f}/{r['mpps_median']:.2f}/{r['mpps_max']:.2f}" if r else "–"
        ratio = lambda a, b: f"{a['mpps_median'] / b['mpps_median']:.2f}" if a and b else "–"
        cyc = lambda r: f"{r['cycles_per_packet']:.0f}" if r and r.get("cycles_per_packet") else "–"
        lines.append(f"| {scenario} | {f(p)} | {f(t)} | {f(o)} | {ratio(p, t)} | {ratio(p, o)} | {cyc(p)} / {cyc(o)} |")
    for r in results:
        if "ndr_mpps" not in r:
            continue
        rate = f"{r['ndr_mpps']:.2f}" if not ndr_invalid(r) else "–"
        lat = r["latency_us_at_half_rate"]
        lat_ok = "latency_run" in r and not r["latency_run"]["invalid"]
        latency = f"{lat['p50']:.1f} / {lat['p99']:.1f} / {lat['p99_9']:.1f}" if lat_ok else "–"
        ndr.append(f"| {r['switch']} | {rate} | {latency} |")
    if ndr:
        lines += ["", "| 64B, 1 flow | no-drop rate (Mpps) | latency at half rate p50 / p99 / p99.9 (us) |",
                  "| --- | --- | --- |"] + ndr
    return "\n".join(lines) + "\n"


def control_plane_table(cp):
    if not cp:
        return ""
    return ("\n| podvs control plane (%d kernel pods, at most 20 attached) | p50 | p99 | max |\n"
            "| --- | --- | --- | --- |\n" % cp["pods"] +
            "| pod add (API call), ms | %.1f | %.1f | %.1f |\n" % tuple(cp["add_ms"]) +
            "| pod add to first forwarded packet, ms | %.1f | %.1f | %.1f |\n" % tuple(cp["attach_ms"]) +
            "\n%.1f pods attached per second (each cycle also deletes one pod)\n" % cp["pods_per_second"]
            + services_table(cp.get("services")))


def services_table(s):
    if not s:
        return ""
    if "error" in s:
        return f"\nperf/service_programming.sh failed: {s['error']}\n"
    return (f"\n| podvs Services ({s['services']} Services, {s['endpoints']} endpoints, "
            "perf/service_programming.sh) | value |\n| --- | --- |\n"
            f"| `podvsctl service load`, s | {s['load_s']:.2f} |\n"
            f"| Services programmed per second | {s['services_per_second']:.0f} |\n"
            f"| podvsd RSS before / after / after a restart, MiB | {s['rss_mb_before']} / "
            f"{s['rss_mb_after']} / {s['rss_mb_after_restart']} |\n"
            f"| `podvsctl --json service list` of them all, s | {s['list_s']:.2f} |\n"
            f"| restart to ready / last Service answering / every Service listed, s | "
            f"{s['restart_ready_s']:.2f} / {s['restart_reachable_s']:.2f} / {s['restart_listed_s']:.2f} |\n"
            f"| first start, nothing to restore, to ready, s | {s['fresh_start_ready_s']:.2f} |\n"
            f"| last Service: connections answered (endpoints reached) before / after the restart | "
            f"{s['answered']}/{s['connections']} ({s['endpoints_reached']}) / "
            f"{s['answered_after_restart']}/{s['connections']} ({s['endpoints_reached_after_restart']}) |\n"
            + (f"\n**{s['failed_checks']} check(s) of service_programming.sh failed.**\n"
               if s["failed_checks"] else ""))


def table(results):
    by = {(r["scenario"], r["switch"]): r for r in results}
    lines = ["| scenario | podvs Mpps (min/med/max) | testpmd-io Mpps | OVS-DPDK Mpps | podvs/testpmd | podvs/OVS | cycles/pkt podvs / OVS |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    extra = []
    for scenario in dict.fromkeys(r["scenario"] for r in results):
        p, t, o = (by.get((scenario, s)) for s in ("podvs", "testpmd-io", "ovs-dpdk"))
        f = lambda r: (f"{r['mpps_min']:.2f}/{r['mpps_median']:.2f}/{r['mpps_max']:.2f}"
                       + (" ✗" if r.get("invalid") else "")) if r else "-"
        ratio = lambda a, b: f"{a['mpps_median'] / b['mpps_median']:.2f}" if a and b and b["mpps_median"] else "-"
        cyc = lambda r: f"{r['cycles_per_packet']:.0f}" if r and r.get("cycles_per_packet") else "-"
        lines.append(f"| {scenario} | {f(p)} | {f(t)} | {f(o)} | {ratio(p, t)} | {ratio(p, o)} | {cyc(p)} / {cyc(o)} |")
        for r in (p, t, o):
            if r and "ndr_mpps" in r:
                lat = r["latency_us_at_half_rate"]
                ndr_mark = " ✗" if ndr_invalid(r) else ""
                lat_mark = " ✗" if r.get("latency_run", {}).get("invalid", True) else ""
                extra.append(f"| {r['switch']} | {r['ndr_mpps']:.2f}{ndr_mark} | {lat['p50']:.1f} / "
                             f"{lat['p99']:.1f} / {lat['p99_9']:.1f}{lat_mark} |")
    if any(r.get("path") in ("encap", "decap") for r in results):
        lines += ["", "VXLAN rows: inner frame sizes; testpmd-io cannot encapsulate or decapsulate ('-'). "
                  "Encap: pod to a remote node's pod (route, encapsulate, out the uplink); decap: "
                  "from the remote VTEP on the uplink to the pod."]
    if any(r.get("path", "").startswith("svc-") for r in results):
        lines += ["", f"ClusterIP rows: pod A sends UDP to ClusterIP:{SVC_PORT} of Services whose one "
                  f"endpoint is pod B (target port {SVC_TARGET_PORT}, or one of its own per Service "
                  "for new connections, so that reply tuples stay unique); the sink counts only "
                  "frames translated to B with correct checksums. podvs: `podvsctl service load`; OVS-DPDK: OVN's load-balancer "
                  "rules (ct(zone,nat) for frontends and replies, per Service a dp_hash select group "
                  "whose bucket commits ct(nat(dst=endpoint))); testpmd-io cannot NAT ('-'). "
                  "*established*: 1k flows whose connections the warm-up created; *new connections*: "
                  f"every packet a new connection ({NEW_CONN_FLOWS:,} distinct tuples over "
                  f"{NEW_CONN_SERVICES} ClusterIPs, connection tables of {CONNTRACK_ENTRIES:,} entries "
                  "on both switches): its Mpps is millions of connections created per second, each with its first "
                  "packet translated and delivered."]
        for r in results:
            if r.get("path") == "svc-new":
                lines.append(f"{r['switch']} after each new-connection run: {json.dumps(r['connections'])}"
                             f" (packets sent {[x['tx_packets'] + x['warmup_tx_packets'] for x in r['runs']]}, "
                             f"measured seconds {[round(x['duration_s'], 2) for x in r['runs']]})")
    if extra:
        lines += ["", "| 64B, 1 flow | no-drop rate (Mpps) | latency at half rate p50 / p99 / p99.9 (us) |",
                  "| --- | --- | --- |"] + extra
    return "\n".join(lines) + "\n"


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        # Debian's python3-matplotlib belongs to /usr/bin/python3, which may not be the python3
        # on PATH: let it draw from the saved results.
        if os.path.exists("/usr/bin/python3") and sys.executable != "/usr/bin/python3":
            subprocess.run(["/usr/bin/python3", __file__, "--plot", os.path.join(os.path.dirname(path), "results.json"), path], check=False)
        else:
            print("matplotlib missing (apt-get install python3-matplotlib): no plot", file=sys.stderr)
        return
    scenarios = list(dict.fromkeys(r["scenario"] for r in results))
    names = list(dict.fromkeys(r["switch"] for r in results))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    width = 0.8 / max(1, len(names))
    for i, n in enumerate(names):
        vals = [next((r["mpps_median"] for r in results if r["switch"] == n and r["scenario"] == s), 0) for s in scenarios]
        ax.bar([x + i * width for x in range(len(scenarios))], vals, width, label=n)
    ax.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(scenarios))], scenarios)
    ax.set_ylabel("Mpps (median)")
    ax.set_title("vhost-user pods (VXLAN to a remote node, ClusterIP DNAT), one switch core")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--plot":
        plot(json.load(open(sys.argv[2]))["results"], sys.argv[3])
        sys.exit(0)
    sys.exit(main())
