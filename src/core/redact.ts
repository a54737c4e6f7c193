/**
 * Hides secrets that may hide in text before it reaches a log, a notification, the CLI's
 * output or a classified problem: PEM private keys, OpenShift tokens (`sha256~…`), `Bearer` /
 * `Basic` credentials, `token <value>` and `token=`/`password:` values (also quoted, as JSON
 * prints them), credentials in URLs, and long base64 / base64url runs (a token or key seen
 * through one more encoding, a JWT). The layers below promise never to hand over a secret;
 * this is the second lock. Pure text in, text out.
 */

const VALUE = '[A-Za-z0-9._~+/=-]';

/**
 * A value after the word `token` that looks like a credential rather than prose: 8+
 * credential characters with a digit or `~` in them, or 16+ of mixed case.
 * ("the token is not valid" and "token file" are left alone.)
 */
const TOKEN_WORD = new RegExp(`\\b(token)(\\s+)(?:(?=${VALUE}*[0-9~])${VALUE}{8,}|(?=${VALUE}*[a-z])(?=${VALUE}*[A-Z])${VALUE}{16,})`, 'gi');

/**
 * 32+ characters of the base64 alphabet (`+` `/`) or of the base64url one (`-` `_`), with
 * upper case, lower case and a digit: what random bytes look like once encoded. One encoding
 * never mixes the two pairs, so URL paths (`/d/Bdb-6G4Vk-github/…`) and names with dashes split
 * into short runs; a run starting `/word/` is a path. Kubernetes names, git SHAs and UUIDs are
 * lower case, so they never qualify.
 */
const mixed = '(?=[A-Za-z0-9+/_-]*[a-z])(?=[A-Za-z0-9+/_-]*[A-Z])(?=[A-Za-z0-9+/_-]*[0-9])';
const BLOB_STD = new RegExp(`(?<![A-Za-z0-9+/])(?!/[a-z0-9]{1,32}/)${mixed}[A-Za-z0-9+/]{32,}={0,2}`, 'g');
const BLOB_URL = new RegExp(`(?<![A-Za-z0-9_-])${mixed}[A-Za-z0-9_-]{32,}={0,2}`, 'g');

export function redact(text: string): string {
  return (
    text
      .replace(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[private key redacted]')
      .replace(/\bsha256~[A-Za-z0-9._~+/=-]*/g, 'sha256~***')
      // a credential after Bearer/Basic; a short lower-case word ("bearer token", "basic auth") is prose
      .replace(/\b([Bb]earer|[Bb]asic|BEARER|BASIC)(\s+)(?![a-z]{1,12}(?![A-Za-z0-9._~+/=-]))[A-Za-z0-9._~+/=-]+/g, '$1$2***')
      .replace(/\b(token|password|passwd|secret|client-key-data|client-certificate-data)(["']?\s*[:=]\s*["']?)[^\s"',;}]+/gi, '$1$2***')
      .replace(TOKEN_WORD, '$1$2***')
      .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@')
      .replace(BLOB_STD, '[redacted]')
      .replace(BLOB_URL, '[redacted]')
  );
}
