/** Something that happens once (a connection is gone): asked about, awaited, and fired by its owner. */
export class Once {
  private done = false;
  private readonly waiters: (() => void)[] = [];

  get happened(): boolean {
    return this.done;
  }

  /** Resolves when it has happened (at once if it has). */
  wait(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Mark it as happened; false when it already had (the caller does its part only once). */
  fire(): boolean {
    if (this.done) return false;
    this.done = true;
    for (const w of this.waiters.splice(0)) w();
    return true;
  }
}
