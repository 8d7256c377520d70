/** The CLI's help text (docs/cli.md says the same at length). */
import { EXIT_CODES_HELP } from "./exit-codes";

export const USAGE = `usage: winky <command> [arguments] [flags]

commands:
  login                                   check a server URL and key, store them in ~/.config/winky/config.json (0600)
  projects [list]                         list the projects
  projects create <name>                  create a project
  projects delete <id>                    delete a project
  ingest <dir> [--project ID | --name N]  upload a directory (honouring .gitignore) and follow its indexing
         [--multipart-threshold BYTES]    archives past this go in parts (default 64 MiB)
  status [jobId]                          a job's progress, or every project with its files, tokens and last job
  assemble "<prompt>" --project ID        the assembled context to stdout (pieces to stderr)
           [--budget N] [--out FILE]
  ask "<prompt>" --project ID             ask for a change in a new session, streaming its events
      [--apply] [--yes] [--skip-verify]   --apply: git apply --3way the diff after a y/N (--yes: no question)
  watch <sessionId> [--after N]           stream a session's events (reconnects without losing any)
        [--until-idle]                    stop when no run is going / the run ends
  keys [list]                             list the org's keys
  keys create <name> [--scopes a,b]       mint a key (scopes: read, ingest, generate, sandbox, admin)
       [--projects p,q] [--expires 30d]   limited to projects; expiring after 30d/12h/90m or at an ISO time
  keys revoke <id>                        revoke a key

flags for every command:
  --server URL   the API (default: config file, then $WINKY_SERVER, then http://127.0.0.1:8787)
  --key KEY      the API key (default: config file, then $WINKY_API_KEY, then WINKY_API_KEY in ./.dev.vars)
                 (flags win over the environment, which wins over the config file)
  --json         machine-readable output on stdout (one JSON document; ask/watch: one JSON line per event)
  --help         this text

${EXIT_CODES_HELP}`;
