// What a run with a checkpoint needs from it while steps run, without knowing the store's or the
// serializer's type: save a step's output, and make saved records durable.
#ifndef LIGHTFLOW_DETAIL_CHECKPOINT_SESSION_HPP
#define LIGHTFLOW_DETAIL_CHECKPOINT_SESSION_HPP

#include <cstdint>

namespace lightflow::detail {

class run_state_base;

class checkpoint_session {
 public:
  virtual ~checkpoint_session() = default;
  /// Saves the output of `step` (on the thread that ran it). True when the record is durable only after flush().
  virtual bool save(run_state_base& run, std::uint32_t step) = 0;
  /// Makes every record saved so far durable; throws store_error.
  virtual void flush() = 0;
  /// Sessions with the same store share one flush (group commit).
  virtual const void* store_identity() const noexcept = 0;
};

}  // namespace lightflow::detail

#endif
