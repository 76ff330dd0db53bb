// The readable text form of a txn for `synod txn`, after etcdctl's: compares, a blank line, the
// success operations, a blank line, the failure operations. Parsed line by line into the API's
// txn JSON; every mistake is one CliError naming the line (exit code 2).
import type { Compare, CompareOp, CompareTarget, TxnOp } from '../kv/index.js';
import type { TxnInput } from '../client/index.js';
import { CliError } from './errors.js';

type JsonValue = Compare['value'];

const TARGETS: Readonly<Record<string, CompareTarget>> = {
  value: 'value', val: 'value', v: 'value',
  version: 'version', ver: 'version',
  create: 'createRevision', createrevision: 'createRevision', c: 'createRevision',
  mod: 'modRevision', modrevision: 'modRevision', m: 'modRevision',
  lease: 'lease',
};
const OPS: Readonly<Record<string, CompareOp>> = { '=': '=', '==': '=', '!=': '!=', '<': '<', '>': '>' };
/** Longest input taken: a txn is at most 1 MiB as JSON anyway. */
const MAX_TEXT_CHARS = 4 * 1024 * 1024;

/** A txn from its text form (see docs/kv.md, "synod txn"). */
export function parseTxnText(text: string): TxnInput {
  if (text.length > MAX_TEXT_CHARS) throw bad(0, `the txn text is longer than ${MAX_TEXT_CHARS} characters`);
  const sections: [Compare[], TxnOp[], TxnOp[]] = [[], [], []];
  let section = 0;
  const lines = text.split('\n');
  // each turn reads one line: bounded by the text
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '').trim();
    const n = i + 1;
    if (line.startsWith('#')) continue;
    if (line === '') {
      // a blank line ends a section; blank lines after the last one are ignored
      if (section < 2) section++;
      continue;
    }
    if (section === 0) sections[0].push(parseCompare(line, n));
    else sections[section as 1 | 2].push(parseOp(line, n));
  }
  return { compare: sections[0], success: sections[1], failure: sections[2] };
}

function bad(line: number, message: string): CliError {
  return new CliError('BAD_TXN', line === 0 ? message : `txn line ${line}: ${message}`);
}

/** `TARGET(KEY) OP VALUE`, e.g. `mod("jobs/1") > 5`, `value(lock) = null`, `version(a) = 0`. */
function parseCompare(line: string, n: number): Compare {
  const m = /^([A-Za-z_]+)\(\s*("(?:[^"\\]|\\.)*"|[^()\s"]+)\s*\)\s*(==|!=|=|<|>)\s*(.*)$/.exec(line);
  if (m === null) throw bad(n, `expected a compare such as value("key") = "x", version(key) = 0 or mod(key) > 5, got ${JSON.stringify(line.slice(0, 80))} (a blank line ends the compares)`);
  const target = TARGETS[(m[1] as string).toLowerCase()];
  if (target === undefined) throw bad(n, `unknown compare target ${JSON.stringify(m[1])} (value, version, create, mod, lease)`);
  const key = keyOf(m[2] as string, n);
  const op = OPS[m[3] as string] as CompareOp;
  const valueText = (m[4] as string).trim();
  if (valueText === '') throw bad(n, 'the compare has no value');
  let value = valueOf(valueText, n);
  if (target !== 'value') {
    // etcdctl writes numbers quoted (mod("k") > "5"): taken as the number
    const number = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number) || number < 0) throw bad(n, `a compare on ${target} needs a whole number >= 0, got ${valueText.slice(0, 40)}`);
    value = number;
  }
  return { key, target, cmp: op, value };
}

/** `put KEY VALUE [--lease ID] [--ignore-lease] [--prev-kv]`, `get KEY [END] [--prefix] [--limit N]`, `del KEY [END] [--prefix] [--prev-kv]`. */
function parseOp(line: string, n: number): TxnOp {
  const tokens = tokenize(line, n);
  const words = tokens.filter((t) => !(t.kind === 'word' && t.text.startsWith('--')));
  const flags = new Map<string, string | true>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.kind !== 'word' || !t.text.startsWith('--')) continue;
    const eq = t.text.indexOf('=');
    if (eq > 0) flags.set(t.text.slice(2, eq), t.text.slice(eq + 1));
    else if ((t.text === '--lease' || t.text === '--limit') && tokens[i + 1] !== undefined) {
      const next = tokens[i + 1] as Token;
      flags.set(t.text.slice(2), next.kind === 'word' ? next.text : next.kind === 'string' ? next.value : next.text);
      words.splice(words.indexOf(next), 1);
      i++;
    } else flags.set(t.text.slice(2), true);
  }
  const verb = words.shift();
  const name = verb === undefined ? '' : verb.kind === 'word' ? verb.text : '';
  const allow = (allowed: readonly string[]): void => {
    for (const flag of flags.keys()) if (!allowed.includes(flag)) throw bad(n, `${name} takes no --${flag}${allowed.length > 0 ? ` (it takes: ${allowed.map((a) => `--${a}`).join(' ')})` : ''}`);
  };
  const key = (): string => {
    const t = words.shift();
    if (t === undefined) throw bad(n, `${name} needs a key`);
    return t.kind === 'string' ? t.value : keyOf(t.text, n);
  };
  const rest = (max: number): void => {
    if (words.length > max) throw bad(n, `${name} has too many arguments (quote a value with spaces: "a b")`);
  };
  switch (name) {
    case 'put': {
      allow(['lease', 'ignore-lease', 'prev-kv']);
      const k = key();
      const v = words.shift();
      if (v === undefined) throw bad(n, 'put needs a value');
      rest(0);
      const lease = flags.get('lease');
      const leaseId = lease === undefined ? undefined : Number(lease);
      if (lease !== undefined && !(typeof lease === 'string' && /^\d+$/.test(lease) && Number.isSafeInteger(leaseId))) throw bad(n, '--lease needs a lease id (a whole number)');
      return {
        op: 'put', key: k, value: v.kind === 'string' ? v.value : valueOf(v.text, n),
        ...(leaseId === undefined ? {} : { lease: leaseId }),
        ...(flags.has('ignore-lease') ? { ignoreLease: true } : {}),
        ...(flags.has('prev-kv') ? { prevKv: true } : {}),
      };
    }
    case 'get': {
      allow(['prefix', 'limit']);
      const k = key();
      const end = words.length > 0 ? key() : undefined;
      rest(0);
      const limitText = flags.get('limit');
      const limit = typeof limitText === 'string' && /^\d+$/.test(limitText) ? Number(limitText) : undefined;
      if (limitText !== undefined && limit === undefined) throw bad(n, '--limit needs a whole number');
      if (flags.has('prefix')) {
        if (end !== undefined) throw bad(n, 'get --prefix takes one key (the prefix)');
        return { op: 'range', prefix: k, ...(limit === undefined ? {} : { limit }) };
      }
      if (end !== undefined) return { op: 'range', start: k, end, ...(limit === undefined ? {} : { limit }) };
      if (limit !== undefined) throw bad(n, '--limit goes with a range (get KEY END, or --prefix)');
      return { op: 'get', key: k };
    }
    case 'del':
    case 'delete': {
      allow(['prefix', 'prev-kv']);
      const k = key();
      const end = words.length > 0 ? key() : undefined;
      rest(0);
      const prevKv = flags.has('prev-kv') ? { prevKv: true } : {};
      if (flags.has('prefix')) {
        if (end !== undefined) throw bad(n, 'del --prefix takes one key (the prefix)');
        return { op: 'delete', prefix: k, ...prevKv };
      }
      return end === undefined ? { op: 'delete', key: k, ...prevKv } : { op: 'delete', key: k, end, ...prevKv };
    }
    default:
      throw bad(n, `expected put, get or del, got ${JSON.stringify(line.slice(0, 60))} (nested txns: use the JSON form)`);
  }
}

type Token = { readonly kind: 'word'; readonly text: string } | { readonly kind: 'string'; readonly value: string } | { readonly kind: 'json'; readonly text: string };

/** Words, JSON strings ("a b") and JSON objects or arrays ({"a": 1}) of one line. */
function tokenize(line: string, n: number): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  // each turn takes one token: bounded by the line
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
      continue;
    }
    if (c === '"') {
      const end = stringEnd(line, i);
      if (end < 0) throw bad(n, 'a quoted string is not closed');
      tokens.push({ kind: 'string', value: JSON.parse(line.slice(i, end + 1)) as string });
      i = end + 1;
    } else if (c === '{' || c === '[') {
      const end = bracketEnd(line, i);
      if (end < 0) throw bad(n, `${c === '{' ? 'an object' : 'an array'} is not closed`);
      tokens.push({ kind: 'json', text: line.slice(i, end + 1) });
      i = end + 1;
    } else {
      let j = i;
      while (j < line.length && line[j] !== ' ' && line[j] !== '\t') j++;
      tokens.push({ kind: 'word', text: line.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** Index of the quote closing the JSON string that opens at `start`; -1 if none. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}

/** Index of the bracket closing the object or array that opens at `start` (strings skipped); -1 if none. */
function bracketEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i = stringEnd(text, i);
      if (i < 0) return -1;
    } else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** A key: a JSON string ("a b") or a bare word. */
function keyOf(text: string, n: number): string {
  if (text.startsWith('"')) {
    try {
      return JSON.parse(text) as string;
    } catch {
      throw bad(n, `bad quoted key ${text.slice(0, 60)}`);
    }
  }
  return text;
}

/** A value: JSON when it parses (5, true, null, "x", {"a":1}), else the text itself, as `synod kv put` takes it. */
function valueOf(text: string, n: number): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    if (text.startsWith('"') || text.startsWith('{') || text.startsWith('[')) throw bad(n, `bad JSON value ${text.slice(0, 60)}`);
    return text;
  }
}
