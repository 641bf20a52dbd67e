import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MicroSpark } from '../../src/index.js';
import { modes } from '../support/modes.js';

describe.each(modes)('word count ($name)', (mode) => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await mode.create();
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('counts words across partitions', async () => {
    const counts = await sc
      .parallelize(['a b a', 'c b a', '', 'd'], 3)
      .flatMap((line) => line.split(' '))
      .filter((w) => w.length > 0)
      .map((w) => [w, 1] as [string, number])
      .reduceByKey((a, b) => a + b)
      .sortByKey()
      .collect();
    expect(counts).toEqual([
      ['a', 3],
      ['b', 2],
      ['c', 1],
      ['d', 1],
    ]);
  });
});
