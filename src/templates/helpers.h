// The lending helpers: filters (lambdas.h) that format what their section renders to.
//
//   {{#money}}{{amount}}{{/money}}          1250.5            -> K 1,250.50
//   {{#date}}{{due_date}}{{/date}}          2025-03-12        -> 12 March 2025
//   {{#datetime}}{{paid_at}}{{/datetime}}   1741780800000     -> 12 March 2025, 14:00 (in the zone)
//   {{#time}}{{paid_at}}{{/time}}           2025-03-12T12:00Z -> 14:00
//   {{#mask}}{{account}}{{/mask}}           0971234567        -> ******4567
//   {{#upper}}{{name}}{{/upper}}  {{#lower}}..{{/lower}}      ASCII letters only
//   {{#truncate}}20 {{purpose}}{{/truncate}} the first number is the limit, in characters, "..." included
//
// The section body is rendered unescaped, formatted, and the result is escaped once for the channel
// (so markup inside a helper section is escaped in html mode). Input a helper cannot read is passed
// through unchanged. docs/templates.md has the full rules.
//
// Thread safety: the returned registry is immutable and its lambdas are stateless; share it between
// renders. It reads the zone file once: build one per (locale, timezone) and reuse it.
#pragma once
#include <string_view>

#include "templates/lambdas.h"

namespace comms::templates {

// locale: "en", "bem" (Bemba) or "ny" (Nyanja); a region suffix ("en-ZM", "bem_ZM") is ignored and any
// other value means "en". timezone: an IANA name; empty or unknown means Africa/Lusaka.
// Registers money, date, datetime, time, mask, upper, lower and truncate.
Lambdas default_helpers(std::string_view locale, std::string_view timezone);

}  // namespace comms::templates
