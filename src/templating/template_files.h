// Templates as files: the format of templates/defaults/ and of `comms templates import|export`.
//
// One JSON object per file, named <category>/<name>.<channel>.<locale>.json by export (import reads
// any *.json below a folder and trusts the fields, not the name):
//
//   {"category": "collections", "name": "repayment-due", "channel": "sms", "locale": "bem",
//    "description": "...", "subject": "...", "body": "...", "htmlBody": "...", "maxSegments": 2,
//    "strict": false}
//
// The field names are the admin API's. category, name, channel and body (or htmlBody, for email)
// are required. Content rules per channel as in the API: sms has no subject or htmlBody; email needs
// a subject; in-app has no htmlBody; maxSegments (0..10, 0 = no limit) is for sms only. Every part
// must compile. docs/templates.md, "Import and export".
//
// Thread-safety: pure functions, plus the blocking store calls of import_templates/all_templates.
#pragma once
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"

namespace comms::templating {

struct TemplateFile {
  std::string source;  // where it came from, for messages
  std::string category;
  std::string name;
  domain::Channel channel = domain::Channel::sms;
  std::string locale = "en";
  std::string description;
  store::TemplateContent content;
};

// A file that cannot be used. what(): "<source>:<line>:<column>: <problem>", the position in the
// file (1-based) of the JSON error or of the offending field.
class TemplateFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A new template (fresh id) holding f's content as its first version.
store::TemplateRecord new_record(const TemplateFile& f);

// Parses and validates one file. Throws TemplateFileError.
TemplateFile parse_template_file(std::string_view text, const std::string& source);

// The file text of t's active version (pretty-printed, a trailing newline), and its file name.
std::string format_template_file(const store::TemplateRecord& t);
std::string template_file_name(const store::TemplateRecord& t);

// Every *.json below `dir`, parsed, in path order. Throws TemplateFileError naming the first bad
// file (a duplicate key names both files), std::runtime_error when `dir` cannot be read.
std::vector<TemplateFile> read_template_dir(const std::string& dir);

struct ImportCounts {
  int created = 0;
  int updated = 0;  // a new version was added and activated
  int unchanged = 0;
};

// Imports `files` in one unit of work: a missing key is created, a key whose active content differs
// gets a new version, an equal one is left alone. Blocking. The caller invalidates caches.
ImportCounts import_templates(store::Store& store, const std::vector<TemplateFile>& files,
                              const std::string& created_by);

// Every stored template with its active version. Blocking.
std::vector<store::TemplateRecord> all_templates(store::Store& store);

}  // namespace comms::templating
