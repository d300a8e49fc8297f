// A checkpoint store in an SQLite database: one table, one row per record, each save its own
// transaction. Optional: include this header and link SQLite (libsqlite3-dev; CMake: SQLite::SQLite3).
// The umbrella header does not include it.
#ifndef LIGHTFLOW_SQLITE_STORE_HPP
#define LIGHTFLOW_SQLITE_STORE_HPP

#include <sqlite3.h>

#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// From include/, or beside the single header (see fmt.hpp).
#if __has_include("lightflow/checkpoint_store.hpp")
#include "lightflow/checkpoint_store.hpp"
#else
#include "lightflow.hpp"
#endif

namespace lightflow {

/// Records in table `lightflow_records(flow, run, key, bytes)` of an SQLite database file. The
/// database is in WAL mode with synchronous=FULL: a save is on disk when it returns.
class sqlite_store {
 public:
  /// Opens (or creates) the database at `path` and its table; store_error if it cannot.
  explicit sqlite_store(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr) != SQLITE_OK) {
      const std::string why = db_ != nullptr ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw store_error("lightflow: could not open the SQLite database " + path + ": " + why);
    }
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA synchronous=FULL");
    exec("CREATE TABLE IF NOT EXISTS lightflow_records (flow TEXT NOT NULL, run TEXT NOT NULL, key TEXT NOT NULL, "
         "bytes BLOB NOT NULL, PRIMARY KEY (flow, run, key)) WITHOUT ROWID");
  }
  sqlite_store(const sqlite_store&) = delete;
  sqlite_store& operator=(const sqlite_store&) = delete;
  ~sqlite_store() { sqlite3_close(db_); }

  /// Inserts or replaces the row (flow, run, key); on disk when it returns. store_error on failure.
  void save(std::string_view flow, std::string_view run, std::string_view key, std::span<const std::byte> bytes) {
    std::lock_guard lock(mutex_);
    statement st(*this, "INSERT OR REPLACE INTO lightflow_records (flow, run, key, bytes) VALUES (?1, ?2, ?3, ?4)");
    st.text(1, flow), st.text(2, run), st.text(3, key);
    check(sqlite3_bind_blob64(st.get(), 4, bytes.data(), bytes.size(), SQLITE_TRANSIENT), "bind");
    st.done();
  }
  /// Nothing to do: every save is durable at once.
  void flush() noexcept {}
  /// The bytes of row (flow, run, key), or nothing.
  std::optional<std::vector<std::byte>> load(std::string_view flow, std::string_view run, std::string_view key) {
    std::lock_guard lock(mutex_);
    statement st(*this, "SELECT bytes FROM lightflow_records WHERE flow = ?1 AND run = ?2 AND key = ?3");
    st.text(1, flow), st.text(2, run), st.text(3, key);
    if (!st.row()) return std::nullopt;
    const auto* data = static_cast<const std::byte*>(sqlite3_column_blob(st.get(), 0));
    return std::vector<std::byte>(data, data + sqlite3_column_bytes(st.get(), 0));
  }
  /// The keys of run `run` of `flow`, in key order.
  std::vector<std::string> list(std::string_view flow, std::string_view run) {
    std::lock_guard lock(mutex_);
    statement st(*this, "SELECT key FROM lightflow_records WHERE flow = ?1 AND run = ?2 ORDER BY key");
    st.text(1, flow), st.text(2, run);
    std::vector<std::string> keys;
    while (st.row())
      keys.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)),
                        static_cast<std::size_t>(sqlite3_column_bytes(st.get(), 0)));
    return keys;
  }
  /// The ids of the runs of `flow` that have rows, in id order (for lightflow::runs).
  std::vector<std::string> runs(std::string_view flow) {
    std::lock_guard lock(mutex_);
    statement st(*this, "SELECT DISTINCT run FROM lightflow_records WHERE flow = ?1 ORDER BY run");
    st.text(1, flow);
    std::vector<std::string> ids;
    while (st.row())
      ids.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0)),
                       static_cast<std::size_t>(sqlite3_column_bytes(st.get(), 0)));
    return ids;
  }
  /// Deletes the rows of run `run` of `flow`.
  void erase(std::string_view flow, std::string_view run) {
    std::lock_guard lock(mutex_);
    statement st(*this, "DELETE FROM lightflow_records WHERE flow = ?1 AND run = ?2");
    st.text(1, flow), st.text(2, run);
    st.done();
  }
  /// The database's path, the table and the run, for messages.
  std::string location(std::string_view flow, std::string_view run) const {
    return path_ + " (table lightflow_records, flow \"" + std::string(flow) + "\", run \"" + std::string(run) + "\")";
  }
  /// False: a save needs no flush.
  bool deferred_durability() const noexcept { return false; }

 private:
  class statement {
   public:
    statement(sqlite_store& store, const char* sql) : store_(&store) {
      store.check(sqlite3_prepare_v2(store.db_, sql, -1, &st_, nullptr), "prepare");
    }
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement() { sqlite3_finalize(st_); }
    sqlite3_stmt* get() const noexcept { return st_; }
    void text(int i, std::string_view s) {
      store_->check(sqlite3_bind_text64(st_, i, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "bind");
    }
    bool row() {
      const int rc = sqlite3_step(st_);
      if (rc == SQLITE_ROW) return true;
      store_->check(rc == SQLITE_DONE ? SQLITE_OK : rc, "step");
      return false;
    }
    void done() {
      while (row()) {
      }
    }

   private:
    sqlite_store* store_;
    sqlite3_stmt* st_ = nullptr;
  };

  void check(int rc, const char* what) const {
    if (rc != SQLITE_OK)
      throw store_error("lightflow: SQLite " + std::string(what) + " failed on " + path_ + ": " + sqlite3_errmsg(db_));
  }
  void exec(const char* sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
      const std::string why = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      throw store_error("lightflow: SQLite failed on " + path_ + " (" + sql + "): " + why);
    }
  }

  std::string path_;
  sqlite3* db_ = nullptr;
  std::mutex mutex_;
};

static_assert(checkpoint_store<sqlite_store>);

}  // namespace lightflow

#endif
