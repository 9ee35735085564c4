/**
 * vipwatch_failover_gap_seconds{target}: one observation per announcer change of a target that a success through the
 * new announcer closed (src/diagnosis/failover-gaps.ts measures it; the pipeline hands it over). A change still open
 * is not observed: no figure yet is not a gap of 0. ProbeMetrics holds it as a cell histogram like the probe
 * durations, so the series of a removed target go with the others.
 */

/** 0.1 s (a failover no attempt noticed reads 0) to 2 minutes; longer gaps land in +Inf. */
export const FAILOVER_GAP_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 30, 60, 120];

export const FAILOVER_GAP_HELP =
  'Failover gaps: per announcer change of the target (the VIP\'s MAC where vipwatch reads the neighbour table, else the announcing node of the cluster view), ' +
  'seconds from the change to the start of the first successful attempt through the new announcer. The change is the start of the first of the failed ' +
  'attempts right before the first attempt under the new announcer, or of that attempt when none failed; good to the probe interval. ' +
  'A change with no success through the new announcer within the diagnosis window is not observed.';
