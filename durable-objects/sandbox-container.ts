/**
 * SandboxContainer: the production sandbox, one container per run (Cloudflare Containers through
 * @cloudflare/sandbox). Internet access is off: a proposed change never reaches the network.
 */
import { Sandbox } from "@cloudflare/sandbox";

export class SandboxContainer extends Sandbox<Env> {
  override enableInternet = false;
  // A run's container is not reused: it sleeps soon after its last command and is destroyed by the caller.
  override sleepAfter = "2m";
}
