// Reading history files in `synod check`: Jepsen logs are read as a stream (so their size is not
// bounded by V8's largest string), whole documents up to a documented size, with typed errors
// past either limit. The limits are lowered here so small files exercise them.
import { constants } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckError } from '../check/errors.js';
import { parseJepsenLog } from '../check/formats/jepsen.js';
import { parseSynodHistory } from '../check/formats/synod.js';
import { MAX_DOCUMENT_BYTES, readHistoryFile } from './check.js';
import { etcdHistoriesDir } from '../../test/shared-histories.js';

const dir = mkdtempSync(join(tmpdir(), 'synod-check-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function failure(read: Promise<unknown>): Promise<CheckError> {
  try {
    await read;
  } catch (err) {
    if (err instanceof CheckError) return err;
    throw err;
  }
  throw new Error('expected a CheckError');
}

const etcd000 = join(etcdHistoriesDir, 'etcd_000.log');
const line = (p: number, type: string, f: string, value: string): string => `INFO  jepsen.util - ${p}\t:${type}\t:${f}\t${value}\n`;

describe('readHistoryFile', () => {
  it('reads a Jepsen log in chunks of any size exactly as the whole text', async () => {
    const whole = parseJepsenLog(readFileSync(etcd000, 'utf8'));
    for (const chunkBytes of [1, 7, 64, 4096]) expect(await readHistoryFile(etcd000, { chunkBytes })).toEqual(whole);
  });

  it('decodes characters and CRLF split across chunks', async () => {
    const text = `${line(0, 'invoke', 'write', '"é😀"').replace('\n', '\r\n')}${line(0, 'ok', 'write', '"é😀"')}`;
    const file = write('split.log', text);
    for (const chunkBytes of [1, 2, 3, 5]) {
      const history = await readHistoryFile(file, { chunkBytes });
      expect(history.ops).toEqual([{ index: 0, process: '0', f: 'write', input: 'é😀', output: 'é😀', invokeMs: 1, completeMs: 2, outcome: 'ok' }]);
    }
  });

  it('does not apply the document limit to a line-based log', async () => {
    expect((await readHistoryFile(etcd000, { maxDocumentBytes: 100 })).ops.length).toBeGreaterThan(0);
  });

  it('refuses a line longer than the limit with LINE_TOO_LONG naming it', async () => {
    const file = write('long-line.log', `${line(0, 'invoke', 'write', '1')}${line(0, 'ok', 'write', `"${'x'.repeat(500)}"`)}`);
    const err = await failure(readHistoryFile(file, { maxLineChars: 200, chunkBytes: 64 }));
    expect(err).toMatchObject({ code: 'LINE_TOO_LONG', line: 2 });
    expect(err.message).toBe('line 2: longer than 200 characters');
  });

  it('refuses a document larger than the limit with HISTORY_TOO_LARGE naming both sizes', async () => {
    const doc = JSON.stringify({ format: 'synod-history/1', ops: [{ index: 0, process: 'p', f: 'read', input: null, output: null, invokeMs: 0, completeMs: 1, outcome: 'ok' }] });
    const file = write('big.json', doc);
    expect((await readHistoryFile(file, { maxDocumentBytes: doc.length })).ops).toHaveLength(1);
    const err = await failure(readHistoryFile(file, { maxDocumentBytes: doc.length - 1 }));
    expect(err.code).toBe('HISTORY_TOO_LARGE');
    expect(err.message).toBe(`${doc.length} bytes is more than the ${doc.length - 1} bytes a Synod JSON history may have`);
  });

  it('stops reading a pipe once it passes the document limit', async () => {
    const fifo = join(dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    const writer = createWriteStream(fifo);
    writer.on('error', () => {}); // the reader hangs up early: EPIPE is expected
    writer.end(`{"format":"synod-history/1","ops":[${'{},'.repeat(10_000)}]}`);
    const err = await failure(readHistoryFile(fifo, { maxDocumentBytes: 1000, chunkBytes: 256 }));
    expect(err.code).toBe('HISTORY_TOO_LARGE');
    expect(err.message).toMatch(/^more than the 1000 bytes a Synod JSON history may have \(stopped reading after \d+ bytes\)$/);
    writer.destroy();
  });

  it('reads a document with a byte-order mark and multi-byte characters like JSON.parse', async () => {
    const doc = { format: 'synod-history/1', ops: [{ index: 0, process: 'é', f: 'write', input: '😀', output: null, invokeMs: 0, completeMs: 1, outcome: 'ok' }] };
    const file = write('bom.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(doc))]));
    expect(await readHistoryFile(file, { chunkBytes: 3 })).toEqual(parseSynodHistory(JSON.stringify(doc)));
  });

  it('has a document limit under the longest string V8 can make (one UTF-8 byte decodes to at most one char)', () => {
    expect(MAX_DOCUMENT_BYTES).toBeLessThanOrEqual(constants.MAX_STRING_LENGTH);
  });
});
