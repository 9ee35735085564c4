import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../src/cluster/bounded-body.js';
import { errorCode } from '../../src/lib/errors.js';

describe('LineSplitter', () => {
  it('joins lines split across chunks, even inside a multi-byte character, and keeps the rest for end()', () => {
    const s = new LineSplitter(1024, 'watch /x');
    const bytes = Buffer.from('{"a":"é"}\n\n{"b":"日本"}\n{"c"');
    const cut = bytes.indexOf(0xa9); // the second byte of "é"
    expect(s.push(bytes.subarray(0, cut))).toEqual([]);
    const mid = bytes.indexOf(Buffer.from('本')) + 1;
    expect(s.push(bytes.subarray(cut, mid))).toEqual(['{"a":"é"}']);
    expect(s.push(bytes.subarray(mid))).toEqual(['{"b":"日本"}']);
    expect(s.end()).toBe('{"c"');
  });

  it('accepts a line of exactly the limit and throws VIPWATCH_KUBE_TOO_LARGE one byte past it, before the newline comes', () => {
    const ok = new LineSplitter(8, 'watch /x');
    expect(ok.push(Buffer.from('12345678\n'))).toEqual(['12345678']);
    const s = new LineSplitter(8, 'watch /x');
    expect(s.push(Buffer.from('1234'))).toEqual([]);
    expect(() => s.push(Buffer.from('56789'))).toThrow(expect.objectContaining({ code: 'VIPWATCH_KUBE_TOO_LARGE' }));
    let err: unknown;
    try {
      new LineSplitter(8, 'watch /x').push(Buffer.from('123456789\n'));
    } catch (e) {
      err = e;
    }
    expect(errorCode(err)).toBe('VIPWATCH_KUBE_TOO_LARGE');
  });
});
