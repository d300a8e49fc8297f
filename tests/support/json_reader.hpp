// A small JSON reader for tests: enough to parse what lightflow writes (traces) and check it.
#ifndef LIGHTFLOW_TESTS_JSON_READER_HPP
#define LIGHTFLOW_TESTS_JSON_READER_HPP

#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace test_json {

struct value;
using object = std::map<std::string, value>;
using array = std::vector<value>;
struct value {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>, std::shared_ptr<object>> v;
  bool is_object() const { return std::holds_alternative<std::shared_ptr<object>>(v); }
  bool is_array() const { return std::holds_alternative<std::shared_ptr<array>>(v); }
  bool is_number() const { return std::holds_alternative<double>(v); }
  bool is_string() const { return std::holds_alternative<std::string>(v); }
  const object& obj() const { return *std::get<std::shared_ptr<object>>(v); }
  const array& arr() const { return *std::get<std::shared_ptr<array>>(v); }
  double num() const { return std::get<double>(v); }
  const std::string& str() const { return std::get<std::string>(v); }
  const value& operator[](const std::string& k) const {
    auto it = obj().find(k);
    if (it == obj().end()) throw std::runtime_error("json: no member " + k);
    return it->second;
  }
  bool has(const std::string& k) const { return is_object() && obj().count(k) != 0; }
};

class reader {
 public:
  explicit reader(const std::string& text) : s_(text) {}
  value parse() {
    value v = any();
    ws();
    if (i_ != s_.size()) fail("trailing characters");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw std::runtime_error("json: " + why + " at " + std::to_string(i_)); }
  void ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() {
    ws();
    if (i_ >= s_.size()) fail("unexpected end");
    return s_[i_];
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected ") + c);
    ++i_;
  }
  value any() {
    const char c = peek();
    if (c == '{') {
      ++i_;
      auto o = std::make_shared<object>();
      if (peek() == '}') return ++i_, value{o};
      for (;;) {
        std::string k = string();
        expect(':');
        (*o)[k] = any();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect('}');
        return value{o};
      }
    }
    if (c == '[') {
      ++i_;
      auto a = std::make_shared<array>();
      if (peek() == ']') return ++i_, value{a};
      for (;;) {
        a->push_back(any());
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect(']');
        return value{a};
      }
    }
    if (c == '"') return value{string()};
    if (s_.compare(i_, 4, "true") == 0) return i_ += 4, value{true};
    if (s_.compare(i_, 5, "false") == 0) return i_ += 5, value{false};
    if (s_.compare(i_, 4, "null") == 0) return i_ += 4, value{nullptr};
    char* end = nullptr;
    const double d = std::strtod(s_.c_str() + i_, &end);
    if (end == s_.c_str() + i_) fail("unexpected character");
    i_ = static_cast<std::size_t>(end - s_.c_str());
    return value{d};
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c == '\\') {
        if (i_ >= s_.size()) fail("bad escape");
        const char e = s_[i_++];
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'u': out += static_cast<char>(std::strtol(s_.substr(i_, 4).c_str(), nullptr, 16)); i_ += 4; break;
          default: out += e;
        }
      } else {
        if (static_cast<unsigned char>(c) < 0x20) fail("control character in string");
        out += c;
      }
    }
    expect('"');
    return out;
  }
  const std::string& s_;
  std::size_t i_ = 0;
};

inline value parse(const std::string& text) { return reader(text).parse(); }

}  // namespace test_json

#endif
