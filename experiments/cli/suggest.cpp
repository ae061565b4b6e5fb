#include "experiments/cli/suggest.h"

#include <fmt/format.h>

#include <algorithm>

namespace ls::cli {

size_t edit_distance(const std::string& a, const std::string& b) {
  // d[i][j]: distance between the first i characters of a and the first j of b.
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

namespace {

// The first candidate that `word` begins (a shortened name: "repro" is reproduce, though
// "report" is nearer in edits); else the candidate nearest to `word`, when it is near enough to
// be a typo of it; else "".
std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  for (const std::string& c : candidates)
    if (word.size() >= 2 && c.size() > word.size() && c.compare(0, word.size(), word) == 0)
      return c;
  size_t allowed = word.size() >= 5 ? 2 : 1, best = allowed + 1;
  std::string found;
  for (const std::string& c : candidates) {
    size_t d = edit_distance(word, c);
    if (d < best) {
      best = d;
      found = c;
    }
  }
  return found;
}

std::string quoted_list(const std::vector<std::string>& names) {
  return fmt::format("'{}'", fmt::join(names, "', '"));
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

std::vector<std::string> option_names(const CLI::App& scope) {
  std::vector<std::string> names;
  for (const CLI::Option* opt : scope.get_options())
    for (const std::string& name : opt->get_lnames()) names.push_back("--" + name);
  return names;
}

std::string unknown(const std::string& what, const std::string& word,
                    const std::vector<std::string>& known, const std::string& help) {
  std::string guess = nearest(word, known);
  if (!guess.empty())
    return fmt::format("unknown {} '{}'; did you mean '{}'? (see {})", what, word, guess, help);
  return fmt::format("unknown {} '{}' (expected one of {}; see {})", what, word, quoted_list(known),
                     help);
}

}  // namespace

std::string unknown_word_message(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* scope = &app;
  size_t i = 0;
  if (!args.empty() && args[0].rfind('-', 0) != 0) {
    std::vector<std::string> names = subcommand_names(app);
    if (std::find(names.begin(), names.end(), args[0]) == names.end())
      return unknown("subcommand", args[0], names, "lorasum --help");
    scope = app.get_subcommand(args[0]);
    i = 1;
  }
  std::string help = scope == &app ? "lorasum --help" : "lorasum " + scope->get_name() + " --help";
  for (; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.rfind("--", 0) != 0 || arg == "--") continue;  // a value, or the end of options
    std::string name = arg.substr(0, arg.find('='));
    if (!scope->get_option_no_throw(name))
      return unknown("option", name, option_names(*scope), help);
  }
  return "";
}

}  // namespace ls::cli
