import { sql } from "drizzle-orm";
import type { Db } from "@pathx/db";
import { TILE_QUEUE } from "@pathx/runtime";

export interface QueueCounts {
  /** Jobs waiting for a worker (pg-boss states created and retry). */
  waiting: number;
  /** Jobs a worker is running. */
  active: number;
}

export async function readQueueCounts(db: Db): Promise<QueueCounts> {
  const result = await db.execute<{ waiting: number; active: number }>(sql`
    select count(*) filter (where state in ('created', 'retry'))::int as waiting,
           count(*) filter (where state = 'active')::int as active
    from pgboss.job where name = ${TILE_QUEUE}`);
  const [row] = Array.isArray(result) ? result : (result as unknown as { rows: { waiting: number; active: number }[] }).rows;
  return { waiting: Number(row?.waiting ?? 0), active: Number(row?.active ?? 0) };
}

/**
 * The queue as one CloudWatch Embedded Metric Format log line: written to stdout in a container
 * whose logs go to CloudWatch Logs, it becomes the metrics Pathx/TileQueueDepth and
 * Pathx/TileJobsActive (dimension Stack) that scale the workers (terraform/autoscaling.tf),
 * with no AWS SDK and no extra permission.
 */
export function formatQueueMetrics(stack: string, counts: QueueCounts, at = new Date()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: at.getTime(),
      CloudWatchMetrics: [
        {
          Namespace: "Pathx",
          Dimensions: [["Stack"]],
          Metrics: [
            { Name: "TileQueueDepth", Unit: "Count" },
            { Name: "TileJobsActive", Unit: "Count" },
          ],
        },
      ],
    },
    Stack: stack,
    TileQueueDepth: counts.waiting,
    TileJobsActive: counts.active,
  });
}
