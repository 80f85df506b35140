import { afterEach } from "vitest";

// Component tests run in jsdom; pure-logic tests run in node (faster start) and skip this.
if (typeof window !== "undefined") {
  const { cleanup } = await import("@testing-library/react");
  afterEach(() => {
    cleanup();
    localStorage.clear();
  });
}
