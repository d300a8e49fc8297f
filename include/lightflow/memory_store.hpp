// A checkpoint store in memory: for tests, and for resuming within one process.
#ifndef LIGHTFLOW_MEMORY_STORE_HPP
#define LIGHTFLOW_MEMORY_STORE_HPP

#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/checkpoint_store.hpp"

namespace lightflow {

/// Keeps records in memory, behind a mutex.
class memory_store {
 public:
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    std::lock_guard lock(mutex_);
    runs_[{std::string(flow), std::string(run)}][std::string(key)].assign(bytes.begin(), bytes.end());
  }
  void flush() noexcept {}
  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) const {
    std::lock_guard lock(mutex_);
    auto r = runs_.find({std::string(flow), std::string(run)});
    if (r == runs_.end()) return std::nullopt;
    auto k = r->second.find(std::string(key));
    if (k == r->second.end()) return std::nullopt;
    return k->second;
  }
  std::vector<std::string> list(std::string_view flow, std::string_view run) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    if (auto r = runs_.find({std::string(flow), std::string(run)}); r != runs_.end())
      for (const auto& [key, bytes] : r->second) keys.push_back(key);
    return keys;
  }
  void erase(std::string_view flow, std::string_view run) {
    std::lock_guard lock(mutex_);
    runs_.erase({std::string(flow), std::string(run)});
  }
  std::string location(std::string_view flow, std::string_view run) const {
    return "memory (flow \"" + std::string(flow) + "\", run \"" + std::string(run) + "\")";
  }
  bool deferred_durability() const noexcept { return false; }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::vector<std::byte>>> runs_;
};

static_assert(checkpoint_store<memory_store>);

}  // namespace lightflow

#endif
