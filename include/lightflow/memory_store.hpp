// A checkpoint store in memory: for tests, and for resuming within one process.
#ifndef LIGHTFLOW_MEMORY_STORE_HPP
#define LIGHTFLOW_MEMORY_STORE_HPP

#include <cstddef>
#include <functional>
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
  /// Keeps a copy of `bytes` under (flow, run, key), replacing what was there.
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    std::lock_guard lock(mutex_);
    // The records of the last save's run, remembered: a run saves many records in a row.
    if (last_ == nullptr || flow != last_flow_ || run != last_run_) {
      last_ = &slot(slot(runs_, flow), run);
      last_flow_.assign(flow);
      last_run_.assign(run);
    }
    auto& records = *last_;
    auto it = records.find(key);
    if (it == records.end()) it = records.emplace(std::string(key), std::vector<std::byte>{}).first;
    it->second.assign(bytes.begin(), bytes.end());
  }
  /// Nothing to do: a save is as durable as this store gets at once.
  void flush() noexcept {}
  /// A copy of the bytes under (flow, run, key), or nothing.
  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) const {
    std::lock_guard lock(mutex_);
    const auto* records = find(flow, run);
    if (records == nullptr) return std::nullopt;
    auto it = records->find(key);
    if (it == records->end()) return std::nullopt;
    return it->second;
  }
  /// The keys of run `run` of `flow`, in key order.
  std::vector<std::string> list(std::string_view flow, std::string_view run) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> keys;
    if (const auto* records = find(flow, run))
      for (const auto& [key, bytes] : *records) keys.push_back(key);
    return keys;
  }
  /// The ids of the runs of `flow` that have records, in id order (for lightflow::runs).
  std::vector<std::string> runs(std::string_view flow) const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> ids;
    if (auto f = runs_.find(flow); f != runs_.end())
      for (const auto& [id, records] : f->second)
        if (!records.empty()) ids.push_back(id);
    return ids;
  }
  /// Forgets run `run` of `flow` (nothing when it has no records).
  void erase(std::string_view flow, std::string_view run) {
    std::lock_guard lock(mutex_);
    if (auto f = runs_.find(flow); f != runs_.end())
      if (auto r = f->second.find(run); r != f->second.end()) {
        if (&r->second == last_) last_ = nullptr;
        f->second.erase(r);
      }
  }
  /// "memory (flow "f", run "r")", for messages.
  std::string location(std::string_view flow, std::string_view run) const {
    return "memory (flow \"" + std::string(flow) + "\", run \"" + std::string(run) + "\")";
  }
  /// False: a save needs no flush.
  bool deferred_durability() const noexcept { return false; }

 private:
  using records_t = std::map<std::string, std::vector<std::byte>, std::less<>>;
  using runs_t = std::map<std::string, records_t, std::less<>>;

  // Finds or makes the entry for `name` (allocating only when it is new).
  template <class Map>
  static typename Map::mapped_type& slot(Map& m, std::string_view name) {
    auto it = m.find(name);
    if (it == m.end()) it = m.emplace(std::string(name), typename Map::mapped_type{}).first;
    return it->second;
  }
  const records_t* find(std::string_view flow, std::string_view run) const {
    auto f = runs_.find(flow);
    if (f == runs_.end()) return nullptr;
    auto r = f->second.find(run);
    return r == f->second.end() ? nullptr : &r->second;
  }

  mutable std::mutex mutex_;
  std::map<std::string, runs_t, std::less<>> runs_;
  records_t* last_ = nullptr;  // the records of the last save (std::map nodes do not move)
  std::string last_flow_, last_run_;
};

static_assert(checkpoint_store<memory_store>);

}  // namespace lightflow

#endif
