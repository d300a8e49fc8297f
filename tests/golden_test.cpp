// Checkpoints written by earlier versions of lightflow (tests/data/) resume with today's code, with
// both compilers: a log or a database written by format 1 is read, resumed and appended to; one
// written by a g++ build resumes under a clang build and the other way round (types are named by
// their checkpoint names, type_tag.hpp, and the compilers' spellings that earlier versions stored
// are read alike).
#include <lightflow/lightflow.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "catch.hpp"
#include "support/golden_flows.hpp"
#ifdef LIGHTFLOW_TEST_SQLITE
#include <lightflow/sqlite_store.hpp>
#endif

namespace lf = lightflow;
namespace fs = std::filesystem;

namespace {

// A copy of a golden directory, so that resuming (which appends) never changes the repository's files.
struct golden_copy {
  fs::path path;
  explicit golden_copy(const std::string& name) {
    path = fs::temp_directory_path() / ("lightflow-golden-" + std::to_string(::getpid()) + "-" + name);
    fs::remove_all(path);
    fs::copy(fs::path(LIGHTFLOW_TEST_DATA_DIR) / name, path, fs::copy_options::recursive);
  }
  ~golden_copy() { fs::remove_all(path); }
};

template <class Store>
void resumes_both_flows(Store& store) {
  lf::executor pool{2};
  {
    golden::counters c;
    c.fail = false;
    const auto f = golden::static_flow(c);
    auto r = pool.resume<int>(f, lf::checkpoint{store, golden::run_id});
    REQUIRE(r.ok());
    CHECK(r.restored() == 2);  // a and b
    CHECK((c.ran[0] == 0 && c.ran[1] == 0 && c.ran[2] == 1 && c.ran[3] == 1));
    CHECK(r.template get<"d">() == golden::expected_d);
    // Resumed again: the old records and the new ones (format 2) read together.
    auto again = pool.resume<int>(f, lf::checkpoint{store, golden::run_id});
    CHECK(again.restored() == 4);
    CHECK(c.total() == 2);
  }
  {
    golden::counters c;
    c.fail = false;
    const auto f = golden::runtime_flow(c);
    auto r = pool.resume(f, lf::checkpoint{store, golden::run_id});
    REQUIRE(r.ok());
    CHECK(r.restored() == 2);
    CHECK(r.template get<int>("d") == golden::expected_d);
    CHECK(c.total() == 2);
    auto again = pool.resume(f, lf::checkpoint{store, golden::run_id});
    CHECK(again.restored() == 4);
    CHECK(c.total() == 2);
  }
}

template <class Store>
void resumes_typed_flows(Store& store) {
  lf::executor pool{2};
  {
    golden::counters c;
    c.fail = false;
    const auto f = golden::typed_static_flow(c);
    auto r = pool.resume<std::string>(f, lf::checkpoint{store, golden::run_id});
    REQUIRE(r.ok());
    CHECK(r.restored() == 2);
    CHECK((c.ran[0] == 0 && c.ran[1] == 0 && c.ran[2] == 1 && c.ran[3] == 1));
    CHECK(r.template get<"b">() == std::vector<std::string>{"order-17", "8"});
    CHECK(r.template get<"d">() == golden::typed_expected_d);
    auto again = pool.resume<std::string>(f, lf::checkpoint{store, golden::run_id});
    CHECK(again.restored() == 4);
    CHECK(c.total() == 2);
  }
  {
    golden::counters c;
    c.fail = false;
    const auto f = golden::typed_runtime_flow(c);
    auto r = pool.resume(f, lf::checkpoint{store, golden::run_id});
    REQUIRE(r.ok());
    CHECK(r.restored() == 2);
    CHECK(r.template get<std::string>("d") == golden::typed_expected_d);
    CHECK(r.template get<long>("a") == 8);
    CHECK(c.total() == 2);
    auto again = pool.resume(f, lf::checkpoint{store, golden::run_id});
    CHECK(again.restored() == 4);
    CHECK(c.total() == 2);
  }
}

// Written by cf259f8 (types as the compiler spelled them), by 72f4f01 (manifest 2: checkpoint names),
// and by 41c05d9 (with outcome records), each with g++ and with clang.
constexpr const char* typed_dirs[] = {"spelled-gcc", "spelled-clang", "tagged-gcc",
                                      "tagged-clang", "outcome-gcc",   "outcome-clang"};

std::string manifest_of(lf::memory_store& store, const char* flow) {
  const auto bytes = store.load(flow, golden::run_id, "@manifest");
  REQUIRE(bytes);
  const auto rec = lf::detail::decode_record(*bytes);
  return std::string(reinterpret_cast<const char*>(rec.payload.data()), rec.payload.size());
}

}  // namespace

TEST_CASE("checkpoints written by g++ and by clang resume under either compiler", "[golden]") {
  for (const char* dir : typed_dirs) {
    INFO(dir);
    golden_copy copy(dir);
    {
      lf::file_store store(copy.path / "file_store");
      resumes_both_flows(store);
      resumes_typed_flows(store);
    }
#ifdef LIGHTFLOW_TEST_SQLITE
    lf::sqlite_store store((copy.path / "sqlite_store.db").string());
    resumes_both_flows(store);
    resumes_typed_flows(store);
#endif
  }
}

TEST_CASE("runs written with outcome records are listed as failed, with their times; older ones as unknown",
          "[golden][stored_runs]") {
  for (const char* dir : typed_dirs) {
    INFO(dir);
    const bool has_outcome = std::string_view(dir).starts_with("outcome");
    golden_copy copy(dir);
    lf::file_store store(copy.path / "file_store");
    for (const char* flow : {"golden_static", "golden_runtime", "typed_static", "typed_runtime"}) {
      INFO(flow);
      const auto listed = lf::runs(store, flow);
      REQUIRE(listed.size() == 1);
      CHECK(listed[0].id == golden::run_id);
      CHECK(listed[0].state == (has_outcome ? lf::run_state::failed : lf::run_state::unknown));
      CHECK(listed[0].ended.has_value() == has_outcome);
      if (has_outcome) CHECK(*listed[0].ended >= listed[0].started);
    }
    if (!has_outcome) continue;
    const auto started = lf::runs(store, "golden_static")[0].started;
    golden::counters c;
    c.fail = false;
    lf::executor pool{1};
    REQUIRE(pool.resume<int>(golden::static_flow(c), lf::checkpoint{store, golden::run_id}).ok());
    const auto after = lf::runs(store, "golden_static");
    CHECK(after[0].state == lf::run_state::succeeded);
    CHECK(after[0].started == started);  // when the golden run first started
  }
}

TEST_CASE("a manifest names types by their checkpoint names, the same from every compiler", "[golden]") {
  lf::memory_store store;
  lf::executor pool{1};
  golden::counters c;
  const auto f = golden::typed_static_flow(c);
  REQUIRE_FALSE(pool.run(f, golden::typed_input, lf::checkpoint{store, golden::run_id}).ok());
  CHECK(manifest_of(store, "typed_static") ==
        "lightflow checkpoint manifest 2\nflow typed_static\nversion 0\nserializer lightflow-binary-1\n"
        "input std::string\nstep a <- : long\nstep b <- a : std::vector<std::string>\n"
        "step c <- b : std::map<std::string, long>\nstep d <- c : std::string\n");
  const auto rt = golden::typed_runtime_flow(c);
  lf::values in;
  in.set(golden::name, golden::typed_input);
  REQUIRE_FALSE(pool.run(rt, in, lf::checkpoint{store, golden::run_id}).ok());
  CHECK(manifest_of(store, "typed_runtime") ==
        "lightflow checkpoint manifest 2\nflow typed_runtime\nversion 0\nserializer lightflow-binary-1\n"
        "input lightflow::values\nstep a <- : long\nstep b <- a : std::vector<std::string>\n"
        "step c <- b : std::map<std::string, long>\nstep d <- c : std::string\n");
}

namespace {
struct unnamed {  // encodable, but without a checkpoint name
  int v = 0;
};
void lightflow_write(lf::binary_writer& w, const unnamed& u) { w(u.v); }
void lightflow_read(lf::binary_reader& r, unnamed& u) { r(u.v); }
struct named_twice_a {
  static constexpr std::string_view lightflow_type_name = "golden.twice";
};
struct named_twice_b {
  static constexpr std::string_view lightflow_type_name = "golden.twice";
};
}  // namespace

TEST_CASE("a runtime checkpoint refuses a type without a checkpoint name, before running anything", "[golden]") {
  lf::memory_store store;
  lf::executor pool{1};
  int ran = 0;
  lf::runtime_flow f{"unnamed_result"};
  f.add("a", [&] { ++ran; return unnamed{7}; });
  CHECK_THROWS_WITH(pool.run(f, lf::values{}, lf::checkpoint{store, "r"}),
                    Catch::Contains("step \"a\" of flow \"unnamed_result\" cannot be checkpointed") &&
                        Catch::Contains("without a checkpoint name") && Catch::Contains("lightflow_type_name"));
  CHECK(ran == 0);
  CHECK(store.list("unnamed_result", "r").empty());
  // A key's value is known only when written: that step fails, with the same words, and nothing of it is saved.
  const lf::key<unnamed> k{"k"};
  lf::runtime_flow g{"unnamed_write"};
  g.add("w", [&](lf::context& ctx) { ctx.set(k, unnamed{1}); });
  auto r = pool.run(g, lf::values{}, lf::checkpoint{store, "r"});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error_message(), Catch::Contains("key \"k\"") && Catch::Contains("without a checkpoint name"));
  CHECK_FALSE(store.load("unnamed_write", "r", "step/w").has_value());
}

TEST_CASE("two types with one checkpoint name are refused when the second is registered", "[golden]") {
  lf::runtime_flow f{"twice"};
  f.add("a", [] { return named_twice_a{}; });
  CHECK_THROWS_AS(f.add("b", [] { return named_twice_b{}; }), lf::usage_error);
  CHECK_THROWS_WITH(f.add("c", [] { return named_twice_b{}; }), Catch::Contains("two types have the checkpoint name \"golden.twice\""));
}

TEST_CASE("format-1 file_store logs (g++ and clang) resume with today's code", "[golden]") {
  for (const char* dir : {"v1-gcc", "v1-clang"}) {
    INFO(dir);
    golden_copy copy(dir);
    {
      lf::file_store store(copy.path / "file_store");
      resumes_both_flows(store);
    }
    lf::file_store reopened(copy.path / "file_store");  // the mixed log reads back whole
    CHECK(reopened.list("golden_static", golden::run_id).size() == 7);  // and the outcome the resumed run wrote
  }
}

#ifdef LIGHTFLOW_TEST_SQLITE
TEST_CASE("format-1 records in SQLite databases (g++ and clang) resume with today's code", "[golden]") {
  for (const char* dir : {"v1-gcc", "v1-clang"}) {
    INFO(dir);
    golden_copy copy(dir);
    lf::sqlite_store store((copy.path / "sqlite_store.db").string());
    resumes_both_flows(store);
  }
}
#endif

TEST_CASE("a format-1 record copied into a run begun by a later version is refused", "[golden]") {
  golden_copy copy("v1-gcc");
  lf::file_store old_store(copy.path / "file_store");
  golden::counters c;
  const auto f = golden::static_flow(c);
  lf::executor pool{1};
  const auto old_a = *old_store.load("golden_static", golden::run_id, "step/a");
  c.fail = false;
  {  // A run begun by format 2 with the same manifest text (records bound to their run): refused as a copy.
    golden_copy later("spelled-gcc");
    lf::file_store store(later.path / "file_store");
    store.save("golden_static", golden::run_id, "step/a", old_a);
    CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, golden::run_id}),
                      Catch::Contains("format-1 record in a run begun by a newer lightflow"));
  }
  {  // A run begun by this version: another manifest text, so another fingerprint.
    lf::memory_store store;
    c.fail = true;
    REQUIRE_FALSE(pool.run(f, golden::input, lf::checkpoint{store, golden::run_id}).ok());
    store.save("golden_static", golden::run_id, "step/a", old_a);
    c.fail = false;
    CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, golden::run_id}),
                      Catch::Contains("the record of step \"a\" was written by another definition of the flow"));
  }
  CHECK(c.total() == 3);  // the run begun here: a, b and the failed c; nothing ran on resume
}
