/**
 * The production recorder: one Workers Analytics Engine data point per increment. The org is the index
 * (Analytics Engine samples per index, so one busy org cannot crowd out the others); blobs carry the metric
 * and the project, doubles the bucket, count and sum, the same shape the SQL reader sums. An invocation may
 * write 250 points; the busiest request (a generation: each pass's assembly, each model call) writes a few dozen.
 */
import { incrementsOf, type MetricEvent } from "./events";
import type { MetricsRecorder } from "./store";

export class AnalyticsEngineRecorder implements MetricsRecorder {
  constructor(private readonly dataset: AnalyticsEngineDataset) {}

  async record(events: readonly MetricEvent[]): Promise<void> {
    for (const i of events.flatMap(incrementsOf)) {
      // writeDataPoint queues the point and returns at once; the runtime sends it after the response.
      this.dataset.writeDataPoint({ indexes: [i.orgId], blobs: [i.metric, i.orgId, i.projectId], doubles: [i.bucket, i.count, i.sum] });
    }
  }
}
