// The compiler's spelling of a type, at compile time; goes into a checkpoint's manifest so that a
// changed output type is noticed and named.
#ifndef LIGHTFLOW_DETAIL_TYPE_NAME_HPP
#define LIGHTFLOW_DETAIL_TYPE_NAME_HPP

#include <string_view>

namespace lightflow::detail {

template <class T>
constexpr std::string_view type_name() noexcept {
  std::string_view f = __PRETTY_FUNCTION__;  // "... [with T = int; ...]" (g++) or "... [T = int]" (clang)
  const auto start = f.find("T = ") + 4;
  auto end = f.find(';', start);
  if (end == std::string_view::npos) end = f.rfind(']');
  return f.substr(start, end - start);
}

}  // namespace lightflow::detail

#endif
