// What a step does beyond calling its callable: retries with backoff, and a condition that may skip
// it. Set per step (`lf::step<"x">(f).retry(...)`, `handle.retry(...)`) or as a flow's default
// (`flow.retry(...)`); the step's own setting wins.
//
//   lf::step<"fetch">(fetch).retry(lf::retry{3, lf::backoff{10ms, 2.0, 1s, 0.5}}.never_on<std::invalid_argument>())
//   lf::step<"notify", "order">(notify).when([](lf::step_context&) { return notifications_on; })
#ifndef LIGHTFLOW_POLICY_HPP
#define LIGHTFLOW_POLICY_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/callback.hpp"
#include "lightflow/config.hpp"

namespace lightflow {

class step_context;  // step_context.hpp (which includes the run machinery that includes this header)
namespace detail {
class limit_state;  // detail/limit_state.hpp (limit.hpp)
}

/// The waits between attempts: `initial`, then multiplied by `factor` after each failure, never more
/// than `cap`; with `jitter` j in [0, 1], each wait is scaled by a random factor in [1 - j, 1].
struct backoff {
  std::chrono::nanoseconds initial{0};                      ///< The first wait.
  double factor = 2.0;                                      ///< Each next wait is this times the last.
  std::chrono::nanoseconds cap = std::chrono::seconds(30);  ///< No wait is longer.
  double jitter = 0.0;                                      ///< The random part, in [0, 1].

  /// No wait.
  constexpr backoff() noexcept = default;
  /// The fields in their order.
  constexpr backoff(std::chrono::nanoseconds initial_wait, double growth = 2.0,
                    std::chrono::nanoseconds longest = std::chrono::seconds(30), double random_part = 0.0) noexcept
      : initial(initial_wait), factor(growth), cap(longest), jitter(random_part) {}

  /// The wait after `failures` failed attempts (1 after the first), before jitter.
  std::chrono::nanoseconds base_delay(unsigned failures) const noexcept {
    double d = static_cast<double>(initial.count());
    for (unsigned k = 1; k < failures && d < static_cast<double>(cap.count()); ++k) d *= factor;
    d = std::min(d, static_cast<double>(cap.count()));
    return std::chrono::nanoseconds(static_cast<std::int64_t>(std::max(d, 0.0)));
  }
  /// The wait after `failures` failed attempts, with jitter drawn from `unit` in [0, 1).
  std::chrono::nanoseconds delay(unsigned failures, double unit) const noexcept {
    const double j = std::clamp(jitter, 0.0, 1.0);
    const double scale = 1.0 - j * std::clamp(unit, 0.0, 1.0);
    return std::chrono::nanoseconds(static_cast<std::int64_t>(static_cast<double>(base_delay(failures).count()) * scale));
  }
};

/// How often a failing step is tried, how long to wait in between, and which exceptions are worth
/// another attempt (by default, all).
class retry {
 public:
  /// `attempts` counts the first one: retry{3} tries a step at most three times.
  explicit retry(unsigned attempts, lightflow::backoff wait = {}) : attempts_(std::max(attempts, 1u)), backoff_(wait) {}

  /// Exceptions of type E (or derived from it) are never retried.
  template <class E>
  retry& never_on() {
    never_.push_back(&is<E>);
    return *this;
  }
  /// Only exceptions of the types named this way are retried.
  template <class E>
  retry& only_on() {
    only_.push_back(&is<E>);
    return *this;
  }
  /// Or any predicate of the exception.
  retry& only_if(std::function<bool(const std::exception_ptr&)> predicate) {
    predicate_ = std::move(predicate);
    return *this;
  }

  /// The most attempts, the first included.
  unsigned attempts() const noexcept { return attempts_; }
  /// The waits between attempts.
  const lightflow::backoff& wait() const noexcept { return backoff_; }
  /// Whether `error` may be retried (attempts left aside).
  bool retries(const std::exception_ptr& error) const {
    if (std::any_of(never_.begin(), never_.end(), [&](auto m) { return m(error); })) return false;
    if (!only_.empty() && std::none_of(only_.begin(), only_.end(), [&](auto m) { return m(error); })) return false;
    return !predicate_ || predicate_(error);
  }

 private:
  template <class E>
  static bool is(const std::exception_ptr& error) {
    try {
      std::rethrow_exception(error);
    } catch (const E&) {
      return true;
    } catch (...) {
      return false;
    }
  }

  unsigned attempts_;
  lightflow::backoff backoff_;
  std::vector<bool (*)(const std::exception_ptr&)> never_, only_;
  std::function<bool(const std::exception_ptr&)> predicate_;
};

/// The run option that limits a whole run: `pool.run(flow, input, lf::run_timeout{5s})`. At the limit
/// the run is cancelled (steps not started are marked cancelled, running ones see their stop token
/// stopped) and its result says timed_out().
struct run_timeout {
  std::chrono::nanoseconds limit;  ///< The longest the run may take, from its start.
};

/// The run option that keeps no start and end times for the steps: `pool.run(flow, input,
/// lf::no_step_times)`. Each step then costs no clock read (~10 ns on the development VM: half of a
/// step that does nothing); its report's start and end are `time_point{}` and failures() lists the
/// failed steps in declaration order. A run with a policy, an observer or a callback keeps its
/// steps' times anyway: they use them.
struct no_step_times_t {
  explicit no_step_times_t() = default;
};
inline constexpr no_step_times_t no_step_times{};  ///< The run option (see no_step_times_t).

/// With `when`: the named dependents still run when the step is skipped; its other descendants do not.
struct skip_dependents {
  /// No exception: every descendant is skipped.
  skip_dependents() = default;
  /// These dependents (their names in the flow) still run.
  skip_dependents(std::initializer_list<std::string> except_these) : except(except_these) {}
  std::vector<std::string> except;  ///< The dependents that still run.
};

/// A step's (or a flow's default) policies. Unset fields fall back to the flow's default.
struct policy {
  std::optional<lightflow::retry> retries;  ///< How a failing step is retried.
  /// Each attempt's time limit: past it, the step's stop token is stopped and, once the callable has
  /// returned, the attempt counts as timed out (its output discarded).
  std::optional<std::chrono::nanoseconds> timeout;
  /// Evaluated when the step's dependencies are done; false skips the step (`skipped_by_condition`).
  std::function<bool(step_context&)> when;
  /// With `when`: also skip every descendant, except `skips->except` (and what follows only them).
  std::optional<lightflow::skip_dependents> skips;
  /// A step's own before/after-step callbacks; a flow's default holds the flow's four lists.
  callback_lists callbacks;
  /// A step's: its output is sealed in checkpoints (checkpoint_options::cipher).
  bool sensitive = false;
  /// A step's: with a checkpoint whose store defers durability, its dependents start only once its
  /// record is durable (flushed on the thread that ran it); a flush that fails fails the step.
  bool durable = false;
  /// A step's: the concurrency limit it runs under (limit.hpp), shared with whatever else names it.
  std::shared_ptr<detail::limit_state> concurrency;
  /// A map step's (map_step.hpp): `retries` and `timeout` apply to each of its elements.
  bool elements = false;
  /// A subflow's step (subflow.hpp): it runs after the subflow's steps, and when one of them failed
  /// it fails too (an lf::subflow_error) instead of being skipped.
  bool subflow = false;

  /// `own`, with the fields it leaves unset taken from `fallback` (a flow's default), and the flow's
  /// step callbacks first in its own lists (a merge keeps a step's flow-level callbacks this way).
  static std::shared_ptr<const policy> inherit(const std::shared_ptr<const policy>& own, const policy* fallback) {
    if (fallback == nullptr) return own;
    const bool retries_from = fallback->retries && !(own && own->retries);
    const bool timeout_from = fallback->timeout && !(own && own->timeout);
    const bool callbacks_from = !fallback->callbacks.before_step.empty() || !fallback->callbacks.after_step.empty();
    if (!retries_from && !timeout_from && !callbacks_from) return own;
    return changed(own, [&](policy& p) {
      if (retries_from) p.retries = fallback->retries;
      if (timeout_from) p.timeout = fallback->timeout;
      const auto& from = fallback->callbacks;
      p.callbacks.before_step.insert(p.callbacks.before_step.begin(), from.before_step.begin(), from.before_step.end());
      p.callbacks.after_step.insert(p.callbacks.after_step.begin(), from.after_step.begin(), from.after_step.end());
    });
  }
  /// The policy of a step that a unify merge keeps (the target's, whose own policy is `own`) when the
  /// source's step of the same name has `from` (with its flow's defaults): the source's retries,
  /// timeout and concurrency limit where `own` has none; both conditions must hold (the target's is
  /// asked first); a `skip_dependents` of either side stays in force (when both have one, the steps
  /// both except still run); the source's step callbacks after the target's; sensitive (durable) when either
  /// is. Whether it is a map step is the target's (its callable is).
  static std::shared_ptr<const policy> unified(const std::shared_ptr<const policy>& own,
                                               const std::shared_ptr<const policy>& from) {
    if (!from) return own;
    if (!own && !from->elements) return from;
    return changed(own, [&](policy& p) {
      if (!p.retries) p.retries = from->retries;
      if (!p.timeout) p.timeout = from->timeout;
      if (!p.concurrency) p.concurrency = from->concurrency;
      p.sensitive = p.sensitive || from->sensitive;
      p.durable = p.durable || from->durable;
      if (from->when && p.when)
        p.when = [first = std::move(p.when), second = from->when](step_context& c) { return first(c) && second(c); };
      else if (from->when)
        p.when = from->when;
      if (from->skips && p.skips) {
        std::erase_if(p.skips->except, [&](const std::string& name) {
          return std::find(from->skips->except.begin(), from->skips->except.end(), name) == from->skips->except.end();
        });
      } else if (from->skips) {
        p.skips = from->skips;
      }
      const auto& more = from->callbacks;
      p.callbacks.before_step.insert(p.callbacks.before_step.end(), more.before_step.begin(), more.before_step.end());
      p.callbacks.after_step.insert(p.callbacks.after_step.end(), more.after_step.begin(), more.after_step.end());
    });
  }
  /// A copy of `p` (or a default policy) changed by `change`: policies are shared, never modified.
  template <class Change>
  static std::shared_ptr<const policy> changed(const std::shared_ptr<const policy>& p, Change&& change) {
    auto copy = p ? std::make_shared<policy>(*p) : std::make_shared<policy>();
    change(*copy);
    return copy;
  }
};

namespace detail {

/// A step's shared, immutable policy as a static flow's step holds it: a `std::shared_ptr<const
/// policy>` whose copy, move and destruction are one test when it is empty (most steps) and one
/// out-of-line call otherwise. A 256-step flow's steps are copied and destroyed several times on
/// their way into the flow, and std::shared_ptr's inline reference counting there was about 2 s of
/// g++ 12's time to compile such a flow.
class policy_ref {
 public:
  policy_ref() noexcept {}
  policy_ref(std::nullptr_t) noexcept {}  // NOLINT: implicit by design
  policy_ref(std::shared_ptr<const policy> p) noexcept {  // NOLINT: implicit by design
    if (p) adopt(p);
  }
  policy_ref(const policy_ref& other) noexcept {
    if (other.raw_ != nullptr) copy_from(other);
  }
  policy_ref(policy_ref&& other) noexcept {
    if (other.raw_ != nullptr) move_from(other);
  }
  policy_ref& operator=(policy_ref other) noexcept {
    if (raw_ != nullptr) drop();
    if (other.raw_ != nullptr) move_from(other);
    return *this;
  }
  ~policy_ref() {
    if (raw_ != nullptr) drop();
  }

  const policy* get() const noexcept { return raw_; }
  const policy* operator->() const noexcept { return raw_; }
  const policy& operator*() const noexcept { return *raw_; }
  explicit operator bool() const noexcept { return raw_ != nullptr; }
  friend bool operator==(const policy_ref& r, std::nullptr_t) noexcept { return r.raw_ == nullptr; }
  /// The shared pointer it holds (empty when it holds none).
  std::shared_ptr<const policy> shared() const { return raw_ != nullptr ? owner_ : nullptr; }

 private:
  LIGHTFLOW_NOINLINE void adopt(std::shared_ptr<const policy>& p) noexcept {
    raw_ = p.get();
    ::new (static_cast<void*>(&owner_)) std::shared_ptr<const policy>(std::move(p));
  }
  LIGHTFLOW_NOINLINE void copy_from(const policy_ref& other) noexcept {
    ::new (static_cast<void*>(&owner_)) std::shared_ptr<const policy>(other.owner_);
    raw_ = other.raw_;
  }
  // Inline, so that the moved-from handle is known to be empty and its destructor folds away. The
  // moved-from (empty) shared pointer is not destroyed: its destructor does nothing ([basic.life]).
  void move_from(policy_ref& other) noexcept {
    ::new (static_cast<void*>(&owner_)) std::shared_ptr<const policy>(std::move(other.owner_));
    raw_ = other.raw_;
    other.raw_ = nullptr;
  }
  LIGHTFLOW_NOINLINE void drop() noexcept {
    owner_.~shared_ptr();
    raw_ = nullptr;
  }

  union {
    std::shared_ptr<const policy> owner_;  // alive exactly when raw_ is not null
  };
  const policy* raw_ = nullptr;
};

/// The policy of a static flow's step that has none of its own (most steps): empty and trivial, so
/// that a step whose callable is trivially copyable is itself trivially copied and destroyed, and a
/// large flow generates no code to move its steps into place or to destroy them (measured: 1.1-1.4
/// s of g++ 12's 9.5 s for a 256-step wavefront). A setter (`.retry(...)`, `.when(...)`, ...) makes
/// a step that holds a policy_ref instead.
struct no_rules {
  constexpr const policy* get() const noexcept { return nullptr; }
  std::shared_ptr<const policy> shared() const noexcept { return nullptr; }
  constexpr explicit operator bool() const noexcept { return false; }
  friend constexpr bool operator==(const no_rules&, std::nullptr_t) noexcept { return true; }
};

}  // namespace detail

}  // namespace lightflow

#endif
