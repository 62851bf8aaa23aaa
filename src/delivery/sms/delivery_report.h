// What a provider's delivery report means for a notification. Pure values;
// the API's callback handlers apply them through delivery::apply_delivery_report.
#pragma once
#include <string>

namespace comms::delivery {

struct ReportMeaning {
  enum class Kind {
    delivered,  // final: the handset has it
    failed,     // final: it will not arrive; `reason` says why
    progress,   // on its way (submitted, buffered at the operator): nothing changes yet
    unknown,    // a status this service does not know: logged, nothing changes
  };
  Kind kind = Kind::unknown;
  std::string reason;
};

}  // namespace comms::delivery
