// What a finished run of a runtime flow reports: every step's status, times and error (as for static
// flows), each step's result by name, and the end values of a key.
#ifndef LIGHTFLOW_RUNTIME_RESULT_HPP
#define LIGHTFLOW_RUNTIME_RESULT_HPP

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>
#include <string>
#include <string_view>

#include "lightflow/detail/runtime_names.hpp"
#include "lightflow/detail/runtime_run.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/key.hpp"
#include "lightflow/run_handle.hpp"
#include "lightflow/run_result.hpp"

namespace lightflow {

/// The result of a run of a runtime flow: each step's result (`get<T>("step")`) and the last
/// values the steps wrote under a key (`end_values`), besides what every result has
/// (basic_run_result).
template <class Tag>
class basic_runtime_result : public basic_run_result {
 public:
  /// @cond LIGHTFLOW_INTERNAL
  explicit basic_runtime_result(detail::basic_runtime_run<Tag>* run) noexcept : basic_run_result(run) {}
  /// @endcond

  /// The result of step `name` as a T; throws bad_step_access if it did not succeed, key_error if it
  /// returned nothing or something else than a T.
  template <class T>
  const T& get(std::string_view name) const {
    const std::uint32_t i = index_of(name);
    const auto& rec = run_->record(i);
    if (rec.status != step_status::succeeded) throw bad_step_access(flow_name(), name, rec.status, why_not(i));
    const detail::step_data* d = runtime().data_of(i);
    if (d == nullptr || !d->result.has_value())
      throw key_error("lightflow: step \"" + std::string(name) + "\" of flow \"" + std::string(flow_name()) +
                      "\" returned nothing");
    return detail::checked_value<T>(d->result, detail::result_subject(name));
  }

  /// The writes of `k` that no descendant of their writer overwrote, by writer. (The input is not
  /// included.)
  template <class T>
  std::map<std::string, T> end_values(const key<T>& k) const {
    const auto& g = runtime().graph_data();
    const std::uint32_t n = g.size();
    // One pass in reverse topological order: does some descendant of step i write the key?
    std::vector<std::uint32_t> order, left(n);
    for (std::uint32_t i = 0; i != n; ++i) left[i] = g.dep_offsets[i + 1] - g.dep_offsets[i];
    order.reserve(n);
    for (std::uint32_t r : g.roots) order.push_back(r);
    for (std::size_t at = 0; at != order.size(); ++at)
      for (std::uint32_t e = g.out_offsets[order[at]]; e != g.out_offsets[order[at] + 1]; ++e)
        if (--left[g.outs[e]] == 0) order.push_back(g.outs[e]);
    std::vector<bool> below(n, false);  // a descendant wrote it
    std::map<std::string, T> out;
    for (std::size_t at = order.size(); at-- > 0;) {
      const std::uint32_t i = order[at];
      for (std::uint32_t e = g.out_offsets[i]; e != g.out_offsets[i + 1]; ++e)
        if (below[g.outs[e]] || runtime().written(g.outs[e], k.name()) != nullptr) below[i] = true;
    }
    for (std::uint32_t i = 0; i != n; ++i)
      if (const detail::erased_value* v = runtime().written(i, k.name()); v != nullptr && !below[i])
        out.emplace(std::string(g.name(i)),
                    detail::checked_value<T>(*v, detail::key_subject(k.name(), "written by step \"" + std::string(g.name(i)) + "\"")));
    return out;
  }

 private:
  const detail::basic_runtime_run<Tag>& runtime() const noexcept { return static_cast<const detail::basic_runtime_run<Tag>&>(*run_); }
};

/// A run of a runtime flow started with `executor::submit`.
using runtime_handle = run_handle<runtime_flow, values>;

}  // namespace lightflow

#endif
