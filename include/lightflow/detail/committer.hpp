// Group commit for durable checkpoints: steps whose records wait for a flush are handed here; one
// thread flushes each store once for everything handed in since its last round, then releases those
// steps. Steps that finish while a flush is under way share the next one.
#ifndef LIGHTFLOW_DETAIL_COMMITTER_HPP
#define LIGHTFLOW_DETAIL_COMMITTER_HPP

#include <condition_variable>
#include <cstdint>
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
  /// Called for each flushed step, on the committer's thread; `failure` is the flush's exception.
  using complete_fn = void (*)(void* context, run_state_base& run, std::uint32_t step, std::exception_ptr failure);

  committer(complete_fn complete, void* context) noexcept : complete_(complete), context_(context) {}
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

  void submit(run_state_base& run, std::uint32_t step) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back({&run, step});
      if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    }
    ready_.notify_one();
  }

 private:
  struct entry {
    run_state_base* run;
    std::uint32_t step;
  };

  void loop() {
    std::vector<entry> batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      batch.swap(queue_);
      lock.unlock();
      std::map<const void*, std::exception_ptr> flushed;  // one flush per store
      for (const entry& e : batch) {
        checkpoint_session* session = e.run->checkpoint();
        if (flushed.count(session->store_identity()) != 0) continue;
        std::exception_ptr failure;
        try {
          session->flush();
        } catch (...) {
          failure = std::current_exception();
        }
        flushed.emplace(session->store_identity(), failure);
      }
      for (const entry& e : batch) complete_(context_, *e.run, e.step, flushed[e.run->checkpoint()->store_identity()]);
      batch.clear();
      lock.lock();
    }
  }

  complete_fn complete_;
  void* context_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<entry> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lightflow::detail

#endif
