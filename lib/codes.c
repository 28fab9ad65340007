/* Error codes and event codes: names and plain-language messages. */
#include "config.h"

#include <string.h>

#include "tg.h"

const char *tlsguard_strerror(int rc)
{
	switch (rc) {
	case TLSGUARD_OK: return "TLSGUARD_OK: success";
	case TLSGUARD_E_INVALID: return "TLSGUARD_E_INVALID: invalid argument";
	case TLSGUARD_E_NOMEM: return "TLSGUARD_E_NOMEM: out of memory";
	case TLSGUARD_E_IO: return "TLSGUARD_E_IO: a file could not be read";
	case TLSGUARD_E_CONFIG: return "TLSGUARD_E_CONFIG: configuration rejected";
	case TLSGUARD_E_CERT_PARSE: return "TLSGUARD_E_CERT_PARSE: a certificate could not be decoded";
	case TLSGUARD_E_EMPTY_CHAIN: return "TLSGUARD_E_EMPTY_CHAIN: no certificate was presented";
	case TLSGUARD_E_CHAIN_TOO_LONG: return "TLSGUARD_E_CHAIN_TOO_LONG: too many certificates in the chain";
	case TLSGUARD_E_FROZEN: return "TLSGUARD_E_FROZEN: context is in use and can no longer be changed";
	case TLSGUARD_E_INTERNAL: return "TLSGUARD_E_INTERNAL: internal error";
	case TLSGUARD_E_TRUST_STORE: return "TLSGUARD_E_TRUST_STORE: trust anchors could not be loaded";
	case TLSGUARD_E_RANGE: return "TLSGUARD_E_RANGE: value out of range";
	case TLSGUARD_E_STORE: return "TLSGUARD_E_STORE: the persistent store cannot be used";
	case TLSGUARD_E_VERIFY: return "TLSGUARD_E_VERIFY: a proof or signature does not verify";
	case TLSGUARD_E_TIMEOUT: return "TLSGUARD_E_TIMEOUT: a network step passed its deadline";
	default: return "TLSGUARD_E_UNKNOWN: unknown error code";
	}
}

const char *tlsguard_version(void)
{
	return TLSGUARD_VERSION;
}

#define DONT "Do not sign in or send passwords or other private information over this connection."

static const struct tg_code_info codes[] = {
	{TLSGUARD_EV_INTERNAL_ERROR, "ERR_TLSGUARD_INTERNAL", "internal-error",
	 "The identity of %s could not be checked because of an internal error, so the connection was "
	 "refused to be safe. " DONT},
	{TLSGUARD_EV_MALFORMED_CHAIN, "ERR_CERT_INVALID", "malformed-chain",
	 "%s sent a certificate that is damaged or not a certificate at all. A genuine server does not do "
	 "this; it may be broken or someone may be tampering with the connection. " DONT},
	{TLSGUARD_EV_UNTRUSTED_ISSUER, "ERR_CERT_AUTHORITY_INVALID", "untrusted-issuer",
	 "The certificate of %s was not issued by an authority this computer trusts. Someone may be "
	 "impersonating the site to intercept your connection. " DONT},
	{TLSGUARD_EV_EXPIRED, "ERR_CERT_DATE_INVALID", "expired",
	 "The certificate of %s has expired. The site may be misconfigured, or an attacker may be using "
	 "an old, possibly stolen certificate (also check that this computer's clock is right). " DONT},
	{TLSGUARD_EV_NOT_YET_VALID, "ERR_CERT_DATE_INVALID", "not-yet-valid",
	 "The certificate of %s is not valid yet. Either this computer's clock is wrong or the "
	 "certificate is not genuine. " DONT},
	{TLSGUARD_EV_HOSTNAME_MISMATCH, "ERR_CERT_COMMON_NAME_INVALID", "hostname-mismatch",
	 "The certificate presented was not issued for %s. You may be connected to a different server "
	 "that is pretending to be the site you wanted. " DONT},
	{TLSGUARD_EV_REVOKED, "ERR_CERT_REVOKED", "revoked",
	 "The certificate of %s has been revoked by its issuer, typically because its key was stolen or it "
	 "was issued by mistake. Whoever uses it now may be an attacker. " DONT},
	{TLSGUARD_EV_WEAK_CRYPTO, "ERR_CERT_WEAK_SIGNATURE_ALGORITHM", "weak-crypto",
	 "The certificate of %s relies on weak cryptography (an outdated signature algorithm or a key too "
	 "short) that attackers can forge. " DONT},
	{TLSGUARD_EV_BAD_KEY_USAGE, "ERR_CERT_INVALID_KEY_USAGE", "bad-key-usage",
	 "The certificate presented by %s is not meant for identifying web or TLS servers. It may be a "
	 "certificate for another purpose misused to impersonate the site. " DONT},
	{TLSGUARD_EV_INVALID_CHAIN, "ERR_CERT_INVALID", "invalid-chain",
	 "The certificate chain of %s is not valid: a signature does not match or a certificate signs "
	 "others without being allowed to. This is how forged certificates look. " DONT},
	{TLSGUARD_EV_OCSP_INVALID, "ERR_OCSP_RESPONSE_INVALID", "ocsp-invalid",
	 "%s sent a revocation status (OCSP) that is invalid, out of date or about another certificate, "
	 "so tlsguard cannot confirm the certificate was not revoked."},
	{TLSGUARD_EV_PIN_MISMATCH, "ERR_SSL_PINNED_KEY_NOT_IN_CERT_CHAIN", "pin-mismatch",
	 "The key presented by %s is not one of the keys this computer was told to expect. Someone may be "
	 "intercepting the connection with a certificate from another authority. " DONT},
	{TLSGUARD_EV_CT_MISSING, "ERR_CERTIFICATE_TRANSPARENCY_REQUIRED", "ct-missing",
	 "The certificate of %s was not published in public Certificate Transparency logs, as genuine "
	 "certificates are. It may be a forged certificate used to intercept your connection. " DONT},
	{TLSGUARD_EV_CT_INVALID, "ERR_CT_SCT_INVALID", "ct-invalid",
	 "The Certificate Transparency proof sent by %s is invalid. The certificate may be forged. " DONT},
	{TLSGUARD_EV_CT_POLICY_NOT_MET, "ERR_CT_POLICY_NOT_MET", "ct-policy-not-met",
	 "The certificate of %s is not logged widely enough in public Certificate Transparency logs to be "
	 "trusted. It may be a forged certificate. " DONT},
	{TLSGUARD_EV_KEY_CHANGED, "ERR_TLSGUARD_KEY_CHANGED", "key-changed",
	 "%s presented a different key than the one this computer saw the first time. This can be a "
	 "legitimate key change or an interception. " DONT},
	{TLSGUARD_EV_SPLIT_VIEW, "ERR_TLSGUARD_SPLIT_VIEW", "split-view",
	 "This address of %s serves a certificate from a different authority than the site's other "
	 "addresses. This is how a targeted interception looks. " DONT},
	{TLSGUARD_EV_PIN_EXPIRED, "TLSGUARD_PIN_SET_EXPIRED", "pin-expired",
	 "The key pins configured for %s have passed their expiry date and were not checked. Ask the "
	 "administrator to renew them."},
	{TLSGUARD_EV_CT_UNAVAILABLE, "TLSGUARD_CT_UNAVAILABLE", "ct-unavailable",
	 "Certificate Transparency could not be checked for %s because no current list of CT logs is "
	 "available, so this protection was not applied. Ask the administrator to configure an up-to-date "
	 "log list."},
	{TLSGUARD_EV_CA_CHANGED, "ERR_TLSGUARD_CA_CHANGED", "ca-changed",
	 "%s now presents a certificate from a different certificate authority than the one this computer "
	 "has always seen it use. This can be a legitimate change of provider or an interception; if you "
	 "did not expect it, be careful before signing in."},
	{TLSGUARD_EV_SEEN_REJECTED, "ERR_TLSGUARD_SEEN_REJECTED", "seen-rejected",
	 "%s presents a key or certificate authority that this computer refused for this site before. "
	 "Be careful before signing in."},
	{TLSGUARD_EV_BAD_BASIC_CONSTRAINTS, "ERR_CERT_INVALID", "bad-basic-constraints",
	 "The certificate chain of %s misstates which certificates belong to certificate authorities: an "
	 "authority is not marked as one, or the site's own certificate claims to be an authority. Genuine "
	 "certificates are not built like this. " DONT},
	{TLSGUARD_EV_BAD_KEY_IDENTIFIER, "ERR_CERT_INVALID", "bad-key-identifier",
	 "A certificate in the chain of %s lacks or garbles the key identifiers that link it to its issuer. "
	 "Genuine certificates from public authorities always carry them. " DONT},
	{TLSGUARD_EV_OLD_CERT_VERSION, "ERR_CERT_INVALID", "old-certificate-version",
	 "A certificate in the chain of %s uses an obsolete format (X.509 version 1 or 2) that cannot say "
	 "what the certificate may be used for. Public authorities stopped issuing these long ago. " DONT},
	{TLSGUARD_EV_BAD_NAMES, "ERR_CERT_COMMON_NAME_INVALID", "bad-subject-names",
	 "The names in the certificate of %s break the rules public authorities follow (a name that is not "
	 "a valid host name or address, or a subject name that is not among the certificate's names). "
	 DONT},
	{TLSGUARD_EV_BAD_EXTENSION, "ERR_CERT_INVALID", "bad-extension",
	 "A certificate in the chain of %s carries an extension that is malformed, or marked critical, "
	 "present or absent against the rules public authorities follow. " DONT},
	{TLSGUARD_EV_BAD_SERIAL, "ERR_CERT_INVALID", "bad-serial-number",
	 "A certificate in the chain of %s has a serial number that public authorities never issue (zero, "
	 "negative or too long). " DONT},
	{TLSGUARD_EV_NAME_CONSTRAINTS, "ERR_CERT_NAME_CONSTRAINT_VIOLATION", "name-constraints",
	 "The certificate of %s names a site that its issuing authority is not allowed to vouch for, or the "
	 "authority's limits are malformed. This is how a misused or forged certificate looks. " DONT},
	{TLSGUARD_EV_CHAIN_TOO_DEEP, "ERR_CERT_INVALID", "chain-too-deep",
	 "The certificate chain of %s passes through more intermediate authorities than this computer "
	 "allows. " DONT},
	{TLSGUARD_EV_PUBLIC_SUFFIX_WILDCARD, "ERR_CERT_COMMON_NAME_INVALID", "public-suffix-wildcard",
	 "The certificate presented for %s claims every site under a public domain ending such as .co.uk. "
	 "No authority may issue such a certificate, so it cannot identify the site. " DONT},
};

const struct tg_code_info *tg_code_info(int code)
{
	size_t i;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return &codes[i];
	return NULL;
}

int tg_code_from_key(const char *key, size_t len)
{
	size_t i;
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strlen(codes[i].key) == len && memcmp(codes[i].key, key, len) == 0)
			return codes[i].code;
	return -1;
}

const char *tlsguard_code_name(int code)
{
	const struct tg_code_info *ci = tg_code_info(code);
	return ci ? ci->name : "UNKNOWN";
}

const char *tlsguard_code_key(int code)
{
	const struct tg_code_info *ci = tg_code_info(code);
	return ci ? ci->key : NULL;
}

const char *tlsguard_severity_name(int severity)
{
	switch (severity) {
	case TLSGUARD_SEV_INFO: return "info";
	case TLSGUARD_SEV_WARNING: return "warning";
	case TLSGUARD_SEV_FATAL: return "fatal";
	default: return "unknown";
	}
}
