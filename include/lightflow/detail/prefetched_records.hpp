// A run's records read at once as its checkpoint opens, from a store that offers it: an optional
// store member `std::vector<std::pair<std::string, std::vector<std::byte>>> load_all(flow, run)`
// (postgres_store: one query instead of one per record). store_session reads through it while the
// run opens; other stores are read key by key.
#ifndef LIGHTFLOW_DETAIL_PREFETCHED_RECORDS_HPP
#define LIGHTFLOW_DETAIL_PREFETCHED_RECORDS_HPP

#include <concepts>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lightflow::detail {

template <class Store>
concept loads_all = requires(Store& s) {
  { s.load_all(std::string_view{}, std::string_view{}).front().first } -> std::convertible_to<std::string>;
};

class prefetched_records {
 public:
  /// Reads run (flow, run)'s records, if `store` can read them at once; else nothing changes.
  template <class Store>
  void fill(Store& store, std::string_view flow, std::string_view run) {
    if constexpr (loads_all<Store>) {
      records_.emplace();
      for (auto& [key, bytes] : store.load_all(flow, run)) (*records_)[key] = std::move(bytes);
    }
  }
  void clear() noexcept { records_.reset(); }
  bool filled() const noexcept { return records_.has_value(); }
  /// Record `key` (filled() only).
  std::optional<std::vector<std::byte>> find(const std::string& key) const {
    const auto found = records_->find(key);
    if (found == records_->end()) return std::nullopt;
    return found->second;
  }
  /// The records' keys (filled() only).
  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& entry : *records_) out.push_back(entry.first);
    return out;
  }

 private:
  std::optional<std::map<std::string, std::vector<std::byte>>> records_;
};

}  // namespace lightflow::detail

#endif
