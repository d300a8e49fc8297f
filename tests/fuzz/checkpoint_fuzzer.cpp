// libFuzzer target: everything that decodes bytes read back from a checkpoint store. None of it
// may crash, hang, read out of bounds or allocate without bound on any input; a record that decodes
// must encode back to the same bytes.
//
//   cmake --preset fuzz && cmake --build --preset fuzz
//   ./build/fuzz/tests/fuzz/lightflow_checkpoint_fuzzer -max_total_time=60 build/fuzz/tests/fuzz/corpus
#include <lightflow/detail/record.hpp>
#include <lightflow/file_store.hpp>
#include <lightflow/serializer.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace lf = lightflow;
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);

  try {
    const auto rec = lf::detail::decode_record(bytes);
    const auto again = lf::detail::encode_record(rec.kind, rec.fingerprint, rec.version, rec.step, rec.payload);
    if (again.size() != bytes.size() || !std::equal(again.begin(), again.end(), bytes.begin())) std::abort();
  } catch (const lf::decode_error&) {
  }

  try {
    const auto log = lf::file_store::parse_log(bytes, "fuzz-input");
    if (log.end > size) std::abort();
  } catch (const lf::store_error&) {
  }

  try {
    using nested = std::map<std::string, std::vector<std::optional<std::variant<std::int32_t, std::string, double>>>>;
    (void)lf::binary_serializer{}.read<nested>(bytes);
  } catch (const lf::decode_error&) {
  }
  return 0;
}
