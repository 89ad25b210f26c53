// RAII for the C libraries' handles (libcurl, hiredis, cJSON, OpenSSL): a unique_ptr
// that frees with the library's own function, so no handle outlives its owner.
#pragma once

#include <memory>

namespace oauthfcgi {

template <auto Free> struct FreeWith {
  template <class T> void operator()(T* handle) const { Free(handle); }
};

// CHandle<EVP_MD_CTX, EVP_MD_CTX_free>
template <class T, auto Free> using CHandle = std::unique_ptr<T, FreeWith<Free>>;

} // namespace oauthfcgi
