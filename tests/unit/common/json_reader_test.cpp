#include "cltci/common/json_reader.h"

#include "cltci/common/error.h"
#include "cltci/common/json.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace cltci::common {
namespace {

using Kind = JsonValue::Kind;

/// The error read_json throws for `text`, or a failed test when it reads it.
JsonError error_of(std::string_view text, const JsonLimits& limits = {}) {
  try {
    read_json(text, limits);
  } catch (const JsonError& error) {
    return error;
  }
  ADD_FAILURE() << "read_json accepted: " << text;
  return JsonError("accepted", 0);
}

TEST(JsonReader, ReadsScalars) {
  EXPECT_EQ(read_json("null").kind, Kind::kNull);
  const JsonValue yes = read_json(" true ");
  EXPECT_EQ(yes.kind, Kind::kBool);
  EXPECT_TRUE(yes.boolean);
  EXPECT_EQ(yes.text, "true");
  const JsonValue no = read_json("false");
  EXPECT_EQ(no.kind, Kind::kBool);
  EXPECT_FALSE(no.boolean);
  const JsonValue text = read_json("\"plain\"");
  EXPECT_EQ(text.kind, Kind::kString);
  EXPECT_EQ(text.text, "plain");
  EXPECT_EQ(read_json("\t\r\n\"\"\n").text, "");
}

TEST(JsonReader, IntegersAreExactAndOtherNumbersKeepTheirText) {
  const JsonValue zero = read_json("0");
  EXPECT_EQ(zero.kind, Kind::kInteger);
  EXPECT_EQ(zero.integer, 0);
  EXPECT_EQ(read_json("-0").integer, 0);
  EXPECT_EQ(read_json("400").integer, 400);
  EXPECT_EQ(read_json("9223372036854775807").integer, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(read_json("-9223372036854775808").integer, std::numeric_limits<std::int64_t>::min());
  for (const char* number : {"1.5", "-0.25", "1e3", "2E-7", "6.02e+23", "0.0"}) {
    const JsonValue v = read_json(number);
    EXPECT_EQ(v.kind, Kind::kNumber) << number;
    EXPECT_EQ(v.text, number);
  }
  EXPECT_EQ(read_json("12").text, "12");
}

TEST(JsonReader, NestedContainersKeepTheirOrder) {
  const JsonValue v =
      read_json(R"({"b": [1, [2, {}], []], "a": {"x": null, "y": "z"}, "b": "again"})");
  ASSERT_EQ(v.kind, Kind::kObject);
  ASSERT_EQ(v.members.size(), 3u);
  EXPECT_EQ(v.members[0].first, "b");
  EXPECT_EQ(v.members[1].first, "a");
  const JsonValue& list = v.members[0].second;
  ASSERT_EQ(list.kind, Kind::kArray);
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_EQ(list.items[0].integer, 1);
  ASSERT_EQ(list.items[1].items.size(), 2u);
  EXPECT_EQ(list.items[1].items[1].kind, Kind::kObject);
  EXPECT_TRUE(list.items[1].items[1].members.empty());
  EXPECT_EQ(list.items[2].kind, Kind::kArray);
  EXPECT_TRUE(list.items[2].items.empty());
  // find(): the last of duplicate keys, nullptr for a missing one or a non-object.
  ASSERT_NE(v.find("b"), nullptr);
  EXPECT_EQ(v.find("b")->text, "again");
  ASSERT_NE(v.find("a"), nullptr);
  EXPECT_EQ(v.find("a")->find("y")->text, "z");
  EXPECT_EQ(v.find("c"), nullptr);
  EXPECT_EQ(list.find("b"), nullptr);
  EXPECT_EQ(read_json("{ }").members.size(), 0u);
  EXPECT_EQ(read_json("[ ]").items.size(), 0u);
}

TEST(JsonReader, DecodesEscapes) {
  EXPECT_EQ(read_json(R"("a\"b\\c\/d\be\ff\ng\rh\ti")").text, "a\"b\\c/d\be\ff\ng\rh\ti");
  EXPECT_EQ(read_json(R"("\u0041\u00e9\u20AC")").text, "A\xC3\xA9\xE2\x82\xAC");  // A é €
  EXPECT_EQ(read_json(R"("\u0000")").text, std::string(1, '\0'));
  // A surrogate pair is one code point: U+1F600, 4 bytes of UTF-8.
  EXPECT_EQ(read_json(R"("\ud83d\ude00")").text, "\xF0\x9F\x98\x80");
  EXPECT_EQ(read_json(R"("\uDBFF\uDFFF")").text, "\xF4\x8F\xBF\xBF");  // U+10FFFF
  // Raw UTF-8, and bytes that are not UTF-8, pass through unchanged.
  EXPECT_EQ(read_json("\"\xC3\xA9 \xE9\"").text, "\xC3\xA9 \xE9");
}

TEST(JsonReader, ReadsBackWhatJsonStringWrites) {
  const std::string text =
      std::string("quote \" backslash \\ tab \t nul ") + '\0' + " \x1F \xC3\xA9 \xF0\x9F\x98\x80";
  EXPECT_EQ(read_json(json_string(text)).text, text);
}

TEST(JsonReader, ErrorsNameTheProblemAndTheByte) {
  const auto expect_error = [](std::string_view text, const std::string& problem,
                               std::size_t offset) {
    const JsonError error = error_of(text);
    EXPECT_EQ(error.problem(), problem) << text;
    EXPECT_EQ(error.offset(), offset) << text;
    EXPECT_EQ(std::string(error.what()), problem + " at byte " + std::to_string(offset));
  };
  expect_error("", "unexpected end", 0);
  expect_error("  ", "unexpected end", 2);
  expect_error("[1, 2", "unexpected end", 5);
  expect_error("{\"a\" 1}", "expected ':'", 5);
  expect_error("[1 2]", "expected ']'", 3);
  expect_error("{\"a\":1 \"b\":2}", "expected '}'", 7);
  expect_error("{1:2}", "expected a key", 1);
  expect_error("{\"a\":1,}", "expected a key", 7);
  expect_error("[1,]", "unexpected character", 3);
  expect_error("nul", "unexpected character", 0);
  expect_error("{} {}", "trailing characters after the JSON", 3);
  expect_error("truex", "trailing characters after the JSON", 4);
  expect_error("\"abc", "unterminated string", 4);
  expect_error("\"ab\\", "unterminated escape", 4);
  expect_error("\"a\\qb\"", "bad escape \\q", 2);
  expect_error("\"a\\\nb\"", "bad escape: \\ followed by byte 10", 2);
  expect_error("\"a\nb\"", "control character in a string", 2);
  expect_error("\"\\u12gh\"", "bad \\u escape", 1);
  expect_error("\"\\u12", "short \\u escape", 1);
  expect_error("\"\\uzzzz\"", "bad \\u escape", 1);
  expect_error("\"x\\ud83d\"", "unpaired surrogate in \\u escape", 2);
  expect_error("\"\\ud83d\\u0041\"", "unpaired surrogate in \\u escape", 1);
  expect_error("\"\\ude00\"", "unpaired surrogate in \\u escape", 1);
  expect_error("\"\\ud83d\\uzz00\"", "bad \\u escape", 7);
  expect_error("[01]", "bad number '01'", 1);
  expect_error("-", "bad number '-'", 0);
  expect_error("1.", "bad number '1.'", 0);
  expect_error(".5", "unexpected character", 0);
  expect_error("[1e]", "bad number '1e'", 1);
  expect_error("1.2.3", "bad number '1.2.3'", 0);
  expect_error("+1", "unexpected character", 0);
  expect_error("[9223372036854775808]", "number out of range '9223372036854775808'", 1);
  expect_error("-9223372036854775809", "number out of range '-9223372036854775809'", 0);
  // A long number is shortened in the message.
  const std::string digits(100, '7');
  expect_error(digits, "number out of range '" + digits.substr(0, 40) + "...' (100 characters)", 0);
}

TEST(JsonReader, ErrorsAreInputErrors) {
  try {
    read_json("[");
    FAIL() << "accepted";
  } catch (const InputError& error) {
    EXPECT_EQ(exit_code_for(error), kExitBadInput);
    ASSERT_EQ(error.problems().size(), 1u);
    EXPECT_EQ(error.problems()[0], "unexpected end at byte 1");
  }
}

std::string nested_arrays(int levels, const std::string& inside) {
  return std::string(static_cast<std::size_t>(levels), '[') + inside +
         std::string(static_cast<std::size_t>(levels), ']');
}

TEST(JsonReader, NestingIsBounded) {
  // 64 arrays put the 1 at depth 64, the deepest allowed; one more array refuses it.
  EXPECT_EQ(read_json(nested_arrays(64, "1")).items.size(), 1u);
  EXPECT_NO_THROW(read_json(nested_arrays(65, "")));
  const JsonError deep = error_of(nested_arrays(65, "1"));
  EXPECT_EQ(deep.problem(), "nested too deeply");
  EXPECT_EQ(deep.offset(), 65u);
  EXPECT_EQ(error_of(std::string(100000, '[')).problem(), "nested too deeply");
  std::string objects;
  for (int i = 0; i < 65; ++i) objects += "{\"k\": ";
  EXPECT_EQ(error_of(objects + "1" + std::string(65, '}')).problem(), "nested too deeply");
  JsonLimits shallow;
  shallow.max_depth = 1;
  EXPECT_NO_THROW(read_json("[[]]", shallow));
  EXPECT_EQ(error_of("[[1]]", shallow).offset(), 2u);
}

TEST(JsonReader, SizeAndValueCountAreBounded) {
  JsonLimits limits;
  limits.max_bytes = 8;
  EXPECT_NO_THROW(read_json("[1,2,30]", limits));
  const JsonError size = error_of("[1,2,300]", limits);
  EXPECT_EQ(size.problem(), "text of 9 bytes is longer than the limit of 8");
  EXPECT_EQ(size.offset(), 8u);

  limits = JsonLimits{};
  limits.max_values = 4;  // the array and three items
  EXPECT_NO_THROW(read_json("[1,\"2\",{}]", limits));
  const JsonError count = error_of("[1,\"2\",{},[]]", limits);
  EXPECT_EQ(count.problem(), "more than 4 values");
  EXPECT_EQ(count.offset(), 10u);
}

}  // namespace
}  // namespace cltci::common
