// Watching runs as they go: an observer is told when a run starts and ends, and when each attempt of
// each step (and of each element of a map step) starts and ends. Register one for every run of an executor (`pool.observe(o)`) or for
// one run (`pool.run(flow, input, lf::observe(o))`). The trace recorder (trace.hpp) and the
// progress printer (progress.hpp) are observers.
#ifndef LIGHTFLOW_OBSERVER_HPP
#define LIGHTFLOW_OBSERVER_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string_view>
#include <typeinfo>

#include "lightflow/step_status.hpp"

namespace lightflow {

/// How much a message of the library matters (see observer::message and logger.hpp).
enum class log_level : std::uint8_t {
  debug,    ///< every attempt's start and end
  info,     ///< runs starting and ending well
  warning,  ///< a retried attempt, a callback that threw, a checkpoint discarded, a run ending not ok
  error,    ///< a step failed for good, a must callback threw, a checkpoint refused, records not made durable
};

/// A run, as observers see it.
struct run_event {
  std::string_view flow;                       ///< The flow's name.
  std::uint64_t run_id = 0;                    ///< The run's number (counted from 1 per executor).
  std::size_t steps = 0;                       ///< How many steps the flow has.
  std::chrono::steady_clock::time_point time;  ///< When it started, or ended.
  bool ok = true;  ///< At the end: every step succeeded or was skipped by its condition.
  const void* input_value = nullptr;           ///< The run's input (see input()); null for a run without one.
  const std::type_info* input_type = nullptr;  ///< The input's type, or null.
  std::string_view process;  ///< For a process's callback (process.hpp): the process's name; else empty.

  /// The run's input, if it is a `T` (exactly that type; a runtime run's is an `lf::values`); else
  /// null. Valid during the call.
  template <class T>
  const T* input() const noexcept {
    return input_type != nullptr && *input_type == typeid(T) ? static_cast<const T*>(input_value) : nullptr;
  }
};

/// One attempt of a step starting or ending; or, for a step that did not run (skipped, cancelled,
/// restored from a checkpoint), its end, with attempt 0.
struct step_event {
  std::string_view flow;      ///< The flow's name.
  std::uint64_t run_id = 0;   ///< The run's number (counted from 1 per executor).
  std::string_view step;      ///< The step's full name.
  std::uint32_t index = 0;    ///< The step's index in its flow.
  unsigned attempt = 0;       ///< 1 for the first; 0 for a step that did not run.
  unsigned worker = 0;        ///< The executor's thread (0 .. threads-1), or above for a thread that waits on a run.
  step_status status = step_status::pending;  ///< At the end: what became of the attempt.
  std::exception_ptr error{};                  ///< At the end of a failed attempt: what it failed with.
  bool restored = false;                       ///< Its output came from a checkpoint.
  bool last = true;                            ///< At an end: no other attempt of the step follows.
  std::chrono::steady_clock::time_point time;  ///< When it started, or ended.
  const void* output_value = nullptr;          ///< Once the step succeeded: its output (see output()); else null.
  const std::type_info* output_type = nullptr;  ///< The output's type, or null.

  /// The step's output, when the step succeeded (or was restored) and returned a `T` (exactly that
  /// type); else null. For after-step callbacks and observers, of static and runtime steps alike;
  /// valid during the call.
  template <class T>
  const T* output() const noexcept {
    return output_type != nullptr && *output_type == typeid(T) ? static_cast<const T*>(output_value) : nullptr;
  }
};

/// One attempt of one element of a map step (map_step.hpp) starting or ending; or, for an element
/// restored from a checkpoint, its end with attempt 0 (told as the step starts its elements).
struct element_event {
  std::string_view flow;      ///< The flow's name.
  std::uint64_t run_id = 0;   ///< The run's number (counted from 1 per executor).
  std::string_view step;      ///< The map step's full name.
  std::uint32_t index = 0;    ///< The map step's index in its flow.
  std::size_t element = 0;    ///< The element's index in the step's input, from 0.
  std::size_t elements = 0;   ///< How many elements the step has.
  unsigned attempt = 0;       ///< 1 for the first; 0 for an element restored from a checkpoint.
  unsigned worker = 0;        ///< The thread that runs it (as step_event::worker).
  step_status status = step_status::pending;   ///< At the end: succeeded, failed or timed_out.
  std::exception_ptr error{};                  ///< At the end of a failed attempt: what it failed with.
  bool restored = false;                       ///< Its result came from a checkpoint.
  bool last = true;                            ///< At an end: no other attempt of the element follows.
  std::chrono::steady_clock::time_point time;  ///< When it started, or ended.
};

/// Override what you need. Observers are called on the threads that run the steps, at the same time
/// from several of them: make them thread-safe. They must not throw (they are noexcept).
class observer {
 public:
  virtual ~observer() = default;
  /// A run starts, before any of its steps.
  virtual void run_started(const run_event&) noexcept {}
  /// An attempt of a step starts.
  virtual void step_started(const step_event&) noexcept {}
  /// An attempt of a step ends; or a step that did not run gets its status (attempt 0).
  virtual void step_finished(const step_event&) noexcept {}
  /// An attempt of an element of a map step starts (on the thread that runs it).
  virtual void element_started(const element_event&) noexcept {}
  /// An attempt of an element of a map step ends; or a restored element gets its status (attempt 0).
  virtual void element_finished(const element_event&) noexcept {}
  /// A run ends, after all of its steps.
  virtual void run_finished(const run_event&) noexcept {}
  /// What the library reports about a run besides its steps' attempts, in words: a callback that
  /// threw, a checkpoint refused (the run does not start) or discarded (`discard_stale`), records
  /// that could not be made durable. Loggers (logger.hpp) pass it on.
  virtual void message(const run_event&, log_level, std::string_view) noexcept {}
};

/// The run option that adds an observer to one run: `pool.run(flow, input, lf::observe(o))`.
struct observe {
  /// Observe this run with `o` (it must outlive the run).
  explicit observe(observer& o) noexcept : target(&o) {}
  observer* target;  ///< The observer.
};

}  // namespace lightflow

#endif
