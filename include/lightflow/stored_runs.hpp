/// @file
/// The runs a checkpoint store holds for a flow: their ids, states and times (`lightflow::runs`),
/// and a retention call that erases finished runs older than an age (`lightflow::erase_finished`).
/// Both need a store that lists its runs: a member `std::vector<std::string> runs(std::string_view
/// flow)` (memory_store, file_store and sqlite_store have one).
/// @code
///   for (const lf::stored_run& r : lf::runs(store, "nightly"))
///     if (r.state == lf::run_state::failed) pool.resume<Input>(flow, lf::checkpoint{store, r.id});
///   lf::erase_finished(store, "nightly", std::chrono::hours(24 * 30));   // succeeded a month ago or more
/// @endcode
#ifndef LIGHTFLOW_STORED_RUNS_HPP
#define LIGHTFLOW_STORED_RUNS_HPP

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/checkpoint_store.hpp"
#include "lightflow/detail/record.hpp"
#include "lightflow/detail/store_session.hpp"
#include "lightflow/errors.hpp"

namespace lightflow {

/// What a store says of a run.
enum class run_state {
  in_progress,  ///< started (or resumed) and not ended: running now, or its process died
  succeeded,    ///< ended with every step succeeded (resuming it runs nothing)
  failed,       ///< ended with a step not succeeded (failed, cancelled, stopped, timed out): resumable
  unknown,      ///< no outcome record: begun by a lightflow from before outcomes, or not yet started
};

/// "in progress", "succeeded", "failed" or "unknown".
constexpr std::string_view to_string(run_state s) noexcept {
  switch (s) {
    case run_state::in_progress:
      return "in progress";
    case run_state::succeeded:
      return "succeeded";
    case run_state::failed:
      return "failed";
    case run_state::unknown:
      break;
  }
  return "unknown";
}

/// A run a store holds.
struct stored_run {
  std::string id;                                              ///< its run id (what lightflow::checkpoint takes)
  run_state state = run_state::unknown;                        ///< what it is
  std::chrono::system_clock::time_point started;               ///< when it first started (the epoch when unknown)
  std::optional<std::chrono::system_clock::time_point> ended;  ///< when it last ended (none: it has not)
};

/// A store that lists its runs.
template <class S>
concept run_listing_store = checkpoint_store<S> && requires(S& s, std::string_view flow) {
  { s.runs(flow) } -> std::same_as<std::vector<std::string>>;
};

/// The runs `store` holds for the flow called `flow`, in the store's order, each with its state and
/// times (read from its outcome record; `unknown` when it has none or it is unreadable). Throws
/// store_error as the store does.
template <run_listing_store Store>
std::vector<stored_run> runs(Store& store, std::string_view flow) {
  using std::chrono::system_clock;
  const auto time = [](std::int64_t ns) {
    return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(std::chrono::nanoseconds(ns)));
  };
  std::vector<stored_run> out;
  for (std::string& id : store.runs(flow)) {
    stored_run run{std::move(id), run_state::unknown, {}, std::nullopt};
    if (const auto bytes = store.load(flow, run.id, detail::outcome_key)) {
      try {
        const detail::record rec = detail::decode_record(*bytes);
        if (rec.kind != detail::record_kind::outcome) throw decode_error("not an outcome");
        const detail::outcome o = detail::decode_outcome(rec.payload);
        run.state = o.state == detail::outcome::in_progress ? run_state::in_progress
                    : o.state == detail::outcome::succeeded ? run_state::succeeded
                                                            : run_state::failed;
        run.started = time(o.started);
        if (o.ended != 0) run.ended = time(o.ended);
      } catch (const decode_error&) {  // unknown, as a run without one
      }
    }
    out.push_back(std::move(run));
  }
  return out;
}

/// Erases the runs of flow `flow` that succeeded (and, with `failed_too`, those that failed) and
/// ended at least `older_than` ago; returns how many. Runs in progress, and runs whose state is
/// unknown, are never erased (erase one yourself with the store's erase()). Throws store_error as
/// the store does (the runs erased before stay erased).
template <run_listing_store Store>
std::size_t erase_finished(Store& store, std::string_view flow, std::chrono::nanoseconds older_than,
                           bool failed_too = false) {
  const auto cutoff = std::chrono::system_clock::now() - older_than;
  std::size_t erased = 0;
  for (const stored_run& run : runs(store, flow)) {
    const bool finished = run.state == run_state::succeeded || (failed_too && run.state == run_state::failed);
    if (finished && run.ended && *run.ended <= cutoff) {
      store.erase(flow, run.id);
      ++erased;
    }
  }
  return erased;
}

}  // namespace lightflow

#endif
