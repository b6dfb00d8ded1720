import { type Db, schema } from "@pathx/db";
import { hashPassword } from "@pathx/api";

/** The demo labs and accounts `npm start` seeds on first start; all share one password. */
export const demoPassword = "pathx-demo-2026";
export const demoLabs = [
  { slug: "north", name: "North Pathology Lab" },
  { slug: "south", name: "South University Hospital" },
  { slug: "east", name: "East Regional Lab" },
] as const;

type Role = "pathologist" | "lab_admin";
export interface DemoAccount {
  email: string;
  name: string;
  /** The lab's slug, or undefined for the hub administrator. */
  lab?: string;
  role: Role | "hub_admin";
  subspecialties: string[];
}

const capitalised = (s: string) => `${s[0]!.toUpperCase()}${s.slice(1)}`;

/** Every account the seed creates, in the order it prints them. */
export const demoAccounts: DemoAccount[] = [
  ...demoLabs.flatMap((lab): DemoAccount[] => [
    // Subspecialty pools for second opinions: South answers dermatopathology and soft tissue.
    {
      email: `pathologist@${lab.slug}.example`,
      name: `Dr ${capitalised(lab.slug)} Pathologist`,
      lab: lab.slug,
      role: "pathologist",
      subspecialties: lab.slug === "south" ? ["dermatopathology", "soft tissue"] : ["soft tissue"],
    },
    { email: `admin@${lab.slug}.example`, name: `${lab.name} admin`, lab: lab.slug, role: "lab_admin", subspecialties: [] },
  ]),
  { email: "hub-admin@pathx.example", name: "Hub administrator", role: "hub_admin", subspecialties: [] },
];

/** Inserts the demo labs and accounts; returns the lab rows. */
export async function seedDemoUsers(db: Db) {
  const passwordHash = await hashPassword(demoPassword);
  const labRows = await db
    .insert(schema.labs)
    .values([...demoLabs])
    .returning();
  for (const account of demoAccounts) {
    const [user] = await db
      .insert(schema.users)
      .values({ email: account.email, name: account.name, passwordHash, isHubAdmin: account.role === "hub_admin" })
      .returning();
    const lab = labRows.find((l) => l.slug === account.lab);
    if (lab && account.role !== "hub_admin")
      await db.insert(schema.memberships).values({ userId: user!.id, labId: lab.id, role: account.role, subspecialties: account.subspecialties });
  }
  return labRows;
}

const roleNames: Record<DemoAccount["role"], string> = { pathologist: "pathologist", lab_admin: "lab admin", hub_admin: "hub administrator" };

/** The sign-in lines `npm start` prints: every demo account with its lab and role. */
export function formatDemoAccounts(): string {
  const width = Math.max(...demoAccounts.map((a) => a.email.length)) + 2;
  const lines = demoAccounts.map((a) => {
    const lab = demoLabs.find((l) => l.slug === a.lab)?.name;
    return `  ${a.email.padEnd(width)}${roleNames[a.role]}${lab ? `, ${lab}` : ", no lab"}`;
  });
  return [`Demo sign-ins (password: ${demoPassword}):`, ...lines].join("\n");
}
