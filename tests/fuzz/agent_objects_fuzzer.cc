// libFuzzer target: arbitrary bytes as the JSON podvs-agent receives from the API server, through
// the Service translation (service_translation.h). The input is a JSON array (the Service, then
// its EndpointSlices) or one object (a Service without slices). The translation must never
// throw, crash or read out of bounds, and whatever it programs must pass podvsd's validation.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "control/agent/service_translation.h"
#include "control/api/service_spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  podvs::agent::parse_rfc3339(text);
  const auto input = nlohmann::json::parse(text, nullptr, false);
  if (input.is_discarded()) return 0;
  nlohmann::json service = input;
  std::vector<nlohmann::json> slices;
  if (input.is_array() && !input.empty()) {
    service = input[0];
    slices.assign(input.begin() + 1, input.end());
  }
  for (const auto& slice : slices) {
    podvs::agent::slice_service_key(slice);
    podvs::agent::slice_trigger_time(slice);
  }
  podvs::agent::external_ips_of(service);
  const auto t = podvs::agent::service_from(service, slices);
  if (t.spec && !podvs::validate_service(*t.spec).empty()) std::abort();
  if (!t.spec && t.problem.empty()) std::abort();
  return 0;
}
