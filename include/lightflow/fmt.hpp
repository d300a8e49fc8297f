// fmt formatters for lightflow's statuses, run results and flows. Optional: include it (and link fmt)
// only if you use fmt; the rest of the library needs only the standard library.
//
//   fmt::print("{}\n", lf::step_status::failed);   // failed        (width and alignment work: {:>12})
//   fmt::print("{}\n", result);                     // flow "orders" run 3: not ok, 3 steps (1 succeeded, 1 failed,
//                                                   //   1 skipped): step "charge" failed: card declined
//   fmt::print("{:l}\n", result);                   // the same, then one line per step: status, time, attempts, error
//   fmt::print("{}\n", flow);                       // flow "orders", 3 steps: load; charge <- load; ship <- charge
#ifndef LIGHTFLOW_FMT_HPP
#define LIGHTFLOW_FMT_HPP

#include <fmt/format.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

// From include/, or beside the single header (lightflow.hpp copied into the same directory as this
// file): the single header has all of these, under the same include guards.
#if __has_include("lightflow/flow.hpp")
#include "lightflow/callback.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/run_result.hpp"
#include "lightflow/runtime_flow.hpp"
#include "lightflow/step_status.hpp"
#else
#include "lightflow.hpp"
#endif

namespace lightflow::detail {

/// Parses an empty format spec, or 'l' when `allow_long`; anything else is a format_error.
template <class ParseContext>
constexpr auto parse_long_flag(ParseContext& ctx, bool allow_long, bool& long_form) {
  auto it = ctx.begin();
  if (allow_long && it != ctx.end() && *it == 'l') {
    long_form = true;
    ++it;
  }
  if (it != ctx.end() && *it != '}')
    throw fmt::format_error(allow_long ? "lightflow: a run result is formatted with {} or {:l}"
                                       : "lightflow: a flow is formatted with {}");
  return it;
}

template <class Out>
Out format_graph(Out out, const graph_view& g) {
  out = fmt::format_to(out, "flow \"{}\", {} step{}", g.flow_name, g.size, g.size == 1 ? "" : "s");
  for (std::uint32_t i = 0; i != g.size; ++i) {
    out = fmt::format_to(out, "{}{}", i == 0 ? ": " : "; ", g.name(i));
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e)
      out = fmt::format_to(out, "{}{}", e == g.dep_offsets[i] ? " <- " : ", ", g.name(g.deps[e]));
  }
  return out;
}

template <class Out>
Out format_result(Out out, const basic_run_result& r, bool long_form) {
  out = fmt::format_to(out, "flow \"{}\" run {}: {}, {} step{} (", r.flow_name(), r.run_id(), r.ok() ? "ok" : "not ok",
                       r.size(), r.size() == 1 ? "" : "s");
  bool first = true;
  for (step_status s : {step_status::succeeded, step_status::failed, step_status::timed_out, step_status::skipped,
                        step_status::skipped_by_condition, step_status::cancelled, step_status::stopped,
                        step_status::pending})
    if (const std::size_t n = r.count(s); n != 0) {
      out = fmt::format_to(out, "{}{} {}", first ? "" : ", ", n, to_string(s));
      first = false;
    }
  if (const std::size_t n = r.restored(); n != 0) out = fmt::format_to(out, "; {} restored", n);
  out = fmt::format_to(out, ")");
  if (!r.ok()) {
    std::string why = r.error_message();
    const std::string prefix = "lightflow: flow \"" + std::string(r.flow_name()) + "\": ";
    if (why.compare(0, prefix.size(), prefix) == 0) why.erase(0, prefix.size());
    out = fmt::format_to(out, ": {}", why);
  }
  if (!long_form) return out;
  for (const step_report& s : r.steps()) {
    out = fmt::format_to(out, "\n  {}: {}", s.name, to_string(s.status));
    if (s.restored) out = fmt::format_to(out, " (restored)");
    if (s.attempts != 0)
      out = fmt::format_to(out, " in {:.3f} ms, {} attempt{}",
                           std::chrono::duration<double, std::milli>(s.duration()).count(), s.attempts,
                           s.attempts == 1 ? "" : "s");
    if (s.error != nullptr) out = fmt::format_to(out, ": {}", lightflow::describe(s.error));
  }
  return out;
}

}  // namespace lightflow::detail

template <>
struct fmt::formatter<lightflow::step_status> : fmt::formatter<fmt::string_view> {
  template <class FormatContext>
  auto format(lightflow::step_status s, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<fmt::string_view>::format(lightflow::to_string(s), ctx);
  }
};

template <>
struct fmt::formatter<lightflow::callback_point> : fmt::formatter<fmt::string_view> {
  template <class FormatContext>
  auto format(lightflow::callback_point p, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<fmt::string_view>::format(lightflow::to_string(p), ctx);
  }
};

/// Every run result (static and runtime): `{}` one line, `{:l}` one more line per step.
template <class Result>
struct fmt::formatter<Result, char, std::enable_if_t<std::is_base_of_v<lightflow::basic_run_result, Result>>> {
  bool long_form = false;
  constexpr auto parse(fmt::format_parse_context& ctx) {
    return lightflow::detail::parse_long_flag(ctx, true, long_form);
  }
  template <class FormatContext>
  auto format(const Result& r, FormatContext& ctx) const -> decltype(ctx.out()) {
    return lightflow::detail::format_result(ctx.out(), r, long_form);
  }
};

/// A static flow: its name and steps, each with its dependencies.
template <lightflow::fixed_string Name, class... Steps>
struct fmt::formatter<lightflow::static_flow<Name, Steps...>> {
  constexpr auto parse(fmt::format_parse_context& ctx) {
    bool unused = false;
    return lightflow::detail::parse_long_flag(ctx, false, unused);
  }
  template <class FormatContext>
  auto format(const lightflow::static_flow<Name, Steps...>&, FormatContext& ctx) const -> decltype(ctx.out()) {
    return lightflow::detail::format_graph(ctx.out(), lightflow::static_flow<Name, Steps...>::view);
  }
};

/// A runtime flow, the same way; it is checked first (a flow_error for a flow that cannot run).
template <>
struct fmt::formatter<lightflow::runtime_flow> {
  constexpr auto parse(fmt::format_parse_context& ctx) {
    bool unused = false;
    return lightflow::detail::parse_long_flag(ctx, false, unused);
  }
  template <class FormatContext>
  auto format(const lightflow::runtime_flow& flow, FormatContext& ctx) const -> decltype(ctx.out()) {
    return lightflow::detail::format_graph(ctx.out(), flow.compiled()->view);
  }
};

#endif
