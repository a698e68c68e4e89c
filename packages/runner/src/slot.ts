/** One unit of concurrency: runs at most one job at a time. */
export class Slot {
  state: 'idle' | 'busy' = 'idle';
  queue: string | undefined;
  jobId: string | undefined;
  /** pid of the process running the job (the runner itself in `inline` mode) */
  pid: number | undefined;
  /** when the slot entered its current state */
  since: number = Date.now();
  jobsDone = 0;

  constructor(
    readonly index: number,
    readonly group: string,
  ) {}

  occupy(queue: string, jobId: string): void {
    this.state = 'busy';
    this.queue = queue;
    this.jobId = jobId;
    this.pid = undefined;
    this.since = Date.now();
  }

  free(): void {
    this.state = 'idle';
    this.queue = undefined;
    this.jobId = undefined;
    this.pid = undefined;
    this.since = Date.now();
    this.jobsDone++;
  }
}
