// Whether an RCU grace period is over, with the ordering C++ asks for: every read a reader made
// before its quiescent state happens before whatever the caller does to the memory afterwards.
//
// Why not rte_rcu_qsbr_check() alone: DPDK 22.11's check first compares the token with
// v->acked_token, the least token every reader had acknowledged at the last full check, and
// returns 1 on that alone. acked_token is written with a relaxed store by whichever thread made
// the last full check, and read with a plain load, so a thread answered by that shortcut never
// acquires the readers' counters: nothing orders their reads of the memory it is about to reuse
// before its writes. Several podvs workers check one qsbr (each takes its own retired connection
// entries back), so the shortcut is taken across threads all the time; ThreadSanitizer reported
// it as a connection entry re-made while another worker still read it. x86's and ARMv8's memory
// models happen to forbid the reordering, C++'s does not, so the check here reads every reader's
// counter with acquire, as DPDK's full check does, and never takes the shortcut. Its cost is one
// cache line per reader, paid when reclaiming or publishing, never per packet.
//
// It reads rte_rcu_qsbr's counters (qsbr_cnt[]: public fields of rte_rcu_qsbr.h, the same ones
// DPDK's own inline functions read in the caller's code); a counter of 0 is a reader that is
// offline or never registered, which DPDK treats the same way.
#pragma once

#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include <cstdint>

namespace podvs {

// Whether every online reader of `v` has reported a quiescent state since `token` was taken
// (rte_rcu_qsbr_start()).
inline bool rcu_grace_period_over(rte_rcu_qsbr* v, uint64_t token) {
  for (uint32_t i = 0; i < v->max_threads; ++i) {
    const uint64_t seen = __atomic_load_n(&v->qsbr_cnt[i].cnt, __ATOMIC_ACQUIRE);
    if (seen != __RTE_QSBR_CNT_THR_OFFLINE && seen < token) return false;
  }
  return true;
}

// Waits until every reader of `v` that is online has passed a quiescent state that began after
// this call (rte_rcu_qsbr_synchronize() without the shortcut; the caller must not be a reader).
inline void rcu_wait_grace_period(rte_rcu_qsbr* v) {
  const uint64_t token = rte_rcu_qsbr_start(v);
  while (!rcu_grace_period_over(v, token)) rte_pause();
}

}  // namespace podvs
