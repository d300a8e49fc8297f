// A progress line for long runs, rewritten in place on a terminal (one line after another in a
// log file or a pipe); a run with map steps counts their elements too:
//   orders: 7341/10000 steps done, 2 failed, 12.4 s
//   nightly: 1/4 steps done, 0 failed; 120/1000 elements done, 3 failed, 12.4 s
//
//   lf::progress_printer progress(std::cerr);
//   pool.run(flow, input, lf::observe(progress));
#ifndef LIGHTFLOW_PROGRESS_HPP
#define LIGHTFLOW_PROGRESS_HPP

#include <unistd.h>  // isatty

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <ostream>
#include <set>
#include <string>

#include "lightflow/observer.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow {

/// How a progress_printer writes its line.
enum class progress_line {
  automatic,  ///< rewritten in place when the stream is a terminal (std::cout, std::cerr or std::clog
              ///< on a tty), else one line after another
  rewrite,    ///< always rewritten in place (a carriage return, a newline only at the end)
  plain,      ///< always one line after another
};

/// Prints steps done / total, failures (and timeouts) so far, the same for the elements of map steps
/// that have started, and the time since the run started, at most every `interval` (and once at the
/// end). Meant for one run at a time.
class progress_printer final : public observer {
 public:
  /// Prints to `out` (which must outlive it) at most every `interval`, in the given mode.
  explicit progress_printer(std::ostream& out, std::chrono::milliseconds interval = std::chrono::milliseconds(200),
                            progress_line mode = progress_line::automatic)
      : out_(&out), interval_(interval),
        rewrite_(mode == progress_line::rewrite || (mode == progress_line::automatic && is_terminal(out))) {}
  /// `rewrite_line`: true as progress_line::rewrite, false as progress_line::plain.
  progress_printer(std::ostream& out, std::chrono::milliseconds interval, bool rewrite_line)
      : progress_printer(out, interval, rewrite_line ? progress_line::rewrite : progress_line::plain) {}

  /// Whether lines go to `out` rewritten in place.
  bool rewrites() const noexcept { return rewrite_; }

  /// True when `out` is the standard output or error stream and that is a terminal.
  static bool is_terminal(const std::ostream& out) noexcept {
    const int fd = &out == &std::cout ? 1 : (&out == &std::cerr || &out == &std::clog) ? 2 : -1;
    return fd >= 0 && ::isatty(fd) == 1;
  }

  /// Starts counting (a new run resets the counts).
  void run_started(const run_event& e) noexcept override {
    std::lock_guard lock(mutex_);
    flow_ = std::string(e.flow);
    total_ = e.steps;
    done_ = failed_ = 0;
    maps_.clear();
    elements_ = elements_done_ = elements_failed_ = 0;
    start_ = last_ = e.time;
  }
  /// Counts a step that ended (not an attempt that will be retried); prints when `interval` passed.
  void step_finished(const step_event& e) noexcept override {
    if (!e.last) return;  // a failed attempt that will be retried is not the step's end
    std::lock_guard lock(mutex_);
    ++done_;
    if (e.status == step_status::failed || e.status == step_status::timed_out) ++failed_;
    if (e.time - last_ >= interval_) {
      last_ = e.time;
      print(e.time, false);
    }
  }
  /// Counts an element that ended (restored, or its last attempt); prints when `interval` passed.
  void element_finished(const element_event& e) noexcept override {
    if (!e.last) return;
    std::lock_guard lock(mutex_);
    try {
      if (maps_.insert(e.index).second) elements_ += e.elements;  // the first of a map step's elements
    } catch (...) {  // no memory: its total goes uncounted
    }
    ++(e.status == step_status::succeeded ? elements_done_ : elements_failed_);
    if (e.time - last_ >= interval_) {
      last_ = e.time;
      print(e.time, false);
    }
  }
  /// Prints the last line.
  void run_finished(const run_event& e) noexcept override {
    std::lock_guard lock(mutex_);
    print(e.time, true);
  }

  /// Steps that ended so far in the current (or last) run.
  std::size_t done() const {
    std::lock_guard lock(mutex_);
    return done_;
  }
  /// Of those, the steps that failed or timed out.
  std::size_t failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }
  /// Elements of map steps that ended so far (restored ones included), and of those, the failed.
  std::size_t elements_done() const {
    std::lock_guard lock(mutex_);
    return elements_done_ + elements_failed_;
  }
  std::size_t elements_failed() const {  ///< Of elements_done(), the failed.
    std::lock_guard lock(mutex_);
    return elements_failed_;
  }

 private:
  void print(std::chrono::steady_clock::time_point now, bool last) noexcept {
    try {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f s", std::chrono::duration<double>(now - start_).count());
      std::string line = flow_ + ": " + std::to_string(done_) + "/" + std::to_string(total_) + " steps done, " +
                         std::to_string(failed_) + " failed";
      if (elements_ != 0)
        line += "; " + std::to_string(elements_done_ + elements_failed_) + "/" + std::to_string(elements_) +
                " elements done, " + std::to_string(elements_failed_) + " failed";
      line += ", " + std::string(seconds);
      if (rewrite_)
        *out_ << '\r' << line << (last ? "\n" : "") << std::flush;
      else
        *out_ << line << '\n' << std::flush;
    } catch (...) {  // a stream that throws: no progress line
    }
  }

  std::ostream* out_;
  std::chrono::milliseconds interval_;
  bool rewrite_;
  mutable std::mutex mutex_;
  std::string flow_;
  std::size_t total_ = 0, done_ = 0, failed_ = 0;
  std::set<std::uint32_t> maps_;  // the map steps whose elements are counted
  std::size_t elements_ = 0, elements_done_ = 0, elements_failed_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace lightflow

#endif
