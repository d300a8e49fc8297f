// lightflow: the one file that owns the version number and every macro.
#ifndef LIGHTFLOW_CONFIG_HPP
#define LIGHTFLOW_CONFIG_HPP

#define LIGHTFLOW_VERSION_MAJOR 0
#define LIGHTFLOW_VERSION_MINOR 1
#define LIGHTFLOW_VERSION_PATCH 0
#define LIGHTFLOW_VERSION (LIGHTFLOW_VERSION_MAJOR * 10000 + LIGHTFLOW_VERSION_MINOR * 100 + LIGHTFLOW_VERSION_PATCH)

#if defined(__clang__)
#define LIGHTFLOW_CLANG 1
#else
#define LIGHTFLOW_CLANG 0
#endif

#if __cplusplus < 202002L && !defined(_MSVC_LANG)
#error "lightflow needs C++20 (-std=c++20)"
#endif

/// Keeps a small function out of its callers: for code that every step of a static flow would
/// otherwise repeat inline (it costs compile time, not run time).
#if defined(__GNUC__) || defined(__clang__)
#define LIGHTFLOW_NOINLINE __attribute__((noinline))
#else
#define LIGHTFLOW_NOINLINE
#endif

/// Exact types between steps: define LIGHTFLOW_EXACT_TYPES to 1 (before including lightflow, or with
/// -DLIGHTFLOW_EXACT_TYPES=1) and a static step's parameter must have the type its dependency's output
/// (or the run's input) has, up to const and reference: a `double` output no longer feeds an `int`
/// parameter. A callable whose parameters cannot be read (`auto` parameters) takes what it is given.
/// Off by default: a parameter takes what the output converts to, as in a function call.
#ifndef LIGHTFLOW_EXACT_TYPES
#define LIGHTFLOW_EXACT_TYPES 0
#endif

/// Size of a cache line, used to keep hot atomics of different threads apart.
#define LIGHTFLOW_CACHE_LINE 64

#endif
