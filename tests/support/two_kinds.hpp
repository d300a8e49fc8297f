// Writing a test once for both kinds of flow: a TEMPLATE_TEST_CASE over `static_flows` and
// `runtime_flows` builds its flow with `if constexpr (TestType::is_static)` and checks the result
// through what both results have (status by name, counts, messages) or through value_of.
#ifndef LIGHTFLOW_TESTS_SUPPORT_TWO_KINDS_HPP
#define LIGHTFLOW_TESTS_SUPPORT_TWO_KINDS_HPP

#include <lightflow/lightflow.hpp>

#include <chrono>
#include <thread>
#include <utility>

namespace two_kinds {

struct static_flows {
  static constexpr bool is_static = true;
};
struct runtime_flows {
  static constexpr bool is_static = false;
};

/// A runtime flow's input, where a static flow's is an int: the value of this key.
inline const lightflow::key<int> input_key{"x"};

/// The run input `x` for a flow of `Kind`: `x` itself, or values holding it under `key`.
template <class Kind, class T>
auto input(T x, const lightflow::key<T>& key) {
  if constexpr (Kind::is_static) {
    return x;
  } else {
    lightflow::values v;
    v.set(key, x);
    return v;
  }
}
template <class Kind>
auto input(int x) {
  return input<Kind>(x, input_key);
}

/// Step `Name`'s value, of type T, in a result of either kind.
template <lightflow::fixed_string Name, class T, class Result>
T value_of(const Result& r) {
  if constexpr (requires { r.template get<Name>(); })
    return r.template get<Name>();
  else
    return r.template get<T>(Name.view());
}

/// Runs flow `f` of `Kind` with `options` and no input of its own (a runtime flow's: empty values).
template <class Kind, class Flow, class... Options>
auto run(lightflow::executor& pool, const Flow& f, Options&&... options) {
  if constexpr (Kind::is_static)
    return pool.run(f, std::forward<Options>(options)...);
  else
    return pool.run(f, lightflow::values{}, std::forward<Options>(options)...);
}
/// The same, submitted: returns the run's handle.
template <class Kind, class Flow, class... Options>
auto submit(lightflow::executor& pool, const Flow& f, Options&&... options) {
  if constexpr (Kind::is_static)
    return pool.submit(f, std::forward<Options>(options)...);
  else
    return pool.submit(f, lightflow::values{}, std::forward<Options>(options)...);
}

/// Waits until `pred()` holds, at most 10 s; false when it never did (the scenario then fails).
template <class Pred>
bool wait_for(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace two_kinds

#endif
