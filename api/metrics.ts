/**
 * A small Prometheus text registry for the API process: request counts and latencies
 * per route, block submissions by outcome. The Temporal server and workers export
 * their own metrics (dev server: :9233/metrics).
 */
export class ApiMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, { sum: number; count: number }>();
  private readonly submissions = new Map<string, number>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const labels = `method="${method}",route="${route}",status="${status}"`;
    this.requests.set(labels, (this.requests.get(labels) ?? 0) + 1);
    const key = `method="${method}",route="${route}"`;
    const entry = this.latency.get(key) ?? { sum: 0, count: 0 };
    entry.sum += seconds;
    entry.count += 1;
    this.latency.set(key, entry);
  }

  observeSubmission(outcome: 'accepted' | 'duplicate' | 'rejected'): void {
    this.submissions.set(outcome, (this.submissions.get(outcome) ?? 0) + 1);
  }

  render(): string {
    const lines = [
      '# HELP prooflane_api_requests_total HTTP requests by method, route and status.',
      '# TYPE prooflane_api_requests_total counter',
      ...[...this.requests].map(([labels, value]) => `prooflane_api_requests_total{${labels}} ${value}`),
      '# HELP prooflane_api_request_duration_seconds Time to answer a request.',
      '# TYPE prooflane_api_request_duration_seconds summary',
      ...[...this.latency].flatMap(([labels, { sum, count }]) => [
        `prooflane_api_request_duration_seconds_sum{${labels}} ${sum}`,
        `prooflane_api_request_duration_seconds_count{${labels}} ${count}`,
      ]),
      '# HELP prooflane_blocks_submitted_total Block submissions by outcome.',
      '# TYPE prooflane_blocks_submitted_total counter',
      ...[...this.submissions].map(([outcome, value]) => `prooflane_blocks_submitted_total{outcome="${outcome}"} ${value}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
