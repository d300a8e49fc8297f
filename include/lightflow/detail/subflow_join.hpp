// What both kinds of flow add for a subflow (subflow.hpp) besides its steps: the subflow's own step,
// which runs after them, does nothing, and (policy::subflow, read by the engine when a failure blocks
// it: run_hooks.hpp's end_subflow) fails when one of them failed.
#ifndef LIGHTFLOW_DETAIL_SUBFLOW_JOIN_HPP
#define LIGHTFLOW_DETAIL_SUBFLOW_JOIN_HPP

#include <memory>

#include "lightflow/policy.hpp"

namespace lightflow::detail {

/// The callable of a subflow's own step.
struct subflow_join {
  constexpr void operator()() const noexcept {}
};

/// The policy of a subflow's own step.
inline std::shared_ptr<const policy> subflow_policy() {
  return policy::changed(nullptr, [](policy& p) { p.subflow = true; });
}

}  // namespace lightflow::detail

#endif
