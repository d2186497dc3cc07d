/** A one-line download progress display on a terminal (`\r`-rewritten, at most every 100 ms). */
export function createProgress(write: (text: string) => void, label: string) {
  let last = 0;
  let shown = false;
  return {
    update(received: number, total: number | undefined): void {
      const now = Date.now();
      if (now - last < 100 && received !== total) return;
      last = now;
      shown = true;
      const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
      const amount = total ? `${Math.floor((received / total) * 100)}% of ${mb(total)} MB` : `${mb(received)} MB`;
      write(`\r${label}: ${amount}`);
    },
    done(): void {
      if (shown) write("\n");
      shown = false;
    },
  };
}
