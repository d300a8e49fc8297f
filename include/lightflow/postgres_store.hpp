// A checkpoint store in a PostgreSQL database, through libpq: one table in a schema of its own,
// created and migrated by the store, one row per record. Saves wait in memory until flush() writes
// them in one transaction (deferred durability: lightflow's committer flushes as steps finish, and
// a run's records become durable in the order they were saved, so that a crash leaves a prefix of
// them); a server a network away costs one round trip per group of steps, not one per step.
// A run (or a step of a run) that a postgres_worker claimed from a queue is *fenced*: each flush that
// writes its records checks, in the same transaction, that the worker's claim still holds
// (postgres_queue.hpp).
// Optional: include this header and link libpq (Debian: libpq-dev; CMake: PostgreSQL::PostgreSQL).
// The umbrella header does not include it.
#ifndef LIGHTFLOW_POSTGRES_STORE_HPP
#define LIGHTFLOW_POSTGRES_STORE_HPP

#include <libpq-fe.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "lightflow/checkpoint_store.hpp"
#include "lightflow/detail/pg_connection.hpp"

namespace lightflow {

/// Records in table `<schema>.records (flow, run, key, bytes)` of a PostgreSQL database (see the top
/// of this header). Every member may be called from several threads; the connection is shared
/// under a lock. A connection lost between two calls is made again once before a call fails.
class postgres_store {
 public:
  /// The version of the tables this lightflow makes (kept in `<schema>.meta`).
  static constexpr int schema_version = detail::pg_schema_version;

  /// Connects to the database that `conninfo` names (libpq's "host=... dbname=..." or a
  /// postgresql:// URI) and makes or migrates the store's tables in `schema` (a lower-case SQL
  /// identifier). store_error when it cannot connect, or when the schema was made by a newer lightflow.
  explicit postgres_store(std::string conninfo, std::string schema = "lightflow")
      : db_(std::move(conninfo), std::move(schema)) {}
  postgres_store(const postgres_store&) = delete;
  postgres_store& operator=(const postgres_store&) = delete;

  /// Keeps the record for the next flush (a later save of the same key replaces it); store_error
  /// for a record over PostgreSQL's limit of a field, 1 GB. A fenced-out run's saves are dropped.
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    if (bytes.size() >= (std::size_t{1} << 30))
      throw store_error("lightflow: " + location(flow, run) + ": record \"" + std::string(key) + "\" has " +
                        std::to_string(bytes.size()) + " bytes, over PostgreSQL's limit of a field (1 GB)");
    std::lock_guard lock(pending_mutex_);
    if (!fenced_out_.empty() && fenced_out_.contains(run_key(flow, run))) return;
    pending_.push_back({std::string(flow), std::string(run), std::string(key), {bytes.begin(), bytes.end()}});
  }
  /// Writes every record saved so far in one transaction; store_error when it cannot (the records
  /// stay, for the next flush). The records of a fenced run whose claim was lost are not written:
  /// they are dropped, the rest written, and store_error thrown (failure() names the runs).
  void flush() {
    std::lock_guard db(db_mutex_);
    {
      std::lock_guard lock(pending_mutex_);
      if (pending_.empty()) return;
      in_flight_ = std::move(pending_);
      pending_.clear();
    }
    written w;
    try {
      w = db_.retried([&] { return write(in_flight_); });
    } catch (...) {
      std::lock_guard lock(pending_mutex_);
      pending_.insert(pending_.begin(), std::make_move_iterator(in_flight_.begin()),
                      std::make_move_iterator(in_flight_.end()));
      in_flight_.clear();
      throw;
    }
    std::lock_guard lock(pending_mutex_);
    in_flight_.clear();
    for (const auto& [run, token] : w.done)
      if (const auto f = fences_.find(run); f != fences_.end() && f->second.erase(token) == 1 && f->second.empty())
        fences_.erase(f);
    if (w.lost.empty()) return;
    std::string text;
    for (const std::string& r : w.lost) {
      std::erase_if(pending_, [&](const record& p) { return run_key(p.flow, p.run) == r; });
      fenced_out_.insert(r);
      fences_.erase(r);
      text += (text.empty() ? "" : ", ") + r.substr(r.find('\0') + 1);
    }
    throw store_error("lightflow: " + db_.schema() + ".runs: the claim on run(s) " + text +
                      " was lost to another worker; their records were not written");
  }
  /// True: a save is durable once flushed.
  bool deferred_durability() const noexcept { return true; }

  /// The bytes of record (flow, run, key), saved or flushed, or nothing.
  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) {
    {
      std::lock_guard lock(pending_mutex_);
      for (const auto* list : {&pending_, &in_flight_})
        for (auto r = list->rbegin(); r != list->rend(); ++r)
          if (r->flow == flow && r->run == run && r->key == key) return r->bytes;
    }
    std::lock_guard db(db_mutex_);
    return db_.retried([&]() -> std::optional<std::vector<std::byte>> {
      auto r = db_.query("SELECT bytes FROM " + table() + " WHERE flow = $1 AND run = $2 AND key = $3",
                         {flow, run, key}, true);
      if (PQntuples(r.get()) == 0) return std::nullopt;
      const auto* data = reinterpret_cast<const std::byte*>(PQgetvalue(r.get(), 0, 0));
      return std::vector<std::byte>(data, data + PQgetlength(r.get(), 0, 0));
    });
  }
  /// Every record of run `run` (key, bytes), saved or flushed, in one query: what a run's checkpoint
  /// reads as it opens (instead of a query per record).
  std::vector<std::pair<std::string, std::vector<std::byte>>> load_all(std::string_view flow, std::string_view run) {
    std::map<std::string, std::vector<std::byte>> all;
    std::lock_guard db(db_mutex_);  // no flush meanwhile: the database and the saves not flushed agree
    db_.retried([&] {
      all.clear();
      auto r = db_.query("SELECT key, bytes FROM " + table() + " WHERE flow = $1 AND run = $2", {flow, run}, true);
      for (int i = 0; i != PQntuples(r.get()); ++i) {
        const auto* data = reinterpret_cast<const std::byte*>(PQgetvalue(r.get(), i, 1));
        all[std::string(PQgetvalue(r.get(), i, 0), static_cast<std::size_t>(PQgetlength(r.get(), i, 0)))].assign(
            data, data + PQgetlength(r.get(), i, 1));
      }
    });
    std::lock_guard lock(pending_mutex_);  // saves not flushed yet, newer: the latest save of a key wins
    for (const auto* list : {&in_flight_, &pending_})
      for (const record& r : *list)
        if (r.flow == flow && r.run == run) all[r.key] = r.bytes;
    return {std::make_move_iterator(all.begin()), std::make_move_iterator(all.end())};
  }
  /// The keys of run `run`'s records.
  std::vector<std::string> list(std::string_view flow, std::string_view run) {
    std::vector<std::string> keys = unflushed(flow, [&](const record& r) { return r.run == run ? &r.key : nullptr; });
    std::lock_guard db(db_mutex_);
    db_.retried([&] {
      auto r = db_.query("SELECT key FROM " + table() + " WHERE flow = $1 AND run = $2", {flow, run});
      for (int i = 0; i != PQntuples(r.get()); ++i) keys.emplace_back(PQgetvalue(r.get(), i, 0));
    });
    return unique(std::move(keys));
  }
  /// Erases every record of run `run`, saved or flushed.
  void erase(std::string_view flow, std::string_view run) {
    std::lock_guard db(db_mutex_);  // no flush meanwhile
    {
      std::lock_guard lock(pending_mutex_);
      std::erase_if(pending_, [&](const record& r) { return r.flow == flow && r.run == run; });
    }
    db_.retried([&] { (void)db_.query("DELETE FROM " + table() + " WHERE flow = $1 AND run = $2", {flow, run}); });
  }
  /// The ids of the runs with records of flow `flow` (stored_runs.hpp).
  std::vector<std::string> runs(std::string_view flow) {
    std::vector<std::string> ids = unflushed(flow, [](const record& r) { return &r.run; });
    std::lock_guard db(db_mutex_);
    db_.retried([&] {
      auto r = db_.query("SELECT DISTINCT run FROM " + table() + " WHERE flow = $1", {flow});
      for (int i = 0; i != PQntuples(r.get()); ++i) ids.emplace_back(PQgetvalue(r.get(), i, 0));
    });
    return unique(std::move(ids));
  }
  /// Where a run's records live, for messages.
  std::string location(std::string_view flow, std::string_view run) const {
    return "PostgreSQL table " + table() + " of database \"" + db_.database() + "\", flow \"" + std::string(flow) +
           "\", run \"" + std::string(run) + "\"";
  }

  /// Why run `run`'s records could not be written, when its claim was lost (the committer asks, so
  /// that only that run fails); nothing otherwise.
  std::optional<std::string> failure(std::string_view flow, std::string_view run) const {
    std::lock_guard lock(pending_mutex_);
    if (!fenced_out_.contains(run_key(flow, run))) return std::nullopt;
    return "lightflow: run \"" + std::string(run) + "\" of flow \"" + std::string(flow) + "\" was claimed by another " +
           "worker (its lease had expired): this worker's records of it were not written";
  }

  /// For postgres_worker: from now on, each flush that writes records of run `run` first runs
  /// `check` in the same transaction, which must change exactly one row: the worker's claim still
  /// holds, and its lease is renewed. Otherwise the claim was lost: the run's records are not
  /// written (see flush). A run may have several fences (steps of one run claimed one by one), each
  /// under its own `token`. With `on_key`: the flush that writes the run's record `on_key` also runs
  /// `then`, after the records, in the same transaction, and the fence ends there (a step of a run
  /// spread over workers is ended in the transaction that writes its output).
  void fence(std::string_view flow, std::string_view run, std::string token, detail::pg_statement check,
             std::string on_key = {}, std::vector<detail::pg_statement> then = {}) {
    std::lock_guard lock(pending_mutex_);
    fences_[run_key(flow, run)][std::move(token)] = {std::move(check), std::move(on_key), std::move(then)};
    fenced_out_.erase(run_key(flow, run));
  }
  /// Ends fence `token` of run `run` (its claim ended, or was handed back). False when it had
  /// ended already, in the flush that wrote its `on_key` record.
  bool unfence(std::string_view flow, std::string_view run, const std::string& token) {
    std::lock_guard lock(pending_mutex_);
    const auto f = fences_.find(run_key(flow, run));
    if (f == fences_.end() || f->second.erase(token) == 0) return false;
    if (f->second.empty()) {
      fences_.erase(f);
      fenced_out_.erase(run_key(flow, run));
    }
    return true;
  }
  /// The database's name.
  const std::string& database() const noexcept { return db_.database(); }
  /// The schema of the store's tables.
  const std::string& schema() const noexcept { return db_.schema(); }
  /// The connection string the store was made with (postgres_queue and postgres_worker open their own).
  const std::string& conninfo() const noexcept { return db_.conninfo(); }

 private:
  struct record {
    std::string flow, run, key;
    std::vector<std::byte> bytes;
  };
  struct check {
    detail::pg_statement statement;
    std::string on_key;  // with `then`: run when the flush writes this record
    std::vector<detail::pg_statement> then;
  };
  using checks = std::map<std::string, check>;  // a run's fences, by token
  struct written {
    std::vector<std::string> lost;                          // the runs whose claim was lost
    std::vector<std::pair<std::string, std::string>> done;  // (run, token) whose `then` ran
  };

  std::string table() const { return db_.schema() + ".records"; }
  static std::string run_key(std::string_view flow, std::string_view run) {
    return std::string(flow).append(1, '\0').append(run);
  }

  /// One transaction: the fenced runs' claims checked (and leases renewed) first, in the order of
  /// their keys (so that two workers' flushes lock rows in one order), then every record of `batch`
  /// but those of runs whose claim was lost (the last save of a key wins), as upserts of up to 1,000
  /// rows a statement, then the `then` of the fences whose record was written.
  written write(const std::vector<record>& batch) {
    std::vector<const record*> last;  // one per key: one statement cannot change a row twice
    last.reserve(batch.size());
    std::unordered_set<std::string> seen;
    std::map<std::string, checks> fenced;  // the batch's runs that are fenced
    {
      std::lock_guard lock(pending_mutex_);
      for (auto r = batch.rbegin(); r != batch.rend(); ++r) {
        std::string run = run_key(r->flow, r->run);
        if (const auto f = fences_.find(run); f != fences_.end()) fenced.emplace(run, f->second);
        if (seen.insert(std::move(run.append(1, '\0').append(r->key))).second) last.push_back(&*r);
      }
    }
    return db_.transaction([&] {
      written w;
      std::vector<std::string>& lost = w.lost;
      for (const auto& [run, all] : fenced) {  // a handful of claims a worker holds at once
        bool held = true;
        for (const auto& [token, c] : all)
          held =
              held && std::string_view(PQcmdTuples(db_.query_texts(c.statement.sql, c.statement.params).get())) == "1";
        if (!held) lost.push_back(run);
      }
      if (!lost.empty())
        std::erase_if(last, [&](const record* r) {
          return std::find(lost.begin(), lost.end(), run_key(r->flow, r->run)) != lost.end();
        });
      for (std::size_t at = 0; at < last.size(); at += 1000) {
        const std::size_t n = std::min<std::size_t>(1000, last.size() - at);
        std::string sql = "INSERT INTO " + table() + " (flow, run, key, bytes) VALUES ";
        std::vector<const char*> values;
        std::vector<int> lengths, formats;
        for (std::size_t k = 0; k != n; ++k) {
          const record& r = *last[at + k];
          sql += (k == 0 ? "($" : ", ($") + std::to_string(4 * k + 1) + ", $" + std::to_string(4 * k + 2) + ", $" +
                 std::to_string(4 * k + 3) + ", $" + std::to_string(4 * k + 4) + ")";
          for (const std::string* t : {&r.flow, &r.run, &r.key})
            values.push_back(t->c_str()), lengths.push_back(0), formats.push_back(0);
          values.push_back(reinterpret_cast<const char*>(r.bytes.data())),
              lengths.push_back(static_cast<int>(r.bytes.size())), formats.push_back(1);
        }
        sql += " ON CONFLICT (flow, run, key) DO UPDATE SET bytes = EXCLUDED.bytes";
        (void)db_.query_values(sql, values, lengths, formats);
      }
      for (const auto& fence : fenced) {  // (not structured bindings: clang 14 cannot capture them)
        const std::string& run = fence.first;
        for (const auto& [token, c] : fence.second) {
          const std::string& key = c.on_key;
          if (!key.empty() && std::find(lost.begin(), lost.end(), run) == lost.end() &&
              std::any_of(last.begin(), last.end(),
                          [&](const record* r) { return r->key == key && run_key(r->flow, r->run) == run; })) {
            for (const detail::pg_statement& st : c.then) (void)db_.query_texts(st.sql, st.params);
            w.done.emplace_back(run, token);
          }
        }
      }
      return w;
    });
  }

  /// What `pick` names (a key, a run) of flow `flow`'s records that are not flushed yet.
  template <class Pick>
  std::vector<std::string> unflushed(std::string_view flow, Pick&& pick) {
    std::vector<std::string> out;
    std::lock_guard lock(pending_mutex_);
    for (const auto* list : {&pending_, &in_flight_})
      for (const record& r : *list)
        if (const std::string* s = r.flow == flow ? pick(r) : nullptr) out.push_back(*s);
    return out;
  }
  static std::vector<std::string> unique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
  }

  detail::pg_connection db_;          // under db_mutex_
  std::mutex db_mutex_;               // the connection; taken before pending_mutex_ when both are
  mutable std::mutex pending_mutex_;  // pending_, in_flight_, fences_, fenced_out_
  std::vector<record> pending_, in_flight_;
  std::map<std::string, checks> fences_;        // by run_key
  std::unordered_set<std::string> fenced_out_;  // runs whose claim was lost
};

static_assert(checkpoint_store<postgres_store>);

}  // namespace lightflow

#endif
