// Drawings of a flow, or of a finished run with each step coloured by its status: Graphviz DOT and
// Mermaid text. In DOT, a run's steps also say their status and attempts in words (a PNG has no
// tooltips; a map step says how many of its elements are done, "8/10 elements"), a legend explains the colours and lines, and steps whose names have dotted prefixes (a
// merged flow's "billing.charge") are drawn inside a box per prefix.
//
//   std::ofstream("flow.dot") << lf::to_dot(flow);        // dot -Tsvg flow.dot -o flow.svg
//   std::cout << lf::to_mermaid(result);                  // a ```mermaid block in Markdown
#ifndef LIGHTFLOW_DIAGRAM_HPP
#define LIGHTFLOW_DIAGRAM_HPP

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/detail/run_state.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/run_result.hpp"
#include "lightflow/detail/runtime_names.hpp"
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

inline std::string dot_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}
inline std::string dot_quoted(std::string_view s) { return "\"" + dot_escape(s) + "\""; }

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

/// Where a step's name puts it: its dotted prefix ("billing" for "billing.charge"; empty for none).
inline std::string_view dot_prefix(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string_view::npos || dot == 0 || dot + 1 == name.size() ? std::string_view{} : name.substr(0, dot);
}

/// One step's node: its name without the prefix its box shows; for a run, its status in words, its
/// attempts when more than one, and whether it was restored, in its status's colour.
inline void dot_node(std::string& out, const graph_view& g, const run_state_base* run, std::uint32_t i,
                     const std::string& indent) {
  const std::string_view name = g.name(i);
  const std::string_view prefix = dot_prefix(name);
  out += indent + "n" + std::to_string(i) + " [label=\"" + dot_escape(prefix.empty() ? name : name.substr(prefix.size() + 1));
  if (run == nullptr) {
    out += "\"";
    if (!prefix.empty()) out += ", tooltip=" + dot_quoted(name);
  } else {
    const step_record& r = run->record(i);
    out += "\\n" + std::string(to_string(r.status));
    if (r.attempts > 1) out += ", " + std::to_string(r.attempts) + " attempts";
    if (r.restored) out += ", restored";
    std::string elements;  // a map step's: "8/10 elements" done, and how many failed, were restored
    if (const element_counts* c = run->elements(i)) {
      elements = std::to_string(c->done()) + "/" + std::to_string(c->total) + " elements";
      if (c->failed != 0) elements += ", " + std::to_string(c->failed) + " failed";
      if (c->restored != 0) elements += ", " + std::to_string(c->restored) + " restored";
      if (c->not_run != 0) elements += ", " + std::to_string(c->not_run) + " not run";
      out += "\\n" + elements;
    }
    out += "\", fillcolor=\"" + std::string(status_colour(r.status)) + "\", tooltip=" +
           dot_quoted(std::string(name) + ": " + std::string(to_string(r.status)) +
                      (elements.empty() ? std::string() : "; " + elements));
    if (r.restored) out += ", peripheries=2";
  }
  out += "];\n";
}

inline std::string to_dot(const graph_view& g, const run_state_base* run) {
  std::string out = "digraph " + dot_quoted(g.flow_name) + " {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=\"#ffffff\"];\n";
  // Steps, inside a box (a cluster) per dotted prefix of their names, nested ("a.b" inside "a").
  std::map<std::string_view, std::vector<std::uint32_t>> in_box;
  std::set<std::string_view> boxes;
  for (std::uint32_t i = 0; i != g.size; ++i) {
    const std::string_view prefix = dot_prefix(g.name(i));
    in_box[prefix].push_back(i);
    for (std::string_view p = prefix; !p.empty() && boxes.insert(p).second; p = dot_prefix(p)) {
    }
  }
  const auto draw = [&](const auto& self, std::string_view box, const std::string& indent) -> void {
    if (const auto it = in_box.find(box); it != in_box.end())
      for (const std::uint32_t i : it->second) dot_node(out, g, run, i, indent);
    for (const std::string_view inner : boxes) {
      if (dot_prefix(inner) != box) continue;
      out += indent + "subgraph " + dot_quoted("cluster_" + std::string(inner)) + " {\n" + indent + "  label=" +
             dot_quoted(box.empty() ? inner : inner.substr(box.size() + 1)) + ";\n";
      self(self, inner, indent + "  ");
      out += indent + "}\n";
    }
  };
  draw(draw, {}, "  ");
  bool dashed = false;
  for (std::uint32_t i = 0; i != g.size; ++i)
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e) {
      dashed = dashed || ordering_only(g, i, e);
      out += "  n" + std::to_string(g.deps[e]) + " -> n" + std::to_string(i) + (ordering_only(g, i, e) ? " [style=dashed]" : "") + ";\n";
    }
  // A legend of what the drawing uses: the statuses present (a run), a restored step, a dashed arrow.
  std::string rows;
  bool restored = false;
  if (run != nullptr) {
    bool present[std::size(statuses_in_order)]{};  // by the status's value
    for (std::uint32_t i = 0; i != g.size; ++i) {
      present[static_cast<std::size_t>(run->record(i).status)] = true;
      restored = restored || run->record(i).restored;
    }
    for (step_status s : statuses_in_order)
      if (present[static_cast<std::size_t>(s)])
        rows += "<tr><td bgcolor=\"" + std::string(status_colour(s)) + "\">" + std::string(to_string(s)) + "</td></tr>";
  }
  if (restored) rows += "<tr><td>double border: restored from a checkpoint, not run</td></tr>";
  if (dashed) rows += "<tr><td>dashed arrow: runs after, receives no output</td></tr>";
  if (!rows.empty()) out += "  legend [shape=plaintext, style=\"\", label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\">" + rows + "</table>>];\n";
  return out + "}\n";
}

inline std::string to_mermaid(const graph_view& g, const run_state_base* run) {
  std::string out = "flowchart LR\n";
  for (std::uint32_t i = 0; i != g.size; ++i) out += "  n" + std::to_string(i) + "[" + mermaid_quoted(g.name(i)) + "]\n";
  for (std::uint32_t i = 0; i != g.size; ++i)
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e)
      out += "  n" + std::to_string(g.deps[e]) + (ordering_only(g, i, e) ? " -.-> n" : " --> n") + std::to_string(i) + "\n";
  if (run != nullptr) {
    for (step_status s : statuses_in_order) {
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
template <class Tag>
std::string to_dot(const basic_runtime_flow<Tag>& flow) { return detail::to_dot(flow.compiled()->view, nullptr); }
/// A finished run as Graphviz DOT, each step filled with its status's colour (restored steps have a
/// double border).
inline std::string to_dot(const basic_run_result& result) { return detail::to_dot(result.state().graph(), &result.state()); }

/// The same as Mermaid flowchart text.
template <fixed_string Name, class... Steps>
std::string to_mermaid(const static_flow<Name, Steps...>&) {
  return detail::to_mermaid(static_flow<Name, Steps...>::view, nullptr);
}
/// A runtime flow as Mermaid flowchart text (checked first: a flow_error for a flow that cannot run).
template <class Tag>
std::string to_mermaid(const basic_runtime_flow<Tag>& flow) { return detail::to_mermaid(flow.compiled()->view, nullptr); }
/// A run as Mermaid flowchart text, each step coloured by its status.
inline std::string to_mermaid(const basic_run_result& result) {
  return detail::to_mermaid(result.state().graph(), &result.state());
}

}  // namespace lightflow

#endif
