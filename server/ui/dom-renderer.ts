/**
 * @module A small React renderer for the browser, on the reconciler ink
 * already brings (so the UI adds no react-dom). It can only create
 * elements, set attributes and properties, and create text nodes: there is
 * no path from a prop to HTML (`dangerouslySetInnerHTML` throws), so
 * anything a client pushed is shown as text. `javascript:` URLs are
 * refused; styles are set through the CSSOM, which the page's CSP allows.
 */
import { createContext, type ReactNode } from "react";
import createReconciler from "react-reconciler";
import { ConcurrentRoot, DefaultEventPriority, DiscreteEventPriority, NoEventPriority } from "react-reconciler/constants.js";
import * as Scheduler from "scheduler";

type Props = Record<string, unknown>;
type Handlers = Map<string, (event: Event) => void>;
const SVG = "http://www.w3.org/2000/svg";
/** React's names for events that the DOM calls otherwise. */
const EVENT_NAMES: Record<string, string> = { change: "input", doubleclick: "dblclick" };
const PROPERTIES = new Set(["value", "checked", "selected", "disabled"]);
const URL_ATTRIBUTES = new Set(["href", "src", "action", "formaction", "xlink:href"]);
const handlers = new WeakMap<Element, Handlers>();

/** Sets or removes one prop on `el`. Exported for tests of its refusals. */
export function setProp(el: Element, key: string, value: unknown, previous: unknown): void {
  if (key === "children" || key === "key" || key === "ref" || key === "autoFocus") return;
  if (key === "dangerouslySetInnerHTML") throw new Error("the UI never renders HTML from data");
  if (/^on[A-Z]/.test(key)) return setHandler(el, key.slice(2).toLowerCase(), value);
  if (key === "style") return setStyle(el as HTMLElement, (value ?? {}) as Record<string, string>, (previous ?? {}) as Record<string, string>);
  if (PROPERTIES.has(key) && key in el) {
    const next = key === "value" ? String(value ?? "") : Boolean(value);
    if ((el as unknown as Record<string, unknown>)[key] !== next) (el as unknown as Record<string, unknown>)[key] = next;
    return;
  }
  const name = key === "className" ? "class" : key === "htmlFor" ? "for" : key;
  if (value === null || value === undefined || value === false) return el.removeAttribute(name);
  const text = value === true ? "" : String(value);
  if (URL_ATTRIBUTES.has(name) && /^\s*(javascript|data|vbscript):/i.test(text)) throw new Error(`refused ${name}: ${text.slice(0, 40)}`);
  el.setAttribute(name, text);
}

function setHandler(el: Element, reactName: string, handler: unknown): void {
  const type = EVENT_NAMES[reactName] ?? reactName;
  let map = handlers.get(el);
  if (!map) handlers.set(el, (map = new Map()));
  if (typeof handler !== "function") return void map.delete(type);
  // One listener per event type; it calls whatever handler the latest render gave.
  if (!map.has(type)) el.addEventListener(type, (event) => map.get(type)?.(event));
  map.set(type, handler as (event: Event) => void);
}

function setStyle(el: HTMLElement, next: Record<string, string>, previous: Record<string, string>): void {
  const style = el.style as unknown as Record<string, string>;
  for (const name of Object.keys(previous)) if (!(name in next)) style[name] = "";
  for (const [name, value] of Object.entries(next)) style[name] = value === null || value === undefined ? "" : String(value);
}

let priority = NoEventPriority;

const reconciler = createReconciler({
  supportsMutation: true,
  supportsPersistence: false,
  supportsHydration: false,
  isPrimaryRenderer: true,
  getRootHostContext: () => "html",
  getChildHostContext: (parent: string, type: string) => (type === "svg" ? "svg" : type === "foreignObject" ? "html" : parent),
  shouldSetTextContent: () => false,
  createInstance(type: string, props: Props, _root: unknown, ns: string) {
    const el = ns === "svg" || type === "svg" ? document.createElementNS(SVG, type) : document.createElement(type);
    for (const [key, value] of Object.entries(props)) setProp(el, key, value, undefined);
    return el;
  },
  createTextInstance: (text: string) => document.createTextNode(text),
  appendInitialChild: (parent: Node, child: Node) => parent.appendChild(child),
  finalizeInitialChildren: (_el: Element, _type: string, props: Props) => props.autoFocus === true,
  commitMount: (el: HTMLElement) => el.focus(),
  commitUpdate(el: Element, _type: string, oldProps: Props, newProps: Props) {
    for (const key of Object.keys(oldProps)) if (!(key in newProps)) setProp(el, key, undefined, oldProps[key]);
    for (const [key, value] of Object.entries(newProps)) if (oldProps[key] !== value) setProp(el, key, value, oldProps[key]);
  },
  commitTextUpdate: (node: Text, _old: string, text: string) => void (node.data = text),
  resetTextContent: (el: Element) => void (el.textContent = ""),
  appendChild: (parent: Node, child: Node) => parent.appendChild(child),
  appendChildToContainer: (parent: Node, child: Node) => parent.appendChild(child),
  insertBefore: (parent: Node, child: Node, before: Node) => parent.insertBefore(child, before),
  insertInContainerBefore: (parent: Node, child: Node, before: Node) => parent.insertBefore(child, before),
  removeChild: (parent: Node, child: Node) => parent.removeChild(child),
  removeChildFromContainer: (parent: Node, child: Node) => parent.removeChild(child),
  clearContainer: (container: Element) => void (container.textContent = ""),
  hideInstance: (el: HTMLElement) => void (el.style.display = "none"),
  unhideInstance: (el: HTMLElement) => void (el.style.display = ""),
  hideTextInstance: (node: Text) => void (node.data = ""),
  unhideTextInstance: (node: Text, text: string) => void (node.data = text),
  getPublicInstance: (instance: unknown) => instance,
  prepareForCommit: () => null,
  resetAfterCommit: () => {},
  preparePortalMount: () => {},
  detachDeletedInstance: () => {},
  beforeActiveInstanceBlur: () => {},
  afterActiveInstanceBlur: () => {},
  getInstanceFromNode: () => null,
  prepareScopeUpdate: () => {},
  getInstanceFromScope: () => null,
  supportsMicrotasks: true,
  scheduleMicrotask: queueMicrotask,
  scheduleCallback: Scheduler.unstable_scheduleCallback,
  cancelCallback: Scheduler.unstable_cancelCallback,
  shouldYield: Scheduler.unstable_shouldYield,
  now: Scheduler.unstable_now,
  scheduleTimeout: setTimeout,
  cancelTimeout: clearTimeout,
  noTimeout: -1,
  setCurrentUpdatePriority: (p: number) => void (priority = p),
  getCurrentUpdatePriority: () => priority,
  resolveUpdatePriority() {
    if (priority !== NoEventPriority) return priority;
    // Input events render at once, as react-dom does, so typing never lags.
    const type = typeof window !== "undefined" ? window.event?.type : undefined;
    return type === "input" || type === "keydown" || type === "click" || type === "submit" ? DiscreteEventPriority : DefaultEventPriority;
  },
  maySuspendCommit: () => false,
  NotPendingTransition: null,
  HostTransitionContext: createContext(null),
  resetFormInstance: () => {},
  requestPostPaintCallback: () => {},
  shouldAttemptEagerTransition: () => false,
  trackSchedulerEvent: () => {},
  resolveEventType: () => null,
  resolveEventTimeStamp: () => -1.1,
  preloadInstance: () => true,
  startSuspendingCommit: () => {},
  suspendInstance: () => {},
  waitForCommitToBeReady: () => null,
  rendererPackageName: "mcr-ui",
  rendererVersion: "1",
});

/** Renders `element` into `container`, replacing what it held. */
export function render(element: ReactNode, container: Element): void {
  const noop = () => {};
  const report = (error: unknown) => console.error(error);
  const root = reconciler.createContainer(container, ConcurrentRoot, null, false, null, "mcr", report, noop, report, noop);
  reconciler.updateContainer(element, root, null, noop);
}
