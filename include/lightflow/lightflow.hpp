// lightflow: typed, compile-time checked step graphs run on a work-stealing thread pool.
// This umbrella header includes the whole library.
#ifndef LIGHTFLOW_LIGHTFLOW_HPP
#define LIGHTFLOW_LIGHTFLOW_HPP

#include "lightflow/callback.hpp"
#include "lightflow/checkpoint.hpp"
#include "lightflow/checkpoint_store.hpp"
#include "lightflow/cipher.hpp"
#include "lightflow/condition.hpp"
#include "lightflow/config.hpp"
#include "lightflow/context.hpp"
#include "lightflow/diagram.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/executor.hpp"
#include "lightflow/fixed_string.hpp"
#include "lightflow/key.hpp"
#include "lightflow/limit.hpp"
#include "lightflow/file_store.hpp"
#include "lightflow/flow.hpp"
#include "lightflow/memory_store.hpp"
#include "lightflow/observer.hpp"
#include "lightflow/logger.hpp"
#include "lightflow/map_step.hpp"
#include "lightflow/outcome.hpp"
#include "lightflow/merge.hpp"
#include "lightflow/policy.hpp"
#include "lightflow/progress.hpp"
#include "lightflow/resource.hpp"
#include "lightflow/run_handle.hpp"
#include "lightflow/run_options.hpp"
#include "lightflow/run_result.hpp"
#include "lightflow/runtime_flow.hpp"
#include "lightflow/runtime_result.hpp"
#include "lightflow/serializer.hpp"
#include "lightflow/step.hpp"
#include "lightflow/step_context.hpp"
#include "lightflow/step_group.hpp"
#include "lightflow/step_status.hpp"
#include "lightflow/subflow.hpp"
#include "lightflow/stored_runs.hpp"
#include "lightflow/trace.hpp"
#include "lightflow/type_tag.hpp"

/// lightflow: typed, compile-time checked step graphs (`namespace lf = lightflow;` is the usual alias).
namespace lightflow {}

#endif
