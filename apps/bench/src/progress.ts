/**
 * Progress on stderr (stdout keeps the table): one line per measurement; on a terminal, a
 * counter redrawn in place while it runs.
 */
export class Progress {
  private label = '';
  private lastDraw = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream | NodeJS.WritableStream | undefined = process.stderr,
    private readonly live = (stream as NodeJS.WriteStream | undefined)?.isTTY === true,
  ) {}

  begin(label: string): void {
    this.label = label;
    if (this.live) this.stream?.write(`\r\x1b[K${label} …`);
  }

  tick(done: number, total: number): void {
    if (!this.live) return;
    const now = Date.now();
    if (now - this.lastDraw < 100 && done < total) return;
    this.lastDraw = now;
    this.stream?.write(`\r\x1b[K${this.label} … ${done}/${total}`);
  }

  end(result: string): void {
    this.stream?.write(`${this.live ? '\r\x1b[K' : ''}${this.label}: ${result}\n`);
  }

  note(text: string): void {
    this.stream?.write(`${text}\n`);
  }
}
