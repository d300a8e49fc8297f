// A run's life besides its steps: pause and resume, stop (the run's, or one process's), its
// deadline, its stop token (made on first use and registered with the executor, which stops it at
// shutdown), and its end.
#ifndef LIGHTFLOW_DETAIL_RUN_LIFECYCLE_HPP
#define LIGHTFLOW_DETAIL_RUN_LIFECYCLE_HPP

#include <chrono>
#include <mutex>
#include <new>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "lightflow/detail/limit_state.hpp"
#include "lightflow/detail/run_hooks.hpp"
#include "lightflow/detail/run_processes.hpp"
#include "lightflow/detail/run_registry.hpp"
#include "lightflow/detail/run_state_base.hpp"
#include "lightflow/errors.hpp"

namespace lightflow::detail {

template <class F>
void run_state_base::controlled(F&& f) {
  if (done()) return;
  // Pausing (the run or one of its processes) arms a stop callback and may register the run's stop
  // source with the executor; the run's end takes both down. The two meet through life_state's
  // controlled and closed bits (so that a run never controlled takes no lock at its end): a pause
  // that starts once the end has begun does nothing.
  std::lock_guard lock(control_mutex_);
  if ((life_.set(life_state::controlled) & life_state::closed) != 0) return;
  f();
}

inline void run_state_base::cancel_with(std::uint32_t more) noexcept {
  life_.set(life_state::cancelled | more);
  if (stop_ready_.load(std::memory_order_seq_cst) == 2) stop_source_()->request_stop();  // unparks a paused run
}

inline void run_state_base::arm_unparker() {
  // A cancellation (or shutdown) resumes the run. Made once (a stop already requested runs resume()
  // at once).
  if (!unpark_armed_) {
    unpark_armed_ = true;
    unpark_on_stop_.emplace(stop_token(), unparker{this});
  }
}

inline void run_state_base::pause() {
  controlled([this] {
    arm_unparker();
    life_.set(life_state::paused);
    if (stop_requested()) resume();  // a cancellation that came meanwhile
  });
}

inline bool run_state_base::park(std::uint32_t step) {
  std::lock_guard lock(park_mutex_);
  if (!life_.has(life_state::paused, std::memory_order_seq_cst)) return false;
  parked_.push_back(&nodes_[step]);
  return true;
}

inline std::size_t run_state_base::parked() const {
  std::lock_guard lock(park_mutex_);
  return parked_.size();
}

inline void run_state_base::resume() noexcept {
  std::vector<task_node*> ready;
  std::vector<limit_state*> limits;
  bool cancel = false;
  {
    std::lock_guard lock(park_mutex_);
    life_.clear(life_state::paused);
    ready.swap(parked_);
    cancel = cancelled();
    if (cancel) limits.swap(limits_);
  }
  if (cancel) {
    // A cancelled run (this is its unparker) also lets go of the steps its paused processes hold and
    // of the ones that wait for a slot of a concurrency limit: they end at once, marked cancelled.
    try {
      if (process_table* processes = processes_.load(std::memory_order_acquire)) processes->unpark_all(ready);
      for (limit_state* l : limits) l->withdraw(this, ready);
    } catch (...) {  // no memory to list them: they wait for their process's resume or stop, or a slot
    }
  }
  for (task_node* t : ready) requeue_(scheduler_, t);
}

inline void process_table::pause(run_state_base& run, std::string_view name) {
  check(run, name);
  run.controlled([&] {
    process_table& t = of(run);
    process_entry& e = t.find_or_add(run, name);
    run.arm_unparker();
    {
      std::lock_guard lock(t.mutex_);
      e.state.fetch_or(process_entry::paused, std::memory_order_seq_cst);
    }
    if (run.stop_requested()) run.resume();  // a cancellation that came meanwhile
  });
}

inline void process_table::stop(run_state_base& run, std::string_view name) {
  check(run, name);
  run.controlled([&] {
    process_table& t = of(run);
    t.release(run, t.find_or_add(run, name), process_entry::stopped, 0);
  });
}

inline void run_state_base::stop() noexcept {
  cancel_with(life_state::stopped);
  resume();
}

inline void run_state_base::arm_deadline(std::chrono::nanoseconds limit) {
  deadline_ = timer_service::clock::now() + limit;
  deadline_id_ = registry_->timer().add(
      deadline_,
      [](void* p) noexcept {
        static_cast<run_state_base*>(p)->cancel_with(life_state::timed_out);
      },
      this);
}

inline std::stop_token run_state_base::stop_token() {
  int state = stop_ready_.load(std::memory_order_acquire);
  if (state != 2) {
    int expected = 0;
    if (stop_ready_.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      auto* source = ::new (static_cast<void*>(stop_storage_)) std::stop_source();  // may throw bad_alloc
      registry_->add(*this);
      stop_ready_.store(2, std::memory_order_seq_cst);
      // A cancel that came before the source existed (it read stop_ready_ before the store above).
      if (life_.has(life_state::cancelled, std::memory_order_seq_cst) || registry_->closing()) source->request_stop();
    } else {
      while (stop_ready_.load(std::memory_order_acquire) != 2) std::this_thread::yield();
    }
  }
  return stop_source_()->get_token();
}

inline void run_registry::add(run_state_base& run) {
  std::lock_guard lock(mutex_);
  run.next_stoppable_ = head_;
  if (head_ != nullptr) head_->prev_stoppable_ = &run;
  head_ = &run;
}

inline void run_registry::remove(run_state_base& run) noexcept {
  std::lock_guard lock(mutex_);
  if (run.prev_stoppable_ != nullptr)
    run.prev_stoppable_->next_stoppable_ = run.next_stoppable_;
  else if (head_ == &run)
    head_ = run.next_stoppable_;
  if (run.next_stoppable_ != nullptr) run.next_stoppable_->prev_stoppable_ = run.prev_stoppable_;
  run.prev_stoppable_ = run.next_stoppable_ = nullptr;
}

inline void run_registry::close() noexcept {
  closing_.store(true, std::memory_order_seq_cst);
  std::lock_guard lock(mutex_);
  for (run_state_base* r = head_; r != nullptr; r = r->next_stoppable_) r->stop_source_()->request_stop();
}

/// Marks a run finished and wakes whoever waits for it; drops the executor's reference.
inline void finish_run(run_state_base& run) noexcept {
  if (run.deadline_id_ != 0) run.registry_->timer().cancel(run.deadline_, run.deadline_id_);  // no call after this
  bool ok = true;
  if (!run.plain_ || !run.resources_.empty()) ok = run.end_flow();
  if (!run.observers_.empty()) {
    run_event e = run.run_info();
    e.ok = ok && run.steps_ok();
    for (observer* o : run.observers_) o->run_finished(e);
  }
  auto take_down = [&run]() noexcept {
    run.follow_.reset();  // no stop request from outside may reach the run from here on
    run.unpark_on_stop_.reset();
    if (run.stop_ready_.load(std::memory_order_acquire) == 2) run.registry_->remove(run);
  };
  if ((run.life_.set(life_state::closed) & life_state::controlled) != 0) {  // a pause() may be arming what we take down
    std::lock_guard lock(run.control_mutex_);
    take_down();
  } else {  // any pause() from now on sees closed and does nothing
    take_down();
  }
  // The executor's reference, released last, keeps the state alive while the waiter is woken.
  run.life_.finish();
  run.release();
}

inline void run_state_base::run_only(const std::vector<std::string>& names) {
  const graph_view& g = *graph_;
  std::vector<bool> kept(g.size, false);
  for (const std::string& name : names) {
    const std::uint32_t i = g.find(name);
    if (i == g.size)
      throw unknown_step("lightflow: flow \"" + std::string(g.flow_name) + "\" has no step \"" + name +
                         "\" (named by lightflow::only_steps)");
    kept[i] = true;
  }
  for (std::uint32_t i = 0; i != g.size; ++i)
    if (!kept[i]) records_[i].status = step_status::stopped;  // run_with_policy ends it unrun
  plain_ = false;
}

}  // namespace lightflow::detail

#endif
