// What a run with a checkpoint needs from it while steps run, without knowing the store's or the
// serializer's type: save a step's output (and a map step's elements, one record each, read back
// when the run resumes), and make saved records durable.
#ifndef LIGHTFLOW_DETAIL_CHECKPOINT_SESSION_HPP
#define LIGHTFLOW_DETAIL_CHECKPOINT_SESSION_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

namespace lightflow::detail {

class run_state_base;

/// Where a map step's saved elements go when its run resumes (map_elements.hpp).
class element_sink {
 public:
  /// Element `index` was saved by an earlier attempt of the run: `value` is its result (null when
  /// the step's callable returns nothing), which the sink may move from.
  virtual void restored(std::size_t index, void* value) = 0;

 protected:
  ~element_sink() = default;
};

class checkpoint_session {
 public:
  explicit checkpoint_session(bool deferred_durability) noexcept : deferred_durability_(deferred_durability) {}
  checkpoint_session(const checkpoint_session&) = delete;
  checkpoint_session& operator=(const checkpoint_session&) = delete;
  virtual ~checkpoint_session() = default;
  /// Saves the output of `step` (on the thread that ran it).
  virtual void save(run_state_base& run, std::uint32_t step) = 0;
  /// Saves element `index` of the `count` elements of map step `step` (its result at `value`; null
  /// when the callable returns nothing), on the thread that ran it; then asks for a flush (see
  /// saved_elsewhere). Throws checkpoint_error or store_error.
  virtual void save_element(run_state_base& run, std::uint32_t step, std::size_t index, std::size_t count,
                            const void* value) = 0;
  /// Hands the elements of map step `step` (of `count`) that an earlier attempt of the run saved to
  /// `sink`; returns how many. Throws checkpoint_error for a record that cannot be used.
  virtual std::size_t load_elements(run_state_base& run, std::uint32_t step, std::size_t count, element_sink& sink) = 0;
  /// Makes every record saved so far durable; throws store_error.
  virtual void flush() = 0;
  /// Sessions with the same store share one flush (group commit).
  virtual const void* store_identity() const noexcept = 0;
  /// After the store's flush threw `failure`: whether this run's records are among those it could
  /// not make durable (the failure to report), or null when they were written.
  virtual std::exception_ptr own_failure(std::exception_ptr failure) const { return failure; }
  /// Every step of the run is done (`ok`: the run succeeded): saves the run's outcome, before its
  /// last flush; throws store_error.
  virtual void ended(bool /*ok*/) {}
  /// The run has ended and its last flush is done: the store may let go of what it keeps for it.
  virtual void release() noexcept {}

  /// The run's id in its store (what `lf::checkpoint` was given).
  virtual std::string_view run_name() const noexcept { return {}; }

  /// True when a saved record is durable only after flush(): the run then ends through the committer.
  bool deferred_durability() const noexcept { return deferred_durability_; }

  /// Set by the executor as the run starts: how a record saved off the step path (a map step's
  /// element) asks its committer for a flush, as the step path does after a step's record.
  void set_flusher(void (*flush)(void* committer, checkpoint_session&), void* committer) noexcept {
    flusher_ = flush;
    committer_ = committer;
  }
  void saved_elsewhere() {
    if (deferred_durability_ && flusher_ != nullptr) flusher_(committer_, *this);
  }

  // Kept by the committer: whether records saved since its last flush of this session wait for the
  // next one, and the first flush failure, which fails the run.
  std::atomic<bool> dirty{false};
  std::exception_ptr flush_error;
  /// Set when the run opens: its store asked for a flush as soon as the run saves (file_store::prepare).
  std::atomic<bool> flush_at_start{false};
  /// Set when the run opens: why the records it found were erased (discard_stale), or empty.
  std::string discarded;

 private:
  bool deferred_durability_;
  void (*flusher_)(void*, checkpoint_session&) = nullptr;
  void* committer_ = nullptr;
};

}  // namespace lightflow::detail

#endif
