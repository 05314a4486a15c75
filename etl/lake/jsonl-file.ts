import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';

/** An append-only JSON-lines file, created on first write, honouring back-pressure. */
export class JsonlFile {
  private stream: WriteStream | null = null;
  lines = 0;

  constructor(readonly path: string) {}

  async write(value: unknown): Promise<void> {
    await this.writeLine(JSON.stringify(value));
  }

  /** Appends one line of JSON text written elsewhere (it must hold no newline). */
  async writeLine(line: string): Promise<void> {
    if (!this.stream) {
      await mkdir(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'a' });
    }
    this.lines += 1;
    if (!this.stream.write(line + '\n')) {
      await new Promise<void>((resolve) => this.stream!.once('drain', resolve));
    }
  }

  async close(): Promise<void> {
    const stream = this.stream;
    if (!stream) return;
    this.stream = null;
    await new Promise<void>((resolve, reject) => stream.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
