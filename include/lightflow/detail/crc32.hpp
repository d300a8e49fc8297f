// CRC-32 (the IEEE polynomial, as zlib and PNG use), for checkpoint records.
#ifndef LIGHTFLOW_DETAIL_CRC32_HPP
#define LIGHTFLOW_DETAIL_CRC32_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace lightflow::detail {

/// Eight tables for "slicing by 8": table k maps a byte to its CRC contribution k bytes further on,
/// so the loop folds eight bytes per step instead of one (the same CRC, about five times faster).
inline constexpr std::array<std::array<std::uint32_t, 256>, 8> crc32_tables = [] {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i != 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k != 8; ++k) c = (c & 1) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[0][i] = c;
  }
  for (std::uint32_t i = 0; i != 256; ++i)
    for (std::size_t k = 1; k != 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xffu];
  return t;
}();

constexpr std::uint32_t crc32(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept {
  const auto& t = crc32_tables;
  crc = ~crc;
  std::size_t i = 0;
  auto at = [&](std::size_t k) { return static_cast<std::uint32_t>(data[i + k]); };
  for (; i + 8 <= data.size(); i += 8) {
    const std::uint32_t lo = crc ^ (at(0) | at(1) << 8 | at(2) << 16 | at(3) << 24);
    crc = t[7][lo & 0xffu] ^ t[6][(lo >> 8) & 0xffu] ^ t[5][(lo >> 16) & 0xffu] ^ t[4][lo >> 24] ^ t[3][at(4)] ^
          t[2][at(5)] ^ t[1][at(6)] ^ t[0][at(7)];
  }
  for (; i != data.size(); ++i) crc = t[0][(crc ^ at(0)) & 0xffu] ^ (crc >> 8);
  return ~crc;
}

}  // namespace lightflow::detail

#endif
