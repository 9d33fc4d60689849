/**
 * Which asked-for env values are secrets. A bottle's `"?message"` prompt does not say whether its answer is
 * sensitive, so the wizard guesses from the variable's name and message; a secret is typed into a masked
 * field so that it never sits on the screen or in a terminal recording.
 */

const SECRET_WORDS = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|PRIVATE|CERT)/i;

export function looksSecret(name: string, message: string): boolean {
  return SECRET_WORDS.test(name) || /\b(key|token|secret|password|passphrase|credential)s?\b/i.test(message);
}
