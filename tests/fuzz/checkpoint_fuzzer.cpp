// libFuzzer target: everything that decodes bytes read back from a checkpoint store. None of it
// may crash, hang, read out of bounds or allocate without bound on any input; what decodes must
// encode back to the same value. The first byte picks what the rest is; checksums are fixed up, so
// that the fuzzer reaches the decoders below them:
//   0  a record (its CRC made right), decoded, and encoded back
//   1  frames made from the input (checksums right), then damaged as the input says, parsed, and
//      each record found in them decoded
//   2  every codec of the binary serializer
//   3  a step record's payload in a real run's log (every checksum and the run binding right): the
//      log is opened by a file_store and both golden flows, static and runtime, are resumed from it
//   4  the input as a whole log file, opened and resumed
//
//   cmake --preset fuzz && cmake --build --preset fuzz
//   ./build/fuzz/tests/fuzz/lightflow_checkpoint_fuzzer -max_total_time=60 build/fuzz/tests/fuzz/corpus
#include <lightflow/detail/log_frame.hpp>
#include <lightflow/detail/record.hpp>
#include <lightflow/lightflow.hpp>
#include <lightflow/serializer.hpp>

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "support/golden_flows.hpp"

namespace lf = lightflow;
namespace fs = std::filesystem;

namespace {

using bytes_t = std::vector<std::byte>;

enum class colour : std::uint16_t { red = 1, green = 2 };

// Reads the input as T; when it decodes, its encoding must decode to the same value (types with
// floating-point members: to the same bytes, since a NaN is not equal to itself).
template <class T, bool bytewise = false>
void round_trip(std::span<const std::byte> in) {
  const lf::binary_serializer s;
  T value;
  try {
    value = s.read<T>(in);
  } catch (const lf::decode_error&) {
    return;
  }
  bytes_t out;
  s.write(value, out);
  const T again = s.read<T>(out);
  if constexpr (bytewise) {
    bytes_t out2;
    s.write(again, out2);
    if (out2 != out) std::abort();
  } else {
    if (!(again == value)) std::abort();
  }
}

void codecs(std::span<const std::byte> in) {
  round_trip<std::vector<std::int32_t>>(in);
  round_trip<std::vector<double>, true>(in);
  round_trip<std::vector<bool>>(in);
  round_trip<std::set<std::int64_t>>(in);
  round_trip<std::deque<std::string>>(in);
  round_trip<std::unordered_map<std::string, std::int16_t>>(in);
  round_trip<std::array<std::uint16_t, 5>>(in);
  round_trip<std::tuple<std::int8_t, std::string, float>, true>(in);
  round_trip<std::pair<char, std::uint64_t>>(in);
  round_trip<colour>(in);
  round_trip<std::wstring>(in);
  round_trip<std::u16string>(in);
  round_trip<std::u32string>(in);
  round_trip<std::vector<std::byte>>(in);
  round_trip<std::optional<std::vector<std::string>>>(in);
  round_trip<std::map<std::string, std::vector<std::optional<std::variant<std::int32_t, std::string, double>>>>, true>(in);
}

void one_record(std::span<const std::byte> in) {
  if (in.size() < 4) return;
  bytes_t fixed(in.begin(), in.end());
  const auto crc = lf::detail::crc32(std::span<const std::byte>(fixed).first(fixed.size() - 4));
  for (int i = 0; i != 4; ++i) fixed[fixed.size() - 4 + static_cast<std::size_t>(i)] = static_cast<std::byte>(crc >> (8 * i) & 0xff);
  lf::detail::record rec;
  try {
    rec = lf::detail::decode_record(fixed);
  } catch (const lf::decode_error&) {
    return;
  }
  if (rec.format != 2) return;  // format 1 is read, never written
  const auto again =
      lf::detail::encode_record(rec.kind, rec.fingerprint, rec.version, rec.binding, rec.step, rec.payload, rec.sealed);
  if (again != fixed) std::abort();
}

// Frames with right checksums: the input is cut into (key, record) pairs by its own length bytes;
// the last 4 bytes, if any, say how to damage the result (offset, and 0 flip / 1 zero the rest /
// 2 cut short).
void frames(std::span<const std::byte> in) {
  bytes_t log;
  std::size_t at = 0;
  while (at + 2 <= in.size()) {
    const std::size_t k = static_cast<std::size_t>(in[at]) % 12, n = static_cast<std::size_t>(in[at + 1]);
    at += 2;
    if (at + k + n > in.size()) break;
    const std::string key(reinterpret_cast<const char*>(in.data() + at), k);
    lf::detail::append_frame(log, key, in.subspan(at + k, n));
    at += k + n;
  }
  if (!log.empty() && at + 3 <= in.size()) {
    const std::size_t where = (static_cast<std::size_t>(in[at]) << 8 | static_cast<std::size_t>(in[at + 1])) % log.size();
    switch (static_cast<int>(in[at + 2]) % 3) {
      case 0: log[where] ^= std::byte{0x10}; break;
      case 1: std::fill(log.begin() + static_cast<std::ptrdiff_t>(where), log.end(), std::byte{0}); break;
      default: log.resize(where); break;
    }
  }
  try {
    const auto parsed = lf::detail::parse_log(log, "fuzz.log");
    if (parsed.end + parsed.torn != log.size()) std::abort();
    for (const auto& [key, record] : parsed.records) {
      try {
        (void)lf::detail::decode_record(record);
      } catch (const lf::decode_error&) {
      }
    }
  } catch (const lf::corrupt_store_error&) {
  }
}

// A real run's logs (input, manifest, steps a and b) of both golden flows, made once per process.
struct templates {
  fs::path dir = fs::temp_directory_path() / ("lightflow-fuzz-" + std::to_string(::getpid()));
  bytes_t static_log, runtime_log;
  lf::executor pool{1};
  templates() {
    fs::remove_all(dir);
    {
      lf::file_store store(dir, lf::durability::fast);
      golden::counters c;
      (void)pool.run(golden::static_flow(c), golden::input, lf::checkpoint{store, "t"});
      (void)pool.run(golden::runtime_flow(c), lf::values{}.set(golden::base, golden::input), lf::checkpoint{store, "t"});
    }
    static_log = read(dir / "golden_static" / "t.log");
    runtime_log = read(dir / "golden_runtime" / "t.log");
  }
  ~templates() { fs::remove_all(dir); }
  static bytes_t read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> chars{std::istreambuf_iterator<char>(in), {}};
    bytes_t out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
  }
  static void write(const fs::path& p, std::span<const std::byte> b) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  // Resumes both flows from the logs now on disk; any refusal is fine, a crash is not.
  void resume() {
    lf::file_store store(dir, lf::durability::fast);
    golden::counters c;
    c.fail = false;
    try {
      (void)pool.resume<int>(golden::static_flow(c), lf::checkpoint{store, "t"});
    } catch (const std::exception&) {
    }
    try {
      (void)pool.resume(golden::runtime_flow(c), lf::checkpoint{store, "t"});
    } catch (const std::exception&) {
    }
  }
};

templates& the_templates() {
  static templates t;
  return t;
}

// The template log with step b's record holding `payload` (every checksum and binding right).
bytes_t with_payload(const bytes_t& log, std::span<const std::byte> payload) {
  const auto parsed = lf::detail::parse_log(log, "template");
  bytes_t out;
  for (const char* key : {"@input", "@manifest", "step/a", "step/b"}) {
    const auto& record = parsed.records.at(key);
    if (std::string_view(key) != "step/b") {
      lf::detail::append_frame(out, key, record);
      continue;
    }
    const auto rec = lf::detail::decode_record(record);
    lf::detail::append_frame(out, key,
                             lf::detail::encode_record(rec.kind, rec.fingerprint, rec.version, rec.binding, rec.step,
                                                       payload, rec.sealed));
  }
  return out;
}

void resume_with_payload(std::span<const std::byte> payload) {
  templates& t = the_templates();
  templates::write(t.dir / "golden_static" / "t.log", with_payload(t.static_log, payload));
  templates::write(t.dir / "golden_runtime" / "t.log", with_payload(t.runtime_log, payload));
  t.resume();
}

void resume_whole_log(std::span<const std::byte> log) {
  templates& t = the_templates();
  templates::write(t.dir / "golden_static" / "t.log", log);
  templates::write(t.dir / "golden_runtime" / "t.log", log);
  t.resume();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0: one_record(in); break;
    case 1: frames(in); break;
    case 2: codecs(in); break;
    case 3: resume_with_payload(in); break;
    default: resume_whole_log(in); break;
  }
  return 0;
}
