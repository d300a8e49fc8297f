// A logger: an observer that puts into words what a run would otherwise only put in its result (a
// failed attempt and its retry, a timeout, a step that fails for good, a callback that throws, a
// checkpoint refused or discarded, records that could not be made durable) and hands each line to a
// callable with its level. Nothing is logged unless one observes: off by default.
//
//   lf::logger log{[](lf::log_level level, std::string_view line) { std::clog << line << '\n'; }};
//   pool.observe(log);                    // every run of the executor (or lf::observe(log) for one run)
//
// lightflow/spdlog.hpp adapts it to an spdlog logger.
#ifndef LIGHTFLOW_LOGGER_HPP
#define LIGHTFLOW_LOGGER_HPP

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "lightflow/errors.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow {

/// The level's name: "debug", "info", "warning", "error".
constexpr std::string_view to_string(log_level level) noexcept {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warning:
      return "warning";
    case log_level::error:
      break;
  }
  return "error";
}

/// An observer that writes what happens in runs as lines, each with its level, to a callable
/// `void(lightflow::log_level, std::string_view)`, for the levels at or above `least`. The callable
/// is called on the threads that run steps, from several at once: make it thread-safe. It must not
/// throw (observers are noexcept: a throw ends the program). Lines start with the flow and the run:
/// `flow "orders" run 3: step "charge" failed on attempt 1: card declined; it will be tried again`.
class logger : public observer {
 public:
  /// The function that receives each line.
  using sink = std::function<void(log_level, std::string_view)>;

  /// Logs to `to` what is at `least` or above.
  explicit logger(sink to, log_level least = log_level::info) : to_(std::move(to)), least_(least) {}

  /// The least level logged.
  log_level least() const noexcept { return least_; }

  /// At debug: the run starts.
  void run_started(const run_event& e) noexcept override {
    if (wants(log_level::debug))
      line(log_level::debug, e, "started (" + std::to_string(e.steps) + (e.steps == 1 ? " step)" : " steps)"));
  }
  /// At debug: an attempt starts.
  void step_started(const step_event& e) noexcept override {
    if (wants(log_level::debug))
      line(log_level::debug, e.flow, e.run_id, step(e) + " attempt " + std::to_string(e.attempt) + " started");
  }
  /// A failed or timed-out attempt: a warning when another follows, an error when it was the last;
  /// at debug, every other end.
  void step_finished(const step_event& e) noexcept override {
    const bool bad = e.attempt != 0 && (e.status == step_status::failed || e.status == step_status::timed_out);
    const log_level level = !bad ? log_level::debug : e.last ? log_level::error : log_level::warning;
    if (!wants(level)) return;
    std::string text = step(e);
    if (!bad) {
      text += e.attempt == 0 ? " " + std::string(to_string(e.status)) + (e.restored ? " (restored)" : "")
                             : " attempt " + std::to_string(e.attempt) + " " + std::string(to_string(e.status));
    } else {
      text += e.status == step_status::timed_out ? " timed out" : " failed";
      if (!e.last || e.attempt > 1) text += " on attempt " + std::to_string(e.attempt);
      text += ": " + detail::cause_text(e.error);
      if (!e.last) text += "; it will be tried again";
    }
    line(level, e.flow, e.run_id, text);
  }
  /// At info, a run that ended ok; a warning for one that did not.
  void run_finished(const run_event& e) noexcept override {
    const log_level level = e.ok ? log_level::info : log_level::warning;
    if (wants(level)) line(level, e, e.ok ? "ended ok" : "ended not ok (its result says why)");
  }
  /// Passes the library's message on.
  void message(const run_event& e, log_level level, std::string_view text) noexcept override {
    if (wants(level)) line(level, e, std::string(text));
  }

 private:
  bool wants(log_level level) const noexcept { return level >= least_; }
  static std::string step(const step_event& e) { return "step \"" + std::string(e.step) + "\""; }
  void line(log_level level, const run_event& e, const std::string& text) const noexcept {
    line(level, e.flow, e.run_id, text);
  }
  void line(log_level level, std::string_view flow, std::uint64_t run, const std::string& text) const noexcept {
    // Run 0: a run refused before it was made (resuming a checkpoint that does not match).
    to_(level, "flow \"" + std::string(flow) + "\"" + (run != 0 ? " run " + std::to_string(run) : std::string()) +
                   ": " + text);
  }

  sink to_;
  log_level least_;
};

}  // namespace lightflow

#endif
