export { LIMIT_DEFAULTS, LimitsPatch, type OrgLimits, orgRequestsPerMinute, readLimits, updateLimits } from "./limits";
export { recordUsage, reportRange, type Totals, USE_KINDS, UsageQuery, type Use, type UseKind, usageReport, usageTotals, utcDay } from "./meter";
export { checkQuota, type QuotaKind, quotaRead, WARN_AT } from "./quota";
