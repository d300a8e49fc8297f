// What every checkpoint session does with its store, whatever the flow (static flows:
// typed_session.hpp; runtime flows: runtime_session.hpp): the records' keys, the manifest checked on
// every run (and the earlier manifest texts a run may have begun with), records checked against the
// manifest's fingerprint and the run's binding, errors that name the run and the place.
#ifndef LIGHTFLOW_DETAIL_STORE_SESSION_HPP
#define LIGHTFLOW_DETAIL_STORE_SESSION_HPP

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/detail/checkpoint_option.hpp"
#include "lightflow/detail/checkpoint_session.hpp"
#include "lightflow/detail/fnv1a.hpp"
#include "lightflow/detail/manifest.hpp"
#include "lightflow/detail/prefetched_records.hpp"
#include "lightflow/detail/record.hpp"
#include "lightflow/errors.hpp"

namespace lightflow::detail {

inline constexpr std::string_view manifest_key = "@manifest";
inline constexpr std::string_view input_key = "@input";
inline constexpr std::string_view outcome_key = "@outcome";
inline constexpr std::string_view step_key_prefix = "step/";
inline std::string step_key(std::string_view step) { return std::string(step_key_prefix).append(step); }

/// Frees a per-thread encoding buffer that a large output grew: a worker thread keeps its buffers for
/// the executor's life, and one 100 MB output would otherwise stay resident in each.
inline void release_if_large(std::vector<std::byte>& buffer) noexcept {
  if (buffer.capacity() > (std::size_t{1} << 20)) std::vector<std::byte>().swap(buffer);
}

/// A flow's manifest and its fingerprint, made once and shared by the sessions that use them.
struct manifest_text {
  explicit manifest_text(std::string t) : text(std::move(t)), fingerprint(fnv1a(text)) {}
  std::string text;
  std::uint64_t fingerprint;
};

/// What every checkpoint session does with its store, whatever the flow: keys, the manifest (the
/// flow's definition, checked on every run), records checked against its fingerprint, errors that
/// name the run and the place.
template <class Store>
class store_session : public checkpoint_session {
 public:
  void flush() override { store_->flush(); }
  const void* store_identity() const noexcept override { return store_; }
  std::string_view run_name() const noexcept override { return run_id_; }
  void ended(bool ok) override {
    if (!settled_) save_outcome(ok ? outcome::succeeded : outcome::failed, wall_clock_now());
  }
  void release() noexcept override {
    if constexpr (requires(Store& s) { s.release(std::string_view{}, std::string_view{}); }) {
      try {
        store_->release(flow_, run_id_);
      } catch (...) {  // only memory or descriptors stay held; the records are as they were
      }
    }
  }
  std::exception_ptr own_failure(std::exception_ptr failure) const override {
    if constexpr (requires(Store& s) {
                    { s.failure(std::string_view{}, std::string_view{}) } -> std::same_as<std::optional<std::string>>;
                  }) {
      const auto mine = store_->failure(flow_, run_id_);
      return mine ? std::make_exception_ptr(store_error(*mine)) : nullptr;
    } else {
      return failure;
    }
  }

 protected:
  store_session(Store* store, std::string_view flow, std::string run_id, checkpoint_options options,
                std::shared_ptr<const manifest_text> manifest)
      : checkpoint_session(store->deferred_durability()), store_(store), flow_(flow), run_id_(std::move(run_id)),
        options_(options), manifest_text_(std::move(manifest)), manifest_(manifest_text_->text),
        fingerprint_(manifest_text_->fingerprint), binding_{fnv1a(run_id_), 0} {}

  std::string location() const { return store_->location(flow_, run_id_); }
  checkpoint_error error(const std::string& what, const std::string& problem) const {
    return checkpoint_error("lightflow: checkpoint of run \"" + run_id_ + "\" of flow \"" + flow_ + "\" in " +
                            location() + ": " + what + " " + problem);
  }
  checkpoint_error missing_run() const {
    return checkpoint_error("lightflow: there is no checkpoint of run \"" + run_id_ + "\" of flow \"" + flow_ +
                            "\" in " + location());
  }

  /// Saves the manifest or the input (sealed whenever the checkpoint has a cipher).
  void save_record(std::string_view key, record_kind kind, std::string_view step, std::span<const std::byte> payload) {
    const bool seal = kind == record_kind::input && options_.cipher != nullptr;
    const auto bytes = encode_record(kind, fingerprint_, options_.version, binding_, step,
                                     seal ? sealed(kind, step, payload) : payload, seal);
    store_->save(flow_, run_id_, key, bytes);
  }
  /// Saves a step's record (or a map step's element's), reusing the calling thread's buffer (the hot
  /// path); `seal`: a sensitive value's (check_sealing made sure there is a cipher).
  void save_step(std::string_view key, std::string_view step, std::span<const std::byte> payload, bool seal,
                 record_kind kind = record_kind::step_output) {
    thread_local std::vector<std::byte> bytes;
    encode_record_into(bytes, kind, fingerprint_, options_.version, binding_, step,
                       seal ? sealed(kind, step, payload) : payload, seal);
    store_->save(flow_, run_id_, key, bytes);
    release_if_large(bytes);
  }
  /// Before a run saves anything: a run with a sensitive step (`run.sensitive(i)`), or a sensitive
  /// key (`keys`, runtime flows), needs a cipher to seal their records; without one it is refused.
  template <class Run>
  void check_sealing(const Run& run, std::span<const std::string> keys = {}) const {
    if (options_.cipher != nullptr) return;
    const auto refuse = [&](const std::string& what) {
      return checkpoint_error("lightflow: " + what + " of flow \"" + flow_ +
                              "\" is marked sensitive, but the checkpoint of run \"" + run_id_ +
                              "\" has no cipher to seal it with: give one as checkpoint_options{.cipher = &c} "
                              "(lightflow/sodium.hpp has one); the run was not started");
    };
    for (std::uint32_t i = 0; i != run.graph().size; ++i)
      if (run.sensitive(i)) throw refuse("step \"" + std::string(run.graph().name(i)) + "\"");
    if (!keys.empty()) throw refuse("key \"" + keys.front() + "\"");
  }

  record decode(std::span<const std::byte> bytes, record_kind kind, const std::string& what,
                bool check_fingerprint = true) const {
    record rec;
    try {
      rec = decode_record(bytes);
    } catch (const decode_error& e) {
      throw error(what, std::string("is unreadable: ") + e.what());
    }
    if (rec.kind != kind) throw error(what, "is a record of another kind");
    if (check_fingerprint && rec.fingerprint != fingerprint_)
      throw error(what, "was written by another definition of the flow (its fingerprint differs from the manifest's)");
    if (check_fingerprint) check_binding(rec, what);
    if (rec.sealed) open(rec, what);
    return rec;
  }
  /// A record must belong to this run: this id, and this life of it (the nonce its manifest carries).
  void check_binding(const record& rec, const std::string& what) const {
    if (rec.format == 1) {
      if (!legacy_) throw error(what, "is a format-1 record in a run begun by a newer lightflow: it was copied from another run");
      return;
    }
    if (rec.binding.run != binding_.run)
      throw error(what, "belongs to another run (it was written for another run id and copied here); it was not used");
    if (rec.binding.nonce != binding_.nonce)
      throw error(what, "belongs to another run of this id (an earlier one that was erased, or a copy from another "
                        "store); it was not used");
  }

  record load_record(const std::string& key, record_kind kind, const std::string& what, bool check_fingerprint = true) const {
    const auto bytes = fetch(key);
    if (!bytes) throw error(what, "is missing");
    return decode(*bytes, kind, what, check_fingerprint);
  }
  /// The record of step `name` under `key`, or nothing; throws when it is not that step's.
  std::optional<record> load_step(const std::string& key, std::string_view name) const {
    const auto bytes = fetch(key);
    if (!bytes) return std::nullopt;
    const std::string what = "the record of step \"" + std::string(name) + "\"";
    record rec = decode(*bytes, record_kind::step_output, what);
    if (rec.step != name) throw error(what, "names step \"" + rec.step + "\"");
    return rec;
  }
  /// As a run opens: its records read at once, from a store that can (prefetched_records.hpp), while
  /// the returned guard lives; fetch() and saved_keys() read them.
  struct opening {
    store_session* session;
    ~opening() { session->prefetched_.clear(); }
  };
  [[nodiscard]] opening prefetch() {
    prefetched_.fill(*store_, flow_, run_id_);
    return {this};
  }
  std::optional<std::vector<std::byte>> fetch(const std::string& key) const {
    return prefetched_.filled() ? prefetched_.find(key) : store_->load(flow_, run_id_, key);
  }
  std::vector<std::string> saved_keys() const { return prefetched_.filled() ? prefetched_.keys() : store_->list(flow_, run_id_); }

  /// The input of a run that has not started and has no records (a queued run): resume() finds it
  /// and starts the run (see start_fresh). `with_manifest`: the manifest too, so that the run's
  /// steps, run apart by several processes, all write records of this life of the run.
  void save_first_input(std::span<const std::byte> input, bool with_manifest) {
    if (!store_->list(flow_, run_id_).empty()) throw error("the records", "exist already: a run is queued once");
    binding_.nonce = make_nonce();
    save_record(input_key, record_kind::input, "", input);
    if (with_manifest) save_record(manifest_key, record_kind::manifest, "", std::as_bytes(std::span(manifest_)));
  }
  /// The saved input record, for resume(): throws when the run has no records or they do not match.
  /// Without a manifest (a run that had not started), the input cannot be checked against the
  /// definition's fingerprint; its own checksum still is.
  record load_saved_input() {
    if (store_->list(flow_, run_id_).empty()) throw missing_run();
    check_manifest(false);
    return load_record(std::string(input_key), record_kind::input, "the input",
                       store_->load(flow_, run_id_, manifest_key).has_value());
  }

  /// False when the run has no records (or they were discarded); throws when they do not match.
  /// A store whose records are damaged (corrupt_store_error) refuses them; with discard_stale they
  /// are erased and the run starts afresh.
  bool check_manifest(bool may_discard) {
    std::optional<std::vector<std::byte>> bytes;
    try {
      bytes = fetch(std::string(manifest_key));
      if (!bytes) {
        const auto keys = saved_keys();
        if (keys.empty() || (keys.size() == 1 && keys[0] == input_key)) return false;  // nothing, or a run not started
        return stale(may_discard, error("the records", "have no manifest (a partial or foreign checkpoint)"));
      }
    } catch (const corrupt_store_error& e) {
      if (!may_discard || !options_.discard_stale) throw;
      return stale(may_discard, error("the records", std::string("are damaged: ") + e.what()));
    }
    record rec;
    try {
      rec = decode_record(*bytes);
    } catch (const decode_error& e) {
      return stale(may_discard, error("the manifest", std::string("is unreadable: ") + e.what()));
    }
    const std::string stored(reinterpret_cast<const char*>(rec.payload.data()), rec.payload.size());
    if (rec.kind == record_kind::manifest && rec.fingerprint == fingerprint_ && stored == manifest_) {
      adopt(rec);
      return true;
    }
    if (rec.kind == record_kind::manifest && rec.fingerprint == fnv1a(stored))
      for (const std::string& earlier : legacy_manifests())
        if (same_legacy_manifest(stored, earlier)) {  // the same definition, in an earlier manifest text
          adopt(rec);
          return true;
        }
    return stale(may_discard, error("the records", "were written by " + difference(stored) +
                                                       "; pass checkpoint_options{.discard_stale = true} to start over"));
  }

  /// Whether a saved input whose bytes differ from `now`'s is the same input written another way
  /// (runtime flows: its types named as an earlier version named them).
  virtual bool same_input(std::span<const std::byte> /*saved*/, std::span<const std::byte> /*now*/) const { return false; }
  /// The manifest texts that earlier versions wrote for this definition (detail/manifest.hpp): a run
  /// begun with one of them resumes, its records checked against that text's fingerprint.
  virtual std::vector<std::string> legacy_manifests() const = 0;

  /// Tells a store that offers `prepare` (file_store) how much the run's steps will save: a guess
  /// from their number, `per_step` bytes each, and their names (each twice: the key and the record).
  void prepare_store(std::size_t steps, std::size_t name_bytes, std::size_t per_step) {
    if constexpr (requires(Store& s, std::uint64_t n) {
                    { s.prepare(std::string_view{}, std::string_view{}, n) } -> std::convertible_to<bool>;
                  })
      flush_at_start = store_->prepare(flow_, run_id_, std::uint64_t{per_step} * steps + 2 * name_bytes);
  }

  /// A run without records starts: its input, then its manifest. A crash between the two saves
  /// leaves only an input, which counts as a run that has not started (no step is saved before the
  /// manifest).
  void start_fresh(std::span<const std::byte> input) {
    binding_.nonce = make_nonce();
    legacy_ = false;
    save_record(input_key, record_kind::input, "", input);
    save_record(manifest_key, record_kind::manifest, "", std::as_bytes(std::span(manifest_)));
    started_ = wall_clock_now();
    save_outcome(outcome::in_progress, 0);
  }
  /// A run with records is about to go on, its records restored and `left` steps to run: in
  /// progress again, since it first started (a run begun before outcomes were recorded: since now).
  /// A run that had succeeded, and has nothing to run, is left as it is (nothing is written: it can
  /// be read from a read-only mount).
  void mark_in_progress(std::size_t left) {
    started_ = wall_clock_now();
    if (const auto bytes = fetch(std::string(outcome_key))) {
      const std::string what = "the run's outcome";
      const record rec = decode(*bytes, record_kind::outcome, what);
      outcome was;
      try {
        was = decode_outcome(rec.payload);
      } catch (const decode_error& e) {
        throw error(what, std::string("is unreadable: ") + e.what());
      }
      started_ = was.started;
      settled_ = left == 0 && was.state == outcome::succeeded;
    }
    if (!settled_) save_outcome(outcome::in_progress, 0);
  }
  /// A run with records: the input given now must be the one saved.
  void check_input(std::span<const std::byte> input) const {
    const record stored = load_record(std::string(input_key), record_kind::input, "the input");
    if (!std::equal(stored.payload.begin(), stored.payload.end(), input.begin(), input.end()) &&
        !same_input(stored.payload, input))
      throw error("the input", "differs from the input given now; use resume() to run with the saved input, or another run id");
  }

  Store* store_;
  std::string flow_;
  std::string run_id_;
  checkpoint_options options_;
  std::shared_ptr<const manifest_text> manifest_text_;
  const std::string& manifest_;
  std::uint64_t fingerprint_;
  run_binding binding_;   // what this run's records carry
  bool legacy_ = false;   // the run was begun by format 1: its records carry no binding

 private:
  std::int64_t started_ = 0;  // when the run first started (its outcome record says)
  bool settled_ = false;      // the run had succeeded and has nothing to run: its outcome stays
  prefetched_records prefetched_;  // while the run opens (prefetch)

  void save_outcome(outcome::state_t state, std::int64_t ended) {
    save_record(outcome_key, record_kind::outcome, "", encode_outcome({state, started_, ended}));
  }

  // The run's records are those of the manifest's run; a format-1 run keeps writing nonce 0 (and is
  // then checked by fingerprint only, as format 1 was).
  void adopt(const record& manifest) {
    legacy_ = manifest.format == 1;
    binding_.nonce = legacy_ ? 0 : manifest.binding.nonce;
    fingerprint_ = manifest.fingerprint;  // (another only when the run was begun by an earlier manifest text)
    if (!legacy_ && manifest.binding.run != binding_.run)
      throw error("the manifest", "belongs to another run (it was written for another run id and copied here)");
  }

  // What a sealed payload is authenticated with: the record's every other field.
  static std::vector<std::byte> seal_context(record_kind kind, std::uint64_t fingerprint, std::uint32_t version,
                                             run_binding binding, std::string_view step) {
    std::vector<std::byte> context;
    encode_record_into(context, kind, fingerprint, version, binding, step, {}, true);
    return context;
  }
  // `payload` sealed, in the calling thread's buffer.
  std::span<const std::byte> sealed(record_kind kind, std::string_view step, std::span<const std::byte> payload) const {
    thread_local std::vector<std::byte> out;
    release_if_large(out);
    out.clear();
    options_.cipher->seal(payload, seal_context(kind, fingerprint_, options_.version, binding_, step), out);
    return out;
  }
  // Replaces a sealed record's payload by what it holds; refuses a record that does not open.
  void open(record& rec, const std::string& what) const {
    if (options_.cipher == nullptr)
      throw error(what, "is sealed (it holds a sensitive value): give the cipher it was sealed with as "
                        "checkpoint_options{.cipher = &c}");
    std::vector<std::byte> plain;
    const auto context = seal_context(rec.kind, rec.fingerprint, rec.version, rec.binding, rec.step);
    if (!options_.cipher->open(rec.payload, context, plain))
      throw error(what, "does not open with the cipher given (" + std::string(options_.cipher->name()) +
                            "): it was sealed with another key, or altered; it was not used");
    rec.payload = std::move(plain);
    rec.sealed = false;
  }

  bool stale(bool may_discard, const checkpoint_error& why) {
    if (!may_discard || !options_.discard_stale) throw why;
    store_->erase(flow_, run_id_);
    prefetched_.clear();
    this->discarded = why.what();
    return false;
  }

  // Names the first line where the stored definition and this one differ.
  std::string difference(const std::string& stored) const {
    auto lines = [](const std::string& text) {
      std::vector<std::string> out;
      for (std::size_t at = 0; at < text.size();) {
        const auto nl = text.find('\n', at);
        out.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
        at = nl == std::string::npos ? text.size() : nl + 1;
      }
      return out;
    };
    const auto a = lines(stored), b = lines(manifest_);
    for (std::size_t i = 0; i != std::max(a.size(), b.size()); ++i) {
      const std::string was = i < a.size() ? a[i] : "(nothing)", now = i < b.size() ? b[i] : "(nothing)";
      if (was != now) return "another definition of the flow: it has \"" + was + "\" where this one has \"" + now + "\"";
    }
    return "another definition of the flow";
  }
};

}  // namespace lightflow::detail

#endif
