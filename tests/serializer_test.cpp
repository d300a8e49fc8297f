// The binary serializer: round trips, the documented byte layout, and refusing bad input; the
// checkpoint names of types (type_tag.hpp), the same from every compiler.
#include <lightflow/serializer.hpp>
#include <lightflow/type_tag.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <variant>
#include <vector>

#include "catch.hpp"

namespace lf = lightflow;

namespace shop {
struct Order {
  std::string id;
  double amount = 0;
  std::vector<int> items;
  bool operator==(const Order&) const = default;
};
void lightflow_write(lf::binary_writer& w, const Order& o) { w(o.id, o.amount, o.items); }
void lightflow_read(lf::binary_reader& r, Order& o) { r(o.id, o.amount, o.items); }

struct Opaque {
  int value = 0;
};

struct Tagged {
  static constexpr std::string_view lightflow_type_name = "shop.tagged";
};
struct Spelled {};
}  // namespace shop

template <>
struct lightflow::type_tag<shop::Order> {
  static constexpr std::string_view name = "shop.order";
};
template <>
struct lightflow::type_tag<shop::Spelled> : lightflow::compiler_type_tag<shop::Spelled> {};

namespace {

template <class T>
T round_trip(const T& value) {
  lf::binary_serializer s;
  std::vector<std::byte> bytes;
  s.write(value, bytes);
  return s.read<T>(bytes);
}

std::vector<std::uint8_t> bytes_of(const auto& value) {
  std::vector<std::byte> out;
  lf::binary_serializer{}.write(value, out);
  std::vector<std::uint8_t> plain;
  for (auto b : out) plain.push_back(static_cast<std::uint8_t>(b));
  return plain;
}

enum class color : std::uint16_t { red = 1, blue = 0x0203 };

}  // namespace

static_assert(lf::serializer_for<lf::binary_serializer, shop::Order>);
static_assert(lf::serializer_for<lf::binary_serializer, std::map<std::string, std::vector<shop::Order>>>);
static_assert(!lf::serializer_for<lf::binary_serializer, shop::Opaque>);
static_assert(!lf::serializer_for<lf::binary_serializer, std::vector<shop::Opaque>>);
static_assert(!lf::serializer_for<lf::binary_serializer, int*>);

// Checkpoint names: the standard spellings, whatever the compiler (g++ would write "long int" and
// "std::__cxx11::basic_string<char>"; clang "long" and "std::basic_string<char>").
template <class T>
constexpr std::string_view tag = lf::type_tag<T>::name;
static_assert(tag<int> == "int" && tag<long> == "long" && tag<unsigned long> == "unsigned long" &&
              tag<long long> == "long long" && tag<unsigned> == "unsigned int" && tag<signed char> == "signed char" &&
              tag<double> == "double" && tag<bool> == "bool" && tag<std::byte> == "std::byte");
static_assert(tag<std::string> == "std::string" && tag<std::u8string> == "std::u8string");
static_assert(tag<std::vector<std::string>> == "std::vector<std::string>");
static_assert(tag<std::map<std::string, std::vector<long>>> == "std::map<std::string, std::vector<long>>");
static_assert(tag<std::array<int, 12>> == "std::array<int, 12>" && tag<std::array<int, 0>> == "std::array<int, 0>");
static_assert(tag<std::tuple<int, double, std::string>> == "std::tuple<int, double, std::string>");
static_assert(tag<std::variant<int, std::optional<std::pair<char, float>>>> ==
              "std::variant<int, std::optional<std::pair<char, float>>>");
static_assert(tag<std::unordered_map<int, std::set<std::deque<short>>>> ==
              "std::unordered_map<int, std::set<std::deque<short>>>");
// Types of one's own: a member, a specialization, or the compiler's spelling by request.
static_assert(tag<shop::Tagged> == "shop.tagged" && tag<std::vector<shop::Order>> == "std::vector<shop.order>");
static_assert(tag<shop::Spelled> == lf::detail::type_name<shop::Spelled>());
// No name: a type of one's own without one, and a container of it, or with another allocator.
static_assert(!lf::type_tagged<shop::Opaque> && !lf::type_tagged<std::vector<shop::Opaque>>);
static_assert(!lf::type_tagged<std::map<int, int, std::greater<int>>> && !lf::type_tagged<int*>);

TEST_CASE("format-1 type spellings of g++ and clang read alike", "[type_tag]") {
  using lf::detail::legacy_spelling;
  CHECK(legacy_spelling("std::vector<std::__cxx11::basic_string<char> >") == legacy_spelling("std::vector<std::basic_string<char>>"));
  CHECK(legacy_spelling("std::map<std::__cxx11::basic_string<char>, long int>") == "std::map<std::basic_string<char>, long>");
  CHECK(legacy_spelling("std::vector<std::vector<long unsigned int> >") == "std::vector<std::vector<unsigned long>>");
  CHECK(legacy_spelling("std::variant<int, std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> > >") ==
        "std::variant<int, std::basic_string<char>>");
  CHECK(legacy_spelling("{anonymous}::thing") == "(anonymous namespace)::thing");
  CHECK(legacy_spelling("long long int") == "long long");
  CHECK(legacy_spelling("short unsigned int") == "unsigned short");
  CHECK(legacy_spelling("app::point<int>") == "app::point<int>");
}

TEST_CASE("every supported type survives a round trip", "[serializer]") {
  CHECK(round_trip(-12345) == -12345);
  CHECK(round_trip(std::uint64_t{0xfedcba9876543210}) == 0xfedcba9876543210);
  CHECK(round_trip(true));
  CHECK(round_trip('x') == 'x');
  CHECK(round_trip(3.5f) == 3.5f);
  CHECK(round_trip(-0.1) == -0.1);
  CHECK(round_trip(color::blue) == color::blue);
  CHECK(round_trip(std::string("héllo, 世界")) == "héllo, 世界");
  CHECK(round_trip(std::vector<double>{1.5, -2, 1e300}) == std::vector<double>{1.5, -2, 1e300});
  CHECK(round_trip(std::vector<bool>{true, false, true}) == std::vector<bool>{true, false, true});
  CHECK(round_trip(std::vector<std::string>{"a", "", "c"}) == std::vector<std::string>{"a", "", "c"});
  CHECK(round_trip(std::array<int, 3>{1, 2, 3}) == std::array<int, 3>{1, 2, 3});
  CHECK(round_trip(std::deque<short>{4, 5}) == std::deque<short>{4, 5});
  CHECK(round_trip(std::map<std::string, int>{{"a", 1}, {"b", 2}}) == std::map<std::string, int>{{"a", 1}, {"b", 2}});
  CHECK(round_trip(std::unordered_map<int, std::string>{{1, "x"}, {2, "y"}}) ==
        std::unordered_map<int, std::string>{{1, "x"}, {2, "y"}});
  CHECK(round_trip(std::set<long>{3, 1, 2}) == std::set<long>{1, 2, 3});
  CHECK(round_trip(std::optional<int>{}) == std::nullopt);
  CHECK(round_trip(std::optional<int>{7}) == 7);
  CHECK(round_trip(std::pair<int, std::string>{1, "p"}) == std::pair<int, std::string>{1, "p"});
  CHECK(round_trip(std::tuple<int, double, std::string>{1, 2.5, "t"}) == std::tuple<int, double, std::string>{1, 2.5, "t"});
  CHECK(round_trip(std::variant<int, std::string>{std::string("v")}) == std::variant<int, std::string>{std::string("v")});
  CHECK(round_trip(std::variant<int, std::string>{5}) == std::variant<int, std::string>{5});
  const shop::Order order{"o-1", 9.75, {1, 2, 3}};
  CHECK(round_trip(order) == order);
  CHECK(round_trip(std::map<std::string, std::vector<shop::Order>>{{"k", {order, order}}}).at("k")[1] == order);
}

TEST_CASE("the byte layout is the documented one: little-endian, fixed width", "[serializer]") {
  CHECK(bytes_of(std::int32_t{0x01020304}) == std::vector<std::uint8_t>{4, 3, 2, 1});
  CHECK(bytes_of(color::blue) == std::vector<std::uint8_t>{3, 2});
  CHECK(bytes_of(true) == std::vector<std::uint8_t>{1});
  CHECK(bytes_of(1.0) == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 0xf0, 0x3f});
  CHECK(bytes_of(std::string("ab")) == std::vector<std::uint8_t>{2, 0, 0, 0, 0, 0, 0, 0, 'a', 'b'});
  CHECK(bytes_of(std::optional<std::uint8_t>{9}) == std::vector<std::uint8_t>{1, 9});
  CHECK(bytes_of(std::variant<std::uint8_t, std::uint16_t>{std::uint16_t{0x0102}}) ==
        std::vector<std::uint8_t>{1, 0, 0, 0, 2, 1});
  CHECK(bytes_of(std::array<std::uint8_t, 2>{7, 8}) == std::vector<std::uint8_t>{7, 8});
}

TEST_CASE("truncated, oversized and malformed input is refused", "[serializer]") {
  lf::binary_serializer s;
  std::vector<std::byte> bytes;
  s.write(std::map<std::string, int>{{"key", 1}}, bytes);
  for (std::size_t cut = 0; cut != bytes.size(); ++cut)
    CHECK_THROWS_AS((s.read<std::map<std::string, int>>(std::span(bytes).first(cut))), lf::decode_error);
  auto extra = bytes;
  extra.push_back(std::byte{0});
  CHECK_THROWS_WITH((s.read<std::map<std::string, int>>(extra)), Catch::Matchers::Contains("unexpected bytes"));
  // A count that claims more elements than there are bytes: refused before reserving anything.
  std::vector<std::byte> huge(8, std::byte{0xff});
  CHECK_THROWS_WITH(s.read<std::vector<int>>(huge), Catch::Matchers::Contains("corrupt data"));
  std::vector<std::byte> bad_bool{std::byte{2}};
  CHECK_THROWS_AS(s.read<bool>(bad_bool), lf::decode_error);
  std::vector<std::byte> bad_variant{std::byte{9}, std::byte{0}, std::byte{0}, std::byte{0}};
  CHECK_THROWS_WITH((s.read<std::variant<int, char>>(bad_variant)), Catch::Matchers::Contains("variant index 9"));
}
