// The check that every step of a static flow can be called with what it is offered, and its compile
// errors in plain words: which step, what it was offered, and, when the callable's parameters can be
// read, which parameter cannot take its value; in exact-types mode (LIGHTFLOW_EXACT_TYPES), which
// parameter has another type. Reached by both kinds of flow: a static flow's run and a static flow
// merged into a runtime flow.
#ifndef LIGHTFLOW_DETAIL_SIGNATURE_CHECK_HPP
#define LIGHTFLOW_DETAIL_SIGNATURE_CHECK_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "lightflow/config.hpp"
#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/graph.hpp"
#include "lightflow/detail/step_signature.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow::detail {

/// The parameters of a callable whose call operator is one function, not a template (a lambda
/// without `auto` parameters, a function object, a function pointer); `known` is false otherwise.
/// Read only to explain a compile error.
template <class M>
struct member_parameters {
  static constexpr bool known = false;
};
template <class C, class R, class... A>
struct member_parameters<R (C::*)(A...) const> {
  static constexpr bool known = true;
  using type = type_list<A...>;
};
template <class C, class R, class... A>
struct member_parameters<R (C::*)(A...) const noexcept> : member_parameters<R (C::*)(A...) const> {};
template <class C, class R, class... A>
struct member_parameters<R (C::*)(A...)> : member_parameters<R (C::*)(A...) const> {};
template <class C, class R, class... A>
struct member_parameters<R (C::*)(A...) noexcept> : member_parameters<R (C::*)(A...) const> {};
template <class F, class = void>
struct parameters_of : member_parameters<void> {};
template <class F>
struct parameters_of<F, std::void_t<decltype(&F::operator())>> : member_parameters<decltype(&F::operator())> {};
template <class R, class... A>
struct parameters_of<R (*)(A...), void> : member_parameters<R (parameters_of<void>::*)(A...) const> {};
template <class R, class... A>
struct parameters_of<R (*)(A...) noexcept, void> : member_parameters<R (parameters_of<void>::*)(A...) const> {};

/// The first parameter (counted from 1) among `Params` whose value offered in `Offered` fails
/// `Accepts<offered, parameter>`; 0 when all pass, or when there are fewer parameters than values
/// (the call fails for its count, reported as such). `parameters`: how many there are.
template <template <class, class> class Accepts, class Offered, class Params>
struct first_refused {
  static constexpr std::size_t parameters = 0, position = 0;
};
template <template <class, class> class Accepts, class... O, class... P>
struct first_refused<Accepts, type_list<O...>, type_list<P...>> {
  static constexpr std::size_t parameters = sizeof...(P);
  static constexpr std::size_t position = [] {
    if constexpr (sizeof...(P) < sizeof...(O)) {
      return std::size_t{0};
    } else {
      return []<std::size_t... K>(std::index_sequence<K...>) {
        const bool ok[] = {Accepts<O, std::tuple_element_t<K, std::tuple<P...>>>::value..., true};
        for (std::size_t k = 0; k != sizeof...(O); ++k)
          if (!ok[k]) return k + 1;
        return std::size_t{0};
      }(std::index_sequence_for<O...>{});
    }
  }();
};
/// A parameter that takes the value offered to it: converts to it, as a call does.
template <class O, class P>
using converts = std::is_convertible<O, P>;
/// The same type, up to const and reference (exact-types mode).
template <class O, class P>
using same_type = std::is_same<std::remove_cvref_t<O>, std::remove_cvref_t<P>>;

/// Where a callable with parameters `Params` cannot take the values `Offered`: `position`, the first
/// parameter that cannot take the value offered there, or 0 when the counts differ (a trailing
/// step_context& aside) or nothing can be said.
template <class Offered, class Params>
using mismatch = first_refused<converts, Offered, Params>;

/// The k-th of positions P.
template <std::uint32_t... P>
constexpr std::uint32_t position_at(positions<P...>, std::size_t k) {
  const std::uint32_t at[] = {P..., 0};
  return at[k];
}
template <class List>
struct list_size;
template <class... T>
struct list_size<type_list<T...>> {
  static constexpr std::size_t value = sizeof...(T);
};

/// In exact-types mode: the first parameter whose type, without const and reference, is not the
/// type offered there; 0 when all are, or the parameters cannot be read.
template <class Offered, class Params>
using inexact = first_refused<same_type, Offered, Params>;
/// The parameter of step signature `Sig` that exact-types mode refuses, or 0.
template <class Sig>
consteval std::size_t inexact_parameter() {
  using params = parameters_of<std::remove_cvref_t<typename Sig::callable>>;
  if constexpr (!params::known || (Sig::form::value != call_form::inputs &&
                                   Sig::form::value != call_form::inputs_and_context))
    return 0;
  else
    return inexact<typename Sig::offered_args, typename params::type>::position;
}

/// Appends a number to a message.
constexpr void append_number(text_buffer& t, std::size_t n) {
  char digits[20]{};
  std::size_t size = 0;
  do digits[size++] = static_cast<char>('0' + n % 10), n /= 10;
  while (n != 0);
  while (size != 0) t << std::string_view(&digits[--size], 1);
}

template <class List>
struct offered_of;
template <class... A>
struct offered_of<type_list<A...>> {
  using type = offered<A...>;
};

/// Exact-types mode (LIGHTFLOW_EXACT_TYPES): checks, in topological order, that every parameter has
/// the type offered to it; reports the first that does not.
template <class Flow, class Input>
consteval bool check_exact_types() {
  constexpr auto& g = Flow::graph;
  constexpr auto inexact_at = []<std::size_t... K>(std::index_sequence<K...>) {
    return std::array<std::size_t, Flow::size + 1>{inexact_parameter<step_signature<Flow, Input, g.order[K]>>()..., 0};
  }
  (std::make_index_sequence<Flow::size>{});
  constexpr std::uint32_t bad = [&] {
    for (std::uint32_t k = 0; k != Flow::size; ++k)
      if (inexact_at[k] != 0) return k;
    return npos;
  }();
  if constexpr (bad == npos) {
    return true;
  } else {
    constexpr std::uint32_t step = g.order[bad];
    constexpr std::size_t position = inexact_at[bad];
    using sig = step_signature<Flow, Input, step>;
    constexpr auto text = [] {
      text_buffer t{};
      t << "lightflow: step ", t.quoted(g.names[step]), t << " of flow ", t.quoted(Flow::name.view());
      t << ": its parameter ", append_number(t, position);
      if (sig::is_root::value) {
        t << " does not have the type of the run's input";
      } else {
        t << " does not have the type of the output of step ";
        t.quoted(g.names[g.deps[g.dep_offsets[step] + position_at(typename sig::kept_at{}, position - 1)]]);
      }
      t << " (type ", append_number(t, position), t << " in the list after this message, up to const and reference); "
                                                       "exact types are on (LIGHTFLOW_EXACT_TYPES)";
      return t;
    }();
    fail<to_fixed_string<text>(), typename offered_of<typename sig::offered_args>::type>();
    return false;
  }
}

/// Checks, in topological order, that every step can be called with what it is offered; reports the
/// first that cannot. True when all can.
template <class Flow, class Input>
consteval bool check_signatures() {
  constexpr auto& g = Flow::graph;
  constexpr auto forms = []<std::size_t... K>(std::index_sequence<K...>) {
    // Instantiated in topological order, so no step's signature waits on a deep chain of others.
    return std::array<call_form, Flow::size + 1>{step_signature<Flow, Input, g.order[K]>::form::value...,
                                                 call_form::inputs};
  }
  (std::make_index_sequence<Flow::size>{});
  constexpr std::uint32_t bad = [&] {
    for (std::uint32_t k = 0; k != Flow::size; ++k)
      if (forms[k] == call_form::none) return g.order[k];
    return npos;
  }();
  if constexpr (bad == npos) {
    if constexpr (LIGHTFLOW_EXACT_TYPES) return check_exact_types<Flow, Input>();
    else return true;
  } else {
    using sig = step_signature<Flow, Input, bad>;
    constexpr auto text = [] {
      text_buffer t{};
      t << "lightflow: step ", t.quoted(g.names[bad]), t << " of flow ", t.quoted(Flow::name.view());
      if (callable_with<typename sig::callable&, typename sig::offered_args> ||
          callable_with<typename sig::callable&, typename sig::with_context>)
        t << ": its callable can only be called as non-const (a mutable lambda?); runs of a flow share it, so "
             "it must be const-callable";
      else if (sig::is_root::value && std::is_same_v<Input, no_input>)
        t << " has no dependencies and the run has no input, so its callable must take no parameters (or only a "
             "lightflow::step_context&)";
      else if (sig::is_root::value)
        t << " cannot be called with the run's input (nor with nothing); it is offered the types listed after this "
             "message, optionally followed by lightflow::step_context&";
      else
        t << " cannot be called with the outputs of its dependencies; it is offered the types listed after this "
             "message, optionally followed by lightflow::step_context&";
      // Which parameter, when the callable's parameters can be read (not for `auto` parameters).
      using params = parameters_of<std::remove_cvref_t<typename sig::callable>>;
      if constexpr (params::known && !(sig::is_root::value && std::is_same_v<Input, no_input>)) {
        using where = mismatch<typename sig::offered_args, typename params::type>;
        constexpr std::size_t offered_count = list_size<typename sig::offered_args>::value;
        if (where::position != 0) {
          t << "; its parameter ", append_number(t, where::position);
          if (sig::is_root::value) {
            t << " cannot take the run's input";
          } else {
            t << " cannot take the output of step ";
            t.quoted(g.names[g.deps[g.dep_offsets[bad] + position_at(typename sig::kept_at{}, where::position - 1)]]);
          }
          t << " (type ", append_number(t, where::position), t << " in the list)";
        } else if (where::parameters != offered_count && where::parameters != offered_count + 1) {
          t << "; its callable takes ", append_number(t, where::parameters);
          t << (where::parameters == 1 ? " parameter for " : " parameters for "), append_number(t, offered_count);
          t << (offered_count == 1 ? " value" : " values");
        }
      }
      return t;
    }();
    fail<to_fixed_string<text>(), typename offered_of<typename sig::offered_args>::type>();
    return false;
  }
}

}  // namespace lightflow::detail

#endif
