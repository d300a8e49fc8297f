// The executor's list of runs whose steps hold stop tokens (so that shutting down can stop them),
// and the timer that serves their deadlines. Its members that touch a run: run_lifecycle.hpp.
#ifndef LIGHTFLOW_DETAIL_RUN_REGISTRY_HPP
#define LIGHTFLOW_DETAIL_RUN_REGISTRY_HPP

#include <atomic>
#include <mutex>

#include "lightflow/detail/timer.hpp"

namespace lightflow::detail {

class run_state_base;

/// What a run needs to know of its executor: whether it is shutting down, and a list of runs whose
/// steps hold stop tokens, so that shutting down can set them.
class run_registry {
 public:
  bool closing(std::memory_order order = std::memory_order_relaxed) const noexcept { return closing_.load(order); }
  void add(run_state_base& run);
  void remove(run_state_base& run) noexcept;
  void close() noexcept;  // sets closing and requests stop on every registered run
  timer_service& timer() noexcept { return timer_; }

 private:
  std::atomic<bool> closing_{false};
  std::mutex mutex_;
  run_state_base* head_ = nullptr;
  timer_service timer_;
};

}  // namespace lightflow::detail

#endif
