// Queued runs on PostgreSQL (postgres_queue.hpp, postgres_worker.hpp), on a server the tests start
// (support/postgres_server.hpp): enqueue and run, idempotency keys, a run whose worker died resumed
// by another without re-running what it had finished, a worker whose claim was taken writing nothing,
// dead-lettering, cancellation, retry, and a definition no worker serves left queued. Each scenario
// runs through both kinds of flow and uses a schema of its own.
#include <libpq-fe.h>

#include <lightflow/lightflow.hpp>
#include <lightflow/postgres_worker.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "support/postgres_server.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
using two_kinds::runtime_flows;
using two_kinds::static_flows;
using namespace std::chrono_literals;

namespace {

// What the steps of the tests' flow did, and what they are told to do.
struct effects {
  std::atomic<int> runs[3] = {0, 0, 0};  // executions of a, b, c
  std::atomic<bool> fail_b{false};       // b throws
  std::atomic<bool> hold_b{false};       // b waits until released, or its stop token is set
  std::atomic<bool> b_started{false};
  std::atomic<bool> release_b{false};
  std::mutex keys_mutex;
  std::vector<std::string> b_keys;  // b's idempotency key, each time it ran
};

// a -> b -> c: a = x + 1, b = a * 10, c = b + 5 (x = 1: c = 25).
template <class Kind>
auto make_flow(effects& e) {
  auto b_body = [&e](int a, lf::step_context& ctx) {
    ++e.runs[1];
    {
      std::lock_guard lock(e.keys_mutex);
      e.b_keys.push_back(ctx.idempotency_key());
    }
    e.b_started = true;
    if (e.hold_b)
      while (!e.release_b && !ctx.stop_requested()) std::this_thread::sleep_for(1ms);
    if (ctx.stop_requested()) throw std::runtime_error("b was stopped");
    if (e.fail_b) throw std::runtime_error("b failed");
    return a * 10;
  };
  if constexpr (Kind::is_static) {
    return lf::flow<"queued">(lf::step<"a">([&e](int x) { return ++e.runs[0], x + 1; }), lf::step<"b", "a">(b_body),
                              lf::step<"c", "b">([&e](int b) { return ++e.runs[2], b + 5; }));
  } else {
    lf::runtime_flow f{"queued"};
    f.add("a", [&e](lf::context& ctx) { return ++e.runs[0], ctx.get(two_kinds::input_key) + 1; });
    f.add("b", [b_body](lf::context& ctx) { return b_body(ctx.result<int>("a"), ctx); }).after("a");
    f.add("c", [&e](lf::context& ctx) { return ++e.runs[2], ctx.result<int>("b") + 5; }).after("b");
    return f;
  }
}

template <class Kind, class Flow>
lf::postgres_worker& serve(lf::postgres_worker& w, const Flow& f, lf::checkpoint_options o = {}) {
  if constexpr (Kind::is_static)
    return w.serve<int>(f, o);
  else
    return w.serve(f, o);
}

// Runs `sql` on the tests' server, as an operator (or a thief) would; the first value it returns.
std::string administer(const std::string& sql) {
  PGconn* c = PQconnectdb(test_postgres::shared().conninfo().c_str());
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  const std::string why = PQerrorMessage(c);
  const std::string first = ok && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  if (!ok) throw std::runtime_error("lightflow-test: " + sql + ": " + why);
  return first;
}

std::string schema_for(const char* base, bool is_static) { return std::string(base) + (is_static ? "_s" : "_r"); }

}  // namespace

TEMPLATE_TEST_CASE("a queued run is claimed and run by a worker once; its result is in its checkpoint",
                   "[queue][postgres]", static_flows, runtime_flows) {
  lf::postgres_store store(test_postgres::shared().conninfo(), schema_for("q_basic", TestType::is_static));
  lf::postgres_queue queue(store);
  effects e;
  auto f = make_flow<TestType>(e);
  const std::string first = queue.enqueue(f, two_kinds::input<TestType>(1));
  const std::string second = queue.enqueue(f, two_kinds::input<TestType>(2), {.key = "order-2"});
  CHECK(queue.enqueue(f, two_kinds::input<TestType>(2), {.key = "order-2"}) == second);  // the same key: no new run
  REQUIRE(queue.find(first)->state == lf::queued_state::queued);

  lf::executor pool{2};
  lf::postgres_worker worker(store, pool, {.name = "w1"});
  serve<TestType>(worker, f);
  CHECK(worker.drain() == 2);
  for (const std::string& id : {first, second}) {
    const auto run = queue.find(id);
    REQUIRE(run);
    CHECK(run->state == lf::queued_state::succeeded);
    CHECK(run->worker == "w1");
    CHECK(run->claims == 1);
    CHECK(run->error.empty());
  }
  CHECK(queue.find(second)->key == "order-2");
  CHECK((e.runs[0] == 2 && e.runs[1] == 2 && e.runs[2] == 2));
  // The outputs are the run's checkpoint: resuming reads them and runs nothing.
  auto r = pool.resume<std::conditional_t<TestType::is_static, int, void>>(f, lf::checkpoint{store, first});
  REQUIRE(r.ok());
  CHECK(r.restored() == 3);
  CHECK(two_kinds::value_of<"c", int>(r) == 25);
  CHECK(e.runs[1] == 2);
  CHECK(queue.list().size() == 2);
  CHECK(queue.erase_finished(0s) == 2);
  CHECK(queue.list().empty());
  CHECK(store.list("queued", first).empty());
}

TEMPLATE_TEST_CASE(
    "a run whose worker died is resumed by another worker after its lease, without re-running its finished steps",
    "[queue][postgres]", static_flows, runtime_flows) {
  lf::postgres_store store(test_postgres::shared().conninfo(), schema_for("q_lease", TestType::is_static));
  lf::postgres_queue queue(store);
  effects e;
  auto f = make_flow<TestType>(e);
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1));
  lf::executor pool{2};
  {  // worker "gone" claims the run and gets as far as step a, then "dies" (its process would be killed)
    e.fail_b = true;
    lf::postgres_worker gone(store, pool, {.name = "gone", .lease = 200ms});
    serve<TestType>(gone, f);
    CHECK(gone.drain() == 1);  // the run failed at b: a's output is in the checkpoint
    administer("UPDATE " + schema_for("q_lease", TestType::is_static) +
               ".runs SET state = 'running', lease_until = now() - interval '1 second' WHERE id = " + id);
  }
  e.fail_b = false;
  lf::postgres_worker next(store, pool, {.name = "next"});
  serve<TestType>(next, f);
  CHECK(next.drain() == 1);
  const auto run = queue.find(id);
  CHECK(run->state == lf::queued_state::succeeded);
  CHECK(run->worker == "next");
  CHECK(run->claims == 2);
  CHECK(run->epoch == 2);
  CHECK((e.runs[0] == 1 && e.runs[1] == 2 && e.runs[2] == 1));  // a ran once, restored for the second claim
  // b ran under two claims, on two workers: the same key for the systems it calls.
  CHECK(e.b_keys == std::vector<std::string>{"queued/" + id + "/b", "queued/" + id + "/b"});
}

TEMPLATE_TEST_CASE("a worker whose claim was taken from it writes nothing more for that run", "[queue][postgres]",
                   static_flows, runtime_flows) {
  const std::string schema = schema_for("q_fence", TestType::is_static);
  lf::postgres_store store(test_postgres::shared().conninfo(), schema);
  lf::postgres_queue queue(store);
  effects e;
  e.hold_b = true;
  auto f = make_flow<TestType>(e);
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1));
  lf::executor pool{2};
  lf::postgres_worker paused(store, pool, {.name = "paused", .lease = 10s});  // no heartbeat during the test
  serve<TestType>(paused, f);
  std::size_t ended = 0;
  std::thread t([&] { ended = paused.drain(); });
  const std::string steps_saved =
      "SELECT count(*) FROM " + schema + ".records WHERE run = '" + id + "' AND key LIKE 'step/%'";
  REQUIRE(two_kinds::wait_for([&] { return e.b_started.load(); }));
  REQUIRE(two_kinds::wait_for([&] {  // a's record flushed (the committer waits up to 5 ms)
    std::this_thread::sleep_for(1ms);
    return administer(steps_saved) == "1";
  }));
  // As if "paused" had been stopped past its lease and another worker had claimed the run.
  administer("UPDATE " + schema + ".runs SET epoch = epoch + 1, worker = 'thief' WHERE id = " + id);
  e.release_b = true;
  t.join();
  CHECK(ended == 1);
  const auto run = queue.find(id);
  CHECK(run->state == lf::queued_state::running);  // still the thief's: "paused" could not end it
  CHECK(run->worker == "thief");
  CHECK(administer(steps_saved) == "1");  // a's only: b's and c's were refused by the fence
  CHECK(e.runs[1] == 1);
}

TEMPLATE_TEST_CASE("a run that keeps losing its workers is dead-lettered, and can be retried", "[queue][postgres]",
                   static_flows, runtime_flows) {
  const std::string schema = schema_for("q_dead", TestType::is_static);
  lf::postgres_store store(test_postgres::shared().conninfo(), schema);
  lf::postgres_queue queue(store);
  effects e;
  auto f = make_flow<TestType>(e);
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1));
  administer("UPDATE " + schema +
             ".runs SET state = 'running', claims = 3, worker = 'w9', "
             "lease_until = now() - interval '1 second' WHERE id = " +
             id);
  lf::executor pool{2};
  lf::postgres_worker worker(store, pool, {.max_claims = 3});
  serve<TestType>(worker, f);
  CHECK(worker.drain() == 0);
  auto run = queue.find(id);
  CHECK(run->state == lf::queued_state::dead);
  CHECK(run->error ==
        "claimed 3 times without ending (its workers died or lost their leases while running it; the last was w9)");
  CHECK(e.runs[0] == 0);
  REQUIRE(queue.retry(id));
  CHECK_FALSE(queue.retry(id));  // queued now
  CHECK(worker.drain() == 1);
  CHECK(queue.find(id)->state == lf::queued_state::succeeded);
}

TEMPLATE_TEST_CASE("cancelling a queued or a running run; the running one's steps see their stop token",
                   "[queue][postgres]", static_flows, runtime_flows) {
  lf::postgres_store store(test_postgres::shared().conninfo(), schema_for("q_cancel", TestType::is_static));
  lf::postgres_queue queue(store);
  effects e;
  auto f = make_flow<TestType>(e);
  lf::executor pool{2};
  SECTION("queued") {
    const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1));
    CHECK(queue.cancel(id));
    CHECK_FALSE(queue.cancel(id));
    lf::postgres_worker worker(store, pool);
    serve<TestType>(worker, f);
    CHECK(worker.drain() == 0);
    CHECK(queue.find(id)->state == lf::queued_state::cancelled);
    CHECK(e.runs[0] == 0);
  }
  SECTION("running") {
    e.hold_b = true;
    const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1));
    lf::postgres_worker worker(store, pool, {.lease = 300ms});  // heartbeats every 100 ms
    serve<TestType>(worker, f);
    std::thread t([&] { (void)worker.drain(); });
    REQUIRE(two_kinds::wait_for([&] { return e.b_started.load(); }));
    CHECK(queue.cancel(id));
    t.join();  // b returns only once its stop token is set
    const auto run = queue.find(id);
    CHECK(run->state == lf::queued_state::cancelled);
    CHECK(run->error.find("b was stopped") != std::string::npos);
    CHECK(e.runs[2] == 0);
  }
}

TEMPLATE_TEST_CASE("a run of a definition no worker serves stays queued; a refused run fails with the reason",
                   "[queue][postgres]", static_flows, runtime_flows) {
  const std::string schema = schema_for("q_other", TestType::is_static);
  lf::postgres_store store(test_postgres::shared().conninfo(), schema);
  lf::postgres_queue queue(store);
  effects e;
  auto f = make_flow<TestType>(e);
  const std::string v1 = queue.enqueue(f, two_kinds::input<TestType>(1), {.checkpoint = {.version = 1}});
  const std::string other_queue = queue.enqueue(f, two_kinds::input<TestType>(1), {.queue = "elsewhere"});
  const std::string served = queue.enqueue(f, two_kinds::input<TestType>(1));
  const auto ids = [](const std::vector<lf::queued_run>& runs) {
    std::vector<std::string> out;
    for (const auto& r : runs) out.push_back(r.id);
    return out;
  };
  CHECK(ids(queue.unserved()) == std::vector<std::string>{v1, other_queue, served});  // no worker yet
  lf::executor pool{2};
  {
    lf::postgres_worker worker(store, pool);  // version 0, queue "default"
    serve<TestType>(worker, f);
    CHECK(worker.drain() == 1);  // `served` only
    CHECK(queue.find(v1)->state == lf::queued_state::queued);
    CHECK(queue.find(other_queue)->state == lf::queued_state::queued);
    CHECK(queue.list("elsewhere").size() == 1);
    CHECK(ids(queue.unserved()) == std::vector<std::string>{v1, other_queue});
    CHECK(ids(queue.unserved("elsewhere")) == std::vector<std::string>{other_queue});
  }
  const std::string after = queue.enqueue(f, two_kinds::input<TestType>(1));
  CHECK(ids(queue.unserved()) == std::vector<std::string>{v1, other_queue, after});  // its worker is gone
  lf::postgres_worker worker(store, pool);
  serve<TestType>(worker, f);
  CHECK(worker.drain() == 1);  // `after`
  // A run whose records do not match what the worker serves (here: damaged) fails, and says why.
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1));
  administer("UPDATE " + schema + ".records SET bytes = '\\x00' WHERE run = '" + id + "'");
  CHECK(worker.drain() == 1);
  const auto run = queue.find(id);
  CHECK(run->state == lf::queued_state::failed);
  CHECK(run->error.find("the input") != std::string::npos);
  CHECK(e.runs[0] == 2);  // `served` and `after` only
}

TEMPLATE_TEST_CASE("a worker asked to stop hands its runs back; another resumes them", "[queue][postgres]",
                   static_flows, runtime_flows) {
  lf::postgres_store store(test_postgres::shared().conninfo(), schema_for("q_back", TestType::is_static));
  lf::postgres_queue queue(store);
  effects e;
  e.hold_b = true;
  auto f = make_flow<TestType>(e);
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1));
  lf::executor pool{2};
  {
    lf::postgres_worker leaving(store, pool, {.name = "leaving", .hand_back = true});
    serve<TestType>(leaving, f);
    std::stop_source stop;
    std::thread t([&] { leaving.run(stop.get_token()); });
    REQUIRE(two_kinds::wait_for([&] { return e.b_started.load(); }));
    stop.request_stop();  // as on SIGTERM: b sees its stop token, the run is handed back
    t.join();
  }
  auto run = queue.find(id);
  CHECK(run->state == lf::queued_state::queued);
  CHECK(run->claims == 0);  // a hand-back is no lost claim
  CHECK(run->error == "handed back by worker leaving (it was asked to stop)");
  e.hold_b = false;
  lf::postgres_worker next(store, pool, {.name = "next"});
  serve<TestType>(next, f);
  CHECK(next.drain() == 1);
  run = queue.find(id);
  CHECK(run->state == lf::queued_state::succeeded);
  CHECK(run->error.empty());
  CHECK((e.runs[0] == 1 && e.runs[1] == 2 && e.runs[2] == 1));
}

namespace {
// The rows of a spread run's steps: "step state worker-claims" each, by step name.
std::string steps_of(const std::string& schema, const std::string& id) {
  return administer("SELECT string_agg(step || ' ' || state || ' ' || claims, ', ' ORDER BY step) FROM " + schema +
                    ".steps WHERE run = " + id);
}
}  // namespace

TEMPLATE_TEST_CASE("a run spread over workers has each step claimed on its own, released by its dependencies",
                   "[queue][postgres][spread]", static_flows, runtime_flows) {
  const std::string schema = schema_for("q_spread", TestType::is_static);
  lf::postgres_store store(test_postgres::shared().conninfo(), schema);
  lf::postgres_queue queue(store);
  effects e;
  auto f = make_flow<TestType>(e);
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1), {.spread = true});
  CHECK(steps_of(schema, id) == "a ready 0, b waiting 0, c waiting 0");
  lf::executor pool{2};
  lf::postgres_worker first(store, pool, {.name = "first"}), second(store, pool, {.name = "second"});
  serve<TestType>(first, f);
  serve<TestType>(second, f);
  // A step's output and its end are committed together: no moment shows a step's record while its
  // row says it has not succeeded (its dependents not yet released).
  std::atomic<bool> draining{true};
  int apart = 0, looks = 0;
  std::thread watcher([&] {
    for (; draining; ++looks)
      apart +=
          std::stoi(administer("SELECT count(*) FROM " + schema + ".records r JOIN " + schema +
                               ".steps t ON t.run::text = r.run AND r.key = 'step/' || t.step WHERE t.run = " + id +
                               " AND t.state <> 'succeeded'"));
  });
  std::size_t ended[2] = {0, 0};
  std::thread t([&] { ended[1] = second.drain(); });
  ended[0] = first.drain();
  t.join();
  draining = false;
  watcher.join();
  CHECK(apart == 0);
  CHECK(looks > 0);
  CHECK(ended[0] + ended[1] >= 3);  // one claim a step (a worker that finds b not ready yet moves on)
  CHECK(queue.find(id)->state == lf::queued_state::succeeded);
  CHECK(steps_of(schema, id) == "a succeeded 1, b succeeded 1, c succeeded 1");
  CHECK((e.runs[0] == 1 && e.runs[1] == 1 && e.runs[2] == 1));
  auto r = pool.resume<std::conditional_t<TestType::is_static, int, void>>(f, lf::checkpoint{store, id});
  REQUIRE(r.ok());
  CHECK(r.restored() == 3);
  CHECK(two_kinds::value_of<"c", int>(r) == 25);
  CHECK(e.b_keys == std::vector<std::string>{"queued/" + id + "/b"});
}

TEMPLATE_TEST_CASE("a spread run's failed step skips its descendants; retried, the run resumes from what succeeded",
                   "[queue][postgres][spread]", static_flows, runtime_flows) {
  const std::string schema = schema_for("q_spread_fail", TestType::is_static);
  lf::postgres_store store(test_postgres::shared().conninfo(), schema);
  lf::postgres_queue queue(store);
  effects e;
  e.fail_b = true;
  auto f = make_flow<TestType>(e);
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1), {.spread = true});
  lf::executor pool{2};
  lf::postgres_worker worker(store, pool);
  serve<TestType>(worker, f);
  CHECK(worker.drain() == 2);  // a, then b
  auto run = queue.find(id);
  CHECK(run->state == lf::queued_state::failed);
  CHECK(run->error.rfind("step \"b\" failed: ", 0) == 0);
  CHECK(run->error.find("b failed") != std::string::npos);
  CHECK(steps_of(schema, id) == "a succeeded 1, b failed 1, c skipped 0");
  e.fail_b = false;
  REQUIRE(queue.retry(id));
  CHECK(steps_of(schema, id) == "a succeeded 1, b ready 0, c waiting 0");
  CHECK(worker.drain() == 2);  // b, then c
  CHECK(queue.find(id)->state == lf::queued_state::succeeded);
  CHECK((e.runs[0] == 1 && e.runs[1] == 2 && e.runs[2] == 1));
}

TEMPLATE_TEST_CASE("a spread step whose claim was taken writes nothing; a cancelled spread run ends cancelled",
                   "[queue][postgres][spread]", static_flows, runtime_flows) {
  const std::string schema = schema_for("q_spread_fence", TestType::is_static);
  lf::postgres_store store(test_postgres::shared().conninfo(), schema);
  lf::postgres_queue queue(store);
  effects e;
  e.hold_b = true;
  auto f = make_flow<TestType>(e);
  const std::string id = queue.enqueue(f, two_kinds::input<TestType>(1), {.spread = true});
  lf::executor pool{2};
  SECTION("fenced") {
    lf::postgres_worker paused(store, pool, {.name = "paused", .lease = 10s});
    serve<TestType>(paused, f);
    std::thread t([&] { (void)paused.drain(); });
    REQUIRE(two_kinds::wait_for([&] { return e.b_started.load(); }));
    administer("UPDATE " + schema + ".steps SET epoch = epoch + 1, worker = 'thief' WHERE step = 'b'");
    e.release_b = true;
    t.join();
    CHECK(administer("SELECT count(*) FROM " + schema + ".records WHERE run = '" + id + "' AND key = 'step/b'") == "0");
    CHECK(steps_of(schema, id) == "a succeeded 1, b running 1, c waiting 0");  // still the thief's
    CHECK(queue.find(id)->state == lf::queued_state::running);
  }
  SECTION("cancelled") {
    lf::postgres_worker worker(store, pool, {.lease = 300ms});
    serve<TestType>(worker, f);
    std::thread t([&] { (void)worker.drain(); });
    REQUIRE(two_kinds::wait_for([&] { return e.b_started.load(); }));
    CHECK(queue.cancel(id));
    t.join();  // b returns once its stop token is set, at the worker's next heartbeat
    CHECK(queue.find(id)->state == lf::queued_state::cancelled);
    CHECK(steps_of(schema, id) == "a succeeded 1, b cancelled 1, c skipped 0");
    CHECK(e.runs[2] == 0);
  }
}
