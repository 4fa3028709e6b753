#include "cltci/config/config_loader.h"

#include "cltci/common/error.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

namespace cltci::config {
namespace fs = std::filesystem;

std::optional<std::string> Rule::violation(double value) const {
  if (!std::isfinite(value)) return std::string("must be a finite number");
  const auto text = [](double x) {
    std::ostringstream out;
    out << x;
    return out.str();
  };
  const bool low_ok = min_exclusive ? value > min : value >= min;
  const bool high_ok = max_exclusive ? value < max : value <= max;
  if (low_ok && high_ok) return std::nullopt;
  if (std::isfinite(min) && std::isfinite(max)) {
    return "must be in " + std::string(min_exclusive ? "(" : "[") + text(min) + ", " + text(max) +
           (max_exclusive ? ")" : "]");
  }
  if (!low_ok) return "must be " + std::string(min_exclusive ? "> " : ">= ") + text(min);
  return "must be " + std::string(max_exclusive ? "< " : "<= ") + text(max);
}

void Problems::add(std::string key_path, std::string message) {
  items_.push_back({std::move(key_path), std::move(message)});
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (const auto& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  // A typo, not a different word: at most a third of the longer name (and at least 2 edits).
  const std::size_t allowed = std::max<std::size_t>(2, std::max(word.size(), best.size()) / 3);
  return best_distance <= allowed ? best : std::string();
}

namespace {

std::string format_double(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  // Keep floats recognisable as floats in the dump (1 -> 1.0), so a round trip keeps the type.
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

struct Override {
  std::string path;
  std::string text;  // the whole --set argument, for messages
};

/// Reads a YAML tree into the visited struct, collecting every problem.
class YamlReader final : public Schema {
 public:
  YamlReader(YAML::Node root, std::string file, std::vector<Override> overrides)
      : file_(std::move(file)), overrides_(std::move(overrides)) {
    stack_.push_back({std::move(root), ""});
    locations_[""] = file_.empty() ? "<defaults>" : file_;
  }

  void section(const char* key, const char* /*doc*/, const std::function<void()>& body) override {
    Frame& parent = stack_.back();
    parent.visited.insert(key);
    const std::string path = join_path(parent.path, key);
    YAML::Node child;
    if (parent.node.IsMap()) child = parent.node[key];
    if (child && !child.IsNull()) {
      remember(path, child);
      if (!child.IsMap()) {
        error(path, "expected a mapping of keys, got " + describe_node(child));
        child = YAML::Node();
      }
    } else {
      child = YAML::Node(YAML::NodeType::Map);
    }
    stack_.push_back({child, path});
    body();
    report_unknown_keys();
    stack_.pop_back();
  }

  void field(const char* key, bool& value, const char* /*doc*/) override {
    read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
      if (!YAML::convert<bool>::decode(node, value)) {
        error(path, "expected true or false, got " + describe_node(node));
      }
    });
  }

  void field(const char* key, std::int64_t& value, const char* /*doc*/, Rule rule) override {
    read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
      if (!decode_integer(node, value)) {
        error(path, "expected an integer, got " + describe_node(node));
      } else if (auto problem = rule.violation(static_cast<double>(value))) {
        error(path, *problem + " (got " + std::to_string(value) + ")");
      }
    });
  }

  void field(const char* key, double& value, const char* /*doc*/, Rule rule) override {
    read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
      if (!decode_number(node, value)) {
        error(path, "expected a number, got " + describe_node(node));
      } else if (auto problem = rule.violation(value)) {
        error(path, *problem + " (got " + node.Scalar() + ")");
      }
    });
  }

  void field(const char* key,
             std::string& value,
             const char* /*doc*/,
             const std::vector<std::string>& choices) override {
    read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
      if (!node.IsScalar()) {
        error(path, "expected a string, got " + describe_node(node));
        return;
      }
      const std::string text = node.Scalar();
      if (!choices.empty() && std::find(choices.begin(), choices.end(), text) == choices.end()) {
        std::string message = "must be one of " + join(choices, ", ") + " (got '" + text + "')";
        const std::string suggestion = closest_match(text, choices);
        if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
        error(path, message);
        return;
      }
      value = text;
    });
  }

  void field(const char* key,
             std::vector<double>& value,
             const char* /*doc*/,
             Rule rule,
             std::size_t size) override {
    read_list(
        key, value, rule, size,
        [](const YAML::Node& node, double& out) { return decode_number(node, out); }, "a number");
  }

  void field(const char* key,
             std::vector<std::int64_t>& value,
             const char* /*doc*/,
             Rule rule,
             std::size_t size) override {
    read_list(
        key, value, rule, size,
        [](const YAML::Node& node, std::int64_t& out) { return decode_integer(node, out); },
        "an integer");
  }

  /// Checks the root mapping's keys (sections check their own on the way out).
  void finish() { report_unknown_keys(); }

  std::vector<std::string>& errors() { return errors_; }
  const std::map<std::string, std::string>& locations() const { return locations_; }

  std::string location_of(const std::string& path) const {
    std::string probe = path;
    while (true) {
      const auto found = locations_.find(probe);
      if (found != locations_.end()) return found->second;
      const auto dot = probe.rfind('.');
      if (dot == std::string::npos) return locations_.at("");
      probe = probe.substr(0, dot);
    }
  }

 private:
  struct Frame {
    YAML::Node node;
    std::string path;
    std::set<std::string> visited{};
  };

  static std::string join_path(const std::string& parent, const std::string& key) {
    return parent.empty() ? key : parent + "." + key;
  }

  static std::string describe_node(const YAML::Node& node) {
    if (node.IsScalar()) return "'" + node.Scalar() + "'";
    if (node.IsSequence()) return "a list";
    if (node.IsMap()) return "a mapping";
    return "nothing";
  }

  static bool decode_integer(const YAML::Node& node, std::int64_t& out) {
    if (!node.IsScalar()) return false;
    const std::string& text = node.Scalar();
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (begin != end && *begin == '+') ++begin;
    const auto result = std::from_chars(begin, end, out);
    return result.ec == std::errc() && result.ptr == end;
  }

  static bool decode_number(const YAML::Node& node, double& out) {
    if (!node.IsScalar()) return false;
    const std::string& text = node.Scalar();
    const char* begin = text.data();
    const char* end = begin + text.size();
    if (begin != end && *begin == '+') ++begin;
    const auto result = std::from_chars(begin, end, out);
    return result.ec == std::errc() && result.ptr == end && std::isfinite(out);
  }

  void remember(const std::string& path, const YAML::Node& node) {
    // Values that came from --set carry marks relative to the override's own text: point at the
    // override instead (checked first, since overrides replace what the file said).
    for (const auto& override_ : overrides_) {
      if (override_.path == path || override_.path.rfind(path + ".", 0) == 0) {
        locations_[path] = "--set " + override_.text;
        return;
      }
    }
    const YAML::Mark mark = node.Mark();
    if (!mark.is_null() && mark.line >= 0) {
      locations_[path] =
          file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    }
  }

  void error(const std::string& path, const std::string& message) {
    errors_.push_back(location_of(path) + ": " + path + ": " + message);
  }

  template <typename Decode>
  void read_scalar(const char* key, Decode decode) {
    Frame& frame = stack_.back();
    frame.visited.insert(key);
    if (!frame.node.IsMap()) return;
    const YAML::Node node = frame.node[key];
    if (!node) return;  // absent: keep the default
    const std::string path = join_path(frame.path, key);
    remember(path, node);
    // `key:` (or `--set key=`) silently meaning "the default" would hide a forgotten value.
    if (node.IsNull()) {
      // A null's own mark is where the parser stopped (the next line): point at the key.
      for (const auto& entry : frame.node) {
        if (entry.first.Scalar() == key) {
          remember(path, entry.first);
          break;
        }
      }
      error(path, "no value (give one, or remove the key to keep the default)");
      return;
    }
    decode(node, path);
  }

  template <typename T, typename Decode>
  void read_list(const char* key,
                 std::vector<T>& value,
                 const Rule& rule,
                 std::size_t size,
                 Decode decode,
                 const char* what) {
    read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
      std::vector<T> items;
      if (node.IsScalar()) {
        T single{};
        if (!decode(node, single)) {
          error(path,
                std::string("expected ") + what + " or a list of them, got " + describe_node(node));
          return;
        }
        items.push_back(single);
      } else if (node.IsSequence()) {
        for (std::size_t i = 0; i < node.size(); ++i) {
          T item{};
          if (!decode(node[i], item)) {
            error(path, "item " + std::to_string(i + 1) + ": expected " + what + ", got " +
                            describe_node(node[i]));
            return;
          }
          items.push_back(item);
        }
      } else {
        error(path, std::string("expected a list, got ") + describe_node(node));
        return;
      }
      if (size > 0 && items.size() != size) {
        error(path,
              "expected " + std::to_string(size) + " values, got " + std::to_string(items.size()));
        return;
      }
      for (const T& item : items) {
        if (auto problem = rule.violation(static_cast<double>(item))) {
          std::ostringstream got;
          got << item;
          error(path, "each value " + *problem + " (got " + got.str() + ")");
          return;
        }
      }
      value = std::move(items);
    });
  }

  void report_unknown_keys() {
    const Frame& frame = stack_.back();
    if (!frame.node.IsMap()) return;
    const std::vector<std::string> known(frame.visited.begin(), frame.visited.end());
    for (const auto& entry : frame.node) {
      const std::string key = entry.first.as<std::string>();
      if (frame.visited.count(key) != 0) continue;
      const std::string path = join_path(frame.path, key);
      remember(path, entry.first);
      const std::string suggestion = closest_match(key, known);
      if (!suggestion.empty()) {
        error(path, "unknown key; did you mean '" + join_path(frame.path, suggestion) + "'?");
      } else {
        error(path, "unknown key (known here: " + join(known, ", ") + ")");
      }
    }
  }

  std::string file_;
  std::vector<Override> overrides_;
  std::vector<Frame> stack_;
  std::vector<std::string> errors_;
  std::map<std::string, std::string> locations_;
};

/// Writes the visited struct as YAML with each key's doc as a comment.
class YamlWriter final : public Schema {
 public:
  YamlWriter() {
    out_.SetIndent(2);
    out_ << YAML::BeginMap;
  }

  void section(const char* key, const char* doc, const std::function<void()>& body) override {
    out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    body();
    out_ << YAML::EndMap;
  }
  void field(const char* key, bool& value, const char* doc) override {
    out_ << YAML::Key << key << YAML::Value << value << YAML::Comment(doc);
  }
  void field(const char* key, std::int64_t& value, const char* doc, Rule) override {
    emit(key, std::to_string(value), doc);
  }
  void field(const char* key, double& value, const char* doc, Rule) override {
    emit(key, format_double(value), doc);
  }
  void field(const char* key,
             std::string& value,
             const char* doc,
             const std::vector<std::string>&) override {
    out_ << YAML::Key << key << YAML::Value << value << YAML::Comment(doc);
  }
  void field(
      const char* key, std::vector<double>& value, const char* doc, Rule, std::size_t) override {
    std::vector<std::string> items;
    for (double item : value) items.push_back(format_double(item));
    emit_list(key, items, doc);
  }
  void field(const char* key,
             std::vector<std::int64_t>& value,
             const char* doc,
             Rule,
             std::size_t) override {
    std::vector<std::string> items;
    for (auto item : value) items.push_back(std::to_string(item));
    emit_list(key, items, doc);
  }

  std::string text() {
    out_ << YAML::EndMap;
    return std::string(out_.c_str()) + "\n";
  }

 private:
  // Numbers are written from their own text so that the emitter neither rounds nor quotes them.
  void emit(const char* key, const std::string& literal, const char* doc) {
    out_ << YAML::Key << key << YAML::Value << YAML::Node(literal) << YAML::Comment(doc);
  }
  void emit_list(const char* key, const std::vector<std::string>& literals, const char* doc) {
    out_ << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& literal : literals) out_ << YAML::Node(literal);
    out_ << YAML::EndSeq << YAML::Comment(doc);
  }

  YAML::Emitter out_;
};

/// Every key given twice in one mapping of the file (yaml-cpp keeps both; lookups would
/// silently take the first), as "file:line:col: path: ..." lines.
void find_duplicate_keys(const YAML::Node& node,
                         const std::string& path,
                         const std::string& file,
                         std::vector<std::string>& errors) {
  if (node.IsSequence()) {
    for (const auto& item : node) find_duplicate_keys(item, path, file, errors);
    return;
  }
  if (!node.IsMap()) return;
  std::map<std::string, YAML::Mark> first;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    const std::string key_path = path.empty() ? key : path + "." + key;
    const YAML::Mark mark = entry.first.Mark();
    const auto [found, inserted] = first.emplace(key, mark);
    if (!inserted) {
      errors.push_back(file + ":" + std::to_string(mark.line + 1) + ":" +
                       std::to_string(mark.column + 1) + ": " + key_path +
                       ": duplicate key (first given at line " +
                       std::to_string(found->second.line + 1) + "); give each key once");
    }
    find_duplicate_keys(entry.second, key_path, file, errors);
  }
}

std::vector<Override> apply_overrides(YAML::Node& root,
                                      const std::vector<std::string>& overrides,
                                      std::vector<std::string>& errors) {
  std::vector<Override> applied;
  for (const std::string& text : overrides) {
    const auto equals = text.find('=');
    const std::string path = text.substr(0, equals);
    const bool bad_path = path.empty() || path.front() == '.' || path.back() == '.' ||
                          path.find("..") != std::string::npos ||
                          path.find_first_of(" \t") != std::string::npos;
    if (equals == std::string::npos || bad_path) {
      errors.push_back("--set " + text + ": expected key.path=value (e.g. optim.lr=0.05)");
      continue;
    }
    YAML::Node value;
    try {
      value = YAML::Load(text.substr(equals + 1));
    } catch (const YAML::Exception& error) {
      errors.push_back("--set " + text + ": " + path + ": cannot parse value: " + error.msg);
      continue;
    }
    // Walk (and create) the mappings on the way; a scalar in the way is an error.
    std::vector<YAML::Node> chain{root};
    std::stringstream parts(path);
    std::string part;
    std::vector<std::string> keys;
    while (std::getline(parts, part, '.')) keys.push_back(part);
    bool ok = true;
    for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
      YAML::Node next = chain.back()[keys[i]];
      if (next && !next.IsNull() && !next.IsMap()) {
        errors.push_back("--set " + text + ": " + path + ": '" + keys[i] + "' is not a section");
        ok = false;
        break;
      }
      if (!next || next.IsNull()) {
        chain.back()[keys[i]] = YAML::Node(YAML::NodeType::Map);
        next = chain.back()[keys[i]];
      }
      chain.push_back(next);
    }
    if (!ok) continue;
    chain.back()[keys.back()] = value;
    applied.push_back({path, text});
  }
  return applied;
}

}  // namespace

void load_config(const fs::path& file,
                 const std::vector<std::string>& overrides,
                 const DescribeFn& describe,
                 const ValidateFn& validate) {
  YAML::Node root(YAML::NodeType::Map);
  std::vector<std::string> errors;
  if (!file.empty()) {
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      throw common::InputError(file.string() + ": config file not found");
    }
    std::vector<YAML::Node> documents;
    try {
      documents = YAML::LoadAllFromFile(file.string());
    } catch (const YAML::ParserException& error) {
      throw common::InputError(file.string() + ":" + std::to_string(error.mark.line + 1) + ":" +
                               std::to_string(error.mark.column + 1) +
                               ": YAML syntax error: " + error.msg);
    } catch (const YAML::Exception& error) {
      throw common::InputError(file.string() + ": cannot read config: " + error.msg);
    }
    if (documents.size() > 1) {
      // Only the first document would be read: the later ones' settings would be lost.
      throw common::InputError(file.string() + ":" + std::to_string(documents[1].Mark().line + 1) +
                               ": a second YAML document ('---'); a config file holds one");
    }
    if (documents.empty() || documents.front().IsNull()) {
      throw common::InputError(file.string() +
                               ": the config file is empty; give the keys to set (see "
                               "--dump-config), or leave out --config to run with every default");
    }
    root = documents.front();
    if (!root.IsMap()) {
      throw common::InputError(file.string() + ": expected a mapping of sections at the top level");
    }
    find_duplicate_keys(root, "", file.string(), errors);
    if (!errors.empty()) throw common::InputError(errors);
  }
  const auto applied = apply_overrides(root, overrides, errors);
  YamlReader reader(root, file.string(), applied);
  describe(reader);
  reader.finish();
  errors.insert(errors.end(), reader.errors().begin(), reader.errors().end());
  if (errors.empty()) {
    Problems problems;
    validate(problems);
    for (const auto& item : problems.items()) {
      errors.push_back(reader.location_of(item.key_path) + ": " + item.key_path + ": " +
                       item.message);
    }
  }
  if (!errors.empty()) throw common::InputError(errors);
}

std::string dump_config(const DescribeFn& describe) {
  YamlWriter writer;
  describe(writer);
  return writer.text();
}

}  // namespace cltci::config
