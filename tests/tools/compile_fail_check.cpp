// Compiles a snippet that must not compile and checks that one line of the compiler's output carries
// the message the snippet expects. The snippet names it in a line "// expected-error: <text>".
// The compilers' spellings of the message are decoded first: g++ prints the string with octal escapes
// for bytes above 127 (sign-extended, \37777777651), clang 14 prints it as a list of chars ('a', 'b').
//
// Every "expected-error" line must be found, and the compiler must report exactly one error, the one
// that carries the first expected text: the library's message stops the compilation without a
// cascade of errors after it, or before it in the user's code. The snippet must also compile with
// -DLIGHTFLOW_NO_MISTAKE, which removes its mistake, so that no unrelated error can make the test pass
// (`--no-control` skips that second compile: one compiler's build checks it, the other need not).
//
// usage: compile_fail_check [--no-control] <snippet.cpp> <compiler> <arguments...>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Undo a compiler's escapes: \ooo (any number of octal digits, keep the low byte), \" \\ \n.
std::string unescape(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      if (s[i + 1] >= '0' && s[i + 1] <= '7') {
        unsigned long v = 0;
        std::size_t j = i + 1;
        while (j < s.size() && s[j] >= '0' && s[j] <= '7') v = v * 8 + static_cast<unsigned long>(s[j++] - '0');
        out += static_cast<char>(v & 0xff);
        i = j - 1;
        continue;
      }
      if (s[i + 1] == 'x') {  // clang: '\xe9'
        unsigned long v = 0;
        std::size_t j = i + 2;
        while (j < s.size() && std::isxdigit(static_cast<unsigned char>(s[j])))
          v = v * 16 + static_cast<unsigned long>(std::isdigit(static_cast<unsigned char>(s[j])) ? s[j] - '0' : (std::tolower(s[j]) - 'a' + 10)), ++j;
        out += static_cast<char>(v & 0xff);
        i = j - 1;
        continue;
      }
      out += s[i + 1] == 'n' ? '\n' : s[i + 1];
      ++i;
      continue;
    }
    out += s[i];
  }
  return out;
}

// clang: 'l', 'i', 'g', ... -> lig...
std::string join_char_lists(const std::string& line) {
  std::string out;
  std::size_t i = 0;
  while (i < line.size()) {
    // a char literal followed by ", '" continues a list
    if (line[i] == '\'' && i + 2 < line.size()) {
      std::size_t j = i + 1;
      std::string lit;
      while (j < line.size() && line[j] != '\'') {
        if (line[j] == '\\' && j + 1 < line.size()) lit += line[j++];
        lit += line[j++];
      }
      if (j < line.size() && !lit.empty() && lit.size() <= 5) {
        out += unescape(lit);
        i = j + 1;
        if (line.compare(i, 3, ", '") == 0) i += 2;
        continue;
      }
    }
    out += line[i++];
  }
  return out;
}

// clang writes "const T &", g++ "const T&".
std::string normalize(std::string s) {
  for (std::size_t at; (at = s.find(" &")) != std::string::npos;) s.erase(at, 1);
  return s;
}

struct outcome {
  int status;
  std::string output;
};

outcome compile(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string output;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = pclose(pipe);
  return {status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

int main(int argc, char** argv) {
  const bool control_compile = !(argc > 1 && std::string(argv[1]) == "--no-control");
  if (!control_compile) --argc, ++argv;
  if (argc < 3) {
    std::cerr << "usage: compile_fail_check [--no-control] <snippet.cpp> <compiler> <arguments...>\n";
    return 2;
  }
  const std::string snippet = argv[1];
  std::ifstream in(snippet);
  std::string line;
  std::vector<std::string> expected;
  while (std::getline(in, line))
    if (auto at = line.find("// expected-error: "); at != std::string::npos) expected.push_back(normalize(line.substr(at + 19)));
  if (expected.empty()) {
    std::cerr << snippet << ": no \"// expected-error: \" line\n";
    return 2;
  }

  std::string command;
  for (int i = 2; i < argc; ++i) command += shell_quote(argv[i]) + " ";
  const outcome control =
      control_compile ? compile(command + "-DLIGHTFLOW_NO_MISTAKE " + shell_quote(snippet) + " 2>&1") : outcome{0, ""};
  if (control.status != 0) {
    std::cerr << "FAIL: " << snippet << " does not compile even without its mistake:\n" << control.output.substr(0, 6000) << "\n";
    return 1;
  }
  const outcome result = compile(command + shell_quote(snippet) + " 2>&1");
  if (result.status == 0) {
    std::cerr << "FAIL: " << snippet << " compiled, but it must not\n";
    return 1;
  }

  std::vector<std::string> decoded;
  std::istringstream lines(result.output);
  while (std::getline(lines, line)) decoded.push_back(normalize(unescape(join_char_lists(line))));
  int missing = 0;
  for (const auto& want : expected) {
    bool found = false;
    for (const auto& d : decoded) found = found || d.find(want) != std::string::npos;
    if (found) {
      std::cout << "ok: one line says: " << want << "\n";
    } else {
      std::cerr << "FAIL: no line of the compiler's output says: " << want << "\n";
      ++missing;
    }
  }
  std::vector<std::string> errors;  // the compiler's error lines ("file:line:col: error: ...")
  for (const auto& d : decoded)
    if (d.find(": error: ") != std::string::npos) errors.push_back(d);
  if (errors.size() != 1) {
    std::cerr << "FAIL: the compiler reported " << errors.size() << " errors; the library's message must be the only one\n";
    ++missing;
  } else if (errors[0].find(expected[0]) == std::string::npos) {
    std::cerr << "FAIL: the one error is not the library's message: " << errors[0].substr(0, 400) << "\n";
    ++missing;
  } else {
    std::cout << "ok: it is the only error\n";
  }
  if (missing != 0) std::cerr << "--- output ---\n" << result.output.substr(0, 8000) << "\n";
  return missing == 0 ? 0 : 1;
}
