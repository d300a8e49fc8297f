// Checkpoints: each step's output is saved as soon as it succeeds, so that a run that failed or
// crashed resumes without running the steps that had finished.
//
//   pool.run(flow, input, lf::checkpoint{store, "order-42"});   // saves as it goes; resumes if the
//                                                                // run id has records already
//   pool.resume<Input>(flow, lf::checkpoint{store, "order-42"}); // the input comes from the store
//
// Records are keyed "@manifest" (the flow's definition), "@input" and "step/<name>"; their format is
// in detail/record.hpp. The sessions that read and write them: detail/store_session.hpp (what every
// flow's checkpoint does), detail/typed_session.hpp (a static flow's), detail/runtime_session.hpp
// (a runtime flow's, included by runtime_flow.hpp). The option itself: detail/checkpoint_option.hpp.
// A run with a checkpoint needs this header (the umbrella header includes it); executor.hpp does not
// include it, so that a program without checkpoints does not compile their code.
#ifndef LIGHTFLOW_CHECKPOINT_HPP
#define LIGHTFLOW_CHECKPOINT_HPP

#include "lightflow/detail/checkpoint_option.hpp"
#include "lightflow/detail/typed_session.hpp"

#endif
