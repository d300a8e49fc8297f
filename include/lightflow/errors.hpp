// Every exception lightflow throws. Each derives from `lightflow::error` (catch that for "any
// lightflow error") and from the standard exception that says what kind of mistake it is
// (`std::logic_error`: the program's; `std::runtime_error`: the world's), so `catch (const
// std::exception&)` catches them too. Each message names the flow, step, key or file it is about.
#ifndef LIGHTFLOW_ERRORS_HPP
#define LIGHTFLOW_ERRORS_HPP

#include <cstddef>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/step_status.hpp"

namespace lightflow {

/// The base of every exception lightflow throws. Not itself a std::exception (each concrete error is
/// one, through its standard base), so that catching std::exception stays unambiguous.
class error {
 public:
  /// The message (the same as the standard base's `what()`).
  virtual const char* what() const noexcept = 0;

 protected:
  /// @cond LIGHTFLOW_INTERNAL
  error() = default;
  error(const error&) = default;
  error& operator=(const error&) = default;
  virtual ~error() = default;
  /// @endcond
};

namespace detail {
/// A lightflow error of standard kind `Std`.
template <class Std>
class error_of : public Std, public error {
 public:
  using Std::Std;
  const char* what() const noexcept override { return Std::what(); }
};
}  // namespace detail

/// A flow that cannot run as declared: a duplicate or empty name, an unknown, repeated or self
/// dependency, a cycle (with its path), a bad restriction. Thrown before any step runs; names the
/// steps. (A static flow's are compile errors with the same words.)
class flow_error : public detail::error_of<std::logic_error> {
 public:
  using error_of::error_of;
};

/// A lookup by a step name that is not a step of the flow (`result.status("x")`, `flow.at("x")`).
class unknown_step : public detail::error_of<std::out_of_range> {
 public:
  using error_of::error_of;
};

/// A lookup of something else that is not there: a resource the run was not given.
class not_found : public detail::error_of<std::out_of_range> {
 public:
  using error_of::error_of;
};

/// A call the library cannot serve as made: a handle without a run, a value it cannot encode, a
/// name too long to store.
class usage_error : public detail::error_of<std::logic_error> {
 public:
  using error_of::error_of;
};

/// A key/value read or write that cannot be served: a missing key, a wrong type, a read that two
/// unordered writers make ambiguous, a result that is not the reader's to see. Names the key and step.
class key_error : public detail::error_of<std::logic_error> {
 public:
  using error_of::error_of;
};

/// Bytes that could not be decoded (truncated, malformed, or not what was expected).
class decode_error : public detail::error_of<std::runtime_error> {
 public:
  using error_of::error_of;
};

/// A checkpoint could not be used: a mismatched definition, a corrupt or foreign record, a missing
/// run. Says which run, which step and where. Nothing was overwritten.
class checkpoint_error : public detail::error_of<std::runtime_error> {
 public:
  using error_of::error_of;
};

/// A store could not read or write (disk full, permission, a corrupt file); says which and where.
class store_error : public detail::error_of<std::runtime_error> {
 public:
  using error_of::error_of;
};

/// A store's records are damaged in a way no crash leaves (a flipped bit, an overwritten byte): the
/// store refused them, said where, and left them as they are. `checkpoint_options::discard_stale`
/// erases such a run and starts it afresh; without it the run is refused.
class corrupt_store_error : public store_error {
 public:
  using store_error::store_error;
};

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

namespace detail {
/// A message without its leading "lightflow: ", for a message that embeds it in one of its own.
inline std::string cause_text(std::string text) {
  constexpr std::string_view prefix = "lightflow: ";
  if (std::string_view(text).substr(0, prefix.size()) == prefix) text.erase(0, prefix.size());
  return text;
}
/// `describe(error)` without its leading "lightflow: ".
inline std::string cause_text(const std::exception_ptr& error) { return cause_text(lightflow::describe(error)); }
/// "a" or "an", as `word` (a type's name) wants: "an int", "a double".
inline std::string_view article(std::string_view word) noexcept {
  return !word.empty() && std::string_view("aeiouAEIOU").find(word.front()) != std::string_view::npos ? "an" : "a";
}
/// "a double", "an int".
inline std::string with_article(std::string_view word) { return std::string(article(word)) + " " + std::string(word); }
}  // namespace detail

/// A step threw: carries the step's name and the exception it threw (`cause()`).
class step_error : public detail::error_of<std::runtime_error> {
 public:
  /// Step `step` of flow `flow` threw `cause`.
  step_error(std::string_view flow, std::string_view step, std::exception_ptr cause)
      : error_of("lightflow: step \"" + std::string(step) + "\" of flow \"" + std::string(flow) + "\" failed: " +
                 detail::cause_text(cause)),
        step_(step),
        cause_(std::move(cause)) {}
  /// The step's full name.
  const std::string& step() const noexcept { return step_; }
  /// What the step threw.
  const std::exception_ptr& cause() const noexcept { return cause_; }
  /// Throws what the step threw (to catch it by its own type).
  [[noreturn]] void rethrow_cause() const { std::rethrow_exception(cause_); }

 private:
  std::string step_;
  std::exception_ptr cause_;
};

/// What a map step (map_step.hpp) fails with when elements of it failed, after their retries, or
/// did not run because its run was cancelled: how many it had, each failed one's index and error
/// (in index order), and how many did not run.
class map_error : public detail::error_of<std::runtime_error> {
 public:
  /// One element that failed.
  struct element {
    std::size_t index;         ///< Its place in the map step's input, from 0.
    std::exception_ptr error;  ///< What its last attempt threw.
  };
  /// Of the `count` elements of map step `step`, `failed` (in index order) failed and `not_run` did not run.
  map_error(std::string_view step, std::size_t count, std::vector<element> failed, std::size_t not_run = 0)
      : error_of(text(step, count, failed, not_run)), count_(count), not_run_(not_run), failed_(std::move(failed)) {}
  /// How many elements the map step had.
  std::size_t count() const noexcept { return count_; }
  /// The elements that failed, in index order.
  const std::vector<element>& failed() const noexcept { return failed_; }
  /// How many elements did not run (the run was cancelled meanwhile).
  std::size_t not_run() const noexcept { return not_run_; }

 private:
  static std::string text(std::string_view step, std::size_t count, const std::vector<element>& failed,
                          std::size_t not_run) {
    std::string t = "lightflow: map step \"" + std::string(step) + "\": ";
    if (!failed.empty())
      t += std::to_string(failed.size()) + " of its " + std::to_string(count) + " elements failed; the first, element " +
           std::to_string(failed.front().index) + ": " + detail::cause_text(failed.front().error);
    else
      t += std::to_string(not_run) + " of its " + std::to_string(count) + " elements did not run (its run was cancelled)";
    return t;
  }
  std::size_t count_, not_run_;
  std::vector<element> failed_;
};

/// What a subflow's step (subflow.hpp) fails with when a step of its subflow failed, timed out or
/// was cancelled (its process timed out): names that step and keeps its error (`cause()`, null for a
/// cancelled one).
class subflow_error : public detail::error_of<std::runtime_error> {
 public:
  /// Step `step` of subflow `subflow` ended as `how` says ("failed", "was cancelled"), with `cause`.
  subflow_error(std::string_view subflow, std::string_view step, std::string_view how, std::exception_ptr cause)
      : error_of("lightflow: subflow \"" + std::string(subflow) + "\": its step \"" + std::string(step) + "\" " +
                 std::string(how) + (cause ? ": " + detail::cause_text(cause) : std::string())),
        step_(step),
        cause_(std::move(cause)) {}
  /// The full name of the subflow's step that failed ("outer.parse").
  const std::string& step() const noexcept { return step_; }
  /// What it failed with (null: it did not run).
  const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  std::string step_;
  std::exception_ptr cause_;
};

/// An error read back from a checkpoint, which kept only its message: a failed element's, in the
/// partial results of a map step that keeps going (outcome.hpp).
class restored_error : public detail::error_of<std::runtime_error> {
 public:
  using error_of::error_of;
};

/// What a step that ran past its timeout failed with (its record's error; retry filters see it).
class timeout_error : public detail::error_of<std::runtime_error> {
 public:
  using error_of::error_of;
};

/// What a step fails with when a "must" callback guarding it threw (callback.hpp): says which
/// callback (before-step or after-step) and keeps the callback's exception (`cause()`).
class callback_error : public detail::error_of<std::runtime_error> {
 public:
  /// The must callback at `where` ("before-step", "after-step") of step `step` threw `cause`.
  callback_error(std::string_view where, std::string_view step, std::exception_ptr cause)
      : error_of("lightflow: a must " + std::string(where) + " callback of step \"" + std::string(step) +
                 "\" failed: " + detail::cause_text(cause)),
        cause_(std::move(cause)) {}
  /// What the callback threw.
  const std::exception_ptr& cause() const noexcept { return cause_; }

 private:
  std::exception_ptr cause_;
};

/// `result.get<"x">()` on a step that did not succeed; says which step and what became of it.
class bad_step_access : public detail::error_of<std::logic_error> {
 public:
  /// Step `step` of flow `flow` ended with `status`; `why` (may be empty) says why: its error's
  /// text, or what made it skip.
  bad_step_access(std::string_view flow, std::string_view step, step_status status, const std::string& why)
      : error_of("lightflow: no output for step \"" + std::string(step) + "\" of flow \"" + std::string(flow) +
                         "\": it " +
                         (status == step_status::failed ? "failed" : "was " + std::string(to_string(status))) +
                         (why.empty() ? "" : " (" + why + ")")),
        step_(step),
        status_(status) {}
  /// The step's full name.
  const std::string& step() const noexcept { return step_; }
  /// What became of it.
  step_status status() const noexcept { return status_; }

 private:
  std::string step_;
  step_status status_;
};

}  // namespace lightflow

#endif
