#include "config/schema_reader.h"

#include "cltci/config/suggestions.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace cltci::config {
namespace {

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string join_path(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string describe_node(const YAML::Node& node) {
  if (node.IsScalar()) return "'" + node.Scalar() + "'";
  if (node.IsSequence()) return "a list";
  if (node.IsMap()) return "a mapping";
  return "nothing";
}

bool decode_integer(const YAML::Node& node, std::int64_t& out) {
  if (!node.IsScalar()) return false;
  const std::string& text = node.Scalar();
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  const auto result = std::from_chars(begin, end, out);
  return result.ec == std::errc() && result.ptr == end;
}

bool decode_number(const YAML::Node& node, double& out) {
  if (!node.IsScalar()) return false;
  const std::string& text = node.Scalar();
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;
  const auto result = std::from_chars(begin, end, out);
  return result.ec == std::errc() && result.ptr == end && std::isfinite(out);
}

}  // namespace

SchemaReader::SchemaReader(const YAML::Node& root,
                           std::string file,
                           std::vector<Override> overrides)
    : file_(std::move(file)), overrides_(std::move(overrides)) {
  stack_.push_back({root, ""});
  locations_[""] = file_.empty() ? "<defaults>" : file_;
}

void SchemaReader::section(const char* key,
                           const char* /*doc*/,
                           const std::function<void()>& body) {
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

void SchemaReader::field(const char* key, bool& value, const char* /*doc*/) {
  read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
    if (!YAML::convert<bool>::decode(node, value)) {
      error(path, "expected true or false, got " + describe_node(node));
    }
  });
}

void SchemaReader::field(const char* key, std::int64_t& value, const char* /*doc*/, Rule rule) {
  read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
    if (!decode_integer(node, value)) {
      error(path, "expected an integer, got " + describe_node(node));
    } else if (auto problem = rule.violation(static_cast<double>(value))) {
      error(path, *problem + " (got " + std::to_string(value) + ")");
    }
  });
}

void SchemaReader::field(const char* key, double& value, const char* /*doc*/, Rule rule) {
  read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
    if (!decode_number(node, value)) {
      error(path, "expected a number, got " + describe_node(node));
    } else if (auto problem = rule.violation(value)) {
      error(path, *problem + " (got " + node.Scalar() + ")");
    }
  });
}

std::string SchemaReader::refusal(const std::string& text,
                                  const std::vector<std::string>& choices) {
  std::string message = "must be one of " + join(choices, ", ") + " (got '" + text + "')";
  const std::string suggestion = closest_match(text, choices);
  if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
  return message;
}

std::optional<std::size_t> SchemaReader::chosen(const YAML::Node& node,
                                                const std::string& path,
                                                const std::vector<std::string>& choices) {
  if (!node.IsScalar()) {
    error(path, "expected a string, got " + describe_node(node));
    return std::nullopt;
  }
  if (choices.empty()) return std::string::npos;
  const auto found = std::find(choices.begin(), choices.end(), node.Scalar());
  if (found == choices.end()) {
    error(path, refusal(node.Scalar(), choices));
    return std::nullopt;
  }
  return static_cast<std::size_t>(found - choices.begin());
}

void SchemaReader::field(const char* key,
                         std::string& value,
                         const char* /*doc*/,
                         const std::vector<std::string>& choices) {
  read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
    if (chosen(node, path, choices)) value = node.Scalar();
  });
}

void SchemaReader::choice(const char* key,
                          std::size_t& index,
                          const char* /*doc*/,
                          const std::vector<std::string>& names) {
  read_scalar(key, [&](const YAML::Node& node, const std::string& path) {
    if (const auto position = chosen(node, path, names)) index = *position;
  });
}

template <typename T, typename Decode>
void SchemaReader::read_list(const char* key,
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

void SchemaReader::field(
    const char* key, std::vector<double>& value, const char* /*doc*/, Rule rule, std::size_t size) {
  read_list(
      key, value, rule, size,
      [](const YAML::Node& node, double& out) { return decode_number(node, out); }, "a number");
}

void SchemaReader::field(const char* key,
                         std::vector<std::int64_t>& value,
                         const char* /*doc*/,
                         Rule rule,
                         std::size_t size) {
  read_list(
      key, value, rule, size,
      [](const YAML::Node& node, std::int64_t& out) { return decode_integer(node, out); },
      "an integer");
}

std::string SchemaReader::location_of(const std::string& path) const {
  std::string probe = path;
  while (true) {
    const auto found = locations_.find(probe);
    if (found != locations_.end()) return found->second;
    const auto dot = probe.rfind('.');
    if (dot == std::string::npos) return locations_.at("");
    probe = probe.substr(0, dot);
  }
}

void SchemaReader::remember(const std::string& path, const YAML::Node& node) {
  // Values that came from --set carry marks relative to the override's own text: point at the
  // override instead (checked first, since overrides replace what the file said).
  for (const auto& given : overrides_) {
    if (given.path == path || given.path.rfind(path + ".", 0) == 0) {
      locations_[path] = "--set " + given.text;
      return;
    }
  }
  const YAML::Mark mark = node.Mark();
  if (!mark.is_null() && mark.line >= 0) {
    locations_[path] =
        file_ + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
}

void SchemaReader::error(const std::string& path, const std::string& message) {
  errors_.push_back(location_of(path) + ": " + path + ": " + message);
}

void SchemaReader::read_scalar(
    const char* key, const std::function<void(const YAML::Node&, const std::string&)>& decode) {
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

void SchemaReader::report_unknown_keys() {
  const Frame& frame = stack_.back();
  if (!frame.node.IsMap()) return;
  const std::vector<std::string> known(frame.visited.begin(), frame.visited.end());
  for (const auto& entry : frame.node) {
    if (!entry.first.IsScalar()) {
      // `? [a, b]: 1` or `{a: 1}: 2`: YAML allows any node as a key, a config only names.
      const std::string path = frame.path.empty() ? "(top level)" : frame.path;
      remember(path, entry.first);
      error(path, "a key must be a plain name, got " + describe_node(entry.first));
      continue;
    }
    const std::string key = entry.first.Scalar();
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

}  // namespace cltci::config
