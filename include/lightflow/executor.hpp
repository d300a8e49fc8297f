// The executor: a pool of worker threads that runs flows.
#ifndef LIGHTFLOW_EXECUTOR_HPP
#define LIGHTFLOW_EXECUTOR_HPP

#include <atomic>
#include <concepts>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/callback.hpp"
#include "lightflow/checkpoint.hpp"
#include "lightflow/detail/runtime_session.hpp"
#include "lightflow/detail/scheduler.hpp"
#include "lightflow/detail/typed_session.hpp"
#include "lightflow/detail/static_run.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/resource.hpp"
#include "lightflow/run_handle.hpp"
#include "lightflow/run_result.hpp"
#include "lightflow/runtime_flow.hpp"
#include "lightflow/runtime_result.hpp"

namespace lightflow {

/// Satisfied by the extra arguments `run` and `submit` take after the input: a `std::stop_token`
/// (a stop request cancels the run), a `lightflow::checkpoint` (at most one), `lightflow::observe`,
/// `lightflow::run_timeout`, `lightflow::resource` and `lightflow::no_step_times`.
template <class T>
concept run_option = std::same_as<std::remove_cvref_t<T>, std::stop_token> ||
                     detail::is_checkpoint<std::remove_cvref_t<T>> || std::same_as<std::remove_cvref_t<T>, observe> ||
                     std::same_as<std::remove_cvref_t<T>, run_timeout> || detail::is_resource<std::remove_cvref_t<T>> ||
                     std::same_as<std::remove_cvref_t<T>, no_step_times_t>;

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
}  // namespace detail

/// A thread pool that runs flows. A thread blocked in `run` (or in a handle's `wait`) works on ready
/// steps meanwhile, so a small flow run from the calling thread pays no thread wake-up.
class executor {
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

  std::size_t worker_count() const noexcept { return sched_->worker_count(); }

  /// `o` observes every run started from now on (it must outlive them).
  void observe(observer& o) {
    std::lock_guard lock(observers_mutex_);
    observers_.push_back(&o);
    has_observers_.store(true, std::memory_order_release);
  }

  /// Callbacks for every run started from now on, called before the flow's and the steps' own
  /// (see callback.hpp). Each list is called in registration order.
  executor& before_flow(flow_callback cb) {
    return change_callbacks([&](callback_lists& l) { l.before_flow.push_back(std::move(cb)); });
  }
  executor& after_flow(flow_callback cb) {
    return change_callbacks([&](callback_lists& l) { l.after_flow.push_back(std::move(cb)); });
  }
  executor& before_step(step_callback cb) {
    return change_callbacks([&](callback_lists& l) { l.before_step.push_back(std::move(cb)); });
  }
  executor& after_step(step_callback cb) {
    return change_callbacks([&](callback_lists& l) { l.after_step.push_back(std::move(cb)); });
  }

  /// Runs `flow` to its end and returns its result. Arguments: the run's input (optional), then
  /// options: a `std::stop_token` whose stop request cancels the run.
  template <class Flow, class... Args>
    requires(!std::is_same_v<Flow, runtime_flow>)
  [[nodiscard]] auto run(const Flow& flow, Args&&... args) {
    return dispatch(flow, std::forward<Args>(args)...)([&]<class Run>(Run* state) {
      if constexpr (std::is_same_v<Run, detail::invalid_result>) {
        return detail::invalid_result{};
      } else {
        sched_->run_here(*state);
        return run_result<typename Run::flow_type, typename Run::input_type>(state);
      }
    });
  }

  /// Starts `flow` and returns a handle to wait on, cancel, or take the result from. The flow must
  /// outlive the run.
  template <class Flow, class... Args>
    requires(!std::is_same_v<Flow, runtime_flow>)
  [[nodiscard]] auto submit(const Flow& flow, Args&&... args) {
    return dispatch(flow, std::forward<Args>(args)...)([&]<class Run>(Run* state) {
      if constexpr (std::is_same_v<Run, detail::invalid_result>) {
        return detail::invalid_result{};
      } else {
        sched_->launch(*state);
        return run_handle<typename Run::flow_type, typename Run::input_type>(state, sched_.get());
      }
    });
  }
  template <class Flow, class... Args>
  void submit(const Flow&&, Args&&...) = delete;  // the flow would die before its run

  /// Runs a runtime flow to its end: checks it first (throws flow_error naming the steps, before any
  /// step runs), then runs it with `input` as the key/value input its steps read. Options: a
  /// `std::stop_token`. The run keeps what it runs: the flow may change or die meanwhile.
  template <class... Options>
  [[nodiscard]] runtime_result run(const runtime_flow& flow, values input, Options&&... options) {
    detail::runtime_run* state = start(flow, std::move(input), options...);
    sched_->run_here(*state);
    return runtime_result(state);
  }
  template <class... Options>
  [[nodiscard]] runtime_result run(const runtime_flow& flow, Options&&... options) {
    return run(flow, values{}, std::forward<Options>(options)...);
  }
  /// Starts a runtime flow and returns a handle to wait on, cancel, or take the result from.
  template <class... Options>
  [[nodiscard]] runtime_handle submit(const runtime_flow& flow, values input, Options&&... options) {
    detail::runtime_run* state = start(flow, std::move(input), options...);
    sched_->launch(*state);
    return runtime_handle(state, sched_.get());
  }
  template <class... Options>
  [[nodiscard]] runtime_handle submit(const runtime_flow& flow, Options&&... options) {
    return submit(flow, values{}, std::forward<Options>(options)...);
  }

  /// Resumes a runtime flow's run saved under `cp`, with the input saved with it.
  template <checkpoint_store Store, class... Options>
  [[nodiscard]] runtime_result resume(const runtime_flow& flow, const checkpoint<Store>& cp, Options&&... options) {
    values input = detail::runtime_session<Store>::load_input(cp, *flow.compiled());
    return run(flow, std::move(input), cp, std::forward<Options>(options)...);
  }
  /// Resumes the run saved under `cp` (its input comes from the store): steps with a saved output do
  /// not run. `Input` is the type the run's input had (none for a flow run without one). Throws
  /// checkpoint_error if there is no such run or its records do not match the flow.
  template <class Input = no_input, class Flow, checkpoint_store Store, class Serializer, class... Options>
  [[nodiscard]] auto resume(const Flow& flow, const checkpoint<Store, Serializer>& cp, Options&&... options) {
    if constexpr (detail::is_static_flow<Flow> && detail::check_signatures<Flow, Input>() &&
                  detail::typed_session<Flow, Input, Store, Serializer>::check()) {
      Input input = detail::typed_session<Flow, Input, Store, Serializer>::load_input(cp);
      if constexpr (std::is_same_v<Input, no_input>) return run(flow, cp, std::forward<Options>(options)...);
      else return run(flow, std::move(input), cp, std::forward<Options>(options)...);
    } else {
      return detail::invalid_result{};
    }
  }

 private:
  // Splits the arguments into input and options, checks the flow, makes the run's state, and hands it
  // to `then`.
  template <class Flow, class... Args>
  auto dispatch(const Flow& flow, Args&&... args) {
    if constexpr (sizeof...(Args) == 0 || (run_option<Args> && ...))
      return prepare(flow, no_input{}, std::forward<Args>(args)...);
    else
      return prepare(flow, std::forward<Args>(args)...);
  }

  template <class Flow, class Input, class... Options>
  auto prepare(const Flow& flow, Input&& input, Options&&... options) {
    using input_type = std::decay_t<Input>;
    return [this, &flow, &input, &options...](auto&& then) {
      if constexpr (std::is_same_v<Flow, detail::invalid_flow>) {
        return then(static_cast<detail::invalid_result*>(nullptr));
      } else if constexpr (!detail::is_static_flow<Flow>) {
        detail::fail<
            "lightflow: executor::run and submit take a flow made by lightflow::flow<\"name\">(steps...), not the type "
            "listed after this message",
            offered<Flow>>();
        return then(static_cast<detail::invalid_result*>(nullptr));
      } else if constexpr (!(run_option<Options> && ...)) {
        detail::fail<
            "lightflow: after the input, executor::run and submit take only options (a std::stop_token, a "
            "lightflow::checkpoint, lightflow::observe, lightflow::run_timeout, lightflow::resource, "
            "lightflow::no_step_times), not all of the types listed after this message",
            offered<Options...>>();
        return then(static_cast<detail::invalid_result*>(nullptr));
      } else if constexpr (((detail::is_checkpoint<std::remove_cvref_t<Options>> ? 1 : 0) + ... + 0) > 1) {
        detail::fail<"lightflow: executor::run and submit take at most one lightflow::checkpoint", offered<Options...>>();
        return then(static_cast<detail::invalid_result*>(nullptr));
      } else if constexpr (!detail::check_signatures<Flow, input_type>() || !checkpoints_ok<Flow, input_type, Options...>()) {
        return then(static_cast<detail::invalid_result*>(nullptr));
      } else {
        auto* state = new detail::static_run<Flow, input_type>(flow, input_type(std::forward<Input>(input)),
                                                               sched_->registry(), sched_->next_run_id());
        try {
          (open_checkpoint(*state, options), ...);  // checks or restores; may throw, before anything runs
          (attach_resource(*state, options), ...);
          add_observers(*state, options...);
          state->set_global_callbacks(callbacks());
        } catch (...) {
          state->release();
          throw;
        }
        state->retain();  // one reference for the result, one for the executor until the run ends
        (follow(*state, options), ...);
        arm_deadline(*state, options...);
        state->before_flow();
        return then(state);
      }
    };
  }

  template <class Flow, class Input, class... Options>
  static consteval bool checkpoints_ok() {
    return (checkpoint_ok<Flow, Input, std::remove_cvref_t<Options>>() && ...);
  }
  template <class Flow, class Input, class Option>
  static consteval bool checkpoint_ok() {
    if constexpr (detail::is_checkpoint<Option>)
      return detail::typed_session<Flow, Input, std::remove_pointer_t<decltype(Option::store)>,
                                   decltype(Option::serializer)>::check();
    else
      return true;
  }

  template <class Run, class Option>
  static void open_checkpoint(Run& state, const Option& option) {
    if constexpr (detail::is_checkpoint<Option>) {
      using session_type = detail::typed_session<typename Run::flow_type, typename Run::input_type,
                                                 std::remove_pointer_t<decltype(Option::store)>, decltype(Option::serializer)>;
      auto session = std::make_unique<session_type>(option);
      session->open(state);
      state.attach(std::move(session));
    }
  }
  template <class... Options>
  detail::runtime_run* start(const runtime_flow& flow, values&& input, const Options&... options) {
    static_assert(((std::is_same_v<std::remove_cvref_t<Options>, std::stop_token> || runtime_checkpoint<Options> ||
                    std::is_same_v<std::remove_cvref_t<Options>, lightflow::observe> ||
                    std::is_same_v<std::remove_cvref_t<Options>, run_timeout> ||
                    detail::is_resource<std::remove_cvref_t<Options>> ||
                    std::is_same_v<std::remove_cvref_t<Options>, no_step_times_t>) &&
                   ...),
                  "lightflow: a runtime flow's run takes only a std::stop_token, a lightflow::checkpoint, "
                  "lightflow::observe, lightflow::run_timeout, lightflow::resource and lightflow::no_step_times "
                  "after its input; its "
                  "checkpoint uses the binary "
                  "serializer (a custom serializer cannot encode values whose types are known only at run time)");
    static_assert(((runtime_checkpoint<Options> ? 1 : 0) + ... + 0) <= 1,
                  "lightflow: executor::run and submit take at most one lightflow::checkpoint");
    auto* state = new detail::runtime_run(flow.compiled(), std::move(input), sched_->registry(), sched_->next_run_id());
    try {
      (open_runtime_checkpoint(*state, options), ...);  // checks or restores; may throw, before anything runs
      (attach_resource(*state, options), ...);
      add_observers(*state, options...);
      state->set_global_callbacks(callbacks());
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
  template <class Option>
  static constexpr bool runtime_checkpoint = detail::is_binary_checkpoint<std::remove_cvref_t<Option>>;
  template <class Option>
  static void open_runtime_checkpoint(detail::runtime_run& state, const Option& option) {
    if constexpr (runtime_checkpoint<Option>) {
      using store_type = std::remove_pointer_t<decltype(Option::store)>;
      auto session = std::make_unique<detail::runtime_session<store_type>>(option, state.graph_data());
      session->open(state);
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
  template <class Change>
  executor& change_callbacks(Change&& change) {
    std::lock_guard lock(observers_mutex_);
    auto copy = callbacks_ != nullptr ? std::make_shared<callback_lists>(*callbacks_) : std::make_shared<callback_lists>();
    change(*copy);
    callbacks_ = std::move(copy);  // runs already started keep the lists they started with
    has_callbacks_.store(true, std::memory_order_release);
    return *this;
  }
  std::shared_ptr<const callback_lists> callbacks() {
    if (!has_callbacks_.load(std::memory_order_acquire)) return nullptr;  // no lock for executors without any
    std::lock_guard lock(observers_mutex_);
    return callbacks_;
  }

  /// The executor's observers, then the run's own.
  template <class... Options>
  void add_observers(detail::run_state_base& state, const Options&... options) {
    if (has_observers_.load(std::memory_order_acquire)) {
      std::lock_guard lock(observers_mutex_);
      for (observer* o : observers_) state.add_observer(o);
    }
    [[maybe_unused]] auto one = [&](const auto& option) {
      if constexpr (std::is_same_v<std::remove_cvref_t<decltype(option)>, lightflow::observe>) state.add_observer(option.target);
    };
    (one(options), ...);
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
  std::shared_ptr<const callback_lists> callbacks_;  // copied on change; guarded by observers_mutex_
  std::atomic<bool> has_callbacks_{false};
  std::unique_ptr<detail::scheduler> sched_;  // last: destroyed (ending every run) before the observers' list
};

}  // namespace lightflow

#endif
