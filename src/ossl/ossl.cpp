#include "ossl/ossl.h"

#include <openssl/err.h>

#include <cctype>

namespace armored::ossl {

std::string take_error_text() {
  std::string out;
  if (unsigned long first = ERR_get_error(); first != 0) {
    char buf[256];
    ERR_error_string_n(first, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

std::string error_text(std::string_view what) {
  std::string out(what);
  if (std::string text = take_error_text(); !text.empty()) {
    out += ": ";
    out += text;
  }
  return out;
}

void clear_errors() { ERR_clear_error(); }

std::string serial_hex(const ASN1_INTEGER* serial) {
  BnPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  char* hex = bn ? BN_bn2hex(bn.get()) : nullptr;
  if (hex == nullptr) {
    clear_errors();
    return "?";
  }
  std::string_view text(hex);
  const bool negative = !text.empty() && text.front() == '-';
  std::string out = normal_serial(negative ? text.substr(1) : text);
  OPENSSL_free(hex);
  if (out.empty()) return "?";
  return negative ? "-" + out : out;
}

std::string normal_serial(std::string_view hex) {
  if (hex.empty()) return {};
  std::string out;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};
    if (out.empty() && c == '0') continue;  // leading zeros: whole bytes are restored below
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (out.empty()) return "00";
  if (out.size() % 2 != 0) out.insert(out.begin(), '0');
  return out;
}

}  // namespace armored::ossl
