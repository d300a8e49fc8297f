// The state of one run of a runtime flow: the scheduler's per-step arrays, each step's result and
// key/value writes, and the reads of the key/value contexts.
#ifndef LIGHTFLOW_DETAIL_RUNTIME_RUN_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_RUN_HPP

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lightflow/context.hpp"
#include "lightflow/detail/erased_value.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/runtime_graph.hpp"
#include "lightflow/key.hpp"

namespace lightflow::detail {

/// What one step of one run produced: its return value and its key/value writes. Made only for
/// steps that return or write something.
struct step_data {
  erased_value result;
  std::vector<std::pair<std::string, erased_value>> writes;  // the latest write of a key is the last
  std::size_t kept = 0;  // the first `kept` writes were made before the first attempt (before-step callbacks)

  const erased_value* written(std::string_view key) const noexcept {
    for (auto w = writes.rbegin(); w != writes.rend(); ++w)
      if (w->first == key) return &w->second;
    return nullptr;
  }
  /// Before another attempt: what the failed one returned and wrote goes; what was written before
  /// the first attempt stays.
  void forget_attempt() noexcept {
    result = erased_value{};
    while (writes.size() > kept) writes.pop_back();
  }
};

/// Hashes the keys a run's steps wrote (found by string_view, without making a string).
struct key_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

/// The per-step arrays, allocated before run_state_base is constructed over them.
struct runtime_arrays {
  explicit runtime_arrays(std::uint32_t n)
      : records(raw<step_record>(n)), nodes(raw<task_node>(n + 1)) {}
  ~runtime_arrays() = default;
  // Storage only: run_state_base::prepare makes the objects, in its one pass over the steps.
  struct free_storage {
    void operator()(void* p) const noexcept { ::operator delete(p); }
  };
  template <class T>
  static T* raw(std::size_t n) {
    static_assert(std::is_trivially_destructible_v<T> && alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);
    return static_cast<T*>(::operator new(n * sizeof(T)));
  }
  std::unique_ptr<step_record, free_storage> records;
  std::unique_ptr<task_node, free_storage> nodes;
};

template <class Tag>
class basic_runtime_run final : private runtime_arrays, public run_state_base {
  // The containers' code waits for this template's use (runtime_names.hpp: deferred_t).
  template <class T>
  using vector = deferred_t<std::vector<T>, Tag>;
  using key_set = deferred_t<std::unordered_set<std::string, key_hash, std::equal_to<>>, Tag>;
  using step_set = deferred_t<std::unordered_set<std::uint32_t>, Tag>;
  using runtime_graph = basic_runtime_graph<Tag>;

 public:
  basic_runtime_run(std::shared_ptr<const runtime_graph> graph, values input, run_registry& registry, std::uint64_t id)
      : runtime_arrays(graph->size()),
        run_state_base(graph->view, graph->invokers.data(), &destroy, records.get(),
                       nodes.get(), registry, id),
        graph_(std::move(graph)),
        input_(std::move(input)) {
    prepare(&input_, &typeid(values), graph_->callables.data(), nullptr, nullptr);
    set_policies(graph_->rule_table.empty() ? nullptr : graph_->rule_table.data(), graph_->defaults.get());
    set_output_hooks(
        [](const run_state_base& base, std::uint32_t step) noexcept {
          const step_data* d = static_cast<const basic_runtime_run&>(base).data_of(step);
          return d != nullptr ? d->result.view() : value_view{};
        },
        [](run_state_base& base, std::uint32_t step) noexcept {
          if (step_data** table = static_cast<basic_runtime_run&>(base).table()) {
            delete table[step];
            table[step] = nullptr;
          }
        });
  }
  ~basic_runtime_run() {
    step_data** table = this->table();
    if (table == nullptr) return;  // no step kept anything: no pass over the steps
    for (std::uint32_t i = 0; i != graph_->size(); ++i) delete table[i];
    delete[] table;
  }

  const runtime_graph& graph_data() const noexcept { return *graph_; }
  const values& input_values() const noexcept { return input_; }
  const step_data* data_of(std::uint32_t step) const noexcept {
    step_data* const* t = table();
    return t == nullptr ? nullptr : t[step];
  }

  /// On the step's own thread, while it runs.
  step_data& own(std::uint32_t step) {
    step_data** t = table();
    if (t == nullptr) t = make_table();
    if (t[step] == nullptr) t[step] = new step_data;
    return *t[step];
  }
  void write(std::uint32_t step, std::string_view key, erased_value value) {
    step_data& d = own(step);
    bool known;
    {
      std::shared_lock lock(keys_mutex_);
      known = written_keys_.find(key) != written_keys_.end();
    }
    if (!known) {
      std::unique_lock lock(keys_mutex_);
      written_keys_.emplace(key);
    }
    for (std::size_t i = d.kept; i < d.writes.size(); ++i)  // (a write kept from before the first attempt stays)
      if (d.writes[i].first == key) {
        d.writes[i].second = std::move(value);
        return;
      }
    d.writes.emplace_back(std::string(key), std::move(value));
  }

  /// A restored step's writes count as written (see frontier's shortcut).
  void note_writes(std::uint32_t step) {
    if (const step_data* d = data_of(step)) {
      std::unique_lock lock(keys_mutex_);
      for (const auto& [k, v] : d->writes) written_keys_.emplace(k);
    }
  }

  /// Takes ownership of the run's checkpoint session.
  void attach(std::unique_ptr<checkpoint_session> session) noexcept {
    session_ = std::move(session);
    run_state_base::attach(session_.get());
  }

  /// The steps whose writes of `key` step `step` sees and that no later write shadows (itself, if it
  /// wrote the key). A restriction hands the question to the ancestor it names.
  vector<std::uint32_t> frontier(std::uint32_t step, std::string_view key) const {
    const runtime_graph& g = *graph_;
    for (;;) {
      if (written(step, key) != nullptr) return {step};
      const restriction* r = g.restriction_of(step, key);
      if (r == nullptr) break;
      step = r->ancestor;
    }
    {
      std::shared_lock lock(keys_mutex_);
      if (written_keys_.find(key) == written_keys_.end()) return {};  // no step wrote it (ancestors are done)
    }
    // Walk the ancestors, stopping at writers.
    vector<std::uint32_t> found, stack(g.deps.begin() + g.dep_offsets[step], g.deps.begin() + g.dep_offsets[step + 1]);
    step_set seen;
    while (!stack.empty()) {
      const std::uint32_t s = stack.back();
      stack.pop_back();
      if (!seen.insert(s).second) continue;
      if (written(s, key) != nullptr) {
        found.push_back(s);
        continue;
      }
      stack.insert(stack.end(), g.deps.begin() + g.dep_offsets[s], g.deps.begin() + g.dep_offsets[s + 1]);
    }
    // A writer reached by one path may be an ancestor of another writer: that one shadows it.
    if (found.size() > 1) {
      vector<std::uint32_t> kept;
      for (std::uint32_t a : found)
        if (std::none_of(found.begin(), found.end(), [&](std::uint32_t b) { return b != a && g.is_ancestor(a, b); }))
          kept.push_back(a);
      found.swap(kept);
      std::sort(found.begin(), found.end());
    }
    return found;
  }

  const erased_value* written(std::uint32_t step, std::string_view key) const noexcept {
    const step_data* d = data_of(step);
    return d == nullptr ? nullptr : d->written(key);
  }

  std::string step_name(std::uint32_t i) const { return std::string(graph_->name(i)); }

 private:
  static void destroy(run_state_base* base) noexcept { delete static_cast<basic_runtime_run*>(base); }

  step_data** table() const noexcept { return table_.load(std::memory_order_acquire); }
  // The first step that keeps something makes the table; two at once: one table wins.
  step_data** make_table() {
    auto fresh = std::make_unique<step_data*[]>(graph_->size());
    step_data** expected = nullptr;
    if (table_.compare_exchange_strong(expected, fresh.get(), std::memory_order_acq_rel, std::memory_order_acquire))
      return fresh.release();
    return expected;
  }

  std::shared_ptr<const runtime_graph> graph_;
  values input_;
  mutable std::shared_mutex keys_mutex_;
  // Each step's step_data (null: it kept nothing); the table itself is made by the first step that
  // keeps something, so a run whose steps keep nothing pays nothing per step for it.
  std::atomic<step_data**> table_{nullptr};
  key_set written_keys_;  // every key some step wrote
  std::unique_ptr<checkpoint_session> session_;
};

}  // namespace lightflow::detail

namespace lightflow {

template <class Tag>
basic_context<Tag>::basic_context(detail::basic_runtime_run<Tag>& run, const step_context& sc) noexcept
    : step_context(sc), runtime_(&run), index_(sc.index()) {}

template <class Tag>
std::string basic_context<Tag>::where() const { return "as step \"" + std::string(name()) + "\" sees it"; }

template <class Tag>
const detail::erased_value* basic_context<Tag>::lookup(std::string_view key, bool required) const {
  const auto writers = runtime_->frontier(index_, key);
  if (writers.size() == 1) return runtime_->written(writers[0], key);
  if (writers.size() > 1)
    throw key_error("lightflow: step \"" + std::string(name()) + "\" reads key \"" + std::string(key) +
                    "\", which steps \"" + runtime_->step_name(writers[0]) + "\" and \"" + runtime_->step_name(writers[1]) +
                    "\" wrote, and neither is an ancestor of the other: restrict the key to one of them, or read "
                    "end_values()");
  if (const detail::erased_value* v = runtime_->input_values().find_erased(key)) return v;
  if (required)
    throw key_error("lightflow: step \"" + std::string(name()) + "\" reads key \"" + std::string(key) +
                    "\", which neither it, nor its ancestors, nor the run's input hold");
  return nullptr;
}

template <class Tag>
void basic_context<Tag>::write(std::string_view key, detail::erased_value value) { runtime_->write(index_, key, std::move(value)); }

template <class Tag>
std::vector<std::pair<std::string_view, const detail::erased_value*>> basic_context<Tag>::frontier(std::string_view key) const {
  std::vector<std::pair<std::string_view, const detail::erased_value*>> out;
  for (std::uint32_t w : runtime_->frontier(index_, key))
    out.emplace_back(runtime_->graph_data().name(w), runtime_->written(w, key));
  return out;
}

template <class Tag>
const detail::erased_value& basic_context<Tag>::ancestor_result(std::string_view step) const {
  const auto& g = runtime_->graph_data();
  // The step called `step`, or so called in one of the reader's namespaces.
  const std::uint32_t i = detail::find_in_namespaces(name(), g.none, [&](std::string_view prefix) {
    return prefix.empty() ? g.find(step) : g.find(std::string(prefix) + std::string(step));
  });
  const std::string who = "lightflow: step \"" + std::string(name()) + "\" asks for the result of step \"" + std::string(step) + "\"";
  if (i == detail::basic_runtime_graph<Tag>::none) throw key_error(who + ", which is not a step of the flow");
  if (!g.is_ancestor(i, index_)) throw key_error(who + ", which is not one of its ancestors");
  if (runtime_->record(i).status == step_status::skipped_by_condition) throw key_error(who + ", which its condition skipped");
  const detail::step_data* d = runtime_->data_of(i);
  if (d == nullptr || !d->result.has_value()) throw key_error(who + ", which returned nothing");
  return d->result;
}

}  // namespace lightflow

#endif
