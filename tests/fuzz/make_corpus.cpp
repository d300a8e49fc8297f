// Writes the seed corpus of the checkpoint fuzzer: one seed for each of its modes (the first byte).
// usage: make_corpus <directory>
#include <lightflow/detail/log_frame.hpp>
#include <lightflow/detail/record.hpp>
#include <lightflow/file_store.hpp>
#include <lightflow/serializer.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace lf = lightflow;

static void write(const std::filesystem::path& p, std::uint8_t mode, const std::vector<std::byte>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.put(static_cast<char>(mode));
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  using nested = std::map<std::string, std::vector<std::optional<std::variant<std::int32_t, std::string, double>>>>;
  std::vector<std::byte> value;
  lf::binary_serializer{}.write(nested{{"a", {1, std::string("x"), std::nullopt, 2.5}}, {"b", {}}}, value);
  write(dir / "value", 2, value);
  const auto record = lf::detail::encode_record(lf::detail::record_kind::step_output, 0x1234, 7, {0x55, 0x66}, "step", value);
  write(dir / "record", 0, record);
  // Frames: (key length, record length, key, record) pairs, then a damage instruction.
  std::vector<std::byte> pairs;
  for (std::string key : {"@input", "step/a"}) {
    pairs.push_back(static_cast<std::byte>(key.size()));
    pairs.push_back(static_cast<std::byte>(40));
    for (char c : key) pairs.push_back(static_cast<std::byte>(c));
    for (int i = 0; i != 40; ++i) pairs.push_back(record[static_cast<std::size_t>(i)]);
  }
  write(dir / "frames", 1, pairs);
  // Step b's payload: a double for the static flow; a runtime result (flag, type name, bytes, no writes).
  std::vector<std::byte> number;
  lf::binary_serializer{}.write(12.5, number);
  write(dir / "payload_static", 3, number);
  std::vector<std::byte> runtime;
  lf::binary_writer w(runtime);
  w.integer(std::uint8_t{1});
  w(std::string("double"));
  w.size(number.size());
  w.bytes(number.data(), number.size());
  w.size(0);
  write(dir / "payload_runtime", 3, runtime);
  std::vector<std::byte> log;
  lf::detail::append_frame(log, "@input", record);
  lf::detail::append_frame(log, "step/a", record);
  write(dir / "log", 4, log);
  return 0;
}
