// A checkpoint's manifest: the flow's definition as text, saved with the run and compared on every
// run, so that records are never read by another definition. One writer for both kinds of flow and
// for every format the library has written:
//
//   lightflow checkpoint manifest 2          (format 2; earlier forms below)
//   flow <flow name>
//   version <checkpoint_options::version>
//   serializer <the serializer's name>
//   input <the input type's checkpoint name>  (a runtime flow: lightflow::values)
//   step <name> <- <dependency> ... [| <ordering-only dependency> ...] : <output type's checkpoint name>
//
// Types are named by their checkpoint names (type_tag.hpp), so that every compiler writes the same
// text. The earlier forms, read so that runs begun by earlier versions resume: static flows'
// "lightflow checkpoint manifest 1" (the same lines, types spelled by the compiler) and runtime flows'
// "lightflow runtime checkpoint manifest 2" (no input line, types spelled by the compiler) and
// "... manifest 1" (no input line, no types).
#ifndef LIGHTFLOW_DETAIL_MANIFEST_HPP
#define LIGHTFLOW_DETAIL_MANIFEST_HPP

#include <cstdint>
#include <string>
#include <string_view>

#include "lightflow/detail/graph_view.hpp"
#include "lightflow/detail/type_name.hpp"

namespace lightflow::detail {

/// Which of the manifest texts to write.
struct manifest_form {
  std::string_view header;
  bool input_line;  // an "input" line (static flows, and every flow from format 2 on)
  bool types;       // each step's output type
};
inline constexpr manifest_form manifest_v2{"lightflow checkpoint manifest 2", true, true};
inline constexpr manifest_form static_manifest_v1{"lightflow checkpoint manifest 1", true, true};
inline constexpr manifest_form runtime_manifest_v2{"lightflow runtime checkpoint manifest 2", false, true};
inline constexpr manifest_form runtime_manifest_v1{"lightflow runtime checkpoint manifest 1", false, false};

/// The manifest of the flow `g` (either kind); `type_of(i)` names step i's output type.
template <class TypeOf>
std::string write_manifest(const manifest_form& form, const graph_view& g, std::uint32_t version,
                           std::string_view serializer, std::string_view input, const TypeOf& type_of) {
  std::string m;
  ((((m += form.header) += "\nflow ") += g.flow_name) += "\nversion ") += std::to_string(version);
  ((m += "\nserializer ") += serializer) += '\n';
  if (form.input_line) ((m += "input ") += input) += '\n';
  for (std::uint32_t i = 0; i != g.size; ++i) {
    (m += "step ") += g.name(i);
    m += " <-";
    for (std::uint32_t e = g.dep_offsets[i]; e != g.dep_offsets[i + 1]; ++e) {
      if (g.data_count != nullptr && e == g.dep_offsets[i] + g.data_count[i]) m += " |";  // ordering-only ones follow
      (m += ' ') += g.name(g.deps[e]);
    }
    if (form.types) (m += " : ") += type_of(i);
    m += '\n';
  }
  return m;
}

/// True when a stored manifest is `expected` (an earlier form of this flow's), reading the types
/// that compilers spell differently as alike (a format-1 checkpoint written by g++ resumes under
/// clang, and the other way round).
inline bool same_legacy_manifest(const std::string& stored, const std::string& expected) {
  return stored == expected || legacy_spelling(stored) == legacy_spelling(expected);
}

}  // namespace lightflow::detail

#endif
