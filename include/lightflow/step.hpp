// A step: a name, the names of the steps it depends on, and the callable that does its work.
#ifndef LIGHTFLOW_STEP_HPP
#define LIGHTFLOW_STEP_HPP

#include <array>
#include <cstddef>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lightflow/fixed_string.hpp"

namespace lightflow {

/// A step of a static flow: made by `lightflow::step<"name", "dependency"...>(callable)`.
template <fixed_string Name, class F, fixed_string... Dependencies>
struct step_definition {
  static constexpr auto name = Name;
  static constexpr std::size_t dependency_count = sizeof...(Dependencies);
  static constexpr std::array<std::string_view, sizeof...(Dependencies) + 1> dependency_names{Dependencies.view()...,
                                                                                              std::string_view{}};
  F callable;
};

/// Declares a step named `Name` that runs after `Dependencies` and receives their outputs, in that
/// order, as the callable's parameters (a step without dependencies receives the run's input).
template <fixed_string Name, fixed_string... Dependencies, class F>
constexpr auto step(F&& callable) {
  return step_definition<Name, std::decay_t<F>, Dependencies...>{std::forward<F>(callable)};
}

namespace detail {
template <class T>
inline constexpr bool is_step_definition = false;
template <fixed_string Name, class F, fixed_string... Dependencies>
inline constexpr bool is_step_definition<step_definition<Name, F, Dependencies...>> = true;
}  // namespace detail

/// Satisfied by what `lightflow::step<...>(callable)` returns.
template <class T>
concept step_type = detail::is_step_definition<std::remove_cvref_t<T>>;

}  // namespace lightflow

#endif
