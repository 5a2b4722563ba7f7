// What studio.js uses of CodeMirror 6, exposed as one global, `CM`: the studio has no build step.
export { EditorView, basicSetup } from "codemirror";
export { EditorState, Compartment } from "@codemirror/state";
export { keymap } from "@codemirror/view";
export { yaml } from "@codemirror/lang-yaml";
export { linter, lintGutter, forceLinting, setDiagnostics } from "@codemirror/lint";
