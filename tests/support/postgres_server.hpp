// A PostgreSQL server of the tests' own: Debian's initdb and pg_ctl (package postgresql) on a
// temporary directory, listening on a Unix socket in it and on no TCP port, without fsync unless
// asked (the tests crash the server, not the machine). PostgreSQL refuses to run as root: when the tests do, the
// server runs as user "nobody" (runuser). LIGHTFLOW_TEST_POSTGRES_BIN names another directory of
// PostgreSQL programs (default: the newest /usr/lib/postgresql/<version>/bin).
//
// Against a server of your own: LIGHTFLOW_TEST_POSTGRES_CONNINFO="host=... user=..." (a role that may
// create databases). The tests then make a database of their own on it (lightflow_test_<pid>),
// dropped at the end, and leave out what needs the server crashed (can_crash() is false).
#ifndef LIGHTFLOW_TESTS_SUPPORT_POSTGRES_SERVER_HPP
#define LIGHTFLOW_TESTS_SUPPORT_POSTGRES_SERVER_HPP

#include <libpq-fe.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace test_postgres {

class server {
 public:
  /// Makes the database cluster and starts the server; std::runtime_error, with the server's log,
  /// when it cannot. `durable`: with fsync, as a server that keeps data (the benchmarks).
  explicit server(bool durable = false) : bin_(bindir()), durable_(durable) {
    char pattern[] = "/tmp/lightflow-pg-XXXXXX";
    if (::mkdtemp(pattern) == nullptr) throw std::runtime_error("lightflow-test: mkdtemp failed");
    dir_ = pattern;
    if (::geteuid() == 0) {  // as "nobody", which must own the directory
      const passwd* nobody = ::getpwnam("nobody");
      if (nobody == nullptr || ::chown(dir_.c_str(), nobody->pw_uid, nobody->pw_gid) != 0)
        throw std::runtime_error("lightflow-test: cannot hand " + dir_ + " to user nobody");
      as_ = "runuser -u nobody -- ";
    }
    run(bin_ + "/initdb -D " + dir_ + "/data -U lightflow --auth=trust -E UTF8 --no-sync > " + dir_ + "/initdb.log 2>&1",
        "initdb", dir_ + "/initdb.log");
    start();
  }
  /// A database of the tests' own on the server `conninfo` names (see the top of this header).
  struct external_tag {};
  server(external_tag, std::string conninfo) : external_(std::move(conninfo)) {
    database_ = "lightflow_test_" + std::to_string(::getpid());
    administer("DROP DATABASE IF EXISTS " + database_);
    administer("CREATE DATABASE " + database_);
  }
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  ~server() {
    if (!external_.empty()) {
      try {
        administer("DROP DATABASE IF EXISTS " + database_ + " WITH (FORCE)");
      } catch (...) {
      }
      return;
    }
    (void)std::system((as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop > /dev/null 2>&1").c_str());
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  /// What postgres_store connects with.
  std::string conninfo() const {
    if (!external_.empty()) return external_ + " dbname=" + database_;
    return "host=" + dir_ + " user=lightflow dbname=postgres";
  }
  /// The name of the tests' database.
  std::string database() const { return external_.empty() ? "postgres" : database_; }
  /// Whether crash_and_restart() can be done (not on a server of your own).
  bool can_crash() const noexcept { return external_.empty(); }
  /// Stops the server as a crash would (no shutdown checkpoint) and starts it again.
  void crash_and_restart() {
    if (!can_crash()) throw std::runtime_error("lightflow-test: the tests do not crash a server of your own");
    run(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop > /dev/null 2>&1", "pg_ctl stop", dir_ + "/server.log");
    start();
  }

 private:
  static std::string bindir() {
    if (const char* given = std::getenv("LIGHTFLOW_TEST_POSTGRES_BIN")) return given;
    std::string newest;
    int best = -1;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") == std::string::npos && std::stoi(name) > best &&
          std::filesystem::exists(e.path() / "bin" / "initdb"))
        best = std::stoi(name), newest = (e.path() / "bin").string();
    }
    if (newest.empty()) throw std::runtime_error("lightflow-test: no PostgreSQL server programs (Debian: postgresql)");
    return newest;
  }
  void start() {
    run(as_ + bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/server.log -w -t 60 -o \"-k " + dir_ +
            " -c listen_addresses=''" + (durable_ ? "" : " -c fsync=off") + "\" start > /dev/null 2>&1",
        "pg_ctl start", dir_ + "/server.log");
  }
  void run(const std::string& command, const char* what, const std::string& log) const {
    const std::string full = command.rfind(as_, 0) == 0 ? command : as_ + command;
    if (std::system(full.c_str()) == 0) return;
    std::ifstream in(log);
    std::ostringstream text;
    text << in.rdbuf();
    throw std::runtime_error(std::string("lightflow-test: ") + what + " failed:\n" + text.str());
  }

  /// Runs `sql` on the external server's own database (its conninfo as given).
  void administer(const std::string& sql) const {
    PGconn* c = PQconnectdb(external_.c_str());
    PGresult* r = PQexec(c, sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    const std::string why = PQerrorMessage(c);
    PQclear(r);
    PQfinish(c);
    if (!ok) throw std::runtime_error("lightflow-test: " + sql + " on " + external_ + ": " + why);
  }

  std::string bin_, dir_, as_;
  bool durable_ = false;
  std::string external_, database_;  // a server of your own: its conninfo, and the tests' database
};

/// The tests' server, started at its first use and stopped at exit (or the database made on the
/// server LIGHTFLOW_TEST_POSTGRES_CONNINFO names).
inline server& shared() {
  static server s = [] {
    if (const char* given = std::getenv("LIGHTFLOW_TEST_POSTGRES_CONNINFO")) return server(server::external_tag{}, given);
    return server();
  }();
  return s;
}

}  // namespace test_postgres

#endif
