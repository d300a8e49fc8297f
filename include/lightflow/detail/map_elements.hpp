// A map step's elements (map_step.hpp; a runtime flow's map()): its callable runs once per element
// of a range, on the thread that runs the step and on the executor's other threads that are free to
// help, and its output is the vector of the results in input order. One engine for both kinds of
// flow: each front door calls map_elements() from its step's body.
//
// The elements are handed out in chunks from one counter (a million elements cost one counter update
// per chunk, not a task each); helpers are one detached task queued a few times on the step's
// thread's deque, for idle threads to steal (element_job.hpp). The step's thread works on the
// elements too, then waits only for the chunks that helpers are still running. Each element is an
// attempt of its own: the step's retries and time limit apply to each one; every element has its
// chance, and the failures are kept with their index (an lf::map_error), or as outcomes (with
// lf::keep_going). A cancelled run claims no more elements. With a checkpoint, each element that
// succeeds is saved as it does (element_session.hpp), and a resumed run reads the saved ones back
// and runs only the others. Observers are told of each element's attempts, and the run keeps the
// step's element counts for its result.
#ifndef LIGHTFLOW_DETAIL_MAP_ELEMENTS_HPP
#define LIGHTFLOW_DETAIL_MAP_ELEMENTS_HPP

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/detail/checkpoint_session.hpp"
#include "lightflow/detail/element_job.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/scheduler.hpp"
#include "lightflow/detail/step_record.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/outcome.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow::detail {

/// What a map step maps over: a sized range whose elements are reached by index (a std::vector,
/// std::array, std::span, std::deque...), and the type of a reference to one. (Not <ranges>: it
/// costs a program that includes the library about 0.7 s of compile time.)
template <class R>
concept element_range = requires(const R& r) {
  { std::size(r) } -> std::convertible_to<std::size_t>;
  std::begin(r)[std::ptrdiff_t{0}];
};
template <class R>
using element_reference_t = decltype(*std::begin(std::declval<const R&>()));

/// Whether an element callable F takes an element (a const E&), or an element and a std::stop_token.
template <class F, class E>
inline constexpr bool takes_element = requires(const F& f, const E& e) {
  f(e);
};
template <class F, class E>
inline constexpr bool takes_element_and_token = requires(const F& f, const E& e, std::stop_token t) {
  f(e, t);
};

/// What F returns for an element (decayed; void for nothing), when it takes one.
template <class F, class E, bool WithToken = !takes_element<F, E>>
struct element_output {
  using type = std::decay_t<decltype(std::declval<const F&>()(std::declval<const E&>()))>;
};
template <class F, class E>
struct element_output<F, E, true> {
  using type = std::decay_t<decltype(std::declval<const F&>()(std::declval<const E&>(), std::stop_token{}))>;
};

/// A map step's output: the vector of its elements' results (none when they return void), or with
/// lf::keep_going (`Keep`) of their outcomes.
template <class Out>
struct map_result {
  using type = std::vector<Out>;
};
template <>
struct map_result<void> {
  using type = void;
};
template <bool Keep, class Out>
using kept_t = std::conditional_t<Keep, lightflow::outcome<Out>, Out>;  // what an element leaves in the output
template <bool Keep, class Out>
using map_output_t = typename map_result<kept_t<Keep, Out>>::type;

/// The elements of one map step over `Range`, with callable F, each giving an Out (kept in the output
/// as a Kept: the Out, or with lf::keep_going its outcome).
template <class Range, class F, class Out, class Kept>
class typed_elements final : public element_job, element_sink {
  static constexpr bool keep = !std::is_same_v<Out, Kept>;

 public:
  typed_elements(const Range& range, const F& fn, step_context& sc, std::size_t count, std::size_t chunk)
      : element_job(count, chunk, limit_of(sc)),
        range_(range),
        fn_(fn),
        sc_(sc),
        run_(element_access::run(sc)),
        retry_(run_.retries_of(element_access::step(sc))),
        time_limit_(run_.timeout_of(element_access::step(sc))),
        session_(run_.checkpoint()),
        observed_(!run_.observers().empty()) {
    if constexpr (direct)
      results_.resize(count);
    else if constexpr (!std::is_void_v<Kept>)
      results_ = std::make_unique<slot[]>(count);
  }

  /// Before the elements run, in a resumed run: those that an earlier attempt saved are restored and
  /// will not run. Throws checkpoint_error for a record that cannot be used.
  void restore() {
    if (session_ == nullptr || !run_.resumed()) return;
    done_ = std::make_unique<bool[]>(count());
    restored_ = session_->load_elements(run_, element_access::step(sc_), count(), *this);
    if (observed_ && restored_ != 0)
      for (std::size_t i = 0; i != count(); ++i)
        if (done_[i]) tell(false, event(i, 0, step_status::succeeded, nullptr, true));
  }

  /// Once every element has ended: tells the run how many succeeded, failed, were restored or did
  /// not run (its result reports them).
  void tally() noexcept {
    element_counts c;
    c.total = count();
    c.failed = failures_.load(std::memory_order_relaxed);
    c.restored = restored_;
    c.not_run = not_run_.load(std::memory_order_relaxed);
    c.succeeded = c.total - c.failed - c.restored - c.not_run;
    run_.set_elements(element_access::step(sc_), c);
  }

  /// Once every element has ended: the results in order, or the map_error of those that failed (or
  /// the error that kept an element's record from being saved).
  typename map_result<Kept>::type take() {
    if (save_error_ != nullptr) std::rethrow_exception(save_error_);
    if (!failed_.empty() || not_run_.load(std::memory_order_relaxed) != 0) {
      std::sort(failed_.begin(), failed_.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
      throw map_error(sc_.name(), count(), std::move(failed_), not_run_.load(std::memory_order_relaxed));
    }
    if constexpr (direct) {
      return std::move(results_);
    } else if constexpr (!std::is_void_v<Kept>) {
      std::vector<Kept> out;
      out.reserve(count());
      for (std::size_t i = 0; i != count(); ++i) out.push_back(std::move(*results_[i]));
      return out;
    }
  }

 private:
  // Results are written in place into the output vector when Kept can be made empty and assigned
  // (most types: no second pass); else each waits in an optional. Not bool: std::vector<bool> packs
  // its elements into shared words, which threads cannot write apart.
  static constexpr bool direct =
      std::is_default_constructible_v<Kept> && std::is_move_assignable_v<Kept> && !std::is_same_v<Kept, bool>;

  void restored(std::size_t i, void* value) override {
    if constexpr (!std::is_void_v<Kept>) {
      if (value == nullptr) throw decode_error("the record holds no value");
      put(i, std::move(*static_cast<Kept*>(value)));
    }
    done_[i] = true;
  }

  void run_elements(std::size_t first, std::size_t last) noexcept override {
    // Without retries, a time limit, a checkpoint or observers, one attempt each, straight: what
    // run_one would do, but its loop costs about 3 ns more per trivial element (measured with
    // lightflow_bench_map).
    const bool plain = retry_ == nullptr && time_limit_ == nullptr && session_ == nullptr && !observed_;
    for (std::size_t i = first; i != last; ++i) {
      if (run_.cancelled() || (!plain && stop_.load(std::memory_order_relaxed))) {  // the rest does not run
        std::size_t left = 0;
        for (; i != last; ++i) left += done_ != nullptr && done_[i] ? 0 : 1;
        not_run_.fetch_add(left, std::memory_order_relaxed);
        return;
      }
      if (!plain) {
        run_one(i);
      } else {
        try {
          call(i, [this] { return sc_.stop_token(); });
        } catch (...) {
          failed(i, std::current_exception());
        }
      }
    }
  }
  void failed(std::size_t i, std::exception_ptr error) noexcept {
    failures_.fetch_add(1, std::memory_order_relaxed);
    if constexpr (keep) {  // kept in the output (only this thread writes element i)
      put(i, Kept(std::move(error)));
      return;
    }
    std::lock_guard lock(mutex_);
    failed_.push_back({i, std::move(error)});  // no memory to keep it: terminates rather than lose it
  }

  // One element's attempts, as a step's (run_attempts.hpp, whose retry rule it shares): retried while
  // the policy allows, each attempt within the time limit; the last failure is kept. A restored
  // element does not run; one that succeeds is saved.
  void run_one(std::size_t i) noexcept {
    if (done_ != nullptr && done_[i]) return;
    for (unsigned n = 1;; ++n) {
      if (observed_) tell(true, event(i, n, step_status::pending, nullptr, false));
      std::exception_ptr error;
      try {
        attempt(i);
        if (observed_) tell(false, event(i, n, step_status::succeeded, nullptr, true));
        return save(i);
      } catch (...) {
        error = std::current_exception();
      }
      const bool again = retried(run_, retry_, n, error);  // the step path's rule (run_attempts.hpp)
      if (observed_) tell(false, event(i, n, status_of(error), error, !again));
      if (!again || !waited_before_retry(run_, *retry_, n)) return failed(i, std::move(error));
    }
  }

  // What observers are told of element i's attempt n (0: restored).
  element_event event(std::size_t i, unsigned n, step_status status, std::exception_ptr error,
                      bool last) const noexcept {
    const std::uint32_t step = element_access::step(sc_);
    return {run_.graph().flow_name, run_.id(), run_.graph().name(step), step, i, count(), n, current_worker, status,
            std::move(error), n == 0, last, std::chrono::steady_clock::now()};
  }
  void tell(bool starting, const element_event& e) const noexcept {
    for (observer* o : run_.observers()) starting ? o->element_started(e) : o->element_finished(e);
  }
  static step_status status_of(const std::exception_ptr& error) noexcept {
    try {
      std::rethrow_exception(error);
    } catch (const timeout_error&) {
      return step_status::timed_out;
    } catch (...) {
      return step_status::failed;
    }
  }

  void attempt(std::size_t i) {
    if (time_limit_ == nullptr) return call(i, [this] { return sc_.stop_token(); });
    bool returned = false;
    if (run_.within(*time_limit_, [&](std::stop_source& own) {
          call(i, [&own] { return own.get_token(); });
          returned = true;
        })) {
      if constexpr (direct)
        if (returned) results_[i] = Kept();
      if constexpr (!direct && !std::is_void_v<Kept>)
        if (returned) results_[i].reset();
      throw timeout_error("lightflow: element " + std::to_string(i) + " of map step \"" + std::string(sc_.name()) +
                          "\" timed out after " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*time_limit_).count()) +
                          " ms");
    }
  }

  // Saves element i's record (and asks for a flush). A record that cannot be saved stops the map: the
  // step fails with that error.
  void save(std::size_t i) noexcept {
    if (session_ == nullptr) return;
    try {
      const void* value = nullptr;
      if constexpr (direct) value = &results_[i];
      else if constexpr (!std::is_void_v<Kept>) value = &*results_[i];
      session_->save_element(run_, element_access::step(sc_), i, count(), value);
      session_->saved_elsewhere();
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (save_error_ == nullptr) save_error_ = std::current_exception();
      stop_.store(true, std::memory_order_relaxed);
    }
  }

  template <class Token>
  void call(std::size_t i, Token&& token) {
    const auto& element = std::begin(range_)[static_cast<std::ptrdiff_t>(i)];
    const auto invoke = [&]() -> decltype(auto) {
      if constexpr (takes_element<F, decltype(element)>)
        return fn_(element);
      else
        return fn_(element, token());
    };
    if constexpr (std::is_void_v<Kept>) {
      invoke();
    } else if constexpr (keep && std::is_void_v<Out>) {
      invoke();
      put(i, Kept(std::in_place));
    } else if constexpr (keep) {
      put(i, Kept(std::in_place, invoke()));
    } else {
      put(i, invoke());
    }
  }
  template <class V>
  void put(std::size_t i, V&& value) {
    if constexpr (direct)
      results_[i] = std::forward<V>(value);
    else
      results_[i].emplace(std::forward<V>(value));
  }

  const Range& range_;
  const F& fn_;
  step_context& sc_;
  run_state_base& run_;
  const retry* retry_;
  const std::chrono::nanoseconds* time_limit_;
  checkpoint_session* const session_;  // null: the run has no checkpoint
  const bool observed_;                // the run has observers: they are told of each element
  std::unique_ptr<bool[]> done_;       // in a resumed run: the elements restored (they do not run)
  std::size_t restored_ = 0;
  using slot = std::conditional_t<std::is_void_v<Kept>, char, std::optional<Kept>>;
  using slots = std::conditional_t<direct, std::vector<std::conditional_t<direct, Kept, char>>, std::unique_ptr<slot[]>>;
  slots results_;  // each element's result (none when Kept is void)
  std::atomic<std::size_t> not_run_{0};
  std::atomic<std::size_t> failures_{0};
  std::atomic<bool> stop_{false};  // an element's record could not be saved
  std::mutex mutex_;
  std::vector<map_error::element> failed_;  // (mutex_)
  std::exception_ptr save_error_;           // (mutex_; read once every element has ended)
};

/// Runs `fn` on each element of `range` for the map step whose context is `sc`; returns the results
/// in order, or throws the map_error of the elements that failed (or did not run).
template <bool Keep = false, class Range, class F>
auto map_elements(step_context& sc, const Range& range, const F& fn) {
  using element = element_reference_t<Range>;
  using out = typename element_output<F, element>::type;
  const auto count = static_cast<std::size_t>(std::size(range));
  if (count == 0) return map_output_t<Keep, out>();
  const std::size_t width = scheduler::width();
  const std::size_t chunk = std::max<std::size_t>(1, count / (width * 8));  // about 8 chunks a thread
  const std::size_t chunks = (count + chunk - 1) / chunk;
  auto* job = new typed_elements<Range, F, out, kept_t<Keep, out>>(range, fn, sc, count, chunk);
  struct dropper {
    element_job* job;
    ~dropper() { job->drop(); }
  } const own{job};
  job->restore();
  const std::size_t helpers = std::min(width - 1, chunks - 1);
  job->hold(helpers);
  for (std::size_t k = scheduler::share(job, helpers); k != helpers; ++k) job->drop();  // not queued
  job->help();
  job->wait();
  job->tally();
  return job->take();
}

}  // namespace lightflow::detail

#endif
