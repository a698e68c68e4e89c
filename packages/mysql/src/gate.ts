/**
 * A lock inside one process: `enter()` resolves when every earlier holder has left, with the
 * function that leaves (calling it twice is harmless). First come, first served.
 */
export class Gate {
  private last: Promise<void> = Promise.resolve();

  async enter(): Promise<() => void> {
    let leave!: () => void;
    const left = new Promise<void>((resolve) => {
      leave = resolve;
    });
    const before = this.last;
    this.last = before.then(() => left);
    await before;
    return leave;
  }
}
