// Writes the pipeline fuzzer's seed corpus with PacketBuilder, the builder the golden-packet unit
// tests use: one file per seed in DIR, in the form the fuzzer reads (pipeline_fuzzer.cc): byte 0
// picks the ingress port, the rest is the frame. Addresses and ports are the fuzzer's
// (fuzz_setup.h). An ordinary program, not a fuzz target.
//
// usage: fuzz_seeds DIR
#include <netinet/in.h>

#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_setup.h"
#include "tests/unit/packet_builder.h"
#include "tests/unit/table_fixture.h"

namespace podvs::fuzz {
namespace {

using test::kGwMac;
using test::kHostMac;
using test::kHostPort;
using test::kPodAMac;
using test::kPodAPort;
using test::kPodBMac;
using test::kPodBPort;
using test::kTcpAck;
using test::kTcpFin;
using test::kTcpPsh;
using test::kTcpRst;
using test::kTcpSyn;
using test::PacketBuilder;

constexpr size_t kEthLen = 14;
constexpr uint8_t kIcmpDestUnreachable = 3, kIcmpPortUnreachable = 3, kIcmpTimeExceeded = 11;
constexpr uint16_t kArpRequest = 1, kEtherTypeArp = 0x0806;
const std::vector<uint8_t> kNopsAndEnd = {0x01, 0x01, 0x01, 0x00};  // IPv4 options

struct Seed {
  std::string name;
  uint16_t in_port;
  std::vector<uint8_t> frame;
};

// An IPv4 frame pod A sends to the gateway, and the same from pod B and from the host.
PacketBuilder from(const char* mac, const char* src, const char* dst, uint8_t proto,
                   uint8_t ttl = 64) {
  PacketBuilder b;
  b.eth(mac, kGwMac).ipv4(src, dst, proto, ttl);
  return b;
}
PacketBuilder from_a(const char* dst, uint8_t proto, uint8_t ttl = 64) {
  return from(kPodAMac, kPodAIp, dst, proto, ttl);
}
PacketBuilder from_b(const char* dst, uint8_t proto) { return from(kPodBMac, kPodBIp, dst, proto); }
PacketBuilder from_host(const char* dst, uint8_t proto) {
  return from(kHostMac, kHostIp, dst, proto);
}

// What an ICMP error quotes of `frame`: its IPv4 header and the first 8 bytes after it.
std::vector<uint8_t> quote(const std::vector<uint8_t>& frame) {
  return {frame.begin() + kEthLen, frame.begin() + kEthLen + 20 + 8};
}

std::vector<Seed> seeds() {
  const uint16_t a = kPodAPort, b = kPodBPort, host = kHostPort;
  std::vector<Seed> s;
  // Plain forwarding between pods and the host.
  s.push_back({"udp_a_to_b", a, from_a(kPodBIp, IPPROTO_UDP).udp(5000, 6000).bytes()});
  s.push_back({"tcp_a_to_b", a, from_a(kPodBIp, IPPROTO_TCP).tcp(40000, 80).bytes()});
  s.push_back({"udp_a_to_host", a, from_a(kHostIp, IPPROTO_UDP).udp(5000, 6000).bytes()});
  s.push_back({"tcp_a_to_host", a, from_a(kHostIp, IPPROTO_TCP).tcp(40000, 80).bytes()});
  s.push_back(
      {"icmp_echo_host_to_a", host, from_host(kPodAIp, IPPROTO_ICMP).icmp_echo(1, 1).bytes()});
  s.push_back({"ttl_one_a_to_b", a, from_a(kPodBIp, IPPROTO_UDP, 1).udp(5000, 6000).bytes()});
  s.push_back(
      {"udp_on_unknown_port", kUnknownPort, from_a(kPodBIp, IPPROTO_UDP).udp(5000, 6000).bytes()});
  s.push_back({"arp_a_for_gateway", a,
               PacketBuilder()
                   .eth(kPodAMac, "ff:ff:ff:ff:ff:ff", kEtherTypeArp)
                   .arp(kArpRequest, kPodAMac, kPodAIp, "00:00:00:00:00:00", kGatewayIp)
                   .bytes()});

  // The Service: a TCP connection's life to the ClusterIP, the endpoint's answer, UDP, ping, and
  // a port the Service does not have (rejected with ICMP).
  const auto to_service = [&](uint8_t flags, size_t payload = 6) {
    return from_a(kClusterIp, IPPROTO_TCP)
        .tcp(33000, kServicePort, payload)
        .tcp_flags(flags)
        .bytes();
  };
  s.push_back({"tcp_syn_a_to_service", a, to_service(kTcpSyn)});
  s.push_back(
      {"tcp_syn_ack_b_to_a", b,
       from_b(kPodAIp, IPPROTO_TCP).tcp(kTargetPort, 33000).tcp_flags(kTcpSyn | kTcpAck).bytes()});
  s.push_back({"tcp_psh_ack_a_to_service", a, to_service(kTcpPsh | kTcpAck, 64)});
  s.push_back({"tcp_fin_a_to_service", a, to_service(kTcpFin | kTcpAck, 0)});
  s.push_back({"tcp_rst_a_to_service", a, to_service(kTcpRst, 0)});
  s.push_back(
      {"udp_a_to_service", a, from_a(kClusterIp, IPPROTO_UDP).udp(5000, kServicePort).bytes()});
  s.push_back(
      {"udp_b_to_a_from_endpoint", b, from_b(kPodAIp, IPPROTO_UDP).udp(kTargetPort, 5000).bytes()});
  s.push_back(
      {"icmp_echo_a_to_service", a, from_a(kClusterIp, IPPROTO_ICMP).icmp_echo(7, 1).bytes()});
  s.push_back({"tcp_syn_a_to_service_other_port", a,
               from_a(kClusterIp, IPPROTO_TCP).tcp(33000, 443).bytes()});

  // IPv4 options, and a datagram in two fragments (the first carries the UDP header and 64 bytes,
  // 72 bytes in all: the second starts at 9 eight-byte units).
  s.push_back({"udp_a_to_b_ip_options", a,
               from_a(kPodBIp, IPPROTO_UDP).ip_options(kNopsAndEnd).udp(5000, 6000).bytes()});
  s.push_back(
      {"udp_a_to_service_ip_options", a,
       from_a(kClusterIp, IPPROTO_UDP).ip_options(kNopsAndEnd).udp(5000, kServicePort).bytes()});
  s.push_back({"udp_a_to_service_first_fragment", a,
               from_a(kClusterIp, IPPROTO_UDP)
                   .ip_id(0x4242)
                   .more_fragments()
                   .udp(5000, kServicePort, 64)
                   .bytes()});
  s.push_back({"udp_a_to_service_later_fragment", a,
               from_a(kClusterIp, IPPROTO_UDP)
                   .ip_id(0x4242)
                   .fragment_offset(9)
                   .udp(5000, kServicePort, 24)
                   .bytes()});

  // ICMP errors quoting what pod A sent to the Service as it left translated to endpoint B: B's
  // port unreachable for the UDP datagram, the host's time exceeded for the TCP SYN. Either
  // matches a connection the Service seeds above made, and is translated back.
  const auto a_to_b_via_service = PacketBuilder()
                                      .eth(kGwMac, kPodBMac)
                                      .ipv4(kPodAIp, kPodBIp, IPPROTO_UDP, 63)
                                      .udp(5000, kTargetPort)
                                      .bytes();
  s.push_back({"icmp_port_unreachable_b_to_a", b,
               from_b(kPodAIp, IPPROTO_ICMP)
                   .icmp(kIcmpDestUnreachable, kIcmpPortUnreachable, 0, quote(a_to_b_via_service))
                   .bytes()});
  s.push_back({"icmp_time_exceeded_host_to_a", host,
               from_host(kPodAIp, IPPROTO_ICMP)
                   .icmp(kIcmpTimeExceeded, 0, 0,
                         quote(from_a(kPodBIp, IPPROTO_TCP, 1).tcp(33000, kTargetPort).bytes()))
                   .bytes()});
  return s;
}

}  // namespace
}  // namespace podvs::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  try {
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    const auto all = podvs::fuzz::seeds();
    for (const auto& seed : all) {
      std::ofstream out(dir / seed.name, std::ios::binary | std::ios::trunc);
      out.put(static_cast<char>(seed.in_port));
      out.write(reinterpret_cast<const char*>(seed.frame.data()),
                static_cast<std::streamsize>(seed.frame.size()));
      if (!out) throw std::runtime_error("cannot write " + (dir / seed.name).string());
    }
    std::printf("%zu seeds in %s\n", all.size(), dir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz_seeds: %s\n", e.what());
    return 1;
  }
  return 0;
}
