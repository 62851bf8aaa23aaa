#include "intake/catalogue.h"

#include <array>

namespace comms::intake {
namespace {

using K = FieldKind;
constexpr bool req = true;

constexpr std::array kCommon{
    FieldSpec{"eventId", K::id},
    FieldSpec{"eventTimestamp", K::datetime},
    FieldSpec{"correlationId", K::id},
};

// Loan Origination ---------------------------------------------------------
constexpr std::array kLoanApplicationCreated{
    FieldSpec{"applicationId", K::id, req},      FieldSpec{"customerId", K::id, req},
    FieldSpec{"requestedAmount", K::money, req}, FieldSpec{"currency", K::currency},
    FieldSpec{"productType", K::text, req},      FieldSpec{"termMonths", K::integer},
    FieldSpec{"branchId", K::id, req},           FieldSpec{"customerName", K::text, req},
    FieldSpec{"customerPhone", K::phone},        FieldSpec{"customerEmail", K::email},
    FieldSpec{"preferredLanguage", K::language},
};
constexpr std::array kLoanApplicationApproved{
    FieldSpec{"applicationId", K::id, req},  FieldSpec{"loanId", K::id},
    FieldSpec{"customerId", K::id, req},     FieldSpec{"approvedAmount", K::money, req},
    FieldSpec{"currency", K::currency},      FieldSpec{"interestRate", K::money},
    FieldSpec{"termMonths", K::integer},     FieldSpec{"monthlyInstallment", K::money},
    FieldSpec{"approvedBy", K::text},        FieldSpec{"approvedAt", K::datetime},
    FieldSpec{"productType", K::text},       FieldSpec{"branchId", K::id, req},
    FieldSpec{"customerName", K::text, req}, FieldSpec{"customerPhone", K::phone},
    FieldSpec{"customerEmail", K::email},    FieldSpec{"preferredLanguage", K::language},
};
constexpr std::array kLoanApplicationRejected{
    FieldSpec{"applicationId", K::id, req},      FieldSpec{"customerId", K::id, req},
    FieldSpec{"reason", K::text, req},           FieldSpec{"rejectedBy", K::text},
    FieldSpec{"rejectedAt", K::datetime},        FieldSpec{"productType", K::text},
    FieldSpec{"branchId", K::id, req},           FieldSpec{"customerName", K::text, req},
    FieldSpec{"customerPhone", K::phone},        FieldSpec{"customerEmail", K::email},
    FieldSpec{"preferredLanguage", K::language},
};
constexpr std::array kLoanDisbursed{
    FieldSpec{"loanId", K::id, req},          FieldSpec{"applicationId", K::id},
    FieldSpec{"customerId", K::id, req},      FieldSpec{"disbursedAmount", K::money, req},
    FieldSpec{"currency", K::currency},       FieldSpec{"disbursementDate", K::date, req},
    FieldSpec{"disbursementMethod", K::text}, FieldSpec{"accountNumber", K::text},
    FieldSpec{"firstRepaymentDate", K::date}, FieldSpec{"branchId", K::id, req},
    FieldSpec{"customerName", K::text, req},  FieldSpec{"customerPhone", K::phone},
    FieldSpec{"customerEmail", K::email},     FieldSpec{"preferredLanguage", K::language},
};

// Collections --------------------------------------------------------------
constexpr std::array kRepaymentDue{
    FieldSpec{"loanId", K::id, req},
    FieldSpec{"customerId", K::id, req},
    FieldSpec{"installmentNumber", K::integer},
    FieldSpec{"amountDue", K::money, req},
    FieldSpec{"currency", K::currency},
    FieldSpec{"dueDate", K::date, req},
    FieldSpec{"outstandingBalance", K::money},
    FieldSpec{"branchId", K::id, req},
    FieldSpec{"customerName", K::text, req},
    FieldSpec{"customerPhone", K::phone},
    FieldSpec{"customerEmail", K::email},
    FieldSpec{"preferredLanguage", K::language},
};
constexpr std::array kPaymentReceived{
    FieldSpec{"paymentId", K::id, req},        FieldSpec{"loanId", K::id, req},
    FieldSpec{"customerId", K::id, req},       FieldSpec{"amount", K::money, req},
    FieldSpec{"currency", K::currency},        FieldSpec{"paymentDate", K::datetime, req},
    FieldSpec{"paymentMethod", K::text},       FieldSpec{"receiptNumber", K::text},
    FieldSpec{"outstandingBalance", K::money}, FieldSpec{"branchId", K::id, req},
    FieldSpec{"customerName", K::text, req},   FieldSpec{"customerPhone", K::phone},
    FieldSpec{"customerEmail", K::email},      FieldSpec{"preferredLanguage", K::language},
};
constexpr std::array kPaymentOverdue{
    FieldSpec{"loanId", K::id, req},
    FieldSpec{"customerId", K::id, req},
    FieldSpec{"amountOverdue", K::money, req},
    FieldSpec{"currency", K::currency},
    FieldSpec{"dueDate", K::date, req},
    FieldSpec{"daysOverdue", K::integer, req},
    FieldSpec{"penaltyAmount", K::money},
    FieldSpec{"outstandingBalance", K::money},
    FieldSpec{"branchId", K::id, req},
    FieldSpec{"customerName", K::text, req},
    FieldSpec{"customerPhone", K::phone},
    FieldSpec{"customerEmail", K::email},
    FieldSpec{"preferredLanguage", K::language},
};

// Identity -----------------------------------------------------------------
constexpr std::array kOtpRequested{
    FieldSpec{"userId", K::id, req},
    FieldSpec{"otpCode", K::secret, req},
    FieldSpec{"purpose", K::text, req},
    FieldSpec{"expiresAt", K::datetime},
    FieldSpec{"expiryMinutes", K::integer},
    FieldSpec{"userName", K::text},
    FieldSpec{"phone", K::phone},
    FieldSpec{"email", K::email},
    FieldSpec{"preferredLanguage", K::language},
};
constexpr std::array kPasswordResetRequested{
    FieldSpec{"userId", K::id, req},
    FieldSpec{"resetToken", K::secret, req},
    FieldSpec{"expiresAt", K::datetime},
    FieldSpec{"userName", K::text},
    FieldSpec{"phone", K::phone},
    FieldSpec{"email", K::email},
    FieldSpec{"preferredLanguage", K::language},
};
constexpr std::array kUserRegistered{
    FieldSpec{"userId", K::id, req},     FieldSpec{"userName", K::text},
    FieldSpec{"fullName", K::text, req}, FieldSpec{"role", K::text},
    FieldSpec{"branchId", K::id},        FieldSpec{"phone", K::phone},
    FieldSpec{"email", K::email},        FieldSpec{"preferredLanguage", K::language},
};

// Client Management --------------------------------------------------------
constexpr std::array kClientCreated{
    FieldSpec{"clientId", K::id, req},   FieldSpec{"firstName", K::text, req},
    FieldSpec{"lastName", K::text, req}, FieldSpec{"phone", K::phone},
    FieldSpec{"email", K::email},        FieldSpec{"preferredLanguage", K::language},
    FieldSpec{"branchId", K::id},
};
constexpr std::array kClientContactUpdated{
    FieldSpec{"clientId", K::id, req},           FieldSpec{"phone", K::phone}, FieldSpec{"email", K::email},
    FieldSpec{"preferredLanguage", K::language}, FieldSpec{"branchId", K::id},
};

EventSpec customer_event(std::string_view type, std::string_view area, std::span<const FieldSpec> fields) {
  EventSpec e;
  e.type = type;
  e.area = area;
  e.fields = fields;
  e.customer_field = "customerId";
  e.name_field = "customerName";
  e.phone_field = "customerPhone";
  e.email_field = "customerEmail";
  e.language_field = "preferredLanguage";
  e.branch_field = "branchId";
  return e;
}

EventSpec user_event(std::string_view type, std::span<const FieldSpec> fields, std::string_view name_field,
                     DirectoryEffect directory) {
  EventSpec e;
  e.type = type;
  e.area = "Identity";
  e.fields = fields;
  e.customer_field = "userId";
  e.name_field = name_field;
  e.phone_field = "phone";
  e.email_field = "email";
  e.language_field = "preferredLanguage";
  e.directory = directory;
  return e;
}

EventSpec client_event(std::string_view type, std::span<const FieldSpec> fields, DirectoryEffect directory) {
  EventSpec e;
  e.type = type;
  e.area = "Client Management";
  e.fields = fields;
  e.customer_field = "clientId";
  e.phone_field = "phone";
  e.email_field = "email";
  e.language_field = "preferredLanguage";
  e.branch_field = "branchId";
  e.directory = directory;
  return e;
}

const std::vector<EventSpec>& all() {
  static const std::vector<EventSpec> events = [] {
    std::vector<EventSpec> v;
    v.push_back(customer_event("LoanApplicationCreated", "Loan Origination", kLoanApplicationCreated));
    v.push_back(customer_event("LoanApplicationApproved", "Loan Origination", kLoanApplicationApproved));
    v.push_back(customer_event("LoanApplicationRejected", "Loan Origination", kLoanApplicationRejected));
    v.push_back(customer_event("LoanDisbursed", "Loan Origination", kLoanDisbursed));
    v.push_back(customer_event("RepaymentDue", "Collections", kRepaymentDue));
    v.push_back(customer_event("PaymentReceived", "Collections", kPaymentReceived));
    v.push_back(customer_event("PaymentOverdue", "Collections", kPaymentOverdue));
    v.push_back(user_event("OtpRequested", kOtpRequested, "userName", DirectoryEffect::none));
    v.push_back(
        user_event("PasswordResetRequested", kPasswordResetRequested, "userName", DirectoryEffect::none));
    auto registered = user_event("UserRegistered", kUserRegistered, "fullName", DirectoryEffect::upsert);
    registered.branch_field = "branchId";
    v.push_back(registered);
    auto created = client_event("ClientCreated", kClientCreated, DirectoryEffect::upsert);
    created.first_name_field = "firstName";
    created.last_name_field = "lastName";
    v.push_back(created);
    v.push_back(client_event("ClientContactUpdated", kClientContactUpdated, DirectoryEffect::update));
    return v;
  }();
  return events;
}

}  // namespace

std::span<const FieldSpec> common_fields() {
  return kCommon;
}

std::span<const EventSpec> catalogue() {
  return all();
}

const EventSpec* find_event(std::string_view type) {
  for (const auto& e : all())
    if (e.type == type) return &e;
  return nullptr;
}

const FieldSpec* find_field(const EventSpec& spec, std::string_view name) {
  for (const auto& f : common_fields())
    if (f.name == name) return &f;
  for (const auto& f : spec.fields)
    if (f.name == name) return &f;
  return nullptr;
}

bool is_numeric(FieldKind k) {
  return k == FieldKind::money || k == FieldKind::integer;
}

}  // namespace comms::intake
