# Who may talk to whom: internet → ALB → hub; hub and workers → PostgreSQL, S3 and the AWS API
# endpoints, nothing else (plus the internet on 443 for the hub when hub_internet_egress is
# set, for labs' OpenID Connect providers). Rules are separate resources so that groups can
# name each other without a cycle; a group made by Terraform starts with no egress at all.

locals {
  hub_port   = 3000
  tiles_port = 3001
  db_port  = 5432
}

resource "aws_security_group" "this" {
  for_each = {
    alb       = "Public HTTPS entry to the hub"
    hub       = "Hub web app tasks"
    tiles     = "Tile service tasks"
    # The one-off migration task runs in the worker group: it needs the same database access.
    worker    = "Tiling worker and migration tasks"
    db        = "PostgreSQL, reachable from the hub and the workers only"
    endpoints = "AWS API interface endpoints used by the tasks"
  }

  name        = "${local.name}-${each.key}"
  description = each.value
  vpc_id      = aws_vpc.main.id
}

# 443 for the hub; 80 only to answer with a redirect to HTTPS.
resource "aws_vpc_security_group_ingress_rule" "alb" {
  for_each = { for pair in setproduct(var.alb_ingress_cidrs, [80, 443]) : "${pair[0]} ${pair[1]}" => pair }

  security_group_id = aws_security_group.this["alb"].id
  description       = "Browsers and lab nodes, port ${each.value[1]}"
  cidr_ipv4         = each.value[0]
  ip_protocol       = "tcp"
  from_port         = each.value[1]
  to_port           = each.value[1]
}

# Each flow between two groups is an egress rule on the source and an ingress rule on the
# destination; there is no other path between them.
locals {
  flows = {
    alb-to-hub          = { from = "alb", to = "hub", port = local.hub_port }
    alb-to-tiles        = { from = "alb", to = "tiles", port = local.tiles_port }
    tiles-to-db         = { from = "tiles", to = "db", port = local.db_port }
    tiles-to-endpoints  = { from = "tiles", to = "endpoints", port = 443 }
    hub-to-db           = { from = "hub", to = "db", port = local.db_port }
    worker-to-db        = { from = "worker", to = "db", port = local.db_port }
    hub-to-endpoints    = { from = "hub", to = "endpoints", port = 443 }
    worker-to-endpoints = { from = "worker", to = "endpoints", port = 443 }
  }
}

resource "aws_vpc_security_group_egress_rule" "flow" {
  for_each = local.flows

  security_group_id            = aws_security_group.this[each.value.from].id
  description                  = "To ${each.value.to}"
  referenced_security_group_id = aws_security_group.this[each.value.to].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_ingress_rule" "flow" {
  for_each = local.flows

  security_group_id            = aws_security_group.this[each.value.to].id
  description                  = "From ${each.value.from}"
  referenced_security_group_id = aws_security_group.this[each.value.from].id
  ip_protocol                  = "tcp"
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "tasks_to_s3" {
  for_each = toset(["hub", "worker", "tiles"])

  security_group_id = aws_security_group.this[each.key].id
  description       = "S3 through the gateway endpoint"
  prefix_list_id    = aws_vpc_endpoint.s3.prefix_list_id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "hub_to_internet" {
  count = var.hub_internet_egress ? 1 : 0

  security_group_id = aws_security_group.this["hub"].id
  description       = "HTTPS to labs' OpenID Connect providers (through NAT)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
