// Starts a peer process for adapter tests (the fake Africa's Talking server,
// aiosmtpd) and talks to its control API with libcurl. The process is killed
// when the object goes away.
#pragma once
#include <curl/curl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace comms::test {

inline std::filesystem::path repo_root() {
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

inline const char* python() {
  return "/usr/bin/python3";
}

class PeerProcess {
 public:
  // Runs argv; returns once the process printed its first stdout line (kept in first_line()).
  explicit PeerProcess(std::vector<std::string> argv) {
    int fds[2];
    if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
    char buf[4096];
    if (!fgets(buf, sizeof buf, out_)) throw std::runtime_error("peer printed nothing: " + argv[1]);
    first_line_ = buf;
  }
  ~PeerProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (out_) fclose(out_);
  }
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;
  const std::string& first_line() const { return first_line_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string first_line_;
};

inline size_t collect(char* d, size_t s, size_t n, void* u) {
  static_cast<std::string*>(u)->append(d, s * n);
  return s * n;
}

// A plain HTTP request (for control APIs). Returns the body; throws on transport errors.
inline std::string http(const std::string& method, const std::string& url, const std::string& body = "",
                        long* status = nullptr) {
  CURL* h = curl_easy_init();
  std::string out;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
  const auto rc = curl_easy_perform(h);
  if (status) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("control request failed: ") + curl_easy_strerror(rc));
  return out;
}

// The fake Africa's Talking server (tests/peers/fake_africastalking.py).
class FakeAfricasTalking {
 public:
  static bool available() {
    return std::filesystem::exists(python()) &&
           std::filesystem::exists(repo_root() / "tests/peers/fake_africastalking.py");
  }
  FakeAfricasTalking()
      : proc_({python(), (repo_root() / "tests/peers/fake_africastalking.py").string(), "--port", "0",
               "--control-port", "0", "--username", "tester", "--api-key", "secret-key-123"}) {
    const auto info = boost::json::parse(proc_.first_line()).as_object();
    port_ = static_cast<int>(info.at("port").as_int64());
    control_ = "http://127.0.0.1:" + std::to_string(info.at("control_port").as_int64()) + "/_control/";
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void configure(const std::string& json) { http("POST", control_ + "config", json); }
  boost::json::value get(const std::string& what) { return boost::json::parse(http("GET", control_ + what)); }

 private:
  PeerProcess proc_;
  int port_ = 0;
  std::string control_;
};

// A peer started through tests/integration/peers.py's command line (its own temp dir), with the
// KEY=VALUE settings it printed. `clean` stops it and removes the dir.
class CliPeer {
 public:
  static bool available() {
    return std::filesystem::exists(python()) &&
           std::filesystem::exists(repo_root() / "tests/integration/peers.py");
  }
  explicit CliPeer(std::string peer, std::vector<std::string> extra = {}) : peer_(std::move(peer)) {
    dir_ = std::filesystem::temp_directory_path() /
           ("comms-unit-" + peer_ + "-" + std::to_string(getpid()) + "-" + std::to_string(counter()++));
    std::string cmd = std::string(python()) + " " + (repo_root() / "tests/integration/peers.py").string() +
                      " " + peer_ + " start --dir " + dir_.string();
    for (const auto& e : extra) cmd += " " + e;
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) throw std::runtime_error("cannot run peers.py");
    char line[4096];
    while (fgets(line, sizeof line, f)) {
      std::string l(line);
      while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.pop_back();
      const auto eq = l.find('=');
      if (eq != std::string::npos) env_[l.substr(0, eq)] = l.substr(eq + 1);
    }
    if (pclose(f) != 0) throw std::runtime_error("peers.py " + peer_ + " start failed");
  }
  ~CliPeer() {
    const std::string cmd = std::string(python()) + " " +
                            (repo_root() / "tests/integration/peers.py").string() + " " + peer_ +
                            " clean --dir " + dir_.string() + " >/dev/null 2>&1";
    [[maybe_unused]] int rc = std::system(cmd.c_str());
  }
  CliPeer(const CliPeer&) = delete;
  CliPeer& operator=(const CliPeer&) = delete;
  const std::string& operator[](const std::string& key) const { return env_.at(key); }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::string peer_;
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
};

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace comms::test
