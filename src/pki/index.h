#pragma once
// The index (pki.json): every identity ever issued by a PKI directory, so
// `list`, `revoke` and conflict checks never parse thousands of certificates.

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "pki/pki.h"

namespace armored::pki {

class Index {
 public:
  static constexpr int kFormat = 1;

  std::string name;              // the CA name given to init
  std::uint64_t crl_number = 0;  // of the last CRL written

  const std::vector<Identity>& identities() const { return identities_; }
  const Identity* find(std::string_view id) const;
  Identity* find(std::string_view id);
  // Appends; the caller has checked that the ID is new.
  void add(Identity identity);

  std::string to_json() const;
  // Parses pki.json text; the error names the field that was wrong.
  static Expected<Index> from_json(std::string_view text);

 private:
  std::vector<Identity> identities_;
  std::unordered_map<std::string, std::size_t> by_id_;
};

}  // namespace armored::pki
