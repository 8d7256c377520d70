/**
 * Credentials an org gives us (a repository's access token) are stored sealed: AES-256-GCM under the
 * service's sealing key (the WINKY_SEAL_KEY secret, 32 random bytes in base64), a fresh 96-bit IV per value,
 * the project id as associated data so a sealed value copied onto another project does not open.
 * Stored form: `v1.<iv base64url>.<ciphertext+tag base64url>`.
 */
import { AppError } from "../errors";

const VERSION = "v1";

const b64url = (b: Uint8Array): string =>
  btoa(String.fromCharCode(...b))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const fromB64url = (s: string): Uint8Array => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function sealingKey(secret: string | undefined): Promise<CryptoKey> {
  let raw: Uint8Array;
  try {
    raw = fromB64url(secret ?? "");
  } catch {
    raw = new Uint8Array();
  }
  if (raw.byteLength !== 32) throw new AppError(503, "sealing_unavailable", "storing credentials needs WINKY_SEAL_KEY (32 bytes, base64) to be configured");
  return crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export async function seal(secret: string | undefined, plaintext: string, context: string): Promise<string> {
  const key = await sealingKey(secret);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = new TextEncoder().encode(plaintext);
  const sealed = await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: new TextEncoder().encode(context) }, key, data);
  return `${VERSION}.${b64url(iv)}.${b64url(new Uint8Array(sealed))}`;
}

/** The sealed value's plaintext; throws when it was sealed under another key or for another context. */
export async function unseal(secret: string | undefined, stored: string, context: string): Promise<string> {
  const [version, iv, body] = stored.split(".");
  if (version !== VERSION || !iv || !body) throw new Error("not a sealed value");
  const key = await sealingKey(secret);
  const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromB64url(iv), additionalData: new TextEncoder().encode(context) }, key, fromB64url(body));
  return new TextDecoder().decode(plain);
}
