// "Did you mean": the step name closest to a misspelled one, for the messages of lookups by name.
#ifndef LIGHTFLOW_DETAIL_SPELLING_HPP
#define LIGHTFLOW_DETAIL_SPELLING_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lightflow::detail {

/// The edit distance (insertions, deletions, substitutions of bytes) between a and b, or `limit + 1`
/// once it is sure to exceed `limit`.
inline std::size_t edit_distance(std::string_view a, std::string_view b, std::size_t limit) {
  const std::size_t gap = a.size() > b.size() ? a.size() - b.size() : b.size() - a.size();
  if (gap > limit) return limit + 1;
  std::vector<std::size_t> row(b.size() + 1), next(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    next[0] = i;
    std::size_t best = next[0];
    for (std::size_t j = 1; j <= b.size(); ++j) {
      next[j] = std::min({row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      best = std::min(best, next[j]);
    }
    if (best > limit) return limit + 1;
    row.swap(next);
  }
  return row[b.size()];
}

/// `; did you mean "x"?` for the name among `count` (`name_of(i)`) closest to `wanted`, when one is
/// within a third of its length (at least 2 edits); empty otherwise.
template <class NameOf>
std::string did_you_mean(std::string_view wanted, std::uint32_t count, NameOf&& name_of) {
  const std::size_t limit = std::max<std::size_t>(2, wanted.size() / 3);
  std::size_t best = limit + 1;
  std::string_view closest;
  for (std::uint32_t i = 0; i != count && best > 1; ++i) {
    const std::string_view name = name_of(i);
    if (const std::size_t d = edit_distance(wanted, name, best - 1); d < best) best = d, closest = name;
  }
  return best <= limit ? "; did you mean \"" + std::string(closest) + "\"?" : std::string();
}

}  // namespace lightflow::detail

#endif
