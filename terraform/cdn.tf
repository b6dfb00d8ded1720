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

# The tile service behind the ALB (path /tiles/*): the token is checked at the edge by a
# CloudFront Function (edge/tile-token-check.js, tested in vitest) before the cache answers,
# and left out of the cache key (it is still forwarded, so the origin checks it too). Its key
# lives in a KeyValueStore that the operator fills once (README.md), never in the state.
resource "aws_cloudfront_key_value_store" "tiles" {
  name    = "${local.name}-tiles"
  comment = "tile_token_secret: the key of tile tokens (same value as the tile-token-secret secret)"
}

resource "aws_cloudfront_function" "tile_token_check" {
  name                         = "${local.name}-tile-token-check"
  runtime                      = "cloudfront-js-2.0"
  comment                      = "Checks tile tokens (HMAC-SHA256) before the cache answers"
  publish                      = true
  code                         = file("${path.module}/edge/tile-token-check.js")
  key_value_store_associations = [aws_cloudfront_key_value_store.tiles.arn]
}

# Tile URLs name the pyramid version: cache long, on the path alone (no token, cookie or header).
resource "aws_cloudfront_cache_policy" "tile_service" {
  name        = "${local.name}-tile-service"
  comment     = "Tiles by path; the token is not part of the key"
  min_ttl     = 0
  default_ttl = 86400
  max_ttl     = 31536000

  parameters_in_cache_key_and_forwarded_to_origin {
    enable_accept_encoding_gzip   = true
    enable_accept_encoding_brotli = true

    cookies_config {
      cookie_behavior = "none"
    }
    headers_config {
      header_behavior = "none"
    }
    query_strings_config {
      query_string_behavior = "none"
    }
  }
}

# The token goes on to the origin without being part of the cache key.
resource "aws_cloudfront_origin_request_policy" "tile_service" {
  name    = "${local.name}-tile-service"
  comment = "Forwards the tile token (t) to the tile service"

  cookies_config {
    cookie_behavior = "none"
  }
  headers_config {
    header_behavior = "none"
  }
  query_strings_config {
    query_string_behavior = "whitelist"
    query_strings {
      items = ["t"]
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

  # The hub's own name, so the ALB's certificate matches; the ALB routes /tiles/* to the tile service.
  origin {
    origin_id   = "tile-service"
    domain_name = regex("^https://([^/:]+)", var.hub_url)[0]

    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "https-only"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }

  ordered_cache_behavior {
    path_pattern             = "/tiles/*"
    target_origin_id         = "tile-service"
    viewer_protocol_policy   = "https-only"
    allowed_methods          = ["GET", "HEAD", "OPTIONS"]
    cached_methods           = ["GET", "HEAD"]
    compress                 = true
    cache_policy_id          = aws_cloudfront_cache_policy.tile_service.id
    origin_request_policy_id = aws_cloudfront_origin_request_policy.tile_service.id

    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.tile_token_check.arn
    }
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
