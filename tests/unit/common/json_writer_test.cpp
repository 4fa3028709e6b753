#include "cltci/common/json_writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace cltci::common {
namespace {

TEST(JsonWriter, BlockAndInlineContainersAsTheSummariesLayThemOut) {
  JsonWriter json;
  json.begin_object();
  json.member("method", "rotation").member("epochs", 16).member("resumed", false);
  json.key("probe").begin_object();
  json.key("encoder").begin_object(JsonWriter::Layout::kInline);
  json.member("top1", 0.25).member("dims", std::int64_t{64});
  json.key("nested").begin_array().value(1).end_array();  // inline inherited
  json.end_object();
  json.end_object();
  json.key("warnings").begin_array(JsonWriter::Layout::kInline).end_array();
  json.key("cells").begin_array();
  json.begin_object(JsonWriter::Layout::kInline).member("fold", 0).key("x").null().end_object();
  json.begin_object(JsonWriter::Layout::kInline).member("fold", 1).end_object();
  json.end_array();
  json.key("empty").begin_object().end_object();
  json.end_object();
  EXPECT_EQ(json.text(),
            "{\n"
            "  \"method\": \"rotation\",\n"
            "  \"epochs\": 16,\n"
            "  \"resumed\": false,\n"
            "  \"probe\": {\n"
            "    \"encoder\": {\"top1\": 0.25, \"dims\": 64, \"nested\": [1]}\n"
            "  },\n"
            "  \"warnings\": [],\n"
            "  \"cells\": [\n"
            "    {\"fold\": 0, \"x\": null},\n"
            "    {\"fold\": 1}\n"
            "  ],\n"
            "  \"empty\": {}\n"
            "}\n");
}

TEST(JsonWriter, QuotesKeysAndStrings) {
  JsonWriter json;
  json.begin_object(JsonWriter::Layout::kInline).member("a\"b", "c\\d\n").end_object();
  EXPECT_EQ(json.text(), "{\"a\\\"b\": \"c\\\\d\\u000a\"}\n");
}

TEST(JsonWriter, NumberFormats) {
  EXPECT_EQ(json_number(0.1), "0.1");  // not 0.10000000000000001
  EXPECT_EQ(json_number(1.0 / 3.0), "0.3333333333333333");
  EXPECT_EQ(json_number(1e300), "1e+300");
  EXPECT_EQ(json_number(0.123456789123, JsonNumber::significant(9)), "0.123456789");
  EXPECT_EQ(json_number(2.0, JsonNumber::significant(6)), "2");
  EXPECT_EQ(json_number(0.5, JsonNumber::fixed(6)), "0.500000");
  EXPECT_EQ(json_number(7.0, JsonNumber::fixed_trimmed(6)), "7");
  EXPECT_EQ(json_number(0.4, JsonNumber::fixed_trimmed(6)), "0.4");
  EXPECT_EQ(json_number(std::numeric_limits<double>::quiet_NaN()), "null");
  EXPECT_EQ(json_number(-std::numeric_limits<double>::infinity(), JsonNumber::fixed(6)), "null");
  JsonWriter json;
  json.begin_array(JsonWriter::Layout::kInline)
      .value(std::uint64_t{18446744073709551615ULL})
      .value(std::int64_t{-5})
      .value(true)
      .raw("1.50")
      .value(0.5, JsonNumber::fixed(2))
      .end_array();
  EXPECT_EQ(json.text(), "[18446744073709551615, -5, true, 1.50, 0.50]\n");
}

TEST(JsonWriter, MisuseIsALogicError) {
  {
    JsonWriter json;
    json.begin_object();
    EXPECT_THROW(json.value(1), std::logic_error);  // no key
    EXPECT_THROW(json.end_array(), std::logic_error);
    EXPECT_THROW(json.text(), std::logic_error);  // still open
    json.key("a");
    EXPECT_THROW(json.key("b"), std::logic_error);
    EXPECT_THROW(json.end_object(), std::logic_error);  // key without value
  }
  {
    JsonWriter json;
    EXPECT_THROW(json.end_object(), std::logic_error);
    json.begin_array();
    EXPECT_THROW(json.key("a"), std::logic_error);
    json.end_array();
    EXPECT_THROW(json.value(1), std::logic_error);  // a second document
    EXPECT_EQ(json.text(), "[]\n");
  }
}

}  // namespace
}  // namespace cltci::common
