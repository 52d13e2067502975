#include "ports/vhost_device.h"

#include <rte_errno.h>
#include <rte_ether.h>

#include <climits>
#include <cstdio>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "base/log.h"
#include "base/rcu_grace.h"
#include "offload/vhost_rx_offload.h"

namespace podvs {
namespace {

// virtio-net feature bits (virtio 1.1, 5.1.3), as a pod's virtio-user negotiates them. Ours,
// because rte_vhost.h leaves out <linux/virtio_net.h> under C++.
enum VirtioNetFeature : unsigned {
  kCsum = 0,       // the pod may send partial checksums
  kGuestCsum = 1,  // we may send the pod partial checksums
  kGuestTso4 = 7,  // we may send the pod TCPv4 super-frames
  kGuestTso6 = 8,
  kGuestEcn = 9,
  kGuestUfo = 10,
  kHostTso4 = 11,  // the pod may send us TCPv4 super-frames
  kHostTso6 = 12,
  kHostEcn = 13,
  kHostUfo = 14,
};

// What the pod may negotiate. Mergeable rx buffers stay on (rte_vhost's default): a frame larger
// than one of the pod's descriptors spans several instead of being dropped, which a 64 KiB
// super-frame needs. Checksum offload and TSO stay on both ways, when the pod offers them: a pod's
// partial checksum or super-frame is taken as a tap's (offload/vhost_rx_offload.h) and finished in
// software only where the output cannot take it; a pod that took GUEST_CSUM/GUEST_TSO4 gets them
// unfinished (new_device tells the output side). TSO6 is on with TSO4 because DPDK's virtio PMD
// offers TSO and LRO only with both; an IPv6 super-frame is refused like any other GSO than TCP
// over IPv4. Off: UFO both ways (podvs segments no UDP) and ECN both ways (none of rte_vhost's
// offload marks carries the header's ECN bit, and podvs's segmentation applies Linux's CWR rule to
// every super-frame anyway).
constexpr uint64_t kFeaturesOff =
    (1ULL << kGuestEcn) | (1ULL << kGuestUfo) | (1ULL << kHostEcn) | (1ULL << kHostUfo);
// A vhost-user uplink carries VXLAN, and an offload asked for in a virtio-net header applies to the
// outer headers only (virtio 1.1 has no tunnel offloads; DPDK 22.11's rte_vhost none either): an
// encapsulated super-frame or partial inner checksum could not be told to the peer, nor one taken
// from it. So the uplink negotiates none, as podvs's net_af_packet uplink runs with offloads off,
// and every frame crosses it finished.
constexpr uint64_t kOffloadFeatures = (1ULL << kCsum) | (1ULL << kGuestCsum) |
                                      (1ULL << kGuestTso4) | (1ULL << kGuestTso6) |
                                      (1ULL << kHostTso4) | (1ULL << kHostTso6);

bool has(uint64_t features, VirtioNetFeature f) { return (features & (1ULL << f)) != 0; }

// rte_vhost's callbacks name a device by vid only; its socket path leads back to ours. Written by
// the control thread (register, unregister), read by the callbacks on rte_vhost's thread.
std::mutex g_devices_mutex;
std::map<std::string, VhostDevice*> g_devices;

VhostDevice* device_of(int vid) {
  char path[PATH_MAX];
  if (rte_vhost_get_ifname(vid, path, sizeof(path)) != 0) return nullptr;
  const std::lock_guard<std::mutex> lock(g_devices_mutex);
  const auto it = g_devices.find(path);
  return it == g_devices.end() ? nullptr : it->second;
}

}  // namespace

struct VhostCallbacks {
  static int new_device(int vid) {
    VhostDevice* dev = device_of(vid);
    if (dev == nullptr) return -1;
    // Workers poll: the pod need not interrupt us when it queues packets.
    for (uint16_t ring = 0; ring < rte_vhost_get_vring_num(vid); ++ring)
      rte_vhost_enable_guest_notification(vid, ring, 0);
    // Queue pair 0 is enabled: rte_vhost calls this only once both its rings are ready.
    dev->enabled_rings_.fetch_or(3, std::memory_order_acq_rel);
    uint64_t f = 0;
    if (rte_vhost_get_negotiated_features(vid, &f) != 0) f = 0;
    // Virtio requires GUEST_CSUM for GUEST_TSO4; without it the pod gets segments.
    const PortOffloads guest = {.tso = has(f, kGuestCsum) && has(f, kGuestTso4),
                                .l4_csum = has(f, kGuestCsum)};
    dev->guest_offloads_.store(guest, std::memory_order_relaxed);
    dev->pod_sends_offloads_.store(has(f, kCsum) || has(f, kHostTso4) || has(f, kHostTso6),
                                   std::memory_order_relaxed);
    // See vhost_device.h: no worker may act on a previous connection's offloads past this point.
    rcu_wait_grace_period(dev->workers_);
    dev->vid_.store(vid, std::memory_order_release);
    PODVS_LOG(info,
              "vhost-user %s: peer connected (vid %d; takes tso %s, csum %s; sends offloads %s)",
              dev->path_.c_str(), vid, guest.tso ? "yes" : "no", guest.l4_csum ? "yes" : "no",
              dev->pod_sends_offloads_.load(std::memory_order_relaxed) ? "yes" : "no");
    return 0;
  }

  static void destroy_device(int vid) {
    VhostDevice* dev = device_of(vid);
    if (dev == nullptr || dev->vid_.load(std::memory_order_relaxed) != vid) return;
    dev->vid_.store(-1, std::memory_order_release);
    // A new connection enables its rings afresh.
    dev->enabled_rings_.store(0, std::memory_order_release);
    // rte_vhost frees the device's rings once we return: no worker may still be using them.
    rcu_wait_grace_period(dev->workers_);
    PODVS_LOG(info, "vhost-user %s: peer disconnected (vid %d)", dev->path_.c_str(), vid);
  }

  static int new_connection(int vid) {
    // A pod that went before its device was ready left no destroy_device: start from nothing.
    if (VhostDevice* dev = device_of(vid)) dev->enabled_rings_.store(0, std::memory_order_release);
    return 0;
  }

  static int vring_state_changed(int vid, uint16_t ring, int enable) {
    // rte_vhost checks a ring's state itself on every enqueue and dequeue; the control thread
    // learns from the mask which queues to poll and to send to (vhost_device.h). It may come
    // before new_device: a ring is enabled while the device is still being set up.
    PODVS_LOG(debug, "vhost-user vid %d: ring %u %s", vid, ring, enable ? "enabled" : "disabled");
    VhostDevice* dev = device_of(vid);
    if (dev == nullptr || ring >= 64) return 0;
    const uint64_t bit = uint64_t{1} << ring;
    if (enable != 0)
      dev->enabled_rings_.fetch_or(bit, std::memory_order_acq_rel);
    else
      dev->enabled_rings_.fetch_and(~bit, std::memory_order_acq_rel);
    return 0;
  }
};

namespace {

const rte_vhost_device_ops kCallbacks = {
    .new_device = VhostCallbacks::new_device,
    .destroy_device = VhostCallbacks::destroy_device,
    .vring_state_changed = VhostCallbacks::vring_state_changed,
    .features_changed = nullptr,
    .new_connection = VhostCallbacks::new_connection,
    .destroy_connection = nullptr,
    .guest_notified = nullptr,
    .reserved = {},
};

}  // namespace

VhostDevice::VhostDevice(std::string socket_path, bool server, rte_rcu_qsbr* workers, uint32_t mtu,
                         bool offloads)
    : path_(std::move(socket_path)),
      workers_(workers),
      max_frame_len_(mtu + static_cast<uint32_t>(sizeof(rte_ether_hdr))) {
  {
    const std::lock_guard<std::mutex> lock(g_devices_mutex);
    if (!g_devices.emplace(path_, this).second)
      throw std::runtime_error("vhost-user socket " + path_ + " is already in use");
  }
  // The socket lives in the pod's own directory: in server mode a leftover of an earlier run is
  // ours to remove (bind() would fail on it).
  if (server) std::remove(path_.c_str());
  // Compliant offload flags: rte_vhost marks what the pod's header asked for as a NIC marks what
  // it received (vhost_rx_offload.h), instead of the legacy TX flags it clears on any header it
  // cannot parse.
  const uint64_t flags =
      (server ? 0 : RTE_VHOST_USER_CLIENT) | RTE_VHOST_USER_NET_COMPLIANT_OL_FLAGS;
  const char* step = "register";
  bool registered = false;
  if (rte_vhost_driver_register(path_.c_str(), flags) == 0) {
    registered = true;
    step = "disable features";
    const uint64_t off = kFeaturesOff | (offloads ? 0 : kOffloadFeatures);
    if (rte_vhost_driver_disable_features(path_.c_str(), off) == 0) {
      step = "register callbacks";
      if (rte_vhost_driver_callback_register(path_.c_str(), &kCallbacks) == 0) {
        step = "start";
        if (rte_vhost_driver_start(path_.c_str()) == 0) return;
      }
    }
  }
  if (registered) rte_vhost_driver_unregister(path_.c_str());
  {
    const std::lock_guard<std::mutex> lock(g_devices_mutex);
    g_devices.erase(path_);
  }
  throw std::runtime_error("vhost-user socket " + path_ + ": rte_vhost cannot " + step +
                           " it (see podvsd's log for rte_vhost's reason)");
}

uint16_t vhost_take_offloads(rte_mbuf** pkts, uint16_t n, uint32_t max_frame_len,
                             RxRejects& rejects) {
  uint16_t kept = 0;
  for (uint16_t i = 0; i < n; ++i) {
    rte_mbuf* m = pkts[i];
    if (vhost_rx_has_offloads(m)) {
      const VnetHdrVerdict v = vhost_rx_offloads_to_mbuf(m, max_frame_len);
      if (!v.ok) {
        rejects.add(m, v.reason);
        continue;
      }
    }
    pkts[kept++] = m;
  }
  return kept;
}

VhostDevice::~VhostDevice() {
  if (rte_vhost_driver_unregister(path_.c_str()) != 0)
    PODVS_LOG(warning, "vhost-user %s: rte_vhost refused to unregister it", path_.c_str());
  const std::lock_guard<std::mutex> lock(g_devices_mutex);
  g_devices.erase(path_);
}

}  // namespace podvs
