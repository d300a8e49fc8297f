// Deadlines: a thread, started on first use, that calls a function when its time comes. Step and
// run timeouts use it. Cancelling a deadline waits until a call already under way has returned, so
// that what the call touches may be destroyed right after.
#ifndef LIGHTFLOW_DETAIL_TIMER_HPP
#define LIGHTFLOW_DETAIL_TIMER_HPP

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace lightflow::detail {

class timer_service {
 public:
  using clock = std::chrono::steady_clock;
  using callback = void (*)(void*) noexcept;

  timer_service() = default;
  timer_service(const timer_service&) = delete;
  timer_service& operator=(const timer_service&) = delete;
  ~timer_service() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  /// Calls `fn(arg)` at `when` (on the timer's thread) unless cancelled first. Returns its id.
  std::uint64_t add(clock::time_point when, callback fn, void* arg) {
    std::unique_lock lock(mutex_);
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    const std::uint64_t id = ++last_id_;
    entries_.emplace(std::pair{when, id}, std::pair{fn, arg});
    lock.unlock();
    wake_.notify_all();
    return id;
  }

  /// Removes deadline `id` made at `when`; if its call is running, waits for it to return. True when
  /// it had not fired.
  bool cancel(clock::time_point when, std::uint64_t id) noexcept {
    std::unique_lock lock(mutex_);
    if (entries_.erase({when, id}) != 0) return true;
    done_.wait(lock, [&] { return firing_ != id; });
    return false;
  }

 private:
  void loop() noexcept {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (entries_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const auto first = entries_.begin();
      if (const clock::time_point when = first->first.first; clock::now() < when) {
        wake_.wait_until(lock, when);  // a copy: the entry may be cancelled while this waits
        continue;
      }
      const auto [fn, arg] = first->second;
      firing_ = first->first.second;
      entries_.erase(first);
      lock.unlock();
      fn(arg);
      lock.lock();
      firing_ = 0;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::map<std::pair<clock::time_point, std::uint64_t>, std::pair<callback, void*>> entries_;
  std::uint64_t last_id_ = 0;
  std::uint64_t firing_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lightflow::detail

#endif
