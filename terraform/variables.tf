# ── General ──────────────────────────────────────────────────────────────────────────────

variable "aws_region" {
  description = "AWS region of the whole stack (CloudFront and its key group are global)."
  type        = string
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. pathx-prod; also the Stack dimension of the queue metrics. Lower case, digits and hyphens."
  type        = string
  default     = "pathx"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,22}$", var.name_prefix))
    error_message = "name_prefix must be 2–23 characters: lower-case letters, digits and hyphens, starting with a letter (it is part of bucket, ALB and target group names)."
  }
}

variable "tags" {
  description = "Tags added to every resource, besides Project and Stack."
  type        = map(string)
  default     = {}
}

# ── Network ──────────────────────────────────────────────────────────────────────────────

variable "vpc_cidr" {
  description = "Address range of the VPC; it is cut into /20 subnets (needs a /16)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrsubnet(var.vpc_cidr, 4, 15)) && endswith(var.vpc_cidr, "/16")
    error_message = "vpc_cidr must be an IPv4 /16, e.g. 10.40.0.0/16."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for both zones (cheaper, for staging) instead of one per zone."
  type        = bool
  default     = false
}

variable "alb_ingress_cidrs" {
  description = "Address ranges allowed to reach the hub's load balancer on 80 and 443: the labs' egress ranges, or 0.0.0.0/0 for browsers anywhere."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "hub_internet_egress" {
  description = "Let the hub tasks reach the internet on 443 through NAT: needed when a lab signs in with its own OpenID Connect provider (OIDC_ISSUER). Off, the hub reaches only PostgreSQL, S3 and AWS APIs."
  type        = bool
  default     = false
}

# ── Hub address and TLS ──────────────────────────────────────────────────────────────────

variable "hub_url" {
  description = "Public URL of the hub, without a path (https://hub.example.org): AUTH_URL of the hub, and the origin allowed to read tiles (CORS). Point its DNS name at the alb_dns_name output."
  type        = string

  validation {
    condition     = can(regex("^https://[a-z0-9.-]+(:[0-9]+)?$", var.hub_url))
    error_message = "hub_url must be https://HOST (no path, no trailing slash)."
  }
}

variable "certificate_arn" {
  description = "ARN of the ACM certificate for the hub's DNS name, in aws_region; used by the ALB's HTTPS listener."
  type        = string
}

variable "alb_deletion_protection" {
  description = "Refuse to delete the load balancer (turn off before terraform destroy)."
  type        = bool
  default     = true
}

variable "hub_health_check_path" {
  description = "Path the ALB probes on each hub task; must answer 200 without a session."
  type        = string
  default     = "/sign-in"
}

# ── Container image ──────────────────────────────────────────────────────────────────────

variable "image" {
  description = "Container image built from the repository's Dockerfile, e.g. an ECR URI with a tag or digest; the hub, the tile service, the workers and the migration task all run it (scripts/container/start.sh <service>)."
  type        = string
}

variable "image_app_root" {
  description = "Folder of the repository inside the image (the root holding node_modules and apps/)."
  type        = string
  default     = "/app"
}

variable "rds_ca_bundle_path" {
  description = "Path in the image of the Amazon RDS CA bundle (global-bundle.pem), given to Node as NODE_EXTRA_CA_CERTS so that sslmode=verify-full can check the database's certificate."
  type        = string
  default     = "/etc/ssl/certs/rds-global-bundle.pem"
}

variable "cpu_architecture" {
  description = "CPU architecture of the image: X86_64 or ARM64 (Graviton)."
  type        = string
  default     = "X86_64"

  validation {
    condition     = contains(["X86_64", "ARM64"], var.cpu_architecture)
    error_message = "cpu_architecture must be X86_64 or ARM64."
  }
}

# ── Hub and worker tasks ─────────────────────────────────────────────────────────────────

variable "hub_cpu" {
  description = "CPU units of one hub task (1024 = 1 vCPU); a Fargate size."
  type        = number
  default     = 1024
}

variable "hub_memory" {
  description = "Memory of one hub task in MiB; must suit hub_cpu on Fargate."
  type        = number
  default     = 2048
}

variable "hub_min_count" {
  description = "Fewest hub tasks; two keep the hub up while a zone or a task fails."
  type        = number
  default     = 2
}

variable "hub_max_count" {
  description = "Most hub tasks autoscaling may run."
  type        = number
  default     = 6

  validation {
    condition     = var.hub_max_count >= var.hub_min_count
    error_message = "hub_max_count must not be below hub_min_count."
  }
}

variable "hub_cpu_target_percent" {
  description = "Average CPU of the hub tasks that autoscaling keeps (target tracking)."
  type        = number
  default     = 60
}

variable "hub_requests_per_task" {
  description = "ALB requests per hub task per minute that autoscaling keeps (target tracking); tile requests count, so a viewer panning is many."
  type        = number
  default     = 3000
}

variable "worker_cpu" {
  description = "CPU units of one tiling worker (2048 = 2 vCPU: one slide uses both cores while decoding and encoding)."
  type        = number
  default     = 2048
}

variable "worker_memory" {
  description = "Memory of one tiling worker in MiB; must suit worker_cpu on Fargate."
  type        = number
  default     = 4096
}

variable "worker_min_count" {
  description = "Fewest tiling workers. 0 saves money but then tiling waits for the queue metric and a task start; keep 1 or more until the hub publishes the metric."
  type        = number
  default     = 1
}

variable "worker_max_count" {
  description = "Most tiling workers the queue depth may scale to."
  type        = number
  default     = 8

  validation {
    condition     = var.worker_max_count >= var.worker_min_count
    error_message = "worker_max_count must not be below worker_min_count."
  }
}

variable "worker_fargate_spot" {
  description = "Run tiling workers on Fargate Spot: much cheaper; an interrupted job expires and is retried by another worker."
  type        = bool
  default     = true
}

variable "tile_job_expire_seconds" {
  description = "Seconds after which a tiling job still active is taken as its worker's death (Spot interruption, crash) and retried by another worker; also the longest one slide may take to tile. TILE_JOB_EXPIRE_SECONDS of the hub and the workers."
  type        = number
  default     = 900

  validation {
    condition     = var.tile_job_expire_seconds >= 60 && var.tile_job_expire_seconds <= 86400
    error_message = "tile_job_expire_seconds must be between 60 and 86400."
  }
}

# ── Database ─────────────────────────────────────────────────────────────────────────────

variable "db_engine_version" {
  description = "PostgreSQL version on RDS: a major version (16) or major.minor (16.4); the parameter group family follows the major."
  type        = string
  default     = "16"
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t4g.medium"
}

variable "db_name" {
  description = "Name of the hub's database."
  type        = string
  default     = "pathx"
}

variable "db_username" {
  description = "PostgreSQL user the hub, the workers and the migrations connect as (the RDS master user)."
  type        = string
  default     = "pathx"
}

variable "db_password_version" {
  description = "Generation of the database password: raise it by one to generate a new password, store it and set it on RDS; then restart the services."
  type        = number
  default     = 1
}

variable "db_allocated_storage" {
  description = "Initial database storage in GiB (gp3)."
  type        = number
  default     = 50
}

variable "db_max_allocated_storage" {
  description = "Ceiling in GiB up to which RDS grows the storage by itself."
  type        = number
  default     = 500
}

variable "db_multi_az" {
  description = "Keep a synchronous standby in the other zone, with automatic failover."
  type        = bool
  default     = true
}

variable "db_backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window), 1–35."
  type        = number
  default     = 14

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be 1 to 35 (0 would turn backups off)."
  }
}

variable "db_deletion_protection" {
  description = "Refuse to delete the database (turn off before terraform destroy)."
  type        = bool
  default     = true
}

# ── Object storage ───────────────────────────────────────────────────────────────────────

variable "upload_expiry_days" {
  description = "Days after which chunks of an upload never completed are deleted (uploads/ in the slides bucket). An upload resumed later than this must start again."
  type        = number
  default     = 14
}

variable "noncurrent_version_expiry_days" {
  description = "Days an overwritten or deleted object of the slides bucket stays recoverable."
  type        = number
  default     = 30
}

variable "tiles_noncurrent_version_expiry_days" {
  description = "Days an overwritten or deleted tile stays recoverable in the tiles bucket."
  type        = number
  default     = 7
}

# ── Tiles CDN ────────────────────────────────────────────────────────────────────────────

variable "cloudfront_public_key_pem" {
  description = "PEM public key (RSA 2048) CloudFront trusts for signed tile URLs and cookies; its private half is in the secret cloudfront_private_key_secret_arn."
  type        = string

  validation {
    condition     = startswith(trimspace(var.cloudfront_public_key_pem), "-----BEGIN PUBLIC KEY-----")
    error_message = "cloudfront_public_key_pem must be a PEM public key (-----BEGIN PUBLIC KEY-----)."
  }
}

variable "cloudfront_private_key_secret_arn" {
  description = "ARN of an existing Secrets Manager secret holding the PEM private key that matches cloudfront_public_key_pem; the hub gets it as CLOUDFRONT_PRIVATE_KEY to sign tile access."
  type        = string
}

variable "audit_signing_key_secret_arn" {
  description = "ARN of an existing Secrets Manager secret holding the Ed25519 private key (PKCS#8 PEM, openssl genpkey -algorithm ed25519) that signs audit checkpoints; hub and workers get it as AUDIT_SIGNING_KEY. Kept out of the database on purpose."
  type        = string
}

variable "cloudfront_price_class" {
  description = "CloudFront price class: which edge locations serve tiles (PriceClass_100: North America and Europe)."
  type        = string
  default     = "PriceClass_100"

  validation {
    condition     = contains(["PriceClass_100", "PriceClass_200", "PriceClass_All"], var.cloudfront_price_class)
    error_message = "cloudfront_price_class must be PriceClass_100, PriceClass_200 or PriceClass_All."
  }
}

variable "tiles_domain_name" {
  description = "Own DNS name for the tiles distribution (tiles.example.org), or null for the cloudfront.net name. Signed cookies need it under the hub's parent domain."
  type        = string
  default     = null
}

variable "tiles_certificate_arn" {
  description = "ACM certificate for tiles_domain_name, in us-east-1 (CloudFront's region); null with tiles_domain_name null."
  type        = string
  default     = null

  validation {
    condition     = (var.tiles_certificate_arn == null) == (var.tiles_domain_name == null)
    error_message = "Set tiles_domain_name and tiles_certificate_arn together, or neither."
  }
}

# ── Secrets and logs ─────────────────────────────────────────────────────────────────────

variable "auth_secret_version" {
  description = "Generation of the hub's AUTH_SECRET: raise it by one to replace the secret (signs everyone out once the hub restarts)."
  type        = number
  default     = 1
}

variable "log_retention_days" {
  description = "Days CloudWatch keeps the hub, worker, migration and PostgreSQL logs."
  type        = number
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "tiles_cpu" {
  description = "CPU units of one tile service task (1024 = 1 vCPU); a Fargate size."
  type        = number
  default     = 2048
}

variable "tiles_memory" {
  description = "Memory of one tile service task in MiB (open slides and the tile cache live here)."
  type        = number
  default     = 4096
}

variable "tiles_processes" {
  description = "Tile service processes per task (TILE_PROCESSES): one per vCPU."
  type        = number
  default     = 2
}

variable "tiles_min_count" {
  description = "Fewest tile service tasks."
  type        = number
  default     = 2
}

variable "tiles_max_count" {
  description = "Most tile service tasks."
  type        = number
  default     = 6
}

variable "tile_token_seconds" {
  description = "Lifetime of a tile token. CloudFront serves cached tiles to any valid token, so a revoked viewer keeps cached tiles at most this long (the origin refuses within seconds)."
  type        = number
  default     = 60
}

variable "tile_token_secret_version" {
  description = "Raise to rotate TILE_TOKEN_SECRET (viewers renew their tokens within tile_token_seconds); then put the new value into the KeyValueStore (README.md)."
  type        = number
  default     = 1
}
