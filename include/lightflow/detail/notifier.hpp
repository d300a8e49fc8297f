// An event count: lets idle workers sleep without ever missing a wake-up. A waiter announces itself,
// re-checks for work, then sleeps only if the epoch it read is still current; a producer that
// published work and sees a waiter bumps the epoch and wakes.
#ifndef LIGHTFLOW_DETAIL_NOTIFIER_HPP
#define LIGHTFLOW_DETAIL_NOTIFIER_HPP

#include <atomic>
#include <cstdint>

#include "lightflow/config.hpp"

namespace lightflow::detail {

class notifier {
 public:
  /// Step one of sleeping: after this, re-check for work, then cancel_wait() or commit_wait().
  std::uint32_t prepare_wait() noexcept {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    return epoch_.load(std::memory_order_seq_cst);
  }
  void cancel_wait() noexcept { waiters_.fetch_sub(1, std::memory_order_seq_cst); }
  void commit_wait(std::uint32_t epoch) noexcept {
    epoch_.wait(epoch, std::memory_order_seq_cst);
    waiters_.fetch_sub(1, std::memory_order_seq_cst);
  }

  /// Call after publishing work; wakes up to `n` sleepers if there are any.
  void notify(std::size_t n) noexcept {
    // A read-modify-write, not a fence followed by a load: either it sees a waiter that announced
    // itself, or that waiter's own increment synchronizes with it and the waiter's re-check sees the
    // work published before this call. (ThreadSanitizer understands this; it does not model fences.)
    if (waiters_.fetch_add(0, std::memory_order_seq_cst) == 0) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    if (n == 1)
      epoch_.notify_one();
    else
      epoch_.notify_all();
  }
  void notify_all() noexcept { notify(2); }

 private:
  alignas(LIGHTFLOW_CACHE_LINE) std::atomic<std::uint32_t> epoch_{0};
  alignas(LIGHTFLOW_CACHE_LINE) std::atomic<std::uint32_t> waiters_{0};
};

}  // namespace lightflow::detail

#endif
