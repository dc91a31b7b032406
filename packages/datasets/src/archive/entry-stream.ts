import { Readable } from 'node:stream';

/**
 * Exposes one archive entry's body (an async generator owned by the archive parser) as a Readable,
 * while the parser keeps control: `settle()` waits for any read in flight and drains whatever the
 * consumer left unread, so the parser can move on to the next header. Errors thrown by the body
 * (limits, corruption) reach both the consumer of the stream and the archive iteration.
 */
export class EntryStream {
  readonly readable: Readable;
  private inFlight: Promise<void> | null = null;
  private finished = false;
  private error: Error | null = null;

  constructor(private readonly body: AsyncGenerator<Buffer>) {
    this.readable = new Readable({ read: () => this.pump() });
  }

  private pump(): void {
    if (this.inFlight || this.finished) return;
    this.inFlight = (async () => {
      try {
        for (;;) {
          const next = await this.body.next();
          if (next.done) {
            this.finished = true;
            this.readable.push(null);
            return;
          }
          if (!this.readable.push(next.value)) return;
        }
      } catch (error) {
        this.finished = true;
        this.error = error instanceof Error ? error : new Error(String(error));
        this.readable.destroy(this.error);
      } finally {
        this.inFlight = null;
      }
    })();
  }

  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.error) throw this.error;
    if (this.finished) return;
    this.finished = true;
    try {
      for (;;) {
        const next = await this.body.next();
        if (next.done) break;
      }
    } catch (error) {
      // The archive iteration rethrows the error; nobody may be listening on this stream, so end it quietly.
      this.readable.destroy();
      throw error;
    }
    // Nobody will read the rest; end the stream so a late reader sees EOF, not a hang.
    if (!this.readable.destroyed) this.readable.destroy();
  }
}
