/** A session's token and cost meter: every model call is added as soon as it is made (a run that fails later was still billed). */
export type Meter = { calls: number; inputTokens: number; outputTokens: number; costUsd: number };
export type MeteredCall = { inputTokens: number; outputTokens: number; costUsd: number };

export const EMPTY_METER: Meter = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };

/** The meter after one more call; cost kept to a millionth of a dollar so sums do not drift. */
export function addCall(m: Meter, call: MeteredCall): Meter {
  return {
    calls: m.calls + 1,
    inputTokens: m.inputTokens + call.inputTokens,
    outputTokens: m.outputTokens + call.outputTokens,
    costUsd: Math.round((m.costUsd + call.costUsd) * 1e6) / 1e6,
  };
}

/** The meter in the session record's `meter` column. */
export class CostMeter {
  constructor(private readonly sql: SqlStorage) {}

  read(): Meter {
    return JSON.parse(this.sql.exec<{ meter: string }>("SELECT meter FROM session WHERE id = 1").one().meter) as Meter;
  }

  add(call: MeteredCall): Meter {
    const next = addCall(this.read(), call);
    this.sql.exec("UPDATE session SET meter = ? WHERE id = 1", JSON.stringify(next));
    return next;
  }
}
