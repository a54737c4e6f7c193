/**
 * A unified diff (`diff -u`, git's format: 3 lines of context, `@@ -a,b +c,d @@` hunks) of two
 * texts, for `--dry-run`. The common head and tail are cut first, so an edit of one config.yaml
 * line costs a compare of that line; the middle is aligned by longest common subsequence. Pure.
 */

type Op = { kind: ' ' | '-' | '+'; line: string };

function lines(text: string): string[] {
  if (text === '') return [];
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  else out[out.length - 1] += '\n\\ No newline at end of file';
  return out;
}

/** The edit script of the middle part (LCS; the middle of a canary edit is a few lines). */
function align(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++]! });
      j++;
    } else if (j < m && (i >= n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      ops.push({ kind: '+', line: b[j++]! });
    } else {
      ops.push({ kind: '-', line: a[i++]! });
    }
  }
  // git shows the removed lines of a change before the added ones
  for (let k = 1; k < ops.length; k++) {
    if (ops[k]!.kind === '-' && ops[k - 1]!.kind === '+') {
      let s = k - 1;
      while (s > 0 && ops[s - 1]!.kind === '+') s--;
      const moved = ops.splice(k, 1)[0]!;
      ops.splice(s, 0, moved);
    }
  }
  return ops;
}

const range = (start: number, count: number) => (count === 1 ? `${start}` : `${count === 0 ? start - 1 : start},${count}`);

/** `--- a/<path>` / `+++ b/<path>` and the hunks; '' when the texts are equal. */
export function unifiedDiff(before: string, after: string, path: string, context = 3): string {
  if (before === after) return '';
  const a = lines(before);
  const b = lines(after);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: Op[] = [
    ...a.slice(0, head).map((line) => ({ kind: ' ' as const, line })),
    ...align(a.slice(head, a.length - tail), b.slice(head, b.length - tail)),
    ...a.slice(a.length - tail).map((line) => ({ kind: ' ' as const, line })),
  ];
  const out = [`--- ${before === '' ? '/dev/null' : `a/${path}`}`, `+++ ${after === '' ? '/dev/null' : `b/${path}`}`];
  let k = 0;
  let aLine = 1;
  let bLine = 1;
  while (k < ops.length) {
    // the next change, and its hunk: context before, changes joined when their contexts touch
    let first = k;
    while (first < ops.length && ops[first]!.kind === ' ') first++;
    if (first === ops.length) break;
    const start = Math.max(k, first - context);
    for (let x = k; x < start; x++) {
      aLine++;
      bLine++;
    }
    let end = first;
    let lastChange = first;
    while (end < ops.length && end - lastChange <= 2 * context + 1) {
      if (ops[end]!.kind !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.kind !== '+').length;
    const bCount = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${range(aLine, aCount)} +${range(bLine, bCount)} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    aLine += aCount;
    bLine += bCount;
    k = end;
  }
  return `${out.join('\n')}\n`;
}
