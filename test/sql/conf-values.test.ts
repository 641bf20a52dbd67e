/**
 * `spark.conf.set` (and SQL's SET) refuse a bad value of a size or count setting the planner
 * reads, with a ConfigError naming the key, and keep nothing; good values (with units) plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, MicroSpark } from '../../src/index.js';
import { bytesSetting, positiveIntSetting } from '../../src/sql/session-engine.js';

describe('size and count settings', () => {
  let sc: MicroSpark;
  beforeAll(async () => {
    sc = await MicroSpark.inProcess({ defaultParallelism: 2 });
  });
  afterAll(async () => {
    await sc.stop();
  });

  it('parses sizes with units as Spark does, and positive integers', () => {
    const k = 'spark.sql.autoBroadcastJoinThreshold';
    expect(bytesSetting(k, undefined, 7)).toBe(7);
    expect(bytesSetting(k, '10485760', 0)).toBe(10485760);
    expect(bytesSetting(k, '10m', 0)).toBe(10 * 1024 * 1024);
    expect(bytesSetting(k, '512KB', 0)).toBe(512 * 1024);
    expect(bytesSetting(k, '1g', 0)).toBe(1024 ** 3);
    expect(bytesSetting(k, '-1', 0)).toBe(-1);
    expect(bytesSetting(k, ' 64b ', 0)).toBe(64);
    expect(positiveIntSetting('spark.sql.shuffle.partitions', '8', 1)).toBe(8);
  });

  it.each([
    [
      'spark.sql.autoBroadcastJoinThreshold',
      'ten megs',
      "must be a size in bytes such as 10485760, 10m or -1, got 'ten megs'",
    ],
    [
      'spark.sql.files.maxPartitionBytes',
      '1.5m',
      "must be a size in bytes such as 10485760, 10m or -1, got '1.5m'",
    ],
    ['spark.sql.shuffle.partitions', '0', "must be a positive integer, got '0'"],
    ['spark.sql.files.minPartitionNum', 'two', "must be a positive integer, got 'two'"],
  ])('refuses %s = %s, in spark.conf.set and in SQL SET, and keeps nothing', async (key, value, message) => {
    let err: unknown;
    try {
      sc.session.conf.set(key, value);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).option).toBe(key);
    expect((err as Error).message).toBe(`${key} ${message}`);
    expect(sc.session.conf.get(key)).toBeUndefined();
    await expect(async () => sc.session.sql(`SET ${key} = ${value}`)).rejects.toMatchObject({
      name: 'ConfigError',
      option: key,
    });
    expect(sc.session.conf.get(key)).toBeUndefined();
  });

  it('a good value is kept and used', async () => {
    sc.session.conf.set('spark.sql.shuffle.partitions', 3);
    try {
      const df = await sc.session.sql('SELECT id % 5 AS k, count(*) AS n FROM range(100) GROUP BY id % 5');
      expect((await df.collect()).length).toBe(5);
      expect(sc.session.conf.get('spark.sql.shuffle.partitions')).toBe('3');
    } finally {
      sc.session.conf.unset('spark.sql.shuffle.partitions');
    }
  });
});
