#include "delivery/email/smtp/mime.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace comms::delivery::smtp {
namespace {

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i <= s.size()) {
    const auto j = s.find("\r\n", i);
    if (j == std::string::npos) {
      if (i < s.size()) out.push_back(s.substr(i));
      break;
    }
    out.push_back(s.substr(i, j - i));
    i = j + 2;
  }
  return out;
}

std::string unbase64(std::string_view in) {
  static const std::string t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned v = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    v = (v << 6) | static_cast<unsigned>(t.find(c));
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((v >> bits) & 0xFF);
    }
  }
  return out;
}

// Decodes a folded header value made of RFC 2047 B-words.
std::string decode_words(const std::string& value) {
  std::string out;
  std::size_t i = 0;
  while ((i = value.find("=?UTF-8?B?", i)) != std::string::npos) {
    const auto end = value.find("?=", i + 10);
    out += unbase64(value.substr(i + 10, end - i - 10));
    i = end + 2;
  }
  return out;
}

std::string unqp(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '=' && i + 2 < s.size() && s[i + 1] == '\r' && s[i + 2] == '\n') {
      i += 2;
    } else if (s[i] == '=' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST(Mime, AsciiSubjectIsKeptAndFoldedAtSpaces) {
  EXPECT_EQ(encode_unstructured("Your loan payment", 9), "Your loan payment");
  const std::string long_subject =
      "Reminder: your IntelliFin loan instalment of K1,250.00 is due on 27 November 2026 at the Lusaka "
      "branch";
  const auto folded = encode_unstructured(long_subject, 9);
  for (const auto& l : lines(folded)) EXPECT_LE(l.size() + 9, 78u) << l;
  std::string unfolded = folded;
  for (std::size_t p; (p = unfolded.find("\r\n")) != std::string::npos;) unfolded.erase(p, 2);
  EXPECT_EQ(unfolded, long_subject);
}

TEST(Mime, NonAsciiSubjectBecomesEncodedWordsOfWholeCharacters) {
  const std::string subject =
      "Malipiro anu alandiridwa — zikomo kwambiri! Ndalama: K 1 250,00 ✓ 😀 ĉ ŝ ž ñ é ü";
  const auto enc = encode_unstructured(subject, 9);
  const auto ls = lines(enc);
  ASSERT_GT(ls.size(), 1u);
  for (std::size_t i = 0; i < ls.size(); ++i) {
    EXPECT_LE(ls[i].size() + (i == 0 ? 9 : 0), 76u) << ls[i];
    if (i > 0) {
      EXPECT_EQ(ls[i][0], ' ');
    }
    // Each word must decode to valid UTF-8 on its own (no character split across words).
    const auto word = decode_words(ls[i]);
    const auto last = static_cast<unsigned char>(word.back());
    EXPECT_TRUE(last < 0x80 || (last & 0xC0) == 0x80);
    EXPECT_FALSE((static_cast<unsigned char>(word[0]) & 0xC0) == 0x80) << "word starts mid-character";
  }
  EXPECT_EQ(decode_words(enc), subject);
}

TEST(Mime, HeaderInjectionIsNeutralised) {
  EXPECT_EQ(encode_unstructured("Hi\r\nBcc: evil@example.com", 9), "Hi  Bcc: evil@example.com");
  EXPECT_EQ(encode_unstructured("=?UTF-8?B?x?=", 9).substr(0, 10), "=?UTF-8?B?")
      << "literal encoded-word syntax";
}

TEST(Mime, AddressesQuoteOrEncodeDisplayNames) {
  EXPECT_EQ(encode_address("no-reply@intellifin.co.zm"), "no-reply@intellifin.co.zm");
  EXPECT_EQ(encode_address("IntelliFin Loans <no-reply@intellifin.co.zm>"),
            "IntelliFin Loans <no-reply@intellifin.co.zm>");
  EXPECT_EQ(encode_address("IntelliFin, Ltd. <a@b.zm>"), "\"IntelliFin, Ltd.\" <a@b.zm>");
  EXPECT_EQ(encode_address("\"Quoted \\\" Name\" <a@b.zm>"), "\"Quoted \\\\\\\" Name\" <a@b.zm>");
  const auto enc = encode_address("Mwansa Chanda Ŝ <m@b.zm>");
  EXPECT_EQ(decode_words(enc.substr(0, enc.find(" <"))), "Mwansa Chanda Ŝ");
  EXPECT_EQ(address_of("Name <m@b.zm>"), "m@b.zm");
  EXPECT_EQ(address_of(" m@b.zm "), "m@b.zm");
}

TEST(Mime, QuotedPrintableKeepsLinesShortAndRoundTrips) {
  std::string text = "Dear Mwansa,\nYour payment of K1,250.00 = received. Zikomo! ✓\n";
  text += std::string(200, 'x') + "\n.leading dot\ntrailing space \nend";
  const auto qp = quoted_printable(text);
  for (const auto& l : lines(qp)) {
    EXPECT_LE(l.size(), 76u) << l;
    EXPECT_NE(l.front(), '.') << l;
    EXPECT_NE(l.back(), ' ') << l;
    for (unsigned char c : l) EXPECT_TRUE(c >= 32 && c < 127) << l;
  }
  std::string expected;
  for (char c : text) {
    if (c == '\n') expected += '\r';
    expected += c;
  }
  EXPECT_EQ(unqp(qp), expected);
}

TEST(Mime, QuotedPrintableBreaksBeforeADotThatWouldStartALine) {
  const std::string text = std::string(75, 'a') + "." + std::string(10, 'b');
  const auto qp = quoted_printable(text);
  for (const auto& l : lines(qp)) EXPECT_NE(l.front(), '.') << qp;
  EXPECT_EQ(unqp(qp), text);
}

Mail sample() {
  Mail m;
  m.from = "IntelliFin <no-reply@intellifin.co.zm>";
  m.to = "mwansa@example.com";
  m.reply_to = "Support <support@intellifin.co.zm>";
  m.subject = "Malipiro — zikomo";
  m.text = "Thank you.\nK100 received.";
  m.html = "<p>Thank you.</p><p>K100 <b>received</b>.</p>";
  m.message_id = "n-1@intellifin.co.zm";
  m.notification_id = "n-1";
  m.date = 1795753605123;  // 2026-11-27T04:26:45.123Z
  return m;
}

TEST(Mime, BuildsMultipartAlternative) {
  const auto msg = build_message(sample(), "=_comms_test");
  const auto ls = lines(msg);
  EXPECT_EQ(ls[0], "Date: Fri, 27 Nov 2026 04:26:45 +0000");
  EXPECT_EQ(ls[1], "From: IntelliFin <no-reply@intellifin.co.zm>");
  EXPECT_EQ(ls[2], "To: mwansa@example.com");
  EXPECT_EQ(ls[3], "Reply-To: Support <support@intellifin.co.zm>");
  EXPECT_EQ(decode_words(ls[4].substr(9)), "Malipiro — zikomo");
  EXPECT_EQ(ls[5], "Message-ID: <n-1@intellifin.co.zm>");
  EXPECT_EQ(ls[6], "X-Notification-Id: n-1");
  EXPECT_EQ(ls[7], "MIME-Version: 1.0");
  EXPECT_EQ(ls[8], "Content-Type: multipart/alternative;");
  EXPECT_EQ(ls[9], " boundary=\"=_comms_test\"");
  EXPECT_EQ(ls[10], "");
  const auto text_at = msg.find(
      "--=_comms_test\r\nContent-Type: text/plain; charset=UTF-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\nThank you.\r\nK100 received.\r\n");
  const auto html_at = msg.find("--=_comms_test\r\nContent-Type: text/html; charset=UTF-8\r\n");
  ASSERT_NE(text_at, std::string::npos) << msg;
  ASSERT_NE(html_at, std::string::npos) << msg;
  EXPECT_LT(text_at, html_at) << "the preferred (HTML) part comes last";
  EXPECT_TRUE(msg.ends_with("\r\n--=_comms_test--\r\n"));
  for (const auto& l : ls) EXPECT_LE(l.size(), 78u) << l;
  EXPECT_EQ(msg.find('\n'), msg.find("\r\n") + 1) << "CRLF line endings only";
}

TEST(Mime, TextOnlyMessageIsASinglePart) {
  auto m = sample();
  m.html.clear();
  m.reply_to.clear();
  const auto msg = build_message(m, "unused");
  EXPECT_EQ(msg.find("multipart"), std::string::npos);
  EXPECT_EQ(msg.find("Reply-To"), std::string::npos);
  EXPECT_NE(msg.find("Content-Type: text/plain; charset=UTF-8\r\n"), std::string::npos);
  EXPECT_TRUE(msg.ends_with("\r\n\r\nThank you.\r\nK100 received.\r\n"));
  m.text += "\n";
  EXPECT_TRUE(build_message(m, "unused").ends_with("K100 received.\r\n")) << "no blank line added";
  EXPECT_FALSE(build_message(m, "unused").ends_with("\r\n\r\n"));
}

TEST(Mime, BoundariesAreFreshAndSafe) {
  const auto a = new_boundary(), b = new_boundary();
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("=_comms_"));
  EXPECT_EQ(a.size(), 32u);
}

TEST(Mime, PlainAddressCheck) {
  EXPECT_TRUE(is_plain_address("mwansa@example.com"));
  for (const char* bad : {"", "a", "a@b@c", "a b@c", "<a@b>", "a@b\r\nBcc: x@y", "@b", "a@"})
    EXPECT_FALSE(is_plain_address(bad)) << bad;
}

}  // namespace
}  // namespace comms::delivery::smtp
