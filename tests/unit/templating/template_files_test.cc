#include "templating/template_files.h"

#include <fstream>

#include "unit/templating/fixture.h"

namespace comms::templating {
namespace {

using domain::Channel;

std::string error_of(std::string_view text) {
  try {
    (void)parse_template_file(text, "t.json");
  } catch (const TemplateFileError& e) {
    return e.what();
  }
  return "no error";
}

TEST(TemplateFile, ParsesEveryField) {
  const auto f = parse_template_file(R"({
  "category": "collections", "name": "repayment-due", "channel": "sms", "locale": "bem",
  "description": "d", "body": "Mwapoleni {{name}}", "maxSegments": 2, "strict": true
})",
                                     "a.json");
  EXPECT_EQ(f.category, "collections");
  EXPECT_EQ(f.name, "repayment-due");
  EXPECT_EQ(f.channel, Channel::sms);
  EXPECT_EQ(f.locale, "bem");
  EXPECT_EQ(f.description, "d");
  EXPECT_EQ(f.content.body, "Mwapoleni {{name}}");
  EXPECT_EQ(f.content.max_segments, 2);
  EXPECT_TRUE(f.content.strict);
  EXPECT_EQ(parse_template_file(R"({"category":"c","name":"n","channel":"inapp","body":"b"})", "b").locale, "en");
}

TEST(TemplateFile, ErrorsNameTheFileLineAndColumn) {
  EXPECT_EQ(error_of("{\n  \"category\": \"c\",\n  \"name\": oops\n}"), "t.json:3:11: not valid JSON: syntax error");
  EXPECT_EQ(error_of("[1]"), "t.json:1:1: expected a JSON object");
  EXPECT_EQ(error_of("{\"category\":\"c\",\"name\":\"n\",\"channel\":\"sms\",\n \"html_body\":\"x\"}"),
            "t.json:2:2: unknown field 'html_body' (expected category, name, channel, locale, description, subject, "
            "body, htmlBody, maxSegments, strict)");
  EXPECT_EQ(error_of(R"({"name":"n","channel":"sms","body":"b"})"), "t.json:1:1: missing field 'category'");
  EXPECT_EQ(error_of(R"({"category":"c","name":"n","channel":"fax","body":"b"})"),
            "t.json:1:28: field 'channel' must be sms, email or inapp, got 'fax'");
  EXPECT_EQ(error_of(R"({"category":"c","name":"n","channel":"sms","locale":"BEM","body":"b"})"),
            "t.json:1:44: field 'locale' must be a language tag such as en, bem, ny or en-ZM, got 'BEM'");
  EXPECT_EQ(error_of("{\"category\":\"c\",\"name\":\"n\",\"channel\":\"sms\",\n\"body\":\"Hi\\n{{#loan}}\"}"),
            "t.json:2:1: field 'body' does not compile at 2:1: unclosed section {{#loan}}: no matching closing tag");
  EXPECT_EQ(error_of(R"({"category":"c","name":"n","channel":"email","subject":"s","htmlBody":"<p>{{x</p>"})"),
            "t.json:1:60: field 'htmlBody' does not compile at 1:4: unclosed tag: no '}}' after it");
  EXPECT_EQ(error_of(R"({"category":"c","name":"n","channel":"sms","subject":"s","body":"b"})"),
            "t.json:1:44: sms templates have no subject");
  EXPECT_EQ(error_of(R"({"category":"c","name":"n","channel":"email","subject":"s","body":"b","maxSegments":2})"),
            "t.json:1:71: field 'maxSegments' is for sms templates only");
  EXPECT_EQ(error_of(R"({"category":"c","name":"n","channel":"sms","body":"b","maxSegments":11})"),
            "t.json:1:55: field 'maxSegments' must be an integer from 0 to 10");
  EXPECT_EQ(error_of(R"({"category":"c","name":"n","channel":"email","body":"b"})"),
            "t.json:1:1: missing field 'subject' (email templates need one)");
  EXPECT_EQ(error_of(R"({"category":"a b","name":"n","channel":"sms","body":"b"})"),
            "t.json:1:2: field 'category' must be 1 to 64 letters, digits, '-', '_' or '.'");
}

TEST(TemplateFile, FormatThenParseRoundTrips) {
  store::TemplateRecord t;
  t.category = "arrears";
  t.name = "arrears-notice";
  t.channel = Channel::email;
  t.locale = "en-ZM";
  t.description = "notice \"quoted\"";
  t.active.subject = "Notice {{loanId}}";
  t.active.body = "Dear {{name}},\nline two";
  t.active.html_body = "<p>{{name}} &amp; co</p>";
  EXPECT_EQ(template_file_name(t), "arrears/arrears-notice.email.en-ZM.json");
  const auto text = format_template_file(t);
  EXPECT_EQ(text.substr(0, 27), "{\n  \"category\": \"arrears\",\n");
  const auto f = parse_template_file(text, "x");
  EXPECT_EQ(f.category, t.category);
  EXPECT_EQ(f.name, t.name);
  EXPECT_EQ(f.channel, t.channel);
  EXPECT_EQ(f.locale, t.locale);
  EXPECT_EQ(f.description, t.description);
  EXPECT_EQ(f.content.subject, t.active.subject);
  EXPECT_EQ(f.content.body, t.active.body);
  EXPECT_EQ(f.content.html_body, t.active.html_body);
}

class TemplateImportTest : public testing::TemplatingFixture {
 protected:
  void put(const std::string& rel, const std::string& text) {
    const auto p = dir_ / "in" / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
};

TEST_F(TemplateImportTest, CreatesThenVersionsOnlyWhatChanged) {
  put("otp/otp.sms.en.json", R"({"category":"otp","name":"otp","channel":"sms","body":"Code {{otpCode}}"})");
  put("otp/otp.sms.bem.json", R"({"category":"otp","name":"otp","channel":"sms","locale":"bem","body":"Ni {{otpCode}}"})");
  put("notes.txt", "not a template");
  auto files = read_template_dir((dir_ / "in").string());
  ASSERT_EQ(files.size(), 2u);
  auto c = import_templates(*store_, files, "ops");
  EXPECT_EQ(c.created, 2);
  EXPECT_EQ(c.updated + c.unchanged, 0);

  put("otp/otp.sms.en.json", R"({"category":"otp","name":"otp","channel":"sms","body":"Your code {{otpCode}}"})");
  c = import_templates(*store_, read_template_dir((dir_ / "in").string()), "ops");
  EXPECT_EQ(c.created, 0);
  EXPECT_EQ(c.updated, 1);
  EXPECT_EQ(c.unchanged, 1);

  const auto all = all_templates(*store_);
  ASSERT_EQ(all.size(), 2u);
  const auto& en = all[0].locale == "en" ? all[0] : all[1];
  EXPECT_EQ(en.active.body, "Your code {{otpCode}}");
  EXPECT_EQ(en.active_version, 2);
}

TEST_F(TemplateImportTest, ADuplicateKeyOrABadFileStopsBeforeAnythingIsWritten) {
  put("a.json", R"({"category":"otp","name":"otp","channel":"sms","body":"one"})");
  put("b.json", R"({"category":"otp","name":"otp","channel":"sms","locale":"en","body":"two"})");
  try {
    (void)read_template_dir((dir_ / "in").string());
    FAIL() << "expected a duplicate";
  } catch (const TemplateFileError& e) {
    EXPECT_NE(std::string(e.what()).find("b.json:1:1: template otp/otp/sms/en is also defined in "),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(read_template_dir((dir_ / "missing").string()), std::runtime_error);
}

}  // namespace
}  // namespace comms::templating
