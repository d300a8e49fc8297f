// A worker process's side of the queued runs (postgres_queue.hpp): it serves the flows it knows,
// claims queued runs of their definitions from one queue, runs them on an executor with the run's
// checkpoint in the postgres_store (so a run another worker began resumes where it was), and keeps
// a lease on each by heartbeats. Every flush of a claimed run's records checks its claim in the same
// transaction (postgres_store's fence): a worker that was paused past its lease and comes back
// writes nothing for a run that was taken from it, and stops that run. Optional: link libpq.
#ifndef LIGHTFLOW_POSTGRES_WORKER_HPP
#define LIGHTFLOW_POSTGRES_WORKER_HPP

#include <libpq-fe.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "lightflow/detail/pg_steps.hpp"
#include "lightflow/detail/store_session.hpp"
#include "lightflow/detail/worker_run.hpp"
#include "lightflow/postgres_queue.hpp"

namespace lightflow {

/// How a postgres_worker works.
struct worker_options {
  /// The queue it takes runs from.
  std::string queue = "default";
  /// Its name in `<schema>.runs` (who holds a run); empty: "<host>:<pid>".
  std::string name{};
  /// How long a claim lasts without a heartbeat; a run whose worker stopped renewing it is claimed by
  /// another worker after this. Heartbeats come every third of it.
  std::chrono::milliseconds lease{10000};
  /// How often an idle worker looks for runs when no notification came.
  std::chrono::milliseconds poll{1000};
  /// A run claimed this many times without ending (its workers died while running it) is dead.
  int max_claims = 5;
  /// How many runs it runs at once; 0: the executor's thread count.
  std::size_t runs = 0;
  /// When a stop is asked: let its runs finish (false), or cancel them and hand them back (true:
  /// queued again, their claim not counted, for another worker to resume from their checkpoints).
  bool hand_back = false;
};

/// Claims and runs queued runs (see the top of this header). Serve the flows first, then call run()
/// (on the thread that owns the worker) until a stop is requested.
class postgres_worker {
 public:
  /// A worker that runs claimed runs on `pool`, their checkpoints in `store` (both must outlive it),
  /// with a connection of its own to the store's database (store_error when it cannot connect).
  postgres_worker(postgres_store& store, executor& pool, worker_options options = {})
      : store_(&store),
        pool_(&pool),
        options_(std::move(options)),
        db_(store.conninfo(), store.schema()),
        wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (wake_ < 0) throw store_error("lightflow: postgres_worker: eventfd failed");
    if (options_.name.empty()) {
      char host[256] = {};
      (void)::gethostname(host, sizeof host - 1);
      options_.name = std::string(host) + ":" + std::to_string(::getpid());
    }
    if (options_.runs == 0) options_.runs = std::max<std::size_t>(1, pool.worker_count());
    (void)db_.exec("LISTEN " + detail::queue_channel(db_.schema()));
  }
  postgres_worker(const postgres_worker&) = delete;
  postgres_worker& operator=(const postgres_worker&) = delete;
  ~postgres_worker() {
    for (auto& [id, a] : active_) a.run->cancel();
    for (auto& [id, a] : active_)
      if (a.waiter.joinable()) a.waiter.join();
    try {
      (void)db_.query("DELETE FROM " + db_.schema() + ".workers WHERE name = $1", {options_.name});
    } catch (...) {  // the database is gone: the row ages out
    }
    ::close(wake_);
  }

  /// Serves `flow` (kept by copy; a static flow whose input is `Input`, a runtime flow's is
  /// lf::values): runs enqueued with it (the same definition, version and options) are claimed.
  template <class Input = void, class Flow>
  postgres_worker& serve(const Flow& flow, checkpoint_options options = {}) {
    using program = detail::program<Flow>;
    using input_type = typename detail::run_input<Flow, Input>::type;
    auto kept = std::make_shared<const Flow>(flow);
    const checkpoint cp{*store_, "", options};
    const std::string fingerprint = detail::fingerprint_text(program::template fingerprint<input_type>(*kept, cp));
    served_[fingerprint] = {
        [kept, options](executor& pool, postgres_store& store, const std::string& id, const std::string& step) {
          const checkpoint cp{store, id, options};
          auto input = program::template load_input<input_type>(*kept, cp);
          if (step.empty()) {
            auto handle = pool.submit(*kept, std::move(input), cp);
            return std::unique_ptr<detail::worker_run>(new detail::worker_run_of<decltype(handle)>(std::move(handle)));
          }
          auto handle = pool.submit(*kept, std::move(input), cp, only_steps{{step}});
          return std::unique_ptr<detail::worker_run>(
              new detail::worker_run_of<decltype(handle)>(std::move(handle), step));
        },
        &program::shape(*kept)};
    return *this;
  }

  /// Claims and runs runs until `stop` is requested, then lets its runs finish (or hands them back:
  /// worker_options::hand_back), heartbeats going on meanwhile, and returns. store_error when the
  /// database cannot be reached.
  void run(std::stop_token stop) { (void)work(stop, false); }
  /// Runs until no run it can take is queued and its own have ended; returns how many ended (tests,
  /// and batch jobs).
  std::size_t drain() { return work({}, true); }
  /// This worker's name.
  const std::string& name() const noexcept { return options_.name; }

 private:
  /// A flow it serves: how it starts a run (or one step of a spread run), and the flow's shape.
  struct served {
    std::function<std::unique_ptr<detail::worker_run>(executor&, postgres_store&, const std::string&,
                                                      const std::string&)>
        start;
    const detail::graph_view* shape;
  };
  struct claimed {
    std::string flow, run_id;
    std::string step;  // one step of a spread run; empty: the whole run
    const detail::graph_view* shape = nullptr;
    std::int64_t epoch = 0;
    std::unique_ptr<detail::worker_run> run;
    std::thread waiter;      // waits for the run's end, then wakes the loop
    bool cancelled = false;  // asked by cancel()
    bool ended = false;      // (under done_mutex_)
  };

  void signal() noexcept {
    const std::uint64_t one = 1;
    (void)!::write(wake_, &one, sizeof one);
  }
  /// The loop of run() and drain(): ends the claims whose runs ended, renews the leases every third
  /// of one, claims while it has room; then sleeps until woken (a notification, a run's end, a stop)
  /// or the next heartbeat or poll. Returns how many claims ended.
  std::size_t work(std::stop_token stop, bool until_idle) {
    std::stop_callback wake(stop, [this] { signal(); });
    const std::size_t before = ended_;
    auto next_beat = std::chrono::steady_clock::now();
    for (;;) {
      reap();
      if (std::chrono::steady_clock::now() >= next_beat) {
        heartbeat();
        next_beat = std::chrono::steady_clock::now() + options_.lease / 3;
      }
      if (stop.stop_requested()) {
        if (active_.empty()) break;
        if (options_.hand_back && !handing_back_) {
          handing_back_ = true;
          for (auto& [id, c] : active_) c.run->cancel();
        }
      } else {
        while (active_.size() < options_.runs && claim()) {
        }
        if (until_idle && active_.empty()) break;
      }
      sleep_until(std::min(next_beat, std::chrono::steady_clock::now() + options_.poll));
    }
    return ended_ - before;
  }
  /// Waits for a notification, a run's end or a stop (the eventfd), or `until`.
  void sleep_until(std::chrono::steady_clock::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    pollfd fds[2] = {{wake_, POLLIN, 0}, {PQsocket(db_.get()), POLLIN, 0}};
    if (left.count() > 0) (void)::poll(fds, fds[1].fd >= 0 ? 2 : 1, static_cast<int>(left.count()));
    std::uint64_t count = 0;
    (void)!::read(wake_, &count, sizeof count);
    if (PQconsumeInput(db_.get()) != 0)
      while (PGnotify* n = PQnotifies(db_.get())) PQfreemem(n);
  }

  /// Claims one run it serves, if any is queued (or lost by a worker whose lease expired), and starts
  /// it. A run claimed max_claims times is marked dead instead; one whose cancellation was asked
  /// while its worker died is marked cancelled.
  bool claim() {
    const std::string fingerprints = served_fingerprints();
    auto r = db_.retried([&] {
      return db_.query(
          "WITH c AS (SELECT id FROM " + runs() +
              " WHERE queue = $1 AND fingerprint = ANY($2::text[]) AND NOT spread AND "
              "(state = 'queued' OR (state = 'running' AND lease_until < now())) "
              "ORDER BY priority DESC, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
              "UPDATE " +
              runs() +
              " r SET "
              "state = CASE WHEN r.cancel_requested THEN 'cancelled' WHEN r.claims >= $4 THEN 'dead' "
              "ELSE 'running' END, "
              "error = CASE WHEN r.cancel_requested THEN 'cancelled while its worker was lost' "
              "WHEN r.claims >= $4 THEN 'claimed ' || r.claims || ' times without ending (its workers "
              "died or lost their leases while running it; the last was ' || coalesce(r.worker, '?') || ')' END, "
              "ended_at = CASE WHEN r.cancel_requested OR r.claims >= $4 THEN now() END, "
              "epoch = r.epoch + 1, claims = r.claims + 1, worker = $3, "
              "lease_until = now() + $5 * interval '1 millisecond' "
              "FROM c WHERE r.id = c.id RETURNING r.id, r.flow, r.fingerprint, r.epoch, r.state",
          {options_.queue, fingerprints, options_.name, std::to_string(options_.max_claims),
           std::to_string(options_.lease.count())});
    });
    if (PQntuples(r.get()) == 0) return claim_step();
    const std::string id = detail::pg_connection::text(r, 0, 0);
    if (detail::pg_connection::text(r, 0, 4) != "running") return true;  // moved aside; look again
    claimed c;
    c.flow = detail::pg_connection::text(r, 0, 1);
    c.run_id = id;
    c.epoch = std::stoll(detail::pg_connection::text(r, 0, 3));
    store_->fence(c.flow, id, "",
                  {"UPDATE " + runs() +
                       " SET lease_until = now() + $3 * interval '1 millisecond' WHERE id = $1 AND "
                       "epoch = $2 AND state = 'running'",
                   {id, std::to_string(c.epoch), std::to_string(options_.lease.count())}});
    return start(std::move(c), detail::pg_connection::text(r, 0, 2));
  }
  /// Claims one step of a spread run it serves (pg_steps.hpp), and starts it; a step claimed
  /// max_claims times fails instead.
  bool claim_step() {
    auto s = detail::claim_step(db_, options_.queue, served_fingerprints(), options_.name, options_.lease);
    if (!s) return false;
    claimed c;
    c.flow = s->flow, c.run_id = s->run, c.step = s->step, c.epoch = s->epoch;
    c.shape = served_.at(s->fingerprint).shape;
    if (s->claims > options_.max_claims) {
      const std::string why = "claimed " + std::to_string(s->claims - 1) +
                              " times without ending (its workers died or lost their leases while running it)";
      detail::run_statements(db_, detail::step_end(db_.schema(), *c.shape, c.run_id, c.step, c.epoch, "failed", why));
      return true;
    }
    // The flush that writes the step's output ends it (succeeded) in the same transaction.
    store_->fence(c.flow, c.run_id, c.step,
                  {detail::step_fence_sql(db_),
                   {c.run_id, c.step, std::to_string(c.epoch), std::to_string(options_.lease.count())}},
                  detail::step_key(c.step),
                  detail::step_end(db_.schema(), *c.shape, c.run_id, c.step, c.epoch, "succeeded", ""));
    return start(std::move(c), s->fingerprint);
  }
  /// Starts claim `c` of a flow of `fingerprint`; a run refused before it started (its checkpoint is
  /// of another definition, damaged, or the database went away) ends here.
  bool start(claimed c, const std::string& fingerprint) {
    try {
      c.run = served_.at(fingerprint).start(*pool_, *store_, c.run_id, c.step);
    } catch (const std::exception& e) {
      store_->unfence(c.flow, c.run_id, c.step);
      const bool lost = detail::lost_database(std::current_exception());
      end(c, lost ? (c.step.empty() ? "queued" : "ready") : "failed", e.what());
      ++ended_;
      return true;
    }
    detail::worker_run* run = c.run.get();
    auto [it, fresh] = active_.emplace(c.run_id + (c.step.empty() ? "" : '\0' + c.step), std::move(c));
    it->second.waiter = std::thread([this, run, slot = &it->second] {
      run->wait();
      {
        std::lock_guard lock(done_mutex_);
        slot->ended = true;
      }
      signal();
    });
    return true;
  }

  /// Records the ends of the runs that ended.
  void reap() {
    for (auto it = active_.begin(); it != active_.end();) {
      {
        std::lock_guard lock(done_mutex_);
        if (!it->second.ended) {
          ++it;
          continue;
        }
      }
      it->second.waiter.join();
      const claimed c = std::move(it->second);
      it = active_.erase(it);  // first: end() may throw (the database is gone), and this claim is over
      const bool open = store_->unfence(c.flow, c.run_id, c.step);  // false: the flush of its output ended it
      ++ended_;
      const detail::worker_ending e = c.run->finish();
      const std::string_view state = e.state;
      if (!open && state == "succeeded") continue;
      if (handing_back_ && state != "succeeded")
        end(c, c.step.empty() ? "queued" : "ready",
            "handed back by worker " + options_.name + " (it was asked to stop)", true);
      else
        end(c, c.cancelled && state == "failed" ? "cancelled" : e.state, e.why);
    }
  }
  /// Ends claim `c` (a run, or a step of a spread run: pg_steps.hpp), if it still holds: `state` as
  /// `<schema>.runs` spells it ("queued": handed back; `uncounted`: its claim does not count
  /// towards max_claims), or for a step as `<schema>.steps` does.
  void end(const claimed& c, const char* state, const std::string& why, bool uncounted = false) {
    if (!c.step.empty())  // (a step that succeeded was ended already by the flush of its output)
      return detail::run_statements(
          db_, detail::step_end(db_.schema(), *c.shape, c.run_id, c.step, c.epoch, state, why, uncounted));
    const std::string& id = c.run_id;
    const std::int64_t epoch = c.epoch;
    db_.retried([&] {
      (void)db_.query("UPDATE " + runs() +
                          " SET state = $3, error = nullif($4, ''), lease_until = NULL, claims = claims - $5, "
                          "ended_at = CASE WHEN $3 = 'queued' THEN NULL ELSE now() END "
                          "WHERE id = $1 AND epoch = $2 AND state = 'running'",
                      {id, std::to_string(epoch), state, why, uncounted ? "1" : "0"});
    });
  }
  /// Renews the leases of its runs; a run taken from it (its epoch moved on) or whose cancellation
  /// was asked is cancelled here.
  void heartbeat() {
    register_self();
    if (active_.empty()) return;
    std::vector<std::string> ids, epochs, step_runs, steps, step_epochs;
    for (const auto& [key, c] : active_) {
      if (c.step.empty()) {
        ids.push_back(c.run_id), epochs.push_back(std::to_string(c.epoch));
      } else {
        step_runs.push_back(c.run_id), steps.push_back(c.step), step_epochs.push_back(std::to_string(c.epoch));
      }
    }
    const auto array = [](const std::vector<std::string>& v) { return detail::pg_connection::array(v); };
    std::map<std::string, bool> held;  // by key in active_: whether its run was asked to cancel
    if (!ids.empty()) {
      auto r = db_.retried([&] {
        return db_.query("UPDATE " + runs() + " r SET lease_until = now() + $3 * interval '1 millisecond' " +
                             "FROM unnest($1::bigint[], $2::bigint[]) AS c(id, epoch) "
                             "WHERE r.id = c.id AND r.epoch = c.epoch AND r.state = 'running' "
                             "RETURNING r.id, r.cancel_requested",
                         {array(ids), array(epochs), std::to_string(options_.lease.count())});
      });
      for (int i = 0; i != PQntuples(r.get()); ++i)
        held[detail::pg_connection::text(r, i, 0)] = detail::pg_connection::text(r, i, 1) == "t";
    }
    if (!steps.empty())
      for (auto& [key, cancel] :
           detail::renew_steps(db_, array(step_runs), array(steps), array(step_epochs), options_.lease))
        held[key] = cancel;
    for (auto& [key, c] : active_) {
      const auto h = held.find(key);
      if (h == held.end() || (h->second && !c.cancelled)) {  // taken from it, or to be cancelled
        c.cancelled = h != held.end();
        c.run->cancel();
      }
    }
  }
  /// Says in `<schema>.workers` that this worker is alive, with the definitions it serves (what
  /// postgres_queue::unserved reads).
  void register_self() {
    const std::string fingerprints = served_fingerprints();
    db_.retried([&] {
      (void)db_.query(
          "INSERT INTO " + db_.schema() +
              ".workers (name, queue, fingerprints, seen_at) VALUES ($1, $2, $3::text[], now()) "
              "ON CONFLICT (name) DO UPDATE SET queue = EXCLUDED.queue, fingerprints = EXCLUDED.fingerprints, "
              "seen_at = now()",
          {options_.name, options_.queue, fingerprints});
    });
  }
  /// The fingerprints of the definitions it serves, as a PostgreSQL array.
  std::string served_fingerprints() const {
    std::vector<std::string_view> fingerprints;
    for (const auto& entry : served_) fingerprints.push_back(entry.first);
    return detail::pg_connection::array(fingerprints);
  }
  std::string runs() const { return db_.schema() + ".runs"; }

  postgres_store* store_;
  executor* pool_;
  worker_options options_;
  detail::pg_connection db_;  // claims, heartbeats, ends, notifications: this worker's thread only
  int wake_;
  std::map<std::string, served> served_;   // by fingerprint
  std::map<std::string, claimed> active_;  // by run id (a step: run id, '\0', step)
  std::mutex done_mutex_;
  std::size_t ended_ = 0;
  bool handing_back_ = false;  // a stop was asked, with worker_options::hand_back
};

}  // namespace lightflow

#endif
