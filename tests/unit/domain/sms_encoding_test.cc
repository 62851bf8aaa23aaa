#include "domain/sms_encoding.h"

#include <gtest/gtest.h>

#include <string>

namespace comms::domain {
namespace {

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

void expect(std::string_view text, SmsCharset enc, int chars, int segments) {
  SmsEncoding r = analyze_sms(text);
  EXPECT_EQ(r.encoding, enc) << text;
  EXPECT_EQ(r.characters, chars) << text;
  EXPECT_EQ(r.segments, segments) << text;
}

TEST(SmsEncoding, EmptyBody) {
  expect("", SmsCharset::gsm7, 0, 0);
}

TEST(SmsEncoding, GsmBasicAlphabet) {
  expect("Dear Mwansa, K 1,250.00 is due on 15/03. Reply STOP to opt out.", SmsCharset::gsm7, 63, 1);
  // Every non-ASCII character of the basic table is one septet.
  expect("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\r\n", SmsCharset::gsm7, 44, 1);
}

TEST(SmsEncoding, ExtensionCharactersCountDouble) {
  expect("^{}\\[]~|€", SmsCharset::gsm7, 18, 1);
  expect("a\fb", SmsCharset::gsm7, 4, 1);
  expect(repeat("a", 158) + "€", SmsCharset::gsm7, 160, 1);
  expect(repeat("a", 159) + "€", SmsCharset::gsm7, 161, 2);
}

TEST(SmsEncoding, CharactersOutsideGsmForceUcs2) {
  expect("Muli shani? `", SmsCharset::ucs2, 13, 1);  // backtick is not GSM
  expect("ç", SmsCharset::ucs2, 1, 1);               // only capital Ç is in the table
  expect("tab\there", SmsCharset::ucs2, 8, 1);
  expect("Payment received ✅", SmsCharset::ucs2, 18, 1);
}

TEST(SmsEncoding, EmojiOutsideBmpCountTwoUnits) {
  expect("👍", SmsCharset::ucs2, 2, 1);
  expect("Thanks 🙏🏾", SmsCharset::ucs2, 11, 1);
  expect(repeat("😀", 35), SmsCharset::ucs2, 70, 1);
  expect(repeat("😀", 35) + "a", SmsCharset::ucs2, 71, 2);
}

TEST(SmsEncoding, GsmSegmentBoundaries) {
  expect(repeat("a", 160), SmsCharset::gsm7, 160, 1);
  expect(repeat("a", 161), SmsCharset::gsm7, 161, 2);
  expect(repeat("a", 306), SmsCharset::gsm7, 306, 2);
  expect(repeat("a", 307), SmsCharset::gsm7, 307, 3);
  expect(repeat("a", 459), SmsCharset::gsm7, 459, 3);
  expect(repeat("a", 460), SmsCharset::gsm7, 460, 4);
}

TEST(SmsEncoding, Ucs2SegmentBoundaries) {
  expect(repeat("é", 0) + repeat("ü", 0) + repeat("ĉ", 70), SmsCharset::ucs2, 70, 1);
  expect(repeat("ĉ", 71), SmsCharset::ucs2, 71, 2);
  expect(repeat("ĉ", 134), SmsCharset::ucs2, 134, 2);
  expect(repeat("ĉ", 135), SmsCharset::ucs2, 135, 3);
  expect(repeat("ĉ", 201), SmsCharset::ucs2, 201, 3);
  expect(repeat("ĉ", 202), SmsCharset::ucs2, 202, 4);
}

TEST(SmsEncoding, PartsNeverSplitAnEscapeOrASurrogatePair) {
  // 152 septets then '€' (2): the second septet would be the 154th of part one, so '€' moves whole.
  expect(repeat("a", 152) + "€" + repeat("a", 10), SmsCharset::gsm7, 164, 2);
  expect(repeat("a", 152) + "€" + repeat("a", 152), SmsCharset::gsm7, 306, 3);  // naive ceil(306/153) says 2
  // 66 units then an emoji (2 units) crossing the 67-unit boundary moves whole.
  expect(repeat("ĉ", 66) + "😀" + repeat("ĉ", 66), SmsCharset::ucs2, 134, 3);
  expect(repeat("ĉ", 65) + "😀" + repeat("ĉ", 67), SmsCharset::ucs2, 134, 2);
}

TEST(SmsEncoding, InvalidUtf8IsUcs2WithReplacement) {
  expect("ab\xFF", SmsCharset::ucs2, 3, 1);
  expect("\xC3", SmsCharset::ucs2, 1, 1);              // truncated sequence
  expect("\xC0\xAF", SmsCharset::ucs2, 1, 1);          // overlong '/'
  expect("\xED\xA0\x80", SmsCharset::ucs2, 1, 1);      // encoded surrogate
  expect("\xF4\x90\x80\x80", SmsCharset::ucs2, 1, 1);  // beyond U+10FFFF
  expect("a\xE2\x82", SmsCharset::ucs2, 2, 1);         // cut-off '€'
}

}  // namespace
}  // namespace comms::domain
