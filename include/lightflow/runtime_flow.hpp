// Flows built at run time, in the shape of the Go original: create a flow by name, add steps by name,
// declare dependencies by handle or by name, merge flows. Checked (duplicates at once; unknown dependencies,
// cycles and bad restrictions before any step runs) and run on the same executor as static flows.
//
//   lf::runtime_flow f{"订单处理"};
//   auto check = f.add("验证订单", [](lf::context& ctx) { ctx.set(checked, true); });
//   f.add("处理支付", [](lf::context& ctx) { return ctx.get(amount); }).after(check);
//   f.add("发货", ship).after("处理支付");   // by name; the step may be added later
//   auto result = pool.run(f, lf::values{}.set(amount, 99.5));
//   double paid = result.get<double>("处理支付");
#ifndef LIGHTFLOW_RUNTIME_FLOW_HPP
#define LIGHTFLOW_RUNTIME_FLOW_HPP

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/context.hpp"
#include "lightflow/detail/pack.hpp"
#include "lightflow/detail/runtime_graph.hpp"
#include "lightflow/detail/runtime_map.hpp"
#include "lightflow/detail/policy_setters.hpp"
#include "lightflow/detail/runtime_merge.hpp"
#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/detail/runtime_program.hpp"
#include "lightflow/detail/runtime_run.hpp"
#include "lightflow/detail/runtime_step.hpp"
#include "lightflow/detail/signature_check.hpp"
#include "lightflow/detail/spelling.hpp"
#include "lightflow/detail/static_in_runtime.hpp"
#include "lightflow/detail/step_signature.hpp"
#include "lightflow/detail/subflow_join.hpp"
#include "lightflow/detail/summary.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/key.hpp"
#include "lightflow/outcome.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/step_group.hpp"

namespace lightflow {

/// How runtime_flow::merge combines two flows.
enum class merge_mode {
  namespaced,  ///< the source's steps are added as "<source name>.<step name>", with their dependencies
  unify,       ///< by name, as the Go original: a step in both keeps the target's callable and gets the
               ///< union of the dependencies, the source's key restrictions (except of keys the target
               ///< restricts), its retries and timeout where the target's step has none, its condition
               ///< (both must hold; either side's skip_dependents stays) and its step callbacks (after
               ///< the target's); steps the target lacks are added with their dependencies
};

/// A step of a runtime flow: its flow and index. `after` declares its dependencies.
template <class Tag>
class basic_step_handle : public detail::edited_policy_setters<basic_step_handle<Tag>, false> {
 public:
  /// The step at `index` of `flow` (which must outlive the handle).
  basic_step_handle(basic_runtime_flow<Tag>& flow, std::uint32_t index) noexcept : flow_(&flow), index_(index) {}
  std::uint32_t index() const noexcept { return index_; }  ///< The step's index (the order steps were added).
  std::string_view name() const { return flow_->step_name(index_); }  ///< The step's name.
  /// Declares dependencies: handles of steps of the same flow, names (of steps that may be added
  /// later; an unknown name is a flow_error when the flow is checked), or groups (step_group.hpp:
  /// the step runs after the steps that end the group).
  template <class... Deps>
  basic_step_handle& after(const Deps&... deps) {
    auto one = [&](const auto& dep) {
      if constexpr (requires { dep.exits(); }) {
        for (const basic_step_handle& end : dep.exits()) after(end);
      } else if constexpr (std::is_same_v<std::decay_t<decltype(dep)>, basic_step_handle>) {
        if (dep.flow_ != flow_)
          throw flow_error("lightflow: step \"" + std::string(name()) + "\" is made to depend on a step of another flow");
        flow_->depend(*this, dep);
      } else {
        flow_->mutate().depend(index_, std::string_view(dep));
      }
    };
    (one(deps), ...);
    return *this;
  }
  // retry, timeout (each overriding the flow's default), before_step and after_step (after the
  // executor's and the flow's callbacks; see callback.hpp): in place, from detail::edited_policy_setters.
  /// Runs the step only when `condition` (taking an `lf::context&` or a `step_context&`) returns
  /// true once its dependencies are done; else it is skipped_by_condition, and its dependents run
  /// (reading its result is a key_error) unless `skip` says otherwise.
  template <class Predicate>
  basic_step_handle& when(Predicate condition, std::optional<skip_dependents> skip = std::nullopt) {
    std::function<bool(step_context&)> test;
    if constexpr (std::is_invocable_r_v<bool, const Predicate&, basic_context<Tag>&>) {
      test = [condition = std::move(condition)](step_context& sc) {
        basic_context<Tag> ctx(detail::step_context_access::run<Tag>(sc), sc);
        return static_cast<bool>(condition(ctx));
      };
    } else {
      static_assert(std::is_invocable_r_v<bool, const Predicate&, step_context&>,
                    "lightflow: a step's condition must be callable with an lf::context& (or a step_context&) and "
                    "return bool");
      test = std::move(condition);
    }
    return edit_policy(detail::policy_change::condition(test, skip));
  }

 private:
  friend detail::edited_policy_setters<basic_step_handle, false>;
  template <class Change>
  basic_step_handle& edit_policy(Change&& change) {
    detail::basic_runtime_graph<Tag>& g = flow_->mutate();
    g.set_rules(index_, policy::changed(g.rules_of(index_), change));
    return *this;
  }

  friend class basic_runtime_flow<Tag>;
  basic_runtime_flow<Tag>* flow_;
  std::uint32_t index_;
};

/// A flow whose steps are added at run time: each step's callable takes an `lf::context&` (or
/// nothing) and passes data to other steps through keys (lf::key), or its result. Checked (the same
/// rules and messages as a static flow) when it is run, merged or check()ed. Copies share their steps
/// until one of them changes, and a run keeps the steps it started with: changing the flow later does
/// not change runs in flight.
template <class Tag>
class basic_runtime_flow : public detail::edited_policy_setters<basic_runtime_flow<Tag>, true> {
  using runtime_graph = detail::basic_runtime_graph<Tag>;
  using step_handle = basic_step_handle<Tag>;

 public:
  /// An empty flow called `name`.
  explicit basic_runtime_flow(std::string name) : data_(std::make_shared<runtime_graph>()) {
    data_->flow_name = std::move(name);
  }
  /// Copies share their data until one of them changes (copy on write).
  basic_runtime_flow(const basic_runtime_flow& o) : data_(o.shared()) {}
  /// Shares `o`'s data (copy on write).
  basic_runtime_flow& operator=(const basic_runtime_flow& o) {
    if (this != &o) {
      auto d = o.shared();
      std::lock_guard lock(mutex_);
      data_ = std::move(d);
    }
    return *this;
  }
  basic_runtime_flow(basic_runtime_flow&& o) noexcept : data_(std::move(o.data_)) {}  ///< Takes over `o`'s data.
  ~basic_runtime_flow() = default;

  std::string_view name() const noexcept { return data_->flow_name; }  ///< The flow's name.
  std::size_t size() const noexcept { return data_->size(); }          ///< The number of steps.

  /// Adds a step called `name` (UTF-8) whose callable takes an `lf::context&` or nothing and
  /// returns its result (or void). Throws flow_error if the flow has a step of that name.
  template <class F>
  step_handle add(std::string_view name, F&& callable) {
    using fn = std::decay_t<F>;
    static_assert(detail::runtime_callable<fn>,
                  "lightflow: a runtime_flow step's callable must be invocable, as const, with a lightflow::context& "
                  "or with nothing");
    if constexpr (!std::is_void_v<detail::runtime_return_t<fn>>) detail::register_type<detail::runtime_return_t<fn>>();
    runtime_graph& g = mutate();
    constexpr const detail::erased_type* type = detail::result_type_of<detail::runtime_return_t<fn>>();
    if constexpr (detail::stateless_callable<fn>) {
      return {*this, g.add(name, &detail::invoke_runtime<fn>, type, nullptr, nullptr)};
    } else {
      auto state = std::make_shared<const fn>(std::forward<F>(callable));
      const void* raw = state.get();
      return {*this, g.add(name, &detail::invoke_runtime<fn>, type, raw, std::move(state))};
    }
  }

  /// Adds a map step `name` (map_step.hpp) after step `source`: `callable` runs on each element of its
  /// result, a std::vector<E> (E: what `callable` takes, or given); retries and a timeout are per element.
  /// Given lf::keep_going, the step's result is its elements' outcomes (outcome.hpp).
  template <class E = void, class F, std::same_as<keep_going_t>... Keep>
    requires(sizeof...(Keep) <= 1)
  step_handle map(std::string_view name, std::string_view source, F&& callable, Keep...) {
    using body = detail::runtime_map<typename detail::map_element<E, std::decay_t<F>>::type, std::decay_t<F>,
                                     sizeof...(Keep) == 1>;
    return add(name, body{std::string(source), std::forward<F>(callable)})
        .after(source)
        .edit_policy(detail::policy_change::elements());
  }

  // retry and timeout (for the steps that do not say otherwise) and the four callbacks (see
  // callback.hpp; after the executor's and before each step's own): in place, from
  // detail::edited_policy_setters.

  /// `step` runs after `dependency`.
  basic_runtime_flow& depend(step_handle step, step_handle dependency) {
    mutate().depend(step.index(), dependency.index());
    return *this;
  }
  /// By name; `dependency` may be added later (checked when the flow is checked or run).
  basic_runtime_flow& depend(std::string_view step, std::string_view dependency) {
    const std::uint32_t s = index_of(step);
    mutate().depend(s, dependency);
    return *this;
  }

  /// Makes `step` run after every step added before it that it does not already run after (the Go
  /// original's SyncAll); returns it.
  step_handle sync_all(step_handle step) {
    if (step.flow_ != this)
      throw flow_error("lightflow: sync_all in flow \"" + std::string(name()) + "\" is given a step of another flow");
    mutate().sync_all(step.index());
    return step;
  }

  /// The step called `name` (after a namespaced merge: "sub.step").
  std::optional<step_handle> find(std::string_view name) {
    const std::uint32_t i = data_->find(name);
    if (i == runtime_graph::none) return std::nullopt;
    return step_handle(*this, i);
  }
  /// The step called `name`; throws unknown_step (naming it, with the closest name) if there is none.
  step_handle at(std::string_view name) { return {*this, index_of(name)}; }
  /// The name of the step at `index`; throws unknown_step if there is none.
  std::string_view step_name(std::uint32_t index) const {
    if (index >= data_->size())
      throw unknown_step("lightflow: flow \"" + data_->flow_name + "\" has no step " + std::to_string(index));
    return data_->name(index);
  }
  /// The names of the dependencies of step `name`, declared so far.
  std::vector<std::string> dependencies(std::string_view name) const {
    std::vector<std::string> out;
    for (std::uint32_t d : data_->dependencies_of(index_of(name))) out.emplace_back(data_->name(d));
    for (const auto& [s, dep] : data_->added_by_name)
      if (data_->name(s) == name) out.push_back(dep);
    return out;
  }

  /// Step `step` reads key `k` as its ancestor `ancestor` sees it, whatever other ancestors wrote.
  /// A restriction to a step that is not an ancestor is a flow_error when the flow is checked.
  template <class T>
  basic_runtime_flow& restrict(std::string_view step, const key<T>& k, std::string_view ancestor) {
    const std::uint32_t s = index_of(step);
    runtime_graph& g = mutate();
    g.restrictions.push_back({s, k.name(), std::string(ancestor), 0});
    g.compiled = false;
    return *this;
  }

  /// The values of key `k` are sensitive: the record of a step that writes it, and the run's input,
  /// are sealed in checkpoints (checkpoint_options::cipher; a run without a cipher is refused).
  template <class T>
  basic_runtime_flow& sensitive(const key<T>& k) { return sensitive(k.name()); }
  /// The same, for the key called `key_name`.
  basic_runtime_flow& sensitive(std::string_view key_name) {
    runtime_graph& g = mutate();
    if (std::find(g.sensitive_keys.begin(), g.sensitive_keys.end(), key_name) == g.sensitive_keys.end())
      g.sensitive_keys.emplace_back(key_name);
    return *this;
  }

  /// Adds the steps of `source` (which is not changed). A cycle this creates is a flow_error naming
  /// it when the flow is checked; the source's sensitive keys stay sensitive.
  basic_runtime_flow& merge(const basic_runtime_flow& source, merge_mode mode = merge_mode::namespaced) {
    const auto src = source.shared();  // a stable copy, even when merging a flow into itself
    const bool spaced = mode == merge_mode::namespaced;
    detail::merge_runtime_flow(mutate(), *src, spaced ? std::string(src->flow_name) + "." : std::string(), !spaced);
    return *this;
  }

  /// Adds the steps of the static flow `source` (copied), named as `merge_mode` says. They keep
  /// their typed parameters: a step is called with its dependencies' results (found by name, so
  /// the names must keep the source's relations: in unify mode, a step of the target that replaces
  /// one of the source's must return what the source's did, or its dependents fail with a
  /// key_error). A root step is offered the run's `lf::values` (or nothing, or the step_context).
  template <fixed_string Name, class... Steps>
  basic_runtime_flow& merge(const static_flow<Name, Steps...>& source, merge_mode mode = merge_mode::namespaced) {
    const bool spaced = mode == merge_mode::namespaced;
    detail::merge_static_flow(mutate(), source, spaced ? std::string(Name.view()) + "." : std::string(), !spaced);
    return *this;
  }

  /// Adds `inner` (a runtime or static flow, copied) as subflow `name` (subflow.hpp): its steps as
  /// "<name>.<step>", and step `name`, which runs after them and fails (lf::subflow_error) when one of
  /// them failed. Returns the group of them (step_group.hpp): `.after(x)` makes the subflow's first
  /// steps run after x; a step that runs after the group runs after step `name`.
  template <class Inner>
  basic_step_group<Tag> subflow(std::string_view name, const Inner& inner) {
    constexpr bool is_static = detail::is_static_flow<Inner>;
    static_assert(is_static || std::is_same_v<Inner, basic_runtime_flow>,
                  "lightflow: runtime_flow::subflow takes a static flow or a runtime flow");
    std::shared_ptr<const runtime_graph> src;  // a stable copy, taken before this flow changes
    if constexpr (!is_static) src = inner.shared();
    const step_handle join = add(name, detail::subflow_join{});  // first: a name taken changes nothing
    const std::string prefix = std::string(name) + ".";
    if constexpr (is_static)
      detail::merge_static_flow(mutate(), inner, prefix, false);
    else
      detail::merge_runtime_flow(mutate(), *src, prefix, false);
    runtime_graph& g = mutate();
    g.set_rules(join.index(), detail::subflow_policy());
    std::vector<step_handle> steps;  // the subflow's steps, then its own (positions in the group)
    for (std::uint32_t i = join.index() + 1; i != g.size(); ++i) steps.emplace_back(*this, i);
    steps.push_back(join);
    std::vector<std::uint32_t> entries;
    for (std::uint32_t root : detail::join_subflow(g, join.index())) entries.push_back(root - join.index() - 1);
    const auto last = static_cast<std::uint32_t>(steps.size() - 1);
    if (entries.empty()) entries.push_back(last);  // an empty subflow: its own step
    return basic_step_group<Tag>::made_of(std::move(steps), std::move(entries), {last});
  }

  /// Checks the flow (dependencies, cycles, restrictions) and prepares it to run, as run() does: flow_error.
  void check() const { (void)compiled(); }

  /// `std::cout << flow` writes its name and steps, each with its dependencies, as a static flow's
  /// does; it checks the flow first (a flow_error for a flow that cannot run).
  template <class Traits>
  friend std::basic_ostream<char, Traits>& operator<<(std::basic_ostream<char, Traits>& out, const basic_runtime_flow& f) {
    return out << detail::graph_text(f.compiled()->view);
  }

  /// The checked graph, shared with the runs that use it (internal; for the executor).
  std::shared_ptr<const runtime_graph> compiled() const {
    std::lock_guard lock(mutex_);
    if (!data_->compiled) {
      if (data_.use_count() > 1) data_ = std::make_shared<runtime_graph>(*data_);
      data_->compile();
    }
    return data_;
  }

 private:
  friend class basic_step_handle<Tag>;
  friend detail::edited_policy_setters<basic_runtime_flow, true>;
  template <class Change>
  basic_runtime_flow& edit_policy(Change&& change) {
    runtime_graph& g = mutate();
    g.defaults = policy::changed(g.defaults, change);
    g.compiled = false;
    return *this;
  }
  std::shared_ptr<runtime_graph> shared() const {
    std::lock_guard lock(mutex_);
    return data_;
  }
  // The data, copied first if a run or another flow shares it.
  runtime_graph& mutate() {
    std::lock_guard lock(mutex_);
    if (data_.use_count() > 1) data_ = std::make_shared<runtime_graph>(*data_);
    return *data_;
  }
  std::uint32_t index_of(std::string_view name) const {
    const std::uint32_t i = data_->find(name);
    if (i == runtime_graph::none)
      throw unknown_step("lightflow: flow \"" + std::string(data_->flow_name) + "\" has no step named \"" + std::string(name) +
                         "\"" + detail::did_you_mean(name, data_->size(), [&](std::uint32_t k) { return data_->name(k); }));
    return i;
  }

  mutable std::shared_ptr<runtime_graph> data_;
  mutable std::mutex mutex_;
};

}  // namespace lightflow

#endif
