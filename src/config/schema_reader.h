// The Schema visitor that reads a YAML tree into the struct a describe() function visits: every
// value checked against its type and rule, every unknown key reported with the closest known one,
// every problem collected as "file:line:col: key.path: message" (or "--set ...: ..." for values
// that came from an override).
#pragma once

#include "cltci/config/schema.h"
#include "config/overrides.h"

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cltci::config {

class SchemaReader final : public Schema {
 public:
  /// `file` is empty when there is none (defaults and overrides only).
  SchemaReader(const YAML::Node& root, std::string file, std::vector<Override> overrides);

  void section(const char* key, const char* doc, const std::function<void()>& body) override;
  void field(const char* key, bool& value, const char* doc) override;
  void field(const char* key, std::int64_t& value, const char* doc, Rule rule) override;
  void field(const char* key, double& value, const char* doc, Rule rule) override;
  void field(const char* key,
             std::string& value,
             const char* doc,
             const std::vector<std::string>& choices) override;
  void field(const char* key,
             std::vector<double>& value,
             const char* doc,
             Rule rule,
             std::size_t size) override;
  void field(const char* key,
             std::vector<std::int64_t>& value,
             const char* doc,
             Rule rule,
             std::size_t size) override;
  using Schema::field;

  /// Checks the root mapping's keys (sections check their own on the way out).
  void finish() { report_unknown_keys(); }

  std::vector<std::string>& errors() { return errors_; }

  /// Where `path` (or its nearest parent that was given) was set: "file:line:col", "--set ..."
  /// or the file name alone.
  std::string location_of(const std::string& path) const;

 protected:
  void choice(const char* key,
              std::size_t& index,
              const char* doc,
              const std::vector<std::string>& names) override;

 private:
  struct Frame {
    YAML::Node node;
    std::string path;
    std::set<std::string> visited{};
  };

  /// The message refusing `text`: the choices, and the closest of them when one is close.
  static std::string refusal(const std::string& text, const std::vector<std::string>& choices);
  /// The position of the node's text in `choices` (npos when `choices` is empty: any string);
  /// nullopt, with the error recorded, for a non-string or a text not among them.
  std::optional<std::size_t> chosen(const YAML::Node& node,
                                    const std::string& path,
                                    const std::vector<std::string>& choices);

  void remember(const std::string& path, const YAML::Node& node);
  void error(const std::string& path, const std::string& message);
  /// Finds `key` in the current section and calls `decode(node, path)` when it holds a value.
  void read_scalar(const char* key,
                   const std::function<void(const YAML::Node&, const std::string&)>& decode);
  template <typename T, typename Decode>
  void read_list(const char* key,
                 std::vector<T>& value,
                 const Rule& rule,
                 std::size_t size,
                 Decode decode,
                 const char* what);
  void report_unknown_keys();

  std::string file_;
  std::vector<Override> overrides_;
  std::vector<Frame> stack_;
  std::vector<std::string> errors_;
  std::map<std::string, std::string> locations_;
};

}  // namespace cltci::config
