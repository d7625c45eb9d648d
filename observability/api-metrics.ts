import { Counter, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS_SECONDS } from './metrics';

/** The HTTP API's own metrics: requests by route and status, their latency, block submissions by outcome. */
export class ApiMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route'>;
  private readonly submissions: Counter<'outcome'>;

  constructor(registry: Registry) {
    this.requests = new Counter({
      name: 'prooflane_api_requests_total',
      help: 'HTTP requests by method, route and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'prooflane_api_request_duration_seconds',
      help: 'Time to answer a request.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers: [registry],
    });
    this.submissions = new Counter({
      name: 'prooflane_api_block_submissions_total',
      help: 'Block submissions this API answered, by outcome (accepted, duplicate, rejected).',
      labelNames: ['outcome'],
      registers: [registry],
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }

  observeSubmission(outcome: 'accepted' | 'duplicate' | 'rejected'): void {
    this.submissions.inc({ outcome });
  }
}
