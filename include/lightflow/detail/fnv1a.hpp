// FNV-1a, 64 bits: the hash of a checkpoint's manifest and run id (record.hpp) and, at compile time,
// of a static flow's step names (graph.hpp). Cheap enough for the constant evaluator.
#ifndef LIGHTFLOW_DETAIL_FNV1A_HPP
#define LIGHTFLOW_DETAIL_FNV1A_HPP

#include <cstdint>
#include <string_view>

namespace lightflow::detail {

/// FNV-1a, 64 bits.
constexpr std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : text) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return h;
}

}  // namespace lightflow::detail

#endif
