// Group commit for durable checkpoints. A step's record goes into its store's write buffer on the
// thread that ran the step, and its dependents start at once; this thread flushes every store that
// has records waiting, one flush per store for everything saved since its last round. A run whose
// store defers durability ends here: after a flush that covers its last record. A run's end asks for
// a flush at once; records saved meanwhile wait at most `max_delay` (so that a short run pays for one
// flush, at its end, and a long one for one every few milliseconds).
//
// Why dependents need not wait for the flush: a store with deferred durability keeps its records in
// the order they were saved and reads them back as a prefix (file_store: an append-only log whose
// reading stops at the first damaged frame). A dependent saves its record after its dependencies
// saved theirs, so no crash can leave a dependent's record without its dependencies' records.
#ifndef LIGHTFLOW_DETAIL_COMMITTER_HPP
#define LIGHTFLOW_DETAIL_COMMITTER_HPP

#include <chrono>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "lightflow/detail/checkpoint_session.hpp"
#include "lightflow/detail/run_state.hpp"

namespace lightflow::detail {

class committer {
 public:
  /// Called on the committer's thread for a run whose records are all durable (or could not be
  /// made so: `failure` is then the first flush's exception).
  using finish_fn = void (*)(void* context, run_state_base& run, std::exception_ptr failure);
  /// How long a saved record may wait for its flush while no run ends.
  static constexpr std::chrono::milliseconds max_delay{5};

  committer(finish_fn finish, void* context) noexcept : finish_(finish), context_(context) {}
  committer(const committer&) = delete;
  committer& operator=(const committer&) = delete;
  ~committer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  /// A record of `session` waits for a flush. Only the first save after a flush takes the lock. The
  /// first save of a run whose store asked for it (file_store::prepare) has its flush made at once,
  /// while the run goes on.
  void saved(checkpoint_session& session) {
    if (!session.dirty.exchange(true, std::memory_order_acq_rel))
      submit({&session, nullptr}, session.flush_at_start.exchange(false, std::memory_order_relaxed));
  }

  /// Every step of `run` is done: ends it after a flush that covers its records (made at once).
  void finish_after_flush(run_state_base& run) { submit({run.checkpoint(), &run}, true); }

 private:
  struct entry {
    checkpoint_session* session;
    run_state_base* run;  // null: only a flush is wanted
  };

  void submit(entry e, bool urgent) {
    bool wake = urgent;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        oldest_ = std::chrono::steady_clock::now();
        wake = true;
      }
      queue_.push_back(e);
      urgent_ = urgent_ || urgent;
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
    if (wake) ready_.notify_one();
  }

  void loop() {
    std::vector<entry> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      // Records saved while no run ends wait a little, so that more share the flush.
      if (!urgent_) ready_.wait_until(lock, oldest_ + max_delay, [&] { return stopping_ || urgent_; });
      urgent_ = false;
      batch.swap(queue_);
      lock.unlock();
      // Saves after this point mark their session dirty again and are covered by the next round.
      for (const entry& e : batch) e.session->dirty.store(false, std::memory_order_seq_cst);
      std::map<const void*, std::exception_ptr> flushed;  // one flush per store
      for (const entry& e : batch) {
        auto [it, first] = flushed.try_emplace(e.session->store_identity());
        if (!first) continue;
        try {
          e.session->flush();
        } catch (...) {
          it->second = std::current_exception();
        }
      }
      for (const entry& e : batch) {
        std::exception_ptr failure = flushed[e.session->store_identity()];
        if (failure != nullptr && e.session->flush_error == nullptr) {
          try {
            failure = e.session->own_failure(failure);  // a store that tells whose records failed
          } catch (...) {
          }
          e.session->flush_error = failure;
        }
        if (e.run != nullptr) {
          e.session->release();  // the run's last flush is done
          finish_(context_, *e.run, e.session->flush_error);  // may free the session
        }
      }
      batch.clear();
      lock.lock();
    }
  }

  finish_fn finish_;
  void* context_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<entry> queue_;
  std::chrono::steady_clock::time_point oldest_{};  // when the first entry of queue_ came
  bool urgent_ = false;                              // a run waits for its flush
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lightflow::detail

#endif
