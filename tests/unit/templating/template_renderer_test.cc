#include "templating/template_renderer.h"

#include "unit/templating/fixture.h"

namespace comms::templating {
namespace {

using domain::Channel;

class TemplateRendererTest : public testing::TemplatingFixture {
 protected:
  void SetUp() override {
    TemplatingFixture::SetUp();
    renderer_ = std::make_unique<TemplateRenderer>(*service_);
    mwansa_.id = "cust-1";
    mwansa_.name = "Mwansa Bwalya";
    mwansa_.phone = "+260971234567";
    mwansa_.email = "mwansa@example.com";
    mwansa_.language = "bem";
    mwansa_.timezone = "Africa/Lusaka";
  }

  domain::Notification notification(Channel channel, std::string category, std::string name,
                                    std::string personalization = "{}") {
    domain::Notification n;
    n.id = new_uuid();
    n.recipient_id = mwansa_.id;
    n.channel = channel;
    n.template_category = std::move(category);
    n.template_name = std::move(name);
    n.personalization = std::move(personalization);
    return n;
  }

  delivery::RenderOutcome render(const domain::Notification& n, const domain::Recipient* r) {
    return run(renderer_->render(n, r));
  }

  domain::Recipient mwansa_;
  std::unique_ptr<TemplateRenderer> renderer_;
};

TEST_F(TemplateRendererTest, RendersInTheRecipientsLanguageWithTheLocaleHelpers) {
  create("collections", "repayment-due", Channel::sms, "en",
         body("Dear {{recipient.firstName}}, {{#money}}{{amount}}{{/money}} is due on {{#date}}{{due}}{{/date}}."));
  create("collections", "repayment-due", Channel::sms, "bem",
         body("Mwapoleni {{recipient.firstName}}, {{#money}}{{amount}}{{/money}} ilelipilwa pa "
              "{{#date}}{{due}}{{/date}}."));
  const auto n = notification(Channel::sms, "collections", "repayment-due", R"({"amount":1250.5,"due":"2025-03-15"})");

  auto out = render(n, &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.text, "Mwapoleni Mwansa, K 1,250.50 ilelipilwa pa 15 Machi 2025.");
  EXPECT_EQ(out.message.to, "+260971234567");

  auto en = n;
  en.locale = "en";  // the notification's own locale wins over the directory's language
  out = render(en, &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.text, "Dear Mwansa, K 1,250.50 is due on 15 March 2025.");

  auto fr = n;
  fr.locale = "fr-FR";
  out = render(fr, &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.text, "Dear Mwansa, K 1,250.50 is due on 15 March 2025.");
}

TEST_F(TemplateRendererTest, EscapesPerChannel) {
  const std::string data = R"({"name":"<b>\"O'Brien\" & Co</b>"})";
  store::TemplateContent email;
  email.subject = "Hello {{name}}";
  email.body = "Hello {{name}}";
  email.html_body = "<p>Hello {{name}}</p>";
  create("onboarding", "welcome", Channel::email, "en", email);
  store::TemplateContent inapp;
  inapp.subject = "Hi {{name}}";
  inapp.body = "Welcome {{name}}";
  create("onboarding", "welcome", Channel::inapp, "en", inapp);
  create("onboarding", "welcome", Channel::sms, "en", body("Welcome {{name}}"));

  auto out = render(notification(Channel::email, "onboarding", "welcome", data), &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.subject, R"(Hello <b>"O'Brien" & Co</b>)");
  EXPECT_EQ(out.message.text, R"(Hello <b>"O'Brien" & Co</b>)");
  EXPECT_EQ(out.message.html, "<p>Hello &lt;b&gt;&quot;O&#39;Brien&quot; &amp; Co&lt;/b&gt;</p>");
  EXPECT_EQ(out.message.to, "mwansa@example.com");

  out = render(notification(Channel::sms, "onboarding", "welcome", data), &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.text, R"(Welcome <b>"O'Brien" & Co</b>)");
  EXPECT_TRUE(out.message.html.empty());

  // In-app text is put into the hub's JSON frames by a serializer: escaping it here would show.
  out = render(notification(Channel::inapp, "onboarding", "welcome", data), &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.subject, R"(Hi <b>"O'Brien" & Co</b>)");
  EXPECT_EQ(out.message.text, R"(Welcome <b>"O'Brien" & Co</b>)");
  EXPECT_EQ(out.message.to, "cust-1");
}

TEST_F(TemplateRendererTest, AnSmsOverMaxSegmentsFailsWithTheReason) {
  create("collections", "payment-overdue", Channel::sms, "en", body("{{text}}", 1));
  auto fits = render(notification(Channel::sms, "collections", "payment-overdue",
                                  R"({"text":")" + std::string(160, 'a') + R"("})"),
                     &mwansa_);
  EXPECT_TRUE(fits.ok) << fits.error;

  auto out = render(notification(Channel::sms, "collections", "payment-overdue",
                                 R"({"text":")" + std::string(200, 'a') + R"("})"),
                    &mwansa_);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error,
            "rendered SMS takes 2 segments (GSM-7, 200 chars), template collections/payment-overdue (en) v1 "
            "allows 1");

  auto ucs2 = render(notification(Channel::sms, "collections", "payment-overdue",
                                  R"({"text":")" + std::string(40, 'a') + "\u0107" + std::string(40, 'a') + R"("})"),
                     &mwansa_);
  EXPECT_FALSE(ucs2.ok);
  EXPECT_NE(ucs2.error.find("2 segments (UCS-2, 81 chars)"), std::string::npos) << ucs2.error;
}

TEST_F(TemplateRendererTest, ARenderOverTheEngineLimitsFails) {
  // Each level multiplies the output: 10 levels over a 10-item list is 10^10 bodies.
  std::string nested;
  for (int i = 0; i < 10; ++i) nested += "{{#l}}";
  nested += "x";
  for (int i = 0; i < 10; ++i) nested += "{{/l}}";
  create("otp", "otp", Channel::sms, "en", body(nested));
  auto out = render(notification(Channel::sms, "otp", "otp", R"({"l":[1,2,3,4,5,6,7,8,9,10]})"), &mwansa_);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("otp/otp (en) v1 stopped at a render limit"), std::string::npos) << out.error;
}

TEST_F(TemplateRendererTest, AMissingTemplateUsesStoredContentOrFailsNamingTheLocales) {
  auto n = notification(Channel::sms, "loan-origination", "nope");
  auto out = render(n, &mwansa_);
  EXPECT_FALSE(out.ok);
  EXPECT_EQ(out.error, "no template loan-origination/nope for sms in locale bem, en");

  n.content = "the rules' fallback text";
  out = render(n, &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.text, "the rules' fallback text");
}

TEST_F(TemplateRendererTest, ATemplateWinsOverStoredFallbackContent) {
  create("otp", "otp", Channel::sms, "en", body("Code {{code}}"));
  auto n = notification(Channel::sms, "otp", "otp", R"({"code":"123456"})");
  n.content = "fallback";
  auto out = render(n, nullptr);
  EXPECT_FALSE(out.ok);  // no directory entry and no `to`: no address
  n.to = "+260977000000";
  out = render(n, nullptr);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.text, "Code 123456");
}

TEST_F(TemplateRendererTest, LiteralNotificationsAreSentAsStored) {
  domain::Notification n;
  n.id = "n-1";
  n.recipient_id = "cust-1";
  n.channel = Channel::email;
  n.subject = "Statement {{month}}";
  n.content = "Your statement is ready.";
  auto out = render(n, &mwansa_);
  ASSERT_TRUE(out.ok) << out.error;
  EXPECT_EQ(out.message.subject, "Statement {{month}}");  // literal: no rendering
  EXPECT_EQ(out.message.text, "Your statement is ready.");
  EXPECT_EQ(out.message.to, "mwansa@example.com");
}

TEST_F(TemplateRendererTest, ABrokenStoredTemplateFailsTheNotification) {
  create("otp", "otp", Channel::sms, "en", body("{{#open}}"));
  auto out = render(notification(Channel::sms, "otp", "otp"), &mwansa_);
  EXPECT_FALSE(out.ok);
  EXPECT_NE(out.error.find("otp/otp: template "), std::string::npos) << out.error;
  EXPECT_NE(out.error.find("body 1:1: unclosed section"), std::string::npos) << out.error;
}

TEST(RenderContext, AddsTheRecipientWithoutContactDetails) {
  domain::Recipient r;
  r.id = "cust-9";
  r.name = "  Chanda Phiri";
  r.phone = "+260971234567";
  r.email = "c@example.com";
  const auto ctx = render_context(R"({"amount":5,"recipient":{"name":"spoofed"}})", &r).as_object();
  EXPECT_EQ(ctx.at("amount").as_int64(), 5);
  const auto& rec = ctx.at("recipient").as_object();
  EXPECT_EQ(rec.at("name").as_string(), "  Chanda Phiri");
  EXPECT_EQ(rec.at("firstName").as_string(), "Chanda");
  EXPECT_FALSE(rec.contains("phone"));
  EXPECT_FALSE(rec.contains("email"));

  // Without a directory entry a caller's own `recipient` stays; bad personalization is {}.
  EXPECT_EQ(render_context(R"({"recipient":{"name":"Given"}})", nullptr).at("recipient").at("name").as_string(),
            "Given");
  EXPECT_TRUE(render_context("not json", nullptr).as_object().empty());
  EXPECT_TRUE(render_context("[1]", nullptr).as_object().empty());
}

TEST(EscapeFor, OnlyTheEmailHtmlPartIsEscaped) {
  EXPECT_EQ(escape_for(Channel::email, Part::html), templates::Escape::html);
  EXPECT_EQ(escape_for(Channel::email, Part::text), templates::Escape::none);
  EXPECT_EQ(escape_for(Channel::email, Part::subject), templates::Escape::none);
  EXPECT_EQ(escape_for(Channel::sms, Part::text), templates::Escape::none);
  EXPECT_EQ(escape_for(Channel::inapp, Part::text), templates::Escape::none);
}

}  // namespace
}  // namespace comms::templating
