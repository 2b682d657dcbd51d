#include "ossl/ossl.h"

#include <openssl/err.h>

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

}  // namespace armored::ossl
