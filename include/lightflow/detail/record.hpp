// A checkpoint record: what lightflow stores for a run's manifest, its input, each step's output,
// and the run's outcome.
//
// Format version 2, little-endian:
//   offset 0   4 bytes  magic "LFCK"
//          4   2        format version (2)
//          6   1        kind: 0 manifest, 1 input, 2 step output, 3 outcome, 4 a map step's element
//                       (a lightflow from before outcomes or elements never reads those records)
//          7   1        flags: bit 0 set when the payload is sealed (checkpoint_options::cipher);
//                       the other bits 0. (Before sealing, a reserved 0: a lightflow of that time
//                       refuses a sealed record as having a non-zero reserved byte.)
//          8   8        fingerprint of the flow definition (FNV-1a 64 of the manifest text)
//         16   4        the user's version number
//         20   8        the run: FNV-1a 64 of its id
//         28   8        the run's nonce: random, made when the run started afresh (0: a run begun by
//                       format 1, whose records carry none)
//         36   4        length N of the step name (0 for the manifest and the input)
//         40   N        the step name, UTF-8
//     40 + N   8        length M of the payload
//     48 + N   M        payload: the serializer's bytes (the manifest's text for kind 0; for kind 3,
//                       the run's state as one byte, 0 in progress, 1 succeeded, 2 failed, then
//                       when it first started and when it last ended (0: it has not), each an int64
//                       of nanoseconds since the Unix epoch; for kind 4, the element's index and
//                       the map's element count, each a uint64, then the serializer's bytes of the
//                       element's result), or, when sealed, what the cipher made
//                       of them
// 48 + N + M   4        CRC-32 of every byte before it
// Format 1 (read only): the same without the run and its nonce (offsets 20 to 35).
#ifndef LIGHTFLOW_DETAIL_RECORD_HPP
#define LIGHTFLOW_DETAIL_RECORD_HPP

#if __has_include(<sys/random.h>)
#include <sys/random.h>
#endif

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/detail/crc32.hpp"
#include "lightflow/detail/fnv1a.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow::detail {

enum class record_kind : std::uint8_t { manifest = 0, input = 1, step_output = 2, outcome = 3, element = 4 };

/// The run a record belongs to: its id's hash and the nonce made when it started.
struct run_binding {
  std::uint64_t run = 0;
  std::uint64_t nonce = 0;
  friend bool operator==(const run_binding&, const run_binding&) = default;
};

struct record {
  std::uint16_t format = 2;
  record_kind kind = record_kind::step_output;
  std::uint64_t fingerprint = 0;
  std::uint32_t version = 0;
  run_binding binding;  // format 1: none (zeros)
  std::string step;
  std::vector<std::byte> payload;
  bool sealed = false;  // the payload is sealed (flags bit 0)
};

inline constexpr std::uint16_t record_format = 2;

/// Encodes a record into `out` (cleared first, its capacity reused).
inline void encode_record_into(std::vector<std::byte>& out, record_kind kind, std::uint64_t fingerprint,
                               std::uint32_t version, run_binding binding, std::string_view step,
                               std::span<const std::byte> payload, bool sealed = false) {
  if (step.size() > 0xffffffffu) throw usage_error("lightflow: a step name of 4 GiB or more");
  out.clear();
  out.reserve(52 + step.size() + payload.size());
  binary_writer w(out);
  w.bytes("LFCK", 4);
  w.integer(record_format);
  w.integer(static_cast<std::uint8_t>(kind));
  w.integer(static_cast<std::uint8_t>(sealed ? 1 : 0));
  w.integer(fingerprint);
  w.integer(version);
  w.integer(binding.run);
  w.integer(binding.nonce);
  w.integer(static_cast<std::uint32_t>(step.size()));
  w.bytes(step.data(), step.size());
  w.integer(static_cast<std::uint64_t>(payload.size()));
  w.bytes(payload.data(), payload.size());
  w.integer(crc32(out));
}

inline std::vector<std::byte> encode_record(record_kind kind, std::uint64_t fingerprint, std::uint32_t version,
                                            run_binding binding, std::string_view step,
                                            std::span<const std::byte> payload, bool sealed = false) {
  std::vector<std::byte> out;
  encode_record_into(out, kind, fingerprint, version, binding, step, payload, sealed);
  return out;
}

/// Decodes a record; throws decode_error saying what is wrong with it.
inline record decode_record(std::span<const std::byte> bytes) {
  if (bytes.size() < 36) throw decode_error("truncated record (" + std::to_string(bytes.size()) + " bytes)");
  binary_reader r(bytes.first(bytes.size() - 4));
  char magic[4];
  r.bytes(magic, 4);
  if (std::string_view(magic, 4) != "LFCK") throw decode_error("not a lightflow checkpoint record (bad magic)");
  binary_reader tail(bytes.last(4));
  const auto stored_crc = tail.integer<std::uint32_t>();
  if (stored_crc != crc32(bytes.first(bytes.size() - 4))) throw decode_error("record checksum mismatch (corrupt record)");
  const auto format = r.integer<std::uint16_t>();
  if (format != 1 && format != record_format)
    throw decode_error("record format " + std::to_string(format) + " is not supported (this lightflow reads formats 1 and " +
                       std::to_string(record_format) + "; a newer lightflow wrote it)");
  if (format == 2 && bytes.size() < 52) throw decode_error("truncated record (" + std::to_string(bytes.size()) + " bytes)");
  record rec;
  rec.format = format;
  const auto kind = r.integer<std::uint8_t>();
  if (kind > 4) throw decode_error("unknown record kind " + std::to_string(kind));
  rec.kind = static_cast<record_kind>(kind);
  const auto flags = r.integer<std::uint8_t>();
  if (flags > 1 || (format == 1 && flags != 0)) throw decode_error("record has unknown flags " + std::to_string(flags));
  rec.sealed = flags == 1;
  rec.fingerprint = r.integer<std::uint64_t>();
  rec.version = r.integer<std::uint32_t>();
  if (format == 2) {
    rec.binding.run = r.integer<std::uint64_t>();
    rec.binding.nonce = r.integer<std::uint64_t>();
  }
  rec.step.resize(r.size32());
  r.bytes(rec.step.data(), rec.step.size());
  const auto m = r.integer<std::uint64_t>();
  if (m != r.remaining()) throw decode_error("record payload length does not match the record's size");
  rec.payload.resize(static_cast<std::size_t>(m));
  r.bytes(rec.payload.data(), rec.payload.size());
  return rec;
}

/// What a run's outcome record holds: its state, when it first started and when it last ended.
struct outcome {
  enum state_t : std::uint8_t { in_progress = 0, succeeded = 1, failed = 2 };
  state_t state = in_progress;
  std::int64_t started = 0;  // ns since the Unix epoch
  std::int64_t ended = 0;    // ns since the Unix epoch; 0 while in progress
};
/// The wall clock, as outcome records hold it.
inline std::int64_t wall_clock_now() noexcept {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
}
inline std::vector<std::byte> encode_outcome(const outcome& o) {
  std::vector<std::byte> out;
  binary_writer w(out);
  w.integer(static_cast<std::uint8_t>(o.state));
  w.integer(o.started);
  w.integer(o.ended);
  return out;
}
/// Throws decode_error when `payload` is not an outcome.
inline outcome decode_outcome(std::span<const std::byte> payload) {
  binary_reader r(payload);
  outcome o;
  const auto state = r.integer<std::uint8_t>();
  if (state > 2) throw decode_error("unknown run state " + std::to_string(state));
  o.state = static_cast<outcome::state_t>(state);
  o.started = r.integer<std::int64_t>();
  o.ended = r.integer<std::int64_t>();
  if (r.remaining() != 0) throw decode_error("unexpected bytes after the run's outcome");
  return o;
}

/// A run's nonce: never 0; 64 bits of the system's entropy (getrandom, once per thread) mixed with a
/// process-wide counter and the clock, so that no two runs share one.
inline std::uint64_t make_nonce() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local const std::uint64_t seed = [] {
    std::uint64_t bits = reinterpret_cast<std::uintptr_t>(&counter);  // differs between processes (ASLR)
#if __has_include(<sys/random.h>)
    std::uint64_t entropy = 0;
    if (::getrandom(&entropy, sizeof entropy, 0) == static_cast<ssize_t>(sizeof entropy)) bits ^= entropy;
#endif
    return bits;
  }();
  std::uint64_t z = seed ^ (counter.fetch_add(1, std::memory_order_relaxed) * 0x9e3779b97f4a7c15ull) ^
                    static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;  // splitmix64's finalizer
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return z == 0 ? 1 : z;
}

}  // namespace lightflow::detail

#endif
