// Ready-made conditions: compare a dependency's output (or, in a runtime flow, a key's value) with a
// value, and combine them with && and ||. Give one to a step's `.when(...)`:
//
//   lf::step<"ship", "charge">(ship).when(lf::at_least(lf::output<"charge">(), 10.0))
//   f.add("notify", notify).after("score").when(lf::equal(channel, "email") || lf::greater(lf::output("score"), 90))
//
// Numbers compare by value whatever their types (5 equals 5.0, -1 is less than 0u); texts
// (std::string, std::string_view, string literals) by their characters; any other value with a
// value of its own type, by its == and <. A missing value (a key nobody wrote, an output that does
// not exist because its step returned void or was skipped by its condition) makes not_equal true
// and every other comparison false (the Go original's rule).
#ifndef LIGHTFLOW_CONDITION_HPP
#define LIGHTFLOW_CONDITION_HPP

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/type_name.hpp"
#include "lightflow/detail/value_view.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/fixed_string.hpp"

namespace lightflow {

template <class T>
class key;

/// What a ready-made condition asks of its value.
enum class comparison { equal, not_equal, greater, at_least, less, at_most };

namespace detail {

template <class T>
concept number = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;
template <class T>
concept text = std::is_convertible_v<const T&, std::string_view> && !number<T>;

/// -1, 0 or 1 as `a` is below, equal to or above `b` by mathematical value (integers exactly, with
/// their signs; an integer and a floating-point number as long double); 2 when either is NaN.
template <number A, number B>
constexpr int order_numbers(A a, B b) noexcept {
  if constexpr (std::is_integral_v<A> && std::is_integral_v<B>) {
    return std::cmp_less(+a, +b) ? -1 : std::cmp_equal(+a, +b) ? 0 : 1;
  } else {
    const auto x = static_cast<long double>(a);
    const auto y = static_cast<long double>(b);
    if (x != x || y != y) return 2;
    return x < y ? -1 : x == y ? 0 : 1;
  }
}

template <comparison Op>
constexpr bool holds(int order) noexcept {
  if constexpr (Op == comparison::equal)
    return order == 0;
  else if constexpr (Op == comparison::not_equal)
    return order != 0;
  else if constexpr (Op == comparison::greater)
    return order == 1;
  else if constexpr (Op == comparison::at_least)
    return order == 0 || order == 1;
  else if constexpr (Op == comparison::less)
    return order == -1;
  else
    return order == -1 || order == 0;
}

/// Whether a T can be compared with a U.
template <class T, class U>
inline constexpr bool comparable = (number<T> && number<U>) || (text<T> && text<U>) || std::is_same_v<T, U>;

/// `a Op b`, by the rules at the top of this file.
template <comparison Op, class T, class U>
constexpr bool compare(const T& a, const U& b) {
  if constexpr (number<T> && number<U>) {
    return holds<Op>(order_numbers(a, b));
  } else if constexpr (text<T> && text<U>) {
    const std::string_view x(a), y(b);
    return holds<Op>(x < y ? -1 : x == y ? 0 : 1);
  } else {
    static_assert(std::is_same_v<T, U>,
                  "lightflow: a condition compares numbers with numbers, texts with texts, and any other value "
                  "with a value of its own type");
    if constexpr (Op == comparison::equal)
      return static_cast<bool>(a == b);
    else if constexpr (Op == comparison::not_equal)
      return !static_cast<bool>(a == b);
    else if constexpr (Op == comparison::greater)
      return static_cast<bool>(b < a);
    else if constexpr (Op == comparison::at_least)
      return !static_cast<bool>(a < b);
    else if constexpr (Op == comparison::less)
      return static_cast<bool>(a < b);
    else
      return !static_cast<bool>(b < a);
  }
}

/// Compares `v`, whose type is known only at run time, with `b` if it has one of the types `As`;
/// false when it has none of them.
template <comparison Op, class U, class... As>
bool compare_as_one_of(const value_view& v, const U& b, bool& result) {
  return ((*v.type == typeid(As) && (result = compare<Op>(*static_cast<const As*>(v.value), b), true)) || ...);
}

/// `v Op b` for the output of step `dependency`, read by step `step`'s condition.
template <comparison Op, class U>
bool compare_output(const value_view& v, const U& b, std::string_view step, std::string_view dependency) {
  if (v.value == nullptr) return Op == comparison::not_equal;  // no output: only "not equal" holds
  bool result = false;
  bool found = false;
  if constexpr (number<U>)
    found = compare_as_one_of<Op, U, int, long, long long, double, unsigned, unsigned long, unsigned long long, float,
                              long double, short, unsigned short, char, signed char, unsigned char>(v, b, result);
  else if constexpr (text<U>)
    found = compare_as_one_of<Op, U, std::string, std::string_view>(v, b, result);
  else
    found = compare_as_one_of<Op, U, U>(v, b, result);
  if (!found)
    throw key_error("lightflow: the condition of step \"" + std::string(step) + "\" compares the output of step \"" +
                    std::string(dependency) + "\" with a value of type " + std::string(type_name<U>()) +
                    ", but that output has another type (numbers compare with numbers, texts with texts, any "
                    "other value with a value of its own type)");
  return result;
}

/// The output of a dependency named at compile time (lightflow::output<"name">()).
template <fixed_string Name>
struct output_operand {
  static constexpr auto name = Name;
};
/// The output of a dependency named at run time (lightflow::output(name)): runtime steps only.
struct named_output_operand {
  std::string name;
};

template <class T>
inline constexpr bool is_compile_time_output = false;
template <fixed_string Name>
inline constexpr bool is_compile_time_output<output_operand<Name>> = true;
template <class T>
inline constexpr bool is_key = false;
template <class T>
inline constexpr bool is_key<key<T>> = true;

/// Where an operand may come from.
template <class T>
concept operand = is_compile_time_output<T> || std::is_same_v<T, named_output_operand> || is_key<T>;

/// What a condition reads, for the compile-time check of a static step's condition.
struct condition_shape {
  static constexpr std::size_t capacity = 32;
  std::string_view names[capacity]{};  // the dependencies named at compile time (the first 32)
  std::size_t count = 0;
  bool keys = false;               // reads a key
  bool named_at_run_time = false;  // names a dependency at run time
  constexpr void add(std::string_view name) noexcept {
    if (count != capacity) names[count++] = name;
  }
};

/// A value held by a condition: a text as a std::string (never a view of a caller's buffer),
/// anything else as itself.
template <class V>
using held_t = std::conditional_t<text<std::decay_t<V>>, std::string, std::decay_t<V>>;

template <comparison Op, class Operand, class Value>
struct comparison_condition {
  static constexpr bool lightflow_condition = true;
  Operand operand;
  Value value;

  static constexpr void shape(condition_shape& s) noexcept {
    if constexpr (is_compile_time_output<Operand>)
      s.add(Operand::name.view());
    else if constexpr (is_key<Operand>)
      s.keys = true;
    else
      s.named_at_run_time = true;
  }
  /// `Context`: a step_context (static steps), or an lf::context (runtime steps: keys too).
  template <class Context>
  bool operator()(Context& ctx) const {
    if constexpr (is_compile_time_output<Operand>) {
      return compare_output<Op>(ctx.dependency_output(Operand::name.view()), value, ctx.name(), Operand::name.view());
    } else if constexpr (is_key<Operand>) {
      using T = typename Operand::value_type;
      static_assert(comparable<T, Value>,
                    "lightflow: a condition compares a key's value with a value it cannot be compared with (numbers "
                    "compare with numbers, texts with texts, any other value with a value of its own type)");
      const T* v = ctx.find(operand);
      return v == nullptr ? Op == comparison::not_equal : compare<Op>(*v, value);
    } else {
      return compare_output<Op>(ctx.dependency_output(operand.name), value, ctx.name(), operand.name);
    }
  }
};

template <class A, class B, bool All>
struct combined_condition {
  static constexpr bool lightflow_condition = true;
  A first;
  B second;
  static constexpr void shape(condition_shape& s) noexcept {
    A::shape(s);
    B::shape(s);
  }
  template <class Context>
  bool operator()(Context& ctx) const {
    return All ? first(ctx) && second(ctx) : first(ctx) || second(ctx);
  }
};

/// What lightflow::equal, not_equal, ... are: `(operand, value)` makes the condition.
template <comparison Op>
struct comparison_maker {
  template <operand Operand, class V>
  auto operator()(Operand operand, V&& value) const {
    return comparison_condition<Op, Operand, held_t<V>>{std::move(operand), held_t<V>(std::forward<V>(value))};
  }
};

template <class T>
concept any_condition = requires {
  std::remove_cvref_t<T>::lightflow_condition;
};

/// Both hold (the second is not asked when the first does not).
template <any_condition A, any_condition B>
auto operator&&(A a, B b) {
  return combined_condition<A, B, true>{std::move(a), std::move(b)};
}
/// Either holds (the second is not asked when the first does).
template <any_condition A, any_condition B>
auto operator||(A a, B b) {
  return combined_condition<A, B, false>{std::move(a), std::move(b)};
}

/// Whether `Condition` may be a static step's: it reads no key and only outputs of the step's
/// dependencies, named at compile time. Reports the mistake, naming the step, when it is not (true
/// for a predicate that is not a ready-made condition).
template <class Condition, fixed_string Step, fixed_string... Dependencies>
consteval bool fits_static_step() {
  if constexpr (!any_condition<Condition>) {
    return true;
  } else {
    constexpr text_buffer message = [] {
      condition_shape s{};
      Condition::shape(s);
      text_buffer t{};
      if (s.keys) {
        t << "lightflow: the condition of step ", t.quoted(Step.view());
        t << " reads a key, but keys are values of runtime flows: a static step's condition compares the output of "
             "one of its dependencies (lightflow::output<\"name\">())";
      } else if (s.named_at_run_time) {
        t << "lightflow: the condition of step ", t.quoted(Step.view());
        t << " names a dependency at run time (lightflow::output(name)): a static step's condition names it at "
             "compile time (lightflow::output<\"name\">())";
      } else {
        for (std::size_t i = 0; i != s.count && t.size == 0; ++i)
          if (((s.names[i] != Dependencies.view()) && ...)) condition_reads_a_stranger(t, Step.view(), s.names[i]);
      }
      return t;
    }();
    if constexpr (message.size != 0) {
      fail<to_fixed_string<message>()>();
      return false;
    } else {
      return true;
    }
  }
}

}  // namespace detail

/// Satisfied by a ready-made condition (what lightflow::equal, ..., && and || make).
template <class T>
concept condition = detail::any_condition<T>;

/// The output of the dependency `Name` of the step the condition is given to (static and runtime
/// steps; a static step's is checked at compile time). After a namespaced merge, also found in the
/// step's namespaces (as `ctx.result`).
template <fixed_string Name>
constexpr detail::output_operand<Name> output() noexcept {
  return {};
}
/// The same, named at run time (runtime steps only: a flow built from text). Reading the output of
/// a step that is not a dependency fails the step with a key_error.
inline detail::named_output_operand output(std::string name) { return {std::move(name)}; }

/// `lightflow::equal(operand, value)`: the operand (an `lf::output`, or an `lf::key` of a runtime
/// flow) equals `value`.
inline constexpr detail::comparison_maker<comparison::equal> equal{};
/// `lightflow::not_equal(operand, value)`: the operand does not equal `value`, or is missing.
inline constexpr detail::comparison_maker<comparison::not_equal> not_equal{};
/// `lightflow::greater(operand, value)`: the operand is greater than `value` (false when equal).
inline constexpr detail::comparison_maker<comparison::greater> greater{};
/// `lightflow::at_least(operand, value)`: the operand is greater than or equal to `value`.
inline constexpr detail::comparison_maker<comparison::at_least> at_least{};
/// `lightflow::less(operand, value)`: the operand is less than `value` (false when equal).
inline constexpr detail::comparison_maker<comparison::less> less{};
/// `lightflow::at_most(operand, value)`: the operand is less than or equal to `value`.
inline constexpr detail::comparison_maker<comparison::at_most> at_most{};

}  // namespace lightflow

#endif
