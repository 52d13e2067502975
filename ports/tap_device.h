// podvs's own tap device for a kernel pod (in the pod's network namespace) or the host port
// (podvs0): a tap (multi-queue when it has several queues) with virtio-net headers and TCP
// segmentation/checksum offloads, so the kernel hands podvs 64 KiB TCP super-frames with a partial
// checksum and takes them back the same way, as a veth pair would pass them. No /dev/vhost-net:
// the fds are read and written by the workers themselves.
//
// Created and closed by the control thread; the fds are then used by the workers (tap_io.h) until
// the port is removed, which the control thread does only after the workers stopped polling it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace podvs {

// The tap's queues, one fd each, opened non-blocking. Closing every fd destroys the interface.
class TapDevice {
 public:
  // Creates (or attaches to) the tap `ifname` in the network namespace the calling thread is in,
  // with `queues` queues (more than one: IFF_MULTI_QUEUE, the kernel spreads the pod's flows over
  // them), the virtio-net header on every frame, and the CSUM, TSO4 and TSO6 offloads. Throws
  // std::runtime_error with the failing step and errno.
  TapDevice(const std::string& ifname, uint16_t queues);
  ~TapDevice();
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  const std::string& ifname() const { return ifname_; }
  const std::vector<int>& fds() const { return fds_; }

 private:
  std::string ifname_;
  std::vector<int> fds_;
};

}  // namespace podvs
