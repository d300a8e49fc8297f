// Callbacks before and after a run and each of its steps, registered per executor
// (`pool.before_step(cb)`), per flow (`flow.before_step(cb)`) and per step (`lf::step<"x">(f).before_step(cb)`,
// `handle.before_step(cb)`). They run executor's first, then the flow's, then the step's, each list in
// registration order. Unlike observers, they may throw, and they may guard work:
//
//   pool.after_step(lf::step_callback(alert).on({lf::step_status::failed}));      // only failures
//   flow.before_step(lf::step_callback(check_quota).must().only({"charge"}));     // no quota: no charge
//
// A callback's failure is never swallowed: it is listed in the result's callback_failures(). A "must"
// callback's failure also stops the work it guards: a failing must before-step callback fails its step
// (which does not run); a failing must after-step callback fails a step that had succeeded (its output is
// discarded, it is not checkpointed, its dependents do not run); a failing must before-flow callback
// cancels the whole run (no step runs); a failing must after-flow callback makes the result not ok().
#ifndef LIGHTFLOW_CALLBACK_HPP
#define LIGHTFLOW_CALLBACK_HPP

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow {

class step_context;  // step_context.hpp (which includes the run machinery that includes this header)
namespace detail {
/// The key/value context of the step `sc` is about, in a runtime run (runtime_run.hpp); throws
/// usage_error in a static run. `Any` only defers the call to where the context is complete.
template <class Any>
basic_context<> runtime_context_of(step_context& sc);
}  // namespace detail

/// Where a callback is called.
enum class callback_point : std::uint8_t {
  before_flow,
  after_flow,
  before_step,
  after_step,
  resource_suspend,  // a resource's suspend() (resource.hpp), at the end of a run that is not ok
  before_process,    // a lightflow::process's (process.hpp)
  after_process,
};

/// The point's name, as results and messages write it ("before-flow", "after-step", ...).
constexpr std::string_view to_string(callback_point p) noexcept {
  switch (p) {
    case callback_point::before_flow:
      return "before-flow";
    case callback_point::after_flow:
      return "after-flow";
    case callback_point::before_step:
      return "before-step";
    case callback_point::after_step:
      return "after-step";
    case callback_point::resource_suspend:
      return "resource suspend";
    case callback_point::before_process:
      return "before-process";
    case callback_point::after_process:
      return "after-process";
  }
  return "unknown";
}

/// `std::cout << point` writes its name (see step_status.hpp).
template <class Traits>
std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& out, callback_point p) {
  return out << to_string(p);
}

/// A callback before or after a step: called with the step's event (after: its final status and
/// error, `attempt`, the number of attempts made, and `output<T>()`, its output once it succeeded).
/// Before-step callbacks are called once, before the first attempt of a step that is about to run;
/// after-step callbacks once each step's fate is known, whatever it is (also for steps that did not
/// run: skipped, cancelled, stopped, skipped by their condition), except steps restored from a
/// checkpoint. A callback may also take the step's `step_context&`, or, in a runtime run, its
/// `lf::context&`: it reads the keys the step sees (after the step: its own writes too) and its
/// writes are the step's (before the step: made before its first attempt, kept through its retries;
/// after it: seen by its dependents, and checkpointed with the step).
class step_callback {
 public:
  /// Wraps any callable that takes a `const step_event&`; implicit, so a lambda is a callback.
  template <class F>
    requires(std::invocable<const F&, const step_event&> && !std::same_as<std::remove_cvref_t<F>, step_callback>)
  step_callback(F fn)  // NOLINT(google-explicit-constructor): plain callables are callbacks
      : fn_([fn = std::move(fn)](const step_event& e, step_context&) { fn(e); }) {}
  /// Wraps a callable that takes a `const step_event&` and the step's `step_context&`.
  template <class F>
    requires(std::invocable<const F&, const step_event&, step_context&> &&
             !std::invocable<const F&, const step_event&> && !std::same_as<std::remove_cvref_t<F>, step_callback>)
  step_callback(F fn) : fn_(std::move(fn)) {}  // NOLINT(google-explicit-constructor)
  /// Wraps a callable that takes a `const step_event&` and the step's `lf::context&` (runtime runs:
  /// a runtime flow, or a static flow merged into one). In a static run it throws a usage_error,
  /// which the result lists as the callback's failure.
  template <class F>
    requires(std::invocable<const F&, const step_event&, basic_context<>&> &&
             !std::invocable<const F&, const step_event&, step_context&> &&
             !std::invocable<const F&, const step_event&>)
  step_callback(F fn)  // NOLINT(google-explicit-constructor)
      : fn_([fn = std::move(fn)](const step_event& e, step_context& sc) {
          auto ctx = detail::runtime_context_of<F>(sc);
          fn(e, ctx);
        }) {}

  /// If it throws, the work it guards does not run (see the top of this header).
  step_callback& must() & noexcept {
    must_ = true;
    return *this;
  }
  /// The same, on a temporary (`lf::step_callback(f).must()`).
  step_callback&& must() && noexcept { return std::move(must()); }
  /// Called only for the named steps (full names: "sub.step" after a merge).
  step_callback& only(std::initializer_list<std::string_view> steps) & {
    only_.insert(only_.end(), steps.begin(), steps.end());
    return *this;
  }
  /// The same, on a temporary.
  step_callback&& only(std::initializer_list<std::string_view> steps) && { return std::move(only(steps)); }
  /// Not called for the named steps.
  step_callback& except(std::initializer_list<std::string_view> steps) & {
    except_.insert(except_.end(), steps.begin(), steps.end());
    return *this;
  }
  /// The same, on a temporary.
  step_callback&& except(std::initializer_list<std::string_view> steps) && { return std::move(except(steps)); }
  /// After a step: called only when its status is one of these (before a step, the status is pending).
  step_callback& on(std::initializer_list<step_status> statuses) & noexcept {
    for (step_status s : statuses) statuses_ |= bit(s);
    return *this;
  }
  /// The same, on a temporary.
  step_callback&& on(std::initializer_list<step_status> statuses) && noexcept { return std::move(on(statuses)); }

  /// Whether must() was called.
  bool is_must() const noexcept { return must_; }
  /// Whether its filters let it be called for this event.
  bool applies(const step_event& e) const noexcept {
    if (!only_.empty() && std::find(only_.begin(), only_.end(), e.step) == only_.end()) return false;
    if (std::find(except_.begin(), except_.end(), e.step) != except_.end()) return false;
    return statuses_ == 0 || (statuses_ & bit(e.status)) != 0;
  }
  /// Calls the wrapped callable (the filters are not consulted: see applies()).
  void operator()(const step_event& e, step_context& step) const { fn_(e, step); }

 private:
  static constexpr std::uint32_t bit(step_status s) noexcept { return 1u << static_cast<unsigned>(s); }
  std::function<void(const step_event&, step_context&)> fn_;
  std::vector<std::string> only_, except_;
  std::uint32_t statuses_ = 0;  // 0: any
  bool must_ = false;
};

/// A callback before or after a whole run: called with the run's event (after: `ok` says whether every
/// step succeeded or was skipped by its condition). Before-flow callbacks run on the thread that calls
/// run or submit, before any step; after-flow callbacks on the thread that finishes the run, before
/// anyone waiting for the run is woken.
class flow_callback {
 public:
  /// Wraps any callable that takes a `const run_event&`; implicit, so a lambda is a callback.
  template <class F>
    requires(std::invocable<const F&, const run_event&> && !std::same_as<std::remove_cvref_t<F>, flow_callback>)
  flow_callback(F fn) : fn_(std::move(fn)) {}  // NOLINT(google-explicit-constructor)
  /// Wraps a callable that takes a `const run_event&` and a runtime run's input, `lf::values&`:
  /// before the run, what it sets there every step reads (the Go original's before-flow callbacks
  /// that set context values); the checkpoint keeps the input as the run was given it, and the
  /// callback runs again when the run resumes. In a static run it throws a usage_error, which the
  /// result lists as the callback's failure.
  template <class F>
    requires(std::invocable<const F&, const run_event&, basic_values<>&> && !std::invocable<const F&, const run_event&>)
  flow_callback(F fn)  // NOLINT(google-explicit-constructor)
      : fn_([fn = std::move(fn)](const run_event& e) {
          using values = detail::deferred_t<basic_values<>, F>;
          const values* input = e.template input<values>();
          if (input == nullptr)
            throw usage_error("lightflow: a flow callback of flow \"" + std::string(e.flow) +
                              "\" takes an lf::values&, the input of runtime runs, but this run is a static flow's");
          fn(e, const_cast<values&>(*input));  // the run's own copy, not yet read by any step
        }) {}

  /// If it throws, the work it guards does not run (see the top of this header).
  flow_callback& must() & noexcept {
    must_ = true;
    return *this;
  }
  /// The same, on a temporary.
  flow_callback&& must() && noexcept { return std::move(must()); }
  /// After a run: called only when it ended ok (true) or not (false).
  flow_callback& only_when(bool ok) & noexcept {
    when_ = ok ? 1 : 2;
    return *this;
  }
  /// The same, on a temporary.
  flow_callback&& only_when(bool ok) && noexcept { return std::move(only_when(ok)); }

  /// Whether must() was called.
  bool is_must() const noexcept { return must_; }
  /// Whether its filter lets it be called for this event, before (`after` false) or after the run.
  bool applies(const run_event& e, bool after) const noexcept { return !after || when_ == 0 || (when_ == 1) == e.ok; }
  /// Calls the wrapped callable (the filter is not consulted: see applies()).
  void operator()(const run_event& e) const { fn_(e); }

 private:
  std::function<void(const run_event&)> fn_;
  std::uint8_t when_ = 0;  // 0 always, 1 only ok, 2 only not ok
  bool must_ = false;
};

/// One callback that threw, as the result lists it.
struct callback_failure {
  callback_point point = callback_point::before_step;  ///< Where it was called.
  std::string step;  ///< The step's full name; a process's name for a process callback; empty for a flow callback.
  bool must = false;                                   ///< Whether it was a must callback.
  std::exception_ptr error{};                          ///< What it threw.
};

/// The callbacks of one level (an executor, a flow or a step).
struct callback_lists {
  std::vector<flow_callback> before_flow;  ///< Called before a run, in the order added.
  std::vector<flow_callback> after_flow;   ///< Called after a run, in the order added.
  std::vector<step_callback> before_step;  ///< Called before a step's first attempt.
  std::vector<step_callback> after_step;   ///< Called once a step's fate is known.

  /// Whether it holds no callback.
  bool empty() const noexcept {
    return before_flow.empty() && after_flow.empty() && before_step.empty() && after_step.empty();
  }
};

}  // namespace lightflow

#endif
