// A step's output seen without its type: where it is and what type it has. Conditions read a
// dependency's output through it, for static and runtime flows alike.
#ifndef LIGHTFLOW_DETAIL_VALUE_VIEW_HPP
#define LIGHTFLOW_DETAIL_VALUE_VIEW_HPP

#include <string_view>
#include <typeinfo>

#include "lightflow/detail/compile_error.hpp"

namespace lightflow::detail {

/// A value and its type; both null when there is none (a step that returns void, did not succeed,
/// or was skipped by its condition).
struct value_view {
  const void* value = nullptr;
  const std::type_info* type = nullptr;
};

/// The one message for a condition that reads the output of a step its step does not depend on:
/// written at compile time for a static step, at run time for a runtime one.
constexpr void condition_reads_a_stranger(text_buffer& t, std::string_view step, std::string_view wanted) noexcept {
  t << "lightflow: the condition of step ", t.quoted(step), t << " reads the output of step ", t.quoted(wanted);
  t << ", which is not one of its dependencies";
}

}  // namespace lightflow::detail

#endif
