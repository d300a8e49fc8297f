// The checkpoint option of a run: a store, a run id, a serializer (lightflow/checkpoint.hpp has
// what it does; this header is what the sessions that do it need).
#ifndef LIGHTFLOW_DETAIL_CHECKPOINT_OPTION_HPP
#define LIGHTFLOW_DETAIL_CHECKPOINT_OPTION_HPP

#include <cstdint>
#include <string>
#include <type_traits>

#include "lightflow/checkpoint_store.hpp"
#include "lightflow/cipher.hpp"
#include "lightflow/run_options.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow {

/// How a checkpoint treats records it finds.
struct checkpoint_options {
  /// Your version of the flow's meaning; records of another version are refused like those of
  /// another definition. Bump it when a step's behaviour changes but its types do not.
  std::uint32_t version = 0;
  /// Erase the run's records, and start afresh, instead of refusing them when they were written by
  /// another definition or version, when the manifest is unreadable, or when the store found them
  /// damaged (corrupt_store_error: a damaged log). A step record that is corrupt or belongs to
  /// another run inside an intact store is refused even so: that takes tampering or a broken store,
  /// and is yours to look at (erase the run with the store's erase() to start over).
  bool discard_stale = false;
  /// Seals the records of sensitive values (lightflow/cipher.hpp; lightflow/sodium.hpp has one):
  /// the outputs of steps marked `.sensitive()`, the records of runtime steps that write a key the
  /// flow marks sensitive, and, whenever a cipher is given, the run's input. A run with a sensitive
  /// step or key and no cipher is refused before it starts (nothing is stored in the clear); a sealed
  /// record is opened on resume with this cipher, and refused when it does not open (another key, or
  /// altered bytes). Not owned: it must outlive the runs.
  const lightflow::cipher* cipher = nullptr;
};

/// The checkpoint option of `executor::run` and `executor::resume`: a store, a run id, a serializer.
template <checkpoint_store Store, class Serializer = binary_serializer>
struct checkpoint {
  checkpoint(Store& s, std::string id, checkpoint_options o = {}) : store(&s), run_id(std::move(id)), options(o) {}
  checkpoint(Store& s, std::string id, Serializer ser, checkpoint_options o = {})
      : store(&s), run_id(std::move(id)), options(o), serializer(std::move(ser)) {}

  Store* store;
  std::string run_id;
  checkpoint_options options;
  Serializer serializer{};
};
template <class Store>
checkpoint(Store&, std::string, checkpoint_options = {}) -> checkpoint<Store>;
template <class Store>
checkpoint(Store&, const char*, checkpoint_options = {}) -> checkpoint<Store>;
template <class Store, class Serializer>
  requires(!std::is_same_v<std::remove_cvref_t<Serializer>, checkpoint_options>)
checkpoint(Store&, std::string, Serializer, checkpoint_options = {}) -> checkpoint<Store, Serializer>;
template <class Store, class Serializer>
  requires(!std::is_same_v<std::remove_cvref_t<Serializer>, checkpoint_options>)
checkpoint(Store&, const char*, Serializer, checkpoint_options = {}) -> checkpoint<Store, Serializer>;

namespace detail {

template <class Store, class Serializer>
inline constexpr bool is_checkpoint<checkpoint<Store, Serializer>> = true;
template <class T>
inline constexpr bool is_binary_checkpoint = false;
template <class Store>
inline constexpr bool is_binary_checkpoint<checkpoint<Store, binary_serializer>> = true;

}  // namespace detail
}  // namespace lightflow

#endif
