import { describe, expect, it } from 'vitest';
import {
  mapDataId,
  mapOutputId,
  parseBlockId,
  rddBlockId,
  resultBlockId,
  shuffleBlockId,
  shufflePrefix,
} from '../../src/protocol/block-ids.js';
import { contentId } from '../../src/rdd/lineage.js';

describe('block ids', () => {
  // A content id with `_` followed by digits: the shape a right-to-left parse got wrong.
  const tricky = 'abcdefghij_1234567890a'; // 22 characters, like contentId's
  it('round-trips every kind, a content id with "_<digits>" inside included', () => {
    expect(tricky).toHaveLength(contentId('x').length);
    expect(parseBlockId(rddBlockId(tricky, 7))).toEqual({ kind: 'rdd', node: tricky, partition: 7 });
    expect(parseBlockId(shuffleBlockId(tricky, 3, 4))).toEqual({
      kind: 'shuffle',
      shuffleId: tricky,
      map: 3,
      reduce: 4,
    });
    expect(parseBlockId(mapOutputId(tricky, 3))).toEqual({ kind: 'map-output', shuffleId: tricky, map: 3 });
    expect(parseBlockId(mapDataId(tricky, 3))).toEqual({ kind: 'map-data', shuffleId: tricky, map: 3 });
    expect(parseBlockId(mapDataId('sh1', 12))).toEqual({ kind: 'map-data', shuffleId: 'sh1', map: 12 });
    expect(mapDataId(tricky, 3).startsWith(shufflePrefix(tricky))).toBe(true);
    expect(parseBlockId(resultBlockId('job-1'))).toEqual({ kind: 'result', jobId: 'job-1' });
    expect(shuffleBlockId(tricky, 3, 4).startsWith(shufflePrefix(tricky))).toBe(true);
  });

  it('refuses what is not a block id', () => {
    for (const bad of [
      '',
      'rdd_',
      'rdd_x_',
      'shuffle_',
      `shuffle_${tricky}_x`,
      `shuffle_${tricky}_1_2_3`,
      `shuffle_${tricky}_1_2.data`,
      `shuffle_${tricky}.data`,
      'block',
    ])
      expect(parseBlockId(bad)).toBeUndefined();
  });
});
