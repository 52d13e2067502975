#include "ports/tap_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "offload/virtio_net_hdr.h"

namespace podvs {
namespace {

[[noreturn]] void fail(const std::string& ifname, const std::string& step) {
  throw std::runtime_error("tap " + ifname + ": " + step + ": " + std::strerror(errno));
}

// The offloads the kernel may leave to podvs on frames the pod sends: checksums, and TCP
// segmentation over IPv4 and IPv6 (IPv6 is not switched, but a kernel without TSO6 on its tap
// would segment IPv6 itself: it never reaches podvs whole, nor in pieces, since it is dropped).
constexpr unsigned kOffloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;

// IFF_MULTI_QUEUE only for a tap of several queues. A multi-queue tap is born with the kernel's
// maximum of 256 transmit queues whatever number is attached, and bringing it up gives each of
// them a pfifo_fast qdisc with its own three 1000-entry rings: about 6 MiB of kernel memory per
// pod, cleared page by page on the control thread's `ip link set up`. At 250 pods that was 1.5 GiB
// and most of the attach time. A single-queue tap has one transmit queue and one qdisc.
int open_queue(const std::string& ifname, bool multi_queue) {
  const int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) fail(ifname, "open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (multi_queue) ifr.ifr_flags |= IFF_MULTI_QUEUE;
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  int hdr_len = kVirtioNetHdrLen;
  // The header size is the default already; set it so a changed kernel default cannot skew
  // every frame.
  if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0 ||
      ioctl(fd, TUNSETOFFLOAD, kOffloads) < 0) {
    const int saved = errno;
    close(fd);
    errno = saved;
    fail(ifname, "configure queue (TUNSETIFF, TUNSETVNETHDRSZ, TUNSETOFFLOAD)");
  }
  return fd;
}

}  // namespace

TapDevice::TapDevice(const std::string& ifname, uint16_t queues) : ifname_(ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ)
    throw std::runtime_error("tap name '" + ifname + "' must have 1 to 15 characters");
  if (queues == 0) throw std::runtime_error("tap " + ifname + ": needs at least one queue");
  try {
    for (uint16_t q = 0; q < queues; ++q) fds_.push_back(open_queue(ifname, queues > 1));
  } catch (...) {
    for (int fd : fds_) close(fd);
    throw;
  }
}

TapDevice::~TapDevice() {
  for (int fd : fds_) close(fd);
}

}  // namespace podvs
