// What a finished run reports: every step's status, times and error, and the typed outputs.
#ifndef LIGHTFLOW_RUN_RESULT_HPP
#define LIGHTFLOW_RUN_RESULT_HPP

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/spelling.hpp"
#include "lightflow/detail/static_run.hpp"
#include "lightflow/detail/summary.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow {

/// One step's part in a run.
struct step_report {
  std::string_view name;                           ///< The step's full name.
  step_status status = step_status::pending;       ///< What became of it.
  std::chrono::steady_clock::time_point start{};  ///< When its first attempt started (steps that ran).
  std::chrono::steady_clock::time_point end{};    ///< When its last attempt ended (steps that ran).
  std::exception_ptr error{};  ///< What it failed with (failed and timed-out steps).
  bool restored = false;       ///< Its output came from a checkpoint: it did not run in this run.
  unsigned attempts = 0;       ///< How many times its callable was called (more than 1 after retries).
  element_counts elements{};   ///< A map step that ran: what became of its elements (else all 0).

  /// end - start.
  std::chrono::nanoseconds duration() const noexcept { return end - start; }
};

/// The part of a run's result that does not depend on the types of its outputs.
class basic_run_result {
 public:
  /// Takes over `other`'s run (`other` may then only be destroyed or assigned to).
  basic_run_result(basic_run_result&& other) noexcept : run_(std::exchange(other.run_, nullptr)) {}
  /// Lets go of its own run and takes over `other`'s.
  basic_run_result& operator=(basic_run_result&& other) noexcept {
    if (this != &other) {
      if (run_ != nullptr) run_->release();
      run_ = std::exchange(other.run_, nullptr);
    }
    return *this;
  }
  ~basic_run_result() {
    if (run_ != nullptr) run_->release();
  }

  /// True when every step succeeded or was skipped by a condition (and, with a checkpoint, every
  /// record was made durable, and no must before-flow, after-flow or after-process callback failed).
  /// False for a result moved from (which has no run; g++ 12 at -O2 also warned falsely of a null
  /// run here without the test).
  bool ok() const noexcept {
    return run_ != nullptr && run_->steps_ok() && run_->flow_must_failure() == nullptr;
  }
  /// Every callback that threw during the run (callback.hpp), must or not, in the order they threw.
  /// Callbacks that are not must do not change ok(), but their failures are kept here.
  std::vector<callback_failure> callback_failures() const { return run_->callback_failures(); }
  /// With a store that makes records durable on a flush (file_store, durable): the flush's error when
  /// the run's records could not all be made durable. The steps' statuses and outputs stand, but a
  /// resumed run may run again the steps whose records were lost. Null otherwise.
  const std::exception_ptr& durability_error() const noexcept { return run_->durability_error(); }
  /// True when the run's run_timeout passed before it ended (it was cancelled then).
  bool timed_out() const noexcept { return run_->timed_out(); }
  /// True when the time limit of process `name` (lightflow::process::timeout) passed before every
  /// step of it had ended (its steps not started then were cancelled). Throws unknown_step when the
  /// flow has no such namespace.
  bool timed_out(std::string_view name) const {
    return detail::process_table::has(*run_, name, detail::process_entry::timed_out);
  }
  /// True when the run was stopped (run_handle::stop) before every step had started.
  bool stopped() const noexcept { return count(step_status::stopped) != 0; }
  /// True when the run was cancelled before every step had started.
  bool cancelled() const noexcept { return count(step_status::cancelled) != 0; }
  /// The flow's name.
  std::string_view flow_name() const noexcept { return graph().flow_name; }
  /// The run's number (each executor counts its runs from 1).
  std::uint64_t run_id() const noexcept { return run_->id(); }
  /// The number of steps in the flow.
  std::size_t size() const noexcept { return graph().size; }
  /// How many steps ended with status `s`.
  std::size_t count(step_status s) const noexcept {
    std::size_t n = 0;
    for (std::uint32_t i = 0; i != graph().size; ++i) n += run_->record(i).status == s ? 1 : 0;
    return n;
  }

  /// How many steps took their output from a checkpoint instead of running. When it equals size(), a
  /// resumed run had already succeeded and nothing ran.
  std::size_t restored() const noexcept {
    std::size_t n = 0;
    for (std::uint32_t i = 0; i != graph().size; ++i) n += run_->record(i).restored ? 1 : 0;
    return n;
  }

  /// The report of the step at `index` (in declaration order).
  step_report step(std::size_t index) const { return step(index, detail::tick_converter{}); }
  /// The report of the step called `name`; throws unknown_step (a std::out_of_range) naming it, with
  /// the closest name, if there is none.
  step_report step(std::string_view name) const { return step(index_of(name)); }
  /// Every step's report, in declaration order.
  std::vector<step_report> steps() const {
    const detail::tick_converter to_time;
    std::vector<step_report> all;
    all.reserve(size());
    for (std::size_t i = 0; i != size(); ++i) all.push_back(step(i, to_time));
    return all;
  }
  /// The status of the step called `name`; throws unknown_step as step(name) does.
  step_status status(std::string_view name) const { return run_->record(index_of(name)).status; }

  /// What became of namespace `name`, the steps a namespaced merge placed in it ("name.x", and those
  /// of namespaces within it, "name.inner.x"): the first status among failed, timed_out, cancelled,
  /// stopped, skipped and pending that one of its steps has; else skipped_by_condition when every
  /// one of them was; else succeeded. Throws unknown_step when no step is in it. (A step whose own
  /// name has a dot, "a.b", reads as being in namespace "a" too.)
  step_status namespace_status(std::string_view name) const {
    constexpr step_status worst_first[] = {step_status::failed,  step_status::timed_out, step_status::cancelled,
                                           step_status::stopped, step_status::skipped,   step_status::pending};
    std::size_t in = 0, by_condition = 0, rank = std::size(worst_first);
    for (std::uint32_t i = 0; i != graph().size; ++i) {
      const std::string_view step = graph().name(i);
      if (!detail::in_namespace(step, name)) continue;
      const step_status s = run_->record(i).status;
      ++in;
      by_condition += s == step_status::skipped_by_condition ? 1 : 0;
      for (std::size_t r = 0; r < rank; ++r)
        if (worst_first[r] == s) {
          rank = r;
          break;
        }
    }
    if (in == 0) (void)detail::namespace_size(graph(), name);  // throws unknown_step: the flow has no such namespace
    if (rank != std::size(worst_first)) return worst_first[rank];
    return by_condition == in ? step_status::skipped_by_condition : step_status::succeeded;
  }

  /// The failed (and timed out) steps, in the order they failed.
  std::vector<step_report> failures() const {
    const detail::tick_converter to_time;
    std::vector<step_report> failed;
    for (std::size_t i = 0; i != size(); ++i) {
      const step_status s = run_->record(static_cast<std::uint32_t>(i)).status;
      if (s == step_status::failed || s == step_status::timed_out) failed.push_back(step(i, to_time));
    }
    std::stable_sort(failed.begin(), failed.end(),
                     [](const step_report& a, const step_report& b) { return a.end < b.end; });
    return failed;
  }

  /// One line: the first failure and its exception's message, then counts of the others; empty if ok().
  std::string error_message() const {
    if (ok()) return {};
    std::string text = "lightflow: flow \"" + std::string(flow_name()) + "\": ";
    const auto failed = failures();
    // Every step is counted once: the first failure is named, the others counted by their status.
    std::size_t other_failed = count(step_status::failed), timed_out_steps = count(step_status::timed_out);
    const bool first_timed_out = !failed.empty() && failed.front().status == step_status::timed_out;
    if (!failed.empty()) {
      if (first_timed_out)  // its error says `step "x" timed out after ...`
        text += detail::cause_text(failed.front().error);
      else
        text += "step \"" + std::string(failed.front().name) + "\" failed: " + detail::cause_text(failed.front().error);
      (first_timed_out ? timed_out_steps : other_failed) -= 1;
      if (other_failed != 0) text += " (and " + detail::plural(other_failed, "other step") + " failed)";
    } else if (const callback_failure* f = run_->flow_must_failure()) {
      text += "its must " + std::string(to_string(f->point)) + " callback failed: " + detail::cause_text(f->error);
    } else if (count(step_status::succeeded) + count(step_status::skipped_by_condition) == size()) {
      text += "every step succeeded or was skipped by its condition";
    } else if (timed_out()) {
      text += "the run timed out";
    } else if (stopped()) {
      text += "the run was stopped";
    } else {
      text += "the run was cancelled";
    }
    if (durability_error() != nullptr)
      text += "; its checkpoint could not be made durable: " + detail::cause_text(durability_error());
    if (!failed.empty() && timed_out()) text += "; the run timed out";
    if (timed_out_steps != 0)
      text += "; " + detail::plural(timed_out_steps, first_timed_out ? "other step" : "step") + " timed out";
    if (auto n = count(step_status::skipped)) text += "; " + detail::plural(n, "step") + " skipped";
    if (auto n = count(step_status::cancelled)) text += "; " + detail::plural(n, "step") + " cancelled";
    if (auto n = count(step_status::stopped)) text += "; " + detail::plural(n, "step") + " stopped";
    return text;
  }

  /// The run's graph and per-step records (for exporters such as diagram.hpp; internal).
  const detail::run_state_base& state() const noexcept { return *run_; }

  /// Throws a step_error for the first failed step, if any; else the checkpoint's flush error, if any.
  void throw_if_failed() const {
    const auto failed = failures();
    if (!failed.empty()) throw step_error(flow_name(), failed.front().name, failed.front().error);
    if (durability_error() != nullptr) std::rethrow_exception(durability_error());
  }

 protected:
  /// @cond LIGHTFLOW_INTERNAL
  explicit basic_run_result(detail::run_state_base* run) noexcept : run_(run) {}
  const detail::graph_view& graph() const noexcept { return run_->graph(); }

  step_report step(std::size_t index, const detail::tick_converter& to_time) const {
    if (index >= size()) throw unknown_step("lightflow: step index " + std::to_string(index) + " is out of range");
    const auto i = static_cast<std::uint32_t>(index);
    const auto& r = run_->record(i);
    const element_counts* elements = run_->elements(i);
    return {graph().name(i), r.status, to_time(r.start), to_time(r.end), run_->error(i), r.restored, r.attempts,
            elements != nullptr ? *elements : element_counts{}};
  }

  std::uint32_t index_of(std::string_view name) const {
    if (const std::uint32_t i = graph().find(name); i != graph().size) return i;
    throw unknown_step("lightflow: flow \"" + std::string(flow_name()) + "\" has no step named \"" + std::string(name) + "\"" +
                       detail::did_you_mean(name, graph().size, [&](std::uint32_t i) { return graph().name(i); }));
  }

  /// Why step `i` has no output, in words.
  std::string why_not(std::uint32_t i) const {
    const auto& rec = run_->record(i);
    if (rec.status == step_status::failed || rec.status == step_status::timed_out) return detail::cause_text(run_->error(i));
    if (rec.status == step_status::skipped_by_condition) return "its condition (or an ancestor's) skipped it";
    if (rec.status != step_status::skipped) return {};
    // Follow dependencies that did not succeed back to one that failed.
    for (std::uint32_t e = graph().dep_offsets[i]; e != graph().dep_offsets[i + 1]; ++e) {
      const std::uint32_t d = graph().deps[e];
      const auto s = run_->record(d).status;
      if (s == step_status::failed || s == step_status::timed_out)
        return "because step \"" + std::string(graph().name(d)) + "\" " +
               (s == step_status::failed ? "failed" : "timed out") + ": " + detail::cause_text(run_->error(d));
      if (s == step_status::skipped) return why_not(d);
    }
    return "because a dependency did not succeed";
  }

  detail::run_state_base* run_;
  /// @endcond
};

/// `std::cout << result` writes one line: the flow, the run id, ok or not, the steps counted by
/// status, and why it failed (`flow "orders" run 3: not ok, 3 steps (1 succeeded, 1 failed, 1
/// skipped): step "charge" failed: card declined; 1 step skipped`). The same text as fmt's `{}`.
template <class Traits>
std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& out, const basic_run_result& r) {
  return out << detail::result_text(r, false);
}

/// The result of a run of a static flow: `get<"step">()` gives a step's output with its own type.
template <class Flow, class Input>
class run_result : public basic_run_result {
 public:
  /// @cond LIGHTFLOW_INTERNAL
  explicit run_result(detail::static_run<Flow, Input>* run) noexcept : basic_run_result(run) {}
  /// @endcond

  /// The status of the step called `name` (at run time; status<Name>() checks the name at compile time).
  using basic_run_result::status;

  /// The output of step `Name`; throws bad_step_access (naming the step and why) if it did not succeed.
  template <fixed_string Name>
  decltype(auto) get() const {
    constexpr std::uint32_t i = Flow::index_of(Name.view());
    if constexpr (i == detail::npos) {
      return unknown_step<Name>();
    } else {
      using output = typename detail::static_run<Flow, Input>::template output_t<i>;
      if constexpr (std::is_void_v<output>) {
        constexpr auto text = [] {
          detail::text_buffer t{};
          t << "lightflow: result.get<", t.quoted(Name.view()), t << ">(): step ", t.quoted(Name.view());
          t << " of flow ", t.quoted(Flow::name.view()), t << " returns void, so it has no output to get";
          return t;
        }();
        return detail::raise<detail::to_fixed_string<text>()>();
      } else {
        const auto& rec = run_->record(i);
        if (rec.status != step_status::succeeded)
          throw bad_step_access(flow_name(), Name.view(), rec.status, why_not(i));
        return static_cast<const detail::static_run<Flow, Input>*>(run_)->template output<i>();
      }
    }
  }

  /// The status of step `Name`.
  template <fixed_string Name>
  step_status status() const noexcept {
    constexpr std::uint32_t i = Flow::index_of(Name.view());
    if constexpr (i == detail::npos)
      return unknown_step<Name>();
    else
      return run_->record(i).status;
  }

 private:
  // A name that is not a step: the compile error (at once, before any error in the caller's code).
  template <fixed_string Name>
  static auto unknown_step() {
    constexpr auto text = [] {
      detail::text_buffer t{};
      t << "lightflow: flow ", t.quoted(Flow::name.view()), t << " has no step named ", t.quoted(Name.view());
      return t;
    }();
    return detail::raise<detail::to_fixed_string<text>()>();
  }
};

}  // namespace lightflow

#endif
