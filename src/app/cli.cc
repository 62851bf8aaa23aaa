#include "app/cli.h"

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "app/args.h"
#include "app/config.h"
#include "app/dev_secret.h"
#include "app/serve.h"
#include "commands/rejected.h"
#include "commands/send_notification.h"
#include "common/clock.h"
#include "common/log.h"
#include "http/jwt.h"
#include "store/store.h"
#include "templating/defaults.h"
#include "templating/template_files.h"

#ifndef COMMS_VERSION
#define COMMS_VERSION "0.1.0"
#endif

namespace comms::app {
namespace {

constexpr const char* kUsage = R"(comms - IntelliFin Communications Service

Usage: comms [--config FILE] COMMAND [OPTIONS]

Commands:
  serve                      run the service (HTTP API, dispatcher, intake)
  migrate                    apply pending database migrations and exit
  token --sub ID --role R    print a JWT signed with the configured secret
        [--branch B] [--ttl SECONDS]      R: customer | staff | service | admin
  send --recipient ID --channel C (--content TEXT [--subject S] |
        --template-category C --template-name N [--personalization JSON])
        [--to ADDRESS] [--locale L]       queue one notification and print its id
  templates import DIR       load every *.json template file below DIR: create the missing
                             ones, add a version where the content differs
  templates export DIR       write each template's active version to DIR as
                             <category>/<name>.<channel>.<locale>.json
  config                     print the effective configuration (secrets hidden)
  config --reference         print every configuration key as a Markdown table

Options:
  --config FILE   JSON config file (default: $COMMS_CONFIG); COMMS_* variables override it
  --help          this text
  --version       the version

Every configuration key: docs/configuration.md, or `comms config --reference`.
)";

store::StoreOptions store_options(const Config& c) {
  store::StoreOptions o;
  o.url = c.effective_db();
  o.synchronous_full = c.db_sync_full;
  return o;
}

int cmd_migrate(const Config& c) {
  auto store = store::open_store(store_options(c));
  const int ran = store->migrate();
  const auto [current, latest] = store->schema_version();
  std::printf("migrate: applied %d migration(s); schema version %d of %d (%s)\n", ran, current, latest,
              store->backend().c_str());
  const auto seeded = templating::seed_defaults(*store);
  std::printf("migrate: default templates: %d created, %d updated, %d kept as operators left them, %d unchanged\n",
              seeded.created, seeded.updated, seeded.kept, seeded.unchanged);
  store->close();
  return 0;
}

// A bad template file is a usage error (exit 2) naming the file, line and column.
int cmd_templates(const Config& c, const Args& a) {
  const auto& pos = a.positional();
  if (pos.size() != 2 || (pos[0] != "import" && pos[0] != "export"))
    throw UsageError("usage: comms templates import|export DIR");
  const std::string& dir = pos[1];
  if (pos[0] == "import") {
    std::vector<templating::TemplateFile> files;
    try {
      files = templating::read_template_dir(dir);
    } catch (const templating::TemplateFileError& e) {
      throw UsageError(std::string("templates import: ") + e.what());
    }
    auto store = store::open_store(store_options(c));
    store->migrate();
    const auto n = templating::import_templates(*store, files, "import");
    store->close();
    std::printf("templates import: %zu file(s) from %s: %d created, %d updated, %d unchanged\n", files.size(),
                dir.c_str(), n.created, n.updated, n.unchanged);
    return 0;
  }
  auto store = store::open_store(store_options(c));
  store->migrate();
  const auto all = templating::all_templates(*store);
  store->close();
  for (const auto& t : all) {
    const auto path = std::filesystem::path(dir) / templating::template_file_name(t);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << templating::format_template_file(t);
    if (!out) throw std::runtime_error("templates export: cannot write " + path.string());
  }
  std::printf("templates export: wrote %zu file(s) to %s\n", all.size(), dir.c_str());
  return 0;
}

int cmd_token(const Config& c, const Args& a) {
  const auto sub = a.require("sub");
  const auto role_name = a.require("role");
  const auto role = http::parse_role(role_name);
  if (!role || *role == http::Role::none)
    throw UsageError("--role must be customer, staff, service or admin, got '" + role_name + "'");
  long ttl = 3600;
  if (auto t = a.get("ttl")) {
    try {
      size_t n = 0;
      ttl = std::stol(*t, &n);
      if (n != t->size() || ttl <= 0) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw UsageError("--ttl must be a positive number of seconds, got '" + *t + "'");
    }
  }
  if (!c.jwt_public_key_file.empty())
    throw std::runtime_error(
        "token: COMMS_JWT_PUBLIC_KEY_FILE is set (RS256); tokens come from your identity provider");
  const auto secret = c.jwt_secret.empty() ? load_or_create_dev_secret(c.data_dir) : c.jwt_secret;
  std::printf("%s\n",
              http::mint_hs256(secret, sub, *role, std::chrono::seconds(ttl), a.get("branch").value_or(""),
                               c.jwt_issuer, c.jwt_audience)
                  .c_str());
  return 0;
}

int cmd_send(const Config& c, const Args& a) {
  commands::SendNotification cmd;
  cmd.recipient_id = a.require("recipient");
  const auto ch = a.require("channel");
  auto parsed = domain::parse_channel(ch);
  if (!parsed) throw UsageError("--channel must be sms, email or inapp, got '" + ch + "'");
  cmd.channel = *parsed;
  cmd.content = a.get("content").value_or("");
  cmd.subject = a.get("subject").value_or("");
  cmd.template_category = a.get("template-category").value_or("");
  cmd.template_name = a.get("template-name").value_or("");
  cmd.to = a.get("to").value_or("");
  cmd.locale = a.get("locale").value_or("");
  if (auto p = a.get("personalization")) {
    boost::system::error_code ec;
    auto v = boost::json::parse(*p, ec);
    if (ec || !v.is_object()) throw UsageError("--personalization must be a JSON object");
    cmd.personalization = boost::json::serialize(v);
  }
  try {
    commands::validate(cmd);
  } catch (const commands::Rejected& r) {
    throw UsageError(r.what());
  }
  auto store = store::open_store(store_options(c));
  store->migrate();
  commands::SendAccepted accepted;
  try {
    store::write_sync(*store, [&](store::UnitOfWork& uow) {
      accepted = commands::send_notification(uow, cmd, now_ms());
    });
  } catch (const commands::Rejected& r) {
    store->close();
    throw std::runtime_error(r.what());
  }
  store->close();
  std::printf("%s\n", accepted.notification.id.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv, char** envp) {
  std::string config_file;
  int i = 1;
  try {
    while (i < argc) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h" || a == "help") {
        std::fputs(kUsage, stdout);
        return 0;
      }
      if (a == "--version") {
        std::printf("comms %s\n", COMMS_VERSION);
        return 0;
      }
      if (a == "--config" && i + 1 < argc) {
        config_file = argv[i + 1];
        i += 2;
        continue;
      }
      if (a.rfind("--config=", 0) == 0) {
        config_file = a.substr(9);
        ++i;
        continue;
      }
      if (a.rfind("-", 0) == 0) throw UsageError("unknown option " + a + " (see comms --help)");
      break;
    }
    if (i >= argc) throw UsageError("no command given (see comms --help)");
    const std::string command = argv[i];
    ++i;
    if (command != "serve" && command != "migrate" && command != "token" && command != "send" &&
        command != "templates" && command != "config")
      throw UsageError("unknown command '" + command + "' (see comms --help)");

    Config config = load_config(config_file, envp);
    log::init(config.log_format == "json" ? log::Format::json : log::Format::text,
              config.log_level == "debug"  ? log::Level::debug
              : config.log_level == "warn" ? log::Level::warn
              : config.log_level == "error" ? log::Level::error
                                            : log::Level::info);

    if (command == "serve") {
      Args a(argc, argv, i, {});
      if (!a.positional().empty()) throw UsageError("serve: unexpected argument '" + a.positional()[0] + "'");
      return serve(config);
    }
    if (command == "migrate") {
      Args a(argc, argv, i, {});
      if (!a.positional().empty()) throw UsageError("migrate: unexpected argument '" + a.positional()[0] + "'");
      return cmd_migrate(config);
    }
    if (command == "token") {
      Args a(argc, argv, i, {"sub", "role", "branch", "ttl"});
      if (!a.positional().empty()) throw UsageError("token: unexpected argument '" + a.positional()[0] + "'");
      return cmd_token(config, a);
    }
    if (command == "send") {
      Args a(argc, argv, i,
             {"recipient", "channel", "content", "subject", "template-category", "template-name", "personalization",
              "to", "locale"});
      if (!a.positional().empty()) throw UsageError("send: unexpected argument '" + a.positional()[0] + "'");
      return cmd_send(config, a);
    }
    if (command == "templates") return cmd_templates(config, Args(argc, argv, i, {}));
    Args a(argc, argv, i, {}, {"reference"});
    std::fputs(a.has("reference") ? reference_markdown().c_str() : describe(config).c_str(), stdout);
    return 0;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "comms: %s\n", e.what());
    return 2;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "comms: configuration error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "comms: %s\n", e.what());
    return 1;
  }
}

}  // namespace comms::app
