// A checkpoint store in a PostgreSQL database, through libpq: one table in a schema of its own,
// created and migrated by the store, one row per record. Saves wait in memory until flush() writes
// them in one transaction (deferred durability: lightflow's committer flushes as steps finish, and
// a run's records become durable in the order they were saved, so that a crash leaves a prefix of
// them); a server a network away costs one round trip per group of steps, not one per step.
// Optional: include this header and link libpq (Debian: libpq-dev; CMake: PostgreSQL::PostgreSQL).
// The umbrella header does not include it.
#ifndef LIGHTFLOW_POSTGRES_STORE_HPP
#define LIGHTFLOW_POSTGRES_STORE_HPP

#include <libpq-fe.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

// From include/, or beside the single header (see fmt.hpp).
#if __has_include("lightflow/checkpoint_store.hpp")
#include "lightflow/checkpoint_store.hpp"
#else
#include "lightflow.hpp"
#endif

namespace lightflow {

/// Records in table `<schema>.records (flow, run, key, bytes)` of a PostgreSQL database (see the top
/// of this header). Every member may be called from several threads; the connection is shared
/// under a lock. A connection lost between two calls is made again once before a call fails.
class postgres_store {
 public:
  /// The version of the tables this lightflow makes (kept in `<schema>.meta`).
  static constexpr int schema_version = 1;

  /// Connects to the database that `conninfo` names (libpq's "host=... dbname=..." or a
  /// postgresql:// URI) and makes or migrates the store's tables in `schema` (a lower-case SQL
  /// identifier). store_error when it cannot connect, or when the schema was made by a newer lightflow.
  explicit postgres_store(std::string conninfo, std::string schema = "lightflow")
      : conninfo_(std::move(conninfo)), schema_(std::move(schema)) {
    const bool identifier = !schema_.empty() && schema_.size() < 64 && (schema_[0] < '0' || schema_[0] > '9') &&
                            std::all_of(schema_.begin(), schema_.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                            });
    if (!identifier)
      throw usage_error("lightflow: postgres_store's schema must be a lower-case SQL identifier, not \"" + schema_ + "\"");
    conn_.reset(PQconnectdb(conninfo_.c_str()));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK)
      throw store_error("lightflow: could not connect to PostgreSQL (" + std::string(conn_ ? PQerrorMessage(conn_.get()) : "out of memory") +
                        ")");
    PQsetNoticeProcessor(conn_.get(), [](void*, const char*) {}, nullptr);  // "already exists" notices
    migrate();
  }
  postgres_store(const postgres_store&) = delete;
  postgres_store& operator=(const postgres_store&) = delete;

  /// Keeps the record for the next flush (a later save of the same key replaces it); store_error
  /// for a record over PostgreSQL's limit of a field, 1 GB.
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    if (bytes.size() >= (std::size_t{1} << 30))
      throw store_error("lightflow: " + location(flow, run) + ": record \"" + std::string(key) + "\" has " +
                        std::to_string(bytes.size()) + " bytes, over PostgreSQL's limit of a field (1 GB)");
    std::lock_guard lock(pending_mutex_);
    pending_.push_back({std::string(flow), std::string(run), std::string(key), {bytes.begin(), bytes.end()}});
  }
  /// Writes every record saved so far in one transaction; store_error when it cannot (the records
  /// stay, for the next flush).
  void flush() {
    std::lock_guard db(db_mutex_);
    {
      std::lock_guard lock(pending_mutex_);
      if (pending_.empty()) return;
      in_flight_ = std::move(pending_);
      pending_.clear();
    }
    try {
      retried([&] { write(in_flight_); });
    } catch (...) {
      std::lock_guard lock(pending_mutex_);
      pending_.insert(pending_.begin(), std::make_move_iterator(in_flight_.begin()), std::make_move_iterator(in_flight_.end()));
      in_flight_.clear();
      throw;
    }
    std::lock_guard lock(pending_mutex_);
    in_flight_.clear();
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
    return retried([&]() -> std::optional<std::vector<std::byte>> {
      result r = query("SELECT bytes FROM " + table() + " WHERE flow = $1 AND run = $2 AND key = $3", {flow, run, key}, true);
      if (PQntuples(r.get()) == 0) return std::nullopt;
      const auto* data = reinterpret_cast<const std::byte*>(PQgetvalue(r.get(), 0, 0));
      return std::vector<std::byte>(data, data + PQgetlength(r.get(), 0, 0));
    });
  }
  /// The keys of run `run`'s records.
  std::vector<std::string> list(std::string_view flow, std::string_view run) {
    std::vector<std::string> keys = unflushed(flow, [&](const record& r) { return r.run == run ? &r.key : nullptr; });
    std::lock_guard db(db_mutex_);
    retried([&] {
      result r = query("SELECT key FROM " + table() + " WHERE flow = $1 AND run = $2", {flow, run});
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
    retried([&] { (void)query("DELETE FROM " + table() + " WHERE flow = $1 AND run = $2", {flow, run}); });
  }
  /// The ids of the runs with records of flow `flow` (stored_runs.hpp).
  std::vector<std::string> runs(std::string_view flow) {
    std::vector<std::string> ids = unflushed(flow, [](const record& r) { return &r.run; });
    std::lock_guard db(db_mutex_);
    retried([&] {
      result r = query("SELECT DISTINCT run FROM " + table() + " WHERE flow = $1", {flow});
      for (int i = 0; i != PQntuples(r.get()); ++i) ids.emplace_back(PQgetvalue(r.get(), i, 0));
    });
    return unique(std::move(ids));
  }
  /// Where a run's records live, for messages.
  std::string location(std::string_view flow, std::string_view run) const {
    return "PostgreSQL table " + table() + " of database \"" + database_ + "\", flow \"" + std::string(flow) + "\", run \"" +
           std::string(run) + "\"";
  }

 private:
  struct record {
    std::string flow, run, key;
    std::vector<std::byte> bytes;
  };
  struct closer {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
    void operator()(PGresult* r) const noexcept { PQclear(r); }
  };
  using result = std::unique_ptr<PGresult, closer>;

  std::string table() const { return schema_ + ".records"; }

  /// Runs `sql` with text parameters `params`; binary results when `binary_out`. store_error, with
  /// the server's words, when it fails.
  result query(const std::string& sql, std::initializer_list<std::string_view> params, bool binary_out = false) {
    const std::vector<std::string> texts(params.begin(), params.end());  // libpq wants NUL-terminated text
    std::vector<const char*> values;
    for (const std::string& t : texts) values.push_back(t.c_str());
    result r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                          nullptr, binary_out ? 1 : 0));
    check(r, sql);
    return r;
  }
  result exec(const std::string& sql) {
    result r(PQexec(conn_.get(), sql.c_str()));
    check(r, sql);
    return r;
  }
  void check(const result& r, const std::string& sql) {
    const ExecStatusType s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return;
    // The connection was lost (libpq's own error: no SQLSTATE; a server shutting down: 57P0x;
    // connection exceptions: 08xxx), not refused by the server: worth one more try on a new one.
    const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view code = state != nullptr ? state : "";
    lost_ = PQstatus(conn_.get()) != CONNECTION_OK || code.empty() || code.starts_with("08") || code.starts_with("57P0");
    std::string why = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get());
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw store_error("lightflow: PostgreSQL (" + table() + " of database \"" + database_ + "\") refused \"" +
                      sql.substr(0, sql.find(' ', 12)) + " ...\": " + why);
  }

  /// Calls `f`; when the connection was lost, makes it again and calls `f` once more (every call
  /// here can be repeated: writes are upserts and deletes, in one transaction each).
  template <class F>
  std::invoke_result_t<F&> retried(F&& f) {
    try {
      return f();
    } catch (const store_error&) {
      if (!lost_) throw;
      lost_ = false;
      PQreset(conn_.get());
      if (PQstatus(conn_.get()) != CONNECTION_OK) throw;
      return f();
    }
  }

  /// One transaction: every record of `batch` (the last save of a key wins), as upserts of up to
  /// 1,000 rows a statement.
  void write(const std::vector<record>& batch) {
    std::vector<const record*> last;  // one per key: one statement cannot change a row twice
    last.reserve(batch.size());
    std::unordered_set<std::string> seen;
    for (auto r = batch.rbegin(); r != batch.rend(); ++r)
      if (seen.insert(r->flow + '\0' + r->run + '\0' + r->key).second) last.push_back(&*r);
    (void)exec("BEGIN");
    try {
      for (std::size_t at = 0; at < last.size(); at += 1000) {
        const std::size_t n = std::min<std::size_t>(1000, last.size() - at);
        std::string sql = "INSERT INTO " + table() + " (flow, run, key, bytes) VALUES ";
        std::vector<const char*> values;
        std::vector<int> lengths, formats;
        for (std::size_t k = 0; k != n; ++k) {
          const record& r = *last[at + k];
          const std::string p = std::to_string(4 * k + 1);
          sql += (k == 0 ? "($" : ", ($") + p + ", $" + std::to_string(4 * k + 2) + ", $" + std::to_string(4 * k + 3) + ", $" +
                 std::to_string(4 * k + 4) + ")";
          for (const std::string* t : {&r.flow, &r.run, &r.key}) values.push_back(t->c_str()), lengths.push_back(0), formats.push_back(0);
          values.push_back(reinterpret_cast<const char*>(r.bytes.data())), lengths.push_back(static_cast<int>(r.bytes.size())),
              formats.push_back(1);
        }
        sql += " ON CONFLICT (flow, run, key) DO UPDATE SET bytes = EXCLUDED.bytes";
        result res(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                lengths.data(), formats.data(), 0));
        check(res, sql);
      }
      (void)exec("COMMIT");
    } catch (...) {
      if (PQstatus(conn_.get()) == CONNECTION_OK) PQclear(PQexec(conn_.get(), "ROLLBACK"));
      throw;
    }
  }

  /// Makes the tables, or checks that they are of a version this lightflow knows; one process at a
  /// time (an advisory lock held by the transaction).
  void migrate() {
    database_ = PQdb(conn_.get());
    (void)exec("BEGIN");
    try {
      (void)query("SELECT pg_advisory_xact_lock(hashtext($1))", {"lightflow:" + schema_});
      (void)exec("CREATE SCHEMA IF NOT EXISTS " + schema_);
      (void)exec("CREATE TABLE IF NOT EXISTS " + schema_ + ".meta (version integer NOT NULL)");
      result r = exec("SELECT max(version) FROM " + schema_ + ".meta");
      const int version = PQgetisnull(r.get(), 0, 0) ? 0 : std::stoi(PQgetvalue(r.get(), 0, 0));
      if (version > schema_version)
        throw store_error("lightflow: the PostgreSQL schema \"" + schema_ + "\" of database \"" + database_ +
                          "\" was made by a newer lightflow (its tables' version is " + std::to_string(version) +
                          ", this lightflow knows versions up to " + std::to_string(schema_version) +
                          "): use that lightflow, or another schema");
      if (version < 1) {  // migration 1: the records
        (void)exec("CREATE TABLE " + table() +
                   " (flow text NOT NULL, run text NOT NULL, key text NOT NULL, bytes bytea NOT NULL, "
                   "PRIMARY KEY (flow, run, key))");
        (void)exec("INSERT INTO " + schema_ + ".meta (version) VALUES (1)");
      }
      (void)exec("COMMIT");
    } catch (...) {
      if (PQstatus(conn_.get()) == CONNECTION_OK) PQclear(PQexec(conn_.get(), "ROLLBACK"));
      throw;
    }
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

  std::string conninfo_, schema_, database_;
  std::unique_ptr<PGconn, closer> conn_;
  bool lost_ = false;         // the last failure lost the connection (db_mutex_)
  std::mutex db_mutex_;       // the connection; taken before pending_mutex_ when both are
  std::mutex pending_mutex_;  // pending_ and in_flight_
  std::vector<record> pending_, in_flight_;
};

static_assert(checkpoint_store<postgres_store>);

}  // namespace lightflow

#endif
