// A Chrome trace of runs: one slice per step attempt (and per attempt of each element of a map step,
// named "step[element]"), on the row of the worker thread that ran it.
// Load the JSON in https://ui.perfetto.dev or chrome://tracing.
//
//   lf::trace_recorder trace;
//   auto result = pool.run(flow, input, lf::observe(trace));
//   std::ofstream("run.json") << trace.chrome_trace();
#ifndef LIGHTFLOW_TRACE_HPP
#define LIGHTFLOW_TRACE_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "lightflow/observer.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow {

namespace detail {
/// `s` as a JSON string literal.
inline std::string json_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;  // UTF-8 passes through
        }
    }
  }
  return out + "\"";
}
}  // namespace detail

/// An observer that records every step attempt (and element attempt) of the runs it observes
/// (thread-safe).
class trace_recorder final : public observer {
 public:
  /// slice::element of a step's attempt.
  static constexpr std::size_t no_element = static_cast<std::size_t>(-1);
  /// One attempt of one step, or of one element of a map step.
  struct slice {
    std::string flow;     ///< The flow's name.
    std::uint64_t run_id;  ///< The run's number.
    std::string step;     ///< The step's full name.
    unsigned attempt;     ///< 1 for the first.
    unsigned worker;      ///< The thread that ran it (step_event::worker).
    step_status status;   ///< What became of the attempt.
    std::chrono::steady_clock::time_point start;  ///< When it started.
    std::chrono::steady_clock::time_point end;    ///< When it ended.
    std::size_t element = no_element;             ///< The element's index, for an element's attempt.
  };

  trace_recorder() : origin_(std::chrono::steady_clock::now()) {}

  /// Notes the attempt's start.
  void step_started(const step_event& e) noexcept override {
    std::lock_guard lock(mutex_);
    try {
      open_[{e.run_id, e.index, e.attempt, no_element}] = e.time;
    } catch (...) {  // no memory: this attempt goes unrecorded
    }
  }
  /// Records the attempt (steps that did not run have no slice).
  void step_finished(const step_event& e) noexcept override {
    if (e.attempt == 0) return;  // a step that did not run has no slice
    std::lock_guard lock(mutex_);
    try {
      auto it = open_.find({e.run_id, e.index, e.attempt, no_element});
      if (it == open_.end()) return;
      slices_.push_back({std::string(e.flow), e.run_id, std::string(e.step), e.attempt, e.worker, e.status, it->second, e.time});
      open_.erase(it);
    } catch (...) {
    }
  }
  /// Notes an element's attempt's start.
  void element_started(const element_event& e) noexcept override {
    std::lock_guard lock(mutex_);
    try {
      open_[{e.run_id, e.index, e.attempt, e.element}] = e.time;
    } catch (...) {
    }
  }
  /// Records the element's attempt (a restored element has no slice).
  void element_finished(const element_event& e) noexcept override {
    if (e.attempt == 0) return;
    std::lock_guard lock(mutex_);
    try {
      auto it = open_.find({e.run_id, e.index, e.attempt, e.element});
      if (it == open_.end()) return;
      slices_.push_back({std::string(e.flow), e.run_id, std::string(e.step), e.attempt, e.worker, e.status, it->second,
                         e.time, e.element});
      open_.erase(it);
    } catch (...) {
    }
  }

  /// The attempts recorded so far, in the order they ended.
  std::vector<slice> slices() const {
    std::lock_guard lock(mutex_);
    return slices_;
  }

  /// The Chrome trace event format (JSON): a complete ("X") event per attempt, with the run, the
  /// attempt (and an element's index) and the status in its args; a thread-name event per worker. Times in µs from the
  /// recorder's creation.
  std::string chrome_trace() const {
    std::lock_guard lock(mutex_);
    std::string out = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
    bool first = true;
    std::set<unsigned> workers;
    auto micros = [&](std::chrono::steady_clock::time_point t) {
      return std::to_string(std::chrono::duration<double, std::micro>(t - origin_).count());
    };
    for (const slice& s : slices_) {
      workers.insert(s.worker);
      out += first ? "\n" : ",\n";
      first = false;
      const bool element = s.element != no_element;
      const std::string name = element ? s.step + "[" + std::to_string(s.element) + "]" : s.step;
      out += "{\"name\":" + detail::json_quoted(name) + ",\"cat\":" + detail::json_quoted(s.flow) +
             ",\"ph\":\"X\",\"pid\":1,\"tid\":" + std::to_string(s.worker) + ",\"ts\":" + micros(s.start) +
             ",\"dur\":" + std::to_string(std::chrono::duration<double, std::micro>(s.end - s.start).count()) +
             ",\"args\":{\"run\":" + std::to_string(s.run_id) + ",\"attempt\":" + std::to_string(s.attempt) +
             (element ? ",\"element\":" + std::to_string(s.element) : std::string()) +
             ",\"status\":" + detail::json_quoted(to_string(s.status)) + "}}";
    }
    for (unsigned w : workers) {
      out += first ? "\n" : ",\n";
      first = false;
      out += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(w) +
             ",\"args\":{\"name\":\"lightflow worker " + std::to_string(w) + "\"}}";
    }
    return out + "\n]}\n";
  }

 private:
  std::chrono::steady_clock::time_point origin_;
  mutable std::mutex mutex_;
  std::map<std::tuple<std::uint64_t, std::uint32_t, unsigned, std::size_t>, std::chrono::steady_clock::time_point> open_;
  std::vector<slice> slices_;
};

}  // namespace lightflow

#endif
