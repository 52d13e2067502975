#include "perf/pktgen/options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <iostream>

namespace podvs::pktgen {

namespace {

bool parse_mac(const std::string& text, rte_ether_addr& out) {
  return rte_ether_unformat_addr(text.c_str(), &out) == 0;
}

bool parse_ip(const std::string& text, uint32_t& out) {
  in_addr a{};
  if (inet_pton(AF_INET, text.c_str(), &a) != 1) return false;
  out = ntohl(a.s_addr);
  return true;
}

bool parse_port(const std::string& text, uint32_t& out) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = static_cast<uint32_t>(std::stoul(text));
  return out >= 1 && out <= 65535;
}

// IP:PORT or IP:FIRST-LAST.
bool parse_expect_dst(const std::string& text, ExpectedDst& out) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || !parse_ip(text.substr(0, colon), out.ip)) return false;
  const std::string ports = text.substr(colon + 1);
  const size_t dash = ports.find('-');
  uint32_t first = 0, last = 0;
  if (!parse_port(ports.substr(0, dash), first)) return false;
  if (dash == std::string::npos)
    last = first;
  else if (!parse_port(ports.substr(dash + 1), last) || last < first)
    return false;
  out.port_first = static_cast<uint16_t>(first);
  out.port_last = static_cast<uint16_t>(last);
  return true;
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, int& exit_code) {
  Options o;
  std::string tx_mac = "02:00:00:00:00:01";
  std::string rx_mac = "02:00:00:00:00:02";
  std::string src_mac, dst_mac;
  std::string src_ip = "10.0.0.1";
  std::string dst_ip = "10.0.0.2";
  bool tcp = false;
  std::string outer_src_mac, outer_dst_mac, outer_src_ip, outer_dst_ip, answer_arp;
  std::string expect_dst;

  CLI::App app{
      "podvs-pktgen: plays two DPDK pods on vhost-user sockets, sends IPv4 UDP/TCP frames on the "
      "tx socket, receives them on the rx socket and reports rates, loss, reordering and "
      "latency.\nUsage: podvs-pktgen [EAL args] -- [options]"};
  app.add_option("--tx-socket", o.tx_socket, "vhost-user socket of the sending port")->required();
  app.add_option("--rx-socket", o.rx_socket, "vhost-user socket of the receiving port")->required();
  app.add_flag("--server", o.server,
               "create the sockets (virtio_user server=1) for a vhost-user client switch");
  app.add_option("--virtio-args", o.virtio_args,
                 "more virtio_user devargs for both ports (\"\" for the PMD's defaults)")
      ->capture_default_str();
  app.add_option("--queue-size", o.queue_size, "virtio ring size")
      ->capture_default_str()
      ->check(CLI::IsMember({256, 512, 1024}));
  app.add_option("--tx-mac", tx_mac, "MAC of the sending virtio_user port")->capture_default_str();
  app.add_option("--rx-mac", rx_mac, "MAC of the receiving virtio_user port")
      ->capture_default_str();
  app.add_option("--src-mac", src_mac, "source MAC of sent frames (default: --tx-mac)");
  app.add_option(
      "--dst-mac", dst_mac,
      "destination MAC of sent frames, e.g. the switch's gateway MAC (default: --rx-mac)");
  app.add_option("--src-ip", src_ip, "first source IPv4 address")->capture_default_str();
  app.add_option("--dst-ip", dst_ip, "first destination IPv4 address")->capture_default_str();
  app.add_option("--src-ip-count", o.ranges.src_ip_count,
                 "source addresses flows may use (only when ports run out)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--dst-ip-count", o.ranges.dst_ip_count,
                 "destination addresses flows may use (only when ports run out)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--src-port", o.ranges.src_port, "first L4 source port")->capture_default_str();
  app.add_option("--src-port-count", o.ranges.src_port_count,
                 "source ports flows may use (default: every one from --src-port up); 1 sends a "
                 "server's replies: a fixed source port, flows varying the destination port")
      ->check(CLI::PositiveNumber);
  app.add_option("--dst-port", o.ranges.dst_port, "first L4 destination port")
      ->capture_default_str();
  app.add_option("--dst-port-count", o.ranges.dst_port_count,
                 "destination ports flows may use once source ports run out")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--size", o.size,
                 "frame size including the 4-byte FCS; with VXLAN the inner frame's (the frame on "
                 "the wire is 50 bytes longer)")
      ->capture_default_str()
      ->check(CLI::Range(64, 1518));
  app.add_option("--flows", o.flows, "distinct flows, sent round-robin")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--new-flows", o.new_flows,
                 "every packet gets a tuple no earlier packet had (a new connection to a stateful "
                 "switch), taken in order from the flow ranges; sending ends when this many have "
                 "been sent (or at the end of --duration). Needs --flows 1")
      ->check(CLI::Range(uint32_t{1}, uint32_t{1} << 31));
  app.add_option("--expect-dst", expect_dst,
                 "IP:PORT or IP:FIRST-LAST: received frames must arrive with this destination "
                 "address and an L4 port in the range (a switch's DNAT) and correct checksums; "
                 "others count as rx_wrong_dst or rx_bad_checksum (warm-up included), not as "
                 "received");
  app.add_flag("--tcp", tcp, "send TCP segments with SYN|ACK (no handshake) instead of UDP");
  app.add_option("--rate", o.rate_mpps, "send rate in Mpps, paced by the TSC; 0 = line rate")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--duration", o.duration_s, "measured seconds")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--warmup", o.warmup_s, "seconds sent before the measurement, not counted")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--wait-link", o.wait_link_s, "seconds to wait for both ports' link to come up")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--latency-samples", o.latency_samples, "latency sample array size")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1000}, uint64_t{100'000'000}));
  app.add_flag("--json", o.json, "print one JSON object on stdout instead of text");
  app.add_option("--mark-window", o.mark_window,
                 "append \"start NS\" and \"end NS\" (CLOCK_MONOTONIC) to this file when the "
                 "measured window starts and ends, for a harness that samples the machine over it");
  app.add_flag("--vxlan-tx", o.vxlan_tx,
               "wrap every sent frame in outer Ethernet/IPv4/UDP/VXLAN headers (a remote VTEP)");
  app.add_flag("--vxlan-rx", o.vxlan_rx,
               "receive VXLAN: skip the outer headers before reading the stamp; any other frame "
               "counts as an error (rx_not_vxlan)");
  app.add_option("--outer-src-mac", outer_src_mac,
                 "outer source MAC with --vxlan-tx (default: --tx-mac)");
  app.add_option("--outer-dst-mac", outer_dst_mac,
                 "outer destination MAC with --vxlan-tx: the switch's VTEP MAC");
  app.add_option("--outer-src-ip", outer_src_ip, "outer source IPv4 address with --vxlan-tx");
  app.add_option("--outer-dst-ip", outer_dst_ip,
                 "outer destination IPv4 address with --vxlan-tx: the switch's node IP");
  app.add_option("--vxlan-port", o.vxlan.udp_port, "VXLAN UDP destination port")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  app.add_option("--vni", o.vxlan.vni, "VXLAN network identifier")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{0}, kVxlanMaxVni));
  app.add_option("--answer-arp", answer_arp,
                 "IP,MAC: answer ARP requests for IP with MAC on either port and announce IP with "
                 "a gratuitous ARP on the VXLAN side (the remote VTEP a switch resolves)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }

  const auto fail = [&exit_code](const std::string& message) {
    std::cerr << "podvs-pktgen: " << message << "\n";
    exit_code = 1;
    return std::nullopt;
  };
  if (src_mac.empty()) src_mac = tx_mac;
  if (dst_mac.empty()) dst_mac = rx_mac;
  if (!parse_mac(tx_mac, o.tx_mac)) return fail("--tx-mac " + tx_mac + " is not a MAC address");
  if (!parse_mac(rx_mac, o.rx_mac)) return fail("--rx-mac " + rx_mac + " is not a MAC address");
  if (!parse_mac(src_mac, o.frame.src_mac))
    return fail("--src-mac " + src_mac + " is not a MAC address");
  if (!parse_mac(dst_mac, o.frame.dst_mac))
    return fail("--dst-mac " + dst_mac + " is not a MAC address");
  if (!parse_ip(src_ip, o.ranges.src_ip)) return fail("--src-ip " + src_ip + " is not IPv4");
  if (!parse_ip(dst_ip, o.ranges.dst_ip)) return fail("--dst-ip " + dst_ip + " is not IPv4");
  if (o.tx_socket == o.rx_socket) return fail("--tx-socket and --rx-socket must differ");
  if (o.vxlan_tx) {
    if (outer_src_mac.empty()) outer_src_mac = tx_mac;
    if (outer_dst_mac.empty() || outer_src_ip.empty() || outer_dst_ip.empty())
      return fail("--vxlan-tx needs --outer-dst-mac, --outer-src-ip and --outer-dst-ip");
    if (!parse_mac(outer_src_mac, o.vxlan.src_mac))
      return fail("--outer-src-mac " + outer_src_mac + " is not a MAC address");
    if (!parse_mac(outer_dst_mac, o.vxlan.dst_mac))
      return fail("--outer-dst-mac " + outer_dst_mac + " is not a MAC address");
    if (!parse_ip(outer_src_ip, o.vxlan.src_ip))
      return fail("--outer-src-ip " + outer_src_ip + " is not IPv4");
    if (!parse_ip(outer_dst_ip, o.vxlan.dst_ip))
      return fail("--outer-dst-ip " + outer_dst_ip + " is not IPv4");
  } else if (!outer_src_mac.empty() || !outer_dst_mac.empty() || !outer_src_ip.empty() ||
             !outer_dst_ip.empty()) {
    return fail("--outer-* options need --vxlan-tx");
  }
  if (!answer_arp.empty()) {
    const size_t comma = answer_arp.find(',');
    ArpAnswer a;
    if (comma == std::string::npos || !parse_ip(answer_arp.substr(0, comma), a.ip) ||
        !parse_mac(answer_arp.substr(comma + 1), a.mac))
      return fail("--answer-arp " + answer_arp +
                  " is not IP,MAC (e.g. 192.168.50.2,02:00:00:00:50:02)");
    o.answer_arp = a;
  }
  if (!expect_dst.empty()) {
    ExpectedDst d;
    if (!parse_expect_dst(expect_dst, d))
      return fail(
          "--expect-dst " + expect_dst +
          " is not IP:PORT or IP:FIRST-LAST (e.g. 10.244.0.3:6000 or 10.244.0.3:6001-6128)");
    o.expect_dst = d;
  }
  if (o.new_flows > 0) {
    if (o.flows != 1) return fail("--new-flows replaces --flows: leave --flows at 1");
    if (o.vxlan_tx) return fail("--new-flows cannot be combined with --vxlan-tx");
  }
  o.frame.proto = tcp ? L4::tcp : L4::udp;
  o.frame.frame_len = static_cast<uint16_t>(o.size - RTE_ETHER_CRC_LEN);
  FlowSet probe;
  if (const std::string error = probe.init(o.ranges, o.new_flows > 0 ? o.new_flows : o.flows);
      !error.empty())
    return fail(error);
  exit_code = 0;
  return o;
}

}  // namespace podvs::pktgen
