// Runs against the real kernel (as root). Every test works in network namespaces private to one
// thread of its own, so whatever it creates disappears with that thread, even when it fails.
#include "control/daemon/netlink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "control/daemon/netns.h"

namespace podvs {

void PrintTo(const Netlink::Route& route, std::ostream* os) { *os << route.str(); }

namespace {

using Route = Netlink::Route;

// unshare() moves only the calling thread, so the test binary's other threads keep the host's
// namespace; when the thread ends, the namespace and its interfaces go away.
void in_private_netns(const std::function<void()>& body) {
  std::thread thread([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      ADD_FAILURE() << "unshare(CLONE_NEWNET): " << std::strerror(errno);
      return;
    }
    try {
      body();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected exception: " << e.what();
    }
  });
  thread.join();
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

Fd open_current_netns() { return Fd(open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)); }

std::string current_netns_path() {
  return "/proc/self/task/" + std::to_string(gettid()) + "/ns/net";
}

ino_t netns_inode(const std::string& path = "/proc/thread-self/ns/net") {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// A tap device in the calling thread's namespace, living as long as this object holds it open.
class Tap {
 public:
  explicit Tap(const std::string& name) : fd_(open("/dev/net/tun", O_RDWR | O_CLOEXEC)) {
    ifreq ifr{};
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    name.copy(ifr.ifr_name, IFNAMSIZ - 1);
    if (fd_.get() < 0 || ioctl(fd_.get(), TUNSETIFF, &ifr) != 0) {
      throw std::runtime_error("cannot create tap " + name + ": " + std::strerror(errno));
    }
  }

 private:
  Fd fd_;
};

Ipv4 ip(const char* text) { return parse_ipv4(text).value(); }
Ipv4Prefix prefix(const char* text) { return Ipv4Prefix::parse(text).value(); }

template <typename Fn>
std::string error_of(Fn&& fn) {
  try {
    fn();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no exception)";
}

TEST(NetlinkTest, IfindexOfAbsentLinkIsMinusOne) {
  in_private_netns([] {
    Netlink netlink;
    EXPECT_EQ(netlink.ifindex("podvs-none"), -1);
    EXPECT_EQ(netlink.ifindex("lo"), 1);
    EXPECT_FALSE(netlink.link(9999));
  });
}

TEST(NetlinkTest, SetLinkChangesNameMacMtuAndStateOfAnUpLink) {
  in_private_netns([] {
    Tap tap("podvs-t0");
    Netlink netlink;
    const int index = netlink.ifindex("podvs-t0");
    ASSERT_GT(index, 0);
    netlink.set_link(index, {.up = true});

    const MacAddr mac = MacAddr::from_ipv4(ip("10.244.0.5"));
    netlink.set_link(index, {.name = "eth0", .mac = mac, .mtu = 1400});
    auto info = netlink.link(index);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->ifindex, index);
    EXPECT_EQ(info->name, "eth0");
    EXPECT_EQ(info->mac, mac);
    EXPECT_EQ(info->mtu, 1400u);
    EXPECT_TRUE(info->up) << "a rename takes the link down only for the rename";
    EXPECT_EQ(netlink.ifindex("eth0"), index);
    EXPECT_EQ(netlink.ifindex("podvs-t0"), -1);

    netlink.set_link(index, {.name = "eth1", .up = false});
    info = netlink.link(index);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->name, "eth1");
    EXPECT_FALSE(info->up);
  });
}

TEST(NetlinkTest, AddAddressTwiceKeepsOneAddress) {
  in_private_netns([] {
    Tap tap("eth0");
    Netlink netlink;
    const int index = netlink.ifindex("eth0");
    netlink.add_address(index, ip("10.244.0.5"), 24);
    netlink.add_address(index, ip("10.244.0.5"), 24);
    const std::vector<std::pair<Ipv4, uint8_t>> expected = {{ip("10.244.0.5"), 24}};
    EXPECT_EQ(netlink.addresses(index), expected);
    EXPECT_TRUE(netlink.addresses(netlink.ifindex("lo")).empty());
  });
}

TEST(NetlinkTest, AddsPodRoutesThroughOnLinkGateway) {
  in_private_netns([] {
    Tap tap("eth0");
    Netlink netlink;
    const int index = netlink.ifindex("eth0");
    netlink.set_link(index, {.up = true});  // the kernel refuses routes over a down device
    const Route on_link{.dst = prefix("169.254.1.1/32"), .oif = index, .scope_link = true};
    const Route fallback{.dst = prefix("0.0.0.0/0"), .oif = index, .gateway = ip("169.254.1.1")};
    for (int i = 0; i < 2; ++i) {
      netlink.add_route(on_link);
      netlink.add_route(fallback);
    }
    const std::vector<Route> expected = {on_link, fallback};
    std::vector<Route> routes = netlink.routes();
    std::sort(routes.begin(), routes.end(),
              [](const Route& a, const Route& b) { return a.dst.length > b.dst.length; });
    EXPECT_EQ(routes, expected);
  });
}

TEST(NetlinkTest, AddsHostSubnetRouteWithSourceReplacingTheKernelOne) {
  in_private_netns([] {
    Tap tap("podvs0");
    Netlink netlink;
    const int index = netlink.ifindex("podvs0");
    netlink.set_link(index, {.up = true});
    netlink.add_address(index, ip("10.244.0.1"), 24);  // a route's src must be a local address
    const Route subnet{
        .dst = prefix("10.244.0.0/24"), .oif = index, .src = ip("10.244.0.1"), .scope_link = true};
    netlink.add_route(subnet);
    // The kernel's prefix route for the address has the same key, so ours replaces it.
    EXPECT_EQ(netlink.routes(), std::vector<Route>{subnet});
  });
}

// What a pod CIDR change does to the host port: the old address and route go, a missing one is
// no error, and a route someone else installed (not "proto static") is never ours to delete.
TEST(NetlinkTest, DeletesAddressesAndOurRoutes) {
  in_private_netns([] {
    Tap tap("podvs0");
    Netlink netlink;
    const int index = netlink.ifindex("podvs0");
    netlink.set_link(index, {.up = true});
    netlink.add_address(index, ip("10.244.0.1"), 32);
    netlink.add_address(index, ip("10.245.0.1"), 32);
    const Route old_route{
        .dst = prefix("10.244.0.0/24"), .oif = index, .src = ip("10.244.0.1"), .scope_link = true};
    const Route new_route{
        .dst = prefix("10.245.0.0/24"), .oif = index, .src = ip("10.245.0.1"), .scope_link = true};
    netlink.add_route(old_route);
    netlink.add_route(new_route);

    netlink.delete_route(old_route);
    netlink.delete_address(index, ip("10.244.0.1"), 32);
    EXPECT_EQ(netlink.routes(), std::vector<Route>{new_route});
    const std::vector<std::pair<Ipv4, uint8_t>> left = {{ip("10.245.0.1"), 32}};
    EXPECT_EQ(netlink.addresses(index), left);
    netlink.delete_route(old_route);  // already gone: no error
    netlink.delete_address(index, ip("10.244.0.1"), 32);
    EXPECT_EQ(netlink.addresses(index), left);

    // The kernel's own prefix route ("proto kernel") for a /24 address is left alone.
    netlink.add_address(index, ip("10.246.0.1"), 24);
    netlink.delete_route({.dst = prefix("10.246.0.0/24"), .oif = index});
    bool kernel_route = false;
    for (const Route& r : netlink.routes()) kernel_route |= r.dst == prefix("10.246.0.0/24");
    EXPECT_TRUE(kernel_route);
  });
}

TEST(NetlinkTest, DeleteLinkRemovesIt) {
  in_private_netns([] {
    Tap tap("podvs-t0");
    Netlink netlink;
    const int index = netlink.ifindex("podvs-t0");
    netlink.delete_link(index);
    EXPECT_EQ(netlink.ifindex("podvs-t0"), -1);
    EXPECT_FALSE(netlink.link(index));
  });
}

TEST(NetlinkTest, MoveToNetnsMovesLinkBetweenPrivateNamespaces) {
  in_private_netns([] {
    Netlink destination;
    const Fd destination_fd = open_current_netns();
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    Tap tap("podvs-t0");
    Netlink source;
    source.move_to_netns(source.ifindex("podvs-t0"), destination_fd.get());
    EXPECT_EQ(source.ifindex("podvs-t0"), -1);
    EXPECT_GT(destination.ifindex("podvs-t0"), 0);
  });
}

TEST(NetlinkTest, SocketKeepsActingOnTheNamespaceItWasCreatedIn) {
  in_private_netns([] {
    const Fd pod = open_current_netns();
    Tap tap("podvs-t0");
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    std::unique_ptr<Netlink> in_pod;
    {
      ScopedNetns enter(pod.path());
      in_pod = std::make_unique<Netlink>();
    }
    EXPECT_GT(in_pod->ifindex("podvs-t0"), 0);
    EXPECT_GT(Netlink(pod.path()).ifindex("podvs-t0"), 0);
    EXPECT_EQ(Netlink().ifindex("podvs-t0"), -1);
  });
}

TEST(NetlinkErrorTest, MessagesNameInterfaceNamespaceAndCause) {
  in_private_netns([] {
    Tap tap("podvs-t0");
    Tap other("podvs-t1");
    const std::string netns = current_netns_path();
    Netlink netlink(netns);
    const int index = netlink.ifindex("podvs-t0");
    const std::string where = "interface podvs-t0 (ifindex " + std::to_string(index) + ")";

    std::string error = error_of([&] { netlink.set_link(index, {.mtu = 100000}); });
    EXPECT_NE(error.find("MTU 100000 on " + where), std::string::npos) << error;
    EXPECT_NE(error.find("network namespace " + netns), std::string::npos) << error;
    EXPECT_NE(error.find("Invalid argument"), std::string::npos) << error;

    netlink.set_link(index, {.up = true});
    error = error_of([&] { netlink.set_link(index, {.name = "podvs-t1"}); });
    EXPECT_NE(error.find(where), std::string::npos) << error;
    EXPECT_NE(error.find("File exists"), std::string::npos) << error;
    const auto info = netlink.link(index);
    ASSERT_TRUE(info);
    EXPECT_TRUE(info->up) << "a failed rename brings the link back up";

    error = error_of([&] { netlink.set_link(index, {.name = "podvs-much-too-long"}); });
    EXPECT_NE(error.find("invalid interface name 'podvs-much-too-long'"), std::string::npos)
        << error;

    error = error_of([&] {
      netlink.add_route({.dst = prefix("0.0.0.0/0"), .oif = index, .gateway = ip("192.0.2.1")});
    });
    EXPECT_NE(error.find("default via 192.0.2.1 oif " + std::to_string(index) + " via " + where),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("Network is unreachable"), std::string::npos) << error;

    for (auto& action : std::vector<std::function<void()>>{
             [&] { netlink.set_link(9999, {.up = true}); },
             [&] { netlink.delete_link(9999); },
             [&] { netlink.add_address(9999, ip("10.0.0.1"), 24); },
         }) {
      error = error_of(action);
      EXPECT_NE(error.find("interface with ifindex 9999"), std::string::npos) << error;
      EXPECT_NE(error.find("No such device"), std::string::npos) << error;
    }
  });
}

TEST(ScopedNetnsTest, EntersAndRestoresOnlyTheCallingThread) {
  const ino_t main_thread_netns = netns_inode();
  const std::string main_thread_path = current_netns_path();
  in_private_netns([&] {
    const Fd first = open_current_netns();
    const ino_t first_inode = netns_inode();
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << std::strerror(errno);
    const ino_t second_inode = netns_inode();
    ASSERT_NE(first_inode, second_inode);
    {
      ScopedNetns enter(first.path());
      EXPECT_EQ(netns_inode(), first_inode);
      EXPECT_EQ(netns_inode(main_thread_path), main_thread_netns);
    }
    EXPECT_EQ(netns_inode(), second_inode);
  });
  EXPECT_EQ(netns_inode(), main_thread_netns);
}

TEST(ScopedNetnsTest, ThrowsPreciseErrorsAndStaysPut) {
  in_private_netns([] {
    const ino_t before = netns_inode();
    EXPECT_EQ(error_of([] { ScopedNetns enter("/var/run/netns/podvs-absent"); }),
              "cannot open network namespace /var/run/netns/podvs-absent: No such file or "
              "directory");
    EXPECT_EQ(error_of([] { ScopedNetns enter("/proc/self/ns/uts"); }),
              "cannot enter network namespace /proc/self/ns/uts: Invalid argument (not a network "
              "namespace)");
    EXPECT_EQ(netns_inode(), before);
  });
}

TEST(ScopedNetnsTest, NetnsExistsOnlyForNetworkNamespaces) {
  EXPECT_TRUE(netns_exists("/proc/thread-self/ns/net"));
  EXPECT_FALSE(netns_exists("/var/run/netns/podvs-absent"));
  EXPECT_FALSE(netns_exists("/proc/self/ns/uts"));
  EXPECT_FALSE(netns_exists("/proc/self/status"));
}

}  // namespace
}  // namespace podvs
