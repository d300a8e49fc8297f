// Checkpoints: each step's output is saved as soon as it succeeds, so that a run that failed or
// crashed resumes without running the steps that had finished.
//
//   pool.run(flow, input, lf::checkpoint{store, "order-42"});   // saves as it goes; resumes if the
//                                                                // run id has records already
//   pool.resume<Input>(flow, lf::checkpoint{store, "order-42"}); // the input comes from the store
//
// Records are keyed "@manifest" (the flow's definition), "@input" and "step/<name>"; their format is
// in detail/record.hpp.
#ifndef LIGHTFLOW_CHECKPOINT_HPP
#define LIGHTFLOW_CHECKPOINT_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/checkpoint_store.hpp"
#include "lightflow/detail/checkpoint_session.hpp"
#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/manifest.hpp"
#include "lightflow/detail/record.hpp"
#include "lightflow/detail/static_run.hpp"
#include "lightflow/detail/type_name.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/serializer.hpp"
#include "lightflow/type_tag.hpp"

namespace lightflow {

/// How a checkpoint treats records it finds.
struct checkpoint_options {
  /// Your version of the flow's meaning; records of another version are refused like those of
  /// another definition. Bump it when a step's behaviour changes but its types do not.
  std::uint32_t version = 0;
  /// Erase the run's records, and start afresh, instead of refusing them when they were written by
  /// another definition or version, when the manifest is unreadable, or when the store found them
  /// damaged (corrupt_store_error: a damaged log). A step record that is corrupt or belongs to
  /// another run inside an intact store is refused even so: that takes tampering or a broken store,
  /// and is yours to look at (erase the run with the store's erase() to start over).
  bool discard_stale = false;
};

/// The checkpoint option of `executor::run` and `executor::resume`: a store, a run id, a serializer.
template <checkpoint_store Store, class Serializer = binary_serializer>
struct checkpoint {
  checkpoint(Store& s, std::string id, checkpoint_options o = {}) : store(&s), run_id(std::move(id)), options(o) {}
  checkpoint(Store& s, std::string id, Serializer ser, checkpoint_options o = {})
      : store(&s), run_id(std::move(id)), options(o), serializer(std::move(ser)) {}

  Store* store;
  std::string run_id;
  checkpoint_options options;
  Serializer serializer{};
};
template <class Store>
checkpoint(Store&, std::string, checkpoint_options = {}) -> checkpoint<Store>;
template <class Store>
checkpoint(Store&, const char*, checkpoint_options = {}) -> checkpoint<Store>;
template <class Store, class Serializer>
  requires(!std::is_same_v<std::remove_cvref_t<Serializer>, checkpoint_options>)
checkpoint(Store&, std::string, Serializer, checkpoint_options = {}) -> checkpoint<Store, Serializer>;
template <class Store, class Serializer>
  requires(!std::is_same_v<std::remove_cvref_t<Serializer>, checkpoint_options>)
checkpoint(Store&, const char*, Serializer, checkpoint_options = {}) -> checkpoint<Store, Serializer>;

namespace detail {

template <class T>
inline constexpr bool is_checkpoint = false;
template <class Store, class Serializer>
inline constexpr bool is_checkpoint<checkpoint<Store, Serializer>> = true;
template <class T>
inline constexpr bool is_binary_checkpoint = false;
template <class Store>
inline constexpr bool is_binary_checkpoint<checkpoint<Store, binary_serializer>> = true;

inline constexpr std::string_view manifest_key = "@manifest";
inline constexpr std::string_view input_key = "@input";
inline constexpr std::string_view step_key_prefix = "step/";
inline std::string step_key(std::string_view step) { return std::string(step_key_prefix).append(step); }

/// Frees a per-thread encoding buffer that a large output grew: a worker thread keeps its buffers for
/// the executor's life, and one 100 MB output would otherwise stay resident in each.
inline void release_if_large(std::vector<std::byte>& buffer) noexcept {
  if (buffer.capacity() > (std::size_t{1} << 20)) std::vector<std::byte>().swap(buffer);
}

/// A serializer's name, as manifests give it: its `name` member, or its checkpoint name (type_tag.hpp);
/// empty when it has neither (a compile error where a checkpoint uses it). Format 1 wrote the
/// compiler's spelling of an unnamed serializer (`legacy`).
template <class Serializer>
constexpr std::string_view serializer_name(bool legacy = false) {
  if constexpr (requires { Serializer::name; }) return Serializer::name;
  else if (legacy) return type_name<Serializer>();
  else return type_tag_or_empty<Serializer>();
}

/// Encodes and decodes one type with one serializer; the functions the session's tables point to.
template <class Serializer, class T>
struct codec {
  static void encode(const Serializer& s, const void* value, std::vector<std::byte>& out) {
    if constexpr (!std::is_void_v<T>) s.write(*static_cast<const T*>(value), out);
  }
  static void decode(const Serializer& s, std::span<const std::byte> bytes, void* slot) {
    if constexpr (std::is_void_v<T>) {
      if (!bytes.empty()) throw decode_error("a void step's record has a payload");
    } else {
      ::new (slot) T(s.template read<T>(bytes));
    }
  }
};

/// What every checkpoint session does with its store, whatever the flow: keys, the manifest (the
/// flow's definition, checked on every run), records checked against its fingerprint, errors that
/// name the run and the place.
/// A flow's manifest and its fingerprint, made once and shared by the sessions that use them.
struct manifest_text {
  explicit manifest_text(std::string t) : text(std::move(t)), fingerprint(fnv1a(text)) {}
  std::string text;
  std::uint64_t fingerprint;
};

template <class Store>
class store_session : public checkpoint_session {
 public:
  void flush() override { store_->flush(); }
  const void* store_identity() const noexcept override { return store_; }
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

  void save_record(std::string_view key, record_kind kind, std::string_view step, std::span<const std::byte> payload) {
    const auto bytes = encode_record(kind, fingerprint_, options_.version, binding_, step, payload);
    store_->save(flow_, run_id_, key, bytes);
  }
  /// Saves a step's record, reusing the calling thread's buffer (the hot path).
  void save_step(std::string_view key, std::string_view step, std::span<const std::byte> payload) {
    thread_local std::vector<std::byte> bytes;
    encode_record_into(bytes, record_kind::step_output, fingerprint_, options_.version, binding_, step, payload);
    store_->save(flow_, run_id_, key, bytes);
    release_if_large(bytes);
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
    const auto bytes = store_->load(flow_, run_id_, key);
    if (!bytes) throw error(what, "is missing");
    return decode(*bytes, kind, what, check_fingerprint);
  }
  /// The record of step `name` under `key`, or nothing; throws when it is not that step's.
  std::optional<record> load_step(const std::string& key, std::string_view name) const {
    const auto bytes = store_->load(flow_, run_id_, key);
    if (!bytes) return std::nullopt;
    const std::string what = "the record of step \"" + std::string(name) + "\"";
    record rec = decode(*bytes, record_kind::step_output, what);
    if (rec.step != name) throw error(what, "names step \"" + rec.step + "\"");
    return rec;
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
      bytes = store_->load(flow_, run_id_, manifest_key);
      if (!bytes) {
        const auto keys = store_->list(flow_, run_id_);
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
  // The run's records are those of the manifest's run; a format-1 run keeps writing nonce 0 (and is
  // then checked by fingerprint only, as format 1 was).
  void adopt(const record& manifest) {
    legacy_ = manifest.format == 1;
    binding_.nonce = legacy_ ? 0 : manifest.binding.nonce;
    fingerprint_ = manifest.fingerprint;  // (another only when the run was begun by an earlier manifest text)
    if (!legacy_ && manifest.binding.run != binding_.run)
      throw error("the manifest", "belongs to another run (it was written for another run id and copied here)");
  }

  bool stale(bool may_discard, const checkpoint_error& why) {
    if (!may_discard || !options_.discard_stale) throw why;
    store_->erase(flow_, run_id_);
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

/// One run's checkpoint, typed: Flow, Input, Store and Serializer are known here.
template <class Flow, class Input, class Store, class Serializer>
class typed_session final : public store_session<Store> {
  using base = store_session<Store>;
  using base::error, base::location, base::check_manifest, base::load_record, base::store_, base::run_id_, base::options_;
  static constexpr std::uint32_t n = Flow::size;
  template <std::uint32_t I>
  using output_t = typename step_signature<Flow, Input, I>::output;
  using encode_fn = void (*)(const Serializer&, const void*, std::vector<std::byte>&);
  using decode_fn = void (*)(const Serializer&, std::span<const std::byte>, void*);

 public:
  /// True when every output (and the input) can be written by Serializer; else a compile error that
  /// names the first step that cannot.
  static consteval bool check() {
    constexpr std::uint32_t bad = [] {
      std::uint32_t first = npos;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((first == npos && !encodable<output_t<I>>() ? (void)(first = I) : (void)0), ...);
      }(std::make_index_sequence<n>{});
      return first;
    }();
    if constexpr (!std::is_same_v<Input, no_input> && !encodable<Input>()) {
      constexpr auto text = [] {
        text_buffer t{};
        t << "lightflow: the input of flow ", t.quoted(Flow::name.view());
        t << " cannot be checkpointed: the serializer cannot encode its type, listed after this message";
        return t;
      }();
      fail<to_fixed_string<text>(), offered<Input>>();
      return false;
    } else if constexpr (bad != npos) {
      constexpr auto text = [] {
        text_buffer t{};
        t << "lightflow: step ", t.quoted(Flow::graph.names[bad]), t << " of flow ", t.quoted(Flow::name.view());
        t << " cannot be checkpointed: the serializer cannot encode its output type, listed after this message";
        return t;
      }();
      fail<to_fixed_string<text>(), offered<output_t<bad>>>();
      return false;
    } else if constexpr (serializer_name<Serializer>().empty()) {
      constexpr auto text = [] {
        text_buffer t{};
        t << "lightflow: the checkpoint of flow ", t.quoted(Flow::name.view());
        t << " uses a serializer without a name (listed after this message): give it a member "
             "`static constexpr std::string_view name = \"...\";`, which the checkpoint records";
        return t;
      }();
      fail<to_fixed_string<text>(), offered<Serializer>>();
      return false;
    } else {
      return check_tags();
    }
  }
  /// True when the input and every output have a checkpoint name; else a compile error that names
  /// the first step whose output type has none.
  static consteval bool check_tags() {
    constexpr std::uint32_t bad = [] {
      std::uint32_t first = npos;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((first == npos && type_tag_or_empty<output_t<I>>().empty() ? (void)(first = I) : (void)0), ...);
      }(std::make_index_sequence<n>{});
      return first;
    }();
    constexpr std::string_view how =
        " has no checkpoint name, which checkpoints record so that any compiler reads them: give it a member "
        "`static constexpr std::string_view lightflow_type_name = \"...\";` or specialize lightflow::type_tag "
        "(see lightflow/type_tag.hpp)";
    if constexpr (!std::is_same_v<Input, no_input> && type_tag_or_empty<Input>().empty()) {
      constexpr auto text = [&] {
        text_buffer t{};
        t << "lightflow: the input of flow ", t.quoted(Flow::name.view()), t << " cannot be checkpointed: its type, listed after this message,";
        t << how;
        return t;
      }();
      fail<to_fixed_string<text>(), offered<Input>>();
      return false;
    } else if constexpr (bad != npos) {
      constexpr auto text = [&] {
        text_buffer t{};
        t << "lightflow: step ", t.quoted(Flow::graph.names[bad]), t << " of flow ", t.quoted(Flow::name.view());
        t << " cannot be checkpointed: its output type, listed after this message,";
        t << how;
        return t;
      }();
      fail<to_fixed_string<text>(), offered<output_t<bad>>>();
      return false;
    } else {
      return true;
    }
  }

  explicit typed_session(const checkpoint<Store, Serializer>& cp)
      : base(cp.store, Flow::name.view(), cp.run_id, cp.options, manifest(cp.options.version)), serializer_(cp.serializer) {}

  /// Reads the run's input from the store, for resume().
  static Input load_input(const checkpoint<Store, Serializer>& cp) {
    typed_session probe(cp);
    const record rec = probe.load_saved_input();
    try {
      if constexpr (std::is_same_v<Input, no_input>) {
        return no_input{};
      } else {
        return probe.serializer_.template read<Input>(rec.payload);
      }
    } catch (const std::exception& e) {
      throw probe.error("the input", std::string("cannot be decoded: ") + e.what());
    }
  }

  /// Before the run starts: checks or writes the manifest, checks or writes the input, and restores
  /// every step that has a saved output. Throws checkpoint_error or store_error; runs nothing.
  void open(static_run<Flow, Input>& run) {
    std::vector<std::byte> input;
    if constexpr (!std::is_same_v<Input, no_input>) serializer_.write(run.input(), input);
    if (!check_manifest(true)) {
      this->start_fresh(input);
      return this->prepare_store(n, name_bytes, record_guess);
    }
    this->check_input(input);
    run.mark_resumed();
    std::size_t left = n, left_names = name_bytes;  // the steps that will run, and save
    for (std::uint32_t i = 0; i != n; ++i) {
      const auto rec = this->load_step(step_keys()[i], Flow::graph.names[i]);
      if (!rec) continue;
      try {
        decoders[i](serializer_, rec->payload, run.output(i));
      } catch (const std::exception& e) {
        throw error("the record of step \"" + std::string(Flow::graph.names[i]) + "\"",
                    std::string("cannot be decoded: ") + e.what());
      }
      run.restore(i);
      --left;
      left_names -= Flow::graph.names[i].size();
    }
    this->prepare_store(left, left_names, record_guess);
  }

  // On the hot path: buffers reused per thread, keys made once per flow type.
  void save(run_state_base& run, std::uint32_t step) override {
    thread_local std::vector<std::byte> payload;
    payload.clear();
    encoders[step](serializer_, run.output(step), payload);
    this->save_step(step_keys()[step], Flow::graph.names[step], payload);
    release_if_large(payload);
  }

 private:
  template <class T>
  static constexpr bool encodable() {
    if constexpr (std::is_void_v<T>) return true;
    else return serializer_for<Serializer, T>;
  }

  /// Every step's output type, by its checkpoint name (`legacy`: as the compiler spells it).
  static constexpr auto output_type_names = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::string_view, n + 1>{type_tag_or_empty<output_t<I>>()..., std::string_view{}};
  }(std::make_index_sequence<n>{});
  static constexpr auto legacy_type_names = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::string_view, n + 1>{type_name<output_t<I>>()..., std::string_view{}};
  }(std::make_index_sequence<n>{});

  // One loop over the graph, not a function per step: a 1,000-step flow would otherwise instantiate
  // a thousand string-building functions.
  // Made once per version and shared: building and hashing it costs ~100 µs for 1,000 steps.
  static std::shared_ptr<const manifest_text> manifest(std::uint32_t version) {
    static std::mutex mutex;
    static std::vector<std::pair<std::uint32_t, std::shared_ptr<const manifest_text>>> made;
    std::lock_guard lock(mutex);
    for (const auto& [v, m] : made)
      if (v == version) return m;
    return made.emplace_back(version, std::make_shared<const manifest_text>(make_manifest(version))).second;
  }
  static std::string make_manifest(std::uint32_t version) {
    constexpr std::string_view input = std::is_same_v<Input, no_input> ? std::string_view("none") : type_tag_or_empty<Input>();
    return write_manifest(manifest_v2, Flow::view, version, serializer_name<Serializer>(), input,
                          [](std::uint32_t i) { return output_type_names[i]; });
  }
  /// Format 1's text: the types as the compiler spells them.
  std::vector<std::string> legacy_manifests() const override {
    return {write_manifest(static_manifest_v1, Flow::view, this->options_.version, serializer_name<Serializer>(true),
                           type_name<Input>(), [](std::uint32_t i) { return legacy_type_names[i]; })};
  }

  // For prepare_store: the steps' names' bytes, and a record's other bytes (~60 of framing, and
  // the output's), guessed.
  static constexpr std::size_t name_bytes = [] {
    std::size_t bytes = 0;
    for (std::uint32_t i = 0; i != n; ++i) bytes += Flow::graph.names[i].size();
    return bytes;
  }();
  static constexpr std::size_t record_guess = 128;

  static const std::vector<std::string>& step_keys() {
    static const std::vector<std::string> keys = [] {
      std::vector<std::string> k;
      for (std::uint32_t i = 0; i != n; ++i) k.push_back(step_key(Flow::graph.names[i]));
      return k;
    }();
    return keys;
  }

  static constexpr std::array<encode_fn, n + 1> encoders = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<encode_fn, n + 1>{&codec<Serializer, output_t<I>>::encode..., nullptr};
  }(std::make_index_sequence<n>{});
  static constexpr std::array<decode_fn, n + 1> decoders = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<decode_fn, n + 1>{&codec<Serializer, output_t<I>>::decode..., nullptr};
  }(std::make_index_sequence<n>{});

  Serializer serializer_;
};

}  // namespace detail
}  // namespace lightflow

#endif
