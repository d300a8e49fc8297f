// Every exception lightflow throws derives from lightflow::error and from one standard exception; a
// lookup by a name that is not a step throws unknown_step, from static and runtime flows alike.
#include <lightflow/lightflow.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "catch.hpp"

namespace lf = lightflow;

namespace {

// Each is a lightflow::error and, unambiguously, a std::exception of the kind its comment gives.
template <class E, class Std>
constexpr bool kind_of = std::is_base_of_v<lf::error, E> && std::is_base_of_v<Std, E> &&
                         std::is_convertible_v<const E&, const std::exception&> &&
                         std::is_convertible_v<const E&, const lf::error&>;
static_assert(kind_of<lf::flow_error, std::logic_error>);
static_assert(kind_of<lf::unknown_step, std::out_of_range>);
static_assert(kind_of<lf::not_found, std::out_of_range>);
static_assert(kind_of<lf::usage_error, std::logic_error>);
static_assert(kind_of<lf::key_error, std::logic_error>);
static_assert(kind_of<lf::bad_step_access, std::logic_error>);
static_assert(kind_of<lf::decode_error, std::runtime_error>);
static_assert(kind_of<lf::checkpoint_error, std::runtime_error>);
static_assert(kind_of<lf::store_error, std::runtime_error>);
static_assert(kind_of<lf::corrupt_store_error, lf::store_error>);
static_assert(kind_of<lf::step_error, std::runtime_error>);
static_assert(kind_of<lf::callback_error, std::runtime_error>);
static_assert(kind_of<lf::timeout_error, std::runtime_error>);
static_assert(!std::is_base_of_v<std::exception, lf::error>);  // else catching std::exception would be ambiguous

// Calls `f`, which must throw E; checks that the same exception is caught as lightflow::error and as
// std::exception with the same message, and returns that message.
template <class E, class F>
std::string thrown(F&& f) {
  std::string as_error, as_std;
  try {
    f();
  } catch (const lf::error& e) {
    CHECK(dynamic_cast<const E*>(&e) != nullptr);
    as_error = e.what();
  }
  try {
    f();
  } catch (const std::exception& e) {
    CHECK(dynamic_cast<const E*>(&e) != nullptr);
    as_std = e.what();
  }
  CHECK(as_error == as_std);
  CHECK_FALSE(as_error.empty());
  return as_error;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a lookup by an unknown step name throws unknown_step, naming the flow and the name", "[errors]") {
  lf::executor pool{1};
  const auto s = lf::flow<"static">(lf::step<"a">([] { return 1; }));
  auto sr = pool.run(s);
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)sr.status("nope"); }), "flow \"static\" has no step named \"nope\""));
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)sr.step("nope"); }), "\"nope\""));

  lf::runtime_flow r{"runtime"};
  r.add("a", [] { return 1; });
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)r.at("nope"); }), "flow \"runtime\" has no step named \"nope\""));
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)r.step_name(7); }), "flow \"runtime\" has no step 7"));
  auto rr = pool.run(r);
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)rr.status("nope"); }), "flow \"runtime\" has no step named \"nope\""));
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)rr.get<int>("nope"); }), "\"nope\""));
  CHECK(rr.get<int>("a") == 1);
}

TEST_CASE("the library's other exceptions are lightflow errors too", "[errors]") {
  lf::executor pool{1};
  // A step that asks for a resource its run lacks fails with not_found.
  struct missing {};
  const auto f = lf::flow<"f">(lf::step<"a">([](lf::step_context& ctx) { return &ctx.resource<missing>(); }));
  auto r = pool.run(f);
  REQUIRE(r.status<"a">() == lf::step_status::failed);
  CHECK(contains(thrown<lf::not_found>([&] { std::rethrow_exception(r.step("a").error); }), "asked for a resource"));
  // A step that fails: throw_if_failed's step_error.
  CHECK(contains(thrown<lf::step_error>([&] { r.throw_if_failed(); }), "step \"a\" of flow \"f\" failed"));
  // get() of a step without output.
  CHECK(contains(thrown<lf::bad_step_access>([&] { (void)r.get<"a">(); }), "no output for step \"a\""));
  // A handle whose result was taken.
  auto handle = pool.submit(f);
  auto taken = handle.get();
  CHECK_FALSE(taken.ok());
  CHECK(contains(thrown<lf::usage_error>([&] { (void)handle.get(); }), "handle without a run"));
  // A runtime flow that cannot run.
  lf::runtime_flow cyclic{"cyclic"};
  cyclic.add("x", [] {}).after("y");
  cyclic.add("y", [] {}).after("x");
  CHECK(contains(thrown<lf::flow_error>([&] { (void)pool.run(cyclic); }), "cycle"));
  // Bytes that do not decode.
  const std::vector<std::byte> junk{std::byte{1}};
  CHECK(contains(thrown<lf::decode_error>([&] { (void)lf::binary_serializer{}.read<std::string>(junk); }), "lightflow"));
}

TEST_CASE("messages: a misspelled step name gets the closest one; one lightflow: prefix; types with their article",
          "[errors][messages]") {
  lf::executor pool{1};
  const auto s = lf::flow<"static">(lf::step<"validate">([] { return 1; }), lf::step<"ship", "validate">([](int x) { return x; }));
  auto sr = pool.run(s);
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)sr.status("valdiate"); }),
                 "has no step named \"valdiate\"; did you mean \"validate\"?"));
  CHECK_FALSE(contains(thrown<lf::unknown_step>([&] { (void)sr.status("payment"); }), "did you mean"));

  lf::runtime_flow r{"runtime"};
  r.add("validate", [] { return 7; });
  r.add("consume", [](lf::context& ctx) { return static_cast<int>(ctx.result<double>("validate")); }).after("validate");
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)r.at("vallidate"); }), "did you mean \"validate\"?"));
  auto rr = pool.run(r);
  CHECK(contains(thrown<lf::unknown_step>([&] { (void)rr.get<int>("consum"); }), "did you mean \"consume\"?"));
  // A result read as the wrong type: "the result of step", "an int", and the step's failure message
  // carries one "lightflow:" prefix.
  const std::string wrong = thrown<lf::key_error>([&] { (void)rr.get<double>("validate"); });
  CHECK(contains(wrong, "lightflow: the result of step \"validate\" holds an int, not the double it was read as"));
  REQUIRE(rr.status("consume") == lf::step_status::failed);
  const std::string failed = thrown<lf::step_error>([&] { rr.throw_if_failed(); });
  CHECK(contains(failed, "step \"consume\" of flow \"runtime\" failed: the result of step \"validate\" holds an int"));
  CHECK(failed.find("lightflow:", 1) == std::string::npos);
  CHECK(rr.error_message().find("lightflow:", 1) == std::string::npos);
}
