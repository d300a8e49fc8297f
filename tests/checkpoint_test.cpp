// Checkpoints: what a failed run leaves behind, and what resuming it runs.
#include <lightflow/lightflow.hpp>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/files.hpp"
#include "support/generated_flows.hpp"
#include "support/two_kinds.hpp"
#ifdef LIGHTFLOW_TEST_SQLITE
#include <lightflow/sqlite_store.hpp>
#endif
#ifdef LIGHTFLOW_TEST_POSTGRES
#include <libpq-fe.h>
#include <lightflow/postgres_store.hpp>

#include "support/postgres_server.hpp"
#endif

namespace lf = lightflow;
namespace fs = std::filesystem;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

struct counters {
  std::array<std::atomic<int>, 8> ran{};
  std::atomic<bool> fail_third{true};
  int operator[](std::size_t i) const { return ran[i].load(); }
};

// 1 -> 2 -> 3 -> 4, plus a branch 1 -> side; step 3 throws while fail_third is set.
auto make_chain(counters& c) {
  return lf::flow<"chain">(
      lf::step<"s1">([&c](int x) { ++c.ran[0]; return x + 1; }),
      lf::step<"s2", "s1">([&c](int x) { ++c.ran[1]; return std::to_string(x * 10); }),
      lf::step<"s3", "s2">([&c](const std::string& s) {
        ++c.ran[2];
        if (c.fail_third) throw std::runtime_error("simulated outage");
        return s + "!";
      }),
      lf::step<"s4", "s3">([&c](const std::string& s) { ++c.ran[3]; return s.size(); }),
      lf::step<"side", "s1">([&c](int x) { ++c.ran[4]; return x * 2; }));
}

using test_files::read_file;
using test_files::temp_dir;
using test_files::write_file;

template <class Store>
void resumes_only_what_did_not_succeed(Store& store) {
  lf::executor pool{2};
  counters c;
  auto f = make_chain(c);

  auto first = pool.run(f, 4, lf::checkpoint{store, "order-42"});
  REQUIRE_FALSE(first.ok());
  CHECK(first.template status<"s3">() == lf::step_status::failed);
  CHECK(first.template status<"s4">() == lf::step_status::skipped);
  CHECK(first.restored() == 0);
  CHECK((c[0] == 1 && c[1] == 1 && c[2] == 1 && c[3] == 0 && c[4] == 1));

  // Still failing: resuming can be repeated.
  auto second = pool.resume<int>(f, lf::checkpoint{store, "order-42"});
  REQUIRE_FALSE(second.ok());
  CHECK(second.restored() == 3);  // s1, s2, side
  CHECK((c[0] == 1 && c[1] == 1 && c[2] == 2 && c[3] == 0 && c[4] == 1));

  c.fail_third = false;
  auto third = pool.resume<int>(f, lf::checkpoint{store, "order-42"});
  REQUIRE(third.ok());
  CHECK((c[0] == 1 && c[1] == 1 && c[2] == 3 && c[3] == 1 && c[4] == 1));  // only 3 and 4 ran
  CHECK(third.template get<"s1">() == 5);                 // the input (4) came from the store
  CHECK(third.template get<"s3">() == "50!");             // 3 got 2's restored output
  CHECK(third.template get<"s4">() == 3);
  CHECK(third.template get<"side">() == 10);              // restored, not run again
  CHECK(third.step("s2").restored);
  CHECK_FALSE(third.step("s4").restored);

  // A run that already succeeded: nothing runs, and the result says so.
  auto fourth = pool.resume<int>(f, lf::checkpoint{store, "order-42"});
  REQUIRE(fourth.ok());
  CHECK(fourth.restored() == fourth.size());
  CHECK(fourth.template get<"s4">() == 3);
  CHECK((c[0] == 1 && c[1] == 1 && c[2] == 3 && c[3] == 1 && c[4] == 1));

  // Running again with the same id and input resumes too.
  auto again = pool.run(f, 4, lf::checkpoint{store, "order-42"});
  CHECK(again.restored() == again.size());
}

// A store that refuses to save step records after a number of saves, as a full disk would.
struct failing_store : lf::memory_store {
  std::atomic<int> saves_left{1000};
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    if (key.starts_with("step/") && saves_left.fetch_sub(1) <= 0) throw lf::store_error("lightflow-test: no space left on device");
    lf::memory_store::save(flow, run, key, bytes);
  }
};

}  // namespace

namespace {
// Step s2's record altered in `store` is refused (the message names `where`) and left as it is.
template <class Store>
void refuses_a_corrupted_record(Store& store, const std::string& where) {
  lf::executor pool{1};
  counters c;
  auto f = make_chain(c);
  (void)pool.run(f, 1, lf::checkpoint{store, "bad"});
  auto bytes = *store.load("chain", "bad", "step/s2");
  bytes[bytes.size() / 2] ^= std::byte{0x40};
  store.save("chain", "bad", "step/s2", bytes);
  store.flush();
  try {
    (void)pool.resume<int>(f, lf::checkpoint{store, "bad"});
    FAIL("a corrupt record must be refused");
  } catch (const lf::checkpoint_error& e) {
    CHECK(contains(e.what(), where));
    CHECK(contains(e.what(), "the record of step \"s2\" is unreadable: record checksum mismatch"));
  }
  CHECK(*store.load("chain", "bad", "step/s2") == bytes);  // not overwritten
  CHECK(c[2] == 1);                                        // nothing ran
}
}  // namespace

TEST_CASE("a resumed run executes only the steps that did not succeed (memory store)", "[checkpoint]") {
  lf::memory_store store;
  resumes_only_what_did_not_succeed(store);
}

TEST_CASE("a resumed run executes only the steps that did not succeed (file store, durable)", "[checkpoint]") {
  temp_dir dir;
  {
    lf::file_store store(dir.path, lf::durability::durable);
    resumes_only_what_did_not_succeed(store);
  }
  // A new store over the same directory (as after a restart) sees the same records.
  lf::file_store reopened(dir.path);
  counters c;
  auto f = make_chain(c);
  lf::executor pool{1};
  auto result = pool.resume<int>(f, lf::checkpoint{reopened, "order-42"});
  CHECK(result.restored() == result.size());
  CHECK(c[0] + c[1] + c[2] + c[3] + c[4] == 0);
}

TEST_CASE("a resumed run executes only the steps that did not succeed (file store, fast)", "[checkpoint]") {
  temp_dir dir;
  lf::file_store store(dir.path, lf::durability::fast);
  resumes_only_what_did_not_succeed(store);
}

#ifdef LIGHTFLOW_TEST_SQLITE
TEST_CASE("a resumed run executes only the steps that did not succeed (SQLite store)", "[checkpoint][sqlite]") {
  temp_dir dir;
  fs::create_directories(dir.path);
  const std::string db = (dir.path / "checkpoints.db").string();
  {
    lf::sqlite_store store(db);
    resumes_only_what_did_not_succeed(store);
  }
  lf::sqlite_store reopened(db);  // as after a restart
  CHECK(reopened.list("chain", "order-42").size() == 8);  // input, manifest, outcome, 5 steps
  reopened.erase("chain", "order-42");
  CHECK(reopened.list("chain", "order-42").empty());
}
#endif

#ifdef LIGHTFLOW_TEST_POSTGRES
namespace {
// Runs `sql` on the tests' server (what a database administrator would do by hand).
void administer(const std::string& sql) {
  PGconn* c = PQconnectdb(test_postgres::shared().conninfo().c_str());
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  const std::string why = PQerrorMessage(c);
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("lightflow-test: " + sql + ": " + why);
}
}  // namespace

TEST_CASE("a resumed run executes only the steps that did not succeed (PostgreSQL store)", "[checkpoint][postgres]") {
  const std::string conninfo = test_postgres::shared().conninfo();
  {
    lf::postgres_store store(conninfo, "resumes");
    resumes_only_what_did_not_succeed(store);
  }
  lf::postgres_store reopened(conninfo, "resumes");  // as after a restart: the tables are there, at version 2
  CHECK(reopened.list("chain", "order-42").size() == 8);  // input, manifest, outcome, 5 steps
  CHECK(reopened.runs("chain") == std::vector<std::string>{"order-42"});
  reopened.erase("chain", "order-42");
  CHECK(reopened.list("chain", "order-42").empty());
}

TEST_CASE("a PostgreSQL store's records survive a crash of the server; the store connects again", "[checkpoint][postgres]") {
  if (!test_postgres::shared().can_crash()) {
    WARN("left out: the tests do not crash a server of your own (LIGHTFLOW_TEST_POSTGRES_CONNINFO)");
    return;
  }
  lf::postgres_store store(test_postgres::shared().conninfo(), "crashed");
  lf::executor pool{2};
  counters c;
  auto f = make_chain(c);
  REQUIRE_FALSE(pool.run(f, 4, lf::checkpoint{store, "order-7"}).ok());  // s3 fails; s1, s2, side flushed
  test_postgres::shared().crash_and_restart();
  c.fail_third = false;
  auto resumed = pool.resume<int>(f, lf::checkpoint{store, "order-7"});  // on the same store object
  REQUIRE(resumed.ok());
  CHECK(resumed.restored() == 3);
  CHECK((c[0] == 1 && c[1] == 1 && c[2] == 2 && c[3] == 1 && c[4] == 1));
  CHECK(resumed.get<"s4">() == 3);
}

TEST_CASE("a corrupted record in PostgreSQL is refused, named, and left as it is", "[checkpoint][postgres]") {
  lf::postgres_store store(test_postgres::shared().conninfo(), "corrupted");
  refuses_a_corrupted_record(store, "PostgreSQL table corrupted.records of database \"" + test_postgres::shared().database() + "\"");
}

TEST_CASE("a PostgreSQL store reads back saves not yet flushed, and writes a key saved twice once", "[checkpoint][postgres]") {
  const std::vector<std::byte> first{std::byte{1}}, second{std::byte{2}, std::byte{3}};
  lf::postgres_store store(test_postgres::shared().conninfo(), "pending");
  store.save("f", "r", "k", first);
  store.save("f", "r", "k", second);
  store.save("f", "r", "other", first);
  CHECK(store.load("f", "r", "k") == second);  // before the flush: from memory
  CHECK(store.list("f", "r") == std::vector<std::string>{"k", "other"});
  using all = std::vector<std::pair<std::string, std::vector<std::byte>>>;  // what a checkpoint reads as it opens
  CHECK(store.load_all("f", "r") == all{{"k", second}, {"other", first}});
  CHECK(store.runs("f") == std::vector<std::string>{"r"});
  store.flush();
  lf::postgres_store reader(test_postgres::shared().conninfo(), "pending");  // sees the database only
  CHECK(reader.load("f", "r", "k") == second);
  CHECK(reader.list("f", "r") == std::vector<std::string>{"k", "other"});
  store.save("f", "r", "other", second);  // newer than the database's, not flushed
  CHECK(store.load_all("f", "r") == all{{"k", second}, {"other", second}});
  CHECK(reader.load_all("f", "r") == all{{"k", second}, {"other", first}});
  store.erase("f", "r");
  CHECK_FALSE(reader.load("f", "r", "k"));
}

TEST_CASE("a PostgreSQL store refuses what it cannot use, with a message", "[checkpoint][postgres]") {
  // What opening a store threw.
  auto refusal = [](const std::string& conninfo, const std::string& schema) -> std::string {
    try {
      lf::postgres_store store(conninfo, schema);
    } catch (const lf::store_error& e) {
      return e.what();
    }
    return "no store_error";
  };
  SECTION("a server that is not there") {
    CHECK(contains(refusal("host=/nonexistent-lightflow-dir user=x dbname=y", "lightflow"),
                   "lightflow: could not connect to PostgreSQL ("));
  }
  SECTION("tables made by a newer lightflow") {
    (void)lf::postgres_store(test_postgres::shared().conninfo(), "future");
    administer("INSERT INTO future.meta (version) VALUES (99)");
    CHECK(contains(refusal(test_postgres::shared().conninfo(), "future"),
                   "lightflow: the PostgreSQL schema \"future\" of database \"" + test_postgres::shared().database() +
                       "\" was made by a newer lightflow (its tables' version is 99, this lightflow knows versions up to 2)"));
  }
  SECTION("tables of version 1 (lightflow before queued runs) are migrated, their records kept") {
    administer("CREATE SCHEMA older; CREATE TABLE older.meta (version integer NOT NULL); "
               "INSERT INTO older.meta VALUES (1); CREATE TABLE older.records (flow text NOT NULL, run text NOT NULL, "
               "key text NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (flow, run, key)); "
               "INSERT INTO older.records VALUES ('f', 'r', 'k', '\\x0102')");
    lf::postgres_store store(test_postgres::shared().conninfo(), "older");
    CHECK(store.load("f", "r", "k") == std::vector<std::byte>{std::byte{1}, std::byte{2}});
    administer("SELECT count(*) FROM older.runs");  // the queued runs' table is there
    lf::postgres_store again(test_postgres::shared().conninfo(), "older");  // migrations are applied once
    PGconn* c = PQconnectdb(test_postgres::shared().conninfo().c_str());
    PGresult* r = PQexec(c, "SELECT string_agg(version::text, ',' ORDER BY version) FROM older.meta");
    CHECK(std::string(PQgetvalue(r, 0, 0)) == "1,2");
    PQclear(r);
    PQfinish(c);
  }
  SECTION("a schema name that is no plain identifier") {
    CHECK_THROWS_AS(lf::postgres_store(test_postgres::shared().conninfo(), "x; DROP TABLE y"), lf::usage_error);
  }
}
#endif

TEST_CASE("a flow without input, and void steps, are checkpointed", "[checkpoint]") {
  lf::memory_store store;
  lf::executor pool{2};
  std::atomic<int> side{0}, fail{1};
  auto f = lf::flow<"void steps">(lf::step<"a">([&] { ++side; }), lf::step<"b", "a">([&] { return 7; }),
                                  lf::step<"c", "b">([&](int b) {
                                    if (fail-- > 0) throw std::runtime_error("once");
                                    return b * 6;
                                  }));
  CHECK_FALSE(pool.run(f, lf::checkpoint{store, "x"}).ok());
  auto resumed = pool.resume(f, lf::checkpoint{store, "x"});
  REQUIRE(resumed.ok());
  CHECK(resumed.get<"c">() == 42);
  CHECK(resumed.restored() == 2);
  CHECK(side == 1);
}

TEST_CASE("a changed flow definition is refused, naming what changed", "[checkpoint]") {
  lf::memory_store store;
  lf::executor pool{1};
  counters c;
  auto f = make_chain(c);
  (void)pool.run(f, 1, lf::checkpoint{store, "r"});
  auto changed = lf::flow<"chain">(lf::step<"s1">([](int x) { return x + 1; }),
                                   lf::step<"s2", "s1">([](int x) { return x * 2.0; }));
  try {
    (void)pool.resume<int>(changed, lf::checkpoint{store, "r"});
    FAIL("a changed definition must be refused");
  } catch (const lf::checkpoint_error& e) {
    CHECK(contains(e.what(), "run \"r\" of flow \"chain\""));
    CHECK(contains(e.what(), "another definition of the flow"));
    CHECK(contains(e.what(), "where this one has \"step s2 <- s1 : double\""));
  }
  CHECK(store.list("chain", "r").size() == 6);  // nothing was erased: manifest, input, outcome, s1, s2, side

  // The explicit option discards the stale records and starts afresh.
  auto fresh = pool.run(changed, 3, lf::checkpoint{store, "r", {.discard_stale = true}});
  REQUIRE(fresh.ok());
  CHECK(fresh.restored() == 0);
  CHECK(fresh.get<"s2">() == 8.0);
}

TEST_CASE("records of another version are refused", "[checkpoint]") {
  lf::memory_store store;
  lf::executor pool{1};
  counters c;
  auto f = make_chain(c);
  (void)pool.run(f, 1, lf::checkpoint{store, "v", {.version = 1}});
  CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, "v", {.version = 2}}),
                    Catch::Matchers::Contains("it has \"version 1\" where this one has \"version 2\""));
  CHECK_NOTHROW(pool.resume<int>(f, lf::checkpoint{store, "v", {.version = 1}}));
}

TEST_CASE("running a run id again with another input is refused", "[checkpoint]") {
  lf::memory_store store;
  lf::executor pool{1};
  counters c;
  auto f = make_chain(c);
  (void)pool.run(f, 1, lf::checkpoint{store, "in"});
  CHECK_THROWS_WITH(pool.run(f, 2, lf::checkpoint{store, "in"}),
                    Catch::Matchers::Contains("the input differs from the input given now"));
}

TEST_CASE("resuming a run that does not exist is refused", "[checkpoint]") {
  lf::memory_store store;
  lf::executor pool{1};
  counters c;
  auto f = make_chain(c);
  CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, "nobody"}),
                    Catch::Matchers::Contains("there is no checkpoint of run \"nobody\" of flow \"chain\""));
}

TEST_CASE("a corrupted record is refused, naming the run, the step and the store", "[checkpoint]") {
  lf::memory_store store;
  refuses_a_corrupted_record(store, "run \"bad\" of flow \"chain\" in memory");
}

TEST_CASE("a corrupt log file is refused and left alone; a torn tail is ignored", "[checkpoint][file_store]") {
  temp_dir dir;
  lf::executor pool{1};
  counters c;
  auto f = make_chain(c);
  c.fail_third = false;
  std::string path;
  {
    lf::file_store store(dir.path);
    REQUIRE(pool.run(f, 1, lf::checkpoint{store, "log"}).ok());
    path = store.location("chain", "log");
  }
  const auto original = read_file(path);
  REQUIRE(original.size() > 100);

  SECTION("a flipped byte in the middle") {
    auto damaged = original;
    damaged[damaged.size() / 3] ^= 0x01;
    write_file(path, damaged);
    lf::file_store store(dir.path);
    try {
      (void)pool.resume<int>(f, lf::checkpoint{store, "log"});
      FAIL("a corrupt log must be refused");
    } catch (const lf::store_error& e) {
      CHECK(contains(e.what(), "corrupt checkpoint log " + path + " at offset"));
    }
    CHECK(read_file(path) == damaged);  // left as it was
  }
  SECTION("a torn last record") {
    // The last frame is the run's outcome, cut off; the step record before it (s4's or side's: they
    // may finish in either order) is torn.
    auto torn = original;
    const auto last_frame = std::string(original.begin(), original.end()).rfind("LFL2");
    REQUIRE(last_frame != std::string::npos);
    torn.resize(last_frame - 3);
    write_file(path, torn);
    lf::file_store store(dir.path);
    const auto keys = store.list("chain", "log");
    const std::vector<std::string> names{"s1", "s2", "s3", "s4", "side"};
    std::vector<int> before(names.size());
    int torn_step = -1;
    for (std::size_t i = 0; i != names.size(); ++i) {
      before[i] = c[i];
      if (std::find(keys.begin(), keys.end(), "step/" + names[i]) == keys.end()) {
        CHECK(torn_step == -1);
        torn_step = static_cast<int>(i);
      }
    }
    REQUIRE(torn_step >= 3);
    auto result = pool.resume<int>(f, lf::checkpoint{store, "log"});
    REQUIRE(result.ok());
    for (std::size_t i = 0; i != names.size(); ++i)
      CHECK(c[i] == before[i] + (static_cast<int>(i) == torn_step ? 1 : 0));  // only the torn one ran again
    CHECK(result.restored() == result.size() - 1);
  }
  SECTION("a file that is not a log") {
    write_file(path, std::vector<char>(200, 'x'));
    lf::file_store store(dir.path);
    CHECK_THROWS_WITH(pool.resume<int>(f, lf::checkpoint{store, "log"}), Catch::Matchers::Contains("is not a lightflow checkpoint log"));
  }
}

TEST_CASE("a store that cannot write fails the step, and a resumed run runs it again", "[checkpoint]") {
  failing_store store;
  lf::executor pool{2};
  counters c;
  c.fail_third = false;
  auto f = make_chain(c);
  store.saves_left = 1;  // s1 is saved; the next step record fails
  auto first = pool.run(f, 2, lf::checkpoint{store, "full"});
  REQUIRE_FALSE(first.ok());
  CHECK(first.count(lf::step_status::failed) >= 1);
  CHECK(contains(first.error_message(), "no space left on device"));
  store.saves_left = 1000;
  auto second = pool.resume<int>(f, lf::checkpoint{store, "full"});
  REQUIRE(second.ok());
  CHECK(second.get<"s4">() == 3);
}

TEST_CASE("a wide flow on a durable store: every record is on disk when the run returns", "[checkpoint][file_store]") {
  temp_dir dir;
  lf::file_store store(dir.path, lf::durability::durable);
  lf::executor pool{2};
  auto f = generated::make_flow<generated::fan_out<200>>(
      [](const auto&... in) -> long { return (1L + ... + static_cast<long>(in)); });
  auto result = pool.run(f, 1, lf::checkpoint{store, "wide"});
  REQUIRE(result.ok());
  CHECK(result.get<"s00201">() == 1 + 200 * (1 + 2));
  lf::file_store reopened(dir.path);
  auto resumed = pool.resume<int>(f, lf::checkpoint{reopened, "wide"});
  CHECK(resumed.restored() == resumed.size());
  CHECK(resumed.get<"s00201">() == result.get<"s00201">());
}

TEST_CASE("concurrent checkpointed runs with distinct ids", "[checkpoint][concurrency]") {
  temp_dir dir;
  lf::file_store store(dir.path, lf::durability::durable);
  lf::executor pool{2};
  counters c;
  c.fail_third = false;
  auto f = make_chain(c);
  std::vector<lf::run_handle<decltype(f), int>> handles;
  for (int i = 0; i != 40; ++i) handles.push_back(pool.submit(f, i, lf::checkpoint{store, "run-" + std::to_string(i)}));
  for (int i = 0; i != 40; ++i) {
    auto r = handles[static_cast<std::size_t>(i)].get();
    REQUIRE(r.ok());
    CHECK(r.get<"s4">() == std::to_string((i + 1) * 10).size() + 1);
  }
  for (int i = 0; i < 40; i += 7) CHECK(pool.resume<int>(f, lf::checkpoint{store, "run-" + std::to_string(i)}).restored() == 5);
}

namespace {
// A durable store whose flushes fail while `broken` is set, as a disk that went away would.
struct unflushable_store : lf::memory_store {
  std::atomic<bool> broken{true};
  bool deferred_durability() const { return true; }
  void flush() {
    if (broken) throw lf::store_error("lightflow-test: fdatasync failed: input/output error");
  }
};
static_assert(lf::checkpoint_store<unflushable_store>);
}  // namespace

TEST_CASE("a run whose records cannot be made durable fails with the store's error", "[checkpoint]") {
  unflushable_store store;
  lf::executor pool{2};
  counters c;
  c.fail_third = false;
  auto f = make_chain(c);
  auto first = pool.run(f, 2, lf::checkpoint{store, "io"});
  CHECK_FALSE(first.ok());
  CHECK(first.count(lf::step_status::succeeded) == first.size());  // the steps themselves succeeded
  REQUIRE(first.durability_error() != nullptr);
  CHECK(contains(first.error_message(), "its checkpoint could not be made durable"));
  CHECK(contains(first.error_message(), "input/output error"));
  CHECK_THROWS_AS(first.throw_if_failed(), lf::store_error);
  store.broken = false;
  auto second = pool.run(f, 2, lf::checkpoint{store, "io2"});
  CHECK(second.ok());
  CHECK(second.durability_error() == nullptr);
}

// file_store keeps no copy of what it saves: a log is indexed when read, from the file and the
// frames not yet written. Reads between saves and flushes must see every save, the last one per key.
TEST_CASE("a file_store reads back its saves before and after they are written, at both levels", "[checkpoint][file_store]") {
  const auto level = GENERATE(lf::durability::durable, lf::durability::fast);
  temp_dir dir;
  auto bytes = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
  auto text = [](const std::optional<std::vector<std::byte>>& b) {
    return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : std::string("<none>");
  };
  {
    lf::file_store store(dir.path, level);
    store.save("f", "r", "a", bytes("one"));
    store.save("f", "r", "b", bytes("two"));
    CHECK(text(store.load("f", "r", "a")) == "one");  // pending, not yet written
    store.save("f", "r", "a", bytes("three"));         // after a read: the index is made again
    CHECK(text(store.load("f", "r", "a")) == "three");
    store.flush();
    store.save("f", "r", "c", bytes("four"));          // part written, part pending
    CHECK(text(store.load("f", "r", "b")) == "two");
    CHECK(text(store.load("f", "r", "c")) == "four");
    CHECK(store.list("f", "r") == std::vector<std::string>{"a", "b", "c"});
    store.save("f", "r", "d", bytes("five"));  // never flushed: the destructor writes it
  }
  lf::file_store reopened(dir.path, level);
  CHECK(text(reopened.load("f", "r", "a")) == "three");
  CHECK(text(reopened.load("f", "r", "d")) == "five");
  CHECK(reopened.list("f", "r").size() == 4);
}

TEST_CASE("a prepared durable log has room after its frames, which readers ignore", "[checkpoint][file_store]") {
  temp_dir dir;
  auto bytes = [](std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); };
  const std::uint64_t room = 2 * lf::file_store::prepare_threshold;
  {
    lf::file_store fast(dir.path / "fast", lf::durability::fast);
    CHECK_FALSE(fast.prepare("f", "r", room));  // nothing to gain without fdatasync
    lf::file_store small(dir.path / "small");
    CHECK_FALSE(small.prepare("f", "r", lf::file_store::prepare_threshold - 1));
  }
  fs::path log;
  {
    lf::file_store store(dir.path);
    log = store.location("f", "r");
    CHECK(store.prepare("f", "r", room));
    store.save("f", "r", "a", bytes("one"));
    store.flush();
    CHECK(fs::file_size(log) >= room);  // the frame, then zeros
    store.save("f", "r", "b", bytes("two"));
    store.flush();
    CHECK(fs::file_size(log) >= room);  // written in the room, not after it
    CHECK(store.list("f", "r") == std::vector<std::string>{"a", "b"});
  }
  {
    lf::file_store reopened(dir.path);
    CHECK(reopened.list("f", "r") == std::vector<std::string>{"a", "b"});  // the zeros are a torn tail
    CHECK(fs::file_size(log) >= room);  // which reading leaves as it is
    reopened.save("f", "r", "c", bytes("three"));
    CHECK(fs::file_size(log) < 100);  // and appending trims
  }
  lf::file_store last(dir.path);
  CHECK(last.list("f", "r") == std::vector<std::string>{"a", "b", "c"});
}

// lightflow::runs and erase_finished (stored_runs.hpp), through both kinds of flow and every store.
namespace {

struct listed_flow_state {
  std::atomic<bool> hold{false}, entered{false}, fail{false};
};

template <class Kind>
auto make_listed_flow(listed_flow_state& s) {
  auto first = [&s] {
    s.entered = true;
    while (s.hold) std::this_thread::yield();
    return 1;
  };
  auto second = [&s](int x) {
    if (s.fail) throw std::runtime_error("outage");
    return x + 1;
  };
  if constexpr (Kind::is_static) {
    return lf::flow<"listed">(lf::step<"a">(first), lf::step<"b", "a">(second));
  } else {
    lf::runtime_flow f{"listed"};
    f.add("a", first);
    f.add("b", [second](lf::context& ctx) { return second(ctx.result<int>("a")); }).after("a");
    return f;
  }
}

template <class Kind>
auto listed_input() {
  if constexpr (Kind::is_static) return lf::no_input{};
  else return lf::values{};
}

const lf::stored_run& find_run(const std::vector<lf::stored_run>& runs, const std::string& id) {
  const auto it = std::find_if(runs.begin(), runs.end(), [&](const lf::stored_run& r) { return r.id == id; });
  REQUIRE(it != runs.end());
  return *it;
}

template <class Kind, class Store>
void lists_and_erases(Store& store) {
  using clock = std::chrono::system_clock;
  lf::executor pool{2};
  listed_flow_state s;
  auto f = make_listed_flow<Kind>(s);
  const auto before = clock::now();
  const std::string odd_id = "a/b%c .d";  // escaped in file names, listed as it is
  REQUIRE(pool.run(f, listed_input<Kind>(), lf::checkpoint{store, "ok-1"}).ok());
  REQUIRE(pool.run(f, listed_input<Kind>(), lf::checkpoint{store, odd_id}).ok());
  s.fail = true;
  REQUIRE_FALSE(pool.run(f, listed_input<Kind>(), lf::checkpoint{store, "failed-1"}).ok());
  REQUIRE_FALSE(pool.run(f, listed_input<Kind>(), lf::checkpoint{store, "failed-2"}).ok());
  std::string input_bytes = "no outcome";
  store.save("listed", "older", "@input", std::as_bytes(std::span(input_bytes)));  // as a run of an older lightflow

  // A run under way is in progress; so is a failed run while it is resumed.
  s.hold = true;
  s.entered = false;
  auto running = pool.submit(f, listed_input<Kind>(), lf::checkpoint{store, "running"});
  while (!s.entered) std::this_thread::yield();
  auto listed = lf::runs(store, "listed");
  CHECK(listed.size() == 6);
  CHECK(find_run(listed, "running").state == lf::run_state::in_progress);
  CHECK_FALSE(find_run(listed, "running").ended);
  s.hold = false;
  CHECK_FALSE(running.get().ok());

  s.fail = false;
  const auto failed_started = find_run(lf::runs(store, "listed"), "failed-1").started;
  auto resumed = [&] {
    if constexpr (Kind::is_static) return pool.resume<lf::no_input>(f, lf::checkpoint{store, "failed-1"});
    else return pool.resume(f, lf::checkpoint{store, "failed-1"});
  }();
  REQUIRE(resumed.ok());
  const auto after = clock::now();

  listed = lf::runs(store, "listed");
  REQUIRE(listed.size() == 6);
  CHECK(find_run(listed, "ok-1").state == lf::run_state::succeeded);
  CHECK(find_run(listed, odd_id).state == lf::run_state::succeeded);
  CHECK(find_run(listed, "failed-1").state == lf::run_state::succeeded);  // resumed
  CHECK(find_run(listed, "failed-1").started == failed_started);        // first started, not resumed
  CHECK(find_run(listed, "failed-2").state == lf::run_state::failed);
  CHECK(find_run(listed, "running").state == lf::run_state::failed);
  CHECK(find_run(listed, "older").state == lf::run_state::unknown);
  for (const lf::stored_run& r : listed) {
    INFO(r.id << ": " << lf::to_string(r.state));
    if (r.state == lf::run_state::unknown) continue;
    CHECK(r.started >= before);
    REQUIRE(r.ended);
    CHECK(*r.ended >= r.started);
    CHECK(*r.ended <= after);
  }
  CHECK(lf::runs(store, "another flow").empty());

  // Retention: nothing ended an hour ago; now, the succeeded runs; with failed_too, the failed ones.
  CHECK(lf::erase_finished(store, "listed", std::chrono::hours(1)) == 0);
  CHECK(lf::erase_finished(store, "listed", std::chrono::nanoseconds(0)) == 3);
  CHECK(store.list("listed", "ok-1").empty());
  CHECK(store.list("listed", odd_id).empty());
  CHECK(lf::runs(store, "listed").size() == 3);
  CHECK(lf::erase_finished(store, "listed", std::chrono::nanoseconds(0), true) == 2);
  listed = lf::runs(store, "listed");
  REQUIRE(listed.size() == 1);
  CHECK(listed[0].id == "older");  // never erased: its state is unknown
}

}  // namespace

TEMPLATE_TEST_CASE("a store lists a flow's runs with their states and times; erase_finished erases finished runs only",
                   "[checkpoint][stored_runs]", two_kinds::static_flows, two_kinds::runtime_flows) {
  SECTION("memory store") {
    lf::memory_store store;
    lists_and_erases<TestType>(store);
  }
  SECTION("file store") {
    temp_dir dir;
    lf::file_store store(dir.path);
    lists_and_erases<TestType>(store);
  }
#ifdef LIGHTFLOW_TEST_SQLITE
  SECTION("SQLite store") {
    temp_dir dir;
    fs::create_directories(dir.path);
    lf::sqlite_store store((dir.path / "runs.db").string());
    lists_and_erases<TestType>(store);
  }
#endif
#ifdef LIGHTFLOW_TEST_POSTGRES
  SECTION("PostgreSQL store") {
    lf::postgres_store store(test_postgres::shared().conninfo(), TestType::is_static ? "listed_static" : "listed_runtime");
    lists_and_erases<TestType>(store);
  }
#endif
}
