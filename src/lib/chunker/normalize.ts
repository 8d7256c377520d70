/** Turns uploaded bytes into normalised text (no BOM, LF line ends), or says why it cannot. */

export type Decoded = { kind: "text"; text: string } | { kind: "binary" } | { kind: "invalid-utf8" };

// Extensions that are binary whatever their bytes look like; checked before sniffing.
const BINARY_EXTENSIONS = new Set(
  (
    "png jpg jpeg gif bmp ico webp avif tif tiff psd heic pdf zip gz tgz bz2 xz zst 7z rar tar jar war ear class " +
    "so dll dylib exe o a lib obj bin dat wasm woff woff2 ttf otf eot mp3 mp4 m4a wav ogg flac webm mov avi mkv " +
    "sqlite db pyc pyo whl node blend fbx glb gltf parquet avro onnx pt pth safetensors npz npy pkl"
  ).split(" "),
);

const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// Binary sniffing looks at the first 8 KiB, as git does.
const SNIFF_BYTES = 8000;

export function isBinaryPath(path: string): boolean {
  const dot = path.lastIndexOf(".");
  return dot > path.lastIndexOf("/") && BINARY_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

export function decodeFile(path: string, bytes: Uint8Array): Decoded {
  if (isBinaryPath(path)) return { kind: "binary" };
  const sniff = bytes.subarray(0, SNIFF_BYTES);
  if (sniff.includes(0)) return { kind: "binary" };
  let text: string;
  try {
    text = STRICT_UTF8.decode(bytes);
  } catch {
    return { kind: "invalid-utf8" };
  }
  return { kind: "text", text: normalizeText(text) };
}

/** Strips a leading BOM and turns CRLF (and lone CR) line ends into LF. */
export function normalizeText(text: string): string {
  const noBom = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  return noBom.includes("\r") ? noBom.replace(/\r\n?/g, "\n") : noBom;
}
