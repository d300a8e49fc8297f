// A progress line for long runs, rewritten in place on a terminal:
//   orders: 7,341/10,000 steps done, 2 failed, 12.4 s
//
//   lf::progress_printer progress(std::cerr);
//   pool.run(flow, input, lf::observe(progress));
#ifndef LIGHTFLOW_PROGRESS_HPP
#define LIGHTFLOW_PROGRESS_HPP

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <ostream>
#include <string>

#include "lightflow/observer.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow {

/// Prints steps done / total, failures (and timeouts) so far and the time since the run started, at most every
/// `interval` (and once at the end). Meant for one run at a time.
class progress_printer final : public observer {
 public:
  explicit progress_printer(std::ostream& out, std::chrono::milliseconds interval = std::chrono::milliseconds(200),
                            bool rewrite_line = true)
      : out_(&out), interval_(interval), rewrite_(rewrite_line) {}

  void run_started(const run_event& e) noexcept override {
    std::lock_guard lock(mutex_);
    flow_ = std::string(e.flow);
    total_ = e.steps;
    done_ = failed_ = 0;
    start_ = last_ = e.time;
  }
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
  void run_finished(const run_event& e) noexcept override {
    std::lock_guard lock(mutex_);
    print(e.time, true);
  }

  std::size_t done() const {
    std::lock_guard lock(mutex_);
    return done_;
  }
  std::size_t failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
  }

 private:
  void print(std::chrono::steady_clock::time_point now, bool last) noexcept {
    try {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f s", std::chrono::duration<double>(now - start_).count());
      std::string line = flow_ + ": " + std::to_string(done_) + "/" + std::to_string(total_) + " steps done, " +
                         std::to_string(failed_) + " failed, " + seconds;
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
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace lightflow

#endif
