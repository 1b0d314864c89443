// callagent-docgen: renders the man pages and the shell completions from
// the command line's own option table (make_command_line(), the same one
// `callagent` parses), so that they cannot drift from --help. Run by the
// build; not installed.
//
//   callagent-docgen man OUTDIR      callagent.1 and callagent-CMD.1 for each CMD
//   callagent-docgen bash FILE       bash completion (bash-completion's layout)
//   callagent-docgen fish FILE       fish completion
//   callagent-docgen zsh FILE        zsh completion (#compdef, _arguments)
//
// Values offered for an option come from its CLI11 check (`TEXT:{a,b}`) or,
// failing that, from a leading "a | b | c" list in its description (every
// option of the presets is written that way); `v4l2:`/`alsa:` devices come
// from `callagent devices --json` when the completion runs.

#include "callagent_config.h"
#include "cli/cli.h"
#include "cli/command_line.h"
#include "common/exit_code.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using callagent::cli::CommandLine;

struct OptionDoc {
  std::vector<std::string> shorts;  // "v"
  std::vector<std::string> longs;   // "verbose"
  std::string type;                 // "TEXT", "INT", "" for flags
  std::string description;
  std::string default_value;
  std::string env;
  std::string group;
  bool takes_value = false;
  bool repeatable = false;
  std::vector<std::string> choices;
  bool device_sources = false;  // values include v4l2:/alsa:/pulse: devices
};

struct CommandDoc {
  std::string name;  // "" for the top level
  std::string description;
  std::string footer;
  std::vector<std::pair<std::string, std::string>> positionals;  // "room", its description
  std::vector<OptionDoc> options;
};

std::vector<std::string> choices_of(const std::string& type, const std::string& description, bool* devices) {
  std::vector<std::string> out;
  std::smatch m;
  // CLI11's IsMember: "TEXT:{text,json}"
  static const std::regex member(R"(\{([^}]*)\})");
  if (std::regex_search(type, m, member)) {
    std::stringstream ss(m[1].str());
    for (std::string item; std::getline(ss, item, ',');)
      if (!item.empty()) out.push_back(item);
    return out;
  }
  static const std::regex list(R"(([\w\[\]:./-]+(?: \| [\w\[\]:./-]+)+))");
  if (!std::regex_search(description, m, list)) return out;
  std::stringstream ss(m[1].str());
  for (std::string item; std::getline(ss, item, '|');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (item.find("[:DEVICE]") != std::string::npos) {
      *devices = true;
      item = item.substr(0, item.find('['));
    } else if (auto colon = item.find(':'); colon != std::string::npos) {
      item = item.substr(0, colon + 1);  // "file:PATH" -> "file:"
    }
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

CommandDoc document(const CLI::App& app) {
  CommandDoc d;
  d.name = app.get_name();
  d.description = app.get_description();
  d.footer = app.get_footer();
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    if (!o->nonpositional()) {
      d.positionals.emplace_back(o->get_name(true), o->get_description());
      continue;
    }
    OptionDoc od;
    od.shorts = o->get_snames();
    od.longs = o->get_lnames();
    od.takes_value = o->get_items_expected_max() > 0;
    od.repeatable = o->get_items_expected_max() > 1 ||
                    o->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
    od.type = od.takes_value ? o->get_type_name() : "";
    od.description = o->get_description();
    od.default_value = od.takes_value ? o->get_default_str() : "";
    od.env = o->get_envname();
    od.group = o->get_group();
    if (od.takes_value) od.choices = choices_of(od.type, od.description, &od.device_sources);
    d.options.push_back(std::move(od));
  }
  return d;
}

std::vector<CommandDoc> document_all(const CommandLine& cl) {
  std::vector<CommandDoc> out{document(cl.app)};
  out.front().name.clear();  // the top level: callagent(1)
  for (const CLI::App* sub : cl.subs) out.push_back(document(*sub));
  return out;
}

// roff: backslashes and hyphens escaped, no line starting with '.' or '\''.
std::string roff(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') out += "\\e";
    else if (c == '-') out += "\\-";
    else out += c;
  }
  std::string lines;
  std::stringstream ss(out);
  for (std::string line; std::getline(ss, line);) {
    if (!line.empty() && (line[0] == '.' || line[0] == '\'')) line = "\\&" + line;
    lines += line + "\n";
  }
  return lines;
}

std::string roff_inline(const std::string& s) {
  std::string r = roff(s);
  if (!r.empty() && r.back() == '\n') r.pop_back();
  return r;
}

std::string option_label(const OptionDoc& o) {
  std::string label;
  for (const auto& s : o.shorts) label += (label.empty() ? "" : ", ") + fmt::format("\\fB\\-{}\\fR", s);
  for (const auto& l : o.longs) label += (label.empty() ? "" : ", ") + fmt::format("\\fB\\-\\-{}\\fR", roff_inline(l));
  if (o.takes_value) label += " \\fI" + roff_inline(o.type) + "\\fR";
  if (o.repeatable) label += " ...";
  return label;
}

std::string page_name(const CommandDoc& c) { return c.name.empty() ? "callagent" : "callagent-" + c.name; }

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

// The footer is "examples, then the exit codes" (either may be missing).
std::pair<std::string, std::string> split_footer(const std::string& footer) {
  const auto pos = footer.find("Exit codes");
  if (pos == std::string::npos) return {footer, ""};
  return {footer.substr(0, pos), footer.substr(pos)};
}

std::string trim(std::string s) {
  s.erase(0, s.find_first_not_of(" \n"));
  s.erase(s.find_last_not_of(" \n") + 1);
  return s;
}

// The exit-code table's bit for a subcommand ("" = all of them).
unsigned command_bit(const std::string& name) {
  if (name.empty()) return callagent::kAllCommands;
  for (unsigned bit = 1; bit & callagent::kAllCommands; bit <<= 1)
    if (callagent::command_list(bit) == name) return bit;
  return 0;
}

std::string man_page(const CommandDoc& c, const std::vector<CommandDoc>& all) {
  std::string m;
  const std::string name = page_name(c);
  m += fmt::format(".TH {} 1 \"\" \"callagent {}\" \"User Commands\"\n", upper(roff_inline(name)), CALLAGENT_VERSION);
  const std::string first_line = c.description.substr(0, c.description.find('\n'));
  m += ".SH NAME\n" + roff_inline(name) + " \\- " + roff_inline(first_line) + "\n";
  m += ".SH SYNOPSIS\n";
  if (c.name.empty()) {
    m += "\\fBcallagent\\fR [\\fIOPTIONS\\fR] \\fISUBCOMMAND\\fR [\\fIARGS\\fR]\n";
  } else {
    m += "\\fBcallagent " + roff_inline(c.name) + "\\fR [\\fIOPTIONS\\fR]";
    for (const auto& p : c.positionals) m += " [\\fI" + roff_inline(p.first) + "\\fR]";
    m += "\n";
  }
  m += ".SH DESCRIPTION\n" + roff(c.description);
  if (c.name.empty()) {
    m += ".SH SUBCOMMANDS\n";
    for (const auto& sub : all) {
      if (sub.name.empty()) continue;
      m += ".TP\n\\fB" + roff_inline(sub.name) + "\\fR\n" + roff(sub.description) +
           fmt::format("See \\fB{}\\fR(1).\n", roff_inline(page_name(sub)));
    }
  }
  if (!c.positionals.empty()) {
    m += ".SH ARGUMENTS\n";
    for (const auto& [pname, pdesc] : c.positionals) m += ".TP\n\\fI" + roff_inline(pname) + "\\fR\n" + roff(pdesc);
  }
  m += ".SH OPTIONS\n";
  std::vector<std::string> groups;
  for (const auto& o : c.options)
    if (std::find(groups.begin(), groups.end(), o.group) == groups.end()) groups.push_back(o.group);
  for (const auto& g : groups) {
    if (g != "Options") m += ".SS " + roff_inline(g) + "\n";
    for (const auto& o : c.options) {
      if (o.group != g) continue;
      m += ".TP\n" + option_label(o) + "\n" + roff(o.description);
      if (!o.default_value.empty()) m += ".br\nDefault: \\fB" + roff_inline(o.default_value) + "\\fR.\n";
      if (!o.env.empty()) m += ".br\nEnvironment: \\fB" + roff_inline(o.env) + "\\fR.\n";
    }
  }
  auto [examples, exits] = split_footer(c.footer);
  if (trim(exits).empty()) exits = callagent::exit_code_help(command_bit(c.name));
  if (!trim(examples).empty()) m += ".SH EXAMPLES\n.nf\n" + roff(trim(examples)) + ".fi\n";
  if (!trim(exits).empty()) m += ".SH EXIT STATUS\n.nf\n" + roff(trim(exits)) + ".fi\n";
  m += ".SH SEE ALSO\n";
  std::string see;
  for (const auto& other : all)
    if (other.name != c.name)
      see += (see.empty() ? "" : ",\n") + fmt::format("\\fB{}\\fR(1)", roff_inline(page_name(other)));
  m += see + "\n";
  return m;
}

std::string words(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& w : v) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::vector<std::string> names_of(const OptionDoc& o) {
  std::vector<std::string> out;
  for (const auto& s : o.shorts) out.push_back("-" + s);
  for (const auto& l : o.longs) out.push_back("--" + l);
  return out;
}

std::string joined(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& w : v) out += (out.empty() ? "" : sep) + w;
  return out;
}

// Single-quoted for sh and fish.
std::string sq(const std::string& s) {
  std::string out = "'";
  for (char ch : s) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

std::vector<std::string> subcommand_names(const std::vector<CommandDoc>& all) {
  std::vector<std::string> out;
  for (const auto& c : all)
    if (!c.name.empty()) out.push_back(c.name);
  return out;
}

std::string bash_completion(const std::vector<CommandDoc>& all) {
  const auto subs = subcommand_names(all);
  std::string b = "# bash completion for callagent, generated from its option table by callagent-docgen.\n";
  b += R"SH(_callagent_devices() {
  # The sources of the cameras and microphones present now ("v4l2:/dev/video0").
  callagent devices --json 2>/dev/null | grep -o '"source" *: *"[^"]*"' | sed 's/.*: *"//; s/"$//'
}

_callagent() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=""
  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD-1]}
  local sub="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case ${COMP_WORDS[i]} in
)SH";
  b += "      " + joined(subs, "|") + ") sub=${COMP_WORDS[i]}; break ;;\n";
  b += "    esac\n  done\n";
  b += "  local opts=\"\" values=\"\" takes_value=0 devices=0\n";
  b += "  case $sub in\n";
  for (const auto& c : all) {
    std::vector<std::string> opts;
    for (const auto& o : c.options)
      for (const auto& n : names_of(o)) opts.push_back(n);
    b += "    " + (c.name.empty() ? std::string("\"\"") : c.name) + ")\n";
    b += "      opts=" + sq(words(opts)) + "\n";
    b += "      case $prev in\n";
    for (const auto& o : c.options) {
      if (!o.takes_value) continue;
      b += "        " + joined(names_of(o), "|") + ") takes_value=1; values=" + sq(words(o.choices)) +
           (o.device_sources ? "; devices=1" : "") + " ;;\n";
    }
    b += "      esac ;;\n";
  }
  b += "  esac\n";
  b += R"SH(  if ((takes_value)); then
    if ((devices)); then values="$values $(_callagent_devices)"; fi
    if [[ -n $values ]]; then
      COMPREPLY=($(compgen -W "$values" -- "$cur"))
    else
      COMPREPLY=($(compgen -f -- "$cur"))
    fi
    return 0
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  elif [[ -z $sub ]]; then
    COMPREPLY=($(compgen -W ")SH" + words(subs) + R"SH(" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
}
complete -F _callagent callagent
)SH";
  return b;
}

std::string fish_completion(const std::vector<CommandDoc>& all) {
  std::string f = "# fish completion for callagent, generated from its option table by callagent-docgen.\n";
  f += "complete -c callagent -f\n";
  f += "function __callagent_devices\n"
       "    callagent devices --json 2>/dev/null | string match -r -a -g '\"source\" *: *\"([^\"]*)\"'\n"
       "end\n";
  for (const auto& c : all) {
    if (c.name.empty()) continue;
    const std::string first_line = c.description.substr(0, c.description.find('\n'));
    f += "complete -c callagent -n __fish_use_subcommand -a " + c.name + " -d " + sq(first_line) + "\n";
  }
  for (const auto& c : all) {
    const std::string cond = c.name.empty() ? "__fish_use_subcommand" : "__fish_seen_subcommand_from " + c.name;
    for (const auto& o : c.options) {
      std::string line = "complete -c callagent -n " + sq(cond);
      for (const auto& s : o.shorts) line += " -s " + s;
      for (const auto& l : o.longs) line += " -l " + l;
      line += " -d " + sq(o.description.substr(0, o.description.find('\n')));
      if (o.takes_value) {
        if (o.device_sources)
          line += " -x -a \"" + words(o.choices) + " (__callagent_devices)\"";
        else if (!o.choices.empty())
          line += " -x -a " + sq(words(o.choices));
        else
          line += " -r -F";
      }
      f += line + "\n";
    }
  }
  return f;
}

// zsh's _arguments spec: brackets, colons and backslashes in descriptions
// are escaped; values come as "(a b c)" or "_files".
std::string zsh_escape(const std::string& s) {
  std::string out;
  for (char ch : s) {
    if (ch == '[' || ch == ']' || ch == ':' || ch == '\\') out += '\\';
    out += ch;
  }
  return out;
}

std::string zsh_completion(const std::vector<CommandDoc>& all) {
  std::string z = "#compdef callagent\n";
  z += "# zsh completion for callagent, generated from its option table by callagent-docgen.\n";
  z += "_callagent_devices() {\n"
       "  local -a devs\n"
       "  devs=(${(f)\"$(callagent devices --json 2>/dev/null | grep -o '\"source\" *: *\"[^\"]*\"' | "
       "sed 's/.*: *\"//; s/\"$//')\"})\n"
       "  compadd -a devs\n"
       "}\n\n";
  auto specs = [](const CommandDoc& c) {
    std::string out;
    for (const auto& o : c.options) {
      const std::string desc = zsh_escape(o.description.substr(0, o.description.find('\n')));
      std::string action;
      if (o.takes_value) {
        std::string values = words(o.choices);
        if (o.device_sources)
          action = ":value:{_alternative 'presets:preset:(" + values + ")' 'devices:device:_callagent_devices'}";
        else if (!o.choices.empty())
          action = ":value:(" + values + ")";
        else
          action = ":value:_files";
      }
      for (const auto& n : names_of(o))
        out += "    " + sq((o.repeatable ? "*" : "") + n + "[" + desc + "]" + action) + " \\\n";
    }
    return out;
  };
  z += "_callagent() {\n  local -a subcommands\n  subcommands=(\n";
  for (const auto& c : all)
    if (!c.name.empty())
      z += "    " + sq(c.name + ":" + zsh_escape(c.description.substr(0, c.description.find('\n')))) + "\n";
  z += "  )\n";
  z += "  if (( CURRENT == 2 )) && [[ $words[2] != -* ]]; then\n    _describe 'command' subcommands\n    return\n  fi\n";
  z += "  local sub=$words[2]\n  shift words\n  (( CURRENT-- ))\n  case $sub in\n";
  for (const auto& c : all) {
    if (c.name.empty()) continue;
    z += "  " + c.name + ")\n    _arguments -s \\\n" + specs(c) + "    '*:file:_files' ;;\n";
  }
  const CommandDoc& top = all.front();
  z += "  *)\n    _arguments \\\n" + specs(top) + "    '*:command:(( ${subcommands} ))' ;;\n";
  z += "  esac\n}\n\n_callagent \"$@\"\n";
  return z;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::cerr << "callagent-docgen: cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: callagent-docgen man OUTDIR | bash FILE | fish FILE | zsh FILE\n";
    return 64;
  }
  const std::string what = argv[1], where = argv[2];
  auto cl = callagent::cli::make_command_line();
  const auto all = document_all(*cl);
  if (what == "man") {
    for (const auto& c : all)
      if (!write_file(where + "/" + page_name(c) + ".1", man_page(c, all))) return 73;
    return 0;
  }
  if (what == "bash") return write_file(where, bash_completion(all)) ? 0 : 73;
  if (what == "fish") return write_file(where, fish_completion(all)) ? 0 : 73;
  if (what == "zsh") return write_file(where, zsh_completion(all)) ? 0 : 73;
  std::cerr << "callagent-docgen: unknown output '" << what << "' (man, bash, fish, zsh)\n";
  return 64;
}
