// A flow's shape as the scheduler and the checkpoint see it at run time, the same for both kinds of
// flow (a static flow's lives in read-only data; a runtime flow's points into its storage), and the
// packed form of a runtime flow's step names.
#ifndef LIGHTFLOW_DETAIL_GRAPH_VIEW_HPP
#define LIGHTFLOW_DETAIL_GRAPH_VIEW_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace lightflow::detail {

/// The most bytes pack_name adds to a name: its longest length prefix (7 bits a byte, as in LEB128)
/// and the closing '\0'.
inline constexpr std::size_t max_name_prefix = (sizeof(std::size_t) * 8 + 6) / 7 + 1;

/// Writes `name` at `at` as its length (7 bits a byte, low bits first, the high bit saying "more")
/// followed by its characters and a '\0' (so that name().data() is a C string too); returns the
/// bytes written (at most name.size() + max_name_prefix).
inline std::size_t pack_name(char* at, std::string_view name) noexcept {
  std::size_t n = 0;
  for (std::size_t len = name.size();; len >>= 7) {
    const auto low = static_cast<unsigned char>(len & 0x7f);
    at[n++] = static_cast<char>(len > 0x7f ? low | 0x80 : low);
    if (len <= 0x7f) break;
  }
  if (!name.empty()) std::memcpy(at + n, name.data(), name.size());
  at[n + name.size()] = '\0';
  return n + name.size() + 1;
}
inline std::string_view unpack_name(const char* at) noexcept {
  std::size_t len = 0;
  for (unsigned shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*at++);
    len |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  return {at, len};
}

/// A flow's shape as the scheduler sees it at run time (for static flows it lives in read-only data).
struct graph_view {
  std::string_view flow_name;
  std::uint32_t size = 0;
  const std::string_view* names = nullptr;       // static flows: the names
  const std::uint32_t* dep_offsets = nullptr;
  const std::uint32_t* deps = nullptr;
  /// How many of a step's dependencies, first in its list, hand it their outputs (static flows); null:
  /// the dependencies hand nothing (runtime flows read results by name).
  const std::uint32_t* data_count = nullptr;
  const std::uint32_t* out_offsets = nullptr;
  const std::uint32_t* outs = nullptr;
  const std::uint32_t* roots = nullptr;
  std::uint32_t root_count = 0;
  std::uint32_t sink_count = 0;
  /// Finds a step by name faster than a scan (runtime flows); null: scan `names`.
  std::uint32_t (*lookup)(const void* index, std::string_view name) noexcept = nullptr;
  const void* index = nullptr;
  const char* const* packed_names = nullptr;     // runtime flows: the names as pack_name wrote them

  std::string_view name(std::uint32_t i) const noexcept { return names != nullptr ? names[i] : unpack_name(packed_names[i]); }

  /// The step called `name`, or `size` when there is none.
  std::uint32_t find(std::string_view wanted) const noexcept {
    if (lookup != nullptr) return lookup(index, wanted);
    for (std::uint32_t i = 0; i != size; ++i)
      if (name(i) == wanted) return i;
    return size;
  }
};

/// Whether step name `step` lies in namespace `ns` ("a.b.c" lies in "a" and in "a.b").
constexpr bool in_namespace(std::string_view step, std::string_view ns) noexcept {
  return step.size() > ns.size() && step.starts_with(ns) && step[ns.size()] == '.';
}

/// What step `own` means by a step's name: `look(prefix)` with no prefix, then with each of `own`'s
/// namespaces, innermost first (after a namespaced merge, "a.y" read by "rt.report" is "rt.a.y");
/// the first answer that is not `none`, or `none`.
template <class Look>
std::uint32_t find_in_namespaces(std::string_view own, std::uint32_t none, const Look& look) {
  std::uint32_t found = look(std::string_view{});
  for (std::size_t dot = own.rfind('.'); found == none && dot != std::string_view::npos;
       dot = dot == 0 ? std::string_view::npos : own.rfind('.', dot - 1))
    found = look(own.substr(0, dot + 1));
  return found;
}

}  // namespace lightflow::detail

#endif
