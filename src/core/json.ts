// JSON values: what crosses every boundary of the project as data (messages, log entries,
// client operations, snapshots). A core that needs richer types decodes them from JSON itself.

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
