// What a postgres_worker keeps of a run it runs (a whole queued run, or one step of a spread run):
// its handle, whatever the kind of flow, and how it ended in the words of `<schema>.runs` and
// `<schema>.steps`.
#ifndef LIGHTFLOW_DETAIL_WORKER_RUN_HPP
#define LIGHTFLOW_DETAIL_WORKER_RUN_HPP

#include <exception>
#include <string>
#include <utility>

#include "lightflow/errors.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow::detail {

/// True for a store_error other than damage: the database could not be reached, or the claim was
/// lost. Such a run is handed back (queued again, its claim ended), not failed.
inline bool lost_database(const std::exception_ptr& e) {
  if (e == nullptr) return false;
  try {
    std::rethrow_exception(e);
  } catch (const corrupt_store_error&) {
    return false;
  } catch (const store_error&) {
    return true;
  } catch (...) {
    return false;
  }
}

/// How a claim ended here: `state` as `<schema>.runs` spells it ("queued": handed back, its records
/// could not be made durable) or, for a step, as `<schema>.steps` does ("ready": handed back), and
/// why not "succeeded".
struct worker_ending {
  const char* state = "succeeded";
  std::string why;
};

/// A run the worker started.
struct worker_run {
  virtual ~worker_run() = default;
  virtual void cancel() noexcept = 0;
  virtual void wait() noexcept = 0;    // (the waiter's thread; the others, the loop's)
  virtual worker_ending finish() = 0;  // the run has ended: takes its result
};

template <class Handle>
struct worker_run_of final : worker_run {
  explicit worker_run_of(Handle h, std::string s = {}) : handle(std::move(h)), step(std::move(s)) {}
  void cancel() noexcept override {
    if (handle.valid()) handle.cancel();  // (not once finish() took the result)
  }
  void wait() noexcept override { handle.wait(); }
  worker_ending finish() override {
    auto result = handle.get();
    if (step.empty()) {  // a whole run
      if (result.ok()) return {};
      return {lost_database(result.durability_error()) ? "queued" : "failed", result.error_message()};
    }
    // One step of a spread run: its own fate ("ready": not ended here, for another claim).
    if (lost_database(result.durability_error())) return {"ready", result.error_message()};
    const step_status st = result.status(step);
    if (st == step_status::succeeded || st == step_status::skipped_by_condition) return {};
    if (st == step_status::failed || st == step_status::timed_out) return {"failed", result.error_message()};
    return {"ready", "handed back"};
  }
  Handle handle;
  std::string step;  // empty: the run is whole
};

}  // namespace lightflow::detail

#endif
