// The single-instance backplane: every group's members are local, so publishing is delivering.
#include <atomic>
#include <mutex>

#include "hub/backplane.h"

namespace comms::hub {
namespace {

class InProcessBackplane final : public Backplane {
 public:
  void start(Deliver deliver) override {
    std::lock_guard lock(mu_);
    deliver_ = std::move(deliver);
  }
  void subscribe(const std::string&) override {}
  void unsubscribe(const std::string&) override {}

  void publish(const std::string& group, Frame frame, DeliveredCallback done) override {
    Deliver deliver;
    {
      std::lock_guard lock(mu_);
      deliver = deliver_;
    }
    if (!deliver) {
      done(false);
      return;
    }
    deliver(group, std::move(frame), std::move(done));
  }

  void stop() override {
    std::lock_guard lock(mu_);
    deliver_ = nullptr;
  }

 private:
  std::mutex mu_;
  Deliver deliver_;  // guarded by mu_; empty before start() and after stop()
};

}  // namespace

std::shared_ptr<Backplane> make_in_process_backplane() {
  return std::make_shared<InProcessBackplane>();
}

}  // namespace comms::hub
