// Text statistics that need no model: word tokens and distinct-n (unique n-grams / all n-grams).

export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) ?? [];
}

/** Counts n-grams as texts stream past; distinct-n is over everything added. */
export class DistinctNgrams {
  private readonly seen: Set<string>[];
  private readonly totals: number[];
  constructor(private readonly maxN = 2) {
    this.seen = Array.from({ length: maxN }, () => new Set<string>());
    this.totals = new Array(maxN).fill(0);
  }
  add(tokens: string[]): void {
    for (let n = 1; n <= this.maxN; n++) {
      for (let i = 0; i + n <= tokens.length; i++) {
        this.seen[n - 1].add(n === 1 ? tokens[i] : tokens.slice(i, i + n).join(' '));
        this.totals[n - 1]++;
      }
    }
  }
  distinct(n: number): number {
    const total = this.totals[n - 1];
    return total === 0 ? 0 : this.seen[n - 1].size / total;
  }
}
