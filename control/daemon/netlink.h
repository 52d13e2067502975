// Interface, address and route configuration over rtnetlink (libmnl), as `ip` would do it.
//
// Thread use: a Netlink is used by one thread at a time (the daemon's control thread); each call
// sends one request and waits for its answer. Its socket acts on the network namespace the
// constructing thread was in at construction, for the socket's whole life, whatever namespace the
// calling thread is in later. Every failure throws std::runtime_error naming the interface, the
// namespace and the kernel's reason.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/net_types.h"

struct mnl_socket;
struct nlmsghdr;

namespace podvs {

class Netlink {
 public:
  // Every member has an initializer so that callers can use designated initializers naming only
  // the fields they set without GCC's -Wmissing-field-initializers.
  struct LinkInfo {
    int ifindex = 0;
    std::string name{};
    MacAddr mac{};
    uint32_t mtu = 0;
    bool up = false;  // administratively up (IFF_UP), whatever the carrier
  };

  // Fields left empty are not changed.
  struct LinkChange {
    std::optional<std::string> name{};
    std::optional<MacAddr> mac{};
    std::optional<uint32_t> mtu{};
    std::optional<bool> up{};
  };

  struct Route {
    Ipv4Prefix dst{};
    int oif = 0;
    std::optional<Ipv4> gateway{};
    std::optional<Ipv4> src{};
    bool scope_link = false;

    friend bool operator==(const Route&, const Route&) = default;
    std::string str() const;  // as `ip route` prints it, with "oif N" for the device
  };

  // Binds to the calling thread's current namespace.
  Netlink();
  // Binds to the namespace at `netns_path`, entered only while the socket is created.
  explicit Netlink(const std::string& netns_path);
  ~Netlink();

  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  int ifindex(const std::string& name);  // -1 when there is no such link
  std::optional<LinkInfo> link(int ifindex);
  // On kernels that cannot rename a running link (before 6.2), a rename of an up link takes it
  // down for the rename and back up unless `change.up` says otherwise.
  void set_link(int ifindex, const LinkChange& change);
  void delete_link(int ifindex);
  void move_to_netns(int ifindex, int netns_fd);

  void add_address(int ifindex, Ipv4 ip, uint8_t prefix_len);     // adding it again is a no-op
  void delete_address(int ifindex, Ipv4 ip, uint8_t prefix_len);  // a missing one is no error
  std::vector<std::pair<Ipv4, uint8_t>> addresses(int ifindex);   // IPv4 only

  // Creates or replaces the main-table route with the same destination and metric.
  void add_route(const Route& route);
  // Deletes our ("proto static") main-table route to `route.dst` on `route.oif`; a missing one is
  // no error. Gateway and source are not matched.
  void delete_route(const Route& route);
  // IPv4 unicast routes of the main table, including those the kernel made for addresses.
  std::vector<Route> routes();

 private:
  struct Reply;

  void open_socket();
  Reply transact(nlmsghdr* request, const std::function<void(const nlmsghdr*)>& on_message = {});
  Reply change_link(int ifindex, const LinkChange& change);
  [[noreturn]] void fail(const Reply& reply, const std::string& action) const;
  std::string describe(int ifindex);

  mnl_socket* socket_ = nullptr;
  uint32_t port_id_ = 0;
  uint32_t seq_ = 0;
  std::string netns_;  // for error messages
  std::vector<char> buffer_;
};

}  // namespace podvs
