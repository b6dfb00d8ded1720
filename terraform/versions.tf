terraform {
  # 1.11: write-only arguments, so generated passwords never reach the state.
  required_version = ">= 1.11.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 6.0"
    }
  }

  # Partial configuration: the state bucket, key and region come from `terraform init
  # -backend-config=…` (see README.md), so one description serves every environment.
  backend "s3" {}
}

provider "aws" {
  region = var.aws_region

  default_tags {
    tags = local.tags
  }
}
