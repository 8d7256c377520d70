/** The Winky console: sign in, then the page the hash names. Served by the API Worker as static assets. */
import { render } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { clientFor, forgetKey, storedKey } from "./lib/auth";
import { href, parseRoute, type Route } from "./lib/route";
import { AdminPage } from "./pages/admin";
import { ChunkPage } from "./pages/chunk";
import { GenerationPage } from "./pages/generation";
import { GenerationsPage } from "./pages/generations";
import { Inspect } from "./pages/inspect";
import { LimitsPage } from "./pages/limits";
import { MetricsPage } from "./pages/metrics";
import { ProjectPage } from "./pages/project";
import { Projects } from "./pages/projects";
import { SessionPage } from "./pages/session";
import { SignIn } from "./pages/sign-in";
import { UsagePage } from "./pages/usage";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener("hashchange", onChange);
    return () => removeEventListener("hashchange", onChange);
  }, []);
  return route;
}

function App() {
  const [apiKey, setApiKey] = useState(storedKey);
  const route = useRoute();
  const client = useMemo(() => (apiKey ? clientFor(apiKey) : undefined), [apiKey]);
  if (!client) return <SignIn onSignedIn={setApiKey} />;
  const signOut = () => {
    forgetKey();
    setApiKey(undefined);
  };
  const top = route.page === "usage" || route.page === "metrics" || route.page === "admin" ? route.page : route.page === "limits" ? "admin" : "projects";
  return (
    <>
      <header class="top">
        <a class="brand" href={href.projects()}>
          Winky Context
        </a>
        <nav aria-label="main">
          <a href={href.projects()} aria-current={top === "projects" ? "page" : undefined}>
            Projects
          </a>
          <a href={href.usage()} aria-current={top === "usage" ? "page" : undefined}>
            Usage
          </a>
          <a href={href.metrics()} aria-current={top === "metrics" ? "page" : undefined}>
            Metrics
          </a>
          <a href={href.admin()} aria-current={top === "admin" ? "page" : undefined}>
            Admin
          </a>
          <a href="/docs">API</a>
        </nav>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <Page route={route} client={client} />
    </>
  );
}

function Page({ route, client }: { route: Route; client: ReturnType<typeof clientFor> }) {
  switch (route.page) {
    case "projects":
      return <Projects client={client} />;
    case "project":
      return <ProjectPage client={client} projectId={route.projectId} />;
    case "inspect":
      return <Inspect client={client} projectId={route.projectId} />;
    case "chunk":
      return <ChunkPage client={client} projectId={route.projectId} chunkId={route.chunkId} lines={route.lines} />;
    case "session":
      return <SessionPage client={client} projectId={route.projectId} />;
    case "generations":
      return <GenerationsPage client={client} projectId={route.projectId} />;
    case "generation":
      return <GenerationPage client={client} projectId={route.projectId} generationId={route.generationId} />;
    case "usage":
      return <UsagePage client={client} />;
    case "metrics":
      return <MetricsPage client={client} />;
    case "admin":
      return <AdminPage client={client} />;
    case "limits":
      return <LimitsPage client={client} />;
  }
}

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App />, root);
}
