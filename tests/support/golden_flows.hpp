// The flows of the golden checkpoints under tests/data/: a static and a runtime flow whose
// checkpoints were written by earlier versions of lightflow (and by g++ and clang), so that tests can
// resume them with today's code. The first two use types every compiler spells alike (int, double);
// the typed ones, types that g++ and clang spell differently (std::string, long, containers), which
// checkpoints written before type tags stored as the compiler spelled them.
// Each flow's third step throws while `fail` is set: the golden run stopped there, with the first two
// steps' records (and the manifest and the input) saved.
#ifndef LIGHTFLOW_TEST_GOLDEN_FLOWS_HPP
#define LIGHTFLOW_TEST_GOLDEN_FLOWS_HPP

#include <lightflow/lightflow.hpp>

#include <atomic>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace golden {

namespace lf = lightflow;

struct counters {
  std::atomic<int> ran[4]{};
  std::atomic<bool> fail{true};
  int total() const { return ran[0] + ran[1] + ran[2] + ran[3]; }
};

/// a = x + 1, b = a * 2.5, c = int(b) (throws while failing), d = c + 100. With input 4: d == 112.
inline auto static_flow(counters& c) {
  return lf::flow<"golden_static">(
      lf::step<"a">([&c](int x) { ++c.ran[0]; return x + 1; }),
      lf::step<"b", "a">([&c](int a) { ++c.ran[1]; return a * 2.5; }),
      lf::step<"c", "b">([&c](double b) {
        ++c.ran[2];
        if (c.fail) throw std::runtime_error("golden: simulated outage");
        return b > -1e9 && b < 1e9 ? static_cast<int>(b) : 0;  // (in range whatever a fuzzer restores)
      }),
      lf::step<"d", "c">([&c](int v) { ++c.ran[3]; return v % 1000000 + 100; }));
}

inline const lf::key<int> base{"base"};
inline const lf::key<double> scale{"scale"};

/// a = base + 1 (writes scale = 2.5), b = a * scale, c = int(b) (throws while failing), d = c + 100.
/// With base = 4: d == 112.
inline lf::runtime_flow runtime_flow(counters& c) {
  lf::runtime_flow f{"golden_runtime"};
  f.add("a", [&c](lf::context& ctx) {
    ++c.ran[0];
    ctx.set(scale, 2.5);
    return ctx.get(base) + 1;
  });
  f.add("b", [&c](lf::context& ctx) { ++c.ran[1]; return ctx.result<int>("a") * ctx.get(scale); }).after("a");
  f.add("c", [&c](lf::context& ctx) {
     ++c.ran[2];
     if (c.fail) throw std::runtime_error("golden: simulated outage");
     const double b = ctx.result<double>("b");
     return b > -1e9 && b < 1e9 ? static_cast<int>(b) : 0;
   }).after("b");
  f.add("d", [&c](lf::context& ctx) { ++c.ran[3]; return ctx.result<int>("c") % 1000000 + 100; }).after("c");
  return f;
}

/// a = size of the input, b = {input, a as text}, c = {b[0]: a, b[1]: a * 2} (throws while failing),
/// d = c's entries joined. With input "order-17": d == "16=8;8=order-17;" (a map's order: by key).
inline auto typed_static_flow(counters& c) {
  return lf::flow<"typed_static">(
      lf::step<"a">([&c](const std::string& in) { ++c.ran[0]; return static_cast<long>(in.size()); }),
      lf::step<"b", "a">([&c](long a) { ++c.ran[1]; return std::vector<std::string>{"order-17", std::to_string(a)}; }),
      lf::step<"c", "b">([&c](const std::vector<std::string>& b) {
        ++c.ran[2];
        if (c.fail) throw std::runtime_error("golden: simulated outage");
        std::map<std::string, long> m;
        for (std::size_t i = 0; i != b.size(); ++i) m[b[i]] = static_cast<long>((i + 1) * b[0].size());
        return m;
      }),
      lf::step<"d", "c">([&c](const std::map<std::string, long>& m) {
        ++c.ran[3];
        std::string out;
        for (const auto& [k, v] : m) out += std::to_string(v) + "=" + k + ";";
        return out;
      }));
}

inline const lf::key<std::string> name{"name"};
inline const lf::key<std::vector<std::string>> tags{"tags"};

/// The typed flow again, as a runtime flow: a also writes tags = {name, "x"}; d == "16=8;8=order-17;".
inline lf::runtime_flow typed_runtime_flow(counters& c) {
  lf::runtime_flow f{"typed_runtime"};
  f.add("a", [&c](lf::context& ctx) {
    ++c.ran[0];
    ctx.set(tags, std::vector<std::string>{ctx.get(name), "x"});
    return static_cast<long>(ctx.get(name).size());
  });
  f.add("b", [&c](lf::context& ctx) {
     ++c.ran[1];
     return std::vector<std::string>{ctx.get(tags).at(0), std::to_string(ctx.result<long>("a"))};
   }).after("a");
  f.add("c", [&c](lf::context& ctx) {
     ++c.ran[2];
     if (c.fail) throw std::runtime_error("golden: simulated outage");
     const auto& b = ctx.result<std::vector<std::string>>("b");
     std::map<std::string, long> m;
     for (std::size_t i = 0; i != b.size(); ++i) m[b[i]] = static_cast<long>((i + 1) * b[0].size());
     return m;
   }).after("b");
  f.add("d", [&c](lf::context& ctx) {
     ++c.ran[3];
     std::string out;
     for (const auto& [k, v] : ctx.result<std::map<std::string, long>>("c")) out += std::to_string(v) + "=" + k + ";";
     return out;
   }).after("c");
  return f;
}

inline const std::string typed_input = "order-17";
inline const std::string typed_expected_d = "16=8;8=order-17;";

inline constexpr int input = 4;
inline constexpr int expected_d = 112;
inline constexpr const char* run_id = "golden-run";

}  // namespace golden

#endif
