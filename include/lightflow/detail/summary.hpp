// The texts of a flow (its name and steps, each with its dependencies) and of a run result (one line,
// or one more line per step): what `operator<<` and fmt's formatters (lightflow/fmt.hpp) print,
// written once.
#ifndef LIGHTFLOW_DETAIL_SUMMARY_HPP
#define LIGHTFLOW_DETAIL_SUMMARY_HPP

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "lightflow/detail/graph_view.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow::detail {

/// `3 steps`, `1 step`: a count and its noun.
inline std::string plural(std::size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

/// `flow "orders", 3 steps: load; charge <- load; ship <- load, charge`
inline std::string graph_text(const graph_view& g) {
  std::string out = "flow \"" + std::string(g.flow_name) + "\", " + plural(g.size, "step");
  for (std::uint32_t i = 0; i != g.size; ++i) {
    out += i == 0 ? ": " : "; ";
    out += g.name(i);
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e) {
      out += e == g.dep_offsets[i] ? " <- " : ", ";
      out += g.name(g.deps[e]);
    }
  }
  return out;
}

/// `flow "orders" run 3: not ok, 3 steps (1 succeeded, 1 failed, 1 skipped): step "charge" failed:
/// card declined; 1 step skipped`, and with `long_form` one more line per step: its status, time,
/// attempts and error. A template so that this header needs no run result (run_result.hpp uses it).
template <class Result>
std::string result_text(const Result& r, bool long_form) {
  std::string out = "flow \"" + std::string(r.flow_name()) + "\" run " + std::to_string(r.run_id()) + ": " +
                    (r.ok() ? "ok, " : "not ok, ") + plural(r.size(), "step") + " (";
  bool first = true;
  for (step_status s : statuses_in_order)
    if (const std::size_t n = r.count(s); n != 0) {
      out += (first ? "" : ", ") + std::to_string(n) + " ";
      out += to_string(s);
      first = false;
    }
  if (const std::size_t n = r.restored(); n != 0) out += "; " + std::to_string(n) + " restored";
  out += ")";
  if (!r.ok()) {
    std::string why = r.error_message();
    const std::string prefix = "lightflow: flow \"" + std::string(r.flow_name()) + "\": ";
    if (why.compare(0, prefix.size(), prefix) == 0) why.erase(0, prefix.size());
    out += ": " + why;
  }
  if (!long_form) return out;
  for (const auto& s : r.steps()) {
    out += "\n  " + std::string(s.name) + ": ";
    out += to_string(s.status);
    if (s.restored) out += " (restored)";
    if (s.attempts != 0) {
      char ms[32];
      const double value = std::chrono::duration<double, std::milli>(s.duration()).count();
      const auto end = std::to_chars(ms, ms + sizeof ms, value, std::chars_format::fixed, 3).ptr;
      out += " in " + std::string(ms, end) + " ms, " + plural(s.attempts, "attempt");
    }
    if (s.error != nullptr) out += ": " + lightflow::describe(s.error);
  }
  return out;
}

}  // namespace lightflow::detail

#endif
