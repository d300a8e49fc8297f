// Queued runs in PostgreSQL: a program enqueues a run of a flow (its input saved as the run's
// checkpoint input, a row in `<schema>.runs`, both in one transaction) and gets its id at once; any
// postgres_worker (postgres_worker.hpp) that serves the same definition of that flow claims it and
// runs it. This header is the producer's and the operator's side: enqueue, look, cancel, retry,
// erase. Optional, as postgres_store.hpp is: link libpq.
//
// A run's states: queued -> running (a worker holds a lease on it, renewed as it works, and a claim
// epoch that fences its writes) -> succeeded | failed | cancelled; a run whose workers kept dying
// while they held it is moved aside as dead after a bounded number of claims.
#ifndef LIGHTFLOW_POSTGRES_QUEUE_HPP
#define LIGHTFLOW_POSTGRES_QUEUE_HPP

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/checkpoint.hpp"
#include "lightflow/detail/pg_connection.hpp"
#include "lightflow/executor.hpp"
#include "lightflow/memory_store.hpp"
#include "lightflow/postgres_store.hpp"

namespace lightflow {

/// What a queued run is, for enqueue().
struct enqueue_options {
  /// The queue's name: a worker takes runs from one queue.
  std::string queue = "default";
  /// Higher first; runs of one priority in the order they were enqueued.
  int priority = 0;
  /// An idempotency key: enqueueing a second run with a key already queued returns the first's id
  /// and queues nothing. Empty: none.
  std::string key{};
  /// The checkpoint's options (version, cipher); workers must serve the flow with the same ones.
  checkpoint_options checkpoint{};
  /// Spread the run's steps over the workers: each ready step is claimed on its own, by any worker
  /// that serves the flow, and its end releases its dependents. Otherwise one worker runs the run.
  bool spread = false;
};

/// Where a queued run is.
enum class queued_state { queued, running, succeeded, failed, cancelled, dead };

/// The name of a state, as `<schema>.runs` spells it.
constexpr std::string_view to_string(queued_state s) noexcept {
  constexpr std::string_view names[] = {"queued", "running", "succeeded", "failed", "cancelled", "dead"};
  return names[static_cast<int>(s)];
}

/// A row of `<schema>.runs`.
struct queued_run {
  std::string id;                             ///< The run's id: also its checkpoint's run id in the store.
  std::string flow;                           ///< The flow's name.
  std::string queue;                          ///< Its queue.
  std::string key;                            ///< Its idempotency key, or empty.
  queued_state state = queued_state::queued;  ///< Where it is.
  int priority = 0;                           ///< Higher runs first.
  int claims = 0;                             ///< How many times a worker claimed it.
  std::int64_t epoch = 0;                     ///< The current claim's number (fences older claims' writes).
  std::string worker;                         ///< The worker that claimed it last, or empty.
  bool cancel_requested = false;              ///< cancel() asked while it was running.
  std::string error;                          ///< Why it failed, was cancelled or is dead.
  std::string fingerprint;                    ///< The definition of the flow that may run it (hexadecimal).
};

namespace detail {
/// A flow definition's fingerprint as `<schema>.runs` keeps it.
inline std::string fingerprint_text(std::uint64_t f) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, f >>= 4) out[static_cast<std::size_t>(i)] = digits[f & 15];
  return out;
}
inline constexpr std::string_view queued_run_columns =
    "id, flow, queue, coalesce(key, ''), state, priority, claims, epoch, coalesce(worker, ''), cancel_requested, "
    "coalesce(error, ''), fingerprint";
inline queued_run read_queued_run(const pg_connection::result& r, int row) {
  queued_run q;
  q.id = pg_connection::text(r, row, 0);
  q.flow = pg_connection::text(r, row, 1);
  q.queue = pg_connection::text(r, row, 2);
  q.key = pg_connection::text(r, row, 3);
  const std::string state = pg_connection::text(r, row, 4);
  for (int s = 0; s != 6; ++s)
    if (to_string(static_cast<queued_state>(s)) == state) q.state = static_cast<queued_state>(s);
  q.priority = std::stoi(pg_connection::text(r, row, 5));
  q.claims = std::stoi(pg_connection::text(r, row, 6));
  q.epoch = std::stoll(pg_connection::text(r, row, 7));
  q.worker = pg_connection::text(r, row, 8);
  q.cancel_requested = pg_connection::text(r, row, 9) == "t";
  q.error = pg_connection::text(r, row, 10);
  q.fingerprint = pg_connection::text(r, row, 11);
  return q;
}
}  // namespace detail

/// The producer's and operator's side of the queued runs of a postgres_store's schema (see the top of
/// this header). Its own connection, under a lock: every member may be called from several threads.
class postgres_queue {
 public:
  /// Connects to the store's database (store_error when it cannot).
  explicit postgres_queue(const postgres_store& store) : db_(store.conninfo(), store.schema()) {}

  /// Queues a run of `flow` with `input` (a static flow's input type, or a runtime flow's
  /// lf::values) and returns its id. The input is saved as the run's checkpoint input, with the row,
  /// in one transaction; workers that serve this definition of the flow are woken.
  template <class Flow, class Input>
  std::string enqueue(const Flow& flow, Input&& input, const enqueue_options& options = {}) {
    using program = detail::program<Flow>;
    using input_type = std::decay_t<Input>;
    static_assert(program::template accepts<input_type>(), "lightflow: enqueue: see the error above");
    std::lock_guard lock(mutex_);
    return db_.retried([&]() -> std::string {
      if (!options.key.empty()) {
        auto found = db_.query("SELECT id FROM " + runs() + " WHERE key = $1", {options.key});
        if (PQntuples(found.get()) == 1) return detail::pg_connection::text(found, 0, 0);
      }
      const std::string id =
          detail::pg_connection::text(db_.exec("SELECT nextval(pg_get_serial_sequence('" + runs() + "', 'id'))"), 0, 0);
      memory_store captured;  // the records a run not started has: its input
      const checkpoint cp{captured, id, options.checkpoint};
      program::save_input(flow, cp, static_cast<const input_type&>(input), options.spread);
      const std::string name(flow_name(flow));
      const std::string fingerprint = detail::fingerprint_text(program::template fingerprint<input_type>(flow, cp));
      return db_.transaction([&]() -> std::string {
        auto row =
            db_.query("INSERT INTO " + runs() +
                          " (id, flow, fingerprint, queue, priority, key, spread) "
                          "VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7) ON CONFLICT (key) DO NOTHING RETURNING id",
                      {id, name, fingerprint, options.queue, std::to_string(options.priority), options.key,
                       options.spread ? "true" : "false"});
        if (PQntuples(row.get()) == 0) {  // another producer queued the key meanwhile
          auto found = db_.query("SELECT id FROM " + runs() + " WHERE key = $1", {options.key});
          return detail::pg_connection::text(found, 0, 0);
        }
        for (const std::string& key : captured.list(name, id)) {
          const auto bytes = *captured.load(name, id, key);
          (void)db_.query_values(
              "INSERT INTO " + db_.schema() + ".records (flow, run, key, bytes) VALUES ($1, $2, $3, $4)",
              {name.c_str(), id.c_str(), key.c_str(), reinterpret_cast<const char*>(bytes.data())},
              {0, 0, 0, static_cast<int>(bytes.size())}, {0, 0, 0, 1});
        }
        if (options.spread) {  // its steps, the roots ready
          const detail::graph_view& g = program::shape(flow);
          std::string sql = "INSERT INTO " + db_.schema() + ".steps (run, step, deps, state, deps_left) VALUES ";
          std::vector<std::string> params{id};
          for (std::uint32_t i = 0; i != g.size; ++i) {  // (step, its dependencies)
            std::vector<std::string_view> deps;
            for (std::uint32_t k = g.dep_offsets[i]; k != g.dep_offsets[i + 1]; ++k) deps.push_back(g.name(g.deps[k]));
            params.emplace_back(g.name(i)), params.push_back(detail::pg_connection::array(deps));
            const std::string n = std::to_string(2 * i + 2), d = std::to_string(2 * i + 3);
            sql += (i == 0 ? "($1, $" : ", ($1, $") + n + ", $" + d + "::text[], '" +
                   (deps.empty() ? "ready" : "waiting") + "', " + std::to_string(deps.size()) + ")";
          }
          (void)db_.query_texts(sql, params);
        }
        (void)db_.query("SELECT pg_notify($1, $2)", {detail::queue_channel(db_.schema()), options.queue});
        return id;
      });
    });
  }

  /// The run `id`, or nothing.
  std::optional<queued_run> find(std::string_view id) {
    auto rows = select("WHERE id = $1::bigint", {id});
    if (rows.empty()) return std::nullopt;
    return std::move(rows.front());
  }
  /// The runs of queue `queue` (every queue's when empty), oldest first.
  std::vector<queued_run> list(std::string_view queue = {}) {
    return select("WHERE $1 = '' OR queue = $1 ORDER BY id", {queue});
  }

  /// The queued runs of queue `queue` (every queue's when empty) that no worker seen in the last
  /// `within` serves (none serves their flow's definition, or those that do are gone): runs that will
  /// wait until such a worker starts.
  std::vector<queued_run> unserved(std::string_view queue = {},
                                   std::chrono::seconds within = std::chrono::seconds(60)) {
    std::string where = "r WHERE r.state = 'queued' AND ($1 = '' OR r.queue = $1) AND NOT EXISTS (SELECT 1 FROM ";
    where += db_.schema() + ".workers w WHERE w.queue = r.queue AND r.fingerprint = ANY(w.fingerprints) AND ";
    where += "w.seen_at > now() - $2 * interval '1 second') ORDER BY r.id";
    return select(where, {queue, std::to_string(within.count())});
  }

  /// Cancels run `id`: a queued run at once; a running one when its worker next renews its lease (its
  /// steps see their stop tokens set). False when it had ended already, or there is no such run.
  /// A run spread over workers: its steps not running are skipped at once, and it ends (cancelled)
  /// with its last running step.
  bool cancel(std::string_view id) {
    return changed("UPDATE " + runs() +
                       " SET state = CASE WHEN state = 'queued' THEN 'cancelled' ELSE state END, "
                       "cancel_requested = (state = 'running'), "
                       "ended_at = CASE WHEN state = 'queued' THEN now() END, "
                       "error = CASE WHEN state = 'queued' THEN 'cancelled while queued' END "
                       "WHERE id = $1::bigint AND state IN ('queued', 'running')",
                   {id}, false, [&] {
                     const std::string steps = db_.schema() + ".steps";
                     (void)db_.query("UPDATE " + steps +
                                         " SET state = 'skipped' WHERE run = $1 AND state IN ('waiting', "
                                         "'ready')",
                                     {id});
                     (void)db_.query("UPDATE " + runs() +
                                         " r SET state = 'cancelled', ended_at = now(), error = "
                                         "'cancelled' WHERE id = $1 AND spread AND state = 'running' AND NOT EXISTS "
                                         "(SELECT 1 FROM " +
                                         steps + " WHERE run = r.id AND state = 'running')",
                                     {id});
                   });
  }
  /// Queues again a run that failed, was cancelled or is dead (its claims counted from zero); its
  /// checkpoint keeps what had succeeded. False for a run in another state, or no such run.
  bool retry(std::string_view id) {
    return changed("UPDATE " + runs() +
                       " SET state = 'queued', claims = 0, cancel_requested = false, error = NULL, ended_at = NULL, "
                       "lease_until = NULL WHERE id = $1::bigint AND state IN ('failed', 'cancelled', 'dead')",
                   {id}, true, [&] {  // a spread run's steps that had not succeeded wait again for theirs
                     const std::string steps = db_.schema() + ".steps";
                     (void)db_.query(
                         "UPDATE " + steps +
                             " t SET deps_left = n.left, state = CASE WHEN n.left = 0 THEN "
                             "'ready' ELSE 'waiting' END, claims = 0, error = NULL FROM (SELECT u.step, (SELECT "
                             "count(*) FROM " +
                             steps +
                             " d WHERE d.run = u.run AND d.step = ANY(u.deps) AND "
                             "d.state <> 'succeeded') AS left FROM " +
                             steps +
                             " u WHERE u.run = $1) n WHERE "
                             "t.run = $1 AND t.step = n.step AND t.state <> 'succeeded'",
                         {id});
                   });
  }
  /// Erases the runs that ended (succeeded, or cancelled while queued) at least `age` ago, their rows
  /// and records; with `failed_too`, those that failed, were cancelled or are dead too. Returns how
  /// many.
  std::size_t erase_finished(std::chrono::seconds age, bool failed_too = false) {
    std::lock_guard lock(mutex_);
    return db_.retried([&] {
      return db_.transaction([&] {
        auto gone =
            db_.query("DELETE FROM " + runs() +
                          " WHERE ended_at <= now() - $1 * interval '1 second' AND (state = 'succeeded' OR "
                          "(state = 'cancelled' AND claims = 0) OR ($2 AND state IN ('failed', 'cancelled', 'dead'))) "
                          "RETURNING flow, id::text",
                      {std::to_string(age.count()), failed_too ? "true" : "false"});
        for (int i = 0; i != PQntuples(gone.get()); ++i)
          (void)db_.query("DELETE FROM " + db_.schema() + ".records WHERE flow = $1 AND run = $2",
                          {PQgetvalue(gone.get(), i, 0), PQgetvalue(gone.get(), i, 1)});
        return static_cast<std::size_t>(PQntuples(gone.get()));
      });
    });
  }

  /// Waits until run `id` has ended (or `timeout` passed, or there is no such run), looking every
  /// `every`; returns it as it is then.
  std::optional<queued_run> wait(std::string_view id, std::chrono::milliseconds timeout,
                                 std::chrono::milliseconds every = std::chrono::milliseconds(20)) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto run = find(id);
      if (!run || (run->state != queued_state::queued && run->state != queued_state::running) ||
          std::chrono::steady_clock::now() >= until)
        return run;
      std::this_thread::sleep_for(every);
    }
  }

 private:
  template <class Flow>
  static std::string_view flow_name(const Flow& flow) {
    if constexpr (requires { Flow::name.view(); })
      return Flow::name.view();
    else
      return flow.name();
  }
  std::string runs() const { return db_.schema() + ".runs"; }
  std::vector<queued_run> select(const std::string& where, std::initializer_list<std::string_view> params) {
    std::lock_guard lock(mutex_);
    return db_.retried([&] {
      auto r = db_.query("SELECT " + std::string(detail::queued_run_columns) + " FROM " + runs() + " " + where, params);
      std::vector<queued_run> out;
      for (int i = 0; i != PQntuples(r.get()); ++i) out.push_back(detail::read_queued_run(r, i));
      return out;
    });
  }
  /// Runs `sql` (and then `more`, when it changed a row) in one transaction; whether it changed one.
  template <class More = void (*)()>
  bool changed(
      const std::string& sql, std::initializer_list<std::string_view> params, bool notify = false, More more = [] {}) {
    std::lock_guard lock(mutex_);
    return db_.retried([&] {
      return db_.transaction([&] {
        auto r = db_.query(sql, params);
        const bool done = std::string_view(PQcmdTuples(r.get())) == "1";
        if (done) more();
        if (done && notify) (void)db_.query("SELECT pg_notify($1, '')", {detail::queue_channel(db_.schema())});
        return done;
      });
    });
  }

  detail::pg_connection db_;
  std::mutex mutex_;
};

}  // namespace lightflow

#endif
