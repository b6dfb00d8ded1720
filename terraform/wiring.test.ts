import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type Module, checkBuckets, checkCdn, checkDatabase, checkNoPublicAccess, checkReferences, checkVariablesAndOutputs, loadModule } from "./hcl-checks";

// The real description, parsed once: every check must find nothing in it.
const directory = import.meta.dirname;
const files = Object.fromEntries(
  readdirSync(directory)
    .filter((name) => name.endsWith(".tf"))
    .map((name) => [name, readFileSync(join(directory, name), "utf8")]),
);
let parsed: Promise<Module> | undefined;
const stack = () => (parsed ??= loadModule(files));

describe("terraform/ as written", () => {
  it("parses, and has the files of each concern", async () => {
    for (const name of [
      "versions.tf",
      "variables.tf",
      "outputs.tf",
      "network.tf",
      "database.tf",
      "storage.tf",
      "cdn.tf",
      "ecs.tf",
      "autoscaling.tf",
      "secrets.tf",
      "logs.tf",
      "iam.tf",
    ]) {
      expect(Object.keys(files)).toContain(name);
    }
    const module = await stack();
    expect(module.blocks.filter((block) => block.kind === "resource").length).toBeGreaterThan(50);
    expect(module.expressions.flatMap((expression) => expression.refs).length).toBeGreaterThan(300);
  });

  it("names only what it declares", async () => {
    expect(checkReferences(await stack())).toEqual([]);
  });

  it("describes, types and uses every variable, and describes every output", async () => {
    expect(checkVariablesAndOutputs(await stack())).toEqual([]);
  });

  it("locks down and encrypts every bucket", async () => {
    const module = await stack();
    expect(module.blocks.filter((block) => block.type === "aws_s3_bucket")).toHaveLength(1); // one for_each over slides and tiles
    expect(await checkBuckets(module)).toEqual([]);
  });

  it("makes nothing public", async () => {
    expect(checkNoPublicAccess(await stack())).toEqual([]);
  });

  it("keeps the database private and encrypted", async () => {
    const module = await stack();
    expect(module.blocks.filter((block) => block.type === "aws_db_instance")).toHaveLength(1);
    expect(checkDatabase(module)).toEqual([]);
  });

  it("serves tiles through an origin access control or HTTPS origin, and signed access or an edge token check only", async () => {
    const module = await stack();
    expect(module.blocks.filter((block) => block.type === "aws_cloudfront_distribution")).toHaveLength(1);
    expect(await checkCdn(module)).toEqual([]);
  });

  it("scales the workers on the queue metric the README documents", async () => {
    const module = await stack();
    const alarms = module.blocks.filter((block) => block.type === "aws_cloudwatch_metric_alarm");
    expect(alarms.map((alarm) => alarm.body.metric_name)).toContain("TileQueueDepth");
    expect(String(module.locals.get("metric_namespace"))).toBe("Pathx");
    const readme = readFileSync(join(directory, "README.md"), "utf8");
    for (const word of ["TileQueueDepth", "TileJobsActive", "Pathx", "PATHX_STACK"]) expect(readme).toContain(word);
  });

  it("documents every variable and output in README.md", async () => {
    const module = await stack();
    const readme = readFileSync(join(directory, "README.md"), "utf8");
    const documented = module.blocks
      .filter((block) => block.kind === "variable" || block.kind === "output")
      .filter((block) => !readme.includes(`\`${block.name}\``));
    expect(documented.map((block) => `${block.kind} ${block.name}`)).toEqual([]);
  });
});

// Each check must fail on a file that breaks it; the good bucket is the baseline the bucket
// cases break one setting of.
const goodBucket = `
resource "aws_s3_bucket" "b" {
  bucket = "b"
}
resource "aws_s3_bucket_public_access_block" "b" {
  bucket                  = aws_s3_bucket.b.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
resource "aws_s3_bucket_server_side_encryption_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
  }
}
resource "aws_s3_bucket_versioning" "b" {
  bucket = aws_s3_bucket.b.id
  versioning_configuration {
    status = "Enabled"
  }
}
resource "aws_s3_bucket_lifecycle_configuration" "b" {
  bucket = aws_s3_bucket.b.id
  rule {
    id     = "all"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 2
    }
    noncurrent_version_expiration {
      noncurrent_days = 30
    }
  }
}
resource "aws_s3_bucket_policy" "b" {
  bucket = aws_s3_bucket.b.id
  policy = data.aws_iam_policy_document.b.json
}
data "aws_iam_policy_document" "b" {
  statement {
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = ["\${aws_s3_bucket.b.arn}/*"]
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
}
`;

const load = (text: string) => loadModule({ "case.tf": text });

describe("each check fails on a broken file", () => {
  it("rejects HCL that does not parse", async () => {
    await expect(load(`resource "aws_s3_bucket" "b" { bucket = "b"`)).rejects.toThrow();
  });

  it("the good bucket passes every check", async () => {
    const module = await load(goodBucket);
    expect([...(await checkBuckets(module)), ...checkNoPublicAccess(module), ...checkReferences(module)]).toEqual([]);
  });

  it("references: an undeclared variable, local, resource, data source, and each without for_each", async () => {
    const module = await load(`
resource "aws_s3_bucket" "b" {
  bucket = "\${var.missing}-\${local.missing}-\${aws_kms_key.missing.arn}-\${each.key}"
  policy = data.aws_iam_policy_document.missing.json
}
`);
    const problems = checkReferences(module);
    expect(problems).toEqual([
      expect.stringContaining('variable "missing" is not declared'),
      expect.stringContaining('local "missing" is not declared'),
      expect.stringContaining("resource aws_kms_key.missing is not declared"),
      expect.stringContaining("each.* outside a block with for_each"),
      expect.stringContaining("data aws_iam_policy_document.missing is not declared"),
    ]);
  });

  it("references: a name used in a for expression's body is checked too", async () => {
    const module = await load(`
locals {
  ids = [for s in aws_subnet.private : s.id if var.gone]
}
resource "aws_subnet" "private" {
  vpc_id     = "v"
  cidr_block = "10.0.0.0/24"
}
`);
    expect(checkReferences(module)).toEqual([expect.stringContaining('variable "gone" is not declared')]);
  });

  it("references: dynamic block iterators are in scope only inside their content", async () => {
    const module = await load(`
data "aws_iam_policy_document" "d" {
  dynamic "statement" {
    for_each = ["s3:GetObject"]
    content {
      actions = [statement.value]
    }
  }
  source_policy_documents = [statement.value]
}
`);
    expect(checkReferences(module)).toEqual([expect.stringContaining('"statement" names nothing declared')]);
  });

  it("variables and outputs: undescribed, untyped, unused", async () => {
    const module = await load(`
variable "quiet" {
  type = string
}
variable "untyped" {
  description = "has no type"
}
variable "idle" {
  description = "never used"
  type        = number
  validation {
    condition     = var.idle > 0
    error_message = "a use inside its own validation does not count"
  }
}
output "o" {
  value = "\${var.quiet}\${var.untyped}"
}
`);
    expect(checkVariablesAndOutputs(module)).toEqual([
      'variable "idle" is declared but never used',
      'variable "quiet" has no description',
      'variable "untyped" has no type',
      'output "o" has no description',
    ]);
  });

  it("buckets: each missing or weakened setting is reported", async () => {
    const cases: [string, string, string][] = [
      ["restrict_public_buckets = true", "restrict_public_buckets = false", "no public access block"],
      ['sse_algorithm = "aws:kms"', 'sse_algorithm = "AES256"', "no server-side encryption configuration with aws:kms"],
      ['status = "Enabled"\n  }\n}', 'status = "Suspended"\n  }\n}', "versioning is not enabled"],
      ["abort_incomplete_multipart_upload {\n      days_after_initiation = 2\n    }", "", "no lifecycle rule aborts incomplete multipart uploads"],
      ["noncurrent_version_expiration {\n      noncurrent_days = 30\n    }", "", "no lifecycle rule expires noncurrent versions"],
      ['values   = ["false"]', 'values   = ["true"]', "no bucket policy denies requests without TLS"],
    ];
    for (const [good, bad, message] of cases) {
      expect(goodBucket).toContain(good);
      const problems = await checkBuckets(await load(goodBucket.replace(good, bad)));
      expect(problems, message).toEqual([expect.stringMatching(new RegExp(`^aws_s3_bucket\\.b: ${message}`))]);
    }
  });

  it("buckets: a companion that covers only one instance of a for_each bucket does not count", async () => {
    const text = goodBucket
      .replace('resource "aws_s3_bucket" "b" {\n  bucket = "b"', 'resource "aws_s3_bucket" "b" {\n  for_each = toset(["x", "y"])\n  bucket   = each.key')
      .replaceAll("aws_s3_bucket.b.id", 'aws_s3_bucket.b["x"].id')
      .replace("aws_s3_bucket.b.arn", 'aws_s3_bucket.b["x"].arn');
    const problems = await checkBuckets(await load(text));
    expect(problems).toHaveLength(6);
  });

  it("public access: a public-read ACL, a grant to everyone, an open read policy, an inline policy", async () => {
    const module = await load(`
resource "aws_s3_bucket_acl" "a" {
  bucket = "b"
  acl    = "public-read"
}
resource "aws_s3_bucket_acl" "g" {
  bucket = "b"
  access_control_policy {
    grant {
      permission = "READ"
      grantee {
        type = "Group"
        uri  = "http://acs.amazonaws.com/groups/global/AllUsers"
      }
    }
    owner {
      id = "o"
    }
  }
}
data "aws_iam_policy_document" "open" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
resource "aws_s3_bucket_policy" "inline" {
  bucket = "b"
  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = "*", Action = "s3:GetObject" }] })
}
`);
    expect(checkNoPublicAccess(module)).toEqual([
      'aws_s3_bucket_acl.a: acl = "public-read"',
      "aws_s3_bucket_acl.g: grants to a global group (http://acs.amazonaws.com/groups/global/AllUsers)",
      "aws_s3_bucket_policy.inline: policy is not an aws_iam_policy_document's json",
      "data.aws_iam_policy_document.open: lets anyone read objects without a condition",
    ]);
  });

  it("public access: a read by anyone with a condition (the CloudFront pattern) is allowed", async () => {
    const module = await load(`
data "aws_iam_policy_document" "cdn" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::b/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringEquals"
      variable = "AWS:SourceArn"
      values   = ["arn:aws:cloudfront::1:distribution/X"]
    }
  }
}
`);
    expect(checkNoPublicAccess(module)).toEqual([]);
  });

  it("database: public or unencrypted", async () => {
    const module = await load(`
resource "aws_db_instance" "open" {
  publicly_accessible = true
  storage_encrypted   = true
}
resource "aws_db_instance" "plain" {
  publicly_accessible = false
}
`);
    expect(checkDatabase(module)).toEqual(["aws_db_instance.open: publicly_accessible must be false", "aws_db_instance.plain: storage_encrypted must be true"]);
  });

  it("cdn: no origin access control, a legacy identity, no trusted key group", async () => {
    const module = await load(`
resource "aws_cloudfront_key_group" "k" {
  name  = "k"
  items = ["x"]
}
resource "aws_cloudfront_distribution" "d" {
  enabled = true
  origin {
    origin_id   = "s3"
    domain_name = "b.s3.amazonaws.com"
    s3_origin_config {
      origin_access_identity = "x"
    }
  }
  default_cache_behavior {
    target_origin_id       = "s3"
    viewer_protocol_policy = "https-only"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
  }
  ordered_cache_behavior {
    path_pattern           = "/x/*"
    target_origin_id       = "s3"
    viewer_protocol_policy = "https-only"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    trusted_key_groups     = [aws_cloudfront_key_group.missing.id]
  }
}
`);
    expect(await checkCdn(module)).toEqual([
      "aws_cloudfront_distribution.d: origin s3 has no origin access control",
      "aws_cloudfront_distribution.d: origin s3 uses a legacy origin access identity",
      "aws_cloudfront_distribution.d: behaviour for * has no trusted key group or viewer-request token check",
      "aws_cloudfront_distribution.d: behaviour for /x/* has no trusted key group or viewer-request token check",
    ]);
  });

  it("cdn: a custom origin over plain HTTP, a token check that is not a declared function", async () => {
    const module = await load(`
resource "aws_cloudfront_function" "f" {
  name    = "f"
  runtime = "cloudfront-js-2.0"
  code    = "x"
}
resource "aws_cloudfront_distribution" "d" {
  enabled = true
  origin {
    origin_id   = "app"
    domain_name = "hub.example"
    custom_origin_config {
      http_port              = 80
      https_port             = 443
      origin_protocol_policy = "match-viewer"
      origin_ssl_protocols   = ["TLSv1.2"]
    }
  }
  default_cache_behavior {
    target_origin_id       = "app"
    viewer_protocol_policy = "https-only"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.missing.arn
    }
  }
  ordered_cache_behavior {
    path_pattern           = "/tiles/*"
    target_origin_id       = "app"
    viewer_protocol_policy = "https-only"
    allowed_methods        = ["GET", "HEAD"]
    cached_methods         = ["GET", "HEAD"]
    function_association {
      event_type   = "viewer-request"
      function_arn = aws_cloudfront_function.f.arn
    }
  }
}
`);
    expect(await checkCdn(module)).toEqual([
      "aws_cloudfront_distribution.d: custom origin app is not reached over HTTPS only",
      "aws_cloudfront_distribution.d: behaviour for * has no trusted key group or viewer-request token check",
    ]);
  });
});
