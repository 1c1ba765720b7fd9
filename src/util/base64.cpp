#include "sconectl/util/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace sconectl::base64 {

std::string encode(std::string_view bytes, Alphabet alphabet)
{
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');  // and EVP_EncodeBlock's NUL
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                      reinterpret_cast<const unsigned char*>(bytes.data()),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  if (alphabet == Alphabet::url) {
    std::replace(out.begin(), out.end(), '+', '-');
    std::replace(out.begin(), out.end(), '/', '_');
  }
  return out;
}

std::optional<std::string> decode(std::string_view text)
{
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(text.data()),
                                     static_cast<int>(text.size()));
  if (length < 0) {
    return std::nullopt;
  }
  // EVP_DecodeBlock counts the padding as data bytes.
  auto size = static_cast<std::size_t>(length);
  for (auto end = text.rbegin(); end != text.rend() && *end == '=' && size > 0; ++end) {
    --size;
  }
  out.resize(size);
  return out;
}

}  // namespace sconectl::base64
