// The OpenSSL handles crypto.cpp and jose.cpp hold, each freed by its own function
// (c_handle.hpp). Only .cpp files include this: headers keep OpenSSL's out of view.
#pragma once

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/params.h>

#include "c_handle.hpp"

namespace oauthfcgi::openssl {

using Bn = CHandle<BIGNUM, BN_free>;
using CipherCtx = CHandle<EVP_CIPHER_CTX, EVP_CIPHER_CTX_free>;
using EcdsaSig = CHandle<ECDSA_SIG, ECDSA_SIG_free>;
using Kdf = CHandle<EVP_KDF, EVP_KDF_free>;
using KdfCtx = CHandle<EVP_KDF_CTX, EVP_KDF_CTX_free>;
using MacCtx = CHandle<EVP_MAC_CTX, EVP_MAC_CTX_free>;
using MdCtx = CHandle<EVP_MD_CTX, EVP_MD_CTX_free>;
using ParamBld = CHandle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = CHandle<OSSL_PARAM, OSSL_PARAM_free>;
using PkeyCtx = CHandle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;

} // namespace oauthfcgi::openssl
