// The policy setters of steps and flows (retry, timeout, callbacks), written once for both kinds of
// flow: what each one changes in a policy, and how it is offered. A static flow and its steps are
// values: their setters return a changed copy, [[nodiscard]] (`f.retry(r);` alone would change
// nothing). A runtime flow, its steps' handles and the executor (whose defaults reach every run it
// starts) are changed in place: their setters return a reference, to chain.
#ifndef LIGHTFLOW_DETAIL_POLICY_SETTERS_HPP
#define LIGHTFLOW_DETAIL_POLICY_SETTERS_HPP

#include <chrono>
#include <cstddef>
#include <utility>

#include "lightflow/callback.hpp"
#include "lightflow/limit.hpp"
#include "lightflow/policy.hpp"

namespace lightflow::detail {

/// What each setter does to a policy. The changes take the setter's argument by reference and move
/// from it while the setter runs (no copy of a callback; and g++ 12 reports false "maybe
/// uninitialized" warnings when an optional is moved into a lambda's capture).
struct policy_change {
  static auto retries(lightflow::retry& r) {
    return [&r](policy& p) { p.retries = std::move(r); };
  }
  static auto timeout(std::chrono::nanoseconds limit) {
    return [limit](policy& p) { p.timeout = limit; };
  }
  static auto before_step(step_callback& cb) {
    return [&cb](policy& p) { p.callbacks.before_step.push_back(std::move(cb)); };
  }
  static auto after_step(step_callback& cb) {
    return [&cb](policy& p) { p.callbacks.after_step.push_back(std::move(cb)); };
  }
  static auto before_flow(flow_callback& cb) {
    return [&cb](policy& p) { p.callbacks.before_flow.push_back(std::move(cb)); };
  }
  static auto after_flow(flow_callback& cb) {
    return [&cb](policy& p) { p.callbacks.after_flow.push_back(std::move(cb)); };
  }
  static auto sensitive() {
    return [](policy& p) { p.sensitive = true; };
  }
  static auto durable() {
    return [](policy& p) { p.durable = true; };
  }
  static auto elements() {  // a map step's: retries and timeout apply to each element
    return [](policy& p) { p.elements = true; };
  }
  static auto concurrency(const lightflow::limit& l) {
    return [&l](policy& p) { p.concurrency = l.state(); };
  }
  template <class Test, class Skip>
  static auto condition(Test& test, Skip& skip) {
    return [&test, &skip](policy& p) {
      p.when = std::move(test);
      p.skips = std::move(skip);
    };
  }
};

/// The setters of a value (a static flow or step): `Derived` has `with_policy(change)` on a const
/// lvalue (a changed copy) and on an rvalue (the same, moved), which returns the changed value (a
/// step without a policy of its own becomes one with). `FlowLevel`: also the flow callbacks.
template <class Derived, bool FlowLevel>
class copied_policy_setters {
 public:
  /// Retried as `r` says when it throws (a flow's: unless a step says otherwise).
  [[nodiscard]] auto retry(lightflow::retry r) const& { return self().with_policy(policy_change::retries(r)); }
  [[nodiscard]] auto retry(lightflow::retry r) && { return moved().with_policy(policy_change::retries(r)); }
  /// Each attempt limited to `limit` (see policy::timeout; a flow's: unless a step says otherwise).
  [[nodiscard]] auto timeout(std::chrono::nanoseconds limit) const& {
    return self().with_policy(policy_change::timeout(limit));
  }
  [[nodiscard]] auto timeout(std::chrono::nanoseconds limit) && {
    return moved().with_policy(policy_change::timeout(limit));
  }
  /// One more callback before a step runs, or once its fate is known (see callback.hpp).
  [[nodiscard]] auto before_step(step_callback cb) const& { return self().with_policy(policy_change::before_step(cb)); }
  [[nodiscard]] auto before_step(step_callback cb) && { return moved().with_policy(policy_change::before_step(cb)); }
  [[nodiscard]] auto after_step(step_callback cb) const& { return self().with_policy(policy_change::after_step(cb)); }
  [[nodiscard]] auto after_step(step_callback cb) && { return moved().with_policy(policy_change::after_step(cb)); }
  /// A step's output is sealed in checkpoints (checkpoint_options::cipher; a run without a cipher is
  /// refused).
  [[nodiscard]] auto sensitive() const& requires(!FlowLevel) { return self().with_policy(policy_change::sensitive()); }
  [[nodiscard]] auto sensitive() && requires(!FlowLevel) { return moved().with_policy(policy_change::sensitive()); }
  /// A step's dependents start only once its checkpoint record is durable (see policy::durable): for
  /// a step with side effects that its dependents must not repeat if the run resumes.
  [[nodiscard]] auto durable() const& requires(!FlowLevel) { return self().with_policy(policy_change::durable()); }
  [[nodiscard]] auto durable() && requires(!FlowLevel) { return moved().with_policy(policy_change::durable()); }
  /// A step runs under concurrency limit `l` (limit.hpp), with every other step that names it.
  [[nodiscard]] auto limit(const lightflow::limit& l) const& requires(!FlowLevel) {
    return self().with_policy(policy_change::concurrency(l));
  }
  [[nodiscard]] auto limit(const lightflow::limit& l) && requires(!FlowLevel) {
    return moved().with_policy(policy_change::concurrency(l));
  }
  /// At most `at_once` instances of this step run at once, in all the runs of its flow: a limit of
  /// its own (`.limit(lightflow::limit{at_once})`).
  [[nodiscard]] auto concurrency(std::size_t at_once) const& requires(!FlowLevel) {
    return limit(lightflow::limit{at_once});
  }
  [[nodiscard]] auto concurrency(std::size_t at_once) && requires(!FlowLevel) {
    return std::move(*this).limit(lightflow::limit{at_once});
  }
  /// One more callback before or after each run (a flow's).
  [[nodiscard]] auto before_flow(flow_callback cb) const& requires FlowLevel {
    return self().with_policy(policy_change::before_flow(cb));
  }
  [[nodiscard]] auto before_flow(flow_callback cb) && requires FlowLevel {
    return moved().with_policy(policy_change::before_flow(cb));
  }
  [[nodiscard]] auto after_flow(flow_callback cb) const& requires FlowLevel {
    return self().with_policy(policy_change::after_flow(cb));
  }
  [[nodiscard]] auto after_flow(flow_callback cb) && requires FlowLevel {
    return moved().with_policy(policy_change::after_flow(cb));
  }

 private:
  const Derived& self() const noexcept { return static_cast<const Derived&>(*this); }
  Derived&& moved() noexcept { return static_cast<Derived&&>(*this); }
};

/// The setters of a thing changed in place (a runtime flow, a step's handle, the executor): `Derived` has
/// `edit_policy(change)`. `FlowLevel`: also the flow callbacks.
template <class Derived, bool FlowLevel>
class edited_policy_setters {
 public:
  /// Retried as `r` says when it throws (a flow's or an executor's: unless a step or flow says otherwise).
  Derived& retry(lightflow::retry r) { return self().edit_policy(policy_change::retries(r)); }
  /// Each attempt limited to `limit` (see policy::timeout; a flow's: unless a step says otherwise).
  Derived& timeout(std::chrono::nanoseconds limit) { return self().edit_policy(policy_change::timeout(limit)); }
  /// One more callback before a step runs, or once its fate is known (see callback.hpp).
  Derived& before_step(step_callback cb) { return self().edit_policy(policy_change::before_step(cb)); }
  Derived& after_step(step_callback cb) { return self().edit_policy(policy_change::after_step(cb)); }
  /// A step's output (and its writes) is sealed in checkpoints (checkpoint_options::cipher; a run
  /// without a cipher is refused).
  Derived& sensitive() requires(!FlowLevel) { return self().edit_policy(policy_change::sensitive()); }
  /// A step's dependents start only once its checkpoint record is durable (see policy::durable).
  Derived& durable() requires(!FlowLevel) { return self().edit_policy(policy_change::durable()); }
  /// A step runs under concurrency limit `l` (limit.hpp), with every other step that names it.
  Derived& limit(const lightflow::limit& l) requires(!FlowLevel) {
    return self().edit_policy(policy_change::concurrency(l));
  }
  /// At most `at_once` instances of this step run at once, in all the runs of its flow: a limit of
  /// its own (`.limit(lightflow::limit{at_once})`).
  Derived& concurrency(std::size_t at_once) requires(!FlowLevel) { return limit(lightflow::limit{at_once}); }
  /// One more callback before or after each run (a flow's).
  Derived& before_flow(flow_callback cb) requires FlowLevel { return self().edit_policy(policy_change::before_flow(cb)); }
  Derived& after_flow(flow_callback cb) requires FlowLevel { return self().edit_policy(policy_change::after_flow(cb)); }

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace lightflow::detail

#endif
