// --new-flows: every packet carries a tuple no earlier packet of the run carried, so that to a
// stateful switch (conntrack, a Service's DNAT) each one is a new connection. The tuples are the
// FlowSet enumeration of the flow ranges in order (source port fastest), N of them; sending ends
// when they run out, so that no tuple is ever sent twice. Memory does not grow with N: the frame
// is written from the one template of the run's first tuple and then rewritten in place (addresses,
// ports and both checksums, updated incrementally as RFC 1624 does).
//
// The stamp keeps flow index 0 on every packet: the receiver tracks one sequence over the run.
#pragma once

#include <cstdint>

#include "perf/pktgen/flows.h"
#include "perf/pktgen/frame.h"

namespace podvs::pktgen {

// Rewrites the addresses and L4 ports of a frame written for tuple `from` (write_frame) to those
// of `to`, and updates the IPv4 header and L4 checksums to match.
void rewrite_tuple(uint8_t* frame, L4 proto, const FlowTuple& from, const FlowTuple& to);

class NewFlows {
 public:
  // `set` enumerates the tuples (set.size() of them); frames come from the template of tuple 0.
  NewFlows(const FlowSet& set, L4 proto);

  uint32_t remaining() const { return set_.size() - sent_; }

  // Turns a frame written for tuple 0 into the next tuple's. Call only while remaining() > 0.
  void next(uint8_t* frame) {
    rewrite_tuple(frame, proto_, first_, current_);
    ++sent_;
    advance();
  }

 private:
  // Steps current_ to the next tuple in FlowSet order: an odometer over the four ranges, which
  // costs a few compares per packet where FlowSet::tuple() would divide three times.
  void advance();

  FlowSet set_;
  L4 proto_;
  FlowTuple first_;
  FlowTuple current_;
  uint32_t sent_ = 0;
  uint32_t sport_i_ = 0, dport_i_ = 0, sip_i_ = 0;
};

}  // namespace podvs::pktgen
