// How a run's steps meet their concurrency limits (limit.hpp): a step takes a slot before it runs
// or waits for one without a thread; the step that frees a slot hands it to the first waiter and
// requeues it on that waiter's own run; a cancelled run withdraws its waiting steps (run_lifecycle.hpp).
// Only steps with a limit of their own get here: a run without one pays nothing.
#ifndef LIGHTFLOW_DETAIL_RUN_LIMITS_HPP
#define LIGHTFLOW_DETAIL_RUN_LIMITS_HPP

#include <algorithm>
#include <cstdint>
#include <exception>
#include <mutex>

#include "lightflow/detail/limit_state.hpp"
#include "lightflow/detail/run_hooks.hpp"
#include "lightflow/detail/run_lifecycle.hpp"
#include "lightflow/detail/run_state_base.hpp"

namespace lightflow::detail {

inline run_state_base::gate run_state_base::take_slot(std::uint32_t step) noexcept {
  const policy* p = own(step);
  if (p == nullptr || p->concurrency == nullptr) return gate::run;
  limit_state& l = *p->concurrency;
  task_node* const node = &nodes_[step];
  step_record& rec = records_[step];
  try {
    if (l.try_enter(node)) return gate::run;
    // It may wait: the run learns of the limit first (once the node waits, the run may end at any
    // moment), so that a cancellation finds it there.
    watch(l);
    bool waits = false;
    if (l.enter_or_wait(
            node, [this] { return cancelled(); }, waits))
      return gate::run;
    if (waits) return gate::parked;
    rec.status = stopped() ? step_status::stopped : step_status::cancelled;
  } catch (...) {  // no memory to wait: the step fails
    set_error(step, std::current_exception());
    rec.status = step_status::failed;
  }
  not_run(step);
  return gate::ended;
}

inline void run_state_base::watch(limit_state& l) {
  controlled([&] {
    arm_unparker();  // a cancellation resumes the run, which withdraws its waiting steps
    std::lock_guard lock(park_mutex_);
    if (std::find(limits_.begin(), limits_.end(), &l) == limits_.end()) limits_.push_back(&l);
  });
}

inline void run_state_base::end_slot(std::uint32_t step) noexcept {
  const policy* p = own(step);
  if (p == nullptr || p->concurrency == nullptr) return;
  if (task_node* next = p->concurrency->leave()) requeue(next);
}

inline void run_state_base::let_go(std::uint32_t step) noexcept {
  const policy* p = own(step);
  if (p == nullptr || p->concurrency == nullptr) return;
  if (task_node* next = p->concurrency->forfeit(&nodes_[step])) requeue(next);
}

}  // namespace lightflow::detail

#endif
