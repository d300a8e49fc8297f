// What a run keeps per step: its record (status, times, attempts, and the counter its dependencies
// count down) and its node in the workers' deques (and how a batch task is told apart).
#ifndef LIGHTFLOW_DETAIL_STEP_RECORD_HPP
#define LIGHTFLOW_DETAIL_STEP_RECORD_HPP

#include <atomic>
#include <cstdint>

#include "lightflow/detail/timestamp.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow::detail {

/// The index of the executor thread (or guest slot) running steps on this thread; set by the scheduler.
inline thread_local unsigned current_worker = 0;

/// What became of one step (its error, rare, is kept apart: run_state_base::error).
struct step_record {
  ticks start = 0;  // see timestamp.hpp; 0 for a step that did not run
  ticks end = 0;
  step_status status = step_status::pending;
  bool restored = false;        // its output came from a checkpoint; it did not run
  std::uint16_t attempts = 0;   // how many times its callable was called
  // Written by the step's dependencies (in what would be padding): how many have yet to finish (the
  // low 30 bits), and whether one did not succeed or a condition skipped this step (the top two).
  std::atomic<std::uint32_t> pending{0};
};
static_assert(sizeof(step_record) == 24, "a step record is 24 bytes");

/// The bits of step_record::pending.
inline constexpr std::uint32_t pending_count_mask = (std::uint32_t{1} << 30) - 1;
inline constexpr std::uint32_t blocked_by_failure = std::uint32_t{1} << 31, blocked_by_condition = std::uint32_t{1} << 30;

class run_state_base;

/// A unit of work in a worker's deque: one step of one run. A run has one node per step (and one
/// more, "start the run"), in an array; a node holds only its run, and its step is its place in the
/// run's array (run->step_of(node)), so it costs 8 bytes a step.
struct task_node {
  run_state_base* run = nullptr;
};

// A step with many dependents (or a run with many roots) does not queue them all at once: that
// would grow a worker's deque to hold them all (8 bytes each, kept for the executor's life). It
// releases `batch_size` and queues a batch task, its node's address with the low bit set, which
// claims the next batch from a cursor (for a step: its record's `pending` word, unused once the
// step ran; for the roots: the run's root cursor), queues itself again if more are left, and
// releases them (run_release.hpp).
inline constexpr std::uint32_t batch_size = 64;
inline constexpr std::uint32_t max_batched = pending_count_mask / 2;  // the cursor never overflows
inline task_node* batch_node(task_node* node) noexcept {
  return reinterpret_cast<task_node*>(reinterpret_cast<std::uintptr_t>(node) | 1);
}
inline bool is_batch(const task_node* t) noexcept { return (reinterpret_cast<std::uintptr_t>(t) & 1) != 0; }
inline task_node* plain_node(task_node* t) noexcept {
  return reinterpret_cast<task_node*>(reinterpret_cast<std::uintptr_t>(t) & ~std::uintptr_t{1});
}

/// Work that is not a step: a function and its object, queued as their address with the second bit
/// set (a map step's elements, map_elements.hpp, are shared out this way). The same task may be
/// queued several times; each time it is taken, `run(task)` is called.
struct detached_task {
  void (*run)(detached_task*) noexcept;
};
inline task_node* detached_node(detached_task* t) noexcept {
  return reinterpret_cast<task_node*>(reinterpret_cast<std::uintptr_t>(t) | 2);
}
/// Whether a queued node is a batch task or a detached task, rather than a step.
inline bool is_tagged(const task_node* t) noexcept { return (reinterpret_cast<std::uintptr_t>(t) & 3) != 0; }
inline detached_task* detached_of(task_node* t) noexcept {
  return reinterpret_cast<detached_task*>(reinterpret_cast<std::uintptr_t>(t) & ~std::uintptr_t{3});
}

}  // namespace lightflow::detail

#endif
