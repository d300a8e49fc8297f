// Builders for the common shapes of runtime flows (the Go original's Follow, Parallel and SyncAll),
// over the handles that `f.add(...)` returns, which a group keeps:
//
//   auto load = f.add("load", load_fn);
//   auto parts = lf::parallel(f.add("a", fa), f.add("b", fb)).after(load);  // a and b, each after load
//   lf::chain(f.add("merge", fm), f.add("report", fr)).after(parts);        // merge after a and b, then report
//   f.sync_all(f.add("cleanup", fc));                                       // after every step added before it
#ifndef LIGHTFLOW_STEP_GROUP_HPP
#define LIGHTFLOW_STEP_GROUP_HPP

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/detail/runtime_names.hpp"  // the handles: runtime_flow.hpp, which includes this header

namespace lightflow {

/// Steps of one runtime flow, made by lightflow::chain or lightflow::parallel, with the steps that
/// start the group (what `after` orders) and those that end it (what a step that runs after the group
/// waits for). It keeps their handles, in the order they were given.
template <class Tag = void>
class basic_step_group {
 public:
  using handle = basic_step_handle<Tag>;  ///< A step of the group.

  /// How many steps.
  std::size_t size() const noexcept { return steps_.size(); }
  /// The `i`th step given (the handles of nested groups in their order).
  const handle& operator[](std::size_t i) const { return steps_[i]; }
  /// Its steps, in order.
  auto begin() const noexcept { return steps_.begin(); }
  /// The end of its steps.
  auto end() const noexcept { return steps_.end(); }
  /// The steps that start the group: a chain's first element's, every element's of a parallel group.
  std::vector<handle> entries() const { return pick(entries_); }
  /// The steps that end it: a chain's last element's, every element's of a parallel group. A step
  /// made to run after the group (`h.after(group)`) runs after these (so after every step of it).
  std::vector<handle> exits() const { return pick(exits_); }

  /// Makes the group's entries run after `dependencies` (handles, names or groups, as
  /// basic_step_handle::after takes them); returns the group.
  template <class... Deps>
  basic_step_group& after(const Deps&... dependencies) {
    for (std::uint32_t i : entries_) steps_[i].after(dependencies...);
    return *this;
  }

  /// @cond LIGHTFLOW_INTERNAL
  template <class... Parts>
  static basic_step_group make(bool chained, const Parts&... parts) {
    basic_step_group g;
    std::vector<std::uint32_t> previous_exits;
    bool first = true;
    auto one = [&](const auto& part) {
      const auto at = static_cast<std::uint32_t>(g.steps_.size());
      std::vector<std::uint32_t> entries, exits;
      if constexpr (std::is_same_v<std::decay_t<decltype(part)>, basic_step_group>) {
        g.steps_.insert(g.steps_.end(), part.steps_.begin(), part.steps_.end());
        for (std::uint32_t i : part.entries_) entries.push_back(at + i);
        for (std::uint32_t i : part.exits_) exits.push_back(at + i);
      } else {
        g.steps_.push_back(part);
        entries.push_back(at);
        exits.push_back(at);
      }
      if (chained && !first)
        for (std::uint32_t e : entries)
          for (std::uint32_t x : previous_exits) g.steps_[e].after(g.steps_[x]);
      if (!chained || first) g.entries_.insert(g.entries_.end(), entries.begin(), entries.end());
      if (chained) previous_exits = std::move(exits);
      else g.exits_.insert(g.exits_.end(), exits.begin(), exits.end());
      first = false;
    };
    (one(parts), ...);
    if (chained) g.exits_ = std::move(previous_exits);
    return g;
  }
  /// A group of `steps` whose entries and exits are at those positions (runtime_flow::subflow).
  static basic_step_group made_of(std::vector<handle> steps, std::vector<std::uint32_t> entries,
                                  std::vector<std::uint32_t> exits) {
    basic_step_group g;
    g.steps_ = std::move(steps);
    g.entries_ = std::move(entries);
    g.exits_ = std::move(exits);
    return g;
  }
  /// @endcond

 private:
  std::vector<handle> pick(const std::vector<std::uint32_t>& at) const {
    std::vector<handle> out;
    out.reserve(at.size());
    for (std::uint32_t i : at) out.push_back(steps_[i]);
    return out;
  }

  std::vector<handle> steps_;
  std::vector<std::uint32_t> entries_, exits_;  // positions in steps_
};

/// A group of steps of a runtime flow (see basic_step_group).
using step_group = basic_step_group<>;

namespace detail {
template <class T>
inline constexpr bool is_group_part = false;
template <class Tag>
inline constexpr bool is_group_part<basic_step_handle<Tag>> = true;
template <class Tag>
inline constexpr bool is_group_part<basic_step_group<Tag>> = true;
template <class T>
struct tag_of;
template <template <class> class Of, class Tag>
struct tag_of<Of<Tag>> {
  using type = Tag;
};
}  // namespace detail

/// Each part after the one before it: a step's handle, or a group (whose entries run after the
/// previous part's exits). The group starts at the first part and ends at the last (the Go
/// original's Follow). `lf::chain(a, lf::parallel(b, c), d)`: b and c after a, d after b and c.
template <class First, class... Rest>
  requires(detail::is_group_part<First> && (detail::is_group_part<Rest> && ...))
auto chain(const First& first, const Rest&... rest) {
  return basic_step_group<typename detail::tag_of<First>::type>::make(true, first, rest...);
}

/// The parts side by side, with no order between them: `.after(x)` makes each of them run after x,
/// and a step that runs after the group waits for all of them (the Go original's Parallel and its
/// sync point).
template <class First, class... Rest>
  requires(detail::is_group_part<First> && (detail::is_group_part<Rest> && ...))
auto parallel(const First& first, const Rest&... rest) {
  return basic_step_group<typename detail::tag_of<First>::type>::make(false, first, rest...);
}

}  // namespace lightflow

#endif
