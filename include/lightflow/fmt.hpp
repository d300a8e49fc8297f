/// @file
/// fmt formatters for lightflow's statuses, run results and flows. Optional: include it (and link fmt)
/// only if you use fmt; the rest of the library needs only the standard library.
/// @code
///   fmt::print("{}\n", lf::step_status::failed);   // failed        (width and alignment work: {:>12})
///   fmt::print("{}\n", result);                     // flow "orders" run 3: not ok, 3 steps (1 succeeded, 1 failed,
///                                                   //   1 skipped): step "charge" failed: card declined
///   fmt::print("{:l}\n", result);                   // the same, then one line per step: status, time, attempts, error
///   fmt::print("{}\n", flow);                       // flow "orders", 3 steps: load; charge <- load; ship <- charge
/// @endcode
#ifndef LIGHTFLOW_FMT_HPP
#define LIGHTFLOW_FMT_HPP

#include <fmt/format.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

// From include/, or beside the single header (lightflow.hpp copied into the same directory as this
// file): the single header has all of these, under the same include guards.
#if __has_include("lightflow/flow.hpp")
#include "lightflow/callback.hpp"
#include "lightflow/detail/summary.hpp"
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

}  // namespace lightflow::detail

// fmt's namespace is not documented here: the file's comment says what these print.
/// @cond LIGHTFLOW_FMT_FORMATTERS

/// A status: its name, with fmt's string specs (width, alignment).
template <>
struct fmt::formatter<lightflow::step_status> : fmt::formatter<fmt::string_view> {
  template <class FormatContext>
  auto format(lightflow::step_status s, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::formatter<fmt::string_view>::format(lightflow::to_string(s), ctx);
  }
};

/// A callback point: its name, with fmt's string specs.
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
    return fmt::format_to(ctx.out(), "{}", lightflow::detail::result_text(r, long_form));
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
    return fmt::format_to(ctx.out(), "{}", lightflow::detail::graph_text(lightflow::static_flow<Name, Steps...>::view));
  }
};

/// A runtime flow, the same way; it is checked first (a flow_error for a flow that cannot run).
template <class Tag>
struct fmt::formatter<lightflow::basic_runtime_flow<Tag>> {
  constexpr auto parse(fmt::format_parse_context& ctx) {
    bool unused = false;
    return lightflow::detail::parse_long_flag(ctx, false, unused);
  }
  template <class FormatContext>
  auto format(const lightflow::basic_runtime_flow<Tag>& flow, FormatContext& ctx) const -> decltype(ctx.out()) {
    return fmt::format_to(ctx.out(), "{}", lightflow::detail::graph_text(flow.compiled()->view));
  }
};

/// @endcond

#endif
