// The TCP connection states conntrack ages a connection by, simplified like Linux's and OVS's
// trackers: flags only, no sequence-number windows. Linux's CLOSE_WAIT is folded into fin_wait
// (one side has sent FIN, whichever) and LAST_ACK into time_wait (both sides have sent FIN): their
// timeouts are close enough that telling them apart would not change when an entry goes.
#pragma once

#include <cstdint>

#include "vswitch/conn_tuple.h"

namespace podvs {

enum class TcpState : uint8_t {
  none,         // created, no packet seen yet
  syn_sent,     // SYN from the originator
  syn_recv,     // SYN+ACK (or a simultaneous SYN) from the responder
  established,  // the originator acknowledged, or the connection was picked up mid-stream
  fin_wait,     // one side has sent FIN
  time_wait,    // both sides have sent FIN
  closed,       // RST from either side
};
inline constexpr unsigned kNumTcpStates = 7;

// The state after a packet with `tcp_flags` (RTE_TCP_*_FLAG) travelling in `dir`. `fin_seen`
// holds one bit per ConnDir (1 << dir), the sides that have sent FIN; it is updated too.
TcpState tcp_next_state(TcpState state, uint8_t& fin_seen, ConnDir dir, uint8_t tcp_flags);

}  // namespace podvs
