#include "base/drop_reason.h"

#include <array>

namespace podvs {
namespace {

constexpr std::array<std::string_view, kNumDropReasons> kNames = {
#define PODVS_DROP_NAME(name, help) #name,
    PODVS_DROP_REASONS(PODVS_DROP_NAME)
#undef PODVS_DROP_NAME
};

constexpr std::array<std::string_view, kNumDropReasons> kHelp = {
#define PODVS_DROP_HELP(name, help) help,
    PODVS_DROP_REASONS(PODVS_DROP_HELP)
#undef PODVS_DROP_HELP
};

}  // namespace

std::string_view drop_reason_name(DropReason reason) { return kNames[static_cast<size_t>(reason)]; }

std::string_view drop_reason_help(DropReason reason) { return kHelp[static_cast<size_t>(reason)]; }

}  // namespace podvs
