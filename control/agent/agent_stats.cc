#include "control/agent/agent_stats.h"

namespace podvs::agent {

AgentStats& AgentStats::none() {
  static AgentStats nothing;
  return nothing;
}

}  // namespace podvs::agent
