// How a runtime flow calls a step: its callable takes an lf::context& (or nothing) and returns its
// result (or void), kept as an erased value; a stateless callable is made on the spot, a stateful
// one is read from the flow. (A static flow's step in a runtime flow: static_in_runtime.hpp.)
#ifndef LIGHTFLOW_DETAIL_RUNTIME_STEP_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_STEP_HPP

#include <cstdint>
#include <string>
#include <type_traits>

#include "lightflow/context.hpp"
#include "lightflow/detail/erased_value.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/runtime_run.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow::detail {

template <class F>
inline constexpr bool stateless_callable = std::is_empty_v<F> && std::is_default_constructible_v<F>;

template <class F>
inline constexpr bool runtime_callable = std::is_invocable_v<const F&, context&> || std::is_invocable_v<const F&>;

/// What a runtime step's callable returns, decayed (void for none).
template <class F>
using runtime_return_t = std::decay_t<
    typename std::conditional_t<std::is_invocable_v<const F&, context&>, std::invoke_result<const F&, context&>,
                                std::invoke_result<const F&>>::type>;

/// What a runtime step's condition needs of the step_context it is given.
struct step_context_access {
  template <class Tag = void>
  static basic_runtime_run<Tag>& run(step_context& sc) noexcept { return static_cast<basic_runtime_run<Tag>&>(*sc.run_); }
  static std::uint32_t step(const step_context& sc) noexcept { return sc.step_; }
  static const run_state_base& base(const step_context& sc) noexcept { return *sc.run_; }
};

template <class Any>
basic_context<> runtime_context_of(step_context& sc) {
  if (step_context_access::base(sc).graph().data_count != nullptr)  // a static run: steps hand outputs, not keys
    throw usage_error("lightflow: a callback of step \"" + std::string(sc.name()) + "\" of flow \"" +
                      std::string(sc.flow_name()) + "\" takes an lf::context&, which only runtime runs have (a "
                      "runtime flow, or a static flow merged into one); take a step_context& instead");
  return basic_context<>(step_context_access::run<>(sc), sc);
}

template <class F>
void invoke_runtime(run_state_base& base, std::uint32_t step, step_context& sc) {
  auto& run = static_cast<runtime_run&>(base);
  if (const step_data* d = run.data_of(step)) {  // what a failed attempt wrote goes; a before-step callback's stays
    if (sc.attempt() == 1) run.own(step).kept = d->writes.size();
    else run.own(step).forget_attempt();
  }
  (void)step;
  auto call = [&](const F& f) {
    context ctx(run, sc);
    if constexpr (std::is_invocable_v<const F&, context&>) {
      using R = std::invoke_result_t<const F&, context&>;
      if constexpr (std::is_void_v<R>) f(ctx);
      else run.own(step).result = erased_value::make<std::decay_t<R>>(f(ctx));
    } else {
      using R = std::invoke_result_t<const F&>;
      if constexpr (std::is_void_v<R>) f();
      else run.own(step).result = erased_value::make<std::decay_t<R>>(f());
    }
  };
  if constexpr (stateless_callable<F>) call(F{});
  else call(*static_cast<const F*>(base.callable(step)));
}

}  // namespace lightflow::detail

#endif
