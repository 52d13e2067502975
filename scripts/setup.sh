#!/usr/bin/env bash
# Prepares a Debian 12 machine for podvs: installs what is missing (apt only), reserves 2 MiB
# hugepages and mounts hugetlbfs. Idempotent: a second run changes nothing.
#   scripts/setup.sh [--hugepages N] [--bench]   (default 1024 pages = 2 GiB; --bench adds what
#                                                 perf/bench.py compares against: OVS-DPDK, matplotlib)
set -euo pipefail

hugepages=1024
bench=0
while [ $# -gt 0 ]; do
  case "$1" in
    --hugepages) hugepages="$2"; shift 2 ;;
    --bench) bench=1; shift ;;
    *) echo "setup.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" = 0 ] || { echo "setup.sh: run as root (apt, hugepages, taps)" >&2; exit 1; }

packages=(
  build-essential pkg-config meson ninja-build clang-format
  dpdk dpdk-dev libdpdk-dev
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  prometheus-cpp-dev libboost-dev libgtest-dev libgmock-dev
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libmnl-dev
  libcurl4-openssl-dev libssl-dev openssl
  clang libclang-rt-14-dev
  containernetworking-plugins prometheus
  iproute2 iputils-ping iperf3 ethtool tcpdump netcat-openbsd curl procps python3 python3-yaml
)
# kubectl parses deploy/'s manifests in the tests; Debian's kubernetes-client unless a kubectl
# (from another source) is there already, whose file it would collide with.
command -v kubectl >/dev/null || packages+=(kubernetes-client)
[ "$bench" = 1 ] && packages+=(openvswitch-switch-dpdk python3-matplotlib)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Hugepages: reserve only when fewer than wanted are free, so a running daemon keeps its pages.
hp=/sys/kernel/mm/hugepages/hugepages-2048kB
free_pages=$(cat "$hp/free_hugepages")
total_pages=$(cat "$hp/nr_hugepages")
if [ "$free_pages" -lt "$hugepages" ]; then
  echo $((total_pages + hugepages - free_pages)) > "$hp/nr_hugepages"
  echo "setup.sh: hugepages: $(cat "$hp/free_hugepages") free of $(cat "$hp/nr_hugepages")"
fi
if ! mount | grep -q "^[^ ]* on /dev/hugepages type hugetlbfs"; then
  mkdir -p /dev/hugepages
  mount -t hugetlbfs nodev /dev/hugepages
fi
# The tap PMD needs the tun device; vhost-user needs nothing from the kernel.
[ -e /dev/net/tun ] || { mkdir -p /dev/net; mknod /dev/net/tun c 10 200; }
echo "setup.sh: ready"
