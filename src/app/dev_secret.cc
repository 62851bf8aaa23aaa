#include "app/dev_secret.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace comms::app {

std::string load_or_create_dev_secret(const std::string& data_dir) {
  namespace fs = std::filesystem;
  const fs::path path = fs::path(data_dir) / "dev-jwt-secret";
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::ifstream in(path);
    std::string secret;
    std::getline(in, secret);
    if (secret.size() >= 32) return secret;
    throw std::runtime_error(path.string() + ": too short; delete it to generate a new one");
  }
  fs::create_directories(data_dir, ec);
  if (ec) throw std::runtime_error(data_dir + ": cannot create (" + ec.message() + ")");
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("cannot generate random bytes");
  static const char* hex = "0123456789abcdef";
  std::string secret;
  for (unsigned char b : raw) {
    secret += hex[b >> 4];
    secret += hex[b & 15];
  }
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::runtime_error(tmp.string() + ": cannot write");
    out << secret << "\n";
  }
  ::chmod(tmp.c_str(), 0600);
  fs::rename(tmp, path, ec);
  if (ec) throw std::runtime_error(path.string() + ": cannot write (" + ec.message() + ")");
  return secret;
}

}  // namespace comms::app
