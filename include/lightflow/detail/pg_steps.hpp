// The steps of a queued run spread over workers (enqueue_options::spread), in `<schema>.steps`: a
// worker claims one ready step at a time (or one whose claim's lease expired), runs it as a run of
// that one step with the run's checkpoint (lightflow::only_steps: its dependencies are restored), and
// ends it in one transaction that releases its dependents (or skips its descendants) and ends the
// run when it was its last step. postgres_worker.hpp calls these.
#ifndef LIGHTFLOW_DETAIL_PG_STEPS_HPP
#define LIGHTFLOW_DETAIL_PG_STEPS_HPP

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lightflow/detail/graph_view.hpp"
#include "lightflow/detail/pg_connection.hpp"

namespace lightflow::detail {

/// A step of a spread run that a worker claimed.
struct claimed_step {
  std::string run, step, flow, fingerprint;
  std::int64_t epoch = 0;
  int claims = 0;
};

/// Claims one step (see the top of this header) of the spread runs of queue `queue` whose
/// fingerprint is among `fingerprints` (a text array); nothing when none is ready.
inline std::optional<claimed_step> claim_step(pg_connection& db, const std::string& queue,
                                              const std::string& fingerprints, const std::string& worker,
                                              std::chrono::milliseconds lease) {
  const std::string s = db.schema() + ".";
  auto r = db.retried([&] {
    return db.query("WITH c AS (SELECT t.run, t.step FROM " + s + "steps t JOIN " + s +
                        "runs r ON r.id = t.run WHERE r.queue = $1 AND r.fingerprint = ANY($2::text[]) AND r.spread "
                        "AND r.state IN ('queued', 'running') AND NOT r.cancel_requested AND (t.state = 'ready' OR "
                        "(t.state = 'running' AND t.lease_until < now())) ORDER BY r.priority DESC, t.run "
                        "LIMIT 1 FOR UPDATE OF t SKIP LOCKED) "
                        "UPDATE " +
                        s +
                        "steps t SET state = 'running', epoch = t.epoch + 1, claims = t.claims + 1, "
                        "worker = $3, lease_until = now() + $4 * interval '1 millisecond' FROM c "
                        "WHERE t.run = c.run AND t.step = c.step RETURNING t.run, t.step, t.epoch, t.claims, "
                        "(SELECT flow FROM " +
                        s + "runs WHERE id = t.run), (SELECT fingerprint FROM " + s + "runs WHERE id = t.run)",
                    {queue, fingerprints, worker, std::to_string(lease.count())});
  });
  if (PQntuples(r.get()) == 0) return std::nullopt;
  claimed_step c{pg_connection::text(r, 0, 0),
                 pg_connection::text(r, 0, 1),
                 pg_connection::text(r, 0, 4),
                 pg_connection::text(r, 0, 5),
                 std::stoll(pg_connection::text(r, 0, 2)),
                 std::stoi(pg_connection::text(r, 0, 3))};
  db.retried([&] {
    (void)db.query("UPDATE " + s + "runs SET state = 'running', worker = $2 WHERE id = $1 AND state = 'queued'",
                   {c.run, worker});
  });
  return c;
}

/// The statement that fences step `step`'s records (postgres_store::fence): its claim `epoch` holds,
/// and its lease is renewed.
inline std::string step_fence_sql(const pg_connection& db) {
  return "UPDATE " + db.schema() +
         ".steps SET lease_until = now() + $4 * interval '1 millisecond' WHERE run = $1 AND step = $2 AND epoch = $3 "
         "AND state = 'running'";
}

/// The steps after `step`, directly (`all`: also theirs, and so on).
inline std::vector<std::string_view> steps_after(const graph_view& g, std::uint32_t step, bool all) {
  std::vector<bool> seen(g.size, false);
  std::vector<std::uint32_t> todo{step};
  std::vector<std::string_view> out;
  while (!todo.empty()) {
    const std::uint32_t at = todo.back();
    todo.pop_back();
    for (std::uint32_t k = g.out_offsets[at]; k != g.out_offsets[at + 1]; ++k)
      if (!seen[g.outs[k]]) {
        seen[g.outs[k]] = true;
        out.push_back(g.name(g.outs[k]));
        if (all) todo.push_back(g.outs[k]);
      }
  }
  return out;
}

/// The statements that end the claim `epoch` of step `step` of run `run` (of shape `g`), if it
/// still holds, run in one transaction: `state` "succeeded" (its dependents whose every dependency is
/// done become ready), "failed" (its descendants are skipped) or "ready" (handed back, for another
/// claim; `uncounted`: this claim does not count towards max_claims). When the run was asked to
/// cancel, its steps not running are skipped instead (and a step handed back is cancelled). The run
/// ends with its last step: succeeded, failed (its error names the first failed step), or cancelled.
/// The first statement locks the run's row, so that the steps that end together end one at a time
/// (the last one sees that it is). A claim that does not hold changes nothing.
inline std::vector<pg_statement> step_end(const std::string& schema, const graph_view& g, const std::string& run,
                                          const std::string& step, std::int64_t epoch, std::string_view state,
                                          const std::string& why, bool uncounted = false) {
  const std::string s = schema + ".";
  const std::uint32_t index = g.find(step);
  const bool known = index != g.size;
  std::vector<pg_statement> out;
  out.push_back({"SELECT 1 FROM " + s + "runs WHERE id = $1 FOR UPDATE", {run}});
  // One statement: its parts see the step as it was, and change other rows than each other's.
  out.push_back(
      {"WITH ended AS (UPDATE " + s +
           "steps t SET state = CASE WHEN $4 = 'ready' AND r.cancel_requested THEN "
           "'cancelled' ELSE $4 END, error = nullif($5, ''), lease_until = NULL, claims = t.claims - $6 FROM " +
           s +
           "runs r WHERE r.id = t.run AND t.run = $1 AND t.step = $2 AND t.epoch = $3 AND t.state = 'running' "
           "RETURNING t.state, r.cancel_requested), released AS (UPDATE " +
           s +
           "steps SET deps_left = deps_left - 1, "
           "state = CASE WHEN deps_left = 1 THEN 'ready' ELSE state END WHERE run = $1 AND step = ANY($7::text[]) AND "
           "EXISTS (SELECT 1 FROM ended WHERE state = 'succeeded' AND NOT cancel_requested) RETURNING 1), skipped AS "
           "(UPDATE " +
           s +
           "steps SET state = 'skipped' WHERE run = $1 AND state IN ('waiting', 'ready') AND "
           "((step = ANY($8::text[]) AND EXISTS (SELECT 1 FROM ended WHERE state = 'failed')) OR EXISTS (SELECT 1 FROM "
           "ended WHERE cancel_requested)) RETURNING 1) SELECT (SELECT count(*) FROM ended), (SELECT count(*) FROM "
           "released), (SELECT count(*) FROM skipped)",
       {run, step, std::to_string(epoch), std::string(state), why, uncounted ? "1" : "0",
        pg_connection::array(known ? steps_after(g, index, false) : std::vector<std::string_view>{}),
        pg_connection::array(known ? steps_after(g, index, true) : std::vector<std::string_view>{})}});
  out.push_back(
      {"UPDATE " + s +
           "runs r SET state = CASE WHEN r.cancel_requested THEN 'cancelled' WHEN EXISTS "
           "(SELECT 1 FROM " +
           s +
           "steps WHERE run = r.id AND state = 'failed') THEN 'failed' ELSE 'succeeded' "
           "END, error = (SELECT 'step \"' || step || '\" failed: ' || coalesce(error, '') FROM " +
           s +
           "steps WHERE run = r.id AND state = 'failed' ORDER BY step LIMIT 1), ended_at = now(), lease_until = "
           "NULL WHERE r.id = $1 AND r.state IN ('queued', 'running') AND NOT EXISTS (SELECT 1 FROM " +
           s + "steps WHERE run = r.id AND state IN ('waiting', 'ready', 'running'))",
       {run}});
  out.push_back({"SELECT pg_notify($1, '')", {queue_channel(schema)}});
  return out;
}

/// Runs `statements` on `db` in one transaction (a lost connection: once more).
inline void run_statements(pg_connection& db, const std::vector<pg_statement>& statements) {
  db.retried([&] {
    db.transaction([&] {
      for (const pg_statement& st : statements) (void)db.query_texts(st.sql, st.params);
    });
  });
}

/// Renews the leases of the step claims `(runs[k], steps[k], epochs[k])` (PostgreSQL arrays);
/// returns those that still hold, each as "run/step" with whether its run was asked to cancel.
inline std::vector<std::pair<std::string, bool>> renew_steps(pg_connection& db, const std::string& runs,
                                                             const std::string& steps, const std::string& epochs,
                                                             std::chrono::milliseconds lease) {
  const std::string s = db.schema() + ".";
  auto r = db.retried([&] {
    return db.query("UPDATE " + s +
                        "steps t SET lease_until = now() + $4 * interval '1 millisecond' FROM "
                        "unnest($1::bigint[], $2::text[], $3::bigint[]) AS c(run, step, epoch) WHERE t.run = c.run AND "
                        "t.step = c.step AND t.epoch = c.epoch AND t.state = 'running' RETURNING t.run, t.step, "
                        "(SELECT cancel_requested FROM " +
                        s + "runs WHERE id = t.run)",
                    {runs, steps, epochs, std::to_string(lease.count())});
  });
  std::vector<std::pair<std::string, bool>> held;
  for (int i = 0; i != PQntuples(r.get()); ++i)
    held.emplace_back(pg_connection::text(r, i, 0) + '\0' + pg_connection::text(r, i, 1),
                      pg_connection::text(r, i, 2) == "t");
  return held;
}

}  // namespace lightflow::detail

#endif
