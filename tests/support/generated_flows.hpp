// Static flows of a given shape, generated at compile time: for tests and benchmarks that need more
// steps than anyone would write by hand. Step I is named "sNNNNN".
#ifndef LIGHTFLOW_TESTS_GENERATED_FLOWS_HPP
#define LIGHTFLOW_TESTS_GENERATED_FLOWS_HPP

#include <lightflow/lightflow.hpp>

#include <array>
#include <cstddef>
#include <utility>

namespace generated {

template <std::size_t I>
consteval auto step_name() {
  lightflow::fixed_string<6> name{};
  name.chars[0] = 's';
  std::size_t v = I;
  for (std::size_t d = 5; d >= 1; --d, v /= 10) name.chars[d] = static_cast<char>('0' + v % 10);
  return name;
}

template <std::size_t... D>
constexpr std::array<std::size_t, sizeof...(D)> deps{D...};

/// step 0 -> 1 -> ... -> N-1
template <std::size_t N>
struct chain {
  static constexpr std::size_t size = N;
  template <std::size_t I>
  static consteval auto deps_of() {
    if constexpr (I == 0)
      return std::array<std::size_t, 0>{};
    else
      return std::array<std::size_t, 1>{I - 1};
  }
};

/// a source, N independent steps after it, and a sink after them all
template <std::size_t N>
struct fan_out {
  static constexpr std::size_t size = N + 2;
  template <std::size_t I>
  static consteval auto deps_of() {
    if constexpr (I == 0)
      return std::array<std::size_t, 0>{};
    else if constexpr (I <= N)
      return std::array<std::size_t, 1>{0};
    else {
      std::array<std::size_t, N> all{};
      for (std::size_t k = 0; k != N; ++k) all[k] = k + 1;
      return all;
    }
  }
};

/// a -> {b, c} -> d
struct diamond {
  static constexpr std::size_t size = 4;
  template <std::size_t I>
  static consteval auto deps_of() {
    if constexpr (I == 0)
      return std::array<std::size_t, 0>{};
    else if constexpr (I < 3)
      return std::array<std::size_t, 1>{0};
    else
      return std::array<std::size_t, 2>{1, 2};
  }
};

/// a W x H grid; cell (r, c) depends on (r-1, c) and (r, c-1)
template <std::size_t W, std::size_t H>
struct wavefront {
  static constexpr std::size_t size = W * H;
  template <std::size_t I>
  static consteval auto deps_of() {
    constexpr std::size_t r = I / W, c = I % W;
    if constexpr (r == 0 && c == 0)
      return std::array<std::size_t, 0>{};
    else if constexpr (r == 0)
      return std::array<std::size_t, 1>{I - 1};
    else if constexpr (c == 0)
      return std::array<std::size_t, 1>{I - W};
    else
      return std::array<std::size_t, 2>{I - W, I - 1};
  }
};

/// L layers of W steps; step k of a layer depends on steps k and k+1 (mod W) of the layer before
template <std::size_t L, std::size_t W>
struct layered {
  static constexpr std::size_t size = L * W;
  template <std::size_t I>
  static consteval auto deps_of() {
    constexpr std::size_t layer = I / W, k = I % W;
    if constexpr (layer == 0)
      return std::array<std::size_t, 0>{};
    else if constexpr (W == 1)
      return std::array<std::size_t, 1>{I - W};
    else
      return std::array<std::size_t, 2>{(layer - 1) * W + k, (layer - 1) * W + (k + 1) % W};
  }
};

template <class Shape, std::size_t I, class F>
constexpr auto make_step(const F& f) {
  constexpr auto d = Shape::template deps_of<I>();
  return [&]<std::size_t... K>(std::index_sequence<K...>) {
    return lightflow::step<step_name<I>(), step_name<d[K]>()...>(f);
  }
  (std::make_index_sequence<d.size()>{});
}

/// A flow of shape `Shape` whose every step runs `f` (f receives its dependencies' outputs). With
/// `Distinct`, every step gets a callable of its own type, as hand-written steps would have.
template <class Shape, lightflow::fixed_string Name = "generated", bool Distinct = false, class F>
constexpr auto make_flow(const F& f) {
  auto step = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
    if constexpr (Distinct)
      return make_step<Shape, I>([f](const auto&... in) -> decltype(f(in...)) { return f(in...); });
    else
      return make_step<Shape, I>(f);
  };
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return lightflow::flow<Name>(step(std::integral_constant<std::size_t, I>{})...);
  }(std::make_index_sequence<Shape::size>{});
}

}  // namespace generated

#endif
