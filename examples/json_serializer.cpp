// Checkpoints with another serializer: JSON through nlohmann/json (Debian: nlohmann-json3-dev).
// Anything that models lightflow::serializer_for<S, T> can replace the binary serializer; here the
// records' payloads are readable JSON text.
#include <lightflow/lightflow.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace lf = lightflow;

/// Writes values as JSON text; reads them back. Works for every type nlohmann/json can convert.
struct json_serializer {
  static constexpr std::string_view name = "nlohmann-json";

  template <class T>
    requires requires(const T& v, nlohmann::json& j) { j = v; }
  void write(const T& value, std::vector<std::byte>& out) const {
    const std::string text = nlohmann::json(value).dump();
    const auto* p = reinterpret_cast<const std::byte*>(text.data());
    out.insert(out.end(), p, p + text.size());
  }
  template <class T>
    requires requires(const nlohmann::json& j) { j.get<T>(); }
  T read(std::span<const std::byte> in) const {
    try {
      return nlohmann::json::parse(reinterpret_cast<const char*>(in.data()), reinterpret_cast<const char*>(in.data()) + in.size())
          .get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw lf::decode_error(std::string("lightflow: not the JSON of the expected value: ") + e.what());
    }
  }
};

struct Invoice {
  static constexpr std::string_view lightflow_type_name = "billing.invoice";  // its name in checkpoints
  std::string customer;
  std::vector<double> lines;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Invoice, customer, lines)

static_assert(lf::serializer_for<json_serializer, Invoice>);
static_assert(lf::serializer_for<json_serializer, std::map<std::string, int>>);

int main() {
  auto billing = lf::flow<"billing">(
      lf::step<"invoice">([](const std::string& customer) { return Invoice{customer, {19.99, 5.01, 75.0}}; }),
      lf::step<"total", "invoice">([](const Invoice& i) {
        double sum = 0;
        for (double l : i.lines) sum += l;
        return sum;
      }));

  lf::memory_store store;
  lf::executor pool{1};
  auto result = pool.run(billing, std::string("ACME"), lf::checkpoint{store, "march", json_serializer{}});
  std::printf("total: %.2f\n", result.get<"total">());

  // The saved payloads are JSON (after each record's binary header: see detail/record.hpp).
  for (const auto& key : store.list("billing", "march")) {
    if (key == "@manifest") continue;
    const auto record = lf::detail::decode_record(*store.load("billing", "march", key));
    std::printf("%-14s %.*s\n", key.c_str(), static_cast<int>(record.payload.size()),
                reinterpret_cast<const char*>(record.payload.data()));
  }
  auto resumed = pool.resume<std::string>(billing, lf::checkpoint{store, "march", json_serializer{}});
  std::printf("resumed: %zu of %zu steps restored from JSON\n", resumed.restored(), resumed.size());
  return resumed.ok() ? 0 : 1;
}
