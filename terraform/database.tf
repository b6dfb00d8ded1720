# PostgreSQL for the hub's data and the pg-boss tiling queue: private subnets only, encrypted,
# TLS enforced, backed up, multi-AZ when var.db_multi_az.

resource "aws_db_subnet_group" "main" {
  name       = local.name
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "main" {
  name   = "${local.name}-postgres${local.db_major_version}"
  family = "postgres${local.db_major_version}"

  # Refuse unencrypted connections; the tasks connect with sslmode=verify-full.
  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }

  lifecycle {
    create_before_destroy = true # a major upgrade swaps in a new family's group
  }
}

locals {
  db_major_version = split(".", var.db_engine_version)[0]
}

resource "aws_db_instance" "main" {
  identifier     = local.name
  engine         = "postgres"
  engine_version = var.db_engine_version
  instance_class = var.db_instance_class
  db_name        = var.db_name
  username       = var.db_username
  port           = local.db_port

  # Write-only: the password comes from Secrets Manager and is not kept in the state.
  password_wo         = ephemeral.aws_secretsmanager_secret_version.db_password.secret_string
  password_wo_version = aws_secretsmanager_secret_version.generated["db-password"].secret_string_wo_version

  allocated_storage     = var.db_allocated_storage
  max_allocated_storage = var.db_max_allocated_storage
  storage_type          = "gp3"
  storage_encrypted     = true

  multi_az               = var.db_multi_az
  db_subnet_group_name   = aws_db_subnet_group.main.name
  vpc_security_group_ids = [aws_security_group.this["db"].id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.main.name

  backup_retention_period   = var.db_backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${local.name}-final"

  auto_minor_version_upgrade      = true
  enabled_cloudwatch_logs_exports = ["postgresql"]

  # The log group must exist first, or RDS creates one that never expires.
  depends_on = [aws_cloudwatch_log_group.postgres]
}
