#include "delivery/resilience/provider.h"

namespace comms::delivery {

std::string_view to_string(Fault f) {
  switch (f) {
    case Fault::none:
      return "ok";
    case Fault::unavailable:
      return "unavailable";
    case Fault::ambiguous:
      return "ambiguous";
    case Fault::unroutable:
      return "unroutable";
    case Fault::rejected:
      return "rejected";
  }
  return "ok";
}

ProviderResult ProviderResult::failed(Fault f, std::string provider, std::string error, std::string alert) {
  const auto kind = f == Fault::rejected ? SendResult::Kind::permanent : SendResult::Kind::transient;
  return {f, SendResult::failure(kind, std::move(provider), std::move(error)), std::move(alert)};
}

}  // namespace comms::delivery
