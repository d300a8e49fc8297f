// The state of one run of a static flow with a given input type: how each step is invoked (its
// signature is in step_signature.hpp) and where each output lives.
#ifndef LIGHTFLOW_DETAIL_STATIC_RUN_HPP
#define LIGHTFLOW_DETAIL_STATIC_RUN_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "lightflow/detail/pack.hpp"
#include "lightflow/detail/run_state.hpp"
#include "lightflow/detail/step_signature.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/step_context.hpp"

namespace lightflow::detail {

/// Calls one step. Templated on what that step needs and nothing of the flow it belongs to, so its
/// symbol stays short and steps alike share it; it finds its callable, input and arguments through the
/// run's untyped per-step pointers and the graph's dependency lists.
template <class F, class Input, class Output, call_form Form, bool Root, class Positions, class... Args>
struct invoker;

template <class F, class Input, class Output, call_form Form, bool Root, std::uint32_t... P, class... Args>
struct invoker<F, Input, Output, Form, Root, positions<P...>, Args...> {
  static void invoke(run_state_base& run, std::uint32_t step, step_context& ctx) {
    if constexpr (std::is_void_v<Output>)
      call(run, step, ctx);
    else
      ::new (run.output(step)) Output(call(run, step, ctx));  // a prvalue: constructed in place
  }

 private:
  static decltype(auto) call(run_state_base& run, std::uint32_t step, step_context& ctx) {
    const F& fn = *static_cast<const F*>(run.callable(step));
    if constexpr (Form == call_form::nothing) {
      return fn();
    } else if constexpr (Form == call_form::context) {
      return fn(ctx);
    } else if constexpr (Root && std::is_same_v<Input, no_input>) {
      if constexpr (Form == call_form::inputs_and_context)
        return fn(ctx);
      else
        return fn();
    } else if constexpr (Root) {
      const Input& input = *static_cast<const Input*>(run.input());
      if constexpr (Form == call_form::inputs_and_context)
        return fn(input, ctx);
      else
        return fn(input);
    } else {
      [[maybe_unused]] const std::uint32_t* deps = run.graph().deps + run.graph().dep_offsets[step];
      if constexpr (Form == call_form::inputs_and_context)
        return fn(*static_cast<const Args*>(run.output(deps[P]))..., ctx);
      else
        return fn(*static_cast<const Args*>(run.output(deps[P]))...);
    }
  }
};

template <class F, class Input, class Output, call_form Form, bool Root, class Positions, class Args>
struct invoker_with;
template <class F, class Input, class Output, call_form Form, bool Root, class Positions, class... Args>
struct invoker_with<F, Input, Output, Form, Root, Positions, type_list<Args...>> {
  using type = invoker<F, Input, Output, Form, Root, Positions, Args...>;
};

template <class Flow, class Input, std::uint32_t I>
struct invoker_of {
  using sig = step_signature<Flow, Input, I>;
  using type = typename invoker_with<typename sig::callable, Input, typename sig::output, sig::form::value,
                                     sig::is_root::value, typename sig::kept_at, typename sig::kept_outputs>::type;
};

template <class T>
void destroy_as(void* p) noexcept {
  static_cast<T*>(p)->~T();
}

/// What destroys an output of type T in place; null when nothing needs to.
template <class T>
inline constexpr void (*destroyer_of)(void*) noexcept = nullptr;
template <class T>
  requires(!std::is_void_v<T> && !std::is_trivially_destructible_v<T>)
inline constexpr void (*destroyer_of<T>)(void*) noexcept = &destroy_as<T>;

/// The identity of an output of type T (void: none).
template <class T>
inline constexpr const std::type_info* type_or_null = &typeid(T);
template <>
inline constexpr const std::type_info* type_or_null<void> = nullptr;

/// The bytes and alignment an output of type T takes (void: none).
template <class T>
inline constexpr std::size_t size_or_zero = sizeof(T);
template <>
inline constexpr std::size_t size_or_zero<void> = 0;
template <class T>
inline constexpr std::size_t align_or_one = alignof(T);
template <>
inline constexpr std::size_t align_or_one<void> = 1;

/// Where each of the outputs `T...` lives in one buffer: offsets computed at compile time, so that a
/// run finds its outputs' addresses with a loop rather than a statement per step. `none` for void.
template <class... T>
struct output_layout {
  static constexpr std::size_t none = ~std::size_t{0};
  struct table {
    std::size_t offsets[sizeof...(T) + 1];
    std::size_t size;
    std::size_t align;
  };
  static constexpr table layout = [] {
    constexpr std::size_t sizes[] = {size_or_zero<T>..., 0};
    constexpr std::size_t aligns[] = {align_or_one<T>..., 1};
    table t{};
    t.align = 1;
    std::size_t end = 0;
    for (std::size_t k = 0; k != sizeof...(T); ++k) {
      if (sizes[k] == 0) {
        t.offsets[k] = none;
        continue;
      }
      end = (end + aligns[k] - 1) / aligns[k] * aligns[k];
      t.offsets[k] = end;
      end += sizes[k];
      if (aligns[k] > t.align) t.align = aligns[k];
    }
    t.offsets[sizeof...(T)] = none;
    t.size = end == 0 ? 1 : end;
    return t;
  }();
};

/// One run of a static flow. Everything it needs is in this one allocation.
template <class Flow, class Input>
class static_run final : public run_state_base {
  static constexpr std::uint32_t n = Flow::size;

  template <std::size_t... I>
  static auto layout_type(std::index_sequence<I...>)
      -> output_layout<typename step_signature<Flow, Input, I>::output...>;
  using outputs = decltype(layout_type(std::make_index_sequence<n>{}));

 public:
  using flow_type = Flow;
  using input_type = Input;
  template <std::uint32_t I>
  using output_t = typename step_signature<Flow, Input, I>::output;

  static_run(const Flow& flow, Input&& input, run_registry& registry, std::uint64_t id)
      : run_state_base(Flow::view, invokers.data(), &destroy, records_, nodes_, registry, id),
        input_(std::move(input)) {
    flow.callable_addresses(callable_table_);
    for (std::uint32_t i = 0; i != n; ++i) {
      const std::size_t offset = outputs::layout.offsets[i];
      output_table_[i] = offset == outputs::none ? nullptr : outputs_ + offset;
    }
    prepare(&input_, std::is_same_v<Input, no_input> ? nullptr : &typeid(Input), callable_table_, output_table_,
            destroyers.data());
    set_output_hooks([](const run_state_base& base, std::uint32_t step) noexcept {
      return value_view{base.output(step), output_types[step]};
    });
    const bool any = flow.policy_addresses(policy_table_);
    set_policies(any ? policy_table_ : nullptr, flow.defaults());
  }

  template <std::uint32_t I>
  const output_t<I>& output() const noexcept {
    return *static_cast<const output_t<I>*>(run_state_base::output(I));
  }
  using run_state_base::output;
  const Input& input() const noexcept { return input_; }

  /// Takes ownership of the run's checkpoint session.
  void attach(std::unique_ptr<checkpoint_session> session) noexcept {
    session_ = std::move(session);
    run_state_base::attach(session_.get());
  }

 private:
  ~static_run() {
    for (std::uint32_t i = 0; i != n; ++i)
      if (destroyers[i] != nullptr && records_[i].status == step_status::succeeded) destroyers[i](output_table_[i]);
  }
  static void destroy(run_state_base* base) noexcept { delete static_cast<static_run*>(base); }

  static constexpr std::array<invoke_fn, n + 1> invokers = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<invoke_fn, n + 1>{&invoker_of<Flow, Input, I>::type::invoke..., nullptr};
  }
  (std::make_index_sequence<n>{});
  static constexpr std::array<const std::type_info*, n + 1> output_types =
      []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<const std::type_info*, n + 1>{type_or_null<output_t<I>>..., nullptr};
  }
  (std::make_index_sequence<n>{});
  static constexpr std::array<void (*)(void*) noexcept, n + 1> destroyers =
      []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<void (*)(void*) noexcept, n + 1>{destroyer_of<output_t<I>>..., nullptr};
  }
  (std::make_index_sequence<n>{});

  [[no_unique_address]] Input input_;
  step_record records_[n + 1];
  task_node nodes_[n + 1];
  const void* callable_table_[n + 1];  // each step's callable, in the flow
  void* output_table_[n + 1];          // each step's output, in outputs_ (null for void)
  const policy* policy_table_[n + 1];  // each step's policy, or null
  alignas(outputs::layout.align) unsigned char outputs_[outputs::layout.size];  // every step's output
  std::unique_ptr<checkpoint_session> session_;
};

}  // namespace lightflow::detail

#endif
