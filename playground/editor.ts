// The code editor: CodeMirror 6, bundled into the page (nothing is fetched at run time).
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { javascript } from "@codemirror/lang-javascript";
import { python } from "@codemirror/lang-python";
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from "@codemirror/language";
import { Compartment, EditorState, type Extension } from "@codemirror/state";
import { drawSelection, EditorView, highlightActiveLine, keymap, lineNumbers } from "@codemirror/view";

const LANGUAGES: Record<string, () => Extension> = {
  python: () => python(),
  node: () => javascript(),
  bun: () => javascript({ typescript: true }),
  deno: () => javascript({ typescript: true }),
};

export interface CodeEditor {
  code(): string;
  setCode(code: string): void;
  setRuntime(runtime: string): void;
}

/** `nonce`: this page's CSP nonce, which lets the editor's own style element in (style-src). */
export function createEditor(parent: HTMLElement, onRun: () => void, nonce: string): CodeEditor {
  const language = new Compartment();
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: "",
      extensions: [
        lineNumbers(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        highlightActiveLine(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        keymap.of([{ key: "Mod-Enter", run: () => (onRun(), true) }, indentWithTab, ...defaultKeymap, ...historyKeymap]),
        language.of([]),
        EditorView.contentAttributes.of({ "aria-label": "Code", "data-testid": "code" }),
        EditorView.cspNonce.of(nonce),
      ],
    }),
  });
  return {
    code: () => view.state.doc.toString(),
    setCode: (code) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: code } }),
    setRuntime: (runtime) => view.dispatch({ effects: language.reconfigure(LANGUAGES[runtime]?.() ?? []) }),
  };
}
