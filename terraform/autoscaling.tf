# Hub: target tracking on CPU and on requests per task; the busier of the two wins.
# Workers: step scaling on the tiling queue, which the hub publishes every minute as
# CloudWatch metrics in namespace "Pathx", dimension Stack = PATHX_STACK (README.md):
#   TileQueueDepth  jobs of queue "tile-slide" waiting for a worker (created or retry)
#   TileJobsActive  jobs a worker is running
# Waiting jobs mean every worker is busy: add workers. Workers are removed only after the
# queue has been empty and idle for 15 minutes, so scaling in never stops a running job.

locals {
  queue_metric_dimensions = { Stack = local.name }
}

resource "aws_appautoscaling_target" "service" {
  for_each = local.services

  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = "service/${aws_ecs_cluster.main.name}/${aws_ecs_service.app[each.key].name}"
  min_capacity       = each.value.min_count
  max_capacity       = each.value.max_count
}

resource "aws_appautoscaling_policy" "hub" {
  for_each = {
    cpu      = { metric = "ECSServiceAverageCPUUtilization", target = var.hub_cpu_target_percent, label = null }
    requests = {
      metric = "ALBRequestCountPerTarget"
      target = var.hub_requests_per_task
      label  = "${aws_lb.hub.arn_suffix}/${aws_lb_target_group.hub.arn_suffix}"
    }
  }

  name               = "${local.name}-hub-${each.key}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.service["hub"].service_namespace
  scalable_dimension = aws_appautoscaling_target.service["hub"].scalable_dimension
  resource_id        = aws_appautoscaling_target.service["hub"].resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target
    scale_out_cooldown = 60
    scale_in_cooldown  = 300

    predefined_metric_specification {
      predefined_metric_type = each.value.metric
      resource_label         = each.value.label
    }
  }
}

resource "aws_appautoscaling_policy" "worker_out" {
  name               = "${local.name}-worker-out"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.service["worker"].service_namespace
  scalable_dimension = aws_appautoscaling_target.service["worker"].scalable_dimension
  resource_id        = aws_appautoscaling_target.service["worker"].resource_id

  # Bounds are waiting jobs above the alarm's threshold of 0: 1–4 → +1, 5–19 → +2, 20+ → +4.
  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    metric_aggregation_type = "Maximum"
    # About one task start and first job; the alarm re-invokes the policy while jobs wait.
    cooldown = 180

    step_adjustment {
      metric_interval_lower_bound = 0
      metric_interval_upper_bound = 5
      scaling_adjustment          = 1
    }

    step_adjustment {
      metric_interval_lower_bound = 5
      metric_interval_upper_bound = 20
      scaling_adjustment          = 2
    }

    step_adjustment {
      metric_interval_lower_bound = 20
      scaling_adjustment          = 4
    }
  }
}

resource "aws_appautoscaling_policy" "worker_in" {
  name               = "${local.name}-worker-in"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.service["worker"].service_namespace
  scalable_dimension = aws_appautoscaling_target.service["worker"].scalable_dimension
  resource_id        = aws_appautoscaling_target.service["worker"].resource_id

  # Nothing waiting and nothing running: back to the minimum in one step.
  step_scaling_policy_configuration {
    adjustment_type         = "ExactCapacity"
    metric_aggregation_type = "Maximum"
    cooldown                = 300

    step_adjustment {
      metric_interval_upper_bound = 0
      scaling_adjustment          = var.worker_min_count
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "tile_jobs_waiting" {
  alarm_name          = "${local.name}-tile-jobs-waiting"
  alarm_description   = "Tiling jobs wait for a worker: add workers"
  namespace           = local.metric_namespace
  metric_name         = "TileQueueDepth"
  dimensions          = local.queue_metric_dimensions
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # No metric (hub not publishing) is no reason to add workers.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_appautoscaling_policy.worker_out.arn]
}

resource "aws_cloudwatch_metric_alarm" "tile_queue_idle" {
  alarm_name          = "${local.name}-tile-queue-idle"
  alarm_description   = "No tiling job waiting or running for 15 minutes: back to the minimum of workers"
  evaluation_periods  = 15
  datapoints_to_alarm = 15
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  # Nor to remove them: a running job must be seen to have finished.
  treat_missing_data = "notBreaching"
  alarm_actions      = [aws_appautoscaling_policy.worker_in.arn]

  metric_query {
    id          = "jobs"
    expression  = "waiting + active"
    label       = "Tiling jobs waiting or running"
    return_data = true
  }

  metric_query {
    id = "waiting"

    metric {
      namespace   = local.metric_namespace
      metric_name = "TileQueueDepth"
      dimensions  = local.queue_metric_dimensions
      stat        = "Maximum"
      period      = 60
    }
  }

  metric_query {
    id = "active"

    metric {
      namespace   = local.metric_namespace
      metric_name = "TileJobsActive"
      dimensions  = local.queue_metric_dimensions
      stat        = "Maximum"
      period      = 60
    }
  }
}
