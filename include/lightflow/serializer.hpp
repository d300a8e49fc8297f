/// @file
/// Serializers turn a step's output into bytes and back, for checkpoints. `binary_serializer` is the
/// default; any type that models `serializer_for<S, T>` can replace it.
///
/// The binary format (version 1): every integer little-endian, fixed width as its C++ type
/// (bool and char: 1 byte); float and double as their IEEE-754 bits, little-endian; enums as their
/// underlying type; sizes and counts as uint64; std::string and std::vector<byte-sized T>: count then
/// bytes; sequences, sets and maps: count then elements (maps: key then value); std::array: its
/// elements, no count; std::optional: uint8 0 or 1, then the value; std::pair and std::tuple: their
/// elements; std::variant: uint32 index, then the alternative. Types of your own: see binary_codec.
#ifndef LIGHTFLOW_SERIALIZER_HPP
#define LIGHTFLOW_SERIALIZER_HPP

#include <concepts>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/binary_codec.hpp"
#include "lightflow/errors.hpp"

namespace lightflow {

/// Satisfied by a serializer `S` that can write a `T` to bytes and read it back.
template <class S, class T>
concept serializer_for = requires(const S& s, const T& value, std::vector<std::byte>& out, std::span<const std::byte> in) {
  s.write(value, out);  // appends the encoding of value to out
  { s.template read<T>(in) } -> std::same_as<T>;  // the value encoded by all of in; throws decode_error
};

/// The default serializer: the binary format described at the top of this file.
struct binary_serializer {
  /// The format's name, kept in checkpoint manifests.
  static constexpr std::string_view name = "lightflow-binary-1";

  /// Appends the encoding of `value` to `out`.
  template <binary_encodable T>
  void write(const T& value, std::vector<std::byte>& out) const {
    binary_writer w(out);
    binary_codec<T>::write(w, value);
  }
  /// The value encoded by all of `in`; decode_error when `in` is short or has bytes left over.
  template <binary_encodable T>
    requires std::default_initializable<T>
  T read(std::span<const std::byte> in) const {
    binary_reader r(in);
    T value{};
    binary_codec<T>::read(r, value);
    if (r.remaining() != 0) throw decode_error("lightflow: " + std::to_string(r.remaining()) + " unexpected bytes after the value");
    return value;
  }
};

}  // namespace lightflow

#endif
