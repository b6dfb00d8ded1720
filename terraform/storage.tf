# Two buckets. "slides": what the hub's object store holds today — resumable upload chunks
# (uploads/), slide sources (sources/), label and macro images (private/) and, until the hub
# reads S3_TILES_BUCKET, the Deep Zoom pyramids (tiles/). "tiles": the pyramids served
# through CloudFront. Neither is ever public: every read goes through an IAM role or the
# distribution's origin access control.

locals {
  buckets = {
    slides = {
      kms_key_arn     = aws_kms_key.bucket["slides"].arn
      noncurrent_days = var.noncurrent_version_expiry_days
    }
    tiles = {
      kms_key_arn = aws_kms_key.bucket["tiles"].arn
      # A re-tiled slide replaces thousands of objects; old versions are only a short undo.
      noncurrent_days = var.tiles_noncurrent_version_expiry_days
    }
  }
}

resource "aws_s3_bucket" "store" {
  for_each = local.buckets

  # The account id keeps the globally unique name free of collisions between accounts.
  bucket = "${local.name}-${each.key}-${local.account_id}"

  tags = { Name = "${local.name}-${each.key}" }
}

resource "aws_s3_bucket_public_access_block" "store" {
  for_each = aws_s3_bucket.store

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# ACLs off: access is decided by policies alone, and every object belongs to the account.
resource "aws_s3_bucket_ownership_controls" "store" {
  for_each = aws_s3_bucket.store

  bucket = each.value.id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "store" {
  for_each = aws_s3_bucket.store

  bucket = each.value.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.buckets[each.key].kms_key_arn
    }
    # One data key per bucket instead of a KMS call per object: tiling writes thousands.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_versioning" "store" {
  for_each = aws_s3_bucket.store

  bucket = each.value.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "store" {
  for_each = aws_s3_bucket.store

  bucket = each.value.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}

    # Parts of a source join that died mid-way are billed until aborted.
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
  }

  rule {
    id     = "expire-noncurrent-versions"
    status = "Enabled"
    filter {}

    noncurrent_version_expiration {
      noncurrent_days = local.buckets[each.key].noncurrent_days
    }

    expiration {
      expired_object_delete_marker = true
    }
  }

  # Chunks of an upload that was never completed; a completed one deletes its own.
  dynamic "rule" {
    for_each = each.key == "slides" ? [var.upload_expiry_days] : []

    content {
      id     = "expire-abandoned-upload-chunks"
      status = "Enabled"

      filter {
        prefix = "uploads/"
      }

      expiration {
        days = rule.value
      }
    }
  }

  # Lifecycle rules on versions need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.store]
}

resource "aws_s3_bucket_policy" "store" {
  for_each = aws_s3_bucket.store

  bucket = each.value.id
  policy = data.aws_iam_policy_document.bucket[each.key].json

  # A policy applied before the block could be judged public and refused.
  depends_on = [aws_s3_bucket_public_access_block.store]
}

data "aws_iam_policy_document" "bucket" {
  for_each = aws_s3_bucket.store

  source_policy_documents = each.key == "tiles" ? [data.aws_iam_policy_document.tiles_cdn_read.json] : []

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value.arn, "${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  statement {
    sid       = "DenyOtherEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${each.value.arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    # A request that names an encryption must name KMS; one that names none gets the default.
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }

    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }
}

# Only the tiles distribution, through its origin access control, and only tiles/.
data "aws_iam_policy_document" "tiles_cdn_read" {
  statement {
    sid       = "TilesDistributionReads"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.store["tiles"].arn}/tiles/*"]

    principals {
      type        = "Service"
      identifiers = ["cloudfront.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = [aws_cloudfront_distribution.tiles.arn]
    }
  }
}
