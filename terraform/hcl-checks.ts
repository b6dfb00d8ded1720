import { getExpressionAst, parse } from "@cdktf/hcl2json";

/**
 * Offline checks of the Terraform description: the files are parsed with HashiCorp's HCL
 * parser (@cdktf/hcl2json, compiled to WebAssembly) and their wiring and security settings are
 * checked without a terraform binary or a cloud account. Each check returns the problems it
 * found, one line each, so that a test can show them all at once.
 */

type Body = Record<string, unknown>;

/** One `root.a.b` traversal in an expression; for-expression iterators are already left out. */
export interface Reference {
  root: string;
  path: string[];
  text: string;
}

export interface Block {
  kind: "resource" | "data" | "ephemeral" | "module" | "variable" | "output";
  /** Resource, data or ephemeral type; empty for the others. */
  type: string;
  name: string;
  body: Body;
  file: string;
}

export interface Expression {
  /** The block the expression belongs to, as `kind type.name` or `locals`. */
  owner: string;
  where: string;
  refs: Reference[];
}

export interface Module {
  blocks: Block[];
  locals: Map<string, unknown>;
  expressions: Expression[];
}

/** Parses the files (name → HCL text); a syntax error rejects with the parser's message. */
export async function loadModule(files: Record<string, string>): Promise<Module> {
  const module: Module = { blocks: [], locals: new Map(), expressions: [] };
  for (const [file, text] of Object.entries(files)) {
    const json = await parse(file, text);
    for (const kind of ["resource", "data", "ephemeral"] as const) {
      for (const [type, named] of Object.entries(objectOr(json[kind]))) {
        for (const [name, bodies] of Object.entries(objectOr(named))) {
          for (const body of listOf(bodies)) module.blocks.push({ kind, type, name, body, file });
        }
      }
    }
    for (const kind of ["module", "variable", "output"] as const) {
      for (const [name, bodies] of Object.entries(objectOr(json[kind]))) {
        for (const body of listOf(bodies)) module.blocks.push({ kind, type: "", name, body, file });
      }
    }
    for (const locals of listOf(json.locals)) {
      for (const [name, value] of Object.entries(locals)) {
        module.locals.set(name, value);
        await collect(module, value, { owner: "locals", where: `${file}: local.${name}`, scope: new Set() });
      }
    }
  }
  for (const block of module.blocks) {
    const owner = ownerOf(block);
    for (const [key, value] of Object.entries(block.body)) {
      // A variable's type constraint (list(string)) holds type names, not references.
      if (block.kind === "variable" && key === "type") continue;
      await collect(module, { [key]: value }, { owner, where: `${block.file}: ${owner}`, scope: new Set() });
    }
  }
  return module;
}

function ownerOf(block: Block): string {
  return block.type ? `${block.kind} ${block.type}.${block.name}` : `${block.kind} ${block.name}`;
}

function objectOr(value: unknown): Body {
  return value && typeof value === "object" && !Array.isArray(value) ? (value as Body) : {};
}

function listOf(value: unknown): Body[] {
  return Array.isArray(value) ? value.filter((v): v is Body => Boolean(v) && typeof v === "object") : [];
}

interface Context {
  owner: string;
  where: string;
  /** Names bound by enclosing dynamic blocks (their iterators). */
  scope: Set<string>;
}

async function collect(module: Module, value: unknown, context: Context): Promise<void> {
  if (typeof value === "string") {
    if (!value.includes("${")) return;
    const refs = (await referencesIn(value)).filter((ref) => !context.scope.has(ref.root));
    module.expressions.push({ owner: context.owner, where: context.where, refs });
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) await collect(module, item, context);
    return;
  }
  if (!value || typeof value !== "object") return;
  for (const [key, inner] of Object.entries(value)) {
    if (key === "dynamic") {
      for (const [label, dynamics] of Object.entries(objectOr(inner))) {
        for (const dynamic of listOf(dynamics)) {
          const iterator = typeof dynamic.iterator === "string" ? dynamic.iterator : label;
          const { content, iterator: _named, ...rest } = dynamic;
          await collect(module, rest, { ...context, where: `${context.where} dynamic ${label}` });
          const scope = new Set([...context.scope, iterator]);
          await collect(module, content, { ...context, where: `${context.where} dynamic ${label}`, scope });
        }
      }
    } else if (key === "lifecycle") {
      // ignore_changes names the block's own attributes.
      for (const lifecycle of listOf(inner)) {
        const { ignore_changes: _ignored, ...rest } = lifecycle;
        await collect(module, rest, context);
      }
    } else {
      await collect(module, inner, context);
    }
  }
}

interface AstNode {
  type: string;
  meta?: { traversal?: { type: string; segment?: string }[]; fullAccessor?: string; keyVar?: string; valVar?: string };
  children?: AstNode[];
}

/**
 * The HCL source of a string hcl2json rendered: a quoted template, with quotes and
 * backslashes of the literal parts (outside `${…}`) escaped again.
 */
function asTemplate(text: string): string {
  let out = "";
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (depth === 0 && c === "$" && text[i + 1] === "{") {
      depth = 1;
      out += "${";
      i++;
      continue;
    }
    if (depth > 0) {
      if (c === "{") depth++;
      if (c === "}") depth--;
      out += c;
    } else {
      out += c === '"' || c === "\\" ? `\\${c}` : c === "\n" ? "\\n" : c;
    }
  }
  return `"${out}"`;
}

/** The traversals of one expression string as hcl2json renders it (`${…}` templates). */
export async function referencesIn(expression: string): Promise<Reference[]> {
  const ast = (await getExpressionAst("expression.tf", asTemplate(expression))) as AstNode | null;
  const out: Reference[] = [];
  const walk = (node: AstNode, bound: Set<string>) => {
    let inner = bound;
    if (node.type === "for") {
      inner = new Set(bound);
      for (const name of [node.meta?.keyVar, node.meta?.valVar]) if (name) inner.add(name);
    }
    if (node.type === "scopeTraversal") {
      const names = (node.meta?.traversal ?? []).filter((step) => step.segment !== undefined).map((step) => step.segment!);
      const [root, ...path] = names;
      if (root && !inner.has(root)) out.push({ root, path, text: node.meta?.fullAccessor ?? names.join(".") });
    }
    for (const child of node.children ?? []) walk(child, inner);
  };
  if (ast) walk(ast, new Set());
  return out;
}

const blocksOf = (module: Module, kind: Block["kind"], type?: string) =>
  module.blocks.filter((block) => block.kind === kind && (type === undefined || block.type === type));

const declared = (module: Module, kind: Block["kind"], type: string, name: string) =>
  module.blocks.some((block) => block.kind === kind && block.type === type && block.name === name);

const builtIns = new Set(["path", "terraform", "self"]);

/**
 * Every var.X, local.X, data.T.N, ephemeral.T.N, module.N and resource T.N an expression names
 * is declared; each.* and count.* appear only in blocks with for_each or count.
 */
export function checkReferences(module: Module): string[] {
  const problems: string[] = [];
  const owners = new Map(module.blocks.map((block) => [ownerOf(block), block]));
  for (const expression of module.expressions) {
    for (const ref of expression.refs) {
      const [name = "", member = ""] = ref.path;
      const at = `${expression.where}: ${ref.text}`;
      if (ref.root === "var") {
        if (!declared(module, "variable", "", name)) problems.push(`${at}: variable "${name}" is not declared`);
      } else if (ref.root === "local") {
        if (!module.locals.has(name)) problems.push(`${at}: local "${name}" is not declared`);
      } else if (ref.root === "data" || ref.root === "ephemeral") {
        if (!declared(module, ref.root, name, member)) problems.push(`${at}: ${ref.root} ${name}.${member} is not declared`);
      } else if (ref.root === "module") {
        if (!declared(module, "module", "", name)) problems.push(`${at}: module "${name}" is not declared`);
      } else if (ref.root === "each" || ref.root === "count") {
        const meta = ref.root === "each" ? "for_each" : "count";
        const block = owners.get(expression.owner);
        if (!block || !(meta in block.body)) problems.push(`${at}: ${ref.root}.* outside a block with ${meta}`);
      } else if (/^[a-z][a-z0-9]*_[a-z0-9_]+$/.test(ref.root)) {
        if (!declared(module, "resource", ref.root, name)) problems.push(`${at}: resource ${ref.root}.${name} is not declared`);
      } else if (!builtIns.has(ref.root)) {
        problems.push(`${at}: "${ref.root}" names nothing declared`);
      }
    }
  }
  return problems;
}

/** Every variable has a type, a description and a use outside variable blocks; every output a description. */
export function checkVariablesAndOutputs(module: Module): string[] {
  const problems: string[] = [];
  const used = new Set(
    module.expressions
      .filter((expression) => !expression.owner.startsWith("variable "))
      .flatMap((expression) => expression.refs.filter((ref) => ref.root === "var").map((ref) => ref.path[0])),
  );
  for (const variable of blocksOf(module, "variable")) {
    if (!hasText(variable.body.description)) problems.push(`variable "${variable.name}" has no description`);
    if (!("type" in variable.body)) problems.push(`variable "${variable.name}" has no type`);
    if (!used.has(variable.name)) problems.push(`variable "${variable.name}" is declared but never used`);
  }
  for (const output of blocksOf(module, "output")) {
    if (!hasText(output.body.description)) problems.push(`output "${output.name}" has no description`);
  }
  return problems;
}

function hasText(value: unknown): boolean {
  return typeof value === "string" && value.trim().length > 0;
}

const refsOf = async (value: unknown): Promise<Reference[]> => (typeof value === "string" && value.includes("${") ? referencesIn(value) : []);
const firstBlock = (value: unknown): Body => listOf(value)[0] ?? {};

/**
 * Whether `companion` configures every instance of bucket `bucket`: it names that bucket, and
 * when the bucket has count or for_each, it iterates over the same instances.
 */
async function covers(companion: Block, bucket: Block): Promise<boolean> {
  const refs = await refsOf(companion.body.bucket);
  const named = refs.some((ref) => ref.root === "aws_s3_bucket" && ref.path[0] === bucket.name);
  const eachValue = refs.some((ref) => ref.root === "each");
  const overBucket = companion.body.for_each === `\${aws_s3_bucket.${bucket.name}}`;
  if (overBucket) return eachValue || named;
  for (const meta of ["for_each", "count"] as const) {
    if (meta in bucket.body || meta in companion.body) return named && bucket.body[meta] !== undefined && companion.body[meta] === bucket.body[meta];
  }
  return named;
}

async function companionsOf(module: Module, type: string, bucket: Block): Promise<Block[]> {
  const out: Block[] = [];
  for (const companion of blocksOf(module, "resource", type)) if (await covers(companion, bucket)) out.push(companion);
  return out;
}

function statementsOf(document: Block): Body[] {
  const dynamic = listOf(objectOr(document.body.dynamic).statement).flatMap((d) => listOf(d.content));
  return [...listOf(document.body.statement), ...dynamic];
}

async function policyDocumentsOf(module: Module, value: unknown): Promise<Block[]> {
  const names = (await refsOf(value)).filter((ref) => ref.root === "data" && ref.path[0] === "aws_iam_policy_document").map((ref) => ref.path[1]);
  return blocksOf(module, "data", "aws_iam_policy_document").filter((document) => names.includes(document.name));
}

/**
 * Every aws_s3_bucket has a public access block with all four flags true, KMS default
 * encryption, versioning enabled, lifecycle rules that abort incomplete multipart uploads and
 * expire noncurrent versions, and a policy that denies requests without TLS.
 */
export async function checkBuckets(module: Module): Promise<string[]> {
  const problems: string[] = [];
  for (const bucket of blocksOf(module, "resource", "aws_s3_bucket")) {
    const name = `aws_s3_bucket.${bucket.name}`;
    const blocks = await companionsOf(module, "aws_s3_bucket_public_access_block", bucket);
    const flags = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];
    if (!blocks.some((block) => flags.every((flag) => block.body[flag] === true))) {
      problems.push(`${name}: no public access block with ${flags.join(", ")} all true`);
    }
    const encryption = await companionsOf(module, "aws_s3_bucket_server_side_encryption_configuration", bucket);
    const kms = (block: Block) =>
      listOf(block.body.rule).some((rule) => String(firstBlock(rule.apply_server_side_encryption_by_default).sse_algorithm).startsWith("aws:kms"));
    if (!encryption.some(kms)) problems.push(`${name}: no server-side encryption configuration with aws:kms`);
    const versioning = await companionsOf(module, "aws_s3_bucket_versioning", bucket);
    if (!versioning.some((block) => firstBlock(block.body.versioning_configuration).status === "Enabled")) {
      problems.push(`${name}: versioning is not enabled`);
    }
    const lifecycle = await companionsOf(module, "aws_s3_bucket_lifecycle_configuration", bucket);
    const rules = lifecycle.flatMap((block) => listOf(block.body.rule));
    if (!rules.some((rule) => "abort_incomplete_multipart_upload" in rule)) problems.push(`${name}: no lifecycle rule aborts incomplete multipart uploads`);
    if (!rules.some((rule) => "noncurrent_version_expiration" in rule)) problems.push(`${name}: no lifecycle rule expires noncurrent versions`);
    let tlsOnly = false;
    for (const policy of await companionsOf(module, "aws_s3_bucket_policy", bucket)) {
      for (const document of await policyDocumentsOf(module, policy.body.policy)) {
        tlsOnly ||= statementsOf(document).some(
          (statement) =>
            statement.effect === "Deny" &&
            listOf(statement.condition).some((condition) => condition.variable === "aws:SecureTransport" && JSON.stringify(condition.values) === '["false"]'),
        );
      }
    }
    if (!tlsOnly) problems.push(`${name}: no bucket policy denies requests without TLS (aws:SecureTransport false)`);
  }
  return problems;
}

const publicAcls = new Set(["public-read", "public-read-write", "authenticated-read"]);
const readActions = new Set(["s3:GetObject", "s3:Get*", "s3:*", "*"]);
const policyAttributes = new Set(["policy", "assume_role_policy"]);
const documentJson = /^\$\{data\.aws_iam_policy_document\.[\w-]+(\[[^\]]+\])?\.json\}$/;

/**
 * Nothing is public: no public canned ACL or grant to everyone, no policy statement that lets
 * anyone ("*") read objects without a condition, and every policy is an aws_iam_policy_document
 * (so that this check sees all of them).
 */
export function checkNoPublicAccess(module: Module): string[] {
  const problems: string[] = [];
  for (const block of blocksOf(module, "resource")) {
    const at = `${block.type}.${block.name}`;
    const visit = (value: unknown, key: string) => {
      if (typeof value === "string") {
        if (key === "acl" && publicAcls.has(value)) problems.push(`${at}: acl = "${value}"`);
        if (value.includes("acs.amazonaws.com/groups/global/")) problems.push(`${at}: grants to a global group (${value})`);
      } else if (Array.isArray(value)) {
        for (const item of value) visit(item, key);
      } else if (value && typeof value === "object") {
        for (const [inner, innerValue] of Object.entries(value)) visit(innerValue, inner);
      }
    };
    visit(block.body, "");
    for (const [key, value] of Object.entries(block.body)) {
      if (policyAttributes.has(key) && !(typeof value === "string" && documentJson.test(value))) {
        problems.push(`${at}: ${key} is not an aws_iam_policy_document's json`);
      }
    }
  }
  for (const document of blocksOf(module, "data", "aws_iam_policy_document")) {
    for (const statement of statementsOf(document)) {
      const allows = statement.effect === undefined || statement.effect !== "Deny";
      const anyone = listOf(statement.principals).some(
        (principal) => principal.type === "*" || (Array.isArray(principal.identifiers) && principal.identifiers.includes("*")),
      );
      const actions = statement.actions;
      const reads = typeof actions === "string" || (Array.isArray(actions) && actions.some((action) => readActions.has(String(action))));
      if (allows && anyone && reads && listOf(statement.condition).length === 0) {
        problems.push(`data.aws_iam_policy_document.${document.name}: lets anyone read objects without a condition`);
      }
    }
  }
  return problems;
}

/** Every RDS instance is private and encrypted. */
export function checkDatabase(module: Module): string[] {
  const problems: string[] = [];
  for (const db of blocksOf(module, "resource", "aws_db_instance")) {
    if (db.body.publicly_accessible !== false) problems.push(`aws_db_instance.${db.name}: publicly_accessible must be false`);
    if (db.body.storage_encrypted !== true) problems.push(`aws_db_instance.${db.name}: storage_encrypted must be true`);
  }
  return problems;
}

/**
 * Every CloudFront origin reads through an origin access control, and every cache behaviour
 * demands URLs or cookies signed by a trusted key group.
 */
export async function checkCdn(module: Module): Promise<string[]> {
  const problems: string[] = [];
  const namesDeclared = async (value: unknown, type: string) => {
    const refs = (await refsOf(value)).filter((ref) => ref.root === type);
    return refs.length > 0 && refs.every((ref) => declared(module, "resource", type, ref.path[0] ?? ""));
  };
  // A behaviour checks its viewers either with CloudFront's signed URLs/cookies (a trusted key
  // group) or with a declared CloudFront Function on viewer-request (the tile token check).
  const checksViewers = async (behaviour: Record<string, unknown>) => {
    const groups =
      behaviour.trusted_key_groups === undefined
        ? []
        : Array.isArray(behaviour.trusted_key_groups)
          ? behaviour.trusted_key_groups
          : [behaviour.trusted_key_groups];
    let trusted = groups.length > 0;
    for (const group of groups) trusted &&= await namesDeclared(group, "aws_cloudfront_key_group");
    if (trusted) return true;
    for (const association of listOf(behaviour.function_association)) {
      if (association.event_type === "viewer-request" && (await namesDeclared(association.function_arn, "aws_cloudfront_function"))) return true;
    }
    return false;
  };
  for (const distribution of blocksOf(module, "resource", "aws_cloudfront_distribution")) {
    const at = `aws_cloudfront_distribution.${distribution.name}`;
    const origins = listOf(distribution.body.origin);
    if (origins.length === 0) problems.push(`${at}: no origin`);
    const behaviours = [...listOf(distribution.body.default_cache_behavior), ...listOf(distribution.body.ordered_cache_behavior)];
    for (const origin of origins) {
      const controlled = await namesDeclared(origin.origin_access_control_id, "aws_cloudfront_origin_access_control");
      // A custom origin (the tile service behind the ALB, over HTTPS only) instead of a bucket.
      const custom = listOf(origin.custom_origin_config)[0];
      if (!controlled && !custom) problems.push(`${at}: origin ${String(origin.origin_id)} has no origin access control`);
      if ("s3_origin_config" in origin) problems.push(`${at}: origin ${String(origin.origin_id)} uses a legacy origin access identity`);
      if (!controlled && custom && custom.origin_protocol_policy !== "https-only")
        problems.push(`${at}: custom origin ${String(origin.origin_id)} is not reached over HTTPS only`);
    }
    if (behaviours.length === 0) problems.push(`${at}: no cache behaviour`);
    for (const behaviour of behaviours) {
      if (!(await checksViewers(behaviour)))
        problems.push(`${at}: behaviour for ${String(behaviour.path_pattern ?? "*")} has no trusted key group or viewer-request token check`);
    }
  }
  return problems;
}
