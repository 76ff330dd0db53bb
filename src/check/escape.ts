// Makes text taken from an input safe to print on a terminal: control characters (C0, DEL, C1),
// the Unicode line separators and the bidirectional overrides become JSON-style escapes, so a
// history cannot move the cursor, retitle the window, fake report lines or reorder what is shown.

// eslint-disable-next-line no-control-regex -- matching control characters is the purpose
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT: Readonly<Record<string, string>> = { '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r' };

function escapeOne(c: string): string {
  return SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * The text with every control character written as a JSON escape (`\u001b`, `\n`, …). Applied
 * to JSON text it keeps it valid JSON with the same value: outside strings JSON has no such
 * characters, and JSON.stringify already escapes C0 but leaves DEL, C1 and U+2028 raw.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, escapeOne);
}
