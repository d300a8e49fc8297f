// A step: a name, the names of the steps it depends on, and the callable that does its work.
#ifndef LIGHTFLOW_STEP_HPP
#define LIGHTFLOW_STEP_HPP

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "lightflow/condition.hpp"
#include "lightflow/detail/policy_setters.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/policy.hpp"

namespace lightflow {

/// Names of steps that a step runs after without receiving their outputs (`.after<"x">()`).
template <fixed_string... Names>
struct after_names {
  static constexpr std::size_t size = sizeof...(Names);  ///< How many.
};

/// A step of a static flow: made by `lightflow::step<"name", "dependency"...>(callable)`. `After`
/// lists the steps it also runs after, whose outputs it is not given; `Rules` holds its own policy
/// (`detail::no_rules` until a setter such as `.retry(...)` gives it one: then `detail::policy_ref`).
template <fixed_string Name, class F, class After, class Rules, fixed_string... Dependencies>
struct step_definition;

/// A step of a static flow (the one definition): its name, its dependencies, its callable and its
/// policies.
template <fixed_string Name, class F, fixed_string... Ordered, class Rules, fixed_string... Dependencies>
struct step_definition<Name, F, after_names<Ordered...>, Rules, Dependencies...>
    : detail::copied_policy_setters<step_definition<Name, F, after_names<Ordered...>, Rules, Dependencies...>,
                                    false> {
  static constexpr auto name = Name;  ///< The step's name.
  /// The dependencies whose outputs the callable receives, in order; the ordering-only ones follow.
  static constexpr std::size_t data_dependency_count = sizeof...(Dependencies);
  /// All of its dependencies: the data ones, then the ordering-only ones.
  static constexpr std::size_t dependency_count = sizeof...(Dependencies) + sizeof...(Ordered);
  /// Their names, in that order (and an empty one at the end).
  static constexpr std::array<std::string_view, dependency_count + 1> dependency_names{
      Dependencies.view()..., Ordered.view()..., std::string_view{}};
  F callable;  ///< What the step runs.
  /// Retries, timeout, condition and callbacks (`get()` null: none of its own; the flow's apply).
  [[no_unique_address]] Rules rules{};

  // Each of the following has two forms: on an lvalue it copies the callable, on an rvalue (the
  // usual `lf::step<"x">(f).retry(...)`) it moves it, so that a move-only callable can take them.

  /// The same step, also running after `More` (steps of the same flow) without receiving their outputs.
  template <fixed_string... More>
  [[nodiscard]] constexpr auto after() const& {
    return step_definition<Name, F, after_names<Ordered..., More...>, Rules, Dependencies...>{{}, callable, rules};
  }
  /// The same, moving the callable.
  template <fixed_string... More>
  [[nodiscard]] constexpr auto after() && {
    return step_definition<Name, F, after_names<Ordered..., More...>, Rules, Dependencies...>{
        {}, std::move(callable), std::move(rules)};
  }
  /// The same step, run only when `condition(step_context&)` returns true once its dependencies are
  /// done; else it is skipped_by_condition and its dependents run (unless `skip` says otherwise). A
  /// dependent that takes its output cannot run, and is skipped_by_condition too.
  /// `condition` may be a ready-made one (condition.hpp) on its dependencies' outputs: one that
  /// reads anything else is a compile error naming the step.
  template <class Predicate>
  [[nodiscard]] auto when(Predicate condition, std::optional<skip_dependents> skip = std::nullopt) const& {
    auto test = checked_condition(std::move(condition));
    return with_policy(detail::policy_change::condition(test, skip));
  }
  /// The same, moving the callable.
  template <class Predicate>
  [[nodiscard]] auto when(Predicate condition, std::optional<skip_dependents> skip = std::nullopt) && {
    auto test = checked_condition(std::move(condition));
    return std::move(*this).with_policy(detail::policy_change::condition(test, skip));
  }
  // retry, timeout, before_step and after_step: detail::copied_policy_setters. A setter's result has
  // another type than a step without a policy of its own (which is trivially copied when its
  // callable is); the latter converts to the former, so `cond ? s.retry(r) : s` compiles.

  /// The same step, as the type of a step with a policy of its own (which it has not).
  operator step_definition<Name, F, after_names<Ordered...>, detail::policy_ref, Dependencies...>() const&
    requires(!std::is_same_v<Rules, detail::policy_ref>)
  {
    return {{}, callable, nullptr};
  }
  /// The same, moving the callable.
  operator step_definition<Name, F, after_names<Ordered...>, detail::policy_ref, Dependencies...>() &&
    requires(!std::is_same_v<Rules, detail::policy_ref>)
  {
    return {{}, std::move(callable), nullptr};
  }

 private:
  friend detail::copied_policy_setters<step_definition, false>;
  // The condition, or (after its compile error has been reported) one that compiles.
  template <class Predicate>
  static auto checked_condition(Predicate condition) {
    if constexpr (detail::fits_static_step<Predicate, Name, Dependencies..., Ordered...>())
      return condition;
    else
      return [](const step_context&) { return true; };
  }
  // The step with a policy of its own.
  using with_rules = step_definition<Name, F, after_names<Ordered...>, detail::policy_ref, Dependencies...>;
  // The same step (its callable copied, or moved from an rvalue), with its policy changed by `change`.
  template <class Change>
  with_rules with_policy(Change&& change) const& {
    return {{}, callable, policy::changed(rules.shared(), change)};
  }
  template <class Change>
  with_rules with_policy(Change&& change) && {
    auto changed = policy::changed(rules.shared(), change);
    return {{}, std::move(callable), std::move(changed)};
  }
};

/// Declares a step named `Name` that runs after `Dependencies` and receives their outputs, in that
/// order, as the callable's parameters (a step without dependencies receives the run's input).
template <fixed_string Name, fixed_string... Dependencies, class F>
constexpr auto step(F&& callable) {
  return step_definition<Name, std::decay_t<F>, after_names<>, detail::no_rules, Dependencies...>{
      {}, std::forward<F>(callable)};
}

namespace detail {
template <class T>
inline constexpr bool is_step_definition = false;
template <fixed_string Name, class F, class After, class Rules, fixed_string... Dependencies>
inline constexpr bool is_step_definition<step_definition<Name, F, After, Rules, Dependencies...>> = true;
}  // namespace detail

/// Satisfied by what `lightflow::step<...>(callable)` returns.
template <class T>
concept step_type = detail::is_step_definition<std::remove_cvref_t<T>>;

}  // namespace lightflow

#endif
