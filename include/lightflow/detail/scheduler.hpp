// The thread pool: workers with work-stealing deques, guest slots for threads that wait on a run
// and work meanwhile, an injection queue for work from outside, and sleeping without lost wake-ups.
#ifndef LIGHTFLOW_DETAIL_SCHEDULER_HPP
#define LIGHTFLOW_DETAIL_SCHEDULER_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "lightflow/config.hpp"
#include "lightflow/detail/committer.hpp"
#include "lightflow/detail/injection_queue.hpp"
#include "lightflow/detail/notifier.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/work_stealing_deque.hpp"

namespace lightflow::detail {

class scheduler;

/// A deque and who owns it: a worker thread, or a thread that waits for a run and works meanwhile.
struct alignas(LIGHTFLOW_CACHE_LINE) worker_slot {
  work_stealing_deque<task_node*> deque;
  scheduler* owner = nullptr;
  std::uint64_t rng = 0;
  std::atomic<bool> in_use{false};  // for guest slots
};

/// The slot of the calling thread, if it has one.
inline thread_local worker_slot* current_slot = nullptr;

class scheduler {
 public:
  explicit scheduler(std::size_t workers) : worker_count_(workers == 0 ? 1 : workers) {
    tick_converter::start();
    guest_count_ = worker_count_ < 4 ? 4 : worker_count_;
    slot_count_ = worker_count_ + guest_count_;
    slots_ = std::make_unique<worker_slot[]>(slot_count_);
    for (std::size_t i = 0; i != slot_count_; ++i) {
      slots_[i].owner = this;
      slots_[i].rng = 0x9e3779b97f4a7c15ull * (i + 1);
    }
    threads_.reserve(worker_count_);
    for (std::size_t i = 0; i != worker_count_; ++i) threads_.emplace_back([this, i] { worker_main(slots_[i]); });
  }

  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;

  /// Cancels the runs still in flight (steps not started are marked cancelled, running ones see their
  /// stop token set), waits for them to finish, then stops the workers.
  ~scheduler() {
    registry_.close();
    for (std::uint32_t n = in_flight_.load(std::memory_order_seq_cst); n != 0;
         n = in_flight_.load(std::memory_order_seq_cst))
      in_flight_.wait(n, std::memory_order_seq_cst);
    stopping_.store(true, std::memory_order_seq_cst);
    notifier_.notify_all();
    for (auto& t : threads_) t.join();
  }

  std::size_t worker_count() const noexcept { return worker_count_; }
  run_registry& registry() noexcept { return registry_; }
  std::uint64_t next_run_id() noexcept { return next_id_.fetch_add(1, std::memory_order_relaxed) + 1; }

  /// Runs `run` to its end, the calling thread working on it (and on whatever else is ready) meanwhile.
  void run_here(run_state_base& run) noexcept {
    begin(run);
    with_slot([&](worker_slot* me) {
      if (me == nullptr) {  // every guest slot is taken: hand the run to the workers and wait
        inject(run.start_node());
        run.wait();
      } else {
        execute(run.start_node(), *me);
        help_until(run, *me);
      }
    });
  }

  /// Starts `run` and returns at once.
  void launch(run_state_base& run) {
    begin(run);
    worker_slot* me = current_slot;
    if (me != nullptr && me->owner == this) {
      me->deque.push(run.start_node());
      notifier_.notify(1);
    } else {
      inject(run.start_node());
    }
  }

  /// From a step's body: how many threads could share its work (the executor's workers, and this
  /// thread when it is not one of them: a thread that waits for its run and works meanwhile), and a
  /// way to offer them some: `task` queued up to `copies` times on this thread's deque, for them to
  /// steal. Returns how many were queued (fewer when the deque could not grow).
  static std::size_t width() noexcept {
    const worker_slot* me = current_slot;
    if (me == nullptr) return 1;
    const scheduler& s = *me->owner;
    return s.worker_count_ + (static_cast<std::size_t>(me - s.slots_.get()) >= s.worker_count_ ? 1 : 0);
  }
  static std::size_t share(detached_task* task, std::size_t copies) noexcept {
    worker_slot* me = current_slot;
    std::size_t queued = 0;
    if (me == nullptr) return 0;
    try {
      for (; queued != copies; ++queued) me->deque.push(detached_node(task));
    } catch (...) {  // no memory to grow the deque: fewer helpers
    }
    if (queued != 0) me->owner->notifier_.notify(queued);
    return queued;
  }

  /// Waits for `run` to end, working meanwhile when the calling thread can.
  void wait_for(run_state_base& run) noexcept {
    if (run.done()) return;
    with_slot([&](worker_slot* me) {
      if (me == nullptr)
        run.wait();
      else
        help_until(run, *me);
    });
  }

 private:
  static constexpr int spin_rounds = 64;

  template <class F>
  void with_slot(F&& body) noexcept {
    worker_slot* const saved = current_slot;
    if (saved != nullptr && saved->owner == this) return body(saved);
    worker_slot* guest = nullptr;
    for (std::size_t i = worker_count_; i != slot_count_ && guest == nullptr; ++i) {
      bool expected = false;
      if (!slots_[i].in_use.load(std::memory_order_relaxed) &&
          slots_[i].in_use.compare_exchange_strong(expected, true, std::memory_order_acquire))
        guest = &slots_[i];
    }
    current_slot = guest;
    body(guest);
    current_slot = saved;
    if (guest != nullptr) guest->in_use.store(false, std::memory_order_release);
  }

  void inject(task_node* t) {
    injected_.push(t);
    notifier_.notify(1);
  }
  // A paused run's step goes back to the executor (no memory for it: nothing sensible is left to do).
  static void requeue(void* self, task_node* t) noexcept { static_cast<scheduler*>(self)->inject(t); }

  void finish(run_state_base& run) noexcept {
    finish_run(run);
    // Only a closing executor waits for this count (close() stores seq_cst before it reads the count).
    if (in_flight_.fetch_sub(1, std::memory_order_seq_cst) == 1 && registry_.closing(std::memory_order_seq_cst))
      in_flight_.notify_all();
  }
  /// Every step of `run` is done; a run whose records wait for a flush ends on the committer's thread.
  void end(run_state_base& run) noexcept {
    checkpoint_session* session = run.checkpoint();
    if (session == nullptr) return finish(run);
    try {
      session->ended(run.steps_ok());
    } catch (...) {  // the store failed: as a failed flush would
      run.fail_durability(std::current_exception());
    }
    if (!session->deferred_durability()) return finish(run);
    try {
      committer_.finish_after_flush(run);
    } catch (...) {  // could not queue it (no memory, no thread): flush here
      try {
        session->flush();
      } catch (...) {
        run.fail_durability(std::current_exception());
      }
      finish(run);
    }
  }

  /// Runs `t` and every step that becomes ready in its wake and is not handed to the deque.
  void execute(task_node* t, worker_slot& me) noexcept {
    current_worker = static_cast<unsigned>(&me - slots_.get());
    ticks now = now_ticks();
    std::size_t pushed = 0;
    auto push = [&](task_node* ready) {
      me.deque.push(ready);
      ++pushed;
    };
    auto done = [this](run_state_base& run) { end(run); };
    auto saved = [this](checkpoint_session& session) { committer_.saved(session); };
    while (t != nullptr) {
      if (!is_tagged(t)) {
        run_state_base& run = *t->run;
        const std::uint32_t step = run.step_of(t);
        t = step == run.graph().size ? run.start(push, done) : run.process(step, now, push, done, saved);
      } else if (is_batch(t)) {
        task_node* const node = plain_node(t);
        t = node->run->release_batch(node->run->step_of(node), push, done);
      } else {
        detached_task* const task = detached_of(t);
        task->run(task);
        t = nullptr;
      }
      if (pushed != 0) {
        notifier_.notify(pushed);
        pushed = 0;
      }
    }
  }

  // A run joins the executor: counted in flight; its parked steps and its records saved off the step
  // path (map elements) come back here.
  void begin(run_state_base& run) noexcept {
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    run.set_requeue(&scheduler::requeue, this);
    if (checkpoint_session* session = run.checkpoint())
      session->set_flusher([](void* c, checkpoint_session& s) { static_cast<committer*>(c)->saved(s); }, &committer_);
  }

  // The committer's callback: a run whose records are durable (or failed to be) ends.
  static void flushed(void* self, run_state_base& run, std::exception_ptr failure) {
    if (failure != nullptr) run.fail_durability(std::move(failure));
    static_cast<scheduler*>(self)->finish(run);
  }

  task_node* steal(worker_slot& me) noexcept {
    me.rng ^= me.rng << 13, me.rng ^= me.rng >> 7, me.rng ^= me.rng << 17;
    const std::size_t start = static_cast<std::size_t>(me.rng % slot_count_);
    for (std::size_t k = 0; k != slot_count_; ++k) {
      worker_slot& victim = slots_[(start + k) % slot_count_];
      if (&victim == &me) continue;
      if (task_node* t = victim.deque.steal()) return t;
    }
    return injected_.try_pop();
  }

  bool has_work() const noexcept {
    for (std::size_t i = 0; i != slot_count_; ++i)
      if (!slots_[i].deque.empty()) return true;
    return !injected_.empty();
  }

  task_node* find_work(worker_slot& me) noexcept {
    task_node* t = me.deque.pop();
    return t != nullptr ? t : steal(me);
  }

  void help_until(run_state_base& run, worker_slot& me) noexcept {
    int idle = 0;
    while (!run.done()) {
      if (task_node* t = find_work(me)) {
        execute(t, me);
        idle = 0;
      } else if (++idle < spin_rounds) {
        std::this_thread::yield();
      } else {
        run.wait();  // its last steps are running elsewhere
      }
    }
  }

  void worker_main(worker_slot& me) noexcept {
    current_slot = &me;
    for (;;) {
      task_node* t = find_work(me);
      for (int i = 0; t == nullptr && i != spin_rounds; ++i) {
        std::this_thread::yield();
        t = steal(me);
      }
      if (t != nullptr) {
        execute(t, me);
        continue;
      }
      const std::uint32_t epoch = notifier_.prepare_wait();
      if (has_work()) {
        notifier_.cancel_wait();
        continue;
      }
      if (stopping_.load(std::memory_order_seq_cst)) {
        notifier_.cancel_wait();
        return;
      }
      notifier_.commit_wait(epoch);
    }
  }

  std::size_t worker_count_;
  std::size_t guest_count_;
  std::size_t slot_count_;
  std::unique_ptr<worker_slot[]> slots_;
  notifier notifier_;
  injection_queue<task_node*> injected_;
  run_registry registry_;
  committer committer_{&scheduler::flushed, this};  // destroyed before the queues it pushes to
  alignas(LIGHTFLOW_CACHE_LINE) std::atomic<std::uint32_t> in_flight_{0};
  std::atomic<std::uint64_t> next_id_{0};
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
};

}  // namespace lightflow::detail

#endif
