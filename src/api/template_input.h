// Reading template fields from request bodies, shared by the templates API and the preview
// (templates_api.cc, template_preview_api.cc). Every problem is a 400 ApiError naming the field.
// Pure functions of their arguments: safe to call from any thread.
#pragma once
#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "domain/notification.h"
#include "store/store.h"
#include "templates/template.h"

namespace comms::api {

// Required `channel`: sms, email or inapp.
domain::Channel read_channel(const boost::json::object& o);
// `locale` (default `def`): a language tag with a lower-case language, e.g. en, bem, ny, en-ZM.
std::string read_locale(const boost::json::object& o, std::string_view def);

// subject, body, htmlBody, maxSegments and strict, checked against what `channel` has:
// sms: body, maxSegments 0..10 (0 = no limit), no subject or htmlBody;
// email: subject, and body or htmlBody (or both), no maxSegments;
// inapp: body, optional subject, no htmlBody or maxSegments.
store::TemplateContent read_content(const boost::json::object& o, domain::Channel channel);

// Each part compiled; an empty part is the empty template.
struct CompiledContent {
  templates::Template subject;
  templates::Template body;
  templates::Template html_body;
};

// Compiles every part. A part that does not compile is a 400 "invalid_template" whose message names
// the field, the line and the column: "field 'body' does not compile: line 1, column 7: ...".
CompiledContent compile_content(const store::TemplateContent& c);

}  // namespace comms::api
