// The state of one run, shared by every kind of flow: run_state_base.hpp declares it; the headers
// included here define its members, one job each.
#ifndef LIGHTFLOW_DETAIL_RUN_STATE_HPP
#define LIGHTFLOW_DETAIL_RUN_STATE_HPP

#include "lightflow/detail/run_attempts.hpp"
#include "lightflow/detail/run_hooks.hpp"
#include "lightflow/detail/run_lifecycle.hpp"
#include "lightflow/detail/run_limits.hpp"
#include "lightflow/detail/run_release.hpp"
#include "lightflow/detail/run_state_base.hpp"
#include "lightflow/step_context.hpp"

#endif
