// The state of one run, shared by every kind of flow: the untyped part of a run (the typed part:
// static_run.hpp, runtime_run.hpp). Its members are defined by job, in the headers beside it:
// run_release.hpp (starting a run, running a step and releasing its dependents: the hot path),
// run_attempts.hpp (attempts, retries, timeouts, conditions, saving a step's checkpoint),
// run_hooks.hpp (observers, callbacks, resources), run_lifecycle.hpp (cancel, pause, stop,
// deadlines, the stop token, the run's end), run_processes.hpp and run_limits.hpp (a step's process
// and concurrency limit). run_state.hpp includes them all.
#ifndef LIGHTFLOW_DETAIL_RUN_STATE_BASE_HPP
#define LIGHTFLOW_DETAIL_RUN_STATE_BASE_HPP

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "lightflow/callback.hpp"
#include "lightflow/detail/checkpoint_session.hpp"
#include "lightflow/detail/graph_view.hpp"
#include "lightflow/detail/life_state.hpp"
#include "lightflow/detail/resource_slot.hpp"
#include "lightflow/detail/run_registry.hpp"
#include "lightflow/detail/step_record.hpp"
#include "lightflow/detail/timer.hpp"
#include "lightflow/detail/timestamp.hpp"
#include "lightflow/detail/value_view.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow::detail {

class process_table;  // run_processes.hpp
class limit_state;    // limit_state.hpp
class run_state_base {
 public:
  using invoke_fn = void (*)(run_state_base&, std::uint32_t step, step_context&);
  using destroy_fn = void (*)(run_state_base*) noexcept;
  using view_fn = value_view (*)(const run_state_base&, std::uint32_t) noexcept;
  using discard_fn = void (*)(run_state_base&, std::uint32_t) noexcept;
  /// Where a step about to run stands with its process or its concurrency limit: it runs; it waits
  /// (whoever lets it go requeues it); or it was marked (stopped, cancelled, failed) and ended.
  enum class gate { run, parked, ended };

  run_state_base(const run_state_base&) = delete;
  run_state_base& operator=(const run_state_base&) = delete;

  const graph_view& graph() const noexcept { return *graph_; }
  /// Whether step `i`'s output is sealed in checkpoints (policy::sensitive).
  bool sensitive(std::uint32_t i) const noexcept { return policies_ && policies_[i] && policies_[i]->sensitive; }
  /// The run's input, step `i`'s callable and step `i`'s output storage (null for void), untyped.
  const void* input() const noexcept { return input_; }
  const void* callable(std::uint32_t i) const noexcept { return callables_[i]; }
  void* output(std::uint32_t i) const noexcept { return outputs_[i]; }
  /// Step `i`'s output with its type once it succeeded (else empty): what a condition reads.
  value_view output_view(std::uint32_t i) const noexcept {
    return records_[i].status == step_status::succeeded ? view_(*this, i) : value_view{};
  }
  std::uint64_t id() const noexcept { return id_; }
  const step_record& record(std::uint32_t step) const noexcept { return records_[step]; }
  /// Step `step`'s error (null when it has none). Errors live in a table made at the first one, so
  /// that runs pay nothing per step for them until something fails.
  const std::exception_ptr& error(std::uint32_t step) const noexcept {
    static const std::exception_ptr none;
    const std::exception_ptr* table = errors_.load(std::memory_order_acquire);
    return table != nullptr ? table[step] : none;
  }
  bool done() const noexcept { return life_.has(life_state::finished, std::memory_order_acquire); }
  /// Blocks until the run has finished.
  void wait() noexcept { life_.wait_finished(); }

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_(this);
  }

  /// Steps not yet started will be marked cancelled; running ones see their stop token set.
  void cancel() noexcept { cancel_with(0); }
  bool cancelled() const noexcept { return life_.has(life_state::cancelled) || registry_->closing(); }
  bool stop_requested() const noexcept {
    return cancelled() || (stop_ready_.load(std::memory_order_acquire) == 2 && stop_source_()->stop_requested());
  }
  /// The run's stop token. Its stop state is made on first use, so runs that never ask allocate nothing.
  std::stop_token stop_token();

  /// Follows a user's std::stop_token: a stop request on it cancels the run.
  void follow(std::stop_token token) {
    if (token.stop_possible()) follow_.emplace(std::move(token), canceller{this});
  }
  /// Starts the run on the calling thread: queues all roots but one through `push`, returns that one.
  template <class Push, class Finish>
  task_node* start(Push&& push, Finish&& finish);
  /// Runs the batch task of `step` (graph().size: of the roots); returns a released step to run next.
  template <class Push, class Finish>
  task_node* release_batch(std::uint32_t step, Push&& push, Finish&& finish);

  /// Runs (or skips, or cancels) one step, then releases its dependents. Returns one dependent that
  /// became ready, for the caller to run next without a queue round trip; the others go to `push`.
  /// `now` is the time the step starts; it becomes the time the step ended. `saved(session)` is
  /// called after a checkpoint record was saved to a store that makes it durable only on a flush.
  template <class Push, class Finish, class Saved>
  task_node* process(std::uint32_t step, ticks& now, Push&& push, Finish&& finish, Saved&& saved);

  /// The run's checkpoint records could not all be made durable: the run fails with this error.
  void fail_durability(std::exception_ptr error) noexcept;
  /// Hands `text` to the run's observers (observer::message); `make()` is called only when it has any.
  template <class Make>
  void tell(log_level level, Make&& make) const noexcept;
  const std::exception_ptr& durability_error() const noexcept { return durability_error_; }
  /// Once the run is done: whether every step succeeded or was skipped by its condition, and the
  /// records were made durable (counted as steps end, so it costs no pass over the steps).
  bool steps_ok() const noexcept {
    return not_ok_.load(std::memory_order_relaxed) == 0 && durability_error_ == nullptr;
  }

  /// Marks step `i` restored from a checkpoint: its output is in place; it will not run.
  void restore(std::uint32_t i) noexcept {
    records_[i].status = step_status::succeeded;
    records_[i].restored = true;
  }
  bool restored(std::uint32_t i) const noexcept { return records_[i].restored; }
  checkpoint_session* checkpoint() const noexcept { return checkpoint_; }

  task_node* start_node() noexcept { return &nodes_[graph_->size]; }
  /// The step a node of this run stands for (graph().size: starting the run).
  std::uint32_t step_of(const task_node* node) const noexcept { return static_cast<std::uint32_t>(node - nodes_); }

 protected:
  run_state_base(const graph_view& g, const invoke_fn* invokers, destroy_fn destroy, step_record* records,
                 task_node* nodes, run_registry& registry, std::uint64_t id) noexcept
      : graph_(&g),
        invokers_(invokers),
        destroy_(destroy),
        records_(records),
        nodes_(nodes),
        registry_(&registry),
        id_(id),
        sinks_left_(g.sink_count) {}
  /// Fills the per-step arrays; called by the derived class once it has constructed them.
  void prepare(const void* input, const std::type_info* input_type, const void* const* callables,
               void* const* outputs, void (*const* destroyers)(void*) noexcept) noexcept {
    input_ = input;
    input_type_ = input_type;
    callables_ = callables;
    outputs_ = outputs;
    destroyers_ = destroyers;
    const graph_view& g = *graph_;
    for (std::uint32_t i = 0; i != g.size; ++i) {
      ::new (static_cast<void*>(&records_[i])) step_record{};  // over storage, or over a record (trivial)
      records_[i].pending.store(g.dep_offsets[i + 1] - g.dep_offsets[i], std::memory_order_relaxed);
      ::new (static_cast<void*>(&nodes_[i])) task_node{this};
    }
    ::new (static_cast<void*>(&nodes_[g.size])) task_node{this};
  }
  void attach(checkpoint_session* session) noexcept { checkpoint_ = session; }
  /// Each step's policy (an array of graph().size pointers, or null when no step has one) and the flow's.
  void set_policies(const policy* const* steps, const policy* flow) noexcept {
    policies_ = steps;
    flow_policy_ = flow;
    plain_ = policies_ == nullptr && flow_policy_ == nullptr && observers_.empty() && executor_policy_ == nullptr;
  }
  /// Each kind of run keeps its outputs its own way: how to see one with its type, and how to drop
  /// one that is not kept in typed slots (runtime runs).
  void set_output_hooks(view_fn view, discard_fn discard = nullptr) noexcept { view_ = view, discard_ = discard; }

 public:
  /// No step starts until resume() (running ones finish; ready ones wait); a cancellation resumes
  /// the run. Safe from any thread until the state is released (a pause as the run ends does nothing).
  void pause();
  /// Requeues the steps that became ready while the run was paused.
  void resume() noexcept;
  bool paused() const noexcept { return life_.has(life_state::paused); }
  /// How many ready steps wait for resume().
  std::size_t parked() const;
  /// Like cancel(), but the steps that have not started are marked stopped (resumable from a checkpoint).
  void stop() noexcept;
  bool stopped() const noexcept { return life_.has(life_state::stopped); }
  /// How the run's steps go back to its executor after a pause (set by the scheduler).
  void set_requeue(void (*to)(void*, task_node*) noexcept, void* s) noexcept { requeue_ = to, scheduler_ = s; }

  /// Cancels the run after `limit` (before it starts); the run then reports timed_out().
  void arm_deadline(std::chrono::nanoseconds limit);
  bool timed_out() const noexcept { return life_.has(life_state::timed_out); }
  /// lightflow::no_step_times (before the run starts): plain steps read no clock.
  void keep_no_step_times() noexcept { timed_ = false; }
  /// lightflow::only_steps (before the checkpoint restores): the other steps are marked stopped.
  void run_only(const std::vector<std::string>& names);
  /// Adds an observer of this run (before it starts).
  void add_observer(observer* o) { observers_.push_back(o), plain_ = false; }
  run_event run_info() const noexcept {
    return {graph_->flow_name, id_, graph_->size, std::chrono::steady_clock::now(), true, input_, input_type_, {}};
  }
  /// The executor's defaults (before the run starts): its callbacks, called before the flow's and
  /// the steps' own, and its retries and timeout, for steps that neither they nor their flow set.
  void set_executor_policy(std::shared_ptr<const policy> defaults) noexcept;
  /// On the thread that starts the run, before it starts: the before-flow callbacks, the executor's
  /// then the flow's. A must one that throws cancels the run (the callbacks after it are not called).
  void before_flow() noexcept;
  /// Every callback that threw in this run, in the order they threw (read once the run is done).
  std::vector<callback_failure> callback_failures() const;
  /// The must flow (or after-process) callback that failed, if one did: the run is not ok.
  const callback_failure* flow_must_failure() const noexcept;

  /// Attaches a resource (before the run starts); it is destroyed when the run ends, in reverse order.
  template <class T>
  void add_resource(std::unique_ptr<T> object);
  /// The run's resource of type T, or null.
  void* find_resource(const std::type_info& type) const noexcept;
  /// The observers of this run (map_elements.hpp tells them of elements).
  const std::vector<observer*>& observers() const noexcept { return observers_; }
  /// A map step's elements as it ended (map_elements.hpp), kept in a table made at the first one;
  /// what its result reports (null: not a map step, or it did not run).
  void set_elements(std::uint32_t step, const element_counts& counts) noexcept;
  const element_counts* elements(std::uint32_t step) const noexcept {
    const element_counts* table = element_counts_.load(std::memory_order_acquire);
    return table != nullptr && table[step].total != 0 ? &table[step] : nullptr;
  }
  /// Step `step`'s own policy (null: none).
  const policy* own(std::uint32_t step) const noexcept { return policies_ != nullptr ? policies_[step] : nullptr; }
  /// Hands a step that waited for a slot of its concurrency limit back to its run's executor.
  static void requeue(task_node* t) noexcept { t->run->requeue_(t->run->scheduler_, t); }
  /// The retries and the time limit that apply to step `step` (its own, its flow's, its executor's;
  /// null: none). A map step applies them to each element (map_elements.hpp).
  const retry* retries_of(std::uint32_t step) const noexcept { return setting(own(step), &policy::retries); }
  const std::chrono::nanoseconds* timeout_of(std::uint32_t step) const noexcept {
    return setting(own(step), &policy::timeout);
  }
  /// Calls `call(std::stop_source& own)`, `own` stopped at `limit` and by the run's cancellation;
  /// returns true when the limit passed first (then what `call` threw is dropped), else rethrows it.
  template <class Call>
  bool within(std::chrono::nanoseconds limit, Call&& call);
  /// Waits on the worker before a retry, woken early by cancellation. False when the run was cancelled.
  bool wait_before_retry(std::chrono::nanoseconds delay);
  static double random_unit() noexcept;  // in [0, 1), for a backoff's jitter
  /// True when the run's checkpoint held records of an earlier run of the same id (it resumes it).
  bool resumed() const noexcept { return resumed_; }
  void mark_resumed() noexcept { resumed_ = true; }

 protected:
  ~run_state_base() {
    drop_processes();
    release_resources();
    delete[] errors_.load(std::memory_order_relaxed);
    delete[] element_counts_.load(std::memory_order_relaxed);
    if (stop_ready_.load(std::memory_order_relaxed) == 2) stop_source_()->~stop_source();
  }

 private:
  friend class run_registry;
  friend class process_table;
  friend void finish_run(run_state_base&) noexcept;
  struct canceller { run_state_base* run; void operator()() const noexcept { run->cancel(); } };
  /// Sets step `step`'s error (on the thread that runs it), making the table at the first error.
  void set_error(std::uint32_t step, std::exception_ptr e) noexcept;
  // A step whose output could not be checkpointed counts as failed (its dependents do not run, and a
  // resumed run runs it again); its output is destroyed at once.
  void fail_checkpoint(std::uint32_t step, std::exception_ptr error) noexcept;

  template <class Push, class Finish>
  task_node* release(std::uint32_t step, bool ok, Push&& push, Finish&& finish);
  template <class Push>
  task_node* release_range(const std::uint32_t* it, const std::uint32_t* end, bool ok, Push& push);
  template <class Saved>
  bool save_checkpoint(std::uint32_t step, Saved& saved) noexcept;
  /// A durable step's record made durable before its dependents start; false (the step failed) when
  /// the store could not.
  bool make_durable(std::uint32_t step) noexcept;
  template <class Saved>
  bool run_with_policy(std::uint32_t step, ticks& now, Saved& saved);

  /// Calls the step, again while `r` allows, each attempt within `limit` if given; records its
  /// status and error. True when it succeeded.
  bool attempt(std::uint32_t step, const retry* r, const std::chrono::nanoseconds* limit = nullptr) noexcept;
  /// One attempt with a time limit: past it the step's own stop source is stopped; once the callable
  /// has returned (the run waits for it, however long), the attempt is a timeout_error and its output
  /// is discarded. A cancellation of the run reaches the step's stop source too.
  void invoke_within(std::uint32_t step, unsigned n, std::chrono::nanoseconds limit);
  /// Destroys the output of a step whose attempt succeeded too late.
  void discard_output(std::uint32_t step) noexcept;

  /// What observers and callbacks are told of `step` (its output only when `ending`: after it ran).
  step_event event(std::uint32_t step, unsigned attempt, bool last, bool ending) const noexcept;
  void notify(std::uint32_t step, unsigned attempt, bool starting, bool last = true) const noexcept;
  /// A step that did not run (or whose condition kept it from running) ends, for observers.
  void notify_not_run(std::uint32_t step) const noexcept {
    if (!observers_.empty()) notify(step, 0, false);
  }
  /// The same, and the after-step callbacks (whose must failures cannot undo what did not run).
  void not_run(std::uint32_t step) noexcept;
  const callback_lists* flow_callbacks() const noexcept { return flow_policy_ ? &flow_policy_->callbacks : nullptr; }
  const callback_lists* executor_callbacks() const noexcept {
    return executor_policy_ != nullptr ? &executor_policy_->callbacks : nullptr;
  }
  /// The most specific of a step's own setting, its flow's and its executor's (null: none).
  template <class T>
  const T* setting(const policy* own, std::optional<T> policy::*field) const noexcept {
    for (const policy* p : {own, flow_policy_, executor_policy_.get()})
      if (p != nullptr && (p->*field).has_value()) return &*(p->*field);
    return nullptr;
  }
  void note_callback_failure(callback_point point, std::string_view step, bool must, std::exception_ptr error) noexcept;
  /// Calls a list of flow (or process: `name`) callbacks by the chain rule; returns the first must failure's error.
  std::exception_ptr call_flow_callbacks(const std::vector<flow_callback>& list, const run_event& e,
                                         callback_point point, std::string_view name = {}) noexcept;
  /// Calls the before-step (or after-step) callbacks that apply to `step`: the executor's, the flow's,
  /// then the step's own. Returns the error of the first must callback that threw (null: none).
  std::exception_ptr step_callbacks(std::uint32_t step, bool after) noexcept;
  /// Step `step` fails with a callback_error for a must callback's `error`.
  void fail_by_callback(std::uint32_t step, const char* where, std::exception_ptr error) noexcept;
  /// A subflow's step (subflow.hpp) blocked by a failure: failed (or stopped) as a step of it was; else skipped.
  void end_subflow(std::uint32_t step) noexcept;
  /// At the run's end: the after-flow callbacks, the resources' suspend (run not ok), release. True: ok.
  bool end_flow() noexcept;
  void release_resources() noexcept;
  /// Marks every descendant of `step` skipped by its condition, except the named ones and what
  /// follows only through them. None of them has started: they all wait for `step`.
  void skip_descendants(std::uint32_t step, const std::vector<std::string>& except);

  std::stop_source* stop_source_() const noexcept {
    return std::launder(reinterpret_cast<std::stop_source*>(const_cast<unsigned char*>(stop_storage_)));
  }

  const graph_view* graph_;
  const invoke_fn* invokers_;
  destroy_fn destroy_;
  step_record* records_;
  task_node* nodes_;
  run_registry* registry_;
  const void* input_ = nullptr;
  const std::type_info* input_type_ = nullptr;  // null: no input
  const void* const* callables_ = nullptr;
  void* const* outputs_ = nullptr;
  void (*const* destroyers_)(void*) noexcept = nullptr;
  checkpoint_session* checkpoint_ = nullptr;
  const policy* const* policies_ = nullptr;  // each step's own policy (null: none), or null for none at all
  const policy* flow_policy_ = nullptr;      // the flow's default
  std::vector<observer*> observers_;
  bool plain_ = true;                        // no policy, observer or callback: the fast path
  bool timed_ = true;                        // plain steps get start and end times (no_step_times: not)
  std::shared_ptr<const policy> executor_policy_;  // the executor's defaults (callbacks, retries, timeout)
  mutable std::mutex callback_mutex_;
  std::vector<callback_failure> callback_failures_;
  std::optional<callback_point> flow_must_failure_;  // a must flow callback failed there
  std::vector<resource_slot> resources_;
  bool resumed_ = false;
  view_fn view_ = nullptr;        // set by each kind of run
  discard_fn discard_ = nullptr;  // drops a runtime step's data
  timer_service::clock::time_point deadline_{};
  std::uint64_t deadline_id_ = 0;
  // Pause: steps that became ready wait in parked_ until resume() hands them back to the scheduler.
  struct unparker { run_state_base* run; void operator()() const noexcept { run->resume(); } };
  // Cancels the run, setting `more` (life_state's stopped or timed_out) in the same step.
  void cancel_with(std::uint32_t more) noexcept;
  bool park(std::uint32_t step);
  // Concurrency limits (run_limits.hpp): a step takes a slot of its limit or waits for one; it
  // frees it when it ends, or passes on one it was handed when it does not run.
  gate take_slot(std::uint32_t step) noexcept;
  void end_slot(std::uint32_t step) noexcept;
  void let_go(std::uint32_t step) noexcept;
  void watch(limit_state& l);  // a cancellation withdraws the run's waiting steps from `l`
  template <class F>
  void controlled(F&& f);  // calls `f` under the control lock, unless the run has ended (run_lifecycle.hpp)
  void arm_unparker();  // under the control lock: a cancellation resumes the run (and its processes)
  void drop_processes() noexcept;
  std::atomic<process_table*> processes_{nullptr};  // its processes (run_processes.hpp), made when first needed
  bool unpark_armed_ = false;               // (control_mutex_)
  std::mutex control_mutex_;                // pause() against the run's end (see life_state)
  mutable std::mutex park_mutex_;
  std::vector<task_node*> parked_;
  std::vector<limit_state*> limits_;  // where its steps may wait (park_mutex_)
  std::optional<std::stop_callback<unparker>> unpark_on_stop_;
  void (*requeue_)(void*, task_node*) noexcept = nullptr;
  void* scheduler_ = nullptr;
  std::exception_ptr durability_error_;
  std::uint64_t id_;
  std::atomic<std::uint32_t> sinks_left_;  // and batch tasks queued
  std::atomic<std::uint32_t> root_cursor_{0};  // the next root the roots' batch task releases
  std::atomic<std::uint32_t> not_ok_{0};  // steps that ended neither succeeded nor skipped by their condition
  std::atomic<std::exception_ptr*> errors_{nullptr};  // each step's error; made at the first one
  std::atomic<element_counts*> element_counts_{nullptr};  // each map step's; made at the first
  life_state life_;  // cancelled, stopped, timed out, paused, finished: every transition in life_state.hpp
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<int> stop_ready_{0};  // 0 none, 1 being made, 2 made
  alignas(std::stop_source) unsigned char stop_storage_[sizeof(std::stop_source)]{};
  std::optional<std::stop_callback<canceller>> follow_;
  run_state_base* prev_stoppable_ = nullptr;
  run_state_base* next_stoppable_ = nullptr;
};

}  // namespace lightflow::detail

#endif
