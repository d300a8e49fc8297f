// One libpq connection to the database of a PostgreSQL store or queue: statements with text or binary
// parameters, errors with the server's words, a connection lost (and only then) made again once, and
// the schema's versioned tables made or migrated under an advisory lock. Used by postgres_store.hpp,
// postgres_queue.hpp and postgres_worker.hpp; not thread-safe (its owner locks it).
#ifndef LIGHTFLOW_DETAIL_PG_CONNECTION_HPP
#define LIGHTFLOW_DETAIL_PG_CONNECTION_HPP

#include <libpq-fe.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/errors.hpp"

namespace lightflow::detail {

/// The version of the tables this lightflow makes (kept in `<schema>.meta`): 1, the records;
/// 2, the queued runs, their steps when spread over workers, and the workers that take them.
inline constexpr int pg_schema_version = 2;

/// The channel on which a schema's workers are woken (LISTEN) when a run or a step is ready.
inline std::string queue_channel(const std::string& schema) { return "lightflow_" + schema; }

/// A statement and its text parameters.
struct pg_statement {
  std::string sql;
  std::vector<std::string> params;
};

class pg_connection {
 public:
  struct closer {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
    void operator()(PGresult* r) const noexcept { PQclear(r); }
  };
  using result = std::unique_ptr<PGresult, closer>;

  /// Connects and makes or checks the schema's tables; store_error when it cannot, usage_error for a
  /// schema name that is no lower-case SQL identifier.
  pg_connection(std::string conninfo, std::string schema) : conninfo_(std::move(conninfo)), schema_(std::move(schema)) {
    const bool identifier = !schema_.empty() && schema_.size() < 64 && (schema_[0] < '0' || schema_[0] > '9') &&
                            std::all_of(schema_.begin(), schema_.end(), [](char c) {
                              return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                            });
    if (!identifier)
      throw usage_error("lightflow: a PostgreSQL schema must be a lower-case SQL identifier, not \"" + schema_ + "\"");
    conn_.reset(PQconnectdb(conninfo_.c_str()));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK)
      throw store_error("lightflow: could not connect to PostgreSQL (" +
                        std::string(conn_ ? PQerrorMessage(conn_.get()) : "out of memory") + ")");
    PQsetNoticeProcessor(
        conn_.get(), [](void*, const char*) {}, nullptr);  // "already exists" notices
    database_ = PQdb(conn_.get());
    migrate();
  }

  const std::string& schema() const noexcept { return schema_; }
  const std::string& database() const noexcept { return database_; }
  const std::string& conninfo() const noexcept { return conninfo_; }
  PGconn* get() const noexcept { return conn_.get(); }

  /// Runs `sql` with text parameters `params`; binary results when `binary_out`. store_error, with
  /// the server's words, when it fails.
  result query(const std::string& sql, std::initializer_list<std::string_view> params, bool binary_out = false) {
    return query_texts(sql, {params.begin(), params.end()}, binary_out);  // libpq wants NUL-terminated text
  }
  /// The same with parameters held as strings.
  result query_texts(const std::string& sql, const std::vector<std::string>& params, bool binary_out = false) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    return query_values(sql, values, {}, {}, binary_out);
  }
  /// The same with parameters as libpq takes them (`lengths` and `formats` empty: all text).
  result query_values(const std::string& sql, const std::vector<const char*>& values, const std::vector<int>& lengths,
                      const std::vector<int>& formats, bool binary_out = false) {
    result r(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                          lengths.empty() ? nullptr : lengths.data(), formats.empty() ? nullptr : formats.data(),
                          binary_out ? 1 : 0));
    check(r, sql);
    return r;
  }
  result exec(const std::string& sql) {
    result r(PQexec(conn_.get(), sql.c_str()));
    check(r, sql);
    return r;
  }

  /// Calls `f` in a transaction (committed when it returns, rolled back when it throws).
  template <class F>
  std::invoke_result_t<F&> transaction(F&& f) {
    (void)exec("BEGIN");
    try {
      if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
        f();
        (void)exec("COMMIT");
      } else {
        auto out = f();
        (void)exec("COMMIT");
        return out;
      }
    } catch (...) {
      if (PQstatus(conn_.get()) == CONNECTION_OK) PQclear(PQexec(conn_.get(), "ROLLBACK"));
      throw;
    }
  }

  /// Calls `f`; when the connection was lost, makes it again and calls `f` once more (so `f` must be
  /// one that can be repeated: upserts, deletes, reads, or a transaction).
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

  /// `items` as the text of a PostgreSQL array ({"a","b"}), for a `$n::text[]` parameter.
  template <class Range>
  static std::string array(const Range& items) {
    std::string out = "{";
    for (const auto& item : items) {
      out += out.size() > 1 ? ",\"" : "\"";
      for (const char c : std::string_view(item)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
    }
    return out + "}";
  }
  /// The text of row `row`, column `column` of `r`.
  static std::string text(const result& r, int row, int column) { return PQgetvalue(r.get(), row, column); }

 private:
  void check(const result& r, const std::string& sql) {
    const ExecStatusType s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) return;
    // The connection was lost (libpq's own error: no SQLSTATE; a server shutting down: 57P0x;
    // connection exceptions: 08xxx), not refused by the server: worth one more try on a new one.
    const char* state = r ? PQresultErrorField(r.get(), PG_DIAG_SQLSTATE) : nullptr;
    const std::string_view code = state != nullptr ? state : "";
    lost_ =
        PQstatus(conn_.get()) != CONNECTION_OK || code.empty() || code.starts_with("08") || code.starts_with("57P0");
    std::string why = r ? PQresultErrorMessage(r.get()) : PQerrorMessage(conn_.get());
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    throw store_error("lightflow: PostgreSQL (schema " + schema_ + " of database \"" + database_ + "\") refused \"" +
                      sql.substr(0, sql.find(' ', 12)) + " ...\": " + why);
  }

  /// Makes the tables, or checks that they are of a version this lightflow knows; one process at a
  /// time (an advisory lock held by the transaction). Each migration is applied once, in order.
  void migrate() {
    transaction([&] {
      (void)query("SELECT pg_advisory_xact_lock(hashtext($1))", {"lightflow:" + schema_});
      (void)exec("CREATE SCHEMA IF NOT EXISTS " + schema_);
      (void)exec("CREATE TABLE IF NOT EXISTS " + schema_ + ".meta (version integer NOT NULL)");
      result r = exec("SELECT max(version) FROM " + schema_ + ".meta");
      const int version = PQgetisnull(r.get(), 0, 0) ? 0 : std::stoi(PQgetvalue(r.get(), 0, 0));
      if (version > pg_schema_version)
        throw store_error("lightflow: the PostgreSQL schema \"" + schema_ + "\" of database \"" + database_ +
                          "\" was made by a newer lightflow (its tables' version is " + std::to_string(version) +
                          ", this lightflow knows versions up to " + std::to_string(pg_schema_version) +
                          "): use that lightflow, or another schema");
      const std::string s = schema_ + ".";
      if (version < 1)  // the records
        (void)exec("CREATE TABLE " + s +
                   "records (flow text NOT NULL, run text NOT NULL, key text NOT NULL, bytes bytea NOT NULL, "
                   "PRIMARY KEY (flow, run, key))");
      if (version < 2) {  // the queued runs (postgres_queue.hpp)
        (void)exec("CREATE TABLE " + s +
                   "runs (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, flow text NOT NULL, "
                   "fingerprint text NOT NULL, queue text NOT NULL, priority integer NOT NULL DEFAULT 0, "
                   "key text UNIQUE, state text NOT NULL DEFAULT 'queued', epoch bigint NOT NULL DEFAULT 0, "
                   "claims integer NOT NULL DEFAULT 0, worker text, lease_until timestamptz, "
                   "cancel_requested boolean NOT NULL DEFAULT false, error text, "
                   "enqueued_at timestamptz NOT NULL DEFAULT now(), ended_at timestamptz, "
                   "spread boolean NOT NULL DEFAULT false)");
        (void)exec("CREATE INDEX runs_claimable ON " + s +
                   "runs (queue, priority DESC, id) WHERE state IN ('queued', 'running')");
        (void)exec(
            "CREATE TABLE " + s +  // the steps of a run spread over workers
            "steps (run bigint NOT NULL REFERENCES " + s +
            "runs (id) ON DELETE CASCADE, step text NOT NULL, "
            "deps text[] NOT NULL, state text NOT NULL, deps_left integer NOT NULL, epoch bigint NOT NULL DEFAULT 0, "
            "claims integer NOT NULL DEFAULT 0, worker text, lease_until timestamptz, error text, "
            "PRIMARY KEY (run, step))");
        (void)exec("CREATE INDEX steps_claimable ON " + s + "steps (run) WHERE state IN ('ready', 'running')");
        (void)exec("CREATE TABLE " + s +
                   "workers (name text PRIMARY KEY, queue text NOT NULL, fingerprints text[] NOT NULL, "
                   "seen_at timestamptz NOT NULL)");
      }
      if (version < pg_schema_version)
        (void)exec("INSERT INTO " + s + "meta (version) VALUES (" + std::to_string(pg_schema_version) + ")");
    });
  }

  std::string conninfo_, schema_, database_;
  std::unique_ptr<PGconn, closer> conn_;
  bool lost_ = false;  // the last failure lost the connection
};

}  // namespace lightflow::detail

#endif
