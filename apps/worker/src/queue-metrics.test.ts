import { describe, expect, it } from "vitest";
import { formatQueueMetrics } from "./queue-metrics";

describe("queue metrics for CloudWatch", () => {
  it("are one Embedded Metric Format line naming the metrics and dimension the autoscaling alarms use", () => {
    const line = formatQueueMetrics("pathx-prod", { waiting: 7, active: 2 }, new Date("2026-11-25T12:00:00Z"));
    expect(line).not.toContain("\n");
    const parsed = JSON.parse(line) as {
      _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
    } & Record<string, unknown>;
    expect(parsed._aws.Timestamp).toBe(Date.parse("2026-11-25T12:00:00Z"));
    const [directive] = parsed._aws.CloudWatchMetrics;
    expect(directive).toMatchObject({ Namespace: "Pathx", Dimensions: [["Stack"]] });
    // Every metric and dimension named in the directive has its value at the top level.
    for (const name of [...directive!.Metrics.map((m) => m.Name), ...directive!.Dimensions.flat()]) expect(parsed[name], name).toBeDefined();
    expect(parsed).toMatchObject({ Stack: "pathx-prod", TileQueueDepth: 7, TileJobsActive: 2 });
  });
});
