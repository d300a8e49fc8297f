// The compiler's spelling of a type, at compile time: for messages (and, by request only, for a
// type's checkpoint name: see type_tag.hpp). Checkpoints of format 1 stored it; `legacy_spelling`
// reads theirs.
#ifndef LIGHTFLOW_DETAIL_TYPE_NAME_HPP
#define LIGHTFLOW_DETAIL_TYPE_NAME_HPP

#include <cstddef>
#include <string>
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

/// A compiler's spelling of a type with the differences between g++ 12 and clang 14 (libstdc++)
/// smoothed over, so that a format-1 checkpoint, which stored the spelling, is read by either: the
/// `__cxx11` and `__1` inline namespaces dropped, "long int" read as "long" (and the other integer
/// spellings alike), "> >" as ">>", the anonymous namespace spelled one way, the default arguments
/// g++ writes out for std::basic_string dropped.
inline std::string legacy_spelling(std::string_view spelled) {
  std::string s(spelled);
  const auto replace_all = [&s](std::string_view from, std::string_view to) {
    for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  };
  replace_all("std::__cxx11::", "std::");
  replace_all("std::__1::", "std::");
  replace_all("{anonymous}", "(anonymous namespace)");
  replace_all(", std::char_traits<char>, std::allocator<char> >", ">");
  replace_all(", std::char_traits<char>, std::allocator<char>>", ">");
  replace_all("> >", ">>");
  replace_all("long long unsigned int", "unsigned long long");
  replace_all("long unsigned int", "unsigned long");
  replace_all("short unsigned int", "unsigned short");
  replace_all("long long int", "long long");
  replace_all("long int", "long");
  replace_all("short int", "short");
  return s;
}

}  // namespace lightflow::detail

#endif
