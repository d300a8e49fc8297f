// The options a run takes after its input, for every kind of flow: one list, one concept, one message.
#ifndef LIGHTFLOW_RUN_OPTIONS_HPP
#define LIGHTFLOW_RUN_OPTIONS_HPP

#include <concepts>
#include <stop_token>
#include <string>
#include <type_traits>
#include <vector>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/process.hpp"
#include "lightflow/resource.hpp"

namespace lightflow {

namespace detail {
/// True for a lightflow::checkpoint (specialised in checkpoint.hpp, so that running a flow does not
/// need the checkpoint code unless a run has a checkpoint).
template <class T>
inline constexpr bool is_checkpoint = false;
}  // namespace detail

/// A run option: runs only the steps named (as the flow names them); every other step that the run's
/// checkpoint does not restore is marked stopped without running, and its dependents are skipped. For
/// running one step of a checkpointed run whose dependencies were restored (postgres_worker runs the
/// steps of a run spread over workers so). A name the flow does not have: unknown_step.
struct only_steps {
  std::vector<std::string> names;  ///< The steps to run.
};

/// Satisfied by the extra arguments `run`, `submit` and `resume` take after the input, for static and
/// runtime flows alike: a `std::stop_token` (a stop request cancels the run), a
/// `lightflow::checkpoint` (at most one), `lightflow::observe`, `lightflow::run_timeout`,
/// `lightflow::resource`, `lightflow::process`, `lightflow::no_step_times` and `lightflow::only_steps`.
template <class T>
concept run_option = std::same_as<std::remove_cvref_t<T>, std::stop_token> ||
                     detail::is_checkpoint<std::remove_cvref_t<T>> || std::same_as<std::remove_cvref_t<T>, observe> ||
                     std::same_as<std::remove_cvref_t<T>, run_timeout> || detail::is_resource<std::remove_cvref_t<T>> ||
                     std::same_as<std::remove_cvref_t<T>, process> || std::same_as<std::remove_cvref_t<T>, no_step_times_t> ||
                     std::same_as<std::remove_cvref_t<T>, only_steps>;

namespace detail {

/// The compile errors of a run's options, written once for both kinds of flow: true when `Options`
/// are all options and name at most one checkpoint.
template <class... Options>
consteval bool check_run_options() {
  if constexpr (!(run_option<Options> && ...)) {
    fail<"lightflow: after the input, executor::run, submit and resume take only options (a std::stop_token, a "
         "lightflow::checkpoint, lightflow::observe, lightflow::run_timeout, lightflow::resource, "
         "lightflow::process, lightflow::no_step_times, lightflow::only_steps), not all of the types listed after "
         "this message",
         offered<Options...>>();
    return false;
  } else if constexpr (((is_checkpoint<std::remove_cvref_t<Options>> ? 1 : 0) + ... + 0) > 1) {
    fail<"lightflow: executor::run, submit and resume take at most one lightflow::checkpoint", offered<Options...>>();
    return false;
  } else {
    return true;
  }
}

}  // namespace detail
}  // namespace lightflow

#endif
