// What a run calls besides its steps: observers, the callbacks before and after the flow and each
// step (the executor's, the flow's, the step's own), and the resources attached to it.
#ifndef LIGHTFLOW_DETAIL_RUN_HOOKS_HPP
#define LIGHTFLOW_DETAIL_RUN_HOOKS_HPP

#include <algorithm>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/detail/graph.hpp"
#include "lightflow/detail/run_state_base.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow::detail {

inline void run_state_base::before_flow() noexcept {
  auto none = [](const callback_lists* level) { return level == nullptr || level->before_flow.empty(); };
  if (none(executor_callbacks()) && none(flow_callbacks())) return;  // nothing to call: no clock read
  const run_event e = run_info();
  for (const callback_lists* level : {executor_callbacks(), flow_callbacks()}) {
    if (level != nullptr && call_flow_callbacks(level->before_flow, e, callback_point::before_flow) != nullptr) {
      flow_must_failure_ = callback_point::before_flow;  // a must failure ends the chain and cancels the run
      cancel();
      return;
    }
  }
}

inline std::exception_ptr run_state_base::call_flow_callbacks(const std::vector<flow_callback>& list,
                                                              const run_event& e, callback_point point,
                                                              std::string_view name) noexcept {
  const bool after = point == callback_point::after_flow || point == callback_point::after_process;
  for (const flow_callback& cb : list) {  // the chain rule of step_callbacks: a must failure ends it
    if (!cb.applies(e, after)) continue;
    try {
      cb(e);
    } catch (...) {
      note_callback_failure(point, name, cb.is_must(), std::current_exception());
      if (cb.is_must()) return std::current_exception();
    }
  }
  return nullptr;
}

inline std::vector<callback_failure> run_state_base::callback_failures() const {
  std::lock_guard lock(callback_mutex_);
  return callback_failures_;
}

inline const callback_failure* run_state_base::flow_must_failure() const noexcept {
  if (!flow_must_failure_) return nullptr;
  for (const callback_failure& f : callback_failures_)  // read after the run is done: no lock needed
    if (f.point == *flow_must_failure_ && f.must) return &f;
  return nullptr;
}

inline void run_state_base::set_executor_policy(std::shared_ptr<const policy> defaults) noexcept {
  if (defaults == nullptr) return;
  executor_policy_ = std::move(defaults);
  plain_ = false;
}

inline void* run_state_base::find_resource(const std::type_info& type) const noexcept {
  for (const resource_slot& r : resources_)
    if (*r.type == type) return r.object;
  return nullptr;
}

inline void run_state_base::set_elements(std::uint32_t step, const element_counts& counts) noexcept {
  element_counts* table = element_counts_.load(std::memory_order_acquire);
  if (table == nullptr) {
    element_counts* made = new (std::nothrow) element_counts[graph_->size]{};
    if (made == nullptr) return;  // no memory: the result reports no counts
    if (element_counts_.compare_exchange_strong(table, made, std::memory_order_acq_rel)) table = made;
    else delete[] made;  // another map step made it first: `table` is theirs
  }
  table[step] = counts;
}

template <class T>
void run_state_base::add_resource(std::unique_ptr<T> object) {
  resources_.reserve(resources_.size() + 1);
  resource_slot slot{&typeid(T), object.get(), [](void* p) noexcept { delete static_cast<T*>(p); }, nullptr};
  if constexpr (requires(T & t) { t.suspend(); }) slot.suspend = [](void* p) { static_cast<T*>(p)->suspend(); };
  resources_.push_back(slot);
  object.release();
}

inline step_event run_state_base::event(std::uint32_t step, unsigned attempt, bool last, bool ending) const noexcept {
  const step_record& rec = records_[step];
  const value_view out = ending ? output_view(step) : value_view{};
  return {graph_->flow_name,
          id_,
          graph_->name(step),
          step,
          attempt,
          current_worker,
          rec.status,
          error(step),
          rec.restored,
          last,
          std::chrono::steady_clock::now(),
          out.value,
          out.type};
}

inline void run_state_base::notify(std::uint32_t step, unsigned attempt, bool starting, bool last) const noexcept {
  const step_event e = event(step, attempt, last, !starting);
  for (observer* o : observers_) starting ? o->step_started(e) : o->step_finished(e);
}

inline void run_state_base::not_run(std::uint32_t step) noexcept {
  notify_not_run(step);
  if (!plain_) step_callbacks(step, true);
}

template <class Make>
void run_state_base::tell(log_level level, Make&& make) const noexcept {
  if (observers_.empty()) return;
  try {
    const std::string text = make();
    const run_event e = run_info();
    for (observer* o : observers_) o->message(e, level, text);
  } catch (...) {  // no memory for the words: the result still holds what happened
  }
}

inline void run_state_base::note_callback_failure(callback_point point, std::string_view step, bool must,
                                                  std::exception_ptr error) noexcept {
  const bool process = point == callback_point::before_process || point == callback_point::after_process;
  tell(must ? log_level::error : log_level::warning, [&] {
    return std::string(must ? "a must " : "the ") + std::string(to_string(point)) + " callback" +
           (step.empty() ? std::string() : (process ? " of process \"" : " of step \"") + std::string(step) + "\"") +
           " threw: " + cause_text(error);
  });
  try {
    std::lock_guard lock(callback_mutex_);
    callback_failures_.push_back({point, std::string(step), must, std::move(error)});
  } catch (...) {  // no memory to list it: nothing better is left to do
  }
}

inline void run_state_base::fail_durability(std::exception_ptr error) noexcept {
  tell(log_level::error, [&] { return "its checkpoint records could not be made durable: " + cause_text(error); });
  durability_error_ = std::move(error);
}

inline std::exception_ptr run_state_base::step_callbacks(std::uint32_t step, bool after) noexcept {
  const policy* own = policies_ != nullptr ? policies_[step] : nullptr;
  const callback_lists* const levels[] = {executor_callbacks(), flow_callbacks(),
                                          own != nullptr ? &own->callbacks : nullptr};
  auto list = [after](const callback_lists& l) -> const std::vector<step_callback>& {
    return after ? l.after_step : l.before_step;
  };
  if (std::none_of(std::begin(levels), std::end(levels),
                   [&](const callback_lists* l) { return l != nullptr && !list(*l).empty(); }))
    return nullptr;
  const step_event e = event(step, records_[step].attempts, true, after);
  step_context ctx(*this, step, std::max(1u, static_cast<unsigned>(records_[step].attempts)));
  // The chain rule, the same at the four points (see before_flow and end_flow): a failing callback
  // is listed; a must one also ends the chain (the callbacks after it in its list and the later
  // levels' do not run); one that is not must changes nothing else.
  for (const callback_lists* level : levels) {
    if (level == nullptr) continue;
    for (const step_callback& cb : list(*level)) {
      if (!cb.applies(e)) continue;
      try {
        cb(e, ctx);
      } catch (...) {
        std::exception_ptr error = std::current_exception();
        note_callback_failure(after ? callback_point::after_step : callback_point::before_step, graph_->name(step),
                              cb.is_must(), error);
        if (cb.is_must()) return error;
      }
    }
  }
  return nullptr;
}

inline void run_state_base::fail_by_callback(std::uint32_t step, const char* where, std::exception_ptr error) noexcept {
  step_record& rec = records_[step];
  rec.status = step_status::failed;
  try {
    set_error(step, std::make_exception_ptr(callback_error(where, graph_->name(step), error)));
  } catch (...) {
    set_error(step, std::move(error));
  }
}

inline void run_state_base::end_subflow(std::uint32_t step) noexcept {
  const policy* own = policies_ != nullptr ? policies_[step] : nullptr;
  if (own == nullptr || !own->subflow) return;
  // Every step of the subflow ("<step>.x") has ended: the subflow's step runs after all of them. The
  // first that failed or timed out (a nested subflow's own steps before its step), else the first
  // cancelled (its process timed out), else the first stopped; none: the block came from outside.
  const std::string_view name = graph_->name(step);
  const auto joins = [this](std::uint32_t i) { return policies_[i] != nullptr && policies_[i]->subflow; };
  std::uint32_t found[3] = {npos, npos, npos};  // failed or timed out, cancelled, stopped
  for (std::uint32_t i = 0; i != graph_->size; ++i) {
    const std::string_view inner = graph_->name(i);
    if (inner.size() <= name.size() || !inner.starts_with(name) || inner[name.size()] != '.') continue;
    const step_status s = records_[i].status;
    const int kind = s == step_status::failed || s == step_status::timed_out ? 0
                     : s == step_status::cancelled                          ? 1
                     : s == step_status::stopped                            ? 2
                                                                            : 3;
    if (kind != 3 && (found[kind] == npos || (joins(found[kind]) && !joins(i)))) found[kind] = i;
  }
  if (found[0] == npos && found[1] == npos) {
    if (found[2] != npos) records_[step].status = step_status::stopped;
    return;
  }
  const bool failed = found[0] != npos;
  const std::uint32_t cause = failed ? found[0] : found[1];
  records_[step].status = step_status::failed;
  try {
    set_error(step, std::make_exception_ptr(subflow_error(name, graph_->name(cause), failed ? "failed" : "was cancelled",
                                                          failed ? error(cause) : nullptr)));
  } catch (...) {
    set_error(step, std::current_exception());
  }
}

inline bool run_state_base::end_flow() noexcept {
  run_event e = run_info();
  e.ok = steps_ok() && !flow_must_failure_;
  for (const callback_lists* level : {executor_callbacks(), flow_callbacks()}) {
    if (level != nullptr && call_flow_callbacks(level->after_flow, e, callback_point::after_flow) != nullptr) {
      if (!flow_must_failure_) flow_must_failure_ = callback_point::after_flow;  // a must failure ends the chain
      break;
    }
  }
  const bool ok = e.ok && !flow_must_failure_;
  if (!ok)
    for (auto r = resources_.rbegin(); r != resources_.rend(); ++r) {
      if (r->suspend == nullptr) continue;
      try {
        r->suspend(r->object);
      } catch (...) {
        note_callback_failure(callback_point::resource_suspend, {}, false, std::current_exception());
      }
    }
  release_resources();
  return ok;
}

inline void run_state_base::release_resources() noexcept {
  while (!resources_.empty()) {
    resources_.back().destroy(resources_.back().object);
    resources_.pop_back();
  }
}

}  // namespace lightflow::detail

#endif
