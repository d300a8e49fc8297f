// Processes, as the Go original has them: a namespace of a merged flow (the steps "payment.*" of
// `lf::merge<"order">(payment, shipping)`, static or runtime) with its own callbacks and time limit,
// given as a run option, and which a running run can pause, resume or stop alone:
//
//   auto run = pool.submit(order, input, lf::process{"payment"}.before(open_till).after(close_till).timeout(2s));
//   run.pause("shipping");  ...  run.resume("shipping");
//   run.get().namespace_status("payment");
//
// A process begins when the first of its steps is about to run: its before callbacks are called
// then, once (other steps of it that become ready meanwhile wait for them), and its time limit starts.
// Its after callbacks are called once every step of it has ended, whatever became of them, unless
// all of them were restored from a checkpoint. The rules of flow callbacks hold (callback.hpp): a
// failing callback is listed in the result's callback_failures(); a must one ends its list; a must
// before callback that throws fails every step of the process that was to run (a callback_error;
// they are not called), a must after callback makes the result not ok(). At the time limit, the
// process's steps that have not started are marked cancelled (running ones finish) and the result
// says timed_out("payment").
#ifndef LIGHTFLOW_PROCESS_HPP
#define LIGHTFLOW_PROCESS_HPP

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lightflow/callback.hpp"

namespace lightflow {

/// The run option that makes a namespace of the flow a process (see the top of this header).
class process {
 public:
  /// The namespace's full name ("payment", or "order.payment" in a merge of merges).
  explicit process(std::string name) : name_(std::move(name)) {}

  /// Called before the process's first step runs, in the order added; its event's `process` is
  /// the namespace, `steps` the process's step count.
  process& before(flow_callback cb) & {
    before_.push_back(std::move(cb));
    return *this;
  }
  /// The same, on a temporary.
  process&& before(flow_callback cb) && { return std::move(before(std::move(cb))); }
  /// Called once every step of the process has ended; its event's `ok` says whether each of them
  /// succeeded (or was skipped by its condition).
  process& after(flow_callback cb) & {
    after_.push_back(std::move(cb));
    return *this;
  }
  /// The same, on a temporary.
  process&& after(flow_callback cb) && { return std::move(after(std::move(cb))); }
  /// The longest the process may take, from its beginning (pauses included).
  process& timeout(std::chrono::nanoseconds limit) & noexcept {
    limit_ = limit;
    return *this;
  }
  /// The same, on a temporary.
  process&& timeout(std::chrono::nanoseconds limit) && noexcept { return std::move(timeout(limit)); }

  /// The namespace's name.
  const std::string& name() const noexcept { return name_; }
  /// The before callbacks, in the order added.
  const std::vector<flow_callback>& before_callbacks() const noexcept { return before_; }
  /// The after callbacks, in the order added.
  const std::vector<flow_callback>& after_callbacks() const noexcept { return after_; }
  /// The time limit, if one was set.
  const std::optional<std::chrono::nanoseconds>& limit() const noexcept { return limit_; }

 private:
  std::string name_;
  std::vector<flow_callback> before_, after_;
  std::optional<std::chrono::nanoseconds> limit_;
};

}  // namespace lightflow

#endif
