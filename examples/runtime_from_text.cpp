// A flow built at run time from a text description: one line per step, its name, then ":" and the
// names of its dependencies. Every step here reads the amount of the previous stages through its
// key/value context, adds its own, and passes it on; the merge step reads the two branches by name.
#include <lightflow/lightflow.hpp>

#include <cstdio>
#include <sstream>
#include <string>

namespace lf = lightflow;

int main() {
  const std::string description = R"(
    fetch:
    parse: fetch
    price: parse
    stock: parse
    report: price stock
  )";
  const lf::key<int> amount{"amount"};

  lf::runtime_flow flow{"from text"};
  std::istringstream lines(description);
  for (std::string line; std::getline(lines, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream words(line.substr(0, colon));
    std::string name;
    words >> name;
    auto step = flow.add(name, [amount](lf::context& ctx) {
      if (ctx.name() == "report") {  // two branches wrote "amount": read each one's result by name
        const int total = ctx.result<int>("price") + ctx.result<int>("stock");
        std::printf("report: price + stock = %d\n", total);
        return total;
      }
      const int seen = ctx.get(amount);  // the nearest ancestor's write, or the run's input
      ctx.set(amount, seen + 10);
      std::printf("%s: saw %d, wrote %d\n", std::string(ctx.name()).c_str(), seen, seen + 10);
      return seen + 10;
    });
    std::istringstream deps(line.substr(colon + 1));
    for (std::string dep; deps >> dep;) step.after(dep);
  }

  lf::executor pool{2};
  lf::values input;
  input.set(amount, 1);
  auto result = pool.run(flow, input);
  if (!result.ok()) {
    std::puts(result.error_message().c_str());
    return 1;
  }
  std::printf("%zu steps; the end values of \"amount\": ", result.size());
  for (const auto& [writer, value] : result.end_values(amount)) std::printf("%s=%d ", writer.c_str(), value);
  std::printf("\nresult of report: %d\n", result.get<int>("report"));
}
