# Separate keys, so that CloudFront can be allowed to decrypt tiles without ever being able
# to decrypt slide sources or the private label and macro images.

resource "aws_kms_key" "bucket" {
  for_each = {
    slides = "slide sources, uploads and private images"
    tiles  = "Deep Zoom tiles served through CloudFront"
  }

  description             = "${local.name}: ${each.value}"
  enable_key_rotation     = true
  deletion_window_in_days = 30
}

resource "aws_kms_alias" "bucket" {
  for_each = aws_kms_key.bucket

  name          = "alias/${local.name}-${each.key}"
  target_key_id = each.value.key_id
}

# Its own resource: the policy names the distribution, which names the bucket, whose
# encryption names the key, a cycle if the policy sat on the key itself.
resource "aws_kms_key_policy" "tiles" {
  key_id = aws_kms_key.bucket["tiles"].id
  policy = data.aws_iam_policy_document.tiles_key.json
}

data "aws_iam_policy_document" "tiles_key" {
  statement {
    sid       = "AccountAdministersKeyThroughIam"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid       = "TilesDistributionDecrypts"
    actions   = ["kms:Decrypt"]
    resources = ["*"]

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
