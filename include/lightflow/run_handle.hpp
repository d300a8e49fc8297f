// A run started with `executor::submit`: wait for it, cancel it, take its result.
#ifndef LIGHTFLOW_RUN_HANDLE_HPP
#define LIGHTFLOW_RUN_HANDLE_HPP

#include <cstddef>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "lightflow/detail/program.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/scheduler.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/run_result.hpp"

namespace lightflow {

/// Owns a run in flight. Destroying a handle waits for its run (it does not cancel it).
template <class Flow, class Input>
class run_handle {
  using state_type = typename detail::program<Flow>::template state<Input>;
  using result_type = typename detail::program<Flow>::template result<Input>;

 public:
  /// @cond LIGHTFLOW_INTERNAL
  run_handle(state_type* run, detail::scheduler* sched) noexcept : run_(run), sched_(sched) {}
  /// @endcond
  /// Takes over `other`'s run; `other` is no longer valid.
  run_handle(run_handle&& other) noexcept
      : run_(std::exchange(other.run_, nullptr)), sched_(std::exchange(other.sched_, nullptr)) {}
  /// Waits for its own run (if any), then takes over `other`'s.
  run_handle& operator=(run_handle&& other) noexcept {
    if (this != &other) {
      reset();
      run_ = std::exchange(other.run_, nullptr);
      sched_ = std::exchange(other.sched_, nullptr);
    }
    return *this;
  }
  ~run_handle() { reset(); }

  /// False after get() or a move.
  bool valid() const noexcept { return run_ != nullptr; }
  /// True once the run has ended.
  bool done() const noexcept { return run_->done(); }
  /// Blocks until the run ends; a thread of the executor (or a free guest slot) works meanwhile.
  /// (A handle may outlive its executor: the executor's destructor ends every run, so the executor
  /// is never touched after it.)
  void wait() const noexcept {
    if (!run_->done()) sched_->wait_for(*run_);
  }
  /// Steps not yet started will be marked cancelled; running steps see their stop token set.
  void cancel() noexcept { run_->cancel(); }
  /// Running steps finish; no other step starts until resume() (cancel, stop or the executor's
  /// destruction resume it too, to end it).
  void pause() { run_->pause(); }
  /// Lets a paused run go on.
  void resume() noexcept { run_->resume(); }
  /// Whether it is paused.
  bool paused() const noexcept { return run_->paused(); }
  /// How many steps are ready and wait for resume().
  std::size_t waiting() const { return run_->parked(); }
  /// Ends the run: steps not started are marked stopped, running ones see their stop token set.
  /// With a checkpoint, `executor::resume` continues it later.
  void stop() noexcept { run_->stop(); }
  /// Pauses one namespace of a merged flow, a process (process.hpp): its steps that have not started
  /// wait for resume(name) (or stop(name), or the run's end); the rest of the run goes on. Throws
  /// unknown_step when the flow has no such namespace.
  void pause(std::string_view name) { detail::process_table::pause(*run_, name); }
  /// Lets a paused namespace go on.
  void resume(std::string_view name) { detail::process_table::resume(*run_, name); }
  /// Whether the namespace is paused.
  bool paused(std::string_view name) const {
    return detail::process_table::has(*run_, name, detail::process_entry::paused);
  }
  /// How many ready steps of the namespace wait for resume(name).
  std::size_t waiting(std::string_view name) const { return detail::process_table::held(*run_, name); }
  /// Ends one namespace: its steps not started are marked stopped (running ones finish), so that
  /// their dependents are skipped; the rest of the run goes on.
  void stop(std::string_view name) { detail::process_table::stop(*run_, name); }
  /// Waits, then hands over the result; the handle is no longer valid.
  result_type get() {
    if (run_ == nullptr) throw usage_error("lightflow: run_handle::get() on a handle without a run");
    wait();
    return result_type(std::exchange(run_, nullptr));
  }

 private:
  void reset() noexcept {
    if (run_ != nullptr) {
      wait();
      std::exchange(run_, nullptr)->release();
    }
  }
  state_type* run_;
  detail::scheduler* sched_;
};

}  // namespace lightflow

#endif
