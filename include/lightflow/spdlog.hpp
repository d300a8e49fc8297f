/// @file
/// A lightflow::logger that writes to an spdlog logger. Optional: include it (and link spdlog,
/// Debian's `libspdlog-dev`) only if you use spdlog; the rest of the library needs only the standard
/// library.
/// @code
///   lf::logger log = lf::spdlog_logger(spdlog::default_logger());   // info and above
///   pool.observe(log);
///   // [warning] flow "orders" run 3: step "charge" failed on attempt 1: declined; it will be tried again
/// @endcode
#ifndef LIGHTFLOW_SPDLOG_HPP
#define LIGHTFLOW_SPDLOG_HPP

#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>
#include <utility>

// From include/, or beside the single header (lightflow.hpp copied into the same directory as this
// file): the single header has it, under the same include guard.
#if __has_include("lightflow/logger.hpp")
#include "lightflow/logger.hpp"
#else
#include "lightflow.hpp"
#endif

namespace lightflow {

/// spdlog's level for `level` (debug, info, warn, err).
constexpr spdlog::level::level_enum spdlog_level(log_level level) noexcept {
  switch (level) {
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warning:
      return spdlog::level::warn;
    case log_level::error:
      break;
  }
  return spdlog::level::err;
}

/// A logger (observe runs with it) that writes each line to `target` at its level, for the levels
/// at or above `least` (spdlog's own level filters too).
inline logger spdlog_logger(std::shared_ptr<spdlog::logger> target, log_level least = log_level::info) {
  auto write = [target = std::move(target)](log_level level, std::string_view line) {
    target->log(spdlog_level(level), "{}", line);
  };
  return logger(std::move(write), least);
}

}  // namespace lightflow

#endif
