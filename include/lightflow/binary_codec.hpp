// How the binary serializer encodes values: binary_writer and binary_reader, binary_codec (the
// customisation point) and the codecs built in for the standard types. The format: serializer.hpp.
#ifndef LIGHTFLOW_BINARY_CODEC_HPP
#define LIGHTFLOW_BINARY_CODEC_HPP

#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "lightflow/errors.hpp"

namespace lightflow {

class binary_writer;
class binary_reader;

/// How the binary serializer encodes a T: two static members, `write(binary_writer&, const T&)` and
/// `read(binary_reader&, T&)`. Built in (the format: serializer.hpp): integers, bool, floating
/// point, enums, std::byte, std::basic_string, std::vector, std::deque, std::set, std::map,
/// std::unordered_map, std::array, std::optional, std::pair, std::tuple and std::variant of encodable
/// types. Specialize it for a type you cannot change, or give the type two functions found by
/// argument-dependent lookup:
/// @code
///   void lightflow_write(lightflow::binary_writer&, const T&);
///   void lightflow_read(lightflow::binary_reader&, T&);      // T must be default-constructible
/// @endcode
/// (usually `w(a.x, a.y)` and `r(a.x, a.y)`).
template <class T, class = void>
struct binary_codec;

namespace detail {
template <class T>
inline constexpr bool is_byte_like = std::is_same_v<T, char> || std::is_same_v<T, signed char> ||
                                     std::is_same_v<T, unsigned char> || std::is_same_v<T, std::byte> ||
                                     std::is_same_v<T, char8_t>;
template <class T>
concept encodable_by_adl = requires(binary_writer& w, binary_reader& r, const T& c, T& m) {
  lightflow_write(w, c);
  lightflow_read(r, m);
};
}  // namespace detail

/// True when binary_serializer can encode T.
template <class T>
concept binary_encodable = requires(binary_writer& w, binary_reader& r, const T& c, T& m) {
  binary_codec<T>::write(w, c);
  binary_codec<T>::read(r, m);
};

/// Appends encoded values to a byte vector.
class binary_writer {
 public:
  /// Appends to `out` (which must outlive the writer).
  explicit binary_writer(std::vector<std::byte>& out) noexcept : out_(&out) {}

  /// Appends `size` raw bytes.
  void bytes(const void* data, std::size_t size) {
    if (size == 0) return;
    // resize and memcpy rather than insert: g++ 12 at -O3 reports false overflows (-Wstringop-overflow,
    // -Warray-bounds) in vector::insert of a few bytes once it is inlined deep enough.
    const std::size_t at = out_->size();
    out_->resize(at + size);
    std::memcpy(out_->data() + at, data, size);
  }
  /// Appends an integer, little-endian, as wide as U.
  template <class U>
    requires std::is_integral_v<U>
  void integer(U value) {
    using unsigned_t = std::make_unsigned_t<U>;
    auto v = static_cast<unsigned_t>(value);
    std::byte le[sizeof(U)];
    for (std::size_t i = 0; i != sizeof(U); ++i, v = static_cast<unsigned_t>(sizeof(U) > 1 ? v >> 8 : 0))
      le[i] = static_cast<std::byte>(v & 0xff);
    bytes(le, sizeof(U));
  }
  /// Appends a count or a size (a uint64).
  void size(std::size_t n) { integer(static_cast<std::uint64_t>(n)); }

  /// Writes each value in turn.
  template <class... T>
  void operator()(const T&... values) {
    (binary_codec<T>::write(*this, values), ...);
  }

 private:
  std::vector<std::byte>* out_;
};

/// Reads encoded values from bytes; throws decode_error rather than read past the end.
class binary_reader {
 public:
  /// Reads `in` (which must outlive the reader), from its start.
  explicit binary_reader(std::span<const std::byte> in) noexcept : in_(in) {}

  /// Reads `size` raw bytes into `data`.
  void bytes(void* data, std::size_t size) {
    if (size > remaining()) throw decode_error("lightflow: truncated data: needed " + std::to_string(size) + " more bytes, " + std::to_string(remaining()) + " left");
    if (size != 0) std::memcpy(data, in_.data() + at_, size);
    at_ += size;
  }
  /// Reads an integer written by binary_writer::integer<U>.
  template <class U>
    requires std::is_integral_v<U>
  U integer() {
    std::byte le[sizeof(U)];
    bytes(le, sizeof(U));
    std::make_unsigned_t<U> v = 0;
    for (std::size_t i = sizeof(U); i-- > 0;) v = static_cast<std::make_unsigned_t<U>>((sizeof(U) > 1 ? v << 8 : 0) | static_cast<unsigned char>(le[i]));
    return static_cast<U>(v);
  }
  /// A count of elements of at least `min_element_size` bytes each: checked against what is left, so
  /// that corrupt input cannot make a container reserve absurd amounts.
  std::size_t size(std::size_t min_element_size = 1) {
    const auto n = integer<std::uint64_t>();
    if (min_element_size != 0 && n > remaining() / min_element_size)
      throw decode_error("lightflow: corrupt data: a count of " + std::to_string(n) + " elements with only " + std::to_string(remaining()) + " bytes left");
    return static_cast<std::size_t>(n);
  }
  /// A uint32 length of bytes, checked against what is left.
  std::size_t size32() {
    const auto n = integer<std::uint32_t>();
    if (n > remaining()) throw decode_error("lightflow: corrupt data: a length of " + std::to_string(n) + " with only " + std::to_string(remaining()) + " bytes left");
    return n;
  }
  /// How many bytes are left to read.
  std::size_t remaining() const noexcept { return in_.size() - at_; }

  /// Reads each value in turn.
  template <class... T>
  void operator()(T&... values) {
    (binary_codec<T>::read(*this, values), ...);
  }

 private:
  std::span<const std::byte> in_;
  std::size_t at_ = 0;
};

// ---- codecs for the standard types (listed in binary_codec's comment)
/// @cond LIGHTFLOW_CODECS

template <class T>
struct binary_codec<T, std::enable_if_t<std::is_integral_v<T>>> {
  static void write(binary_writer& w, T v) {
    if constexpr (std::is_same_v<T, bool>) w.integer(static_cast<std::uint8_t>(v ? 1 : 0));
    else w.integer(v);
  }
  static void read(binary_reader& r, T& v) {
    if constexpr (std::is_same_v<T, bool>) {
      const auto b = r.integer<std::uint8_t>();
      if (b > 1) throw decode_error("lightflow: corrupt data: a bool of value " + std::to_string(b));
      v = b == 1;
    } else {
      v = r.integer<T>();
    }
  }
};

template <class T>
struct binary_codec<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static_assert(std::numeric_limits<T>::is_iec559 && (sizeof(T) == 4 || sizeof(T) == 8),
                "lightflow: binary_serializer encodes float and double (IEEE-754); long double has no portable encoding");
  using bits = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;
  static void write(binary_writer& w, T v) { w.integer(std::bit_cast<bits>(v)); }
  static void read(binary_reader& r, T& v) { v = std::bit_cast<T>(r.integer<bits>()); }
};

template <class T>
struct binary_codec<T, std::enable_if_t<std::is_enum_v<T>>> {
  using underlying = std::underlying_type_t<T>;
  static void write(binary_writer& w, T v) { w.integer(static_cast<underlying>(v)); }
  static void read(binary_reader& r, T& v) { v = static_cast<T>(r.integer<underlying>()); }
};

template <>
struct binary_codec<std::byte> {
  static void write(binary_writer& w, std::byte v) { w.integer(static_cast<std::uint8_t>(v)); }
  static void read(binary_reader& r, std::byte& v) { v = static_cast<std::byte>(r.integer<std::uint8_t>()); }
};

template <class C, class Tr, class A>
struct binary_codec<std::basic_string<C, Tr, A>> {
  static void write(binary_writer& w, const std::basic_string<C, Tr, A>& s) {
    w.size(s.size());
    if constexpr (sizeof(C) == 1) w.bytes(s.data(), s.size());
    else for (C c : s) w(c);
  }
  static void read(binary_reader& r, std::basic_string<C, Tr, A>& s) {
    s.resize(r.size(sizeof(C)));
    if constexpr (sizeof(C) == 1) r.bytes(s.data(), s.size());
    else for (C& c : s) r(c);
  }
};

namespace detail {
/// Sequences and sets: a count, then the elements (read back with push_back, or insert for sets).
template <class Collection>
struct collection_codec {
  using value_type = typename Collection::value_type;
  static void write(binary_writer& w, const Collection& c) {
    w.size(c.size());
    for (const auto& x : c) binary_codec<value_type>::write(w, x);
  }
  static void read(binary_reader& r, Collection& c) {
    const std::size_t n = r.size();
    c.clear();
    for (std::size_t i = 0; i != n; ++i) {
      value_type x{};
      binary_codec<value_type>::read(r, x);
      if constexpr (requires { c.push_back(std::move(x)); })
        c.push_back(std::move(x));
      else
        c.insert(std::move(x));
    }
  }
};
template <class Map>
struct map_codec {
  using key_type = typename Map::key_type;
  using mapped_type = typename Map::mapped_type;
  static void write(binary_writer& w, const Map& m) {
    w.size(m.size());
    for (const auto& [k, v] : m) binary_codec<key_type>::write(w, k), binary_codec<mapped_type>::write(w, v);
  }
  static void read(binary_reader& r, Map& m) {
    const std::size_t n = r.size();
    m.clear();
    for (std::size_t i = 0; i != n; ++i) {
      key_type k{};
      mapped_type v{};
      binary_codec<key_type>::read(r, k);
      binary_codec<mapped_type>::read(r, v);
      m.emplace(std::move(k), std::move(v));
    }
  }
};
}  // namespace detail

template <class T, class A>
struct binary_codec<std::vector<T, A>, std::enable_if_t<!std::is_same_v<T, bool> && binary_encodable<T>>> {
  static void write(binary_writer& w, const std::vector<T, A>& v) {
    if constexpr (detail::is_byte_like<T>) {
      w.size(v.size());
      w.bytes(v.data(), v.size());
    } else if constexpr (std::is_arithmetic_v<T> && std::endian::native == std::endian::little &&
                         !std::is_same_v<T, bool>) {
      w.size(v.size());  // little-endian already: the bytes are the encoding
      w.bytes(v.data(), v.size() * sizeof(T));
    } else {
      detail::collection_codec<std::vector<T, A>>::write(w, v);
    }
  }
  static void read(binary_reader& r, std::vector<T, A>& v) {
    if constexpr ((detail::is_byte_like<T> || std::is_arithmetic_v<T>) && std::endian::native == std::endian::little) {
      v.resize(r.size(sizeof(T)));
      r.bytes(v.data(), v.size() * sizeof(T));
      if constexpr (std::is_floating_point_v<T>) static_assert(std::numeric_limits<T>::is_iec559);
    } else {
      v.clear();
      const std::size_t n = r.size();
      for (std::size_t i = 0; i != n; ++i) {
        T x{};
        binary_codec<T>::read(r, x);
        v.push_back(std::move(x));
      }
    }
  }
};
template <class A>
struct binary_codec<std::vector<bool, A>> : detail::collection_codec<std::vector<bool, A>> {};
template <class T, class A>
  requires binary_encodable<T>
struct binary_codec<std::deque<T, A>> : detail::collection_codec<std::deque<T, A>> {};
template <class T, class C, class A>
  requires binary_encodable<T>
struct binary_codec<std::set<T, C, A>> : detail::collection_codec<std::set<T, C, A>> {};
template <class K, class V, class C, class A>
  requires binary_encodable<K> && binary_encodable<V>
struct binary_codec<std::map<K, V, C, A>> : detail::map_codec<std::map<K, V, C, A>> {};
template <class K, class V, class H, class E, class A>
  requires binary_encodable<K> && binary_encodable<V>
struct binary_codec<std::unordered_map<K, V, H, E, A>> : detail::map_codec<std::unordered_map<K, V, H, E, A>> {};

template <class T, std::size_t N>
  requires binary_encodable<T>
struct binary_codec<std::array<T, N>> {
  static void write(binary_writer& w, const std::array<T, N>& a) {
    for (const auto& x : a) binary_codec<T>::write(w, x);
  }
  static void read(binary_reader& r, std::array<T, N>& a) {
    for (auto& x : a) binary_codec<T>::read(r, x);
  }
};

template <class T>
  requires binary_encodable<T>
struct binary_codec<std::optional<T>> {
  static void write(binary_writer& w, const std::optional<T>& o) {
    w.integer(static_cast<std::uint8_t>(o ? 1 : 0));
    if (o) binary_codec<T>::write(w, *o);
  }
  static void read(binary_reader& r, std::optional<T>& o) {
    bool present = false;
    binary_codec<bool>::read(r, present);
    o.reset();
    if (present) binary_codec<T>::read(r, o.emplace());
  }
};

template <class A, class B>
  requires binary_encodable<A> && binary_encodable<B>
struct binary_codec<std::pair<A, B>> {
  static void write(binary_writer& w, const std::pair<A, B>& p) { w(p.first, p.second); }
  static void read(binary_reader& r, std::pair<A, B>& p) { r(p.first, p.second); }
};

template <class... T>
  requires(binary_encodable<T> && ...)
struct binary_codec<std::tuple<T...>> {
  static void write(binary_writer& w, const std::tuple<T...>& t) {
    std::apply([&](const auto&... x) { w(x...); }, t);
  }
  static void read(binary_reader& r, std::tuple<T...>& t) {
    std::apply([&](auto&... x) { r(x...); }, t);
  }
};

template <class... T>
  requires(binary_encodable<T> && ...)
struct binary_codec<std::variant<T...>> {
  static void write(binary_writer& w, const std::variant<T...>& v) {
    if (v.valueless_by_exception()) throw usage_error("lightflow: cannot encode a valueless variant");
    w.integer(static_cast<std::uint32_t>(v.index()));
    std::visit([&](const auto& x) { w(x); }, v);
  }
  static void read(binary_reader& r, std::variant<T...>& v) {
    const auto index = r.integer<std::uint32_t>();
    if (index >= sizeof...(T))
      throw decode_error("lightflow: corrupt data: variant index " + std::to_string(index) + " of " + std::to_string(sizeof...(T)) + " alternatives");
    read_alternative(r, v, index, std::index_sequence_for<T...>{});
  }

 private:
  template <std::size_t... I>
  static void read_alternative(binary_reader& r, std::variant<T...>& v, std::uint32_t index, std::index_sequence<I...>) {
    (void)((index == I ? (binary_codec<std::variant_alternative_t<I, std::variant<T...>>>::read(r, v.template emplace<I>()), true) : false) || ...);
  }
};

/// Types with lightflow_write / lightflow_read found by argument-dependent lookup.
template <class T>
struct binary_codec<T, std::enable_if_t<detail::encodable_by_adl<T>>> {
  static void write(binary_writer& w, const T& v) { lightflow_write(w, v); }
  static void read(binary_reader& r, T& v) { lightflow_read(r, v); }
};

/// @endcond

}  // namespace lightflow

#endif
