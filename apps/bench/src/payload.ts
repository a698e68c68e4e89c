/**
 * The benchmark payload: a JSON object of about 100 bytes, the size perf-measured.md's rival
 * figures used. `i` identifies the job (the latency workload matches handler starts to adds by it).
 */
export interface BenchPayload {
  i: number;
  user: string;
  action: string;
  photo: string;
}

export function benchPayload(i: number): BenchPayload {
  return {
    i,
    user: `user-${String(i % 10_000).padStart(5, '0')}@example.com`,
    action: 'photo.thumbnail',
    photo: `IMG_${String(i).padStart(7, '0')}.jpeg`,
  };
}
