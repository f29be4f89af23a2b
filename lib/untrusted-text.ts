/**
 * Text that came from the other side of a device boundary (a connector's
 * status page, a USB descriptor, a PKCS#11 token's label, manufacturer or
 * serial) is attacker-controlled. Put in a message raw, it could carry escape
 * sequences that move the cursor, recolour or rewrite the operator's
 * terminal, or bidirectional overrides that make "DENK0102947" display as
 * something else.
 */

/**
 * Such text made safe for a message: quoted, cut to `max` characters, with C0
 * and C1 controls and bidirectional formatting characters escaped.
 */
export function untrustedText(text: string, max = 40): string {
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  // JSON.stringify escapes C0 controls, quotes and backslashes.
  return escapeJsonText(JSON.stringify(cut));
}

/**
 * JSON text with the characters a terminal would obey that JSON.stringify
 * leaves as they are (C1 controls, and the characters that reorder what is
 * shown) written as \u escapes: the same values for a JSON reader, inert on
 * a terminal.
 */
export function escapeJsonText(json: string): string {
  return json.replace(/[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
