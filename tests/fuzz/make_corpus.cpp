// Writes the seed corpus of the checkpoint fuzzer: a valid record, a valid log, a valid value.
// usage: make_corpus <directory>
#include <lightflow/detail/record.hpp>
#include <lightflow/file_store.hpp>
#include <lightflow/serializer.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace lf = lightflow;

static void write(const std::filesystem::path& p, const std::vector<std::byte>& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  using nested = std::map<std::string, std::vector<std::optional<std::variant<std::int32_t, std::string, double>>>>;
  std::vector<std::byte> value;
  lf::binary_serializer{}.write(nested{{"a", {1, std::string("x"), std::nullopt, 2.5}}, {"b", {}}}, value);
  write(dir / "value", value);
  const auto record = lf::detail::encode_record(lf::detail::record_kind::step_output, 0x1234, 7, {0x55, 0x66}, "step", value);
  write(dir / "record", record);
  const auto tmp = std::filesystem::temp_directory_path() / "lightflow-make-corpus";
  std::filesystem::remove_all(tmp);
  {
    lf::file_store store(tmp, lf::durability::fast);
    store.save("f", "r", "@input", record);
    store.save("f", "r", "step/a", record);
  }
  std::ifstream in(tmp / "f" / "r.log", std::ios::binary);
  std::vector<char> log{std::istreambuf_iterator<char>(in), {}};
  std::vector<std::byte> log_bytes(log.size());
  for (std::size_t i = 0; i != log.size(); ++i) log_bytes[i] = static_cast<std::byte>(log[i]);
  write(dir / "log", log_bytes);
  std::filesystem::remove_all(tmp);
  return 0;
}
