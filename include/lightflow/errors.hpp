// Exceptions lightflow throws; each names the step it is about.
#ifndef LIGHTFLOW_ERRORS_HPP
#define LIGHTFLOW_ERRORS_HPP

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include "lightflow/step_status.hpp"

namespace lightflow {

/// The message of an exception_ptr's exception ("unknown exception" when it is not a std::exception).
inline std::string describe(const std::exception_ptr& error) {
  if (!error) return "no exception";
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

/// A step threw: carries the step's name and the exception it threw (`cause()`).
class step_error : public std::runtime_error {
 public:
  step_error(std::string_view flow, std::string_view step, std::exception_ptr cause)
      : std::runtime_error("lightflow: step \"" + std::string(step) + "\" of flow \"" + std::string(flow) +
                           "\" failed: " + describe(cause)),
        step_(step),
        cause_(std::move(cause)) {}
  const std::string& step() const noexcept { return step_; }
  const std::exception_ptr& cause() const noexcept { return cause_; }
  [[noreturn]] void rethrow_cause() const { std::rethrow_exception(cause_); }

 private:
  std::string step_;
  std::exception_ptr cause_;
};

/// What a step that ran past its timeout failed with (its record's error; retry filters see it).
class timeout_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a step fails with when a "must" callback guarding it threw (callback.hpp): says which
/// callback (before-step or after-step) and keeps the callback's exception (`cause()`).
class callback_error : public std::runtime_error {
 public:
  callback_error(std::string_view where, std::string_view step, std::exception_ptr cause)
      : std::runtime_error("lightflow: a must " + std::string(where) + " callback of step \"" + std::string(step) +
                           "\" failed: " + describe(cause)),
        cause_(std::move(cause)) {}
  const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  std::exception_ptr cause_;
};

/// `result.get<"x">()` on a step that did not succeed; says which step and what became of it.
class bad_step_access : public std::logic_error {
 public:
  bad_step_access(std::string_view flow, std::string_view step, step_status status, const std::string& why)
      : std::logic_error("lightflow: no output for step \"" + std::string(step) + "\" of flow \"" + std::string(flow) +
                         "\": it " +
                         (status == step_status::failed ? "failed" : "was " + std::string(to_string(status))) +
                         (why.empty() ? "" : " (" + why + ")")),
        step_(step),
        status_(status) {}
  const std::string& step() const noexcept { return step_; }
  step_status status() const noexcept { return status_; }

 private:
  std::string step_;
  step_status status_;
};

}  // namespace lightflow

#endif
