"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";

/** While slides are being tiled, re-renders the page every two seconds so progress moves on its own. */
export function AutoRefresh({ active }: { active: boolean }) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => router.refresh(), 2000);
    return () => clearInterval(timer);
  }, [active, router]);
  return null;
}
