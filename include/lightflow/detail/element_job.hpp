// The shared part of a map step's elements (map_elements.hpp has the typed part): the counter its
// threads claim chunks of elements from, the count of elements not yet ended that the step's thread
// waits on, and the helpers, one detached task (step_record.hpp) queued a few times on the step's
// thread's deque for idle threads to steal. Under the step's concurrency limit, a helper works only
// with a slot of its own.
#ifndef LIGHTFLOW_DETAIL_ELEMENT_JOB_HPP
#define LIGHTFLOW_DETAIL_ELEMENT_JOB_HPP

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "lightflow/detail/limit_state.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/step_record.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow::detail {

/// How the elements reach a step's run and index through its step_context.
struct element_access {
  static run_state_base& run(const step_context& sc) noexcept { return *sc.run_; }
  static std::uint32_t step(const step_context& sc) noexcept { return sc.step_; }
};

/// The shared part of a map's elements: the counters its threads claim chunks from and count down.
class element_job : public detached_task {
 public:
  /// `limit`: the map step's concurrency limit (null: none), of which each helper needs a slot.
  element_job(std::size_t count, std::size_t chunk, std::shared_ptr<limit_state> limit) noexcept
      : detached_task{&help_and_drop}, count_(count), chunk_(chunk), left_(count), limit_(std::move(limit)) {}
  element_job(const element_job&) = delete;
  element_job& operator=(const element_job&) = delete;
  virtual ~element_job() = default;

  /// Runs chunks of elements until none is left to claim.
  void help() noexcept {
    for (;;) {
      const std::size_t first = next_.fetch_add(chunk_, std::memory_order_relaxed);
      if (first >= count_) return;
      const std::size_t last = std::min(count_, first + chunk_);
      run_elements(first, last);
      if (left_.fetch_sub(last - first, std::memory_order_acq_rel) == last - first) left_.notify_all();
    }
  }
  /// Waits until every element has ended (after help(): the chunks helpers still run).
  void wait() const noexcept {
    for (std::size_t v = left_.load(std::memory_order_acquire); v != 0; v = left_.load(std::memory_order_acquire))
      left_.wait(v, std::memory_order_acquire);
  }
  void hold(std::size_t n) noexcept { refs_.fetch_add(n, std::memory_order_relaxed); }
  void drop() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 protected:
  std::size_t count() const noexcept { return count_; }

 private:
  virtual void run_elements(std::size_t first, std::size_t last) noexcept = 0;
  // A helper: works, then lets go (a helper taken after the elements are done claims nothing). Under
  // a concurrency limit it works only with a slot of its own (the step's thread holds the step's),
  // which it hands on as a step does; it keeps the limit alive, not the run, which may have ended.
  static void help_and_drop(detached_task* task) noexcept {
    auto* job = static_cast<element_job*>(task);
    if (job->limit_ == nullptr) {
      job->help();
    } else if (job->limit_->try_take()) {
      job->help();
      if (task_node* next = job->limit_->leave()) run_state_base::requeue(next);
    }
    job->drop();
  }

  const std::size_t count_, chunk_;
  alignas(64) std::atomic<std::size_t> next_{0};  // the next element to claim
  alignas(64) std::atomic<std::size_t> left_;     // elements not ended
  std::atomic<std::size_t> refs_{1};              // the step's, and one per queued helper
  const std::shared_ptr<limit_state> limit_;
};

/// The concurrency limit of the map step whose context is `sc` (null: none).
inline std::shared_ptr<limit_state> limit_of(const step_context& sc) {
  const policy* own = element_access::run(sc).own(element_access::step(sc));
  return own != nullptr ? own->concurrency : nullptr;
}

}  // namespace lightflow::detail

#endif
