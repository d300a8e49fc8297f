// How a static flow's step is called: what each step is offered (the run's input, or its
// dependencies' outputs), which form of call its callable takes, what its output is. (The check that
// every step can be called, and its messages: signature_check.hpp.)
#ifndef LIGHTFLOW_DETAIL_STEP_SIGNATURE_HPP
#define LIGHTFLOW_DETAIL_STEP_SIGNATURE_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "lightflow/detail/graph.hpp"
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

// Step callables are function objects (not member pointers), so a call expression is all it takes;
// it is much cheaper to compile than std::invoke and std::is_invocable.
template <class F, class List>
inline constexpr bool callable_with = false;
template <class F, class... A>
inline constexpr bool callable_with<F, type_list<A...>> = requires(const F& f, A&&... a) {
  f(static_cast<A&&>(a)...);
};

/// What calling F with the list gives; only computed when the call is valid.
template <bool Valid, class F, class List>
struct call_result {
  using type = void;
};
template <class F, class... A>
struct call_result<true, F, type_list<A...>> {
  using type = decltype(std::declval<const F&>()(std::declval<A>()...));
};

template <class List, class T>
struct append;
template <class... A, class T>
struct append<type_list<A...>, T> {
  using type = type_list<A..., T>;
};

/// The output type of a step whose callable cannot be called; keeps one mistake from causing more.
struct unusable_output {};

/// A compile-time value as a type. step_signature keeps its values in these rather than in static
/// data members: a member's symbol would spell the whole flow (tens of KB for 256 steps), and an
/// unoptimised build emits every member it reads; `constant<3u>::value` is short and shared.
template <auto V>
struct constant {
  static constexpr auto value = V;
};

/// The positions of the `false`s in `is_void` (of `Count` entries that are false).
template <std::size_t Count, std::size_t N>
consteval std::array<std::uint32_t, Count + 1> false_positions(const bool (&is_void)[N]) {
  std::array<std::uint32_t, Count + 1> out{};
  std::size_t n = 0;
  for (std::uint32_t k = 0; k + 1 < N; ++k)
    if (!is_void[k]) out[n++] = k;
  return out;
}

/// The positions of the `false`s among `Void...` (a step's dependencies that hand it an output).
template <bool... Void>
struct kept_positions {
  static constexpr std::size_t count = (std::size_t{0} + ... + (Void ? 0 : 1));
  static constexpr bool is_void[] = {Void..., false};
  static constexpr std::array<std::uint32_t, count + 1> at = false_positions<count>(is_void);
};

/// How a callable is called when offered `Offered` (then `WithContext`, with the step_context).
/// Without the context first, so that a variadic callable never receives the context as an input.
template <class F, class Offered, class WithContext, bool Root, bool NoInput>
inline constexpr call_form form_of = callable_with<F, Offered>                        ? call_form::inputs
                                     : callable_with<F, WithContext>                  ? call_form::inputs_and_context
                                     : !Root || NoInput                               ? call_form::none
                                     : callable_with<F, type_list<>>                  ? call_form::nothing
                                     : callable_with<F, type_list<step_context&>>     ? call_form::context
                                                                                      : call_form::none;

template <std::uint32_t... P>
struct positions {};

template <class Flow, class Input, std::uint32_t I>
struct step_signature;

// What a step's signature computes over its dependencies, as namespace-scope functions whose template
// parameters are all deduced (and called qualified, so that no argument-dependent lookup searches the
// namespaces of every step's type). A member template of step_signature, or a call with explicit
// template arguments, is substituted partially first, and g++ 12 then walks the whole flow type (every
// step's name, callable and dependency list) once per step: a cost quadratic in the number of steps
// (a 512-step flow took 20 s to parse instead of 7 s).

/// Which of a step's `Count` dependencies (from `First` in the graph's list) hand it an output.
template <class Flow, class Input, std::uint32_t First, std::size_t... K>
auto kept_of(std::type_identity<Flow>, std::type_identity<Input>, constant<First>, std::index_sequence<K...>)
    -> kept_positions<std::is_void_v<typename step_signature<Flow, Input, Flow::graph.deps[First + K]>::output>...>;
/// Their positions in the step's dependency list.
template <class Kept, std::size_t... K>
auto kept_at_of(std::type_identity<Kept>, std::index_sequence<K...>) -> positions<Kept::at[K]...>;
/// The steps they are.
template <class Flow, std::uint32_t First, std::uint32_t... P>
auto kept_steps_of(std::type_identity<Flow>, constant<First>, positions<P...>) -> positions<Flow::graph.deps[First + P]...>;
/// Their output types.
template <class Flow, class Input, std::uint32_t... D>
auto outputs_of(std::type_identity<Flow>, std::type_identity<Input>, positions<D...>)
    -> type_list<typename step_signature<Flow, Input, D>::output...>;

template <class List>
struct const_references;
template <class... T>
struct const_references<type_list<T...>> {
  using type = type_list<const T&...>;
};

/// Everything about how step I of Flow is called when the run's input has type Input. Only types:
/// see `constant`.
template <class Flow, class Input, std::uint32_t I>
struct step_signature {
  using callable = decltype(Flow::template step_at<I>::callable);
  using first = constant<Flow::graph.dep_offsets[I]>;
  /// How many dependencies hand it their outputs (ordering-only ones come after them).
  using count = constant<Flow::graph.data_count[I]>;
  using is_root = constant<count::value == 0>;  // it receives the run's input

  /// The dependencies that hand it an output: `kept::at[k]` is a position in its dependency list.
  using kept = decltype(detail::kept_of(std::type_identity<Flow>{}, std::type_identity<Input>{}, first{},
                                        std::make_index_sequence<count::value>{}));
  /// The same positions, as `positions<P...>`.
  using kept_at = decltype(detail::kept_at_of(std::type_identity<kept>{}, std::make_index_sequence<kept::count>{}));
  /// The steps they are, as `positions<D...>` (step indices), and their outputs, as a type_list.
  using kept_steps = decltype(detail::kept_steps_of(std::type_identity<Flow>{}, first{}, kept_at{}));
  using kept_outputs = decltype(detail::outputs_of(std::type_identity<Flow>{}, std::type_identity<Input>{}, kept_steps{}));

  /// What the callable is offered, before the optional context.
  using offered_args =
      std::conditional_t<is_root::value,
                         std::conditional_t<std::is_same_v<Input, no_input>, type_list<>, type_list<const Input&>>,
                         typename const_references<kept_outputs>::type>;
  using with_context = typename append<offered_args, step_context&>::type;

  using form = constant<form_of<callable, offered_args, with_context, is_root::value, std::is_same_v<Input, no_input>>>;

  using result = typename call_result<
      form::value != call_form::none, callable,
      std::conditional_t<form::value == call_form::inputs_and_context, with_context,
                         std::conditional_t<form::value == call_form::inputs, offered_args,
                                            std::conditional_t<form::value == call_form::context,
                                                               type_list<step_context&>, type_list<>>>>>::type;
  /// What the step's output is stored as (void: the step has none).
  using output = std::conditional_t<form::value == call_form::none, unusable_output, std::remove_cvref_t<result>>;
};

}  // namespace detail
}  // namespace lightflow

#endif
