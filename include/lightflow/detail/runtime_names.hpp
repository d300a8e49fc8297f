// The names of the runtime-flow types, declared before they are defined. Each is a template over an
// unused parameter, named by an alias (`lightflow::runtime_flow` is `basic_runtime_flow<>`): their
// code is compiled only in a program that uses them, so that a program that includes the umbrella
// header and runs only static flows does not pay for it.
#ifndef LIGHTFLOW_DETAIL_RUNTIME_NAMES_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_NAMES_HPP

namespace lightflow {

template <class = void>
class basic_runtime_flow;
template <class = void>
class basic_step_handle;
template <class = void>
class basic_context;
template <class = void>
class basic_runtime_result;
template <class = void>
class basic_values;

/// A flow whose steps are added at run time (runtime_flow.hpp).
using runtime_flow = basic_runtime_flow<>;
/// A step of a runtime flow (runtime_flow.hpp).
using step_handle = basic_step_handle<>;
/// What a runtime flow's step receives (context.hpp).
using context = basic_context<>;
/// The result of a run of a runtime flow (runtime_result.hpp).
using runtime_result = basic_runtime_result<>;
/// The key/value input of a runtime flow's run (key.hpp).
using values = basic_values<>;

namespace detail {
template <class = void>
struct basic_runtime_graph;
template <class = void>
class basic_runtime_run;
template <class = void>
class basic_type_registry;
using runtime_graph = basic_runtime_graph<>;
using runtime_run = basic_runtime_run<>;
using type_registry = basic_type_registry<>;

/// T, named so that it depends on Tag. A class template's code that uses a member or a local of a
/// type that does not depend on its parameters is compiled where the template is defined (the
/// compiler checks such expressions at once, instantiating what they call); spelled through this,
/// std::vector<int> and the like wait for the template's use.
template <class T, class Tag>
struct deferred {
  using type = T;
};
template <class T, class Tag>
using deferred_t = typename deferred<T, Tag>::type;
}  // namespace detail

}  // namespace lightflow

#endif
