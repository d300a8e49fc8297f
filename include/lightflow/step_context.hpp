// What a step may learn about the run it is part of: pass it as the callable's last parameter.
#ifndef LIGHTFLOW_STEP_CONTEXT_HPP
#define LIGHTFLOW_STEP_CONTEXT_HPP

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "lightflow/detail/graph_view.hpp"
#include "lightflow/detail/run_state_base.hpp"
#include "lightflow/detail/type_name.hpp"
#include "lightflow/detail/value_view.hpp"
#include "lightflow/errors.hpp"

namespace lightflow {
namespace detail {
class run_state_base;
struct step_context_access;
struct element_access;  // map_elements.hpp
}

/// Handed to a step whose callable takes it as its last parameter (`lf::step_context&`).
class step_context {
 public:
  /// @cond LIGHTFLOW_INTERNAL
  step_context(detail::run_state_base& run, std::uint32_t step, unsigned attempt,
               std::stop_source* own_stop = nullptr) noexcept
      : run_(&run), step_(step), attempt_(attempt), own_stop_(own_stop) {}
  /// @endcond

  /// The step's name.
  inline std::string_view name() const noexcept;
  /// The flow's name.
  inline std::string_view flow_name() const noexcept;
  /// A number that identifies the run within this process.
  inline std::uint64_t run_id() const noexcept;
  /// The run's id in its checkpoint (what `lf::checkpoint{store, id}` was given; a queued run's id),
  /// the same in every process that runs or resumes it; empty for a run without a checkpoint.
  inline std::string_view checkpoint_id() const noexcept;
  /// A key for the external systems this step calls, the same every time this step of this run
  /// runs, on any machine: "<flow>/<checkpoint id>/<step>" (a run without a checkpoint: its number
  /// in this process instead of the checkpoint id, so stable only within the process). With
  /// attempt(), what a step with side effects needs to make them once (see README "Queued runs").
  inline std::string idempotency_key() const;
  /// 1 on the first attempt.
  unsigned attempt() const noexcept { return attempt_; }
  /// The step's index in its flow.
  std::uint32_t index() const noexcept { return step_; }
  /// True once the run has been cancelled (or the step's timeout has passed); cheap enough to poll.
  inline bool stop_requested() const noexcept;
  /// A token that is stopped when the run is cancelled or the step's timeout passes (for
  /// std::stop_callback or a std::condition_variable_any). The first call in a run allocates its
  /// stop state.
  inline std::stop_token stop_token() const;
  /// True when the run resumes a checkpointed run (one that failed, stopped or crashed before): the
  /// step runs again because it had not succeeded then. False in a fresh run (the Go original's
  /// "recovering").
  inline bool recovering() const noexcept;
  /// The names of the steps that run after this one (its direct dependents, also those that take no
  /// output from it). The names live as long as the run.
  inline std::vector<std::string_view> dependents() const;
  /// The names of the steps it runs after (its direct dependencies, also those whose outputs it
  /// does not take). The names live as long as the run.
  inline std::vector<std::string_view> dependencies() const;
  /// The run's resource of type T (attached with `lightflow::resource(make)`); throws
  /// std::out_of_range naming the step and the type when the run has none.
  template <class T>
  T& resource() const;

  /// @cond LIGHTFLOW_INTERNAL
  /// The output of the dependency called `name` (after a namespaced merge, also looked up in this
  /// step's namespaces, innermost first), empty when it has none (void, not succeeded); throws
  /// key_error when this step does not depend on a step of that name. What conditions read.
  inline detail::value_view dependency_output(std::string_view name) const;
  /// @endcond

 private:
  friend struct detail::step_context_access;
  friend struct detail::element_access;
  detail::run_state_base* run_;
  std::uint32_t step_;
  unsigned attempt_;
  std::stop_source* own_stop_;  // a step with a timeout: stopped by it or by the run's cancellation
};

}  // namespace lightflow

// The members that read the run (its stop token: run_lifecycle.hpp).
namespace lightflow {
inline std::string_view step_context::name() const noexcept { return run_->graph().name(step_); }
inline std::string_view step_context::flow_name() const noexcept { return run_->graph().flow_name; }
inline std::uint64_t step_context::run_id() const noexcept { return run_->id(); }
inline std::string_view step_context::checkpoint_id() const noexcept {
  return run_->checkpoint() != nullptr ? run_->checkpoint()->run_name() : std::string_view();
}
inline std::string step_context::idempotency_key() const {
  const std::string_view id = checkpoint_id();
  return std::string(flow_name()).append("/").append(id.empty() ? std::to_string(run_id()) : std::string(id)).append("/").append(name());
}
inline bool step_context::recovering() const noexcept { return run_->resumed(); }
namespace detail {
/// The names of step's neighbours in one of the graph's adjacency lists (`offsets`, `steps`).
inline std::vector<std::string_view> neighbour_names(const graph_view& g, const std::uint32_t* offsets,
                                                     const std::uint32_t* steps, std::uint32_t step) {
  std::vector<std::string_view> names;
  names.reserve(offsets[step + 1] - offsets[step]);
  for (std::uint32_t k = offsets[step]; k != offsets[step + 1]; ++k) names.push_back(g.name(steps[k]));
  return names;
}
}  // namespace detail
inline std::vector<std::string_view> step_context::dependents() const {
  const detail::graph_view& g = run_->graph();
  return detail::neighbour_names(g, g.out_offsets, g.outs, step_);
}
inline std::vector<std::string_view> step_context::dependencies() const {
  const detail::graph_view& g = run_->graph();
  return detail::neighbour_names(g, g.dep_offsets, g.deps, step_);
}
/// @cond LIGHTFLOW_INTERNAL
inline detail::value_view step_context::dependency_output(std::string_view wanted) const {
  const detail::graph_view& g = run_->graph();
  const std::string_view own = name();
  // The dependency called `wanted`, or so called in one of the step's namespaces.
  const std::uint32_t found = detail::find_in_namespaces(own, g.size, [&](std::string_view prefix) {
    for (std::uint32_t k = g.dep_offsets[step_]; k != g.dep_offsets[step_ + 1]; ++k) {
      const std::string_view dep = g.name(g.deps[k]);
      if (dep.size() == prefix.size() + wanted.size() && dep.starts_with(prefix) && dep.ends_with(wanted))
        return g.deps[k];
    }
    return g.size;
  });
  if (found == g.size) {
    detail::text_buffer message;
    detail::condition_reads_a_stranger(message, own, wanted);
    throw key_error(std::string(message.data, message.size));
  }
  return run_->output_view(found);
}
/// @endcond
inline bool step_context::stop_requested() const noexcept {
  return own_stop_ != nullptr ? own_stop_->stop_requested() : run_->stop_requested();
}
template <class T>
T& step_context::resource() const {
  if (void* p = run_->find_resource(typeid(T))) return *static_cast<T*>(p);
  throw not_found("lightflow: step \"" + std::string(name()) + "\" of flow \"" + std::string(flow_name()) +
                          "\" asked for a resource of type " + std::string(detail::type_name<T>()) +
                          ", which its run does not have (attach one with lightflow::resource(make) when running it)");
}
inline std::stop_token step_context::stop_token() const {
  return own_stop_ != nullptr ? own_stop_->get_token() : run_->stop_token();
}
}  // namespace lightflow

#endif
