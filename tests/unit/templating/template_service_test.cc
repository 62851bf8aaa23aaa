#include "templating/template_service.h"

#include "unit/templating/fixture.h"

namespace comms::templating {
namespace {

using domain::Channel;
using testing::TemplatingFixture;

std::string body_of(const std::optional<Resolved>& r) { return std::string(r->compiled->body.source()); }

TEST(LocaleChain, FallsBackToTheLanguageThenEnglish) {
  EXPECT_EQ(locale_chain("bem"), (std::vector<std::string>{"bem", "en"}));
  EXPECT_EQ(locale_chain("bem-ZM"), (std::vector<std::string>{"bem-ZM", "bem", "en"}));
  EXPECT_EQ(locale_chain("BEM_zm"), (std::vector<std::string>{"bem-ZM", "bem", "en"}));
  EXPECT_EQ(locale_chain("en-ZM"), (std::vector<std::string>{"en-ZM", "en"}));
  EXPECT_EQ(locale_chain("EN"), (std::vector<std::string>{"en"}));
  EXPECT_EQ(locale_chain(""), (std::vector<std::string>{"en"}));
}

TEST(CacheKey, NamesTheWholeKey) {
  EXPECT_EQ(cache_key("collections", "repayment-due", Channel::sms, "bem"), "tmpl:collections/repayment-due/sms/bem");
}

TEST(CompileContent, NamesThePartAndPosition) {
  std::string error;
  store::TemplateContent c;
  c.subject = "ok";
  c.body = "fine";
  c.html_body = "<p>\n  {{#loan}}</p>";
  EXPECT_EQ(compile_content(c, error), nullptr);
  EXPECT_EQ(error.rfind("html_body 2:3: ", 0), 0u) << error;
}

class TemplateServiceTest : public TemplatingFixture {};

TEST_F(TemplateServiceTest, ResolvesTheRequestedLocaleItsLanguageThenEnglish) {
  create("collections", "repayment-due", Channel::sms, "en", body("English"));
  create("collections", "repayment-due", Channel::sms, "bem", body("Bemba"));

  auto bem = resolve("collections", "repayment-due", Channel::sms, "bem");
  ASSERT_TRUE(bem);
  EXPECT_EQ(bem->locale, "bem");
  EXPECT_EQ(body_of(bem), "Bemba");

  auto tagged = resolve("collections", "repayment-due", Channel::sms, "bem-ZM");
  ASSERT_TRUE(tagged);
  EXPECT_EQ(tagged->locale, "bem");
  EXPECT_EQ(body_of(tagged), "Bemba");

  auto unknown = resolve("collections", "repayment-due", Channel::sms, "fr");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->locale, "en");
  EXPECT_EQ(body_of(unknown), "English");

  EXPECT_FALSE(resolve("collections", "repayment-due", Channel::email, "bem"));  // other channel
  EXPECT_FALSE(resolve("collections", "nope", Channel::sms, "en"));
}

TEST_F(TemplateServiceTest, ARegionalTemplateWinsOverItsLanguage) {
  create("otp", "otp", Channel::sms, "bem", body("Bemba"));
  create("otp", "otp", Channel::sms, "bem-ZM", body("Zambian Bemba"));
  auto r = resolve("otp", "otp", Channel::sms, "bem_zm");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->locale, "bem-ZM");
  EXPECT_EQ(body_of(r), "Zambian Bemba");
}

TEST_F(TemplateServiceTest, ANewVersionIsSeenAfterInvalidateAndNotBefore) {
  auto t = create("otp", "otp", Channel::sms, "en", body("v1"));
  ASSERT_EQ(body_of(resolve("otp", "otp", Channel::sms, "en")), "v1");

  add_version(t, body("v2"));
  // Cache-aside: until the change is announced, the cached record is used.
  EXPECT_EQ(body_of(resolve("otp", "otp", Channel::sms, "en")), "v1");
  run(service_->invalidate(t));
  auto r = resolve("otp", "otp", Channel::sms, "en");
  EXPECT_EQ(body_of(r), "v2");
  EXPECT_EQ(r->compiled->version, 2);

  // Re-activating version 1 is a change like any other.
  write([&](store::UnitOfWork& uow) { ASSERT_TRUE(uow.templates().activate(t, 1)); });
  run(service_->invalidate(t));
  EXPECT_EQ(body_of(resolve("otp", "otp", Channel::sms, "bem")), "v1");  // bem falls back to en
}

TEST_F(TemplateServiceTest, AMissIsCachedUntilInvalidated) {
  EXPECT_FALSE(resolve("otp", "otp", Channel::sms, "en"));
  auto t = create("otp", "otp", Channel::sms, "en", body("now here"));
  EXPECT_FALSE(resolve("otp", "otp", Channel::sms, "en"));  // the negative entry holds
  run(service_->invalidate(t));
  EXPECT_EQ(body_of(resolve("otp", "otp", Channel::sms, "en")), "now here");
}

TEST_F(TemplateServiceTest, ANegativeEntryExpires) {
  options_.negative_ttl = std::chrono::milliseconds(20);
  service_ = std::make_unique<TemplateService>(*store_, cache_, options_);
  EXPECT_FALSE(resolve("otp", "otp", Channel::sms, "en"));
  create("otp", "otp", Channel::sms, "en", body("later"));
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_TRUE(resolve("otp", "otp", Channel::sms, "en"));
}

TEST_F(TemplateServiceTest, DeletingATemplateFallsBackAfterInvalidate) {
  create("otp", "otp", Channel::sms, "en", body("English"));
  auto bem = create("otp", "otp", Channel::sms, "bem", body("Bemba"));
  EXPECT_EQ(body_of(resolve("otp", "otp", Channel::sms, "bem")), "Bemba");
  write([&](store::UnitOfWork& uow) { ASSERT_TRUE(uow.templates().remove(bem.id)); });
  run(service_->invalidate(bem));
  EXPECT_EQ(body_of(resolve("otp", "otp", Channel::sms, "bem")), "English");
}

TEST_F(TemplateServiceTest, InvalidateAllDropsEveryEntry) {
  auto t = create("otp", "otp", Channel::sms, "en", body("v1"));
  ASSERT_EQ(body_of(resolve("otp", "otp", Channel::sms, "en")), "v1");
  add_version(t, body("v2"));
  run(service_->invalidate_all());
  EXPECT_EQ(body_of(resolve("otp", "otp", Channel::sms, "en")), "v2");
}

TEST_F(TemplateServiceTest, CompiledProgramsAreSharedPerVersionAndBounded) {
  auto t = create("otp", "otp", Channel::sms, "en", body("v1"));
  auto a = resolve("otp", "otp", Channel::sms, "en");
  cache_.l1().remove_by_pattern("*");  // even from the store again, the same (id, version) reuses its program
  auto b = resolve("otp", "otp", Channel::sms, "fr");
  EXPECT_EQ(a->compiled.get(), b->compiled.get());
  EXPECT_EQ(service_->compiled_size(), 1u);

  options_.compiled_capacity = 2;
  service_ = std::make_unique<TemplateService>(*store_, cache_, options_);
  for (int v = 2; v <= 4; ++v) {
    add_version(t, body("v" + std::to_string(v)));
    run(service_->invalidate(t));
    EXPECT_EQ(body_of(resolve("otp", "otp", Channel::sms, "en")), "v" + std::to_string(v));
  }
  EXPECT_EQ(service_->compiled_size(), 2u);
}

TEST_F(TemplateServiceTest, ATemplateThatDoesNotCompileIsReportedWithItsPosition) {
  create("otp", "otp", Channel::sms, "en", body("Code: {{code"));
  try {
    (void)resolve("otp", "otp", Channel::sms, "en");
    FAIL() << "expected BrokenTemplateError";
  } catch (const BrokenTemplateError& e) {
    EXPECT_NE(std::string(e.what()).find("body 1:7: unclosed tag"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace comms::templating
