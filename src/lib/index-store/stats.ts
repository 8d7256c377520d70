/** Row counts of the shard, for tests and the API. */
import type { ShardStats } from "./types";

export function shardStats(sql: SqlStorage): ShardStats {
  const one = (q: string): number => sql.exec<{ n: number }>(q).one().n;
  return {
    files: one("SELECT count(*) AS n FROM files"),
    chunks: one("SELECT count(*) AS n FROM chunks"),
    symbols: one("SELECT count(*) AS n FROM symbols"),
    edges: one("SELECT count(*) AS n FROM edges"),
    summaries: one("SELECT count(*) AS n FROM summaries"),
    tokensCl: one("SELECT coalesce(sum(tokens_cl), 0) AS n FROM files"),
  };
}
