// A run's lifecycle (cancel, stop, time out, pause, its end) as one atomic word: every transition
// is one atomic read-modify-write of it, written down here.
#ifndef LIGHTFLOW_DETAIL_LIFE_STATE_HPP
#define LIGHTFLOW_DETAIL_LIFE_STATE_HPP

#include <atomic>
#include <cstdint>

namespace lightflow::detail {

/// The bits of a run's life. A run starts with none; bits are only ever set, except `paused`:
///
///   event                          sets                       then
///   cancel(), a stop request,      cancelled                  steps not started end cancelled
///     the executor's shutdown
///   stop()                         stopped | cancelled        steps not started end stopped
///   the run's deadline             timed_out | cancelled      as cancel(); the result says timed_out()
///   pause()                        controlled, then paused    ready steps wait (unless closed was set:
///                                                             then pause does nothing)
///   resume()                       clears paused              the waiting steps are requeued
///   the run's end                  closed, then finished      finished wakes a waiter if waited is set
///   wait()                         waited                     sleeps until finished
///
/// pause() and the run's end meet through `controlled` and `closed`: each sets its bit and reads the
/// other's in one read-modify-write, so whichever comes second sees the first (a pause that comes
/// once the end has begun does nothing; an end that comes after a pause takes the pause's lock).
class life_state {
 public:
  enum bit : std::uint32_t {
    cancelled = 1u << 0,
    stopped = 1u << 1,
    timed_out = 1u << 2,
    paused = 1u << 3,
    controlled = 1u << 4,
    closed = 1u << 5,
    waited = 1u << 6,
    finished = 1u << 7,
  };

  std::uint32_t load(std::memory_order order = std::memory_order_relaxed) const noexcept { return word_.load(order); }
  bool has(bit b, std::memory_order order = std::memory_order_relaxed) const noexcept {
    return (word_.load(order) & b) != 0;
  }
  /// Sets `bits`; returns the word as it was.
  std::uint32_t set(std::uint32_t bits) noexcept { return word_.fetch_or(bits, std::memory_order_seq_cst); }
  void clear(bit b) noexcept { word_.fetch_and(~static_cast<std::uint32_t>(b), std::memory_order_seq_cst); }

  /// The run's end: sets finished and wakes the waiter, if one marked itself.
  void finish() noexcept {
    if ((word_.fetch_or(finished, std::memory_order_acq_rel) & waited) != 0) word_.notify_all();
  }
  /// Blocks until finished. A waiter marks itself, so that finishing wakes only when needed.
  void wait_finished() noexcept {
    for (std::uint32_t s = word_.load(std::memory_order_acquire); (s & finished) == 0;
         s = word_.load(std::memory_order_acquire)) {
      if ((s & waited) == 0) {
        if (!word_.compare_exchange_weak(s, s | waited, std::memory_order_acq_rel)) continue;
        s |= waited;
      }
      word_.wait(s, std::memory_order_acquire);  // returns once the word changed (or spuriously)
    }
  }

 private:
  std::atomic<std::uint32_t> word_{0};
};

}  // namespace lightflow::detail

#endif
