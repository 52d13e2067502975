#include "vswitch/l3_forward.h"

#include <rte_byteorder.h>

namespace podvs {

bool decrement_ttl(rte_ipv4_hdr* ip) {
  if (ip->time_to_live <= 1) return false;
  --ip->time_to_live;
  // The TTL is the high byte of a 16-bit word: it dropped by 0x0100, so by RFC 1624 eqn. 3 the
  // checksum grows by 0x0100 in one's complement arithmetic. Folding 0xffff to 0x0000 keeps the
  // result identical to a full recomputation (which never yields 0xffff).
  uint32_t sum = rte_be_to_cpu_16(ip->hdr_checksum) + 0x0100u;
  sum += sum >= 0xffffu;
  ip->hdr_checksum = rte_cpu_to_be_16(static_cast<uint16_t>(sum));
  return true;
}

}  // namespace podvs
