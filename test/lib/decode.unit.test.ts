import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBytes, decodeLegacy, detectLegacyEncoding, LEGACY_ENCODINGS, type LegacyEncoding } from "../../src/lib/chunker";

const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? [...new TextEncoder().encode(p)] : p)));

/** Encodes with the inverse of the decoding table (every character must exist in the encoding). */
function encode(text: string, encoding: LegacyEncoding): Uint8Array {
  const table = decodeLegacy(
    Uint8Array.from({ length: 256 }, (_, i) => i),
    encoding,
  );
  return Uint8Array.from(
    [...text].map((ch) => {
      const b = table.indexOf(ch);
      if (b < 0) throw new Error(`${ch} is not in ${encoding}`);
      return b;
    }),
  );
}

describe("decodeBytes", () => {
  it("decodes a Latin-1 Python file as windows-1252", () => {
    const file = bytes("# -*- coding: latin-1 -*-\nname = 'caf", [0xe9], "'\nprint(name)\n");
    expect(decodeBytes("tests/test_latin1.py", file)).toEqual({
      kind: "text",
      text: "# -*- coding: latin-1 -*-\nname = 'café'\nprint(name)\n",
      encoding: "windows-1252",
    });
  });

  it("decodes Russian in cp1251 exactly", () => {
    const privetMir = [0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x2c, 0x20, 0xec, 0xe8, 0xf0];
    expect(decodeBytes("cp_1251_coded.py", Uint8Array.from(privetMir))).toEqual({ kind: "text", text: "Привет, мир", encoding: "windows-1251" });
    expect(decodeBytes("cp_1251_coded.py", bytes("# coding: cp1251\ns = '", privetMir, "'\r\n"))).toEqual({
      kind: "text",
      text: "# coding: cp1251\ns = 'Привет, мир'\n",
      encoding: "windows-1251",
    });
  });

  it("decodes Russian in koi8-r exactly", () => {
    const privetMir = [0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4, 0x2c, 0x20, 0xcd, 0xc9, 0xd2];
    expect(decodeBytes("wrongenc.inc", Uint8Array.from(privetMir))).toEqual({ kind: "text", text: "Привет, мир", encoding: "koi8-r" });
  });

  it("decodes UTF-16 with a byte order mark, either way round, though it contains NULs", () => {
    const le = Uint8Array.from([0xff, 0xfe, 0x68, 0x00, 0xe9, 0x00, 0x0d, 0x00, 0x0a, 0x00, 0x1f, 0x04, 0x3e, 0xd8, 0x00, 0xdd]);
    expect(decodeBytes("notes.txt", le)).toEqual({ kind: "text", text: "hé\nП\u{1f900}", encoding: "utf-16le" });
    const be = Uint8Array.from([0xfe, 0xff, 0x00, 0x68, 0x00, 0xe9, 0x00, 0x0d, 0x00, 0x0a, 0x04, 0x1f]);
    expect(decodeBytes("notes.txt", be)).toEqual({ kind: "text", text: "hé\nП", encoding: "utf-16be" });
  });

  it("keeps a binary file that opens with FF FE binary: UTF-16 text has no NUL characters", () => {
    expect(decodeBytes("data", Uint8Array.from([0xff, 0xfe, 0x00, 0x00, 0x68, 0x00, 0x00, 0x00]))).toEqual({ kind: "binary" });
  });

  it("decodes a PostScript .ai file with Latin-1 bytes", () => {
    const ai = bytes("%!PS-Adobe-3.0\r\n%%Creator: Adobe Illustrator(R) 8.0\r\n%%Copyright: ", [0xa9], " 2001 Example\r\n%%EOF\r\n");
    expect(decodeBytes("art/logo.ai", ai)).toEqual({
      kind: "text",
      text: "%!PS-Adobe-3.0\n%%Creator: Adobe Illustrator(R) 8.0\n%%Copyright: © 2001 Example\n%%EOF\n",
      encoding: "windows-1252",
    });
  });

  it("reads 0x93 and 0x94 as windows-1252 smart quotes, not Latin-1 control characters", () => {
    expect(decodeBytes("README", bytes("He said ", [0x93], "hi", [0x94], " ", [0x96], " then left", [0x85], "\n"))).toEqual({
      kind: "text",
      text: "He said “hi” – then left…\n",
      encoding: "windows-1252",
    });
  });

  it("decodes UTF-8 with a BOM and CRLF line ends", () => {
    expect(decodeBytes("a.ts", bytes([0xef, 0xbb, 0xbf], "const s = 'é';\r\nold\rmac\r\n"))).toEqual({
      kind: "text",
      text: "const s = 'é';\nold\nmac\n",
      encoding: "utf-8",
    });
  });

  it("keeps UTF-8 with a few bad bytes as UTF-8 rather than reading all of it as windows-1252", () => {
    const file = bytes("naïve café résumé über ", [0xe9], " end\n");
    expect(decodeBytes("notes.md", file)).toEqual({ kind: "text", text: "naïve café résumé über \ufffd end\n", encoding: "utf-8" });
    expect(decodeBytes("notes.md", bytes([0xef, 0xbb, 0xbf], "x", [0xff], "\n"))).toEqual({ kind: "text", text: "x\ufffd\n", encoding: "utf-8" });
  });

  it("calls a PNG binary by its extension, and bytes with NULs binary by sniffing", () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]);
    expect(decodeBytes("logo.png", png)).toEqual({ kind: "binary" });
    expect(decodeBytes("logo.PNG", bytes("looks like text"))).toEqual({ kind: "binary" });
    const random = Uint8Array.from([0x12, 0x9a, 0x00, 0xff, 0x41, 0x00, 0xc3, 0x07, 0x80, 0x00, 0x33]);
    expect(decodeBytes("blob", random)).toEqual({ kind: "binary" });
  });

  it("never refuses bytes without a NUL: they come out as text", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => a.map((b) => b || 0x20)),
        (a) => {
          if (a[0] === 0xff || a[0] === 0xfe) return;
          expect(decodeBytes("f.txt", a).kind).toBe("text");
        },
      ),
    );
  });

  it("decodes any UTF-8 text as itself", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (s) => {
        const text = s
          .replace(/\0/g, "")
          .replace(/^\ufeff/, "")
          .replace(/\r\n?/g, "\n");
        expect(decodeBytes("f.txt", new TextEncoder().encode(text))).toEqual({ kind: "text", text, encoding: "utf-8" });
      }),
    );
  });
});

describe("detectLegacyEncoding", () => {
  const samples: [LegacyEncoding, string][] = [
    ["windows-1252", "Grüße aus München, schöne Straße"],
    ["windows-1252", "Le cœur déçu mais l'âme plutôt naïve, Louÿs rêva"],
    ["windows-1252", "¿Qué tal? El niño comió piña. ¡Olé!"],
    ["windows-1252", "Blåbærsyltetøy og smørbrød på Ærø; Þórður fór í bæinn"],
    ["windows-1252", "Não há coração sem emoção"],
    ["windows-1252", "perché è così"],
    ["windows-1252", "temp = 25° ± 2 µs, ½ of it"],
    ["windows-1252", "\\section{Éléments}\nLa théorie générale des systèmes."],
    ["windows-1250", "Příliš žluťoučký kůň úpěl ďábelské ódy"],
    ["windows-1250", "Dobrý den, jak se máte? Děkuji, dobře."],
    ["windows-1250", "Zażółć gęślą jaźń – chrząszcz brzmi w trzcinie"],
    ["iso-8859-2", "Zażółć gęślą jaźń - chrząszcz brzmi w trzcinie"],
    ["iso-8859-2", "Łódź i Kraków, Śląsk"],
    ["windows-1251", "// Размер буфера — 4096 байт"],
    ["windows-1251", "Їжак з'їв ґудзик і є щастя"],
    ["windows-1251", "ВНИМАНИЕ: ЭТОТ ФАЙЛ СОЗДАН АВТОМАТИЧЕСКИ"],
    ["koi8-r", "// Размер буфера: 4096 байт"],
    ["koi8-r", "ВНИМАНИЕ: ЭТОТ ФАЙЛ СОЗДАН АВТОМАТИЧЕСКИ"],
    ["koi8-r", "Съешь же ещё этих мягких французских булок, да выпей чаю."],
  ];

  it.each(samples)("tells %s from the other encodings: %s", (encoding, text) => {
    const file = encode(text, encoding);
    expect(detectLegacyEncoding(file)).toBe(encoding);
    expect(decodeBytes("f.txt", file)).toEqual({ kind: "text", text, encoding });
  });

  it("falls back to windows-1252 when the bytes read the same in several encodings", () => {
    expect(detectLegacyEncoding(bytes("(c) ", [0xa9], " 2001"))).toBe("windows-1252");
    expect(detectLegacyEncoding(bytes("caf", [0xe9]))).toBe("windows-1252");
    expect(detectLegacyEncoding(bytes("plain ascii"))).toBe("windows-1252");
  });
});

describe("decodeLegacy", () => {
  it("agrees with workerd's own decoders for every byte", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const encoding of LEGACY_ENCODINGS) expect(decodeLegacy(all, encoding)).toBe(new TextDecoder(encoding).decode(all));
  });
});
