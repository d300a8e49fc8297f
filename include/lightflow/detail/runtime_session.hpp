// The checkpoint of a runtime flow's run: each step's result and key/value writes, and the run's
// `lf::values` input, saved with the binary serializer. A restored value is decoded with the type
// it was saved with, found by name among the types the program registered (every `lf::key`'s type,
// every runtime step's result type): a type the program no longer has is refused, not guessed.
//
// A step's record holds: a byte (1 if it returned a value), then that value as (type name, bytes),
// then the count of its writes and each as (key, type name, bytes); strings and byte blobs are
// length-prefixed as in serializer.hpp. The input is the count of its entries, then each entry. A
// type name is the type's checkpoint name (type_tag.hpp); records written before type tags hold the
// compiler's spelling instead, which the registry also finds (erased_value.hpp).
#ifndef LIGHTFLOW_DETAIL_RUNTIME_SESSION_HPP
#define LIGHTFLOW_DETAIL_RUNTIME_SESSION_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lightflow/detail/checkpoint_option.hpp"
#include "lightflow/detail/element_session.hpp"
#include "lightflow/detail/erased_value.hpp"
#include "lightflow/detail/manifest.hpp"
#include "lightflow/detail/runtime_graph.hpp"
#include "lightflow/detail/runtime_run.hpp"
#include "lightflow/errors.hpp"
#include "lightflow/key.hpp"
#include "lightflow/serializer.hpp"

namespace lightflow::detail {

template <class Store>
class runtime_session final : public element_session<Store> {
  using base = element_session<Store>;

 public:
  runtime_session(const checkpoint<Store, binary_serializer>& cp, const runtime_graph& g)
      : base(cp.store, g.flow_name, cp.run_id, cp.options,
             std::make_shared<const manifest_text>(manifest(g, cp.options.version))),
        graph_(&g) {}

  /// Reads the run's input from the store, for resume().
  static values load_input(const checkpoint<Store, binary_serializer>& cp, const runtime_graph& g) {
    runtime_session probe(cp, g);
    const record rec = probe.load_saved_input();
    values input;
    try {
      binary_reader r(rec.payload);
      for (std::size_t k = 0, n = r.size(); k != n; ++k) {
        auto [name, value] = probe.read_entry(r, "the input");
        input.set_erased(std::move(name), std::move(value));
      }
      if (r.remaining() != 0) throw decode_error("lightflow: unexpected bytes after the entries");
    } catch (const checkpoint_error&) {
      throw;
    } catch (const std::exception& e) {
      throw probe.error("the input", std::string("cannot be decoded: ") + e.what());
    }
    return input;
  }

  /// Saves the input of a run that has not started (a queued run), for resume() to start it.
  static void save_input(const checkpoint<Store, binary_serializer>& cp, const runtime_graph& g, const values& input,
                         bool with_manifest) {
    runtime_session s(cp, g);
    s.save_first_input(s.encode_input(input), with_manifest);
  }
  /// The fingerprint of the manifest a run of the flow writes.
  static std::uint64_t fingerprint(const checkpoint<Store, binary_serializer>& cp, const runtime_graph& g) {
    return runtime_session(cp, g).fingerprint_;
  }

  /// Before the run starts: checks or writes the manifest and the input, and restores every step
  /// that has a record. Throws checkpoint_error or store_error; runs nothing.
  void open(runtime_run& run) {
    const auto reading = this->prefetch();
    const std::vector<std::byte> input = encode_input(run.input_values());
    const runtime_graph& g = run.graph_data();
    this->check_sealing(run, g.sensitive_keys);
    if (!this->check_manifest(true)) {
      this->start_fresh(input);
      return this->prepare_store(g.size(), g.name_bytes, record_guess);
    }
    this->check_input(input);
    run.mark_resumed();
    std::size_t left = g.size(), left_names = g.name_bytes;  // the steps that will run, and save
    for (std::uint32_t i = 0; i != g.size(); ++i) {
      const auto rec = this->load_step(step_key(g.name(i)), g.name(i));
      if (!rec) continue;
      const std::string what = "the record of step \"" + std::string(g.name(i)) + "\"";
      try {
        binary_reader r(rec->payload);
        if (r.integer<std::uint8_t>() != 0) {
          auto [type, bytes] = read_value(r);
          // (The manifest names the type already, but a run begun by runtime manifest 1 did not.)
          // Checked before decoding; the saved name may be a format-1 spelling of the same type.
          const erased_type* saved = type_registry::instance().find(type);
          if (saved == nullptr || saved != g.result_type(i))
            throw this->error(what, "holds " + with_article(saved != nullptr ? saved->name : type) +
                                        ", but the step now returns " + std::string(result_type_name(g.result_type(i))) +
                                        ": the flow's definition changed; pass checkpoint_options{.discard_stale = true} "
                                        "to start over");
          run.own(i).result = decode(saved, type, bytes, what);
        }
        for (std::size_t k = 0, n = r.size(); k != n; ++k) {
          auto [name, value] = read_entry(r, what);
          run.own(i).writes.emplace_back(std::move(name), std::move(value));
        }
        if (r.remaining() != 0) throw decode_error("lightflow: unexpected bytes after the writes");
      } catch (const checkpoint_error&) {
        throw;
      } catch (const std::exception& e) {
        throw this->error(what, std::string("cannot be decoded: ") + e.what());
      }
      run.note_writes(i);
      run.restore(i);
      --left;
      left_names -= g.name(i).size();
    }
    this->find_saved_elements(run);
    this->mark_in_progress(left);
    this->prepare_store(left, left_names, record_guess);
  }

  // On the hot path: nothing is allocated unless a value cannot be encoded (the message is made then).
  void save(run_state_base& base_run, std::uint32_t step) override {
    auto& run = static_cast<runtime_run&>(base_run);
    const std::string_view name = run.graph_data().name(step);
    thread_local std::vector<std::byte> payload;
    thread_local std::string key;
    payload.clear();
    binary_writer w(payload);
    const step_data* d = run.data_of(step);
    const bool has_result = d != nullptr && d->result.has_value();
    w.integer(static_cast<std::uint8_t>(has_result ? 1 : 0));
    if (has_result) write_value(w, d->result, [&] { return "the output of step \"" + std::string(name) + "\" (its result)"; });
    w.size(d == nullptr ? 0 : d->writes.size());
    if (d != nullptr)
      for (const auto& write : d->writes) {
        write_text(w, write.first);
        write_value(w, write.second, [&] { return "the output of step \"" + std::string(name) + "\", key \"" + std::string(write.first) + "\""; });
      }
    key.assign(step_key_prefix).append(name);  // step_key(name), in a reused string
    this->save_step(key, name, payload, run.sensitive(step) || (d != nullptr && writes_sensitive(*d)));
    release_if_large(payload);
  }

  // A map step's element: of the std::vector its step returns (none when its callable returns nothing).
  void save_element(run_state_base& run, std::uint32_t step, std::size_t index, std::size_t count,
                    const void* value) override {
    const erased_type* t = element_type(step);
    this->save_element_with(run, step, index, count, run.sensitive(step), [&](std::vector<std::byte>& out) {
      if (value == nullptr) return;
      if (t == nullptr || t->encode == nullptr)
        throw checkpoint_error("lightflow: the elements of map step \"" + std::string(graph_->name(step)) + "\" are " +
                               with_article(t != nullptr ? t->name : std::string_view("a type")) +
                               ", which the binary serializer cannot encode, so the run cannot be checkpointed");
      t->encode(value, out);
    });
  }
  std::size_t load_elements(run_state_base& run, std::uint32_t step, std::size_t count, element_sink& sink) override {
    const erased_type* t = element_type(step);
    return this->load_elements_with(run, step, count, [&](std::size_t index, std::span<const std::byte> bytes) {
      if (t == nullptr) {
        if (!bytes.empty()) throw decode_error("the element of a map step whose callable returns nothing has a payload");
        return sink.restored(index, nullptr);
      }
      if (t->decode == nullptr) throw decode_error("the binary serializer cannot decode " + with_article(t->name));
      const std::unique_ptr<void, void (*)(void*) noexcept> value(t->decode(bytes), t->destroy);
      sink.restored(index, value.get());
    });
  }

  /// The flow's definition as the run's manifest holds it (detail/manifest.hpp). Throws
  /// checkpoint_error when a step returns a type without a checkpoint name (one the binary
  /// serializer cannot encode fails its step when it returns, as a key's value does).
  static std::string manifest(const runtime_graph& g, std::uint32_t version) {
    for (std::uint32_t i = 0; i != g.size(); ++i)
      if (const erased_type* t = g.result_type(i); t != nullptr && t->encode != nullptr && !t->tagged)
        throw checkpoint_error("lightflow: step \"" + std::string(g.name(i)) + "\" of flow \"" + g.flow_name +
                               "\" cannot be checkpointed: it returns " + with_article(t->name) + std::string(untagged));
    return write_manifest(manifest_v2, g.view, version, binary_serializer::name, "lightflow::values",
                          [&g](std::uint32_t i) { return result_type_name(g.result_type(i)); });
  }
  /// An input saved by an earlier version names its types by the compiler's spelling: the same input
  /// when every entry has the same key, the same type (by checkpoint name or by that spelling) and
  /// the same bytes.
  bool same_input(std::span<const std::byte> saved, std::span<const std::byte> now) const override {
    try {
      binary_reader a(saved), b(now);
      const std::size_t n = a.size();
      if (n != b.size()) return false;
      for (std::size_t k = 0; k != n; ++k) {
        std::string key_a, key_b;
        a(key_a), b(key_b);
        auto [type_a, bytes_a] = read_value(a);
        auto [type_b, bytes_b] = read_value(b);
        if (key_a != key_b || bytes_a != bytes_b) return false;
        const erased_type* t = type_registry::instance().find(type_a);
        if (t == nullptr || t != type_registry::instance().find(type_b)) return false;
      }
      return a.remaining() == 0 && b.remaining() == 0;
    } catch (const std::exception&) {
      return false;
    }
  }
  /// Earlier versions' texts: types spelled by the compiler (runtime manifest 2), or not named (1).
  std::vector<std::string> legacy_manifests() const override {
    const auto spelled = [this](std::uint32_t i) {
      const erased_type* t = graph_->result_type(i);
      return t == nullptr ? std::string_view("void") : t->spelling;
    };
    std::vector<std::string> texts;
    for (const manifest_form* form : {&runtime_manifest_v2, &runtime_manifest_v1})
      texts.push_back(write_manifest(*form, graph_->view, this->options_.version, binary_serializer::name, "", spelled));
    return texts;
  }

 private:
  std::vector<std::byte> encode_input(const values& in) const {
    std::vector<std::byte> input;
    binary_writer w(input);
    const auto& entries = in.entries();
    w.size(entries.size());
    for (const auto& entry : entries) {  // (not a structured binding: clang 14 cannot capture one)
      write_text(w, entry.first);
      write_value(w, *entry.second, [&] { return "the input, key \"" + std::string(entry.first) + "\""; });
    }
    return input;
  }
  // For prepare_store: a record's bytes besides its step's name, guessed (~60 of framing, and the
  // result with its type's name).
  static constexpr std::size_t record_guess = 192;
  static constexpr std::string_view untagged =
      ", a type without a checkpoint name, which checkpoints record so that any compiler reads them: give it a "
      "member `static constexpr std::string_view lightflow_type_name = \"...\";` or specialize lightflow::type_tag "
      "(see lightflow/type_tag.hpp)";
  const runtime_graph* graph_;

  const erased_type* element_type(std::uint32_t step) const noexcept {
    const erased_type* t = graph_->result_type(step);
    return t != nullptr ? t->element : nullptr;
  }

  // Whether a step wrote a key the flow marks sensitive.
  bool writes_sensitive(const step_data& d) const {
    const auto& keys = graph_->sensitive_keys;
    if (keys.empty()) return false;  // (most flows: no pass over the writes)
    for (const auto& write : d.writes)
      if (std::find(keys.begin(), keys.end(), write.first) != keys.end()) return true;
    return false;
  }

  // Text as the binary serializer writes a std::string: its size, then its bytes.
  static void write_text(binary_writer& w, std::string_view text) {
    w.size(text.size());
    w.bytes(text.data(), text.size());
  }
  // A value: its type's name, then its encoding as a length-prefixed blob. `what()` names the value
  // in the error (made only then).
  template <class Describe>
  static void write_value(binary_writer& w, const erased_value& v, const Describe& what) {
    thread_local std::vector<std::byte> bytes;
    bytes.clear();
    if (!v.encode(bytes))
      throw checkpoint_error("lightflow: " + what() + " is " + with_article(v.type()) +
                             ", which the binary serializer cannot encode, so the run cannot be checkpointed");
    if (!v.type_info()->tagged)
      throw checkpoint_error("lightflow: " + what() + " is " + with_article(v.type()) + std::string(untagged));
    write_text(w, v.type());
    w.size(bytes.size());
    w.bytes(bytes.data(), bytes.size());
    release_if_large(bytes);
  }
  static std::pair<std::string, std::vector<std::byte>> read_value(binary_reader& r) {
    std::string type;
    r(type);
    std::vector<std::byte> bytes(r.size());
    r.bytes(bytes.data(), bytes.size());
    return {std::move(type), std::move(bytes)};
  }
  std::pair<std::string, erased_value> read_entry(binary_reader& r, const std::string& what) const {
    std::string key;
    r(key);
    auto [type, bytes] = read_value(r);
    return {std::move(key), decode(type_registry::instance().find(type), type, bytes, what + ", key \"" + key + "\",")};
  }
  /// A value saved as `type`, which the registry found as `t` (null: not found).
  erased_value decode(const erased_type* t, const std::string& type, std::span<const std::byte> bytes,
                      const std::string& what) const {
    if (t == nullptr || t->decode == nullptr)
      throw this->error(what, "holds " + with_article(type) +
                                  ", a type this program has not registered (make an lf::key of it, or a runtime "
                                  "step that returns it, before resuming)");
    return erased_value::decode(*t, bytes);
  }
};

}  // namespace lightflow::detail

#endif
