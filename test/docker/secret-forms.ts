// A secret and its derived forms, for the masking tests (real Docker). Not a test file itself.

// A space, "/", "+" and a two-byte character: every URL encoding differs from the value.
export const SECRET = "sk-live/0123 456789+abcdef-é";
export const S = Buffer.from(SECRET);

/** Python: `forms`, a list of (name, form) for every derived form of $TOKEN, in expectedForms()'s order. */
export const FORMS_PY = [
  "import base64, os, urllib.parse",
  "s = os.environ['TOKEN'].encode()",
  "forms = []",
  "for a in range(3):",
  "    pre = b'x' * a",
  // "yy" after the value: the character it shares with them is never the value's end form.
  "    forms.append((f'b64-mid-{a}', base64.b64encode(pre + s + b'yy').decode()))",
  "    forms.append((f'url-mid-{a}', base64.urlsafe_b64encode(pre + s + b'yy').decode()))",
  "    forms.append((f'b64-end-{a}', base64.b64encode(pre + s).decode()))",
  "    forms.append((f'url-end-{a}', base64.urlsafe_b64encode(pre + s).decode().rstrip('=')))",
  "forms.append(('hex', s.hex()))",
  "forms.append(('HEX', s.hex().upper()))",
  "t = os.environ['TOKEN']",
  "forms.append(('quote', urllib.parse.quote(t)))",
  "forms.append(('quote-strict', urllib.parse.quote(t, safe='')))",
  "forms.append(('quote-plus', urllib.parse.quote_plus(t)))",
  "forms.append(('uri-component', urllib.parse.quote(t, safe=\"!*'()\")))",
].join("\n");

/** Python: one `name=form` line per derived form of $TOKEN. */
export const PRINT_FORMS = `${FORMS_PY}\nfor name, form in forms:\n    print(f'{name}={form}')`;

/** The lines PRINT_FORMS prints, computed here independently, each with its masked form. */
export function expectedForms(): { name: string; form: string; masked: string }[] {
  const lines: { name: string; form: string; masked: string }[] = [];
  const urlSafe = (b64: string) => b64.replace(/\+/g, "-").replace(/\//g, "_");
  for (const a of [0, 1, 2]) {
    const pre = Buffer.from("x".repeat(a));
    // Characters [first, last) hold only the value's bits; the rest mixes in its neighbours.
    const first = Math.ceil((8 * a) / 6);
    const last = Math.floor((8 * (a + S.length)) / 6);
    const mid = Buffer.concat([pre, S, Buffer.from("yy")]).toString("base64");
    const end = Buffer.concat([pre, S]).toString("base64");
    const masked = (form: string, to: number) => `${form.slice(0, first)}***${form.slice(to)}`;
    lines.push({ name: `b64-mid-${a}`, form: mid, masked: masked(mid, last) });
    lines.push({ name: `url-mid-${a}`, form: urlSafe(mid), masked: masked(urlSafe(mid), last) });
    lines.push({ name: `b64-end-${a}`, form: end, masked: masked(end, end.length) });
    const endUrl = urlSafe(end).replace(/=+$/, "");
    lines.push({ name: `url-end-${a}`, form: endUrl, masked: masked(endUrl, endUrl.length) });
  }
  const strict = encodeURIComponent(SECRET).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  for (const [name, form] of [
    ["hex", S.toString("hex")],
    ["HEX", S.toString("hex").toUpperCase()],
    ["quote", strict.replace(/%2F/g, "/")],
    ["quote-strict", strict],
    ["quote-plus", strict.replace(/%20/g, "+")],
    ["uri-component", encodeURIComponent(SECRET)],
  ] as const) {
    lines.push({ name, form, masked: "***" });
  }
  return lines;
}

export const text = (lines: { name: string; form: string; masked: string }[], key: "form" | "masked") =>
  lines.map((l) => `${l.name}=${l[key]}\n`).join("");
