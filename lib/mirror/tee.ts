/**
 * @module Bytes arriving from an upstream, fed to the blob store and, at
 * the same time, to the client that asked for them. The client never gets
 * the last chunk before the store has verified the whole blob against its
 * digest: a wrong or short transfer ends its response with an error, never
 * as a complete body. A client that goes away, or reads too slowly, is
 * dropped and the store carries on, so the blob is still cached whole.
 */

/** Most bytes queued for the client before the store waits for it to read. */
const CLIENT_BUFFER_BYTES = 4 * 1024 * 1024;

/** Splits one stream of chunks between the store (`chunks()`) and a client (`client`). */
export class Tee {
  /** What the client reads. */
  readonly client: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  private gone = false;
  private wake: (() => void) | null = null;
  private held: Uint8Array | null = null;

  constructor(
    private readonly source: AsyncIterable<Uint8Array>,
    private readonly slowClientMs: number,
  ) {
    this.client = new ReadableStream<Uint8Array>(
      {
        start: (controller) => void (this.controller = controller),
        pull: () => this.resume(),
        cancel: () => {
          this.gone = true;
          this.resume();
        },
      },
      { highWaterMark: CLIENT_BUFFER_BYTES, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  /** The source's chunks for the store; each chunk goes to the client once the next one arrives. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    for await (const chunk of this.source) {
      if (this.held) await this.send(this.held);
      this.held = chunk;
      yield chunk;
    }
  }

  /** The store verified and committed the blob: the client gets the last chunk and the end. */
  finish(): void {
    if (this.gone) return;
    if (this.held) this.controller.enqueue(this.held);
    this.controller.close();
    this.gone = true;
  }

  /** The transfer failed: the client's body ends with an error, short of the full blob. */
  fail(error: unknown): void {
    if (this.gone) return;
    this.gone = true;
    this.controller.error(error);
  }

  private async send(chunk: Uint8Array): Promise<void> {
    if (this.gone) return;
    this.controller.enqueue(chunk);
    while (!this.gone && (this.controller.desiredSize ?? 1) <= 0) {
      let timer: Timer | undefined;
      const resumed = await Promise.race([
        new Promise<boolean>((resolve) => (this.wake = () => resolve(true))),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.slowClientMs))),
      ]);
      clearTimeout(timer);
      if (!resumed) this.fail(new Error("client too slow: dropped so the upstream transfer can finish"));
    }
  }

  private resume(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
