data "aws_caller_identity" "current" {}

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  name       = var.name_prefix
  account_id = data.aws_caller_identity.current.account_id
  # Two zones: the ALB, NAT, ECS services and a multi-AZ database each get one per zone.
  azs = slice(data.aws_availability_zones.available.names, 0, 2)

  tags = merge(var.tags, {
    Project = "pathx"
    Stack   = var.name_prefix
  })
}
