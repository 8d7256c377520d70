/** The signed-in API key: kept in sessionStorage (gone when the tab closes), never in a URL. */
import { WinkyClient } from "../../src/client";

const KEY = "winky.apiKey";

export function storedKey(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function storeKey(apiKey: string): void {
  sessionStorage.setItem(KEY, apiKey);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

/** A client of the Worker that served this page. */
export function clientFor(apiKey: string): WinkyClient {
  return new WinkyClient({ server: location.origin, apiKey });
}
