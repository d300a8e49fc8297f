// The executor: a pool of worker threads that runs flows.
#ifndef LIGHTFLOW_EXECUTOR_HPP
#define LIGHTFLOW_EXECUTOR_HPP

#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/callback.hpp"
#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/policy_setters.hpp"
#include "lightflow/detail/program.hpp"
#include "lightflow/detail/scheduler.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/resource.hpp"
#include "lightflow/run_handle.hpp"
#include "lightflow/run_options.hpp"
#include "lightflow/run_result.hpp"

// Static and runtime flows take one path through the executor: each kind describes itself as a
// detail::program (detail/program.hpp; a runtime flow's in detail/runtime_program.hpp, which
// runtime_flow.hpp includes). This header includes neither runtime flows nor checkpoints: a run with a
// checkpoint needs lightflow/checkpoint.hpp, a runtime flow lightflow/runtime_flow.hpp.

namespace lightflow {

namespace detail {
/// Stands in for a result after a compile error, so that the error is not followed by others.
struct invalid_result {
  template <fixed_string>
  int get() const {
    return 0;
  }
  template <fixed_string>
  step_status status() const {
    return step_status::pending;
  }
  bool ok() const { return false; }
  const char* error_message() const { return ""; }
};

/// True for a kind of flow the executor runs (one with a detail::program).
template <class Flow>
concept runnable = requires { typename program<Flow>::default_input; };

/// True when a run's arguments after the flow begin with its input: the first is not an option.
template <class... Args>
inline constexpr bool has_input = false;
template <class First, class... Rest>
inline constexpr bool has_input<First, Rest...> = !run_option<First>;

/// The input of a run of `Flow` given `Args`: the first argument if it is the input, else the flow's
/// default input (or `Requested` when it is not void: resume's `Input`).
template <class Flow, class Requested, class... Args>
struct run_input {
  using type = std::conditional_t<std::is_void_v<Requested>, typename program<Flow>::default_input, Requested>;
};
template <class Flow, class Requested, class First, class... Rest>
  requires has_input<First, Rest...>
struct run_input<Flow, Requested, First, Rest...> {
  using type = std::decay_t<First>;
};
}  // namespace detail

/// A thread pool that runs flows. A thread blocked in `run` (or in a handle's `wait`) works on ready
/// steps meanwhile, so a small flow run from the calling thread pays no thread wake-up.
///
/// Its defaults reach every run it starts from then on (runs already started keep theirs): `retry`
/// and `timeout` for the steps that neither they nor their flow set (the most specific wins), and
/// callbacks, called before the flow's and the steps' own (see callback.hpp), each list in
/// registration order. They change it in place (detail::edited_policy_setters).
class executor : public detail::edited_policy_setters<executor, true> {
 public:
  /// One worker thread per hardware thread.
  executor() : executor(std::thread::hardware_concurrency()) {}
  /// `workers` worker threads (at least one); the thread that calls `run` works beside them.
  explicit executor(std::size_t workers) : sched_(std::make_unique<detail::scheduler>(workers)) {}
  executor(const executor&) = delete;
  executor& operator=(const executor&) = delete;
  /// Runs still in flight are cancelled (steps not started are marked cancelled, running steps see
  /// their stop token set) and waited for; then the workers stop. Never call it from a step.
  ~executor() = default;

  /// The number of worker threads.
  std::size_t worker_count() const noexcept { return sched_->worker_count(); }

  /// `o` observes every run started from now on (it must outlive them).
  void observe(observer& o) {
    std::lock_guard lock(observers_mutex_);
    observers_.push_back(&o);
    has_observers_.store(true, std::memory_order_release);
  }

  // retry, timeout and the four callbacks: detail::edited_policy_setters (see the class comment).

  /// Runs `flow` (a static or a runtime flow) to its end and returns its result. Arguments: the run's
  /// input (optional; a runtime flow's is a lightflow::values), then options (run_options.hpp). A
  /// runtime flow is checked first (flow_error naming the steps, before any step runs).
  template <class Flow, class... Args>
  [[nodiscard]] auto run(const Flow& flow, Args&&... args) {
    auto* state = start(flow, std::forward<Args>(args)...);
    if constexpr (std::is_same_v<decltype(state), detail::invalid_result*>) {
      return detail::invalid_result{};
    } else {
      sched_->run_here(*state);
      return result_type<Flow, void, Args...>(state);
    }
  }

  /// Starts `flow` and returns a handle to wait on, cancel, pause, or take the result from. A static
  /// flow must outlive the run; a runtime flow's run keeps what it runs.
  template <class Flow, class... Args>
  [[nodiscard]] auto submit(const Flow& flow, Args&&... args) {
    auto* state = start(flow, std::forward<Args>(args)...);
    if constexpr (std::is_same_v<decltype(state), detail::invalid_result*>) {
      return detail::invalid_result{};
    } else {
      sched_->launch(*state);
      return run_handle<Flow, typename detail::run_input<Flow, void, Args...>::type>(state, sched_.get());
    }
  }
  template <class Flow, class... Args>
    requires(!detail::program<Flow>::keeps_flow)
  void submit(const Flow&&, Args&&...) = delete;  // the flow would die before its run

  /// Resumes the run saved under `cp` with the input saved with it: steps with a saved output do not
  /// run. For a static flow, `Input` is the type the run's input had (none for a flow run without
  /// one); a runtime flow's is a lightflow::values. Throws checkpoint_error if there is no such run or
  /// its records do not match the flow.
  template <class Input = void, class Flow, class Checkpoint, class... Options>
    requires detail::is_checkpoint<Checkpoint>
  [[nodiscard]] auto resume(const Flow& flow, const Checkpoint& cp, Options&&... options) {
    if constexpr (!flow_accepted<Flow>()) {
      return detail::invalid_result{};
    } else {
      using input_type = typename detail::run_input<Flow, Input>::type;
      if constexpr (!accepted<Flow, input_type, Checkpoint, Options...>()) {
        return detail::invalid_result{};
      } else {
        input_type input = [&] {
          try {
            return detail::program<Flow>::template load_input<input_type>(flow, cp);
          } catch (...) {
            refused(flow, options...);
            throw;
          }
        }();
        return run(flow, std::move(input), cp, std::forward<Options>(options)...);
      }
    }
  }

 private:
  template <class Flow, class Requested, class... Args>
  using result_type = typename detail::program<Flow>::template result<typename detail::run_input<Flow, Requested, Args...>::type>;

  /// The compile-time checks of a run, for both kinds of flow: first the flow...
  template <class Flow>
  static consteval bool flow_accepted() {
    if constexpr (std::is_same_v<Flow, detail::invalid_flow>) {
      return false;  // flow() has reported the error
    } else if constexpr (!detail::runnable<Flow>) {
      detail::fail<
          "lightflow: executor::run, submit and resume take a flow made by lightflow::flow<\"name\">(steps...) or a "
          "lightflow::runtime_flow, not the type listed after this message",
          offered<Flow>>();
      return false;
    } else {
      return true;
    }
  }
  /// ...then, for a runnable flow, its input and the options.
  template <class Flow, class Input, class... Options>
  static consteval bool accepted() {
    if constexpr (!detail::check_run_options<Options...>()) {
      return false;
    } else if constexpr (!detail::program<Flow>::template accepts<Input>()) {
      return false;
    } else {
      return (checkpoint_accepted<Flow, Input, std::remove_cvref_t<Options>>() && ...);
    }
  }
  template <class Flow, class Input, class Option>
  static consteval bool checkpoint_accepted() {
    if constexpr (detail::is_checkpoint<Option>) return detail::program<Flow>::template accepts_checkpoint<Input, Option>();
    else return true;
  }

  /// The one entry of every run: splits the arguments into input and options, checks them, makes the
  /// run's state, opens its checkpoint, applies its options, and starts its callbacks. Returns the
  /// state (holding one reference for the caller and one for the executor until the run ends), or a
  /// null invalid_result* after a compile error.
  template <class Flow, class... Args>
  auto start(const Flow& flow, Args&&... args) {
    if constexpr (!flow_accepted<Flow>()) {
      return static_cast<detail::invalid_result*>(nullptr);
    } else if constexpr (!detail::has_input<Args...>) {
      using input_type = typename detail::program<Flow>::default_input;
      if constexpr (!accepted<Flow, input_type, Args...>())
        return static_cast<detail::invalid_result*>(nullptr);
      else
        return begin(flow, input_type{}, args...);
    } else {
      return start_with_input(flow, std::forward<Args>(args)...);
    }
  }
  template <class Flow, class Input, class... Options>
  auto start_with_input(const Flow& flow, Input&& input, const Options&... options) {
    if constexpr (!accepted<Flow, std::decay_t<Input>, Options...>())
      return static_cast<detail::invalid_result*>(nullptr);
    else
      return begin(flow, std::decay_t<Input>(std::forward<Input>(input)), options...);
  }
  template <class Flow, class Input, class... Options>
  auto begin(const Flow& flow, Input&& input, const Options&... options) {
    using program = detail::program<Flow>;
    auto* state = program::make(flow, std::move(input), sched_->registry(), sched_->next_run_id());
    try {
      add_observers(*state, options...);
      (declare_process(*state, options), ...);  // may throw (a namespace the flow does not have): nothing stored yet
      try {
        (open_checkpoint<program, Input>(*state, options), ...);  // checks or restores; may throw, before anything runs
      } catch (...) {
        state->tell(log_level::error,
                    [&] { return "refused to start: " + detail::cause_text(std::current_exception()); });
        throw;
      }
      (attach_resource(*state, options), ...);
      state->set_executor_policy(defaults());
    } catch (...) {
      state->release();
      throw;
    }
    state->retain();  // one reference for the result, one for the executor until the run ends
    (follow(*state, options), ...);
    arm_deadline(*state, options...);
    state->before_flow();
    return state;
  }
  template <class Program, class Input, class State, class Option>
  static void open_checkpoint(State& state, const Option& option) {
    if constexpr (detail::is_checkpoint<Option>) {
      auto session = Program::template session<Input>(state, option);
      session->open(state);
      if (!session->discarded.empty())
        state.tell(log_level::warning, [&] {
          return "erased the records it found (discard_stale): " + detail::cause_text(session->discarded);
        });
      state.attach(std::move(session));
    }
  }

  /// Makes a resource option's object (and recovers it when the run resumes a checkpointed one).
  template <class Option>
  static void attach_resource(detail::run_state_base& state, const Option& option) {
    if constexpr (detail::is_resource<std::remove_cvref_t<Option>>) {
      auto object = option.make();
      if constexpr (requires { object->recover(); })
        if (state.resumed()) object->recover();
      state.add_resource(std::move(object));
    }
  }
  /// The options that name steps or namespaces (may throw unknown_step, before anything is stored).
  template <class Option>
  static void declare_process(detail::run_state_base& state, const Option& option) {
    if constexpr (std::is_same_v<Option, process>) detail::process_table::declare(state, option);
    if constexpr (std::is_same_v<Option, only_steps>) state.run_only(option.names);
  }
  friend detail::edited_policy_setters<executor, true>;
  template <class Change>
  executor& edit_policy(Change&& change) {
    std::lock_guard lock(observers_mutex_);
    defaults_ = policy::changed(defaults_, change);  // runs already started keep the defaults they started with
    has_defaults_.store(true, std::memory_order_release);
    return *this;
  }
  std::shared_ptr<const policy> defaults() {
    if (!has_defaults_.load(std::memory_order_acquire)) return nullptr;  // no lock for executors without any
    std::lock_guard lock(observers_mutex_);
    return defaults_;
  }

  /// Tells the observers a run would have had that resuming `flow` was refused (the current
  /// exception says why) before its run was made.
  template <class Flow, class... Options>
  void refused(const Flow& flow, const Options&... options) noexcept {
    try {
      std::vector<observer*> all;
      for_each_observer([&](observer* o) { all.push_back(o); }, options...);
      if (all.empty()) return;
      run_event e{};
      if constexpr (requires { flow.name(); }) e.flow = flow.name();
      else e.flow = Flow::name.view();
      e.time = std::chrono::steady_clock::now();
      e.ok = false;
      const std::string text = "refused to resume: " + detail::cause_text(std::current_exception());
      for (observer* o : all) o->message(e, log_level::error, text);
    } catch (...) {  // no memory for the words: the exception still says it
    }
  }

  /// Calls `f` with each observer of a run given `options`: the executor's, then the run's own
  /// (lightflow::observe options).
  template <class F, class... Options>
  void for_each_observer(const F& f, const Options&... options) {
    if (has_observers_.load(std::memory_order_acquire)) {
      std::lock_guard lock(observers_mutex_);
      for (observer* o : observers_) f(o);
    }
    [[maybe_unused]] auto one = [&](const auto& option) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(option)>, lightflow::observe>) f(option.target);
    };
    (one(options), ...);
  }
  /// The executor's observers, then the run's own.
  template <class... Options>
  void add_observers(detail::run_state_base& state, const Options&... options) {
    for_each_observer([&state](observer* o) { state.add_observer(o); }, options...);
  }
  /// Arms a run_timeout option, last before the run starts.
  template <class... Options>
  static void arm_deadline(detail::run_state_base& state, const Options&... options) {
    [[maybe_unused]] auto one = [&](const auto& option) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(option)>, run_timeout>) state.arm_deadline(option.limit);
    };
    (one(options), ...);
  }

  template <class Run, class Option>
  static void follow(Run& state, const Option& option) {
    if constexpr (std::is_same_v<Option, std::stop_token>) state.follow(option);
    if constexpr (std::is_same_v<Option, no_step_times_t>) state.keep_no_step_times();
  }

  std::mutex observers_mutex_;
  std::vector<observer*> observers_;
  std::atomic<bool> has_observers_{false};
  std::shared_ptr<const policy> defaults_;  // copied on change; guarded by observers_mutex_
  std::atomic<bool> has_defaults_{false};
  std::unique_ptr<detail::scheduler> sched_;  // last: destroyed (ending every run) before the observers' list
};

}  // namespace lightflow

#endif
