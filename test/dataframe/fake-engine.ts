/** A fake SqlEngine for plan-construction tests: fixed schema, canned rows, recorded calls. */
import type { Table } from 'apache-arrow';
import type { ExplainMode, Row, SqlEngine, WriteSpec } from '../../src/dataframe/engine.js';
import { DataFrame } from '../../src/dataframe/dataframe.js';
import type { Relation } from '../../src/sql/plan/unresolved.js';
import { parseSchema, type StructType } from '../../src/sql/types.js';
import type { RDD } from '../../src/rdd/rdd.js';

export class FakeEngine implements SqlEngine {
  nextId = 1;
  schema: StructType;
  rows: Row[] = [];
  readonly calls: { method: string; args: unknown[] }[] = [];
  constructor(schema = 'name STRING, age INT, height DOUBLE') {
    this.schema = parseSchema(schema);
  }
  newPlanId(): number {
    return this.nextId++;
  }
  schemaOf(plan: Relation): StructType {
    this.calls.push({ method: 'schemaOf', args: [plan] });
    return plan.type === 'localRelation' ? plan.schema : this.schema;
  }
  collect(plan: Relation, opts?: { readonly limit?: number }): Promise<Row[]> {
    this.calls.push({ method: 'collect', args: [plan, opts] });
    return Promise.resolve(opts?.limit !== undefined ? this.rows.slice(0, opts.limit) : [...this.rows]);
  }
  count(plan: Relation): Promise<number> {
    this.calls.push({ method: 'count', args: [plan] });
    return Promise.resolve(this.rows.length);
  }
  explain(plan: Relation, mode: ExplainMode): string {
    this.calls.push({ method: 'explain', args: [plan, mode] });
    return `== Physical Plan ==\n${mode}\n`;
  }
  toArrow(plan: Relation): Promise<Table> {
    this.calls.push({ method: 'toArrow', args: [plan] });
    return Promise.resolve({ fake: true } as unknown as Table);
  }
  toRdd(plan: Relation): RDD<Row> {
    this.calls.push({ method: 'toRdd', args: [plan] });
    return { fake: true } as unknown as RDD<Row>;
  }
  cache(plan: Relation, level?: string): Relation {
    this.calls.push({ method: 'cache', args: [plan, level] });
    return { type: 'cached', input: plan, cacheId: 'c1' };
  }
  unpersist(plan: Relation): void {
    this.calls.push({ method: 'unpersist', args: [plan] });
  }
  write(plan: Relation, spec: WriteSpec): Promise<void> {
    this.calls.push({ method: 'write', args: [plan, spec] });
    return Promise.resolve();
  }
  createView(
    name: string,
    plan: Relation,
    opts: { readonly replace: boolean; readonly global: boolean },
  ): void {
    this.calls.push({ method: 'createView', args: [name, plan, opts] });
  }
  callsOf(method: string): unknown[][] {
    return this.calls.filter((c) => c.method === method).map((c) => c.args);
  }
}

/** A DataFrame over table `t` (plan id 0) of a fake engine; `out` collects what it prints. */
export function fakeFrame(schema?: string): { engine: FakeEngine; df: DataFrame; out: string[] } {
  const engine = new FakeEngine(schema);
  const out: string[] = [];
  const df = new DataFrame(engine, { type: 'read', namedTable: 't', planId: 0 }, { out: (s) => out.push(s) });
  return { engine, df, out };
}
