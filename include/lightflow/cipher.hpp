/// @file
/// What seals the checkpoint records of sensitive values: a step marked `.sensitive()`, a runtime
/// flow's key marked with `flow.sensitive(key)`, and the run's input. Give one to a checkpoint as
/// `checkpoint_options{.cipher = &c}`; lightflow/sodium.hpp has one made with libsodium. lightflow
/// does no cryptography of its own: it hands the cipher a record's payload and the record's identity
/// (flow, run, step), which the cipher must authenticate with it, so that a sealed payload copied
/// into another record, or altered, does not open.
#ifndef LIGHTFLOW_CIPHER_HPP
#define LIGHTFLOW_CIPHER_HPP

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace lightflow {

/// An authenticated cipher for checkpoint records. Its members may be called from several threads
/// at once; it must outlive the runs that use it.
class cipher {
 public:
  virtual ~cipher() = default;
  /// The cipher's name, for error messages (e.g. "libsodium XChaCha20-Poly1305").
  virtual std::string_view name() const noexcept = 0;
  /// Appends to `out` the sealed form of `plain`, authenticated together with `context` (which is
  /// not itself stored: the same context must be given to open it).
  virtual void seal(std::span<const std::byte> plain, std::span<const std::byte> context,
                    std::vector<std::byte>& out) const = 0;
  /// Appends to `out` the plain bytes that `sealed` holds, and returns true; returns false (and
  /// appends nothing) when they cannot be opened with this key and `context`: another key, another
  /// record's context, or altered bytes.
  virtual bool open(std::span<const std::byte> sealed, std::span<const std::byte> context,
                    std::vector<std::byte>& out) const = 0;

 protected:
  /// (Only derived classes make, copy and assign one.)
  cipher() = default;
  /// (Copied as a derived class's part.)
  cipher(const cipher&) = default;
  /// (Assigned as a derived class's part.)
  cipher& operator=(const cipher&) = default;
};

}  // namespace lightflow

#endif
