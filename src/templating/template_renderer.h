// The dispatcher's renderer: a notification that names a template (template_category and
// template_name) is rendered through TemplateService at send time; anything else is sent as stored
// (delivery::render_literal).
//
//   locale    the notification's locale, else the recipient's language, then TemplateService's
//             fallback (its language, then "en"); helpers format for the locale actually found
//   context   the notification's personalization (a JSON object) plus `recipient`:
//             {id, name, firstName, language, timezone} from the directory. Contact details are left
//             out on purpose (the address travels beside the message, and rendered text is stored).
//   escaping  SMS: none. Email: subject and text part none, HTML part html. In-app: none, because
//             the hub puts subject and content into its JSON frames with a JSON serializer; escaping
//             here as well would show backslashes to the user.
//   failures  (permanent) no template in any locale and no stored content; a template that does not
//             compile; a render cut short by the engine's limits; an SMS over the template's
//             max_segments. The reason never contains rendered text (it may hold a secret).
//
// A notification whose template is missing but which carries content (the rules' fallback text) is
// sent with that content, as before templates existed.
//
// Thread-safety: safe to call from many coroutines at once.
#pragma once
#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "delivery/renderer.h"
#include "templates/lambdas.h"
#include "templates/template.h"
#include "templating/template_service.h"

namespace comms::templating {

enum class Part { subject, text, html };

// How interpolated values are escaped in one part of a message on `channel` (table above).
templates::Escape escape_for(domain::Channel channel, Part part);

// The render context: `personalization` (a JSON object; anything else counts as {}) with `recipient`
// set from the directory entry. Without one, a personalization's own `recipient` is kept.
boost::json::value render_context(const std::string& personalization, const domain::Recipient* recipient);

struct RenderedParts {
  bool ok = true;
  std::string error;
  std::string subject;
  std::string text;
  std::string html;
};

// Renders the three parts of `t` for `channel` and applies the SMS segment limit. `label` names the
// template in error reasons ("collections/repayment-due (bem) v3").
RenderedParts render_parts(const CompiledTemplate& t, domain::Channel channel, const boost::json::value& context,
                           const templates::Lambdas& helpers, const std::string& label);

class TemplateRenderer final : public delivery::Renderer {
 public:
  // `service` must outlive the renderer.
  explicit TemplateRenderer(TemplateService& service) : service_(service) {}
  boost::asio::awaitable<delivery::RenderOutcome> render(const domain::Notification& n,
                                                         const domain::Recipient* recipient) override;

 private:
  // default_helpers(locale, zone), built once per pair (it reads the zone file).
  std::shared_ptr<const templates::Lambdas> helpers(const std::string& locale, const std::string& zone);

  TemplateService& service_;
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const templates::Lambdas>> helpers_;  // guarded by mu_
};

}  // namespace comms::templating
