// A map step's elements in its run's checkpoint, whatever the flow (map_elements.hpp saves and reads
// them; typed_session.hpp and runtime_session.hpp encode their values): one record per element that
// succeeded, under "elem/<step>/<index>", saved as the element succeeds and read back when the run
// resumes and the step runs again, so that only the elements that had not succeeded run. Its payload
// (record.hpp, kind 4): the element's index and the map's element count, then the element's result.
//
// Why a saved element can be trusted: a map step maps over its dependency's output (or the run's
// input, checked on every resume), whose record was saved before the map step began; a store that
// defers durability gives back a prefix of a run's records, so an element's record never survives
// without its input's, and the resumed run restores that input and maps over the same range. A
// record whose index or count is not this map's (copied from elsewhere) is refused, not used.
// The records stay after the map step succeeds (its own record then holds every result).
#ifndef LIGHTFLOW_DETAIL_ELEMENT_SESSION_HPP
#define LIGHTFLOW_DETAIL_ELEMENT_SESSION_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/binary_codec.hpp"
#include "lightflow/detail/record.hpp"
#include "lightflow/detail/run_state_base.hpp"
#include "lightflow/detail/store_session.hpp"
#include "lightflow/errors.hpp"

namespace lightflow::detail {

inline constexpr std::string_view element_key_prefix = "elem/";

template <class Store>
class element_session : public store_session<Store> {
  using base = store_session<Store>;

 protected:
  using base::base;

  /// As a resumed run opens, its steps restored: notes the elements that the map steps which did not
  /// finish had saved, to read back when they run.
  void find_saved_elements(const run_state_base& run) {
    const graph_view& g = run.graph();
    for (const std::string& key : this->saved_keys()) {
      if (key.compare(0, element_key_prefix.size(), element_key_prefix) != 0) continue;
      const std::size_t slash = key.rfind('/');
      if (slash < element_key_prefix.size())  // "elem/x": no step and index
        throw this->error("the record under \"" + key + "\"", "has a key that names no element");
      const std::string step = key.substr(element_key_prefix.size(), slash - element_key_prefix.size());
      const std::uint32_t i = g.find(step);
      if (i == g.size || run.restored(i)) continue;  // (a step no longer there, or done)
      std::size_t index = 0;
      bool digits = slash + 1 != key.size();
      for (std::size_t k = slash + 1; k != key.size() && digits; ++k) {
        digits = key[k] >= '0' && key[k] <= '9' && index <= (SIZE_MAX - 9) / 10;
        index = index * 10 + static_cast<std::size_t>(key[k] - '0');
      }
      if (!digits) throw this->error("the record under \"" + key + "\"", "has a key that names no element");
      saved_[step].push_back(index);
    }
  }

  /// Saves element `index` of the `count` elements of `step`; `encode(out)` appends its result's bytes.
  template <class Encode>
  void save_element_with(const run_state_base& run, std::uint32_t step, std::size_t index, std::size_t count, bool seal,
                         const Encode& encode) {
    thread_local std::vector<std::byte> payload;
    thread_local std::string key;
    payload.clear();
    binary_writer w(payload);
    w.integer(std::uint64_t{index});
    w.integer(std::uint64_t{count});
    encode(payload);
    const std::string_view name = run.graph().name(step);
    key.assign(element_key_prefix).append(name).append(1, '/').append(std::to_string(index));
    this->save_step(key, name, payload, seal, record_kind::element);
    release_if_large(payload);
  }

  /// Reads back the elements of `step` (of `count`) that the run had saved: `decode(index, bytes)`
  /// for each (bytes: its result's). Returns how many; throws checkpoint_error for a record that
  /// cannot be used.
  template <class Decode>
  std::size_t load_elements_with(const run_state_base& run, std::uint32_t step, std::size_t count,
                                 const Decode& decode) const {
    const std::string_view name = run.graph().name(step);
    const auto found = saved_.find(name);
    if (found == saved_.end()) return 0;
    std::size_t restored = 0;
    for (const std::size_t index : found->second) {
      const std::string key = std::string(element_key_prefix).append(name).append(1, '/').append(std::to_string(index));
      const std::string what =
          "the record of element " + std::to_string(index) + " of map step \"" + std::string(name) + "\"";
      const auto bytes = this->store_->load(this->flow_, this->run_id_, key);
      if (!bytes) throw this->error(what, "is missing (it was listed when the run opened)");
      const record rec = this->decode(*bytes, record_kind::element, what);
      if (rec.step != name) throw this->error(what, "names step \"" + rec.step + "\"");
      std::uint64_t saved_index = 0, saved_count = 0;
      try {
        binary_reader r(rec.payload);
        saved_index = r.integer<std::uint64_t>();
        saved_count = r.integer<std::uint64_t>();
      } catch (const std::exception& e) {
        throw this->error(what, std::string("is unreadable: ") + e.what());
      }
      if (saved_index != index)
        throw this->error(what, "holds element " + std::to_string(saved_index) +
                                    " (it was copied under another key); it was not used");
      if (saved_count != count || index >= count)
        throw this->error(what, "was saved by the map over " + std::to_string(saved_count) +
                                    " elements, but the step's input now has " + std::to_string(count) +
                                    ": the records are not this input's; it was not used");
      try {
        decode(index, std::span<const std::byte>(rec.payload).subspan(16));
      } catch (const checkpoint_error&) {
        throw;
      } catch (const std::exception& e) {
        throw this->error(what, std::string("cannot be decoded: ") + e.what());
      }
      ++restored;
    }
    return restored;
  }

 private:
  std::map<std::string, std::vector<std::size_t>, std::less<>> saved_;  // by map step: its saved elements
};

}  // namespace lightflow::detail

#endif
