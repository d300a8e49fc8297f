// Work handed to the pool by threads that are not its workers (a submit from outside).
#ifndef LIGHTFLOW_DETAIL_INJECTION_QUEUE_HPP
#define LIGHTFLOW_DETAIL_INJECTION_QUEUE_HPP

#include <atomic>
#include <cstddef>
#include <mutex>
#include <vector>

namespace lightflow::detail {

template <class T>
class injection_queue {
 public:
  void push(T x) {
    std::lock_guard lock(mutex_);
    if (count_ == items_.size()) {  // grow the ring, keeping order
      std::vector<T> bigger(items_.empty() ? 64 : items_.size() * 2);
      for (std::size_t i = 0; i != count_; ++i) bigger[i] = items_[(head_ + i) % items_.size()];
      items_.swap(bigger);
      head_ = 0;
    }
    items_[(head_ + count_) % items_.size()] = x;
    ++count_;
    size_.store(count_, std::memory_order_seq_cst);
  }
  T try_pop() {
    if (size_.load(std::memory_order_seq_cst) == 0) return T{};
    std::lock_guard lock(mutex_);
    if (count_ == 0) return T{};
    T x = items_[head_];
    head_ = (head_ + 1) % items_.size();
    --count_;
    size_.store(count_, std::memory_order_seq_cst);
    return x;
  }
  bool empty() const noexcept { return size_.load(std::memory_order_seq_cst) == 0; }

 private:
  std::mutex mutex_;
  std::vector<T> items_;
  std::size_t head_ = 0, count_ = 0;
  std::atomic<std::size_t> size_{0};
};

}  // namespace lightflow::detail

#endif
