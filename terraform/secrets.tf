# Secrets the tasks receive as environment variables at start (ECS `secrets`). Terraform
# generates them as ephemeral values and writes them with write-only arguments, so they are
# never stored in the Terraform state; bump the matching *_version variable to replace one.
# The CloudFront signing key is made by the operator and only referenced here
# (var.cloudfront_private_key_secret_arn). The labs' pseudonym key never reaches AWS.

locals {
  generated_secrets = {
    auth-secret = {
      description = "Auth.js session secret of the hub (AUTH_SECRET)"
      length      = 48
      version     = var.auth_secret_version
    }
    # The key of tile tokens: the hub signs, the tile service and the CloudFront Function check.
    tile-token-secret = {
      description = "Key of the tile tokens (TILE_TOKEN_SECRET) of the hub and the tile service"
      length      = 48
      version     = var.tile_token_secret_version
    }
    db-password = {
      description = "Password of the PostgreSQL user ${var.db_username} (PGPASSWORD of the tasks)"
      length      = 40
      version     = var.db_password_version
    }
  }
}

resource "aws_secretsmanager_secret" "generated" {
  for_each = local.generated_secrets

  name        = "${local.name}/${each.key}"
  description = each.value.description
}

# Letters and digits only: the values also work where they must sit inside a URL.
ephemeral "aws_secretsmanager_random_password" "generated" {
  for_each = local.generated_secrets

  password_length     = each.value.length
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret_version" "generated" {
  for_each = local.generated_secrets

  secret_id                = aws_secretsmanager_secret.generated[each.key].id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.generated[each.key].random_password
  secret_string_wo_version = each.value.version
}

# RDS gets the password by reading the stored secret back, so the two always agree.
ephemeral "aws_secretsmanager_secret_version" "db_password" {
  secret_id = aws_secretsmanager_secret_version.generated["db-password"].secret_id
}
