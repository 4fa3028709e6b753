#include "cltci/data/csv.h"

#include "cltci/common/error.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cltci::data {
namespace {

TEST(CsvField, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(csv_field(""), "");
  EXPECT_EQ(csv_field("p0003/000.png"), "p0003/000.png");
  EXPECT_EQ(csv_field("a b;c"), "a b;c");
  EXPECT_EQ(csv_field("a,b"), "\"a,b\"");
  EXPECT_EQ(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(csv_field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(csv_field("cr\r"), "\"cr\r\"");
}

TEST(CsvField, WhatItWritesParsesBackToTheSameFields) {
  const std::vector<std::string> fields{"plain", "", "a,b", "\"quoted\"", "x\ny", " spaced "};
  std::string line;
  for (std::size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i]);
  const std::string text = "header\n" + line + "\nlast,row\n";
  const std::vector<CsvRecord> records = parse_csv(text, "t.csv");
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[1].fields, fields);
  EXPECT_EQ(records[1].line, 2);
  EXPECT_EQ(records[2].line, 4);  // the quoted line break moved the line count on
}

TEST(ParseCsv, AcceptsABomAndCrLfAndDropsBlankLines) {
  const std::vector<CsvRecord> records =
      parse_csv("\xEF\xBB\xBFpath,id\r\n\r\na.png,7\r\n", "m.csv");
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"path", "id"}));
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"a.png", "7"}));
  EXPECT_EQ(records[1].line, 3);
}

TEST(ParseCsv, AnUnterminatedQuoteNamesTheFileAndLine) {
  try {
    parse_csv("path,id\n\"a.png,7\nb.png,8\n", "m.csv");
    FAIL() << "expected InputError";
  } catch (const common::InputError& e) {
    EXPECT_EQ(std::string(e.what()), "m.csv:2: unterminated quote");
  }
}

}  // namespace
}  // namespace cltci::data
