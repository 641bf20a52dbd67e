/**
 * The workers' catalogs of structured data: each block of SQL batches a worker holds (here the
 * partitions of a cached DataFrame) is announced with its column section — rows, bytes, and per
 * column the Spark type and value range — and `microspark status` prints them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { F, MicroSpark } from '../../src/index.js';
import { formatStatus } from '../../src/cli/status.js';

describe('column sections in the workers’ catalogs', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.local({ workers: 2, slotsPerWorker: 1 });
  }, 60_000);
  afterAll(async () => {
    await sc?.stop();
  });

  it('announces each cached partition with its rows and per-column ranges', async () => {
    const df = sc.session.range(0, 1000, 1, 4).withColumn('k', F.col('id').mod(7)).cache();
    expect(await df.count()).toBe(1000);
    let blocks = sc.cluster!.seenRecords().blocks.filter((b) => b.section);
    for (let i = 0; i < 50 && blocks.length < 4; i++) {
      await new Promise((r) => setTimeout(r, 100));
      blocks = sc.cluster!.seenRecords().blocks.filter((b) => b.section);
    }
    const sections = blocks
      .map((b) => b.section!)
      .sort((a, b) => Number(a.columns[0]!.min) - Number(b.columns[0]!.min));
    expect(sections.map((s) => s.rows)).toEqual([250, 250, 250, 250]);
    expect(sections.map((s) => s.columns.map((c) => [c.name, c.type, c.min, c.max]))).toEqual([
      [
        ['id', 'bigint', '0', '249'],
        ['k', 'bigint', '0', '6'],
      ],
      [
        ['id', 'bigint', '250', '499'],
        ['k', 'bigint', '0', '6'],
      ],
      [
        ['id', 'bigint', '500', '749'],
        ['k', 'bigint', '0', '6'],
      ],
      [
        ['id', 'bigint', '750', '999'],
        ['k', 'bigint', '0', '6'],
      ],
    ]);
    const text = formatStatus({
      client: 'tcp://127.0.0.1:1',
      workers: [],
      records: sc.cluster!.seenRecords(),
      unreachable: [],
    });
    expect(text).toContain("column sections (4): the workers' catalogs of structured data");
    expect(text).toContain('    id bigint [750 … 999]');
    df.unpersist();
  }, 60_000);
});
