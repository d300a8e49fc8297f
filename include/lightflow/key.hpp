// Typed keys for the key/value contexts of runtime flows, and `values`: the key/value input of a run.
//
//   lf::key<std::string> order_id{"order_id"};
//   lf::values input;
//   input.set(order_id, "ORD-1");        // a run's steps read it with ctx.get(order_id)
#ifndef LIGHTFLOW_KEY_HPP
#define LIGHTFLOW_KEY_HPP

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "lightflow/detail/erased_value.hpp"
#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/errors.hpp"

namespace lightflow {

/// A name, and the type of the values stored under it. Two keys with one name and different types
/// name the same entry: reading it as the wrong type throws a key_error that names the key.
template <class T>
class key {
 public:
  using value_type = T;  ///< The type of the values stored under it.
  /// The key called `name` (it registers T's checkpoint codec, for runs that checkpoint).
  explicit key(std::string name) : name_(std::move(name)) { detail::register_type<T>(); }
  /// Its name.
  const std::string& name() const noexcept { return name_; }

 private:
  std::string name_;
};

namespace detail {
/// `v` as a T, or a key_error: `what` names the value ("key \"x\" in the run's input", "the
/// result of step \"a\"").
template <class T>
const T& checked_value(const erased_value& v, std::string_view what) {
  if (const T* p = v.get<T>()) return *p;
  throw key_error("lightflow: " + std::string(what) + " holds " + with_article(v.type()) + ", not the " +
                  std::string(erased_type_of<T>.name) + " it was read as");
}
/// The subject of checked_value for key `key` (`where`: "in the run's input", "written by step ...").
inline std::string key_subject(std::string_view key, std::string_view where) {
  return "key \"" + std::string(key) + "\" " + std::string(where);
}
/// The subject of checked_value for step `step`'s result.
inline std::string result_subject(std::string_view step) { return "the result of step \"" + std::string(step) + "\""; }
}  // namespace detail

/// The key/value input of a runtime flow's run: what every step reads when neither it nor any of
/// its ancestors wrote the key. A run never changes it.
template <class Tag>
class basic_values {
 public:
  /// Stores `value` (converted to T) under `k`, replacing what was there; returns `*this`.
  template <class T, class U>
  basic_values& set(const key<T>& k, U&& value) {
    entries_.insert_or_assign(k.name(), std::make_shared<const detail::erased_value>(
                                            detail::erased_value::make<T>(std::forward<U>(value))));
    return *this;
  }
  /// The value under `k`, or null when there is none; a key_error when it has another type.
  template <class T>
  const T* find(const key<T>& k) const {
    auto it = entries_.find(k.name());
    return it == entries_.end() ? nullptr : &detail::checked_value<T>(*it->second, detail::key_subject(k.name(), "in the run's input"));
  }
  /// Whether there is a value called `name` (of any type).
  bool contains(std::string_view name) const { return entries_.find(name) != entries_.end(); }
  /// The entry called `name`, untyped, or null.
  const detail::erased_value* find_erased(std::string_view name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : it->second.get();
  }
  /// The number of values.
  std::size_t size() const noexcept { return entries_.size(); }

  /// @cond LIGHTFLOW_INTERNAL
  // For checkpoints (internal): the entries by name, and adding one already erased.
  const auto& entries() const noexcept { return entries_; }
  void set_erased(std::string name, detail::erased_value value) {
    entries_.insert_or_assign(std::move(name), std::make_shared<const detail::erased_value>(std::move(value)));
  }
  /// @endcond

 private:
  // Shared, never changed: copies of an input (one per run) cost no copies of its values.
  // (Its code waits for the template's use: detail/runtime_names.hpp, deferred_t.)
  detail::deferred_t<std::map<std::string, std::shared_ptr<const detail::erased_value>, std::less<>>, Tag> entries_;
};

}  // namespace lightflow

#endif
