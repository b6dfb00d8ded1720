# One image (the repository's Dockerfile, built) runs four ways: the hub web app behind the ALB,
# the tile service, the workers (apps/worker) and a one-off migration task (see README.md:
# Deploy). Each task's command is the image's entry script with the service's name
# (scripts/container/start.sh); terraform/image.test.ts checks both sides.

locals {
  app_root  = var.image_app_root
  tiles_url = "https://${coalesce(var.tiles_domain_name, aws_cloudfront_distribution.tiles.domain_name)}"

  # The password is not in the URL: the tasks get it as PGPASSWORD, which both PostgreSQL
  # clients (postgres.js, pg for pg-boss) read when the URL names none. verify-full checks
  # the server certificate against the RDS CA bundle named by NODE_EXTRA_CA_CERTS.
  database_url = "postgres://${var.db_username}@${aws_db_instance.main.address}:${aws_db_instance.main.port}/${var.db_name}?sslmode=verify-full"

  common_environment = {
    NODE_ENV            = "production"
    DATABASE_URL        = local.database_url
    NODE_EXTRA_CA_CERTS = var.rds_ca_bundle_path
    S3_REGION           = var.aws_region
    S3_BUCKET           = aws_s3_bucket.store["slides"].bucket

    # The queue's policy is set by every process that opens it (hub and workers): they must agree.
    TILE_JOB_EXPIRE_SECONDS = tostring(var.tile_job_expire_seconds)
    # The workers log the queue metrics that scale them under this dimension (README.md).
    PATHX_STACK = local.name
    # Behind the load balancer, which appends the client's address to X-Forwarded-For (audit ip).
    TRUST_PROXY_HOPS = "1"
  }
  common_secrets = {
    PGPASSWORD = aws_secretsmanager_secret.generated["db-password"].arn
    # Signs the audit checkpoints the labs' nodes keep as witnesses.
    AUDIT_SIGNING_KEY = var.audit_signing_key_secret_arn
  }

  containers = {
    hub = {
      cpu               = var.hub_cpu
      memory            = var.hub_memory
      task_role_arn     = aws_iam_role.task["hub"].arn
      working_directory = local.app_root
      command           = ["${local.app_root}/scripts/container/start.sh", "hub"]
      port_mappings     = [{ containerPort = local.hub_port, protocol = "tcp" }]
      # Next.js stops taking requests and finishes those in flight.
      stop_timeout = 30
      environment = merge(local.common_environment, {
        PORT     = tostring(local.hub_port)
        AUTH_URL = var.hub_url
        # Viewers fetch tiles from CloudFront (path /tiles/*), which checks the token at the edge.
        TILES_PUBLIC_URL   = local.tiles_url
        TILE_TOKEN_SECONDS = tostring(var.tile_token_seconds)
      })
      secrets = merge(local.common_secrets, {
        AUTH_SECRET       = aws_secretsmanager_secret.generated["auth-secret"].arn
        TILE_TOKEN_SECRET = aws_secretsmanager_secret.generated["tile-token-secret"].arn
      })
    }

    # The tile service (apps/tiles) behind the ALB path /tiles/*, CloudFront in front.
    tiles = {
      cpu               = var.tiles_cpu
      memory            = var.tiles_memory
      task_role_arn     = aws_iam_role.task["tiles"].arn
      working_directory = local.app_root
      command           = ["${local.app_root}/scripts/container/start.sh", "tiles"]
      port_mappings     = [{ containerPort = local.tiles_port, protocol = "tcp" }]
      stop_timeout      = 30
      environment = merge(local.common_environment, {
        TILES_PORT     = tostring(local.tiles_port)
        TILES_HOST     = "0.0.0.0"
        TILE_PROCESSES = tostring(var.tiles_processes)
        HUB_ORIGIN     = var.hub_url
        # Shared caches may keep tiles: CloudFront checks every request's token before its cache answers.
        TILE_CACHE_CONTROL     = "public"
        TILE_TOKEN_MAX_SECONDS = tostring(var.tile_token_seconds)
      })
      secrets = merge(local.common_secrets, {
        TILE_TOKEN_SECRET = aws_secretsmanager_secret.generated["tile-token-secret"].arn
      })
    }

    worker = {
      cpu               = var.worker_cpu
      memory            = var.worker_memory
      task_role_arn     = aws_iam_role.task["worker"].arn
      working_directory = local.app_root
      command           = ["${local.app_root}/scripts/container/start.sh", "worker"]
      port_mappings     = []
      # Spot gives two minutes' notice; a job not finished by then expires and is retried.
      stop_timeout = 120
      environment   = local.common_environment
      secrets       = local.common_secrets
    }

    # Applies packages/db/drizzle to the database and exits (packages/db/src/migrate-main.ts); no AWS API access needed.
    migrate = {
      cpu               = 256
      memory            = 512
      task_role_arn     = null
      working_directory = local.app_root
      command           = ["${local.app_root}/scripts/container/start.sh", "migrate"]
      port_mappings     = []
      stop_timeout      = 30
      environment       = local.common_environment
      secrets           = local.common_secrets
    }
  }
}

resource "aws_ecs_cluster" "main" {
  name = local.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

resource "aws_ecs_cluster_capacity_providers" "main" {
  cluster_name       = aws_ecs_cluster.main.name
  capacity_providers = ["FARGATE", "FARGATE_SPOT"]

  default_capacity_provider_strategy {
    capacity_provider = "FARGATE"
    weight            = 1
  }
}

resource "aws_ecs_task_definition" "app" {
  for_each = local.containers

  family                   = "${local.name}-${each.key}"
  requires_compatibilities = ["FARGATE"]
  network_mode             = "awsvpc"
  cpu                      = each.value.cpu
  memory                   = each.value.memory
  execution_role_arn       = aws_iam_role.execution.arn
  task_role_arn            = each.value.task_role_arn

  runtime_platform {
    operating_system_family = "LINUX"
    cpu_architecture        = var.cpu_architecture
  }

  container_definitions = jsonencode([{
    name             = each.key
    image            = var.image
    essential        = true
    command          = each.value.command
    workingDirectory = each.value.working_directory
    portMappings     = each.value.port_mappings
    environment      = [for name, value in each.value.environment : { name = name, value = value }]
    secrets          = [for name, arn in each.value.secrets : { name = name, valueFrom = arn }]
    stopTimeout      = each.value.stop_timeout
    # Node is not written to be PID 1: an init process forwards SIGTERM (to tsx's child too)
    # and reaps exited processes.
    linuxParameters = { initProcessEnabled = true }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        awslogs-group         = aws_cloudwatch_log_group.app[each.key].name
        awslogs-region        = var.aws_region
        awslogs-stream-prefix = each.key
      }
    }
  }])
}

locals {
  services = {
    hub = {
      capacity_provider = "FARGATE"
      security_group    = aws_security_group.this["hub"].id
      min_count         = var.hub_min_count
      max_count         = var.hub_max_count
      load_balancers    = [{ target_group_arn = aws_lb_target_group.hub.arn, container_port = local.hub_port }]
    }
    tiles = {
      capacity_provider = "FARGATE"
      security_group    = aws_security_group.this["tiles"].id
      min_count         = var.tiles_min_count
      max_count         = var.tiles_max_count
      load_balancers    = [{ target_group_arn = aws_lb_target_group.tiles.arn, container_port = local.tiles_port }]
    }
    worker = {
      # Tiling is retried when a worker disappears, so workers may run on interruptible Spot.
      capacity_provider = var.worker_fargate_spot ? "FARGATE_SPOT" : "FARGATE"
      security_group    = aws_security_group.this["worker"].id
      min_count         = var.worker_min_count
      max_count         = var.worker_max_count
      load_balancers    = []
    }
  }
}

resource "aws_ecs_service" "app" {
  for_each = local.services

  name            = each.key
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.app[each.key].arn
  desired_count   = each.value.min_count
  propagate_tags  = "SERVICE"
  # Time for Next.js to start before failed ALB health checks count.
  health_check_grace_period_seconds = length(each.value.load_balancers) > 0 ? 60 : null

  capacity_provider_strategy {
    capacity_provider = each.value.capacity_provider
    weight            = 1
  }

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [each.value.security_group]
    assign_public_ip = false
  }

  dynamic "load_balancer" {
    for_each = each.value.load_balancers

    content {
      target_group_arn = load_balancer.value.target_group_arn
      container_name   = each.key
      container_port   = load_balancer.value.container_port
    }
  }

  # A release whose tasks never get healthy is rolled back instead of looping.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  lifecycle {
    ignore_changes = [desired_count] # owned by autoscaling.tf after creation
  }

  depends_on = [aws_lb_listener.https, aws_ecs_cluster_capacity_providers.main]
}
