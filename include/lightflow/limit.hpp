// Concurrency limits: at most N steps at once among those that name a limit, across every run and
// flow they belong to, for steps that call a rate-limited service or need scarce memory:
//
//   lf::limit payments_api{4};
//   lf::step<"charge", "order">(charge).limit(payments_api)   // with others that name payments_api
//   lf::step<"render", "page">(render).concurrency(2)         // a limit of its own (= .limit(lf::limit{2}))
//
// A step that finds no free slot waits without a thread: its worker goes on with other ready steps,
// and the step that frees a slot hands it to the first waiter (first come, first served). A slot is
// held from the step's condition to its last attempt and its checkpoint record (retry waits
// included). A waiting step of a run that is cancelled, stopped or timed out ends at once, marked
// so; a step handed a slot while its run (or its process) is paused keeps it until it runs. On a
// map step (map_step.hpp), a limit bounds its elements: each thread that helps with them needs a
// slot of its own.
#ifndef LIGHTFLOW_LIMIT_HPP
#define LIGHTFLOW_LIMIT_HPP

#include <cstddef>
#include <memory>
#include <string>

#include "lightflow/detail/limit_state.hpp"
#include "lightflow/errors.hpp"

namespace lightflow {

/// A concurrency limit shared by the steps given it (`.limit(l)`); copies share it too.
class limit {
 public:
  /// At most `at_once` (at least 1) of its steps run at once; 0 is a usage_error.
  explicit limit(std::size_t at_once) : state_(make(at_once)) {}

  /// How many of its steps may run at once.
  std::size_t capacity() const noexcept { return state_->capacity(); }
  /// How many slots are held now (by running steps, and by steps handed one on their way to a worker).
  std::size_t held() const { return state_->held(); }
  /// How many ready steps wait for a slot now.
  std::size_t waiting() const { return state_->waiting(); }

  /// @cond LIGHTFLOW_INTERNAL
  const std::shared_ptr<detail::limit_state>& state() const noexcept { return state_; }
  /// @endcond

 private:
  static std::shared_ptr<detail::limit_state> make(std::size_t at_once) {
    if (at_once == 0) throw usage_error("lightflow: a concurrency limit lets at least 1 step run at once, not 0");
    return std::make_shared<detail::limit_state>(at_once);
  }
  std::shared_ptr<detail::limit_state> state_;
};

}  // namespace lightflow

#endif
