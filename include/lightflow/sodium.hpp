/// @file
/// A lightflow::cipher made with libsodium: XChaCha20-Poly1305 (IETF), a random 24-byte nonce per
/// record, authenticated with the record's identity. Optional: include it (and link libsodium,
/// Debian's `libsodium-dev`; `pkg-config --libs libsodium`) only if you seal sensitive values; the
/// rest of the library needs only the standard library.
/// @code
///   const auto key = lf::sodium_cipher::make_key();   // keep it safe: without it, nothing resumes
///   lf::sodium_cipher cipher(key);
///   pool.run(flow, input, lf::checkpoint(store, "run-1", lf::checkpoint_options{.cipher = &cipher}));
/// @endcode
#ifndef LIGHTFLOW_SODIUM_HPP
#define LIGHTFLOW_SODIUM_HPP

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// From include/, or beside the single header (lightflow.hpp copied into the same directory as this
// file): the single header has them, under the same include guards.
#if __has_include("lightflow/cipher.hpp")
#include "lightflow/cipher.hpp"
#include "lightflow/errors.hpp"
#else
#include "lightflow.hpp"
#endif

namespace lightflow {

/// Seals checkpoint records with libsodium's XChaCha20-Poly1305 under a 32-byte key you supply.
/// A sealed payload is the nonce (24 bytes), then the ciphertext and its 16-byte tag.
class sodium_cipher final : public cipher {
 public:
  /// The key's size in bytes (32).
  static constexpr std::size_t key_size = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
  /// A key.
  using key_type = std::array<std::byte, key_size>;

  /// A new random key, from libsodium's generator.
  static key_type make_key() {
    initialize();
    key_type key;
    crypto_aead_xchacha20poly1305_ietf_keygen(reinterpret_cast<unsigned char*>(key.data()));
    return key;
  }

  /// A cipher with `key` (copied); usage_error unless it is key_size bytes long.
  explicit sodium_cipher(std::span<const std::byte> key) {
    if (key.size() != key_size)
      throw usage_error("lightflow: a sodium_cipher's key is " + std::to_string(key_size) + " bytes, not " +
                        std::to_string(key.size()));
    initialize();
    std::copy(key.begin(), key.end(), key_.begin());
  }
  /// A cipher with the same key.
  sodium_cipher(const sodium_cipher&) = default;
  /// Takes `other`'s key.
  sodium_cipher& operator=(const sodium_cipher&) = default;
  /// Wipes the key.
  ~sodium_cipher() override { sodium_memzero(key_.data(), key_.size()); }

  /// "libsodium XChaCha20-Poly1305".
  std::string_view name() const noexcept override { return "libsodium XChaCha20-Poly1305"; }

  /// Appends the nonce, then `plain` encrypted and its tag, authenticated with `context`.
  void seal(std::span<const std::byte> plain, std::span<const std::byte> context,
            std::vector<std::byte>& out) const override {
    const std::size_t at = out.size();
    out.resize(at + nonce_size + plain.size() + tag_size);
    auto* nonce = reinterpret_cast<unsigned char*>(out.data() + at);
    randombytes_buf(nonce, nonce_size);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(nonce + nonce_size, &written, bytes(plain), plain.size(), bytes(context),
                                               context.size(), nullptr, nonce, key());
    out.resize(at + nonce_size + static_cast<std::size_t>(written));
  }

  /// Appends what `sealed` holds and returns true; false when it does not open (another key,
  /// another context, altered bytes).
  bool open(std::span<const std::byte> sealed, std::span<const std::byte> context,
            std::vector<std::byte>& out) const override {
    if (sealed.size() < nonce_size + tag_size) return false;
    const std::size_t at = out.size();
    out.resize(at + sealed.size() - nonce_size - tag_size);
    unsigned long long written = 0;
    const unsigned char* nonce = bytes(sealed);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char*>(out.data() + at), &written, nullptr,
                                                   nonce + nonce_size, sealed.size() - nonce_size, bytes(context),
                                                   context.size(), nonce, key()) != 0) {
      out.resize(at);
      return false;
    }
    out.resize(at + static_cast<std::size_t>(written));
    return true;
  }

 private:
  static constexpr std::size_t nonce_size = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  static constexpr std::size_t tag_size = crypto_aead_xchacha20poly1305_ietf_ABYTES;

  static void initialize() {
    if (sodium_init() < 0) throw usage_error("lightflow: libsodium could not be initialized (sodium_init failed)");
  }
  static const unsigned char* bytes(std::span<const std::byte> s) noexcept {
    return reinterpret_cast<const unsigned char*>(s.data());
  }
  const unsigned char* key() const noexcept { return reinterpret_cast<const unsigned char*>(key_.data()); }

  key_type key_{};
};

}  // namespace lightflow

#endif
