// Tells which history format a file holds from its first few KiB (and, where the text cannot
// say, its name): Synod JSON, a Jepsen text log, Jepsen's history.edn or a Porcupine KV log.
// Pure: hosts read the head of the file and pass it in.

export const HISTORY_FORMATS = ['synod', 'jepsen-log', 'edn', 'porcupine-kv'] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

/** How many bytes of a file's start are enough to detect its format. */
export const DETECT_HEAD_BYTES = 4096;

const LOG_START = /^(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\s/;

/** The first character at or after `from` that is not whitespace (or a comma, as EDN allows), and where. */
function nextSolid(text: string, from: number): { c: string | undefined; at: number } {
  let at = from;
  while (at < text.length && /[\s,\uFEFF]/.test(text[at]!)) at++;
  return { c: text[at], at };
}

/** Porcupine's maps name a :key and carry no :index; Jepsen's history.edn maps carry an :index. */
function ednKind(text: string, mapAt: number): HistoryFormat {
  const end = text.indexOf('\n', mapAt);
  const first = text.slice(mapAt, end < 0 ? text.length : end);
  return /:key[\s,]/.test(first) && !/:index[\s,]/.test(first) ? 'porcupine-kv' : 'edn';
}

function byName(fileName: string): HistoryFormat {
  const name = fileName.toLowerCase();
  if (name.endsWith('.json')) return 'synod';
  if (name.endsWith('.edn')) return 'edn';
  return 'jepsen-log';
}

/**
 * The format of a history whose text starts with `head`:
 * - `{"` or `[{"` (a JSON object): Synod JSON;
 * - `{:`, `#tag{`, `[{:` or `[#` (EDN maps): Porcupine KV when the first map has :key and no
 *   :index, otherwise Jepsen's history.edn;
 * - a log level word (`INFO `, ...): a Jepsen text log;
 * - anything else (blank text included) by the file name: `.json` Synod, `.edn` EDN, else a
 *   Jepsen log, so that reader reports what is wrong with it.
 */
export function detectHistoryFormat(head: string, fileName = ''): HistoryFormat {
  const first = nextSolid(head, 0);
  if (first.c === '{') {
    const inner = nextSolid(head, first.at + 1).c;
    return inner === '"' || inner === '}' ? 'synod' : ednKind(head, first.at);
  }
  if (first.c === '[') {
    const item = nextSolid(head, first.at + 1);
    if (item.c === '{') {
      const inner = nextSolid(head, item.at + 1).c;
      return inner === '"' || inner === '}' ? 'synod' : ednKind(head, item.at);
    }
    if (item.c === '#') return ednKind(head, item.at);
    return byName(fileName);
  }
  if (first.c === '#') return ednKind(head, first.at);
  if (LOG_START.test(head.slice(first.at, first.at + 8))) return 'jepsen-log';
  return byName(fileName);
}
