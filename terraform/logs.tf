# Every log group is made here with a retention, so none is left to grow forever.

resource "aws_cloudwatch_log_group" "app" {
  for_each = toset(["hub", "worker", "tiles", "migrate"])

  name              = "/${local.name}/${each.key}"
  retention_in_days = var.log_retention_days
}

# The name RDS writes its exported PostgreSQL log to.
resource "aws_cloudwatch_log_group" "postgres" {
  name              = "/aws/rds/instance/${local.name}/postgresql"
  retention_in_days = var.log_retention_days
}
