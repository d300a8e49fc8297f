// The shared state of a concurrency limit (limit.hpp): how many slots it has and holds, the steps
// that wait for one, and the steps a slot was handed to on their way back to a worker. A waiting
// step is a task node parked here, not a thread: the step that frees a slot hands it to the first
// waiter and requeues it (run_limits.hpp).
#ifndef LIGHTFLOW_DETAIL_LIMIT_STATE_HPP
#define LIGHTFLOW_DETAIL_LIMIT_STATE_HPP

#include <algorithm>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "lightflow/detail/step_record.hpp"

namespace lightflow::detail {

class limit_state {
 public:
  explicit limit_state(std::size_t capacity) noexcept : capacity_(capacity) {}
  limit_state(const limit_state&) = delete;
  limit_state& operator=(const limit_state&) = delete;

  std::size_t capacity() const noexcept { return capacity_; }
  /// Slots held: by running steps, and by steps handed one on their way to a worker.
  std::size_t held() const {
    std::lock_guard lock(mutex_);
    return held_;
  }
  std::size_t waiting() const {
    std::lock_guard lock(mutex_);
    return waiting_.size();
  }

  /// Whether `node` may run now: it was handed a slot, or one is free (it takes it).
  bool try_enter(task_node* node) {
    std::lock_guard lock(mutex_);
    return enter_locked(node);
  }
  /// The same, or else `node` waits for a slot, unless `stopped()` (checked under the lock that a
  /// withdraw takes: a cancellation that comes after it finds the node waiting). Returns whether
  /// it may run now; false with `stopped()` true means it neither runs nor waits.
  template <class Stopped>
  bool enter_or_wait(task_node* node, Stopped&& stopped, bool& waits) {
    std::lock_guard lock(mutex_);
    waits = false;
    if (enter_locked(node)) return true;
    if (stopped()) return false;
    waiting_.push_back(node);  // may throw bad_alloc: the caller treats it as the step's failure
    waits = true;
    return false;
  }
  /// For a step that holds a slot and shares its work (a map step's elements): another slot for one
  /// more thread, when one is free and no step waits for it.
  bool try_take() {
    std::lock_guard lock(mutex_);
    if (held_ == capacity_ || !waiting_.empty()) return false;
    ++held_;
    return true;
  }
  /// A step that held a slot ended: its slot goes to the first waiter, returned for the caller to
  /// requeue (null: none waits, the slot is free).
  task_node* leave() noexcept {
    std::lock_guard lock(mutex_);
    return pass_on_locked();
  }
  /// `node` will not run (cancelled, stopped): a slot handed to it passes on (as leave()).
  task_node* forfeit(task_node* node) noexcept {
    std::lock_guard lock(mutex_);
    const auto it = std::find(granted_.begin(), granted_.end(), node);
    if (it == granted_.end()) return nullptr;
    granted_.erase(it);
    return pass_on_locked();
  }
  /// A cancelled run takes its waiting steps back (to `out`), so that they end at once.
  void withdraw(const void* run, std::vector<task_node*>& out) {
    std::lock_guard lock(mutex_);
    for (auto it = waiting_.begin(); it != waiting_.end();) {
      if ((*it)->run == run) {
        out.push_back(*it);
        it = waiting_.erase(it);
      } else {
        ++it;
      }
    }
  }

 private:
  bool enter_locked(task_node* node) {
    if (const auto it = std::find(granted_.begin(), granted_.end(), node); it != granted_.end()) {
      granted_.erase(it);  // it keeps the slot it was handed
      return true;
    }
    if (held_ == capacity_) return false;
    ++held_;
    return true;
  }
  task_node* pass_on_locked() noexcept {
    if (waiting_.empty()) {
      --held_;
      return nullptr;
    }
    task_node* next = waiting_.front();
    try {
      granted_.push_back(next);
    } catch (...) {  // no memory to note the hand-over: free the slot; the waiter takes one as it can
      --held_;
    }
    waiting_.pop_front();
    return next;
  }

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::size_t held_ = 0;
  std::deque<task_node*> waiting_;
  std::vector<task_node*> granted_;  // handed a slot, not yet back at try_enter
};

}  // namespace lightflow::detail

#endif
