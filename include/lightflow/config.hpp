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

/// Size of a cache line, used to keep hot atomics of different threads apart.
#define LIGHTFLOW_CACHE_LINE 64

#endif
