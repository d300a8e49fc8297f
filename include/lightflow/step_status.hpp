// What became of a step in a run (and of a map step's elements).
#ifndef LIGHTFLOW_STEP_STATUS_HPP
#define LIGHTFLOW_STEP_STATUS_HPP

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string_view>

namespace lightflow {

/// The final state of one step of a finished run.
enum class step_status : std::uint8_t {
  pending,    ///< never reached (only seen while a run is still going)
  succeeded,  ///< ran and returned; its output is available
  failed,     ///< ran and threw; the exception is kept
  skipped,    ///< not run because a dependency did not succeed
  cancelled,  ///< not run because the run was cancelled first
  skipped_by_condition,  ///< not run because its condition (or an ancestor's, skipping its dependents) was false
  timed_out,             ///< ran past its timeout (or its run's); its output, if any, was discarded
  stopped,               ///< not run because the run was stopped (run_handle::stop) first
};

/// What became of the elements of a map step that ran (step_report::elements, element_event): how
/// many it had, and how many succeeded (in this run), failed (after their retries), were restored
/// from a checkpoint, or did not run (their run was cancelled, or an element's record could not be
/// saved). All 0 for a step that is not a map step, or did not run.
struct element_counts {
  std::size_t total = 0;      ///< The elements of its input.
  std::size_t succeeded = 0;  ///< Ran and succeeded in this run.
  std::size_t failed = 0;     ///< Failed, after their retries (kept as outcomes with lf::keep_going).
  std::size_t restored = 0;   ///< Restored from a checkpoint: they did not run.
  std::size_t not_run = 0;    ///< Did not run.
  /// Succeeded, in this run or an earlier one.
  std::size_t done() const noexcept { return succeeded + restored; }
};

namespace detail {
/// Every status, in the order the texts and drawings list them (result summaries, DOT legends,
/// Mermaid classes): outcomes first, then the steps that did not run.
inline constexpr step_status statuses_in_order[] = {
    step_status::succeeded,            step_status::failed,    step_status::timed_out, step_status::skipped,
    step_status::skipped_by_condition, step_status::cancelled, step_status::stopped,   step_status::pending};
}  // namespace detail

/// The status as a lower-case word ("succeeded", "failed", ...).
constexpr std::string_view to_string(step_status s) noexcept {
  switch (s) {
    case step_status::pending:
      return "pending";
    case step_status::succeeded:
      return "succeeded";
    case step_status::failed:
      return "failed";
    case step_status::skipped:
      return "skipped";
    case step_status::cancelled:
      return "cancelled";
    case step_status::skipped_by_condition:
      return "skipped by condition";
    case step_status::timed_out:
      return "timed out";
    case step_status::stopped:
      return "stopped";
  }
  return "unknown";
}

/// `std::cout << status` writes its word. A template over the stream's traits so that this header
/// needs only `<iosfwd>`; `<ostream>` is wherever the stream is used.
template <class Traits>
std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& out, step_status s) {
  return out << to_string(s);
}

}  // namespace lightflow

#endif
