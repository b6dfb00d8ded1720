output "alb_dns_name" {
  description = "DNS name of the hub's load balancer: point the hub_url host at it (CNAME or Route 53 alias)."
  value       = aws_lb.hub.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone id of the load balancer, for a Route 53 alias record."
  value       = aws_lb.hub.zone_id
}

output "tiles_cdn_url" {
  description = "Base URL of the tiles distribution (TILES_CDN_URL of the hub)."
  value       = local.tiles_url
}

output "tiles_distribution_domain_name" {
  description = "cloudfront.net name of the tiles distribution: the CNAME target of tiles_domain_name."
  value       = aws_cloudfront_distribution.tiles.domain_name
}

output "cloudfront_key_pair_id" {
  description = "Id of the CloudFront public key: the Key-Pair-Id of signed tile URLs and cookies."
  value       = aws_cloudfront_public_key.tiles.id
}

output "slides_bucket" {
  description = "Bucket of uploads, slide sources and private label and macro images (S3_BUCKET)."
  value       = aws_s3_bucket.store["slides"].bucket
}

output "tiles_bucket" {
  description = "Bucket of the Deep Zoom tiles served through CloudFront (S3_TILES_BUCKET)."
  value       = aws_s3_bucket.store["tiles"].bucket
}

output "db_endpoint" {
  description = "Address and port of the PostgreSQL instance (private subnets only)."
  value       = aws_db_instance.main.endpoint
}

output "db_password_secret_arn" {
  description = "Secrets Manager secret with the database password."
  value       = aws_secretsmanager_secret.generated["db-password"].arn
}

output "ecs_cluster_name" {
  description = "Name of the ECS cluster of the hub, worker and migration tasks."
  value       = aws_ecs_cluster.main.name
}

output "log_groups" {
  description = "CloudWatch log group of each task kind (hub, worker, migrate)."
  value       = { for kind, group in aws_cloudwatch_log_group.app : kind => group.name }
}

output "migrate_command" {
  description = "AWS CLI command that runs the database migrations once; run it before a release whose schema changed, and on first deploy."
  value = join(" ", [
    "aws ecs run-task --region ${var.aws_region}",
    "--cluster ${aws_ecs_cluster.main.name}",
    "--task-definition ${aws_ecs_task_definition.app["migrate"].family}",
    "--launch-type FARGATE",
    "--network-configuration 'awsvpcConfiguration={subnets=[${join(",", aws_subnet.private[*].id)}],securityGroups=[${aws_security_group.this["worker"].id}],assignPublicIp=DISABLED}'",
  ])
}

output "queue_metric" {
  description = "The CloudWatch metrics the workers publish for their autoscaling: namespace, names and dimensions."
  value = {
    namespace  = local.metric_namespace
    metrics    = ["TileQueueDepth", "TileJobsActive"]
    dimensions = local.queue_metric_dimensions
  }
}
