import { installRuntime } from '../../observability/runtime';
import { useProjectServer } from './test-run';

// Worker logs at ERROR in tests: expected failures are not news.
installRuntime('ERROR');
useProjectServer('postgres');
