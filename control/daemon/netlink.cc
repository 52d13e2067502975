#include "control/daemon/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "control/daemon/netns.h"

namespace podvs {

namespace {

// Routes podvs installs are "proto static", so `ip route` tells them apart from the kernel's
// "proto kernel" prefix routes and from routing daemons' routes.
constexpr uint8_t kRouteProtocol = RTPROT_STATIC;

// Dumps arrive in messages of up to 32 KiB (the kernel sizes them to the reader's buffer, capped
// there); a smaller buffer would truncate them.
constexpr size_t kReceiveSize = 32768;

// Requests are a header, one fixed struct and a few short attributes.
class Request {
 public:
  Request(uint16_t type, uint16_t flags) {
    nlh_ = mnl_nlmsg_put_header(buffer_.data());
    nlh_->nlmsg_type = type;
    nlh_->nlmsg_flags = NLM_F_REQUEST | flags;
  }
  template <typename T>
  T* put() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh_, sizeof(T)));
  }
  nlmsghdr* nlh() { return nlh_; }

 private:
  alignas(nlmsghdr) std::array<char, 512> buffer_{};
  nlmsghdr* nlh_;
};

template <size_t N>
std::array<const nlattr*, N> attributes(const nlmsghdr* nlh, size_t header_size) {
  std::array<const nlattr*, N> table{};
  mnl_attr_parse(
      nlh, header_size,
      [](const nlattr* attr, void* data) {
        auto& table = *static_cast<std::array<const nlattr*, N>*>(data);
        if (mnl_attr_get_type(attr) < N) table[mnl_attr_get_type(attr)] = attr;
        return MNL_CB_OK;
      },
      &table);
  return table;
}

std::optional<uint32_t> get_u32(const nlattr* attr) {
  if (attr == nullptr || mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return std::nullopt;
  return mnl_attr_get_u32(attr);
}

std::optional<Ipv4> get_ipv4(const nlattr* attr) {
  const auto net = get_u32(attr);
  if (!net) return std::nullopt;
  return ntohl(*net);
}

// The text of an extended ACK (NETLINK_EXT_ACK), whose attributes start at `offset` in the payload.
std::string ext_ack_message(const nlmsghdr* nlh, size_t offset) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return {};
  const auto table = attributes<NLMSGERR_ATTR_MAX + 1>(nlh, offset);
  const nlattr* msg = table[NLMSGERR_ATTR_MSG];
  if (msg == nullptr || mnl_attr_validate(msg, MNL_TYPE_NUL_STRING) < 0) return {};
  return mnl_attr_get_str(msg);
}

void check_name(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    throw std::runtime_error("invalid interface name '" + name + "': it must have 1 to " +
                             std::to_string(IFNAMSIZ - 1) + " characters");
  }
}

std::string describe_change(const Netlink::LinkChange& change) {
  std::string text;
  auto add = [&](const std::string& part) { text += (text.empty() ? "" : ", ") + part; };
  if (change.name) add("name " + *change.name);
  if (change.mac) add("MAC " + change.mac->str());
  if (change.mtu) add("MTU " + std::to_string(*change.mtu));
  if (change.up) add(*change.up ? "state up" : "state down");
  return text;
}

}  // namespace

struct Netlink::Reply {
  int error = 0;               // the kernel's errno; 0 on success
  std::string kernel_message;  // the kernel's own explanation, when it gives one
};

std::string Netlink::Route::str() const {
  std::string text = dst.length == 0 ? "default" : dst.str();
  if (gateway) text += " via " + ipv4_str(*gateway);
  text += " oif " + std::to_string(oif);
  if (src) text += " src " + ipv4_str(*src);
  if (scope_link) text += " scope link";
  return text;
}

Netlink::Netlink() {
  std::array<char, 64> id{};
  const ssize_t len = readlink("/proc/thread-self/ns/net", id.data(), id.size() - 1);
  netns_ = len > 0 ? std::string(id.data(), len) : "of the calling thread";
  open_socket();
}

Netlink::Netlink(const std::string& netns_path) : netns_(netns_path) {
  ScopedNetns enter(netns_path);
  open_socket();
}

Netlink::~Netlink() { mnl_socket_close(socket_); }

void Netlink::open_socket() {
  socket_ = mnl_socket_open(NETLINK_ROUTE);
  if (socket_ == nullptr || mnl_socket_bind(socket_, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    if (socket_ != nullptr) mnl_socket_close(socket_);
    throw std::runtime_error("cannot open a netlink socket in network namespace " + netns_ + ": " +
                             std::strerror(err));
  }
  port_id_ = mnl_socket_get_portid(socket_);
  // Best effort: without them errors lose the kernel's explanation but are still reported.
  int on = 1;
  mnl_socket_setsockopt(socket_, NETLINK_EXT_ACK, &on, sizeof(on));
  mnl_socket_setsockopt(socket_, NETLINK_CAP_ACK, &on, sizeof(on));
  buffer_.resize(kReceiveSize);
}

Netlink::Reply Netlink::transact(nlmsghdr* request,
                                 const std::function<void(const nlmsghdr*)>& on_message) {
  // NLM_F_DUMP shares its bits with NLM_F_REPLACE and NLM_F_EXCL, so only GET requests (the
  // RTM_GET* types) can be dumps; every other request asks for an ACK.
  const bool is_get = request->nlmsg_type >= RTM_BASE && request->nlmsg_type % 4 == 2;
  const bool is_dump = is_get && (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  if (!is_dump) request->nlmsg_flags |= NLM_F_ACK;
  request->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(socket_, request, request->nlmsg_len) < 0) {
    throw std::runtime_error("cannot send a netlink request in network namespace " + netns_ + ": " +
                             std::strerror(errno));
  }
  bool interrupted = false;
  for (;;) {
    const ssize_t received = mnl_socket_recvfrom(socket_, buffer_.data(), buffer_.size());
    if (received < 0) {
      throw std::runtime_error("cannot read a netlink answer in network namespace " + netns_ +
                               ": " + std::strerror(errno));
    }
    int left = static_cast<int>(received);
    for (auto* nlh = reinterpret_cast<const nlmsghdr*>(buffer_.data()); mnl_nlmsg_ok(nlh, left);
         nlh = mnl_nlmsg_next(nlh, &left)) {
      // Answers to an earlier request that was abandoned by an exception may still be queued.
      if (nlh->nlmsg_seq != request->nlmsg_seq || nlh->nlmsg_pid != port_id_) continue;
      if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
      if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
        // Both carry the errno first: an ERROR ends a request (0 is the ACK), a DONE ends a dump.
        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(int)) return {EBADMSG, "truncated answer"};
        const int error = *static_cast<const int*>(mnl_nlmsg_get_payload(nlh));
        const size_t offset = nlh->nlmsg_type == NLMSG_ERROR ? sizeof(nlmsgerr) : sizeof(int);
        if (error != 0) return {-error, ext_ack_message(nlh, offset)};
        if (interrupted) return {EINTR, "the table changed during the dump; try again"};
        return {};
      }
      if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && on_message) on_message(nlh);
    }
  }
}

void Netlink::fail(const Reply& reply, const std::string& action) const {
  std::string text = action + " in network namespace " + netns_ + ": " + std::strerror(reply.error);
  if (!reply.kernel_message.empty()) text += " (" + reply.kernel_message + ")";
  throw std::runtime_error(text);
}

std::string Netlink::describe(int ifindex) {
  std::optional<LinkInfo> info;
  try {
    info = link(ifindex);
  } catch (const std::runtime_error&) {
    // Only the name is missing from the message; the failure being reported matters more.
  }
  if (!info) return "interface with ifindex " + std::to_string(ifindex);
  return "interface " + info->name + " (ifindex " + std::to_string(ifindex) + ")";
}

int Netlink::ifindex(const std::string& name) {
  check_name(name);
  Request request(RTM_GETLINK, 0);
  request.put<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(request.nlh(), IFLA_IFNAME, name.c_str());
  int index = -1;
  const Reply reply = transact(request.nlh(), [&](const nlmsghdr* nlh) {
    index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh))->ifi_index;
  });
  if (reply.error == ENODEV) return -1;
  if (reply.error != 0) fail(reply, "cannot look up interface " + name);
  return index;
}

std::optional<Netlink::LinkInfo> Netlink::link(int ifindex) {
  Request request(RTM_GETLINK, 0);
  auto* ifm = request.put<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  std::optional<LinkInfo> info;
  const Reply reply = transact(request.nlh(), [&](const nlmsghdr* nlh) {
    const auto* answer = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
    const auto table = attributes<IFLA_MAX + 1>(nlh, sizeof(ifinfomsg));
    info = LinkInfo{.ifindex = answer->ifi_index, .up = (answer->ifi_flags & IFF_UP) != 0};
    if (const nlattr* name = table[IFLA_IFNAME];
        name != nullptr && mnl_attr_validate(name, MNL_TYPE_NUL_STRING) >= 0) {
      info->name = mnl_attr_get_str(name);
    }
    if (const nlattr* mac = table[IFLA_ADDRESS];
        mac != nullptr && mnl_attr_get_payload_len(mac) == info->mac.bytes.size()) {
      std::memcpy(info->mac.bytes.data(), mnl_attr_get_payload(mac), info->mac.bytes.size());
    }
    info->mtu = get_u32(table[IFLA_MTU]).value_or(0);
  });
  if (reply.error == ENODEV) return std::nullopt;
  if (reply.error != 0)
    fail(reply, "cannot read interface with ifindex " + std::to_string(ifindex));
  return info;
}

Netlink::Reply Netlink::change_link(int ifindex, const LinkChange& change) {
  Request request(RTM_NEWLINK, 0);
  auto* ifm = request.put<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  if (change.up) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = *change.up ? IFF_UP : 0;
  }
  if (change.name) mnl_attr_put_strz(request.nlh(), IFLA_IFNAME, change.name->c_str());
  if (change.mac) {
    mnl_attr_put(request.nlh(), IFLA_ADDRESS, change.mac->bytes.size(), change.mac->bytes.data());
  }
  if (change.mtu) mnl_attr_put_u32(request.nlh(), IFLA_MTU, *change.mtu);
  return transact(request.nlh());
}

void Netlink::set_link(int ifindex, const LinkChange& change) {
  if (!change.name && !change.mac && !change.mtu && !change.up) return;
  if (change.name) check_name(*change.name);
  Reply reply = change_link(ifindex, change);
  // Kernels before 6.2 refuse to rename a running interface (EBUSY); newer ones rename it in place,
  // so only then is the link taken down. Within one request the kernel renames before it applies
  // the flags, so the retry itself brings the link back up.
  if (reply.error == EBUSY && change.name) {
    const auto current = link(ifindex);
    if (current && current->up) {
      const Reply down = change_link(ifindex, {.up = false});
      if (down.error != 0) fail(down, "cannot take " + describe(ifindex) + " down to rename it");
      LinkChange retry = change;
      retry.up = change.up.value_or(true);
      reply = change_link(ifindex, retry);
      // Best effort: the failure being reported matters more than this one.
      if (reply.error != 0) change_link(ifindex, {.up = true});
    }
  }
  if (reply.error != 0) {
    fail(reply, "cannot set " + describe_change(change) + " on " + describe(ifindex));
  }
}

void Netlink::delete_link(int ifindex) {
  Request request(RTM_DELLINK, 0);
  auto* ifm = request.put<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  const Reply reply = transact(request.nlh());
  if (reply.error != 0) fail(reply, "cannot delete " + describe(ifindex));
}

void Netlink::move_to_netns(int ifindex, int netns_fd) {
  Request request(RTM_NEWLINK, 0);
  auto* ifm = request.put<ifinfomsg>();
  ifm->ifi_family = AF_UNSPEC;
  ifm->ifi_index = ifindex;
  mnl_attr_put_u32(request.nlh(), IFLA_NET_NS_FD, static_cast<uint32_t>(netns_fd));
  const Reply reply = transact(request.nlh());
  if (reply.error != 0) {
    fail(reply, "cannot move " + describe(ifindex) + " to the network namespace open as fd " +
                    std::to_string(netns_fd));
  }
}

void Netlink::add_address(int ifindex, Ipv4 ip, uint8_t prefix_len) {
  Request request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
  auto* ifa = request.put<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = prefix_len;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  mnl_attr_put_u32(request.nlh(), IFA_LOCAL, htonl(ip));
  mnl_attr_put_u32(request.nlh(), IFA_ADDRESS, htonl(ip));
  const Reply reply = transact(request.nlh());
  if (reply.error != 0) {
    fail(reply, "cannot add address " + ipv4_str(ip) + "/" + std::to_string(prefix_len) + " to " +
                    describe(ifindex));
  }
}

void Netlink::delete_address(int ifindex, Ipv4 ip, uint8_t prefix_len) {
  Request request(RTM_DELADDR, 0);
  auto* ifa = request.put<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = prefix_len;
  ifa->ifa_index = static_cast<uint32_t>(ifindex);
  mnl_attr_put_u32(request.nlh(), IFA_LOCAL, htonl(ip));
  const Reply reply = transact(request.nlh());
  // Already gone is what the caller wanted.
  if (reply.error != 0 && reply.error != EADDRNOTAVAIL)
    fail(reply, "cannot delete address " + ipv4_str(ip) + "/" + std::to_string(prefix_len) +
                    " from " + describe(ifindex));
}

std::vector<std::pair<Ipv4, uint8_t>> Netlink::addresses(int ifindex) {
  Request request(RTM_GETADDR, NLM_F_DUMP);
  request.put<ifaddrmsg>()->ifa_family = AF_INET;
  std::vector<std::pair<Ipv4, uint8_t>> result;
  const Reply reply = transact(request.nlh(), [&](const nlmsghdr* nlh) {
    const auto* ifa = static_cast<const ifaddrmsg*>(mnl_nlmsg_get_payload(nlh));
    if (ifa->ifa_family != AF_INET || static_cast<int>(ifa->ifa_index) != ifindex) return;
    const auto table = attributes<IFA_MAX + 1>(nlh, sizeof(ifaddrmsg));
    // IFA_ADDRESS is the peer on point-to-point links; IFA_LOCAL is always our own address.
    const auto ip = get_ipv4(table[IFA_LOCAL] != nullptr ? table[IFA_LOCAL] : table[IFA_ADDRESS]);
    if (ip) result.emplace_back(*ip, ifa->ifa_prefixlen);
  });
  if (reply.error != 0) fail(reply, "cannot list the addresses of " + describe(ifindex));
  return result;
}

void Netlink::add_route(const Route& route) {
  Request request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  auto* rtm = request.put<rtmsg>();
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = route.dst.length;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = kRouteProtocol;
  rtm->rtm_scope = route.scope_link ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  if (route.dst.length > 0) mnl_attr_put_u32(request.nlh(), RTA_DST, htonl(route.dst.network));
  mnl_attr_put_u32(request.nlh(), RTA_OIF, static_cast<uint32_t>(route.oif));
  if (route.gateway) mnl_attr_put_u32(request.nlh(), RTA_GATEWAY, htonl(*route.gateway));
  if (route.src) mnl_attr_put_u32(request.nlh(), RTA_PREFSRC, htonl(*route.src));
  const Reply reply = transact(request.nlh());
  if (reply.error != 0)
    fail(reply, "cannot add route " + route.str() + " via " + describe(route.oif));
}

void Netlink::delete_route(const Route& route) {
  Request request(RTM_DELROUTE, 0);
  auto* rtm = request.put<rtmsg>();
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = route.dst.length;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = kRouteProtocol;  // only ours: never a route someone else installed
  rtm->rtm_scope = RT_SCOPE_NOWHERE;   // any scope
  if (route.dst.length > 0) mnl_attr_put_u32(request.nlh(), RTA_DST, htonl(route.dst.network));
  mnl_attr_put_u32(request.nlh(), RTA_OIF, static_cast<uint32_t>(route.oif));
  const Reply reply = transact(request.nlh());
  // Already gone (ESRCH) is what the caller wanted.
  if (reply.error != 0 && reply.error != ESRCH)
    fail(reply, "cannot delete route " + route.str() + " via " + describe(route.oif));
}

std::vector<Netlink::Route> Netlink::routes() {
  Request request(RTM_GETROUTE, NLM_F_DUMP);
  request.put<rtmsg>()->rtm_family = AF_INET;
  std::vector<Route> result;
  const Reply reply = transact(request.nlh(), [&](const nlmsghdr* nlh) {
    const auto* rtm = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(nlh));
    const auto table = attributes<RTA_MAX + 1>(nlh, sizeof(rtmsg));
    // Tables above 255 only fit in RTA_TABLE; rtm_table then says RT_TABLE_COMPAT.
    const uint32_t table_id = get_u32(table[RTA_TABLE]).value_or(rtm->rtm_table);
    if (rtm->rtm_family != AF_INET || table_id != RT_TABLE_MAIN || rtm->rtm_type != RTN_UNICAST) {
      return;
    }
    result.push_back(Route{
        .dst = {get_ipv4(table[RTA_DST]).value_or(0), rtm->rtm_dst_len},
        .oif = static_cast<int>(get_u32(table[RTA_OIF]).value_or(0)),
        .gateway = get_ipv4(table[RTA_GATEWAY]),
        .src = get_ipv4(table[RTA_PREFSRC]),
        .scope_link = rtm->rtm_scope == RT_SCOPE_LINK,
    });
  });
  if (reply.error != 0) fail(reply, "cannot list the IPv4 routes of the main table");
  return result;
}

}  // namespace podvs
