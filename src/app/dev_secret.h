// The development signing secret used when neither COMMS_JWT_SECRET nor a
// public key is configured: generated once into <data_dir>/dev-jwt-secret
// (mode 0600) so that `comms serve` and `comms token` agree without setup.
#pragma once
#include <string>

namespace comms::app {

// Returns the secret, creating the file if needed. Throws std::runtime_error
// naming the file when it cannot be read or written.
std::string load_or_create_dev_secret(const std::string& data_dir);

}  // namespace comms::app
