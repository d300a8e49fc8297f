// Checkpoints written by earlier versions of lightflow (tests/data/) resume with today's code, with
// both compilers: a log or a database written by format 1 is read, resumed and appended to.
#include <lightflow/lightflow.hpp>

#include <unistd.h>

#include <filesystem>
#include <string>

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

}  // namespace

TEST_CASE("format-1 file_store logs (g++ and clang) resume with today's code", "[golden]") {
  for (const char* dir : {"v1-gcc", "v1-clang"}) {
    INFO(dir);
    golden_copy copy(dir);
    {
      lf::file_store store(copy.path / "file_store");
      resumes_both_flows(store);
    }
    lf::file_store reopened(copy.path / "file_store");  // the mixed log reads back whole
    CHECK(reopened.list("golden_static", golden::run_id).size() == 6);
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

TEST_CASE("a format-1 record copied into a run begun by format 2 is refused", "[golden]") {
  golden_copy copy("v1-gcc");
  lf::file_store old_store(copy.path / "file_store");
  lf::memory_store store;
  golden::counters c;
  const auto f = golden::static_flow(c);
  lf::executor pool{1};
  REQUIRE_FALSE(pool.run(f, golden::input, lf::checkpoint{store, golden::run_id}).ok());
  store.save("golden_static", golden::run_id, "step/a", *old_store.load("golden_static", golden::run_id, "step/a"));
  c.fail = false;
  CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, golden::run_id}),
                    Catch::Contains("format-1 record in a run begun by a newer lightflow"));
}
