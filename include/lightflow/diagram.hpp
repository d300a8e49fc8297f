// Drawings of a flow, or of a finished run with each step coloured by its status: Graphviz DOT and
// Mermaid text.
//
//   std::ofstream("flow.dot") << lf::to_dot(flow);        // dot -Tsvg flow.dot -o flow.svg
//   std::cout << lf::to_mermaid(result);                  // a ```mermaid block in Markdown
#ifndef LIGHTFLOW_DIAGRAM_HPP
#define LIGHTFLOW_DIAGRAM_HPP

#include <cstdint>
#include <string>
#include <string_view>

#include "lightflow/detail/run_state.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/run_result.hpp"
#include "lightflow/runtime_flow.hpp"
#include "lightflow/step_status.hpp"

namespace lightflow {

namespace detail {

/// The fill colour of a status.
constexpr std::string_view status_colour(step_status s) noexcept {
  switch (s) {
    case step_status::succeeded:
      return "#8fd18f";
    case step_status::failed:
      return "#f08080";
    case step_status::skipped:
      return "#f5d76e";
    case step_status::cancelled:
      return "#c0c0c0";
    case step_status::skipped_by_condition:
      return "#b0c4de";
    case step_status::timed_out:
      return "#f4a460";
    case step_status::stopped:
      return "#d3d3d3";
    case step_status::pending:
      break;
  }
  return "#ffffff";
}

inline std::string dot_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

// Mermaid labels are quoted; a double quote inside is written as an entity.
inline std::string mermaid_quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "#quot;";
    else out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

/// Dependencies that only order a step (no output handed over) are drawn dashed.
inline bool ordering_only(const graph_view& g, std::uint32_t step, std::uint32_t edge) noexcept {
  return g.data_count != nullptr && edge - g.dep_offsets[step] >= g.data_count[step];
}

inline std::string to_dot(const graph_view& g, const run_state_base* run) {
  std::string out = "digraph " + dot_quoted(g.flow_name) + " {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n";
  for (std::uint32_t i = 0; i != g.size; ++i) {
    out += "  n" + std::to_string(i) + " [label=" + dot_quoted(g.name(i));
    if (run != nullptr) {
      const step_record& r = run->record(i);
      out += ", fillcolor=\"" + std::string(status_colour(r.status)) + "\", tooltip=" + dot_quoted(to_string(r.status));
      if (r.restored) out += ", peripheries=2";
    }
    out += "];\n";
  }
  for (std::uint32_t i = 0; i != g.size; ++i)
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e)
      out += "  n" + std::to_string(g.deps[e]) + " -> n" + std::to_string(i) + (ordering_only(g, i, e) ? " [style=dashed]" : "") + ";\n";
  return out + "}\n";
}

inline std::string to_mermaid(const graph_view& g, const run_state_base* run) {
  std::string out = "flowchart LR\n";
  for (std::uint32_t i = 0; i != g.size; ++i) out += "  n" + std::to_string(i) + "[" + mermaid_quoted(g.name(i)) + "]\n";
  for (std::uint32_t i = 0; i != g.size; ++i)
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e)
      out += "  n" + std::to_string(g.deps[e]) + (ordering_only(g, i, e) ? " -.-> n" : " --> n") + std::to_string(i) + "\n";
  if (run != nullptr) {
    for (step_status s : {step_status::succeeded, step_status::failed, step_status::skipped, step_status::cancelled,
                          step_status::skipped_by_condition, step_status::timed_out, step_status::stopped, step_status::pending}) {
      std::string members;
      for (std::uint32_t i = 0; i != g.size; ++i)
        if (run->record(i).status == s) members += (members.empty() ? "n" : ",n") + std::to_string(i);
      if (members.empty()) continue;
      std::string cls(to_string(s));
      for (char& c : cls) c = c == ' ' ? '_' : c;
      out += "  classDef " + cls + " fill:" + std::string(status_colour(s)) + "\n";
      out += "  class " + members + " " + cls + "\n";
    }
  }
  return out;
}

}  // namespace detail

/// A static flow as Graphviz DOT: a box per step, an arrow from each dependency (dashed: ordering only).
template <fixed_string Name, class... Steps>
std::string to_dot(const static_flow<Name, Steps...>&) {
  return detail::to_dot(static_flow<Name, Steps...>::view, nullptr);
}
/// A runtime flow as Graphviz DOT (checks it first: throws flow_error as run() would).
inline std::string to_dot(const runtime_flow& flow) { return detail::to_dot(flow.compiled()->view, nullptr); }
/// A finished run as Graphviz DOT, each step filled with its status's colour (restored steps have a
/// double border).
inline std::string to_dot(const basic_run_result& result) { return detail::to_dot(result.state().graph(), &result.state()); }

/// The same as Mermaid flowchart text.
template <fixed_string Name, class... Steps>
std::string to_mermaid(const static_flow<Name, Steps...>&) {
  return detail::to_mermaid(static_flow<Name, Steps...>::view, nullptr);
}
inline std::string to_mermaid(const runtime_flow& flow) { return detail::to_mermaid(flow.compiled()->view, nullptr); }
inline std::string to_mermaid(const basic_run_result& result) {
  return detail::to_mermaid(result.state().graph(), &result.state());
}

}  // namespace lightflow

#endif
