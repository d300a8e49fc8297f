// Where checkpoints go: anything that can save, load, list and erase records keyed by flow, run id
// and key. lightflow ships memory_store, file_store and (optional) sqlite_store.
#ifndef LIGHTFLOW_CHECKPOINT_STORE_HPP
#define LIGHTFLOW_CHECKPOINT_STORE_HPP

#include <concepts>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/errors.hpp"

namespace lightflow {

/// A store of checkpoint records. Every member may be called from several threads at once.
/// - save: keeps `bytes` under (flow, run, key), replacing what was there; throws store_error.
/// - flush: makes every record saved so far durable (stores whose saves are durable at once do
///   nothing); `deferred_durability()` says whether a save waits for a flush to be durable. A store
///   that defers must keep a run's records in the order they were saved, and after a crash give
///   back a prefix of them: lightflow lets a step's dependents run (and save) before its record is
///   flushed, and relies on this to never keep a dependent's record without its dependencies'.
/// - load: the bytes under (flow, run, key), or nothing; list: the keys of a run; erase: a whole run.
/// - location: where a run's records live, for error messages (a file, a table, "memory").
/// Optional: `bool prepare(flow, run, std::uint64_t bytes)`, told as a run starts about how many
/// bytes its steps will save (a guess); returning true asks for a flush as soon as the run saves,
/// made while its steps run (file_store: see its prepare()).
/// Optional: `void release(flow, run)`, called once a run has ended and its last flush is done, so
/// that a store can let go of what it holds for the run (file_store: its open log and index).
/// Optional: `std::vector<std::string> runs(flow)`, the ids of the runs the store holds for a flow,
/// which lightflow::runs and lightflow::erase_finished need (stored_runs.hpp).
/// Optional: `std::optional<std::string> failure(flow, run)`, after a flush threw: why that run's
/// records could not be made durable, or nothing when the failure was another run's (so that one
/// broken log fails only its own run). Without it, a failed flush fails every run that waited on it.
/// Optional: `std::vector<std::pair<std::string, std::vector<std::byte>>> load_all(flow, run)`, every
/// record of a run (saved or flushed), which a run's checkpoint reads as it opens instead of one
/// load per record (postgres_store: one query instead of a round trip per record).
template <class S>
concept checkpoint_store = requires(S& s, const S& cs, std::string_view flow, std::string_view run, std::string_view key,
                                    std::span<const std::byte> bytes) {
  s.save(flow, run, key, bytes);
  s.flush();
  { s.load(flow, run, key) } -> std::same_as<std::optional<std::vector<std::byte>>>;
  { s.list(flow, run) } -> std::same_as<std::vector<std::string>>;
  s.erase(flow, run);
  { cs.location(flow, run) } -> std::convertible_to<std::string>;
  { cs.deferred_durability() } -> std::convertible_to<bool>;
};

}  // namespace lightflow

#endif
