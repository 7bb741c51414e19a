// `parrot_stuck_groups`: dialogue groups whose workflow task keeps failing (a bad deploy), as the
// datasets running on this worker last counted them. A dataset reports its count through a sink
// at each stall check (src/workflows/stuck-groups.ts); the worker sums the datasets' latest
// counts, so that two datasets on one worker do not overwrite each other, and drops a count not
// renewed in time (the dataset ended, or moved to another worker). No dataset label: labels stay
// few-valued (the progress query names the groups). Sum over workers: `sum(parrot_stuck_groups)`.
import { noopMetricMeter, type MetricGauge, type MetricMeter } from '@temporalio/common';
import type { InjectedSinks } from '@temporalio/worker';
import type { Sinks } from '@temporalio/workflow';

export const STUCK_GROUPS_METRIC = 'parrot_stuck_groups';

/** What workflows send out of their sandbox (workflow side: proxySinks<ParrotSinks>()). */
export interface ParrotSinks extends Sinks {
  stuckGroups: {
    /** The dataset's stuck groups now; the count holds for `ttlSeconds` unless renewed. */
    report(groups: number, ttlSeconds: number): void;
  };
}

/** How often counts not renewed in time are dropped. */
const EXPIRY_CHECK_MS = 30_000;

export class StuckGroupsGauge {
  private readonly gauge: MetricGauge;
  private readonly byDataset = new Map<string, { groups: number; expiresAt: number }>();
  private expiryTimer?: ReturnType<typeof setInterval>;

  /** `meter`: the worker runtime's (Runtime.instance().metricMeter); none: metrics off. */
  constructor(
    meter: MetricMeter = noopMetricMeter,
    private readonly now = () => Date.now(),
  ) {
    this.gauge = meter.createGauge(
      STUCK_GROUPS_METRIC,
      'int',
      'groups',
      'Dialogue groups whose workflow task keeps failing (a bad deploy?), marked stuck by the datasets on this worker',
    );
  }

  report(datasetId: string, groups: number, ttlSeconds: number) {
    if (groups > 0) this.byDataset.set(datasetId, { groups, expiresAt: this.now() + ttlSeconds * 1000 });
    else this.byDataset.delete(datasetId);
    this.refresh();
  }

  /** Drops expired counts and sets the gauge to the sum of the others. */
  refresh() {
    let total = 0;
    for (const [id, c] of this.byDataset) {
      if (c.expiresAt <= this.now()) this.byDataset.delete(id);
      else total += c.groups;
    }
    this.gauge.set(total);
    if (this.byDataset.size && !this.expiryTimer) {
      this.expiryTimer = setInterval(() => this.refresh(), EXPIRY_CHECK_MS);
      this.expiryTimer.unref();
    } else if (!this.byDataset.size && this.expiryTimer) {
      clearInterval(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }

  /** The sinks a worker injects: not called on replay (a query replaying the dataset elsewhere would count it twice). */
  sinks(): InjectedSinks<ParrotSinks> {
    return {
      stuckGroups: {
        report: {
          fn: (info, groups, ttlSeconds) => this.report(info.workflowId, groups, ttlSeconds),
          callDuringReplay: false,
        },
      },
    };
  }
}
