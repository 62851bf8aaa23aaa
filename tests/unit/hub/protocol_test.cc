#include "hub/protocol.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace comms::hub {
namespace {

constexpr char RS = kRecordSeparator;

std::vector<std::string> drain(RecordReader& r) {
  std::vector<std::string> out;
  std::string_view rec;
  while (r.next(rec) == RecordReader::Next::record) out.emplace_back(rec);
  return out;
}

TEST(RecordReader, SeveralRecordsInOnePiece) {
  RecordReader r(1024);
  ASSERT_TRUE(r.append(std::string("{\"type\":6}") + RS + "{\"type\":6}" + RS + "{\"a\":1}" + RS));
  EXPECT_EQ(drain(r), (std::vector<std::string>{"{\"type\":6}", "{\"type\":6}", "{\"a\":1}"}));
  EXPECT_EQ(r.buffered(), 0u);
}

TEST(RecordReader, ARecordSplitAcrossPiecesAtEveryByte) {
  const std::string stream =
      std::string(R"({"type":1,"target":"MarkRead","arguments":["x"]})") + RS + "{}" + RS;
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    RecordReader r(1024);
    ASSERT_TRUE(r.append(std::string_view(stream).substr(0, cut)));
    auto got = drain(r);
    ASSERT_TRUE(r.append(std::string_view(stream).substr(cut)));
    for (auto& s : drain(r)) got.push_back(s);
    EXPECT_EQ(got.size(), 2u) << "cut at " << cut;
    EXPECT_EQ(got.back(), "{}");
  }
}

TEST(RecordReader, OneByteAtATime) {
  const std::string stream = std::string("{\"type\":6}") + RS + "{\"type\":7}" + RS;
  RecordReader r(64);
  std::vector<std::string> got;
  for (char c : stream) {
    ASSERT_TRUE(r.append(std::string_view(&c, 1)));
    for (auto& s : drain(r)) got.push_back(s);
  }
  EXPECT_EQ(got, (std::vector<std::string>{"{\"type\":6}", "{\"type\":7}"}));
}

TEST(RecordReader, EmptyRecordsAreRecords) {
  RecordReader r(16);
  ASSERT_TRUE(r.append(std::string(2, RS)));
  EXPECT_EQ(drain(r), (std::vector<std::string>{"", ""}));
}

TEST(RecordReader, AnUnterminatedRecordOverTheLimitIsRefused) {
  RecordReader r(8);
  EXPECT_TRUE(r.append("12345678"));
  EXPECT_FALSE(r.append("9"));
}

TEST(RecordReader, ACompleteRecordOverTheLimitIsTooLarge) {
  RecordReader r(4);
  ASSERT_TRUE(r.append(std::string("123456") + RS + "ok" + RS));
  std::string_view rec;
  EXPECT_EQ(r.next(rec), RecordReader::Next::too_large);
}

TEST(RecordReader, TheLimitCountsOnlyTheUnterminatedTail) {
  RecordReader r(4);
  ASSERT_TRUE(r.append(std::string("1234") + RS + "12"));
  std::string_view rec;
  ASSERT_EQ(r.next(rec), RecordReader::Next::record);
  EXPECT_EQ(rec, "1234");
  EXPECT_EQ(r.next(rec), RecordReader::Next::none);
  EXPECT_TRUE(r.append("34"));
  EXPECT_FALSE(r.append("5"));
}

TEST(Handshake, AcceptsJsonVersionsOneAndTwo) {
  for (int v : {1, 2}) {
    const Handshake h = parse_handshake(R"({"protocol":"json","version":)" + std::to_string(v) + "}");
    EXPECT_TRUE(h.ok);
    EXPECT_EQ(h.version, v);
  }
}

TEST(Handshake, RefusesOtherProtocolsVersionsAndMalformedRequests) {
  const std::vector<std::string> bad = {
      R"({"protocol":"messagepack","version":1})",
      R"({"protocol":"json","version":3})",
      R"({"protocol":"json","version":0})",
      R"({"protocol":"json","version":1.5})",
      R"({"protocol":"json"})",
      R"({"version":1})",
      R"({"protocol":1,"version":1})",
      R"([1,2])",
      R"(not json)",
      "",
      R"({"protocol":"json","version":1)",
  };
  for (const auto& b : bad) {
    const Handshake h = parse_handshake(b);
    EXPECT_FALSE(h.ok) << b;
    EXPECT_FALSE(h.error.empty()) << b;
  }
  EXPECT_NE(parse_handshake(R"({"protocol":"messagepack","version":1})").error.find("messagepack"),
            std::string::npos);
}

TEST(Messages, ParsesAnInvocation) {
  Message m;
  std::string error;
  ASSERT_TRUE(
      parse_message(R"({"type":1,"invocationId":"7","target":"MarkRead","arguments":["n-1"]})", m, error))
      << error;
  EXPECT_EQ(m.type, 1);
  EXPECT_EQ(m.invocation_id, "7");
  EXPECT_EQ(m.target, "MarkRead");
  ASSERT_EQ(m.arguments.size(), 1u);
  EXPECT_EQ(m.arguments[0].as_string(), "n-1");
  EXPECT_FALSE(m.streams);
}

TEST(Messages, NonBlockingInvocationAndStreamIds) {
  Message m;
  std::string error;
  ASSERT_TRUE(parse_message(R"({"type":1,"target":"GetUnread","arguments":[],"streamIds":["1"]})", m, error));
  EXPECT_TRUE(m.invocation_id.empty());
  EXPECT_TRUE(m.streams);
}

TEST(Messages, OtherTypesParseWithoutFields) {
  for (const char* text : {R"({"type":6})", R"({"type":7,"error":"bye"})", R"({"type":3,"invocationId":"1"})",
                           R"({"type":42,"whatever":true})", R"({"type":8,"sequenceId":1})"}) {
    Message m;
    std::string error;
    EXPECT_TRUE(parse_message(text, m, error)) << text << ": " << error;
  }
}

TEST(Messages, ProtocolErrors) {
  const std::vector<std::string> bad = {
      "",
      "garbage",
      "[]",
      "{}",
      R"({"type":"1"})",
      R"({"type":-1})",
      R"({"type":1.5e300})",
      R"({"type":1,"arguments":[]})",                                // no target
      R"({"type":1,"target":"X"})",                                  // no arguments
      R"({"type":1,"target":"X","arguments":{}})",                   // arguments not an array
      R"({"type":1,"target":7,"arguments":[]})",                     // target not a string
      R"({"type":1,"invocationId":5,"target":"X","arguments":[]})",  // id not a string
      R"({"type":1,"invocationId":")" + std::string(200, 'a') + R"(","target":"X","arguments":[]})",
      R"({"type":1,"target":"X","arguments":[)",  // truncated
  };
  for (const auto& b : bad) {
    Message m;
    std::string error;
    EXPECT_FALSE(parse_message(b, m, error)) << b;
    EXPECT_FALSE(error.empty()) << b;
  }
}

TEST(Messages, DeepNestingIsAnErrorNotACrash) {
  std::string deep =
      R"({"type":1,"target":"X","arguments":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
  Message m;
  std::string error;
  EXPECT_FALSE(parse_message(deep, m, error));
}

boost::json::value parse_record(const std::string& rec) {
  EXPECT_FALSE(rec.empty());
  EXPECT_EQ(rec.back(), RS);
  return boost::json::parse(std::string_view(rec).substr(0, rec.size() - 1));
}

TEST(Writers, RecordsAreJsonTerminatedBySeparator) {
  EXPECT_EQ(handshake_ok(), std::string("{}") + RS);
  EXPECT_EQ(parse_record(handshake_error("nope")), boost::json::parse(R"({"error":"nope"})"));
  EXPECT_EQ(parse_record(ping_record()), boost::json::parse(R"({"type":6})"));
  EXPECT_EQ(parse_record(close_record("", false)), boost::json::parse(R"({"type":7})"));
  EXPECT_EQ(parse_record(close_record("bye", true)),
            boost::json::parse(R"({"type":7,"error":"bye","allowReconnect":true})"));
  EXPECT_EQ(parse_record(completion_record("3")), boost::json::parse(R"({"type":3,"invocationId":"3"})"));
  EXPECT_EQ(parse_record(completion_record("3", boost::json::array{1, 2})),
            boost::json::parse(R"({"type":3,"invocationId":"3","result":[1,2]})"));
  EXPECT_EQ(parse_record(completion_error("3", "bad")),
            boost::json::parse(R"({"type":3,"invocationId":"3","error":"bad"})"));
  EXPECT_EQ(parse_record(invocation_record("ReceiveNotification",
                                           boost::json::array{boost::json::object{{"id", "n"}}})),
            boost::json::parse(R"({"type":1,"target":"ReceiveNotification","arguments":[{"id":"n"}]})"));
}

TEST(Writers, ErrorTextIsEscaped) {
  const auto v = parse_record(close_record("quote \" and \x1e separator", false));
  EXPECT_EQ(v.at("error").as_string(), "quote \" and \x1e separator");
  const std::string rec = close_record("x\x1ey", false);
  EXPECT_EQ(std::count(rec.begin(), rec.end(), RS), 1);
}

}  // namespace
}  // namespace comms::hub
