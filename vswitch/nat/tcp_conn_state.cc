#include "vswitch/nat/tcp_conn_state.h"

#include <rte_tcp.h>

namespace podvs {

TcpState tcp_next_state(TcpState state, uint8_t& fin_seen, ConnDir dir, uint8_t tcp_flags) {
  const bool syn = (tcp_flags & RTE_TCP_SYN_FLAG) != 0;
  const bool ack = (tcp_flags & RTE_TCP_ACK_FLAG) != 0;
  const bool fin = (tcp_flags & RTE_TCP_FIN_FLAG) != 0;
  const bool from_originator = dir == ConnDir::original;
  if ((tcp_flags & RTE_TCP_RST_FLAG) != 0) return TcpState::closed;

  switch (state) {
    case TcpState::none:
      if (syn && !ack) return TcpState::syn_sent;
      // Any other first packet is a connection picked up mid-stream (after a restart, say), as
      // Linux with nf_conntrack_tcp_loose and OVS do; its FIN, if any, counts below.
      break;
    case TcpState::syn_sent:
      return syn && !from_originator ? TcpState::syn_recv : TcpState::syn_sent;
    case TcpState::syn_recv:
      if (!(from_originator && ack && !syn)) return TcpState::syn_recv;
      break;
    case TcpState::time_wait:
    case TcpState::closed:
      // A new SYN on the same tuple reopens the connection (RFC 1122 4.2.2.13).
      if (syn && !ack && from_originator) {
        fin_seen = 0;
        return TcpState::syn_sent;
      }
      return state;
    case TcpState::established:
    case TcpState::fin_wait:
      break;
  }

  if (fin) fin_seen |= static_cast<uint8_t>(1u << static_cast<unsigned>(dir));
  if (fin_seen == 0b11) return TcpState::time_wait;
  return fin_seen != 0 ? TcpState::fin_wait : TcpState::established;
}

}  // namespace podvs
