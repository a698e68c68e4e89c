export type CaseStatus = 'pass' | 'fail' | 'unsupported' | 'skipped';

export interface ConformanceCase {
  /** contract area, e.g. "lease expiry" */
  feature: string;
  name: string;
  status: CaseStatus;
  /** why unsupported/skipped, or the failure message */
  reason?: string;
  /** a figure the case measured, e.g. a wake-up latency */
  detail?: string;
  durationMs: number;
}

export interface ConformanceReport {
  backend: string;
  /** with any password redacted */
  url: string;
  /** true when every supported case passed and at least one ran */
  ok: boolean;
  durationMs: number;
  cases: ConformanceCase[];
  /** errors outside any case (the backend could not be opened, a file failed to load) */
  errors: string[];
}

const MARK: Record<CaseStatus, string> = {
  pass: 'pass',
  fail: 'FAIL',
  unsupported: 'unsupported',
  skipped: 'skipped',
};

/** A plain-text feature × result table for terminals and docs. */
export function formatReport(report: ConformanceReport): string {
  const rows = report.cases.map((c) => [c.feature, c.name, MARK[c.status], c.reason ?? c.detail ?? '']);
  const head = ['feature', 'case', 'result', 'note'];
  const widths = head.map((h, i) =>
    Math.min(i === 1 ? 90 : 40, Math.max(h.length, ...rows.map((r) => r[i]!.length))),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        cell.length > widths[i]! ? `${cell.slice(0, widths[i]! - 1)}…` : cell.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd();
  const count = (s: CaseStatus) => report.cases.filter((c) => c.status === s).length;
  return [
    `ilkkun conformance — ${report.backend} (${report.url})`,
    '',
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    ...report.errors.map((e) => `error: ${e}`),
    `${count('pass')} passed, ${count('fail')} failed, ${count('unsupported')} unsupported, ${count('skipped')} skipped in ${(report.durationMs / 1000).toFixed(1)} s — ${report.ok ? 'CONFORMS' : 'DOES NOT CONFORM'}`,
  ].join('\n');
}

/** A markdown table of several reports side by side, for the backends matrix in docs/. */
export function formatMatrix(reports: readonly ConformanceReport[]): string {
  const names = [...new Set(reports.flatMap((r) => r.cases.map((c) => `${c.feature} › ${c.name}`)))];
  const cell = (r: ConformanceReport, key: string) => {
    const c = r.cases.find((x) => `${x.feature} › ${x.name}` === key);
    if (!c) return '—';
    return c.status === 'pass'
      ? '✅'
      : c.status === 'fail'
        ? '❌'
        : c.status === 'unsupported'
          ? '➖ unsupported'
          : '⏭';
  };
  return [
    `| case | ${reports.map((r) => r.backend).join(' | ')} |`,
    `| --- | ${reports.map(() => '---').join(' | ')} |`,
    ...names.map((n) => `| ${n} | ${reports.map((r) => cell(r, n)).join(' | ')} |`),
  ].join('\n');
}
