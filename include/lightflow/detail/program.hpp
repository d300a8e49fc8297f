// What the executor runs: one description per kind of flow, read by one entry path (executor.hpp).
// A static flow's comes from its compile-time tables (here); a runtime flow's is built at run time
// (detail/runtime_program.hpp, which runtime_flow.hpp includes). Each `program<Flow>` has:
//
//   default_input                 the input of a run started without one
//   state<Input>, result<Input>   the run's state and what `run` returns for it
//   keeps_flow                    true when a run keeps what it runs (the flow may die meanwhile)
//   accepts<Input>()              consteval: true, or a compile error that says why not
//   accepts_checkpoint<Input, C>() consteval: the same for a checkpoint option of type C
//   make(flow, input, registry, id)  a new run's state (one reference, the result's)
//   session<Input>(state, checkpoint)  the run's checkpoint session, which the executor opens (checks
//                                 or restores the records; throws before anything runs) and attaches
//   load_input<Input>(flow, checkpoint)  the input a checkpointed run was started with, for resume
//   save_input(flow, checkpoint, input, with_manifest)  saves the input (and the manifest) of a run
//                                 not started (a queued run), which resume then starts
//   shape(flow)                   the flow's graph_view (a runtime flow's lives as long as the flow
//                                 is not changed)
//   fingerprint<Input>(flow, checkpoint)  the fingerprint of the manifest the flow's runs write (which
//                                 workers may take a queued run)
#ifndef LIGHTFLOW_DETAIL_PROGRAM_HPP
#define LIGHTFLOW_DETAIL_PROGRAM_HPP

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "lightflow/detail/run_registry.hpp"
#include "lightflow/detail/signature_check.hpp"
#include "lightflow/detail/static_run.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/run_result.hpp"

namespace lightflow::detail {

/// Specialised for each kind of flow (see above); a type that is no flow has none.
template <class Flow>
struct program;

/// Defined in detail/typed_session.hpp, which lightflow/checkpoint.hpp includes.
template <class Flow, class Input, class Store, class Serializer>
class typed_session;

/// The store and serializer a checkpoint option names.
template <class Checkpoint>
using store_of = std::remove_pointer_t<decltype(Checkpoint::store)>;
template <class Checkpoint>
using serializer_of = decltype(Checkpoint::serializer);

template <fixed_string Name, class... Steps>
struct program<static_flow<Name, Steps...>> {
  using flow_type = static_flow<Name, Steps...>;
  using default_input = no_input;
  template <class Input>
  using state = static_run<flow_type, Input>;
  template <class Input>
  using result = run_result<flow_type, Input>;
  /// A run calls the flow's own callables: the flow must outlive it.
  static constexpr bool keeps_flow = false;

  template <class Input>
  static consteval bool accepts() {
    return check_signatures<flow_type, Input>();
  }
  template <class Input, class Checkpoint>
  static consteval bool accepts_checkpoint() {
    return typed<Input, Checkpoint>::check();
  }

  template <class Input>
  static state<Input>* make(const flow_type& flow, Input&& input, run_registry& registry, std::uint64_t id) {
    return new state<Input>(flow, std::move(input), registry, id);
  }
  template <class Input, class Checkpoint>
  static auto session(state<Input>&, const Checkpoint& cp) {
    return std::make_unique<typed<Input, Checkpoint>>(cp);
  }
  template <class Input, class Checkpoint>
  static Input load_input(const flow_type&, const Checkpoint& cp) {
    return typed<Input, Checkpoint>::load_input(cp);
  }
  template <class Input, class Checkpoint>
  static void save_input(const flow_type&, const Checkpoint& cp, const Input& input, bool with_manifest) {
    typed<Input, Checkpoint>::save_input(cp, input, with_manifest);
  }
  static const graph_view& shape(const flow_type&) noexcept { return flow_type::view; }
  template <class Input, class Checkpoint>
  static std::uint64_t fingerprint(const flow_type&, const Checkpoint& cp) {
    return typed<Input, Checkpoint>::fingerprint(cp);
  }

 private:
  template <class Input, class Checkpoint>
  using typed = typed_session<flow_type, Input, store_of<Checkpoint>, serializer_of<Checkpoint>>;
};

}  // namespace lightflow::detail

#endif
