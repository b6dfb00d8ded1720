# Roles of the ECS tasks. The execution role is what ECS itself uses to start a task (pull the
# image, write logs, read the secrets); the task roles are what the hub and worker code may
# do, and each is limited to the key prefixes that code touches.

locals {
  metric_namespace = "Pathx"

  tile_writer = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"]

  # Object actions per role on key prefixes of a bucket (packages/api: uploads.ts, tiling.ts;
  # apps/tiles; the hub's thumbnail route).
  s3_grants = {
    # The hub joins uploads into sources/, reads a new source's directories and writes its
    # thumbnail (pyramid/) when it becomes viewable, and serves thumbnails (pyramid/, tiles/).
    hub = [
      { bucket = "slides", prefix = "uploads/", actions = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"] },
      { bucket = "slides", prefix = "sources/", actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:DeleteObject"] },
      { bucket = "slides", prefix = "pyramid/", actions = ["s3:GetObject", "s3:PutObject"] },
      { bucket = "slides", prefix = "tiles/", actions = ["s3:GetObject"] },
    ]
    # The background job: the derived pyramid (one multipart object), thumbnail, label/macro;
    # it deletes pyramids of the old kind (tiles/) it supersedes.
    worker = [
      { bucket = "slides", prefix = "sources/", actions = ["s3:GetObject"] },
      { bucket = "slides", prefix = "private/", actions = ["s3:PutObject"] },
      { bucket = "slides", prefix = "pyramid/", actions = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"] },
      { bucket = "slides", prefix = "tiles/", actions = local.tile_writer },
    ]
    # The tile service only reads: sources by range, derived pyramids, old pyramids.
    tiles = [
      { bucket = "slides", prefix = "sources/", actions = ["s3:GetObject"] },
      { bucket = "slides", prefix = "pyramid/", actions = ["s3:GetObject"] },
      { bucket = "slides", prefix = "tiles/", actions = ["s3:GetObject"] },
    ]
  }
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }

    # Only tasks of this account's ECS, not another account's (confused deputy).
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${local.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy_attachment" "execution" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
}

resource "aws_iam_role_policy" "execution_secrets" {
  name   = "read-task-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution_secrets.json
}

data "aws_iam_policy_document" "execution_secrets" {
  statement {
    actions = ["secretsmanager:GetSecretValue"]
    resources = concat(
      [for secret in aws_secretsmanager_secret.generated : secret.arn],
      [var.cloudfront_private_key_secret_arn, var.audit_signing_key_secret_arn],
    )
  }
}

resource "aws_iam_role" "task" {
  for_each = local.s3_grants

  name               = "${local.name}-${each.key}-task"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "task" {
  for_each = local.s3_grants

  name   = "${each.key}-access"
  role   = aws_iam_role.task[each.key].id
  policy = data.aws_iam_policy_document.task[each.key].json
}

data "aws_iam_policy_document" "task" {
  for_each = local.s3_grants

  dynamic "statement" {
    for_each = each.value

    content {
      actions   = statement.value.actions
      resources = ["${aws_s3_bucket.store[statement.value.bucket].arn}/${statement.value.prefix}*"]
    }
  }

  # Listing lets a missing key answer 404 instead of 403, and deletePrefix find its keys.
  dynamic "statement" {
    for_each = each.value

    content {
      actions   = ["s3:ListBucket"]
      resources = [aws_s3_bucket.store[statement.value.bucket].arn]

      condition {
        test     = "StringLike"
        variable = "s3:prefix"
        values   = ["${statement.value.prefix}*"]
      }
    }
  }

  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = distinct([for grant in each.value : local.buckets[grant.bucket].kms_key_arn])

    # The keys serve these roles only through S3.
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.aws_region}.amazonaws.com"]
    }
  }

  # The hub publishes the tiling queue depth that scales the workers (autoscaling.tf).
  dynamic "statement" {
    for_each = each.key == "hub" ? [local.metric_namespace] : []

    content {
      actions   = ["cloudwatch:PutMetricData"]
      resources = ["*"]

      condition {
        test     = "StringEquals"
        variable = "cloudwatch:namespace"
        values   = [statement.value]
      }
    }
  }
}
