# Public HTTPS entry: the ALB terminates TLS with var.certificate_arn and forwards to the hub
# tasks; plain HTTP only redirects.

resource "aws_lb" "hub" {
  name                       = "${local.name}-hub"
  load_balancer_type         = "application"
  internal                   = false
  subnets                    = aws_subnet.public[*].id
  security_groups            = [aws_security_group.this["alb"].id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.alb_deletion_protection
  # Lab nodes PUT chunks of a slide per request; give a slow link time for one.
  idle_timeout = 300
}

resource "aws_lb_target_group" "hub" {
  name        = "${local.name}-hub"
  port        = local.hub_port
  protocol    = "HTTP"
  target_type = "ip" # Fargate tasks register by their ENI address
  vpc_id      = aws_vpc.main.id
  # Let in-flight requests (chunk uploads) finish before a task is stopped.
  deregistration_delay = 60

  health_check {
    path                = var.hub_health_check_path
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.hub.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.hub.arn
  }
}

resource "aws_lb_listener" "http" {
  load_balancer_arn = aws_lb.hub.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = "redirect"

    redirect {
      port        = "443"
      protocol    = "HTTPS"
      status_code = "HTTP_301"
    }
  }
}

# The tile service: /tiles/* on the same load balancer (CloudFront's origin for tiles).
resource "aws_lb_target_group" "tiles" {
  name                 = "${local.name}-tiles"
  port                 = local.tiles_port
  protocol             = "HTTP"
  target_type          = "ip"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 15

  health_check {
    path                = "/healthz"
    matcher             = "200"
    interval            = 15
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }
}

resource "aws_lb_listener_rule" "tiles" {
  listener_arn = aws_lb_listener.https.arn
  priority     = 10

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.tiles.arn
  }

  condition {
    path_pattern {
      values = ["/tiles/*"]
    }
  }
}
