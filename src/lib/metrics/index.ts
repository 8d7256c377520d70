export { AnalyticsEngineRecorder } from "./analytics-engine";
export { AnalyticsSqlReader, METRICS_DATASET, metricsQuery } from "./analytics-sql";
export { D1MetricsStore, forgetMetrics, METRICS_RETENTION_DAYS } from "./d1-store";
export { incrementsOf, LATENCY_BUCKETS, latencyBucket, METRICS, type Metric, type MetricEvent } from "./events";
export { assemblyEvents, measuredAssembler, modelCallEvents, recallEvent } from "./measure";
export { type MetricsNumbers, type MetricsReport, metricsReport, numbersOf, percentile } from "./report";
export { type MetricsBindings, metricsReader, metricsRecorder } from "./select";
export { type MetricRow, type MetricsRange, type MetricsReader, type MetricsRecorder, recordQuietly } from "./store";
