# CloudFront in front of the tiles bucket. The bucket stays private (origin access control),
# and every request needs a URL or cookies signed with the private half of
# var.cloudfront_public_key_pem, which the hub holds (CLOUDFRONT_PRIVATE_KEY) and uses only
# after it has authorised the viewer for that slide.

resource "aws_cloudfront_origin_access_control" "tiles" {
  name                              = "${local.name}-tiles"
  description                       = "CloudFront reads the private tiles bucket"
  origin_access_control_origin_type = "s3"
  signing_behavior                  = "always"
  signing_protocol                  = "sigv4"
}

resource "aws_cloudfront_public_key" "tiles" {
  name        = "${local.name}-tiles"
  comment     = "Verifies the hub's signed tile URLs and cookies"
  encoded_key = var.cloudfront_public_key_pem
}

resource "aws_cloudfront_key_group" "tiles" {
  name    = "${local.name}-tiles"
  comment = "Signers trusted for ${local.name} tiles"
  items   = [aws_cloudfront_public_key.tiles.id]
}

# Tiles under one pyramid prefix never change (a re-tiled slide gets a new prefix), so the
# managed long-lived policy fits; it keys on the path only, not on the signature.
data "aws_cloudfront_cache_policy" "caching_optimized" {
  name = "Managed-CachingOptimized"
}

resource "aws_cloudfront_response_headers_policy" "tiles" {
  name    = "${local.name}-tiles"
  comment = "CORS for the hub's viewer, which draws tiles with WebGL and sends signed cookies"

  cors_config {
    access_control_allow_credentials = true
    origin_override                  = true
    access_control_max_age_sec       = 3600

    access_control_allow_headers {
      items = ["Accept"]
    }

    access_control_allow_methods {
      items = ["GET", "HEAD"]
    }

    access_control_allow_origins {
      items = [var.hub_url]
    }
  }

  security_headers_config {
    content_type_options {
      override = true
    }

    strict_transport_security {
      access_control_max_age_sec = 31536000
      include_subdomains         = true
      override                   = true
    }
  }
}

resource "aws_cloudfront_distribution" "tiles" {
  enabled         = true
  comment         = "${local.name} Deep Zoom tiles"
  is_ipv6_enabled = true
  http_version    = "http2and3"
  price_class     = var.cloudfront_price_class
  aliases         = var.tiles_domain_name == null ? [] : [var.tiles_domain_name]

  origin {
    origin_id                = "tiles-bucket"
    domain_name              = aws_s3_bucket.store["tiles"].bucket_regional_domain_name
    origin_access_control_id = aws_cloudfront_origin_access_control.tiles.id
  }

  default_cache_behavior {
    target_origin_id           = "tiles-bucket"
    viewer_protocol_policy     = "https-only"
    allowed_methods            = ["GET", "HEAD"]
    cached_methods             = ["GET", "HEAD"]
    compress                   = true # the .dzi descriptors; JPEG tiles are left as they are
    cache_policy_id            = data.aws_cloudfront_cache_policy.caching_optimized.id
    response_headers_policy_id = aws_cloudfront_response_headers_policy.tiles.id
    trusted_key_groups         = [aws_cloudfront_key_group.tiles.id]
  }

  restrictions {
    geo_restriction {
      restriction_type = "none"
    }
  }

  viewer_certificate {
    cloudfront_default_certificate = var.tiles_certificate_arn == null
    acm_certificate_arn            = var.tiles_certificate_arn
    ssl_support_method             = var.tiles_certificate_arn == null ? null : "sni-only"
    minimum_protocol_version       = var.tiles_certificate_arn == null ? "TLSv1" : "TLSv1.2_2021"
  }
}
