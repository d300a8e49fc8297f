// The state of one run of a static flow with a given input type: what each step is called with,
// where each output lives, and how each step is invoked.
#ifndef LIGHTFLOW_DETAIL_STATIC_RUN_HPP
#define LIGHTFLOW_DETAIL_STATIC_RUN_HPP

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow {

/// The input of a run started without one (`pool.run(flow)`).
struct no_input {};

namespace detail {

template <class... T>
struct type_list {};

/// How a step's callable is called.
enum class call_form : std::uint8_t {
  none,                // it cannot be called with what it is offered
  inputs,              // with its dependencies' outputs (a root step: the run's input, if there is one)
  inputs_and_context,  // the same, then the step_context
  nothing,             // a root step that ignores the run's input
  context,             // a root step that ignores the run's input but takes the step_context
};

template <class F, class List>
inline constexpr bool callable_with = false;
template <class F, class... A>
inline constexpr bool callable_with<F, type_list<A...>> = std::is_invocable_v<const F&, A...>;

/// What calling F with the list gives; only computed when the call is valid.
template <bool Valid, class F, class List>
struct call_result {
  using type = void;
};
template <class F, class... A>
struct call_result<true, F, type_list<A...>> {
  using type = std::invoke_result_t<const F&, A...>;
};

template <class List, class T>
struct append;
template <class... A, class T>
struct append<type_list<A...>, T> {
  using type = type_list<A..., T>;
};

/// The output type of a step whose callable cannot be called; keeps one mistake from causing more.
struct unusable_output {};

/// Everything about how step I of Flow is called when the run's input has type Input.
template <class Flow, class Input, std::uint32_t I>
struct step_signature {
  using callable = decltype(Flow::template step_at<I>::callable);
  static constexpr std::uint32_t first = Flow::graph.dep_offsets[I];
  static constexpr std::uint32_t count = Flow::graph.dep_offsets[I + 1] - first;
  static constexpr bool is_root = count == 0;

  template <std::size_t K>
  using dep_output = typename step_signature<Flow, Input, Flow::graph.deps[first + K]>::output;

  template <std::size_t... K>
  static consteval auto void_mask(std::index_sequence<K...>) {
    return std::array<bool, count + 1>{std::is_void_v<dep_output<K>>..., false};
  }
  static constexpr auto is_void_dep = void_mask(std::make_index_sequence<count>{});
  static constexpr std::size_t nonvoid_count = [] {
    std::size_t n = 0;
    for (std::size_t k = 0; k != count; ++k) n += is_void_dep[k] ? 0 : 1;
    return n;
  }();
  /// Positions (within this step's dependency list) of the dependencies that have an output.
  static constexpr auto nonvoid = [] {
    std::array<std::uint32_t, nonvoid_count + 1> out{};
    std::size_t n = 0;
    for (std::uint32_t k = 0; k != count; ++k)
      if (!is_void_dep[k]) out[n++] = Flow::graph.deps[first + k];
    return out;
  }();

  template <std::size_t... K>
  static auto offered_list(std::index_sequence<K...>)
      -> type_list<const typename step_signature<Flow, Input, nonvoid[K]>::output&...>;
  /// What the callable is offered, before the optional context.
  using offered_args = std::conditional_t<
      is_root, std::conditional_t<std::is_same_v<Input, no_input>, type_list<>, type_list<const Input&>>,
      decltype(offered_list(std::make_index_sequence<nonvoid_count>{}))>;
  using with_context = typename append<offered_args, step_context&>::type;

  // Without the context first, so that a variadic callable never receives the context as an input.
  static constexpr call_form form = callable_with<callable, offered_args>   ? call_form::inputs
                                    : callable_with<callable, with_context> ? call_form::inputs_and_context
                                    : !is_root || std::is_same_v<Input, no_input> ? call_form::none
                                    : callable_with<callable, type_list<>>             ? call_form::nothing
                                    : callable_with<callable, type_list<step_context&>> ? call_form::context
                                                                                        : call_form::none;

  using result = typename call_result<form != call_form::none, callable, std::conditional_t<form == call_form::inputs_and_context, with_context,
                                                 std::conditional_t<form == call_form::inputs, offered_args,
                                                 std::conditional_t<form == call_form::context, type_list<step_context&>,
                                                                    type_list<>>>>>::type;
  /// What the step's output is stored as (void: the step has none).
  using output = std::conditional_t<form == call_form::none, unusable_output, std::remove_cvref_t<result>>;
};

template <class List>
struct offered_of;
template <class... A>
struct offered_of<type_list<A...>> {
  using type = offered<A...>;
};

/// Checks, in topological order, that every step can be called with what it is offered; reports the
/// first that cannot. True when all can.
template <class Flow, class Input>
consteval bool check_signatures() {
  constexpr auto& g = Flow::graph;
  constexpr auto forms = []<std::size_t... K>(std::index_sequence<K...>) {
    // Instantiated in topological order, so no step's signature waits on a deep chain of others.
    return std::array<call_form, Flow::size + 1>{step_signature<Flow, Input, g.order[K]>::form..., call_form::inputs};
  }(std::make_index_sequence<Flow::size>{});
  constexpr std::uint32_t bad = [&] {
    for (std::uint32_t k = 0; k != Flow::size; ++k)
      if (forms[k] == call_form::none) return g.order[k];
    return npos;
  }();
  if constexpr (bad == npos) {
    return true;
  } else {
    using sig = step_signature<Flow, Input, bad>;
    constexpr auto text = [] {
      text_buffer t{};
      t << "lightflow: step ", t.quoted(g.names[bad]), t << " of flow ", t.quoted(Flow::name.view());
      if (callable_with<typename sig::callable&, typename sig::offered_args> ||
          callable_with<typename sig::callable&, typename sig::with_context>)
        t << ": its callable can only be called as non-const (a mutable lambda?); runs of a flow share it, so "
             "it must be const-callable";
      else if (sig::is_root && std::is_same_v<Input, no_input>)
        t << " has no dependencies and the run has no input, so its callable must take no parameters (or only a "
             "lightflow::step_context&)";
      else if (sig::is_root)
        t << " cannot be called with the run's input (nor with nothing); it is offered the types listed after this "
             "message, optionally followed by lightflow::step_context&";
      else
        t << " cannot be called with the outputs of its dependencies; it is offered the types listed after this "
             "message, optionally followed by lightflow::step_context&";
      return t;
    }();
    fail<to_fixed_string<text>(), typename offered_of<typename sig::offered_args>::type>();
    return false;
  }
}

template <std::size_t I, class T>
struct output_slot {
  alignas(T) unsigned char bytes[sizeof(T)];
  T* get() noexcept { return std::launder(reinterpret_cast<T*>(bytes)); }
  const T* get() const noexcept { return std::launder(reinterpret_cast<const T*>(bytes)); }
};
template <std::size_t I>
struct output_slot<I, void> {};

template <class Indices, class... T>
struct output_slots;
template <std::size_t... I, class... T>
struct output_slots<std::index_sequence<I...>, T...> : output_slot<I, T>... {};

template <std::size_t I, class T>
output_slot<I, T>& slot_at(output_slot<I, T>& s) noexcept {
  return s;
}
template <std::size_t I, class T>
const output_slot<I, T>& slot_at(const output_slot<I, T>& s) noexcept {
  return s;
}

/// One run of a static flow. Everything it needs is in this one allocation.
template <class Flow, class Input>
class static_run final : public run_state_base {
  static constexpr std::uint32_t n = Flow::size;

  template <std::size_t... I>
  static auto slots_type(std::index_sequence<I...>)
      -> output_slots<std::index_sequence<I...>, typename step_signature<Flow, Input, I>::output...>;

 public:
  using flow_type = Flow;
  using input_type = Input;
  template <std::uint32_t I>
  using output_t = typename step_signature<Flow, Input, I>::output;

  static_run(const Flow& flow, Input&& input, run_registry& registry, std::uint64_t id)
      : run_state_base(Flow::view, invokers.data(), &destroy, records_, pending_, blocked_, nodes_, registry, id),
        flow_(&flow),
        input_(std::move(input)) {
    prepare();
  }

  template <std::uint32_t I>
  const output_t<I>& output() const noexcept {
    return *slot_at<I>(outputs_).get();
  }

 private:
  ~static_run() { destroy_outputs(std::make_index_sequence<n>{}); }
  template <std::size_t... I>
  void destroy_outputs(std::index_sequence<I...>) noexcept {
    (destroy_output<I>(), ...);
  }
  template <std::uint32_t I>
  void destroy_output() noexcept {
    if constexpr (!std::is_void_v<output_t<I>> && !std::is_trivially_destructible_v<output_t<I>>)
      if (records_[I].status == step_status::succeeded) slot_at<I>(outputs_).get()->~output_t<I>();
  }
  static void destroy(run_state_base* base) noexcept { delete static_cast<static_run*>(base); }

  template <std::uint32_t I>
  static void invoke(run_state_base& base, std::uint32_t, step_context& ctx) {
    auto& self = static_cast<static_run&>(base);
    using sig = step_signature<Flow, Input, I>;
    const auto& fn = self.flow_->template step<I>().callable;
    auto call = [&]() -> decltype(auto) {
      if constexpr (sig::form == call_form::nothing) {
        return std::invoke(fn);
      } else if constexpr (sig::form == call_form::context) {
        return std::invoke(fn, ctx);
      } else if constexpr (sig::is_root && std::is_same_v<Input, no_input>) {
        if constexpr (sig::form == call_form::inputs_and_context) return std::invoke(fn, ctx);
        else return std::invoke(fn);
      } else if constexpr (sig::is_root) {
        if constexpr (sig::form == call_form::inputs_and_context) return std::invoke(fn, std::as_const(self.input_), ctx);
        else return std::invoke(fn, std::as_const(self.input_));
      } else {
        return [&]<std::size_t... K>(std::index_sequence<K...>) -> decltype(auto) {
          if constexpr (sig::form == call_form::inputs_and_context)
            return std::invoke(fn, self.template output<sig::nonvoid[K]>()..., ctx);
          else
            return std::invoke(fn, self.template output<sig::nonvoid[K]>()...);
        }(std::make_index_sequence<sig::nonvoid_count>{});
      }
    };
    if constexpr (std::is_void_v<output_t<I>>)
      call();
    else
      ::new (static_cast<void*>(slot_at<I>(self.outputs_).bytes)) output_t<I>(call());
  }

  static constexpr std::array<invoke_fn, n + 1> invokers = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<invoke_fn, n + 1>{&invoke<I>..., nullptr};
  }(std::make_index_sequence<n>{});

  const Flow* flow_;
  [[no_unique_address]] Input input_;
  step_record records_[n + 1];
  std::atomic<std::uint32_t> pending_[n + 1];
  std::atomic<bool> blocked_[n + 1];
  task_node nodes_[n + 1];
  decltype(slots_type(std::make_index_sequence<n>{})) outputs_;
};

}  // namespace detail
}  // namespace lightflow

#endif
