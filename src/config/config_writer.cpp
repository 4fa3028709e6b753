#include "cltci/config/config_writer.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace cltci::config {
namespace {

std::string format_double(double value) {
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  std::string text(buffer, result.ptr);
  // Keep floats recognisable as floats in the dump (1 -> 1.0), so a round trip keeps the type.
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

/// Writes the visited struct as YAML with each key's doc as a comment.
class YamlWriter final : public Schema {
 public:
  YamlWriter() {
    out_.SetIndent(2);
    out_ << YAML::BeginMap;
  }

  void section(const char* key, const char* /*doc*/, const std::function<void()>& body) override {
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

 protected:
  // Written exactly as the string field that held the name before the enum did, so a config.yaml
  // of an earlier run still compares equal on resume.
  void choice(const char* key,
              std::size_t& index,
              const char* doc,
              const std::vector<std::string>& names) override {
    std::string name = names.at(index);
    field(key, name, doc, names);
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

}  // namespace

std::string dump_config(const std::function<void(Schema&)>& describe) {
  YamlWriter writer;
  describe(writer);
  return writer.text();
}

}  // namespace cltci::config
