// The frames of a file_store log, and the rules that tell a torn tail from damage.
//
// Frame format 2 (written), little-endian:
//   offset 0   4 bytes  marker "LFL2"
//          4   8        length B of the body
//         12   4        CRC-32 of the 12 bytes before (the header protects its own length)
//         16   B        body: uint16 key length K, the key, then the record's bytes
//     16 + B   4        CRC-32 of the body
// Frame format 1 (read only; written by lightflow before the header had a checksum):
//   "LFLG", uint32 body length, body, uint32 CRC-32 of the body.
//
// A torn tail is what a crash can leave at the end of a log, and nothing else:
//  - zeros to the end of the file (space a prepared log wrote ahead, or blocks a crash left unwritten);
//  - a frame whose header is whole and checks, and whose bytes go past the end of the file;
//  - a frame whose bytes end in zeros that run to the end of the file (a write torn over zeros), or a
//    frame header cut short by the end of the file or by such zeros.
// Any other byte that does not check is damage: the log is refused with the offset (and the record's
// key when it can be read), and left as it is.
#ifndef LIGHTFLOW_DETAIL_LOG_FRAME_HPP
#define LIGHTFLOW_DETAIL_LOG_FRAME_HPP

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/checkpoint_store.hpp"
#include "lightflow/detail/crc32.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow::detail {

inline constexpr std::string_view frame_marker = "LFL2", frame_marker_v1 = "LFLG";
inline constexpr std::size_t frame_header_size = 16, frame_trailer_size = 4;
inline constexpr std::size_t frame_header_size_v1 = 8;

/// A frame's bytes besides its key and record: the header (with the key's length after it) and the
/// trailer. Made apart so that a store can compute the checksums before taking a lock and copy the
/// record once, under it.
struct frame_parts {
  std::array<std::byte, frame_header_size + 2> head{};
  std::array<std::byte, frame_trailer_size> trailer{};
  std::size_t size(std::string_view key, std::span<const std::byte> record) const noexcept {
    return head.size() + key.size() + record.size() + trailer.size();
  }
};

/// The parts of a frame holding `record` under `key` (at most 65535 bytes).
inline frame_parts make_frame(std::string_view key, std::span<const std::byte> record) {
  frame_parts f;
  auto put = [](std::byte* at, std::uint64_t v, std::size_t width) {
    for (std::size_t i = 0; i != width; ++i, v >>= 8) at[i] = static_cast<std::byte>(v & 0xff);
  };
  std::memcpy(f.head.data(), frame_marker.data(), 4);
  put(f.head.data() + 4, 2 + key.size() + record.size(), 8);
  put(f.head.data() + 12, crc32(std::span<const std::byte>(f.head.data(), 12)), 4);
  put(f.head.data() + 16, key.size(), 2);
  std::uint32_t body = crc32(std::span<const std::byte>(f.head.data() + 16, 2));
  body = crc32(std::as_bytes(std::span(key.data(), key.size())), body);
  body = crc32(record, body);
  put(f.trailer.data(), body, 4);
  return f;
}

/// Appends a frame holding `record` under `key` (at most 65535 bytes) to `out`.
inline void append_frame(std::vector<std::byte>& out, std::string_view key, std::span<const std::byte> record) {
  const frame_parts f = make_frame(key, record);
  binary_writer w(out);
  w.bytes(f.head.data(), f.head.size());
  w.bytes(key.data(), key.size());
  w.bytes(record.data(), record.size());
  w.bytes(f.trailer.data(), f.trailer.size());
}

/// What a log holds: the last record saved under each key, where its whole frames end, and how many
/// bytes of torn tail follow them (zero when the log ends with a whole frame).
struct parsed_log {
  std::map<std::string, std::vector<std::byte>, std::less<>> records;
  std::uint64_t end = 0;
  std::uint64_t torn = 0;
};

/// Parses a log's bytes (`path` names it in messages). Throws corrupt_store_error on damage.
inline parsed_log parse_log(std::span<const std::byte> data, const std::string& path) {
  parsed_log log;
  // Everything from content_end on is zeros: a torn write over zeros ends before it.
  std::size_t content_end = data.size();
  while (content_end != 0 && data[content_end - 1] == std::byte{0}) --content_end;
  std::size_t at = 0;
  auto read_u = [&](std::size_t from, std::size_t width) {
    std::uint64_t v = 0;
    for (std::size_t i = width; i-- > 0;) v = v << 8 | static_cast<std::uint64_t>(data[from + i]);
    return v;
  };
  // The key of a frame whose body starts at `body` and has `size` bytes, when it can be read.
  auto key_of = [&](std::size_t body, std::uint64_t size) -> std::string {
    if (size < 2 || body + 2 > data.size()) return {};
    const auto k = static_cast<std::size_t>(read_u(body, 2));
    if (k == 0 || 2 + k > size || body + 2 + k > data.size()) return {};
    std::string key(reinterpret_cast<const char*>(data.data() + body + 2), k);
    const bool printable = std::all_of(key.begin(), key.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x20; });
    return printable ? key : std::string{};
  };
  auto damage = [&](const std::string& what, const std::string& key = {}) {
    return corrupt_store_error("lightflow: corrupt checkpoint log " + path + " at offset " + std::to_string(at) +
                               (key.empty() ? std::string() : " (the frame of record \"" + key + "\")") + ": " + what +
                               "; the log was left as it is");
  };
  // Whether the frame at `at` starts with `marker`: all four bytes, or (a marker torn over zeros or
  // cut short) as many as there are before the zeros or the end.
  auto starts_with = [&](std::string_view marker) {
    const std::size_t n = std::min<std::size_t>(4, content_end - at);
    return std::equal(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n),
                      reinterpret_cast<const std::byte*>(marker.data()));
  };
  while (at < data.size()) {
    if (at >= content_end) break;  // zeros to the end
    const std::size_t left = data.size() - at;
    const bool v2 = starts_with(frame_marker);
    const bool v1 = !v2 && starts_with(frame_marker_v1);
    if (!v1 && !v2) {
      if (at == 0)
        throw corrupt_store_error("lightflow: " + path +
                                  " is not a lightflow checkpoint log (no frame marker at offset 0); it was left as it is");
      throw damage("bad frame marker");
    }
    const std::size_t header = v2 ? frame_header_size : frame_header_size_v1;
    if (left < header || content_end < at + header) break;  // a header cut short by the end or by zeros
    const std::uint64_t body = v2 ? read_u(at + 4, 8) : read_u(at + 4, 4);
    if (v2 && static_cast<std::uint32_t>(read_u(at + 12, 4)) != crc32(data.subspan(at, 12)))
      throw damage("frame header checksum mismatch");
    const std::size_t body_at = at + header;
    if (body > left - header || frame_trailer_size > left - header - body) {  // goes past the end
      if (v1) {
        // A format-1 header cannot vouch for its length: a frame after it means the length is damaged.
        const auto rest = data.subspan(at + 1);
        const auto marker = std::as_bytes(std::span(frame_marker_v1.data(), 4));
        if (std::search(rest.begin(), rest.end(), marker.begin(), marker.end()) != rest.end())
          throw damage("frame length runs past the end of the log, over frames that follow it");
      }
      break;  // the last frame was cut short
    }
    const std::size_t frame_end = body_at + static_cast<std::size_t>(body) + frame_trailer_size;
    const auto frame = data.subspan(body_at, static_cast<std::size_t>(body));
    if (static_cast<std::uint32_t>(read_u(frame_end - 4, 4)) != crc32(frame)) {
      if (content_end < frame_end) break;  // the last frame, torn over zeros
      throw damage("checksum mismatch", key_of(body_at, body));
    }
    if (body < 2) throw damage("frame too short");
    const auto key_size = static_cast<std::size_t>(read_u(body_at, 2));
    if (2 + key_size > body) throw damage("key longer than its frame");
    std::string key(reinterpret_cast<const char*>(frame.data() + 2), key_size);
    log.records[key].assign(frame.begin() + static_cast<std::ptrdiff_t>(2 + key_size), frame.end());
    at = frame_end;
  }
  log.end = at;
  log.torn = data.size() - at;
  return log;
}

}  // namespace lightflow::detail

#endif
