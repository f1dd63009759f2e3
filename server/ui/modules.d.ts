/**
 * @module Types of the two React internals the UI's renderer uses
 * (react-reconciler and scheduler, installed with ink, ship none).
 */
declare module "react-reconciler" {
  const createReconciler: (hostConfig: Record<string, unknown>) => {
    createContainer(...args: unknown[]): unknown;
    updateContainer(element: unknown, container: unknown, parent: unknown, callback: () => void): void;
  };
  export default createReconciler;
}
declare module "react-reconciler/constants.js" {
  export const DefaultEventPriority: number;
  export const DiscreteEventPriority: number;
  export const NoEventPriority: number;
  export const ConcurrentRoot: number;
}
declare module "scheduler" {
  export const unstable_scheduleCallback: unknown;
  export const unstable_cancelCallback: unknown;
  export const unstable_shouldYield: unknown;
  export const unstable_now: () => number;
}
/** The style sheet main.tsx imports: Bun's bundler emits it beside the script. */
declare module "*.css";
