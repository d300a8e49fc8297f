// Resources: objects attached to one run, which its steps reach with `ctx.resource<T>()`. The RAII
// form of the Go original's resource hooks:
//
//   initialise  `make()`, called when the run is started, on the calling thread, before any step
//               (and before the before-flow callbacks); if it throws, run/submit throws and nothing runs;
//   recover     `T::recover()`, if T has it, right after `make()` when the run resumes a checkpointed
//               run (its checkpoint held records of an earlier run with the same id);
//   suspend     `T::suspend()`, if T has it, at the end of a run that is not ok (a step failed, the
//               run was cancelled, stopped or timed out, a must callback failed), before release; if
//               it throws, the exception is listed in the result's callback_failures();
//   release     T's destructor, when the run ends: after the after-flow callbacks, before the result is
//               handed back (in reverse order of attachment, on the thread that finishes the run).
//
//   pool.run(flow, input, lf::resource([] { return connection("db://orders"); }));
//   ... in a step: ctx.resource<connection>().query(...)
//
// Steps of one run share the object, at the same time from several threads: make it thread-safe, or
// give each step its own part. One resource per type and run (the first of a type is found).
#ifndef LIGHTFLOW_RESOURCE_HPP
#define LIGHTFLOW_RESOURCE_HPP

#include <concepts>
#include <memory>
#include <type_traits>
#include <utility>

namespace lightflow {

/// The run option that attaches `make()`'s object to a run.
template <class Make>
  requires std::invocable<const Make&> && std::is_object_v<std::remove_cvref_t<std::invoke_result_t<const Make&>>>
class resource {
 public:
  using type = std::remove_cvref_t<std::invoke_result_t<const Make&>>;  ///< The object's type.
  /// `make` is called once per run, as the run starts.
  explicit resource(Make make) : make_(std::move(make)) {}
  /// Makes the object (the run owns it from then on).
  std::unique_ptr<type> make() const { return std::unique_ptr<type>(new type(make_())); }

 private:
  Make make_;
};

namespace detail {
template <class T>
inline constexpr bool is_resource = false;
template <class Make>
inline constexpr bool is_resource<resource<Make>> = true;
}  // namespace detail

}  // namespace lightflow

#endif
