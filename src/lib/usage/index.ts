export { LIMIT_DEFAULTS, LimitsPatch, type OrgLimits, orgRequestsPerMinute, readLimits, updateLimits } from "./limits";
export { recordUsage, reportRange, type Totals, UsageQuery, type Use, usageReport, usageTotals, utcDay } from "./meter";
export { checkQuota, type QuotaKind, WARN_AT } from "./quota";
