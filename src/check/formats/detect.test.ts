// Format detection from a file's first bytes, and by name where the text cannot tell.
import { describe, expect, it } from 'vitest';
import { detectHistoryFormat } from './detect.js';

describe('detectHistoryFormat', () => {
  it('tells the formats apart by their first characters', () => {
    const cases: Array<[string, string, string]> = [
      ['{"format":"synod-history/1","ops":[]}', 'x.log', 'synod'],
      ['\uFEFF  \n{ "ops": [] }', '', 'synod'],
      ['[{"a":1}]', '', 'synod'],
      ['{:type :invoke, :f :read, :value nil, :process 0, :time 1, :index 0}\n', 'h.json', 'edn'],
      ['[{:type :invoke, :f :read, :process 0}]', '', 'edn'],
      ['#jepsen.history.Op{:type :invoke, :index 0}', '', 'edn'],
      ['[#jepsen.history.Op{:type :invoke}]', '', 'edn'],
      ['{:process 0, :type :invoke, :f :append, :key "3", :value "x 0 1 y"}\n', 'c01.json', 'porcupine-kv'],
      ['{:type :invoke, :f :read, :key 1, :index 0}\n', '', 'edn'],
      ['INFO  jepsen.util - 0\t:invoke\t:read\tnil\n', 'h.json', 'jepsen-log'],
      ['WARN  jepsen.core - x\n', '', 'jepsen-log'],
    ];
    for (const [head, name, format] of cases) expect(detectHistoryFormat(head, name), head).toBe(format);
  });

  it('goes by the file name when the text does not say (blank, or neither JSON, EDN nor a log line)', () => {
    expect(detectHistoryFormat('', 'a.json')).toBe('synod');
    expect(detectHistoryFormat('  \n', 'a.EDN')).toBe('edn');
    expect(detectHistoryFormat('', 'a.log')).toBe('jepsen-log');
    expect(detectHistoryFormat('garbage', 'a.json')).toBe('synod');
    expect(detectHistoryFormat('garbage', 'a')).toBe('jepsen-log');
    expect(detectHistoryFormat('[1, 2]', 'a.json')).toBe('synod');
  });
});
