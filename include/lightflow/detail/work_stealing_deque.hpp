// A Chase-Lev work-stealing deque (Le, Pop, Cohen, Zappa Nardelli, PPoPP 2013). The owner pushes and
// pops at the bottom; other threads steal from the top. The orderings the paper puts in fences are on
// the operations themselves, which costs the same on x86 and is understood by ThreadSanitizer.
#ifndef LIGHTFLOW_DETAIL_WORK_STEALING_DEQUE_HPP
#define LIGHTFLOW_DETAIL_WORK_STEALING_DEQUE_HPP

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "lightflow/config.hpp"

namespace lightflow::detail {

template <class T>
requires std::is_pointer_v<T>
class work_stealing_deque {
  struct ring {
    explicit ring(std::int64_t capacity)
        : mask(capacity - 1), slots(new std::atomic<T>[static_cast<std::size_t>(capacity)]) {}
    std::int64_t capacity() const noexcept { return mask + 1; }
    void put(std::int64_t i, T x) noexcept {
      slots[static_cast<std::size_t>(i & mask)].store(x, std::memory_order_relaxed);
    }
    T get(std::int64_t i) const noexcept {
      return slots[static_cast<std::size_t>(i & mask)].load(std::memory_order_relaxed);
    }
    std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

 public:
  explicit work_stealing_deque(std::int64_t capacity = 1024) {
    auto first = std::make_unique<ring>(capacity);  // capacity must be a power of two
    ring_.store(first.get(), std::memory_order_relaxed);
    rings_.push_back(std::move(first));
  }
  work_stealing_deque(const work_stealing_deque&) = delete;
  work_stealing_deque& operator=(const work_stealing_deque&) = delete;

  /// Owner only.
  void push(T x) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    ring* r = ring_.load(std::memory_order_relaxed);
    if (b - t > r->capacity() - 1) r = grow(r, b, t);
    r->put(b, x);
    bottom_.store(b + 1, std::memory_order_release);
  }

  /// Owner only; nullptr when empty.
  T pop() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    ring* r = ring_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    T x = r->get(b);
    if (t == b) {  // the last element: race the thieves for it
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) x = nullptr;
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return x;
  }

  /// Any thread; nullptr when empty or when another thread won the element.
  T steal() noexcept {
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
    if (t >= b) return nullptr;
    T x = ring_.load(std::memory_order_acquire)->get(t);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) return nullptr;
    return x;
  }

  bool empty() const noexcept {
    return top_.load(std::memory_order_seq_cst) >= bottom_.load(std::memory_order_seq_cst);
  }

 private:
  ring* grow(ring* old, std::int64_t b, std::int64_t t) {
    auto bigger = std::make_unique<ring>(old->capacity() * 2);
    for (std::int64_t i = t; i != b; ++i) bigger->put(i, old->get(i));
    ring* r = bigger.get();
    rings_.push_back(std::move(bigger));  // old rings stay alive: a thief may still read one
    ring_.store(r, std::memory_order_release);
    return r;
  }

  alignas(LIGHTFLOW_CACHE_LINE) std::atomic<std::int64_t> top_{0};
  alignas(LIGHTFLOW_CACHE_LINE) std::atomic<std::int64_t> bottom_{0};
  std::atomic<ring*> ring_{nullptr};
  std::vector<std::unique_ptr<ring>> rings_;  // owner only
};

}  // namespace lightflow::detail

#endif
