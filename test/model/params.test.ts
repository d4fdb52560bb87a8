import { describe, expect, it } from 'vitest';
import { blocksPerPool, pymallocParams, quantizationPerPool } from '../../src/model/params.js';
import { mallocStatsFixtures } from '../helpers/fixtures.js';

describe('params', () => {
  it('3.11 has 1021 blocks of 16 bytes and 31 of 512 bytes per 16 KiB pool', () => {
    expect(blocksPerPool(pymallocParams('3.11'), 16)).toBe(1021);
    expect(blocksPerPool(pymallocParams('3.11'), 512)).toBe(31);
    expect(quantizationPerPool(pymallocParams('3.11'), 512)).toBe(464);
  });

  it("every real dump's rows fill whole pools of the version's geometry", () => {
    for (const f of mallocStatsFixtures()) {
      const v = f.truth.python.version_info.slice(0, 2).join('.');
      const p = pymallocParams(v, f.truth.python.pointer_size as 4 | 8);
      for (const d of f.truth.dumps) {
        if (f.truth.python.pointer_size !== 8) continue;
        for (const [, size, pools, inUse, avail] of d.printed.classes) expect(inUse + avail).toBe(pools * blocksPerPool(p, size));
      }
    }
  });

  it('rejects a version it does not know', () => {
    expect(() => pymallocParams('4.0')).toThrow(/unknown CPython version/);
  });
});
