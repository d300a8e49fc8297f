// How a run calls one step: its attempts (with retries and their waits), its time limit, its
// condition (and the descendants a condition skips), its callbacks, and saving its checkpoint record.
#ifndef LIGHTFLOW_DETAIL_RUN_ATTEMPTS_HPP
#define LIGHTFLOW_DETAIL_RUN_ATTEMPTS_HPP

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "lightflow/detail/run_hooks.hpp"
#include "lightflow/detail/run_state_base.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow::detail {

inline void run_state_base::set_error(std::uint32_t step, std::exception_ptr e) noexcept {
  std::exception_ptr* table = errors_.load(std::memory_order_acquire);
  if (table == nullptr) {
    if (e == nullptr) return;
    // No memory to keep a step's error: terminating beats losing it silently.
    auto* fresh = new std::exception_ptr[graph_->size + 1];
    if (errors_.compare_exchange_strong(table, fresh, std::memory_order_acq_rel)) {
      table = fresh;
    } else {
      delete[] fresh;
    }
  }
  table[step] = std::move(e);
}

inline void run_state_base::fail_checkpoint(std::uint32_t step, std::exception_ptr error) noexcept {
  if (destroyers_ != nullptr && destroyers_[step] != nullptr) destroyers_[step](outputs_[step]);
  records_[step].status = step_status::failed;
  set_error(step, std::move(error));
}

/// Whether attempt `n` (of a step, or of a map step's element: one rule for both) that failed with
/// `error` is tried again under `r`: attempts are left, the run is not cancelled, and `r`'s filter
/// retries the error (a filter that throws: no).
inline bool retried(const run_state_base& run, const retry* r, unsigned n, const std::exception_ptr& error) noexcept {
  try {
    return r != nullptr && n < r->attempts() && !run.cancelled() && r->retries(error);
  } catch (...) {
    return false;
  }
}
/// Waits out `r`'s backoff after attempt `n`; false when the run was cancelled meanwhile (or no
/// memory was left to wait with): no more attempts.
inline bool waited_before_retry(run_state_base& run, const retry& r, unsigned n) noexcept {
  try {
    return run.wait_before_retry(r.wait().delay(n, run_state_base::random_unit()));
  } catch (...) {
    return false;
  }
}

inline bool run_state_base::attempt(std::uint32_t step, const retry* r, const std::chrono::nanoseconds* limit) noexcept {
  step_record& rec = records_[step];
  for (unsigned n = 1;; ++n) {
    rec.attempts = static_cast<std::uint16_t>(std::min(n, 65535u));
    if (!observers_.empty()) notify(step, n, true);
    try {
      if (limit != nullptr) {
        invoke_within(step, n, *limit);
      } else {
        step_context ctx(*this, step, n);
        invokers_[step](*this, step, ctx);
      }
      rec.status = step_status::succeeded;
      if (n > 1) set_error(step, nullptr);
      if (!observers_.empty()) notify(step, n, false);
      return true;
    } catch (const timeout_error&) {
      set_error(step, std::current_exception());
      rec.status = step_status::timed_out;
    } catch (...) {
      set_error(step, std::current_exception());
      rec.status = step_status::failed;
    }
    const bool again = retried(*this, r, n, error(step));
    if (!observers_.empty()) notify(step, n, false, !again);
    if (!again || !waited_before_retry(*this, *r, n)) return false;  // (or cancelled meanwhile)
  }
}

template <class Call>
bool run_state_base::within(std::chrono::nanoseconds limit, Call&& call) {
  struct forward {
    std::stop_source* to;
    void operator()() const noexcept { to->request_stop(); }
  };
  std::stop_source own;
  const std::stop_callback<forward> link(stop_token(), forward{&own});
  timer_service& timer = registry_->timer();
  const auto when = timer_service::clock::now() + limit;
  const std::uint64_t id = timer.add(when, [](void* s) noexcept { static_cast<std::stop_source*>(s)->request_stop(); }, &own);
  std::exception_ptr error;
  try {
    call(own);
  } catch (...) {
    error = std::current_exception();
  }
  if (!timer.cancel(when, id)) return true;  // it fired
  if (error != nullptr) std::rethrow_exception(error);
  return false;
}

inline void run_state_base::invoke_within(std::uint32_t step, unsigned n, std::chrono::nanoseconds limit) {
  bool returned = false;
  if (within(limit, [&](std::stop_source& own) {
        step_context ctx(*this, step, n, &own);
        invokers_[step](*this, step, ctx);
        returned = true;
      })) {
    if (returned) discard_output(step);
    throw timeout_error("lightflow: step \"" + std::string(graph_->name(step)) + "\" timed out after " +
                        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()) + " ms");
  }
}

inline void run_state_base::discard_output(std::uint32_t step) noexcept {
  if (destroyers_ != nullptr && destroyers_[step] != nullptr) destroyers_[step](outputs_[step]);
  if (discard_ != nullptr) discard_(*this, step);
}

inline bool run_state_base::wait_before_retry(std::chrono::nanoseconds delay) {
  if (delay.count() > 0) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop_token(), delay, [] { return false; });
  }
  return !stop_requested();
}

inline double run_state_base::random_unit() noexcept {
  thread_local std::uint64_t state = 0x9e3779b97f4a7c15ull ^ reinterpret_cast<std::uintptr_t>(&state);
  state += 0x9e3779b97f4a7c15ull;  // splitmix64
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

inline void run_state_base::skip_descendants(std::uint32_t step, const std::vector<std::string>& except) {
  const graph_view& g = *graph_;
  std::vector<std::uint32_t> stack{step};
  std::vector<bool> seen(g.size, false);
  while (!stack.empty()) {
    const std::uint32_t s = stack.back();
    stack.pop_back();
    for (std::uint32_t e = g.out_offsets[s]; e != g.out_offsets[s + 1]; ++e) {
      const std::uint32_t d = g.outs[e];
      if (seen[d]) continue;
      seen[d] = true;
      if (std::find(except.begin(), except.end(), g.name(d)) != except.end()) continue;
      records_[d].pending.fetch_or(blocked_by_condition, std::memory_order_relaxed);  // published by the release
      stack.push_back(d);
    }
  }
}

template <class Saved>
bool run_state_base::save_checkpoint(std::uint32_t step, Saved& saved) noexcept {
  if (checkpoint_ == nullptr) return true;
  try {
    checkpoint_->save(*this, step);
    if (checkpoint_->deferred_durability()) saved(*checkpoint_);  // before the dependents may save theirs
    return true;
  } catch (...) {
    fail_checkpoint(step, std::current_exception());
    return false;
  }
}

template <class Saved>
bool run_state_base::run_with_policy(std::uint32_t step, ticks& now, Saved& saved) {
  step_record& rec = records_[step];
  if (rec.status == step_status::stopped) {  // left out by lightflow::only_steps
    not_run(step);
    return false;
  }
  const policy* own = policies_ != nullptr ? policies_[step] : nullptr;
  // A static step whose dependency has an output but produced none (skipped by its condition)
  // cannot be called.
  const graph_view& g = *graph_;
  if (g.data_count != nullptr && outputs_ != nullptr) {
    const std::uint32_t* deps = g.deps + g.dep_offsets[step];
    for (std::uint32_t k = 0; k != g.data_count[step]; ++k)
      if (outputs_[deps[k]] != nullptr && records_[deps[k]].status != step_status::succeeded) {
        rec.status = step_status::skipped_by_condition;
        not_run(step);
        return true;
      }
  }
  rec.start = now;
  if (own != nullptr && own->when) {
    bool run = false;
    try {
      step_context ctx(*this, step, 1);
      run = own->when(ctx);
    } catch (...) {
      set_error(step, std::current_exception());
      rec.status = step_status::failed;
      now = rec.end = now_ticks();
      not_run(step);
      return false;
    }
    if (!run) {
      rec.status = step_status::skipped_by_condition;
      if (own->skips) skip_descendants(step, own->skips->except);
      now = rec.end = now_ticks();
      not_run(step);
      return true;
    }
  }
  // A map step's retries and time limit apply to each of its elements (map_elements.hpp), not to it.
  const bool whole = own == nullptr || !own->elements;
  const retry* r = whole ? setting(own, &policy::retries) : nullptr;
  const std::chrono::nanoseconds* limit = whole ? setting(own, &policy::timeout) : nullptr;
  if (std::exception_ptr error = step_callbacks(step, false)) {  // a must before-step callback threw
    fail_by_callback(step, "before-step", std::move(error));
    now = rec.end = now_ticks();
    not_run(step);
    return false;
  }
  bool ok = attempt(step, r, limit);
  if (std::exception_ptr error = step_callbacks(step, true); error != nullptr && ok) {  // a must after-step one
    discard_output(step);
    fail_by_callback(step, "after-step", std::move(error));
    ok = false;
  }
  ok = ok && save_checkpoint(step, saved);
  if (ok && own != nullptr && own->durable) ok = make_durable(step);
  now = now_ticks();
  rec.end = now;
  return ok;
}

inline bool run_state_base::make_durable(std::uint32_t step) noexcept {
  if (checkpoint_ == nullptr || !checkpoint_->deferred_durability()) return true;
  try {
    try {
      checkpoint_->flush();
    } catch (...) {  // a store that says whose records it could not write (another run's, maybe)
      if (std::exception_ptr mine = checkpoint_->own_failure(std::current_exception())) std::rethrow_exception(mine);
    }
    return true;
  } catch (...) {
    fail_checkpoint(step, std::current_exception());
    return false;
  }
}

}  // namespace lightflow::detail

#endif
