import type { ReactNode } from "react";
import "./globals.css";

export const metadata = { title: "Telepathology exchange" };
// Every page is rendered per request, so Next can put the proxy's script nonce (src/proxy.ts) on its scripts.
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
