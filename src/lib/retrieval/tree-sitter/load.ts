/**
 * Loads tree-sitter and its grammars inside a Worker. Workers may not compile WebAssembly from bytes
 * at run time, so every .wasm is imported as a module compiled at deploy time (wrangler bundles them)
 * and instantiated from that. Grammars go through emscripten's dynamic loader, which first reads the
 * `dylink.0` section from the bytes it is given and then instantiates them: it is handed a small byte
 * array holding just that section, carrying the compiled module, and a scoped `WebAssembly.instantiate`
 * hook instantiates the module it carries.
 */
import "./script-url";
import TreeSitter from "@vscode/tree-sitter-wasm";
import coreWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter.wasm";
import goWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter-go.wasm";
import javaWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter-java.wasm";
import javascriptWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter-javascript.wasm";
import pythonWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter-python.wasm";
import rustWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter-rust.wasm";
import tsxWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter-tsx.wasm";
import typescriptWasm from "@vscode/tree-sitter-wasm/wasm/tree-sitter-typescript.wasm";

export type Grammar = "typescript" | "tsx" | "javascript" | "python" | "go" | "rust" | "java";

const GRAMMARS: Record<Grammar, WebAssembly.Module> = {
  typescript: typescriptWasm,
  tsx: tsxWasm,
  javascript: javascriptWasm,
  python: pythonWasm,
  go: goWasm,
  rust: rustWasm,
  java: javaWasm,
};

export type TreeSitterApi = typeof TreeSitter;
export type TSParser = InstanceType<TreeSitterApi["Parser"]>;
export type TSLanguage = InstanceType<TreeSitterApi["Language"]>;

/** Bytes that stand for a compiled module: just the header and the dylink.0 section emscripten reads. */
class ModuleBytes extends Uint8Array {
  module: WebAssembly.Module | undefined;
}

function dylinkStub(module: WebAssembly.Module): ModuleBytes {
  const section = new Uint8Array(WebAssembly.Module.customSections(module, "dylink.0")[0] ?? new ArrayBuffer(0));
  const name = new TextEncoder().encode("dylink.0");
  const payload = [...leb128(name.length), ...name, ...section];
  const bytes = new ModuleBytes([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x00, ...leb128(payload.length), ...payload]);
  bytes.module = module;
  return bytes;
}

function leb128(n: number): number[] {
  const out: number[] = [];
  let v = n;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

let ready: Promise<TreeSitterApi> | undefined;
const languages = new Map<Grammar, Promise<TSLanguage>>();

/** tree-sitter, initialised once per isolate. */
export function treeSitter(): Promise<TreeSitterApi> {
  ready ??= (async () => {
    // The typings list only locateFile; emscripten also honours instantiateWasm, which Workers need.
    const options = {
      instantiateWasm(imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) {
        const instance = new WebAssembly.Instance(coreWasm, imports);
        receive(instance, coreWasm);
        return instance.exports;
      },
    };
    await TreeSitter.Parser.init(options as unknown as Parameters<TreeSitterApi["Parser"]["init"]>[0]);
    return TreeSitter;
  })();
  return ready;
}

/** A grammar, loaded once per isolate. */
export function language(grammar: Grammar): Promise<TSLanguage> {
  let l = languages.get(grammar);
  if (!l) {
    l = (async () => {
      const ts = await treeSitter();
      const original = WebAssembly.instantiate;
      const hook = async (source: unknown, imports?: WebAssembly.Imports): Promise<unknown> => {
        if (source instanceof ModuleBytes && source.module) {
          return { module: source.module, instance: new WebAssembly.Instance(source.module, imports) };
        }
        return (original as (s: unknown, i?: WebAssembly.Imports) => Promise<unknown>)(source, imports);
      };
      (WebAssembly as { instantiate: unknown }).instantiate = hook;
      try {
        return await ts.Language.load(dylinkStub(GRAMMARS[grammar]));
      } finally {
        (WebAssembly as { instantiate: unknown }).instantiate = original;
      }
    })();
    languages.set(grammar, l);
  }
  return l;
}
