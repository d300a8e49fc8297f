// Cheap timestamps for the per-step start and end times: the CPU's time-stamp counter where it is
// invariant (x86-64 with the invariant-TSC CPUID bit), std::chrono::steady_clock elsewhere. Reading
// the counter costs a third of steady_clock::now(); ticks become time points only when read back.
#ifndef LIGHTFLOW_DETAIL_TIMESTAMP_HPP
#define LIGHTFLOW_DETAIL_TIMESTAMP_HPP

#include <chrono>
#include <cstdint>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>  // small; the counter is read with a builtin (<x86intrin.h> costs 0.8 s of g++ time)
#define LIGHTFLOW_HAS_TSC 1
#else
#define LIGHTFLOW_HAS_TSC 0
#endif

namespace lightflow::detail {

using clock = std::chrono::steady_clock;
using ticks = std::uint64_t;

inline bool invariant_tsc() noexcept {
#if LIGHTFLOW_HAS_TSC
  static const bool invariant = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (static_cast<unsigned>(__get_cpuid_max(0x80000000u, nullptr)) < 0x80000007u) return false;
    __get_cpuid(0x80000007u, &a, &b, &c, &d);
    return (d & (1u << 8)) != 0;
  }();
  return invariant;
#else
  return false;
#endif
}

/// Now, in ticks: TSC cycles, or steady_clock nanoseconds where there is no invariant TSC.
inline ticks now_ticks() noexcept {
#if LIGHTFLOW_HAS_TSC
  if (invariant_tsc()) return __builtin_ia32_rdtsc();
#endif
  return static_cast<ticks>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch()).count());
}

/// Turns ticks into steady_clock time points by interpolating between a pair of (ticks, time) read at
/// first use and a pair read when the converter is made: exact for steady_clock ticks, and within a
/// few tens of nanoseconds for TSC ticks taken between the two pairs.
class tick_converter {
 public:
  tick_converter() noexcept : base_(base()), now_ticks_(now_ticks()), now_(clock::now()) {
    const double elapsed_ticks = static_cast<double>(now_ticks_ - base_.at_ticks);
    rate_ = elapsed_ticks > 0 ? std::chrono::duration<double, std::nano>(now_ - base_.at).count() / elapsed_ticks : 1.0;
  }
  clock::time_point operator()(ticks t) const noexcept {
    if (t == 0) return {};
    if (!invariant_tsc()) return clock::time_point(std::chrono::nanoseconds(static_cast<std::int64_t>(t)));
    const double offset = static_cast<double>(static_cast<std::int64_t>(t - now_ticks_)) * rate_;
    return now_ + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double, std::nano>(offset));
  }

  /// Takes the first pair; call early (an executor does) so later conversions interpolate.
  static void start() noexcept { (void)base(); }

 private:
  struct pair {
    ticks at_ticks;
    clock::time_point at;
  };
  static const pair& base() noexcept {
    static const pair first{now_ticks(), clock::now()};
    return first;
  }
  pair base_;
  ticks now_ticks_;
  clock::time_point now_;
  double rate_ = 1.0;
};

}  // namespace lightflow::detail

#endif
