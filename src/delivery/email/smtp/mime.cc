#include "delivery/email/smtp/mime.h"

#include <array>
#include <cctype>
#include <ctime>
#include <random>

namespace comms::delivery::smtp {
namespace {

constexpr std::size_t kWordBytes = 39;  // 52 base64 characters: an encoded word of 64

std::string base64(std::string_view in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) | static_cast<unsigned char>(in[i + 2]);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += t[(v >> 18) & 63];
    out += t[(v >> 12) & 63];
    out += t[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool plain_ascii(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c > 0x7E) return false;
    if (c == '=' && i + 1 < s.size() && s[i + 1] == '?') return false;  // would read as an encoded word
  }
  return true;
}

std::string one_line(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c == '\r' || c == '\n' || c == '\t') c = ' ';
  return out;
}

// Length of the UTF-8 sequence that starts with `c` (1 for stray continuation bytes).
std::size_t utf8_len(unsigned char c) {
  if (c >= 0xF0) return 4;
  if (c >= 0xE0) return 3;
  if (c >= 0xC0) return 2;
  return 1;
}

// Folds an ASCII unstructured value at spaces so that lines stay within 78 characters.
std::string fold_ascii(std::string_view s, std::size_t first) {
  std::string out;
  std::size_t line = first;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = s.find(' ', i + 1);
    if (j == std::string_view::npos) j = s.size();
    const std::string_view word = s.substr(i, j - i);  // includes its leading space, except the first
    if (line + word.size() > 78 && !out.empty() && word.front() == ' ') {
      out += "\r\n";
      line = 0;
    }
    out += word;
    line += word.size();
    i = j;
  }
  return out;
}

bool atext(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-/=?^_`{|}~ ").find(c) != std::string_view::npos;
}

}  // namespace

std::string encode_unstructured(std::string_view utf8, std::size_t name_length) {
  const std::string s = one_line(utf8);
  if (plain_ascii(s)) return fold_ascii(s, name_length);
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t end = i;
    while (end < s.size()) {
      const std::size_t n = utf8_len(static_cast<unsigned char>(s[end]));
      if (end + n - i > kWordBytes) break;
      end += n;
    }
    if (end == i) end = std::min(s.size(), i + utf8_len(static_cast<unsigned char>(s[i])));
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(s).substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

std::string address_of(std::string_view mailbox) {
  const auto lt = mailbox.rfind('<');
  const auto gt = mailbox.rfind('>');
  if (lt != std::string_view::npos && gt != std::string_view::npos && gt > lt)
    return std::string(mailbox.substr(lt + 1, gt - lt - 1));
  std::string out(mailbox);
  while (!out.empty() && out.back() == ' ') out.pop_back();
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  return out;
}

std::string encode_address(std::string_view mailbox) {
  const std::string addr = address_of(mailbox);
  const auto lt = mailbox.rfind('<');
  if (lt == std::string_view::npos) return addr;
  std::string name = one_line(mailbox.substr(0, lt));
  while (!name.empty() && name.back() == ' ') name.pop_back();
  while (!name.empty() && name.front() == ' ') name.erase(name.begin());
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
  if (name.empty()) return "<" + addr + ">";
  std::string phrase;
  if (!plain_ascii(name)) {
    phrase = encode_unstructured(name, 10);
  } else {
    bool simple = true;
    for (char c : name) simple = simple && atext(c);
    if (simple) {
      phrase = name;
    } else {
      phrase = "\"";
      for (char c : name) {
        if (c == '"' || c == '\\') phrase += '\\';
        phrase += c;
      }
      phrase += '"';
    }
  }
  return phrase + " <" + addr + ">";
}

std::string quoted_printable(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  std::string line;  // the encoded current line
  auto flush_soft = [&] {
    out += line;
    out += "=\r\n";
    line.clear();
  };
  auto put = [&](std::string_view token) {
    if (line.size() + token.size() > 75) flush_soft();  // room for the '=' of a soft break
    line += token;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;  // the '\n' ends the line
    if (c == '\n' || c == '\r') {
      // Trailing whitespace before a line break must be encoded.
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        const char ws = line.back();
        line.pop_back();
        const char enc[3] = {'=', hex[static_cast<unsigned char>(ws) >> 4], hex[ws & 15]};
        put(std::string_view(enc, 3));
      }
      out += line;
      out += "\r\n";
      line.clear();
      continue;
    }
    const bool at_line_start = line.empty();
    const bool literal =
        (c >= 33 && c <= 126 && c != '=' && !(c == '.' && at_line_start)) || c == ' ' || c == '\t';
    if (literal) {
      const char ch = static_cast<char>(c);
      put(std::string_view(&ch, 1));
      if (line.size() == 1 && c == '.') {  // a soft break may have moved a '.' to a line start
        line = "=2E";
      }
    } else {
      const char enc[3] = {'=', hex[c >> 4], hex[c & 15]};
      put(std::string_view(enc, 3));
    }
  }
  if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
    const char ws = line.back();
    line.pop_back();
    const char enc[3] = {'=', hex[static_cast<unsigned char>(ws) >> 4], hex[ws & 15]};
    put(std::string_view(enc, 3));
  }
  out += line;
  return out;
}

std::string rfc5322_date(Millis ms) {
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
                months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

bool is_plain_address(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  int at = 0;
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F || c == '<' || c == '>' || c == ',' || c == '"' || c == '(' || c == ')' ||
        c == ';' || c == '\\')
      return false;
    if (c == '@') ++at;
  }
  return at == 1 && a.front() != '@' && a.back() != '@';
}

std::string new_boundary() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string b = "=_comms_";
  for (int i = 0; i < 24; ++i) b += hex[rng() & 15];
  return b;
}

std::string build_message(const Mail& m, std::string_view boundary) {
  std::string out;
  auto header = [&out](std::string_view name, const std::string& value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  };
  header("Date", rfc5322_date(m.date));
  header("From", encode_address(m.from));
  header("To", encode_address(m.to));
  if (!m.reply_to.empty()) header("Reply-To", encode_address(m.reply_to));
  header("Subject", encode_unstructured(m.subject, 9));
  header("Message-ID", "<" + m.message_id + ">");
  if (!m.notification_id.empty()) header("X-Notification-Id", one_line(m.notification_id));
  header("MIME-Version", "1.0");
  const std::string qp_headers =
      "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
  if (m.html.empty()) {
    out += qp_headers;
    out += "\r\n";
    out += quoted_printable(m.text);
    // SMTP data ends with CRLF (before the final "."): add one only where the text has none.
    if (!out.ends_with("\r\n")) out += "\r\n";
    return out;
  }
  header("Content-Type", "multipart/alternative;\r\n boundary=\"" + std::string(boundary) + "\"");
  out += "\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  out += "\r\n--" + std::string(boundary) + "\r\n";
  out += qp_headers;
  out += "\r\n";
  out += quoted_printable(m.text);
  out += "\r\n--" + std::string(boundary) + "\r\n";
  out += "Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n";
  out += "\r\n";
  out += quoted_printable(m.html);
  out += "\r\n--" + std::string(boundary) + "--\r\n";
  return out;
}

}  // namespace comms::delivery::smtp
