// The state of one run, shared by every kind of flow: per-step records and counters, cancellation,
// and the hot path that finishes a step and finds which dependents became ready.
#ifndef LIGHTFLOW_DETAIL_RUN_STATE_HPP
#define LIGHTFLOW_DETAIL_RUN_STATE_HPP

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <vector>

#include "lightflow/callback.hpp"
#include "lightflow/detail/checkpoint_session.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/detail/timer.hpp"
#include "lightflow/detail/timestamp.hpp"
#include "lightflow/detail/type_name.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/step_context.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow::detail {

/// The most bytes pack_name adds to a name: its longest length prefix (7 bits a byte, as in LEB128)
/// and the closing '\0'.
inline constexpr std::size_t max_name_prefix = (sizeof(std::size_t) * 8 + 6) / 7 + 1;

/// Writes `name` at `at` as its length (7 bits a byte, low bits first, the high bit saying "more")
/// followed by its characters and a '\0' (so that name().data() is a C string too); returns the
/// bytes written (at most name.size() + max_name_prefix).
inline std::size_t pack_name(char* at, std::string_view name) noexcept {
  std::size_t n = 0;
  for (std::size_t len = name.size();; len >>= 7) {
    const auto low = static_cast<unsigned char>(len & 0x7f);
    at[n++] = static_cast<char>(len > 0x7f ? low | 0x80 : low);
    if (len <= 0x7f) break;
  }
  if (!name.empty()) std::memcpy(at + n, name.data(), name.size());
  at[n + name.size()] = '\0';
  return n + name.size() + 1;
}
inline std::string_view unpack_name(const char* at) noexcept {
  std::size_t len = 0;
  for (unsigned shift = 0;; shift += 7) {
    const auto byte = static_cast<unsigned char>(*at++);
    len |= static_cast<std::size_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) break;
  }
  return {at, len};
}

/// A flow's shape as the scheduler sees it at run time (for static flows it lives in read-only data).
struct graph_view {
  std::string_view flow_name;
  std::uint32_t size = 0;
  const std::string_view* names = nullptr;       // static flows: the names
  const std::uint32_t* dep_offsets = nullptr;
  const std::uint32_t* deps = nullptr;
  /// How many of a step's dependencies, first in its list, hand it their outputs (static flows); null:
  /// the dependencies hand nothing (runtime flows read results by name).
  const std::uint32_t* data_count = nullptr;
  const std::uint32_t* out_offsets = nullptr;
  const std::uint32_t* outs = nullptr;
  const std::uint32_t* roots = nullptr;
  std::uint32_t root_count = 0;
  std::uint32_t sink_count = 0;
  /// Finds a step by name faster than a scan (runtime flows); null: scan `names`.
  std::uint32_t (*lookup)(const void* index, std::string_view name) noexcept = nullptr;
  const void* index = nullptr;
  const char* const* packed_names = nullptr;     // runtime flows: the names as pack_name wrote them

  std::string_view name(std::uint32_t i) const noexcept { return names != nullptr ? names[i] : unpack_name(packed_names[i]); }

  /// The step called `name`, or `size` when there is none.
  std::uint32_t find(std::string_view wanted) const noexcept {
    if (lookup != nullptr) return lookup(index, wanted);
    for (std::uint32_t i = 0; i != size; ++i)
      if (name(i) == wanted) return i;
    return size;
  }
};

/// The index of the executor thread (or guest slot) running steps on this thread; set by the scheduler.
inline thread_local unsigned current_worker = 0;

/// What became of one step (its error, rare, is kept apart: run_state_base::error).
struct step_record {
  ticks start = 0;  // see timestamp.hpp; 0 for a step that did not run
  ticks end = 0;
  step_status status = step_status::pending;
  bool restored = false;        // its output came from a checkpoint; it did not run
  std::uint16_t attempts = 0;   // how many times its callable was called
  // Written by the step's dependencies (in what would be padding): how many have yet to finish (the
  // low 30 bits), and whether one did not succeed or a condition skipped this step (the top two).
  std::atomic<std::uint32_t> pending{0};
};
static_assert(sizeof(step_record) == 24, "a step record is 24 bytes");

/// The bits of step_record::pending.
inline constexpr std::uint32_t pending_count_mask = (std::uint32_t{1} << 30) - 1;
inline constexpr std::uint32_t blocked_by_failure = std::uint32_t{1} << 31, blocked_by_condition = std::uint32_t{1} << 30;

class run_state_base;

/// A unit of work in a worker's deque: one step of one run. A run has one node per step (and one
/// more, "start the run"), in an array; a node holds only its run, and its step is its place in the
/// run's array (run->step_of(node)), so it costs 8 bytes a step.
struct task_node {
  run_state_base* run = nullptr;
};

/// What a run needs to know of its executor: whether it is shutting down, and a list of runs whose
/// steps hold stop tokens, so that shutting down can set them.
class run_registry {
 public:
  bool closing(std::memory_order order = std::memory_order_relaxed) const noexcept { return closing_.load(order); }
  void add(run_state_base& run);
  void remove(run_state_base& run) noexcept;
  void close() noexcept;  // sets closing and requests stop on every registered run
  timer_service& timer() noexcept { return timer_; }

 private:
  std::atomic<bool> closing_{false};
  std::mutex mutex_;
  run_state_base* head_ = nullptr;
  timer_service timer_;
};

/// An object attached to a run (resource.hpp), with its type and hooks erased.
struct resource_slot {
  const std::type_info* type = nullptr;
  void* object = nullptr;
  void (*destroy)(void*) noexcept = nullptr;
  void (*suspend)(void*) = nullptr;  // null: the type has no suspend()
};

class run_state_base {
 public:
  using invoke_fn = void (*)(run_state_base&, std::uint32_t step, step_context&);
  using destroy_fn = void (*)(run_state_base*) noexcept;

  run_state_base(const run_state_base&) = delete;
  run_state_base& operator=(const run_state_base&) = delete;

  const graph_view& graph() const noexcept { return *graph_; }
  /// The run's input, step `i`'s callable and step `i`'s output storage (null for void), untyped.
  const void* input() const noexcept { return input_; }
  const void* callable(std::uint32_t i) const noexcept { return callables_[i]; }
  void* output(std::uint32_t i) const noexcept { return outputs_[i]; }
  std::uint64_t id() const noexcept { return id_; }
  const step_record& record(std::uint32_t step) const noexcept { return records_[step]; }
  /// Step `step`'s error (null when it has none). Errors live in a table made at the first one, so
  /// that runs pay nothing per step for them until something fails.
  const std::exception_ptr& error(std::uint32_t step) const noexcept {
    static const std::exception_ptr none;
    const std::exception_ptr* table = errors_.load(std::memory_order_acquire);
    return table != nullptr ? table[step] : none;
  }
  bool done() const noexcept { return done_.load(std::memory_order_acquire) == finished; }
  /// Blocks until the run has finished. A waiter marks itself, so that finishing wakes only when needed.
  void wait() noexcept {
    for (std::uint32_t s = done_.load(std::memory_order_acquire); s != finished;
         s = done_.load(std::memory_order_acquire)) {
      if (s == running && !done_.compare_exchange_weak(s, waited_for, std::memory_order_acq_rel)) continue;
      done_.wait(waited_for, std::memory_order_acquire);
    }
  }

  void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy_(this);
  }

  /// Steps not yet started will be marked cancelled; running ones see their stop token set.
  void cancel() noexcept {
    cancel_requested_.store(true, std::memory_order_seq_cst);
    if (stop_ready_.load(std::memory_order_seq_cst) == 2) stop_source_()->request_stop();  // unparks a paused run
  }
  bool cancelled() const noexcept { return cancel_requested_.load(std::memory_order_relaxed) || registry_->closing(); }
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
  task_node* start(Push&& push, Finish&& finish) {
    const graph_view& g = *graph_;
    for (observer* o : observers_) o->run_started(run_info());
    if (g.root_count == 0) {  // an empty flow: nothing to do
      finish(*this);
      return nullptr;
    }
    std::uint32_t queued = g.root_count;
    if (queued > batch_size && queued <= max_batched) {  // many roots: queue them a batch at a time
      root_cursor_.store(batch_size, std::memory_order_relaxed);
      sinks_left_.fetch_add(1, std::memory_order_relaxed);  // the run lasts until the batch task is done
      push(batch_node(start_node()));
      queued = batch_size;
    }
    for (std::uint32_t r = 1; r < queued; ++r) push(&nodes_[g.roots[r]]);
    return &nodes_[g.roots[0]];
  }

  // A step with many dependents (or a run with many roots) does not queue them all at once: that
  // would grow a worker's deque to hold them all (8 bytes each, kept for the executor's life). It
  // releases `batch_size` and queues a batch task, its node's address with the low bit set, which
  // claims the next batch from a cursor (for a step: its record's `pending` word, unused once the
  // step ran; for the roots: root_cursor_), queues itself again if more are left, and releases them.
  static constexpr std::uint32_t batch_size = 64;
  static constexpr std::uint32_t max_batched = pending_count_mask / 2;  // the cursor never overflows
  static task_node* batch_node(task_node* node) noexcept {
    return reinterpret_cast<task_node*>(reinterpret_cast<std::uintptr_t>(node) | 1);
  }
  static bool is_batch(const task_node* t) noexcept { return (reinterpret_cast<std::uintptr_t>(t) & 1) != 0; }
  static task_node* plain_node(task_node* t) noexcept {
    return reinterpret_cast<task_node*>(reinterpret_cast<std::uintptr_t>(t) & ~std::uintptr_t{1});
  }
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
  void fail_durability(std::exception_ptr error) noexcept { durability_error_ = std::move(error); }
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
  checkpoint_session* checkpoint() const noexcept { return checkpoint_; }

  task_node* start_node() noexcept { return &nodes_[graph_->size]; }
  /// The step a node of this run stands for (graph().size: starting the run).
  std::uint32_t step_of(const task_node* node) const noexcept { return static_cast<std::uint32_t>(node - nodes_); }

 protected:
  run_state_base(const graph_view& g, const invoke_fn* invokers, destroy_fn destroy, step_record* records,
                 task_node* nodes,
                 run_registry& registry, std::uint64_t id) noexcept
      : graph_(&g),
        invokers_(invokers),
        destroy_(destroy),
        records_(records),
        nodes_(nodes),
        registry_(&registry),
        id_(id),
        sinks_left_(g.sink_count) {}
  /// Fills the per-step arrays; called by the derived class once it has constructed them.
  void prepare(const void* input, const void* const* callables, void* const* outputs,
               void (*const* destroyers)(void*) noexcept) noexcept {
    input_ = input;
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
    plain_ = policies_ == nullptr && flow_policy_ == nullptr && observers_.empty() && global_callbacks_ == nullptr;
  }
  /// How to drop a step's output when it is not kept in typed slots (runtime runs).
  void set_discard(void (*discard)(run_state_base&, std::uint32_t) noexcept) noexcept { discard_ = discard; }

 public:
  /// No step starts until resume(); steps running finish. Ready steps wait in a list. A cancellation
  /// (or the executor's shutdown) resumes the run, so that its waiting steps are marked cancelled.
  /// Safe at any moment, from any thread, until the run's state is released: a pause that comes as
  /// the run ends (or after) does nothing.
  void pause() {
    if (done()) return;
    // Pausing arms a stop callback and may register the run's stop source with the executor; the
    // run's end takes both down. The two meet here (controlled_ and closed_, Dekker style, so that a
    // run never paused takes no lock at its end): a pause that starts once the end has begun does nothing.
    std::lock_guard lock(control_mutex_);
    controlled_.store(true, std::memory_order_seq_cst);
    if (closed_.load(std::memory_order_seq_cst)) return;
    // First: a cancellation (or shutdown) resumes the run. Made once (a stop already requested runs
    // resume() at once).
    if (!unpark_armed_) {
      unpark_armed_ = true;
      unpark_on_stop_.emplace(stop_token(), unparker{this});
    }
    paused_.store(true, std::memory_order_seq_cst);
    if (stop_requested()) resume();  // a cancellation that came meanwhile
  }
  /// Requeues the steps that became ready while the run was paused.
  void resume() noexcept {
    std::vector<task_node*> ready;
    {
      std::lock_guard lock(park_mutex_);
      paused_.store(false, std::memory_order_seq_cst);
      ready.swap(parked_);
    }
    for (task_node* t : ready) requeue_(scheduler_, t);
  }
  bool paused() const noexcept { return paused_.load(std::memory_order_relaxed); }
  /// How many ready steps wait for resume().
  std::size_t parked() const {
    std::lock_guard lock(park_mutex_);
    return parked_.size();
  }
  /// Like cancel(), but the steps that have not started are marked stopped (resumable from a checkpoint).
  void stop() noexcept {
    stopped_.store(true, std::memory_order_relaxed);
    cancel();
    resume();
  }
  bool stopped() const noexcept { return stopped_.load(std::memory_order_relaxed); }
  /// How the run's steps go back to its executor after a pause (set by the scheduler).
  void set_requeue(void (*requeue)(void*, task_node*) noexcept, void* scheduler) noexcept {
    requeue_ = requeue;
    scheduler_ = scheduler;
  }

  /// Cancels the run after `limit` (before it starts); the run then reports timed_out().
  void arm_deadline(std::chrono::nanoseconds limit) {
    deadline_ = timer_service::clock::now() + limit;
    deadline_id_ = registry_->timer().add(
        deadline_,
        [](void* p) noexcept {
          auto* run = static_cast<run_state_base*>(p);
          run->timed_out_.store(true, std::memory_order_relaxed);
          run->cancel();
        },
        this);
  }
  bool timed_out() const noexcept { return timed_out_.load(std::memory_order_relaxed); }
  /// lightflow::no_step_times (before the run starts): plain steps read no clock.
  void keep_no_step_times() noexcept { timed_ = false; }
  /// Adds an observer of this run (before it starts).
  void add_observer(observer* o) {
    observers_.push_back(o);
    plain_ = false;
  }
  run_event run_info() const noexcept {
    return {graph_->flow_name, id_, graph_->size, std::chrono::steady_clock::now(), true};
  }
  /// The executor's callbacks, called before the flow's and the steps' own (before the run starts).
  void set_global_callbacks(std::shared_ptr<const callback_lists> callbacks) noexcept {
    if (callbacks == nullptr || callbacks->empty()) return;
    global_callbacks_ = std::move(callbacks);
    plain_ = false;
  }
  /// On the thread that starts the run, before it starts: the before-flow callbacks, the executor's
  /// then the flow's. A must one that throws cancels the run (the callbacks after it are not called).
  void before_flow() noexcept {
    auto none = [](const callback_lists* level) { return level == nullptr || level->before_flow.empty(); };
    if (none(global_callbacks_.get()) && none(flow_callbacks())) return;  // nothing to call: no clock read
    const run_event e = run_info();
    for (const callback_lists* level : {global_callbacks_.get(), flow_callbacks()}) {
      if (level == nullptr) continue;
      for (const flow_callback& cb : level->before_flow) {
        if (!cb.applies(e, false)) continue;
        try {
          cb(e);
        } catch (...) {
          note_callback_failure(callback_point::before_flow, {}, cb.is_must(), std::current_exception());
          if (cb.is_must()) {
            flow_must_failure_ = callback_point::before_flow;
            cancel();
            return;
          }
        }
      }
    }
  }
  /// Every callback that threw in this run, in the order they threw (read once the run is done).
  std::vector<callback_failure> callback_failures() const {
    std::lock_guard lock(callback_mutex_);
    return callback_failures_;
  }
  /// The must flow callback that failed, if one did: the run is not ok.
  const callback_failure* flow_must_failure() const noexcept {
    if (!flow_must_failure_) return nullptr;
    for (const callback_failure& f : callback_failures_)  // read after the run is done: no lock needed
      if (f.point == *flow_must_failure_ && f.must) return &f;
    return nullptr;
  }

  /// Attaches a resource (before the run starts); it is destroyed when the run ends, in reverse order.
  template <class T>
  void add_resource(std::unique_ptr<T> object) {
    resources_.reserve(resources_.size() + 1);
    resource_slot slot{&typeid(T), object.get(), [](void* p) noexcept { delete static_cast<T*>(p); }, nullptr};
    if constexpr (requires(T& t) { t.suspend(); }) slot.suspend = [](void* p) { static_cast<T*>(p)->suspend(); };
    resources_.push_back(slot);
    object.release();
  }
  /// The run's resource of type T, or null.
  void* find_resource(const std::type_info& type) const noexcept {
    for (const resource_slot& r : resources_)
      if (*r.type == type) return r.object;
    return nullptr;
  }
  /// True when the run's checkpoint held records of an earlier run of the same id (it resumes it).
  bool resumed() const noexcept { return resumed_; }
  void mark_resumed() noexcept { resumed_ = true; }

 protected:
  ~run_state_base() {
    release_resources();
    delete[] errors_.load(std::memory_order_relaxed);
    if (stop_ready_.load(std::memory_order_relaxed) == 2) stop_source_()->~stop_source();
  }

 private:
  friend class run_registry;
  friend void finish_run(run_state_base&) noexcept;
  struct canceller {
    run_state_base* run;
    void operator()() const noexcept { run->cancel(); }
  };
  /// Sets step `step`'s error (on the thread that runs it), making the table at the first error.
  void set_error(std::uint32_t step, std::exception_ptr e) noexcept {
    std::exception_ptr* table = errors_.load(std::memory_order_acquire);
    if (table == nullptr) {
      if (e == nullptr) return;
      // No memory to keep a step's error: terminating beats losing it silently.
      auto* fresh = new std::exception_ptr[graph_->size + 1];
      if (errors_.compare_exchange_strong(table, fresh, std::memory_order_acq_rel)) {
        table = fresh;
      } else {
        delete[] fresh;
      }
    }
    table[step] = std::move(e);
  }
  // A step whose output could not be checkpointed counts as failed (its dependents do not run, and a
  // resumed run runs it again); its output is destroyed at once.
  void fail_checkpoint(std::uint32_t step, std::exception_ptr error) noexcept {
    if (destroyers_ != nullptr && destroyers_[step] != nullptr) destroyers_[step](outputs_[step]);
    records_[step].status = step_status::failed;
    set_error(step, std::move(error));
  }

  template <class Push, class Finish>
  task_node* release(std::uint32_t step, bool ok, Push&& push, Finish&& finish);
  template <class Push>
  task_node* release_range(const std::uint32_t* it, const std::uint32_t* end, bool ok, Push& push);
  template <class Saved>
  bool save_checkpoint(std::uint32_t step, Saved& saved) noexcept;
  template <class Saved>
  bool run_with_policy(std::uint32_t step, ticks& now, Saved& saved);

  /// Calls the step, again while `r` allows, each attempt within `limit` if given; records its
  /// status and error. True when it succeeded.
  bool attempt(std::uint32_t step, const retry* r, const std::chrono::nanoseconds* limit = nullptr) noexcept {
    step_record& rec = records_[step];
    for (unsigned n = 1;; ++n) {
      rec.attempts = static_cast<std::uint16_t>(std::min(n, 65535u));
      if (!observers_.empty()) notify(step, n, true);
      try {
        if (limit != nullptr) {
          invoke_within(step, n, *limit);
        } else {
          step_context ctx(*this, step, n);
          invokers_[step](*this, step, ctx);
        }
        rec.status = step_status::succeeded;
        if (n > 1) set_error(step, nullptr);
        if (!observers_.empty()) notify(step, n, false);
        return true;
      } catch (const timeout_error&) {
        set_error(step, std::current_exception());
        rec.status = step_status::timed_out;
      } catch (...) {
        set_error(step, std::current_exception());
        rec.status = step_status::failed;
      }
      bool again = false;
      try {
        again = r != nullptr && n < r->attempts() && !cancelled() && r->retries(error(step));
      } catch (...) {  // a predicate that throws: no more attempts
      }
      if (!observers_.empty()) notify(step, n, false, !again);
      try {
        if (!again || !wait_before_retry(r->wait().delay(n, random_unit()))) return false;  // or cancelled meanwhile
      } catch (...) {  // no memory for the wait: no more attempts
        return false;
      }
    }
  }
  /// One attempt with a time limit: past it the step's own stop source is stopped; once the callable
  /// has returned (the run waits for it, however long), the attempt is a timeout_error and its output
  /// is discarded. A cancellation of the run reaches the step's stop source too.
  void invoke_within(std::uint32_t step, unsigned n, std::chrono::nanoseconds limit) {
    struct forward {
      std::stop_source* to;
      void operator()() const noexcept { to->request_stop(); }
    };
    std::stop_source own;
    const std::stop_callback<forward> link(stop_token(), forward{&own});
    timer_service& timer = registry_->timer();
    const auto when = timer_service::clock::now() + limit;
    const std::uint64_t id = timer.add(when, [](void* s) noexcept { static_cast<std::stop_source*>(s)->request_stop(); }, &own);
    std::exception_ptr error;
    try {
      step_context ctx(*this, step, n, &own);
      invokers_[step](*this, step, ctx);
    } catch (...) {
      error = std::current_exception();
    }
    if (!timer.cancel(when, id)) {  // it fired
      if (error == nullptr) discard_output(step);
      throw timeout_error("lightflow: step \"" + std::string(graph_->name(step)) + "\" timed out after " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(limit).count()) + " ms");
    }
    if (error != nullptr) std::rethrow_exception(error);
  }
  /// Destroys the output of a step whose attempt succeeded too late.
  void discard_output(std::uint32_t step) noexcept {
    if (destroyers_ != nullptr && destroyers_[step] != nullptr) destroyers_[step](outputs_[step]);
    if (discard_ != nullptr) discard_(*this, step);
  }

  step_event event(std::uint32_t step, unsigned attempt, bool last) const noexcept {
    const step_record& rec = records_[step];
    return {graph_->flow_name, id_, graph_->name(step), step, attempt, current_worker, rec.status, error(step),
            rec.restored, last, std::chrono::steady_clock::now()};
  }
  void notify(std::uint32_t step, unsigned attempt, bool starting, bool last = true) const noexcept {
    const step_event e = event(step, attempt, last);
    for (observer* o : observers_) starting ? o->step_started(e) : o->step_finished(e);
  }
  /// A step that did not run (or whose condition kept it from running) ends, for observers.
  void notify_not_run(std::uint32_t step) const noexcept {
    if (!observers_.empty()) notify(step, 0, false);
  }
  /// The same, and the after-step callbacks (whose must failures cannot undo what did not run).
  void not_run(std::uint32_t step) noexcept {
    notify_not_run(step);
    if (!plain_) step_callbacks(step, true);
  }
  const callback_lists* flow_callbacks() const noexcept {
    return flow_policy_ != nullptr ? &flow_policy_->callbacks : nullptr;
  }
  void note_callback_failure(callback_point point, std::string_view step, bool must, std::exception_ptr error) noexcept {
    try {
      std::lock_guard lock(callback_mutex_);
      callback_failures_.push_back({point, std::string(step), must, std::move(error)});
    } catch (...) {  // no memory to list it: nothing better is left to do
    }
  }
  /// Calls the before-step (or after-step) callbacks that apply to `step`: the executor's, the
  /// flow's, then the step's own. Returns the error of the first must callback that threw (null:
  /// none); before a step, the callbacks after it are not called.
  std::exception_ptr step_callbacks(std::uint32_t step, bool after) noexcept {
    const policy* own = policies_ != nullptr ? policies_[step] : nullptr;
    const callback_lists* const levels[] = {global_callbacks_.get(), flow_callbacks(),
                                            own != nullptr ? &own->callbacks : nullptr};
    auto list = [after](const callback_lists& l) -> const std::vector<step_callback>& {
      return after ? l.after_step : l.before_step;
    };
    if (std::none_of(std::begin(levels), std::end(levels), [&](const callback_lists* l) { return l != nullptr && !list(*l).empty(); }))
      return nullptr;
    const step_event e = event(step, records_[step].attempts, true);
    std::exception_ptr must_error;
    for (const callback_lists* level : levels) {
      if (level == nullptr) continue;
      for (const step_callback& cb : list(*level)) {
        if (!cb.applies(e)) continue;
        try {
          cb(e);
        } catch (...) {
          std::exception_ptr error = std::current_exception();
          note_callback_failure(after ? callback_point::after_step : callback_point::before_step, graph_->name(step),
                                cb.is_must(), error);
          if (cb.is_must() && must_error == nullptr) {
            must_error = std::move(error);
            if (!after) return must_error;
          }
        }
      }
    }
    return must_error;
  }
  /// Step `step` fails with a callback_error for a must callback's `error`.
  void fail_by_callback(std::uint32_t step, const char* where, std::exception_ptr error) noexcept {
    step_record& rec = records_[step];
    rec.status = step_status::failed;
    try {
      set_error(step, std::make_exception_ptr(callback_error(where, graph_->name(step), error)));
    } catch (...) {
      set_error(step, std::move(error));
    }
  }
  /// At the run's end: the after-flow callbacks, then the resources' suspend (if the run is not ok)
  /// and release. Returns whether the run ended ok.
  bool end_flow() noexcept {
    run_event e = run_info();
    e.ok = steps_ok() && !flow_must_failure_;
    for (const callback_lists* level : {global_callbacks_.get(), flow_callbacks()}) {
      if (level == nullptr) continue;
      for (const flow_callback& cb : level->after_flow) {
        if (!cb.applies(e, true)) continue;
        try {
          cb(e);
        } catch (...) {
          note_callback_failure(callback_point::after_flow, {}, cb.is_must(), std::current_exception());
          if (cb.is_must() && !flow_must_failure_) flow_must_failure_ = callback_point::after_flow;
        }
      }
    }
    const bool ok = e.ok && !flow_must_failure_;
    if (!ok)
      for (auto r = resources_.rbegin(); r != resources_.rend(); ++r) {
        if (r->suspend == nullptr) continue;
        try {
          r->suspend(r->object);
        } catch (...) {
          note_callback_failure(callback_point::resource_suspend, {}, false, std::current_exception());
        }
      }
    release_resources();
    return ok;
  }
  void release_resources() noexcept {
    while (!resources_.empty()) {
      resources_.back().destroy(resources_.back().object);
      resources_.pop_back();
    }
  }
  /// Waits on the worker, woken early by cancellation. False when the run was cancelled.
  bool wait_before_retry(std::chrono::nanoseconds delay) {
    if (delay.count() > 0) {
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock lock(m);
      cv.wait_for(lock, stop_token(), delay, [] { return false; });
    }
    return !stop_requested();
  }
  static double random_unit() noexcept {
    thread_local std::uint64_t state = 0x9e3779b97f4a7c15ull ^ reinterpret_cast<std::uintptr_t>(&state);
    state += 0x9e3779b97f4a7c15ull;  // splitmix64
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  }
  /// Marks every descendant of `step` skipped by its condition, except the named ones and what
  /// follows only through them. None of them has started: they all wait for `step`.
  void skip_descendants(std::uint32_t step, const std::vector<std::string>& except) {
    const graph_view& g = *graph_;
    std::vector<std::uint32_t> stack{step};
    std::vector<bool> seen(g.size, false);
    while (!stack.empty()) {
      const std::uint32_t s = stack.back();
      stack.pop_back();
      for (std::uint32_t e = g.out_offsets[s]; e != g.out_offsets[s + 1]; ++e) {
        const std::uint32_t d = g.outs[e];
        if (seen[d]) continue;
        seen[d] = true;
        if (std::find(except.begin(), except.end(), g.name(d)) != except.end()) continue;
        records_[d].pending.fetch_or(blocked_by_condition, std::memory_order_relaxed);  // published by the release
        stack.push_back(d);
      }
    }
  }

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
  const void* const* callables_ = nullptr;
  void* const* outputs_ = nullptr;
  void (*const* destroyers_)(void*) noexcept = nullptr;
  checkpoint_session* checkpoint_ = nullptr;
  const policy* const* policies_ = nullptr;  // each step's own policy (null: none), or null for none at all
  const policy* flow_policy_ = nullptr;      // the flow's default
  std::vector<observer*> observers_;
  bool plain_ = true;                        // no policy, observer or callback: the fast path
  bool timed_ = true;                        // plain steps get start and end times (no_step_times: not)
  std::shared_ptr<const callback_lists> global_callbacks_;  // the executor's
  mutable std::mutex callback_mutex_;
  std::vector<callback_failure> callback_failures_;
  std::optional<callback_point> flow_must_failure_;  // a must flow callback failed there
  std::vector<resource_slot> resources_;
  bool resumed_ = false;
  void (*discard_)(run_state_base&, std::uint32_t) noexcept = nullptr;  // drops a runtime step's data
  timer_service::clock::time_point deadline_{};
  std::uint64_t deadline_id_ = 0;
  std::atomic<bool> timed_out_{false};
  // Pause: steps that became ready wait in parked_ until resume() hands them back to the scheduler.
  struct unparker {
    run_state_base* run;
    void operator()() const noexcept { run->resume(); }
  };
  bool park(std::uint32_t step) {
    std::lock_guard lock(park_mutex_);
    if (!paused_.load(std::memory_order_seq_cst)) return false;
    parked_.push_back(&nodes_[step]);
    return true;
  }
  std::atomic<bool> paused_{false};
  std::atomic<bool> stopped_{false};
  bool unpark_armed_ = false;               // (control_mutex_)
  std::mutex control_mutex_;                // pause() against the run's end
  std::atomic<bool> controlled_{false};     // pause() was called
  std::atomic<bool> closed_{false};         // the run's end began taking its stop machinery down
  mutable std::mutex park_mutex_;
  std::vector<task_node*> parked_;
  std::optional<std::stop_callback<unparker>> unpark_on_stop_;
  void (*requeue_)(void*, task_node*) noexcept = nullptr;
  void* scheduler_ = nullptr;
  std::exception_ptr durability_error_;
  std::uint64_t id_;
  std::atomic<std::uint32_t> sinks_left_;  // and batch tasks queued
  std::atomic<std::uint32_t> root_cursor_{0};  // the next root the roots' batch task releases
  std::atomic<std::uint32_t> not_ok_{0};  // steps that ended neither succeeded nor skipped by their condition
  std::atomic<std::exception_ptr*> errors_{nullptr};  // each step's error; made at the first one
  static constexpr std::uint32_t running = 0, waited_for = 1, finished = 2;
  std::atomic<std::uint32_t> done_{running};
  std::atomic<std::uint32_t> refs_{1};
  std::atomic<bool> cancel_requested_{false};
  std::atomic<int> stop_ready_{0};  // 0 none, 1 being made, 2 made
  alignas(std::stop_source) unsigned char stop_storage_[sizeof(std::stop_source)]{};
  std::optional<std::stop_callback<canceller>> follow_;
  run_state_base* prev_stoppable_ = nullptr;
  run_state_base* next_stoppable_ = nullptr;
};

/// Marks a run finished and wakes whoever waits for it; drops the executor's reference.
inline void finish_run(run_state_base& run) noexcept {
  if (run.deadline_id_ != 0) run.registry_->timer().cancel(run.deadline_, run.deadline_id_);  // no call after this
  bool ok = true;
  if (!run.plain_ || !run.resources_.empty()) ok = run.end_flow();
  if (!run.observers_.empty()) {
    run_event e = run.run_info();
    e.ok = ok && run.steps_ok();
    for (observer* o : run.observers_) o->run_finished(e);
  }
  auto take_down = [&run]() noexcept {
    run.follow_.reset();  // no stop request from outside may reach the run from here on
    run.unpark_on_stop_.reset();
    if (run.stop_ready_.load(std::memory_order_acquire) == 2) run.registry_->remove(run);
  };
  run.closed_.store(true, std::memory_order_seq_cst);
  if (run.controlled_.load(std::memory_order_seq_cst)) {  // a pause() may be arming what we take down
    std::lock_guard lock(run.control_mutex_);
    take_down();
  } else {  // any pause() from now on sees closed_ and does nothing
    take_down();
  }
  // The executor's reference, released last, keeps the state alive while the waiter is woken.
  if (run.done_.exchange(run_state_base::finished, std::memory_order_acq_rel) == run_state_base::waited_for)
    run.done_.notify_all();
  run.release();
}

template <class Push, class Finish, class Saved>
task_node* run_state_base::process(std::uint32_t step, ticks& now, Push&& push, Finish&& finish, Saved&& saved) {
  if (paused_.load(std::memory_order_seq_cst) && !cancelled() && park(step)) return nullptr;  // resume() requeues it
  step_record& rec = records_[step];
  bool ok = false;
  if (rec.restored) {
    ok = true;
    notify_not_run(step);
  } else if (cancelled()) {
    rec.status = stopped_.load(std::memory_order_relaxed) ? step_status::stopped : step_status::cancelled;
    not_run(step);
  } else if (const std::uint32_t b = rec.pending.load(std::memory_order_relaxed) & ~pending_count_mask; b != 0) {
    rec.status = (b & blocked_by_failure) != 0 ? step_status::skipped : step_status::skipped_by_condition;
    ok = rec.status == step_status::skipped_by_condition;
    not_run(step);
  } else if (plain_ && !timed_) {  // lightflow::no_step_times: no clock read
    ok = attempt(step, nullptr);
    if (checkpoint_ != nullptr) ok = ok && save_checkpoint(step, saved);
    now = 0;  // stale: a timed step of another run that follows on this thread reads the clock
  } else {
    if (now == 0) now = now_ticks();
    if (plain_) {  // the common case: no policy, no observer
      rec.start = now;
      ok = attempt(step, nullptr);
      if (checkpoint_ != nullptr) ok = ok && save_checkpoint(step, saved);
      now = now_ticks();
      rec.end = now;
    } else {
      ok = run_with_policy(step, now, saved);
    }
  }
  return release(step, ok, push, finish);
}

template <class Saved>
bool run_state_base::save_checkpoint(std::uint32_t step, Saved& saved) noexcept {
  if (checkpoint_ == nullptr) return true;
  try {
    checkpoint_->save(*this, step);
    if (checkpoint_->deferred_durability()) saved(*checkpoint_);  // before the dependents may save theirs
    return true;
  } catch (...) {
    fail_checkpoint(step, std::current_exception());
    return false;
  }
}

template <class Saved>
bool run_state_base::run_with_policy(std::uint32_t step, ticks& now, Saved& saved) {
  step_record& rec = records_[step];
  const policy* own = policies_ != nullptr ? policies_[step] : nullptr;
  // A static step whose dependency has an output but produced none (skipped by its condition)
  // cannot be called.
  const graph_view& g = *graph_;
  if (g.data_count != nullptr && outputs_ != nullptr) {
    const std::uint32_t* deps = g.deps + g.dep_offsets[step];
    for (std::uint32_t k = 0; k != g.data_count[step]; ++k)
      if (outputs_[deps[k]] != nullptr && records_[deps[k]].status != step_status::succeeded) {
        rec.status = step_status::skipped_by_condition;
        not_run(step);
        return true;
      }
  }
  rec.start = now;
  if (own != nullptr && own->when) {
    bool run = false;
    try {
      step_context ctx(*this, step, 1);
      run = own->when(ctx);
    } catch (...) {
      set_error(step, std::current_exception());
      rec.status = step_status::failed;
      now = rec.end = now_ticks();
      not_run(step);
      return false;
    }
    if (!run) {
      rec.status = step_status::skipped_by_condition;
      if (own->skips) skip_descendants(step, own->skips->except);
      now = rec.end = now_ticks();
      not_run(step);
      return true;
    }
  }
  const retry* r = own != nullptr && own->retries ? &*own->retries
                   : flow_policy_ != nullptr && flow_policy_->retries ? &*flow_policy_->retries
                                                                      : nullptr;
  const std::chrono::nanoseconds* limit = own != nullptr && own->timeout ? &*own->timeout
                                          : flow_policy_ != nullptr && flow_policy_->timeout ? &*flow_policy_->timeout
                                                                                             : nullptr;
  if (std::exception_ptr error = step_callbacks(step, false)) {  // a must before-step callback threw
    fail_by_callback(step, "before-step", std::move(error));
    now = rec.end = now_ticks();
    not_run(step);
    return false;
  }
  bool ok = attempt(step, r, limit);
  if (std::exception_ptr error = step_callbacks(step, true); error != nullptr && ok) {  // a must after-step one
    discard_output(step);
    fail_by_callback(step, "after-step", std::move(error));
    ok = false;
  }
  ok = ok && save_checkpoint(step, saved);
  now = now_ticks();
  rec.end = now;
  return ok;
}

template <class Push, class Finish>
task_node* run_state_base::release(std::uint32_t step, bool ok, Push&& push, Finish&& finish) {
  const graph_view& g = *graph_;
  const std::uint32_t* it = g.outs + g.out_offsets[step];
  const std::uint32_t* end = g.outs + g.out_offsets[step + 1];
  if (it == end) {  // a sink: the run is over when the last sink is
    if (!ok) not_ok_.fetch_add(1, std::memory_order_relaxed);
    if (sinks_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(*this);
    return nullptr;
  }
  if (!ok) not_ok_.fetch_add(1, std::memory_order_relaxed);  // rare; read once the run is done
  if (const auto degree = static_cast<std::uint32_t>(end - it); degree > batch_size && degree <= max_batched) {
    records_[step].pending.store((ok ? 0 : blocked_by_failure) | batch_size, std::memory_order_relaxed);  // the cursor
    sinks_left_.fetch_add(1, std::memory_order_relaxed);  // the run lasts until the batch task is done
    push(batch_node(&nodes_[step]));                      // published by the deque's release
    end = it + batch_size;
  }
  return release_range(it, end, ok, push);
}

template <class Push, class Finish>
task_node* run_state_base::release_batch(std::uint32_t step, Push&& push, Finish&& finish) {
  const graph_view& g = *graph_;
  const bool roots = step == g.size;
  const std::uint32_t* const first = roots ? g.roots : g.outs + g.out_offsets[step];
  const std::uint32_t degree = roots ? g.root_count : g.out_offsets[step + 1] - g.out_offsets[step];
  const std::uint32_t word = (roots ? root_cursor_ : records_[step].pending).fetch_add(batch_size, std::memory_order_relaxed);
  const std::uint32_t at = word & pending_count_mask;
  task_node* next = nullptr;
  if (at < degree) {
    const std::uint32_t stop = std::min(degree, at + batch_size);
    if (stop < degree) {  // more left: let another thread take the next batch meanwhile
      sinks_left_.fetch_add(1, std::memory_order_relaxed);
      push(batch_node(&nodes_[step]));
    }
    if (roots) {  // ready as they are
      next = &nodes_[first[at]];
      for (std::uint32_t k = at + 1; k != stop; ++k) push(&nodes_[first[k]]);
    } else {
      next = release_range(first + at, first + stop, (word & blocked_by_failure) == 0, push);
    }
  }
  if (sinks_left_.fetch_sub(1, std::memory_order_acq_rel) == 1) finish(*this);  // next is null then
  return next;
}

template <class Push>
task_node* run_state_base::release_range(const std::uint32_t* it, const std::uint32_t* end, bool ok, Push& push) {
  const graph_view& g = *graph_;
  task_node* next = nullptr;
  for (; it != end; ++it) {
    const std::uint32_t d = *it;
    if (!ok) records_[d].pending.fetch_or(blocked_by_failure, std::memory_order_relaxed);  // published by the release below
    // A dependent with one dependency needs no counter: this step was its only one.
    if (g.dep_offsets[d + 1] - g.dep_offsets[d] == 1 || (records_[d].pending.fetch_sub(1, std::memory_order_acq_rel) & pending_count_mask) == 1) {
      if (next == nullptr)
        next = &nodes_[d];
      else
        push(&nodes_[d]);
    }
  }
  return next;
}

inline void run_registry::add(run_state_base& run) {
  std::lock_guard lock(mutex_);
  run.next_stoppable_ = head_;
  if (head_ != nullptr) head_->prev_stoppable_ = &run;
  head_ = &run;
}

inline void run_registry::remove(run_state_base& run) noexcept {
  std::lock_guard lock(mutex_);
  if (run.prev_stoppable_ != nullptr)
    run.prev_stoppable_->next_stoppable_ = run.next_stoppable_;
  else if (head_ == &run)
    head_ = run.next_stoppable_;
  if (run.next_stoppable_ != nullptr) run.next_stoppable_->prev_stoppable_ = run.prev_stoppable_;
  run.prev_stoppable_ = run.next_stoppable_ = nullptr;
}

inline void run_registry::close() noexcept {
  closing_.store(true, std::memory_order_seq_cst);
  std::lock_guard lock(mutex_);
  for (run_state_base* r = head_; r != nullptr; r = r->next_stoppable_) r->stop_source_()->request_stop();
}

inline std::stop_token run_state_base::stop_token() {
  int state = stop_ready_.load(std::memory_order_acquire);
  if (state != 2) {
    int expected = 0;
    if (stop_ready_.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
      auto* source = ::new (static_cast<void*>(stop_storage_)) std::stop_source();  // may throw bad_alloc
      registry_->add(*this);
      stop_ready_.store(2, std::memory_order_seq_cst);
      if (cancelled()) source->request_stop();  // a cancel that came before the source existed
    } else {
      while (stop_ready_.load(std::memory_order_acquire) != 2) std::this_thread::yield();
    }
  }
  return stop_source_()->get_token();
}

}  // namespace lightflow::detail

namespace lightflow {
inline std::string_view step_context::name() const noexcept { return run_->graph().name(step_); }
inline std::string_view step_context::flow_name() const noexcept { return run_->graph().flow_name; }
inline std::uint64_t step_context::run_id() const noexcept { return run_->id(); }
inline bool step_context::stop_requested() const noexcept {
  return own_stop_ != nullptr ? own_stop_->stop_requested() : run_->stop_requested();
}
template <class T>
T& step_context::resource() const {
  if (void* p = run_->find_resource(typeid(T))) return *static_cast<T*>(p);
  throw not_found("lightflow: step \"" + std::string(name()) + "\" of flow \"" + std::string(flow_name()) +
                          "\" asked for a resource of type " + std::string(detail::type_name<T>()) +
                          ", which its run does not have (attach one with lightflow::resource(make) when running it)");
}
inline std::stop_token step_context::stop_token() const {
  return own_stop_ != nullptr ? own_stop_->get_token() : run_->stop_token();
}
}  // namespace lightflow

#endif
