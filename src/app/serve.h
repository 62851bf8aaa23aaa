// `comms serve`: wires the store, dispatcher, channels, HTTP API and
// middleware from the configuration, runs until SIGINT/SIGTERM, then shuts
// down gracefully (stop intake, drain in-flight sends up to the timeout,
// flush the store). Returns the process exit code.
#pragma once
#include "app/config.h"

namespace comms::app {

int serve(const Config& config);

}  // namespace comms::app
