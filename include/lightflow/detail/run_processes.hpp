// A run's processes (process.hpp): the namespaces its lightflow::process options declare, with
// their callbacks and time limits, and the ones a running run pauses, resumes or stops alone. A run
// makes its table when it first needs one, so that a run without processes pays one pointer test
// per step.
#ifndef LIGHTFLOW_DETAIL_RUN_PROCESSES_HPP
#define LIGHTFLOW_DETAIL_RUN_PROCESSES_HPP

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/callback.hpp"
#include "lightflow/detail/graph_view.hpp"
#include "lightflow/detail/run_hooks.hpp"
#include "lightflow/detail/run_state_base.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/process.hpp"

namespace lightflow::detail {

/// How many steps of `g` lie in namespace `name`; throws unknown_step when none does (the message
/// of every lookup of a namespace: results, run handles, process options).
inline std::uint32_t namespace_size(const graph_view& g, std::string_view name) {
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i != g.size; ++i) n += in_namespace(g.name(i), name) ? 1 : 0;
  if (n == 0)
    throw unknown_step("lightflow: flow \"" + std::string(g.flow_name) + "\" has no namespace \"" + std::string(name) +
                       "\"");
  return n;
}

/// One process of a run.
struct process_entry {
  enum : std::uint32_t { paused = 1, stopped = 2, timed_out = 4, ended = 8 };
  std::string name;
  std::uint32_t steps = 0;
  bool declared = false;  // by an option: its steps are counted down to its after callbacks
  std::vector<flow_callback> before, after;
  std::optional<std::chrono::nanoseconds> limit;
  run_state_base* run = nullptr;
  std::atomic<std::uint32_t> state{0};
  std::atomic<std::uint32_t> left{0}, not_ok{0}, restored{0};  // declared: its steps not ended, ...
  std::once_flag began;                                        // its before callbacks, its timer
  std::exception_ptr before_error;                             // a must before callback's (set within `began`)
  timer_service::clock::time_point deadline{};
  std::uint64_t timer = 0;         // its time limit's (0: none)
  std::vector<task_node*> parked;  // ready steps a pause holds (process_table's mutex)
};

class process_table {
 public:
  static constexpr std::size_t capacity = 64;
  /// Where a step that is about to run stands with its processes: it runs; it waits for a resume;
  /// or it was marked (stopped, cancelled by a time limit, failed by a must before callback) and ended.
  using gate = run_state_base::gate;

  /// Before the run starts: makes `option`'s namespace a process of the run.
  static void declare(run_state_base& run, const process& option) {
    process_table& t = of(run);
    if (t.find(option.name()) != nullptr)
      throw usage_error("lightflow: two lightflow::process options name process \"" + option.name() + "\"");
    process_entry& e = t.add(run, option.name());
    e.declared = true;
    e.before = option.before_callbacks();
    e.after = option.after_callbacks();
    e.limit = option.limit();
    e.left.store(e.steps, std::memory_order_relaxed);
  }

  gate enter(run_state_base& run, std::uint32_t step);
  /// Step `step` ended (`ok`: it succeeded, was skipped by its condition or was restored): counts it
  /// down in its declared processes, and calls the after callbacks of each one it ends.
  void ended(run_state_base& run, std::uint32_t step, bool ok) noexcept;

  /// A running run's control of one namespace (run_handle); unknown_step for a name that is not one.
  /// pause and stop are defined with the run's own (run_lifecycle.hpp).
  static void pause(run_state_base& run, std::string_view name);
  static void resume(run_state_base& run, std::string_view name) {
    if (process_entry* e = known(run, name))
      run.processes_.load(std::memory_order_acquire)->release(run, *e, 0, process_entry::paused);
  }
  static void stop(run_state_base& run, std::string_view name);
  /// Whether namespace `name` is paused (stopped or timed_out: whether it was).
  static bool has(const run_state_base& run, std::string_view name, std::uint32_t bit) {
    const process_entry* e = known(run, name);
    return e != nullptr && (e->state.load(std::memory_order_acquire) & bit) != 0;
  }
  /// How many ready steps the paused namespace `name` holds.
  static std::size_t held(const run_state_base& run, std::string_view name) {
    const process_entry* e = known(run, name);
    if (e == nullptr) return 0;
    std::lock_guard lock(run.processes_.load(std::memory_order_acquire)->mutex_);
    return e->parked.size();
  }
  /// A cancelled run: every step its processes hold goes to `ready`.
  void unpark_all(std::vector<task_node*>& ready) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0, n = count_.load(std::memory_order_acquire); i != n; ++i) {
      ready.insert(ready.end(), entries_[i]->parked.begin(), entries_[i]->parked.end());
      entries_[i]->parked.clear();
    }
  }

 private:
  static void check(const run_state_base& run, std::string_view name) { (void)namespace_size(run.graph(), name); }
  /// Namespace `name`'s entry, or null when it has none yet (after checking that it is a namespace:
  /// a pass over the step names, made only then).
  static process_entry* known(const run_state_base& run, std::string_view name) {
    const process_table* t = run.processes_.load(std::memory_order_acquire);
    process_entry* e = t != nullptr ? t->find(name) : nullptr;
    if (e == nullptr) check(run, name);
    return e;
  }
  /// The run's table, made on first use (before the run starts, or under its control lock).
  static process_table& of(run_state_base& run) {
    process_table* t = run.processes_.load(std::memory_order_acquire);
    if (t == nullptr) {
      t = new process_table;
      run.processes_.store(t, std::memory_order_release);
    }
    return *t;
  }
  process_entry* find(std::string_view name) const noexcept {
    for (std::size_t i = 0, n = count_.load(std::memory_order_acquire); i != n; ++i)
      if (entries_[i]->name == name) return entries_[i].get();
    return nullptr;
  }
  process_entry& find_or_add(run_state_base& run, std::string_view name) {
    process_entry* e = find(name);
    return e != nullptr ? *e : add(run, name);
  }
  process_entry& add(run_state_base& run, std::string_view name) {
    const std::size_t n = count_.load(std::memory_order_relaxed);
    if (n == capacity)
      throw usage_error("lightflow: a run has at most " + std::to_string(capacity) + " processes (\"" +
                        std::string(name) + "\" is one more)");
    auto e = std::make_unique<process_entry>();
    e->name = name;
    e->steps = namespace_size(run.graph(), name);
    e->run = &run;
    entries_[n] = std::move(e);
    count_.store(n + 1, std::memory_order_release);  // publishes the entry to the steps that read the table
    return *entries_[n];
  }
  /// Sets and clears state bits of `e` and hands the steps it held back to the scheduler.
  void release(run_state_base& run, process_entry& e, std::uint32_t set, std::uint32_t clear) noexcept {
    std::vector<task_node*> ready;
    {
      std::lock_guard lock(mutex_);
      e.state.fetch_or(set, std::memory_order_seq_cst);
      e.state.fetch_and(~clear, std::memory_order_seq_cst);
      ready.swap(e.parked);
    }
    for (task_node* t : ready) run.requeue_(run.scheduler_, t);
  }
  void begin(run_state_base& run, process_entry& e);
  static run_event event(const run_state_base& run, const process_entry& e) noexcept {
    run_event ev = run.run_info();
    ev.process = e.name;
    ev.steps = e.steps;
    return ev;
  }

  mutable std::mutex mutex_;  // the entries' parked lists and their pause bits
  std::atomic<std::size_t> count_{0};
  std::unique_ptr<process_entry> entries_[capacity];
};

inline process_table::gate process_table::enter(run_state_base& run, std::uint32_t step) {
  const std::string_view name = run.graph().name(step);
  const std::size_t n = count_.load(std::memory_order_acquire);
  for (std::size_t i = 0; i != n; ++i) {
    process_entry& e = *entries_[i];
    if (!in_namespace(name, e.name)) continue;
    std::uint32_t s = e.state.load(std::memory_order_seq_cst);
    if ((s & process_entry::paused) != 0) {
      std::lock_guard lock(mutex_);  // resume, stop and a time limit take the held steps under it
      s = e.state.load(std::memory_order_relaxed);
      if ((s & (process_entry::paused | process_entry::stopped | process_entry::timed_out)) == process_entry::paused &&
          !run.cancelled()) {
        e.parked.push_back(&run.nodes_[step]);
        return gate::parked;
      }
    }
    if ((s & (process_entry::stopped | process_entry::timed_out)) != 0) {
      run.records_[step].status = (s & process_entry::stopped) != 0 ? step_status::stopped : step_status::cancelled;
      run.not_run(step);
      return gate::ended;
    }
  }
  for (std::size_t i = 0; i != n; ++i) {
    process_entry& e = *entries_[i];
    if (!e.declared || !in_namespace(name, e.name)) continue;
    std::call_once(e.began, [&] { begin(run, e); });  // the process's other steps wait for its before callbacks
    if (e.before_error != nullptr) {
      run.fail_by_callback(step, "before-process", e.before_error);
      run.not_run(step);
      return gate::ended;
    }
  }
  return gate::run;
}

inline void process_table::begin(run_state_base& run, process_entry& e) {
  if (e.limit) {
    e.deadline = timer_service::clock::now() + *e.limit;
    e.timer = run.registry_->timer().add(
        e.deadline,
        [](void* p) noexcept {
          process_entry& at = *static_cast<process_entry*>(p);
          std::uint32_t s = at.state.load(std::memory_order_acquire);
          do {
            if ((s & process_entry::ended) != 0) return;  // every step of it ended first
          } while (!at.state.compare_exchange_weak(s, s | process_entry::timed_out, std::memory_order_acq_rel));
          at.run->tell(log_level::warning, [&] {
            return "process \"" + at.name + "\" timed out after " +
                   std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*at.limit).count()) + " ms";
          });
          at.run->processes_.load(std::memory_order_acquire)->release(*at.run, at, 0, 0);
        },
        &e);
  }
  if (!e.before.empty())
    e.before_error = run.call_flow_callbacks(e.before, event(run, e), callback_point::before_process, e.name);
}

inline void process_table::ended(run_state_base& run, std::uint32_t step, bool ok) noexcept {
  const std::string_view name = run.graph().name(step);
  for (std::size_t i = 0, n = count_.load(std::memory_order_acquire); i != n; ++i) {
    process_entry& e = *entries_[i];
    if (!e.declared || !in_namespace(name, e.name)) continue;
    if (!ok) e.not_ok.fetch_add(1, std::memory_order_relaxed);
    if (run.records_[step].restored) e.restored.fetch_add(1, std::memory_order_relaxed);
    if (e.left.fetch_sub(1, std::memory_order_acq_rel) != 1) continue;
    e.state.fetch_or(process_entry::ended, std::memory_order_acq_rel);  // the process is over
    if (e.timer != 0) run.registry_->timer().cancel(e.deadline, std::exchange(e.timer, 0));
    if (e.after.empty() || e.restored.load(std::memory_order_relaxed) == e.steps) continue;  // nothing of it ran
    run_event ev = event(run, e);
    ev.ok = e.not_ok.load(std::memory_order_relaxed) == 0;
    if (run.call_flow_callbacks(e.after, ev, callback_point::after_process, e.name) != nullptr) {
      std::lock_guard lock(run.callback_mutex_);  // two processes may end at once
      if (!run.flow_must_failure_) run.flow_must_failure_ = callback_point::after_process;
    }
  }
}

inline void run_state_base::drop_processes() noexcept { delete processes_.load(std::memory_order_acquire); }

}  // namespace lightflow::detail

#endif
