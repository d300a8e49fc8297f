// The key/value context of a runtime-flow step, in the spirit of the Go original's, but typed and
// deterministic. Pass it as the step callable's parameter (`lf::context&`).
//
// A step reads what it wrote itself, then what its ancestors wrote, then the run's input; never what
// a sibling or an unrelated branch wrote. A write shadows the key for the writer and its descendants.
// When two ancestors that are not ordered with each other both wrote a key (and no later ancestor
// wrote it again), reading it throws key_error naming both: never a race. end_values() returns them
// all instead.
#ifndef LIGHTFLOW_CONTEXT_HPP
#define LIGHTFLOW_CONTEXT_HPP

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/detail/erased_value.hpp"
#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/key.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow {

/// What a runtime flow's step receives: its step_context (stop token, attempt, name, ...) plus the
/// key/value store of the run: the values the run's input and the step's ancestors wrote (get, find),
/// and its own writes (set), which its dependents see.
template <class Tag>
class basic_context : public step_context {
 public:
  /// The context of the step `sc` is about, in runtime run `run`.
  basic_context(detail::basic_runtime_run<Tag>& run, const step_context& sc) noexcept;

  /// The value of `k` this step sees; throws key_error when there is none, when it has another
  /// type, or when two unordered ancestors wrote it.
  template <class T>
  const T& get(const key<T>& k) const {
    const detail::erased_value* v = lookup(k.name(), true);
    return detail::checked_value<T>(*v, detail::key_subject(k.name(), where()));
  }
  /// Like get, but null when no step this one sees wrote `k` and the input lacks it.
  template <class T>
  const T* find(const key<T>& k) const {
    const detail::erased_value* v = lookup(k.name(), false);
    return v == nullptr ? nullptr : &detail::checked_value<T>(*v, detail::key_subject(k.name(), where()));
  }
  /// Writes `k` for this step and its descendants (the input is unchanged).
  template <class T, class U>
  void set(const key<T>& k, U&& value) {
    write(k.name(), detail::erased_value::make<T>(std::forward<U>(value)));
  }
  /// The writes of `k` this step sees that no later write shadows, by writer (one entry unless
  /// unordered ancestors wrote it); empty when only the input has it.
  template <class T>
  std::map<std::string, T> end_values(const key<T>& k) const {
    std::map<std::string, T> out;
    for (const auto& [writer, value] : frontier(k.name()))
      out.emplace(std::string(writer), detail::checked_value<T>(*value, detail::key_subject(k.name(), "written by step \"" + std::string(writer) + "\"")));
    return out;
  }
  /// The return value of step `name`, one of this step's ancestors; throws key_error otherwise.
  /// After a namespaced merge, a name is also looked up in the reading step's namespaces ("a.y",
  /// read by "rt.report", finds "rt.a.y"), innermost first.
  template <class T>
  const T& result(std::string_view name) const {
    return detail::checked_value<T>(ancestor_result(name), detail::result_subject(name));
  }

 private:
  std::string where() const;
  const detail::erased_value* lookup(std::string_view key, bool required) const;
  void write(std::string_view key, detail::erased_value value);
  std::vector<std::pair<std::string_view, const detail::erased_value*>> frontier(std::string_view key) const;
  const detail::erased_value& ancestor_result(std::string_view name) const;

  detail::basic_runtime_run<Tag>* runtime_;
  std::uint32_t index_;
};

}  // namespace lightflow

#endif
