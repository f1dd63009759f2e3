/**
 * @module The web UI's entry point: asks who is logged in, then renders the
 * app into #root with the UI's own renderer.
 */
import "./styles.css";
import { App } from "./app.tsx";
import { render } from "./dom-renderer.ts";

const root = document.getElementById("root");
if (root) render(<App />, root);
