// A static flow's checkpoint: Flow, Input, Store and Serializer known at compile time; each step's
// output encoded and decoded through a table of functions made once per flow type, the manifest
// made once per version, and what cannot be checkpointed (an output the serializer cannot encode, a
// type without a checkpoint name) a compile error that names the step.
#ifndef LIGHTFLOW_DETAIL_TYPED_SESSION_HPP
#define LIGHTFLOW_DETAIL_TYPED_SESSION_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "lightflow/detail/checkpoint_option.hpp"
#include "lightflow/detail/compile_error.hpp"
#include "lightflow/detail/element_session.hpp"
#include "lightflow/detail/manifest.hpp"
#include "lightflow/detail/static_run.hpp"
#include "lightflow/detail/store_session.hpp"
#include "lightflow/detail/type_name.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/serializer.hpp"
#include "lightflow/type_tag.hpp"

namespace lightflow::detail {

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

/// A map step's element, of its output std::vector<E>: new values decoded, and freed (null
/// functions when the serializer cannot write E alone; the step's record is then its only one).
template <class Serializer, class Output>
struct element_codec {
  static constexpr void (*encode)(const Serializer&, const void*, std::vector<std::byte>&) = &codec<Serializer, void>::encode;
  static void* decode(const Serializer&, std::span<const std::byte> bytes) {
    if (!bytes.empty()) throw decode_error("the element of a map step whose callable returns nothing has a payload");
    return nullptr;
  }
  static constexpr void (*destroy)(void*) noexcept = nullptr;
};
template <class Serializer, class E>
struct element_codec<Serializer, std::vector<E>> {
  static constexpr bool known = serializer_for<Serializer, E>;
  static constexpr void (*encode)(const Serializer&, const void*, std::vector<std::byte>&) =
      known ? &codec<Serializer, E>::encode : nullptr;
  static void* decode(const Serializer& s, std::span<const std::byte> bytes) {
    if constexpr (known) return new E(s.template read<E>(bytes));
    else return nullptr;
  }
  static void destroy(void* p) noexcept { delete static_cast<E*>(p); }
};

/// One run's checkpoint, typed: Flow, Input, Store and Serializer are known here.
template <class Flow, class Input, class Store, class Serializer>
class typed_session final : public element_session<Store> {
  using base = element_session<Store>;
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
    constexpr std::uint32_t bad = first_output_where([]<class T>() { return !encodable<T>(); });
    constexpr std::string_view how =
        "; with lightflow::binary_serializer, give the type two functions found by argument-dependent lookup, "
        "`void lightflow_write(lightflow::binary_writer&, const T&)` and `void lightflow_read(lightflow::binary_reader&, "
        "T&)`, or specialize lightflow::binary_codec<T> (see lightflow/binary_codec.hpp); another serializer S must "
        "satisfy lightflow::serializer_for<S, T>";
    if constexpr (!std::is_same_v<Input, no_input> && !encodable<Input>()) {
      constexpr auto text = [&] {
        text_buffer t{};
        t << "lightflow: the input of flow ", t.quoted(Flow::name.view());
        t << " cannot be checkpointed: the serializer cannot encode its type, listed after this message" << how;
        return t;
      }();
      fail<to_fixed_string<text>(), offered<Input>>();
      return false;
    } else if constexpr (bad != npos) {
      constexpr auto text = [&] {
        text_buffer t{};
        t << "lightflow: step ", t.quoted(Flow::graph.names[bad]), t << " of flow ", t.quoted(Flow::name.view());
        t << " cannot be checkpointed: the serializer cannot encode its output type, listed after this message"
          << how;
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
    constexpr std::uint32_t bad = first_output_where([]<class T>() { return type_tag_or_empty<T>().empty(); });
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

  /// Saves the input of a run that has not started (a queued run), for resume() to start it.
  static void save_input(const checkpoint<Store, Serializer>& cp, const Input& input, bool with_manifest) {
    typed_session s(cp);
    std::vector<std::byte> bytes;
    if constexpr (!std::is_same_v<Input, no_input>) s.serializer_.write(input, bytes);
    s.save_first_input(bytes, with_manifest);
  }
  /// The fingerprint of the manifest a run of the flow writes.
  static std::uint64_t fingerprint(const checkpoint<Store, Serializer>& cp) { return manifest(cp.options.version)->fingerprint; }

  /// Before the run starts: checks or writes the manifest, checks or writes the input, and restores
  /// every step that has a saved output. Throws checkpoint_error or store_error; runs nothing.
  void open(static_run<Flow, Input>& run) {
    const auto reading = this->prefetch();
    std::vector<std::byte> input;
    if constexpr (!std::is_same_v<Input, no_input>) serializer_.write(run.input(), input);
    this->check_sealing(run);
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
    this->find_saved_elements(run);
    this->mark_in_progress(left);
    this->prepare_store(left, left_names, record_guess);
  }

  // On the hot path: buffers reused per thread, keys made once per flow type.
  void save(run_state_base& run, std::uint32_t step) override {
    thread_local std::vector<std::byte> payload;
    payload.clear();
    encoders[step](serializer_, run.output(step), payload);
    this->save_step(step_keys()[step], Flow::graph.names[step], payload, run.sensitive(step));
    release_if_large(payload);
  }

  void save_element(run_state_base& run, std::uint32_t step, std::size_t index, std::size_t count,
                    const void* value) override {
    const element_fns& f = elements[step];
    if (f.encode == nullptr && value != nullptr) return;  // (see element_codec)
    this->save_element_with(run, step, index, count, run.sensitive(step), [&](std::vector<std::byte>& out) {
      if (value != nullptr) f.encode(serializer_, value, out);
    });
  }
  std::size_t load_elements(run_state_base& run, std::uint32_t step, std::size_t count, element_sink& sink) override {
    const element_fns& f = elements[step];
    return this->load_elements_with(run, step, count, [&](std::size_t index, std::span<const std::byte> bytes) {
      const std::unique_ptr<void, void (*)(void*) noexcept> value(f.decode(serializer_, bytes), f.destroy);
      sink.restored(index, value.get());  // (as runtime_session does)
    });
  }

 private:
  /// The first step whose output type T has `is_bad.template operator()<T>()`, or npos.
  template <class Predicate>
  static consteval std::uint32_t first_output_where(Predicate is_bad) {
    const auto bad = [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<bool, n + 1>{is_bad.template operator()<output_t<I>>()..., false};
    }(std::make_index_sequence<n>{});
    for (std::uint32_t k = 0; k != n; ++k)
      if (bad[k]) return k;
    return npos;
  }
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

  struct element_fns {
    encode_fn encode;
    void* (*decode)(const Serializer&, std::span<const std::byte>);
    void (*destroy)(void*) noexcept;
  };
  static constexpr std::array<element_fns, n + 1> elements = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<element_fns, n + 1>{
        element_fns{element_codec<Serializer, output_t<I>>::encode, &element_codec<Serializer, output_t<I>>::decode,
                    element_codec<Serializer, output_t<I>>::destroy}...,
        element_fns{}};
  }(std::make_index_sequence<n>{});

  Serializer serializer_;
};

}  // namespace lightflow::detail

#endif
