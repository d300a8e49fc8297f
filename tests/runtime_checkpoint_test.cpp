// Checkpoints of runtime flows: results, key/value writes and the input saved, restored on resume.
#include <lightflow/lightflow.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"

namespace lf = lightflow;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const lf::key<int> base{"base"};
const lf::key<std::string> note{"note"};
const lf::key<std::vector<double>> samples{"samples"};

struct counters {
  std::atomic<int> ran[5]{};
  std::atomic<bool> fail{true};
};

// a -> b -> c -> d, and a -> side. a writes two keys; b throws while `fail` is set.
lf::runtime_flow make_flow(counters& c) {
  lf::runtime_flow f{"运行时"};
  f.add("a", [&c](lf::context& ctx) {
    ++c.ran[0];
    ctx.set(note, std::string("from a"));
    ctx.set(samples, std::vector<double>{0.5, 1.5});
    return ctx.get(base) * 2;
  });
  f.add("b", [&c](lf::context& ctx) {
     ++c.ran[1];
     if (c.fail) throw std::runtime_error("simulated outage");
     ctx.set(note, std::string("from b"));  // shadows a's write for b's descendants
     return ctx.result<int>("a") + 1;
   }).after("a");
  f.add("c", [&c](lf::context& ctx) {
     ++c.ran[2];
     return ctx.get(note) + " " + std::to_string(ctx.result<int>("b")) + " " + std::to_string(ctx.get(samples).size());
   }).after("b");
  f.add("d", [&c] { ++c.ran[3]; }).after("c");
  f.add("side", [&c](lf::context& ctx) { ++c.ran[4]; return ctx.get(note); }).after("a");
  return f;
}

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("lightflow-rt-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  temp_dir() { fs::remove_all(path); }
  ~temp_dir() { fs::remove_all(path); }
  static inline int counter = 0;
};

template <class Store>
void resumes_only_what_did_not_succeed(Store& store) {
  counters c;
  const lf::runtime_flow f = make_flow(c);
  lf::executor pool{2};
  lf::runtime_result first = pool.run(f, lf::values{}.set(base, 20), lf::checkpoint{store, "order-7"});
  CHECK_FALSE(first.ok());
  CHECK(first.status("b") == lf::step_status::failed);
  CHECK(first.status("side") == lf::step_status::succeeded);

  c.fail = false;
  lf::runtime_result second = pool.resume(f, lf::checkpoint{store, "order-7"});  // the input comes from the store
  REQUIRE(second.ok());
  CHECK(c.ran[0] == 1);  // a and side were restored, not run again
  CHECK(c.ran[4] == 1);
  CHECK(c.ran[1] == 2);
  CHECK(c.ran[2] == 1);
  CHECK(c.ran[3] == 1);
  CHECK(second.get<int>("a") == 40);  // a restored result
  CHECK(second.get<std::string>("c") == "from b 41 2");  // restored writes, shadowed as before
  CHECK(second.get<std::string>("side") == "from a");
  CHECK(second.restored() == 2);

  // Resuming a run that succeeded runs nothing and returns its results.
  lf::runtime_result third = pool.resume(f, lf::checkpoint{store, "order-7"});
  REQUIRE(third.ok());
  CHECK(third.restored() == third.size());
  CHECK(third.get<std::string>("c") == "from b 41 2");
  CHECK(c.ran[1] == 2);
}

}  // namespace

TEST_CASE("a runtime flow's run resumes without running what succeeded (memory store)", "[runtime][checkpoint]") {
  lf::memory_store store;
  resumes_only_what_did_not_succeed(store);
}

TEST_CASE("a runtime flow's run resumes without running what succeeded (file store)", "[runtime][checkpoint]") {
  temp_dir dir;
  for (auto level : {lf::durability::durable, lf::durability::fast}) {
    {
      lf::file_store store(dir.path, level);
      resumes_only_what_did_not_succeed(store);
    }
    // After a restart, a new store over the directory has the same records.
    lf::file_store reopened(dir.path);
    counters c;
    lf::executor pool{1};
    auto again = pool.resume(make_flow(c), lf::checkpoint{reopened, "order-7"});
    CHECK(again.ok());
    CHECK(again.restored() == again.size());
    CHECK(c.ran[0] + c.ran[1] + c.ran[2] + c.ran[3] + c.ran[4] == 0);
    reopened.erase("运行时", "order-7");
  }
}

TEST_CASE("a runtime checkpoint refuses another definition, another input and corrupt records", "[runtime][checkpoint]") {
  lf::memory_store store;
  counters c;
  lf::executor pool{1};
  const auto f = make_flow(c);
  (void)pool.run(f, lf::values{}.set(base, 1), lf::checkpoint{store, "r"});

  // Another definition: a step more.
  auto changed = make_flow(c);
  changed.add("extra", [] {}).after("d");
  try {
    (void)pool.run(changed, lf::values{}.set(base, 1), lf::checkpoint{store, "r"});
    FAIL("another definition must be refused");
  } catch (const lf::checkpoint_error& e) {
    CHECK(contains(e.what(), "another definition of the flow"));
    CHECK(contains(e.what(), "step extra <- d"));
  }
  // Another input.
  try {
    (void)pool.run(f, lf::values{}.set(base, 2), lf::checkpoint{store, "r"});
    FAIL("another input must be refused");
  } catch (const lf::checkpoint_error& e) {
    CHECK(contains(e.what(), "the input differs"));
  }
  // A corrupt record: refused, naming the step, and left as it was.
  auto bytes = *store.load("运行时", "r", "step/a");
  bytes[bytes.size() / 2] ^= std::byte{0x20};
  store.save("运行时", "r", "step/a", bytes);
  const int ran_before = c.ran[0];
  try {
    (void)pool.resume(f, lf::checkpoint{store, "r"});
    FAIL("a corrupt record must be refused");
  } catch (const lf::checkpoint_error& e) {
    CHECK(contains(e.what(), "run \"r\" of flow \"运行时\""));
    CHECK(contains(e.what(), "the record of step \"a\""));
  }
  CHECK(*store.load("运行时", "r", "step/a") == bytes);
  CHECK(c.ran[0] == ran_before);
  // No such run.
  CHECK_THROWS_WITH(pool.resume(f, lf::checkpoint{store, "nope"}), Catch::Matchers::Contains("there is no checkpoint of run \"nope\""));
  // discard_stale starts over.
  auto fresh = pool.run(changed, lf::values{}.set(base, 1), lf::checkpoint{store, "r", lf::checkpoint_options{0, true}});
  CHECK(fresh.restored() == 0);
}

TEST_CASE("a runtime step whose result cannot be encoded fails, naming the step and the type", "[runtime][checkpoint]") {
  struct opaque {
    int x;
  };
  lf::runtime_flow f{"opaque"};
  f.add("make", [] { return opaque{1}; });
  f.add("after", [] { return 2; }).after("make");
  lf::memory_store store;
  lf::executor pool{1};
  auto result = pool.run(f, lf::checkpoint{store, "o"});
  CHECK_FALSE(result.ok());
  CHECK(result.status("make") == lf::step_status::failed);
  CHECK(result.status("after") == lf::step_status::skipped);
  CHECK(contains(result.error_message(), "step \"make\""));
  CHECK(contains(result.error_message(), "opaque"));
  CHECK(contains(result.error_message(), "cannot encode"));
  // The same flow runs without a checkpoint.
  CHECK(pool.run(f).ok());

  // A write of such a type: the message names the step and the key.
  lf::key<opaque> kept{"kept"};
  lf::runtime_flow g{"opaque writes"};
  g.add("writer", [&](lf::context& ctx) { ctx.set(kept, opaque{2}); });
  auto written = pool.run(g, lf::checkpoint{store, "w"});
  CHECK(written.status("writer") == lf::step_status::failed);
  CHECK(contains(written.error_message(), "step \"writer\", key \"kept\""));
  CHECK(contains(written.error_message(), "cannot encode"));
}

TEST_CASE("a restored value of a type the program does not know is refused", "[runtime][checkpoint]") {
  lf::memory_store store;
  lf::runtime_flow f{"unknown"};
  f.add("x", [] { return 3; });
  lf::executor pool{1};
  (void)pool.run(f, lf::checkpoint{store, "u"});
  // Rewrite x's record as if it held a value of a type this program never registered (a valid
  // record of this run: same fingerprint and run binding, good checksum).
  const auto manifest = lf::detail::decode_record(*store.load("unknown", "u", "@manifest"));
  auto rewrite = [&](bool result) {
    std::vector<std::byte> payload;
    lf::binary_writer w(payload);
    w.integer(static_cast<std::uint8_t>(result ? 1 : 0));
    if (result) {
      w(std::string("struct gone"));
      w.size(0);
      w.size(0);
    } else {
      w.size(1);
      w(std::string("k"), std::string("struct gone"));
      w.size(0);
    }
    store.save("unknown", "u", "step/x",
               lf::detail::encode_record(lf::detail::record_kind::step_output, manifest.fingerprint, 0, manifest.binding, "x", payload));
  };
  rewrite(false);
  try {
    (void)pool.resume(f, lf::checkpoint{store, "u"});
    FAIL("an unknown type must be refused");
  } catch (const lf::checkpoint_error& e) {
    CHECK(contains(e.what(), "the record of step \"x\", key \"k\", holds a struct gone, a type this program has not registered"));
  }
  // A result of another type than the step returns now is refused before it is decoded.
  rewrite(true);
  try {
    (void)pool.resume(f, lf::checkpoint{store, "u"});
    FAIL("a result of another type must be refused");
  } catch (const lf::checkpoint_error& e) {
    CHECK(contains(e.what(), "the record of step \"x\" holds a struct gone, but the step now returns int"));
  }
}

TEST_CASE("a runtime flow merged from a static flow is checkpointed too", "[runtime][checkpoint][merge]") {
  std::atomic<int> ran_list{0}, fail{1};
  const auto pricing = lf::flow<"pricing">(lf::step<"list">([&](const lf::values& in) { ++ran_list; return *in.find(base) * 10; }),
                                           lf::step<"discount", "list">([&](int price) {
                                             if (fail-- > 0) throw std::runtime_error("down");
                                             return price - 1;
                                           }));
  lf::runtime_flow f{"shop"};
  f.merge(pricing);
  lf::memory_store store;
  lf::executor pool{2};
  CHECK_FALSE(pool.run(f, lf::values{}.set(base, 3), lf::checkpoint{store, "s"}).ok());
  auto resumed = pool.resume(f, lf::checkpoint{store, "s"});
  REQUIRE(resumed.ok());
  CHECK(resumed.get<int>("pricing.discount") == 29);
  CHECK(ran_list == 1);
}

TEST_CASE("a big runtime flow on a durable file_store: a prepared log, and a resume restores every step",
          "[runtime][checkpoint][file_store]") {
  temp_dir dir;
  std::atomic<int> runs{0};
  lf::runtime_flow f{"big"};
  auto source = f.add("source", [&] { ++runs; return 1; });
  auto sink = f.add("sink", [&](lf::context& ctx) { ++runs; ctx.set(lf::key<int>{"total"}, 42); });
  for (int i = 0; i != 1000; ++i) {
    auto s = f.add("s" + std::to_string(i), [&runs, i] { ++runs; return i; });
    s.after(source);
    f.depend(sink, s);
  }
  lf::executor pool{2};
  fs::path log;
  std::uintmax_t written = 0;
  {
    lf::file_store store(dir.path);
    log = store.location("big", "r");
    REQUIRE(pool.run(f, lf::checkpoint{store, "r"}).ok());
    written = fs::file_size(log);
  }
  CHECK(runs == 1002);
  lf::file_store reopened(dir.path);
  auto resumed = pool.resume(f, lf::checkpoint{reopened, "r"});
  REQUIRE(resumed.ok());
  CHECK(resumed.restored() == 1002);
  CHECK(runs == 1002);  // nothing ran again
  CHECK(resumed.get<int>("s999") == 999);
  // 1,002 records of ~100 bytes: the store had prepared room for them (zeros after the last frame,
  // under a MiB left unused, so kept); reading changed nothing.
  CHECK(fs::file_size(log) == written);
  std::ifstream in(log, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  const auto torn = lf::file_store::parse_log(std::as_bytes(std::span(bytes.data(), bytes.size())), log.string()).torn;
  CHECK(torn > 0);
  CHECK(torn < (1u << 20));
}
