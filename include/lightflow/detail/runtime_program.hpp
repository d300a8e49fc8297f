// A runtime flow as the executor runs it (the interface is described in detail/program.hpp): its
// graph checked and compiled at run time, its input a `values`, its checkpoint the binary serializer's.
#ifndef LIGHTFLOW_DETAIL_RUNTIME_PROGRAM_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_PROGRAM_HPP

#include <concepts>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/program.hpp"
#include "lightflow/detail/run_registry.hpp"
#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/detail/runtime_run.hpp"
#include "lightflow/detail/runtime_session.hpp"
#include "lightflow/key.hpp"
#include "lightflow/runtime_result.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow::detail {

// A partial specialisation (constrained) rather than an explicit one, so that its members are
// templates: runtime_flow.hpp includes this header before it defines runtime_flow.
template <class Flow>
  requires std::same_as<Flow, runtime_flow>
struct program<Flow> {
  using default_input = values;
  template <class Input>
  using state = runtime_run;
  template <class Input>
  using result = runtime_result;
  /// A run keeps the compiled graph and the step callables it runs.
  static constexpr bool keeps_flow = true;

  template <class Input>
  static consteval bool accepts() {
    if constexpr (!std::same_as<Input, values>) {
      fail<"lightflow: a runtime flow's input is a lightflow::values (keys and their values), not the type listed "
           "after this message",
           offered<Input>>();
      return false;
    } else {
      return true;
    }
  }
  template <class Input, class Checkpoint>
  static consteval bool accepts_checkpoint() {
    if constexpr (!std::same_as<serializer_of<Checkpoint>, binary_serializer>) {
      fail<"lightflow: a runtime flow's checkpoint uses the binary serializer (a custom serializer cannot encode "
           "values whose types are known only at run time); the checkpoint's serializer is listed after this message",
           offered<serializer_of<Checkpoint>>>();
      return false;
    } else {
      return true;
    }
  }

  /// Checks the flow first: throws flow_error naming the steps, before any step runs.
  template <class Input>
  static runtime_run* make(const Flow& flow, Input&& input, run_registry& registry, std::uint64_t id) {
    return new runtime_run(flow.compiled(), std::move(input), registry, id);
  }
  template <class Input, class Checkpoint>
  static auto session(runtime_run& run, const Checkpoint& cp) {
    return std::make_unique<runtime_session<store_of<Checkpoint>>>(cp, run.graph_data());
  }
  template <class Input, class Checkpoint>
  static values load_input(const Flow& flow, const Checkpoint& cp) {
    return runtime_session<store_of<Checkpoint>>::load_input(cp, *flow.compiled());
  }
  template <class Checkpoint>
  static void save_input(const Flow& flow, const Checkpoint& cp, const values& input, bool with_manifest) {
    runtime_session<store_of<Checkpoint>>::save_input(cp, *flow.compiled(), input, with_manifest);
  }
  static const graph_view& shape(const Flow& flow) { return flow.compiled()->view; }
  template <class Input, class Checkpoint>
  static std::uint64_t fingerprint(const Flow& flow, const Checkpoint& cp) {
    return runtime_session<store_of<Checkpoint>>::fingerprint(cp, *flow.compiled());
  }
};

}  // namespace lightflow::detail

#endif
