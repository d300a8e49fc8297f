// The hot path: starting a run (its roots, a batch at a time when there are many), running one
// step, and releasing its dependents (counting down their records; a batch task for a step with many).
#ifndef LIGHTFLOW_DETAIL_RUN_RELEASE_HPP
#define LIGHTFLOW_DETAIL_RUN_RELEASE_HPP

#include <algorithm>
#include <cstdint>

#include "lightflow/detail/run_attempts.hpp"
#include "lightflow/detail/run_hooks.hpp"
#include "lightflow/detail/run_limits.hpp"
#include "lightflow/detail/run_processes.hpp"
#include "lightflow/detail/run_state_base.hpp"

namespace lightflow::detail {

template <class Push, class Finish>
task_node* run_state_base::start(Push&& push, Finish&& finish) {
  const graph_view& g = *graph_;
  for (observer* o : observers_) o->run_started(run_info());
  if (g.root_count == 0) {  // an empty flow: nothing to do
    finish(*this);
    return nullptr;
  }
  std::uint32_t queued = g.root_count;
  if (queued > batch_size && queued <= max_batched) {  // many roots: queue them a batch at a time
    root_cursor_.store(batch_size, std::memory_order_relaxed);
    sinks_left_.fetch_add(1, std::memory_order_relaxed);  // the run lasts until the batch task is done
    push(batch_node(start_node()));
    queued = batch_size;
  }
  for (std::uint32_t r = 1; r < queued; ++r) push(&nodes_[g.roots[r]]);
  return &nodes_[g.roots[0]];
}

template <class Push, class Finish, class Saved>
task_node* run_state_base::process(std::uint32_t step, ticks& now, Push&& push, Finish&& finish, Saved&& saved) {
  if (life_.has(life_state::paused, std::memory_order_seq_cst) && !cancelled() && park(step))
    return nullptr;  // resume() requeues it
  process_table* const processes = processes_.load(std::memory_order_acquire);  // null: the run has none
  step_record& rec = records_[step];
  bool ok = false;
  if (rec.restored) {
    ok = true;
    notify_not_run(step);
  } else if (cancelled()) {
    rec.status = stopped() ? step_status::stopped : step_status::cancelled;
    if (!plain_) let_go(step);  // a slot of its limit handed to it
    not_run(step);
  } else if (const std::uint32_t b = rec.pending.load(std::memory_order_relaxed) & ~pending_count_mask; b != 0) {
    rec.status = (b & blocked_by_failure) != 0 ? step_status::skipped : step_status::skipped_by_condition;
    if (rec.status == step_status::skipped && !plain_) end_subflow(step);  // a subflow's step may fail instead
    ok = rec.status == step_status::skipped_by_condition;
    not_run(step);
  } else if (const auto g = processes != nullptr ? processes->enter(*this, step) : gate::run; g != gate::run) {
    if (g == gate::parked) return nullptr;  // its process's resume (or stop) requeues it
    let_go(step);
  } else if (const auto slot = plain_ ? gate::run : take_slot(step); slot != gate::run) {
    if (slot == gate::parked) return nullptr;  // the step that frees a slot requeues it
  } else if (plain_ && !timed_) {  // lightflow::no_step_times: no clock read
    ok = attempt(step, nullptr);
    if (checkpoint_ != nullptr) ok = ok && save_checkpoint(step, saved);
    now = 0;  // stale: a timed step of another run that follows on this thread reads the clock
  } else {
    if (now == 0) now = now_ticks();
    if (plain_) {  // the common case: no policy, no observer
      rec.start = now;
      ok = attempt(step, nullptr);
      if (checkpoint_ != nullptr) ok = ok && save_checkpoint(step, saved);
      now = now_ticks();
      rec.end = now;
    } else {
      ok = run_with_policy(step, now, saved);
      end_slot(step);
    }
  }
  if (processes != nullptr) processes->ended(*this, step, ok);
  return release(step, ok, push, finish);
}

template <class Push, class Finish>
task_node* run_state_base::release(std::uint32_t step, bool ok, Push&& push, Finish&& finish) {
  const graph_view& g = *graph_;
  const std::uint32_t* it = g.outs + g.out_offsets[step];
  const std::uint32_t* end = g.outs + g.out_offsets[step + 1];
  if (it == end) {  // a sink: the run is over when the last sink is
    if (!ok) not_ok_.fetch_add(1, std::memory_order_relaxed);
    if (sinks_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(*this);
    return nullptr;
  }
  if (!ok) not_ok_.fetch_add(1, std::memory_order_relaxed);  // rare; read once the run is done
  if (const auto degree = static_cast<std::uint32_t>(end - it); degree > batch_size && degree <= max_batched) {
    records_[step].pending.store((ok ? 0 : blocked_by_failure) | batch_size, std::memory_order_relaxed);  // the cursor
    sinks_left_.fetch_add(1, std::memory_order_relaxed);  // the run lasts until the batch task is done
    push(batch_node(&nodes_[step]));                      // published by the deque's release
    end = it + batch_size;
  }
  return release_range(it, end, ok, push);
}

template <class Push, class Finish>
task_node* run_state_base::release_batch(std::uint32_t step, Push&& push, Finish&& finish) {
  const graph_view& g = *graph_;
  const bool roots = step == g.size;
  const std::uint32_t* const first = roots ? g.roots : g.outs + g.out_offsets[step];
  const std::uint32_t degree = roots ? g.root_count : g.out_offsets[step + 1] - g.out_offsets[step];
  const std::uint32_t word = (roots ? root_cursor_ : records_[step].pending).fetch_add(batch_size, std::memory_order_relaxed);
  const std::uint32_t at = word & pending_count_mask;
  task_node* next = nullptr;
  if (at < degree) {
    const std::uint32_t stop = std::min(degree, at + batch_size);
    if (stop < degree) {  // more left: let another thread take the next batch meanwhile
      sinks_left_.fetch_add(1, std::memory_order_relaxed);
      push(batch_node(&nodes_[step]));
    }
    if (roots) {  // ready as they are
      next = &nodes_[first[at]];
      for (std::uint32_t k = at + 1; k != stop; ++k) push(&nodes_[first[k]]);
    } else {
      next = release_range(first + at, first + stop, (word & blocked_by_failure) == 0, push);
    }
  }
  if (sinks_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(*this);  // next is null then
  return next;
}

template <class Push>
task_node* run_state_base::release_range(const std::uint32_t* it, const std::uint32_t* end, bool ok, Push& push) {
  const graph_view& g = *graph_;
  task_node* next = nullptr;
  for (; it != end; ++it) {
    const std::uint32_t d = *it;
    if (!ok) records_[d].pending.fetch_or(blocked_by_failure, std::memory_order_relaxed);  // published by the release below
    // A dependent with one dependency needs no counter: this step was its only one.
    if (g.dep_offsets[d + 1] - g.dep_offsets[d] == 1 || (records_[d].pending.fetch_sub(1, std::memory_order_acq_rel) & pending_count_mask) == 1) {
      if (next == nullptr)
        next = &nodes_[d];
      else
        push(&nodes_[d]);
    }
  }
  return next;
}

}  // namespace lightflow::detail

#endif
