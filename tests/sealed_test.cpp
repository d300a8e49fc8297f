// Sensitive values sealed in checkpoints (checkpoint_options::cipher, lightflow/sodium.hpp): what the
// store holds, what a resume gets back, and what is refused (no cipher, another key, altered bytes).
#include <lightflow/lightflow.hpp>
#include <lightflow/sodium.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "support/files.hpp"
#include "support/two_kinds.hpp"

namespace lf = lightflow;
namespace fs = std::filesystem;
using two_kinds::runtime_flows;
using two_kinds::static_flows;

namespace {

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const std::string secret_input = "input-passphrase-5f2c";
const std::string secret_token = "token-9a7d41e3";
const std::string plain_note = "plain-note-c0ffee";
const lf::key<std::string> passphrase{"passphrase"};

struct counters {
  std::atomic<int> login{0}, use{0};
  std::atomic<bool> fail{true};
};

// login (sensitive) -> use, and note: `use` throws while `fail` is set.
template <class Kind>
auto make_flow(counters& c) {
  const auto use = [&c](const std::string& token) {
    ++c.use;
    if (c.fail) throw std::runtime_error("the service is down");
    return token.size();
  };
  if constexpr (Kind::is_static) {
    return lf::flow<"vault">(lf::step<"login">([&c](const std::string& in) {
                               ++c.login;
                               return in == secret_input ? secret_token : std::string("wrong");
                             }).sensitive(),
                             lf::step<"use", "login">(use), lf::step<"note">([] { return plain_note; }));
  } else {
    lf::runtime_flow f{"vault"};
    f.add("login", [&c](lf::context& ctx) {
       ++c.login;
       return ctx.get(passphrase) == secret_input ? secret_token : std::string("wrong");
     }).sensitive();
    f.add("use", [use](lf::context& ctx) { return use(ctx.result<std::string>("login")); }).after("login");
    f.add("note", [] { return plain_note; });
    return f;
  }
}

template <class Kind>
auto input() {
  return two_kinds::input<Kind>(secret_input, passphrase);
}
template <class Kind, class Flow, class Checkpoint>
auto resume(lf::executor& pool, const Flow& f, const Checkpoint& cp) {
  if constexpr (Kind::is_static)
    return pool.resume<std::string>(f, cp);
  else
    return pool.resume(f, cp);
}

// Every byte of every file under `dir`.
std::string bytes_under(const fs::path& dir) {
  std::string all;
  for (const auto& entry : fs::recursive_directory_iterator(dir))
    if (entry.is_regular_file()) {
      const auto bytes = test_files::read_file(entry.path());
      all.append(bytes.begin(), bytes.end());
    }
  return all;
}
// Every record of a run in a memory store.
std::string bytes_of(lf::memory_store& store, std::string_view flow, std::string_view run) {
  std::string all;
  for (const std::string& key : store.list(flow, run)) {
    const auto bytes = *store.load(flow, run, key);
    all.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  return all;
}

}  // namespace

TEST_CASE("sodium_cipher: a 32-byte key; what it seals opens with the same key and context only", "[sealed]") {
  CHECK_THROWS_AS(lf::sodium_cipher(std::vector<std::byte>(16)), lf::usage_error);
  const auto key = lf::sodium_cipher::make_key();
  CHECK(key != lf::sodium_cipher::make_key());
  const lf::sodium_cipher cipher(key);
  const std::string text = "a value worth hiding";
  const auto plain = std::as_bytes(std::span(text));
  const auto context = std::as_bytes(std::span(std::string_view("record 1")));
  std::vector<std::byte> sealed;
  cipher.seal(plain, context, sealed);
  CHECK(sealed.size() == plain.size() + 24 + 16);
  CHECK_FALSE(contains(std::string(reinterpret_cast<const char*>(sealed.data()), sealed.size()), "worth hiding"));
  std::vector<std::byte> again;
  cipher.seal(plain, context, again);
  CHECK(again != sealed);  // a fresh nonce each time

  std::vector<std::byte> opened;
  REQUIRE(cipher.open(sealed, context, opened));
  CHECK(std::string(reinterpret_cast<const char*>(opened.data()), opened.size()) == text);

  std::vector<std::byte> none;
  CHECK_FALSE(lf::sodium_cipher(lf::sodium_cipher::make_key()).open(sealed, context, none));
  CHECK_FALSE(cipher.open(sealed, std::as_bytes(std::span(std::string_view("record 2"))), none));
  auto altered = sealed;
  altered[30] ^= std::byte{1};
  CHECK_FALSE(cipher.open(altered, context, none));
  CHECK_FALSE(cipher.open(std::span(sealed).first(20), context, none));
  CHECK(none.empty());
}

TEMPLATE_TEST_CASE("a sensitive step's output and the input are sealed in the store, and opened on resume", "[sealed]",
                   static_flows, runtime_flows) {
  test_files::temp_dir dir("lightflow-sealed");
  lf::file_store store(dir.path);
  const lf::sodium_cipher cipher(lf::sodium_cipher::make_key());
  const lf::checkpoint_options sealing{.cipher = &cipher};
  lf::executor pool{2};
  counters c;
  auto f = make_flow<TestType>(c);

  auto first = pool.run(f, input<TestType>(), lf::checkpoint{store, "r1", sealing});
  REQUIRE_FALSE(first.ok());
  CHECK(first.status("use") == lf::step_status::failed);
  const std::string stored = bytes_under(dir.path);
  CHECK(contains(stored, plain_note));  // an output that is not sensitive is as the serializer wrote it
  CHECK_FALSE(contains(stored, secret_token));
  CHECK_FALSE(contains(stored, secret_input));

  c.fail = false;
  const lf::sodium_cipher same_key = cipher;  // (another object: only the key matters)
  auto second = resume<TestType>(pool, f, lf::checkpoint{store, "r1", lf::checkpoint_options{.cipher = &same_key}});
  REQUIRE(second.ok());
  CHECK(second.restored() == 2);  // login, note
  CHECK(c.login == 1);
  CHECK(c.use == 2);
  CHECK(two_kinds::value_of<"login", std::string>(second) == secret_token);
  CHECK(two_kinds::value_of<"use", std::size_t>(second) == secret_token.size());
}

TEMPLATE_TEST_CASE("sealed records are refused without the cipher, with another key, or altered, and left as they are",
                   "[sealed]", static_flows, runtime_flows) {
  lf::memory_store store;
  const lf::sodium_cipher cipher(lf::sodium_cipher::make_key());
  const lf::sodium_cipher other(lf::sodium_cipher::make_key());
  lf::executor pool{2};
  counters c;
  auto f = make_flow<TestType>(c);
  REQUIRE_FALSE(
      pool.run(f, input<TestType>(), lf::checkpoint{store, "r2", lf::checkpoint_options{.cipher = &cipher}}).ok());
  const std::string before = bytes_of(store, "vault", "r2");
  c.fail = false;

  SECTION("without a cipher") {
    CHECK_THROWS_WITH(resume<TestType>(pool, f, lf::checkpoint{store, "r2"}),
                      Catch::Matchers::Contains("the input is sealed (it holds a sensitive value): give the cipher it "
                                                "was sealed with as checkpoint_options{.cipher = &c}"));
  }
  SECTION("with another key") {
    CHECK_THROWS_WITH(
        resume<TestType>(pool, f, lf::checkpoint{store, "r2", lf::checkpoint_options{.cipher = &other}}),
        Catch::Matchers::Contains(
            "run \"r2\"): the input does not open with the cipher given (libsodium XChaCha20-Poly1305): it was "
            "sealed with another key, or altered; it was not used"));
  }
  SECTION("a step's record altered (its checksum made right again)") {
    const auto rec = lf::detail::decode_record(*store.load("vault", "r2", "step/login"));
    REQUIRE(rec.sealed);
    auto payload = rec.payload;
    payload.back() ^= std::byte{0x40};
    store.save("vault", "r2", "step/login",
               lf::detail::encode_record(rec.kind, rec.fingerprint, rec.version, rec.binding, rec.step, payload, true));
    CHECK_THROWS_WITH(resume<TestType>(pool, f, lf::checkpoint{store, "r2", lf::checkpoint_options{.cipher = &cipher}}),
                      Catch::Matchers::Contains("the record of step \"login\" does not open with the cipher given"));
    CHECK(c.use == 1);  // nothing ran
    return;             // (the store holds the altered record)
  }
  CHECK(c.use == 1);
  CHECK(bytes_of(store, "vault", "r2") == before);  // nothing overwritten
  auto resumed = resume<TestType>(pool, f, lf::checkpoint{store, "r2", lf::checkpoint_options{.cipher = &cipher}});
  CHECK(resumed.ok());
  CHECK(c.login == 1);
}

TEMPLATE_TEST_CASE("a run with a sensitive step and no cipher is refused before it starts", "[sealed]", static_flows,
                   runtime_flows) {
  lf::memory_store store;
  lf::executor pool{2};
  counters c;
  c.fail = false;
  auto f = make_flow<TestType>(c);
  CHECK_THROWS_WITH(
      pool.run(f, input<TestType>(), lf::checkpoint{store, "r3"}),
      Catch::Matchers::Contains("lightflow: step \"login\" of flow \"vault\" is marked sensitive, but the "
                                "checkpoint of run \"r3\" has no cipher to seal it with"));
  CHECK(c.login == 0);
  CHECK(store.list("vault", "r3").empty());
  CHECK(pool.run(f, input<TestType>()).ok());  // without a checkpoint, nothing is stored: it runs
}

TEMPLATE_TEST_CASE("records stored in the clear before a step was marked sensitive are read back", "[sealed]",
                   static_flows, runtime_flows) {
  lf::memory_store store;
  const lf::sodium_cipher cipher(lf::sodium_cipher::make_key());
  lf::executor pool{2};
  counters c;
  if constexpr (TestType::is_static) {
    auto plain = lf::flow<"vault">(
        lf::step<"login">([](const std::string&) { return secret_token; }),
        lf::step<"use", "login">([](const std::string&) -> std::size_t { throw std::runtime_error("down"); }),
        lf::step<"note">([] { return plain_note; }));
    REQUIRE_FALSE(pool.run(plain, input<TestType>(), lf::checkpoint{store, "r4"}).ok());
  } else {
    lf::runtime_flow plain{"vault"};
    plain.add("login", [] { return secret_token; });
    plain.add("use", []() -> std::size_t { throw std::runtime_error("down"); }).after("login");
    plain.add("note", [] { return plain_note; });
    REQUIRE_FALSE(pool.run(plain, input<TestType>(), lf::checkpoint{store, "r4"}).ok());
  }
  REQUIRE(contains(bytes_of(store, "vault", "r4"), secret_token));
  c.fail = false;
  auto resumed = resume<TestType>(pool, make_flow<TestType>(c),
                                  lf::checkpoint{store, "r4", lf::checkpoint_options{.cipher = &cipher}});
  REQUIRE(resumed.ok());
  CHECK(c.login == 0);
  CHECK(two_kinds::value_of<"use", std::size_t>(resumed) == secret_token.size());
}

TEST_CASE("a runtime flow's sensitive key seals the records of the steps that write it, and the input",
          "[sealed][runtime]") {
  const lf::key<std::string> password{"password"};
  const lf::key<std::string> note{"note"};
  std::atomic<bool> fail{true};
  std::atomic<int> wrote{0};
  lf::runtime_flow f{"keys"};
  f.add("a", [&](lf::context& ctx) {
    ++wrote;
    ctx.set(password, ctx.get(passphrase) + "-derived");
    ctx.set(note, std::string("note-from-a-77"));
  });
  f.add("b", [&](lf::context& ctx) { ctx.set(note, std::string("note-from-b-88")); });
  f.add("c", [&](lf::context& ctx) {
     if (fail) throw std::runtime_error("down");
     return ctx.get(password);
   }).after("a", "b");
  f.sensitive(passphrase).sensitive(password);
  lf::memory_store store;
  lf::executor pool{2};
  lf::values in;
  in.set(passphrase, secret_input);

  CHECK_THROWS_WITH(pool.run(f, in, lf::checkpoint{store, "k"}),
                    Catch::Matchers::Contains("lightflow: key \"passphrase\" of flow \"keys\" is marked sensitive"));
  CHECK(wrote == 0);

  const lf::sodium_cipher cipher(lf::sodium_cipher::make_key());
  const lf::checkpoint cp{store, "k", lf::checkpoint_options{.cipher = &cipher}};
  REQUIRE_FALSE(pool.run(f, in, cp).ok());
  const auto a = lf::detail::decode_record(*store.load("keys", "k", "step/a"));
  const auto b = lf::detail::decode_record(*store.load("keys", "k", "step/b"));
  CHECK(a.sealed);
  CHECK_FALSE(b.sealed);
  const std::string stored = bytes_of(store, "keys", "k");
  CHECK_FALSE(contains(stored, secret_input));
  CHECK_FALSE(contains(stored, "note-from-a-77"));  // a's note is sealed with its password...
  CHECK(contains(stored, "note-from-b-88"));        // ...b's is not

  fail = false;
  auto resumed = pool.resume(f, cp);
  REQUIRE(resumed.ok());
  CHECK(wrote == 1);
  CHECK(resumed.get<std::string>("c") == secret_input + "-derived");
}

TEST_CASE("merges keep sensitive steps and keys", "[sealed][runtime]") {
  const lf::key<std::string> password{"password"};
  lf::runtime_flow keys{"keys"};
  keys.add("k", [&](lf::context& ctx) { ctx.set(password, std::string("x")); });
  keys.sensitive(password);
  lf::runtime_flow steps{"steps"};
  steps.add("s", [] { return 1; }).sensitive();
  auto typed = lf::flow<"typed">(lf::step<"t">([] { return 2; }).sensitive());
  lf::memory_store store;
  lf::executor pool{2};

  const auto refused = [&](lf::runtime_flow& merged, const std::string& what) {
    CHECK_THROWS_WITH(pool.run(merged, lf::values{}, lf::checkpoint{store, "m"}),
                      Catch::Matchers::Contains(what + " of flow \"all\" is marked sensitive"));
  };
  lf::runtime_flow all{"all"};
  all.merge(keys);
  refused(all, "key \"password\"");
  lf::runtime_flow all_steps{"all"};
  all_steps.merge(steps);
  refused(all_steps, "step \"steps.s\"");
  lf::runtime_flow all_typed{"all"};
  all_typed.merge(typed);
  refused(all_typed, "step \"typed.t\"");
  lf::runtime_flow unified{"all"};
  unified.add("s", [] { return 3; });
  unified.merge(steps, lf::merge_mode::unify);  // the target's step becomes sensitive too
  refused(unified, "step \"s\"");
}

TEMPLATE_TEST_CASE("a sensitive map step's elements are sealed as each is saved, and opened on resume", "[sealed][map]",
                   static_flows, runtime_flows) {
  lf::memory_store store;
  const lf::sodium_cipher cipher(lf::sodium_cipher::make_key());
  const lf::checkpoint_options sealing{.cipher = &cipher};
  std::atomic<int> calls{0};
  std::atomic<bool> fail{true};
  const auto reveal = [&](const int& x) {
    ++calls;
    if (fail && x == 3) throw std::runtime_error("not yet");
    return "secret-" + std::to_string(x) + "-" + secret_token;
  };
  const auto list = [] { return std::vector<int>{0, 1, 2, 3}; };
  auto f = [&] {
    if constexpr (TestType::is_static) {
      return lf::flow<"vault">(lf::step<"list">(list), lf::map_step<"reveal", "list">(reveal).sensitive());
    } else {
      lf::runtime_flow rf{"vault"};
      rf.add("list", list);
      rf.map("reveal", "list", reveal).sensitive();
      return rf;
    }
  }();
  lf::executor pool{2};
  const auto first = [&] {
    if constexpr (TestType::is_static) return pool.run(f, lf::checkpoint{store, "m1", sealing});
    else return pool.run(f, lf::values{}, lf::checkpoint{store, "m1", sealing});
  }();
  REQUIRE(first.status("reveal") == lf::step_status::failed);
  std::size_t elements = 0;
  for (const auto& key : store.list("vault", "m1")) elements += key.rfind("elem/reveal/", 0) == 0 ? 1 : 0;
  CHECK(elements == 3);
  CHECK_FALSE(contains(bytes_of(store, "vault", "m1"), secret_token));

  fail = false;
  calls = 0;
  const auto second = pool.resume(f, lf::checkpoint{store, "m1", sealing});
  REQUIRE(second.ok());
  CHECK(calls == 1);  // element 3 only: the others were opened from their sealed records
  const auto out = two_kinds::value_of<"reveal", std::vector<std::string>>(second);
  REQUIRE(out.size() == 4);
  CHECK(out[0] == "secret-0-" + secret_token);
  CHECK(out[3] == "secret-3-" + secret_token);
  CHECK_FALSE(contains(bytes_of(store, "vault", "m1"), secret_token));
  CHECK_THROWS_WITH(pool.resume(f, lf::checkpoint{store, "m1"}), Catch::Matchers::Contains("is sealed"));
}
