// CRC-32 (the IEEE polynomial, as zlib and PNG use), for checkpoint records.
#ifndef LIGHTFLOW_DETAIL_CRC32_HPP
#define LIGHTFLOW_DETAIL_CRC32_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace lightflow::detail {

inline constexpr std::array<std::uint32_t, 256> crc32_table = [] {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i != 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k != 8; ++k) c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}();

constexpr std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept {
  crc = ~crc;
  for (std::byte b : data) crc = crc32_table[(crc ^ static_cast<std::uint32_t>(b)) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

}  // namespace lightflow::detail

#endif
